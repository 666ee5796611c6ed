"""The data contract against what the desktop really has, and its validation's own promises.

The desktop's migrations are hand-written SQL: these tests read the migrated schema of a real
encrypted profile and compare it with the contract (columns, NOT NULL, CHECK lists and ranges),
so a field or a limit changed in one place only fails here. The server's schema is compared in
tests/server/test_contract_server.py (on SQLite and PostgreSQL).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from havre_common import contract
from havre_common.contract import ENUMS, Kind
from havre_common.protocol import MAX_ROW_JSON_BYTES
from havre_common.reference import load_reference
from havre_common.validation import ContractViolation, clean
from havre_desktop.core.errors import ValidationError
from havre_desktop.core.workspace import Workspace
from tests import contract_strategies as cs
from tests.helpers import new_workspace

DESKTOP_TABLES = [name for name in contract.TABLES]


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws, _manager, _recovery = new_workspace(tmp_path_factory.mktemp("contract"))
    return ws


def expected_desktop_columns(spec: contract.Table) -> set[str]:
    columns = set(spec.names) | set(spec.sync_columns) | set(spec.local_columns)
    if spec.field_clocks:
        columns.add(contract.CLOCK_COLUMN)
    if spec.sample_flag:
        columns.add(contract.SAMPLE_COLUMN)
    return columns


@pytest.mark.parametrize("table", DESKTOP_TABLES)
def test_desktop_schema_has_exactly_the_contract_columns(desktop: Workspace, table: str) -> None:
    spec = contract.TABLES[table]
    info = desktop.store.query(f"PRAGMA table_info({table})")
    assert {r["name"] for r in info} == expected_desktop_columns(spec)
    for column in info:
        if column["name"] not in spec.by_name or column["pk"]:
            continue
        f = spec.field(column["name"])
        if column["notnull"]:
            # A NOT NULL the contract does not promise would refuse a row the server sends.
            assert f.not_null, f"{table}.{f.name}: NOT NULL on the desktop, nullable in contract"
        expected_affinity = "INTEGER" if f.kind in (Kind.INTEGER, Kind.BOOLEAN) else "TEXT"
        assert column["type"] == expected_affinity, f"{table}.{f.name}"


_IN_CHECK = re.compile(r"CHECK \((\w+) IN \(([^)]*)\)\)")
_BETWEEN_CHECK = re.compile(r"CHECK \((\w+) BETWEEN (-?\d+) AND (-?\d+)\)")


def _allowed(f: contract.Field) -> set[str]:
    name = str(f.choices)
    return set(ENUMS[name] if name in ENUMS else load_reference().labels(name))


@pytest.mark.parametrize("table", DESKTOP_TABLES)
def test_desktop_checks_match_the_contract(desktop: Workspace, table: str) -> None:
    """Lists and ranges the desktop's SQL repeats (CHECK constraints) are the contract's."""
    sql = str(desktop.store.scalar("SELECT sql FROM sqlite_master WHERE name = ?", (table,)))
    spec = contract.TABLES[table]
    for column, values in _IN_CHECK.findall(sql):
        if column not in spec.by_name:
            continue  # bookkeeping flags: deleted IN (0, 1)
        f = spec.field(column)
        listed = {v.strip().strip("'") for v in values.split(",")}
        if f.kind is Kind.BOOLEAN:
            assert listed <= {"0", "1"}
        else:
            assert listed == _allowed(f), f"{table}.{column}"
    for column, low, high in _BETWEEN_CHECK.findall(sql):
        f = spec.field(column)
        assert (int(low), int(high)) == (f.minimum, f.maximum), f"{table}.{column}"


@pytest.mark.parametrize("table", list(contract.TABLES))
def test_every_row_the_contract_accepts_fits_in_a_pull_page(table: str) -> None:
    assert contract.TABLES[table].max_row_json_bytes() <= MAX_ROW_JSON_BYTES


def test_derived_lists_name_only_contract_tables_and_fields() -> None:
    for name, column in contract.PERSON_DEPENDENTS:
        assert column in contract.TABLES[name].by_name
    assert {"contacts", "planned_contacts"} == contract.MERGE_TABLES
    assert "audit_log" not in contract.PULLED_TABLES
    assert contract.CONTACTS.readable_by(contract.RECEPTION) >= {"family_name", "phone_1"}
    assert "access_notes" not in contract.CONTACTS.readable_by(contract.RECEPTION)
    assert {"need_ids", "emergency_contacts", "accessibility"} <= contract.JSON_FIELDS


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(contract.PUSHED_TABLES)).flatmap(
        lambda t: st.tuples(st.just(t), cs.row(t))
    )
)
def test_generated_rows_pass_validation_unchanged_in_meaning(
    drawn: tuple[str, dict[str, object]],
) -> None:
    table, values = drawn
    cleaned = clean(table, values, creating=True)
    # What is stored is what was given, in the contract's stored form.
    assert set(cleaned) == set(values)
    assert clean(table, cleaned, creating=True) == cleaned


_FIELDS = [(t.name, f) for t in contract.TABLES.values() for f in t.fields]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_FIELDS).flatmap(
        lambda pair: st.tuples(st.just(pair), cs.hostile_value(pair[1]))
    )
)
def test_hostile_values_are_refused_with_a_short_french_message(
    drawn: tuple[tuple[str, contract.Field], object],
) -> None:
    (table, f), hostile = drawn
    with pytest.raises(ContractViolation) as refused:
        clean(table, {f.name: hostile}, creating=False)
    message = refused.value.errors[f.name]
    assert message.startswith(f"{f.label} : ")
    assert len(message) < 400  # never the whole input echoed back
    assert "\x00" not in message and "\ud800" not in message


def test_a_note_longer_than_the_server_accepts_is_not_saved_on_the_desktop(
    tmp_path: Path,
) -> None:
    """The first edge of issue 11: a visit note over 10,000 characters used to save locally,
    be refused by the server and then be erased by a full download."""
    from havre_desktop.core import contacts, visits
    from tests.helpers import person_values

    ws, _m, _r = new_workspace(tmp_path)
    person = contacts.create_person(ws, person_values())
    limit = contract.VISITS.field("notes").max_length
    assert limit == 10_000
    with pytest.raises(ValidationError) as refused:
        visits.log_visit(
            ws,
            person["id"],
            {
                "occurred_at": ws.clock.now_iso(),
                "kind": "visite-domicile",
                "outcome": "realisee",
                "notes": "n" * (limit + 1),
            },
        )
    assert refused.value.errors == {
        "notes": "Notes : texte trop long (10\u202f001 caractères, au plus 10\u202f000)."
    }
    assert ws.store.scalar("SELECT count(*) FROM visits") == 0
    assert ws.store.scalar("SELECT count(*) FROM outbox WHERE table_name = 'visits'") == 0


def test_a_nul_in_a_name_is_refused_on_the_desktop_before_saving(tmp_path: Path) -> None:
    from havre_desktop.core import contacts
    from tests.helpers import person_values

    ws, _m, _r = new_workspace(tmp_path)
    with pytest.raises(ValidationError) as refused:
        contacts.create_person(ws, person_values(family_name="Lef\x00èvre"))
    assert refused.value.errors["family_name"] == "Nom : caractère de contrôle interdit."
    assert ws.store.scalar("SELECT count(*) FROM contacts WHERE kind = 'person'") == 0


def test_contact_details_names_and_free_text_about_persons_are_identifying() -> None:
    """Retention anonymises a file by emptying the fields the contract marks ``identifying``:
    a phone, e-mail, contact list or multi-line text added to a table about persons without
    the mark would survive anonymisation. Lists every one that lacks it."""
    missing = [
        f"{table.name}.{f.name}"
        for table in contract.TABLES.values()
        if table.person_column or table.personal
        for f in table.fields
        if not f.identifying
        and (
            f.kind in (Kind.PHONE, Kind.EMAIL, Kind.CONTACT_LIST)
            or (f.kind is Kind.TEXT and (f.multiline or f.name.endswith("_name")))
        )
    ]
    assert missing == []


def test_retention_rules_are_dates_and_columns_of_the_contract() -> None:
    for table_name, column in contract.CONTACT_DATES:
        assert contract.TABLES[table_name].field(column).kind in (Kind.DATE, Kind.TIMESTAMP)
    assert {t for t, _rule in contract.KEEPS_ACTIVE} == {
        "register_enrolments",
        "planned_contacts",
        "campaign_calls",
    }
    for _table, rule in contract.KEEPS_ACTIVE:
        if rule.through is not None:
            _column, parent, conditions = rule.through
            for name, _check in conditions:
                assert name in contract.TABLES[parent].by_name
    with pytest.raises(ValueError, match="retention names unknown fields"):
        contract.Table(
            "register_campaigns",
            "Campagnes",
            (contract.Field("id", Kind.UUID, "Identifiant", True, max_length=36),),
            contract.Sync.BOTH,
            contract.Policy.REVISION,
            person_column="id",
            keeps_active=contract.KeepsActive(
                (("closed_on", contract.Check.NOT_PAST),), "campagne en cours"
            ),
        )
