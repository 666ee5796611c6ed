"""Database engine: one code path for the embedded SQLite file and PostgreSQL (psycopg 3).

SQLite: WAL journal, a 30 s busy timeout and ``BEGIN IMMEDIATE`` for every transaction, so
concurrent writers queue instead of failing when a reader upgrades to a writer (SQLAlchemy's
documented recipe: the driver's own transaction handling is switched off). PostgreSQL: READ
COMMITTED, ``SELECT … FOR UPDATE`` where a row is read then changed, and the change-log
ordering protection in :mod:`havre_server.changelog`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import make_url

from havre_server.schema import sync_state

DATABASE_ENV = "HAVRE_SERVER_DATABASE"


DATABASE_FILE = "havre-server.db"


def default_database_url(data_dir: Path) -> str:
    make_private(data_dir)
    return f"sqlite:///{data_dir / DATABASE_FILE}"


def make_private(data_dir: Path) -> None:
    """The data folder readable by the server's own user only (0700), and the database files
    already in it (0600): they hold every person's record. New files are private through the
    umask that ``havre-server`` sets at start; SQLite gives its -wal and -shm files the
    database file's mode."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"):
        path = data_dir / name
        if path.exists():
            path.chmod(0o600)


def normalise_url(url: str) -> str:
    """``postgresql://`` → the psycopg 3 driver; other URLs unchanged."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,  # SQL errors never carry personal data into the logs
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Reads (pulls) take a deferred snapshot; everything else takes the write lock
            # at once, so that two writers queue instead of failing on lock upgrade.
            if conn.get_execution_options().get("havre_read_only"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    pool_size = int(os.environ.get("HAVRE_SERVER_POOL_SIZE", "10"))
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def get_state(conn: Connection, key: str, default: str = "0") -> str:
    value = conn.execute(select(sync_state.c.value).where(sync_state.c.key == key)).scalar()
    return default if value is None else str(value)


def set_state(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(
        sync_state.update().where(sync_state.c.key == key).values(value=value)
    ).rowcount
    if not updated:
        conn.execute(sync_state.insert().values(key=key, value=value))


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
