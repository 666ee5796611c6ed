"""Input rules with French messages, shared by every screen and import path.

Each `clean_*` function takes what the user typed and returns the values to
store, or raises `ValidationError` with one message per field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from havre_common.values import (
    EMAIL_MESSAGE,
    POSTCODE_MESSAGE,
    is_email,
    is_postcode,
    normalise_phone,
    parse_date,
)
from havre_desktop.core.errors import ValidationError

_DIGITS = re.compile(r"\d")


def phone_search_text(*phones: str | None) -> str:
    """What the full-text index holds for phones: grouped pairs and the 10 digits run together."""
    parts: list[str] = []
    for phone in phones:
        if phone:
            digits = "".join(_DIGITS.findall(phone))
            parts.append(f"{phone} {digits}")
    return " ".join(parts)


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
        allowed: Mapping[str, str],
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
        self, values: dict[str, Any], field: str, label: str, allowed: Mapping[str, str]
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
        if text and not is_email(text):
            self.fail(field, EMAIL_MESSAGE)
            return None
        return text

    def postcode(self, values: dict[str, Any], field: str) -> str | None:
        text = self.optional_text(values, field)
        if text and not is_postcode(text):
            self.fail(field, POSTCODE_MESSAGE)
            return None
        return text
