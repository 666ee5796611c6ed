"""French UI through Qt's translation mechanism.

Source strings are written in French; `tr` routes them through
QCoreApplication.translate so a translation file can still override them, and
the formatting helpers give dates and numbers the French way.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QCoreApplication

from havre_common.french import count

# French dates live in havre_common (the core words follow-up reasons with them too).
from havre_common.french import french_date as french_date
from havre_common.french import french_datetime as french_datetime

CONTEXT = "havre"


def tr(text: str, context: str = CONTEXT) -> str:
    return QCoreApplication.translate(context, text)


def age_on(birth_iso: str | None, today: date) -> int | None:
    if not birth_iso:
        return None
    born = date.fromisoformat(birth_iso[:10])
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def age_text(birth_iso: str | None, today: date) -> str:
    """'87 ans' ('' when the birth date is not known)."""
    age = age_on(birth_iso, today)
    return "" if age is None else count(age, tr("{n} an"), tr("{n} ans"))


def relative_days(value: str | None, today: date) -> str:
    """'aujourd'hui', 'il y a 3 jours', 'dans 15 jours' — for due dates and last contacts."""
    if not value:
        return tr("jamais")
    delta = (date.fromisoformat(str(value)[:10]) - today).days
    if delta == 0:
        return tr("aujourd'hui")
    if delta == -1:
        return tr("hier")
    if delta == 1:
        return tr("demain")
    if delta < 0:
        return tr("il y a {n} jours").format(n=-delta)
    return tr("dans {n} jours").format(n=delta)


def pending_text(n: int) -> str:
    """The status bar's count of the agent's own changes not yet acknowledged."""
    if n == 0:
        return tr("Aucune modification en attente")
    return count(n, tr("{n} modification en attente"), tr("{n} modifications en attente"))


def unsent_warning_text(overdue: int, days: int) -> str:
    """The status bar's warning when edits have waited unsent too long ('' when none has).
    A sign and words, not a colour alone."""
    if overdue == 0:
        return ""
    waited = count(days, tr("{n} jour"), tr("{n} jours"))
    one = tr("⚠ Attention : {n} modification attend d'être envoyée depuis plus de {waited}")
    many = tr("⚠ Attention : {n} modifications attendent d'être envoyées depuis plus de {waited}")
    return count(overdue, one.replace("{waited}", waited), many.replace("{waited}", waited))
