"""Sync: first download, incremental sync, and the server's push throughput.

Targets (issue #4):

* first sync of 20,000 persons and 200,000 visits from a local server: a real desktop
  profile (SQLCipher, `SyncEngine`) against a real ``havre-server serve`` process on
  127.0.0.1, as a ratio to inserting the very rows the client ended up with into a fresh
  profile created the same way (same migrations, same key setup, indexes, triggers and FTS)
  with sqlite-utils in one transaction, no network: <= 3x;
* incremental sync of 10 changes (made on the server by another agent) on that large
  profile vs on a small one (200 persons): <= 1.5x -- the cost follows the changes, not
  the size of the database;
* mutations per second accepted by a server on PostgreSQL from 20 concurrent clients, each
  its own signed-in agent and device pushing batches over HTTP: >= 500/s with 0 errors.
  20 clients x 500 mutations in pushes of 50 (a day of visits and edits per push), 10,000
  in all: long enough (about 15 s) for the rate to settle, short enough to run every time.
  The server runs as deployed on PostgreSQL, one process per core (``serve --workers 2``
  on the 2-core machine of the figures); a single process is measured too, for information.

Usage: ``python benchmarks/sync.py [--quick] [--check]`` (see benchmarks/common.py).

How the data is made: the demo generator (`havre_desktop.core.demo`, fictional names and
phone ranges) fills a scratch database; its rows are written straight into the server's
tables through the server's own SQLAlchemy schema, each with what a push would have left
(per-field clocks and authors, server version, territory history, one change-log entry).
Seeding is setup, not measured. Everything lives in a temporary folder removed at the end;
PostgreSQL 15 is started as in the server tests (``tests/server/support.py``).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script: make `benchmarks`, `havre_desktop` and `tests` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import sqlcipher3
from sqlalchemy import Engine

from benchmarks.common import emit, finish, ms, parser, progress, time_ns
from havre_common.hlc import Timestamp
from havre_desktop.core import demo
from havre_desktop.core.clock import Clock
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.engine import SyncEngine, SyncReport
from havre_desktop.sync.local import SNAPSHOT_TABLES
from havre_server import schema
from havre_server.changelog import ChangeBuffer, Ordering, flush
from havre_server.db import make_engine
from havre_server.domain import decode, entry_for
from tests.helpers import MemoryKeyring, new_workspace
from tests.server.support import (
    PASSWORD,
    Device,
    PostgresCluster,
    ServerProcess,
    World,
    iso,
    make_server,
    now_ms,
    person_fields,
    started,
    visit_fields,
)

TERRITORIES = demo.TERRITORIES
SEED_CHUNK = 5_000


@dataclass(frozen=True)
class Sizes:
    persons: int
    visits: int
    small_persons: int
    small_visits: int
    incremental_changes: int  # per incremental sync (the 10)
    incremental_repeat: int  # timed syncs per profile, interleaved large/small
    baseline_repeat: int  # sqlite-utils inserts into fresh profiles (median)
    clients: int
    mutations_per_client: int
    push_batch: int
    server_workers: int  # havre-server processes for the throughput target


FULL = Sizes(
    persons=20_000,
    visits=200_000,
    small_persons=200,
    small_visits=2_000,
    incremental_changes=10,
    incremental_repeat=9,
    baseline_repeat=3,
    clients=20,
    mutations_per_client=500,
    push_batch=50,
    server_workers=2,
)
QUICK = Sizes(
    persons=2_000,
    visits=20_000,
    small_persons=200,
    small_visits=2_000,
    incremental_changes=10,
    incremental_repeat=5,
    baseline_repeat=2,
    clients=20,
    mutations_per_client=100,
    push_batch=50,
    server_workers=2,
)


# -- seeding the server --------------------------------------------------------------------------


@dataclass
class Seeded:
    persons: int
    rows: dict[str, int]
    person_ids: dict[str, list[str]]  # by territory


def _demo_rows(folder: Path, persons: int, visits: int) -> dict[str, list[dict[str, Any]]]:
    """The demo generator's rows (a scratch, unencrypted profile; not measured)."""
    path = folder / f"demo-{persons}.db"
    store = Store(sqlcipher3.connect(str(path), isolation_level=None), path)
    store._configure()
    store.migrate()
    ws = Workspace(store, clock=Clock())
    demo.seed_demo(ws, demo.DemoSize(persons=persons, organisations=0, visits=visits))
    tables = ("agents", "contacts", "visits", "consents", "register_enrolments", "planned_contacts")
    rows = {t: store.query(f"SELECT * FROM {t}") for t in tables}
    rows["owner"] = [{"id": store.get_setting("owner_agent_id")}]
    store.close()
    path.unlink()
    return rows


def seed_server(
    server: ServerProcess, world: World, folder: Path, persons: int, visits: int, coordinator: str
) -> Seeded:
    """Fill the server with demo persons and visits, as if agents had pushed them.

    ``coordinator`` (an agent id) takes the place of the demo's own agent; the demo's
    colleagues become real server agents with the same roles and territories.
    """
    rows = _demo_rows(folder, persons, visits)
    agent_map = {str(rows["owner"][0]["id"]): coordinator}
    for agent in rows["agents"]:
        if agent["id"] in agent_map:
            continue
        device = world.agent(agent["role"], json.loads(agent["territory_ids"]))
        agent_map[agent["id"]] = device.agent_id
    device_id = uuid.uuid4().hex  # the "device" the seeded rows came from
    millis = now_ms() - 3_600_000
    counter = 0

    def stamp() -> str:
        nonlocal counter
        counter = (counter + 1) % 0xFFFF
        return str(Timestamp(millis, counter, device_id))

    def merged(row: dict[str, Any], author: str, skip: set[str]) -> dict[str, Any]:
        hlc = stamp()
        keys = [k for k in row if k not in skip]
        row["field_hlc"] = json.dumps({k: hlc for k in keys}, separators=(",", ":"))
        meta = {"v": 1, "a": author, "d": device_id}
        row["field_meta"] = json.dumps({k: meta for k in keys}, separators=(",", ":"))
        return row

    local_only = {"seq", "search_phones", "field_hlc", "server_version", "deleted"}
    territory_of: dict[str, str] = {}
    person_ids: dict[str, list[str]] = {t: [] for t in TERRITORIES}
    out: dict[str, list[dict[str, Any]]] = {}
    contacts = []
    for r in rows["contacts"]:
        row = {k: v for k, v in r.items() if k not in local_only}
        if row["referent_agent_id"]:
            row["referent_agent_id"] = agent_map[row["referent_agent_id"]]
        territory_of[row["id"]] = row["territory_id"]
        person_ids[row["territory_id"]].append(row["id"])
        contacts.append(merged(row, coordinator, {"id", "created_at", "updated_at"}))
    out["contacts"] = contacts
    out["visits"] = [
        {
            **{k: v for k, v in r.items() if k not in local_only},
            "agent_id": agent_map[r["agent_id"]],
        }
        for r in rows["visits"]
    ]
    out["consents"] = [
        {k: v for k, v in r.items() if k not in local_only} for r in rows["consents"]
    ]
    out["register_enrolments"] = [
        {k: v for k, v in r.items() if k not in local_only} for r in rows["register_enrolments"]
    ]
    planned = []
    for r in rows["planned_contacts"]:
        row = {k: v for k, v in r.items() if k not in local_only}
        row["agent_id"] = agent_map[row["agent_id"]]
        planned.append(merged(row, coordinator, {"id", "updated_at"}))
    out["planned_contacts"] = planned

    engine = make_engine(server.database_url)
    try:
        _bulk_insert(engine, out, territory_of, millis)
    finally:
        engine.dispose()
    return Seeded(
        persons=len(contacts),
        rows={t: len(v) for t, v in out.items()},
        person_ids=person_ids,
    )


def _bulk_insert(
    engine: Engine,
    out: dict[str, list[dict[str, Any]]],
    territory_of: dict[str, str],
    millis: int,
) -> None:
    person_column = {
        "contacts": "id",
        "visits": "person_id",
        "consents": "contact_id",
        "register_enrolments": "person_id",
        "planned_contacts": "person_id",
    }
    with engine.begin() as conn:
        history = [
            {"person_id": pid, "territory_id": t, "from_ms": millis, "to_ms": None}
            for pid, t in territory_of.items()
        ]
        for start in range(0, len(history), SEED_CHUNK):
            conn.execute(schema.territory_history.insert(), history[start : start + SEED_CHUNK])
        for table, rows in out.items():
            target = schema.TABLES[table]
            for start in range(0, len(rows), SEED_CHUNK):
                chunk = [
                    {**r, "server_version": 1, "deleted": 0}
                    for r in rows[start : start + SEED_CHUNK]
                ]
                conn.execute(target.insert(), chunk)
                buffer = ChangeBuffer()
                for row in chunk:
                    territory = territory_of[row[person_column[table]]]
                    buffer.add(entry_for(table, decode(row), territory_id=territory))
                flush(conn, buffer, Ordering())


# -- desktop profiles ----------------------------------------------------------------------------


@dataclass
class Desktop:
    """A desktop profile as the application creates it (encrypted, keyring-held key)."""

    root: Path
    ws: Workspace
    engine: SyncEngine

    @classmethod
    def create(cls, root: Path, role: str, territories: list[str]) -> Desktop:
        keyring = MemoryKeyring()
        ws, manager, _recovery = new_workspace(
            root,
            keyring,
            role=role,
            territories=territories,
            clock=Clock(),
            name="Agent de mesure (fictif)",
        )
        engine = SyncEngine(
            ws, profile_id=manager.profile_id, keyring=keyring, device_label="poste de mesure"
        )
        return cls(root, ws, engine)

    def count(self, table: str) -> int:
        return int(self.ws.store.scalar(f"SELECT count(*) FROM {table}"))

    def close(self) -> None:
        self.ws.store.close()


# Tables a first sync fills, parents first (the client's snapshot order is children first;
# reference lists are in every new profile already).
SYNCED_TABLES = tuple(reversed(SNAPSHOT_TABLES))


def synced_rows(desktop: Desktop) -> dict[str, list[dict[str, Any]]]:
    """Every row the first sync left in the profile (``seq`` left to SQLite)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    owner = desktop.ws.store.get_setting("owner_agent_id")
    for table in SYNCED_TABLES:
        found = desktop.ws.store.query(f"SELECT * FROM {table}")
        if table == "agents":
            found = [r for r in found if r["id"] != owner]  # a new profile has its own
        rows[table] = [{k: v for k, v in r.items() if k != "seq"} for r in found]
    return rows


def baseline_insert(root: Path, rows: dict[str, list[dict[str, Any]]]) -> int:
    """ns to insert `rows` with sqlite-utils in one transaction into a fresh profile."""
    desktop = Desktop.create(root, "coordinateur", list(TERRITORIES))
    store = desktop.ws.store
    db = store.db  # sqlite-utils over the profile's SQLCipher connection

    def insert() -> None:
        with store.transaction():
            for table in SYNCED_TABLES:
                if rows[table]:
                    db[table].insert_all(rows[table])

    try:
        elapsed = time_ns(insert)
        for table in SYNCED_TABLES:
            assert desktop.count(table) >= len(rows[table]), table
    finally:
        desktop.close()
    return elapsed


# -- first sync ----------------------------------------------------------------------------------


@dataclass
class Site:
    """One server with its seeded data, an agent who sees all of it, and one who edits."""

    server: ServerProcess
    world: World
    seeded: Seeded
    login: str
    editor: Device


@contextmanager
def make_site(folder: Path, name: str, persons: int, visits: int) -> Iterator[Site]:
    workdir = folder / name
    server = make_server("sqlite", f"sqlite:///{workdir / 'havre-server.db'}", workdir)
    with started(server, "--min-client-version", "0.1.0", "--log-level", "warning"):
        world = World(server)
        try:
            login = world.create_agent("coordinateur", list(TERRITORIES), "Coordination")
            coordinator = world.sign_in(login).agent_id
            progress(f"[{name}] seeding {persons} persons and {visits} visits on the server...")
            start = time.perf_counter()
            seeded = seed_server(server, world, folder, persons, visits, coordinator)
            progress(f"[{name}] seeded in {time.perf_counter() - start:.1f} s: {seeded.rows}")
            editor = world.agent("travailleur-social", ["nord"])
            yield Site(server, world, seeded, login, editor)
        finally:
            world.close()


def first_sync(site: Site, root: Path) -> tuple[Desktop, SyncReport, int]:
    desktop = Desktop.create(root, "coordinateur", list(TERRITORIES))
    desktop.engine.sign_in(site.server.base_url, site.login, PASSWORD)
    report: SyncReport | None = None

    def run() -> None:
        nonlocal report
        report = desktop.engine.sync()

    elapsed = time_ns(run)
    assert report is not None and report.full_download
    return desktop, report, elapsed


# -- incremental sync ----------------------------------------------------------------------------


class Editor:
    """Another agent's edits on the server: new visits, contact changes, new persons."""

    def __init__(self, site: Site, seed: int) -> None:
        self.site = site
        self.device = site.editor
        self.rng = random.Random(seed)
        self.persons = list(site.seeded.person_ids["nord"])

    def changes(self, count: int) -> None:
        d = self.device
        mutations = []
        for i in range(count):
            kind = i % 5
            person = self.rng.choice(self.persons)
            if kind in (0, 1):  # a visit logged
                mutations.append(
                    d.mutation(
                        "visits", str(uuid.uuid4()), "insert", visit_fields(person, d.agent_id)
                    )
                )
            elif kind in (2, 3):  # a contact's details changed
                mutations.append(
                    d.mutation(
                        "contacts",
                        person,
                        "update",
                        {
                            "access_notes": f"Code d'entrée changé ({self.rng.randrange(1000)})",
                            "updated_at": iso(),
                        },
                        base_version=1,
                    )
                )
            else:  # a new person
                person_id = str(uuid.uuid4())
                fields = person_fields("nord", family_name="Exemple", given_names="Dominique")
                fields["id"] = person_id
                mutations.append(d.mutation("contacts", person_id, "insert", fields))
                self.persons.append(person_id)
        results = d.push(*mutations)
        bad = [r for r in results if r["status"] not in ("applied", "conflict")]
        assert not bad, bad


def incremental(sites: dict[str, tuple[Site, Desktop]], sizes: Sizes) -> dict[str, list[int]]:
    editors = {name: Editor(site, seed=i) for i, (name, (site, _)) in enumerate(sites.items())}
    samples: dict[str, list[int]] = {name: [] for name in sites}
    names = list(sites)
    for round_ in range(sizes.incremental_repeat + 1):  # round 0 warms up
        order = names if round_ % 2 == 0 else list(reversed(names))
        for name in order:
            _site, desktop = sites[name]
            editors[name].changes(sizes.incremental_changes)
            report: SyncReport | None = None

            def run(desktop: Desktop = desktop) -> None:
                nonlocal report
                report = desktop.engine.sync()

            elapsed = time_ns(run)
            assert report is not None
            assert report.received == sizes.incremental_changes, report
            assert not report.full_download
            if round_:
                samples[name].append(elapsed)
            progress(f"  round {round_} {name}: {ms(elapsed):.1f} ms ({report.received} received)")
    return samples


# -- throughput on PostgreSQL --------------------------------------------------------------------


@dataclass
class Pusher:
    device: Device
    territory: str
    persons: list[str]
    accepted: int = 0
    errors: int = 0
    first_error: str = ""


def throughput(folder: Path, sizes: Sizes) -> None:
    cluster = PostgresCluster()
    progress("starting PostgreSQL 15...")
    cluster.start()
    try:
        runs = {
            workers: push_run(cluster, folder / f"postgresql-{workers}", sizes, workers)
            for workers in (sizes.server_workers, 1)
        }
    finally:
        cluster.stop()
    total = sizes.clients * sizes.mutations_per_client
    workload = (
        f"{sizes.clients} clients (threads, each its own agent, device and HTTP connection) x "
        f"{sizes.mutations_per_client} mutations in pushes of {sizes.push_batch}: 70% new "
        "visits, 20% contact edits, 10% new persons; PostgreSQL 15"
    )
    accepted, errors, elapsed = runs[sizes.server_workers]
    emit(
        "push.mutations_per_s",
        accepted / elapsed,
        "/s",
        ">= 500",
        notes=(
            f"havre-server serve --workers {sizes.server_workers} (one per core); {accepted} of "
            f"{total} accepted in {elapsed:.2f} s; {workload}"
        ),
        digits=1,
    )
    emit("push.errors", errors, "errors", "<= 0", digits=0)
    accepted, errors, elapsed = runs[1]
    emit(
        "push.mutations_per_s_one_worker",
        accepted / elapsed,
        "/s",
        notes=f"the same with a single server process; {errors} errors",
        digits=1,
    )


def push_run(
    cluster: PostgresCluster, workdir: Path, sizes: Sizes, workers: int
) -> tuple[int, int, float]:
    """(mutations accepted, errors, seconds) for every client pushing its batches at once."""
    server = make_server("postgresql", cluster.new_database(), workdir)
    extra = ("--min-client-version", "0.1.0", "--log-level", "warning", "--workers", str(workers))
    with started(server, *extra):
        world = World(server)
        pushers: list[Pusher] = []
        try:
            for i in range(sizes.clients):
                territory = TERRITORIES[i % len(TERRITORIES)]
                signed = world.agent("travailleur-social", [territory])
                own = httpx.Client(base_url=server.base_url, timeout=120)
                device = Device(
                    server, signed.login, signed.agent, signed.token, signed.device_id, own
                )
                pushers.append(Pusher(device, territory, []))
            # Each agent starts with a few persons of their own (setup, not timed).
            for pusher in pushers:
                d = pusher.device
                mutations = []
                for _ in range(5):
                    pid = str(uuid.uuid4())
                    fields = person_fields(pusher.territory)
                    fields["id"] = pid
                    mutations.append(d.mutation("contacts", pid, "insert", fields))
                    pusher.persons.append(pid)
                assert all(r["status"] == "applied" for r in d.push(*mutations))
            batches = [_batches(p, sizes, random.Random(i)) for i, p in enumerate(pushers)]
            gate = threading.Barrier(sizes.clients + 1)
            threads = [
                threading.Thread(target=_push_all, args=(p, b, gate), daemon=True)
                for p, b in zip(pushers, batches, strict=True)
            ]
            for thread in threads:
                thread.start()
            progress(
                f"pushing {sizes.clients} x {sizes.mutations_per_client} mutations in batches "
                f"of {sizes.push_batch} ({workers} server process(es))..."
            )
            gate.wait()
            start = time.perf_counter()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
        finally:
            for p in pushers:
                p.device.client.close()
            world.close()
    firsts = [p.first_error for p in pushers if p.first_error]
    if firsts:
        progress(f"first error: {firsts[0]}")
    return sum(p.accepted for p in pushers), sum(p.errors for p in pushers), elapsed


def _push_all(pusher: Pusher, todo: list[list[dict[str, Any]]], gate: threading.Barrier) -> None:
    gate.wait()
    for batch in todo:
        try:
            response = pusher.device.push_raw(batch)
        except httpx.HTTPError as exc:
            pusher.errors += len(batch)
            pusher.first_error = pusher.first_error or repr(exc)
            continue
        if response.status_code != 200:
            pusher.errors += len(batch)
            pusher.first_error = pusher.first_error or response.text[:300]
            continue
        for result in response.json()["results"]:
            if result["status"] == "applied":
                pusher.accepted += 1
            else:
                pusher.errors += 1
                pusher.first_error = pusher.first_error or json.dumps(result)


def _batches(pusher: Pusher, sizes: Sizes, rng: random.Random) -> list[list[dict[str, Any]]]:
    """The pushes of one client, made in advance (so the clock is not spent on JSON)."""
    d = pusher.device
    version = dict.fromkeys(pusher.persons, 1)
    mutations = []
    for i in range(sizes.mutations_per_client):
        kind = i % 10
        if kind < 7:
            person = rng.choice(pusher.persons)
            fields = visit_fields(person, d.agent_id)
            mutations.append(d.mutation("visits", str(uuid.uuid4()), "insert", fields))
        elif kind < 9:
            person = rng.choice(pusher.persons)
            mutations.append(
                d.mutation(
                    "contacts",
                    person,
                    "update",
                    {"access_notes": f"Digicode {rng.randrange(10_000):04d}", "updated_at": iso()},
                    base_version=version[person],
                )
            )
            version[person] += 1
        else:
            pid = str(uuid.uuid4())
            fields = person_fields(pusher.territory)
            fields["id"] = pid
            mutations.append(d.mutation("contacts", pid, "insert", fields))
            pusher.persons.append(pid)
            version[pid] = 1
    return [mutations[i : i + sizes.push_batch] for i in range(0, len(mutations), sizes.push_batch)]


# -- main ----------------------------------------------------------------------------------------


def bench_first_and_incremental(folder: Path, sizes: Sizes) -> None:
    with ExitStack() as stack:
        large = stack.enter_context(make_site(folder, "large", sizes.persons, sizes.visits))
        small = stack.enter_context(
            make_site(folder, "small", sizes.small_persons, sizes.small_visits)
        )
        progress("first sync of the large profile (timed)...")
        big, report, sync_ns = first_sync(large, folder / "desktop-large")
        stack.callback(big.close)
        persons = big.ws.store.scalar("SELECT count(*) FROM contacts WHERE kind = 'person'")
        visits = big.count("visits")
        assert persons == large.seeded.persons and visits == sizes.visits, (persons, visits)
        size_mb = big.ws.store.path.stat().st_size / 1e6
        progress(
            f"  {ms(sync_ns) / 1000:.1f} s, {report.received} rows in {report.pages} pages, "
            f"{size_mb:.0f} MB"
        )
        rows = synced_rows(big)
        total = sum(len(r) for r in rows.values())
        baseline: list[int] = []
        for i in range(sizes.baseline_repeat):
            elapsed = baseline_insert(folder / f"baseline-{i}", rows)
            progress(f"  baseline {i}: sqlite-utils insert of {total} rows: {ms(elapsed):.0f} ms")
            baseline.append(elapsed)
        base = statistics.median(baseline)
        counts = ", ".join(f"{t} {len(r)}" for t, r in rows.items() if r)
        emit(
            "first_sync.sync_s",
            sync_ns / 1e9,
            "s",
            notes=(
                f"{persons} persons, {visits} visits; {report.received} rows received in "
                f"{report.pages} pages from havre-server (SQLite) on 127.0.0.1; {size_mb:.0f} MB"
            ),
        )
        emit(
            "first_sync.baseline_s",
            base / 1e9,
            "s",
            notes=(
                f"the same {total} rows ({counts}) inserted with sqlite-utils insert_all into a "
                f"fresh profile in one transaction; median of {sizes.baseline_repeat}"
            ),
        )
        emit("first_sync.ratio", sync_ns / base, "x", "<= 3")

        progress("first sync of the small profile...")
        little, _report, small_ns = first_sync(small, folder / "desktop-small")
        stack.callback(little.close)
        emit(
            "first_sync.small_sync_s",
            small_ns / 1e9,
            "s",
            notes=f"{sizes.small_persons} persons, {sizes.small_visits} visits",
        )

        progress(f"incremental syncs of {sizes.incremental_changes} changes, large vs small...")
        samples = incremental({"large": (large, big), "small": (small, little)}, sizes)
        med = {name: statistics.median(v) for name, v in samples.items()}
        for name, persons_ in (("large", sizes.persons), ("small", sizes.small_persons)):
            emit(
                f"incremental.{name}_ms",
                ms(med[name]),
                "ms",
                notes=(
                    f"{persons_} persons; median of {sizes.incremental_repeat} syncs receiving "
                    f"{sizes.incremental_changes} changes made by another agent"
                ),
            )
        emit("incremental.large_vs_small_ratio", med["large"] / med["small"], "x", "<= 1.5")


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    sizes = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="havre-bench-sync-") as tmp:
        folder = Path(tmp)
        bench_first_and_incremental(folder, sizes)
        throughput(folder, sizes)
    return finish(args)


if __name__ == "__main__":
    sys.exit(main())
