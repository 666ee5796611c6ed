"""Version 1: every table of havre_server/schema.py, and the sync state."""

from __future__ import annotations

from sqlalchemy import Connection

from havre_server.schema import metadata, sync_state


def upgrade(conn: Connection) -> None:
    metadata.create_all(conn)
    conn.execute(
        sync_state.insert(),
        [{"key": "log_floor", "value": "0"}, {"key": "reference_version", "value": "0"}],
    )
