"""The server as the City runs it: a private data folder, errors that can be traced in its log,
and API docs that work on a network with no internet."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from havre_common.protocol import API_PREFIX, ErrorBody
from tests.server.support import (
    PASSWORD,
    SERVER_BIN,
    STARTUP_TIMEOUT_S,
    TEST_ENV,
    ServerProcess,
    World,
    free_port,
    wait_until,
)

# -- the data folder ----------------------------------------------------------------------------


def _server_env() -> dict[str, str]:
    env = {**os.environ, **TEST_ENV}
    env.pop("HAVRE_SERVER_DATABASE", None)
    env.pop("HAVRE_SERVER_DATA", None)
    return env


def _cli(data: Path, *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [str(SERVER_BIN), "--data-dir", str(data), *args],
        env=_server_env(),
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
        check=True,
        umask=0o002,  # a lax umask, as a shared service account may have
    )


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Callable[[Path], str]]:
    """``havre-server --data-dir D serve`` on a free port; returns its base URL."""
    processes: list[subprocess.Popen[bytes]] = []

    def serve(data: Path) -> str:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (tmp_path / f"serve-{port}.log").open("wb")
        process = subprocess.Popen(
            [str(SERVER_BIN), "--data-dir", str(data), "serve", "--port", str(port)],
            env=_server_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            umask=0o002,
        )
        log.close()
        processes.append(process)

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError("server exited")
            try:
                return httpx.get(f"{base}{API_PREFIX}/sync/meta").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, STARTUP_TIMEOUT_S, "the server to answer")
        return base

    yield serve
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}


def test_the_data_folder_and_its_files_are_private(
    tmp_path: Path, serving: Callable[[Path], str]
) -> None:
    data = tmp_path / "nouveau" / "donnees"
    _cli(data, "init")
    _cli(
        data,
        "add-agent",
        "--login",
        "admin",
        "--name",
        "Administration",
        "--role",
        "administrateur",
        "--territory",
        "nord",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    base = serving(data)
    with httpx.Client(base_url=base) as client:
        signed_in = client.post(
            f"{API_PREFIX}/session",
            json={
                "login": "admin",
                "password": PASSWORD,
                "device_id": "poste-de-test-01",
                "client_version": "0.1.0",
            },
        )
        assert signed_in.status_code == 200, signed_in.text
    modes = _modes(data)
    # The database and its write-ahead log and shared memory, while the server runs.
    assert {"havre-server.db", "havre-server.db-wal", "havre-server.db-shm"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o600)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_an_existing_data_folder_is_made_private(tmp_path: Path) -> None:
    data = tmp_path / "donnees"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    old = data / "havre-server.db"
    old.touch()
    old.chmod(0o644)  # a database left by an older version
    _cli(data, "init")
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert _modes(data) == {"havre-server.db": 0o600}


# -- errors answered 500 ----------------------------------------------------------------------


def _log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    lines = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_500_is_logged_with_its_route_and_traceback(
    server_factory: Callable[..., ServerProcess], backend: str
) -> None:
    # As in production: exception messages (which may quote data) stay out of the log.
    server = server_factory(backend, {"HAVRE_SERVER_LOG_TRACEBACKS": "0"})
    world = World(server)
    try:
        login = world.create_agent("accueil", ["nord"])
        # A row the server cannot read (a fault of the database, not of the request).
        server.sql(
            "UPDATE agents SET territory_ids = '[\"nord\", Jeanne' WHERE id = "
            "(SELECT agent_id FROM accounts WHERE login = :l)",
            l=login,
        )
        response = world.client.post(
            f"{API_PREFIX}/session",
            json={
                "login": login,
                "password": PASSWORD,
                "device_id": "poste-de-test-02",
                "client_version": "0.1.0",
            },
            headers={"X-Request-ID": "demande-42"},
        )
    finally:
        world.close()
    assert response.status_code == 500
    body = ErrorBody.model_validate_json(response.content)
    assert body.code == "internal_error"
    assert "Erreur interne du serveur" in body.message
    assert "Traceback" not in response.text and "auth.py" not in response.text
    assert response.headers["X-Request-ID"] == "demande-42"

    def logged() -> bool:
        return any(line.get("status") == 500 for line in _log_lines(server))

    wait_until(logged, 10, "the error in the server's log")
    errors = [line for line in _log_lines(server) if line["level"] == "error"]
    assert len(errors) == 1, errors  # one line, not one more from uvicorn
    error = errors[0]
    assert error["method"] == "POST"
    assert error["route"] == f"{API_PREFIX}/session"
    assert error["request_id"] == "demande-42"
    assert error["error"] == "JSONDecodeError"
    assert "havre_server/auth.py" in error["traceback"]
    assert "Jeanne" not in json.dumps(errors)


def test_a_request_id_is_made_when_the_client_sends_none_or_a_bad_one(world: World) -> None:
    answers = [
        world.client.get(f"{API_PREFIX}/sync/meta", headers=headers)
        for headers in ({}, {"X-Request-ID": "deux mots"}, {"X-Request-ID": "x" * 100})
    ]
    ids = [answer.headers["X-Request-ID"] for answer in answers]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and len(set(ids)) == 3
    given = world.client.get(f"{API_PREFIX}/sync/meta", headers={"X-Request-ID": "poste-7:42"})
    assert given.headers["X-Request-ID"] == "poste-7:42"


# -- API docs with no internet ----------------------------------------------------------------


def test_the_api_docs_need_no_internet(world: World) -> None:
    base = world.server.base_url
    page = world.client.get(f"{API_PREFIX}/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    references += re.findall(r"""url:\s*["']([^"']+)["']""", html)
    absolute = re.findall(r"""https?://[^\s"'<>)]+""", html)
    assert all(urlsplit(u).netloc == urlsplit(base).netloc for u in absolute), absolute
    assets = {urljoin(str(page.url), r) for r in references}
    kinds = {urlsplit(a).path.rsplit(".", 1)[-1] for a in assets}
    assert {"js", "css", "json"} <= kinds, assets
    for asset in assets:
        assert urlsplit(asset).netloc == urlsplit(base).netloc, asset
        response = world.client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 100, asset
