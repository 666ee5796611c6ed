"""Which roles see which parts of the window (the server checks the same on every request)."""

from __future__ import annotations

from havre_common import contract

MANAGER_ROLES = frozenset({contract.COORDINATOR, contract.ADMINISTRATOR})
"""Who has the administration pages (Équipe, Appareils); a social worker or a reception agent
does not see them at all."""
