"""A verdict recorded on a coordinator's laptop reaches the coordinators of the territories it
concerns and the administrators, with the period it judged and its figures; coordinators of
other territories and social workers never receive it.

A real ``havre-server`` process on loopback, real encrypted profiles (tests/sync fixtures)."""

from __future__ import annotations

import json
from datetime import timedelta

from havre_desktop.core import indicators
from tests.server.support import World
from tests.sync.conftest import MakeLaptop
from tests.sync.support import differences


def test_a_verdict_syncs_to_the_coordinators_of_its_territories(
    laptops: MakeLaptop, world: World
) -> None:
    author = laptops("coordinateur", ("nord",))
    author.sync()  # the catalogue arrives with the first sync
    action = author.ws.store.query_one(
        "SELECT id, territory_ids FROM actions WHERE deleted = 0 AND territory_ids LIKE "
        "'%\"nord\"%' AND territory_ids NOT LIKE '%\"sud\"%' ORDER BY code LIMIT 1"
    )
    assert action is not None
    colleague = laptops("coordinateur", ("nord",))
    elsewhere = laptops("coordinateur", ("sud",))  # a territory the action does not serve
    administrator = laptops("administrateur", ("nord",))
    worker = laptops()
    for laptop in (colleague, elsewhere, administrator, worker):
        laptop.sync()
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
    for laptop in (colleague, elsewhere, administrator, worker):
        laptop.sync()
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
    assert not elsewhere.has("action_evaluations", saved["id"])
    assert administrator.has("action_evaluations", saved["id"])
    review = {r.action_id: r for r in indicators.yearly_review(colleague.ws)}
    assert review[action["id"]].verdict == "arreter"
    # What each device holds is what a full download would give it (the server's scope).
    for laptop in (author, colleague, elsewhere, administrator, worker):
        assert differences(laptop, world) == []
