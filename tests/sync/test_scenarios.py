"""The scenarios listed at the end of sync.md, and journeys 3, 4 and 5 (journeys.md), end to end:
real encrypted profiles on disk, a real server process on loopback."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from havre_common.hlc import Timestamp
from havre_common.protocol import CLIENT_VERSION_HEADER
from havre_desktop.core import contacts
from havre_desktop.sync.errors import (
    AccountDisabledError,
    ClientTooOldError,
    ClockSkewError,
    DeviceRevokedError,
    TokenExpiredError,
)
from havre_desktop.sync.transport import Transport
from tests.server.support import World
from tests.sync.conftest import MakeLaptop
from tests.sync.scenario_helpers import (
    delete_row,
    log_visit,
    new_person,
    revoke_device,
    server_rows,
)
from tests.sync.support import differences

PHONE_A = "06 11 22 33 44"
PHONE_B = "06 55 66 77 88"


def test_two_agents_edit_one_field_journey_3(laptops: MakeLaptop, world: World) -> None:
    a, b = laptops(), laptops()
    person_id = new_person(a)
    a.sync()
    b.sync()
    # Offline: A changes the phone; B, later, changes the address and the phone too.
    contacts.update(a.ws, person_id, {"phone_1": PHONE_A})
    b.clock.offset = timedelta(seconds=2)
    contacts.update(b.ws, person_id, {"address_line": "3 rue Nouvelle", "phone_1": PHONE_B})
    assert a.sync().conflicts == 0
    report = b.sync()
    assert report.conflicts == 1 and report.rejected == 0
    a.sync()
    for laptop in (a, b):
        row = laptop.row("contacts", person_id)
        assert row is not None
        assert row["address_line"] == "3 rue Nouvelle"  # B's address, applied everywhere
        assert row["phone_1"] == PHONE_B  # the later stamp wins…
        (conflict,) = laptop.engine.status().conflicts  # …and both see the conflict
        assert conflict.field == "phone_1" and conflict.row_label == "LEFÈVRE Jeanne"
        assert {conflict.local_value, conflict.remote_value} == {PHONE_A, PHONE_B}
        names = {conflict.local_agent_name, conflict.remote_agent_name}
        assert None not in names and len(names) == 2  # who typed each value
        assert conflict.local_at and conflict.remote_at  # and when
    # A picks the right one: an ordinary edit, and the conflict marked resolved.
    conflict = a.engine.status().conflicts[0]
    a.engine.resolve(conflict.id, PHONE_A)
    assert a.engine.status().conflicts == [] and a.ws.pending_changes() == 2
    a.sync()
    b.sync()
    for laptop in (a, b):
        assert laptop.row("contacts", person_id)["phone_1"] == PHONE_A  # type: ignore[index]
        assert laptop.engine.status().conflicts == []
        assert differences(laptop, world) == []
    # Nothing either of them typed was lost: the server kept both values.
    (kept,) = world.server.sql(
        "SELECT local_value, remote_value, resolved_at FROM conflicts WHERE id = :c", c=conflict.id
    )
    assert {json.loads(kept[0]), json.loads(kept[1])} == {PHONE_A, PHONE_B} and kept[2]


def test_delete_versus_edit(laptops: MakeLaptop, world: World) -> None:
    a, b = laptops(), laptops()
    person_id = new_person(a)
    a.sync()
    b.sync()
    delete_row(a, "contacts", person_id)
    contacts.update(b.ws, person_id, {"phone_1": PHONE_B})
    a.sync()
    assert not a.has("contacts", person_id)
    report = b.sync()
    assert report.rejected == 1
    assert not b.has("contacts", person_id)  # deleted everywhere…
    (rejected,) = b.engine.status().rejected  # …and B's edit is not silently dropped
    assert rejected.reason and rejected.changed_fields == {"phone_1": None}
    assert rejected.values_removed  # the fiche left the device: so did the number typed
    assert b.ws.pending_changes() == 0  # not "waiting" forever
    b.engine.dismiss_rejection(rejected.mutation_id)
    assert b.engine.status().rejected == []
    for laptop in (a, b):
        assert differences(laptop, world) == []


def test_access_revoked_while_offline(laptops: MakeLaptop, world: World) -> None:
    worker = laptops(territories=("est",))
    person_id = new_person(worker)
    synced_visit = log_visit(worker, person_id)
    worker.sync()
    offline_visit = log_visit(worker, person_id)
    contacts.update(worker.ws, person_id, {"phone_1": PHONE_A})
    response = world.patch_agent(worker.agent_id, territory_ids=["sud"])
    assert response.status_code == 200
    report = worker.sync()
    # The visit that happened is accepted; the other edit comes back rejected, with a reason.
    assert server_rows(world, "visits", offline_visit)
    assert report.rejected == 1
    (rejected,) = worker.engine.status().rejected
    assert rejected.table_name == "contacts" and rejected.reason
    # The device no longer holds what the agent may not see; it was not wiped.
    assert not worker.has("contacts", person_id)
    assert not worker.has("visits", synced_visit) and not worker.has("visits", offline_visit)
    assert worker.count("actions") > 0 and worker.engine.status().last_wipe_at is None
    owner = worker.row("agents", worker.agent_id)
    assert owner is not None and json.loads(owner["territory_ids"]) == ["sud"]
    assert differences(worker, world) == []


def test_disabled_account_and_expired_token_never_wipe(laptops: MakeLaptop, world: World) -> None:
    worker = laptops()
    person_id = new_person(worker)
    worker.sync()
    contacts.update(worker.ws, person_id, {"phone_1": PHONE_A})
    assert world.patch_agent(worker.agent_id, disabled=True).status_code == 200
    with pytest.raises(AccountDisabledError) as disabled:
        worker.sync()
    assert "désactivé" in disabled.value.message
    assert worker.ws.pending_changes() == 1 and worker.has("contacts", person_id)
    assert world.patch_agent(worker.agent_id, disabled=False).status_code == 200
    contacts.update(worker.ws, person_id, {"phone_2": PHONE_B})
    world.server.sql(
        "UPDATE tokens SET expires_at_ms = 1 WHERE device_pk IN "
        "(SELECT id FROM devices WHERE device_id = :d)",
        d=worker.ws.device_id,
    )
    with pytest.raises(TokenExpiredError) as expired:
        worker.sync()
    assert "expiré" in expired.value.message
    assert worker.ws.pending_changes() == 2 and worker.has("contacts", person_id)
    assert not worker.engine.status().signed_in  # the dead token left the keyring
    assert worker.login
    worker.sign_in(world, worker.login)
    assert worker.sync().pushed == 2
    assert worker.engine.status().last_wipe_at is None
    assert differences(worker, world) == []


def test_device_revoked_wipes_local_data(laptops: MakeLaptop, world: World) -> None:
    worker = laptops()
    person_id = new_person(worker)
    log_visit(worker, person_id)
    worker.sync()
    contacts.update(worker.ws, person_id, {"phone_1": PHONE_A})
    contacts.open_fiche(worker.ws, person_id)  # an audit entry
    log_visit(worker, person_id)
    files_before = sorted(p.name for p in worker.root.iterdir())
    old_device = worker.ws.device_id
    revoke_device(world, old_device)
    with pytest.raises(DeviceRevokedError) as revoked:
        worker.sync()
    assert revoked.value.discarded == 2
    assert "2 modifications non envoyées ont été perdues" in revoked.value.message
    for table in ("contacts", "visits", "outbox", "audit_log", "actions", "facilities"):
        assert worker.count(table) == 0, table
    assert worker.count("agents") == 1  # the profile's own agent: the profile still opens
    assert not worker.engine.status().signed_in
    assert worker.keyring.secrets.keys() == {("havre-desktop", worker.manager.profile_id)}
    # Nothing else on the machine touched: same files, still encrypted, still opening.
    assert sorted(p.name for p in worker.root.iterdir()) == files_before
    assert not (worker.root / "havre.db").read_bytes().startswith(b"SQLite format 3")
    worker.reopen()
    assert worker.count("contacts") == 0
    status = worker.engine.status()
    assert status.last_wipe_discarded == 2 and status.history[0].outcome == "wiped"
    # The unsent edits never reached the server.
    (phone,) = world.server.sql("SELECT phone_1 FROM contacts WHERE id = :i", i=person_id)
    assert phone[0] != PHONE_A
    # The revoked device id stays revoked; the wiped profile signs in as a new device.
    assert worker.ws.device_id != old_device
    assert worker.login
    worker.sign_in(world, worker.login)
    worker.sync()
    assert worker.has("contacts", person_id) and differences(worker, world) == []


def test_lost_laptop_journey_4(laptops: MakeLaptop, world: World) -> None:
    stolen = laptops()
    colleague = laptops()
    person_id = new_person(stolen)
    her_visits = {log_visit(stolen, person_id), log_visit(stolen, person_id)}
    stolen.sync()
    colleague.sync()
    colleague_visit = log_visit(colleague, person_id)
    colleague.sync()
    unsent = log_visit(stolen, person_id)
    # The coordinator revokes the stolen laptop; if it ever connects again, it wipes itself.
    revoke_device(world, stolen.ws.device_id)
    with pytest.raises(DeviceRevokedError) as revoked:
        stolen.sync()
    assert revoked.value.discarded == 1 and "révoqué" in revoked.value.message
    assert stolen.count("visits") == 0 and stolen.count("contacts") == 0
    # She signs in on a new laptop and gets back everything she may see.
    assert stolen.login
    new = laptops(login=stolen.login)
    new.sync()
    held = {r["id"] for r in new.ws.store.query("SELECT id FROM visits")}
    assert her_visits | {colleague_visit} <= held and unsent not in held
    assert new.has("contacts", person_id)
    assert differences(new, world) == []


def test_person_moves_territory_journey_5(laptops: MakeLaptop, world: World) -> None:
    sud = laptops(territories=("sud",))
    nord = laptops(territories=("nord",))
    coordinator = laptops("coordinateur", ("sud", "nord"))
    person_id = new_person(sud)
    synced_visit = log_visit(sud, person_id)
    for laptop in (sud, nord, coordinator):
        laptop.sync()
    assert sud.has("contacts", person_id) and not nord.has("contacts", person_id)
    offline_visit = log_visit(sud, person_id)  # logged offline, before the move
    contacts.update(coordinator.ws, person_id, {"territory_id": "nord"})
    coordinator.sync()
    sud.sync()
    assert server_rows(world, "visits", offline_visit)  # kept on the server
    assert not sud.has("contacts", person_id)
    assert sud.count("visits", "person_id = ?", (person_id,)) == 0
    nord.sync()
    assert nord.has("contacts", person_id)
    assert {synced_visit, offline_visit} <= {
        r["id"] for r in nord.ws.store.query("SELECT id FROM visits")
    }
    coordinator.sync()
    assert coordinator.has("visits", offline_visit)
    for laptop in (sud, nord, coordinator):
        assert differences(laptop, world) == []


def test_skewed_clock(laptops: MakeLaptop, world: World) -> None:
    a, b = laptops(), laptops()
    person_id = new_person(a)
    a.sync()
    b.sync()
    a.clock.offset = timedelta(minutes=30)
    contacts.update(a.ws, person_id, {"phone_1": PHONE_A})  # stamped 30 minutes ahead
    stamp = a.outbox()[0]["hlc"]
    with pytest.raises(ClockSkewError) as skewed:
        a.sync()
    assert "30 minutes" in skewed.value.message and "Corrigez la date" in skewed.value.message
    assert a.ws.pending_changes() == 1  # nothing left the outbox
    (phone,) = world.server.sql("SELECT phone_1 FROM contacts WHERE id = :i", i=person_id)
    assert phone[0] != PHONE_A
    # Clock fixed: the edit goes, stamped with the server's receive time (original kept).
    a.clock.offset = timedelta(0)
    a.sync()
    (logged,) = world.server.sql(
        "SELECT hlc, original_hlc FROM change_log WHERE table_name = 'contacts' AND row_id = :i "
        "AND original_hlc IS NOT NULL",
        i=person_id,
    )
    assert logged[1] == stamp and Timestamp.parse(logged[0]) < Timestamp.parse(stamp)
    stamps = json.loads(a.row("contacts", person_id)["field_hlc"])  # type: ignore[index]
    assert stamps["phone_1"] == logged[0]
    # So it cannot win every later merge: B, who edits later without having seen it, wins.
    contacts.update(b.ws, person_id, {"phone_1": PHONE_B})
    assert b.sync().conflicts == 1
    a.sync()
    assert a.row("contacts", person_id)["phone_1"] == PHONE_B  # type: ignore[index]
    for laptop in (a, b):
        assert differences(laptop, world) == []


def test_old_client_version(laptops: MakeLaptop, world: World, tmp_path: Path) -> None:
    worker = laptops()
    person_id = new_person(worker)
    worker.sync()
    contacts.update(worker.ws, person_id, {"phone_1": PHONE_A})
    worker.engine.client_version = "0.0.5"  # the server now needs a newer application
    with pytest.raises(ClientTooOldError) as too_old:
        worker.sync()
    assert "mettre à jour" in too_old.value.message
    assert worker.ws.pending_changes() == 1
    # The server refuses it too (426), whatever the client checks.
    token = worker.engine.tokens.load()
    assert token
    with (
        Transport(world.server.base_url, client_version="0.0.5") as transport,
        pytest.raises(ClientTooOldError),
    ):
        transport.pull(token, "0", 10)
    # Signing in with an old application is refused the same way.
    old = laptops(sign_in=False, client_version="0.0.5")
    with pytest.raises(ClientTooOldError):
        old.sign_in(world, world.create_agent("travailleur-social", ["nord"]))
    worker.engine.client_version = "0.1.0"
    assert worker.sync().pushed == 1
    assert CLIENT_VERSION_HEADER  # sent on every request (see transport)


def test_a_refused_new_visit_keeps_its_note_after_the_full_download(
    laptops: MakeLaptop, world: World
) -> None:
    """Issue 11: a visit the server refused was removed by the full download that follows a
    refusal, and the rejected edit then lost its values: the note typed was gone for good."""
    from havre_common.reference import load_reference

    reference = load_reference()
    admin = world.admin
    action_id = str(uuid.uuid4())
    action = {
        "code": "TEST-REFUS",
        "title": "Atelier fictif supprimé entre-temps",
        "priority_id": sorted(reference.labels("priorities"))[0],
        "status": sorted(reference.labels("action_statuses"))[0],
    }
    (created,) = admin.push(admin.mutation("actions", action_id, "insert", action, 0))
    assert created["status"] == "applied"
    worker = laptops()
    person_id = new_person(worker)
    worker.sync()
    note = "Mme X. souhaite participer à l'atelier. " * 100
    visit_id = log_visit(worker, person_id, proposed_action_ids=[action_id], notes=note.strip())
    (deleted,) = admin.push(admin.mutation("actions", action_id, "delete", {}, 1))
    assert deleted["status"] == "applied"
    report = worker.sync()
    assert report.rejected == 1
    assert not worker.has("visits", visit_id)  # the server never had it: the download removed it
    (rejected,) = worker.engine.status().rejected
    assert "action proposée" in rejected.reason
    assert not rejected.values_removed  # the person is still here: what was typed is kept
    assert rejected.changed_fields["notes"] == note.strip()
    assert worker.ws.pending_changes() == 0
    worker.sync()  # a later sync does not take it away either
    (still,) = worker.engine.status().rejected
    assert still.changed_fields["notes"] == note.strip()
    worker.engine.dismiss_rejection(still.mutation_id)  # the agent discards it
    assert worker.engine.status().rejected == []
