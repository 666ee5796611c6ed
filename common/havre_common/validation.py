"""One validation of synced rows against the contract, for the desktop and the server.

The desktop runs it on every row it is about to save (``Workspace.write_row``/``update_row``),
the server on every pushed mutation and catalogue import: a value one side accepts, the other
accepts too, with the same French message when it does not. Messages name the field by its
French label and never quote more than a few dozen characters of what was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from havre_common.contract import ENUMS, TABLES, Field, Kind, Table
from havre_common.french import french_number
from havre_common.reference import Reference, load_reference
from havre_common.values import (
    EMAIL_MESSAGE,
    NOT_MULTILINE_TEXT,
    NOT_TEXT,
    POSTCODE_MESSAGE,
    is_email,
    is_postcode,
    normalise_phone,
    parse_date,
    parse_datetime,
    shown,
)

MIN_YEAR, MAX_YEAR = 1900, 2200
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ContractViolation(ValueError):
    """Values the contract refuses: one French message per field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _bad_characters(text: str, multiline: bool) -> str | None:
    """Why this text cannot be stored, or None: control characters (NUL included, which
    PostgreSQL refuses), lone surrogates (not UTF-8), and line breaks in a one-line field."""
    found = (NOT_MULTILINE_TEXT if multiline else NOT_TEXT).search(text)
    if found is None:
        return None
    character = found.group()
    if "\ud800" <= character <= "\udfff":
        return "caractère invalide"
    if character in "\n\r":
        return "un retour à la ligne n'est pas admis dans ce champ"
    return "caractère de contrôle interdit"


def _allowed(f: Field, ref: Reference) -> Mapping[str, str]:
    name = str(f.choices)
    return ENUMS[name] if name in ENUMS else ref.labels(name)


def _text(f: Field, value: Any) -> Any:
    if not isinstance(value, str):
        raise _Refused("texte attendu.")
    if f.multiline:
        value = value.replace("\r\n", "\n")
    problem = _bad_characters(value, f.multiline)
    if problem:
        raise _Refused(f"{problem}.")
    value = value.strip()
    if f.max_length is not None and len(value) > f.max_length:
        raise _Refused(
            f"texte trop long ({french_number(len(value))} caractères, "
            f"au plus {french_number(f.max_length)})."
        )
    return value


def _integer(f: Field, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refused("nombre entier attendu.")
    low = f.minimum if f.minimum is not None else -(2**53)
    high = f.maximum if f.maximum is not None else 2**53
    if not low <= value <= high:
        raise _Refused(f"la valeur doit être comprise entre {low} et {high}.")
    return value


def _boolean(_f: Field, value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    raise _Refused("oui ou non attendu.")


def _date(_f: Field, value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 40:
        raise _Refused("date invalide.")
    try:
        parsed = parse_date(value)
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise _Refused("date invalide.")
    return parsed.isoformat()


def _timestamp(_f: Field, value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 40:
        raise _Refused("date et heure invalides.")
    try:
        parsed = parse_datetime(value)
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise _Refused("date et heure invalides.")
    return value.strip()


def _uuid_value(value: Any) -> str:
    if not isinstance(value, str) or not _UUID.match(value):
        raise _Refused("identifiant invalide.")
    return value


def _uuid(_f: Field, value: Any) -> Any:
    return _uuid_value(value)


def _uuid_list(f: Field, value: Any) -> Any:
    if not isinstance(value, list) or len(value) > int(f.max_items or 0):
        raise _Refused(f"liste attendue (au plus {f.max_items}).")
    return list(dict.fromkeys(_uuid_value(item) for item in value))


def _choice_of(f: Field, value: Any, ref: Reference) -> str:
    allowed = _allowed(f, ref)
    if not isinstance(value, str) or value not in allowed:
        raise _Refused(f"valeur inconnue « {shown(value)} ».")
    return value


def _phone(_f: Field, value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 40:
        raise _Refused("numéro de téléphone invalide.")
    try:
        return normalise_phone(value)
    except ValueError as exc:
        raise _Refused(str(exc)) from None


def _email(f: Field, value: Any) -> Any:
    text = _text(f, value)
    if not is_email(text):
        raise _Refused(EMAIL_MESSAGE)
    return text


def _postcode(_f: Field, value: Any) -> Any:
    if not isinstance(value, str) or not is_postcode(value.strip()):
        raise _Refused(POSTCODE_MESSAGE)
    return value.strip()


def _code(f: Field, value: Any) -> Any:
    if (
        not isinstance(value, str)
        or len(value) > int(f.max_length or 0)
        or not re.match(str(f.pattern), value)
        or not value.isascii()
    ):
        raise _Refused("valeur invalide.")
    return value


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


def _object(f: Field, value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _Refused("objet JSON attendu.") from None
    if not isinstance(value, dict):
        raise _Refused("objet JSON attendu.")
    try:
        size = _json_size(value)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError):
        raise _Refused("objet JSON invalide.") from None
    if size > int(f.max_length or 0):
        raise _Refused(
            f"objet trop volumineux (au plus {french_number(int(f.max_length or 0))} caractères)."
        )
    return value


def _flags(f: Field, value: Any, ref: Reference) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _Refused("indicateurs attendus.") from None
    allowed = _allowed(f, ref)
    if not isinstance(value, dict) or any(key not in allowed for key in value):
        raise _Refused("indicateurs inconnus.")
    if not all(isinstance(v, bool) for v in value.values()):
        raise _Refused("oui ou non attendu.")
    return dict(value)


_CONTACT_KEYS = frozenset({"name", "relation", "phone"})


def _contact_list(f: Field, value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _Refused("liste attendue.") from None
    if not isinstance(value, list) or len(value) > int(f.max_items or 0):
        raise _Refused(f"liste attendue (au plus {f.max_items}).")
    cleaned = []
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - _CONTACT_KEYS:
            raise _Refused(f"n° {index} : format invalide.")
        name, relation, phone = item.get("name"), item.get("relation") or "", item.get("phone")
        if not isinstance(name, str) or not name.strip():
            raise _Refused(f"n° {index} : le nom est obligatoire.")
        if not isinstance(relation, str):
            raise _Refused(f"n° {index} : lien invalide.")
        for text, limit in ((name, 200), (relation, 100)):
            if len(text.strip()) > limit or _bad_characters(text, multiline=False):
                raise _Refused(f"n° {index} : texte invalide ou trop long (au plus {limit}).")
        if not isinstance(phone, str) or not phone.strip():
            raise _Refused(f"n° {index} : le téléphone est obligatoire.")
        try:
            normalised = normalise_phone(phone)
        except ValueError:
            raise _Refused(f"n° {index} : numéro de téléphone invalide.") from None
        cleaned.append({"name": name.strip(), "relation": relation.strip(), "phone": normalised})
    return cleaned


_CHECKS: dict[Kind, Callable[[Field, Any], Any]] = {
    Kind.TEXT: _text,
    Kind.INTEGER: _integer,
    Kind.BOOLEAN: _boolean,
    Kind.DATE: _date,
    Kind.TIMESTAMP: _timestamp,
    Kind.UUID: _uuid,
    Kind.UUID_LIST: _uuid_list,
    Kind.PHONE: _phone,
    Kind.EMAIL: _email,
    Kind.POSTCODE: _postcode,
    Kind.CODE: _code,
    Kind.OBJECT: _object,
    Kind.CONTACT_LIST: _contact_list,
}


@cache
def _default(f: Field) -> Any:
    """The value an empty field takes (its SQL default, decoded), or None."""
    if f.default is None:
        return None
    if f.is_json:
        return json.loads(f.default)
    if f.kind in (Kind.INTEGER, Kind.BOOLEAN):
        return int(f.default)
    return f.default


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


def clean_value(f: Field, value: Any, ref: Reference | None = None) -> Any:
    """One field's stored value; raises ContractViolation with the field's French message."""
    try:
        return _clean(f, value, ref or load_reference())
    except _Refused as exc:
        raise ContractViolation({f.name: f"{f.label} : {exc.message}"}) from None


def _clean(f: Field, value: Any, ref: Reference) -> Any:
    if isinstance(value, str):
        if f.multiline:  # a line break typed on Windows, or from a spreadsheet's cell
            value = value.replace("\r\n", "\n")
        problem = _bad_characters(value, f.multiline)
        if problem:
            raise _Refused(f"{problem}.")
        if not value.strip():
            return _default(f)
    if value is None or (f.kind is not Kind.BOOLEAN and is_empty(value)):
        return _default(f)
    if f.kind is Kind.CHOICE:
        return _choice_of(f, value, ref)
    if f.kind is Kind.CHOICE_LIST:
        if not isinstance(value, list) or len(value) > int(f.max_items or 0):
            raise _Refused(f"liste attendue (au plus {f.max_items}).")
        return list(dict.fromkeys(_choice_of(f, item, ref) for item in value))
    if f.kind is Kind.FLAGS:
        return _flags(f, value, ref)
    return _CHECKS[f.kind](f, value)


def clean(
    table: str | Table,
    values: Mapping[str, Any],
    *,
    creating: bool,
    role: str | None = None,
    ref: Reference | None = None,
    ignore: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The stored form of ``values`` (only the keys given), checked against the contract.

    ``creating``: a new row, whose required fields must all be there. ``role``: the writer's
    role, refused for fields it may not fill. ``ignore``: keys passed over (bookkeeping columns
    the caller knows about). Raises :class:`ContractViolation` with every problem at once.
    """
    spec = TABLES[table] if isinstance(table, str) else table
    reference = ref or load_reference()
    fields = spec.by_name
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in values.items():
        if key in ignore:
            continue
        f = fields.get(key)
        if f is None:
            errors[key] = f"Champ « {shown(key)} » inconnu dans {spec.label.lower()}."
            continue
        try:
            cleaned[key] = _clean(f, value, reference)
        except _Refused as exc:
            errors[key] = f"{f.label} : {exc.message}"
            continue
        if (
            role is not None
            and f.writers is not None
            and role not in f.writers
            and not is_empty(cleaned[key])
            and cleaned[key] not in (_default(f), 0)
        ):
            errors[key] = f"{f.label} : votre rôle ne permet pas de renseigner ce champ."
    for key, value in cleaned.items():
        f = fields[key]
        if not creating and f.required and key not in errors and is_empty(value):
            errors[key] = f"{f.label} : ce champ est obligatoire."
    if creating:
        for f in spec.fields:
            if f.required and f.name not in errors and is_empty(cleaned.get(f.name)):
                if f.kind is Kind.BOOLEAN and cleaned.get(f.name) in (0, 1):
                    continue
                errors[f.name] = f"{f.label} : ce champ est obligatoire."
    if errors:
        raise ContractViolation(errors)
    return cleaned
