"""The lock code (core/applock.py): format, Argon2id hash in the encrypted database, limits
that survive a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from havre_desktop.core import applock
from havre_desktop.core.errors import ValidationError
from havre_desktop.core.workspace import Workspace
from tests.helpers import MemoryKeyring, new_workspace


@pytest.mark.parametrize("pin", ["123", "123456789", "12 34", "١٢٣٤", "abcd", "1111", "4321"])
def test_refused_codes(pin: str) -> None:
    with pytest.raises(ValidationError):
        applock.check_pin_format(pin)


def test_the_code_is_only_a_hash_inside_the_database_and_the_count_survives_a_restart(
    tmp_path: Path,
) -> None:
    keyring = MemoryKeyring()
    ws, manager, _recovery = new_workspace(tmp_path / "profile", keyring)
    applock.set_pin(ws, "480715")
    for remaining in (4, 3):
        assert applock.check_pin(ws, "000001") == applock.PinCheck(False, remaining)
    ws.store.close()
    for path in (tmp_path / "profile").rglob("*"):
        if path.is_file():
            assert b"480715" not in path.read_bytes() and b"$argon2id$" not in path.read_bytes()
    again = Workspace(manager.unlock())
    assert applock.failed_attempts(again) == 2  # a restart gives no new tries
    for remaining in (2, 1, 0):
        assert applock.check_pin(again, "000001").remaining == remaining
    # Past the limit even the right code is refused; the passphrase resets the count.
    assert applock.check_pin(again, "480715").passphrase_required
    applock.reset_attempts(again)
    assert applock.check_pin(again, "480715").ok
    again.store.close()
