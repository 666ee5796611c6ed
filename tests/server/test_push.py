"""Push: applied, duplicate, conflict, rejected with a reason; clocks; one transaction."""

from __future__ import annotations

import json
import uuid

from havre_common.hlc import Timestamp
from havre_common.protocol import API_PREFIX
from tests.server.support import (
    Replica,
    World,
    new_person,
    now_ms,
    person_fields,
    visit_fields,
)


def test_insert_is_applied_and_a_retry_answers_duplicate(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    person_id = str(uuid.uuid4())
    mutation = device.mutation(
        "contacts", person_id, "insert", {**person_fields(), "id": person_id}
    )
    first = device.push(mutation)[0]
    assert first["status"] == "applied"
    assert first["server_version"] == 1
    again = device.push(mutation)[0]
    assert again["status"] == "duplicate"
    assert again["original_status"] == "applied"
    assert again["server_version"] == 1
    # Applied once: one row, one log entry for this mutation.
    count = world.server.sql(
        "SELECT count(*) FROM change_log WHERE mutation_id = :m", m=mutation["mutation_id"]
    )
    assert count[0][0] == 1
    assert (
        world.server.sql("SELECT server_version FROM contacts WHERE id = :i", i=person_id)[0][0]
        == 1
    )


def test_two_devices_editing_one_field_make_a_conflict_with_both_values(world: World) -> None:
    first = world.agent("travailleur-social", ["nord"])
    second = world.agent("travailleur-social", ["nord"])
    person_id = new_person(first)
    a = first.mutation("contacts", person_id, "update", {"phone_1": "02 61 91 00 01"}, 1)
    b = second.mutation(
        "contacts",
        person_id,
        "update",
        {"phone_1": "02 61 91 00 02"},
        1,
        hlc=second.hlc(now_ms() + 1000),
    )
    assert first.push(a)[0]["status"] == "applied"
    result = second.push(b)[0]
    assert result["status"] == "conflict"
    assert len(result["conflict_ids"]) == 1
    conflict_id = result["conflict_ids"][0]
    # The later stamp wins (second's HLC is later); both values are kept for a person to resolve.
    coordinator = world.agent("coordinateur", ["nord"])
    replica = Replica(coordinator).sync()
    assert replica.get("contacts", person_id)["phone_1"] == "02 61 91 00 02"
    conflict = replica.get("conflicts", conflict_id)
    assert {json.loads(conflict["local_value"]), json.loads(conflict["remote_value"])} == {
        "02 61 91 00 01",
        "02 61 91 00 02",
    }
    assert {conflict["local_agent_id"], conflict["remote_agent_id"]} == {
        first.agent_id,
        second.agent_id,
    }
    # Both agents whose edits collided see the conflict; a colleague who did not edit does not.
    assert Replica(first).sync().has("conflicts", conflict_id)
    assert Replica(second).sync().has("conflicts", conflict_id)
    bystander = world.agent("travailleur-social", ["nord"])
    assert not Replica(bystander).sync().has("conflicts", conflict_id)
    # Resolution is an ordinary edit; the conflict then leaves the lists.
    resolved = first.push(
        first.mutation(
            "conflicts",
            conflict_id,
            "update",
            {"resolved_at": "2026-11-25T10:00:00Z", "resolution": "remote"},
            1,
        )
    )[0]
    assert resolved["status"] == "applied"


def test_different_fields_merge_without_conflict(world: World) -> None:
    first = world.agent("travailleur-social", ["nord"])
    second = world.agent("travailleur-social", ["nord"])
    person_id = new_person(first)
    a = first.mutation("contacts", person_id, "update", {"phone_1": "02 61 91 00 03"}, 1)
    b = second.mutation("contacts", person_id, "update", {"city": "Harfleur"}, 1)
    assert first.push(a)[0]["status"] == "applied"
    assert second.push(b)[0]["status"] == "applied"
    row = Replica(first).sync().get("contacts", person_id)
    assert (row["phone_1"], row["city"]) == ("02 61 91 00 03", "Harfleur")


def test_an_older_stamp_loses_but_its_value_is_kept_in_the_conflict(world: World) -> None:
    first = world.agent("travailleur-social", ["nord"])
    second = world.agent("travailleur-social", ["nord"])
    person_id = new_person(first)
    early = second.hlc(now_ms() - 60_000)
    a = first.mutation("contacts", person_id, "update", {"mobility": "fauteuil"}, 1)
    b = second.mutation("contacts", person_id, "update", {"mobility": "alite"}, 1, hlc=early)
    first.push(a)
    result = second.push(b)[0]
    assert result["status"] == "conflict"
    replica = Replica(first).sync()
    assert replica.get("contacts", person_id)["mobility"] == "fauteuil"
    conflict = replica.get("conflicts", result["conflict_ids"][0])
    assert json.loads(conflict["local_value"]) == "alite"


def test_one_device_editing_twice_from_the_same_base_is_not_a_conflict(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    person_id = new_person(device)
    a = device.mutation("contacts", person_id, "update", {"city": "Montivilliers"}, 1)
    b = device.mutation("contacts", person_id, "update", {"city": "Harfleur"}, 1)
    results = device.push(a, b)
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert Replica(device).sync().get("contacts", person_id)["city"] == "Harfleur"


def test_a_rejected_mutation_has_a_french_reason_and_never_fails_the_others(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    good_id, bad_id, after_id = (str(uuid.uuid4()) for _ in range(3))
    results = device.push(
        device.mutation("contacts", good_id, "insert", {**person_fields(), "id": good_id}),
        device.mutation(
            "contacts", bad_id, "insert", {**person_fields(phone_1="12 34"), "id": bad_id}
        ),
        device.mutation("contacts", after_id, "insert", {**person_fields(), "id": after_id}),
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert "téléphone" in results[1]["reason"]
    assert world.server.sql("SELECT count(*) FROM contacts WHERE id = :i", i=bad_id)[0][0] == 0
    # A retry of the refused mutation gets the same answer, as a duplicate.
    retry = device.push(
        device.mutation("contacts", bad_id, "insert", {**person_fields(), "id": bad_id})
        | {"mutation_id": results[1]["mutation_id"]}
    )[0]
    assert retry["status"] == "duplicate"
    assert retry["original_status"] == "rejected"
    assert "téléphone" in retry["reason"]


def test_clock_skew_over_five_minutes_refuses_the_whole_push(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    person_id = str(uuid.uuid4())
    mutation = device.mutation(
        "contacts", person_id, "insert", {**person_fields(), "id": person_id}
    )
    response = device.push_raw([mutation], client_time_ms=now_ms() + 11 * 60_000)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "clock_skew"
    assert "5 minutes" in body["message"] and "horloge" in body["message"].lower()
    assert world.server.sql("SELECT count(*) FROM contacts WHERE id = :i", i=person_id)[0][0] == 0
    assert (
        world.server.sql(
            "SELECT count(*) FROM applied_mutations WHERE mutation_id = :m",
            m=mutation["mutation_id"],
        )[0][0]
        == 0
    )
    # Same mutation with a correct clock: applied (nothing was recorded the first time).
    assert device.push(mutation)[0]["status"] == "applied"


def test_a_stamp_from_the_future_is_replaced_by_the_receive_time(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    other = world.agent("travailleur-social", ["nord"])
    person_id = new_person(device)
    future = device.hlc(now_ms() + 3 * 3600_000)
    result = device.push(
        device.mutation("contacts", person_id, "update", {"city": "Sainte-Adresse"}, 1, hlc=future)
    )[0]
    assert result["status"] == "applied"
    adjusted = Timestamp.parse(result["hlc_adjusted_to"])
    assert adjusted.millis < Timestamp.parse(future).millis
    assert abs(adjusted.millis - now_ms()) < 60_000
    original = world.server.sql(
        "SELECT original_hlc FROM change_log WHERE row_id = :r AND original_hlc IS NOT NULL",
        r=person_id,
    )
    assert original[0][0] == future
    # A later honest edit on another device wins: the future stamp does not win every merge.
    later = other.mutation("contacts", person_id, "update", {"city": "Gonfreville"}, 2)
    assert other.push(later)[0]["status"] == "applied"
    assert Replica(other).sync().get("contacts", person_id)["city"] == "Gonfreville"


def test_visit_revision_by_its_author_only(world: World) -> None:
    author = world.agent("travailleur-social", ["nord"])
    colleague = world.agent("travailleur-social", ["nord"])
    person_id = new_person(author)
    visit_id = str(uuid.uuid4())
    author.push(
        author.mutation("visits", visit_id, "insert", visit_fields(person_id, author.agent_id))
    )
    correction = {"wellbeing": 4, "revision": 2}
    refused = colleague.push(colleague.mutation("visits", visit_id, "update", correction, 1))[0]
    assert refused["status"] == "rejected"
    assert "auteur" in refused["reason"]
    applied = author.push(author.mutation("visits", visit_id, "update", correction, 1))[0]
    assert applied["status"] == "applied"
    deleted = author.push(author.mutation("visits", visit_id, "delete", {"deleted": True}, 2))[0]
    assert deleted["status"] == "rejected"
    visit = Replica(colleague).sync().get("visits", visit_id)
    assert (visit["wellbeing"], visit["revision"]) == (4, 2)


def test_audit_entries_and_reception_counts_go_up_only(world: World) -> None:
    desk = world.agent("accueil", ["nord"])
    audit_id, count_id = str(uuid.uuid4()), str(uuid.uuid4())
    results = desk.push(
        desk.mutation(
            "audit_log",
            audit_id,
            "insert",
            {
                "id": audit_id,
                "at": "2026-11-25T09:00:00Z",
                "agent_id": desk.agent_id,
                "event": "impression",
                "entity": "handouts_given",
                "entity_id": str(uuid.uuid4()),
                "detail": '{"actions": 2}',
            },
        ),
        desk.mutation(
            "reception_encounters",
            count_id,
            "insert",
            {
                "id": count_id,
                "occurred_at": "2026-11-25T09:05:00Z",
                "territory_id": "nord",
                "need_id": "numerique",
                "age_group_id": "60-74",
                "agent_id": desk.agent_id,
                "facility_id": None,
            },
        ),
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    coordinator = Replica(world.agent("coordinateur", ["nord"])).sync()
    assert not coordinator.has("audit_log", audit_id)
    assert not coordinator.has("reception_encounters", count_id)
    update = desk.push(desk.mutation("audit_log", audit_id, "update", {"event": "export"}, 1))[0]
    assert update["status"] == "rejected"


def test_pushes_about_an_erased_person_are_refused_with_the_reason(world: World) -> None:
    """After an RGPD erasure, a laptop that was offline still holds her: its late visit and
    edit are refused saying why, and nothing about her comes back on the server."""
    worker = world.agent("travailleur-social", ["nord"])
    person_id = new_person(worker)
    unseen = str(uuid.uuid4())  # never existed: refused, but not as erased
    world.server.cli("erase-person", person_id)
    visit_id = str(uuid.uuid4())
    late_visit, late_edit, stranger = worker.push(
        worker.mutation("visits", visit_id, "insert", visit_fields(person_id, worker.agent_id)),
        worker.mutation("contacts", person_id, "update", {"phone_2": "06 39 98 10 20"}, 1),
        worker.mutation(
            "visits", str(uuid.uuid4()), "insert", visit_fields(unseen, worker.agent_id)
        ),
    )
    assert late_visit["status"] == "rejected"
    assert late_visit["reason"] == "Cette personne a été effacée (RGPD) : visite refusée."
    assert late_edit["status"] == "rejected"
    assert "effacée (RGPD)" in late_edit["reason"]
    assert stranger["status"] == "rejected" and "RGPD" not in stranger["reason"]
    # Her id cannot be given to a new fiche either, alone or beside another new fiche.
    again = {**person_fields(), "id": person_id}
    for batch in ([again], [again, {**person_fields(), "id": str(uuid.uuid4())}]):
        mutations = [worker.mutation("contacts", str(f["id"]), "insert", f) for f in batch]
        results = worker.push(*mutations)
        assert results[0]["status"] == "rejected"
        assert results[0]["reason"] == "Identifiant déjà utilisé : refusé."
        assert all(r["status"] == "applied" for r in results[1:])
    assert world.server.sql("SELECT count(*) FROM contacts WHERE id = :i", i=person_id)[0][0] == 0
    assert world.server.sql("SELECT count(*) FROM visits WHERE id = :i", i=visit_id)[0][0] == 0


def test_a_base_version_the_row_never_had_is_refused(world: World) -> None:
    """A device can only have seen versions that exist: a base above the row's version would
    hide from the merge every later change up to it. Refused, saying why; nothing applied."""
    device = world.agent("travailleur-social", ["nord"])
    person_id = new_person(device)  # version 1
    visit_id = str(uuid.uuid4())
    device.push(
        device.mutation("visits", visit_id, "insert", visit_fields(person_id, device.agent_id))
    )
    edit, deletion, correction = device.push(
        device.mutation("contacts", person_id, "update", {"city": "Harfleur"}, 2),
        device.mutation("contacts", person_id, "delete", {"deleted": True}, 7),
        device.mutation("visits", visit_id, "update", {"wellbeing": 4, "revision": 2}, 2),
    )
    assert edit == {
        "mutation_id": edit["mutation_id"],
        "status": "rejected",
        "original_status": None,
        "reason": "Version de la fiche inconnue du serveur (version 2 annoncée, le serveur en "
        "est à la version 1) : modification refusée.",
        "server_version": None,
        "conflict_ids": [],
        "hlc_adjusted_to": None,
    }
    assert deletion["status"] == "rejected" and "version 7 annoncée" in deletion["reason"]
    assert correction["status"] == "rejected" and "version 2 annoncée" in correction["reason"]
    (person,) = world.server.sql(
        "SELECT city, deleted, server_version FROM contacts WHERE id = :i", i=person_id
    )
    assert tuple(person) == ("Le Havre", 0, 1)
    (visit,) = world.server.sql("SELECT wellbeing, revision FROM visits WHERE id = :i", i=visit_id)
    assert tuple(visit) == (3, 1)
    for result in (edit, deletion, correction):
        logged = world.server.sql(
            "SELECT count(*) FROM change_log WHERE mutation_id = :m", m=result["mutation_id"]
        )
        assert logged[0][0] == 0
    # With the version the row has, the same edits are applied.
    applied = device.push(
        device.mutation("contacts", person_id, "update", {"city": "Harfleur"}, 1),
        device.mutation("visits", visit_id, "update", {"wellbeing": 4, "revision": 2}, 1),
    )
    assert [r["status"] for r in applied] == ["applied", "applied"]


def test_an_empty_stamp_the_server_fills_is_filled(world: World) -> None:
    """``updated_at`` of the catalogue and of evaluations is filled by the server when absent;
    sent as null it was stored as NULL in a NOT NULL column: a 500 for a catalogue import, a
    push refused as "Identifiant déjà utilisé" (found by schemathesis)."""
    coordinator = world.agent("coordinateur", ["nord"])
    facility_id = str(uuid.uuid4())
    facility = {"id": facility_id, "kind_id": "creche", "name": "Crèche", "updated_at": None}
    result = coordinator.push(coordinator.mutation("facilities", facility_id, "insert", facility))
    assert result[0]["status"] == "applied", result
    action_id = str(world.server.sql("SELECT id FROM actions ORDER BY id")[0][0])
    evaluation_id = str(uuid.uuid4())
    evaluation = {
        "id": evaluation_id,
        "action_id": action_id,
        "evaluated_on": "2026-06-01",
        "verdict": "poursuivre",
        "updated_at": None,
    }
    inserted = coordinator.push(
        coordinator.mutation("action_evaluations", evaluation_id, "insert", evaluation)
    )
    assert inserted[0]["status"] == "applied", inserted
    changed = coordinator.push(
        coordinator.mutation(
            "action_evaluations", evaluation_id, "update", {"participants": 3, "updated_at": None}
        )
    )
    assert changed[0]["status"] == "applied", changed
    imported = world.client.post(
        f"{API_PREFIX}/admin/catalogue",
        json={"facilities": [{"kind_id": "ecole", "name": "École", "updated_at": None}]},
        headers=world.admin.headers(),
    )
    assert imported.status_code == 200, imported.text
    for table in ("facilities", "action_evaluations"):
        assert world.server.sql(f"SELECT count(*) FROM {table} WHERE updated_at IS NULL")[0][0] == 0


def test_within_one_batch_a_visit_sees_what_the_batch_did_to_its_person(world: World) -> None:
    """The territories of a batch's persons are read once for the batch: a person the batch
    creates takes visits at once; one it deletes, or moves out of the agent's territories,
    takes none; a refused edit of a person changes nothing for the visits after it."""
    device = world.agent("travailleur-social", ["nord"])
    agent = device.agent_id
    created, deleted, kept = (str(uuid.uuid4()) for _ in range(3))
    before = new_person(device, "nord")  # already on the server: read by the batch's query

    def person(pid: str) -> dict[str, object]:
        return device.mutation("contacts", pid, "insert", {**person_fields(), "id": pid})

    def visit(pid: str) -> dict[str, object]:
        return device.mutation("visits", str(uuid.uuid4()), "insert", visit_fields(pid, agent))

    results = device.push(
        person(created),
        visit(created),  # created earlier in this batch: applied
        person(deleted),
        device.mutation("contacts", deleted, "delete", {}, base_version=1),
        visit(deleted),  # deleted earlier in this batch: refused
        device.mutation("contacts", kept, "update", {"city": "Nulle part"}, base_version=1),
        person(kept),  # the update before it was refused (no such row yet): created now
        visit(kept),
        device.mutation("contacts", before, "update", {"territory_id": "sud"}, base_version=1),
        visit(before),  # moved to sud, which the agent does not have: refused
    )
    statuses = [r["status"] for r in results]
    assert statuses == [
        "applied",
        "applied",
        "applied",
        "applied",
        "rejected",
        "rejected",
        "applied",
        "applied",
        "applied",
        "rejected",
    ], results
    assert (
        results[4]["reason"] == "Fiche inconnue ou hors de votre périmètre : modification refusée."
    )
    assert results[9]["reason"] == (
        "Vous n'aviez pas accès à cette personne quand la visite a été saisie : refusé."
    )
    visits_kept = world.server.sql(
        "SELECT person_id FROM visits WHERE person_id IN (:a, :b, :c, :d)",
        a=created,
        b=deleted,
        c=kept,
        d=before,
    )
    assert sorted(r[0] for r in visits_kept) == sorted([created, kept])
