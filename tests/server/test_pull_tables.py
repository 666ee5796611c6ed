"""Migration 0002: a database migrated by an earlier server (version 1) gets the pull tables."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

from havre_server.migrations import migrate


def test_a_version_1_database_gets_the_pull_tables(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'v1.db'}")
    migrate(engine)
    with engine.begin() as conn:  # as a server of version 1 left it
        conn.exec_driver_sql("DROP TABLE device_pull_state")
        conn.exec_driver_sql("DROP TABLE unservable_rows")
        conn.exec_driver_sql("DELETE FROM schema_version WHERE version > 1")
    assert migrate(engine) == [2]
    assert {"device_pull_state", "unservable_rows"} <= set(inspect(engine).get_table_names())
    engine.dispose()
