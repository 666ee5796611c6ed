"""A profile: one folder, one encrypted database, one agent.

`ProfileManager` decides how to unlock the database and never puts a new key
over an existing file: when the keyring lost the key, the recovery passphrase
unlocks it, or the file is *moved aside intact* and a fresh profile starts.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from havre_desktop import KEYRING_SERVICE, __version__
from havre_desktop.core import secret_service
from havre_desktop.core.errors import (
    KeyMissingError,
    KeyringUnavailableError,
    ProfileError,
    WrongPassphraseError,
)
from havre_desktop.core.files import write_file
from havre_desktop.core.keys import (
    KeyringKeyStore,
    KeyringLike,
    KeySlots,
    describe_backend,
    key_from_text,
    new_database_key,
    new_recovery_passphrase,
    normalise_passphrase,
    normalise_recovery_passphrase,
)
from havre_desktop.core.paths import ProfilePaths
from havre_desktop.core.store import Store

log = logging.getLogger("havre.core.profile")


class UnlockMethod(enum.StrEnum):
    KEYRING = "keyring"
    PASSPHRASE = "passphrase"


class ProfileState(enum.Enum):
    NEW = "new"  # no database yet: first run
    KEYRING = "keyring"  # unlock silently from the keyring
    PASSPHRASE = "passphrase"  # ask the user's passphrase
    KEY_MISSING = "key-missing"  # keyring profile whose key is gone: recovery or move aside


@dataclass
class CreatedProfile:
    store: Store
    recovery_passphrase: str
    method: UnlockMethod


class ProfileManager:
    """Creates and unlocks the profile in one folder."""

    def __init__(self, root: Path, keyring_backend: KeyringLike | None) -> None:
        self.paths = ProfilePaths(root)
        self.keyring_backend = keyring_backend
        self.slots = KeySlots(self.paths.keyslots)
        # The key `state()` read from the keyring, used once by `unlock()`: each keyring
        # read is a D-Bus session with the Secret Service, twice was a tenth of the start.
        self._key_read: bytes | None = None
        # Why the keyring could not be read (a locked keyring whose unlocking was refused,
        # a service that does not answer), in French; None when it simply had no key.
        self.keyring_problem: str | None = None

    def use_prefetched(self, fetched: PrefetchedKey) -> None:
        """Take the backend and key a `KeyPrefetch` read while the window was starting."""
        self.keyring_backend = fetched.backend
        if fetched.key is not None and fetched.profile_id == self.profile_id:
            self._key_read = fetched.key

    # -- profile.json -----------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        if not self.paths.profile_info.exists():
            return {}
        data: dict[str, Any] = json.loads(self.paths.profile_info.read_text("utf-8"))
        return data

    def _write_info(self, info: dict[str, Any]) -> None:
        write_file(self.paths.profile_info, json.dumps(info, indent=2).encode("utf-8"))

    @property
    def profile_id(self) -> str:
        return str(self.info().get("profile_id", ""))

    def _keystore(self) -> KeyringKeyStore:
        if self.keyring_backend is None:
            raise KeyringUnavailableError(
                "Aucun trousseau sécurisé n'est disponible sur cet ordinateur."
            )
        return KeyringKeyStore(self.keyring_backend, self.profile_id)

    # -- state ------------------------------------------------------------------------

    def state(self) -> ProfileState:
        if not self.paths.database.exists():
            return ProfileState.NEW
        info = self.info()
        if not info.get("profile_id"):
            # A database without its profile.json: only a passphrase slot could open it.
            return ProfileState.KEY_MISSING
        if info.get("unlock_method") == UnlockMethod.PASSPHRASE:
            return ProfileState.PASSPHRASE
        if self.keyring_backend is None:
            return ProfileState.KEY_MISSING
        if self._key_read is not None:
            return ProfileState.KEYRING
        try:
            self._key_read = self._keystore().load()
        except KeyringUnavailableError as exc:
            self.keyring_problem = exc.message
            return ProfileState.KEY_MISSING
        return ProfileState.KEYRING if self._key_read is not None else ProfileState.KEY_MISSING

    def key_missing_message(self) -> str:
        """What the recovery dialog says when `state()` is KEY_MISSING."""
        if self.keyring_problem:
            return (
                f"{self.keyring_problem} Vous pouvez aussi saisir la phrase de récupération "
                "notée à la création du profil. Vos données ne sont pas touchées."
            )
        return (
            "La clé de votre base de données n'est plus dans le trousseau du système. "
            "Saisissez la phrase de récupération notée à la création du profil. Si vous ne "
            "l'avez pas, vous pouvez commencer un nouveau profil : l'ancienne base sera mise "
            "de côté, intacte, jamais effacée."
        )

    # -- creation ---------------------------------------------------------------------

    def create(self, passphrase: str | None = None) -> CreatedProfile:
        """A new profile. Without a passphrase the key goes to the keyring (required)."""
        if self.paths.database.exists():
            raise ProfileError("Un profil existe déjà dans ce dossier ; il n'a pas été remplacé.")
        self.paths.root.mkdir(parents=True, exist_ok=True)
        key = new_database_key()
        recovery = new_recovery_passphrase()
        method = self._keep_key(key, passphrase, {})
        self.slots.set_slot(key, recovery, "recovery")
        store = Store.create(self.paths.database, key)
        log.info("profile created (unlock method: %s)", method)
        return CreatedProfile(store, recovery, method)

    def adopt_restored(
        self, key: bytes, recovery_slot: dict[str, Any], passphrase: str | None, restored_from: str
    ) -> UnlockMethod:
        """A database restored from a backup becomes this folder's profile: a new profile id,
        its key kept as at creation (keyring, or a passphrase), the backup's recovery slot."""
        self.slots.write([recovery_slot])
        return self._keep_key(key, passphrase, {"restored_from_backup_of": restored_from})

    def _keep_key(self, key: bytes, passphrase: str | None, extra: dict[str, Any]) -> UnlockMethod:
        """profile.json (a new profile id), then the key in the keyring or a passphrase slot."""
        method = UnlockMethod.KEYRING if passphrase is None else UnlockMethod.PASSPHRASE
        self._write_info(
            {
                "profile_id": str(uuid.uuid4()),
                "unlock_method": str(method),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "created_by_version": __version__,
                **extra,
            }
        )
        if passphrase is None:
            self._keystore().save(key)
            self._remember_backend()
        else:
            self.slots.set_slot(key, normalise_passphrase(passphrase), "passphrase")
        return method

    # -- unlocking --------------------------------------------------------------------

    def unlock(self) -> Store:
        """Unlock from the keyring without asking anything."""
        key, self._key_read = self._key_read or self._keystore().load(), None
        if key is None:
            raise KeyMissingError(
                "La clé de votre base de données n'est plus dans le trousseau du système. "
                "Saisissez la phrase de récupération notée à la création du profil, ou "
                "commencez un nouveau profil : l'ancienne base sera mise de côté, intacte."
            )
        store = Store.open(self.paths.database, key)
        self._remember_backend()
        return store

    @property
    def remembered_backend(self) -> str | None:
        """The keyring backend that holds this profile's key (see keys.usable_keyring)."""
        name = self.info().get("keyring_backend")
        return str(name) if name else None

    def _remember_backend(self) -> None:
        name = describe_backend(self.keyring_backend)
        info = self.info()
        if info.get("keyring_backend") != name:
            self._write_info({**info, "keyring_backend": name})

    def unlock_with_passphrase(self, passphrase: str) -> Store:
        key = self.slots.unlock(normalise_passphrase(passphrase), "passphrase")
        return Store.open(self.paths.database, key)

    def unlock_with_recovery(self, recovery_passphrase: str) -> Store:
        """Open with the recovery passphrase; put the key back in the keyring if possible."""
        key = self.slots.unlock(normalise_recovery_passphrase(recovery_passphrase), "recovery")
        store = Store.open(self.paths.database, key)
        info = self.info()
        if info.get("unlock_method") != UnlockMethod.PASSPHRASE and self.keyring_backend:
            if not info.get("profile_id"):
                info["profile_id"] = str(uuid.uuid4())
                info["unlock_method"] = str(UnlockMethod.KEYRING)
                self._write_info(info)
            try:
                self._keystore().save(key)
                log.info("database key restored to the keyring after recovery")
            except KeyringUnavailableError:
                log.warning("key could not be restored to the keyring after recovery")
        return store

    def verify_secret(self, text: str) -> bool:
        """Whether `text` is this profile's passphrase or its recovery passphrase (the app lock
        asks it after too many wrong PINs). Nothing is opened or changed."""
        kinds = self.slots.kinds()
        if "passphrase" in kinds:
            try:
                self.slots.unlock(normalise_passphrase(text), "passphrase")
                return True
            except WrongPassphraseError:
                pass
        if "recovery" in kinds and normalise_recovery_passphrase(text):
            try:
                self.slots.unlock(normalise_recovery_passphrase(text), "recovery")
                return True
            except WrongPassphraseError:
                pass
        return False

    def change_passphrase(self, old_passphrase: str, new_passphrase: str) -> None:
        """Re-wrap the (unchanged) database key under a new passphrase."""
        key = self.slots.unlock(normalise_passphrase(old_passphrase), "passphrase")
        self.slots.set_slot(key, normalise_passphrase(new_passphrase), "passphrase")

    # -- giving up on a locked database ------------------------------------------------

    def move_aside(self) -> Path:
        """Move the database (and its key slots) into a dated folder, intact; never delete."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        target = self.paths.set_aside / stamp
        suffix = 1
        while target.exists():
            suffix += 1
            target = self.paths.set_aside / f"{stamp}-{suffix}"
        target.mkdir(parents=True)
        for path in [
            *self.paths.database_companions(),
            self.paths.keyslots,
            self.paths.profile_info,
        ]:
            if path.exists():
                shutil.move(str(path), str(target / path.name))
        log.warning("locked database moved aside to %s", target.name)
        return target

    def moved_aside_message(self, target: Path) -> str:
        return (
            "L'ancienne base de données ne pouvait plus être ouverte. Elle a été mise de côté, "
            f"intacte, dans le dossier « {target} ». Un nouveau profil vide a été créé ; "
            "le service informatique pourra restaurer l'ancienne base avec sa phrase de "
            "récupération."
        )


@dataclass(frozen=True)
class PrefetchedKey:
    """What `KeyPrefetch` found: the keyring backend (None: no usable keyring) and the key."""

    profile_id: str
    backend: KeyringLike | None
    key: bytes | None


class KeyPrefetch:
    """Reads a keyring profile's key on a thread while the window starts.

    Started first, the lookup waits on D-Bus while the main thread loads Qt. A key kept in
    the Secret Service is read without importing `keyring` (core/secret_service.py: keyring
    and its backend cost about as much CPU as starting Qt); any other case (another
    backend, a locked keyring to unlock, no service) goes through keyring as before.
    Nothing is decided here: `ProfileManager` still chooses what to do with the result (a
    missing key, a locked keyring: the usual dialogs).
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._result: PrefetchedKey | None = None
        self._thread = threading.Thread(target=self._run, name="havre-key-prefetch", daemon=True)

    @classmethod
    def start(cls, root: Path) -> KeyPrefetch:
        prefetch = cls(root)
        prefetch._thread.start()
        return prefetch

    def _run(self) -> None:
        try:
            self._result = self._fetch()
        except Exception:  # the main thread then reads the keyring itself and reports
            log.exception("reading the key ahead of the window failed")

    def _fetch(self) -> PrefetchedKey | None:
        manager = ProfileManager(self._root, None)
        try:
            info = manager.info()
        except (OSError, ValueError):
            return None  # unreadable profile.json: the main thread reports it
        profile_id = str(info.get("profile_id") or "")
        wants_key = bool(
            profile_id
            and info.get("unlock_method") == UnlockMethod.KEYRING
            and manager.paths.database.exists()
        )
        if wants_key and manager.remembered_backend == secret_service.BACKEND_NAME:
            fetched = self._from_secret_service(profile_id)
            if fetched is not None:
                return fetched
        from havre_desktop.core.keys import usable_keyring

        try:
            backend = usable_keyring(manager.remembered_backend)
        except KeyringUnavailableError:
            return PrefetchedKey(profile_id, None, None)
        key = None
        if wants_key:
            try:
                key = KeyringKeyStore(backend, profile_id).load()
            except KeyringUnavailableError:
                key = None  # the main thread asks again and shows why
        return PrefetchedKey(profile_id, backend, key)

    @staticmethod
    def _from_secret_service(profile_id: str) -> PrefetchedKey | None:
        """The key read straight from the Secret Service, without importing keyring (see
        core/secret_service.py); None when keyring must take over (a locked keyring to
        unlock, no service: keyring asks, or looks for another backend, as before)."""
        if os.environ.get("PYTHON_KEYRING_BACKEND"):  # keyring's own override wins
            return None
        lookup = secret_service.read_secret({"service": KEYRING_SERVICE, "username": profile_id})
        if lookup.status is secret_service.Status.FOUND:
            assert lookup.secret is not None
            key = key_from_text(lookup.secret.decode("utf-8", errors="replace"))
            return PrefetchedKey(profile_id, secret_service.SecretServiceKeyring(), key)
        if lookup.status is secret_service.Status.NOT_FOUND:
            # The default collection is open and has no such item: keyring's search of
            # the same collection finds nothing either. The recovery dialog follows.
            log.warning("the profile's key is not in the default Secret Service collection")
            return PrefetchedKey(profile_id, secret_service.SecretServiceKeyring(), None)
        log.info("Secret Service read: %s (%s); keyring takes over", lookup.status, lookup.detail)
        return None

    def result(self) -> PrefetchedKey | None:
        """The lookup's result (waits for it); None when it could not run."""
        self._thread.join()
        return self._result
