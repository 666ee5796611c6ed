"""The alert campaign's shared rules (havre_common.campaign): the next step of a call, the risk
score and the split of the register into call lists, as examples and as properties."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from havre_common import campaign as c
from havre_common import contract

T0 = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)
RULES = c.CampaignRules()


def attempt(
    outcome: str, whom: str = c.PERSON, minutes: int = 0, urgent: bool = False
) -> c.Attempt:
    return c.Attempt(outcome, whom, T0 + timedelta(minutes=minutes), urgent)


def test_a_person_not_called_yet_is_to_call() -> None:
    step = c.next_step([], RULES, T0)
    assert (step.code, step.label, step.reached, step.open) == (
        "a-appeler",
        "À appeler",
        False,
        True,
    )


def test_no_answer_twice_then_the_emergency_contact_then_a_visit_then_escalation() -> None:
    """Journey 7: Mme Lefèvre does not answer twice; her daughter neither; a visit is planned,
    nobody at the door: the coordinator's escalation."""
    first = [attempt(c.NO_ANSWER)]
    step = c.next_step(first, RULES, T0 + timedelta(minutes=30))
    assert step.code == "rappeler"
    assert step.not_before == T0 + timedelta(minutes=60)
    assert step.label == "Rappeler à partir de 12 h 00"  # 10:00 UTC, in July
    assert not step.due(T0 + timedelta(minutes=59)) and step.due(T0 + timedelta(minutes=60))
    assert c.next_step(first, RULES, T0 + timedelta(hours=2)).label == "Rappeler maintenant"
    second = [*first, attempt(c.NO_ANSWER, minutes=70)]
    step = c.next_step(second, RULES, T0 + timedelta(minutes=71))
    assert step.code == "appeler-contact-urgence"
    assert step.label == "2 appels sans réponse : appelez son contact d'urgence"
    third = [*second, attempt(c.NO_ANSWER, c.EMERGENCY_CONTACT, 75)]
    step = c.next_step(third, RULES, T0 + timedelta(minutes=76))
    assert step.code == "visite-aujourdhui"
    assert step.label == "Son contact d'urgence ne répond pas : visite à domicile aujourd'hui"
    fourth = [*third, attempt(c.NO_ANSWER, c.HOME_VISIT, 300)]
    step = c.next_step(fourth, RULES, T0 + timedelta(minutes=301))
    assert step.code == "escalade" and step.urgent and step.for_coordinator
    assert "police ou pompiers" in step.label and "appelez le 15" in step.label
    assert step.failed_calls == 4 and not step.open


def test_without_an_emergency_contact_the_visit_comes_after_the_failed_calls() -> None:
    two = [attempt(c.NO_ANSWER), attempt(c.NO_ANSWER, minutes=61)]
    step = c.next_step(two, RULES, T0 + timedelta(hours=2), has_emergency_contact=False)
    assert step.code == "visite-aujourdhui"
    assert step.label.startswith("2 appels sans réponse et aucun contact d'urgence")


def test_the_campaign_settings_drive_the_delay_and_the_count() -> None:
    rules = c.CampaignRules.from_row({"retry_delay_min": 30, "failed_calls_before_emergency": 3})
    assert rules == c.CampaignRules(timedelta(minutes=30), 3)
    two = [attempt(c.NO_ANSWER), attempt(c.NO_ANSWER, minutes=31)]
    step = c.next_step(two, rules, T0 + timedelta(minutes=40))
    assert step.code == "rappeler" and step.not_before == T0 + timedelta(minutes=61)
    assert c.CampaignRules.from_row({}) == RULES


def test_needs_help_plans_a_visit_and_the_visit_ends_it() -> None:
    helped = [attempt("besoin-aide")]
    step = c.next_step(helped, RULES, T0)
    assert (step.code, step.reached) == ("visite-aujourdhui", True)
    assert step.label == "Besoin d'aide : visite à domicile aujourd'hui"
    seen = [*helped, attempt("joint-bien", c.HOME_VISIT, 200)]
    assert c.next_step(seen, RULES, T0).code == "joint"
    nobody = [*helped, attempt(c.NO_ANSWER, c.HOME_VISIT, 200)]
    assert c.next_step(nobody, RULES, T0).code == "escalade"


def test_ending_outcomes_end_the_calls_and_some_are_for_the_coordinator() -> None:
    for outcome in ("hospitalise", "absent", "refuse-appels", "decede"):
        step = c.next_step([attempt(c.NO_ANSWER), attempt(outcome, minutes=70)], RULES, T0)
        assert step.code == "termine" and step.reached and not step.open
        assert step.for_coordinator == (outcome in ("hospitalise", "decede"))
    step = c.next_step([attempt("joint-bien", c.EMERGENCY_CONTACT)], RULES, T0)
    assert (step.code, step.label) == ("joint", "Va bien (selon son contact d'urgence)")


def test_an_urgent_outcome_says_call_15() -> None:
    step = c.next_step([attempt("besoin-aide", urgent=True)], RULES, T0)
    assert step.urgent and step.label.endswith(c.CALL_15)


# Every (callee, outcome) pair the devices and the server accept.
_pairs = st.sampled_from(
    [
        (whom, outcome)
        for whom in c.CALLEES
        for outcome in c.OUTCOMES
        if c.outcome_error(whom, outcome, coordinator=True) is None
    ]
)
_attempts = st.lists(
    st.builds(
        lambda pair, moment, urgent: c.Attempt(pair[1], pair[0], moment, urgent),
        _pairs,
        st.integers(0, 3000).map(lambda m: T0 + timedelta(minutes=m)),
        st.booleans(),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(_attempts, st.booleans(), st.integers(1, 4), st.integers(5, 240))
def test_next_step_properties(
    attempts: list[c.Attempt], has_contact: bool, failed: int, delay: int
) -> None:
    rules = c.CampaignRules(timedelta(minutes=delay), failed)
    now = T0 + timedelta(days=3)
    step = c.next_step(attempts, rules, now, has_emergency_contact=has_contact)
    assert step.code in c.STEP_CODES and step.label
    # The order the attempts arrive in (two agents syncing late) never matters.
    assert (
        c.next_step(list(reversed(attempts)), rules, now, has_emergency_contact=has_contact) == step
    )
    ending = [a for a in attempts if a.outcome in c.ENDING_OUTCOMES]
    no_answer = [a for a in attempts if a.outcome == c.NO_ANSWER]
    if ending:
        assert step.code in ("joint", "termine")
    if step.code in ("joint", "termine"):
        assert not step.open and step.reached
    if step.code == "escalade":
        # Escalation only after a visit found nobody.
        assert any(a.called_whom == c.HOME_VISIT for a in no_answer)
        assert step.urgent and step.for_coordinator
    if step.code == "appeler-contact-urgence":
        assert has_contact
        assert sum(a.called_whom == c.PERSON for a in no_answer) >= failed
    if step.code == "rappeler":
        assert step.not_before is not None
        last = max(a.called_at for a in no_answer if a.called_whom == c.PERSON)
        assert step.not_before == last + rules.retry_delay
    if not attempts:
        assert step.code == "a-appeler"
    # Starting the City's procedure is not reaching her; it waits for its result.
    assert step.reached == any(
        a.outcome not in (c.NO_ANSWER, c.PROCEDURE_STARTED) for a in attempts
    )
    started = any(a.outcome == c.PROCEDURE_STARTED for a in attempts)
    if started and not ending and not step.reached:
        assert step.code == "procedure-en-cours" and step.for_coordinator and not step.open
    if step.code == "procedure-en-cours":
        assert started


def test_risk_score_and_reasons() -> None:
    score, reasons = c.risk_score(
        c.RiskFeatures(
            lives_alone=True,
            emergency_contacts=0,
            mobility="fauteuil",
            floor=4,
            lift=False,
            days_since_contact=200,
            age=91,
        )
    )
    assert reasons == [
        "vit-seul",
        "sans-famille-proche",
        "mobilite-reduite",
        "etage-sans-ascenseur",
        "pas-de-contact-recent",
        "grand-age",
    ]
    assert score == 30 + 20 + 25 + 15 + 10 + 10
    low, none = c.risk_score(
        c.RiskFeatures(emergency_contacts=2, floor=4, lift=True, days_since_contact=3)
    )
    assert (low, none) == (0, [])
    assert set(c.RISK_WEIGHTS) <= set(contract.enum_values("campaign_risks"))


def test_street_of_an_address() -> None:
    assert c.street_of("12 bis, Rue de l'Église") == "rue de l'eglise"
    assert c.street_of("4 rue Émile Zola") == "rue emile zola"
    assert c.street_of(None) == ""


TERRITORIES = ("nord", "sud", "est", "centre-est", "centre-ouest")
_candidates = st.lists(
    st.builds(
        c.Candidate,
        st.uuids().map(str),
        st.sampled_from(TERRITORIES),
        st.integers(0, 140),
        st.sampled_from(("rue a", "rue b", "avenue c", "")),
    ),
    max_size=120,
    unique_by=lambda x: x.person_id,
)
_agents = st.lists(
    st.builds(
        c.CallAgent,
        st.uuids().map(str),
        st.frozensets(st.sampled_from(TERRITORIES), min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda a: a.agent_id,
)


@settings(max_examples=200, deadline=None)
@given(_candidates, _agents)
def test_split_calls_properties(persons: list[c.Candidate], agents: list[c.CallAgent]) -> None:
    lists = c.split_calls(persons, agents)
    assert set(lists) == {a.agent_id for a in agents}
    placed = [p.person_id for chosen in lists.values() for p in chosen]
    # Every eligible person on one list, no person on two.
    assert Counter(placed) == Counter(p.person_id for p in persons)
    territories = {a.agent_id: a.territory_ids for a in agents}
    covered = set().union(*territories.values())
    for agent_id, chosen in lists.items():
        # Ordered by risk, then street.
        assert chosen == sorted(chosen, key=c.list_order)
        # An agent's own territory first: a person goes elsewhere only when nobody covers it.
        for person in chosen:
            assert (
                person.territory_id in territories[agent_id] or person.territory_id not in covered
            )


@settings(max_examples=100, deadline=None)
@given(_candidates, st.integers(1, 8))
def test_split_calls_balances_agents_who_share_their_territories(
    persons: list[c.Candidate], count: int
) -> None:
    agents = [c.CallAgent(f"agent-{i}", frozenset(TERRITORIES)) for i in range(count)]
    sizes = [len(chosen) for chosen in c.split_calls(persons, agents).values()]
    assert max(sizes) - min(sizes) <= 1


def test_split_calls_puts_the_most_at_risk_first_on_each_list() -> None:
    persons = [c.Candidate(f"p{i}", "nord", score=i * 10, street=f"rue {i % 3}") for i in range(9)]
    lists = c.split_calls(
        persons, [c.CallAgent("a", frozenset({"nord"})), c.CallAgent("b", frozenset({"nord"}))]
    )
    assert [len(v) for v in lists.values()] == [5, 4]
    assert lists["a"][0].person_id == "p8" and lists["b"][0].person_id == "p7"
    assert c.split_calls(persons, []) == {}


def test_the_citys_procedure_is_the_coordinators_and_ends_with_what_was_found() -> None:
    nobody = [
        attempt(c.NO_ANSWER),
        attempt(c.NO_ANSWER, minutes=61),
        attempt(c.NO_ANSWER, c.EMERGENCY_CONTACT, 62),
        attempt(c.NO_ANSWER, c.HOME_VISIT, 200),
    ]
    started = [*nobody, attempt(c.PROCEDURE_STARTED, c.CITY_PROCEDURE, 210)]
    step = c.next_step(started, RULES, T0 + timedelta(hours=4))
    assert step.code == "procedure-en-cours" and step.for_coordinator and not step.open
    # 12:30 UTC on 2 July is 14:30 in Le Havre.
    assert step.label.startswith("Procédure de la Ville déclenchée le 02/07 à 14 h 30")
    assert c.coordinator_label(step, holder_makes_visits=True) == step.label
    for found, code in (("joint-bien", "joint"), ("besoin-aide", "joint"),
                        ("hospitalise", "termine"), ("decede", "termine")):  # fmt: skip
        result = c.next_step(
            [*started, attempt(found, c.CITY_PROCEDURE, 260)], RULES, T0 + timedelta(hours=5)
        )
        assert (result.code, result.reached) == (code, True)
    assert (
        c.next_step([*started, attempt("joint-bien", c.CITY_PROCEDURE, 260)], RULES, T0).label
        == "Trouvée par la police ou les pompiers : prise en charge"
    )
    # Who may record what.
    assert c.outcome_error(c.CITY_PROCEDURE, c.PROCEDURE_STARTED, coordinator=False)
    assert c.outcome_error(c.CITY_PROCEDURE, c.PROCEDURE_STARTED, coordinator=True) is None
    assert c.outcome_error(c.CITY_PROCEDURE, c.NO_ANSWER, coordinator=True)
    assert c.outcome_error(c.CITY_PROCEDURE, "refuse-appels", coordinator=True)
    assert c.outcome_error(c.PERSON, c.PROCEDURE_STARTED, coordinator=True)
    assert c.outcome_error(c.PERSON, c.NO_ANSWER, coordinator=False) is None
    assert c.PROCEDURE_STARTED not in c.AGENT_OUTCOMES and len(c.AGENT_OUTCOMES) == 7


def test_a_visit_on_a_reception_desks_list_is_the_coordinators_to_organise() -> None:
    step = c.next_step([attempt(c.NEEDS_HELP)], RULES, T0)
    assert c.coordinator_label(step, holder_makes_visits=True) is None
    told = c.coordinator_label(step, holder_makes_visits=False)
    assert told == (
        "Besoin d'aide : visite à domicile aujourd'hui : à organiser "
        "(liste tenue par un agent d'accueil)"
    )
