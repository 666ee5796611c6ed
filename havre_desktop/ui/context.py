"""What every page needs, read once at start on the worker thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from havre_common import contract
from havre_desktop.core import agents, catalogue
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.worker import DatabaseService

REFERENCE_LISTS = (
    "territories",
    "stakes",
    "priorities",
    "audiences",
    "need_kinds",
    "age_groups",
    "action_statuses",
    "visit_kinds",
    "visit_outcomes",
    "roles",
    "mobility_levels",
    "register_bases",
    "register_benefits",
    "facility_kinds",
    "transversal_concerns",
)


@dataclass
class UiContext:
    database: DatabaseService
    references: dict[str, dict[str, str]]
    agent: dict[str, Any]
    demo: bool
    today: date
    settings: dict[str, str] = field(default_factory=dict)
    current_actions: list[dict[str, Any]] = field(default_factory=list)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    colleagues: list[dict[str, Any]] = field(default_factory=list)

    def local_now(self) -> datetime:
        """The time in Le Havre, as shown and typed in forms."""
        from havre_desktop.core.clock import PARIS

        return self.now().astimezone(PARIS)

    @property
    def role(self) -> str:
        return str(self.agent.get("role") or "")

    @property
    def may_see_visits(self) -> bool:
        return self.role in agents.ROLES_WITH_VISIT_NOTES

    @property
    def register_right(self) -> bool:
        """Whether this agent may see and keep the register (the server's grant)."""
        return bool(self.agent.get("register_right")) and self.role in contract.PERSON_ROLES

    @property
    def territories(self) -> list[str]:
        return list(self.agent.get("territory_ids") or [])


SETTINGS_DEFAULTS = {
    "text_scale": "100",
    "high_contrast": "0",
    "idle_lock_minutes": "10",
    "not_seen_days": "60",
    "unsent_warning_days": "3",  # edits waiting unsent longer than this: a warning
    "lock_engaged": "0",  # the window was locked when the application stopped
    "city_desk": "",  # the desk this laptop prints (printing.data.DESK_SETTING); "": by territory
}


def load_context_data(ws: Workspace) -> dict[str, Any]:
    """Everything the window shows at start, in one trip to the worker."""
    try:
        agent = agents.current(ws)
    except Exception:
        agent = {}
    settings = {
        key: ws.store.get_setting(key, default) or default
        for key, default in SETTINGS_DEFAULTS.items()
    }
    return {
        "references": {name: ws.reference(name) for name in REFERENCE_LISTS},
        "agent": agent,
        "demo": ws.store.get_setting("demo") == "1",
        "today": ws.clock.today(),
        "settings": settings,
        "now": ws.clock.now,
        "colleagues": agents.colleagues(ws),
        "current_actions": catalogue.list_actions(
            ws, statuses=["en-cours", "en-test"], limit=10_000
        ),
    }
