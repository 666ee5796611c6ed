"""What a device has seen is what it pulled (sync.md, Policies).

An acknowledgement of a device's own push says the push was applied; it never advances the
version the device's later edits claim to have seen. These tests cut pulls with the
fault-injecting transport so that a device is acknowledged past changes it never received.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from havre_desktop.core import contacts
from havre_desktop.core.keys import KeyringKeyStore
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.errors import ServerUnreachableError
from tests.server.support import World
from tests.sync.conftest import MakeLaptop
from tests.sync.scenario_helpers import applied_statuses, new_person
from tests.sync.support import Laptop, differences

PHONE_A = "06 11 22 33 44"
PHONE_B = "06 55 66 77 88"
PHONE_C = "06 99 88 77 66"


def _push_with_pull_cut(laptop: Laptop) -> None:
    """Sync whose push is acknowledged but whose pull is cut before its first page."""
    laptop.plan.add("pull", "cut_reply")
    with pytest.raises(ServerUnreachableError):
        laptop.sync()
    assert laptop.outbox() == []  # the push went through and was acknowledged


def _server_conflicts(world: World, person_id: str, field: str) -> list[tuple[object, ...]]:
    rows = world.server.sql(
        "SELECT local_value, remote_value, local_agent_id, remote_agent_id FROM conflicts "
        "WHERE row_id = :r AND field = :f",
        r=person_id,
        f=field,
    )
    return [tuple(r) for r in rows]


def test_an_acknowledgement_never_hides_an_edit_the_device_did_not_pull(
    laptops: MakeLaptop, world: World
) -> None:
    a, b = laptops(), laptops()
    person_id = new_person(a)
    a.sync()
    b.sync()
    contacts.update(a.ws, person_id, {"phone_1": PHONE_A})
    a.sync()
    b.sync()
    contacts.update(b.ws, person_id, {"phone_1": PHONE_B})
    b.sync()
    # A edits another field: its push is acknowledged (at a version after B's phone), but its
    # pull is cut, so B's phone never reaches A.
    contacts.update(a.ws, person_id, {"city": "Harfleur"})
    _push_with_pull_cut(a)
    assert a.row("contacts", person_id)["phone_1"] == PHONE_A  # type: ignore[index]
    # A types the phone again, never having seen B's number.
    contacts.update(a.ws, person_id, {"phone_1": PHONE_C})
    sent = [str(e["mutation_id"]) for e in a.outbox()]
    _push_with_pull_cut(a)
    # Two concurrent edits of one field: the server keeps both values in a conflict.
    assert applied_statuses(world, sent) == {sent[0]: "conflict"}
    (conflict,) = _server_conflicts(world, person_id, "phone_1")
    assert {json.loads(str(conflict[0])), json.loads(str(conflict[1]))} == {PHONE_B, PHONE_C}
    assert {conflict[2], conflict[3]} == {a.agent_id, b.agent_id}
    # Everyone converges, and both agents see the conflict to resolve.
    a.sync()
    b.sync()
    for laptop in (a, b):
        assert differences(laptop, world) == []
        (shown,) = laptop.engine.status().conflicts
        assert {shown.local_value, shown.remote_value} == {PHONE_B, PHONE_C}


def test_a_device_editing_its_own_unpulled_edit_again_is_not_a_conflict(
    laptops: MakeLaptop, world: World
) -> None:
    """The server knows which device changed each field last: a device that has not pulled its
    own acknowledged edit is not in conflict with itself, even with another field changed."""
    a, b = laptops(), laptops()
    person_id = new_person(a)
    a.sync()
    b.sync()
    contacts.update(a.ws, person_id, {"phone_1": PHONE_A})
    _push_with_pull_cut(a)
    contacts.update(b.ws, person_id, {"city": "Harfleur"})
    b.sync()
    contacts.update(a.ws, person_id, {"phone_1": PHONE_B})  # on top of its own, unpulled
    contacts.update(a.ws, person_id, {"phone_1": PHONE_C, "phone_2": PHONE_A})  # queued twice
    sent = [str(e["mutation_id"]) for e in a.outbox()]
    _push_with_pull_cut(a)
    assert applied_statuses(world, sent) == dict.fromkeys(sent, "applied")
    assert world.server.sql("SELECT count(*) FROM conflicts WHERE row_id = :r", r=person_id) == [
        (0,)
    ]
    a.sync()
    b.sync()
    for laptop in (a, b):
        row = laptop.row("contacts", person_id)
        assert row is not None
        assert (row["phone_1"], row["phone_2"], row["city"]) == (PHONE_C, PHONE_A, "Harfleur")
        assert laptop.engine.status().conflicts == []
        assert differences(laptop, world) == []


def test_a_pull_cut_midway_neither_undoes_an_acknowledged_edit_nor_counts_as_seen(
    laptops: MakeLaptop, world: World
) -> None:
    """A pull replays the log in order: the states of a row older than this device's own
    acknowledged edit are skipped (the newer one contains them), and what was skipped was not
    seen: an edit of B's field made then is a conflict."""
    a, b = laptops(territories=("sud",)), laptops(territories=("sud",))
    person_id = new_person(a)
    a.sync()
    b.sync()
    contacts.update(b.ws, person_id, {"city": "Harfleur"})
    b.sync()
    contacts.update(a.ws, person_id, {"phone_1": PHONE_A})
    # The pull after A's push is cut: B's city never arrives (the server sends the row's latest
    # state only, so the older entry of B's city is not a page of its own any more).
    a.engine.pull_limit = 1
    a.plan.add("pull", "cut_reply", skip=0)
    with pytest.raises(ServerUnreachableError):
        a.sync()
    row = a.row("contacts", person_id)
    assert row is not None and (row["phone_1"], row["city"]) == (PHONE_A, "Le Havre")
    contacts.update(a.ws, person_id, {"city": "Montivilliers"})
    sent = [str(e["mutation_id"]) for e in a.outbox()]
    a.engine.pull_limit = 500
    a.sync()
    assert applied_statuses(world, sent) == {sent[0]: "conflict"}
    b.sync()
    for laptop in (a, b):
        (shown,) = laptop.engine.status().conflicts
        assert {shown.local_value, shown.remote_value} == {"Harfleur", "Montivilliers"}
        assert differences(laptop, world) == []


@contextmanager
def _screens(laptop: Laptop) -> Iterator[Workspace]:
    """The UI's own connection to the laptop's database (the sync runs on the other one)."""
    key = KeyringKeyStore(laptop.keyring, laptop.manager.profile_id).load()
    assert key is not None
    store = Store.open(laptop.root / "havre.db", key)
    try:
        yield Workspace(store, clock=laptop.clock)
    finally:
        store.close()


def test_a_field_kept_by_a_pull_was_not_seen_by_it(laptops: MakeLaptop, world: World) -> None:
    """A pull keeps the local value of a field with an edit waiting, while the row moves to the
    server's version: the next edit of that field keeps the base of the waiting one. Here the
    waiting edit is then refused, and the next one still meets B's number as a conflict."""
    a, b = laptops(), laptops()
    person_id = new_person(a)
    a.sync()
    b.sync()
    contacts.update(b.ws, person_id, {"phone_1": PHONE_B})
    b.sync()
    with _screens(a) as screens:

        def type_while_receiving(status: int, body: bytes) -> tuple[int, bytes]:
            # A value the server refuses, waiting in the outbox as a version of the app
            # before the contract's checks saved it (the desktop now refuses to save it).
            with screens.store.transaction() as conn:
                base = conn.execute(
                    "SELECT server_version FROM contacts WHERE id = ?", (person_id,)
                ).fetchone()[0]
                conn.execute("UPDATE contacts SET phone_1 = '12 34' WHERE id = ?", (person_id,))
                conn.execute(
                    "INSERT INTO outbox (mutation_id, table_name, row_id, op, changed_fields, "
                    "base_version, hlc, created_at) "
                    "VALUES (?, 'contacts', ?, 'update', ?, ?, ?, ?)",
                    (
                        str(uuid.uuid4()),
                        person_id,
                        json.dumps({"phone_1": "12 34"}),
                        base,
                        screens.hlc.now(),
                        screens.clock.now_iso(),
                    ),
                )
            return status, body

        a.plan.add("pull", "rewrite", rewrite=type_while_receiving)
        a.sync()
        assert a.row("contacts", person_id)["phone_1"] == "12 34"  # type: ignore[index]
        contacts.update(screens, person_id, {"phone_1": PHONE_C})
    refused, retyped = (str(e["mutation_id"]) for e in a.outbox())
    report = a.sync()
    assert applied_statuses(world, [refused, retyped]) == {
        refused: "rejected",
        retyped: "conflict",
    }
    assert report.rejected == 1 and report.conflicts == 1
    (conflict,) = _server_conflicts(world, person_id, "phone_1")
    assert {json.loads(str(conflict[0])), json.loads(str(conflict[1]))} == {PHONE_B, PHONE_C}
    b.sync()
    for laptop in (a, b):
        assert differences(laptop, world) == []
