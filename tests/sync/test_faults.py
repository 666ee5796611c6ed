"""Network faults and hostile replies, through the fault-injecting transport (tests/sync/faults.py):
cut mid-push, crash after commit before the reply, cut mid-pull, duplicated, reordered and
delayed requests, a corrupt or hostile server, and TLS."""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import trustme

from havre_desktop.core import contacts
from havre_desktop.sync.errors import (
    CertificateError,
    ProtocolError,
    ServerBusyError,
    ServerUnreachableError,
    SyncCancelledError,
)
from tests.server.support import World
from tests.sync.conftest import MakeLaptop
from tests.sync.scenario_helpers import (
    applied_statuses,
    log_entries,
    log_visit,
    new_person,
)
from tests.sync.support import Laptop, differences

PHONE = "06 11 22 33 44"


def _mutation_ids(laptop: Laptop) -> list[str]:
    return [str(e["mutation_id"]) for e in laptop.outbox()]


def test_cut_mid_push(laptops: MakeLaptop, world: World) -> None:
    worker = laptops()
    person_id = new_person(worker)
    log_visit(worker, person_id)
    sent = _mutation_ids(worker)
    worker.plan.add("push", "cut_request")
    with pytest.raises(ServerUnreachableError):
        worker.sync()
    assert worker.plan.applied == [("push", "cut_request")]
    assert applied_statuses(world, sent) == {}  # the half-sent batch was not committed
    assert _mutation_ids(worker) == sent  # and nothing left the outbox
    assert worker.sync().pushed == len(sent)
    assert set(applied_statuses(world, sent).values()) == {"applied"}
    assert differences(worker, world) == []


def test_crash_after_commit_before_reply(laptops: MakeLaptop, world: World) -> None:
    worker = laptops()
    person_id = new_person(worker)
    worker.sync()
    contacts.update(worker.ws, person_id, {"phone_1": PHONE})
    sent = _mutation_ids(worker)
    (version_before,) = world.server.sql(
        "SELECT server_version FROM contacts WHERE id = :i", i=person_id
    )
    worker.plan.add("push", "drop_reply")
    with pytest.raises(ServerUnreachableError):
        worker.sync()
    assert applied_statuses(world, sent) == {sent[0]: "applied"}  # committed on the server
    assert _mutation_ids(worker) == sent  # but not acknowledged: still waiting
    worker.reopen()  # the application crashed and restarts
    report = worker.sync()
    assert report.duplicates == 1 and report.pushed == 1 and worker.outbox() == []
    (version_after,) = world.server.sql(
        "SELECT server_version FROM contacts WHERE id = :i", i=person_id
    )
    assert version_after[0] == version_before[0] + 1  # applied once, not twice
    assert log_entries(world, sent[0]) == 1
    assert differences(worker, world) == []


def test_cut_mid_pull_resumes_where_it_stopped(laptops: MakeLaptop, world: World) -> None:
    worker = laptops()
    worker.engine.pull_limit = 40
    worker.plan.add("pull", "cut_reply", skip=2)
    with pytest.raises(ServerUnreachableError):
        worker.sync()
    cursor = worker.cursor()
    assert cursor and cursor.startswith("s.")  # two pages applied, with their cursor
    received = worker.count("ref_items") + worker.count("actions") + worker.count("facilities")
    assert received > 0
    worker.plan.seen_cursors.clear()
    worker.sync()
    assert worker.plan.seen_cursors[0] == cursor  # resumed, not restarted
    assert differences(worker, world) == []


def test_cut_mid_pull_in_log_phase(laptops: MakeLaptop, world: World) -> None:
    a, b = laptops(), laptops()
    a.sync()
    b.sync()
    people = {new_person(a) for _ in range(5)}
    a.sync()
    b.engine.pull_limit = 2
    b.plan.add("pull", "cut_reply", skip=1)
    with pytest.raises(ServerUnreachableError):
        b.sync()
    assert 0 < len([p for p in people if b.has("contacts", p)]) < 5
    b.sync()
    assert all(b.has("contacts", p) for p in people)
    assert differences(b, world) == []


def test_duplicated_reordered_and_delayed_requests_apply_once(
    laptops: MakeLaptop, world: World
) -> None:
    worker = laptops()
    worker.engine.push_batch = 2
    person_id = new_person(worker)
    for _ in range(3):
        log_visit(worker, person_id)
    sent = _mutation_ids(worker)
    assert len(sent) == 4
    worker.plan.add("push", "duplicate")  # the first batch reaches the server twice
    worker.plan.add("push", "reorder")  # a copy of the second arrives after the next request
    worker.plan.add("pull", "delay", delay_s=0.2)
    worker.plan.add("pull", "duplicate")
    report = worker.sync()
    assert [f for _e, f in worker.plan.applied] == ["duplicate", "reorder", "delay", "duplicate"]
    assert report.pushed == 4 and report.rejected == 0
    assert set(applied_statuses(world, sent).values()) == {"applied"}
    for mutation_id in sent:
        assert log_entries(world, mutation_id) == 1  # nothing applied twice
    (visits,) = world.server.sql("SELECT count(*) FROM visits WHERE person_id = :p", p=person_id)
    assert visits[0] == 3
    assert differences(worker, world) == []


def test_a_batch_the_server_cannot_read_is_sent_one_by_one(
    laptops: MakeLaptop, world: World
) -> None:
    worker = laptops()
    person_id = new_person(worker)
    log_visit(worker, person_id)
    sent = _mutation_ids(worker)

    def unreadable(_status: int, _body: bytes) -> tuple[int, bytes]:
        body = {"code": "invalid_request", "message": "Requête invalide.", "details": []}
        return 422, json.dumps(body).encode()

    worker.plan.add("push", "rewrite", rewrite=unreadable)
    report = worker.sync()  # the server did commit the batch: the singles are duplicates
    assert report.pushed == 2 and report.duplicates == 2 and report.rejected == 0
    assert set(applied_statuses(world, sent).values()) == {"applied"}
    assert [name for name in worker.plan.seen if name == "push"] == ["push"] * 3


def test_push_goes_in_bounded_batches(laptops: MakeLaptop, world: World) -> None:
    worker = laptops()
    worker.engine.push_batch = 3
    person_id = new_person(worker)
    for _ in range(6):
        log_visit(worker, person_id)
    progress: list[Any] = []
    report = worker.engine.sync(progress=progress.append)
    assert report.pushed == 7
    assert worker.plan.seen.count("push") == 3
    phases = [p.phase for p in progress]
    assert phases[0] == "connexion" and "envoi" in phases and "réception" in phases
    assert phases[-1] == "terminé"
    sending = [p for p in progress if p.phase == "envoi"]
    assert [(p.done, p.total) for p in sending] == [(0, 7), (3, 7), (6, 7)]


def test_cancelled_sync_resumes(laptops: MakeLaptop, world: World) -> None:
    worker = laptops()
    worker.engine.pull_limit = 30
    pages: list[str] = []

    def stop() -> bool:
        return len([n for n in worker.plan.seen if n == "pull"]) >= 2

    with pytest.raises(SyncCancelledError) as cancelled:
        worker.engine.sync(cancelled=stop)
    assert "reprendra" in cancelled.value.message
    cursor = worker.cursor()
    assert cursor and cursor.startswith("s.")
    assert worker.engine.status().history[0].outcome == "cancelled"
    worker.plan.seen_cursors.clear()
    worker.sync()
    pages.extend(worker.plan.seen_cursors)
    assert pages[0] == cursor
    assert differences(worker, world) == []


# -- a corrupt or hostile server ----------------------------------------------------------------


def _digest(laptop: Laptop) -> str:
    """Everything the laptop holds, except the history of sync attempts and retry counters."""
    store = laptop.ws.store
    tables = [
        r["name"]
        for r in store.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%' "
            "AND name NOT IN ('sync_history', 'sqlite_sequence') ORDER BY name"
        )
    ]
    h = hashlib.sha256()
    for table in tables:
        for row in store.query(f"SELECT * FROM {table}"):
            row.pop("attempts", None)
            row.pop("last_error", None)
            h.update(json.dumps(row, sort_keys=True, default=str).encode())
        h.update(table.encode())
    return h.hexdigest()


Rewrite = Callable[[dict[str, Any]], Any]


def _json_rewrite(change: Rewrite) -> Callable[[int, bytes], tuple[int, bytes]]:
    def rewrite(status: int, body: bytes) -> tuple[int, bytes]:
        data = json.loads(body)
        result = change(data)
        return status, result if isinstance(result, bytes) else json.dumps(result).encode()

    return rewrite


def _every_change(data: dict[str, Any], **updates: Any) -> dict[str, Any]:
    assert data["changes"], "the page under test must carry changes"
    for change in data["changes"]:
        change.update(updates)
    return data


def _every_row(data: dict[str, Any], **updates: Any) -> dict[str, Any]:
    assert data["changes"], "the page under test must carry changes"
    for change in data["changes"]:
        change["fields"].update(updates)
    return data


HOSTILE_PULLS: dict[str, tuple[Rewrite, str]] = {
    "invalid-json": (lambda _d: b'{"changes": [', "« réponse » non conforme"),
    "binary-garbage": (lambda _d: b"\x1f\x8b\x08\x00garbage", "« réponse » non conforme"),
    "not-an-object": (lambda _d: [1, 2, 3], "« réponse » non conforme"),
    "wrong-type": (
        lambda d: _every_change(d, server_version="3"),
        "« changes.0.server_version » non conforme",
    ),
    "field-not-in-protocol": (lambda d: {**d, "admin": True}, "« admin » non conforme"),
    "unknown-table": (
        lambda d: _every_change(d, table_name="secret_table"),
        "table « secret_table » inconnue",
    ),
    "unknown-column": (lambda d: _every_row(d, shoe_size=42), "« shoe_size » inconnu"),
    "local-only-column": (
        lambda d: _every_row(d, server_version=99),
        "« server_version » inconnu",
    ),
    "object-in-text-column": (
        lambda d: _every_row(d, family_name={"a": 1}),
        "type inattendu pour contacts.family_name",
    ),
    "text-in-integer-column": (
        lambda d: _every_row(d, archived="oui"),
        "type inattendu pour contacts.archived",
    ),
    "null-in-required-column": (
        lambda d: _every_row(d, kind=None),
        "incompatibles avec la base locale",
    ),
    "mismatched-id": (
        lambda d: _every_row(d, id="00000000-0000-4000-8000-000000000000"),
        "identifiant incohérent",
    ),
    "unexpected-snapshot": (
        lambda d: {**d, "phase": "snapshot", "snapshot_done": True},
        "téléchargement complet inattendu",
    ),
    "huge-body": (lambda _d: b" " * (60 * 1024 * 1024), "trop volumineuse"),
}


@pytest.fixture
def synced_pair(laptops: MakeLaptop) -> Iterator[tuple[Laptop, Laptop, str]]:
    a, b = laptops(), laptops()
    person_id = new_person(a)
    a.sync()
    b.sync()
    contacts.update(a.ws, person_id, {"phone_1": PHONE})
    a.sync()
    contacts.update(b.ws, person_id, {"city": "Harfleur"})  # an edit waiting on B
    yield a, b, person_id


@pytest.mark.parametrize("case", sorted(HOSTILE_PULLS))
def test_hostile_pull_reply_is_refused_and_data_kept(
    case: str, synced_pair: tuple[Laptop, Laptop, str], world: World
) -> None:
    _a, b, person_id = synced_pair
    cursor = b.cursor()
    phone_before = b.row("contacts", person_id)["phone_1"]  # type: ignore[index]
    rewrite, expected = HOSTILE_PULLS[case]
    b.plan.add("pull", "rewrite", rewrite=_json_rewrite(rewrite))
    with pytest.raises(ProtocolError) as refused:
        b.sync()
    assert expected in refused.value.detail
    assert "réponse invalide" in refused.value.message
    assert "aucune donnée de cet ordinateur n'a été modifiée" in refused.value.message
    # The push went and was acknowledged; the hostile page changed nothing, moved no cursor.
    assert b.outbox() == [] and b.cursor() == cursor
    assert b.row("contacts", person_id)["phone_1"] == phone_before  # type: ignore[index]
    assert b.has("contacts", person_id) and b.count("actions") > 0
    assert b.engine.status().history[0].outcome == "error"
    b.plan.clear()
    b.sync()
    assert b.row("contacts", person_id)["phone_1"] == PHONE  # type: ignore[index]
    assert differences(b, world) == []


@pytest.mark.parametrize("case", sorted(HOSTILE_PULLS))
def test_hostile_reply_leaves_every_byte_of_local_data(
    case: str, synced_pair: tuple[Laptop, Laptop, str], world: World
) -> None:
    """Without edits waiting: a hostile page leaves the local data exactly as it was."""
    _a, b, _person_id = synced_pair
    b.ws.store.conn.execute("DELETE FROM outbox")
    before = _digest(b)
    rewrite, expected = HOSTILE_PULLS[case]
    b.plan.add("pull", "rewrite", rewrite=_json_rewrite(rewrite))
    with pytest.raises(ProtocolError) as refused:
        b.sync()
    assert expected in refused.value.detail
    assert _digest(b) == before
    b.plan.clear()
    b.sync()
    assert differences(b, world) == []


HOSTILE_PUSHES: dict[str, Rewrite] = {
    "unknown-mutation": lambda d: {
        **d,
        "results": [{**d["results"][0], "mutation_id": "00000000-0000-4000-8000-000000000000"}],
    },
    "missing-result": lambda d: {**d, "results": []},
    "rejected-without-reason": lambda d: {
        **d,
        "results": [{**r, "status": "rejected", "reason": None} for r in d["results"]],
    },
    "invalid-json": lambda _d: b"<html>proxy</html>",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PUSHES))
def test_hostile_push_reply_is_refused_and_outbox_kept(
    case: str, synced_pair: tuple[Laptop, Laptop, str], world: World
) -> None:
    _a, b, _person_id = synced_pair
    before = _digest(b)
    waiting = _mutation_ids(b)
    b.plan.add("push", "rewrite", rewrite=_json_rewrite(HOSTILE_PUSHES[case]))
    with pytest.raises(ProtocolError):
        b.sync()
    assert _digest(b) == before and _mutation_ids(b) == waiting
    b.plan.clear()
    assert b.sync().duplicates == 1  # the server had applied it: once
    assert differences(b, world) == []


def test_server_error_pages_are_not_protocol_errors(
    synced_pair: tuple[Laptop, Laptop, str],
) -> None:
    _a, b, _person_id = synced_pair
    b.plan.add("meta", "rewrite", rewrite=lambda _s, _b: (502, b"<html>Bad gateway</html>"))
    with pytest.raises(ServerBusyError) as busy:
        b.sync()
    assert "momentanément indisponible" in busy.value.message
    assert b.ws.pending_changes() == 1


# -- TLS ----------------------------------------------------------------------------------------


@contextmanager
def tls_front(ca: trustme.CA, upstream_port: int) -> Iterator[int]:
    """A TLS-terminating loopback proxy in front of the (plain HTTP) server process."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    port = int(listener.getsockname()[1])
    stopping = threading.Event()

    def pump(source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def serve(client: socket.socket) -> None:
        try:
            secure = context.wrap_socket(client, server_side=True)
        except (OSError, ssl.SSLError):
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
        back = threading.Thread(target=pump, args=(upstream, secure), daemon=True)
        back.start()
        pump(secure, upstream)
        back.join(10)
        secure.close()
        upstream.close()

    def accept() -> None:
        while not stopping.is_set():
            try:
                client, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stopping.set()
        thread.join(10)
        listener.close()


def test_tls_is_verified_and_a_city_ca_bundle_is_accepted(
    laptops: MakeLaptop, world: World, tmp_path: Path
) -> None:
    ca = trustme.CA()
    login = world.create_agent("travailleur-social", ["nord"])
    laptop = laptops(sign_in=False)
    with tls_front(ca, world.server.port) as port:
        url = f"https://127.0.0.1:{port}"
        with pytest.raises(CertificateError) as untrusted:
            laptop.engine.sign_in(url, login, "mot-de-passe-de-test")
        assert "certificat du serveur n'est pas reconnu" in untrusted.value.message
        bundle = tmp_path / "ville-du-havre-ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        laptop.engine.ca_bundle = bundle
        laptop.engine.sign_in(url, login, "mot-de-passe-de-test")
        laptop.login = login
        new_person(laptop)
        assert laptop.sync().pushed == 1
    assert laptop.ws.sync_meta("server_url") == url
    assert differences(laptop, world) == []
