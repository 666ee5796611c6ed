"""What the server's author asked of the client (agent id binding, register status, device id,
audit entries, full downloads, clocks, reception agents), the migrations, and the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from havre_common.hlc import Timestamp
from havre_desktop.core import catalogue, contacts, register, search, store, visits
from havre_desktop.core.errors import PermissionDeniedError
from havre_desktop.core.keys import KeyringKeyStore, new_database_key
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync import local
from havre_desktop.sync.apply import PageApplier
from havre_desktop.sync.engine import SyncEngine
from havre_desktop.sync.errors import (
    BadCredentialsError,
    DeviceRevokedError,
    NotSignedInError,
    ProfileBoundError,
    ServerUnreachableError,
    SyncError,
)
from havre_desktop.sync.transport import Transport
from tests.helpers import person_values
from tests.server.support import PASSWORD, World, free_port
from tests.sync.conftest import MakeLaptop
from tests.sync.scenario_helpers import log_visit, new_person, revoke_device, visit_values
from tests.sync.support import Laptop, differences


def _outbox_text(laptop: Laptop) -> str:
    return " ".join(str(e["changed_fields"]) for e in laptop.outbox())


def test_first_sign_in_switches_to_the_server_agent_id(laptops: MakeLaptop, world: World) -> None:
    laptop = laptops(sign_in=False)
    local_id = laptop.agent_id
    person_id = new_person(laptop)  # work done offline before the first sign-in
    visits.log_visit(laptop.ws, person_id, visit_values(laptop, follow_up_on=None))
    visits.plan_contact(laptop.ws, person_id, {"due_on": "2030-01-10", "kind": "visite"})
    contacts.record_consent(
        laptop.ws,
        person_id,
        {"purpose": "fiche", "recorded_on": "01/10/2026", "method": "oral", "given": True},
    )
    contacts.open_fiche(laptop.ws, person_id)
    assert local_id in _outbox_text(laptop)
    login = world.create_agent("travailleur-social", ["nord"])
    laptop.sign_in(world, login)
    server_id = laptop.agent_id
    assert server_id != local_id
    assert laptop.ws.store.get_setting("owner_agent_id") == server_id
    owner = laptop.row("agents", server_id)
    assert owner is not None and owner["server_account"] == login
    assert not laptop.has("agents", local_id)
    for table, column in (
        ("visits", "agent_id"),
        ("planned_contacts", "agent_id"),
        ("consents", "recorded_by_agent_id"),
        ("audit_log", "agent_id"),
    ):
        assert laptop.count(table, f"{column} = ?", (local_id,)) == 0, table
        assert laptop.count(table, f"{column} = ?", (server_id,)) == 1, table
    assert local_id not in _outbox_text(laptop) and server_id in _outbox_text(laptop)
    report = laptop.sync()
    assert report.rejected == 0 and report.pushed == 4 and report.audit_sent == 1
    (audit,) = world.server.sql(
        "SELECT agent_id, device_id FROM audit_log WHERE entity_id = :p", p=person_id
    )
    assert tuple(audit) == (server_id, laptop.ws.device_id)
    assert differences(laptop, world) == []


def test_the_device_signs_in_with_the_id_in_its_clock_stamps(
    laptops: MakeLaptop, world: World
) -> None:
    laptop = laptops()
    new_person(laptop)
    stamp = laptop.outbox()[0]["hlc"]
    assert Timestamp.parse(stamp).node == laptop.ws.device_id
    devices = world.server.sql(
        "SELECT d.label FROM devices d JOIN accounts a ON a.id = d.account_id "
        "WHERE d.device_id = :d AND a.login = :l",
        d=laptop.ws.device_id,
        l=laptop.login,
    )
    assert [tuple(r) for r in devices] == [("poste de test",)]
    assert laptop.sync().rejected == 0  # the server accepts stamps of this device only


def test_another_account_is_refused_on_a_profile_with_data(
    laptops: MakeLaptop, world: World
) -> None:
    laptop = laptops()
    new_person(laptop)
    laptop.sync()
    token = laptop.engine.tokens.load()
    other = world.create_agent("travailleur-social", ["nord"])
    with pytest.raises(ProfileBoundError) as refused:
        laptop.engine.sign_in(world.server.base_url, other, "mot-de-passe-de-test")
    assert laptop.login and laptop.login in refused.value.message
    assert laptop.engine.tokens.load() == token  # still signed in as before
    assert laptop.ws.sync_meta("account_login") == laptop.login
    (session,) = world.server.sql(
        "SELECT t.revoked_at_ms FROM tokens t JOIN accounts a ON a.id = t.account_id "
        "WHERE a.login = :l",
        l=other,
    )
    assert session[0] is not None  # the session opened for the check was closed
    assert laptop.sync().rejected == 0


def test_an_empty_profile_may_change_account(laptops: MakeLaptop, world: World) -> None:
    laptop = laptops(sign_in=True)  # bound, but nothing synced nor typed yet
    other = world.create_agent("coordinateur", ["sud"])
    laptop.sign_in(world, other)
    assert laptop.ws.sync_meta("account_login") == other
    assert laptop.row("agents", laptop.agent_id)["role"] == "coordinateur"  # type: ignore[index]
    laptop.sync()
    assert differences(laptop, world) == []


def test_audit_entries_go_up_and_never_count_as_waiting(laptops: MakeLaptop, world: World) -> None:
    laptop = laptops()
    person_id = new_person(laptop)
    laptop.sync()
    for _ in range(3):
        contacts.open_fiche(laptop.ws, person_id)
    assert laptop.count("audit_log") == 3
    assert laptop.ws.pending_changes() == 0 and laptop.engine.status().pending == 0
    laptop.plan.add("push", "drop_reply")  # acknowledged only at the second attempt
    with pytest.raises(Exception, match="injoignable"):
        laptop.sync()
    assert laptop.count("audit_log") == 3
    report = laptop.sync()
    assert report.audit_sent == 3 and laptop.count("audit_log") == 0
    (count,) = world.server.sql(
        "SELECT count(*) FROM audit_log WHERE entity_id = :p AND event = 'fiche-ouverte'",
        p=person_id,
    )
    assert count[0] == 3


def test_full_download_removes_rows_not_sent_and_keeps_pending_ones(
    laptops: MakeLaptop, world: World
) -> None:
    laptop = laptops()
    synced = new_person(laptop)
    laptop.sync()
    stray = contacts.create_person(laptop.ws, person_values(family_name="Inconnue"))["id"]
    laptop.ws.store.conn.execute("DELETE FROM outbox WHERE row_id = ?", (stray,))  # never sent
    waiting = new_person(laptop, family_name="Enattente")
    contacts.update(laptop.ws, synced, {"city": "Montivilliers"})
    # A full download while edits wait (as when the push could not go): pages by hand.
    local.restart_full_download(laptop.ws.store)
    token = laptop.engine.tokens.load()
    assert token and laptop.cursor() == "0"
    applier = PageApplier(laptop.ws)
    with Transport(world.server.base_url, client_version="0.1.0") as transport:
        cursor = "0"
        while True:
            page = transport.pull(token, cursor, 50)
            applier.apply(page, cursor)
            cursor = page.next_cursor
            if not page.has_more:
                break
    assert not laptop.has("contacts", stray)  # not sent by the server: removed
    assert laptop.has("contacts", waiting)  # waiting in the outbox: kept
    assert laptop.row("contacts", synced)["city"] == "Montivilliers"  # type: ignore[index]
    assert laptop.count("sync_snapshot_seen") == 0
    laptop.sync()
    assert differences(laptop, world) == []


def test_pulled_stamps_move_the_clock(laptops: MakeLaptop, world: World) -> None:
    a, b = laptops(), laptops()
    person_id = new_person(a)
    a.sync()
    b.clock.offset = timedelta(minutes=-2)  # B's clock is two minutes late (tolerated)
    b.sync()
    a_stamp = json.loads(b.row("contacts", person_id)["field_hlc"])["phone_1"]  # type: ignore[index]
    assert Timestamp.parse(b.ws.hlc.last) > Timestamp.parse(a_stamp)
    assert b.ws.sync_meta("last_hlc") == b.ws.hlc.last
    contacts.update(b.ws, person_id, {"phone_1": "06 44 44 44 44"})
    assert Timestamp.parse(b.outbox()[0]["hlc"]) > Timestamp.parse(a_stamp)
    b.sync()
    a.sync()
    assert a.row("contacts", person_id)["phone_1"] == "06 44 44 44 44"  # type: ignore[index]


def test_reception_agents_with_the_register_right_get_its_status_only(
    laptops: MakeLaptop, world: World
) -> None:
    worker = laptops(territories=("centre-est",), register_right=True)
    desk = laptops("accueil", ("centre-est",), register_right=True)
    plain_desk = laptops("accueil", ("centre-est",))
    person_id = new_person(worker)
    contacts.record_consent(
        worker.ws,
        person_id,
        {"purpose": "fiche", "recorded_on": "01/10/2026", "method": "écrit", "given": True},
    )
    enrolment = register.enrol(
        worker.ws,
        person_id,
        {"requested_on": "02/10/2026", "requested_by": "personne", "consent_given": True},
    )
    visit_id = log_visit(worker, person_id)
    worker.sync()
    desk.sync()
    plain_desk.sync()
    # Identity, contact details and register status only.
    person = desk.row("contacts", person_id)
    assert person is not None and person["mobility"] is None and person["lives_alone"] is None
    status = desk.row("register_enrolments", enrolment["id"])
    assert status is not None and status["basis"] is None and status["requested_by"] is None
    assert status["status"] == "inscrite"
    assert not desk.has("visits", visit_id)
    assert desk.ws.store.scalar("SELECT count(*) FROM consents") == 0
    # Without the register right, a desk gets the person and nothing of the register.
    assert plain_desk.has("contacts", person_id)
    assert plain_desk.ws.store.scalar("SELECT count(*) FROM register_enrolments") == 0
    assert plain_desk.ws.store.scalar("SELECT count(*) FROM register_events") == 0
    # The desk records a "fiche" consent: not its role, refused and shown.
    values = {"recorded_on": "03/10/2026", "method": "oral", "given": True}
    fiche = contacts.record_consent(desk.ws, person_id, {"purpose": "fiche", **values})
    report = desk.sync()
    assert report.rejected == 1
    (rejected,) = desk.engine.status().rejected
    assert rejected.row_id == fiche["id"] and "registre" in rejected.reason
    assert not world.server.sql("SELECT id FROM consents WHERE id = :i", i=fiche["id"])
    assert not desk.has("consents", fiche["id"])
    for laptop in (worker, desk, plain_desk):
        laptop.sync()
        assert differences(laptop, world) == []


def test_a_role_change_leaves_only_what_the_new_role_may_hold(
    laptops: MakeLaptop, world: World
) -> None:
    worker = laptops(territories=("centre-ouest",), register_right=True)
    person_id = new_person(worker, access_notes="Digicode 1234, chien méfiant")
    contacts.record_consent(
        worker.ws,
        person_id,
        {"purpose": "fiche", "recorded_on": "01/10/2026", "method": "écrit", "given": True},
    )
    enrolment = register.enrol(
        worker.ws,
        person_id,
        {
            "requested_on": "02/10/2026",
            "requested_by": "tiers",
            "requester_name": "Paul Lefèvre",
            "requester_relation": "fils",
            "written_request": True,
        },
    )
    visit_id = log_visit(worker, person_id)
    worker.sync()
    assert world.patch_agent(worker.agent_id, role="accueil").status_code == 200
    report = worker.sync()
    assert report.resets == 1 and report.full_download
    person = worker.row("contacts", person_id)
    assert person is not None
    assert person["access_notes"] is None and person["mobility"] is None
    assert person["lives_alone"] is None and person["emergency_contacts"] == "[]"
    status = worker.row("register_enrolments", enrolment["id"])
    assert status is not None and status["basis"] is None and status["requester_name"] is None
    assert not worker.has("visits", visit_id)
    assert worker.ws.store.scalar("SELECT count(*) FROM consents") == 0
    assert differences(worker, world) == []


def test_token_is_in_the_keyring_and_in_no_file(laptops: MakeLaptop, world: World) -> None:
    laptop = laptops()
    laptop.sync()
    username = f"token:{laptop.manager.profile_id}"
    token = laptop.keyring.secrets[("havre-desktop", username)]
    assert len(token) >= 20
    for path in laptop.root.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
    laptop.engine.sign_out()
    assert ("havre-desktop", username) not in laptop.keyring.secrets
    assert laptop.has("agents", laptop.agent_id) and not laptop.engine.status().signed_in
    with pytest.raises(NotSignedInError):
        laptop.sync()


def test_status_for_the_ui(laptops: MakeLaptop, world: World) -> None:
    laptop = laptops()
    status = laptop.engine.status()
    assert status.signed_in and status.last_success_at is None and status.history == []
    assert status.account_login == laptop.login
    person_id = new_person(laptop)
    log_visit(laptop, person_id)
    assert laptop.engine.status().pending == 2
    report = laptop.sync()
    status = laptop.engine.status()
    assert status.pending == 0 and status.last_success_at
    (entry,) = status.history
    assert entry.outcome == "ok" and entry.pushed == 2 and entry.message == report.summary()
    assert "2 modifications envoyées" in entry.message


# -- migrations --------------------------------------------------------------------------------


@contextmanager
def _only_first_migration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    first = store.migration_files()[:1]
    with monkeypatch.context() as patch:
        patch.setattr(store, "migration_files", lambda: first)
        patch.setattr(store, "latest_schema_version", lambda: 1)
        yield


def test_register_migration_keeps_data_indexes_and_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_database_key()
    path = tmp_path / "havre.db"
    with _only_first_migration(monkeypatch):
        old = Store.create(path, key)
        assert old.schema_version() == 1
        with old.transaction() as conn:
            conn.execute(
                "INSERT INTO contacts (id, kind, family_name, given_names, territory_id, "
                "search_phones, created_at, updated_at) VALUES ('p1', 'person', 'Lefèvre', "
                "'Jeanne', 'nord', '02 35 00 00 00', 'x', 'x')"
            )
            conn.execute(
                "INSERT INTO register_enrolments (id, person_id, enrolled_on, basis, "
                "requested_by, consent_given, consent_date, server_version, updated_at) VALUES "
                "('r1', 'p1', '2026-10-02', '65-plus', 'personne', 1, '2026-10-02', 4, 'x')"
            )
        old.close()
    migrated = Store.open(path, key)
    assert migrated.schema_version() == store.latest_schema_version() >= 3
    row: dict[str, Any] | None = migrated.query_one("SELECT * FROM register_enrolments")
    assert row is not None and row["basis"] == "65-plus" and row["server_version"] == 4
    # 0009: an enrolment made before the workflow was requested and acknowledged that day.
    assert (row["status"], row["requested_on"], row["ack_printed_on"]) == (
        "inscrite",
        "2026-10-02",
        "2026-10-02",
    )
    columns = {r["name"]: r for r in migrated.query("PRAGMA table_info(register_enrolments)")}
    assert columns["basis"]["notnull"] == 0 and columns["requested_by"]["notnull"] == 0
    assert columns["person_id"]["notnull"] == 1 and columns["requested_on"]["notnull"] == 1
    assert columns["consent_date"]["notnull"] == 0  # a third party's request: non-objection
    indexes = {r["name"] for r in migrated.query("PRAGMA index_list(register_enrolments)")}
    assert "register_person" in indexes
    with migrated.transaction() as conn:
        conn.execute(
            "INSERT INTO register_enrolments (id, person_id, requested_on, enrolled_on, "
            "consent_given, consent_date, updated_at) VALUES "
            "('r2', 'p1', '2026-10-03', '2026-10-03', 1, '2026-10-03', 'x')"
        )
        with pytest.raises(Exception, match="CHECK"):
            conn.execute(
                "INSERT INTO register_enrolments (id, person_id, requested_on, requested_by, "
                "consent_given, consent_date, updated_at) VALUES "
                "('r3', 'p1', '2026-10-03', 'voisin', 1, '2026-10-03', 'x')"
            )
    assert migrated.integrity_problems() == []
    ws = Workspace(migrated)
    assert [p["id"] for p in search.search_persons(ws, "lefe")] == ["p1"]
    assert {"sync_rejections", "sync_history", "sync_snapshot_seen"} <= {
        r["name"] for r in migrated.query("SELECT name FROM sqlite_master WHERE type='table'")
    }
    migrated.close()


def test_screens_and_sync_on_two_connections_share_the_identity(
    laptops: MakeLaptop, world: World
) -> None:
    """The UI edits on its connection while the sync runs on another one (same file)."""
    # Centre Est: the colleague's clock runs ahead, and other tests compare stamps in Nord.
    laptop = laptops(territories=("centre-est",), sign_in=False)
    screens = laptop.ws
    key = KeyringKeyStore(laptop.keyring, laptop.manager.profile_id).load()
    assert key is not None
    sync_store = Store.open(laptop.root / "havre.db", key)
    try:
        sync_ws = Workspace(sync_store, clock=laptop.clock)
        engine = SyncEngine(sync_ws, profile_id=laptop.manager.profile_id, keyring=laptop.keyring)
        local_id = screens.agent_id
        login = world.create_agent("travailleur-social", ["centre-est"])
        engine.sign_in(world.server.base_url, login, PASSWORD)
        laptop.login = login
        assert screens.agent_id == sync_ws.agent_id != local_id  # the screens follow the binding
        person_id = new_person(laptop)
        log_visit(laptop, person_id)
        assert engine.sync().pushed == 2
        # A colleague whose clock is ahead edits; once pulled, a later edit here is later.
        colleague = laptops(territories=("centre-est",))
        colleague.clock.offset = timedelta(minutes=2)
        colleague.sync()
        contacts.update(colleague.ws, person_id, {"phone_1": "06 44 44 44 44"})
        colleague.sync()
        engine.sync()
        stamps = json.loads(laptop.row("contacts", person_id)["field_hlc"])  # type: ignore[index]
        contacts.update(screens, person_id, {"city": "Harfleur"})
        mine = laptop.outbox()[-1]["hlc"]
        assert Timestamp.parse(mine) > Timestamp.parse(stamps["phone_1"])
        # A wipe done by the sync connection gives the screens the new device id too.
        old_device = screens.device_id
        revoke_device(world, old_device)
        with pytest.raises(DeviceRevokedError):
            engine.sync()
        new_person(laptop)
        assert Timestamp.parse(laptop.outbox()[-1]["hlc"]).node == sync_ws.device_id
        assert screens.device_id == sync_ws.device_id != old_device
        engine.sign_in(world.server.base_url, login, PASSWORD)
        report = engine.sync()
        assert report.pushed == 1 and report.rejected == 0
        assert differences(laptop, world) == []
    finally:
        sync_store.close()


def test_sign_in_errors_are_clear_and_change_nothing(laptops: MakeLaptop, world: World) -> None:
    laptop = laptops(sign_in=False)
    login = world.create_agent("travailleur-social", ["nord"])
    with pytest.raises(BadCredentialsError) as wrong:
        laptop.engine.sign_in(world.server.base_url, login, "pas le bon mot de passe")
    assert wrong.value.message == "Identifiant ou mot de passe incorrect."
    with pytest.raises(SyncError, match="https://"):
        laptop.engine.sign_in("http://sync.lehavre.fr", login, PASSWORD)
    with pytest.raises(ServerUnreachableError, match="injoignable"):
        laptop.engine.sign_in(f"http://127.0.0.1:{free_port()}", login, PASSWORD)
    assert laptop.ws.sync_meta("bound_agent_id") is None
    assert not laptop.engine.status().signed_in


def test_catalogue_is_server_authoritative(laptops: MakeLaptop, world: World) -> None:
    coordinator = laptops("coordinateur", ("nord",))
    worker = laptops()
    coordinator.sync()  # the catalogue arrives with the first sync
    # an action of her territory alone (a city-wide one is the administrators')
    action = coordinator.ws.store.query_one(
        "SELECT id, title FROM actions WHERE json_array_length(territory_ids) > 0 "
        "AND NOT EXISTS (SELECT 1 FROM json_each(territory_ids) WHERE value <> 'nord') LIMIT 1"
    )
    assert action is not None
    catalogue.update_action(coordinator.ws, action["id"], {"title": "Café des seniors (jeudi)"})
    assert coordinator.sync().pushed == 1
    worker.sync()
    assert worker.row("actions", action["id"])["title"] == "Café des seniors (jeudi)"  # type: ignore[index]
    found = search.search_actions(worker.ws, "jeudi")
    assert action["id"] in [a["id"] for a in found]  # the search index follows
    with pytest.raises(PermissionDeniedError):
        catalogue.update_action(worker.ws, action["id"], {"title": "Autre titre"})
    for laptop in (coordinator, worker):
        assert differences(laptop, world) == []
