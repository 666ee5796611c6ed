"""Real server processes, a real PostgreSQL, and a small protocol client for the server tests."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text

from havre_common.hlc import Timestamp
from havre_common.protocol import API_PREFIX, CLIENT_VERSION_HEADER
from havre_server.db import normalise_url

CLIENT_VERSION = "0.1.0"
ADMIN_PASSWORD = "administrateur-de-test"
PASSWORD = "mot-de-passe-de-test"
SERVER_BIN = Path(sys.executable).with_name("havre-server")
REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0

# Cheap argon2 and a tolerant rate limit for the tests (their cost is not under test here).
TEST_ENV = {
    "HAVRE_SERVER_ARGON2_TIME_COST": "1",
    "HAVRE_SERVER_ARGON2_MEMORY_KIB": "8192",
    "HAVRE_SERVER_LOGIN_MAX_FAILURES": "5",
    "HAVRE_SERVER_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
    "HAVRE_SERVER_LOG_TRACEBACKS": "1",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll `predicate` (no fixed sleep: it returns as soon as the condition holds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def follow_log(
    pull: Callable[[str], dict[str, Any]], cursor: str, done: threading.Event
) -> Iterator[dict[str, Any]]:
    """Pull pages from `cursor` on, as a device following the log while others write, until
    `done` is set and a page reached the head (read after `done`: nothing written is left)."""
    while True:
        finished = done.is_set()
        page = pull(cursor)
        yield page
        cursor = page["next_cursor"]
        if finished and not page["has_more"]:
            return


# -- PostgreSQL ----------------------------------------------------------------------------------


class PostgresCluster:
    """A throwaway PostgreSQL 15 cluster in a temp folder, on a free loopback port.

    PostgreSQL refuses to run as root: when the tests run as root the cluster belongs to the
    ``postgres`` user (folder chowned to it, programs run through ``runuser``).

    By default the cluster trades durability for speed (``fsync``, ``synchronous_commit`` and
    ``full_page_writes`` off): a test that only needs a PostgreSQL does not wait for the disk.
    ``durable=True`` keeps PostgreSQL's production settings (all three on, and ``initdb``
    syncs its files), for the tests that kill processes and check that nothing committed is
    lost; :meth:`setting` reads what the running cluster uses.
    """

    DURABLE = ("fsync", "synchronous_commit", "full_page_writes")

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.bindir = Path(
            subprocess.run(
                ["pg_config", "--bindir"], check=True, capture_output=True, text=True
            ).stdout.strip()
        )
        if not (self.bindir / "initdb").exists():
            self.bindir = Path("/usr/lib/postgresql/15/bin")
        self.root = Path(tempfile.mkdtemp(prefix="havre-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self._dbs = itertools.count(1)

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root, timeout=120)

    def start(self) -> None:
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            *(() if self.durable else ("--no-sync",)),
        )
        switch = "on" if self.durable else "off"
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            + " ".join(f"-c {name}={switch}" for name in self.DURABLE)
            + " -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "postgres.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def setting(self, name: str) -> str:
        """The value the running cluster uses for one setting (``SHOW``)."""
        engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres")
        try:
            with engine.connect() as conn:
                return str(conn.execute(text(f"SHOW {name}")).scalar_one())
        finally:
            engine.dispose()

    def new_database(self) -> str:
        name = f"havre_{next(self._dbs)}_{uuid.uuid4().hex[:6]}"
        engine = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


@contextlib.contextmanager
def running_cluster(durable: bool = False) -> Iterator[PostgresCluster]:
    """A started cluster, stopped (and its folder removed) at the end."""
    cluster = PostgresCluster(durable=durable)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


# -- the server process --------------------------------------------------------------------------


@dataclass
class ServerProcess:
    backend: str
    database_url: str
    env: dict[str, str]
    workdir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    admin_token: str = ""
    ca_bundle: Path | None = None  # set when the server answers in https (its CA, for checks)
    _engine: Engine | None = None
    _options: tuple[str, ...] = ()
    binary: Path = SERVER_BIN  # another install of the server (a venv without the desktop)

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ca_bundle is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def verify(self) -> ssl.SSLContext | bool:
        """What an httpx client of the tests trusts to reach this server."""
        if self.ca_bundle is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            [str(self.binary), "--database", self.database_url, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"havre-server {args[0]} failed: {result.stderr}")
        return result.stdout + result.stderr

    def start(self, *extra: str) -> None:
        self.port = free_port()
        self._options = extra
        self._launch()

    def restart(self, *extra: str) -> None:
        """Start again after `stop()`, on the same port, with the same options unless others
        are given (a server upgraded or reconfigured between two syncs)."""
        if extra:
            self._options = extra
        self._launch()

    def _launch(self) -> None:
        extra = self._options
        log = (self.workdir / f"server-{self.port}.log").open("ab")  # a restart appends
        self.process = subprocess.Popen(
            [
                str(self.binary),
                "--database",
                self.database_url,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *extra,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                meta = httpx.get(f"{self.base_url}{API_PREFIX}/sync/meta", verify=self.verify())
                return meta.status_code in (200, 426)  # 426: a client older than asked for
            except (OSError, httpx.HTTPError):
                return False

        wait_until(ready, STARTUP_TIMEOUT_S, "the server to answer /sync/meta")

    def log_text(self) -> str:
        return "\n".join(
            p.read_text("utf-8", "replace") for p in sorted(self.workdir.glob("server-*.log"))
        )

    def kill(self) -> None:
        """SIGKILL the server process (no shutdown: requests in flight are cut, a transaction
        not yet committed is left to the database to roll back); ``restart()`` starts it again
        on the same port. For a single process, not ``serve --workers N``."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._engine is not None:
            self._engine.dispose()

    @property
    def engine(self) -> Engine:
        """Direct access to the server's database, to inspect or age rows in tests."""
        if self._engine is None:
            self._engine = create_engine(normalise_url(self.database_url))
        return self._engine

    def sql(self, statement: str, **params: Any) -> list[Any]:
        with self.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []


def install_server(venv: Path, sources: Path = REPO) -> Path:
    """A fresh virtual environment with only the shared contract and the server of ``sources``
    (a checkout: this one, or an older release's); returns its ``havre-server``."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "-q",
            str(sources / "common"),
            str(sources / "server"),
        ],
        check=True,
        timeout=900,
    )
    return venv / "bin" / "havre-server"


def make_server(
    backend: str,
    database_url: str,
    workdir: Path,
    env: dict[str, str] | None = None,
    binary: Path = SERVER_BIN,
) -> ServerProcess:
    full_env = dict(os.environ)
    full_env.update(TEST_ENV)
    full_env.update(env or {})
    full_env.pop("HAVRE_SERVER_DATABASE", None)
    workdir.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(backend, database_url, full_env, workdir, binary=binary)
    server.cli("init")
    server.cli(
        "add-agent",
        "--login",
        "admin",
        "--name",
        "Administration centrale",
        "--role",
        "administrateur",
        "--territory",
        "nord",
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )
    server.cli("import-catalogue", "--sample", str(REPO / "db" / "sample_catalogue.json"))
    return server


# -- a small protocol client --------------------------------------------------------------------


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Device:
    """One signed-in device of one agent, speaking the protocol with plain httpx."""

    server: ServerProcess
    login: str
    agent: dict[str, Any]
    token: str
    device_id: str
    client: httpx.Client
    counter: int = 0
    outbox: list[dict[str, Any]] = field(default_factory=list)

    @property
    def agent_id(self) -> str:
        return str(self.agent["id"])

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            CLIENT_VERSION_HEADER: CLIENT_VERSION,
            **extra,
        }

    def hlc(self, millis: int | None = None) -> str:
        self.counter += 1
        return str(Timestamp(millis or now_ms(), self.counter % 0xFFFF, self.device_id))

    def mutation(
        self,
        table: str,
        row_id: str,
        op: str,
        fields: dict[str, Any],
        base_version: int = 0,
        hlc: str | None = None,
    ) -> dict[str, Any]:
        return {
            "mutation_id": str(uuid.uuid4()),
            "table_name": table,
            "row_id": row_id,
            "op": op,
            "changed_fields": fields,
            "base_version": base_version,
            "hlc": hlc or self.hlc(),
        }

    def push_raw(
        self, mutations: list[dict[str, Any]], client_time_ms: int | None = None
    ) -> httpx.Response:
        body = {
            "device_id": self.device_id,
            "client_time_ms": client_time_ms or now_ms(),
            "mutations": mutations,
        }
        return self.client.post(f"{API_PREFIX}/sync/push", json=body, headers=self.headers())

    def push(self, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.push_raw(list(mutations))
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def pull_page(self, cursor: str, limit: int = 500) -> httpx.Response:
        return self.client.get(
            f"{API_PREFIX}/sync/pull",
            params={"cursor": cursor, "limit": limit},
            headers=self.headers(),
        )

    def pull_all(self, cursor: str = "0", limit: int = 500) -> tuple[list[dict[str, Any]], str]:
        """Every change from `cursor` until has_more is false; returns (changes, cursor)."""
        changes: list[dict[str, Any]] = []
        for _ in range(10_000):
            response = self.pull_page(cursor, limit)
            assert response.status_code == 200, response.text
            page = response.json()
            assert not page["reset_required"], page
            changes.extend(page["changes"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return changes, cursor
        raise AssertionError("pull never ended")


class Replica:
    """What a device holds after applying pulls (a minimal client, enough to check scope)."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.cursor = "0"
        self.resets = 0

    def sync(self) -> Replica:
        snapshot_rows: set[tuple[str, str]] | None = None
        for _ in range(10_000):
            response = self.device.pull_page(self.cursor)
            assert response.status_code == 200, response.text
            page = response.json()
            if page["reset_required"]:
                self.resets += 1
                self.cursor = "0"
                continue
            if self.cursor == "0":
                snapshot_rows = set()
            for change in page["changes"]:
                key = (change["table_name"], change["row_id"])
                if change["op"] == "upsert":
                    self.rows[key] = change["fields"]
                    if snapshot_rows is not None and page["phase"] == "snapshot":
                        snapshot_rows.add(key)
                else:
                    self.rows.pop(key, None)
            if page["snapshot_done"] and snapshot_rows is not None:
                for key in set(self.rows) - snapshot_rows:
                    del self.rows[key]
                snapshot_rows = None
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return self
        raise AssertionError("sync never ended")

    def has(self, table: str, row_id: str) -> bool:
        return (table, row_id) in self.rows

    def get(self, table: str, row_id: str) -> dict[str, Any]:
        return self.rows[(table, row_id)]

    def ids(self, table: str) -> set[str]:
        return {row_id for (t, row_id) in self.rows if t == table}


def attempt_sign_in(client: httpx.Client, login: str, password: str) -> httpx.Response:
    """One sign-in from a new device, whatever its answer."""
    return client.post(
        f"{API_PREFIX}/session",
        json={
            "login": login,
            "password": password,
            "device_id": uuid.uuid4().hex,
            "client_version": CLIENT_VERSION,
        },
    )


class World:
    """Agents and devices on one server, each test with its own fresh agents."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.client = httpx.Client(base_url=server.base_url, timeout=60, verify=server.verify())
        try:
            self.admin = self.sign_in("admin", ADMIN_PASSWORD)
        except BaseException:
            self.client.close()
            raise

    def close(self) -> None:
        self.client.close()

    def sign_in(self, login: str, password: str = PASSWORD, device_id: str | None = None) -> Device:
        device_id = device_id or uuid.uuid4().hex
        response = self.client.post(
            f"{API_PREFIX}/session",
            json={
                "login": login,
                "password": password,
                "device_id": device_id,
                "device_label": "poste de test",
                "client_version": CLIENT_VERSION,
            },
        )
        assert response.status_code == 200, response.text
        data = response.json()
        return Device(self.server, login, data["agent"], data["token"], device_id, self.client)

    def create_agent(
        self,
        role: str,
        territories: list[str],
        name: str = "Agent",
        register_right: bool | None = None,
    ) -> str:
        """A new agent; ``register_right`` None: the role's default (coordinators only)."""
        login = f"{role[:5]}-{uuid.uuid4().hex[:10]}"
        extra = {} if register_right is None else {"register_right": register_right}
        response = self.client.post(
            f"{API_PREFIX}/admin/agents",
            json={
                "login": login,
                "password": PASSWORD,
                "display_name": f"{name} {login[-4:]}",
                "role": role,
                "territory_ids": territories,
                **extra,
            },
            headers=self.admin.headers(),
        )
        assert response.status_code == 201, response.text
        return login

    def agent(
        self, role: str, territories: list[str], register_right: bool | None = None
    ) -> Device:
        return self.sign_in(self.create_agent(role, territories, register_right=register_right))

    def patch_agent(self, agent_id: str, **changes: Any) -> httpx.Response:
        return self.client.patch(
            f"{API_PREFIX}/admin/agents/{agent_id}", json=changes, headers=self.admin.headers()
        )


# -- rows as the desktop writes them ----------------------------------------------------------


def iso(millis: int | None = None) -> str:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp((millis or now_ms()) / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def person_fields(territory: str = "nord", **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": None,
        "kind": "person",
        "family_name": "Lefèvre",
        "given_names": "Jeanne",
        "birth_date": "1939-03-12",
        "address_line": "14 rue de la Mare-Rouge",
        "postcode": "76620",
        "city": "Le Havre",
        "territory_id": territory,
        "phone_1": "02 61 91 12 34",
        "phone_2": None,
        "email": None,
        "lives_alone": True,
        "mobility": "deambulateur",
        "access_notes": "4e étage sans ascenseur",
        "emergency_contacts": [
            {"name": "Paul Lefèvre", "relation": "fils", "phone": "06 39 98 12 34"}
        ],
        "referent_agent_id": None,
        "search_phones": "02 61 91 12 34 0261911234",
        "created_at": iso(),
        "updated_at": iso(),
    }
    fields.update(overrides)
    return fields


def new_person(device: Device, territory: str = "nord", **overrides: Any) -> str:
    person_id = str(uuid.uuid4())
    fields = person_fields(territory, **overrides)
    fields["id"] = person_id
    result = device.push(device.mutation("contacts", person_id, "insert", fields))[0]
    assert result["status"] == "applied", result
    return person_id


def visit_fields(person_id: str, agent_id: str, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "person_id": person_id,
        "agent_id": agent_id,
        "occurred_at": iso(),
        "kind": "visite-domicile",
        "outcome": "realisee",
        "duration_min": 45,
        "wellbeing": 3,
        "need_ids": ["isolement"],
        "proposed_action_ids": [],
        "handout_given": False,
        "follow_up_on": None,
        "notes": "Mme se sent seule depuis le décès de son mari ; douleurs au genou.",
        "revision": 1,
        "created_at": iso(),
        "updated_at": iso(),
    }
    fields.update(overrides)
    return fields


def audit_mutation(
    device: Device, entity_id: str, event: str = "fiche-ouverte", entity: str = "contacts"
) -> dict[str, Any]:
    """An audit entry as the desktop sends it up (ids only)."""
    fields = {
        "at": iso(),
        "agent_id": device.agent_id,
        "event": event,
        "entity": entity,
        "entity_id": entity_id,
        "detail": {},
    }
    return device.mutation("audit_log", str(uuid.uuid4()), "insert", fields)


def new_visit(device: Device, person_id: str, hlc: str | None = None, **overrides: Any) -> str:
    visit_id = str(uuid.uuid4())
    result = device.push(
        device.mutation(
            "visits",
            visit_id,
            "insert",
            visit_fields(person_id, device.agent_id, **overrides),
            hlc=hlc,
        )
    )[0]
    assert result["status"] == "applied", result
    return visit_id


@contextlib.contextmanager
def started(server: ServerProcess, *extra: str) -> Iterator[ServerProcess]:
    server.start(*extra)
    try:
        yield server
    finally:
        server.stop()
