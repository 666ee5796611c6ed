"""Server tests: a real ``havre-server serve`` process on loopback, on SQLite and on a real
PostgreSQL 15 that this file starts itself (and stops at the end of the session)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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


def _postgres_available() -> bool:
    return shutil.which("pg_config") is not None


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    if not _postgres_available():
        pytest.fail("PostgreSQL 15 is needed (scripts/bootstrap.sh installs it)")
    with running_cluster() as cluster:
        yield cluster


def _database_url(backend: str, request: pytest.FixtureRequest, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'havre-server.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One running server per backend, shared by the tests (each test makes its own agents)."""
    backend = str(request.param)
    tmp = tmp_path_factory.mktemp(f"server-{backend}")
    process = make_server(backend, _database_url(backend, request, tmp), tmp)
    with started(process, "--min-client-version", "0.1.0"):
        yield process


@pytest.fixture
def world(server: ServerProcess) -> Iterator[World]:
    w = World(server)
    yield w
    w.close()


@pytest.fixture
def server_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """Start extra servers with their own database and environment (stopped after the test)."""
    made: list[ServerProcess] = []

    def make(backend: str, env: dict[str, str] | None = None, *extra: str) -> ServerProcess:
        tmp = tmp_path / f"{backend}-{len(made)}"
        tmp.mkdir()
        process = make_server(backend, _database_url(backend, request, tmp), tmp, env)
        process.start(*extra)
        made.append(process)
        return process

    yield make
    for process in made:
        process.stop()
