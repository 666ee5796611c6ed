"""Sync-ready rows: UUID keys, versions, tombstones, per-field clocks, outbox in one transaction."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from havre_common.hlc import ClockDriftError, HybridLogicalClock, Timestamp
from havre_desktop.core import audit, catalogue, contacts, visits
from havre_desktop.core.clock import FixedClock
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import PendingChanges, Workspace
from tests.helpers import TEST_NOW, MemoryKeyring, new_workspace, person_values

SYNCED_TABLES = (
    "agents",
    "facilities",
    "actions",
    "action_evaluations",
    "contacts",
    "consents",
    "register_enrolments",
    "register_events",
    "visits",
    "planned_contacts",
    "reception_encounters",
    "handouts_given",
)


def test_every_synced_table_has_uuid_key_version_and_tombstone(workspace: Workspace) -> None:
    for table in SYNCED_TABLES:
        columns = {r["name"]: r for r in workspace.store.query(f"PRAGMA table_info({table})")}
        assert {"id", "server_version", "deleted"} <= set(columns), table
    for table in ("contacts", "planned_contacts"):
        columns = {r["name"] for r in workspace.store.query(f"PRAGMA table_info({table})")}
        assert "field_hlc" in columns


def test_person_creation_and_edit_write_outbox_entries(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    uuid.UUID(person["id"])
    assert person["server_version"] == 0 and person["deleted"] == 0
    workspace.clock.advance(minutes=3)  # type: ignore[attr-defined]
    contacts.update(
        workspace, person["id"], {"phone_1": "06 39 98 00 42", "family_name": "Lefèvre"}
    )
    entries = workspace.outbox_entries([person["id"]])
    assert [e["op"] for e in entries] == ["insert", "update"]
    insert, update = entries
    assert insert["changed_fields"]["family_name"] == "Lefèvre"
    assert update["changed_fields"] == {"phone_1": "06 39 98 00 42"}  # unchanged name not sent
    assert update["base_version"] == 0
    assert Timestamp.parse(update["hlc"]) > Timestamp.parse(insert["hlc"])
    field_hlc = contacts.get(workspace, person["id"])["field_hlc"]
    assert field_hlc["phone_1"] == update["hlc"]
    assert field_hlc["family_name"] == insert["hlc"]
    assert len({e["mutation_id"] for e in entries}) == 2


def test_base_version_is_the_version_pulled_or_that_of_an_edit_still_waiting(
    workspace: Workspace,
) -> None:
    """What a device has seen is what it pulled; a pull keeps a field with an edit waiting,
    so that field was seen only up to the base of the waiting edit."""
    person_id = contacts.create_person(workspace, person_values())["id"]
    store = workspace.store

    def pulled(version: int) -> None:  # what applying a pull page does to the row's version
        with store.transaction() as conn:
            conn.execute(
                "UPDATE contacts SET server_version = ? WHERE id = ?", (version, person_id)
            )

    pulled(3)
    with store.transaction() as conn:
        conn.execute("DELETE FROM outbox")  # the creation was sent and acknowledged
    contacts.update(workspace, person_id, {"phone_1": "06 39 98 00 01"})
    pulled(5)  # the phone, waiting, kept its local value
    contacts.update(workspace, person_id, {"city": "Harfleur"})
    contacts.update(workspace, person_id, {"phone_1": "06 39 98 00 02"})
    contacts.update(workspace, person_id, {"phone_1": "06 39 98 00 03", "city": "Montivilliers"})
    entries = workspace.outbox_entries([person_id])
    assert [e["base_version"] for e in entries] == [3, 5, 3, 3]


def test_edit_with_no_change_records_nothing(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    before = workspace.pending_changes()
    contacts.update(
        workspace, person["id"], {"phone_1": "0261911234"}
    )  # same number, typed differently
    assert workspace.pending_changes() == before


def test_archive_is_an_edit_and_hides_from_search(workspace: Workspace) -> None:
    from havre_desktop.core import search

    person = contacts.create_person(workspace, person_values())
    contacts.archive(workspace, person["id"])
    assert workspace.outbox_entries([person["id"]])[-1]["changed_fields"] == {"archived": True}
    assert search.search_persons(workspace, "lefe") == []
    assert len(search.search_persons(workspace, "lefe", include_archived=True)) == 1


def test_delete_is_a_tombstone_with_a_delete_mutation(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    with workspace.store.transaction():
        workspace.update_row("contacts", person["id"], {"deleted": True})
    assert workspace.outbox_entries([person["id"]])[-1]["op"] == "delete"
    row = workspace.get_row("contacts", person["id"], include_deleted=True)
    assert row["deleted"] == 1


def test_visit_with_follow_up_writes_visit_plan_and_outbox_together(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    planned = visits.plan_contact(
        workspace, person["id"], {"due_on": "2026-11-25", "kind": "visite"}
    )
    visit = visits.log_visit(
        workspace,
        person["id"],
        {
            "occurred_at": "2026-11-25T10:00",
            "kind": "visite-domicile",
            "outcome": "realisee",
            "duration_min": 45,
            "wellbeing": 2,
            "need_ids": ["isolement", "mobilite"],
            "follow_up_on": "2026-12-10",
            "notes": "Note fictive",
        },
    )
    done = workspace.get_row("planned_contacts", planned["id"])
    assert done["done_by_visit_id"] == visit["id"]
    follow_up = visits.due_contacts(workspace, TEST_NOW.date() + timedelta(days=15))
    assert [(p["due_on"], p["kind"]) for p in follow_up] == [("2026-12-10", "suivi-visite")]
    tables = [(e["table_name"], e["op"]) for e in workspace.outbox_entries()]
    assert tables[-3:] == [
        ("visits", "insert"),
        ("planned_contacts", "update"),
        ("planned_contacts", "insert"),
    ]


def test_visit_correction_is_a_new_revision(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    visit = visits.log_visit(
        workspace,
        person["id"],
        {"occurred_at": "2026-11-25T10:00", "kind": "appel", "outcome": "realisee"},
    )
    corrected = visits.correct_visit(workspace, visit["id"], {"duration_min": 20})
    assert corrected["revision"] == 2 and corrected["duration_min"] == 20
    assert workspace.outbox_entries([visit["id"]])[-1]["changed_fields"] == {
        "duration_min": 20,
        "revision": 2,
    }


def test_demo_seeding_pulled_data_and_audit_are_not_changes_waiting(tmp_path: Path) -> None:
    ws, _m, _r = new_workspace(tmp_path / "p", MemoryKeyring())
    seed_demo(ws, DemoSize(persons=50, organisations=2, visits=100))
    assert ws.pending_changes() == 0
    catalogue.import_catalogue(ws, {"facilities": [], "actions": []}, sample=False)
    person_id = ws.store.scalar("SELECT id FROM contacts LIMIT 1")
    contacts.open_fiche(ws, person_id)
    audit.record(ws, "export", "contacts", person_id)
    assert ws.pending_changes() == 0
    assert ws.store.scalar("SELECT count(*) FROM audit_log") == 2
    ws.store.close()


def test_hlc_survives_restart_and_never_goes_back(tmp_path: Path) -> None:
    ws, manager, _r = new_workspace(tmp_path / "p", MemoryKeyring())
    person = contacts.create_person(ws, person_values())
    last = ws.outbox_entries()[-1]["hlc"]
    ws.store.close()
    store: Store = manager.unlock()
    # The computer's clock went back one hour: stamps must still move forward.
    later = Workspace(store, clock=FixedClock(TEST_NOW - timedelta(hours=1)))
    assert later.device_id == ws.device_id
    contacts.update(later, person["id"], {"given_names": "Jeanne-Marie"})
    assert Timestamp.parse(later.outbox_entries()[-1]["hlc"]) > Timestamp.parse(last)
    store.close()


def test_hlc_orders_and_refuses_far_future_stamps() -> None:
    wall = [1_000_000]
    clock = HybridLogicalClock("a", wall=lambda: wall[0])
    first, second = clock.now(), clock.now()
    assert first < second and Timestamp.parse(second).counter == 1
    clock.receive(str(Timestamp(1_000_500, 3, "b")))
    assert clock.now() > "0000001000500-0003-b"
    with pytest.raises(ClockDriftError, match="5 minutes"):
        clock.receive(str(Timestamp(1_000_000 + 6 * 60_000, 0, "b")))


def test_emergency_contacts_are_one_json_field(workspace: Workspace) -> None:
    person = contacts.create_person(
        workspace,
        person_values(
            emergency_contacts=[{"name": "Sylvie L.", "relation": "fille", "phone": "0639980077"}]
        ),
    )
    assert person["emergency_contacts"] == [
        {"name": "Sylvie L.", "relation": "fille", "phone": "06 39 98 00 77"}
    ]
    sent = workspace.outbox_entries([person["id"]])[0]["changed_fields"]
    assert json.dumps(sent["emergency_contacts"], ensure_ascii=False).count("06 39 98 00 77") == 1


def test_latest_visit_is_kept_on_the_person_and_feeds_not_seen_since(
    workspace: Workspace,
) -> None:
    """Migration 0005's triggers keep `last_visit_at` right through every way a visit
    changes: logged, corrected to another date, moved to another person, deleted."""
    old = contacts.create_person(workspace, person_values(family_name="Ancienne"))
    recent = contacts.create_person(workspace, person_values(family_name="Récente"))
    never = contacts.create_person(workspace, person_values(family_name="Jamais"))
    other = contacts.create_person(workspace, person_values(family_name="Ailleurs"))
    edit = workspace.store.conn.execute
    edit("UPDATE contacts SET territory_id = 'sud' WHERE id = ?", (other["id"],))

    def last(person: dict[str, object]) -> str:
        return str(workspace.get_row("contacts", str(person["id"]))["last_visit_at"])

    def not_seen() -> list[str]:
        rows = visits.not_seen_since(workspace, 60, ["nord"], limit=10)
        return [r["family_name"] for r in rows]

    def log(person: dict[str, object], when: str) -> dict[str, object]:
        values = {"occurred_at": when, "kind": "appel", "outcome": "realisee"}
        return visits.log_visit(workspace, str(person["id"]), values)

    first = log(old, "2026-07-01T10:00")
    log(old, "2026-06-01T10:00")  # older than the latest: changes nothing
    log(recent, "2026-11-20T10:00")
    assert last(old).startswith("2026-07-01") and last(never) == ""
    assert not_seen() == ["Jamais", "Ancienne"]  # never visited first, then the oldest visit
    assert visits.not_seen_since(workspace, 60, ["nord"])[0]["last_visit"] is None

    visits.correct_visit(workspace, str(first["id"]), {"occurred_at": "2026-11-01T09:00"})
    assert last(old).startswith("2026-11-01")
    assert not_seen() == ["Jamais"]

    edit("UPDATE visits SET deleted = 1 WHERE id = ?", (first["id"],))
    assert last(old).startswith("2026-06-01")
    edit("UPDATE visits SET person_id = ? WHERE person_id = ?", (never["id"], old["id"]))
    assert last(old) == "" and last(never).startswith("2026-06-01")
    edit("DELETE FROM visits WHERE person_id = ?", (never["id"],))
    assert last(never) == ""
    assert sorted(not_seen()) == ["Ancienne", "Jamais"]
    assert visits.not_seen_since(workspace, 60, []) == []


def test_changes_waiting_longer_than_the_delay_are_counted_by_the_workspace_clock(
    tmp_path: Path,
) -> None:
    clock = FixedClock(TEST_NOW - timedelta(days=5))
    ws, _m, _r = new_workspace(tmp_path / "p", MemoryKeyring(), clock=clock)
    assert ws.pending_status(3) == PendingChanges(0, 0, None)
    contacts.create_person(ws, person_values(family_name="Ancienne"))  # 5 days before "now"
    clock.at = TEST_NOW - timedelta(days=2)
    contacts.create_person(ws, person_values(family_name="Récente"))  # 2 days before "now"
    clock.at = TEST_NOW
    status = ws.pending_status(3)
    assert (status.waiting, status.overdue) == (2, 1)
    assert status.oldest_at == "2026-11-20T09:30:00.000Z"
    assert ws.pending_status(1).overdue == 2
    assert ws.pending_status(5).overdue == 0  # exactly 5 days: not more than 5
    ws.store.close()
