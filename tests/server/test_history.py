"""History stays on the server (sync.md, Policies): a device or an agent receives the current
state of what enters its scope, never change-log entries from before — no old value of an
edited row, nothing of a row deleted before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from havre_server.pull import SCAN_LIMIT
from tests.server.history import (
    body_of,
    deleted_person,
    edit,
    fake_phone,
    person_with_history,
    pull_everything,
    received,
)
from tests.server.support import Replica, ServerProcess, World, now_ms


def _assert_present_only(
    changes: list[dict[str, Any]], person_id: str, phones: list[str], gone: tuple[str, str]
) -> None:
    mine = [c for c in received(changes, "contacts", person_id) if c["op"] == "upsert"]
    assert mine, "the edited person must arrive"
    assert {c["fields"]["phone_1"] for c in mine} == {phones[-1]}
    body = body_of(changes)
    for old in phones[:-1]:
        assert old not in body, "an old value of an edited row was sent"
    gone_id, gone_name = gone
    assert gone_id not in body and gone_name not in body, "a row deleted before was sent"


def test_a_new_agent_or_device_gets_the_present_never_the_log_before_it(world: World) -> None:
    writer = world.agent("travailleur-social", ["nord"])
    _, copied_cursor = writer.pull_all()  # a cursor of the writer's laptop, before the edits
    person_id, phones = person_with_history(writer, "nord")
    gone = deleted_person(writer, "nord")

    # A new agent, a new laptop of the writer (a profile copied from another laptop brings its
    # cursor): any cursor that is not from their own download asks for one.
    newcomer = world.agent("travailleur-social", ["nord"])
    second = world.sign_in(writer.login)
    for device in (newcomer, second):
        for cursor in (copied_cursor, "1", f"s.{copied_cursor}.0.", "s.1.8."):
            page = device.pull_page(cursor).json()
            assert page["reset_required"], (cursor, page)
            assert page["changes"] == []
        _assert_present_only(pull_everything(device, "0"), person_id, phones, gone)

    # Once downloaded, a device may not step back before its own download either.
    _, cursor = newcomer.pull_all("0")
    page = newcomer.pull_page(copied_cursor).json()
    assert page["reset_required"] and page["changes"] == []
    assert newcomer.pull_page(cursor).json()["reset_required"] is False


def test_a_download_read_while_rows_change_never_hands_out_older_values(world: World) -> None:
    writer = world.agent("travailleur-social", ["centre-est"])
    person_id, phones = person_with_history(writer, "centre-est", edits=0)
    reader = world.agent("coordinateur", ["centre-est"])
    first = reader.pull_page("0", limit=20).json()  # reference lists: persons come later
    assert first["phase"] == "snapshot" and first["has_more"]
    # While the download goes on, the person is edited three times and another one is created
    # then deleted: the snapshot reads the present, the log after its start holds the rest.
    version = 1
    for _ in range(3):
        phones.append(fake_phone())
        version = edit(writer, "contacts", person_id, version, phone_1=phones[-1])
    gone_id, gone_name = deleted_person(writer, "centre-est")
    changes = first["changes"] + pull_everything(reader, first["next_cursor"], limit=20)
    mine = [c for c in received(changes, "contacts", person_id) if c["op"] == "upsert"]
    assert {c["fields"]["phone_1"] for c in mine} == {phones[-1]}
    body = body_of(changes)
    assert all(old not in body for old in phones[:-1]), "an older value was sent"
    assert gone_name not in body, "a row deleted meanwhile was sent"
    assert [c["op"] for c in received(changes, "contacts", gone_id)] in ([], ["remove"])


def test_an_agent_who_gains_a_territory_downloads_its_present_only(world: World) -> None:
    agent = world.agent("travailleur-social", ["nord"])
    replica = Replica(agent).sync()
    colleague = world.agent("travailleur-social", ["sud"])
    person_id, phones = person_with_history(colleague, "sud")
    gone = deleted_person(colleague, "sud")
    cursor = replica.cursor
    assert world.patch_agent(agent.agent_id, territory_ids=["nord", "sud"]).status_code == 200
    page = agent.pull_page(cursor).json()
    assert page["reset_required"] and page["changes"] == []
    _assert_present_only(pull_everything(agent, "0"), person_id, phones, gone)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_entry_superseded_beyond_one_scan_of_the_log_is_not_sent(
    backend: str, server_factory: Callable[..., ServerProcess]
) -> None:
    """A page examines at most SCAN_LIMIT entries; the later entry that supersedes one of them
    may lie beyond (own server: the log is filled by hand)."""
    server = server_factory(backend)
    world = World(server)
    try:
        writer = world.agent("travailleur-social", ["nord"])
        reader = world.agent("coordinateur", ["nord"])
        _, cursor = reader.pull_all()
        person_id, phones = person_with_history(writer, "nord", edits=0)
        nobody = "00000000-0000-4000-8000-000000000000"
        with server.engine.begin() as conn:  # entries for another agent, scanned then skipped
            conn.execute(
                text(
                    "INSERT INTO change_log (table_name, row_id, op, reason, server_version,"
                    " audience, scope_agent_ids, created_at_ms) VALUES ('planned_contacts',"
                    " :row, 'remove', 'revoked', 1, 'target', :agents, :now)"
                ),
                [
                    {"row": str(i), "agents": f'["{nobody}"]', "now": now_ms()}
                    for i in range(SCAN_LIMIT)
                ],
            )
        phones.append(fake_phone())
        edit(writer, "contacts", person_id, 1, phone_1=phones[-1])
        changes = pull_everything(reader, cursor)
        mine = received(changes, "contacts", person_id)
        assert [c["fields"]["phone_1"] for c in mine] == [phones[-1]]
    finally:
        world.close()
