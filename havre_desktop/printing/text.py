"""French wording helpers shared by every print: dates, cleaning, markup escaping.

Dates are written out by hand rather than through the C locale machinery: a
workstation's locale is not guaranteed to be French, and "mercredi 25 novembre"
must not become "Wednesday 25 November" on a misconfigured machine.
"""

from __future__ import annotations

import re
from datetime import date
from xml.sax.saxutils import escape

# The dates' words are shared with the interface (Ma journée says the weekday too).
from havre_common.french import DAYS as DAYS
from havre_common.french import MONTHS as MONTHS
from havre_common.french import day_month_year as day_month_year
from havre_common.french import long_date as long_date
from havre_common.french import month_year as month_year

# Control characters never print; zero-width spaces would make words unbreakable.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]")


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


def floor_and_access(floor: int | None, lift: bool | None, access: str | None) -> str:
    """'3e étage sans ascenseur, accès : code 1234' (the call list on screen and on paper)."""
    parts = []
    if floor is not None:
        where = "rez-de-chaussée" if floor == 0 else f"{floor}e étage"
        if lift is not None:
            where += " avec ascenseur" if lift else " sans ascenseur"
        parts.append(where)
    if access:
        parts.append(f"accès : {access}")
    return ", ".join(parts)


def emergency_lines(contacts: list[dict[str, object]]) -> list[str]:
    """'Sophie Lefèvre (fille) : 06 11 22 33 44', one line a contact."""
    lines = []
    for c in contacts:
        relation = f" ({c['relation']})" if c.get("relation") else ""
        lines.append(f"{c.get('name') or ''}{relation} : {c.get('phone') or ''}".strip())
    return lines


def upper_first(text: str) -> str:
    """The first letter in capitals, the rest as typed (str.capitalize lowers door codes)."""
    return text[:1].upper() + text[1:]
