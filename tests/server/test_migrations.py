"""Server migrations (Alembic): every earlier schema upgrades to exactly the models, on both
databases; the schema derived from the contract is what the migrations build; a pre-Alembic
database is taken over; a newer one is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from havre_common import contract
from havre_server import audit
from havre_server.db import make_engine
from havre_server.migrations import (
    SchemaTooNewError,
    alembic_config,
    current_revision,
    head,
    migrate,
    revisions,
)
from havre_server.schema import metadata
from tests.server.support import PostgresCluster


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        url = cluster.new_database()
    engine = make_engine(url)
    yield engine
    engine.dispose()


def differences(engine: Engine) -> list[object]:
    """What ``alembic check`` would report between the models and the database."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def upgrade_to(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def test_a_new_database_gets_every_revision_and_matches_the_models(
    empty_database: Engine,
) -> None:
    assert migrate(empty_database) == revisions()
    assert migrate(empty_database) == []  # idempotent
    assert differences(empty_database) == []
    with empty_database.connect() as conn:
        assert current_revision(conn) == head()
        state = dict(conn.execute(text("SELECT key, value FROM sync_state")).all())
    assert state == {"log_floor": "0", "reference_version": "0"}


@pytest.mark.parametrize("start", revisions()[:-1])
def test_a_database_at_each_earlier_revision_upgrades_with_its_data(
    empty_database: Engine, start: str
) -> None:
    upgrade_to(empty_database, start)
    with empty_database.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agents (id, display_name, role, territory_ids, updated_at) "
                "VALUES ('00000000-0000-4000-8000-000000000001', 'Agent Fictif', "
                "'coordinateur', '[\"nord\"]', '2026-01-01T00:00:00Z')"
            )
        )
    applied = migrate(empty_database)
    assert applied == revisions()[revisions().index(start) + 1 :]
    assert differences(empty_database) == []
    with empty_database.connect() as conn:
        assert conn.execute(text("SELECT display_name FROM agents")).scalar() == "Agent Fictif"


def test_audit_entries_stored_before_the_chain_are_chained_in_the_order_received(
    empty_database: Engine,
) -> None:
    upgrade_to(empty_database, "0003")
    with empty_database.begin() as conn:
        for n, received in ((1, 300), (2, 100), (3, 200)):
            conn.execute(
                text(
                    "INSERT INTO audit_log (id, at, agent_id, event, entity, entity_id, detail, "
                    "device_id, received_at_ms) VALUES (:id, '2026-01-01T00:00:00Z', NULL, "
                    "'fiche-ouverte', 'contacts', :id, '{}', 'poste', :r)"
                ),
                {"id": f"00000000-0000-4000-8000-00000000000{n}", "r": received},
            )
    migrate(empty_database)
    assert differences(empty_database) == []
    with empty_database.connect() as conn:
        order = conn.execute(text("SELECT received_at_ms FROM audit_log ORDER BY chain_seq"))
        assert [r[0] for r in order] == [100, 200, 300]
    found = audit.verify(empty_database)
    assert found.intact and found.entries == 3, found.message()


def test_a_database_of_the_server_before_alembic_is_taken_over(empty_database: Engine) -> None:
    """The pre-Alembic server built revision 0001's tables and wrote ``schema_version`` = 1."""
    upgrade_to(empty_database, "0001")
    with empty_database.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO schema_version VALUES (1, 'initial', 0)"))
    assert migrate(empty_database) == revisions()[1:]
    assert differences(empty_database) == []
    assert "schema_version" not in inspect(empty_database).get_table_names()


def test_a_database_from_a_newer_server_is_refused_untouched(empty_database: Engine) -> None:
    migrate(empty_database)
    with empty_database.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaTooNewError, match="plus récente que ce serveur"):
        migrate(empty_database)
    with empty_database.connect() as conn:
        assert current_revision(conn) == "9999"


FROZEN_0001_SHA256 = "c833f4ed5d20f44c9fe15ac233d9697f0db459fe9733f840434536a4a961826a"


def test_released_revisions_are_frozen() -> None:
    """Revision 0001 never follows the models: it builds its tables from its own text, which
    never changes (a change of the schema is a new revision)."""
    source = Path(__file__).parents[2] / "server/havre_server/alembic/versions/0001_initial.py"
    assert "import havre_server" not in source.read_text("utf-8")
    assert hashlib.sha256(source.read_bytes()).hexdigest() == FROZEN_0001_SHA256


def test_the_server_tables_have_exactly_the_contract_columns(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(engine)
    inspector = inspect(engine)
    for spec in contract.TABLES.values():
        columns = {c["name"]: c for c in inspector.get_columns(spec.name)}
        expected = set(spec.names) | set(spec.sync_columns) | set(spec.server_columns)
        if spec.field_clocks:
            expected.add(contract.CLOCK_COLUMN)
        if spec.sample_flag:
            expected.add(contract.SAMPLE_COLUMN)
        assert set(columns) == expected, spec.name
        for f in spec.fields:
            column = columns[f.name]
            assert column["nullable"] == (not f.not_null and f.name not in spec.primary_key), (
                f"{spec.name}.{f.name}"
            )
            if f.stored_length is not None:
                assert getattr(column["type"], "length", None) == f.stored_length
    engine.dispose()
