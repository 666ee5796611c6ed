"""Subject access (RGPD art. 15): ``havre-server subject-access`` writes everything the server
holds about one person — every table that depends on a person, taken from the contract, and the
audit of who accessed her file — as JSON and a readable PDF. A table the export cannot read
makes it fail, naming the table. Real server process and databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Column, String, Table, insert

from havre_common import contract
from havre_common.protocol import API_PREFIX
from havre_server import schema, subject_access
from havre_server.schema import contract_table
from tests.server.history import edit, fake_name
from tests.server.support import World, audit_mutation, iso, new_person, new_visit


def _push_applied(device: Any, table: str, fields: dict[str, Any]) -> str:
    row_id = str(uuid.uuid4())
    result = device.push(device.mutation(table, row_id, "insert", {"id": row_id, **fields}))[0]
    assert result["status"] == "applied", result
    return row_id


def _her_whole_file(world: World) -> tuple[str, str, dict[str, str]]:
    """A person with a row in every person-dependent table, and one audit entry; another
    person beside her. Returns her id, her name, and the id of one row per table."""
    worker = world.agent("travailleur-social", ["nord"], register_right=True)
    colleague = world.agent("travailleur-social", ["nord"])
    name = fake_name()
    person_id = new_person(worker, "nord", family_name=name)
    new_person(worker, "nord", family_name="Autre-Personne")
    rows = {"contacts": person_id}
    rows["consents"] = _push_applied(
        worker,
        "consents",
        {
            "contact_id": person_id,
            "purpose": "fiche",
            "given": True,
            "recorded_on": "2026-06-01",
            "method": "oral, à domicile",
            "updated_at": iso(),
        },
    )
    rows["register_enrolments"] = _push_applied(
        worker,
        "register_enrolments",
        {
            "person_id": person_id,
            "requested_on": "2026-06-01",
            "enrolled_on": "2026-06-01",
            "basis": "handicap",
            "requested_by": "personne",
            "consent_given": True,
            "consent_date": "2026-06-01",
            "updated_at": iso(),
        },
    )
    rows["register_events"] = _push_applied(
        worker,
        "register_events",
        {
            "enrolment_id": rows["register_enrolments"],
            "person_id": person_id,
            "event": "inscription",
            "occurred_on": "2026-06-01",
            "created_at": iso(),
        },
    )
    rows["visits"] = new_visit(worker, person_id, notes="Note fictive de visite.")
    rows["planned_contacts"] = _push_applied(
        worker,
        "planned_contacts",
        {
            "person_id": person_id,
            "agent_id": worker.agent_id,
            "due_on": "2026-12-01",
            "kind": "appel",
            "updated_at": iso(),
        },
    )
    rows["handouts_given"] = _push_applied(
        worker,
        "handouts_given",
        {
            "person_id": person_id,
            "agent_id": worker.agent_id,
            "given_at": iso(),
            "variant": "large",
        },
    )
    edit(worker, "contacts", person_id, 1, phone_1="06 39 98 00 01")
    clash = colleague.push(
        colleague.mutation("contacts", person_id, "update", {"phone_1": "06 39 98 00 02"}, 1)
    )[0]
    assert clash["status"] == "conflict", clash
    rows["conflicts"] = clash["conflict_ids"][0]
    opened = audit_mutation(worker, person_id)
    assert worker.push(opened)[0]["status"] == "applied"
    rows["audit_log"] = opened["row_id"]
    return person_id, name, rows


def test_the_export_holds_every_person_dependent_table_and_who_accessed_her_file(
    world: World, tmp_path: Path
) -> None:
    person_id, name, rows = _her_whole_file(world)
    out = world.server.cli("subject-access", person_id, "--out", str(tmp_path))
    assert "Écrit" in out and "acces-" in out
    data = json.loads((tmp_path / f"acces-{person_id}.json").read_text("utf-8"))
    assert data["format"] == subject_access.FORMAT and data["personne_id"] == person_id
    sections = {s["table"]: s for s in data["sections"]}
    # Every table of the contract that is about a person, and the server's bookkeeping.
    about_persons = {t.name for t in contract.TABLES.values() if t.person_column or t.personal}
    assert about_persons | {"audit_log", "change_log", "territory_history"} == set(sections)
    for table, row_id in rows.items():
        assert row_id in {str(r.get("id")) for r in sections[table]["lignes"]}, table
    (fiche,) = sections["contacts"]["lignes"]
    assert fiche["family_name"] == name and "field_meta" not in fiche
    assert sections["visits"]["lignes"][0]["notes"] == "Note fictive de visite."
    assert sections["change_log"]["lignes"] and sections["territory_history"]["lignes"]
    (access,) = sections["audit_log"]["lignes"]
    assert access["event"] == "fiche-ouverte" and access["agent_name"]
    # Nobody else's data.
    assert "Autre-Personne" not in json.dumps(data, ensure_ascii=False)

    # The readable PDF, with the contract's French labels.
    pages = PdfReader(tmp_path / f"acces-{person_id}.pdf").pages
    text = " ".join(" ".join(p.extract_text() for p in pages).split())
    assert "RGPD, article 15" in text and name in text
    assert "Visites (1)" in text and "Note fictive de visite." in text
    assert "Date de naissance" in text and "Autre-Personne" not in text
    assert "Type de fiche : Personne" in text and "Personne vivant seule : oui" in text

    # The export is itself an access to her file: audited, in the chain, in the next export.
    again = tmp_path / "encore"
    world.server.cli("subject-access", person_id, "--out", str(again))
    later = json.loads((again / f"acces-{person_id}.json").read_text("utf-8"))
    events = [
        r["event"] for s in later["sections"] if s["table"] == "audit_log" for r in s["lignes"]
    ]
    assert events == ["fiche-ouverte", "acces-personne"]
    assert "intègre" in world.server.cli("audit-verify")


def test_an_unknown_or_erased_person_is_refused_in_french(world: World, tmp_path: Path) -> None:
    out = world.server.cli("subject-access", str(uuid.uuid4()), "--out", str(tmp_path), check=False)
    assert "Personne introuvable" in out
    assert not list(tmp_path.iterdir())


@pytest.fixture
def extra_table() -> Iterator[list[Table]]:
    """Server tables a test adds to the models; removed from the metadata afterwards."""
    added: list[Table] = []
    yield added
    for table in added:
        schema.metadata.remove(table)


def _with_table(monkeypatch: pytest.MonkeyPatch, spec: contract.Table) -> None:
    monkeypatch.setattr(contract, "TABLES", MappingProxyType({**contract.TABLES, spec.name: spec}))


def test_a_table_added_to_the_contract_fails_the_export_until_it_is_included(
    world: World, monkeypatch: pytest.MonkeyPatch, extra_table: list[Table]
) -> None:
    engine = world.server.engine
    worker = world.agent("travailleur-social", ["nord"])
    person_id = new_person(worker, "nord")
    assert subject_access.collect(engine, person_id)["sections"]

    # A new table of calls about a person, declared in the contract but not on the server.
    calls = contract.Table(
        "test_call_log",
        "Appels (table de test)",
        (
            contract.Field("id", contract.Kind.UUID, "Identifiant", True, max_length=36),
            contract.Field("person_id", contract.Kind.UUID, "Personne", True, max_length=36),
            contract.Field("summary", contract.Kind.TEXT, "Résumé", max_length=200),
        ),
        contract.Sync.BOTH,
        contract.Policy.APPEND,
        person_column="person_id",
    )
    _with_table(monkeypatch, calls)
    with pytest.raises(subject_access.SubjectAccessError, match=r"Appels \(table de test\)"):
        subject_access.collect(engine, person_id)
    # Included: the server's table built from the contract; her call is exported.
    table = contract_table(calls)
    extra_table.append(table)
    table.create(engine)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(table).values(id=str(uuid.uuid4()), person_id=person_id, summary="Rappel")
            )
        sections = {s["table"]: s for s in subject_access.collect(engine, person_id)["sections"]}
        assert [r["summary"] for r in sections["test_call_log"]["lignes"]] == ["Rappel"]
    finally:
        table.drop(engine)
        schema.metadata.remove(table)
        extra_table.remove(table)
    monkeypatch.undo()  # the contract as it is

    # A table about persons that names them some other way: refused until a finder reads it.
    notes = contract.Table(
        "test_shared_notes",
        "Notes partagées (table de test)",
        (contract.Field("id", contract.Kind.UUID, "Identifiant", True, max_length=36),),
        contract.Sync.SERVER,
        contract.Policy.SERVER,
        personal=True,
    )
    _with_table(monkeypatch, notes)
    with pytest.raises(subject_access.SubjectAccessError, match="ne sait pas la lire"):
        subject_access.collect(engine, person_id)
    monkeypatch.setitem(subject_access.FINDERS, notes.name, lambda _c, _t, _p: [])
    extra_table.append(Table(notes.name, schema.metadata, Column("id", String(36))))
    assert "test_shared_notes" in {
        s["table"] for s in subject_access.collect(engine, person_id)["sections"]
    }


def test_server_bookkeeping_naming_a_person_must_be_read(
    world: World, extra_table: list[Table]
) -> None:
    worker = world.agent("travailleur-social", ["nord"])
    person_id = new_person(worker, "nord")
    extra_table.append(
        Table("test_reminders", schema.metadata, Column("person_id", String(36), primary_key=True))
    )
    with pytest.raises(subject_access.SubjectAccessError, match="test_reminders"):
        subject_access.collect(world.server.engine, person_id)


def test_a_coordinator_of_her_territory_gets_the_export_online_and_it_is_audited(
    world: World,
) -> None:
    person_id, name, _rows = _her_whole_file(world)
    own = world.agent("coordinateur", ["nord"])
    other = world.agent("coordinateur", ["sud"])
    worker = world.agent("travailleur-social", ["nord"])

    def ask(device: Any) -> Any:
        return world.client.get(
            f"{API_PREFIX}/admin/persons/{person_id}/access", headers=device.headers()
        )

    reply = ask(own)
    assert reply.status_code == 200, reply.text
    sections = {s["table"]: s for s in reply.json()["sections"]}
    assert sections["contacts"]["lignes"][0]["family_name"] == name
    assert ask(other).status_code == 404 and "périmètre" in ask(other).json()["message"]
    assert ask(worker).status_code == 403
    (entry,) = world.server.sql(
        "SELECT agent_id, device_id FROM audit_log WHERE event = 'acces-personne' "
        "AND entity_id = :p",
        p=person_id,
    )
    assert tuple(entry) == (own.agent_id, own.device_id)
