"""The activity indicators: one module of counting queries for the dashboard, the evaluation
of actions, the PDF activity report and the anonymised yearly export (issue 16).

Every figure is a GROUP BY query in SQLite over a period (``tests/core/test_indicators.py``
reads their plans): nothing loads a table into Python. The dashboard's charts and the PDF
report read the small count tables the store keeps up to date by triggers (migration 0013:
visits and calls per day, territory and kind; needs per day and territory; desk encounters
per day, territory and need; actions proposed and taken up per territory, action, person and
day), through their primary keys; an evaluation and the anonymised export, which read one
action or a whole year once, count from the visits and handouts themselves (migration 0012's
indexes). The results are plain values (no Qt): the dashboard page draws them, the report
prints them, the export writes them.

Definitions (said once, here):

* a *visit* is a contact of kind ``visite-domicile`` or ``accueil-mairie``, a *call* one of
  kind ``appel`` or ``appel-alerte``; a visit's territory is its person's;
* weeks start on Monday, in Le Havre's time (the local date written in ``occurred_at``);
* a visit, call or handout counts when its person is on this device (her territory is the
  visit's); a visit or handout of a person the device does not hold is in no chart;
* an action is *proposed* to a person when a visit of the period lists it; the person *took it
  up* when, in the same period, she was proposed it and a handout listing it was given to
  her (the data has no uptake field yet: the printed document she asked for is the trace we
  have; a handout printed at a desk names nobody and is not a take-up);
* *reception encounters that led to an action*: handouts printed at a reception desk (no
  person) listing it — desk encounters themselves name a need, not an action;
* *persons reached* by an action: persons to whom a visit proposed it or who received a
  handout listing it; their age is counted at the end of the period;
* the register flag of a person: :func:`on_register_sql` (the register is being rebuilt:
  its definition lives in that one function).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from havre_common import contract
from havre_desktop.core import agents, catalogue
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.workspace import Workspace

ROLES_FOR_INDICATORS = frozenset({"coordinateur", "administrateur"})
CALL_KINDS = ("appel", "appel-alerte")
SMALL_COUNT = 5
"""Counts under this are not exported (anonymised export): written "< 5"."""
UNKNOWN_AGE = "inconnu"
UNKNOWN_AGE_LABEL = "Âge inconnu"
CONCERN_PREFIX = "transversal:"


@dataclass(frozen=True)
class Filters:
    """What the coordinator chose: period (inclusive dates), territories (empty: all),
    a priority, a stake, or the transversal concern (disability inclusion)."""

    since: date
    until: date
    territory_ids: tuple[str, ...] = ()
    priority_id: str | None = None
    stake_id: str | None = None
    concern_id: str | None = None

    def bounds(self) -> tuple[str, str]:
        """[start, end) as ISO strings comparable with the stored timestamps."""
        if self.until < self.since:
            raise ValidationError({"until": "La fin de la période doit suivre son début."})
        return self.since.isoformat(), (self.until + timedelta(days=1)).isoformat()


EPOCH = date(1970, 1, 1)


def day_numbers(f: Filters) -> tuple[int, int]:
    """[first, last) as days since 1970-01-01: how the count tables of distinct persons
    write their days (migration 0013)."""
    start, end = f.bounds()
    return (
        (date.fromisoformat(start) - EPOCH).days,
        (date.fromisoformat(end) - EPOCH).days,
    )


def require_coordinator(ws: Workspace) -> None:
    if agents.current_role(ws) not in ROLES_FOR_INDICATORS:
        raise PermissionDeniedError("Seuls les coordinateurs voient les indicateurs d'activité.")


def territories(ws: Workspace, f: Filters) -> list[str]:
    """The chosen territories in reference order (all when none was chosen)."""
    names = ws.reference("territories")
    wanted = set(f.territory_ids or names)
    chosen = [t for t in names if t in wanted]
    if not chosen:
        raise ValidationError({"territory_ids": "Choisissez au moins un territoire."})
    return chosen


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" for _ in values)


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# -- the register flag (one place) ----------------------------------------------------------


def registered_sql(at: str) -> str:
    """SQL of the ids of the persons on the register at the date parameter ``at`` (a named
    parameter, e.g. ``:at``), each once. The register is being rebuilt in parallel: its
    enrolments are read here and nowhere else."""
    return (
        "SELECT DISTINCT r.person_id FROM register_enrolments r WHERE r.deleted = 0 "
        f"AND r.enrolled_on <= {at} AND (r.removed_on IS NULL OR r.removed_on > {at})"
    )


def on_register_sql(person: str, at: str) -> str:
    """SQL true when the person ``person``.id is on the register at ``at``."""
    return f"{person}.id IN ({registered_sql(at)})"


def age_group_sql(birth: str, at: str) -> str:
    """SQL of the age group id (reference ``age_groups``) of a birth date at a date."""
    age = (
        f"(CAST(substr({at}, 1, 4) AS INTEGER) - CAST(substr({birth}, 1, 4) AS INTEGER) "
        f"- (substr({at}, 6, 5) < substr({birth}, 6, 5)))"
    )
    return (
        f"CASE WHEN coalesce({birth}, '') = '' THEN '{UNKNOWN_AGE}' "
        f"WHEN {age} < 25 THEN 'moins-25' WHEN {age} < 60 THEN '25-59' "
        f"WHEN {age} < 75 THEN '60-74' WHEN {age} < 85 THEN '75-84' ELSE '85-plus' END"
    )


def age_groups(ws: Workspace) -> dict[str, str]:
    return {**ws.reference("age_groups"), UNKNOWN_AGE: UNKNOWN_AGE_LABEL}


# -- the actions a filter keeps ---------------------------------------------------------------


def chosen_actions_sql(f: Filters) -> tuple[str, tuple[Any, ...]]:
    """``SELECT id FROM actions`` kept by the priority, stake and concern filters."""
    where = ["a.deleted = 0"]
    params: list[Any] = []
    if f.priority_id:
        where.append("a.priority_id = ?")
        params.append(f.priority_id)
    if f.stake_id:
        where.append("p.stake_id = ?")
        params.append(f.stake_id)
    if f.concern_id:
        # An action belongs to the transversal concern when it names its public.
        where.append("EXISTS (SELECT 1 FROM json_each(a.audience_ids) WHERE value = ?)")
        params.append(f.concern_id)
    sql = (
        "SELECT a.id FROM actions a JOIN ref_priorities p ON p.id = a.priority_id WHERE "
        + " AND ".join(where)
    )
    return sql, tuple(params)


# -- contacts (visits and calls) ---------------------------------------------------------------


@dataclass(frozen=True)
class WeekRow:
    week: str  # Monday, ISO date
    territory_id: str
    visits: int
    calls: int


_CONTACT_DAYS = (
    "FROM dashboard_contact_days d WHERE d.day >= ? AND d.day < ? AND d.territory_id IN "
)


def contacts_by_week(ws: Workspace, f: Filters) -> list[WeekRow]:
    start, end = f.bounds()
    chosen = territories(ws, f)
    calls = _marks(CALL_KINDS)
    rows = ws.store.query(
        "SELECT date(d.day, 'weekday 0', '-6 days') AS week, d.territory_id AS t, "
        f"sum(CASE WHEN d.kind IN ({calls}) THEN 0 ELSE d.n END) AS visits, "
        f"sum(CASE WHEN d.kind IN ({calls}) THEN d.n ELSE 0 END) AS calls "
        + _CONTACT_DAYS
        + f"({_marks(chosen)}) GROUP BY 1, 2 ORDER BY 1, 2",
        (*CALL_KINDS, *CALL_KINDS, start, end, *chosen),
    )
    return [WeekRow(r["week"], r["t"], int(r["visits"]), int(r["calls"])) for r in rows]


def weeks(f: Filters) -> list[str]:
    """Every Monday of the period (weeks without a contact included)."""
    monday = f.since - timedelta(days=f.since.weekday())
    out = []
    while monday <= f.until:
        out.append(monday.isoformat())
        monday += timedelta(days=7)
    return out


def visits_by_territory_kind(ws: Workspace, f: Filters) -> dict[str, dict[str, int]]:
    start, end = f.bounds()
    chosen = territories(ws, f)
    out: dict[str, dict[str, int]] = {t: {} for t in chosen}
    for r in ws.store.query(
        "SELECT d.territory_id AS t, d.kind AS k, sum(d.n) AS n "
        + _CONTACT_DAYS
        + f"({_marks(chosen)}) GROUP BY 1, 2",
        (start, end, *chosen),
    ):
        out[r["t"]][r["k"]] = int(r["n"])
    return out


def months(f: Filters) -> list[str]:
    out = []
    year, month = f.since.year, f.since.month
    while (year, month) <= (f.until.year, f.until.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def visits_by_month(ws: Workspace, f: Filters) -> list[tuple[str, int]]:
    start, end = f.bounds()
    chosen = territories(ws, f)
    counts = {
        r["m"]: int(r["n"])
        for r in ws.store.query(
            "SELECT substr(d.day, 1, 7) AS m, sum(d.n) AS n "
            + _CONTACT_DAYS
            + f"({_marks(chosen)}) GROUP BY 1",
            (start, end, *chosen),
        )
    }
    return [(m, counts.get(m, 0)) for m in months(f)]


def needs_in_visits(ws: Workspace, f: Filters) -> dict[str, int]:
    """Needs found: how many visits (and calls) of the period noted each need."""
    start, end = f.bounds()
    chosen = territories(ws, f)
    return {
        r["need"]: int(r["n"])
        for r in ws.store.query(
            "SELECT d.need_id AS need, sum(d.n) AS n FROM dashboard_need_days d "
            f"WHERE d.day >= ? AND d.day < ? AND d.territory_id IN ({_marks(chosen)}) "
            "GROUP BY 1",
            (start, end, *chosen),
        )
    }


# -- reception desks ----------------------------------------------------------------------------

_ENCOUNTERS_OF = "FROM dashboard_encounter_days e WHERE e.day >= ? AND e.day < ? "


def encounters_by_need(ws: Workspace, f: Filters) -> dict[str, int]:
    start, end = f.bounds()
    chosen = territories(ws, f)
    return {
        r["need"]: int(r["n"])
        for r in ws.store.query(
            "SELECT e.need_id AS need, sum(e.n) AS n "
            + _ENCOUNTERS_OF
            + f"AND e.territory_id IN ({_marks(chosen)}) GROUP BY 1",
            (start, end, *chosen),
        )
    }


def encounters_by_territory(ws: Workspace, f: Filters) -> dict[str, int]:
    start, end = f.bounds()
    chosen = territories(ws, f)
    out = dict.fromkeys(chosen, 0)
    for r in ws.store.query(
        "SELECT e.territory_id AS t, sum(e.n) AS n "
        + _ENCOUNTERS_OF
        + f"AND e.territory_id IN ({_marks(chosen)}) GROUP BY 1",
        (start, end, *chosen),
    ):
        out[r["t"]] = int(r["n"])
    return out


def encounters_by_month(ws: Workspace, f: Filters) -> list[tuple[str, int]]:
    start, end = f.bounds()
    chosen = territories(ws, f)
    counts = {
        r["m"]: int(r["n"])
        for r in ws.store.query(
            "SELECT substr(e.day, 1, 7) AS m, sum(e.n) AS n "
            + _ENCOUNTERS_OF
            + f"AND e.territory_id IN ({_marks(chosen)}) GROUP BY 1",
            (start, end, *chosen),
        )
    }
    return [(m, counts.get(m, 0)) for m in months(f)]


# -- actions proposed and taken up --------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow:
    action_id: str
    code: str
    title: str
    proposed: int  # persons to whom a visit of the period proposed it
    taken_up: int  # of those, persons given a handout listing it in the period


def actions_proposed_taken(ws: Workspace, f: Filters) -> list[ActionRow]:
    """Per action kept by the filters: the persons of the chosen territories to whom a visit
    of the period proposed it, and of them, those given a handout listing it in the period.

    Persons are counted distinct per territory and action (a person lives in one territory:
    the sums over territories are distinct counts too), in the key order of the count
    tables, so nothing is sorted but the 80-odd actions."""
    first, last = day_numbers(f)
    kept, kept_params = chosen_actions_sql(f)
    chosen = territories(ws, f)
    marks = _marks(chosen)
    rows = ws.store.query(
        "WITH proposed AS (SELECT p.territory_id, p.action, "
        "count(DISTINCT p.person) AS persons FROM dashboard_proposals p "
        f"WHERE p.territory_id IN ({marks}) AND p.action IN (SELECT k.key FROM "
        f"dashboard_actions k WHERE k.id IN ({kept})) AND p.day >= ? AND p.day < ? "
        "GROUP BY 1, 2), "
        "taken AS (SELECT t.territory_id, t.action, count(DISTINCT t.person) AS persons "
        f"FROM dashboard_takeups t WHERE t.territory_id IN ({marks}) AND t.day >= ? "
        "AND t.day < ? AND EXISTS (SELECT 1 FROM dashboard_proposals p "
        "WHERE p.territory_id = t.territory_id AND p.action = t.action "
        "AND p.person = t.person AND p.day >= ? AND p.day < ?) GROUP BY 1, 2), "
        "counted AS (SELECT proposed.action, sum(proposed.persons) AS proposed, "
        "sum(coalesce(taken.persons, 0)) AS taken FROM proposed LEFT JOIN taken "
        "ON taken.territory_id = proposed.territory_id AND taken.action = proposed.action "
        "GROUP BY 1) "
        "SELECT a.id, a.code, a.title, counted.proposed, counted.taken FROM counted "
        "JOIN dashboard_actions k ON k.key = counted.action JOIN actions a ON a.id = k.id "
        "ORDER BY counted.proposed DESC, a.code",
        (*chosen, *kept_params, first, last, *chosen, first, last, first, last),
    )
    return [
        ActionRow(r["id"], r["code"], r["title"], int(r["proposed"]), int(r["taken"])) for r in rows
    ]


def handouts_by_action(ws: Workspace, f: Filters) -> list[tuple[str, int]]:
    """(action title, handouts listing it), most given first (territory of the handout)."""
    start, end = f.bounds()
    where, params = _handout_territory(ws, f)
    return [
        (r["title"], int(r["n"]))
        for r in ws.store.query(
            "SELECT a.title AS title, count(*) AS n FROM handouts_given h INDEXED BY "
            "handouts_given_at, json_each(h.action_ids) j JOIN actions a ON a.id = j.value "
            f"WHERE h.deleted = 0 AND h.given_at >= ? AND h.given_at < ?{where} "
            "GROUP BY a.id ORDER BY n DESC, a.title",
            (start, end, *params),
        )
    ]


def handouts_total(ws: Workspace, f: Filters) -> int:
    start, end = f.bounds()
    where, params = _handout_territory(ws, f)
    return int(
        ws.store.scalar(
            "SELECT count(*) FROM handouts_given h INDEXED BY handouts_given_at "
            f"WHERE h.deleted = 0 AND h.given_at >= ? AND h.given_at < ?{where}",
            (start, end, *params),
        )
        or 0
    )


def _handout_territory(ws: Workspace, f: Filters) -> tuple[str, tuple[str, ...]]:
    if not f.territory_ids:
        return "", ()
    chosen = territories(ws, f)
    return f" AND coalesce(h.territory_id, '') IN ({_marks(chosen)})", tuple(chosen)


def actions_by_status(ws: Workspace, f: Filters) -> list[tuple[str, int]]:
    """(status id, actions of the chosen territories), in the reference order."""
    chosen = territories(ws, f)
    counts = {
        r["status"]: int(r["n"])
        for r in ws.store.query(
            "SELECT status, count(*) AS n FROM actions a WHERE deleted = 0 AND EXISTS "
            f"(SELECT 1 FROM json_each(a.territory_ids) WHERE value IN ({_marks(chosen)})) "
            "GROUP BY 1",
            tuple(chosen),
        )
    }
    return [(s, counts.get(s, 0)) for s in ws.reference("action_statuses")]


def verdicts(ws: Workspace, f: Filters) -> dict[str, int]:
    start, end = f.bounds()
    return {
        r["verdict"]: int(r["n"])
        for r in ws.store.query(
            "SELECT verdict, count(*) AS n FROM action_evaluations WHERE deleted = 0 "
            "AND evaluated_on >= ? AND evaluated_on < ? GROUP BY 1",
            (start, end),
        )
    }


# -- the register --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    territory_id: str
    persons: int  # persons followed (not archived)
    eligible: int  # of them, 65 or over at the end of the period
    registered: int  # on the register (any basis)
    registered_eligible: int  # eligible and on the register

    @property
    def coverage(self) -> float:
        """Share of the persons of 65 or over who are on the register (0 to 1)."""
        return self.registered_eligible / self.eligible if self.eligible else 0.0


def register_coverage(ws: Workspace, f: Filters) -> list[CoverageRow]:
    """How much of the population of 65 or over the register reaches: the alert plan's own
    figure (how many to call in a heatwave), for agents with the register right only; an
    agent without it holds no enrolment and gets no row (not a false 0 %)."""
    contract.check_purpose(("register_enrolments",), contract.ALERT_PLAN)
    if not agents.has_register_right(ws):
        return []
    chosen = territories(ws, f)
    at = f.until.isoformat()
    cutoff = years_before(f.until, 65).isoformat()
    params: dict[str, Any] = {"at": at, "cutoff": cutoff}
    params.update({f"t{i}": t for i, t in enumerate(chosen)})
    marks = ",".join(f":t{i}" for i in range(len(chosen)))
    flag = on_register_sql("c", ":at")
    # One pass over a covering index of the persons followed (their id included): the
    # register's few thousand enrolments are read once, into SQLite's list for ``IN``.
    rows = ws.store.query(
        "SELECT t, count(*) AS persons, sum(old) AS eligible, sum(reg) AS registered, "
        "sum(old AND reg) AS reg_eligible FROM (SELECT c.territory_id AS t, "
        f"c.birth_date <= :cutoff AS old, {flag} AS reg FROM contacts c INDEXED BY "
        "contacts_coverage WHERE c.kind = 'person' AND c.deleted = 0 AND c.archived = 0 "
        f"AND c.territory_id IN ({marks})) GROUP BY 1",
        params,
    )
    found = {r["t"]: r for r in rows}
    out = []
    for t in chosen:
        r = found.get(t)
        out.append(
            CoverageRow(
                t,
                int(r["persons"]) if r else 0,
                int(r["eligible"] or 0) if r else 0,
                int(r["registered"] or 0) if r else 0,
                int(r["reg_eligible"] or 0) if r else 0,
            )
        )
    return out


def campaign_outcomes(ws: Workspace, f: Filters) -> dict[str, dict[str, int]]:
    """Alert campaigns: the outcomes recorded in the period (each call, emergency-contact call
    or door knocked counts once, on its day), by outcome and by the person's territory. The
    alert plan's own figure, for agents with the register right only (else empty)."""
    contract.check_purpose(("campaign_outcomes",), contract.ALERT_PLAN)
    if not agents.has_register_right(ws):
        return {}
    start, end = f.bounds()
    chosen = territories(ws, f)
    out: dict[str, dict[str, int]] = {}
    for r in ws.store.query(
        "SELECT o.outcome AS outcome, c.territory_id AS t, count(*) AS n "
        "FROM campaign_outcomes o JOIN contacts c ON c.id = o.person_id "
        "WHERE o.deleted = 0 AND o.called_at >= ? AND o.called_at < ? "
        f"AND c.territory_id IN ({_marks(chosen)}) GROUP BY 1, 2",
        (start, end, *chosen),
    ):
        out.setdefault(str(r["outcome"]), {})[str(r["t"])] = int(r["n"])
    return out


# -- the dashboard: every chart's figures at once ------------------------------------------------


PARTS = ("weeks", "needs", "actions", "encounters", "coverage", "campaigns")
"""The dashboard's figures in parts, each computed on its own (the page asks for the part of
the chart on screen first, and only for the parts a filter change touches)."""
CHART_PARTS = {
    "visites": "weeks",
    "appels": "weeks",
    "besoins": "needs",
    "actions": "actions",
    "accueils": "encounters",
    "registre": "coverage",
    "campagnes": "campaigns",
}
"""The part each chart of the page is drawn from."""


def part_key(f: Filters, part: str) -> tuple[Any, ...]:
    """What a part's figures depend on among the filters: a part whose key did not change
    (and whose data did not) needs no new count. Contacts, needs and desk encounters follow
    the period and territories; actions the priority, stake and concern too; the register's
    coverage is counted at the end of the period, in the territories."""
    if part == "actions":
        return (f.since, f.until, f.territory_ids, f.priority_id, f.stake_id, f.concern_id)
    if part == "coverage":
        return (f.until, f.territory_ids)
    return (f.since, f.until, f.territory_ids)


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    territories: tuple[str, ...]
    weeks: tuple[str, ...]
    contacts_by_week: tuple[WeekRow, ...] = ()
    needs: dict[str, int] = field(default_factory=dict)
    actions: tuple[ActionRow, ...] = ()
    encounters_by_need: dict[str, int] = field(default_factory=dict)
    coverage: tuple[CoverageRow, ...] = ()
    campaign_outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    parts: frozenset[str] = frozenset(PARTS)  # the parts computed (the others are empty)


def dashboard(ws: Workspace, f: Filters, parts: Sequence[str] = PARTS) -> Dashboard:
    """The figures of the charts of the *Tableau de bord* (coordinators): every part, or
    those asked for. The count tables are small (a few MB for a year): the connection's
    usual page cache holds them, so a filter change finds them decrypted already."""
    require_coordinator(ws)
    f.bounds()  # a bad period is refused before anything is counted
    chosen = tuple(territories(ws, f))
    wanted = frozenset(parts)
    unknown = wanted - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts of the dashboard: {sorted(unknown)}")
    return Dashboard(
        filters=f,
        territories=chosen,
        weeks=tuple(weeks(f)),
        contacts_by_week=tuple(contacts_by_week(ws, f)) if "weeks" in wanted else (),
        needs=needs_in_visits(ws, f) if "needs" in wanted else {},
        actions=tuple(actions_proposed_taken(ws, f)) if "actions" in wanted else (),
        encounters_by_need=encounters_by_need(ws, f) if "encounters" in wanted else {},
        coverage=tuple(register_coverage(ws, f)) if "coverage" in wanted else (),
        campaign_outcomes=campaign_outcomes(ws, f) if "campaigns" in wanted else {},
        parts=wanted,
    )


# -- evaluation of one action --------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    territory_id: str
    age_group_id: str
    persons: int


@dataclass(frozen=True)
class ActionIndicators:
    action_id: str
    since: date
    until: date
    visits_proposing: int  # visits of the period that proposed it
    persons_proposed: int  # distinct persons to whom it was proposed
    handouts_listing: int  # handouts of the period that listed it
    desk_handouts: int  # of them, printed at a reception desk (no person)
    taken_up: int  # persons proposed it who were given a handout listing it
    reached: tuple[Reach, ...] = ()
    test: ActionIndicators | None = None  # actions "en test": the small-scale test's result
    participants: int | None = None  # the last evaluation's count of participants

    @property
    def persons_reached(self) -> int:
        return sum(r.persons for r in self.reached)

    def as_json(self) -> dict[str, Any]:
        """What an evaluation keeps of its indicators (synced: small, counts only)."""
        out: dict[str, Any] = {
            "periode": [self.since.isoformat(), self.until.isoformat()],
            "visites": self.visits_proposing,
            "personnes_proposees": self.persons_proposed,
            "documents": self.handouts_listing,
            "accueils": self.desk_handouts,
            "prises": self.taken_up,
            "personnes_touchees": self.persons_reached,
        }
        if self.test is not None:
            out["test"] = {
                "periode": [self.test.since.isoformat(), self.test.until.isoformat()],
                "personnes_proposees": self.test.persons_proposed,
                "prises": self.test.taken_up,
                "personnes_touchees": self.test.persons_reached,
            }
        return out


def _reached_cte() -> str:
    """Persons reached by action :action in [:start, :end): proposed in a visit, or given a
    handout listing it."""
    return (
        "WITH reached AS ("
        "SELECT v.person_id AS person FROM visits v INDEXED BY visits_dashboard, "
        "json_each(v.proposed_action_ids) j WHERE v.deleted = 0 AND v.occurred_at >= :start "
        "AND v.occurred_at < :end AND j.value = :action "
        "UNION SELECT h.person_id FROM handouts_given h INDEXED BY handouts_given_at, "
        "json_each(h.action_ids) j WHERE h.deleted = 0 AND h.given_at >= :start "
        "AND h.given_at < :end AND h.person_id IS NOT NULL AND j.value = :action) "
    )


def action_indicators(
    ws: Workspace, action_id: str, since: date, until: date, *, with_test: bool = True
) -> ActionIndicators:
    """The evaluation figures of one action over a period (inclusive dates)."""
    require_coordinator(ws)
    with ws.store.roomy_cache():
        return _action_indicators(ws, action_id, since, until, with_test=with_test)


def _action_indicators(
    ws: Workspace, action_id: str, since: date, until: date, *, with_test: bool
) -> ActionIndicators:
    action = ws.get_row("actions", action_id)
    start, end = Filters(since, until).bounds()
    p: dict[str, Any] = {"start": start, "end": end, "action": action_id, "at": until.isoformat()}
    proposing = ws.store.query_one(
        "SELECT count(DISTINCT v.id) AS visits, count(DISTINCT v.person_id) AS persons "
        "FROM visits v INDEXED BY visits_dashboard, json_each(v.proposed_action_ids) j "
        "WHERE v.deleted = 0 AND v.occurred_at >= :start AND v.occurred_at < :end "
        "AND j.value = :action",
        p,
    )
    handouts = ws.store.query_one(
        "SELECT count(DISTINCT h.id) AS n, count(DISTINCT CASE WHEN h.person_id IS NULL "
        "THEN h.id END) AS desk FROM handouts_given h INDEXED BY handouts_given_at, "
        "json_each(h.action_ids) j WHERE h.deleted = 0 AND h.given_at >= :start "
        "AND h.given_at < :end AND j.value = :action",
        p,
    )
    taken = ws.store.scalar(
        "SELECT count(DISTINCT v.person_id) FROM visits v INDEXED BY visits_dashboard, "
        "json_each(v.proposed_action_ids) j WHERE v.deleted = 0 AND v.occurred_at >= :start "
        "AND v.occurred_at < :end AND j.value = :action AND EXISTS (SELECT 1 FROM "
        "handouts_given h INDEXED BY handouts_person, json_each(h.action_ids) k "
        "WHERE h.person_id = v.person_id AND h.deleted = 0 AND h.given_at >= :start "
        "AND h.given_at < :end AND k.value = :action)",
        p,
    )
    reached = ws.store.query(
        _reached_cte()
        + f"SELECT c.territory_id AS t, {age_group_sql('c.birth_date', ':at')} AS g, "
        "count(*) AS n FROM reached JOIN contacts c ON c.id = reached.person "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        p,
    )
    test = None
    if with_test and action.get("status") == "en-test":
        test_since = date.fromisoformat(action["start_date"]) if action.get("start_date") else since
        test = _action_indicators(ws, action_id, min(test_since, until), until, with_test=False)
    participants = ws.store.scalar(
        "SELECT participants FROM action_evaluations INDEXED BY action_evaluations_last "
        "WHERE action_id = ? AND deleted = 0 ORDER BY evaluated_on DESC, updated_at DESC "
        "LIMIT 1",
        (action_id,),
    )
    return ActionIndicators(
        action_id=action_id,
        since=since,
        until=until,
        visits_proposing=int(proposing["visits"] if proposing else 0),
        persons_proposed=int(proposing["persons"] if proposing else 0),
        handouts_listing=int(handouts["n"] if handouts else 0),
        desk_handouts=int(handouts["desk"] if handouts else 0),
        taken_up=int(taken or 0),
        reached=tuple(Reach(r["t"], r["g"], int(r["n"])) for r in reached),
        test=test,
        participants=int(participants) if participants is not None else None,
    )


def record_verdict(
    ws: Workspace, action_id: str, since: date, until: date, values: dict[str, Any]
) -> dict[str, Any]:
    """The coordinator's verdict (poursuivre, adapter, arrêter) with her comment, saved with
    the indicators of the period it judged; it syncs to the coordinators of the action's
    territories. Bad input: a French message and nothing saved."""
    require_coordinator(ws)
    figures = action_indicators(ws, action_id, since, until)
    return catalogue.add_evaluation(
        ws,
        action_id,
        {
            **values,
            "evaluated_on": values.get("evaluated_on") or ws.clock.today().isoformat(),
            "period_start": since.isoformat(),
            "period_end": until.isoformat(),
            "indicators": figures.as_json(),
        },
    )


# -- the yearly review and the anonymised export --------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    action_id: str
    code: str
    title: str
    status: str
    priority_id: str
    evaluated_on: str | None = None
    verdict: str | None = None
    comment: str | None = None
    territory_ids: list[str] = field(default_factory=list)


def yearly_review(ws: Workspace) -> list[ReviewRow]:
    """Every action with its last evaluation (none: not evaluated yet)."""
    require_coordinator(ws)
    rows = ws.store.query(
        "SELECT a.id, a.code, a.title, a.status, a.priority_id, e.evaluated_on, e.verdict, "
        "e.comment FROM actions a LEFT JOIN action_evaluations e ON e.id = ("
        "SELECT l.id FROM action_evaluations l INDEXED BY action_evaluations_last "
        "WHERE l.action_id = a.id AND l.deleted = 0 "
        "ORDER BY l.evaluated_on DESC, l.updated_at DESC LIMIT 1) "
        "WHERE a.deleted = 0 ORDER BY a.code, a.title"
    )
    return [
        ReviewRow(
            r["id"],
            r["code"],
            r["title"],
            r["status"],
            r["priority_id"],
            r["evaluated_on"],
            r["verdict"],
            r["comment"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class ExportRow:
    code: str
    title: str
    territory_id: str
    age_group_id: str
    persons: int | None  # None: fewer than SMALL_COUNT, not exported


def anonymised_year(ws: Workspace, year: int) -> list[ExportRow]:
    """Persons reached per action, territory and age group over a calendar year.

    Anonymised: counts only, no person; a count under 5 is withheld (``persons`` None, written
    "< 5") and no total is given, so that no small group can be found by difference."""
    require_coordinator(ws)
    since, until = date(year, 1, 1), date(year, 12, 31)
    start, end = Filters(since, until).bounds()
    rows = ws.store.query(
        "WITH reached AS ("
        "SELECT DISTINCT j.value AS action, v.person_id AS person FROM visits v "
        "INDEXED BY visits_dashboard, json_each(v.proposed_action_ids) j WHERE v.deleted = 0 "
        "AND v.occurred_at >= :start AND v.occurred_at < :end "
        "UNION SELECT j.value, h.person_id FROM handouts_given h INDEXED BY handouts_given_at, "
        "json_each(h.action_ids) j WHERE h.deleted = 0 AND h.given_at >= :start "
        "AND h.given_at < :end AND h.person_id IS NOT NULL) "
        f"SELECT a.code, a.title, c.territory_id AS t, {age_group_sql('c.birth_date', ':at')} "
        "AS g, count(*) AS n FROM reached JOIN actions a ON a.id = reached.action "
        "JOIN contacts c ON c.id = reached.person GROUP BY a.id, 3, 4 ORDER BY a.code, 3, 4",
        {"start": start, "end": end, "at": until.isoformat()},
    )
    return [
        ExportRow(
            r["code"], r["title"], r["t"], r["g"], int(r["n"]) if r["n"] >= SMALL_COUNT else None
        )
        for r in rows
    ]


def anonymised_csv(ws: Workspace, year: int) -> str:
    """The anonymised yearly export as CSV text (semicolons, as French spreadsheets expect)."""
    names = ws.reference("territories")
    groups = age_groups(ws)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Année", "Code action", "Action", "Territoire", "Tranche d'âge", "Personnes"])
    for row in anonymised_year(ws, year):
        writer.writerow(
            [
                year,
                row.code,
                row.title,
                names.get(row.territory_id, row.territory_id),
                groups.get(row.age_group_id, row.age_group_id),
                f"< {SMALL_COUNT}" if row.persons is None else row.persons,
            ]
        )
    return out.getvalue()


def table_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A chart's figures as CSV text (semicolons, CRLF)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# -- what each chart shows (its CSV is the same table) --------------------------------------------


@dataclass(frozen=True)
class ChartTable:
    """One chart's figures: its title, the column names and the rows (first column: the
    category; the others: one value per series). The chart is drawn from it and its CSV is
    written from it, so the two never differ."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    kind: str  # "lines" (one series per column over time) or "bars"
    plotted: int = 0  # how many value columns the chart draws (0: all; the CSV has all)
    shown_rows: int = 0  # how many rows the chart draws (0: all; the CSV has all)

    def csv(self) -> str:
        return table_csv(self.header, self.rows)

    @property
    def series(self) -> tuple[str, ...]:
        """The columns the chart draws."""
        return self.header[1 : 1 + self.plotted] if self.plotted else self.header[1:]

    @property
    def drawn_rows(self) -> tuple[tuple[Any, ...], ...]:
        return self.rows[: self.shown_rows] if self.shown_rows else self.rows

    def values(self, column: int) -> list[float]:
        """The drawn values of series `column` (1: the first series)."""
        return [float(row[column]) for row in self.drawn_rows]


def chart_tables(ws_refs: dict[str, dict[str, str]], board: Dashboard) -> dict[str, ChartTable]:
    """The charts of the *Tableau de bord*, in page order, from the dashboard's figures (the
    charts of the parts it holds)."""
    return {
        key: table
        for key, table in _chart_tables(ws_refs, board).items()
        if CHART_PARTS[key] in board.parts
    }


def _chart_tables(ws_refs: dict[str, dict[str, str]], board: Dashboard) -> dict[str, ChartTable]:
    names = ws_refs["territories"]
    terr = board.territories
    by_week = {(r.week, r.territory_id): r for r in board.contacts_by_week}

    def weekly(attribute: str) -> tuple[tuple[Any, ...], ...]:
        return tuple(
            (
                week,
                *(
                    getattr(by_week[(week, t)], attribute) if (week, t) in by_week else 0
                    for t in terr
                ),
            )
            for week in board.weeks
        )

    needs = ws_refs["need_kinds"]
    coverage = tuple(
        (
            names.get(r.territory_id, r.territory_id),
            r.persons,
            r.eligible,
            r.registered,
            r.registered_eligible,
            round(100 * r.coverage, 1),
        )
        for r in board.coverage
    )
    return {
        "visites": ChartTable(
            "visites",
            "Visites par semaine et par territoire",
            ("Semaine du", *(names[t] for t in terr)),
            weekly("visits"),
            "lines",
        ),
        "appels": ChartTable(
            "appels",
            "Appels par semaine et par territoire",
            ("Semaine du", *(names[t] for t in terr)),
            weekly("calls"),
            "lines",
        ),
        "besoins": ChartTable(
            "besoins",
            "Besoins repérés lors des visites et appels",
            ("Besoin", "Visites et appels"),
            tuple(
                sorted(
                    ((label, board.needs.get(n, 0)) for n, label in needs.items()),
                    key=lambda row: (-row[1], row[0]),
                )
            ),
            "bars",
        ),
        "actions": ChartTable(
            "actions",
            "Les 10 actions les plus proposées, et prises",
            ("Action", "Proposée à (personnes)", "Prise par (personnes)"),
            tuple((f"{r.code} — {r.title}", r.proposed, r.taken_up) for r in board.actions),
            "bars",
            shown_rows=10,
        ),
        "accueils": ChartTable(
            "accueils",
            "Accueils en mairie annexe par besoin",
            ("Besoin", "Accueils"),
            tuple(
                sorted(
                    ((label, board.encounters_by_need.get(n, 0)) for n, label in needs.items()),
                    key=lambda row: (-row[1], row[0]),
                )
            ),
            "bars",
        ),
        "campagnes": ChartTable(
            "campagnes",
            "Campagnes d'alerte : résultats des appels par territoire",
            ("Résultat", *(names[t] for t in terr)),
            tuple(
                (label, *(board.campaign_outcomes.get(code, {}).get(t, 0) for t in terr))
                for code, label in contract.ENUMS["campaign_outcomes"].items()
            ),
            "bars",
        ),
        "registre": ChartTable(
            "registre",
            "Couverture du registre (65 ans et plus inscrits)",
            (
                "Territoire",
                "Couverture (%)",
                "Personnes suivies",
                "65 ans et plus",
                "Inscrites au registre",
                "65 ans et plus inscrites",
            ),
            tuple((row[0], row[5], *row[1:5]) for row in coverage),
            "bars",
            plotted=1,
        ),
    }
