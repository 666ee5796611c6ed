"""Alembic environment: runs on the connection :mod:`havre_server.migrations` hands it.

``havre-server init`` and ``serve`` migrate through :func:`havre_server.migrations.migrate`;
the ``alembic`` command line works too (``alembic -c server/alembic.ini upgrade head`` with
``HAVRE_SERVER_DATABASE`` set), and ``alembic check`` says whether the models
(``havre_server.schema``, derived from the contract) and the database differ.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from havre_server.db import DATABASE_ENV, make_engine
from havre_server.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE through copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(DATABASE_ENV)
    if not url:
        raise SystemExit(f"Indiquez la base : {DATABASE_ENV}=postgresql://…")
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Les migrations s'exécutent sur la base elle-même (mode en ligne).")
run_migrations_online()
