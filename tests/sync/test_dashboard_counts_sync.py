"""The dashboard's count tables (migration 0013) after what a sync brings: rows pulled from
another laptop, a person moving territory, a file anonymised at the end of its retention
period, a person erased (RGPD). After each, on every laptop, the tables equal a recount from
the raw tables (tests/core/test_dashboard_counts.py) and the dashboard shows the figures.

A real ``havre-server`` process on loopback, real encrypted profiles (tests/sync fixtures).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from havre_common.protocol import API_PREFIX
from havre_desktop.core import contacts, indicators, visits
from havre_desktop.core.indicators import Filters
from tests.core.test_dashboard_counts import assert_exact
from tests.server.support import World, person_fields, visit_fields
from tests.sync.conftest import MakeLaptop
from tests.sync.scenario_helpers import log_visit, new_person


def seq_of(laptop_ws: object, person_id: str) -> int | None:
    row = laptop_ws.store.query_one(  # type: ignore[attr-defined]
        "SELECT seq FROM contacts WHERE id = ?", (person_id,)
    )
    return None if row is None else int(row["seq"])


def test_the_counts_follow_what_syncs(laptops: MakeLaptop, world: World) -> None:
    worker = laptops(territories=("sud",))
    coordinator = laptops("coordinateur", ("sud", "nord"))
    worker.sync()  # the catalogue arrives with the first sync
    offered = [
        str(r["id"])
        for r in worker.ws.store.query(
            "SELECT id FROM actions WHERE deleted = 0 ORDER BY code LIMIT 2"
        )
    ]
    assert len(offered) == 2
    moving, erased = new_person(worker), new_person(worker)
    for person in (moving, erased):
        log_visit(worker, person, need_ids=["isolement", "sante"], proposed_action_ids=offered)
        visits.record_handout(worker.ws, offered[:1], person_id=person)
    # A file with no contact for three years (written by another device at the time).
    desk = world.agent("travailleur-social", ["sud"])
    long_ago = (worker.clock.now() - timedelta(days=3 * 365)).strftime("%Y-%m-%dT%H:%M:00.000Z")
    retired = str(uuid.uuid4())
    old_visit = str(uuid.uuid4())
    for table, row_id, fields in (
        ("contacts", retired, person_fields("sud", created_at=long_ago, updated_at=long_ago)),
        (
            "visits",
            old_visit,
            visit_fields(
                retired,
                desk.agent_id,
                occurred_at=long_ago,
                proposed_action_ids=offered[1:],
                created_at=long_ago,
                updated_at=long_ago,
            ),
        ),
    ):
        result = desk.push(desk.mutation(table, row_id, "insert", {**fields, "id": row_id}))[0]
        assert result["status"] == "applied", result
    assert_exact(worker.ws, "written on the worker's laptop")
    worker.sync()
    coordinator.sync()
    tables = assert_exact(coordinator.ws, "pulled by the coordinator")
    assert len(tables["dashboard_proposals"]) == 5  # 2 persons x 2 actions, 1 long ago

    today = coordinator.ws.clock.today()
    recent = Filters(today - timedelta(days=30), today, ("sud",))
    board = indicators.dashboard(coordinator.ws, recent)
    assert {r.action_id: (r.proposed, r.taken_up) for r in board.actions} == {
        offered[0]: (2, 2),
        offered[1]: (2, 0),
    }

    # She moves to Nord (the coordinator's edit): her counts go with her, and the worker's
    # laptop, which no longer holds her file, no longer counts her.
    contacts.update(coordinator.ws, moving, {"territory_id": "nord"})
    assert_exact(coordinator.ws, "moved on the coordinator's laptop")
    coordinator.sync()
    worker.sync()
    tables = assert_exact(worker.ws, "her file left the worker's laptop")
    assert seq_of(worker.ws, moving) is None
    assert {
        r.action_id: r.proposed for r in indicators.dashboard(coordinator.ws, recent).actions
    } == {
        offered[0]: 1,
        offered[1]: 1,
    }

    # An old file anonymised at the end of its retention period: counts stay.
    before = assert_exact(coordinator.ws, "before the anonymisation")
    response = world.client.post(
        f"{API_PREFIX}/admin/retention/anonymise",
        json={"person_ids": [retired]},
        headers=world.admin.headers(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["anonymised"] == [retired], response.json()
    coordinator.sync()
    assert coordinator.row("contacts", retired)["anonymised_on"]  # type: ignore[index]
    assert assert_exact(coordinator.ws, "a file anonymised") == before

    # Erased at her request: her rows leave every laptop, and her counts with them.
    gone = seq_of(coordinator.ws, erased)
    response = world.client.post(
        f"{API_PREFIX}/admin/persons/{erased}/erase",
        json={"reason": "demande-personne"},
        headers=world.admin.headers(),
    )
    assert response.status_code == 200, response.text
    for laptop in (coordinator, worker):
        laptop.sync()
        tables = assert_exact(laptop.ws, "a person erased")
        assert seq_of(laptop.ws, erased) is None
    tables = assert_exact(coordinator.ws, "after the erasure")
    assert not any(key[2] == gone for key in tables["dashboard_takeups"])
    assert {
        r.action_id: r.proposed for r in indicators.dashboard(coordinator.ws, recent).actions
    } == {}
