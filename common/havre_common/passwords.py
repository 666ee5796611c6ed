"""One-time passwords an administrator hands to an agent (a new account, a reset).

Shown once to the person who asked, never stored in clear: the server keeps its argon2id hash
only. Four groups of four characters from an alphabet without look-alikes (no 0/o, 1/l/i), so
it can be read out over the phone or copied from a screen: 16 characters, about 79 bits.
"""

from __future__ import annotations

import secrets

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS = 4
GROUP_SIZE = 4


def one_time_password() -> str:
    """``"k7mf-2qza-h9te-w3rc"``: random from the system's secure source."""
    return "-".join(
        "".join(secrets.choice(ALPHABET) for _ in range(GROUP_SIZE)) for _ in range(GROUPS)
    )
