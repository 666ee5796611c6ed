"""The dashboard's count tables (migration 0013) stay exact through every kind of change.

The store keeps, by triggers, the counts the *Tableau de bord* reads (visits and calls per
day, territory and kind; needs; desk encounters; actions proposed and taken up per person).
After each change below -- a generated year written in bulk, visits logged, corrected,
deleted (flag) and removed (row), handouts given at home and at a desk, desk encounters,
a person moving territory, a file anonymised, a person erased (her rows removed in either
order), a visit arriving before its person -- the tables are compared with a recount from
the raw tables written here (other SQL than the migration's: ``instr`` on the JSON text,
dates from ``date()``), and at the end the dashboard's figures with the independent queries
of tests/core/test_indicators.py. Real SQLCipher profile, real core functions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from havre_desktop.core import contacts, demo, indicators, visits
from havre_desktop.core.indicators import Filters
from havre_desktop.core.store import _split_sql, migration_files
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.local import foreign_keys_off
from tests.core.test_indicators import (
    independent_actions,
    independent_encounters,
    independent_needs,
    independent_weeks,
    territory_list,
)
from tests.helpers import MemoryKeyring, new_workspace

FIRST = date(2025, 1, 1)
YEAR = Filters(FIRST, date(2025, 12, 31))

# What each count table must hold, recounted from the raw tables (rows with n > 0 only).
RECOUNT = {
    "dashboard_contact_days": (
        "SELECT substr(v.occurred_at, 1, 10), c.territory_id, v.kind, count(*) "
        "FROM visits v NOT INDEXED, contacts c WHERE c.id = v.person_id AND v.deleted = 0 "
        "GROUP BY 1, 2, 3"
    ),
    "dashboard_need_days": (
        "SELECT substr(v.occurred_at, 1, 10), c.territory_id, n.id, count(*) "
        "FROM visits v NOT INDEXED, contacts c, ref_items n WHERE c.id = v.person_id "
        "AND v.deleted = 0 AND n.list = 'need_kinds' "
        "AND instr(v.need_ids, '\"' || n.id || '\"') > 0 GROUP BY 1, 2, 3"
    ),
    "dashboard_encounter_days": (
        "SELECT substr(occurred_at, 1, 10), territory_id, need_id, count(*) "
        "FROM reception_encounters NOT INDEXED WHERE deleted = 0 GROUP BY 1, 2, 3"
    ),
    "dashboard_proposals": (
        "SELECT c.territory_id, a.id, c.seq, date(substr(v.occurred_at, 1, 10)), count(*) "
        "FROM visits v NOT INDEXED, contacts c, actions a WHERE c.id = v.person_id "
        "AND v.deleted = 0 AND instr(v.proposed_action_ids, '\"' || a.id || '\"') > 0 "
        "GROUP BY 1, 2, 3, 4"
    ),
    "dashboard_takeups": (
        "SELECT c.territory_id, a.id, c.seq, date(substr(h.given_at, 1, 10)), count(*) "
        "FROM handouts_given h NOT INDEXED, contacts c, actions a WHERE c.id = h.person_id "
        "AND h.deleted = 0 AND instr(h.action_ids, '\"' || a.id || '\"') > 0 "
        "GROUP BY 1, 2, 3, 4"
    ),
}
# The tables as kept, in the recount's terms (the action's id, the day as a date).
KEPT = {
    "dashboard_contact_days": "SELECT day, territory_id, kind, n FROM dashboard_contact_days",
    "dashboard_need_days": "SELECT day, territory_id, need_id, n FROM dashboard_need_days",
    "dashboard_encounter_days": (
        "SELECT day, territory_id, need_id, n FROM dashboard_encounter_days"
    ),
    "dashboard_proposals": (
        "SELECT p.territory_id, k.id, p.person, date(p.day * 86400, 'unixepoch'), p.n "
        "FROM dashboard_proposals p JOIN dashboard_actions k ON k.key = p.action"
    ),
    "dashboard_takeups": (
        "SELECT t.territory_id, k.id, t.person, date(t.day * 86400, 'unixepoch'), t.n "
        "FROM dashboard_takeups t JOIN dashboard_actions k ON k.key = t.action"
    ),
}


def rows(ws: Workspace, sql: str, params: tuple[Any, ...] = ()) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(r.values()) for r in ws.store.query(sql, params))


def kept(ws: Workspace) -> dict[str, Counter[tuple[Any, ...]]]:
    return {table: rows(ws, sql) for table, sql in KEPT.items()}


def assert_exact(ws: Workspace, step: str) -> dict[str, Counter[tuple[Any, ...]]]:
    tables = kept(ws)
    for table, sql in RECOUNT.items():
        assert tables[table] == rows(ws, sql), f"{table} after {step}"
    return tables


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws, _manager, _recovery = new_workspace(
        tmp_path_factory.mktemp("counts") / "profile",
        MemoryKeyring(),
        role="coordinateur",
        territories=["nord", "sud"],
        now=datetime(2025, 6, 20, 10, 0, tzinfo=UTC),
    )
    demo.seed_activity_year(ws, FIRST, demo.ActivitySize.small())
    yield ws
    ws.store.close()


def a_person(ws: Workspace, territory: str, offset: int = 0) -> dict[str, Any]:
    found = ws.store.query(
        "SELECT id, seq, territory_id FROM contacts WHERE kind = 'person' AND territory_id = ? "
        "AND EXISTS (SELECT 1 FROM visits v WHERE v.person_id = contacts.id "
        "AND v.proposed_action_ids <> '[]') AND EXISTS (SELECT 1 FROM handouts_given h "
        "WHERE h.person_id = contacts.id) ORDER BY seq LIMIT 1 OFFSET ?",
        (territory, offset),
    )
    assert found, territory
    return found[0]


def action_ids(ws: Workspace, n: int) -> list[str]:
    return [
        str(r["id"]) for r in ws.store.query("SELECT id FROM actions ORDER BY code LIMIT ?", (n,))
    ]


def test_the_counts_follow_every_change(year: Workspace) -> None:
    ws = year
    before = assert_exact(ws, "a year written in bulk")
    assert all(before[t] for t in KEPT), "every table holds counts"

    # A visit logged, then corrected (day, kind, needs, actions), flagged deleted, removed.
    person = a_person(ws, "nord")
    first, second, third = action_ids(ws, 3)
    visit = visits.log_visit(
        ws,
        person["id"],
        {
            "occurred_at": "2025-06-18T10:30",
            "kind": "visite-domicile",
            "outcome": "realisee",
            "need_ids": ["isolement", "sante"],
            "proposed_action_ids": [first, second],
        },
    )
    after = assert_exact(ws, "a visit logged")
    assert after["dashboard_contact_days"] - before["dashboard_contact_days"]
    visits.correct_visit(
        ws,
        visit["id"],
        {
            "occurred_at": "2025-06-17T09:00",
            "kind": "appel",
            "need_ids": ["isolement"],
            "proposed_action_ids": [third],
        },
    )
    assert_exact(ws, "a visit corrected")
    with ws.store.transaction():
        ws.update_row("visits", visit["id"], {"deleted": True})
    assert assert_exact(ws, "a visit deleted (flag)") == before
    with ws.store.transaction():  # as a pull brings it back (a revision undeleting it)
        ws.store.conn.execute("UPDATE visits SET deleted = 0 WHERE id = ?", (visit["id"],))
    assert_exact(ws, "a visit restored")
    with ws.store.transaction():
        ws.store.conn.execute("DELETE FROM visits WHERE id = ?", (visit["id"],))
    assert assert_exact(ws, "a visit removed (row)") == before

    # Handouts: to a person (a take-up when she was proposed the action), at a desk (none).
    home = visits.record_handout(ws, [first, second], person_id=person["id"])
    assert_exact(ws, "a handout given at home")
    desk = visits.record_handout(ws, [first], territory_id="sud")
    assert_exact(ws, "a handout printed at a desk")
    with ws.store.transaction():
        ws.update_row("handouts_given", home["id"], {"action_ids": [third]})
        ws.update_row("handouts_given", desk["id"], {"deleted": True})
    assert_exact(ws, "handouts changed")
    with ws.store.transaction():
        ws.store.conn.execute("DELETE FROM handouts_given WHERE id = ?", (home["id"],))
    assert_exact(ws, "a handout removed")

    # Desk encounters.
    encounter = visits.count_encounter(ws, {"territory_id": "est", "need_id": "isolement"})
    assert_exact(ws, "a desk encounter")
    with ws.store.transaction():
        ws.update_row("reception_encounters", encounter["id"], {"need_id": "sante"})
    assert_exact(ws, "a desk encounter corrected")
    with ws.store.transaction():
        ws.store.conn.execute("DELETE FROM reception_encounters WHERE id = ?", (encounter["id"],))
    assert_exact(ws, "a desk encounter removed")

    # A person moves from Nord to Sud: her visits, needs, proposals and take-ups go with her.
    moving = a_person(ws, "nord", 1)
    contacts.update(ws, moving["id"], {"territory_id": "sud"})
    moved = assert_exact(ws, "a person moved")
    assert any(key[0] == "sud" and key[2] == moving["seq"] for key in moved["dashboard_proposals"])
    assert not any(
        key[0] == "nord" and key[2] == moving["seq"] for key in moved["dashboard_proposals"]
    )

    # Anonymised at the end of her retention period (what a pulled anonymisation writes):
    # identity and contact details emptied, the file archived; every count stays.
    with ws.store.transaction():
        ws.store.conn.execute(
            "UPDATE contacts SET family_name = NULL, given_names = NULL, phone_1 = NULL, "
            "address_line = NULL, archived = 1, anonymised_on = '2025-06-20' WHERE id = ?",
            (moving["id"],),
        )
    assert assert_exact(ws, "a file anonymised") == moved

    # Erased: a sync removes her rows then her (apply.py), or her then her rows (the sweep
    # of a full download).
    erased = a_person(ws, "sud", 2)
    with foreign_keys_off(ws.store), ws.store.transaction():
        for table in ("visits", "handouts_given"):
            ws.store.conn.execute(f"DELETE FROM {table} WHERE person_id = ?", (erased["id"],))
        ws.store.conn.execute("DELETE FROM contacts WHERE id = ?", (erased["id"],))
    tables = assert_exact(ws, "a person erased, her rows first")
    assert not any(key[2] == erased["seq"] for key in tables["dashboard_proposals"])
    swept = a_person(ws, "est")
    with foreign_keys_off(ws.store), ws.store.transaction():
        ws.store.conn.execute("DELETE FROM contacts WHERE id = ?", (swept["id"],))
        tables = assert_exact(ws, "a person removed before her rows")
        assert not any(key[2] == swept["seq"] for key in tables["dashboard_takeups"])
        for table in ("visits", "handouts_given"):
            ws.store.conn.execute(f"DELETE FROM {table} WHERE person_id = ?", (swept["id"],))
    assert_exact(ws, "her rows removed after her")

    # A visit pulled before its person (a sync page may bring them in that order): not
    # counted until she arrives, counted with her territory once she has.
    ws.store.conn.execute("PRAGMA foreign_keys = OFF")
    try:
        newcomer = "00000000-0000-4000-8000-00000000f00d"
        with ws.store.transaction():
            ws.store.conn.execute(
                "INSERT INTO visits (id, person_id, agent_id, occurred_at, kind, outcome, "
                "need_ids, proposed_action_ids, created_at, updated_at) VALUES (?, ?, 'x', "
                "'2025-06-10T11:00+02:00', 'visite-domicile', 'realisee', '[\"sante\"]', ?, "
                "'2025-06-10', '2025-06-10')",
                ("00000000-0000-4000-8000-000000000001", newcomer, f'["{first}"]'),
            )
        waiting = assert_exact(ws, "a visit before its person")
        with ws.store.transaction():
            ws.write_row(
                "contacts",
                {
                    "id": newcomer,
                    "kind": "person",
                    "family_name": "Arrivée (fictive)",
                    "territory_id": "centre-est",
                    "created_at": "2025-06-20T10:00:00.000Z",
                    "updated_at": "2025-06-20T10:00:00.000Z",
                },
                outbox=False,  # as a pull writes it
            )
    finally:
        ws.store.conn.execute("PRAGMA foreign_keys = ON")
    arrived = assert_exact(ws, "her visit's person arrived")
    assert arrived["dashboard_need_days"] != waiting["dashboard_need_days"]


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(YEAR, id="year"),
        pytest.param(Filters(date(2025, 6, 1), date(2025, 6, 30), ("sud", "nord")), id="june"),
        pytest.param(Filters(FIRST, YEAR.until, ("est",), priority_id="P03"), id="est-p3"),
    ],
)
def test_after_the_changes_the_figures_equal_independent_queries(
    year: Workspace, f: Filters
) -> None:
    """Run after the test above (same module profile): the dashboard reads the count tables
    and agrees with queries on the raw tables."""
    board = indicators.dashboard(year, f)
    shown = {(r.week, r.territory_id): (r.visits, r.calls) for r in board.contacts_by_week}
    assert shown == independent_weeks(year, f)
    assert board.needs == independent_needs(year, f)
    assert {r.action_id: (r.proposed, r.taken_up) for r in board.actions} == (
        independent_actions(year, f)
    )
    assert board.encounters_by_need == independent_encounters(year, f)
    assert set(board.territories) == set(territory_list(f))


def test_a_profile_migrated_with_activity_gets_its_counts(tmp_path: Path) -> None:
    """A profile from before migration 0013 holding activity: the migration counts it."""
    ws, _m, _r = new_workspace(tmp_path / "p", MemoryKeyring(), role="coordinateur")
    size = demo.ActivitySize(persons=50, actions=6, visits=300, encounters=40, handouts=40)
    demo.seed_activity_year(ws, FIRST, size)
    recounted = {table: rows(ws, sql) for table, sql in RECOUNT.items()}
    with ws.store.transaction():
        for table in (*KEPT, "dashboard_actions"):
            ws.store.conn.execute(f"DELETE FROM {table}")
    (sql,) = [sql for _v, name, sql in migration_files() if name.endswith("_dashboard_counts.sql")]
    with ws.store.transaction():
        for statement in _split_sql(sql):
            if statement.lstrip().upper().startswith("INSERT"):
                ws.store.conn.execute(statement)
    assert kept(ws) == recounted
    ws.store.close()
