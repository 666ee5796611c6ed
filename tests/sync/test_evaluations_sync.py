"""A verdict recorded on a coordinator's laptop reaches the other coordinators, with the period
it judged, the territories concerned and its figures; social workers never receive it.

A real ``havre-server`` process on loopback, real encrypted profiles (tests/sync fixtures)."""

from __future__ import annotations

import json
from datetime import timedelta

from havre_desktop.core import indicators
from tests.server.support import World
from tests.sync.conftest import MakeLaptop
from tests.sync.support import differences


def test_a_verdict_syncs_to_coordinators_with_its_period_and_territories(
    laptops: MakeLaptop, world: World
) -> None:
    author = laptops("coordinateur", ("nord",))
    colleague = laptops("coordinateur", ("nord",))
    worker = laptops()
    for laptop in (author, colleague, worker):
        laptop.sync()  # the catalogue arrives with the first sync
    action = author.ws.store.query_one(
        "SELECT id, territory_ids FROM actions WHERE deleted = 0 AND territory_ids LIKE "
        "'%\"nord\"%' ORDER BY code LIMIT 1"
    )
    assert action is not None
    until = author.ws.clock.today()
    since = until - timedelta(days=90)
    saved = indicators.record_verdict(
        author.ws,
        action["id"],
        since,
        until,
        {
            "verdict": "arreter",
            "comment": "Trop peu de participants cet automne.",
            "participants": 3,
        },
    )
    assert author.sync().pushed == 1
    colleague.sync()
    worker.sync()
    received = colleague.row("action_evaluations", saved["id"])
    assert received is not None
    assert received["verdict"] == "arreter"
    assert received["comment"] == "Trop peu de participants cet automne."
    assert (received["period_start"], received["period_end"]) == (
        since.isoformat(),
        until.isoformat(),
    )
    assert sorted(json.loads(received["territory_ids"])) == sorted(
        json.loads(action["territory_ids"])
    )
    assert json.loads(received["indicators"])["periode"] == [since.isoformat(), until.isoformat()]
    assert not worker.has("action_evaluations", saved["id"])
    review = {r.action_id: r for r in indicators.yearly_review(colleague.ws)}
    assert review[action["id"]].verdict == "arreter"
    for laptop in (author, colleague, worker):
        assert differences(laptop, world) == []
