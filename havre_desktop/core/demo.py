"""Deterministic generator of clearly fake demo data.

Used by ``havre-desktop --demo`` (a throwaway profile), by the tests and by the
benchmarks (up to 100,000 persons and 1,000,000 visits). Names come from lists
of common French names combined at random, addresses from Le Havre street
names with random numbers, and every phone number from the ranges the French
regulator reserves for fiction (02 61 91 xx xx, 06 39 98 xx xx). Rows are
flagged ``is_sample``. Seeding writes no outbox entries: it is not a user edit.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Any

from havre_desktop.core import catalogue, streets
from havre_desktop.core.clock import PARIS
from havre_desktop.core.validation import phone_search_text
from havre_desktop.core.workspace import Workspace

log = logging.getLogger("havre.core.demo")

DEFAULT_SEED = 20190101
TERRITORIES = ("nord", "centre-ouest", "centre-est", "est", "sud")
MOBILITY = ("autonome", "autonome", "aide-exterieur", "deambulateur", "fauteuil", "alite")
NEEDS = (
    "isolement",
    "loisirs",
    "mobilite",
    "sante",
    "logement",
    "demarches",
    "numerique",
    "alimentation",
    "aidants",
)
OWNER = {
    "display_name": "Camille Démo (agent fictif)",
    "role": "travailleur-social",
    "territory_ids": ["nord"],
    "work_phone": "02 61 91 00 10",
}
COLLEAGUES = [
    ("Dominique Exemple (fictif)", "travailleur-social", ["nord", "centre-ouest"]),
    ("Sacha Modèle (fictif)", "travailleur-social", ["centre-est"]),
    ("Alex Essai (fictif)", "travailleur-social", ["est"]),
    ("Morgane Test (fictive)", "travailleur-social", ["sud"]),
    ("Claude Accueil (fictif)", "accueil", ["est"]),
    ("Jordan Coordination (fictif)", "coordinateur", list(TERRITORIES)),
]
# The persona of journey 1 (journeys.md): always present in a demo profile.
PERSONA_LEFEVRE: dict[str, Any] = {
    "family_name": "Lefèvre",
    "given_names": "Jeanne",
    "age": 87,
    "territory_id": "nord",
    "address_line": "14 rue de la Mare-Rouge, 4e étage",
    "postcode": "76620",
    "lives_alone": 1,
    "mobility": "deambulateur",
    "access_notes": "4e étage sans ascenseur. Sonner deux fois.",
}


@dataclass(frozen=True)
class DemoSize:
    persons: int = 1_500
    organisations: int = 40
    visits: int = 12_000

    @classmethod
    def benchmark(cls) -> DemoSize:
        return cls(persons=100_000, organisations=200, visits=1_000_000)


def load_names() -> dict[str, Any]:
    text = resources.files("havre_desktop.db").joinpath("demo_names.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class _Generator:
    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.names = load_names()
        self.used_phones: set[str] = set()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def phone(self, mobile: bool) -> str:
        prefix = "06 39 98" if mobile else "02 61 91"
        for _ in range(50):
            number = f"{prefix} {self.rng.randrange(100):02d} {self.rng.randrange(100):02d}"
            if number not in self.used_phones or len(self.used_phones) > 15_000:
                self.used_phones.add(number)
                return number
        return number

    def birth_date(self, min_age: int, max_age: int) -> str:
        age_days = self.rng.randint(min_age * 365, max_age * 365 + 364)
        return (self.today - timedelta(days=age_days)).isoformat()

    def address(self, territory: str) -> tuple[str, str]:
        street = self.rng.choice(self.names["streets_by_territory"][territory])
        number = self.rng.randint(1, 180)
        line = f"{number} {street}"
        if self.rng.random() < 0.3:
            line += f", {self.rng.choice(['Bât. A', 'Bât. B', 'Bât. C', 'Esc. 2'])}"
        postcode = self.rng.choice(self.names["postcodes_by_territory"][territory])
        return line, postcode


def _now_iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seed_demo(
    ws: Workspace,
    size: DemoSize | None = None,
    *,
    seed: int = DEFAULT_SEED,
    with_owner: bool = True,
) -> dict[str, int]:
    """Fill an empty profile with the sample catalogue and fake persons, visits, plans."""
    size = size or DemoSize()
    gen = _Generator(seed, ws.clock.today())
    stamp = ws.clock.now_iso()
    counts: dict[str, int] = {}

    sample = catalogue.load_sample_catalogue()
    counts["facilities"], counts["actions"] = catalogue.import_catalogue(ws, sample, sample=True)
    counts["streets"] = streets.load_sample_streets(ws)
    action_ids = [a["id"] for a in sample["actions"] if a["status"] in {"en-cours", "en-test"}]

    agent_ids = _seed_agents(ws, gen, stamp, with_owner)
    owner_id = ws.agent_id or agent_ids[0]
    counts["agents"] = len(agent_ids)

    person_ids_by_territory: dict[str, list[str]] = {t: [] for t in TERRITORIES}
    with ws.store.transaction() as conn:
        rows = list(_person_rows(gen, size, stamp, agent_ids, owner_id))
        conn.executemany(
            "INSERT INTO contacts (id, kind, family_name, given_names, organisation_name, "
            "birth_date, address_line, postcode, city, territory_id, phone_1, phone_2, "
            "lives_alone, mobility, access_notes, emergency_contacts, referent_agent_id, "
            "search_phones, is_sample, created_at, updated_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, 'Le Havre', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            rows,
        )
        persons = [(r[0], r[8], r[5]) for r in rows if r[1] == "person"]
        for person_id, territory, _birth in persons:
            person_ids_by_territory[territory].append(person_id)
        counts["persons"] = len(persons)
        counts["organisations"] = len(rows) - len(persons)

        counts["visits"] = _seed_visits(conn, gen, size, persons, agent_ids, action_ids, stamp)
        counts["planned_contacts"] = _seed_planned(
            conn, gen, person_ids_by_territory, owner_id, stamp, ws
        )
        counts["register"] = _seed_register(conn, gen, persons, stamp)
    log.info("demo data seeded: %s", counts)
    return counts


def _seed_agents(ws: Workspace, gen: _Generator, stamp: str, with_owner: bool) -> list[str]:
    ids: list[str] = []
    with ws.store.transaction() as conn:
        if with_owner and not ws.store.get_setting("owner_agent_id"):
            owner_id = gen.uuid()
            conn.execute(
                "INSERT INTO agents (id, display_name, role, territory_ids, work_phone, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    owner_id,
                    OWNER["display_name"],
                    OWNER["role"],
                    json.dumps(OWNER["territory_ids"]),
                    OWNER["work_phone"],
                    stamp,
                ),
            )
            ws.store.set_setting("owner_agent_id", owner_id)
            ws.agent_id = owner_id
        if ws.agent_id:
            ids.append(ws.agent_id)
        for name, role, territories in COLLEAGUES:
            agent_id = gen.uuid()
            conn.execute(
                "INSERT INTO agents (id, display_name, role, territory_ids, work_phone, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (agent_id, name, role, json.dumps(territories), gen.phone(False), stamp),
            )
            ids.append(agent_id)
    return ids


def _person_rows(
    gen: _Generator, size: DemoSize, stamp: str, agent_ids: list[str], owner_id: str
) -> Iterator[tuple[Any, ...]]:
    names = gen.names
    rng = gen.rng
    all_given = names["given_names_female"] + names["given_names_male"]
    persona: dict[str, Any] = PERSONA_LEFEVRE
    phone = gen.phone(False)
    birth = (gen.today - timedelta(days=persona["age"] * 365 + 40)).isoformat()
    yield (
        gen.uuid(),
        "person",
        persona["family_name"],
        persona["given_names"],
        None,
        birth,
        persona["address_line"],
        persona["postcode"],
        persona["territory_id"],
        phone,
        None,
        persona["lives_alone"],
        persona["mobility"],
        persona["access_notes"],
        json.dumps(
            [{"name": "Sylvie Lefèvre (fictive)", "relation": "fille", "phone": gen.phone(True)}],
            ensure_ascii=False,
        ),
        owner_id,
        phone_search_text(phone),
        stamp,
        stamp,
    )
    for _ in range(size.persons - 1):
        female = rng.random() < 0.6
        given = rng.choice(names["given_names_female" if female else "given_names_male"])
        family = rng.choice(names["family_names"])
        territory = rng.choice(TERRITORIES)
        line, postcode = gen.address(territory)
        senior = rng.random() < 0.75
        birth = gen.birth_date(62, 99) if senior else gen.birth_date(20, 61)
        phone_1 = gen.phone(rng.random() < 0.4)
        phone_2 = gen.phone(True) if rng.random() < 0.3 else None
        emergency = []
        if rng.random() < 0.6:
            emergency.append(
                {
                    "name": f"{rng.choice(all_given)} {rng.choice(names['family_names'])}",
                    "relation": rng.choice(names["relations"]),
                    "phone": gen.phone(True),
                }
            )
        yield (
            gen.uuid(),
            "person",
            family,
            given,
            None,
            birth,
            line,
            postcode,
            territory,
            phone_1,
            phone_2,
            int(rng.random() < 0.55),
            rng.choice(MOBILITY),
            None,
            json.dumps(emergency, ensure_ascii=False),
            rng.choice(agent_ids),
            phone_search_text(phone_1, phone_2),
            stamp,
            stamp,
        )
    for _ in range(size.organisations):
        territory = rng.choice(TERRITORIES)
        line, postcode = gen.address(territory)
        phone_1 = gen.phone(False)
        yield (
            gen.uuid(),
            "organisation",
            None,
            None,
            rng.choice(names["organisation_names"]),
            None,
            line,
            postcode,
            territory,
            phone_1,
            None,
            None,
            None,
            None,
            "[]",
            None,
            phone_search_text(phone_1),
            stamp,
            stamp,
        )


def _visit_moment(gen: _Generator, days_ago: int) -> str:
    day = gen.today - timedelta(days=days_ago)
    moment = datetime.combine(day, time(gen.rng.randint(8, 17), gen.rng.choice((0, 15, 30, 45))))
    return moment.replace(tzinfo=PARIS).isoformat(timespec="minutes")


def _seed_visits(
    conn: Any,
    gen: _Generator,
    size: DemoSize,
    persons: list[tuple[str, str, str]],
    agent_ids: list[str],
    action_ids: list[str],
    stamp: str,
) -> int:
    rng = gen.rng
    notes = gen.names["visit_notes"]
    kinds = ("visite-domicile", "visite-domicile", "appel", "appel", "accueil-mairie")
    outcomes = ("realisee",) * 8 + ("absent", "reportee", "orientation")
    batch: list[tuple[Any, ...]] = []
    written = 0
    # The persona has a recent history so her fiche is not empty.
    lefevre = persons[0][0]
    for index in range(size.visits):
        person = lefevre if index < 4 else rng.choice(persons)[0]
        days_ago = rng.randint(61, 90) if index < 4 else rng.randint(1, 730)
        visit_needs = rng.sample(NEEDS, rng.randint(0, 2))
        proposed = rng.sample(action_ids, rng.randint(0, 2)) if action_ids else []
        batch.append(
            (
                gen.uuid(),
                person,
                rng.choice(agent_ids),
                _visit_moment(gen, days_ago),
                rng.choice(kinds),
                rng.choice(outcomes),
                rng.choice((10, 15, 20, 30, 45, 60)),
                rng.randint(1, 5),
                json.dumps(visit_needs),
                json.dumps(proposed),
                int(bool(proposed) and rng.random() < 0.5),
                rng.choice(notes),
                stamp,
                stamp,
            )
        )
        if len(batch) >= 20_000:
            written += _insert_visits(conn, batch)
            batch = []
    written += _insert_visits(conn, batch)
    return written


def _insert_visits(conn: Any, batch: list[tuple[Any, ...]]) -> int:
    conn.executemany(
        "INSERT INTO visits (id, person_id, agent_id, occurred_at, kind, outcome, duration_min, "
        "wellbeing, need_ids, proposed_action_ids, handout_given, notes, is_sample, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        batch,
    )
    return len(batch)


def _seed_planned(
    conn: Any,
    gen: _Generator,
    by_territory: dict[str, list[str]],
    owner_id: str,
    stamp: str,
    ws: Workspace,
) -> int:
    """Ma journée of the demo agent: six due today, two follow-ups, some coming later."""
    rng = gen.rng
    owner_row = conn.execute(
        "SELECT territory_ids FROM agents WHERE id = ?", (owner_id,)
    ).fetchone()
    territories = json.loads(owner_row[0]) if owner_row else ["nord"]
    pool = [p for t in territories for p in by_territory.get(t, [])][1:]
    rng.shuffle(pool)
    plans = []
    today = gen.today
    reasons = (
        "Prendre des nouvelles après sa sortie d'hôpital",
        "Point sur le portage de repas",
        "Apporter le programme des activités du quartier",
        "Vérifier le chauffage avant l'hiver",
        "Aider à remplir le dossier d'aide à domicile",
        "Présenter le café des seniors",
    )
    for person, reason in zip(pool[:6], reasons, strict=False):  # a small demo has fewer
        plans.append((person, today, rng.choice(("visite", "appel")), reason))
    for person in pool[6:8]:
        plans.append(
            (
                person,
                today - timedelta(days=rng.randint(1, 3)),
                rng.choice(("suivi-visite", "suivi-appel")),
                "Promis lors de la dernière visite : nouvelles de la demande d'aide à domicile",
            )
        )
    for person in pool[8:20]:
        plans.append(
            (
                person,
                today + timedelta(days=rng.randint(1, 30)),
                rng.choice(("visite", "appel")),
                "Contact prévu",
            )
        )
    conn.executemany(
        "INSERT INTO planned_contacts (id, person_id, agent_id, due_on, kind, reason, is_sample, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
        [(gen.uuid(), p, owner_id, d.isoformat(), k, r, stamp) for p, d, k, r in plans],
    )
    return len(plans)


def _seed_register(
    conn: Any, gen: _Generator, persons: list[tuple[str, str, str]], stamp: str
) -> int:
    """Enrolments on the register of vulnerable persons, with their history; the most recent
    requests still wait for their acknowledgment letter (Ma journée)."""
    rng = gen.rng
    cutoff = (gen.today - timedelta(days=65 * 365)).isoformat()
    enrolled = [p for p in persons if p[2] <= cutoff and rng.random() < 0.15]
    rows = []
    events = []
    for index, (person_id, _territory, _birth) in enumerate(enrolled):
        # One in fifty requests arrived in the last week: its acknowledgment is still due.
        recent = index % 50 == 0
        age = rng.randint(0, 6) if recent else rng.randint(10, 900)
        day = gen.today - timedelta(days=age)
        by_third = rng.random() < 0.3
        enrolment_id = gen.uuid()
        printed = None if recent else (day + timedelta(days=rng.randint(1, 7))).isoformat()
        rows.append(
            (
                enrolment_id,
                person_id,
                day.isoformat(),
                day.isoformat(),
                "65-plus",
                "tiers" if by_third else "personne",
                "Un proche (fictif)" if by_third else None,
                "enfant" if by_third else None,
                int(by_third),
                0 if by_third else 1,
                None if by_third else day.isoformat(),
                (day + timedelta(days=8)).isoformat(),
                printed,
                stamp,
            )
        )
        events.append((gen.uuid(), enrolment_id, person_id, "demande", day.isoformat(), stamp))
        events.append((gen.uuid(), enrolment_id, person_id, "inscription", day.isoformat(), stamp))
        if printed:
            events.append((gen.uuid(), enrolment_id, person_id, "accuse-imprime", printed, stamp))
    conn.executemany(
        "INSERT INTO register_enrolments (id, person_id, requested_on, enrolled_on, basis, "
        "requested_by, requester_name, requester_relation, written_request, consent_given, "
        "consent_date, ack_due_on, ack_printed_on, updated_at) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO register_events (id, enrolment_id, person_id, event, occurred_on, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        events,
    )
    return len(rows)


def generated_names(ws: Workspace) -> list[str]:
    """Every family and given name present in the profile (for the no-names-in-logs test)."""
    rows = ws.store.query(
        "SELECT DISTINCT family_name AS n FROM contacts WHERE family_name IS NOT NULL "
        "UNION SELECT DISTINCT given_names FROM contacts WHERE given_names IS NOT NULL "
        "UNION SELECT DISTINCT organisation_name FROM contacts WHERE organisation_name IS NOT NULL"
    )
    return [str(r["n"]) for r in rows]


# -- a year of activity (the dashboard's tests and benchmark) --------------------------------------


@dataclass(frozen=True)
class ActivitySize:
    persons: int = 20_000
    actions: int = 80
    visits: int = 100_000
    encounters: int = 20_000
    handouts: int = 15_000

    @classmethod
    def small(cls) -> ActivitySize:
        return cls(persons=600, actions=20, visits=3_000, encounters=600, handouts=500)


ACTION_STATUSES = ("en-cours",) * 5 + ("en-test", "en-test", "proposee", "suspendue")
AUDIENCES = ("seniors", "handicap", "familles", "jeunes", "tout-public", "demandeurs-emploi")
DESK_AGE_GROUPS = ("moins-25", "25-59", "60-74", "75-84", "85-plus", None)


def seed_activity_year(
    ws: Workspace,
    first_day: date,
    size: ActivitySize | None = None,
    *,
    seed: int = DEFAULT_SEED,
) -> dict[str, int]:
    """A year of fake activity from `first_day` (365 days): generated actions, persons,
    visits and calls, reception desk encounters, handouts, register enrolments. Written with
    executemany in one transaction (no outbox: not a user edit); the profile needs its owner."""
    size = size or ActivitySize()
    gen = _Generator(seed, first_day + timedelta(days=364))
    rng = gen.rng
    stamp = ws.clock.now_iso()
    agent_ids = _seed_agents(ws, gen, stamp, with_owner=False)
    priorities = [r["id"] for r in ws.store.query("SELECT id FROM ref_priorities ORDER BY number")]
    needs = list(ws.reference("need_kinds"))
    counts: dict[str, int] = {}
    with ws.store.transaction() as conn:
        actions = []
        for n in range(1, size.actions + 1):
            status = ACTION_STATUSES[n % len(ACTION_STATUSES)]
            start = first_day + timedelta(days=rng.randint(0, 200) if status == "en-test" else 0)
            actions.append(
                (
                    gen.uuid(),
                    f"GEN-{n:03d}",
                    f"Action fictive n° {n} ({rng.choice(NEEDS)})",
                    "Action générée pour les essais (données fictives).",
                    priorities[n % len(priorities)],
                    json.dumps(rng.sample(AUDIENCES, rng.randint(1, 2))),
                    json.dumps(rng.sample(needs, 2)),
                    json.dumps(rng.sample(TERRITORIES, rng.randint(1, 5))),
                    status,
                    start.isoformat(),
                    stamp,
                )
            )
        conn.executemany(
            "INSERT INTO actions (id, code, title, summary, priority_id, audience_ids, need_ids, "
            "territory_ids, status, start_date, is_sample, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            actions,
        )
        action_ids = [a[0] for a in actions]
        counts["actions"] = len(actions)

        rows = list(
            _person_rows(
                gen, DemoSize(persons=size.persons, organisations=0), stamp, agent_ids, agent_ids[0]
            )
        )
        conn.executemany(
            "INSERT INTO contacts (id, kind, family_name, given_names, organisation_name, "
            "birth_date, address_line, postcode, city, territory_id, phone_1, phone_2, "
            "lives_alone, mobility, access_notes, emergency_contacts, referent_agent_id, "
            "search_phones, is_sample, created_at, updated_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, 'Le Havre', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            rows,
        )
        persons = [(r[0], r[8], r[5]) for r in rows]
        counts["persons"] = len(persons)

        kinds = ("visite-domicile",) * 4 + ("appel",) * 3 + ("appel-alerte", "accueil-mairie")
        outcomes = ("realisee",) * 8 + ("absent", "reportee", "orientation")
        proposals: list[tuple[str, str, list[str]]] = []
        batch: list[tuple[Any, ...]] = []
        for _ in range(size.visits):
            person = rng.choice(persons)[0]
            moment = _activity_moment(gen, first_day)
            proposed = rng.sample(action_ids, rng.choice((0, 0, 1, 1, 2)))
            if proposed:
                proposals.append((person, moment, proposed))
            batch.append(
                (
                    gen.uuid(),
                    person,
                    rng.choice(agent_ids),
                    moment,
                    rng.choice(kinds),
                    rng.choice(outcomes),
                    rng.choice((10, 15, 20, 30, 45, 60)),
                    rng.randint(1, 5),
                    json.dumps(rng.sample(NEEDS, rng.randint(0, 2))),
                    json.dumps(proposed),
                    0,
                    None,
                    stamp,
                    stamp,
                )
            )
        counts["visits"] = _insert_visits(conn, batch)

        encounters = []
        for _ in range(size.encounters):
            encounters.append(
                (
                    gen.uuid(),
                    _activity_moment(gen, first_day),
                    rng.choice(TERRITORIES),
                    rng.choice(needs),
                    rng.choice(DESK_AGE_GROUPS),
                    rng.choice(agent_ids),
                )
            )
        conn.executemany(
            "INSERT INTO reception_encounters (id, occurred_at, territory_id, need_id, "
            "age_group_id, agent_id) VALUES (?, ?, ?, ?, ?, ?)",
            encounters,
        )
        counts["reception_encounters"] = len(encounters)

        territory_of = {p[0]: p[1] for p in persons}
        handouts = []
        for n in range(size.handouts):
            if n % 3 == 2 or not proposals:  # printed at a reception desk: nobody named
                chosen = rng.sample(action_ids, rng.randint(1, 4))
                person, moment, territory = None, _activity_moment(gen, first_day), None
                territory = rng.choice(TERRITORIES)
            else:  # most often after a visit that proposed the action
                person, moment, proposed = rng.choice(proposals)
                chosen = proposed if rng.random() < 0.7 else rng.sample(action_ids, 2)
                territory = territory_of[person]
            handouts.append(
                (
                    gen.uuid(),
                    person,
                    rng.choice(agent_ids),
                    moment,
                    json.dumps(chosen),
                    territory,
                )
            )
        conn.executemany(
            "INSERT INTO handouts_given (id, person_id, agent_id, given_at, action_ids, "
            "territory_id) VALUES (?, ?, ?, ?, ?, ?)",
            handouts,
        )
        counts["handouts"] = len(handouts)
        counts["register"] = _seed_register(conn, gen, persons, stamp)
    log.info("a year of activity seeded: %s", counts)
    return counts


def _activity_moment(gen: _Generator, first_day: date) -> str:
    day = first_day + timedelta(days=gen.rng.randrange(365))
    moment = datetime.combine(day, time(gen.rng.randint(8, 17), gen.rng.choice((0, 15, 30, 45))))
    return moment.replace(tzinfo=PARIS).isoformat(timespec="minutes")
