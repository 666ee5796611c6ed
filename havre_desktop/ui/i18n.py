"""French UI through Qt's translation mechanism.

Source strings are written in French; `tr` routes them through
QCoreApplication.translate so a translation file can still override them, and
the formatting helpers give dates and numbers the French way.
"""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import QCoreApplication

from havre_common.french import count

CONTEXT = "havre"


def tr(text: str, context: str = CONTEXT) -> str:
    return QCoreApplication.translate(context, text)


def french_date(value: str | date | None) -> str:
    """2026-11-25 → 25/11/2026."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    text = value.isoformat() if isinstance(value, date) else str(value)
    year, month, day = text[:10].split("-")
    return f"{day}/{month}/{year}"


def french_datetime(value: str | None) -> str:
    """2026-11-25T10:00+01:00 → 25/11/2026 10:00 (the civil time as recorded)."""
    if not value:
        return ""
    text = str(value)
    hour = text[11:16] if len(text) >= 16 else ""
    return f"{french_date(text)} {hour}".strip()


def age_on(birth_iso: str | None, today: date) -> int | None:
    if not birth_iso:
        return None
    born = date.fromisoformat(birth_iso[:10])
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


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
