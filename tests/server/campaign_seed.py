"""A register of fictional persons written straight into a server's tables (setup for the
campaign benchmark and simulation, not under test).

Persons get what a push would have left (server version, empty per-field metadata, their
territory history) and a live enrolment (enrolled, consent given); a device that signs in
afterwards receives them by its full download. Names, streets and phones are fictional
(the phone ranges reserved for fiction, as the demo data uses).
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from sqlalchemy import Engine, insert

from havre_server import schema

FAMILY = ("Martin", "Bernard", "Lefèvre", "Durand", "Moreau", "Laurent", "Simon", "Michel")
GIVEN = ("Jeanne", "Marcel", "Paulette", "René", "Simone", "Lucien", "Odette", "Roger")
STREETS = (
    "rue de la Mare-Rouge",
    "rue Émile-Zola",
    "avenue René-Coty",
    "rue de Normandie",
    "boulevard de Strasbourg",
    "rue Jules-Lecesne",
)
TERRITORIES = ("nord", "centre-ouest", "centre-est", "est", "sud")
MOBILITY = ("autonome", "aide-exterieur", "deambulateur", "fauteuil", "alite")


def _iso_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seed_register(
    engine: Engine,
    persons: int,
    *,
    territories: tuple[str, ...] = TERRITORIES,
    seed: int = 14,
    without_contact_share: float = 0.3,
) -> list[str]:
    """``persons`` enrolled persons spread over ``territories``; returns their ids."""
    rng = random.Random(seed)
    stamp = _iso_now()
    contacts: list[dict[str, Any]] = []
    enrolments: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    ids: list[str] = []
    for i in range(persons):
        person_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        ids.append(person_id)
        territory = territories[i % len(territories)]
        born = f"{rng.randint(1925, 1958)}-0{rng.randint(1, 9)}-{rng.randint(10, 28)}"
        with_contact = rng.random() >= without_contact_share
        contacts.append(
            {
                "id": person_id,
                "kind": "person",
                "family_name": rng.choice(FAMILY),
                "given_names": rng.choice(GIVEN),
                "birth_date": born,
                "address_line": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                "postcode": "76600",
                "city": "Le Havre",
                "territory_id": territory,
                "phone_1": f"02 61 91 {i // 100 % 100:02d} {i % 100:02d}",
                "lives_alone": int(rng.random() < 0.6),
                "mobility": rng.choice(MOBILITY),
                "emergency_contacts": json.dumps(
                    [{"name": "Proche Fictif", "relation": "fille", "phone": "06 39 98 45 67"}]
                    if with_contact
                    else []
                ),
                "archived": 0,
                "created_at": stamp,
                "updated_at": stamp,
                "field_hlc": "{}",
                "field_meta": "{}",
                "server_version": 1,
                "deleted": 0,
                "is_sample": 0,
            }
        )
        enrolments.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "person_id": person_id,
                "status": "inscrite",
                "requested_on": "2026-05-02",
                "enrolled_on": "2026-05-02",
                "basis": "65-plus",
                "source": "saisie",
                "requested_by": "personne",
                "written_request": 0,
                "consent_given": 1,
                "consent_date": "2026-05-02",
                "floor": rng.randint(0, 8),
                "lift": int(rng.random() < 0.5),
                "help_at_home": int(rng.random() < 0.3),
                "ack_due_on": "2026-05-10",
                "ack_printed_on": "2026-05-03",
                "updated_at": stamp,
                "server_version": 1,
                "deleted": 0,
            }
        )
        history.append(
            {"person_id": person_id, "territory_id": territory, "from_ms": 0, "to_ms": None}
        )
    with engine.begin() as conn:
        for start in range(0, len(contacts), 1000):
            conn.execute(insert(schema.contacts), contacts[start : start + 1000])
            conn.execute(insert(schema.register_enrolments), enrolments[start : start + 1000])
            conn.execute(insert(schema.territory_history), history[start : start + 1000])
    return ids
