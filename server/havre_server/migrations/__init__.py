"""Numbered schema migrations, applied in order; the version is recorded in ``schema_version``.

Mechanism: each migration is a Python module ``mNNNN_<name>.py`` in this package with a function
``upgrade(conn: Connection) -> None`` that runs SQLAlchemy Core DDL (so one migration serves
SQLite and PostgreSQL). :func:`migrate` applies, each in its own transaction (both databases
have transactional DDL), every migration whose number is above the recorded version, and records
it in the same transaction. A database whose version is newer than this server knows is refused.
Concurrent starts are safe on PostgreSQL (a transaction-level advisory lock serialises them).

Rule for authors: a released migration never changes. ``m0001_initial`` builds the tables from
``havre_server/schema.py``; the first change to schema.py after a release must add migration
0002 that performs the change (``ALTER TABLE`` …) *and* freeze 0001 by copying into it the table
definitions it used. ``tests/server/test_migrations.py`` checks that a migrated database has
exactly the tables and columns schema.py declares.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from sqlalchemy import Connection, Engine, inspect, select, text

from havre_server.schema import schema_version


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer server."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[Connection], None]


def available() -> list[Migration]:
    found: list[Migration] = []
    package = importlib.import_module(__name__)
    for info in pkgutil.iter_modules(package.__path__):
        if not (info.name.startswith("m") and info.name[1:5].isdigit()):
            continue
        module: ModuleType = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Migration(int(info.name[1:5]), info.name[6:], module.upgrade))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("migrations must be numbered 1, 2, 3… without gaps")
    return found


def latest_version() -> int:
    return len(available())


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc()))
    first = value.first()
    return 0 if first is None else int(first[0])


def migrate(engine: Engine) -> list[int]:
    """Bring the database to the latest version; returns the versions applied."""
    applied: list[int] = []
    for migration in available():
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(7423001)"))
            version = current_version(conn)
            if migration.version <= version:
                continue
            migration.upgrade(conn)
            if migration.version == 1:
                schema_version.create(conn, checkfirst=True)
            conn.execute(
                schema_version.insert().values(
                    version=migration.version,
                    name=migration.name,
                    applied_at_ms=int(time.time() * 1000),
                )
            )
            applied.append(migration.version)
    with engine.connect() as conn:
        version = current_version(conn)
    if version > latest_version():
        raise SchemaTooNewError(
            f"La base du serveur est en version {version}, plus récente que ce serveur "
            f"({latest_version()}) : mettez le serveur à jour."
        )
    return applied
