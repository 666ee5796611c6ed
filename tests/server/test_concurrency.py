"""Concurrent pushes on PostgreSQL with a concurrent puller: no change skipped.

The same scenario runs against two servers: one with the ordering protection (advisory lock
around seq assignment, the production setting), one with it switched off by the test-only
setting ``HAVRE_SERVER_TEST_UNSAFE_SEQ=1``. Both wait a random 0–40 ms between taking their seq
values and committing (``HAVRE_SERVER_TEST_COMMIT_DELAY_MS``), so that commits finish out of
order when nothing orders them. Protected: every change reaches the puller, in every round.
Unprotected: the puller misses changes (shown within a bounded number of rounds) — which is
the proof that the protection is what makes the first test pass.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.server.support import Device, ServerProcess, World, follow_log, person_fields

PUSHERS = 6
PUSHES_EACH = 12
DELAY_ENV = {"HAVRE_SERVER_TEST_COMMIT_DELAY_MS": "40"}


def _round(server: ServerProcess) -> tuple[set[str], set[str]]:
    """Concurrent pushers create persons; a puller follows the log meanwhile.

    Returns (ids the server applied, ids the puller received).
    """
    world = World(server)
    try:
        territory = "centre-est"
        puller = world.agent("coordinateur", [territory])
        pushers = [world.agent("travailleur-social", [territory]) for _ in range(PUSHERS)]
        _, cursor = puller.pull_all()  # full download first; then follow the log
        applied: set[str] = set()
        received: set[str] = set()
        lock = threading.Lock()
        done = threading.Event()
        errors: list[BaseException] = []

        def push_all(device: Device) -> None:
            try:
                for _ in range(PUSHES_EACH):
                    person_id = str(uuid.uuid4())
                    fields = {**person_fields(territory), "id": person_id}
                    result = device.push(device.mutation("contacts", person_id, "insert", fields))
                    if result[0]["status"] == "applied":
                        with lock:
                            applied.add(person_id)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        def follow() -> None:
            try:
                pages = follow_log(lambda at: puller.pull_page(at, 1000).json(), cursor, done)
                for page in pages:
                    for change in page["changes"]:
                        if change["table_name"] == "contacts" and change["op"] == "upsert":
                            received.add(change["row_id"])
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=push_all, args=(d,)) for d in pushers]
        follower = threading.Thread(target=follow)
        follower.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        done.set()
        follower.join(timeout=300)
        assert not errors, errors
        assert len(applied) == PUSHERS * PUSHES_EACH
        return applied, received & applied
    finally:
        world.close()


@pytest.fixture
def pg_server(server_factory: Callable[..., ServerProcess]) -> Callable[[dict[str, str]], Any]:
    def make(env: dict[str, str]) -> ServerProcess:
        return server_factory("postgresql", env)

    return make


def test_concurrent_pushes_on_postgresql_skip_nothing(pg_server: Callable[..., Any]) -> None:
    server = pg_server(DELAY_ENV)
    for _ in range(2):
        applied, received = _round(server)
        assert received == applied, f"{len(applied - received)} change(s) skipped"


def test_without_the_ordering_protection_a_concurrent_puller_skips_changes(
    pg_server: Callable[..., Any],
) -> None:
    server = pg_server({**DELAY_ENV, "HAVRE_SERVER_TEST_UNSAFE_SEQ": "1"})
    skipped = 0
    for _ in range(5):
        applied, received = _round(server)
        skipped = len(applied - received)
        if skipped:
            break
    print(f"unprotected: {skipped} of {PUSHERS * PUSHES_EACH} changes skipped")
    assert skipped > 0, "expected the unprotected server to let a puller skip a change"
