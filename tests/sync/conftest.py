"""Sync tests: real encrypted client databases against a real ``havre-server serve`` process.

One server per session (embedded SQLite by default; ``HAVRE_SYNC_BACKEND=postgresql`` runs the
same tests against a PostgreSQL cluster started for the session). Each test makes its own
agents, so tests do not see each other's data except shared reference data and catalogue.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.server.support import (
    PostgresCluster,
    ServerProcess,
    World,
    make_server,
    running_cluster,
    started,
)
from tests.sync.support import Laptop

MakeLaptop = Callable[..., Laptop]


@contextlib.contextmanager
def serving(backend: str, tmp: Path) -> Iterator[ServerProcess]:
    """A running server on its own database: a SQLite file in ``tmp``, or a PostgreSQL
    cluster started for it (and stopped after)."""
    cluster: PostgresCluster | None = None
    if backend == "postgresql":
        cluster = PostgresCluster()
        cluster.start()
        url = cluster.new_database()
    else:
        url = f"sqlite:///{tmp / 'havre-server.db'}"
    try:
        process = make_server(backend, url, tmp)
        with started(process, "--min-client-version", "0.1.0"):
            yield process
    finally:
        if cluster is not None:
            cluster.stop()


@pytest.fixture(scope="session")
def sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    backend = os.environ.get("HAVRE_SYNC_BACKEND", "sqlite")
    with serving(backend, tmp_path_factory.mktemp("sync-server")) as process:
        yield process


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster for the tests that need one whatever the session's backend."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def world(sync_server: ServerProcess) -> Iterator[World]:
    w = World(sync_server)
    yield w
    w.close()


@pytest.fixture
def laptops(tmp_path: Path, world: World) -> Iterator[MakeLaptop]:
    """``laptops(role, territories)``: a new profile signed in as a new agent."""
    made: list[Laptop] = []

    def make(
        role: str = "travailleur-social",
        territories: tuple[str, ...] | list[str] = ("nord",),
        *,
        login: str | None = None,
        sign_in: bool = True,
        client_version: str | None = None,
        register_right: bool | None = None,
    ) -> Laptop:
        laptop = Laptop(
            tmp_path / f"laptop-{len(made)}",
            role,
            list(territories),
            client_version=client_version,
        )
        made.append(laptop)
        if sign_in:
            laptop.sign_in(
                world,
                login or world.create_agent(role, list(territories), register_right=register_right),
            )
        return laptop

    yield make
    for laptop in made:
        laptop.close()
