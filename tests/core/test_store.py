"""The encrypted store on real SQLCipher files: encryption at rest, refusals, migrations."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from havre_desktop.core import contacts
from havre_desktop.core import store as store_module
from havre_desktop.core.errors import NotADatabaseError, SchemaTooNewError, WrongKeyError
from havre_desktop.core.store import SQLITE_HEADER, Store, latest_schema_version
from havre_desktop.core.workspace import Workspace
from tests.helpers import person_values


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_file_and_wal_hold_no_header_and_no_name(tmp_path: Path) -> None:
    db_path = tmp_path / "havre.db"
    store = Store.create(db_path, os.urandom(32))
    ws = Workspace(store)
    # Keep the connection open so that the write is still in the -wal file.
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")
    contacts.create_person(ws, person_values(family_name="Quesnelbeau", given_names="Odette"))
    wal = db_path.with_name("havre.db-wal")
    assert wal.exists() and wal.stat().st_size > 0
    for path in (db_path, wal):
        raw = path.read_bytes()
        assert SQLITE_HEADER not in raw
        for needle in ("Quesnelbeau", "Odette", "Mare-Rouge", "61 91 12 34"):
            assert needle.encode("utf-8") not in raw, (path.name, needle)
            assert needle.encode("utf-16-le") not in raw, (path.name, needle)
    store.close()
    raw = db_path.read_bytes()
    assert b"Quesnelbeau" not in raw and not raw.startswith(SQLITE_HEADER)


def test_settings_the_store_relies_on(workspace: Workspace) -> None:
    conn = workspace.store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == store_module.SYNCHRONOUS_FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert workspace.store.schema_version() == latest_schema_version()
    assert workspace.store.integrity_problems() == []


def test_wrong_key_is_refused_and_file_untouched(tmp_path: Path) -> None:
    db_path = tmp_path / "havre.db"
    Store.create(db_path, os.urandom(32)).close()
    before = _digest(db_path)
    with pytest.raises(WrongKeyError) as caught:
        Store.open(db_path, os.urandom(32))
    assert "clé" in caught.value.message and "n'a pas été modifié" in caught.value.message
    assert _digest(db_path) == before
    assert not db_path.with_name("havre.db-wal").exists()


def test_plain_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "havre.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    before = _digest(foreign)
    with pytest.raises(NotADatabaseError) as caught:
        Store.open(foreign, os.urandom(32))
    assert "non chiffrée" in caught.value.message
    assert _digest(foreign) == before


@pytest.mark.parametrize("content", [b"", b"bonjour", os.urandom(4096), b"%PDF-1.7\n" * 500])
def test_corrupt_or_foreign_file_is_refused_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "havre.db"
    path.write_bytes(content)
    before = _digest(path)
    with pytest.raises(NotADatabaseError) as caught:
        Store.open(path, os.urandom(32))
    assert "n'a pas été modifié" in caught.value.message
    assert _digest(path) == before


def test_database_from_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    db_path = tmp_path / "havre.db"
    key = os.urandom(32)
    store = Store.create(db_path, key)
    store.conn.execute(f"PRAGMA user_version = {latest_schema_version() + 1}")
    store.close()
    before = _digest(db_path)
    with pytest.raises(SchemaTooNewError) as caught:
        Store.open(db_path, key)
    assert "version plus récente" in caught.value.message
    assert _digest(db_path) == before


def test_reopen_keeps_data_and_applies_no_migration_twice(tmp_path: Path) -> None:
    db_path = tmp_path / "havre.db"
    key = os.urandom(32)
    store = Store.create(db_path, key)
    ws = Workspace(store)
    person = contacts.create_person(ws, person_values())
    store.close()
    reopened = Store.open(db_path, key)
    assert reopened.scalar("SELECT family_name FROM contacts WHERE id = ?", (person["id"],)) == (
        "Lefèvre"
    )
    applied = reopened.query("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in applied] == list(range(1, latest_schema_version() + 1))
    reopened.close()


def test_reference_data_has_fixed_ids_and_exact_names(workspace: Workspace) -> None:
    territories = workspace.reference("territories")
    assert territories == {
        "nord": "Le Havre Nord",
        "centre-ouest": "Le Havre Centre Ouest",
        "centre-est": "Le Havre Centre Est",
        "est": "Le Havre Est",
        "sud": "Le Havre Sud",
    }
    priorities = workspace.reference("priorities")
    assert len(priorities) == 11
    assert priorities["P05"] == "Lutter contre l'isolement et améliorer l'information des habitants"
    assert priorities["P06"] == "Faire du vieillissement et des seniors une chance pour la ville"
    assert len(workspace.reference("stakes")) == 2
    assert workspace.reference("transversal_concerns") == {
        "handicap": "Inclusion des personnes en situation de handicap"
    }
    assert "mairie-annexe" in workspace.reference("facility_kinds")
    stakes = workspace.store.query("SELECT stake_id, count(*) n FROM ref_priorities GROUP BY 1")
    assert {r["stake_id"]: r["n"] for r in stakes} == {"E1": 6, "E2": 5}


def test_a_real_profile_starts_without_the_sample_catalogue(workspace: Workspace) -> None:
    assert workspace.store.scalar("SELECT count(*) FROM actions") == 0
    assert workspace.store.scalar("SELECT count(*) FROM facilities") == 0


def test_failed_action_leaves_nothing_half_saved(workspace: Workspace) -> None:
    before = workspace.store.scalar("SELECT count(*) FROM outbox")
    with pytest.raises(RuntimeError), workspace.store.transaction():
        workspace.write_row(
            "contacts",
            {
                "kind": "person",
                "family_name": "Moitié",
                "given_names": "Rien",
                "territory_id": "nord",
                "created_at": workspace.clock.now_iso(),
                "updated_at": workspace.clock.now_iso(),
            },
        )
        raise RuntimeError("interrompu")
    assert workspace.store.scalar("SELECT count(*) FROM contacts WHERE family_name='Moitié'") == 0
    assert workspace.store.scalar("SELECT count(*) FROM outbox") == before


def test_the_procedure_migration_keeps_every_outcome_and_its_append_only_rule(
    tmp_path: Path,
) -> None:
    """Migration 0016 rebuilds campaign_outcomes (new CHECK lists): a profile of version 15
    with an outcome keeps it, its indexes and its append-only trigger."""
    from havre_desktop.core.store import _split_sql, migration_files

    db_path = tmp_path / "havre.db"
    key = os.urandom(32)
    store = Store.create(db_path, key)
    person = contacts.create_person(Workspace(store), person_values())["id"]
    # Back to version 15: the table as 0014 made it, one outcome in it.
    old = next(sql for version, _n, sql in migration_files() if version == 14)
    with store.transaction() as conn:
        conn.execute("DROP TABLE campaign_outcomes")
        for statement in _split_sql(old):
            if "campaign_outcomes" in statement:
                conn.execute(statement)
        conn.execute("DELETE FROM schema_migrations WHERE version = 16")
        conn.execute("PRAGMA user_version = 15")
        conn.execute(
            "INSERT INTO campaign_outcomes (id, campaign_id, call_id, person_id, agent_id, "
            "called_whom, outcome, note, called_at, created_at) VALUES ('o1', 'c1', 'k1', ?, "
            "'a1', 'visite-domicile', 'pas-de-reponse', 'Volets fermés', "
            "'2026-07-02T09:00:00Z', '2026-07-02T09:00:00Z')",
            (person,),
        )
    store.close()
    reopened = Store.open(db_path, key)
    try:
        assert reopened.schema_version() == latest_schema_version()
        row = reopened.query_one("SELECT * FROM campaign_outcomes WHERE id = 'o1'")
        assert row is not None and (row["outcome"], row["note"]) == ("pas-de-reponse",
                                                                     "Volets fermés")  # fmt: skip
        names = {
            r["name"]
            for r in reopened.query(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'campaign_outcomes'"
            )
        }
        assert {"campaign_outcomes_campaign", "campaign_outcomes_person",
                "campaign_outcomes_append_only"} <= names  # fmt: skip
        with (
            pytest.raises(Exception, match="ajout seulement"),
            reopened.transaction() as conn,
        ):
            conn.execute("UPDATE campaign_outcomes SET outcome = 'joint-bien'")
        with reopened.transaction() as conn:
            conn.execute(
                "INSERT INTO campaign_outcomes (id, campaign_id, call_id, person_id, agent_id, "
                "called_whom, outcome, called_at, created_at) VALUES ('o2', 'c1', 'k1', ?, "
                "'a1', 'procedure-ville', 'procedure-declenchee', '2026-07-02T10:00:00Z', "
                "'2026-07-02T10:00:00Z')",
                (row["person_id"],),
            )
    finally:
        reopened.close()
