"""The local store: one SQLCipher file opened through sqlite-utils.

Opening is careful never to change a file it cannot use: the key is checked
and the schema version is read *before* anything is written, so a wrong key,
a foreign file or a database from a newer version is refused untouched.
Every user action runs in one `transaction()`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import sqlcipher3

from havre_common.reference import reference_text
from havre_desktop.core.errors import (
    NotADatabaseError,
    SchemaTooNewError,
    StoreError,
    WrongKeyError,
)

log = logging.getLogger("havre.core.store")
# Decrypted pages kept per connection (SQLCipher's build keeps 8,000 KiB; 4,000 keep the
# searches of 100,000 persons as fast, 18 ms median, and the window 4 MB smaller): the lists
# and searches; a long count asks for more with `Store.roomy_cache`, a long scan read once for
# less with `Store.lean_cache`.
CACHE_KIB = 4000
ROOMY_CACHE_KIB = 32 * 1024
LEAN_CACHE_KIB = 512

SQLITE_HEADER = b"SQLite format 3\x00"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

# The settings the crash-safety guarantees rely on (asserted by the tests).
JOURNAL_MODE = "wal"
SYNCHRONOUS_FULL = 2


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every numbered migration shipped in db/migrations."""
    found = []
    for entry in resources.files("havre_desktop.db.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps: {versions}")
    return found


def latest_schema_version() -> int:
    return len(migration_files())


def _key_pragma(key: bytes) -> str:
    if len(key) != 32:
        raise ValueError("the database key must be 32 bytes")
    return f"PRAGMA key = \"x'{key.hex()}'\""


class Store:
    """An open, unlocked, migrated database. Not shared between threads."""

    def __init__(self, conn: sqlcipher3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._tx_depth = 0
        self._owner = threading.get_ident()
        self._key: bytes | None = None  # kept to open a second connection (sync thread)

    @functools.cached_property
    def db(self) -> Any:
        """The sqlite-utils view of the same connection (imported on first use: ~80 ms)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # -- opening ----------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, key: bytes) -> Store:
        """A new encrypted database at `path` (which must not exist)."""
        if path.exists():
            raise StoreError(f"Une base existe déjà à cet emplacement : {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.execute(_key_pragma(key))
        store = cls(conn, path)
        store._key = key
        store._configure()
        store.migrate()
        log.info("created encrypted database (schema %d)", store.schema_version())
        return store

    @classmethod
    def open(cls, path: Path, key: bytes) -> Store:
        """Open an existing database; refuse it untouched if it cannot be used."""
        if not path.is_file():
            raise StoreError(f"La base de données est introuvable : {path}")
        header = _read_header(path)
        if path.stat().st_size == 0:
            raise NotADatabaseError(
                f"Le fichier {path.name} est vide : ce n'est pas une base Havre Ensemble. "
                "Il n'a pas été modifié."
            )
        # Open read-only first: a wrong key or a too-new schema must not write a byte.
        uri = path.resolve().as_uri() + "?mode=ro"
        probe = sqlcipher3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            probe.execute(_key_pragma(key))
            try:
                probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
                version = int(probe.execute("PRAGMA user_version").fetchone()[0])
            except sqlcipher3.DatabaseError as exc:
                raise _not_a_database(path, header) from exc
        finally:
            probe.close()
        latest = latest_schema_version()
        if version == 0:
            raise NotADatabaseError(
                f"Le fichier {path.name} ne contient pas de base Havre Ensemble. "
                "Il n'a pas été modifié."
            )
        if version > latest:
            raise SchemaTooNewError(
                "Cette base de données a été créée par une version plus récente de Havre "
                f"Ensemble (schéma {version}, cette version connaît le schéma {latest}). "
                "Mettez l'application à jour. La base n'a pas été modifiée."
            )
        conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
        conn.execute(_key_pragma(key))
        store = cls(conn, path)
        store._key = key
        store._configure()
        store.migrate()
        return store

    def open_another(self) -> Store:
        """A second connection to the same unlocked database, for another thread.

        Sync talks to the network for long moments: with its own connection (WAL lets
        readers and one writer work side by side) the screens never wait behind it.
        """
        if self._key is None:
            raise StoreError("Cette base n'a pas été ouverte par une clé connue.")
        return Store.open(self.path, self._key)

    def export_encrypted(self, target: Path) -> None:
        """A consistent copy of the whole database into the new file `target`, encrypted with
        the same key (``sqlcipher_export`` in one transaction; the schema version follows)."""
        if self._key is None:
            raise StoreError("Cette base n'a pas été ouverte par une clé connue.")
        if self.in_transaction:
            raise StoreError("Une copie ne se fait pas au milieu d'une transaction.")
        self.conn.execute(
            f"ATTACH DATABASE ? AS copie KEY \"x'{self._key.hex()}'\"", (str(target),)
        )
        try:
            with self.transaction():
                self.conn.execute("SELECT sqlcipher_export('copie')")
                self.conn.execute(f"PRAGMA copie.user_version = {self.schema_version()}")
        finally:
            self.conn.execute("DETACH DATABASE copie")

    def backup_key(self) -> bytes:
        """The database key, for a backup's integrity code (core/backup.py); never stored."""
        if self._key is None:
            raise StoreError("Cette base n'a pas été ouverte par une clé connue.")
        return self._key

    def _configure(self) -> None:
        mode = self.conn.execute(f"PRAGMA journal_mode = {JOURNAL_MODE}").fetchone()[0]
        if str(mode).lower() != JOURNAL_MODE:
            raise StoreError(f"Mode de journalisation inattendu : {mode}")
        # FULL: a transaction reported as saved survives a crash or a power cut.
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA busy_timeout = 5000")
        self.conn.execute("PRAGMA temp_store = MEMORY")
        self.conn.execute(f"PRAGMA cache_size = {-CACHE_KIB}")

    @contextmanager
    def roomy_cache(self, kib: int = ROOMY_CACHE_KIB) -> Iterator[None]:
        """A larger page cache for one long read, given back afterwards.

        The dashboard's counts walk a year of visits through their indexes, and a page read
        again after being evicted is decrypted again (a filter change took twice as long with
        the usual cache). Kept for the whole session, that cache would hold 32 MiB more of
        every agent's memory (the journal of a million visits fills it)."""
        self.conn.execute(f"PRAGMA cache_size = {-kib}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
            self.conn.execute("PRAGMA shrink_memory")

    @contextmanager
    def lean_cache(self) -> Iterator[None]:
        """A small page cache for one long scan read once (the journal's million row
        numbers): its index pages are not read again, and kept they would push the
        session's memory up by the whole cache for nothing."""
        with self.roomy_cache(LEAN_CACHE_KIB):
            yield

    def close(self) -> None:
        self.conn.close()

    # -- schema -----------------------------------------------------------------------

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Apply the numbered migrations not yet applied, each in one transaction."""
        current = self.schema_version()
        for version, name, sql in migration_files():
            if version <= current:
                continue
            log.info("applying migration %s", name)
            with self.transaction():
                for statement in _split_sql(sql):
                    self.conn.execute(statement)
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                self.conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ'))",
                    (version, name),
                )
                self.conn.execute(f"PRAGMA user_version = {version}")
        if self.schema_version() >= 1:
            self._load_reference_data()

    def _load_reference_data(self) -> None:
        """Reference data from db/ (same ids as the server), reloaded when the file changed."""
        text = reference_text()
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if self.get_setting("reference_data_sha256") == digest:
            return  # opening stays read-only when nothing changed
        data = json.loads(text)
        with self.transaction():
            self.set_setting("reference_data_sha256", digest)
            for t in data["territories"]:
                self.conn.execute(
                    "INSERT INTO ref_territories (id, name, sort) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET name = excluded.name, sort = excluded.sort",
                    (t["id"], t["name"], t["sort"]),
                )
            for s in data["stakes"]:
                self.conn.execute(
                    "INSERT INTO ref_stakes VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "number = excluded.number, name = excluded.name",
                    (s["id"], s["number"], s["name"]),
                )
            for p in data["priorities"]:
                self.conn.execute(
                    "INSERT INTO ref_priorities VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
                    "SET number = excluded.number, stake_id = excluded.stake_id, "
                    "name = excluded.name",
                    (p["id"], p["number"], p["stake_id"], p["name"]),
                )
            for list_name, items in data.items():
                if list_name in {"territories", "stakes", "priorities", "version"}:
                    continue
                if not isinstance(items, list):
                    continue
                for sort, item in enumerate(items, start=1):
                    self.conn.execute(
                        "INSERT INTO ref_items VALUES (?, ?, ?, ?) ON CONFLICT(list, id) "
                        "DO UPDATE SET name = excluded.name, sort = excluded.sort",
                        (list_name, item["id"], item["name"], sort),
                    )

    # -- transactions -----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlcipher3.Connection]:
        """One atomic unit of work; nested uses join the outer transaction."""
        if self._tx_depth:
            self._tx_depth += 1
            try:
                yield self.conn
            finally:
                self._tx_depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._tx_depth = 1
        try:
            yield self.conn
        except BaseException:
            self._tx_depth = 0
            self.conn.execute("ROLLBACK")
            raise
        else:
            self._tx_depth = 0
            self.conn.execute("COMMIT")

    @property
    def in_transaction(self) -> bool:
        return self._tx_depth > 0

    # -- small query helpers ----------------------------------------------------------

    def query(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> list[dict[str, Any]]:
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def query_one(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM settings WHERE key = ?", (key,))
        return default if value is None else str(value)

    def set_setting(self, key: str, value: str | None) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO settings VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                "SET value = excluded.value",
                (key, value),
            )

    def integrity_problems(self) -> list[str]:
        """What `integrity_check` and `cipher_integrity_check` report (empty when healthy)."""
        problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [str(r[0]) for r in self.conn.execute("PRAGMA cipher_integrity_check")]
        return problems


def _read_header(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(16)


def _not_a_database(path: Path, header: bytes) -> NotADatabaseError:
    if header == SQLITE_HEADER:
        return NotADatabaseError(
            f"Le fichier {path.name} est une base SQLite non chiffrée, pas une base Havre "
            "Ensemble. Il n'a pas été modifié."
        )
    if path.stat().st_size < 1024 or path.stat().st_size % 512:
        return NotADatabaseError(
            f"Le fichier {path.name} n'est pas une base Havre Ensemble (fichier endommagé ou "
            "d'un autre type). Il n'a pas été modifié."
        )
    return WrongKeyError(
        f"La clé ne permet pas d'ouvrir {path.name} : la clé est incorrecte ou le fichier est "
        "endommagé. Le fichier n'a pas été modifié."
    )


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements: list[str] = []
    buffer: list[str] = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("--")):
            continue
        buffer.append(line)
        candidate = "\n".join(buffer)
        if stripped.endswith(";") and sqlcipher3.complete_statement(candidate):
            statements.append(candidate)
            buffer = []
    if buffer and "\n".join(buffer).strip():
        statements.append("\n".join(buffer))
    return statements
