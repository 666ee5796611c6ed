"""Alert campaigns end to end with real SQLCipher profiles and a real havre-server on loopback:
the coordinator starts a campaign from her laptop, lists reach the agents' laptops, agents
record outcomes offline and sync through cut connections, a reassignment reaches a stale
laptop whose late outcome still counts and shows the person as called by two agents."""

from __future__ import annotations

import pytest

from havre_common.protocol import CampaignReassign, CampaignStart
from havre_desktop.core import campaign, register
from havre_desktop.sync.errors import SyncError
from tests.server.support import World
from tests.sync.conftest import MakeLaptop
from tests.sync.scenario_helpers import new_person
from tests.sync.support import Laptop

TERRITORY = "centre-ouest"


def _enrol(laptop: Laptop, person_id: str) -> None:
    register.enrol(
        laptop.ws,
        person_id,
        {
            "requested_on": "02/10/2026",
            "requested_by": "personne",
            "consent_given": True,
            "notice_how": "remise",
        },
    )


def _start(coordinator: Laptop, agents: list[Laptop]) -> str:
    started = coordinator.engine.start_campaign(
        CampaignStart(
            kind="canicule",
            level="orange",
            title="Canicule (test de synchronisation)",
            territory_ids=[TERRITORY],
            agent_ids=[a.agent_id for a in agents],
            starts_on=coordinator.ws.clock.today().isoformat(),
        )
    )
    return started.campaign_id


def test_lists_reach_the_laptops_outcomes_come_back_through_faults(
    laptops: MakeLaptop, world: World
) -> None:
    coordinator = laptops("coordinateur", (TERRITORY,))
    a = laptops(territories=(TERRITORY,), register_right=True)
    b = laptops(territories=(TERRITORY,), register_right=True)
    daughter = [{"name": "Sophie Durand", "relation": "fille", "phone": "06 39 98 45 67"}]
    mine = [
        new_person(coordinator, family_name=f"Durand{i}", emergency_contacts=daughter)
        for i in range(5)
    ]
    for person in mine:
        _enrol(coordinator, person)
    assert coordinator.sync().rejected == 0
    campaign_id = _start(coordinator, [a, b])
    for laptop in (coordinator, a, b):
        laptop.sync()
    list_a = campaign.call_list(a.ws, campaign_id)
    list_b = campaign.call_list(b.ws, campaign_id)
    on_server = world.server.sql(
        "SELECT count(*) FROM campaign_calls WHERE campaign_id = :c", c=campaign_id
    )[0][0]
    # Each laptop holds its own list, in order, nobody on both; together: everyone.
    ids_a = {r.person_id for r in list_a}
    ids_b = {r.person_id for r in list_b}
    assert not ids_a & ids_b and len(ids_a) + len(ids_b) == on_server
    assert set(mine) <= ids_a | ids_b
    assert [r.rank for r in list_a] == list(range(1, len(list_a) + 1))
    assert all(r.mine and r.name and r.phones for r in list_a)
    assert [c["id"] for c in campaign.active_campaigns(a.ws)] == [campaign_id]
    assert campaign.local_progress(coordinator.ws, campaign_id).persons == on_server

    # A works offline: no answer from her first person; the push's reply is lost (the
    # server committed it), then a cut request: nothing is lost, nothing counted twice.
    first = next(r for r in list_a if r.person_id in mine)
    campaign.record_outcome(a.ws, first.call_id, "pas-de-reponse")
    a.plan.add("push", "drop_reply")
    with pytest.raises(SyncError):
        a.sync()
    campaign.record_outcome(a.ws, first.call_id, "pas-de-reponse", called_at=None)
    a.plan.add("push", "cut_request")
    with pytest.raises(SyncError):
        a.sync()
    assert a.sync().rejected == 0
    assert a.count("outbox") == 0
    stored = world.server.sql(
        "SELECT count(*) FROM campaign_outcomes WHERE call_id = :c", c=first.call_id
    )[0][0]
    assert stored == 2
    steps = {r.call_id: r.step.code for r in campaign.call_list(a.ws, campaign_id)}
    assert steps[first.call_id] == "appeler-contact-urgence"

    # A becomes unreachable; the coordinator gives her open calls to B.
    moved = coordinator.engine.reassign_calls(
        campaign_id, CampaignReassign(from_agent_id=a.agent_id, to_agent_id=b.agent_id)
    )
    assert moved.moved == len(list_a)
    # A's laptop, not synced yet, still calls her first person's daughter: kept and counted.
    campaign.record_outcome(a.ws, first.call_id, "pas-de-reponse", called_whom="contact-urgence")
    assert a.sync().rejected == 0
    seen_by_a = {r.call_id: r for r in campaign.call_list(a.ws, campaign_id)}
    assert seen_by_a[first.call_id].reassigned_to is not None
    assert not seen_by_a[first.call_id].mine
    b.sync()
    on_b = {r.call_id: r for r in campaign.call_list(b.ws, campaign_id)}
    assert first.call_id in on_b and on_b[first.call_id].reassigned_from
    # B sees what A did: a home visit is next.
    assert on_b[first.call_id].step.code == "visite-aujourdhui"
    done = campaign.record_outcome(b.ws, first.call_id, "joint-bien", called_whom="visite-domicile")
    assert done.step.code == "joint"
    assert b.sync().rejected == 0
    after = {r.call_id: r for r in campaign.call_list(b.ws, campaign_id)}
    assert after[first.call_id].also_called_by  # A's calls are shown, not hidden
    progress = coordinator.engine.campaign_progress(campaign_id)
    twice = [p for p in progress.called_twice if p.call_id == first.call_id]
    assert twice and set(twice[0].called_by) == {a.agent_id, b.agent_id}
    coordinator.sync()
    local = campaign.local_progress(coordinator.ws, campaign_id)
    assert (local.persons, local.reached) == (progress.persons, progress.reached)
    assert [p["call_id"] for p in local.called_twice] == [first.call_id]
    figures = coordinator.engine.campaign_daily_figures(campaign_id)
    assert sum(d.calls for d in figures.days) == 4
    closed = coordinator.engine.close_campaign(campaign_id)
    assert closed.reached == progress.reached
    a.sync()
    assert campaign.active_campaigns(a.ws) == []


def test_an_agent_without_the_right_keeps_no_campaign_row(
    laptops: MakeLaptop, world: World
) -> None:
    coordinator = laptops("coordinateur", (TERRITORY,))
    worker = laptops(territories=(TERRITORY,), register_right=True)
    plain = laptops(territories=(TERRITORY,))
    _enrol(coordinator, new_person(coordinator))
    coordinator.sync()
    _start(coordinator, [worker])
    plain.sync()
    for table in ("alert_campaigns", "campaign_calls", "campaign_outcomes"):
        assert plain.count(table) == 0
    assert world.server.sql("SELECT count(*) FROM alert_campaigns")[0][0] >= 1
