"""Encrypted backup of a profile, restored on another computer with unsynced edits, then sync:
nothing lost, nothing doubled (a real server process on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from havre_desktop.core import audit, contacts
from havre_desktop.core.backup import MAGIC, create_backup, restore_backup
from havre_desktop.core.errors import ProfileError, WrongPassphraseError
from havre_desktop.core.profile import ProfileManager, ProfileState
from tests.helpers import MemoryKeyring, new_workspace, person_values
from tests.server.support import World
from tests.sync.conftest import MakeLaptop
from tests.sync.scenario_helpers import log_visit, new_person, server_rows
from tests.sync.support import Laptop, differences

NOTE = "Note fictive de sauvegarde : la voisine a les clés."


def test_backup_restored_on_another_computer_then_sync_loses_and_doubles_nothing(
    laptops: MakeLaptop, world: World, tmp_path: Path
) -> None:
    old = laptops()
    kept = new_person(old, family_name="Sauvegardée", given_names="Berthe")
    old.sync()
    # Offline work not yet sent when the laptop has to be swapped.
    waiting = new_person(old, family_name="Enattente", given_names="Colette")
    contacts.update(old.ws, kept, {"phone_2": "06 39 98 12 12"})
    visit = log_visit(old, kept, notes=NOTE)
    outbox = {e["mutation_id"] for e in old.outbox()}
    assert len(outbox) >= 3

    backup = tmp_path / "cle-usb" / "poste.havre-sauvegarde"
    backup.parent.mkdir()
    info = create_backup(old.ws, old.manager, backup)
    assert info.outbox == len(outbox)
    data = backup.read_bytes()
    assert data.startswith(MAGIC)
    assert backup.stat().st_mode & 0o777 == 0o600
    for clear in ("Enattente", "Colette", "Sauvegardée", NOTE, "06 39 98 12 12"):
        assert clear.encode() not in data and clear.encode("utf-16-le") not in data
    assert old.ws.store.backup_key().hex().encode() not in data
    assert [e["event"] for e in audit.entries(old.ws)][-1] == "export"

    # Another computer: its own keyring, an empty folder.
    new_root = tmp_path / "nouveau-poste"
    keyring = MemoryKeyring()
    manager = ProfileManager(new_root, keyring)
    with pytest.raises(WrongPassphraseError) as wrong:
        restore_backup(backup, manager, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH")
    assert wrong.value.message == "La phrase de récupération ne correspond pas à cette sauvegarde."
    altered = tmp_path / "abimee.havre-sauvegarde"
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    altered.write_bytes(bytes(flipped))
    with pytest.raises(ProfileError) as damaged:
        restore_backup(altered, manager, old.recovery)
    assert "abîmée ou modifiée" in damaged.value.message
    assert manager.state() is ProfileState.NEW  # nothing left behind by the refusals
    assert not keyring.secrets

    store = restore_backup(backup, manager, old.recovery.lower().replace("-", " "))
    new = Laptop(new_root, old.role, old.territories, keyring=keyring, store=store)
    assert {e["mutation_id"] for e in new.outbox()} == outbox  # the outbox intact
    assert new.ws.device_id == old.ws.device_id and new.agent_id == old.agent_id
    assert manager.profile_id != old.manager.profile_id
    assert manager.state() is ProfileState.KEYRING  # reopens from this computer's keyring
    assert manager.slots.kinds() == {"recovery"}
    with pytest.raises(ProfileError):  # never over an existing profile
        restore_backup(backup, manager, old.recovery)

    # The agent signs in again on the new computer (the token stayed on the old one), syncs.
    assert old.login is not None
    new.sign_in(world, old.login)
    report = new.sync()
    assert not new.outbox()
    assert report is not None
    assert differences(new, world) == []
    # The old laptop comes back online with the same changes: they are not applied twice.
    old.sync()
    assert not old.outbox()
    assert len(server_rows(world, "contacts", waiting)) == 1
    assert len(server_rows(world, "visits", visit)) == 1
    assert [r for r in world.server.sql("SELECT id FROM visits WHERE notes = :n", n=NOTE)] == [
        (visit,)
    ]
    assert (
        len(world.server.sql("SELECT id FROM contacts WHERE family_name = :n", n="Enattente")) == 1
    )
    new.sync()
    assert differences(new, world) == [] and differences(old, world) == []
    phone = world.server.sql("SELECT phone_2 FROM contacts WHERE id = :i", i=kept)
    assert phone[0][0] == "06 39 98 12 12"


def test_a_backup_of_a_passphrase_profile_restores_under_a_new_passphrase(
    tmp_path: Path,
) -> None:
    ws, manager, recovery = new_workspace(tmp_path / "ancien", MemoryKeyring())
    person = contacts.create_person(ws, person_values(family_name="Motdepasse"))
    backup = tmp_path / "profil.havre-sauvegarde"
    create_backup(ws, manager, backup)
    ws.store.close()
    target = ProfileManager(tmp_path / "nouveau", None)  # no keyring on this computer
    store = restore_backup(backup, target, recovery, passphrase="un mot de passe fictif")
    assert store.scalar("SELECT family_name FROM contacts WHERE id = ?", (person["id"],)) == (
        "Motdepasse"
    )
    store.close()
    assert target.state() is ProfileState.PASSPHRASE
    target.unlock_with_passphrase("un mot de passe fictif").close()
    assert target.verify_secret(recovery)
    with pytest.raises(ProfileError):
        restore_backup(
            tmp_path / "absent.havre-sauvegarde", ProfileManager(tmp_path / "x", None), recovery
        )


def _values() -> dict[str, object]:
    from tests.helpers import person_values

    return person_values()
