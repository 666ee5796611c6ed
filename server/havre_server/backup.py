"""Online, encrypted backups: ``havre-server backup FILE`` and ``havre-server restore FILE``.

What is copied: SQLite, the database through SQLite's online backup API (a consistent copy while
the server writes); PostgreSQL, ``pg_dump --format=custom`` (one snapshot transaction), from the
PostgreSQL programs' folder (``backup.pg_bindir``, else ``pg_config --bindir``, else ``PATH``).

Encryption (file format ``HAVREBK1``): AES-256-GCM from the ``cryptography`` package, the key
derived from the backup passphrase with scrypt (n=2^15, r=8, p=1, a random 16-byte salt per
file). The file is a magic, a JSON header (kind of database, time, schema revision, head of the
change log, KDF parameters and salt; authenticated as associated data of every chunk, never
secret) and chunks of at most 1 MiB, each sealed with the nonce ``prefix(7) ‖ counter(4) ‖
last(1)``: a chunk changed, swapped, dropped or a file cut short fails to decrypt (the STREAM
construction of Hoang, Reyhanitabar, Rogaway and Vizár). The passphrase comes from
``HAVRE_SERVER_BACKUP_PASSPHRASE`` or the file ``backup.passphrase_file``; never from the
command line (it would show in ``ps``).

Restore goes into a *fresh* database (no table), then migrates it to this server's schema, then
opens a gap in the change log (:func:`havre_server.changelog.open_restore_gap`): devices that
pulled after the backup hold cursors the restored log never reached; their next pull answers
``reset_required`` and they download everything again, instead of skipping the entries the
restored server writes under the same numbers. Edits that reached the server after the backup
are not in it: restore the latest backup (PostgreSQL: add WAL archiving for point-in-time).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from havre_server import SERVER_VERSION
from havre_server.changelog import head_seq, open_restore_gap
from havre_server.db import make_engine, normalise_url
from havre_server.migrations import current_revision, migrate

log = logging.getLogger("havre.server.backup")

MAGIC = b"HAVREBK1"
CHUNK = 1024 * 1024
PASSPHRASE_ENV = "HAVRE_SERVER_BACKUP_PASSPHRASE"
PASSPHRASE_FILE_ENV = "HAVRE_SERVER_BACKUP_PASSPHRASE_FILE"
PG_BINDIR_ENV = "HAVRE_SERVER_PG_BINDIR"
MIN_PASSPHRASE = 12
SCRYPT = {"n": 2**15, "r": 8, "p": 1}


class BackupError(RuntimeError):
    """A backup or restore that cannot be done (French message for the administrator)."""


@dataclass(frozen=True)
class Summary:
    kind: str
    size: int
    head_seq: int
    schema: str | None
    created_at: str


# -- the passphrase and the key -------------------------------------------------------------------


def passphrase() -> bytes:
    text = os.environ.get(PASSPHRASE_ENV)
    if not text and os.environ.get(PASSPHRASE_FILE_ENV):
        path = Path(os.environ[PASSPHRASE_FILE_ENV])
        try:
            text = path.read_text("utf-8").rstrip("\r\n")
        except OSError as exc:
            raise BackupError(
                f"Fichier de la phrase de passe illisible : {path} ({exc.strerror})"
            ) from None
    if not text:
        raise BackupError(
            "Phrase de passe des sauvegardes absente : indiquez son fichier (backup."
            f"passphrase_file, ${PASSPHRASE_FILE_ENV}) ou donnez-la dans ${PASSPHRASE_ENV}."
        )
    if len(text) < MIN_PASSPHRASE:
        raise BackupError(
            f"Phrase de passe des sauvegardes trop courte : au moins {MIN_PASSPHRASE} caractères."
        )
    return text.encode("utf-8")


def _key(secret: bytes, salt: bytes, params: dict[str, int]) -> bytes:
    return Scrypt(salt=salt, length=32, n=params["n"], r=params["r"], p=params["p"]).derive(secret)


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


# -- the encrypted file ---------------------------------------------------------------------------


def write_encrypted(out: IO[bytes], header: dict[str, Any], chunks: Iterable[bytes]) -> int:
    """Write the header and the sealed chunks; returns the plaintext size."""
    salt, prefix = os.urandom(16), os.urandom(7)
    header = {
        **header,
        "cipher": "AES-256-GCM",
        "kdf": {"name": "scrypt", **SCRYPT, "salt": base64.b64encode(salt).decode()},
        "nonce_prefix": base64.b64encode(prefix).decode(),
    }
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    aead = AESGCM(_key(passphrase(), salt, SCRYPT))
    out.write(MAGIC + struct.pack(">I", len(head)) + head)
    size, counter = 0, 0
    pending: bytes | None = None
    for chunk in _rechunk(chunks):
        if pending is not None:
            _seal(out, aead, prefix, counter, pending, head, last=False)
            counter += 1
        pending = chunk
        size += len(chunk)
    _seal(out, aead, prefix, counter, pending or b"", head, last=True)
    return size


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    buffer = bytearray()
    for data in chunks:
        buffer += data
        while len(buffer) >= CHUNK:
            yield bytes(buffer[:CHUNK])
            del buffer[:CHUNK]
    if buffer:
        yield bytes(buffer)


def _seal(
    out: IO[bytes], aead: AESGCM, prefix: bytes, counter: int, data: bytes, ad: bytes, last: bool
) -> None:
    sealed = aead.encrypt(_nonce(prefix, counter, last), data, ad)
    out.write(struct.pack(">I", len(sealed)) + sealed)


def read_header(source: IO[bytes], path: Path) -> tuple[dict[str, Any], bytes]:
    start = source.read(len(MAGIC) + 4)
    if len(start) < len(MAGIC) + 4 or start[: len(MAGIC)] != MAGIC:
        raise BackupError(f"{path} n'est pas une sauvegarde Havre Ensemble.")
    (length,) = struct.unpack(">I", start[len(MAGIC) :])
    raw = source.read(length)
    try:
        header: dict[str, Any] = json.loads(raw)
        for value in (header["kdf"]["salt"], header["nonce_prefix"]):
            base64.b64decode(value, validate=True)
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"En-tête de sauvegarde illisible : {path}") from None
    return header, raw


def read_decrypted(source: IO[bytes], path: Path) -> Iterator[bytes]:
    """The plaintext of a backup, chunk by chunk, each checked before it is handed out."""
    header, raw = read_header(source, path)
    kdf = header["kdf"]
    salt = base64.b64decode(kdf["salt"])
    aead = AESGCM(_key(passphrase(), salt, {k: int(kdf[k]) for k in ("n", "r", "p")}))
    prefix = base64.b64decode(header["nonce_prefix"])
    counter = 0
    while True:
        size_bytes = source.read(4)
        if len(size_bytes) < 4:
            raise BackupError(f"Sauvegarde incomplète (coupée) : {path}")
        (size,) = struct.unpack(">I", size_bytes)
        sealed = source.read(size)
        try:
            data = aead.decrypt(_nonce(prefix, counter, False), sealed, raw)
            last = False
        except InvalidTag:
            try:
                data = aead.decrypt(_nonce(prefix, counter, True), sealed, raw)
                last = True
            except InvalidTag:
                raise BackupError(
                    f"Phrase de passe incorrecte, ou sauvegarde altérée ou incomplète : {path}"
                ) from None
        yield data
        counter += 1
        if last:
            if source.read(1):
                raise BackupError(f"Sauvegarde altérée (données après la fin) : {path}")
            return


# -- backup ---------------------------------------------------------------------------------------


def backup(url: str, output: Path) -> Summary:
    url = normalise_url(url)
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(havre_read_only=True) as conn, conn.begin():
            head = head_seq(conn)
            schema = current_revision(conn)
    finally:
        engine.dispose()
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    header = {
        "format": 1,
        "kind": kind,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "server_version": SERVER_VERSION,
        "schema": schema,
        "head_seq": head,
    }
    passphrase()  # a missing passphrase stops here, before any copy
    output = output.resolve()
    partial = output.with_name(output.name + ".partiel")
    if not output.parent.is_dir():
        raise BackupError(f"Dossier de la sauvegarde introuvable : {output.parent}")
    try:
        with partial.open("wb") as out:
            if kind == "sqlite":
                size = _backup_sqlite(url, out, header)
            else:
                size = _backup_postgres(url, out, header)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    log.info("backup written kind=%s bytes=%d head_seq=%d", kind, size, head)
    return Summary(kind, size, head, schema, str(header["created_at"]))


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("Base SQLite en mémoire : rien à sauvegarder.")
    return Path(database)


def _backup_sqlite(url: str, out: IO[bytes], header: dict[str, Any]) -> int:
    source_path = _sqlite_path(url)
    if not source_path.exists():
        raise BackupError(f"Base SQLite introuvable : {source_path}")
    with tempfile.TemporaryDirectory(prefix="havre-backup-", dir=out_dir(out)) as tmp:
        copy = Path(tmp) / "copie.db"
        source = sqlite3.connect(source_path, timeout=30)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # online: a consistent copy while the server writes
        finally:
            target.close()
            source.close()
        with copy.open("rb") as data:
            return write_encrypted(out, header, iter(lambda: data.read(CHUNK), b""))


def out_dir(out: IO[bytes]) -> str | None:
    """The folder of the file being written: plaintext copies stay on the same disk, private."""
    name = getattr(out, "name", None)
    return str(Path(name).parent) if isinstance(name, str) else None


def pg_program(name: str) -> str:
    folders: list[str] = []
    if os.environ.get(PG_BINDIR_ENV):
        folders.append(os.environ[PG_BINDIR_ENV])
    else:
        try:
            found = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
            folders.append(found)
        except (OSError, subprocess.CalledProcessError):
            pass
    for folder in folders:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError(
            f"Programme {name} introuvable : installez les outils clients PostgreSQL ou "
            f"indiquez leur dossier (backup.pg_bindir, ${PG_BINDIR_ENV})."
        )
    return on_path


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the PostgreSQL programs, its password in the environment
    (never on a command line that ``ps`` shows)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _backup_postgres(url: str, out: IO[bytes], header: dict[str, Any]) -> int:
    target, env = _libpq(url)
    command = [pg_program("pg_dump"), "--format=custom", "--no-owner", "--no-acl", "-d", target]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as dump:
        stdout, stderr = dump.stdout, dump.stderr
        assert stdout is not None and stderr is not None
        size = write_encrypted(out, header, iter(lambda: stdout.read(CHUNK), b""))
        errors = stderr.read().decode("utf-8", "replace")
    if dump.returncode != 0:
        raise BackupError(f"pg_dump a échoué ({dump.returncode}) : {errors.strip()[:2000]}")
    return size


# -- restore --------------------------------------------------------------------------------------


def describe(path: Path) -> dict[str, Any]:
    with path.open("rb") as source:
        header, _ = read_header(source, path)
    return header


def restore(url: str, path: Path) -> Summary:
    url = normalise_url(url)
    if not path.exists():
        raise BackupError(f"Sauvegarde introuvable : {path}")
    header = describe(path)
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if header.get("kind") != kind:
        raise BackupError(
            f"Sauvegarde d'une base {header.get('kind')} : elle se restaure dans une base du "
            f"même type, pas dans une base {kind}."
        )
    engine = make_engine(url)
    try:
        _check_empty(engine)
        engine.dispose()
        with path.open("rb") as source:
            chunks = read_decrypted(source, path)
            if kind == "sqlite":
                size = _restore_sqlite(url, chunks)
            else:
                size = _restore_postgres(url, chunks)
        engine = make_engine(url)
        migrate(engine)  # a backup of an older release: brought to this server's schema
        with engine.begin() as conn:
            low, high = open_restore_gap(conn)
            schema = current_revision(conn)
    finally:
        engine.dispose()
    log.info("backup restored kind=%s bytes=%d head_seq=%d resume_seq=%d", kind, size, low, high)
    return Summary(kind, size, low, schema, str(header.get("created_at")))


def _check_empty(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    except SQLAlchemyError as exc:
        raise BackupError(
            f"Base cible injoignable ({type(getattr(exc, 'orig', None) or exc).__name__}) : "
            "créez-la vide, "
            "vérifiez son adresse et ses droits."
        ) from None
    if tables:
        raise BackupError(
            "La base cible n'est pas vide : restaurez dans une base neuve (fichier absent, ou "
            "base PostgreSQL créée vide), puis pointez le serveur vers elle."
        )


def _restore_sqlite(url: str, chunks: Iterator[bytes]) -> int:
    target_path = _sqlite_path(url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with tempfile.TemporaryDirectory(prefix="havre-restore-", dir=target_path.parent) as tmp:
        copy = Path(tmp) / "copie.db"
        with copy.open("wb") as out:
            for chunk in chunks:  # each one checked: nothing unauthenticated is used
                out.write(chunk)
                size += len(chunk)
        source = sqlite3.connect(copy)
        target = sqlite3.connect(target_path)
        try:
            if source.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise BackupError("La copie déchiffrée n'est pas une base SQLite saine.")
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
        finally:
            target.close()
            source.close()
    return size


def _restore_postgres(url: str, chunks: Iterator[bytes]) -> int:
    target, env = _libpq(url)
    command = [
        pg_program("pg_restore"),
        "--single-transaction",  # a bad chunk or a cut file: nothing is left half restored
        "--exit-on-error",
        "--no-owner",
        "--no-acl",
        "-d",
        target,
    ]
    size = 0
    failure: BackupError | None = None
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    ) as load:
        assert load.stdin is not None and load.stderr is not None
        try:
            for chunk in chunks:
                load.stdin.write(chunk)
                size += len(chunk)
        except BackupError as exc:
            failure = exc
            load.kill()
        except BrokenPipeError:
            pass
        finally:
            if not load.stdin.closed:
                with contextlib.suppress(BrokenPipeError):
                    load.stdin.close()
        errors = load.stderr.read().decode("utf-8", "replace")
    if failure is not None:
        raise failure
    if load.returncode != 0:
        raise BackupError(f"pg_restore a échoué ({load.returncode}) : {errors.strip()[:2000]}")
    return size
