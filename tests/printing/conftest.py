"""Profiles for the printing tests: real encrypted stores with demo data or a small catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from havre_desktop.core import catalogue, contacts
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.workspace import Workspace
from tests.helpers import MemoryKeyring, new_workspace, person_values

SMALL_DEMO = DemoSize(persons=120, organisations=2, visits=400)

# Names and texts that break naive markup handling or fonts.
HOSTILE_FAMILY = 'N\'Diaye <b>Lefèvre</b> & "Œuvre"'
HOSTILE_GIVEN = "« Zoë » Ænéas"
HOSTILE_TITLE = 'Atelier <i>mémoire</i> & « l\'Œuvre » "chez nous"'


@pytest.fixture
def demo_ws(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[Workspace]:
    """A social worker's profile filled with demo data (sample catalogue, persons, visits)."""
    ws, _manager, _recovery = new_workspace(tmp_path / "profile", memory_keyring)
    seed_demo(ws, SMALL_DEMO)
    yield ws
    ws.store.close()


@pytest.fixture
def coordinator_ws(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[Workspace]:
    """A coordinator's profile (all territories) filled with demo data."""
    ws, _manager, _recovery = new_workspace(
        tmp_path / "profile-coordination",
        memory_keyring,
        role="coordinateur",
        territories=["nord", "centre-ouest", "centre-est", "est", "sud"],
    )
    seed_demo(ws, SMALL_DEMO)
    yield ws
    ws.store.close()


def fixture_id(name: str) -> str:
    """A stable UUID for a short name in these tests (row ids are UUIDs, as the contract says)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"havre-test:{name}"))


FACILITY_ID = fixture_id("fac-1")


def action(action_id: str, title: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": fixture_id(action_id),
        "code": f"A-P06-{action_id[-3:]}",
        "title": title,
        "summary": f"Résumé simple de l'activité {title}.",
        "description": "",
        "priority_id": "P06",
        "audience_ids": ["seniors"],
        "need_ids": ["isolement"],
        "territory_ids": ["nord"],
        "facility_id": FACILITY_ID,
        "schedule": "Tous les jeudis, de 14 h à 16 h",
        "contact_name": "Service Seniors (fictif)",
        "contact_phone": "02 61 91 44 55",
        "signup": "Inscription par téléphone.",
        "is_free": True,
        "price_label": "Gratuit",
        "accessibility": {"step_free": True},
        "accessibility_note": "",
        "status": "en-cours",
        "start_date": "2025-01-01",
        "end_date": None,
    }
    values.update(overrides)
    return values


FACILITY = {
    "id": FACILITY_ID,
    "kind_id": "maison-municipale",
    "name": "Maison municipale d'essai (fictive)",
    "address_line": "1 rue de l'Essai",
    "postcode": "76620",
    "city": "Le Havre",
    "territory_id": "nord",
    "phone": "02 61 91 10 10",
    "opening_hours": "",
    "step_free": True,
}


def import_actions(ws: Workspace, actions: list[dict[str, Any]]) -> list[str]:
    catalogue.import_catalogue(ws, {"facilities": [FACILITY], "actions": actions}, sample=True)
    return [a["id"] for a in actions]


def hostile_person(ws: Workspace) -> str:
    person = contacts.create_person(
        ws, person_values(family_name=HOSTILE_FAMILY, given_names=HOSTILE_GIVEN)
    )
    return str(person["id"])


def lefevre(ws: Workspace) -> str:
    return str(ws.store.scalar("SELECT id FROM contacts WHERE family_name = 'Lefèvre' LIMIT 1"))


def senior_actions(ws: Workspace, count: int = 5) -> list[str]:
    rows = ws.store.query(
        "SELECT id FROM actions WHERE status = 'en-cours' AND audience_ids LIKE '%seniors%' "
        "ORDER BY code LIMIT ?",
        (count,),
    )
    return [str(r["id"]) for r in rows]
