"""The JSON Schemas the server publishes for pushed fields and catalogue rows say what the
contract says: rows the contract accepts fit them, values it refuses (those a JSON Schema can
tell) do not, and every pushable table and operation is described."""

from __future__ import annotations

import re
import uuid
from typing import Any

import jsonschema_rs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from havre_common import contract, json_schema, validation, values
from havre_common.protocol import CatalogueImport, Mutation
from tests import contract_strategies as cs

PUSHED = sorted(contract.PUSHED_TABLES)


def _valid(schema: dict[str, Any], instance: Any) -> bool:
    return bool(jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(instance))


def test_every_pushable_table_and_operation_is_published() -> None:
    published = Mutation.model_json_schema()["oneOf"]
    pairs = {
        (v["properties"]["table_name"]["const"], v["properties"]["op"]["const"]) for v in published
    }
    expected = {
        (name, op)
        for name in PUSHED
        for op in json_schema.OPS_BY_POLICY[contract.TABLES[name].policy]
    }
    assert pairs == expected
    items = CatalogueImport.model_json_schema()["properties"]["actions"]["items"]
    assert set(items["required"]) == contract.ACTIONS.required - {"id"}


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(PUSHED).flatmap(lambda t: st.tuples(st.just(t), cs.row(t))))
def test_rows_the_contract_accepts_fit_the_published_schemas(pair: tuple[str, Any]) -> None:
    table, row = pair
    row = {**row, "id": str(uuid.uuid4())}
    ops = json_schema.OPS_BY_POLICY[contract.TABLES[table].policy]
    if "insert" in ops:
        assert _valid(json_schema.fields_schema(table, "insert"), row), row
    if "update" in ops:
        updatable = {k: v for k, v in row.items() if k in contract.TABLES[table].updatable}
        assert _valid(json_schema.fields_schema(table, "update"), updatable), updatable
    if table in ("facilities", "actions"):
        assert _valid(json_schema.catalogue_row_schema(table), row), row


def _representable(value: Any) -> bool:
    """JSON carries no lone surrogate: such a value cannot even be sent."""
    try:
        str(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.sampled_from(
        [(t, f) for t in PUSHED for f in contract.TABLES[t].fields if f.name != "id"]
    ).flatmap(lambda pair: st.tuples(st.just(pair), cs.hostile_value(pair[1])))
)
def test_values_the_contract_refuses_do_not_fit(pair: tuple[tuple[str, Any], Any]) -> None:
    (table, f), value = pair
    if not _representable(value):
        return
    assert not _valid(json_schema.value_schema(f), value), (table, f.name, value)


def test_the_date_patterns_spell_the_validations_years() -> None:
    assert (validation.MIN_YEAR, validation.MAX_YEAR) == (1900, 2200)
    for year, fits in ((1899, False), (1900, True), (2199, True), (2200, True), (2201, False)):
        assert _valid({"pattern": json_schema.DATE_PATTERN}, f"{year}-06-01") is fits


def test_the_text_patterns_refuse_what_the_validation_refuses() -> None:
    """The schemas' character classes are havre_common.values' (NOT_TEXT, NOT_MULTILINE_TEXT),
    written with escapes a JSON Schema carries (fullmatch: "$" ends the text in ECMA-262,
    where Python's also matches before a final line feed)."""
    one_line = re.compile(json_schema.value_schema(contract.CONTACTS.field("city"))["pattern"])
    several = re.compile(json_schema.value_schema(contract.VISITS.field("notes"))["pattern"])
    for code in [*range(0x3000), *range(0xE000, 0x10000), 0x1F642, 0x10FFFF]:
        character = chr(code)
        assert bool(one_line.fullmatch(character)) is not bool(values.NOT_TEXT.search(character))
        fits = bool(several.fullmatch(character))
        assert fits is not bool(values.NOT_MULTILINE_TEXT.search(character)), hex(code)
