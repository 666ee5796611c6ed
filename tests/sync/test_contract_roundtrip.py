"""The contract's promises across the wire, on a real server process and a real desktop profile.

* Any row the desktop's validation accepts, the server accepts, and it fits in a pull page.
* Any value the server accepts reaches a second device unchanged.
* A value the desktop refuses, the server refuses with the same French message.

Rows come from the contract's own hypothesis strategies (tests/contract_strategies.py): every
field of every person-related table, at its limits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from havre_common import contract
from havre_common.validation import ContractViolation, clean
from havre_desktop.core.workspace import decode_row
from tests import contract_strategies as cs
from tests.server.support import Device, World, iso, new_person
from tests.sync.conftest import MakeLaptop
from tests.sync.support import Laptop

EXAMPLES = 12
SERVER_FILLED = {"consents": {"recorded_by_agent_id"}}
"""Fields the server sets itself whatever the device sends (the author)."""


class Stage:
    """A social worker pushing through the protocol and a coordinator's desktop receiving."""

    def __init__(self, world: World, receiver: Laptop) -> None:
        self.world = world
        # With the register right: the register's tables are among those that travel.
        self.pusher: Device = world.agent("travailleur-social", ["nord"], register_right=True)
        self.receiver = receiver
        self.person_id = new_person(self.pusher, "nord")


@pytest.fixture
def stage(world: World, laptops: MakeLaptop) -> Iterator[Stage]:
    receiver = laptops("coordinateur", ("nord",))
    yield Stage(world, receiver)


def _stamp() -> dict[str, str]:
    return {"created_at": iso(), "updated_at": iso()}


def rows_for(table: str, stage: Stage) -> st.SearchStrategy[dict[str, Any]]:
    """Rows of ``table`` the contract accepts, tied to the stage's person and agent."""
    agent = stage.pusher.agent_id
    person = stage.person_id
    spec = contract.TABLES[table]
    stamps = {k: v for k, v in _stamp().items() if k in spec.by_name}
    fixed: dict[str, dict[str, Any]] = {
        "contacts": {"kind": "person", "territory_id": "nord", **stamps},
        "visits": {"person_id": person, "agent_id": agent, "proposed_action_ids": [], **stamps},
        "planned_contacts": {
            "person_id": person,
            "agent_id": agent,
            "done_by_visit_id": None,
            **stamps,
        },
        "consents": {"contact_id": person, "recorded_by_agent_id": agent, **stamps},
        # Who asked and how: the register's own rules, on both sides (register.enrol).
        "register_enrolments": {
            "person_id": person,
            "consent_given": 1,
            "written_request": 1,
            "requester_name": "Paul Lefèvre",
            **stamps,
        },
        "register_events": {"person_id": person, "agent_id": agent, **stamps},
        "handouts_given": {"person_id": person, "agent_id": agent, "action_ids": []},
    }
    strategy = cs.row(table, fixed=fixed[table])
    if table == "contacts":  # a person has a name (the fiche's own rule, on both sides)
        strategy = strategy.map(
            lambda r: {
                **r,
                "family_name": r.get("family_name") or "Fictif",
                "given_names": r.get("given_names") or "Camille",
            }
        )
    return strategy


ROUND_TRIP_TABLES = (
    "contacts",
    "visits",
    "planned_contacts",
    "consents",
    "register_enrolments",
    "register_events",
    "handouts_given",
)


def _received(laptop: Laptop, table: str, row_id: str) -> dict[str, Any]:
    row = laptop.ws.store.query_one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
    assert row is not None, f"{table} {row_id} did not reach the second device"
    return decode_row(row)


def _same(table: str, field: str, sent: Any, received: Any) -> bool:
    kind = contract.TABLES[table].field(field).kind
    if kind is contract.Kind.BOOLEAN:
        return int(bool(sent)) == int(bool(received))
    if kind is contract.Kind.OBJECT and isinstance(received, str):
        return bool(json.loads(received) == sent)
    return bool(sent == received)


@pytest.mark.parametrize("table", ROUND_TRIP_TABLES)
def test_rows_the_desktop_accepts_are_accepted_and_arrive_unchanged(
    stage: Stage, table: str
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(rows_for(table, stage), min_size=1, max_size=8))
    def run(rows: list[dict[str, Any]]) -> None:
        mutations = []
        stored: dict[str, dict[str, Any]] = {}
        for values in rows:
            row_id = str(uuid.uuid4())  # drawn ids repeat between examples: fresh ones
            values = {k: v for k, v in values.items() if k != "id"}
            # The desktop's validation: what it would save.
            cleaned = clean(table, {"id": row_id, **values}, creating=True)
            stored[row_id] = cleaned
            fields = {k: v for k, v in cleaned.items() if k != "id"}
            mutations.append(stage.pusher.mutation(table, row_id, "insert", fields, 0))
        results = stage.pusher.push(*mutations)
        refused = [r for r in results if r["status"] not in ("applied", "conflict")]
        assert refused == [], refused
        stage.receiver.sync()
        for row_id, cleaned in stored.items():
            received = _received(stage.receiver, table, row_id)
            for field, value in cleaned.items():
                if field in SERVER_FILLED.get(table, set()):
                    continue
                assert _same(table, field, value, received[field]), (table, field)

    run()


_HOSTILE_FIELDS = [
    (table, f)
    for table in ("contacts", "visits")
    for f in contract.TABLES[table].fields
    if f.updatable and f.name not in ("id", "updated_at")
]


def test_values_the_desktop_refuses_the_server_refuses_with_the_same_words(stage: Stage) -> None:
    visit_id = str(uuid.uuid4())
    visit = {
        "person_id": stage.person_id,
        "agent_id": stage.pusher.agent_id,
        "occurred_at": iso(),
        "kind": "visite-domicile",
        "outcome": "realisee",
        **_stamp(),
    }
    (created,) = stage.pusher.push(stage.pusher.mutation("visits", visit_id, "insert", visit, 0))
    assert created["status"] == "applied"
    targets = {"contacts": stage.person_id, "visits": visit_id}

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.sampled_from(_HOSTILE_FIELDS).flatmap(
            lambda pair: st.tuples(st.just(pair), cs.hostile_value(pair[1]))
        )
    )
    def run(drawn: tuple[tuple[str, contract.Field], Any]) -> None:
        (table, f), hostile = drawn
        with pytest.raises(ContractViolation) as desktop_refusal:
            clean(table, {f.name: hostile}, creating=False)
        if isinstance(hostile, str) and "\ud800" in hostile:
            return  # not valid UTF-8: no JSON request can carry it (tested in test_attacks)
        mutation = stage.pusher.mutation(table, targets[table], "update", {f.name: hostile}, 1)
        (result,) = stage.pusher.push(mutation)
        assert result["status"] == "rejected"
        assert result["reason"] == str(desktop_refusal.value)

    run()
