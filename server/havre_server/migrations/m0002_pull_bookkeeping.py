"""Version 2: ``device_pull_state`` and ``unservable_rows`` (see havre_server/sync_tables.py)."""

from __future__ import annotations

from sqlalchemy import Connection

from havre_server.sync_tables import device_pull_state, unservable_rows


def upgrade(conn: Connection) -> None:
    # A new database already has them (0001 creates every declared table).
    device_pull_state.create(conn, checkfirst=True)
    unservable_rows.create(conn, checkfirst=True)
