"""Run inside `dbus-run-session` with an unlocked gnome-keyring (tests/core/test_secret_service.py).

`create PROFILE`: a profile whose key keyring stores in the Secret Service, one person in it.
`start PROFILE`: what the app does at start (the key read ahead, then the profile's state and
unlocking); prints one JSON line, including whether `keyring` was imported.
`move-to-session PROFILE`: the key item moved to gnome-keyring's "session" collection (a
collection other than the default one, where keyring looks).
`lock`: the default collection locked (as after a screen lock or a suspend).
`recover PROFILE PHRASE`: the recovery passphrase opens the database and puts the key back.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from havre_desktop import KEYRING_SERVICE
from havre_desktop.core.profile import KeyPrefetch, ProfileManager, ProfileState

SESSION_COLLECTION = "/org/freedesktop/secrets/collection/session"


def _digest(root: Path) -> str:
    return hashlib.sha256((root / "havre.db").read_bytes()).hexdigest()


def create(root: Path) -> dict[str, Any]:
    from havre_desktop.core import contacts, keys
    from havre_desktop.core.workspace import Workspace

    created = ProfileManager(root, keys.usable_keyring()).create()
    contacts.create_person(
        Workspace(created.store),
        {"family_name": "Trousseau", "given_names": "Test", "territory_id": "sud"},
    )
    created.store.close()
    return {"recovery": created.recovery_passphrase, "digest": _digest(root)}


def start(root: Path) -> dict[str, Any]:
    from havre_desktop.core import secret_service

    fetched = KeyPrefetch.start(root).result()
    assert fetched is not None
    keyring_imported = "keyring" in sys.modules
    manager = ProfileManager(root, None)
    manager.use_prefetched(fetched)
    lookup = secret_service.read_secret(
        {"service": KEYRING_SERVICE, "username": manager.profile_id}
    )
    state = manager.state()
    persons = None
    if state is ProfileState.KEYRING:
        store = manager.unlock()
        persons = store.scalar("SELECT count(*) FROM contacts")
        store.close()
    from havre_desktop.core.keys import describe_backend

    return {
        "lookup": lookup.status.value,
        "lookup_message": lookup.message,
        "backend": describe_backend(fetched.backend) if fetched.backend else None,
        "backend_class": type(fetched.backend).__name__,
        "key_read_ahead": fetched.key is not None,
        "keyring_imported_by_read_ahead": keyring_imported,
        "state": state.value,
        "message": manager.key_missing_message() if state is ProfileState.KEY_MISSING else "",
        "persons": persons,
        "digest": _digest(root),
        "remembered_backend": ProfileManager(root, None).remembered_backend,
    }


def move_to_session(root: Path) -> dict[str, Any]:
    import secretstorage

    profile_id = ProfileManager(root, None).profile_id
    attributes = {"service": KEYRING_SERVICE, "username": profile_id}
    connection = secretstorage.dbus_init()
    default = secretstorage.get_default_collection(connection)
    (item,) = default.search_items(attributes)
    secret = item.get_secret()
    other = secretstorage.Collection(connection, SESSION_COLLECTION)
    other.create_item("clé ailleurs", {**attributes, "application": "test"}, secret)
    item.delete()
    return {"moved": len(list(other.search_items(attributes)))}


def lock() -> dict[str, Any]:
    import secretstorage

    connection = secretstorage.dbus_init()
    collection = secretstorage.get_default_collection(connection)
    collection.lock()
    return {"locked": collection.is_locked()}


def recover(root: Path, phrase: str) -> dict[str, Any]:
    fetched = KeyPrefetch.start(root).result()
    assert fetched is not None
    manager = ProfileManager(root, None)
    manager.use_prefetched(fetched)
    store = manager.unlock_with_recovery(phrase)  # puts the key back through keyring
    persons = store.scalar("SELECT count(*) FROM contacts")
    store.close()
    return {"persons": persons}


def main() -> int:
    command, args = sys.argv[1], sys.argv[2:]
    if command == "create":
        result = create(Path(args[0]))
    elif command == "start":
        result = start(Path(args[0]))
    elif command == "move-to-session":
        result = move_to_session(Path(args[0]))
    elif command == "lock":
        result = lock()
    elif command == "recover":
        result = recover(Path(args[0]), args[1])
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
