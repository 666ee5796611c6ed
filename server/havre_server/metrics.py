"""Prometheus metrics (``GET /metrics``, text format of prometheus-client).

Counted by this process: requests by method, route template and status
(``havre_http_requests_total``), their durations (``havre_http_request_duration_seconds``),
push requests (``havre_sync_pushes_total``), pushed mutations by result
(``havre_sync_mutations_total{status=applied|duplicate|conflict|rejected}``), conflict rows made
(``havre_sync_conflicts_total``), rejected mutations (``havre_sync_rejections_total``), pull
replies by phase (``havre_sync_pulls_total{phase=snapshot|log|reset}``).

Read from the database at each scrape, so the same on every server process: the change log's
head and floor, the devices (not revoked) whose position is below the floor — they will
download everything again at their next sync (``havre_devices_behind_log_floor``) — and whether
the database answers (``havre_database_up``).

With ``serve --workers N`` the worker processes share their counts through files in
``$PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode; ``havre-server serve``
makes a private folder when it is not set), so that any worker answers for all of them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from havre_common.protocol import PullReply, PushReply
from havre_server.changelog import head_seq
from havre_server.db import get_state
from havre_server.schema import device_pull_state, devices

log = logging.getLogger("havre.server.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class LogCollector(Collector):
    """Gauges read from the database when Prometheus scrapes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("havre_database_up", "1 si la base répond, 0 sinon")
        try:
            read_only = self.engine.connect().execution_options(havre_read_only=True)
            with read_only as conn, conn.begin():
                head = head_seq(conn)
                floor = int(get_state(conn, "log_floor", "0"))
                d, s = devices, device_pull_state
                behind = conn.execute(
                    select(func.count())
                    .select_from(d.join(s, s.c.device_pk == d.c.id))
                    .where(d.c.revoked_at_ms.is_(None), s.c.cursor_seq < floor)
                ).scalar_one()
        except SQLAlchemyError:
            log.warning("metrics: database unavailable")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "havre_change_log_head_seq", "dernière position du journal", value=head
        )
        yield GaugeMetricFamily(
            "havre_change_log_floor_seq", "plancher du journal (compactage)", value=floor
        )
        yield GaugeMetricFamily(
            "havre_devices_behind_log_floor",
            "appareils non révoqués sous le plancher du journal (téléchargement complet à venir)",
            value=int(behind),
        )


class Metrics:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "havre_http_requests",
            "requêtes HTTP traitées",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "havre_http_request_duration_seconds",
            "durée des requêtes HTTP",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.pushes = Counter("havre_sync_pushes", "envois (push) traités", registry=r)
        self.mutations = Counter(
            "havre_sync_mutations", "modifications reçues, par résultat", ["status"], registry=r
        )
        self.conflicts = Counter("havre_sync_conflicts", "conflits enregistrés", registry=r)
        self.rejections = Counter("havre_sync_rejections", "modifications refusées", registry=r)
        self.pulls = Counter(
            "havre_sync_pulls", "réponses de réception (pull), par phase", ["phase"], registry=r
        )
        self.log_collector = LogCollector(engine)
        r.register(self.log_collector)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def pushed(self, reply: PushReply) -> None:
        self.pushes.inc()
        for result in reply.results:
            self.mutations.labels(result.status).inc()
            if result.status == "conflict":
                self.conflicts.inc(len(result.conflict_ids))
            elif result.status == "rejected":
                self.rejections.inc()

    def pulled(self, reply: PullReply) -> None:
        self.pulls.labels("reset" if reply.reset_required else reply.phase).inc()

    def exposition(self) -> bytes:
        if os.environ.get(MULTIPROC_ENV):
            shared = CollectorRegistry()
            MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
            shared.register(self.log_collector)
            return generate_latest(shared)
        return generate_latest(self.registry)
