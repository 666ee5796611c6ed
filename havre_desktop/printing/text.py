"""French wording helpers shared by every print: dates, cleaning, markup escaping.

Dates are written out by hand rather than through the C locale machinery: a
workstation's locale is not guaranteed to be French, and "mercredi 25 novembre"
must not become "Wednesday 25 November" on a misconfigured machine.
"""

from __future__ import annotations

import re
from datetime import date
from xml.sax.saxutils import escape

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# Control characters never print; zero-width spaces would make words unbreakable.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]")


def day_month_year(day: date) -> str:
    """ "1er décembre 2026", "25 novembre 2026"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def long_date(day: date) -> str:
    """ "mercredi 25 novembre 2026": the weekday helps readers who lose track of dates."""
    return f"{DAYS[day.weekday()]} {day_month_year(day)}"


def month_year(year: int, month: int) -> str:
    return f"{MONTHS[month - 1]} {year}"


def short_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def clean(text: str | None) -> str:
    """User text as typed, minus what cannot print (control characters, odd spaces).

    The narrow no-break space (U+202F, French typography before « : ; ! ? ») is
    not in Atkinson Hyperlegible: it becomes an ordinary no-break space.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = text.replace("\u202f", "\u00a0").replace("\u2009", " ")
    return _INVISIBLE.sub("", text)


def markup(text: str | None) -> str:
    """User text made safe for reportlab Paragraph markup: <, > and & print as typed."""
    return escape(clean(text)).replace("\n", "<br/>")


def person_name(given_names: str | None, family_name: str | None) -> str:
    """Given names then family name, exactly as typed (no capitals block: handouts.md)."""
    return " ".join(part for part in (clean(given_names), clean(family_name)) if part.strip())


def sentence(text: str | None) -> str:
    """Text ending with a full stop (or its own final punctuation)."""
    value = clean(text).strip()
    if value and value[-1] not in ".!?…»)":
        value += "."
    return value
