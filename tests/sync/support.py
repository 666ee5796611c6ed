"""Laptops for the sync tests: real encrypted profiles, a moving clock, a faulty network.

The server side (a real ``havre-server serve`` process, agents, a protocol-level replica
used as the reference "server view") comes from ``tests/server/support.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from havre_desktop.core.clock import Clock
from havre_desktop.core.profile import ProfileManager
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import JSON_COLUMNS, Workspace
from havre_desktop.sync.engine import SyncEngine, SyncReport
from havre_desktop.sync.local import SNAPSHOT_TABLES
from tests.helpers import MemoryKeyring, new_workspace
from tests.server.support import PASSWORD, Replica, World
from tests.sync.faults import FaultPlan, FaultyTransport

VIEW_TABLES = tuple(t for t in SNAPSHOT_TABLES)


class ShiftedClock(Clock):
    """The real time plus an offset the test can change (a laptop with a wrong clock)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        super().__init__(lambda: datetime.now(UTC) + self.offset)


@dataclass
class Laptop:
    """One desktop profile (its own encrypted database file and keyring) and its engine."""

    root: Path
    role: str
    territories: list[str]
    keyring: MemoryKeyring = field(default_factory=MemoryKeyring)
    clock: ShiftedClock = field(default_factory=ShiftedClock)
    plan: FaultPlan = field(default_factory=FaultPlan)
    client_version: str | None = None
    store: Store | None = None  # a profile already made (restored from a backup), else a new one
    ws: Workspace = field(init=False)
    manager: ProfileManager = field(init=False)
    engine: SyncEngine = field(init=False)
    login: str | None = None
    recovery: str = field(init=False, default="")

    def __post_init__(self) -> None:
        if self.store is None:
            created, self.manager, self.recovery = new_workspace(
                self.root, self.keyring, role=self.role, territories=self.territories
            )
            self.store = created.store
        else:
            self.manager = ProfileManager(self.root, self.keyring)
        # Same store, but a real moving clock (the server compares clocks).
        self.ws = Workspace(self.store, clock=self.clock)
        self.engine = self._engine()

    def _engine(self) -> SyncEngine:
        plan = self.plan
        options: dict[str, Any] = {}
        if self.client_version:
            options["client_version"] = self.client_version
        return SyncEngine(
            self.ws,
            profile_id=self.manager.profile_id,
            keyring=self.keyring,
            http_wrap=lambda inner: FaultyTransport(inner, plan),
            device_label="poste de test",
            **options,
        )

    # -- life cycle ------------------------------------------------------------------------

    def sign_in(self, world: World, login: str, password: str = PASSWORD) -> None:
        self.engine.sign_in(world.server.base_url, login, password)
        self.login = login

    def sync(self) -> SyncReport:
        return self.engine.sync()

    def reopen(self) -> None:
        """Close the database and open it again from the file (an application restart)."""
        self.ws.store.close()
        self.open()

    def open(self) -> None:
        """Open the profile from its files after ``close()`` (an application start: after
        another process used it, or was killed while using it). The engine keeps its page
        and batch sizes."""
        pull_limit, push_batch = self.engine.pull_limit, self.engine.push_batch
        store = self.manager.unlock()
        self.ws = Workspace(store, clock=self.clock)
        self.engine = self._engine()
        self.engine.pull_limit, self.engine.push_batch = pull_limit, push_batch

    def close(self) -> None:
        self.ws.store.close()

    # -- reading ---------------------------------------------------------------------------

    def count(self, table: str, where: str = "1", params: tuple[Any, ...] = ()) -> int:
        return int(self.ws.store.scalar(f"SELECT count(*) FROM {table} WHERE {where}", params))

    def row(self, table: str, row_id: str) -> dict[str, Any] | None:
        return self.ws.store.query_one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))

    def has(self, table: str, row_id: str) -> bool:
        return self.row(table, row_id) is not None

    def outbox(self) -> list[dict[str, Any]]:
        return self.ws.outbox_entries()

    def cursor(self) -> str | None:
        return self.ws.sync_meta("pull_cursor")

    @property
    def agent_id(self) -> str:
        assert self.ws.agent_id
        return self.ws.agent_id


def normalise(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, bool):
        return int(value)
    return value


def local_view(laptop: Laptop) -> dict[tuple[str, str], dict[str, Any]]:
    """Every synced row the laptop holds (reference lists left out)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for table in VIEW_TABLES:
        for row in laptop.ws.store.query(f"SELECT * FROM {table}"):
            rows[(table, str(row["id"]))] = {k: normalise(k, v) for k, v in row.items()}
    return rows


def server_view(world: World, login: str) -> dict[tuple[str, str], dict[str, Any]]:
    """What this agent may see now, as a fresh device downloads it (the reference)."""
    replica = Replica(world.sign_in(login)).sync()
    view: dict[tuple[str, str], dict[str, Any]] = {}
    for (table, row_id), fields in replica.rows.items():
        if table not in VIEW_TABLES:
            continue
        if table == "conflicts" and fields.get("resolved_at"):
            continue
        view[(table, row_id)] = {k: normalise(k, v) for k, v in fields.items()}
    return view


def differences(laptop: Laptop, world: World) -> list[str]:
    """How the laptop differs from the server's view of its agent (empty when equal)."""
    assert laptop.login
    mine, theirs = local_view(laptop), server_view(world, laptop.login)
    problems = [f"missing on the device: {k}" for k in sorted(set(theirs) - set(mine))]
    problems += [f"not on the server view: {k}" for k in sorted(set(mine) - set(theirs))]
    for key in sorted(set(mine) & set(theirs)):
        for column, value in theirs[key].items():
            if mine[key].get(column) != value:
                problems.append(f"{key}.{column}: device {mine[key].get(column)!r} != {value!r}")
    return problems


class RoundRobin(httpx.BaseTransport):
    """A load balancer (or a DNS name moved to another host): each request goes to the next
    server of ``ports``, a list the test may change between requests."""

    def __init__(self, inner: httpx.BaseTransport, ports: list[int]) -> None:
        self.inner = inner
        self.ports = ports
        self.turn = 0
        self.sent: list[tuple[str, int]] = []

    def close(self) -> None:
        self.inner.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        request.url = request.url.copy_with(port=port)
        self.sent.append((request.url.path.rsplit("/", 1)[-1], port))
        return self.inner.handle_request(request)
