"""Schema migrations with Alembic (``havre_server/alembic/versions``), applied at start.

Revisions are numbered ``0001``, ``0002``… and each is frozen once released: a change of the
contract or of ``schema.py`` is a new revision (``alembic revision --autogenerate``, then
reviewed), and ``tests/server/test_migrations.py`` checks on SQLite and PostgreSQL that a
database at every earlier revision upgrades to exactly the tables the models declare.

A database made by the server before Alembic (table ``schema_version`` at version 1, the schema
of revision 0001) is stamped 0001 first, then upgraded. A database at a revision this server
does not know was migrated by a newer server: refused. Concurrent starts are safe on
PostgreSQL (a transaction-level advisory lock serialises them; DDL is transactional on both).
"""

from __future__ import annotations

import logging
from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("havre.server.migrations")

LEGACY_TABLE = "schema_version"
"""The pre-Alembic server's record of its version."""
MIGRATION_LOCK = 7423001


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer server."""


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "havre_server:alembic")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def revisions() -> list[str]:
    """Every known revision, oldest first."""
    return [script.revision for script in reversed(list(_scripts().walk_revisions()))]


def head() -> str:
    found = _scripts().get_current_head()
    assert found is not None
    return found


def latest_version() -> int:
    return int(head())


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def current_version(conn: Connection) -> int:
    """The schema's revision as a number (``/sync/meta``); 0 before any migration."""
    revision = current_revision(conn)
    return int(revision) if revision and revision.isdigit() else 0


def migrate(engine: Engine) -> list[str]:
    """Bring the database to the latest revision; returns the revisions applied."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before = current_revision(conn)
        tables = set(inspect(conn).get_table_names())
        if before is None and LEGACY_TABLE in tables:
            legacy = conn.execute(text(f"SELECT max(version) FROM {LEGACY_TABLE}")).scalar()
            if legacy != 1:
                raise SchemaTooNewError(
                    f"La base du serveur est en version {legacy}, inconnue de ce serveur : "
                    "mettez le serveur à jour."
                )
            command.stamp(alembic_config(conn), "0001")
            before = "0001"
            log.info("pre-Alembic database stamped at revision 0001")
        known = revisions()
        if before is not None and before not in known:
            raise SchemaTooNewError(
                f"La base du serveur est à la révision {before}, plus récente que ce serveur "
                f"({head()}) : mettez le serveur à jour."
            )
        command.upgrade(alembic_config(conn), "head")
    applied = known[known.index(before) + 1 :] if before is not None else known
    if applied:
        log.info("schema migrated to %s (%s)", head(), ", ".join(applied))
    return applied


def readiness_problem(engine: Engine) -> str | None:
    """Why this server should not be sent requests (French, for ``/ready``), or None: the
    database must answer and be at this server's head revision (an upgrade half done, or a
    database restored from an older release and not yet migrated, is not ready)."""
    try:
        with engine.connect().execution_options(havre_read_only=True) as conn, conn.begin():
            revision = current_revision(conn)
    except SQLAlchemyError as exc:
        log.warning("readiness: database unavailable (%s)", type(exc).__name__)
        return "Base de données injoignable."
    if revision != head():
        return (
            f"Schéma de la base à la révision {revision or 'aucune'}, ce serveur attend "
            f"{head()} : lancez « havre-server init »."
        )
    return None
