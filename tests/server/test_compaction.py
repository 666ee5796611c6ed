"""Log compaction (sync.md, Policies): an entry goes once every active device has passed it,
superseded entries go at once; a device from behind the floor downloads everything again.

Each test has its own server: compaction concerns the whole log."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.server.history import (
    deleted_person,
    edit,
    fake_phone,
    person_with_history,
    received,
)
from tests.server.support import Device, ServerProcess, World, now_ms, wait_until

MakeServer = Callable[..., ServerProcess]
DAY_MS = 24 * 3600 * 1000


def _state(server: ServerProcess, key: str) -> int:
    return int(server.sql("SELECT value FROM sync_state WHERE key = :k", k=key)[0][0])


def _seqs(server: ServerProcess, row_id: str) -> list[int]:
    rows = server.sql("SELECT seq FROM change_log WHERE row_id = :r ORDER BY seq", r=row_id)
    return [int(r[0]) for r in rows]


def _head(server: ServerProcess) -> int:
    return int(server.sql("SELECT max(seq) FROM change_log")[0][0])


def _not_seen_for(server: ServerProcess, device: Device, days: int) -> None:
    """The laptop has not synced for ``days`` days (its last contacts moved back in time)."""
    then = now_ms() - days * DAY_MS
    server.sql(
        "UPDATE devices SET last_seen_at_ms = :t WHERE device_id = :d", t=then, d=device.device_id
    )
    server.sql(
        "UPDATE device_pull_state SET seen_at_ms = :t WHERE device_pk IN"
        " (SELECT id FROM devices WHERE device_id = :d)",
        t=then,
        d=device.device_id,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_compaction_keeps_what_active_devices_need_and_resets_the_others(
    backend: str, server_factory: MakeServer
) -> None:
    server = server_factory(backend)
    world = World(server)
    try:
        writer = world.agent("travailleur-social", ["nord"])
        behind = world.agent("travailleur-social", ["nord"])
        behind_changes, behind_cursor = behind.pull_all()
        person_id, phones = person_with_history(writer, "nord")
        gone_id, _name = deleted_person(writer, "nord")
        ahead = world.agent("coordinateur", ["nord"])
        _, ahead_cursor = ahead.pull_all()
        # After the active laptop's download: two more edits, the first superseded at once.
        version = int(
            server.sql("SELECT server_version FROM contacts WHERE id = :i", i=person_id)[0][0]
        )
        phones += [fake_phone(), fake_phone()]
        version = edit(writer, "contacts", person_id, version, phone_1=phones[-2])
        edit(writer, "contacts", person_id, version, phone_1=phones[-1])
        superseded, latest = _seqs(server, person_id)[-2:]
        _not_seen_for(server, behind, 31)

        output = server.cli("compact-log", "--active-days", "30")
        assert "Journal compacté" in output

        # The floor is the active laptop's position; below it only the head could stay.
        floor = _state(server, "log_floor")
        assert floor == int(ahead_cursor)
        head = _head(server)
        below = server.sql("SELECT seq FROM change_log WHERE seq <= :f", f=floor)
        assert [int(r[0]) for r in below] in ([], [head])
        assert superseded not in _seqs(server, person_id) and latest in _seqs(server, person_id)
        assert _seqs(server, gone_id) == []  # created and deleted before the floor

        # The active laptop goes on from where it was and gets the latest value only.
        changes, _ = ahead.pull_all(ahead_cursor)
        assert [c["fields"]["phone_1"] for c in received(changes, "contacts", person_id)] == [
            phones[-1]
        ]
        # The laptop from behind the floor is asked to download everything again…
        page = behind.pull_page(behind_cursor).json()
        assert page["reset_required"] and page["changes"] == []
        # …and gets the present.
        fresh, _ = behind.pull_all("0")
        (row,) = [c for c in received(fresh, "contacts", person_id) if c["op"] == "upsert"]
        assert row["fields"]["phone_1"] == phones[-1]
        assert received(fresh, "contacts", gone_id) == []
        assert behind_changes  # it had downloaded before
        # Compacting again changes nothing: the floor never moves back.
        server.cli("compact-log", "--active-days", "30")
        assert _state(server, "log_floor") >= floor
    finally:
        world.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_server_compacts_the_log_periodically(backend: str, server_factory: MakeServer) -> None:
    server = server_factory(backend, {"HAVRE_SERVER_COMPACT_INTERVAL_S": "0.2"})
    world = World(server)
    try:
        writer = world.agent("travailleur-social", ["sud"])
        person_id, _phones = person_with_history(writer, "sud")
        head = _head(server)  # her last edit (the head is never removed)
        # No laptop has downloaded anything: nothing needs the log below the head. The server
        # may already have compacted: only the outcome is awaited.
        wait_until(lambda: _state(server, "log_floor") >= head, 30, "the periodic compaction")
        assert _seqs(server, person_id) == [head]
    finally:
        world.close()
