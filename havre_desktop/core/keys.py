"""The database key: 256 random bits, kept in the OS keyring, with wrapped copies.

The key that encrypts the database never changes and is never written in clear.
It can be unlocked three ways:

* the OS keyring (Secret Service, Windows Credential Manager, macOS Keychain);
* a passphrase the user chose, when no keyring backend works;
* the recovery passphrase shown once at profile creation.

The last two are *key slots* in ``keyslots.json``: the key encrypted with
AES-256-GCM under a key derived from the passphrase by Argon2id (memory-hard).
Losing the keyring entry therefore never forces a new key over an existing file.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from havre_desktop import KEYRING_SERVICE
from havre_desktop.core.errors import KeyringUnavailableError, WrongPassphraseError
from havre_desktop.core.files import write_file

log = logging.getLogger("havre.core.keys")

KEY_BYTES = 32
# Argon2id parameters: about 0.2 s and 64 MiB on an agent's laptop.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_PARALLELISM = 2
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, copied by hand
RECOVERY_GROUPS = 8
RECOVERY_GROUP_LEN = 4


def new_database_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def new_recovery_passphrase() -> str:
    """Eight groups of four characters (160 bits), e.g. ``K7QF-M2XA-…``."""
    groups = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LEN))
        for _ in range(RECOVERY_GROUPS)
    ]
    return "-".join(groups)


def normalise_recovery_passphrase(text: str) -> str:
    """Accept the recovery passphrase with any case, spaces or dashes."""
    kept = [c for c in text.upper() if c in RECOVERY_ALPHABET]
    chunks = [
        "".join(kept[i : i + RECOVERY_GROUP_LEN]) for i in range(0, len(kept), RECOVERY_GROUP_LEN)
    ]
    return "-".join(chunks)


def normalise_passphrase(text: str) -> str:
    """The same passphrase typed on another keyboard layout gives the same bytes."""
    return unicodedata.normalize("NFC", text)


# --- OS keyring -----------------------------------------------------------------------


class KeyringLike(Protocol):
    def get_password(self, service: str, username: str) -> str | None: ...
    def set_password(self, service: str, username: str, password: str) -> None: ...
    def delete_password(self, service: str, username: str) -> None: ...


PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
# Backends that would put the database key where anyone with the disk can read it.
INSECURE_BACKENDS = frozenset(
    {
        PLAINTEXT,
        "keyring.backends.null.Keyring",
        "keyring.backends.fail.Keyring",
    }
)
# Benchmarks and tests that start the real application in a child process may allow
# a plaintext keyring in a throwaway folder; never set on an agent's computer.
INSECURE_KEYRING_ENV = "HAVRE_ALLOW_INSECURE_KEYRING_FOR_TESTS"


def usable_keyring(remembered: str | None = None) -> Any:
    """The OS keyring backend that will hold the key, or raise with the reason there is none.

    When several backends are installed, keyring chains them; the key must go to the
    best *secure* one (the Secret Service, Windows Credential Manager, macOS Keychain),
    never fall back to a plaintext file.

    `remembered` names the backend a profile's key was stored in (profile.json). While it
    is still usable it is loaded directly: the key is looked for where it was put, and the
    search through every installed backend (about 65 ms at each start) is skipped.
    ``PYTHON_KEYRING_BACKEND``, keyring's own override, still wins.
    """
    import keyring
    from keyring.backends import chainer

    allow_insecure = os.environ.get(INSECURE_KEYRING_ENV) == "1"
    if (
        remembered
        and not os.environ.get("PYTHON_KEYRING_BACKEND")
        and (remembered not in INSECURE_BACKENDS or (allow_insecure and remembered == PLAINTEXT))
    ):
        from keyring.core import load_keyring

        try:
            return load_keyring(remembered)  # raises when the backend is not viable here
        except Exception:  # gone, locked, another desktop session: search as on first run
            log.info("keyring backend %s not usable now; looking for another", remembered)

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring configuration is an environment problem
        raise KeyringUnavailableError(
            "Le trousseau du système n'a pas pu être chargé ; un mot de passe protégera "
            "vos données à la place."
        ) from exc
    candidates = (
        list(backend.backends) if isinstance(backend, chainer.ChainerBackend) else [backend]
    )
    secure = [
        b
        for b in candidates
        if describe_backend(b) not in INSECURE_BACKENDS
        or (allow_insecure and describe_backend(b) == PLAINTEXT)
    ]
    if not secure:
        raise KeyringUnavailableError(
            "Aucun trousseau sécurisé n'est disponible sur cet ordinateur (service de "
            "secrets du système absent ou verrouillé). Vos données seront protégées par "
            "un mot de passe que vous choisissez ; il vous sera demandé à chaque ouverture."
        )
    return secure[0]


def describe_backend(backend: Any) -> str:
    """The backend's dotted name, as keyring's `load_keyring` takes it (profile.json)."""
    named = getattr(backend, "backend_name", None)  # core.secret_service.SecretServiceKeyring
    if isinstance(named, str):
        return named
    return type(backend).__module__ + "." + type(backend).__name__


def key_from_text(value: str) -> bytes | None:
    """The database key from its keyring entry (hex); None when the entry is not a key."""
    try:
        key = bytes.fromhex(value)
    except ValueError:
        log.warning("keyring entry for this profile is not a key; ignored")
        return None
    return key if len(key) == KEY_BYTES else None


@dataclass
class KeyringKeyStore:
    """Stores the raw database key (hex) under ``havre-desktop`` / profile id."""

    backend: KeyringLike
    profile_id: str
    service: str = KEYRING_SERVICE

    def load(self) -> bytes | None:
        try:
            value = self.backend.get_password(self.service, self.profile_id)
        except Exception as exc:
            raise KeyringUnavailableError(
                "Le trousseau du système ne répond pas (est-il verrouillé ?). "
                "Déverrouillez votre session puis réessayez."
            ) from exc
        return None if value is None else key_from_text(value)

    def save(self, key: bytes) -> None:
        try:
            self.backend.set_password(self.service, self.profile_id, key.hex())
        except Exception as exc:
            raise KeyringUnavailableError(
                "La clé n'a pas pu être enregistrée dans le trousseau du système."
            ) from exc

    def delete(self) -> None:
        try:
            self.backend.delete_password(self.service, self.profile_id)
        except Exception:  # already gone: nothing to do
            log.info("no keyring entry to delete for this profile")


# --- Key slots ------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _derive(
    passphrase: str, salt: bytes, time_cost: int, memory_kib: int, parallelism: int
) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        secret=passphrase.encode("utf-8"),
        salt=salt,
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def wrap_key(key: bytes, passphrase: str, kind: str) -> dict[str, Any]:
    """One key slot: the key encrypted under an Argon2id-derived key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt = os.urandom(16)
    nonce = os.urandom(12)
    kek = _derive(passphrase, salt, ARGON2_TIME_COST, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM)
    wrapped = AESGCM(kek).encrypt(nonce, key, kind.encode("ascii"))
    return {
        "kind": kind,
        "kdf": "argon2id",
        "time_cost": ARGON2_TIME_COST,
        "memory_kib": ARGON2_MEMORY_KIB,
        "parallelism": ARGON2_PARALLELISM,
        "salt": _b64(salt),
        "cipher": "aes-256-gcm",
        "nonce": _b64(nonce),
        "wrapped_key": _b64(wrapped),
    }


def unwrap_key(slot: dict[str, Any], passphrase: str) -> bytes | None:
    """The key if the passphrase is right, else None."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    kek = _derive(
        passphrase,
        _unb64(slot["salt"]),
        int(slot["time_cost"]),
        int(slot["memory_kib"]),
        int(slot["parallelism"]),
    )
    try:
        return AESGCM(kek).decrypt(
            _unb64(slot["nonce"]), _unb64(slot["wrapped_key"]), str(slot["kind"]).encode("ascii")
        )
    except InvalidTag:
        return None


class KeySlots:
    """The ``keyslots.json`` file of a profile (wrapped keys only)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        data = json.loads(self.path.read_text("utf-8"))
        slots = data.get("slots", [])
        if not isinstance(slots, list):
            raise ValueError("keyslots.json: 'slots' is not a list")
        return slots

    def write(self, slots: list[dict[str, Any]]) -> None:
        text = json.dumps({"version": 1, "slots": slots}, indent=2)
        write_file(self.path, text.encode("utf-8"))

    def kinds(self) -> set[str]:
        return {str(s.get("kind")) for s in self.read()}

    def set_slot(self, key: bytes, passphrase: str, kind: str) -> None:
        slots = [s for s in self.read() if s.get("kind") != kind]
        slots.append(wrap_key(key, passphrase, kind))
        self.write(slots)

    def unlock(self, passphrase: str, kind: str) -> bytes:
        for slot in self.read():
            if slot.get("kind") == kind:
                key = unwrap_key(slot, passphrase)
                if key is not None:
                    return key
        if kind == "recovery":
            raise WrongPassphraseError("La phrase de récupération ne correspond pas à ce profil.")
        raise WrongPassphraseError("Mot de passe incorrect.")
