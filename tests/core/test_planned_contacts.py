"""What a visit does to what was planned: a person reached closes it; a person absent (or a
contact postponed) leaves it open, moved to the new date when one is given; a promised
follow-up says by what (a visit or a call) and why."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from havre_desktop.core import contacts, visits
from havre_desktop.core.errors import ValidationError
from havre_desktop.core.workspace import Workspace
from tests.helpers import person_values

DAY = date(2026, 11, 25)


def _visit(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "occurred_at": "2026-11-25T10:00",
        "kind": "visite-domicile",
        "outcome": "realisee",
    }
    values.update(overrides)
    return values


def _open_planned(ws: Workspace, person_id: str) -> list[dict[str, Any]]:
    return visits.planned_for_person(ws, person_id)


def _outbox(ws: Workspace, table: str) -> list[dict[str, Any]]:
    return [
        e for e in ws.store.query("SELECT * FROM outbox ORDER BY seq") if e["table_name"] == table
    ]


@pytest.fixture
def planned(workspace: Workspace) -> tuple[str, str]:
    person = contacts.create_person(workspace, person_values())
    row = visits.plan_contact(
        workspace,
        person["id"],
        {"due_on": "2026-11-25", "kind": "visite", "reason": "Porter le dossier APA"},
    )
    return str(person["id"]), str(row["id"])


def test_a_visit_that_reached_the_person_closes_what_was_planned(
    workspace: Workspace, planned: tuple[str, str]
) -> None:
    person_id, planned_id = planned
    visit = visits.log_visit(workspace, person_id, _visit())
    assert workspace.get_row("planned_contacts", planned_id)["done_by_visit_id"] == visit["id"]
    assert _open_planned(workspace, person_id) == []
    assert visits.day_plan(workspace, DAY, 60)["due"] == []


@pytest.mark.parametrize("outcome", ["absent", "reportee"])
def test_a_person_absent_keeps_the_planned_contact_open_on_its_day(
    workspace: Workspace, planned: tuple[str, str], outcome: str
) -> None:
    person_id, planned_id = planned
    visits.log_visit(workspace, person_id, _visit(outcome=outcome))
    row = workspace.get_row("planned_contacts", planned_id)
    assert row["done_by_visit_id"] is None and row["due_on"] == "2026-11-25"
    due = visits.day_plan(workspace, DAY, 60)["due"]
    assert [p["id"] for p in due] == [planned_id]  # still on Ma journée
    assert due[0]["reason"] == "Porter le dossier APA"


def test_a_person_absent_with_a_new_date_moves_the_planned_contact_there(
    workspace: Workspace, planned: tuple[str, str]
) -> None:
    person_id, planned_id = planned
    before = len(_outbox(workspace, "planned_contacts"))
    visits.log_visit(workspace, person_id, _visit(outcome="absent", follow_up_on="2026-11-27"))
    open_rows = _open_planned(workspace, person_id)
    # The same planned contact, moved: no second row, its reason and kind kept.
    assert [(p["id"], p["due_on"], p["kind"], p["reason"]) for p in open_rows] == [
        (planned_id, "2026-11-27", "visite", "Porter le dossier APA")
    ]
    sent = _outbox(workspace, "planned_contacts")[before:]
    assert len(sent) == 1 and sent[0]["op"] == "update"
    changed = json.loads(sent[0]["changed_fields"])
    assert changed["due_on"] == "2026-11-27" and "done_by_visit_id" not in changed
    assert visits.day_plan(workspace, DAY, 60)["due"] == []
    assert [p["id"] for p in visits.day_plan(workspace, date(2026, 11, 27), 60)["due"]] == [
        planned_id
    ]


def test_a_person_absent_with_nothing_planned_gets_a_new_try(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    visits.log_visit(
        workspace, person["id"], _visit(kind="appel", outcome="absent", follow_up_on="2026-11-26")
    )
    [row] = _open_planned(workspace, person["id"])
    assert row["due_on"] == "2026-11-26"
    assert row["kind"] == "suivi-appel"
    assert row["reason"] == "Suivi par un appel, promis le 25/11/2026"


def test_a_follow_up_says_what_was_promised(workspace: Workspace, planned: tuple[str, str]) -> None:
    person_id, _planned_id = planned
    visits.log_visit(
        workspace,
        person_id,
        _visit(
            follow_up_on="2026-12-02",
            follow_up_kind="suivi-appel",
            follow_up_reason="Rappeler pour la réponse de la caisse de retraite",
        ),
    )
    [row] = _open_planned(workspace, person_id)
    assert (row["due_on"], row["kind"], row["reason"]) == (
        "2026-12-02",
        "suivi-appel",
        "Rappeler pour la réponse de la caisse de retraite",
    )
    follow_ups = visits.day_plan(workspace, date(2026, 12, 2), 60)["follow_ups"]
    assert [p["id"] for p in follow_ups] == [row["id"]]
    # By default a visit promises a visit, worded with the day it was promised.
    other = contacts.create_person(workspace, person_values(family_name="Martin"))
    visits.log_visit(workspace, other["id"], _visit(follow_up_on="2026-12-03"))
    [default] = _open_planned(workspace, other["id"])
    assert (default["kind"], default["reason"]) == (
        "suivi-visite",
        "Suivi par une visite, promis le 25/11/2026",
    )


def test_an_unknown_follow_up_kind_is_refused_and_nothing_is_saved(
    workspace: Workspace, planned: tuple[str, str]
) -> None:
    person_id, _planned_id = planned
    visits_before = workspace.store.scalar("SELECT count(*) FROM visits")
    outbox_before = workspace.pending_changes()
    with pytest.raises(ValidationError) as caught:
        visits.log_visit(
            workspace, person_id, _visit(follow_up_on="2026-12-02", follow_up_kind="courrier")
        )
    assert caught.value.errors == {"follow_up_kind": "Suivi par : valeur inconnue « courrier »."}
    assert workspace.store.scalar("SELECT count(*) FROM visits") == visits_before
    assert workspace.pending_changes() == outbox_before


def test_the_journal_keeps_its_row_numbers_in_4_bytes_and_8_past_2_to_the_32(
    workspace: Workspace,
) -> None:
    """The journal's lazy list holds every row number (a million visits: 4 MB in 4 bytes
    each); a row number too large for 4 bytes switches the whole list to 8, in order."""
    person_id = str(contacts.create_person(workspace, person_values())["id"])
    first = visits.log_visit(workspace, person_id, _visit(occurred_at="2026-11-20T10:00"))
    second = visits.log_visit(workspace, person_id, _visit(occurred_at="2026-11-22T10:00"))
    small = visits.journal_rowids(workspace)
    assert small.typecode == "I" and len(small) == 2
    # A visit whose row number does not fit in 4 bytes (as a file that lived long could have).
    with workspace.store.transaction() as conn:
        conn.execute("UPDATE visits SET rowid = ? WHERE id = ?", (2**32 + 7, first["id"]))
    ids = visits.journal_rowids(workspace)
    assert ids.typecode == "q"
    second_rowid = workspace.store.scalar("SELECT rowid FROM visits WHERE id = ?", (second["id"],))
    assert list(ids) == [second_rowid, 2**32 + 7]  # newest first, nothing lost
