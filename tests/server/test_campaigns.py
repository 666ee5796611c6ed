"""Alert campaigns on a real server process (SQLite and PostgreSQL): call lists built from the
register, who receives them, outcomes pushed (a stale device's too), reassignment, progress,
closing and the daily figures; who may do what, with French messages.

The server is shared by the tests of a session (each makes its own agents): a campaign also
takes the persons other tests enrolled in its territory, so the assertions name this test's
persons, and compare the lists with what the database says is on the register.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tests.server.support import API_PREFIX, Device, Replica, World, iso, new_person

TODAY = iso()[:10]


def enrol(device: Device, person_id: str, **overrides: Any) -> str:
    enrolment_id = str(uuid.uuid4())
    fields = {
        "id": enrolment_id,
        "person_id": person_id,
        "requested_on": "2026-06-01",
        "enrolled_on": "2026-06-01",
        "basis": "65-plus",
        "requested_by": "personne",
        "consent_given": True,
        "consent_date": "2026-06-01",
        "floor": 4,
        "lift": False,
        "updated_at": "2026-06-01T10:00:00Z",
        **overrides,
    }
    result = device.push(device.mutation("register_enrolments", enrolment_id, "insert", fields))[0]
    assert result["status"] == "applied", result
    return enrolment_id


def start(
    world: World, who: Device, agents: list[Device], territory: str, **kw: Any
) -> httpx.Response:
    body = {
        "kind": "canicule",
        "level": "orange",
        "title": "Canicule de juillet",
        "territory_ids": [territory],
        "agent_ids": [a.agent_id for a in agents],
        "starts_on": TODAY,
        **kw,
    }
    return world.client.post(f"{API_PREFIX}/campaigns", json=body, headers=who.headers())


def outcome(device: Device, call: dict[str, Any], result: str, **kw: Any) -> dict[str, Any]:
    row_id = str(uuid.uuid4())
    fields = {
        "id": row_id,
        "campaign_id": call["campaign_id"],
        "call_id": call["id"],
        "person_id": call["person_id"],
        "agent_id": device.agent_id,
        "called_whom": "personne",
        "outcome": result,
        "called_at": iso(),
        "created_at": iso(),
        **kw,
    }
    return device.push(device.mutation("campaign_outcomes", row_id, "insert", fields))[0]


def calls_of(replica: Replica, campaign_id: str) -> dict[str, dict[str, Any]]:
    return {
        row_id: fields
        for (table, row_id), fields in replica.rows.items()
        if table == "campaign_calls" and fields["campaign_id"] == campaign_id
    }


def test_lists_cover_the_register_once_each_and_travel_to_their_agents(world: World) -> None:
    coordinator = world.agent("coordinateur", ["centre-est"])
    a = world.agent("travailleur-social", ["centre-est"], register_right=True)
    b = world.agent("travailleur-social", ["centre-est"], register_right=True)
    mine = [new_person(coordinator, "centre-est", family_name=f"Martin{i}") for i in range(6)]
    for person in mine:
        enrol(coordinator, person)
    # Not on the register now: a person who objected, one never enrolled.
    objected = new_person(coordinator, "centre-est")
    enrol(coordinator, objected, requested_by="tiers", requester_name="Paul Martin",
          requester_relation="fils", written_request=True, consent_given=False,
          consent_date=None, objected_on="2026-06-05", status="opposee")  # fmt: skip
    never = new_person(coordinator, "centre-est")
    response = start(world, coordinator, [a, b], "centre-est")
    assert response.status_code == 201, response.text
    started = response.json()
    campaign_id = started["campaign_id"]
    rows = world.server.sql(
        "SELECT person_id, agent_id, rank FROM campaign_calls WHERE campaign_id = :c",
        c=campaign_id,
    )
    persons = [r[0] for r in rows]
    # No person on two lists; every person on the register of the territory on one.
    assert len(persons) == len(set(persons)) == started["persons"]
    enrolled = {
        r[0]
        for r in world.server.sql(
            "SELECT e.person_id FROM register_enrolments e JOIN contacts c ON c.id = e.person_id "
            "WHERE c.territory_id = 'centre-est' AND c.deleted = 0 AND e.deleted = 0 "
            "AND e.status = 'inscrite' AND e.removed_on IS NULL AND e.objected_on IS NULL"
        )
    }
    assert set(persons) == enrolled
    assert set(mine) <= enrolled and objected not in enrolled and never not in enrolled
    sizes = sorted(entry["calls"] for entry in started["lists"])
    assert sizes[-1] - sizes[0] <= 1  # balanced
    # Each agent receives her own list, the campaign, nothing of the other's.
    seen_a = Replica(a).sync()
    seen_b = Replica(b).sync()
    calls_a, calls_b = calls_of(seen_a, campaign_id), calls_of(seen_b, campaign_id)
    assert {c["agent_id"] for c in calls_a.values()} == {a.agent_id}
    assert len(calls_a) + len(calls_b) == len(persons) and not set(calls_a) & set(calls_b)
    assert seen_a.get("alert_campaigns", campaign_id)["level"] == "orange"
    ranks = sorted(c["rank"] for c in calls_a.values())
    assert ranks == list(range(1, len(calls_a) + 1))
    # Most at risk first: the score never rises down the list.
    ordered = sorted(calls_a.values(), key=lambda c: c["rank"])
    assert [c["risk_score"] for c in ordered] == sorted(
        (c["risk_score"] for c in ordered), reverse=True
    )
    assert "etage-sans-ascenseur" in ordered[0]["risk_reasons"]
    # The coordinator's device holds all of them; an agent without the right, none.
    assert len(calls_of(Replica(coordinator).sync(), campaign_id)) == len(persons)
    plain = Replica(world.agent("travailleur-social", ["centre-est"])).sync()
    assert calls_of(plain, campaign_id) == {} and not plain.has("alert_campaigns", campaign_id)
    # Audited, ids and counts only.
    [(detail,)] = world.server.sql(
        "SELECT detail FROM audit_log WHERE event = 'campagne-lancee' AND entity_id = :c",
        c=campaign_id,
    )
    assert '"personnes":' in detail and "Martin" not in detail


def test_outcomes_reassignment_and_a_stale_device(world: World) -> None:
    coordinator = world.agent("coordinateur", ["sud"])
    a = world.agent("travailleur-social", ["sud"], register_right=True)
    b = world.agent("travailleur-social", ["sud"], register_right=True)
    for _ in range(4):
        enrol(coordinator, new_person(coordinator, "sud"))
    campaign_id = start(world, coordinator, [a], "sud").json()["campaign_id"]
    replica_a = Replica(a).sync()
    calls = sorted(calls_of(replica_a, campaign_id).values(), key=lambda c: c["rank"])
    first, second = calls[0], calls[1]
    assert outcome(a, first, "joint-bien")["status"] == "applied"
    # B has no such call: refused with its reason.
    refused = outcome(b, second, "joint-bien")
    assert refused["status"] == "rejected" and "jamais été attribué" in refused["reason"]
    # A is unreachable: the coordinator moves her open calls to B.
    moved = world.client.post(
        f"{API_PREFIX}/campaigns/{campaign_id}/reassign",
        json={"from_agent_id": a.agent_id, "to_agent_id": b.agent_id},
        headers=coordinator.headers(),
    )
    assert moved.status_code == 200, moved.text
    total = world.server.sql(
        "SELECT count(*) FROM campaign_calls WHERE campaign_id = :c", c=campaign_id
    )[0][0]
    assert moved.json()["moved"] == total - 1  # the reached person stays with A
    replica_b = Replica(b).sync()
    on_b = calls_of(replica_b, campaign_id)
    assert second["id"] in on_b and on_b[second["id"]]["previous_agent_id"] == a.agent_id
    # A's device learns it was reassigned (it keeps the row, now B's).
    replica_a.sync()
    assert replica_a.get("campaign_calls", second["id"])["agent_id"] == b.agent_id
    # A's laptop, offline, had called her before it knew: still accepted and counted.
    assert outcome(a, second, "pas-de-reponse")["status"] == "applied"
    assert outcome(b, second, "joint-bien")["status"] == "applied"
    progress = world.client.get(
        f"{API_PREFIX}/campaigns/{campaign_id}/progress", headers=coordinator.headers()
    ).json()
    twice = [p for p in progress["called_twice"] if p["call_id"] == second["id"]]
    assert twice and set(twice[0]["called_by"]) == {a.agent_id, b.agent_id}
    assert progress["reached"] >= 2
    assert all(p["person_id"] != second["person_id"] for p in progress["not_reached"])
    # B's device holds the outcomes of her calls, A's included.
    outcomes_b = [f for (t, _i), f in replica_b.sync().rows.items() if t == "campaign_outcomes"]
    assert {o["agent_id"] for o in outcomes_b if o["call_id"] == second["id"]} == {
        a.agent_id,
        b.agent_id,
    }


def test_escalation_progress_daily_figures_and_close(world: World) -> None:
    coordinator = world.agent("coordinateur", ["est"])
    a = world.agent("travailleur-social", ["est"], register_right=True)
    enrol(coordinator, new_person(coordinator, "est", family_name="Lefèvre"))
    campaign_id = start(world, coordinator, [a], "est", retry_delay_min=5).json()["campaign_id"]
    calls = sorted(calls_of(Replica(a).sync(), campaign_id).values(), key=lambda c: c["rank"])
    call = calls[0]
    for whom in ("personne", "personne", "contact-urgence", "visite-domicile"):
        assert outcome(a, call, "pas-de-reponse", called_whom=whom)["status"] == "applied"
    headers = coordinator.headers()
    progress = world.client.get(f"{API_PREFIX}/campaigns/{campaign_id}/progress", headers=headers)
    assert progress.status_code == 200
    body = progress.json()
    [escalated] = [p for p in body["for_coordinator"] if p["call_id"] == call["id"]]
    assert escalated["step"] == "escalade" and escalated["urgent"]
    assert "police ou pompiers" in escalated["label"]
    assert any(p["call_id"] == call["id"] for p in body["not_reached"])
    [territory] = body["territories"]
    assert territory["territory_id"] == "est" and territory["escalated"] >= 1
    # The escalation is the coordinator's: an agent cannot record the City's procedure.
    refused = outcome(a, call, "procedure-declenchee", called_whom="procedure-ville")
    assert refused["status"] == "rejected" and "Seul un coordinateur" in refused["reason"]
    wrong = outcome(coordinator, call, "refuse-appels", called_whom="procedure-ville")
    assert wrong["status"] == "rejected" and "constaté" in wrong["reason"]
    started = outcome(coordinator, call, "procedure-declenchee", called_whom="procedure-ville")
    assert started["status"] == "applied", started
    body = world.client.get(
        f"{API_PREFIX}/campaigns/{campaign_id}/progress", headers=headers
    ).json()
    [awaited] = [p for p in body["for_coordinator"] if p["call_id"] == call["id"]]
    assert awaited["step"] == "procedure-en-cours" and "résultat attendu" in awaited["label"]
    assert body["territories"][0]["escalated"] >= 1
    # The agent's laptop learns it (the coordinator's event reaches the call's holder).
    assert any(
        f["outcome"] == "procedure-declenchee"
        for (t, _i), f in Replica(a).sync().rows.items()
        if t == "campaign_outcomes"
    )
    daily = world.client.get(f"{API_PREFIX}/campaigns/{campaign_id}/daily", headers=headers).json()
    today = [d for d in daily["days"] if d["day"] == TODAY]
    assert today and today[0]["calls"] >= 4 and today[0]["emergency_contact_calls"] >= 1
    assert today[0]["home_visits"] >= 1 and today[0]["escalations"] >= 1
    # The procedure is not a call: four calls for this person, the escalation counted once.
    assert today[0]["calls"] == sum(d["calls"] for d in daily["days"] if d["day"] == TODAY)
    found = outcome(coordinator, call, "hospitalise", called_whom="procedure-ville")
    assert found["status"] == "applied"
    body = world.client.get(
        f"{API_PREFIX}/campaigns/{campaign_id}/progress", headers=headers
    ).json()
    assert all(p["call_id"] != call["id"] for p in body["not_reached"])
    [ended] = [p for p in body["for_coordinator"] if p["call_id"] == call["id"]]
    assert (ended["step"], ended["outcome"]) == ("termine", "hospitalise")
    after = world.client.get(f"{API_PREFIX}/campaigns/{campaign_id}/daily", headers=headers)
    [day] = [d for d in after.json()["days"] if d["day"] == TODAY]
    assert day["hospitalised"] >= 1 and day["calls"] == today[0]["calls"]
    closed = world.client.post(
        f"{API_PREFIX}/campaigns/{campaign_id}/close", json={}, headers=headers
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_on"] == TODAY and closed.json()["escalated"] >= 1
    again = world.client.post(
        f"{API_PREFIX}/campaigns/{campaign_id}/close", json={}, headers=headers
    )
    assert again.status_code == 409 and "déjà close" in again.json()["message"]
    late = world.client.post(
        f"{API_PREFIX}/campaigns/{campaign_id}/reassign",
        json={"from_agent_id": a.agent_id, "to_agent_id": coordinator.agent_id},
        headers=headers,
    )
    assert late.status_code == 409 and "close" in late.json()["message"]
    assert Replica(a).sync().get("alert_campaigns", campaign_id)["closed_on"] == TODAY


def test_who_may_start_and_follow_a_campaign(world: World) -> None:
    coordinator = world.agent("coordinateur", ["nord"])
    worker = world.agent("travailleur-social", ["nord"], register_right=True)
    plain = world.agent("travailleur-social", ["nord"])
    # A social worker starts nothing.
    refused = start(world, worker, [worker], "nord")
    assert refused.status_code == 403 and "coordinateurs" in refused.json()["message"]
    # A coordinator without the register right neither.
    no_right = world.agent("coordinateur", ["nord"], register_right=False)
    assert start(world, no_right, [worker], "nord").status_code == 403
    # A coordinator only her territories.
    other = start(world, coordinator, [worker], "sud")
    assert other.status_code == 403 and "ses territoires" in other.json()["message"]
    # A list goes only to an agent with the register right…
    wrong = start(world, coordinator, [plain], "nord")
    assert wrong.status_code == 422 and "accès au registre" in wrong.json()["message"]
    # …and every territory needs an agent working there.
    both = world.agent("coordinateur", ["nord", "est"])
    uncovered = start(world, both, [worker], "nord", territory_ids=["nord", "est"])
    assert uncovered.status_code == 422 and "Le Havre Est" in uncovered.json()["message"]
    ok = start(world, coordinator, [worker], "nord")
    assert ok.status_code == 201, ok.text
    campaign_id = ok.json()["campaign_id"]
    # Progress: not for a social worker, not for a coordinator of another territory.
    for who in (worker, world.agent("coordinateur", ["sud"])):
        seen = world.client.get(
            f"{API_PREFIX}/campaigns/{campaign_id}/progress", headers=who.headers()
        )
        assert seen.status_code == 403
    unknown = world.client.get(
        f"{API_PREFIX}/campaigns/{uuid.uuid4()}/progress", headers=coordinator.headers()
    )
    assert unknown.status_code == 404
    # Devices never write campaigns or lists.
    row_id = str(uuid.uuid4())
    pushed = coordinator.push(
        coordinator.mutation("campaign_calls", row_id, "insert", {"id": row_id})
    )[0]
    assert pushed["status"] == "rejected" and "serveur" in pushed["reason"]


def test_the_operator_runs_a_campaign_from_the_server_shell(world: World) -> None:
    coordinator = world.agent("coordinateur", ["centre-ouest"])
    login = world.create_agent("travailleur-social", ["centre-ouest"], register_right=True)
    enrol(coordinator, new_person(coordinator, "centre-ouest"))
    out = world.server.cli(
        "campaign", "start", "--kind", "grand-froid", "--level", "jaune", "--title",
        "Grand froid de janvier", "--territory", "centre-ouest", "--agent", login,
        "--starts-on", TODAY,
    )  # fmt: skip
    assert out.startswith("Campagne ") and "à appeler, 1 liste." in out
    campaign_id = out.split()[1]
    progress = json.loads(world.server.cli("campaign", "progress", campaign_id))
    assert progress["persons"] >= 1 and progress["reached"] == 0
    daily = json.loads(world.server.cli("campaign", "daily", campaign_id))
    assert daily["days"][0]["day"] == TODAY
    closed = world.server.cli("campaign", "close", campaign_id)
    assert closed.startswith(f"Campagne close le {TODAY} : 0 jointes sur")
    refused = world.server.cli("campaign", "close", campaign_id, check=False)
    assert "déjà close" in refused


def test_a_paper_call_sheet_typed_by_the_coordinator_and_no_impersonation(world: World) -> None:
    coordinator = world.agent("coordinateur", ["nord"])
    paper = world.agent("travailleur-social", ["nord"], register_right=True)  # no laptop
    other = world.agent("travailleur-social", ["nord"], register_right=True)
    enrol(coordinator, new_person(coordinator, "nord"))
    campaign_id = start(world, coordinator, [paper], "nord").json()["campaign_id"]
    calls = calls_of(Replica(coordinator).sync(), campaign_id)
    call = next(iter(calls.values()))
    # The coordinator types the sheet: the agent who called, herself as who entered it.
    typed = outcome(coordinator, call, "joint-bien", agent_id=paper.agent_id,
                    entered_by=coordinator.agent_id)  # fmt: skip
    assert typed["status"] == "applied", typed
    # Another agent cannot write an outcome in a colleague's name, nor claim to be typing.
    for fields in ({"agent_id": paper.agent_id}, {"entered_by": other.agent_id}):
        refused = outcome(other, call, "joint-bien", **fields)
        assert refused["status"] == "rejected" and "feuille d'appels papier" in refused["reason"]
    # An outcome that does not match its call (another person) is refused.
    wrong = outcome(paper, {**call, "person_id": str(uuid.uuid4())}, "joint-bien")
    assert wrong["status"] == "rejected" and "ne correspond pas" in wrong["reason"]
    # Never changed once written.
    row_id = str(uuid.uuid4())
    changed = coordinator.push(
        coordinator.mutation("campaign_outcomes", row_id, "update", {"note": "x"}, base_version=1)
    )[0]
    assert changed["status"] == "rejected" and "ne se modifie pas" in changed["reason"]


def test_a_second_reassignment_takes_the_call_off_the_first_holders_device(world: World) -> None:
    coordinator = world.agent("coordinateur", ["centre-ouest"])
    a, b, c = (
        world.agent("travailleur-social", ["centre-ouest"], register_right=True) for _ in range(3)
    )
    enrol(coordinator, new_person(coordinator, "centre-ouest"))
    campaign_id = start(world, coordinator, [a], "centre-ouest").json()["campaign_id"]
    seen_a = Replica(a).sync()
    call = next(iter(calls_of(seen_a, campaign_id).values()))
    mine = outcome(a, call, "pas-de-reponse")
    assert mine["status"] == "applied"

    def move(source: Device, target: Device) -> None:
        reply = world.client.post(
            f"{API_PREFIX}/campaigns/{campaign_id}/reassign",
            json={"from_agent_id": source.agent_id, "to_agent_id": target.agent_id,
                  "call_ids": [call["id"]]},
            headers=coordinator.headers(),
        )  # fmt: skip
        assert reply.status_code == 200, reply.text

    move(a, b)
    seen_b = Replica(b).sync()
    assert seen_b.has("campaign_calls", call["id"])
    theirs = outcome(b, call, "pas-de-reponse")
    assert theirs["status"] == "applied"
    seen_a.sync()
    assert seen_a.has("campaign_calls", call["id"])  # reassigned to B, shown as such
    move(b, c)
    seen_a.sync()
    own = [k for (t, k) in seen_a.rows if t == "campaign_outcomes"]
    assert not seen_a.has("campaign_calls", call["id"])
    assert not any(seen_a.get("campaign_outcomes", k)["agent_id"] == b.agent_id for k in own)
    assert any(seen_a.get("campaign_outcomes", k)["agent_id"] == a.agent_id for k in own)
    # A fresh download says the same; B (former holder) and C (holder) keep it all.
    assert not Replica(a).sync().has("campaign_calls", call["id"])
    for holder in (b, c):
        view = Replica(holder).sync()
        assert view.has("campaign_calls", call["id"])
        assert {f["agent_id"] for (t, _k), f in view.rows.items() if t == "campaign_outcomes"} == {
            a.agent_id,
            b.agent_id,
        }
    # A's stale device may still send an outcome she recorded before: it counts.
    assert outcome(a, call, "pas-de-reponse", called_whom="contact-urgence")["status"] == "applied"


def test_an_open_campaign_keeps_its_persons_files_active(world: World) -> None:
    """Retention: a person removed from the register while a campaign is still calling her
    stays in the active base until the campaign closes (the contract's rule, read by the
    server's retention review)."""
    from havre_server import retention

    coordinator = world.agent("coordinateur", ["sud"])
    worker = world.agent("travailleur-social", ["sud"], register_right=True)
    person = new_person(coordinator, "sud")
    enrolment = enrol(coordinator, person)
    campaign_id = start(world, coordinator, [worker], "sud").json()["campaign_id"]
    removed = coordinator.push(
        coordinator.mutation(
            "register_enrolments",
            enrolment,
            "update",
            {"status": "radiee", "removed_on": "2026-06-02", "updated_at": iso()},
            base_version=1,
        )
    )[0]
    assert removed["status"] == "applied", removed

    def kept() -> dict[str, str]:
        with world.server.engine.connect() as conn:
            return retention.kept_active(conn, TODAY)

    assert kept().get(person) == "campagne d'alerte en cours"
    closed = world.client.post(
        f"{API_PREFIX}/campaigns/{campaign_id}/close", json={}, headers=coordinator.headers()
    )
    assert closed.status_code == 200
    assert person not in kept()


def test_reassigned_calls_take_their_place_by_risk(world: World) -> None:
    """A's calls moved to B go where their risk puts them on B's list (not at its end): the
    whole list stays most at risk first, ranked 1 to n, and B's device receives the new
    ranks."""
    coordinator = world.agent("coordinateur", ["nord"])
    a = world.agent("travailleur-social", ["nord"], register_right=True)
    b = world.agent("travailleur-social", ["nord"], register_right=True)
    for i in range(6):  # two levels of risk: 4th floor without a lift, or ground floor
        enrol(coordinator, new_person(coordinator, "nord"), floor=4 if i % 2 else 0)
    campaign_id = start(world, coordinator, [a, b], "nord").json()["campaign_id"]

    def scores_by_rank(agent: Device) -> list[tuple[int, int]]:
        rows = world.server.sql(
            "SELECT rank, risk_score FROM campaign_calls WHERE campaign_id = :c "
            "AND agent_id = :a ORDER BY rank",
            c=campaign_id,
            a=agent.agent_id,
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    before_b = scores_by_rank(b)
    moved_scores = [score for _r, score in scores_by_rank(a)]
    assert max(moved_scores) > min(score for _r, score in before_b)  # they interleave
    replica_b = Replica(b).sync()
    moved = world.client.post(
        f"{API_PREFIX}/campaigns/{campaign_id}/reassign",
        json={"from_agent_id": a.agent_id, "to_agent_id": b.agent_id},
        headers=coordinator.headers(),
    )
    assert moved.status_code == 200, moved.text
    after = scores_by_rank(b)
    assert [rank for rank, _s in after] == list(range(1, len(before_b) + len(moved_scores) + 1))
    assert [score for _r, score in after] == sorted((s for _r, s in after), reverse=True)
    # B's device holds the same order (the calls that moved down came with their new rank).
    on_b = calls_of(replica_b.sync(), campaign_id)
    assert sorted((c["rank"], c["risk_score"]) for c in on_b.values()) == after


def test_a_visit_needed_on_a_reception_desks_list_is_shown_to_the_coordinator(
    world: World,
) -> None:
    coordinator = world.agent("coordinateur", ["centre-ouest"])
    desk = world.agent("accueil", ["centre-ouest"], register_right=True)
    enrol(coordinator, new_person(coordinator, "centre-ouest"))
    campaign_id = start(world, coordinator, [desk], "centre-ouest").json()["campaign_id"]
    call = sorted(calls_of(Replica(desk).sync(), campaign_id).values(), key=lambda c: c["rank"])[0]
    assert outcome(desk, call, "besoin-aide")["status"] == "applied"
    body = world.client.get(
        f"{API_PREFIX}/campaigns/{campaign_id}/progress", headers=coordinator.headers()
    ).json()
    [told] = [p for p in body["for_coordinator"] if p["call_id"] == call["id"]]
    assert told["step"] == "visite-aujourdhui"
    assert told["label"].endswith("à organiser (liste tenue par un agent d'accueil)")
