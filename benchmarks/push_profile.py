"""Where a push spends its time: the push path in this process, under cProfile, on a small run.

A durable PostgreSQL 15 (``fsync``, ``synchronous_commit`` and ``full_page_writes`` on, as in
``benchmarks/city.py``), the server's schema and reference data (``havre-server init``), a few
social workers with 5 persons each (setup, not timed), then each pushes its batches of 50 one
after the other through :func:`havre_server.push.push` — the function behind ``POST
/sync/push`` without HTTP — with the mix of ``benchmarks/sync.py`` (70 % new visits, 20 %
contact edits, 10 % new persons). Prints one JSON line per measure (latency of a push of 50:
median and worst, mutations per second of one client) and the functions where the time goes.

Usage: ``python benchmarks/push_profile.py [--clients N] [--mutations N] [--top N]``
(defaults: 4 clients x 200 mutations, 16 pushes; a minute on 2 cores). One client at a time:
it measures the work per push, not the contention of ``benchmarks/city.py``; the statements
per push and the CPU time it reports vary little on a shared machine, the times do (compare
runs made one after the other, before and after a change). ``--throughput`` runs instead the
20-client push measure of ``benchmarks/city.py`` (``--mutations`` each) on the same durable
cluster.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

from benchmarks.sync import QUICK, TERRITORIES, Pusher, _batches, push_run
from havre_common.protocol import LoginRequest, PushRequest
from havre_server import admin, auth
from havre_server.auth import AuthSettings
from havre_server.changelog import ordering_from_env
from havre_server.db import make_engine
from havre_server.push import now_ms, push
from havre_server.reference import load_reference
from havre_server.scope import Principal
from tests.server.support import (
    CLIENT_VERSION,
    PASSWORD,
    Device,
    PostgresCluster,
    make_server,
    person_fields,
)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--clients", type=int, default=4)
    options.add_argument("--mutations", type=int, default=200, help="per client")
    options.add_argument("--top", type=int, default=25, help="functions listed")
    options.add_argument(
        "--throughput",
        action="store_true",
        help="instead: 20 clients pushing at once through a real server (serve --workers 2), "
        "as city.throughput_20_clients, --mutations each",
    )
    args = options.parse_args()
    cluster = PostgresCluster(durable=True)
    cluster.start()
    try:
        if args.throughput:
            sizes = dataclasses.replace(QUICK, clients=20, mutations_per_client=args.mutations)
            with tempfile.TemporaryDirectory(prefix="havre-push-throughput-") as tmp:
                accepted, errors, elapsed = push_run(cluster, Path(tmp), sizes, 2)
            print(
                json.dumps(
                    {
                        "name": "push.mutations_per_s_20_clients",
                        "value": round(accepted / elapsed, 1),
                        "unit": "/s",
                        "errors": errors,
                    }
                )
            )
            return 0
        with tempfile.TemporaryDirectory(prefix="havre-push-profile-") as tmp:
            url = cluster.new_database()
            make_server("postgresql", url, Path(tmp))  # init: schema, reference, admin
            run(url, args.clients, args.mutations, args.top)
    finally:
        cluster.stop()
    return 0


def _principal(engine: Any, territory: str) -> tuple[Principal, dict[str, Any]]:
    from havre_common.protocol import AgentCreate

    login = f"ts-{uuid.uuid4().hex[:10]}"
    admin.create_agent(
        engine,
        None,
        AgentCreate(
            login=login,
            password=PASSWORD,
            display_name=f"Agent {login[-4:]}",
            role="travailleur-social",
            territory_ids=[territory],
        ),
        load_reference(),
        ordering_from_env(),
    )
    reply = auth.login(
        engine,
        LoginRequest(
            login=login,
            password=PASSWORD,
            device_id=uuid.uuid4().hex,
            client_version=CLIENT_VERSION,
        ),
        "127.0.0.1",
        AuthSettings(),
    )
    return auth.authenticate(engine, f"Bearer {reply.token}"), reply.agent.model_dump()


def _push(engine: Any, p: Principal, mutations: list[dict[str, Any]]) -> list[str]:
    request = PushRequest.model_validate(
        {"device_id": p.device_id, "client_time_ms": now_ms(), "mutations": mutations}
    )
    reply = push(engine, p, request, load_reference(), ordering_from_env())
    return [r.status for r in reply.results]


def run(url: str, clients: int, mutations: int, top: int) -> None:
    engine = make_engine(url)
    sizes = dataclasses.replace(
        QUICK, clients=clients, mutations_per_client=mutations, push_batch=50
    )
    plans: list[tuple[Principal, list[list[dict[str, Any]]]]] = []
    for i in range(clients):
        territory = TERRITORIES[i % len(TERRITORIES)]
        p, agent = _principal(engine, territory)
        # Device only builds the mutations here (ids, clocks): no HTTP.
        device = Device(None, p.login, agent, "", p.device_id, None)  # type: ignore[arg-type]
        pusher = Pusher(device, territory, [])
        setup = []
        for _ in range(5):
            pid = str(uuid.uuid4())
            fields = person_fields(territory)
            fields["id"] = pid
            setup.append(device.mutation("contacts", pid, "insert", fields))
            pusher.persons.append(pid)
        assert set(_push(engine, p, setup)) == {"applied"}
        plans.append((p, _batches(pusher, sizes, random.Random(i))))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    statements = [0]

    def counted(*_args: Any) -> None:
        statements[0] += 1  # one execute (an executemany counts once)

    event.listen(engine, "before_cursor_execute", counted)
    profile = cProfile.Profile()
    started, cpu = time.perf_counter(), time.process_time()
    for p, batches in plans:
        for batch in batches:
            t0 = time.perf_counter()
            profile.enable()
            results = _push(engine, p, batch)
            profile.disable()
            latencies.append((time.perf_counter() - t0) * 1000)
            for status in results:
                statuses[status] = statuses.get(status, 0) + 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    total = sum(statuses.values())
    latencies.sort()
    for name, value, unit in (
        ("push50.p50_ms", statistics.median(latencies), "ms"),
        ("push50.max_ms", latencies[-1], "ms"),
        ("push.mutations_per_s_one_client", total / elapsed, "/s"),
        # Less at the mercy of a shared machine than the times above:
        ("push50.statements", statements[0] / len(latencies), "statements"),
        ("push50.python_cpu_ms", cpu * 1000 / len(latencies), "ms"),
    ):
        print(json.dumps({"name": name, "value": round(value, 1), "unit": unit}))
    print(json.dumps({"name": "push.statuses", "value": statuses, "pushes": len(latencies)}))
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
