"""Running the server for years: configuration file, liveness and readiness, metrics, logs."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from havre_common.protocol import API_PREFIX
from havre_server.config import OPTIONS
from havre_server.migrations import alembic_config, head, revisions
from tests.server.support import (
    REPO,
    SERVER_BIN,
    TEST_ENV,
    PostgresCluster,
    ServerProcess,
    World,
    free_port,
    new_person,
    now_ms,
    person_fields,
    wait_until,
)

MakeServer = Callable[..., ServerProcess]


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **TEST_ENV, **(env or {})}
    full.pop("HAVRE_SERVER_DATABASE", None)
    return subprocess.run(
        [str(SERVER_BIN), *args], capture_output=True, text=True, env=full, timeout=120
    )


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# -- configuration file ------------------------------------------------------------------------


def test_the_server_runs_from_its_configuration_file_with_environment_overrides(
    tmp_path: Path,
) -> None:
    port = free_port()
    config = tmp_path / "server.toml"
    config.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "depuis-le-fichier.db"}"

[server]
port = {port}
min_client_version = "0.3.0"

[log]
level = "warning"
""",
        "utf-8",
    )
    env = {**os.environ, **TEST_ENV, "HAVRE_SERVER_MIN_CLIENT_VERSION": "0.2.0"}
    env.pop("HAVRE_SERVER_DATABASE", None)
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [str(SERVER_BIN), "--config", str(config), "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def healthy() -> bool:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 60, "the server on the port of its configuration file")
        meta = httpx.get(f"http://127.0.0.1:{port}{API_PREFIX}/sync/meta").json()
        assert meta["min_client_version"] == "0.2.0"  # the environment wins over the file
        assert (tmp_path / "depuis-le-fichier.db").exists()  # the file's database
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
    # Log level "warning" from the file: no line per request.
    assert not [
        line
        for line in _json_lines((tmp_path / "server.log").read_text())
        if line.get("event") == "request"
    ]


@pytest.mark.parametrize(
    ("content", "env", "expected"),
    [
        ("[server\nport = 1", {}, ["mal formé", "server.toml", "line 1"]),
        ("[server]\nprot = 8000\n", {}, ["Clé inconnue « server.prot »", "server.toml"]),
        ("[serveur]\nport = 8000\n", {}, ["Section inconnue [serveur]", "server.toml"]),
        ('[server]\nport = "huit mille"\n', {}, ["« server.port »", "nombre entier attendu"]),
        (
            "[server]\nport = 8000\n",
            {"HAVRE_SERVER_POOL_SIZE": "dix"},
            ["HAVRE_SERVER_POOL_SIZE", "database.pool_size", "nombre entier attendu", "« dix »"],
        ),
    ],
)
def test_a_bad_configuration_is_refused_with_a_french_message_naming_the_key(
    tmp_path: Path, content: str, env: dict[str, str], expected: list[str]
) -> None:
    config = tmp_path / "server.toml"
    config.write_text(content, "utf-8")
    result = _run(
        ["--config", str(config), "--database", f"sqlite:///{tmp_path / 'x.db'}", "init"], env
    )
    assert result.returncode == 2, result.stderr
    for part in expected:
        assert part in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_a_missing_configuration_file_is_named(tmp_path: Path) -> None:
    result = _run(["--config", str(tmp_path / "absent.toml"), "init"])
    assert result.returncode == 2
    assert f"Fichier de configuration introuvable : {tmp_path / 'absent.toml'}" in result.stderr


def test_every_configuration_key_is_documented() -> None:
    doc = (REPO / "docs" / "server.md").read_text("utf-8")
    missing = [o.name for o in OPTIONS if f"`{o.name}`" not in doc or o.env not in doc]
    assert missing == []


# -- liveness and readiness --------------------------------------------------------------------


def test_health_and_ready_answer_on_a_current_database(world: World) -> None:
    assert world.client.get("/health").json() == {"status": "ok"}
    ready = world.client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "schema": head()}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_database_one_migration_behind_is_not_ready(
    server_factory: MakeServer, backend: str
) -> None:
    server = server_factory(backend)
    with server.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "-1")
    previous = revisions()[-2]
    client = httpx.Client(base_url=server.base_url, timeout=30)
    try:
        answer = client.get("/ready")
        assert answer.status_code == 503
        assert answer.json()["status"] == "not_ready"
        assert f"révision {previous}" in answer.json()["reason"]
        assert client.get("/health").status_code == 200  # alive, only not ready
        server.cli("init")  # the upgrade step of docs/server.md
        assert client.get("/ready").status_code == 200
    finally:
        client.close()


def test_a_server_whose_database_is_gone_is_alive_but_not_ready(
    server_factory: MakeServer, postgres: PostgresCluster
) -> None:
    server = server_factory("postgresql")
    name = server.database_url.rsplit("/", 1)[1]
    admin = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        assert client.get("/ready").status_code == 200
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()
        answer = client.get("/ready")
        assert answer.status_code == 503
        assert answer.json() == {"status": "not_ready", "reason": "Base de données injoignable."}
        assert client.get("/health").status_code == 200
        assert "havre_database_up 0.0" in client.get("/metrics").text


# -- metrics and logs --------------------------------------------------------------------------


def _metrics(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def test_metrics_count_a_sync_and_logs_carry_the_request_id(
    server_factory: MakeServer,
) -> None:
    server = server_factory("sqlite")
    world = World(server)
    try:
        first = world.agent("travailleur-social", ["nord"])
        second = world.agent("travailleur-social", ["nord"])
        person_id = new_person(first)
        late = second.mutation(
            "contacts", person_id, "update", {"phone_1": "02 61 91 00 02"}, 1, second.hlc()
        )
        early = first.mutation("contacts", person_id, "update", {"phone_1": "02 61 91 00 01"}, 1)
        assert first.push(early)[0]["status"] == "applied"
        bad_id = str(uuid.uuid4())
        body = {
            "device_id": second.device_id,
            "client_time_ms": now_ms(),
            "mutations": [
                late,
                second.mutation(
                    "contacts", bad_id, "insert", {**person_fields(phone_1="12"), "id": bad_id}
                ),
            ],
        }
        answer = world.client.post(
            f"{API_PREFIX}/sync/push",
            json=body,
            headers=second.headers(**{"X-Request-ID": "poste-12:envoi-3"}),
        )
        assert answer.headers["X-Request-ID"] == "poste-12:envoi-3"
        statuses = [r["status"] for r in answer.json()["results"]]
        assert statuses == ["conflict", "rejected"]
        assert second.push(late)[0]["status"] == "duplicate"  # the same mutation, again
        _, cursor = second.pull_all()

        # A device left behind the log floor: it pulled, the log moved on, then compaction
        # with no active device raised the floor to the head.
        version = answer.json()["results"][0]["server_version"]
        moved = first.mutation("contacts", person_id, "update", {"city": "Montivilliers"}, version)
        assert first.push(moved)[0]["status"] == "applied"
        server.cli("compact-log", "--active-days", "0")
        values = _metrics(world.client)
    finally:
        world.close()

    def value(name: str, **labels: str) -> float:
        return values.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("havre_sync_pushes_total") == 5
    assert value("havre_sync_mutations_total", status="applied") == 3
    assert value("havre_sync_mutations_total", status="conflict") == 1
    assert value("havre_sync_mutations_total", status="rejected") == 1
    assert value("havre_sync_mutations_total", status="duplicate") == 1
    assert value("havre_sync_conflicts_total") == 1
    assert value("havre_sync_rejections_total") == 1
    assert value("havre_sync_pulls_total", phase="snapshot") >= 1
    push_route = {"method": "POST", "route": f"{API_PREFIX}/sync/push"}
    assert value("havre_http_requests_total", status="200", **push_route) == 5
    assert value("havre_http_request_duration_seconds_count", **push_route) == 5
    assert value("havre_http_request_duration_seconds_sum", **push_route) > 0
    assert value("havre_database_up") == 1
    head_seq = int(server.sql("SELECT max(seq) FROM change_log")[0][0])
    assert value("havre_change_log_head_seq") == head_seq
    assert value("havre_change_log_floor_seq") == head_seq
    behind = server.sql(
        "SELECT count(*) FROM device_pull_state s JOIN devices d ON d.id = s.device_pk "
        "WHERE d.revoked_at_ms IS NULL AND s.cursor_seq < :floor",
        floor=head_seq,
    )[0][0]
    assert behind >= 1 and value("havre_devices_behind_log_floor") == behind
    assert int(cursor) < head_seq

    # The log: one JSON line per request, with the id the client sent.
    (line,) = [
        entry
        for entry in _json_lines(server.log_text())
        if entry.get("request_id") == "poste-12:envoi-3"
    ]
    assert line["event"] == "request" and line["level"] == "info"
    assert (line["method"], line["route"], line["status"]) == ("POST", push_route["route"], 200)
    assert line["ms"] > 0
