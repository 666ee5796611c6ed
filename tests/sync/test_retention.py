"""Retention (issue 15, CNIL délibération 2023-095): a generated three-year history on a real
server (SQLite and PostgreSQL) and a real encrypted desktop profile.

The files due — no contact for two years, nothing keeping them active — are computed here
independently, by hand-written SQL, and must be exactly what the server lists. Anonymising them
empties identity, contact details and free text on the server and, after a sync, on the
desktop (its search index included), keeps every count, touches nobody else, and a second run
changes nothing. Social workers and reception agents are refused, in French.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, text

from havre_common import contract
from havre_common.protocol import API_PREFIX
from havre_desktop.core import contacts, visits
from havre_desktop.core.errors import ValidationError
from havre_desktop.core.search import search_persons
from tests.server.history import fake_name, fake_phone
from tests.server.support import Device, ServerProcess, World, person_fields, visit_fields
from tests.sync.conftest import MakeLaptop, serving
from tests.sync.scenario_helpers import log_visit

TERRITORY, OTHER = "nord", "sud"
PERSON_TABLES = (
    "contacts",
    "consents",
    "register_enrolments",
    "visits",
    "planned_contacts",
    "handouts_given",
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def retention_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    backend = str(request.param)
    with serving(backend, tmp_path_factory.mktemp(f"retention-{backend}")) as process:
        yield process


@pytest.fixture
def world(retention_server: ServerProcess) -> Iterator[World]:
    """This module's server (both databases) for the ``laptops`` of tests/sync/conftest.py."""
    w = World(retention_server)
    yield w
    w.close()


# -- a generated history ------------------------------------------------------------------------


def _today() -> date:
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def _cutoff(today: date) -> date:
    """Two years before today, by hand (29 February → 28)."""
    try:
        return today.replace(year=today.year - 2)
    except ValueError:
        return today.replace(year=today.year - 2, day=28)


def _moment(day: date, rng: random.Random) -> str:
    hour = rng.randrange(8, 18)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )


def _push(device: Device, table: str, fields: dict[str, Any]) -> str:
    row_id = str(uuid.uuid4())
    result = device.push(device.mutation(table, row_id, "insert", {"id": row_id, **fields}))[0]
    assert result["status"] == "applied", result
    return row_id


# What each generated person's history is like: the last contact's age in days (None: random
# over three years), and what may keep her file active.
KINDS = (
    ("recent", None),
    ("old", None),
    ("old-open-plan", "keeps"),
    ("old-done-plan", None),
    ("old-cancelled-plan", None),
    ("old-current-register", "keeps"),
    ("old-removed-register", None),
    ("old-objected-register", None),  # the person objected: nothing keeps her file
    ("old-future-removal", "keeps"),
    ("at-cutoff", None),
    ("day-before-cutoff", None),
)


def _generate(
    worker: Device, rng: random.Random, n: int, territory: str = TERRITORY
) -> dict[str, str]:
    """``n`` persons with contacts spread over three years (visits, calls, consents, plans,
    register enrolments, handouts); returns {person id: family name}."""
    today = _today()
    cutoff = _cutoff(today)
    three_years = 3 * 365
    names: dict[str, str] = {}
    for index in range(n):
        kind, _ = KINDS[index % len(KINDS)]
        if kind == "recent":
            last = today - timedelta(days=rng.randrange(0, 700))
        elif kind == "at-cutoff":
            last = cutoff
        elif kind == "day-before-cutoff":
            last = cutoff - timedelta(days=1)
        else:
            last = cutoff - timedelta(days=rng.randrange(2, three_years - 740))
        first = min(last, today - timedelta(days=three_years)) + timedelta(
            days=rng.randrange(0, 20)
        )
        first = min(first, last)
        name = fake_name()
        person_id = str(uuid.uuid4())
        fields = person_fields(
            territory,
            family_name=name,
            given_names="Jeanne",
            phone_1=fake_phone(),
            access_notes=f"Code porte de Mme {name}",
            emergency_contacts=[
                {"name": f"{name} fils", "relation": "fils", "phone": fake_phone()}
            ],
            created_at=_moment(first, rng),
            updated_at=_moment(first, rng),
        )
        fields["id"] = person_id
        result = worker.push(worker.mutation("contacts", person_id, "insert", fields))[0]
        assert result["status"] == "applied", result
        names[person_id] = name
        # Visits and calls between the first and the last contact, the last one on `last`.
        span = (last - first).days
        days = sorted(first + timedelta(days=rng.randrange(0, span + 1)) for _ in range(3))
        last_visit = ""
        for day in [*days, last]:
            visit_id = str(uuid.uuid4())
            moment = _moment(day, rng)
            visit = visit_fields(
                person_id,
                worker.agent_id,
                occurred_at=moment,
                created_at=moment,
                updated_at=moment,
                kind=rng.choice(["visite-domicile", "appel"]),
                notes=f"Visite chez Mme {name} : tout va bien.",
                notes_private=rng.random() < 0.3,
            )
            mutation = worker.mutation("visits", visit_id, "insert", {"id": visit_id, **visit})
            assert worker.push(mutation)[0]["status"] == "applied"
            last_visit = visit_id
        first_day = first.isoformat()
        _push(
            worker,
            "consents",
            {
                "contact_id": person_id,
                "purpose": "fiche",
                "given": True,
                "recorded_on": first_day,
                "method": f"oral, chez Mme {name}",
                "updated_at": _moment(first, rng),
            },
        )
        _push(
            worker,
            "handouts_given",
            {
                "person_id": person_id,
                "agent_id": worker.agent_id,
                "given_at": _moment(first, rng),
                "variant": "large",
            },
        )
        if kind.endswith("plan"):
            plan: dict[str, Any] = {
                "person_id": person_id,
                "agent_id": worker.agent_id,
                "due_on": first_day,
                "kind": "appel",
                "reason": f"Rappeler Mme {name}",
                "updated_at": _moment(first, rng),
            }
            if kind == "old-done-plan":
                plan["done_by_visit_id"] = last_visit
            if kind == "old-cancelled-plan":
                plan["cancelled"] = True
            _push(worker, "planned_contacts", plan)
        if kind.endswith("register") or kind == "old-future-removal":
            enrolment: dict[str, Any] = {
                "person_id": person_id,
                "status": "inscrite",
                "requested_on": first_day,
                "enrolled_on": first_day,
                "basis": "65-plus",
                "source": "saisie",
                "requested_by": "tiers",
                "requester_name": f"{name} fille",
                "requester_relation": "fille",
                "written_request": True,
                "consent_given": False,
                "updated_at": _moment(first, rng),
            }
            if kind == "old-removed-register":
                enrolment["status"] = "radiee"
                enrolment["removed_on"] = first_day
                enrolment["removal_reason"] = f"Mme {name} a déménagé"
            if kind == "old-objected-register":
                enrolment["status"] = "opposee"
                enrolment["objected_on"] = first_day
            if kind == "old-future-removal":
                enrolment["removed_on"] = (today + timedelta(days=30)).isoformat()
            _push(worker, "register_enrolments", enrolment)
    return names


# -- the expected set, by hand ----------------------------------------------------------------

EXPECTED_SQL = """
WITH contact AS (
    SELECT id AS p, substr(created_at, 1, 10) AS d FROM contacts WHERE deleted = 0
    UNION ALL SELECT person_id, substr(occurred_at, 1, 10) FROM visits WHERE deleted = 0
    UNION ALL SELECT contact_id, recorded_on FROM consents WHERE deleted = 0
    UNION ALL SELECT person_id, enrolled_on FROM register_enrolments WHERE deleted = 0
    UNION ALL SELECT person_id, removed_on FROM register_enrolments
        WHERE deleted = 0 AND removed_on IS NOT NULL
    UNION ALL SELECT person_id, due_on FROM planned_contacts WHERE deleted = 0
    UNION ALL SELECT person_id, substr(given_at, 1, 10) FROM handouts_given WHERE deleted = 0
)
SELECT c.id FROM contacts c
WHERE c.kind = 'person' AND c.deleted = 0 AND c.anonymised_on IS NULL
  AND c.territory_id = :territory
  AND (SELECT max(d) FROM contact WHERE p = c.id) < :cutoff
  AND NOT EXISTS (
      SELECT 1 FROM planned_contacts x WHERE x.person_id = c.id AND x.deleted = 0
        AND x.done_by_visit_id IS NULL AND x.cancelled = 0)
  AND NOT EXISTS (
      SELECT 1 FROM register_enrolments r WHERE r.person_id = c.id AND r.deleted = 0
        AND (r.removed_on IS NULL OR r.removed_on >= :today) AND r.objected_on IS NULL)
"""


def _expected(server: ServerProcess) -> set[str]:
    today = _today()
    rows = server.sql(
        EXPECTED_SQL,
        territory=TERRITORY,
        cutoff=_cutoff(today).isoformat(),
        today=today.isoformat(),
    )
    return {str(r[0]) for r in rows}


def _snapshot(server: ServerProcess, person_ids: set[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every row about these persons, as the server stores it."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for table in PERSON_TABLES:
        column = contract.TABLES[table].person_column
        for row in server.sql(f"SELECT * FROM {table}"):
            data = dict(row._mapping)
            if str(data[column]) in person_ids:
                found[(table, str(data["id"]))] = data
    return found


def _counts(server: ServerProcess) -> dict[str, Any]:
    """What statistics read: rows per table and territory, visits by date, kind and actions."""
    counts: dict[str, Any] = {}
    for table in PERSON_TABLES:
        counts[table] = server.sql(f"SELECT count(*) FROM {table} WHERE deleted = 0")[0][0]
    counts["visits_detail"] = sorted(
        tuple(r)
        for r in server.sql(
            "SELECT v.id, v.occurred_at, v.kind, v.outcome, v.proposed_action_ids, c.territory_id "
            "FROM visits v JOIN contacts c ON c.id = v.person_id"
        )
    )
    counts["persons_by_territory"] = sorted(
        tuple(r)
        for r in server.sql(
            "SELECT territory_id, count(*) FROM contacts WHERE kind = 'person' AND deleted = 0 "
            "GROUP BY territory_id"
        )
    )
    return counts


def _server_rows_holding(server: ServerProcess, needles: list[str]) -> list[str]:
    """``table: needle`` for every row of any server table that contains one of them."""
    found: list[str] = []
    with server.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                values = " ".join(str(v) for v in row)
                found += [f"{table}: {n}" for n in needles if n in values]
    return found


def _holds(laptop: Any, needle: str) -> list[str]:
    """``table.column`` of every value of the laptop's database that contains the needle."""
    found: list[str] = []
    store = laptop.ws.store
    names = [r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in names:
        for row in store.query(f'SELECT * FROM "{table}"'):
            found += [f"{table}.{k}" for k, v in row.items() if isinstance(v, str) and needle in v]
    return found


def _json_out(text: str) -> dict[str, Any]:
    """The JSON document a command printed (its log lines, if any, around it)."""
    found, _end = json.JSONDecoder().raw_decode(text[text.index("{") :])
    assert isinstance(found, dict)
    return found


# -- the test -----------------------------------------------------------------------------------


def test_a_three_year_history_is_anonymised_exactly_where_due_on_server_and_desktop(
    world: World, laptops: MakeLaptop
) -> None:
    server = world.server
    rng = random.Random(2023_095)
    worker = world.agent("travailleur-social", [TERRITORY], register_right=True)
    names = _generate(worker, rng, 40)
    elsewhere = world.agent("travailleur-social", [OTHER], register_right=True)
    others = _generate(elsewhere, rng, 10, OTHER)  # another territory: not this coordinator's
    coordinator_laptop = laptops("coordinateur", [TERRITORY])
    coordinator_laptop.sync()
    assert coordinator_laptop.count("contacts", "family_name IS NOT NULL") >= len(names)
    coordinator = world.sign_in(str(coordinator_laptop.login))

    expected = _expected(server)
    mine = set(names)
    assert expected <= mine and 10 <= len(expected) < len(mine)  # the mix is there
    listed = world.client.get(f"{API_PREFIX}/admin/retention", headers=coordinator.headers())
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert {c["person_id"] for c in body["candidates"]} == expected
    assert body["months"] == 24 and body["cutoff"] == _cutoff(_today()).isoformat()
    assert all(c["territory_id"] == TERRITORY for c in body["candidates"])
    assert all(c["last_contact"] < body["cutoff"] for c in body["candidates"])
    assert all(c["rows"]["visits"] == 4 for c in body["candidates"])

    # A social worker's laptop, synced now, changes one of them while offline.
    offline = laptops("travailleur-social", [TERRITORY])
    offline.sync()
    late_one = sorted(expected)[0]
    contacts.update(offline.ws, late_one, {"city": "Montivilliers"})

    # A refused edit whose reason quotes what was typed (her name).
    quoted = sorted(expected)[1]
    version = server.sql("SELECT server_version FROM contacts WHERE id = :p", p=quoted)[0][0]
    refused = worker.push(
        worker.mutation("contacts", quoted, "update", {"mobility": names[quoted]}, version)
    )[0]
    assert refused["status"] == "rejected" and names[quoted] in refused["reason"]

    order = list(names)  # generated in the order of KINDS, over and over
    recent, planned, enrolled = order[0], order[2], order[5]
    assert KINDS[0][0] == "recent" and KINDS[2][0] == "old-open-plan"
    assert KINDS[5][0] == "old-current-register"

    before_counts = _counts(server)
    untouched_before = _snapshot(server, (mine | set(others)) - expected)
    laptop_before = {
        r["id"]: r
        for r in coordinator_laptop.ws.store.query("SELECT * FROM contacts")
        if r["id"] not in expected
    }

    applied = world.client.post(
        f"{API_PREFIX}/admin/retention/anonymise",
        json={"person_ids": [*sorted(expected), recent, planned, enrolled]},
        headers=coordinator.headers(),
    )
    assert applied.status_code == 200, applied.text
    reply = applied.json()
    assert set(reply["anonymised"]) == expected
    # Asked for by mistake: kept, and the coordinator is told why.
    reasons = {s["person_id"]: s["reason"] for s in reply["skipped"]}
    assert reasons[planned] == "Fiche conservée : contact prévu ouvert."
    assert reasons[enrolled] == "Fiche conservée : inscription au registre en cours."
    assert reasons[recent].startswith("Contact depuis le ") and "conservée" in reasons[recent]
    assert len(reasons) == 3

    # The server: their identity, contact details and free text are gone, everywhere.
    identifying = contract.IDENTIFYING
    for (table, _row_id), row in _snapshot(server, expected).items():
        for name in identifying.get(table, ()):
            assert row[name] in (None, "", "[]"), (table, name, row[name])
        if table == "contacts":
            assert row["anonymised_on"] == _today().isoformat() and row["archived"] == 1
            assert row["territory_id"] == TERRITORY and row["kind"] == "person"
    gone = [names[p] for p in expected]
    for needle in gone:
        assert not server.sql("SELECT seq FROM change_log WHERE fields LIKE :n", n=f"%{needle}%"), (
            needle
        )
        assert not server.sql(
            "SELECT reason FROM applied_mutations WHERE reason LIKE :n", n=f"%{needle}%"
        ), needle
    assert _server_rows_holding(server, gone) == []
    # Counts for statistics unchanged; nobody else touched.
    assert _counts(server) == before_counts
    assert _snapshot(server, (mine | set(others)) - expected) == untouched_before
    events = server.sql(
        "SELECT entity_id, detail FROM audit_log WHERE event = 'anonymisation-conservation'"
    )
    assert {str(r[0]) for r in events} >= expected
    for _entity, detail in events:
        assert not any(n in detail for n in gone)

    # The desktop, after its next sync: same, search index included.
    coordinator_laptop.sync()
    for person_id in expected:
        row = coordinator_laptop.row("contacts", person_id)
        assert row is not None
        for name in identifying["contacts"]:
            assert row[name] in (None, "", "[]"), (name, row[name])
        assert row["anonymised_on"] == _today().isoformat() and row["search_phones"] in ("", None)
        assert coordinator_laptop.count("visits", "person_id = ?", (person_id,)) == 4
        assert (
            coordinator_laptop.count(
                "visits", "person_id = ? AND notes IS NOT NULL AND notes != ''", (person_id,)
            )
            == 0
        )
        # The visit journal still lists her visits, under no name.
        journal = visits.journal(coordinator_laptop.ws, person_id=person_id)
        assert len(journal) == 4
        assert {contacts.display_name({**v, "kind": v["contact_kind"]}) for v in journal} == {
            "Personne anonymisée"
        }
    for needle in gone:
        assert _holds(coordinator_laptop, needle) == [], needle
        assert search_persons(coordinator_laptop.ws, needle, include_archived=True) == []
    assert {
        r["id"]: r
        for r in coordinator_laptop.ws.store.query("SELECT * FROM contacts")
        if r["id"] not in expected
    } == laptop_before
    # The desktop refuses to type her identity or a note again, before saving, in French.
    victim_here = sorted(expected)[2]
    with pytest.raises(ValidationError, match="anonymisée"):
        contacts.update(coordinator_laptop.ws, victim_here, {"family_name": "Revenue"})
    with pytest.raises(ValidationError, match="anonymisée"):
        log_visit(coordinator_laptop, victim_here, notes="Une note de trop.")
    log_visit(coordinator_laptop, victim_here, notes="")  # a contact without a note is counted
    kept = next(iter(mine - expected))
    assert search_persons(coordinator_laptop.ws, names[kept], include_archived=True)

    # The laptop that changed one offline: its change is refused, and the full download that
    # follows a refusal leaves it the anonymised file (the city typed stays in the refused
    # edit for the agent to read, nothing of the person's identity).
    report = offline.sync()
    assert report.rejected == 1
    (refusal,) = offline.ws.store.query("SELECT reason FROM sync_rejections")
    assert "anonymisée" in refusal["reason"]
    row = offline.row("contacts", late_one)
    assert row is not None and row["family_name"] is None and row["city"] is None
    for needle in gone:
        assert _holds(offline, needle) == [], needle

    # Again: nothing is due any more, and confirming again changes nothing.
    assert _expected(server) == set()
    again = world.client.get(f"{API_PREFIX}/admin/retention", headers=coordinator.headers())
    assert [c["person_id"] for c in again.json()["candidates"]] == []
    snapshot = _snapshot(server, mine | set(others))
    head = server.sql("SELECT max(seq) FROM change_log")[0][0]
    twice = world.client.post(
        f"{API_PREFIX}/admin/retention/anonymise",
        json={"person_ids": sorted(expected)},
        headers=coordinator.headers(),
    ).json()
    assert twice["anonymised"] == [] and len(twice["skipped"]) == len(expected)
    assert {s["reason"] for s in twice["skipped"]} == {"Fiche déjà anonymisée."}
    assert _snapshot(server, mine | set(others)) == snapshot
    assert server.sql("SELECT max(seq) FROM change_log")[0][0] == head

    # A device that had not synced cannot bring her name back.
    victim = next(iter(expected))
    version = int(snapshot[("contacts", victim)]["server_version"])
    late = worker.push(
        worker.mutation("contacts", victim, "update", {"family_name": "Revenue"}, version)
    )[0]
    assert late["status"] == "rejected" and "anonymisée" in late["reason"]


def test_retention_is_for_coordinators_and_administrators_only(world: World) -> None:
    for role in ("travailleur-social", "accueil"):
        device = world.agent(role, [TERRITORY])
        listed = world.client.get(f"{API_PREFIX}/admin/retention", headers=device.headers())
        assert listed.status_code == 403, listed.text
        assert "coordinateurs et les administrateurs" in listed.json()["message"]
        applied = world.client.post(
            f"{API_PREFIX}/admin/retention/anonymise",
            json={"person_ids": [str(uuid.uuid4())]},
            headers=device.headers(),
        )
        assert applied.status_code == 403, applied.text
    # A coordinator asking for a file outside her territories: skipped, never anonymised.
    worker = world.agent("travailleur-social", [OTHER])
    outside = _generate(worker, random.Random(7), 2, OTHER)
    coordinator = world.agent("coordinateur", [TERRITORY])
    reply = world.client.post(
        f"{API_PREFIX}/admin/retention/anonymise",
        json={"person_ids": list(outside)},
        headers=coordinator.headers(),
    ).json()
    assert reply["anonymised"] == []
    assert {s["reason"] for s in reply["skipped"]} == {
        "Fiche introuvable ou hors de votre périmètre."
    }
    rows = world.server.sql(
        "SELECT count(*) FROM contacts WHERE anonymised_on IS NOT NULL AND territory_id = :t",
        t=OTHER,
    )
    assert rows[0][0] == 0


def test_the_cli_lists_and_applies_with_the_configured_period(world: World) -> None:
    """``havre-server retention list|apply``: the operator's job on the server, the period
    from the configuration file (here 100 years: nothing is due), else 24 months."""
    worker = world.agent("travailleur-social", [OTHER])
    people = _generate(worker, random.Random(11), 3, OTHER)
    config = world.server.workdir / "retention.toml"
    config.write_text("[retention]\nmonths = 1200\n", "utf-8")
    listed = _json_out(world.server.cli("--config", str(config), "retention", "list", "--json"))
    assert listed["months"] == 1200
    assert not set(people) & {c["person_id"] for c in listed["candidates"]}
    text = world.server.cli("retention", "list")
    assert "Conservation :" in text and "sans contact depuis le" in text
    due = {
        c["person_id"]
        for c in _json_out(world.server.cli("retention", "list", "--json"))["candidates"]
    }
    one = next(p for p in people if p in due)
    done = world.server.cli("retention", "apply", "--person", one)
    assert "Anonymisées : 1 fiche" in done
    row = world.server.sql("SELECT family_name, anonymised_on FROM contacts WHERE id = :p", p=one)
    assert row[0][0] is None and row[0][1] is not None
    events = world.server.sql(
        "SELECT agent_id FROM audit_log WHERE entity_id = :p AND event = :e",
        p=one,
        e="anonymisation-conservation",
    )
    assert len(events) == 1 and events[0][0] is None  # the operator on the server
