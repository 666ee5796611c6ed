"""French wording shared by the interface, sync reports and prints (no Qt).

Dates are written out by hand rather than through the C locale machinery: a workstation's
locale is not guaranteed to be French, and "mercredi 25 novembre" must not become
"Wednesday 25 November" on a misconfigured machine.

Counts take the singular for 0 and 1 and the plural from 2 on ("0 modification en attente",
"3 modifications en attente"): no "(s)" left for the reader to sort out.
"""

from __future__ import annotations

from datetime import date, datetime


def french_number(n: int) -> str:
    """12345 → "12 345" (narrow no-break space between thousands, as in French)."""
    return f"{n:,}".replace(",", "\u202f")


def count(n: int, one: str, many: str) -> str:
    """`one` or `many` by French agreement, with ``{n}`` replaced by the number.

    >>> count(1, "{n} modification en attente", "{n} modifications en attente")
    '1 modification en attente'
    >>> count(3, "{n} modification en attente", "{n} modifications en attente")
    '3 modifications en attente'
    """
    return (one if abs(n) < 2 else many).format(n=french_number(n))


# Elision (Grevisse § 44-45): "de", "le", "la", "que"... lose their vowel before a word that
# starts with a vowel or a mute h. Names are taken as starting with a mute h ("d'Hélène",
# "d'Henri"), as is usual in letters; "y" elides before a vowel sound only in a few names
# ("d'Yves", "d'Yvonne"), taken here as before any name written "Y" + consonant.
_ELIDING = frozenset({"de", "le", "la", "que", "je", "me", "te", "se", "ne", "jusque", "lorsque"})
_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüÿæœh")


def _starts_with_vowel_sound(word: str) -> bool:
    stripped = word.lstrip(" «\"'‘“(")
    if not stripped:
        return False
    first = stripped[0].lower()
    if first == "y":
        # "d'Yves" but "de Yaël"? Both are heard; before a consonant "y" is a vowel sound.
        return len(stripped) > 1 and stripped[1].lower() not in _VOWELS
    return first in _VOWELS


def elide(word: str, following: str) -> str:
    """`word` then `following`, elided where French wants it.

    >>> elide("de", "Agent Fictif")
    "d'Agent Fictif"
    >>> elide("de", "la Ville")
    'de la Ville'
    >>> elide("la", "Œuvre")
    "l'Œuvre"
    """
    if word.lower() in _ELIDING and _starts_with_vowel_sound(following):
        return f"{word[:-1]}'{following.lstrip()}"
    return f"{word} {following}"


def de(following: str) -> str:
    """ "de Camille", "d'Agent Fictif", "d'Émilie", "de la Ville"."""
    return elide("de", following)


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


def address_lines(address_line: object, postcode: object, city: object) -> list[str]:
    """A French address as it is written: the street (with floor and building), then the
    postcode and the town on a line of their own ("76620 Le Havre")."""
    street = str(address_line or "").strip()
    town = " ".join(str(p).strip() for p in (postcode, city) if p and str(p).strip())
    return [line for line in (street, town) if line]


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


def day_month_year(day: date) -> str:
    """ "1er décembre 2026", "25 novembre 2026"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def long_date(day: date) -> str:
    """ "mercredi 25 novembre 2026": the weekday helps readers who lose track of dates."""
    return f"{DAYS[day.weekday()]} {day_month_year(day)}"


def period(start: date, end: date) -> str:
    """ "du lundi 1er février 2027 au samedi 20 février 2027" ("le …" for one day)."""
    if start == end:
        return f"le {long_date(start)}"
    return f"du {long_date(start)} au {long_date(end)}"


def month_year(year: int, month: int) -> str:
    return f"{MONTHS[month - 1]} {year}"
