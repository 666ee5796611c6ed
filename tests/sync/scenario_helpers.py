"""Small helpers shared by the sync scenario tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from havre_common.protocol import API_PREFIX
from havre_desktop.core import contacts, visits
from tests.helpers import person_values
from tests.server.support import World
from tests.sync.support import Laptop


def visit_values(laptop: Laptop, **overrides: Any) -> dict[str, Any]:
    moment = laptop.clock.now() - timedelta(hours=1)
    values: dict[str, Any] = {
        "occurred_at": moment.strftime("%Y-%m-%dT%H:%M"),
        "kind": "visite-domicile",
        "outcome": "realisee",
        "duration_min": 45,
        "wellbeing": 2,
        "need_ids": ["isolement"],
        "notes": "Note fictive : se sent seule.",
    }
    values.update(overrides)
    return values


def new_person(laptop: Laptop, **overrides: Any) -> str:
    territory = overrides.pop("territory_id", laptop.territories[0])
    person = contacts.create_person(laptop.ws, person_values(territory_id=territory, **overrides))
    return str(person["id"])


def log_visit(laptop: Laptop, person_id: str, **overrides: Any) -> str:
    return str(visits.log_visit(laptop.ws, person_id, visit_values(laptop, **overrides))["id"])


def delete_row(laptop: Laptop, table: str, row_id: str) -> None:
    with laptop.ws.store.transaction():
        laptop.ws.update_row(table, row_id, {"deleted": True})


def revoke_device(world: World, device_id: str) -> None:
    response = world.client.post(
        f"{API_PREFIX}/admin/devices/{device_id}/revoke", headers=world.admin.headers()
    )
    assert response.status_code == 204, response.text


def server_rows(world: World, table: str, row_id: str) -> list[Any]:
    return world.server.sql(f"SELECT * FROM {table} WHERE id = :id", id=row_id)


def applied_statuses(world: World, mutation_ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for mutation_id in mutation_ids:
        rows = world.server.sql(
            "SELECT status FROM applied_mutations WHERE mutation_id = :m", m=mutation_id
        )
        if rows:
            found[mutation_id] = str(rows[0][0])
    return found


def log_entries(world: World, mutation_id: str) -> int:
    rows = world.server.sql("SELECT count(*) FROM change_log WHERE mutation_id = :m", m=mutation_id)
    return int(rows[0][0])
