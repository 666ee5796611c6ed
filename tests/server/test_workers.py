"""``havre-server serve --workers N``: several processes answer on one port, same database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.server.support import ServerProcess, World, new_person, new_visit


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_several_worker_processes_serve_one_database(
    server_factory: Callable[..., ServerProcess], backend: str
) -> None:
    server = server_factory(backend, None, "--workers", "2", "--min-client-version", "0.1.0")
    world = World(server)
    try:
        writer = world.agent("travailleur-social", ["nord"])
        reader = world.agent("coordinateur", ["nord"])
        person = new_person(writer)
        visits = {new_visit(writer, person) for _ in range(20)}  # requests spread on workers
        # A duplicate answered by whichever process gets it: exactly once still holds.
        again = writer.mutation("contacts", person, "update", {"access_notes": "Digicode 1234"})
        first, second = writer.push(again)[0], writer.push(again)[0]
        assert (first["status"], second["status"]) == ("applied", "duplicate")
        changes, _ = reader.pull_all()
        received = {c["row_id"] for c in changes if c["table_name"] == "visits"}
        assert visits <= received
        # Whichever process answers /metrics counts the pushes of all of them (multiprocess).
        for _ in range(4):
            scraped = world.client.get("/metrics").text
            assert "havre_sync_pushes_total 23.0" in scraped, scraped[-2000:]
    finally:
        world.close()
