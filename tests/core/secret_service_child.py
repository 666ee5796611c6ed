"""Run inside `dbus-run-session` with an unlocked gnome-keyring: create and reopen a profile.

Prints one JSON line: the keyring backend in use and the profile id.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from havre_desktop.core import contacts, keys
from havre_desktop.core.profile import KeyPrefetch, ProfileManager, ProfileState
from havre_desktop.core.workspace import Workspace


def main() -> int:
    root = Path(sys.argv[1])
    backend = keys.usable_keyring()
    manager = ProfileManager(root, backend)
    created = manager.create()
    contacts.create_person(
        Workspace(created.store),
        {"family_name": "Trousseau", "given_names": "Test", "territory_id": "sud"},
    )
    created.store.close()
    state = ProfileManager(root, keys.usable_keyring()).state()
    remembered = ProfileManager(root, None).remembered_backend  # as the app starts
    reopened = ProfileManager(root, keys.usable_keyring(remembered)).unlock()
    count = reopened.scalar("SELECT count(*) FROM contacts")
    reopened.close()
    # As the app starts: the key read on a thread while the window loads, then used.
    fetched = KeyPrefetch.start(root).result()
    at_start = ProfileManager(root, None)
    assert fetched is not None
    at_start.use_prefetched(fetched)
    read_ahead_state = at_start.state()
    read_ahead = at_start.unlock()
    read_ahead_count = read_ahead.scalar("SELECT count(*) FROM contacts")
    read_ahead.close()
    print(
        json.dumps(
            {
                "backend": keys.describe_backend(backend),
                "remembered_backend": remembered,
                "profile_id": manager.profile_id,
                "state_after_restart": state.value,
                "persons": count,
                "read_ahead_backend": keys.describe_backend(fetched.backend),
                "read_ahead_state": read_ahead_state.value,
                "read_ahead_persons": read_ahead_count,
                "keyring_state_expected": ProfileState.KEYRING.value,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
