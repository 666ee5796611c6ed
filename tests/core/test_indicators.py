"""The dashboard's and the evaluation's figures on a generated year of activity (issue 16).

A real SQLCipher profile holds a year: 100,000 visits and calls, 20,000 reception desk
encounters, 80 actions, 20,000 persons, 15,000 handouts. Every figure of core/indicators.py
is compared with an independent query written here (other SQL: ``instr`` on the JSON text
instead of ``json_each``, correlated subqueries instead of joins, no forced index), and the
plans of the indicator queries are read: they search their indexes, they never scan a table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from havre_desktop.core import demo, indicators
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.indicators import Filters
from havre_desktop.core.workspace import Workspace
from tests.helpers import MemoryKeyring, new_workspace

FIRST = date(2025, 1, 1)
LAST = date(2025, 12, 31)
YEAR = Filters(FIRST, LAST)


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root: Path = tmp_path_factory.mktemp("year") / "profile"
    ws, _manager, _recovery = new_workspace(
        root,
        MemoryKeyring(),
        role="coordinateur",
        territories=["nord", "sud"],
        now=datetime(2026, 1, 20, 10, 0, tzinfo=UTC),
    )
    counts = demo.seed_activity_year(ws, FIRST)
    assert counts["visits"] == 100_000
    assert counts["reception_encounters"] == 20_000
    assert counts["actions"] == 80
    yield ws
    ws.store.close()


def q(ws: Workspace, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Any]:
    return [tuple(r.values()) for r in ws.store.query(sql, params)]


def day_range(f: Filters) -> tuple[str, str]:
    return f.since.isoformat(), f.until.isoformat()


def territory_list(f: Filters) -> tuple[str, ...]:
    return f.territory_ids or ("nord", "centre-ouest", "centre-est", "est", "sud")


def ins(values: tuple[str, ...]) -> str:
    return "(" + ",".join(f"'{v}'" for v in values) + ")"


# -- independent queries --------------------------------------------------------------------


def independent_weeks(ws: Workspace, f: Filters) -> dict[tuple[str, str], tuple[int, int]]:
    rows = q(
        ws,
        "SELECT date(julianday(substr(occurred_at, 1, 10)) - "
        "((CAST(strftime('%w', substr(occurred_at, 1, 10)) AS INTEGER) + 6) % 7)) AS week, "
        "(SELECT territory_id FROM contacts WHERE contacts.id = visits.person_id) AS t, "
        "sum(CASE WHEN kind LIKE 'appel%' THEN 0 ELSE 1 END), "
        "sum(CASE WHEN kind LIKE 'appel%' THEN 1 ELSE 0 END) FROM visits NOT INDEXED "
        "WHERE deleted = 0 AND substr(occurred_at, 1, 10) BETWEEN ? AND ? "
        f"AND t IN {ins(territory_list(f))} GROUP BY 1, 2",
        day_range(f),
    )
    return {(w, t): (int(v), int(c)) for w, t, v, c in rows}


def visits_of(f: Filters) -> str:
    """The visits of the period and territories, each looked up once (a CTE)."""
    return (
        "WITH v AS MATERIALIZED (SELECT id, person_id, need_ids, proposed_action_ids "
        "FROM visits NOT INDEXED WHERE deleted = 0 "
        "AND substr(occurred_at, 1, 10) BETWEEN :first AND :last AND (SELECT territory_id "
        f"FROM contacts WHERE contacts.id = visits.person_id) IN {ins(territory_list(f))}) "
    )


def period(f: Filters) -> dict[str, str]:
    return {"first": f.since.isoformat(), "last": f.until.isoformat()}


def independent_needs(ws: Workspace, f: Filters) -> dict[str, int]:
    rows = q(
        ws,
        visits_of(f) + "SELECT n.id, count(v.id) FROM ref_items n JOIN v "
        "ON instr(v.need_ids, '\"' || n.id || '\"') > 0 WHERE n.list = 'need_kinds' "
        "GROUP BY n.id",
        period(f),
    )
    return {need: int(n) for need, n in rows if n}


def independent_actions(ws: Workspace, f: Filters) -> dict[str, tuple[int, int]]:
    where = ["a.deleted = 0"]
    if f.priority_id:
        where.append(f"a.priority_id = '{f.priority_id}'")
    if f.stake_id:
        where.append(
            f"(SELECT stake_id FROM ref_priorities WHERE id = a.priority_id) = '{f.stake_id}'"
        )
    if f.concern_id:
        where.append(f"instr(a.audience_ids, '\"{f.concern_id}\"') > 0")
    pairs = (
        visits_of(f) + ", pv AS MATERIALIZED (SELECT DISTINCT a.id AS action, v.person_id "
        "AS person FROM actions a JOIN v ON instr(v.proposed_action_ids, a.id) > 0 "
        f"WHERE {' AND '.join(where)}), "
        "h AS MATERIALIZED (SELECT person_id, action_ids FROM handouts_given NOT INDEXED "
        "WHERE deleted = 0 AND person_id IS NOT NULL "
        "AND substr(given_at, 1, 10) BETWEEN :first AND :last) "
    )
    proposed = dict(q(ws, pairs + "SELECT action, count(*) FROM pv GROUP BY action", period(f)))
    taken = dict(
        q(
            ws,
            pairs + "SELECT pv.action, count(DISTINCT pv.person) FROM pv JOIN h "
            "ON h.person_id = pv.person AND instr(h.action_ids, pv.action) > 0 "
            "GROUP BY pv.action",
            period(f),
        )
    )
    return {a: (int(n), int(taken.get(a, 0))) for a, n in proposed.items()}


def independent_encounters(ws: Workspace, f: Filters) -> dict[str, int]:
    return dict(
        q(
            ws,
            "SELECT need_id, count(*) FROM reception_encounters NOT INDEXED WHERE deleted = 0 "
            "AND substr(occurred_at, 1, 10) BETWEEN ? AND ? "
            f"AND territory_id IN {ins(territory_list(f))} GROUP BY need_id",
            day_range(f),
        )
    )


def independent_coverage(ws: Workspace, f: Filters) -> dict[str, tuple[int, int, int, int]]:
    at = f.until.isoformat()
    cutoff = f.until.replace(year=f.until.year - 65).isoformat()
    on_register = (
        "c.id IN (SELECT person_id FROM register_enrolments WHERE deleted = 0 "
        "AND enrolled_on <= :at AND (removed_on IS NULL OR removed_on > :at))"
    )
    rows = q(
        ws,
        "SELECT c.territory_id, count(*), sum(CASE WHEN c.birth_date <= :cutoff THEN 1 ELSE 0 "
        f"END), sum(CASE WHEN {on_register} THEN 1 ELSE 0 END), sum(CASE WHEN c.birth_date "
        f"<= :cutoff AND {on_register} THEN 1 ELSE 0 END) FROM contacts c NOT INDEXED "
        "WHERE c.kind = 'person' AND c.deleted = 0 AND c.archived = 0 GROUP BY 1",
        {"at": at, "cutoff": cutoff},
    )
    return {t: (int(a), int(b), int(c), int(d)) for t, a, b, c, d in rows}


# -- the dashboard ------------------------------------------------------------------------------

FILTERS = [
    pytest.param(YEAR, id="year-all"),
    pytest.param(Filters(date(2025, 3, 10), date(2025, 6, 22), ("nord",)), id="spring-nord"),
    pytest.param(Filters(FIRST, LAST, ("sud", "est"), priority_id="P05"), id="sud-est-priority5"),
    pytest.param(Filters(FIRST, LAST, stake_id="E2"), id="stake2"),
    pytest.param(Filters(FIRST, LAST, concern_id="handicap"), id="disability-inclusion"),
]


@pytest.mark.parametrize("f", FILTERS)
def test_every_dashboard_figure_equals_an_independent_query(year: Workspace, f: Filters) -> None:
    board = indicators.dashboard(year, f)

    expected_weeks = independent_weeks(year, f)
    shown = {(r.week, r.territory_id): (r.visits, r.calls) for r in board.contacts_by_week}
    assert shown == expected_weeks
    assert sum(v + c for v, c in shown.values()) > 0
    assert {w for w, _t in shown} <= set(board.weeks)

    assert board.needs == independent_needs(year, f)
    assert {r.action_id: (r.proposed, r.taken_up) for r in board.actions} == (
        independent_actions(year, f)
    )
    assert board.encounters_by_need == independent_encounters(year, f)
    coverage = independent_coverage(year, f)
    assert {
        r.territory_id: (r.persons, r.eligible, r.registered, r.registered_eligible)
        for r in board.coverage
    } == {t: coverage[t] for t in territory_list(f)}


def test_register_coverage_only_for_an_agent_with_the_register_right(year: Workspace) -> None:
    """The register serves the alert plan: its coverage is shown to agents with the right,
    and an agent without it gets no coverage at all (not a false 0 %)."""
    owner = year.store.get_setting("owner_agent_id")
    assert indicators.dashboard(year, YEAR).coverage  # the year's coordinator has the right
    with year.store.transaction():
        year.store.conn.execute("UPDATE agents SET register_right = 0 WHERE id = ?", (owner,))
    try:
        assert indicators.dashboard(year, YEAR).coverage == ()
    finally:
        with year.store.transaction():
            year.store.conn.execute("UPDATE agents SET register_right = 1 WHERE id = ?", (owner,))


def test_filters_change_the_figures(year: Workspace) -> None:
    everything = indicators.dashboard(year, YEAR)
    nord = indicators.dashboard(year, Filters(FIRST, LAST, ("nord",)))
    priority = indicators.dashboard(year, Filters(FIRST, LAST, priority_id="P05"))
    stake = indicators.dashboard(year, Filters(FIRST, LAST, stake_id="E1"))
    assert sum(nord.needs.values()) < sum(everything.needs.values())
    assert {r.territory_id for r in nord.contacts_by_week} == {"nord"}
    assert 0 < len(priority.actions) < len(stake.actions) < len(everything.actions)
    p05 = {r["id"] for r in year.store.query("SELECT id FROM actions WHERE priority_id = 'P05'")}
    assert {r.action_id for r in priority.actions} <= p05


def test_bad_filters_are_refused_in_french(year: Workspace) -> None:
    with pytest.raises(ValidationError, match="fin de la période"):
        indicators.dashboard(year, Filters(LAST, FIRST))
    with pytest.raises(ValidationError, match="au moins un territoire"):
        indicators.dashboard(year, Filters(FIRST, LAST, ("atlantide",)))


def test_the_dashboard_is_for_coordinators(tmp_path: Path) -> None:
    ws, _m, _r = new_workspace(tmp_path / "p", MemoryKeyring(), role="travailleur-social")
    with pytest.raises(PermissionDeniedError, match="coordinateurs"):
        indicators.dashboard(ws, YEAR)
    ws.store.close()


def test_the_indicator_queries_search_their_indexes(year: Workspace) -> None:
    """Every statement the dashboard, an evaluation, the review and the export run: its plan
    searches an index for every table it reads (json_each and subqueries aside); the
    dashboard's count tables are searched through their primary keys (day or territory
    first), never scanned."""
    statements: list[str] = []
    year.store.conn.set_trace_callback(statements.append)
    try:
        board = indicators.dashboard(year, Filters(FIRST, LAST, ("nord",), stake_id="E1"))
        indicators.dashboard(year, YEAR)
        indicators.action_indicators(year, board.actions[0].action_id, FIRST, LAST)
        indicators.yearly_review(year)
        indicators.anonymised_year(year, 2025)
    finally:
        year.store.conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    counted = [
        s for s in selects if "count(" in s.lower() or "sum(" in s.lower() or "INDEXED BY" in s
    ]
    assert len(counted) >= 15
    used: set[str] = set()
    count_tables: set[str] = set()
    for sql in counted:
        plan = [r["detail"] for r in year.store.query("EXPLAIN QUERY PLAN " + sql)]
        for step in plan:
            if step.startswith("SCAN "):
                # only virtual tables (json_each), CTEs, subqueries, the small reference
                # list of actions or evaluations of the review, and the register's
                # enrolments (read once through their index into the list the persons'
                # ids are looked up in, not searched once per person) may be scanned
                assert (
                    "VIRTUAL TABLE" in step
                    or "subquery" in step
                    or step.split()[1] in {"reached", "proposed", "taken", "counted", "a", "g"}
                    or step == "SCAN r USING INDEX register_person"
                ), (step, sql)
            used.update(
                word
                for word in step.replace("(", " ").split()
                if word.endswith(("_dashboard", "_at", "_last", "_coverage"))
            )
        for table in ("contact_days", "need_days", "encounter_days", "proposals", "takeups"):
            if f"dashboard_{table}" in sql:
                count_tables.add(table)
                assert any("USING PRIMARY KEY" in step for step in plan), (plan, sql)
    assert {
        "visits_dashboard",
        "handouts_given_at",
        "action_evaluations_last",
        "contacts_coverage",
    } <= used
    assert count_tables == {"contact_days", "need_days", "encounter_days", "proposals", "takeups"}


# -- evaluation -------------------------------------------------------------------------------


def independent_action(ws: Workspace, action_id: str, first: str, last: str) -> dict[str, Any]:
    p = {"a": action_id, "first": first, "last": last}
    visits = q(
        ws,
        "SELECT count(*), count(DISTINCT person_id) FROM visits NOT INDEXED WHERE deleted = 0 "
        "AND substr(occurred_at, 1, 10) BETWEEN :first AND :last "
        "AND instr(proposed_action_ids, :a) > 0",
        p,
    )[0]
    handouts = q(
        ws,
        "SELECT count(*), sum(person_id IS NULL) FROM handouts_given NOT INDEXED "
        "WHERE deleted = 0 AND substr(given_at, 1, 10) BETWEEN :first AND :last "
        "AND instr(action_ids, :a) > 0",
        p,
    )[0]
    taken = q(
        ws,
        "SELECT count(DISTINCT v.person_id) FROM visits v NOT INDEXED WHERE v.deleted = 0 "
        "AND substr(v.occurred_at, 1, 10) BETWEEN :first AND :last "
        "AND instr(v.proposed_action_ids, :a) > 0 AND EXISTS (SELECT 1 FROM handouts_given h "
        "WHERE h.person_id = v.person_id AND h.deleted = 0 "
        "AND substr(h.given_at, 1, 10) BETWEEN :first AND :last "
        "AND instr(h.action_ids, :a) > 0)",
        p,
    )[0][0]
    persons = q(
        ws,
        "SELECT id, territory_id, birth_date FROM contacts WHERE id IN ("
        "SELECT person_id FROM visits WHERE deleted = 0 AND substr(occurred_at, 1, 10) "
        "BETWEEN :first AND :last AND instr(proposed_action_ids, :a) > 0 UNION "
        "SELECT person_id FROM handouts_given WHERE deleted = 0 AND substr(given_at, 1, 10) "
        "BETWEEN :first AND :last AND instr(action_ids, :a) > 0)",
        p,
    )
    at = date.fromisoformat(last)
    reached: dict[tuple[str, str], int] = {}
    for _id, territory, birth in persons:
        born = date.fromisoformat(birth)
        age = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
        group = (
            "moins-25"
            if age < 25
            else "25-59"
            if age < 60
            else "60-74"
            if age < 75
            else "75-84"
            if age < 85
            else "85-plus"
        )
        reached[(territory, group)] = reached.get((territory, group), 0) + 1
    return {
        "visits": visits[0],
        "persons": visits[1],
        "handouts": handouts[0],
        "desk": handouts[1] or 0,
        "taken": taken,
        "reached": reached,
    }


def as_compared(figures: indicators.ActionIndicators) -> dict[str, Any]:
    return {
        "visits": figures.visits_proposing,
        "persons": figures.persons_proposed,
        "handouts": figures.handouts_listing,
        "desk": figures.desk_handouts,
        "taken": figures.taken_up,
        "reached": {(r.territory_id, r.age_group_id): r.persons for r in figures.reached},
    }


def test_the_evaluation_figures_of_actions_equal_independent_queries(year: Workspace) -> None:
    actions = year.store.query("SELECT id, status, start_date FROM actions ORDER BY code")
    in_test = [a for a in actions if a["status"] == "en-test"]
    assert in_test
    for action in [actions[0], actions[17], in_test[0]]:
        figures = indicators.action_indicators(year, action["id"], FIRST, LAST)
        assert as_compared(figures) == independent_action(
            year, action["id"], FIRST.isoformat(), LAST.isoformat()
        )
        assert figures.visits_proposing > 0 and figures.handouts_listing > 0
        assert figures.desk_handouts > 0  # handouts printed at a reception desk
        if action["status"] == "en-test":
            assert figures.test is not None
            assert figures.test.since == date.fromisoformat(action["start_date"])
            assert as_compared(figures.test) == independent_action(
                year, action["id"], action["start_date"], LAST.isoformat()
            )
        else:
            assert figures.test is None
    spring = indicators.action_indicators(
        year, actions[3]["id"], date(2025, 4, 1), date(2025, 4, 30)
    )
    assert as_compared(spring) == independent_action(
        year, actions[3]["id"], "2025-04-01", "2025-04-30"
    )


def test_a_verdict_is_recorded_with_its_figures_and_listed_in_the_review(
    year: Workspace,
) -> None:
    action = year.store.query_one(
        "SELECT id, territory_ids FROM actions WHERE status = 'en-test' ORDER BY code"
    )
    assert action is not None
    outbox_before = year.pending_changes()
    with pytest.raises(ValidationError, match="Décision"):
        indicators.record_verdict(year, action["id"], FIRST, LAST, {"verdict": "peut-etre"})
    assert year.pending_changes() == outbox_before  # nothing half-saved
    saved = indicators.record_verdict(
        year,
        action["id"],
        FIRST,
        LAST,
        {"verdict": "adapter", "comment": "Élargir aux samedis.", "participants": 42},
    )
    figures = indicators.action_indicators(year, action["id"], FIRST, LAST)
    assert saved["verdict"] == "adapter"
    assert saved["period_start"] == "2025-01-01" and saved["period_end"] == "2025-12-31"
    assert sorted(saved["territory_ids"]) == sorted(
        __import__("json").loads(action["territory_ids"])
    )
    assert saved["indicators"]["visites"] == figures.visits_proposing
    assert saved["indicators"]["test"]["prises"] == figures.test.taken_up  # type: ignore[union-attr]
    assert figures.participants == 42
    assert year.pending_changes() == outbox_before + 1  # it syncs (outbox entry)
    review = indicators.yearly_review(year)
    assert len(review) == 80  # every action, evaluated or not
    mine = next(r for r in review if r.action_id == action["id"])
    assert (mine.verdict, mine.comment) == ("adapter", "Élargir aux samedis.")
    assert sum(r.verdict is not None for r in review) == len(
        q(year, "SELECT DISTINCT action_id FROM action_evaluations WHERE deleted = 0")
    )


# -- the anonymised yearly export ----------------------------------------------------------------


def test_the_anonymised_export_counts_and_withholds_small_counts(year: Workspace) -> None:
    rows = indicators.anonymised_year(year, 2025)
    truth = {
        (code, t, g): n
        for code, t, g, n in q(
            year,
            "SELECT a.code, c.territory_id, "
            + indicators.age_group_sql("c.birth_date", "'2025-12-31'")
            + ", count(*) FROM actions a JOIN contacts c ON c.id IN ("
            "SELECT person_id FROM visits WHERE deleted = 0 AND substr(occurred_at, 1, 4) = "
            "'2025' AND instr(proposed_action_ids, a.id) > 0 UNION SELECT person_id FROM "
            "handouts_given WHERE deleted = 0 AND substr(given_at, 1, 4) = '2025' AND "
            "instr(action_ids, a.id) > 0) GROUP BY 1, 2, 3",
        )
    }
    assert {(r.code, r.territory_id, r.age_group_id) for r in rows} == set(truth)
    small = [r for r in rows if r.persons is None]
    assert small, "the generated year has small groups"
    for r in rows:
        n = truth[(r.code, r.territory_id, r.age_group_id)]
        assert r.persons == (n if n >= 5 else None)
    text = indicators.anonymised_csv(year, 2025)
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0] == [
        "Année",
        "Code action",
        "Action",
        "Territoire",
        "Tranche d'âge",
        "Personnes",
    ]
    assert len(table) == len(rows) + 1
    assert all(line[5] == "< 5" or int(line[5]) >= 5 for line in table[1:])
    assert "Le Havre Nord" in text and "85 ans et plus" in text
    names = q(year, "SELECT family_name FROM contacts WHERE kind = 'person' LIMIT 200")
    assert not any(f";{name};" in text for (name,) in names)


def test_weeks_start_on_monday() -> None:
    f = Filters(date(2025, 3, 5), date(2025, 3, 24))
    assert indicators.weeks(f) == ["2025-03-03", "2025-03-10", "2025-03-17", "2025-03-24"]
    assert all(date.fromisoformat(w).weekday() == 0 for w in indicators.weeks(YEAR))
    assert date.fromisoformat(indicators.weeks(YEAR)[-1]) + timedelta(days=6) >= LAST


def test_the_pdf_report_prints_the_dashboards_figures(year: Workspace) -> None:
    from havre_desktop.printing.report import load_activity

    f = Filters(FIRST, LAST, ("nord", "sud"))
    report = load_activity(year, FIRST, LAST, ["nord", "sud"])
    board = indicators.dashboard(year, f)
    needs = year.reference("need_kinds")
    assert {label: n for label, n, _desk in report.needs if n} == {
        needs[k]: n for k, n in board.needs.items()
    }
    assert {label: desk for label, _n, desk in report.needs if desk} == {
        needs[k]: n for k, n in board.encounters_by_need.items()
    }
    visits = {t: sum(kinds.values()) for t, kinds in report.visits_by_territory.items()}
    assert visits == {
        t: sum(r.visits + r.calls for r in board.contacts_by_week if r.territory_id == t)
        for t in ("nord", "sud")
    }


def test_campaign_outcomes_need_the_register_right(tmp_path: Path) -> None:
    """The alert plan's figure: an agent without the register right gets no row (the counts
    themselves: tests/ui/test_alert_ui.py, against a query written there)."""
    ws, _manager, _recovery = new_workspace(tmp_path / "sans-droit", MemoryKeyring())
    f = Filters(date(2026, 1, 1), date(2026, 12, 31))
    assert indicators.campaign_outcomes(ws, f) == {}
    with ws.store.transaction() as conn:
        conn.execute("UPDATE agents SET register_right = 1")
    assert indicators.campaign_outcomes(ws, f) == {}  # the right, and no campaign yet
    ws.store.close()
