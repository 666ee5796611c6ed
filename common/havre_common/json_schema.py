"""JSON Schemas of the synced rows, derived from the data contract, for the published OpenAPI.

The server's OpenAPI describes a pushed mutation's ``changed_fields`` table by table (a ``oneOf``
over the pushable tables and their operations, told apart by ``table_name`` and ``op``), and the
rows of a catalogue import, with the contract's kinds, lengths, allowed values and bounds: the
City's IT reads the contract there, and schemathesis generates requests that reach the code behind
validation.

These schemas document; they do not decide. What the server accepts is unchanged: the protocol
models take any JSON object of fields and :mod:`havre_common.validation` checks it, with the
French messages. Where a JSON Schema cannot say it all (a date that does not exist, a blank
required text, what a role may write), the validation refuses what the schema lets through.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from havre_common.contract import (
    CLOCK_COLUMN,
    ENUMS,
    PUSHED_TABLES,
    SAMPLE_COLUMN,
    TABLES,
    Field,
    Kind,
    Policy,
    Table,
)
from havre_common.protocol import UUID_PATTERN
from havre_common.reference import load_reference

# ECMA-262 and Python read these \u escapes alike.
_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
_CONTROL_BUT_BREAKS = "\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f"  # \t and \n allowed
_YEAR = "(19[0-9]{2}|2[01][0-9]{2}|2200)"  # validation.MIN_YEAR..MAX_YEAR (a test checks)
_DAY = "(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = f"^{_YEAR}-{_DAY}$"
TIMESTAMP_PATTERN = (
    f"^{_YEAR}-{_DAY}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,6}})?"
    "(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$"
)
PHONE_PATTERN = "^(0[1-9]([ .-]?[0-9]{2}){4}|\\+33 ?[1-9]([ .-]?[0-9]{2}){4})$"
POSTCODE_PATTERN = "^[0-9]{5}$"

OPS_BY_POLICY: dict[Policy, tuple[str, ...]] = {
    Policy.MERGE: ("insert", "update", "delete"),
    Policy.REVISION: ("insert", "update", "delete"),
    Policy.CATALOGUE: ("insert", "update", "delete"),
    Policy.APPEND: ("insert",),
    Policy.RESOLUTION: ("update",),
}
"""The operations a device may push per policy (some tables refuse more: a visit is corrected,
never deleted; the server says why)."""


def _allowed(f: Field) -> list[str]:
    name = str(f.choices)
    values = ENUMS[name] if name in ENUMS else load_reference().labels(name)
    return sorted(values)


def _text(limit: int | None, *, multiline: bool = False, required: bool = False) -> dict[str, Any]:
    allowed = f"[^{_CONTROL_BUT_BREAKS if multiline else _CONTROL}]"
    schema: dict[str, Any] = {"type": "string"}
    if limit is not None:
        schema["maxLength"] = limit
    if required:  # at least one character that is not a space
        schema["minLength"] = 1
        schema["pattern"] = f"^{allowed}*[^\\s{_CONTROL}]{allowed}*$"
    else:
        schema["pattern"] = f"^{allowed}*$"
    return schema


def _uuid() -> dict[str, Any]:
    return {"type": "string", "format": "uuid", "pattern": UUID_PATTERN, "maxLength": 36}


def _phone() -> dict[str, Any]:
    return {"type": "string", "pattern": PHONE_PATTERN, "maxLength": 40}


def value_schema(f: Field, *, required: bool = False) -> dict[str, Any]:
    """What one non-empty value of this field may be (the contract's kind, limits, choices)."""
    kind = f.kind
    if kind is Kind.TEXT:
        schema = _text(f.max_length, multiline=f.multiline, required=required)
    elif kind is Kind.INTEGER:
        schema = {"type": "integer"}
        schema["minimum"] = f.minimum if f.minimum is not None else -(2**53)
        schema["maximum"] = f.maximum if f.maximum is not None else 2**53
    elif kind is Kind.BOOLEAN:
        schema = {"type": ["boolean", "integer"], "minimum": 0, "maximum": 1}
    elif kind is Kind.DATE:
        schema = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    elif kind is Kind.TIMESTAMP:
        schema = {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}
        schema["maxLength"] = 40
    elif kind is Kind.UUID:
        schema = _uuid()
    elif kind is Kind.UUID_LIST:
        schema = {"type": "array", "items": _uuid(), "maxItems": f.max_items}
    elif kind is Kind.CHOICE:
        schema = {"type": "string", "enum": _allowed(f)}
    elif kind is Kind.CHOICE_LIST:
        items = {"type": "string", "enum": _allowed(f)}
        schema = {"type": "array", "items": items, "maxItems": f.max_items, "uniqueItems": True}
    elif kind is Kind.PHONE:
        schema = _phone()
    elif kind is Kind.EMAIL:
        schema = {"type": "string", "format": "email", "maxLength": f.max_length}
    elif kind is Kind.POSTCODE:
        schema = {"type": "string", "pattern": POSTCODE_PATTERN}
    elif kind is Kind.CODE:
        schema = {"type": "string", "pattern": f.pattern, "maxLength": f.max_length}
    elif kind is Kind.OBJECT:
        schema = {"type": "object"}
    elif kind is Kind.FLAGS:
        flags = {name: {"type": "boolean"} for name in _allowed(f)}
        schema = {"type": "object", "properties": flags, "additionalProperties": False}
    else:
        assert kind is Kind.CONTACT_LIST
        contact = {
            "type": "object",
            "properties": {
                "name": _text(200, required=True),
                "relation": _text(100),
                "phone": _phone(),
            },
            "required": ["name", "phone"],
            "additionalProperties": False,
        }
        schema = {"type": "array", "items": contact, "maxItems": f.max_items}
    schema["title"] = f.label
    if kind is Kind.OBJECT:
        schema["description"] = f"Objet JSON d'au plus {f.max_length} caractères."
    return schema


def field_schema(f: Field, *, required: bool = False) -> dict[str, Any]:
    """A field's value in ``changed_fields``: ``null`` empties a field that is not required."""
    value = value_schema(f, required=required)
    if required:
        return value
    return {"anyOf": [value, {"type": "null"}], "title": f.label}


def _ignored(table: Table) -> dict[str, Any]:
    """Bookkeeping the desktop may send along and the server ignores."""
    names = [*table.local_columns, "server_version"]
    if table.sample_flag:
        names.append(SAMPLE_COLUMN)
    if table.field_clocks:
        names.append(CLOCK_COLUMN)
    return {name: {"description": "Tenue du poste, ignorée par le serveur."} for name in names}


@cache
def fields_schema(table_name: str, op: str) -> dict[str, Any]:
    """``changed_fields`` of a mutation of this table: every field for an insert (the required
    ones required), the updatable ones for an update, the deletion mark for a delete."""
    table = TABLES[table_name]
    properties: dict[str, Any] = {}
    required: list[str] = []
    if op == "delete":
        properties = {
            "deleted": {"enum": [1, True]},
            "updated_at": field_schema(table.field("updated_at"))
            if "updated_at" in table.by_name
            else {"type": "string"},
        }
    else:
        for f in table.fields:
            if f.name == "id":
                properties["id"] = {**_uuid(), "description": "Égal à row_id."}
                continue
            if op == "update" and f.name not in table.updatable:
                continue
            properties[f.name] = field_schema(f, required=f.required)
            if op == "insert" and f.required:
                required.append(f.name)
        properties.update(_ignored(table))
    schema: dict[str, Any] = {
        "type": "object",
        "title": f"{table.label} ({op})",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def mutation_variants() -> list[dict[str, Any]]:
    """One schema per pushable table and operation (``table_name`` and ``op`` tell them apart)."""
    variants = []
    for name in sorted(PUSHED_TABLES):
        table = TABLES[name]
        for op in OPS_BY_POLICY[table.policy]:
            variants.append(
                {
                    "title": f"{name} {op}",
                    "properties": {
                        "table_name": {"const": name},
                        "op": {"const": op},
                        "changed_fields": fields_schema(name, op),
                    },
                }
            )
    return variants


def catalogue_row_schema(table_name: str) -> dict[str, Any]:
    """One row of a catalogue import: an insert's fields, ``id`` optional (a new one is made);
    of the bookkeeping, only the sample mark and the version are ignored."""
    schema = dict(fields_schema(table_name, "insert"))
    table = TABLES[table_name]
    local = set(table.local_columns) | {CLOCK_COLUMN}
    properties = {k: v for k, v in schema["properties"].items() if k not in local}
    schema["properties"] = {**properties, "id": _uuid()}
    schema["title"] = TABLES[table_name].label
    return schema
