"""Encrypted backup of a profile in one file, restored on another computer with its outbox.

For a laptop swap with changes not yet synced. The file holds:

* a consistent copy of the encrypted database (``sqlcipher_export`` in one read
  transaction: the copy is encrypted with the same database key, never in clear);
* the profile's *recovery* key slot (the database key wrapped under the recovery passphrase
  with Argon2id and AES-256-GCM, as in ``keyslots.json``) and nothing else: neither the
  keyring's key nor the passphrase slot. Only the recovery passphrase opens it;
* an HMAC-SHA256 over the header and the database, under a key derived from the database
  key: a file cut short, altered or put together from two backups is refused.

Restoring makes a new profile in an empty folder: the same database (agent, device, outbox,
pull cursor: the next sync sends what was waiting, and the server's mutation ids make a
second sending harmless), the key put in this computer's keyring (or under a passphrase
chosen now), the recovery slot kept. The agent signs in again (the device token stayed in
the old computer's keyring).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from havre_desktop import __version__
from havre_desktop.core import audit
from havre_desktop.core.errors import ProfileError, WrongPassphraseError
from havre_desktop.core.files import replace_file, write_file
from havre_desktop.core.keys import normalise_recovery_passphrase, unwrap_key
from havre_desktop.core.profile import ProfileManager
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace

log = logging.getLogger("havre.core.backup")

MAGIC = b"HAVRE-SAUVEGARDE\n"
FORMAT = 1
BACKUP_SUFFIX = ".havre-sauvegarde"
_LENGTH = struct.Struct(">I")
_MAC_BYTES = 32


def _mac_key(database_key: bytes) -> bytes:
    return hmac.new(database_key, b"havre-sauvegarde-hmac-v1", hashlib.sha256).digest()


def _mac(database_key: bytes, header: bytes, database: bytes) -> bytes:
    mac = hmac.new(_mac_key(database_key), MAGIC, hashlib.sha256)
    mac.update(_LENGTH.pack(len(header)))
    mac.update(header)
    mac.update(database)
    return mac.digest()


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: str
    outbox: int  # changes not yet sent, carried in the backup
    size: int


def create_backup(ws: Workspace, manager: ProfileManager, target: Path) -> BackupInfo:
    """Write the profile's backup to `target` (replaced whole; never half-written)."""
    slots = [s for s in manager.slots.read() if s.get("kind") == "recovery"]
    if not slots:
        raise ProfileError(
            "Ce profil n'a pas de phrase de récupération : il ne peut pas être sauvegardé."
        )
    work = manager.paths.root / f".sauvegarde-{uuid.uuid4().hex}.db"
    try:
        ws.store.export_encrypted(work)
        database = work.read_bytes()
    finally:
        work.unlink(missing_ok=True)
    outbox = int(ws.store.scalar("SELECT count(*) FROM outbox"))  # shown to the agent
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    header = json.dumps(
        {
            "format": FORMAT,
            "created_at": created_at,
            "created_by_version": __version__,
            "schema_version": ws.store.schema_version(),
            "outbox": outbox,
            "recovery_slot": slots[0],
        },
        sort_keys=True,
    ).encode("utf-8")
    mac = _mac(ws.store.backup_key(), header, database)

    def produce(handle: IO[bytes]) -> bool:
        handle.write(MAGIC)
        handle.write(_LENGTH.pack(len(header)))
        handle.write(header)
        handle.write(database)
        handle.write(mac)
        return True

    replace_file(Path(target), produce)  # owner-only, like the profile's own files
    audit.record(ws, "export", "profil", None, {"sauvegarde": 1, "modifications": outbox})
    log.info("profile backed up (%d unsent changes, %d bytes)", outbox, len(database))
    return BackupInfo(Path(target), created_at, outbox, Path(target).stat().st_size)


def _read(source: Path) -> tuple[bytes, dict[str, Any], bytes, bytes]:
    damaged = ProfileError(
        "Ce fichier n'est pas une sauvegarde Havre Ensemble, ou il est incomplet."
    )
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise ProfileError(f"La sauvegarde n'a pas pu être lue : {exc.strerror}.") from exc
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + _LENGTH.size + _MAC_BYTES:
        raise damaged
    offset = len(MAGIC)
    (length,) = _LENGTH.unpack_from(data, offset)
    offset += _LENGTH.size
    header_bytes = data[offset : offset + length]
    database = data[offset + length : -_MAC_BYTES]
    mac = data[-_MAC_BYTES:]
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except ValueError as exc:
        raise damaged from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise damaged
    return header_bytes, header, database, mac


def restore_backup(
    source: Path,
    manager: ProfileManager,
    recovery_passphrase: str,
    passphrase: str | None = None,
) -> Store:
    """Make the profile of `manager` (an empty folder) from a backup.

    Without `passphrase` the key goes to the manager's keyring (required), as at a first run.
    Refused with a French message, nothing left behind: a folder holding a profile, a wrong
    recovery passphrase, a damaged or altered file, a database newer than this version.
    """
    paths = manager.paths
    if paths.database.exists():
        raise ProfileError("Un profil existe déjà dans ce dossier ; il n'a pas été remplacé.")
    header_bytes, header, database, mac = _read(source)
    slot = header.get("recovery_slot")
    if not isinstance(slot, dict):
        raise ProfileError("Cette sauvegarde ne contient pas de clé de récupération.")
    try:
        key = unwrap_key(slot, normalise_recovery_passphrase(recovery_passphrase))
    except (KeyError, ValueError, TypeError) as exc:
        raise ProfileError(
            "Cette sauvegarde est abîmée : sa clé de récupération est illisible."
        ) from exc
    if key is None:
        raise WrongPassphraseError(
            "La phrase de récupération ne correspond pas à cette sauvegarde."
        )
    if not hmac.compare_digest(mac, _mac(key, header_bytes, database)):
        raise ProfileError("La sauvegarde a été abîmée ou modifiée : elle n'a pas été restaurée.")
    paths.root.mkdir(parents=True, exist_ok=True)
    ours = [p for p in (*paths.database_companions(), paths.profile_info, paths.keyslots)]
    ours = [p for p in ours if not p.exists()]  # only what the restore writes is undone
    store: Store | None = None
    try:
        write_file(paths.database, database)
        store = Store.open(paths.database, key)  # checks the key and the schema version
        manager.adopt_restored(key, slot, passphrase, str(header.get("created_at") or ""))
    except BaseException:
        _undo(ours, store)
        raise
    log.info("profile restored from a backup (%s unsent changes)", header.get("outbox"))
    return store


def _undo(paths: list[Path], store: Store | None) -> None:
    if store is not None:
        store.close()
    for path in paths:
        path.unlink(missing_ok=True)
