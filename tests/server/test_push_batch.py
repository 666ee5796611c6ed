"""A push's batch applied in one pass: the same answers, rows and log entries as mutation by
mutation, and a number of statements that does not grow with the batch.

The server applies a batch in one optimistic pass (no savepoint per mutation, the batch's
inserts, changes and results written together) and falls back to the careful pass (one
savepoint per mutation) when something needs undoing, e.g. an id already taken. The first test
runs one batch both ways (the second copy carries an id already taken, which sends it down the
careful pass) and checks both against the same expected answers and stored rows.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import event, text

from havre_common.protocol import PushRequest
from havre_server import auth, schema
from havre_server.changelog import ordering_from_env
from havre_server.db import dumps, make_engine
from havre_server.domain import load_row, wire_fields
from havre_server.push import now_ms, push
from havre_server.reference import load_reference
from tests.server.support import Device, World, new_person, person_fields, visit_fields

NO_ACCESS = "Vous n'aviez pas accès à cette personne quand la visite a été saisie : refusé."


def _batch(device: Device, existing: str, elsewhere: str) -> tuple[list[dict[str, Any]], str, str]:
    """A batch that reads what it wrote: a person created then edited twice, her visit then
    its revision, an existing person edited twice, a refusal (before any write)."""
    person, visit = str(uuid.uuid4()), str(uuid.uuid4())
    agent = device.agent_id
    mutations = [
        device.mutation("contacts", person, "insert", {**person_fields("nord"), "id": person}),
        device.mutation("contacts", person, "update", {"access_notes": "Code 4512"}, 1),
        device.mutation("contacts", person, "update", {"city": "Montivilliers"}, 1),
        device.mutation("visits", visit, "insert", visit_fields(person, agent)),
        device.mutation("visits", visit, "update", {"wellbeing": 4, "revision": 2}, 1),
        device.mutation("contacts", existing, "update", {"access_notes": "Code 1"}, 1),
        device.mutation("contacts", existing, "update", {"access_notes": "Code 2"}, 1),
        device.mutation("visits", str(uuid.uuid4()), "insert", visit_fields(elsewhere, agent)),
    ]
    return mutations, person, visit


def _check(
    world: World, device: Device, results: list[dict[str, Any]], ids: tuple[str, ...]
) -> dict[str, int]:
    """The batch's answers and rows; returns the device's recorded results by status."""
    person, visit, existing = ids
    statuses = [r["status"] for r in results[:8]]
    assert statuses == ["applied"] * 7 + ["rejected"], results
    assert [r["server_version"] for r in results[:7]] == [1, 2, 3, 1, 2, 2, 3]
    assert results[7]["reason"] == NO_ACCESS
    sql = world.server.sql
    row = sql(
        "SELECT access_notes, city, server_version, field_meta FROM contacts WHERE id = :id",
        id=person,
    )[0]
    assert tuple(row[:3]) == ("Code 4512", "Montivilliers", 3)
    meta = json.loads(row[3])
    assert (meta["access_notes"]["v"], meta["city"]["v"], meta["family_name"]["v"]) == (2, 3, 1)
    edited = sql("SELECT access_notes, server_version FROM contacts WHERE id = :id", id=existing)
    assert tuple(edited[0]) == ("Code 2", 3)
    assert tuple(
        sql("SELECT wellbeing, revision, server_version FROM visits WHERE id = :id", id=visit)[0]
    ) == (4, 2, 2)
    # The log's latest entry of each row is the row as stored (the one pass builds both).
    with world.server.engine.connect() as conn:
        for table, row_id in (("contacts", person), ("contacts", existing), ("visits", visit)):
            stored = load_row(conn, schema.TABLES[table], row_id)
            assert stored is not None
            entry = conn.execute(
                text(
                    "SELECT fields, server_version FROM change_log WHERE table_name = :t "
                    "AND row_id = :r ORDER BY seq DESC LIMIT 1"
                ),
                {"t": table, "r": row_id},
            ).one()
            assert json.loads(entry.fields) == json.loads(dumps(wire_fields(stored, table)))
            assert entry.server_version == stored["server_version"]
    # One territory history line for the new person; the results recorded once each.
    assert sql("SELECT count(*) FROM territory_history WHERE person_id = :id", id=person)[0][0] == 1
    recorded = sql(
        "SELECT status, count(*) FROM applied_mutations WHERE device_id = :d GROUP BY status",
        d=device.device_id,
    )
    return {str(s): int(n) for s, n in recorded}


def test_a_batch_gives_the_same_answers_and_rows_in_one_pass_or_mutation_by_mutation(
    world: World,
) -> None:
    other = world.agent("travailleur-social", ["sud"])
    elsewhere = new_person(other, "sud")
    recorded: list[dict[str, int]] = []
    for taken in (False, True):
        device = world.agent("travailleur-social", ["nord"])
        existing = new_person(device, "nord")
        mutations, person, visit = _batch(device, existing, elsewhere)
        if taken:  # an id already used: the batch goes mutation by mutation
            fields = {**person_fields("nord"), "id": elsewhere}
            mutations.append(device.mutation("contacts", elsewhere, "insert", fields))
        results = device.push(*mutations)
        if taken:
            assert results[8]["status"] == "rejected"
            assert results[8]["reason"] == "Identifiant déjà utilisé : refusé."
        recorded.append(_check(world, device, results, (person, visit, existing)))
        # A colleague of the territory pulls the batch's rows as they ended.
        colleague = world.agent("travailleur-social", ["nord"])
        changes, _cursor = colleague.pull_all()
        rows = {(c["table_name"], c["row_id"]): c for c in changes}
        assert rows[("contacts", person)]["fields"]["city"] == "Montivilliers"
        assert rows[("contacts", person)]["server_version"] == 3
        assert rows[("visits", visit)]["fields"]["revision"] == 2
        # The whole batch again: every answer is the first one's.
        again = device.push(*mutations)
        assert {r["status"] for r in again} == {"duplicate"}
        assert [r["original_status"] for r in again] == [r["status"] for r in results]
    # The existing person's creation, then the batch's 7 applied; the refused visit; the id
    # already taken (second copy).
    assert recorded == [{"applied": 8, "rejected": 1}, {"applied": 8, "rejected": 2}]


@pytest.mark.parametrize("server", ["postgresql"], indirect=True)  # each statement a round trip
def test_the_statements_of_a_push_do_not_grow_with_its_mutations(world: World) -> None:
    """The push path in this process, on the server's database: a push of 50 mutations (new
    visits, contact edits, new persons) runs about as many statements as a push of 5."""
    device = world.agent("travailleur-social", ["nord"])
    persons = [new_person(device, "nord") for _ in range(3)]
    engine = make_engine(world.server.database_url)
    counted = [0]

    def count(*_args: Any) -> None:
        counted[0] += 1

    try:
        principal = auth.authenticate(engine, f"Bearer {device.token}")
        versions = dict.fromkeys(persons, 1)
        statements: dict[int, int] = {}
        for size in (5, 50):
            mutations = []
            for i in range(size):
                person = persons[i % len(persons)]
                if i % 5 == 3:
                    change = {"access_notes": f"Code {i}"}
                    mutations.append(
                        device.mutation("contacts", person, "update", change, versions[person])
                    )
                elif i % 10 == 9:
                    new = str(uuid.uuid4())
                    fields = {**person_fields("nord"), "id": new}
                    mutations.append(device.mutation("contacts", new, "insert", fields))
                else:
                    fields = visit_fields(person, device.agent_id)
                    mutations.append(device.mutation("visits", str(uuid.uuid4()), "insert", fields))
            request = PushRequest.model_validate(
                {"device_id": device.device_id, "client_time_ms": now_ms(), "mutations": mutations}
            )
            counted[0] = 0
            event.listen(engine, "before_cursor_execute", count)
            try:
                reply = push(engine, principal, request, load_reference(), ordering_from_env())
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert {r.status for r in reply.results} == {"applied"}, reply.results
            for m, r in zip(mutations, reply.results, strict=True):
                if m["table_name"] == "contacts" and m["op"] == "update":
                    versions[m["row_id"]] = int(r.server_version or 0)
            statements[size] = counted[0]
    finally:
        engine.dispose()
    assert statements[50] <= statements[5] + 2, statements
    assert statements[50] <= 16, statements
