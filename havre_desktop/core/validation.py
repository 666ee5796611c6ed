"""Input rules with French messages, shared by every screen and import path.

Each `clean_*` function takes what the user typed and returns the values to
store, or raises `ValidationError` with one message per field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from havre_desktop.core.errors import ValidationError

_DIGITS = re.compile(r"\d")
_DATE_FR = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")
_DATE_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_POSTCODE = re.compile(r"^\d{5}$")

PHONE_MESSAGE = (
    "Numéro de téléphone invalide : saisissez 10 chiffres commençant par 0 "
    "(par exemple 02 61 91 12 34 ou 06 39 98 12 34), ou au format +33."
)


def normalise_phone(text: str) -> str:
    """A French number in any usual writing → ``06 12 34 56 78``; raise ValueError if not one.

    Accepted: 0612345678, 06 12 34 56 78, 06.12.34.56.78, 06-12-34-56-78,
    +33 6 12 34 56 78, +33 (0)6 12 34 56 78, 0033 6 12 34 56 78.
    """
    raw = text.strip()
    if not raw or re.search(r"[^\d\s.\-+()]", raw):
        raise ValueError(PHONE_MESSAGE)
    compact = re.sub(r"[\s.\-]", "", raw)
    compact = compact.replace("(0)", "")
    if compact.startswith("+33"):
        national = "0" + compact[3:]
    elif compact.startswith("0033"):
        national = "0" + compact[4:]
    else:
        national = compact
    if not re.fullmatch(r"0[1-9]\d{8}", national):
        raise ValueError(PHONE_MESSAGE)
    return " ".join(national[i : i + 2] for i in range(0, 10, 2))


def phone_search_text(*phones: str | None) -> str:
    """What the full-text index holds for phones: grouped pairs and the 10 digits run together."""
    parts: list[str] = []
    for phone in phones:
        if phone:
            digits = "".join(_DIGITS.findall(phone))
            parts.append(f"{phone} {digits}")
    return " ".join(parts)


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
    raise ValueError(f"Date invalide : « {text} ». Saisissez-la sous la forme JJ/MM/AAAA.")


def parse_datetime(text: str | datetime) -> datetime:
    if isinstance(text, datetime):
        return text
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"Date et heure invalides : « {text} ».") from None


class Checker:
    """Collects per-field messages so the user sees every problem at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)

    def required_text(self, values: dict[str, Any], field: str, label: str) -> str | None:
        value = values.get(field)
        text = str(value).strip() if value is not None else ""
        if not text:
            self.fail(field, f"{label} : ce champ est obligatoire.")
            return None
        return text

    def optional_text(self, values: dict[str, Any], field: str) -> str | None:
        value = values.get(field)
        text = str(value).strip() if value is not None else ""
        return text or None

    def phone(self, values: dict[str, Any], field: str) -> str | None:
        value = values.get(field)
        if value is None or not str(value).strip():
            return None
        try:
            return normalise_phone(str(value))
        except ValueError as exc:
            self.fail(field, str(exc))
            return None

    def date(
        self,
        values: dict[str, Any],
        field: str,
        label: str,
        *,
        today: date,
        required: bool = False,
        not_future: bool = False,
    ) -> str | None:
        try:
            parsed = parse_date(values.get(field))
        except ValueError as exc:
            self.fail(field, f"{label} : {exc}")
            return None
        if parsed is None:
            if required:
                self.fail(field, f"{label} : ce champ est obligatoire.")
            return None
        if not_future and parsed > today:
            self.fail(field, f"{label} : la date ne peut pas être dans le futur.")
            return None
        if parsed.year < 1900:
            self.fail(field, f"{label} : la date est trop ancienne.")
            return None
        return parsed.isoformat()

    def choice(
        self,
        values: dict[str, Any],
        field: str,
        label: str,
        allowed: dict[str, str],
        *,
        required: bool = True,
    ) -> str | None:
        value = values.get(field)
        if value is None or value == "":
            if required:
                self.fail(field, f"{label} : ce champ est obligatoire.")
            return None
        if value not in allowed:
            self.fail(field, f"{label} : valeur inconnue « {value} ».")
            return None
        return str(value)

    def choices(
        self, values: dict[str, Any], field: str, label: str, allowed: dict[str, str]
    ) -> list[str]:
        items = values.get(field) or []
        if isinstance(items, str):
            items = [items]
        unknown = [str(i) for i in items if i not in allowed]
        if unknown:
            self.fail(field, f"{label} : valeur(s) inconnue(s) {', '.join(unknown)}.")
            return []
        return list(dict.fromkeys(str(i) for i in items))

    def integer(
        self,
        values: dict[str, Any],
        field: str,
        label: str,
        *,
        minimum: int,
        maximum: int,
        required: bool = False,
    ) -> int | None:
        value = values.get(field)
        if value is None or value == "":
            if required:
                self.fail(field, f"{label} : ce champ est obligatoire.")
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            self.fail(field, f"{label} : saisissez un nombre entier.")
            return None
        if not minimum <= number <= maximum:
            self.fail(
                field, f"{label} : la valeur doit être comprise entre {minimum} et {maximum}."
            )
            return None
        return number

    def email(self, values: dict[str, Any], field: str) -> str | None:
        text = self.optional_text(values, field)
        if text and not _EMAIL.match(text):
            self.fail(field, "Adresse électronique invalide (exemple : prenom.nom@exemple.fr).")
            return None
        return text

    def postcode(self, values: dict[str, Any], field: str) -> str | None:
        text = self.optional_text(values, field)
        if text and not _POSTCODE.match(text):
            self.fail(field, "Code postal invalide : 5 chiffres (par exemple 76600).")
            return None
        return text
