"""Two ``havre-server`` processes on two ports over one PostgreSQL, as behind a load balancer.

Nothing a server process keeps in memory matters for correctness: sessions, login failures,
applied mutations, the change log and its sequence live in PostgreSQL. The test shows it from
the outside: a desktop profile whose every request goes to the other server (a round-robin
balancer; its pushes, pull pages and the retry of a push whose reply was lost land on
alternating processes), protocol-level devices pushing through both servers at once, and a
follower pulling page by page from both. Nothing skipped, duplicated or reordered.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from havre_common.protocol import API_PREFIX
from havre_desktop.sync.errors import ServerUnreachableError
from tests.server.support import (
    PASSWORD,
    TEST_ENV,
    Device,
    PostgresCluster,
    ServerProcess,
    World,
    attempt_sign_in,
    follow_log,
    make_server,
    person_fields,
)
from tests.sync.faults import FaultyTransport
from tests.sync.scenario_helpers import applied_statuses, log_visit, new_person
from tests.sync.support import Laptop, RoundRobin, differences

TERRITORY = "centre-est"
PUSHERS = 4
EDITS_EACH = 8  # per person: one insert, then numbered edits of one field
PERSONS_EACH = 3


@pytest.fixture(scope="module")
def two_servers(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServerProcess]]:
    tmp = tmp_path_factory.mktemp("scale-out")
    first = make_server("postgresql", pg_cluster.new_database(), tmp / "a")
    second = ServerProcess("postgresql", first.database_url, first.env, tmp / "b")
    (tmp / "b").mkdir()
    servers = [first, second]
    try:
        for server in servers:
            server.start("--min-client-version", "0.1.0")
        yield servers
    finally:
        for server in servers:
            server.stop()


def _through(device: Device, world: World) -> Device:
    """The same signed-in device, its requests sent to another server."""
    return dataclasses.replace(device, client=world.client)


def test_a_client_switching_servers_mid_sync_and_concurrent_pushes_through_both(
    two_servers: list[ServerProcess], tmp_path: Path
) -> None:
    worlds = [World(server) for server in two_servers]
    laptop = Laptop(tmp_path / "laptop", "travailleur-social", [TERRITORY])
    try:
        balancer: list[RoundRobin] = []

        def wrap(inner: httpx.BaseTransport) -> httpx.BaseTransport:
            balancer.append(RoundRobin(inner, [s.port for s in two_servers]))
            return balancer[-1]

        laptop.engine.http_wrap = lambda inner: FaultyTransport(wrap(inner), laptop.plan)
        laptop.engine.pull_limit, laptop.engine.push_batch = 7, 3
        laptop.sign_in(worlds[0], worlds[0].create_agent("travailleur-social", [TERRITORY]))
        assert laptop.sync().full_download

        follower = worlds[0].agent("coordinateur", [TERRITORY])
        _, cursor = follower.pull_all()
        pushers = [worlds[i % 2].agent("travailleur-social", [TERRITORY]) for i in range(PUSHERS)]

        final: dict[str, str] = {}
        errors: list[BaseException] = []
        lock = threading.Lock()
        done = threading.Event()

        def push_all(index: int, device: Device) -> None:
            views = [_through(device, worlds[0]), _through(device, worlds[1])]
            turn = itertools.count(index)
            try:
                for _ in range(PERSONS_EACH):
                    person_id = str(uuid.uuid4())
                    fields = {**person_fields(TERRITORY), "id": person_id}
                    view = views[next(turn) % 2]
                    (result,) = view.push(view.mutation("contacts", person_id, "insert", fields))
                    assert result["status"] == "applied", result
                    version = int(result["server_version"])
                    for n in range(1, EDITS_EACH):
                        view = views[next(turn) % 2]
                        edit = {"access_notes": f"édition {n:02d}"}
                        (result,) = view.push(
                            view.mutation("contacts", person_id, "update", edit, version)
                        )
                        assert result["status"] == "applied", result
                        version = int(result["server_version"])
                    with lock:
                        final[person_id] = f"édition {EDITS_EACH - 1:02d}"
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        received: list[dict[str, object]] = []

        def follow() -> None:
            views = itertools.cycle([follower, _through(follower, worlds[1])])

            def pull(at: str) -> dict[str, Any]:
                response = next(views).pull_page(at, 25)
                assert response.status_code == 200, response.text
                page: dict[str, Any] = response.json()
                assert not page["reset_required"], page
                return page

            try:
                for page in follow_log(pull, cursor, done):
                    received.extend(page["changes"])
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=push_all, args=(i, d)) for i, d in enumerate(pushers)
        ] + [threading.Thread(target=follow)]
        for thread in threads:
            thread.start()
        # Meanwhile the laptop works and syncs, every request on the other server; one push
        # reply is lost after the commit: the retry goes to the other process.
        laptop.plan.add("push", "drop_reply", times=1)
        mine, cut = [], 0
        for _ in range(4):
            person = new_person(laptop, territory_id=TERRITORY)
            mine.append(person)
            log_visit(laptop, person)
            try:
                laptop.sync()
            except ServerUnreachableError:
                cut += 1
        for thread in threads[:-1]:
            thread.join(timeout=300)
        done.set()
        threads[-1].join(timeout=300)
        assert not errors, errors
        assert cut == 1 and ("push", "drop_reply") in laptop.plan.applied
        assert laptop.sync().rejected == 0
        assert laptop.outbox() == []

        # Both servers answered the laptop, pushes and pull pages alike.
        used = {(endpoint, port) for rr in balancer for endpoint, port in rr.sent}
        for endpoint in ("push", "pull"):
            assert {port for e, port in used if e == endpoint} == {s.port for s in two_servers}

        # The follower: seqs strictly increasing (no entry twice, none out of order), every
        # person pushed received, and each person's edits seen in the order they were made.
        seqs = [int(str(c["seq"])) for c in received]
        assert seqs == sorted(set(seqs)), "a change was received twice or out of order"
        seen: dict[str, list[str]] = {}
        for change in received:
            if change["table_name"] == "contacts" and change["op"] == "upsert":
                fields = change["fields"]
                assert isinstance(fields, dict)
                seen.setdefault(str(change["row_id"]), []).append(str(fields["access_notes"]))
        assert len(final) == PUSHERS * PERSONS_EACH
        for person_id, last in final.items():
            assert seen[person_id] == sorted(seen[person_id]), seen[person_id]
            assert seen[person_id][-1] == last, "a person's last edit was skipped"
        assert set(mine) <= set(seen)

        # Exactly once on the server, whichever process took each request.
        laptop_mutations = [
            str(r[0])
            for r in two_servers[0].sql(
                "SELECT mutation_id FROM change_log WHERE device_id = :d",
                d=laptop.ws.sync_meta("device_id"),
            )
        ]
        assert len(laptop_mutations) == len(set(laptop_mutations)) == 8  # 4 persons, 4 visits
        assert set(applied_statuses(worlds[0], laptop_mutations).values()) == {"applied"}

        # The laptop holds exactly its agent's view: all pushed persons, their last edits.
        assert differences(laptop, worlds[1]) == []
        for person_id, last in final.items():
            row = laptop.row("contacts", person_id)
            assert row is not None and row["access_notes"] == last
    finally:
        laptop.close()
        for world in worlds:
            world.close()


def test_sessions_and_login_limits_hold_across_servers(two_servers: list[ServerProcess]) -> None:
    worlds = [World(server) for server in two_servers]
    try:
        # A token made by one server works on the other; a logout on one closes it on both.
        device = worlds[0].agent("travailleur-social", [TERRITORY])
        elsewhere = _through(device, worlds[1])
        assert elsewhere.pull_page("0", 10).status_code == 200
        closed = worlds[1].client.delete(f"{API_PREFIX}/session", headers=device.headers())
        assert closed.status_code == 204
        assert device.pull_page("0", 10).status_code == 401
        # Failed sign-ins are counted in the database: spread over both servers, the limit
        # is the same as on one.
        login = worlds[0].create_agent("accueil", [TERRITORY])
        allowed = int(TEST_ENV["HAVRE_SERVER_LOGIN_MAX_FAILURES"])
        answers = [
            attempt_sign_in(worlds[i % 2].client, login, "mauvais-mot-de-passe").status_code
            for i in range(allowed)
        ]
        assert answers == [401] * allowed
        for world in worlds:
            assert attempt_sign_in(world.client, login, PASSWORD).status_code == 429
    finally:
        for world in worlds:
            world.close()
