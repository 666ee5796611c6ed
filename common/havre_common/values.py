"""French formats of values (phones, dates, postcodes, e-mails), with French messages.

Pure functions: they take what a person typed (or what a device sent) and return the stored
form, or raise ``ValueError`` with a message meant for the person at the screen.
"""

from __future__ import annotations

import re
from datetime import date, datetime

NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""What one line of text may not hold: control characters (NUL included, which PostgreSQL
refuses), C1 controls, lone surrogates (not UTF-8)."""
NOT_MULTILINE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""The same for several lines: tabs and line feeds allowed."""

PHONE_MESSAGE = (
    "Numéro de téléphone invalide : saisissez 10 chiffres commençant par 0 "
    "(par exemple 02 61 91 12 34 ou 06 39 98 12 34), ou au format +33."
)
EMAIL_MESSAGE = "Adresse électronique invalide (exemple : prenom.nom@exemple.fr)."
POSTCODE_MESSAGE = "Code postal invalide : 5 chiffres (par exemple 76600)."

# ASCII only: Python's \d and int() also take other scripts' digits ("١٢").
_DATE_FR = re.compile(r"^\s*([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})\s*$")
_DATE_ISO = re.compile(r"^\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\s*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTCODE = re.compile(r"^[0-9]{5}$")
_PHONE_CHARACTERS = re.compile(r"[^0-9\s.\-+()]")
_NATIONAL = re.compile(r"0[1-9][0-9]{8}")


def normalise_phone(text: str) -> str:
    """A French number in any usual writing → ``06 12 34 56 78``; raise ValueError if not one.

    Accepted: 0612345678, 06 12 34 56 78, 06.12.34.56.78, 06-12-34-56-78,
    +33 6 12 34 56 78, +33 (0)6 12 34 56 78, 0033 6 12 34 56 78.
    """
    raw = text.strip()
    if not raw or _PHONE_CHARACTERS.search(raw) or not raw.isascii():
        raise ValueError(PHONE_MESSAGE)
    compact = re.sub(r"[\s.\-]", "", raw)
    compact = compact.replace("(0)", "")
    if compact.startswith("+33"):
        national = "0" + compact[3:]
    elif compact.startswith("0033"):
        national = "0" + compact[4:]
    else:
        national = compact
    if not _NATIONAL.fullmatch(national):
        raise ValueError(PHONE_MESSAGE)
    return " ".join(national[i : i + 2] for i in range(0, 10, 2))


def shown(value: object, limit: int = 40) -> str:
    """A value quoted in a message, cut short: a refusal never echoes unbounded input."""
    text = str(value)
    text = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_date(text: str | date | None) -> date | None:
    """``JJ/MM/AAAA`` (as typed in France) or ISO ``AAAA-MM-JJ``; raise ValueError otherwise."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    if not text.strip():
        return None
    match = _DATE_FR.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        match = _DATE_ISO.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise ValueError(f"Date invalide : « {shown(text)} ». Saisissez-la sous la forme JJ/MM/AAAA.")


def parse_datetime(text: str | datetime) -> datetime:
    if isinstance(text, datetime):
        return text
    if not text.isascii():
        raise ValueError(f"Date et heure invalides : « {shown(text)} ».")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"Date et heure invalides : « {shown(text)} ».") from None


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text))


def is_postcode(text: str) -> bool:
    return bool(_POSTCODE.match(text))
