"""City scale: 300 devices through a working day compressed in time, on durable PostgreSQL.

Targets (issue #17), on PostgreSQL 15 **with its durable settings** (``fsync``,
``synchronous_commit`` and ``full_page_writes`` on, checked and reported):

* 0 errors (a request that fails, a 5xx, or an edit the server refuses);
* pull latency p99 <= 300 ms (every pull request of the day: log pages and first downloads);
* push of 50 mutations p99 <= 500 ms;
* mutations per second accepted from 20 concurrent clients >= 1,000 (the push throughput
  measure of ``benchmarks/sync.py``, run here on the durable cluster).

The day: the social services, reception desks and coordinators of a city of 170,000
(``FULL``: 300 devices — 220 social workers, 60 reception desks, 20 coordinators — over 5
territories, 3,000 persons and 9,000 visits already on the server). Eight working hours pass
in ``day_s`` real seconds (960 s: 30 times faster than real time, so the server carries about
30 times the city's load; ``--day-s`` changes it). Each device syncs every 3 to 10 simulated
minutes (meta, push its edits in batches of 50, pull pages of 500 until the head) and works in
between: social workers
log visits and edit contacts, now and then a new person; reception desks count encounters;
coordinators edit now and then and mostly read. Some devices are new and make their first
full download during the day; some go offline for hours, then push hundreds of edits at once.
Every device is a protocol-level client (``tests/server/support.Device``, its own HTTP
connection) in a thread of this process; the server runs as deployed (``serve --workers 2``,
one per core of the 2-core machine of the figures), and shares those cores with the clients.

Setup (not timed): agents, seeded persons and visits (pushed), and each device's first
download, except for the devices that download during the day.

Usage: ``python benchmarks/city.py [--quick] [--check] [--only day|throughput]`` (see
benchmarks/common.py). ``--quick`` (30 devices, a 60-second day, 300 persons) proves the
benchmark works; its figures are not the issue's. ``--only throughput`` runs the 20-client
measure alone (a minute: 20 x 500 mutations, setup included), ``--only day`` the day alone.
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks import sync as sync_bench
from benchmarks.common import emit, finish, parser, progress
from havre_common.protocol import API_PREFIX
from tests.server.support import (
    Device,
    PostgresCluster,
    ServerProcess,
    World,
    iso,
    make_server,
    person_fields,
    running_cluster,
    started,
    visit_fields,
)

TERRITORIES = sync_bench.TERRITORIES
DAY_MIN = 8 * 60
BATCH = 50
PAGE = 500


@dataclass(frozen=True)
class Sizes:
    devices: int
    coordinators: int
    reception: int
    persons: int
    visits: int
    day_s: float
    first_downloads: int  # devices whose first download happens during the day
    offline: int  # devices offline for hours, then pushing hundreds of edits
    offline_edits: tuple[int, int]
    throughput_mutations: int  # per client, 20 clients
    workers: int


FULL = Sizes(300, 20, 60, 3_000, 9_000, 960.0, 15, 15, (200, 400), 500, 2)
QUICK = Sizes(30, 3, 6, 300, 900, 60.0, 3, 3, (100, 150), 100, 2)


@dataclass
class Stats:
    pulls: list[float] = field(default_factory=list)  # ms, every pull request
    first_pages: list[float] = field(default_factory=list)  # ms, pages of a first download
    pushes: list[float] = field(default_factory=list)  # ms, every push request
    pushes_of_50: list[float] = field(default_factory=list)
    accepted: int = 0
    conflicts: int = 0
    errors: int = 0
    first_error: str = ""
    syncs: int = 0
    first_downloads: list[float] = field(default_factory=list)  # s, whole download
    offline_pushes: list[float] = field(default_factory=list)  # s, hundreds of edits
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors += 1
            self.first_error = self.first_error or what[:300]


@dataclass
class CityDevice:
    device: Device
    role: str
    territory: str
    rng: random.Random
    cursor: str = "0"
    versions: dict[str, int] = field(default_factory=dict)  # contacts it holds: server version
    outbox: list[dict[str, Any]] = field(default_factory=list)
    first_at_min: float | None = None  # downloads during the day
    offline: tuple[float, float] | None = None  # simulated minutes

    # -- work between syncs ----------------------------------------------------------------

    def work(self, edits: int | None = None) -> None:
        d, rng = self.device, self.rng
        if self.role == "accueil":
            for _ in range(edits or rng.randint(1, 4)):
                row_id = str(uuid.uuid4())
                fields = {
                    "id": row_id,
                    "occurred_at": iso(),
                    "territory_id": self.territory,
                    "need_id": rng.choice(["numerique", "isolement", "sante"]),
                    "age_group_id": rng.choice(["60-74", "75-84", "85-plus"]),
                    "agent_id": d.agent_id,
                    "facility_id": None,
                }
                self.outbox.append(d.mutation("reception_encounters", row_id, "insert", fields))
            return
        count = edits or (
            rng.randint(0, 3) if self.role == "travailleur-social" else rng.randint(0, 1)
        )
        for _ in range(count):
            kind = rng.random()
            if kind < 0.1 or not self.versions:
                person = str(uuid.uuid4())
                fields = {**person_fields(self.territory), "id": person}
                self.outbox.append(d.mutation("contacts", person, "insert", fields))
                self.versions[person] = 1
            elif kind < 0.35:
                person = rng.choice(list(self.versions))
                change = {
                    "access_notes": f"Digicode {rng.randrange(10_000):04d}",
                    "updated_at": iso(),
                }
                self.outbox.append(
                    d.mutation("contacts", person, "update", change, self.versions[person])
                )
            else:
                person = rng.choice(list(self.versions))
                fields = visit_fields(person, d.agent_id)
                self.outbox.append(d.mutation("visits", str(uuid.uuid4()), "insert", fields))

    # -- one sync ----------------------------------------------------------------------------

    def sync(self, stats: Stats) -> None:
        client = self.device.client
        try:
            client.get(f"{API_PREFIX}/sync/meta").raise_for_status()
            while self.outbox:
                batch, self.outbox = self.outbox[:BATCH], self.outbox[BATCH:]
                self._push(batch, stats)
            self._pull(stats)
        except httpx.HTTPError as exc:
            stats.error(repr(exc))
        with stats.lock:
            stats.syncs += 1

    def _push(self, batch: list[dict[str, Any]], stats: Stats) -> None:
        started_at = time.perf_counter()
        response = self.device.push_raw(batch)
        elapsed = (time.perf_counter() - started_at) * 1000
        with stats.lock:
            stats.pushes.append(elapsed)
            if len(batch) == BATCH:
                stats.pushes_of_50.append(elapsed)
        if response.status_code != 200:
            stats.error(f"push {response.status_code}: {response.text}")
            return
        for mutation, result in zip(batch, response.json()["results"], strict=True):
            status = result["status"]
            if status in ("applied", "conflict"):
                with stats.lock:
                    stats.accepted += 1
                    stats.conflicts += status == "conflict"
                if mutation["table_name"] == "contacts":
                    self.versions[mutation["row_id"]] = int(result["server_version"])
            elif status != "duplicate":
                stats.error(f"{status}: {result.get('reason')}")

    def _pull(self, stats: Stats) -> None:
        first = self.cursor == "0"
        began = time.perf_counter()
        while True:
            started_at = time.perf_counter()
            response = self.device.pull_page(self.cursor, PAGE)
            elapsed = (time.perf_counter() - started_at) * 1000
            with stats.lock:
                stats.pulls.append(elapsed)
                if first:
                    stats.first_pages.append(elapsed)
            if response.status_code != 200:
                stats.error(f"pull {response.status_code}: {response.text}")
                return
            page = response.json()
            if page["reset_required"]:
                self.cursor, first = "0", True
                continue
            for change in page["changes"]:
                if change["table_name"] == "contacts":
                    if change["op"] == "upsert":
                        self.versions[change["row_id"]] = int(change["server_version"])
                    else:
                        self.versions.pop(change["row_id"], None)
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        if first:
            with stats.lock:
                stats.first_downloads.append(time.perf_counter() - began)


# -- setup ---------------------------------------------------------------------------------------


def make_devices(server: ServerProcess, world: World, sizes: Sizes) -> list[CityDevice]:
    roles = (
        ["coordinateur"] * sizes.coordinators
        + ["accueil"] * sizes.reception
        + ["travailleur-social"] * (sizes.devices - sizes.coordinators - sizes.reception)
    )
    devices = []
    for i, role in enumerate(roles):
        territory = TERRITORIES[i % len(TERRITORIES)]
        signed = world.agent(role, [territory])
        own = httpx.Client(base_url=server.base_url, timeout=120)
        device = Device(server, signed.login, signed.agent, signed.token, signed.device_id, own)
        devices.append(CityDevice(device, role, territory, random.Random(i)))
    return devices


def seed(world: World, sizes: Sizes) -> None:
    """Persons and visits already on the server, pushed by one social worker per territory."""
    for t, territory in enumerate(TERRITORIES):
        writer = world.agent("travailleur-social", [territory])
        persons = sizes.persons // len(TERRITORIES)
        visits = sizes.visits // len(TERRITORIES)
        ids = [str(uuid.uuid4()) for _ in range(persons)]
        rng = random.Random(1000 + t)
        todo = [
            writer.mutation("contacts", pid, "insert", {**person_fields(territory), "id": pid})
            for pid in ids
        ] + [
            writer.mutation(
                "visits",
                str(uuid.uuid4()),
                "insert",
                visit_fields(rng.choice(ids), writer.agent_id),
            )
            for _ in range(visits)
        ]
        for start in range(0, len(todo), BATCH):
            results = writer.push(*todo[start : start + BATCH])
            assert all(r["status"] == "applied" for r in results), results


def run_in_pool(jobs: list[Any], threads: int) -> None:
    pending = list(jobs)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not pending:
                    return
                job = pending.pop()
            job()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


# -- the day -------------------------------------------------------------------------------------


def live(
    city: CityDevice, sizes: Sizes, stats: Stats, start: list[float], gate: threading.Event
) -> None:
    gate.wait()
    day_start = start[0]
    per_min = sizes.day_s / DAY_MIN
    rng = city.rng
    now_min = city.first_at_min if city.first_at_min is not None else rng.uniform(0, 10)
    offline_done = False
    while now_min < DAY_MIN:
        delay = day_start + now_min * per_min - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if city.offline and city.offline[0] <= now_min < city.offline[1]:
            city.work()  # works on, offline: the edits wait in the outbox
        elif city.offline and now_min >= city.offline[1] and not offline_done:
            offline_done = True
            city.work(rng.randint(*sizes.offline_edits))
            began = time.perf_counter()
            city.sync(stats)
            with stats.lock:
                stats.offline_pushes.append(time.perf_counter() - began)
        else:
            if city.cursor != "0":
                city.work()
            city.sync(stats)
        now_min += rng.uniform(3, 10)


def the_day(cluster: PostgresCluster, folder: Path, sizes: Sizes) -> tuple[Stats, float]:
    server = make_server("postgresql", cluster.new_database(), folder / "day")
    options = ("--min-client-version", "0.1.0", "--log-level", "warning")
    with started(server, *options, "--workers", str(sizes.workers)):
        world = World(server)
        devices: list[CityDevice] = []
        try:
            progress(f"seeding {sizes.persons} persons and {sizes.visits} visits...")
            seed(world, sizes)
            progress(f"signing in {sizes.devices} devices...")
            devices = make_devices(server, world, sizes)
            rng = random.Random(20261129)
            order = list(range(sizes.devices))
            rng.shuffle(order)
            for i in order[: sizes.first_downloads]:
                devices[i].first_at_min = rng.uniform(30, DAY_MIN / 2)
            for i in order[sizes.first_downloads : sizes.first_downloads + sizes.offline]:
                leaves = rng.uniform(30, 120)
                devices[i].offline = (leaves, leaves + rng.uniform(120, 240))
            progress("first downloads of the devices already in service (setup)...")
            setup = Stats()
            run_in_pool(
                [(lambda c=c: c._pull(setup)) for c in devices if c.first_at_min is None],
                8,
            )
            if setup.errors:
                raise RuntimeError(f"setup failed: {setup.first_error}")
            stats = Stats()
            gate, start = threading.Event(), [0.0]
            threads = [
                threading.Thread(target=live, args=(c, sizes, stats, start, gate), daemon=True)
                for c in devices
            ]
            for thread in threads:
                thread.start()
            progress(f"the working day: {DAY_MIN // 60} h in {sizes.day_s:.0f} s...")
            start[0] = time.perf_counter()
            gate.set()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start[0]
        finally:
            for city in devices:
                city.device.client.close()
            world.close()
    return stats, elapsed


# -- report --------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def durable_flag(durable: dict[str, str]) -> None:
    setting = ", ".join(f"{k}={v}" for k, v in durable.items())
    emit(
        "city.postgres_durable",
        float(all(v == "on" for v in durable.values())),
        "bool",
        ">= 1",
        notes=f"PostgreSQL 15: {setting}",
        digits=0,
    )


def report(stats: Stats, elapsed: float, sizes: Sizes, durable: dict[str, str]) -> None:
    durable_flag(durable)
    day = (
        f"{sizes.devices} devices ({sizes.devices - sizes.coordinators - sizes.reception} social "
        f"workers, {sizes.reception} reception desks, {sizes.coordinators} coordinators), "
        f"{DAY_MIN // 60} h in {elapsed:.0f} s ({DAY_MIN * 60 / sizes.day_s:.0f}x faster than "
        f"real time), serve --workers {sizes.workers}; {stats.syncs} "
        f"syncs, {len(stats.pushes)} pushes, {len(stats.pulls)} pull requests"
    )
    for q in (50, 95):
        emit(f"city.pull_p{q}_ms", percentile(stats.pulls, q), "ms", digits=1)
    emit("city.pull_p99_ms", percentile(stats.pulls, 99), "ms", "<= 300", notes=day, digits=1)
    emit(
        "city.first_download_page_p99_ms",
        percentile(stats.first_pages, 99),
        "ms",
        notes=f"pages of {PAGE} rows; {len(stats.first_downloads)} first downloads in the day, "
        f"longest {max(stats.first_downloads, default=0):.1f} s",
        digits=1,
    )
    for q in (50, 95, 99):
        emit(f"city.push_p{q}_ms", percentile(stats.pushes, q), "ms", digits=1)
    emit(
        "city.push50_p99_ms",
        percentile(stats.pushes_of_50, 99),
        "ms",
        "<= 500",
        notes=f"{len(stats.pushes_of_50)} pushes of {BATCH} mutations",
        digits=1,
    )
    emit(
        "city.offline_return_s_max",
        max(stats.offline_pushes, default=0.0),
        "s",
        notes=f"{len(stats.offline_pushes)} devices back after hours offline with "
        f"{sizes.offline_edits[0]}-{sizes.offline_edits[1]} edits (push and pull)",
        digits=2,
    )
    emit(
        "city.mutations_per_s",
        stats.accepted / elapsed,
        "/s",
        notes=f"{stats.accepted} accepted during the day ({stats.conflicts} with a conflict)",
        digits=1,
    )
    emit("city.errors", stats.errors, "errors", "<= 0", notes=stats.first_error or None, digits=0)


def throughput(cluster: PostgresCluster, folder: Path, sizes: Sizes) -> None:
    """The 20-client push throughput of benchmarks/sync.py, on the durable cluster."""
    push_sizes = dataclasses.replace(
        sync_bench.FULL, clients=20, mutations_per_client=sizes.throughput_mutations
    )
    accepted, errors, elapsed = sync_bench.push_run(
        cluster, folder / "throughput", push_sizes, sizes.workers
    )
    emit(
        "city.throughput_20_clients",
        accepted / elapsed,
        "/s",
        ">= 1000",
        notes=f"20 clients x {sizes.throughput_mutations} mutations in pushes of 50, "
        f"serve --workers {sizes.workers}, durable PostgreSQL; {errors} errors",
        digits=1,
    )


def main() -> int:
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--day-s", type=float, help="real seconds for the 8-hour day")
    options.add_argument(
        "--only",
        choices=("day", "throughput"),
        help="run one part: the working day, or the 20-client push throughput",
    )
    args = options.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.day_s:
        sizes = dataclasses.replace(sizes, day_s=args.day_s)
    with tempfile.TemporaryDirectory(prefix="havre-bench-city-") as tmp:
        progress("starting PostgreSQL 15 with its durable settings...")
        with running_cluster(durable=True) as cluster:
            durable = {name: cluster.setting(name) for name in PostgresCluster.DURABLE}
            if args.only != "throughput":
                stats, elapsed = the_day(cluster, Path(tmp), sizes)
                report(stats, elapsed, sizes, durable)
            if args.only != "day":
                if args.only == "throughput":  # report() names the settings otherwise
                    durable_flag(durable)
                throughput(cluster, Path(tmp), sizes)
    return finish(args)


if __name__ == "__main__":
    sys.exit(main())
