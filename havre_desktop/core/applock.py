"""The app lock's PIN: a short code that reopens a locked window (Qt-free).

The PIN is kept as an Argon2id hash (argon2-cffi) in the *settings* table of the encrypted
database, never in a plain file: whoever copies the disk gets neither the PIN nor its hash
(a hash of a few digits would be broken offline in seconds). The failed attempts and the
locked state are kept there too, so that killing and restarting the application neither
unlocks the window nor gives back five new tries. After `MAX_PIN_ATTEMPTS` wrong PINs, only
the profile's passphrase or its recovery passphrase reopens it (`ProfileManager.verify_secret`).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from havre_desktop.core.errors import ValidationError
from havre_desktop.core.workspace import Workspace

if TYPE_CHECKING:
    from argon2 import PasswordHasher

log = logging.getLogger("havre.core.applock")

MAX_PIN_ATTEMPTS = 5
PIN_MIN, PIN_MAX = 4, 8
PIN_HASH = "lock_pin_hash"
FAILED_ATTEMPTS = "lock_failed_attempts"
LOCKED = "lock_engaged"
# Argon2id cost of the PIN hash: about 0.1 s and 32 MiB. The hash never leaves the encrypted
# database; the cost only slows someone who already has the open database.
PIN_TIME_COST = 2
PIN_MEMORY_KIB = 32 * 1024


def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=PIN_TIME_COST, memory_cost=PIN_MEMORY_KIB, parallelism=1, type=Type.ID
    )


def check_pin_format(pin: str) -> None:
    """4 to 8 digits, not all the same nor a run (1234, 9876)."""
    if not (pin.isascii() and pin.isdigit()) or not PIN_MIN <= len(pin) <= PIN_MAX:
        raise ValidationError(
            {"pin": f"Le code doit compter de {PIN_MIN} à {PIN_MAX} chiffres, sans lettre."}
        )
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if len(set(pin)) == 1 or steps in ({1}, {-1}):
        raise ValidationError(
            {"pin": "Ce code est trop facile à deviner (chiffres identiques ou qui se suivent)."}
        )


def has_pin(ws: Workspace) -> bool:
    return bool(ws.store.get_setting(PIN_HASH))


def set_pin(ws: Workspace, pin: str) -> None:
    """Choose or change the PIN (the format is checked first); failed attempts start again."""
    check_pin_format(pin)
    hasher = _hasher()
    with ws.store.transaction():
        ws.store.set_setting(PIN_HASH, hasher.hash(pin))
        ws.store.set_setting(FAILED_ATTEMPTS, "0")
    log.info("lock PIN set")


@dataclass(frozen=True)
class PinCheck:
    ok: bool
    remaining: int  # wrong PINs still allowed before the passphrase is required

    @property
    def passphrase_required(self) -> bool:
        return not self.ok and self.remaining <= 0


def failed_attempts(ws: Workspace) -> int:
    return int(ws.store.get_setting(FAILED_ATTEMPTS, "0") or 0)


def check_pin(ws: Workspace, pin: str) -> PinCheck:
    """Compare with the stored hash; counts a wrong PIN. Past the limit, nothing is compared."""
    from argon2.exceptions import InvalidHashError, VerificationError

    failed = failed_attempts(ws)
    stored = ws.store.get_setting(PIN_HASH)
    if failed >= MAX_PIN_ATTEMPTS or not stored:
        return PinCheck(False, 0)
    hasher = _hasher()
    try:
        hasher.verify(stored, pin)
    except (VerificationError, InvalidHashError):
        failed += 1
        ws.store.set_setting(FAILED_ATTEMPTS, str(failed))
        log.info("wrong lock PIN (%d of %d)", failed, MAX_PIN_ATTEMPTS)
        return PinCheck(False, MAX_PIN_ATTEMPTS - failed)
    ws.store.set_setting(FAILED_ATTEMPTS, "0")
    return PinCheck(True, MAX_PIN_ATTEMPTS)


def reset_attempts(ws: Workspace) -> None:
    """After the passphrase reopened the window: the PIN may be tried again."""
    ws.store.set_setting(FAILED_ATTEMPTS, "0")


def set_locked(ws: Workspace, locked: bool) -> None:
    ws.store.set_setting(LOCKED, "1" if locked else "0")


def is_locked(ws: Workspace) -> bool:
    return ws.store.get_setting(LOCKED) == "1"
