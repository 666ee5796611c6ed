"""Alert campaigns on the laptop (havre_desktop.core.campaign): the call list, recording an
outcome (one transaction: the event, its outbox entry, the visit planned today), progress.

Real SQLCipher profiles; the campaign and its calls are written as a pull writes them (no
outbox); assertions read what the database holds and what the list says.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from havre_common import campaign as rules
from havre_desktop.core import campaign, contacts
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.workspace import Workspace, new_id
from tests.helpers import TEST_NOW, MemoryKeyring, new_workspace, person_values

COLLEAGUE = "00000000-0000-4000-8000-00000000c0de"


def _with_right(ws: Workspace) -> Workspace:
    with ws.store.transaction() as conn:
        conn.execute("UPDATE agents SET register_right = 1")
    return ws


@pytest.fixture
def caller(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[Workspace]:
    """A social worker with the register right (as the server's agent row brings it)."""
    ws, _manager, _recovery = new_workspace(tmp_path / "appels", memory_keyring)
    _with_right(ws)
    with ws.store.transaction():
        ws.write_row(
            "agents",
            {
                "id": COLLEAGUE,
                "display_name": "Claire Martin",
                "role": "travailleur-social",
                "territory_ids": ["nord"],
                "updated_at": ws.clock.now_iso(),
            },
            outbox=False,
        )
    yield ws
    ws.store.close()


def pulled_campaign(ws: Workspace, **overrides: Any) -> str:
    row = {
        "id": new_id(),
        "kind": "canicule",
        "level": "orange",
        "title": "Canicule juillet",
        "territory_ids": ["nord"],
        "starts_on": TEST_NOW.date().isoformat(),
        "retry_delay_min": 60,
        "failed_calls_before_emergency": 2,
        "updated_at": ws.clock.now_iso(),
        **overrides,
    }
    with ws.store.transaction():
        ws.write_row("alert_campaigns", row, outbox=False)
    return str(row["id"])


def pulled_call(
    ws: Workspace,
    campaign_id: str,
    person_id: str,
    rank: int,
    agent_id: str | None = None,
    **kw: Any,
) -> str:
    row = {
        "id": new_id(),
        "campaign_id": campaign_id,
        "person_id": person_id,
        "agent_id": agent_id or ws.agent_id,
        "rank": rank,
        "risk_score": 100 - rank,
        "risk_reasons": ["vit-seul"],
        "assigned_at": ws.clock.now_iso(),
        "updated_at": ws.clock.now_iso(),
        **kw,
    }
    with ws.store.transaction():
        ws.write_row("campaign_calls", row, outbox=False)
    return str(row["id"])


def _person(ws: Workspace, **overrides: object) -> str:
    return str(contacts.create_person(ws, person_values(**overrides))["id"])


def test_the_call_list_in_its_order_with_what_is_needed_to_call(caller: Workspace) -> None:
    campaign_id = pulled_campaign(caller)
    lefevre = _person(
        caller,
        emergency_contacts=[
            {"name": "Sophie Lefèvre", "relation": "fille", "phone": "06 39 98 45 67"}
        ],
        access_notes="Code 1234, 4e étage",
    )
    dupont = _person(caller, family_name="Dupont", given_names="Marcel")
    pulled_call(caller, campaign_id, dupont, 2)
    pulled_call(caller, campaign_id, lefevre, 1)
    rows = campaign.call_list(caller, campaign_id)
    assert [r.name for r in rows] == ["Lefèvre Jeanne", "Dupont Marcel"]
    first = rows[0]
    assert first.phones == ["02 61 91 12 34"]
    assert first.address == "14 rue de la Mare-Rouge, 76620 Le Havre"
    assert first.access_notes == "Code 1234, 4e étage"
    assert first.emergency_contacts[0]["name"] == "Sophie Lefèvre"
    assert first.risk_reasons == ["vit-seul"]
    assert (first.step.code, first.step.label) == ("a-appeler", "À appeler")
    assert first.mine and first.also_called_by == [] and first.attempts == []
    assert [c["id"] for c in campaign.active_campaigns(caller)] == [campaign_id]


def test_journey_7_no_answer_twice_the_daughter_neither_a_visit_planned_today(
    caller: Workspace,
) -> None:
    campaign_id = pulled_campaign(caller)
    lefevre = _person(
        caller,
        emergency_contacts=[
            {"name": "Sophie Lefèvre", "relation": "fille", "phone": "06 39 98 45 67"}
        ],
    )
    call_id = pulled_call(caller, campaign_id, lefevre, 1)
    clock = caller.clock
    first = campaign.record_outcome(caller, call_id, "pas-de-reponse")
    assert first.step.code == "rappeler" and first.planned_visit is None
    assert first.step.not_before == TEST_NOW + timedelta(minutes=60)
    [row] = campaign.call_list(caller, campaign_id)
    # 10:30 UTC is 11:30 in Le Havre in November: the agent reads her own clock.
    assert row.step.label == "Rappeler à partir de 11 h 30" and not row.step.due(clock.now())
    clock.advance(minutes=61)  # type: ignore[attr-defined]
    assert campaign.call_list(caller, campaign_id)[0].step.label == "Rappeler maintenant"
    second = campaign.record_outcome(caller, call_id, "pas-de-reponse")
    assert second.step.code == "appeler-contact-urgence"
    third = campaign.record_outcome(
        caller, call_id, "pas-de-reponse", called_whom="contact-urgence"
    )
    assert third.step.code == "visite-aujourdhui"
    visit = third.planned_visit
    assert visit is not None
    stored = caller.store.query_one("SELECT * FROM planned_contacts WHERE id = ?", (visit["id"],))
    assert stored is not None
    assert (stored["person_id"], stored["kind"], stored["due_on"]) == (
        lefevre,
        "visite",
        caller.clock.today().isoformat(),
    )
    assert stored["reason"].startswith("Campagne « Canicule juillet » : Son contact d'urgence")
    # Three events in the outbox, one per call, and the visit.
    tables = [e["table_name"] for e in caller.outbox_entries()]
    assert tables.count("campaign_outcomes") == 3 and tables.count("planned_contacts") == 1
    nobody = campaign.record_outcome(
        caller, call_id, "pas-de-reponse", called_whom="visite-domicile"
    )
    assert nobody.step.code == "escalade" and nobody.step.urgent
    progress = campaign.local_progress(caller, campaign_id)
    assert (progress.persons, progress.reached, progress.escalated) == (1, 0, 1)
    assert [p["name"] for p in progress.not_reached] == ["Lefèvre Jeanne"]
    assert [p["name"] for p in progress.for_coordinator] == ["Lefèvre Jeanne"]
    [territory] = progress.territories
    assert (territory.territory_id, territory.by_outcome) == ("nord", {"pas-de-reponse": 1})
    assert (territory.escalated, territory.open, territory.reached) == (1, 0, 0)


def test_needs_help_plans_one_visit_today_and_urgent_says_call_15(caller: Workspace) -> None:
    campaign_id = pulled_campaign(caller)
    call_id = pulled_call(caller, campaign_id, _person(caller), 1)
    done = campaign.record_outcome(
        caller, call_id, "besoin-aide", note="Pas d'eau fraîche", urgent=True
    )
    assert done.step.code == "visite-aujourdhui" and rules.CALL_15 in done.step.label
    assert done.planned_visit is not None
    assert done.outcome["note"] == "Pas d'eau fraîche" and done.outcome["urgent"] == 1
    again = campaign.record_outcome(caller, call_id, "besoin-aide")
    assert again.planned_visit is None  # one visit today is enough
    assert caller.store.scalar("SELECT count(*) FROM planned_contacts") == 1
    progress = campaign.local_progress(caller, campaign_id)
    assert (progress.reached, progress.not_reached) == (1, [])
    seen = campaign.record_outcome(caller, call_id, "joint-bien", called_whom="visite-domicile")
    assert seen.step.code == "joint"


def test_bad_input_is_refused_in_french_and_nothing_is_saved(caller: Workspace) -> None:
    campaign_id = pulled_campaign(caller)
    call_id = pulled_call(caller, campaign_id, _person(caller), 1)
    before = caller.pending_changes()
    with pytest.raises(ValidationError) as refused:
        campaign.record_outcome(caller, call_id, "peut-etre")
    assert "Résultat de l'appel" in str(refused.value.errors)
    with pytest.raises(ValidationError) as long_note:
        campaign.record_outcome(caller, call_id, "joint-bien", note="x" * 501)
    assert "500" in str(long_note.value.errors)
    with pytest.raises(ValidationError, match="futur"):
        campaign.record_outcome(
            caller, call_id, "joint-bien", called_at=TEST_NOW + timedelta(hours=1)
        )
    assert caller.store.scalar("SELECT count(*) FROM campaign_outcomes") == 0
    assert caller.pending_changes() == before


def test_a_closed_campaign_takes_no_more_outcomes(caller: Workspace) -> None:
    campaign_id = pulled_campaign(caller, closed_on=TEST_NOW.date().isoformat())
    call_id = pulled_call(caller, campaign_id, _person(caller), 1)
    with pytest.raises(ValidationError, match="close"):
        campaign.record_outcome(caller, call_id, "joint-bien")
    assert campaign.active_campaigns(caller) == []


def test_without_the_register_right_nothing_is_shown_nor_recorded(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    ws, _m, _r = new_workspace(tmp_path / "sans-droit", memory_keyring)
    try:
        with pytest.raises(PermissionDeniedError, match="registre"):
            campaign.active_campaigns(ws)
        with pytest.raises(PermissionDeniedError):
            campaign.record_outcome(ws, new_id(), "joint-bien")
    finally:
        ws.store.close()


def test_a_reassigned_call_shows_to_both_and_a_second_caller_is_shown(caller: Workspace) -> None:
    """The call went from me to Claire Martin: my list shows "réattribuée à Claire Martin";
    an outcome I recorded before (stale device) and hers both count, and the person shows as
    called by two agents."""
    campaign_id = pulled_campaign(caller)
    person = _person(caller)
    call_id = pulled_call(caller, campaign_id, person, 1, agent_id=COLLEAGUE,
                          previous_agent_id=caller.agent_id)  # fmt: skip
    mine = campaign.call_list(caller, campaign_id)
    assert [(r.reassigned_to, r.mine) for r in mine] == [("Claire Martin", False)]
    campaign.record_outcome(caller, call_id, "pas-de-reponse")
    with caller.store.transaction():
        caller.write_row(
            "campaign_outcomes",
            {
                "campaign_id": campaign_id,
                "call_id": call_id,
                "person_id": person,
                "agent_id": COLLEAGUE,
                "called_whom": "personne",
                "outcome": "joint-bien",
                "called_at": caller.clock.now_iso(),
                "created_at": caller.clock.now_iso(),
            },
            outbox=False,
        )
    [row] = campaign.call_list(caller, campaign_id)
    assert row.also_called_by == ["Claire Martin"] and row.step.code == "joint"
    theirs = campaign.call_list(caller, campaign_id, COLLEAGUE)
    assert theirs[0].reassigned_from == "Agent Fictif"
    assert theirs[0].also_called_by == ["Agent Fictif"]
    progress = campaign.local_progress(caller, campaign_id)
    assert [sorted(p["agents"]) for p in progress.called_twice] == [
        ["Agent Fictif", "Claire Martin"]
    ]


def test_a_coordinator_types_a_paper_call_sheet_for_an_agent(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    ws, _m, _r = new_workspace(tmp_path / "coord", memory_keyring, role="coordinateur")
    try:
        _with_right(ws)
        campaign_id = pulled_campaign(ws)
        call_id = pulled_call(ws, campaign_id, _person(ws), 1, agent_id=COLLEAGUE)
        done = campaign.record_outcome(
            ws,
            call_id,
            "joint-bien",
            for_agent_id=COLLEAGUE,
            called_at=TEST_NOW - timedelta(hours=3),
        )
        assert (done.outcome["agent_id"], done.outcome["entered_by"]) == (COLLEAGUE, ws.agent_id)
        assert done.outcome["called_at"] == "2026-11-25T06:30:00.000Z"
    finally:
        ws.store.close()


def test_only_a_coordinator_enters_outcomes_for_another_agent(caller: Workspace) -> None:
    campaign_id = pulled_campaign(caller)
    call_id = pulled_call(caller, campaign_id, _person(caller), 1)
    with pytest.raises(PermissionDeniedError, match="coordinateur"):
        campaign.record_outcome(caller, call_id, "joint-bien", for_agent_id=COLLEAGUE)


def test_outcomes_are_append_only_on_the_device(caller: Workspace) -> None:
    campaign_id = pulled_campaign(caller)
    call_id = pulled_call(caller, campaign_id, _person(caller), 1)
    done = campaign.record_outcome(caller, call_id, "joint-bien")
    with pytest.raises(Exception, match="ajout seulement"), caller.store.transaction() as conn:
        conn.execute(
            "UPDATE campaign_outcomes SET outcome = 'decede' WHERE id = ?", (done.outcome["id"],)
        )


def test_an_anonymised_note_may_be_emptied_and_nothing_else(caller: Workspace) -> None:
    campaign_id = pulled_campaign(caller)
    call_id = pulled_call(caller, campaign_id, _person(caller), 1)
    done = campaign.record_outcome(caller, call_id, "joint-bien", note="Voisine présente")
    with caller.store.transaction() as conn:
        conn.execute("UPDATE campaign_outcomes SET note = NULL WHERE id = ?", (done.outcome["id"],))
    assert (
        caller.store.scalar(
            "SELECT note FROM campaign_outcomes WHERE id = ?", (done.outcome["id"],)
        )
        is None
    )


def test_the_coordinator_records_the_citys_procedure_and_what_was_found(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """Journey 7's end: nobody at the door; the coordinator starts the welfare check (police,
    firefighters) and records it, then what they found: the person leaves the escalations."""
    ws, _m, _r = new_workspace(tmp_path / "coord", memory_keyring, role="coordinateur")
    try:
        _with_right(ws)
        campaign_id = pulled_campaign(ws)
        call_id = pulled_call(ws, campaign_id, _person(ws), 1, agent_id=COLLEAGUE)
        for whom in ("personne", "personne", "contact-urgence", "visite-domicile"):
            campaign.record_outcome(ws, call_id, "pas-de-reponse", called_whom=whom,
                                    for_agent_id=COLLEAGUE)  # fmt: skip
        assert campaign.local_progress(ws, campaign_id).escalated == 1
        # An agent's outcome cannot be "procedure started"; the procedure takes no "no answer".
        with pytest.raises(ValidationError, match="procédure de la Ville seulement"):
            campaign.record_outcome(ws, call_id, "procedure-declenchee")
        with pytest.raises(ValidationError, match="constaté"):
            campaign.record_outcome(ws, call_id, "pas-de-reponse", called_whom="procedure-ville")
        started = campaign.record_outcome(
            ws, call_id, "procedure-declenchee", called_whom="procedure-ville",
            note="Police nationale prévenue, 17",
        )  # fmt: skip
        assert (started.outcome["agent_id"], started.outcome["entered_by"]) == (ws.agent_id, None)
        assert started.step.code == "procedure-en-cours" and started.step.for_coordinator
        # 09:30 UTC on 25 November is 10:30 in Le Havre.
        assert started.step.label.startswith("Procédure de la Ville déclenchée le 25/11 à 10 h 30")
        assert started.planned_visit is None and not started.step.open
        progress = campaign.local_progress(ws, campaign_id)
        assert (progress.escalated, progress.reached) == (1, 0)
        [noted] = progress.for_coordinator
        assert noted["told"] == started.step.label
        found = campaign.record_outcome(ws, call_id, "hospitalise", called_whom="procedure-ville")
        assert (found.step.code, found.step.outcome) == ("termine", "hospitalise")
        progress = campaign.local_progress(ws, campaign_id)
        # Still counted as an escalation (the report's figure), no longer waiting.
        assert (progress.escalated, progress.reached, progress.not_reached) == (1, 1, [])
        assert [e["told"] for e in progress.for_coordinator] == [found.step.label]
        stored = ws.store.query(
            "SELECT called_whom, outcome FROM campaign_outcomes WHERE call_id = ? "
            "AND called_whom = 'procedure-ville' ORDER BY called_at, outcome",
            (call_id,),
        )
        assert {(r["called_whom"], r["outcome"]) for r in stored} == {
            ("procedure-ville", "procedure-declenchee"),
            ("procedure-ville", "hospitalise"),
        }
    finally:
        ws.store.close()


def test_an_agent_cannot_record_the_citys_procedure(caller: Workspace) -> None:
    campaign_id = pulled_campaign(caller)
    call_id = pulled_call(caller, campaign_id, _person(caller), 1)
    with pytest.raises(PermissionDeniedError, match="Seul un coordinateur"):
        campaign.record_outcome(
            caller, call_id, "procedure-declenchee", called_whom="procedure-ville"
        )
    assert caller.store.scalar("SELECT count(*) FROM campaign_outcomes") == 0


def test_a_reception_desks_needs_help_goes_to_the_coordinator(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    """A reception agent with the register right calls; she makes no home visits, so no visit
    is planned on her laptop: the coordinator's progress lists the visit to organise."""
    ws, _m, _r = new_workspace(tmp_path / "accueil", memory_keyring, role="accueil")
    try:
        _with_right(ws)
        campaign_id = pulled_campaign(ws)
        call_id = pulled_call(ws, campaign_id, _person(ws), 1)
        done = campaign.record_outcome(ws, call_id, "besoin-aide", note="Plus d'eau")
        assert done.step.code == "visite-aujourdhui" and done.planned_visit is None
        assert ws.store.scalar("SELECT count(*) FROM planned_contacts") == 0
        [told] = campaign.local_progress(ws, campaign_id).for_coordinator
        assert told["told"].endswith("à organiser (liste tenue par un agent d'accueil)")
    finally:
        ws.store.close()
