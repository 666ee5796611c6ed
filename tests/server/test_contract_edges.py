"""Edges of the contract on a real server, SQLite and PostgreSQL: control characters and NUL in
any text field, refusals that never echo unbounded input, one bad mutation in a batch, and the
catalogue import checked by the same contract (issue 11)."""

from __future__ import annotations

import uuid

from havre_common import contract
from havre_common.contract import Kind
from havre_common.protocol import API_PREFIX
from tests.server.support import World, new_person, person_fields

TEXT_KINDS = (Kind.TEXT, Kind.EMAIL, Kind.PHONE, Kind.POSTCODE)


def test_a_nul_in_a_name_is_refused_and_the_rest_of_the_batch_applied(world: World) -> None:
    worker = world.agent("travailleur-social", ["nord"])
    bad_id, good_id = str(uuid.uuid4()), str(uuid.uuid4())
    bad = worker.mutation(
        "contacts", bad_id, "insert", person_fields(id=bad_id, family_name="Lef\x00èvre")
    )
    good = worker.mutation("contacts", good_id, "insert", person_fields(id=good_id))
    first, second = worker.push(bad, good)
    assert first["status"] == "rejected"
    assert first["reason"] == "Nom : caractère de contrôle interdit."
    assert second["status"] == "applied"
    assert world.server.sql("SELECT count(*) FROM contacts WHERE id = :i", i=bad_id) == [(0,)]


def test_control_characters_in_every_text_field_are_refused_never_a_500(world: World) -> None:
    worker = world.agent("travailleur-social", ["nord"])
    person_id = new_person(worker)
    fields = [
        f
        for f in contract.CONTACTS.fields
        if f.kind in TEXT_KINDS and f.updatable and f.name != "updated_at"
    ]
    hostile = ("\x00", "a\x00b", "\x1b[2J", "\x85", "\x7f")
    mutations = [
        worker.mutation("contacts", person_id, "update", {f.name: value}, 1)
        for f in fields
        for value in hostile
    ]
    results = worker.push(*mutations)  # one batch: 200, each refused on its own
    assert {r["status"] for r in results} == {"rejected"}
    for result, (f, _value) in zip(results, [(f, v) for f in fields for v in hostile], strict=True):
        assert result["reason"] == f"{f.label} : caractère de contrôle interdit."
    (row,) = world.server.sql(
        "SELECT family_name, server_version FROM contacts WHERE id = :i", i=person_id
    )
    assert row == ("Lefèvre", 1)


def test_a_refusal_never_echoes_unbounded_input(world: World) -> None:
    worker = world.agent("travailleur-social", ["nord"])
    person_id = new_person(worker)
    huge = "x" * 30_000
    results = worker.push(
        worker.mutation("contacts", person_id, "update", {"mobility": huge}, 1),
        worker.mutation("contacts", person_id, "update", {"birth_date": huge[:40]}, 1),
        worker.mutation("contacts", person_id, "update", {"family_name": huge}, 1),
    )
    assert [r["status"] for r in results] == ["rejected"] * 3
    for result in results:
        assert len(result["reason"]) < 200, result["reason"]
    assert results[0]["reason"].startswith("Mobilité : valeur inconnue « xxxx")
    assert results[2]["reason"] == ("Nom : texte trop long (30\u202f000 caractères, au plus 200).")


def test_the_catalogue_import_is_checked_by_the_contract_all_or_nothing(world: World) -> None:
    before = world.server.sql("SELECT count(*) FROM actions")[0][0]
    good = {
        "id": str(uuid.uuid4()),
        "code": "IMP-1",
        "title": "Atelier fictif",
        "priority_id": "P06",
        "status": "en-cours",
    }
    bad = {**good, "id": str(uuid.uuid4()), "code": "IMP-2", "title": "Atelier\x00fictif"}
    response = world.client.post(
        f"{API_PREFIX}/admin/catalogue",
        json={"actions": [good, bad]},
        headers=world.admin.headers(),
    )
    assert response.status_code == 422, response.text
    assert "actions n° 2 : Intitulé : caractère de contrôle interdit." in response.json()["message"]
    assert world.server.sql("SELECT count(*) FROM actions")[0][0] == before
