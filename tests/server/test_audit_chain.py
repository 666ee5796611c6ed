"""The server's audit log is append-only and hash-chained: entries pushed by devices and the
server's own (erasure, revoked device) form one chain that ``havre-server audit-verify`` walks;
a row changed or deleted in the database behind the server's back is named. Real server
process, real SQLite and PostgreSQL databases, each test its own."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import DBAPIError

from havre_common.protocol import API_PREFIX
from havre_server import audit
from tests.server.support import Device, ServerProcess, World, audit_mutation, new_person

BACKENDS = ["sqlite", "postgresql"]


def _verify(server: ServerProcess) -> tuple[bool, str]:
    """``havre-server audit-verify``: (intact, what it printed)."""
    out = server.cli("audit-verify", check=False)
    return "intègre" in out, out


def _chain(server: ServerProcess) -> list[Any]:
    return server.sql(
        "SELECT chain_seq, id, event, prev_hash, entry_hash FROM audit_log ORDER BY chain_seq"
    )


def _unguarded(server: ServerProcess) -> None:
    """What someone with the database's rights can do first: remove the append-only guard."""
    if server.backend == "sqlite":
        server.sql("DROP TRIGGER audit_log_no_update")
        server.sql("DROP TRIGGER audit_log_no_delete")
    else:
        server.sql("ALTER TABLE audit_log DISABLE TRIGGER USER")


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, server_factory: Callable[..., ServerProcess]) -> Any:
    w = World(server_factory(str(request.param)))
    yield w
    w.close()


def _filled(world: World) -> tuple[str, list[Any]]:
    """Entries of both origins: a worker's openings and prints, a device revoked and a person
    erased by the administrator (the server's own). Returns the erased person's id and the
    chain."""
    worker = world.agent("travailleur-social", ["nord"])
    kept = new_person(worker, "nord")
    erased = new_person(worker, "nord", family_name="Quibel-Fictif")
    results = worker.push(
        audit_mutation(worker, kept),
        audit_mutation(worker, erased),
        audit_mutation(worker, kept, "impression"),
    )
    assert [r["status"] for r in results] == ["applied"] * 3, results
    lost = world.sign_in(worker.login)
    revoked = world.client.post(
        f"{API_PREFIX}/admin/devices/{lost.device_id}/revoke", headers=world.admin.headers()
    )
    assert revoked.status_code == 204, revoked.text
    gone = world.client.post(
        f"{API_PREFIX}/admin/persons/{erased}/erase",
        json={"reason": "demande-personne"},
        headers=world.admin.headers(),
    )
    assert gone.status_code == 200, gone.text
    more = worker.push(audit_mutation(worker, kept))
    assert more[0]["status"] == "applied", more
    return erased, _chain(world.server)


def test_entries_of_devices_and_of_the_server_form_one_chain(world: World) -> None:
    erased, chain = _filled(world)
    events = [row.event for row in chain]
    assert events == [
        "agent-cree",  # the administrator, created from the server's shell
        "agent-cree",  # the worker, created by the administrator
        "fiche-ouverte",
        "fiche-ouverte",
        "impression",
        "appareil-revoque",
        "effacement-rgpd",
        "fiche-ouverte",
    ]
    assert [row.chain_seq for row in chain] == list(range(1, 9))
    assert chain[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.entry_hash
    intact, out = _verify(world.server)
    assert intact, out
    assert "8 entrées chaînées" in out and chain[-1].entry_hash in out
    # Erasure kept the chain: the entries naming her stay, by id only, nothing of her content.
    about_her = world.server.sql("SELECT event FROM audit_log WHERE entity_id = :i", i=erased)
    assert sorted(r.event for r in about_her) == ["effacement-rgpd", "fiche-ouverte"]
    texts = world.server.sql("SELECT * FROM audit_log")
    assert not [row for row in texts if "Quibel" in " ".join(str(v) for v in row)]


def test_a_row_changed_in_the_database_is_named(world: World) -> None:
    _erased, chain = _filled(world)
    second = chain[1]
    _unguarded(world.server)
    world.server.sql(
        "UPDATE audit_log SET event = 'impression' WHERE chain_seq = 2"
    )  # who opened the file becomes who printed
    intact, out = _verify(world.server)
    assert not intact
    assert f"n° 2 (id {second.id}) a été modifiée" in out, out

    # Its hash recomputed too: the next entry no longer follows it.
    row = world.server.sql("SELECT * FROM audit_log WHERE chain_seq = 2")[0]
    forged = audit.entry_hash(dict(row._mapping), row.prev_hash)
    world.server.sql("UPDATE audit_log SET entry_hash = :h WHERE chain_seq = 2", h=forged)
    intact, out = _verify(world.server)
    assert not intact
    assert f"n° 3 (id {chain[2].id}) ne suit plus l'entrée précédente" in out, out


def test_a_deleted_row_is_named(world: World) -> None:
    _erased, chain = _filled(world)
    _unguarded(world.server)
    world.server.sql("DELETE FROM audit_log WHERE chain_seq = 4")
    intact, out = _verify(world.server)
    assert not intact
    assert (
        f"n° 4 manquante (supprimée ?) : la chaîne reprend à l'entrée n° 5 (id {chain[4].id})"
        in (out)
    ), out

    # Renumbered to hide the gap: the link of the entry after it is broken.
    world.server.sql("UPDATE audit_log SET chain_seq = chain_seq - 1 WHERE chain_seq > 4")
    intact, out = _verify(world.server)
    assert not intact
    assert f"n° 4 (id {chain[4].id}) ne suit plus l'entrée précédente" in out, out


def test_the_database_refuses_to_change_or_delete_an_entry(world: World) -> None:
    """The guard: even the server's own connection cannot rewrite history by mistake."""
    _filled(world)
    statements = ["UPDATE audit_log SET event = 'export'", "DELETE FROM audit_log"]
    if world.server.backend == "postgresql":
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DBAPIError, match="ajout seulement"):
            world.server.sql(statement)
    assert len(_chain(world.server)) == 8
    intact, out = _verify(world.server)
    assert intact, out


def test_concurrent_pushes_keep_one_chain(world: World) -> None:
    """Devices pushing audit entries at the same time: no fork, no gap (PostgreSQL: the
    advisory lock; SQLite: BEGIN IMMEDIATE)."""
    server = world.server
    devices = [world.agent("travailleur-social", ["nord"]) for _ in range(4)]
    person = new_person(devices[0], "nord")
    failures: list[str] = []

    def pushes(device: Device) -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            own = Device(server, device.login, device.agent, device.token, device.device_id, client)
            for _ in range(8):
                results = own.push(*(audit_mutation(own, person) for _ in range(3)))
                failures.extend(str(r) for r in results if r["status"] != "applied")

    threads = [threading.Thread(target=pushes, args=(d,)) for d in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    intact, out = _verify(server)
    assert intact, out
    assert (
        "101 entrées chaînées" in out
    )  # 5 agents created (the administrator too), 4 × 8 × 3 pushed


def test_an_entry_with_free_text_is_refused_and_leaves_no_link(world: World) -> None:
    """Nothing personal enters the audit (it is never changed, so erasure could not take it
    out): a detail holds ids, codes and numbers only."""
    worker = world.agent("travailleur-social", ["nord"])
    person = new_person(worker, "nord")
    wordy = audit_mutation(worker, person)
    wordy["changed_fields"]["detail"] = {"remarque": "Mme Quibel pleurait"}
    coded = audit_mutation(worker, person, "impression")
    coded["changed_fields"]["detail"] = {"lettres": 3, "type": "conseils-canicule"}
    refused, applied = worker.push(wordy, coded)
    assert refused["status"] == "rejected"
    assert "jamais de texte libre" in refused["reason"]
    assert applied["status"] == "applied", applied
    # After the creations of the administrator and of the worker: the coded entry only.
    assert [row.event for row in _chain(world.server)] == ["agent-cree", "agent-cree", "impression"]
    intact, out = _verify(world.server)
    assert intact, out


def test_coordinators_list_the_entries_of_their_territories_with_filters(world: World) -> None:
    """The audit viewer's listing: newest first, filtered, paged; a coordinator sees what
    concerns her territories, a social worker nothing."""
    north, south = (
        world.agent("travailleur-social", ["nord"]),
        world.agent("travailleur-social", ["sud"]),
    )
    coordinator = world.agent("coordinateur", ["nord"])
    here, there = new_person(north, "nord"), new_person(south, "sud")
    north.push(audit_mutation(north, here), audit_mutation(north, here, "impression"))
    south.push(audit_mutation(south, there))

    def listing(device: Device, **params: Any) -> httpx.Response:
        return world.client.get(
            f"{API_PREFIX}/admin/audit", params=params, headers=device.headers()
        )

    page = listing(coordinator).json()
    seen = [(e["event"], e["entity_id"]) for e in page["entries"]]
    # Newest first; nothing of the south: neither its file nor the creation of its agent.
    assert seen == [
        ("impression", here),
        ("fiche-ouverte", here),
        ("droit-registre", coordinator.agent_id),  # a coordinator has it by default
        ("agent-cree", coordinator.agent_id),
        ("agent-cree", north.agent_id),
        ("agent-cree", world.admin.agent_id),  # from the server's shell; the admin is in nord
    ]
    first = page["entries"][1]
    assert first["agent_id"] == north.agent_id and first["agent_name"]
    assert first["device_id"] == north.device_id and first["at"]
    assert [e["event"] for e in listing(coordinator, event="impression").json()["entries"]] == [
        "impression"
    ]
    assert listing(coordinator, entity_id=there).json()["entries"] == []
    assert listing(coordinator, until="2000-01-01").json()["entries"] == []
    one = listing(coordinator, limit=1).json()
    assert len(one["entries"]) == 1 and one["next_before"] == one["entries"][0]["seq"]
    older = listing(coordinator, limit=1, before=one["next_before"]).json()
    assert older["entries"][0]["event"] == "fiche-ouverte"
    everything = listing(world.admin, agent_id=south.agent_id).json()["entries"]
    assert [(e["event"], e["entity_id"]) for e in everything] == [("fiche-ouverte", there)]
    refused = listing(north)
    assert refused.status_code == 403 and "rôle" in refused.json()["message"]
    assert listing(coordinator, since="hier").status_code == 422
