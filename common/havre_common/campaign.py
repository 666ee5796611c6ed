"""Alert campaigns: the rules both sides follow (no Qt, no database).

A heatwave or cold alert campaign splits the register of vulnerable persons into call lists
(:func:`split_calls`, most at risk first: :func:`risk_score`); each call then follows the
City's procedure (CASF R121-2 et suivants, practice of French cities), worked out from the
outcomes recorded so far by :func:`next_step`:

1. call the person; no answer → call again after ``retry_delay`` (setting of the campaign);
2. after ``failed_calls_before_emergency`` unanswered calls → call her emergency contact;
3. still nobody (or no emergency contact) → a home visit today;
4. nobody at the door → escalation: the coordinator starts the City's procedure (a welfare
   check by the police or the firefighters) and records it (:data:`PROCEDURE_STARTED`), then
   its result (found and fine, hospitalised, away, deceased), both as outcomes of the
   :data:`CITY_PROCEDURE` callee that only a coordinator records (:func:`outcome_error`).

Reached and fine, hospitalised, away, refusing the calls or deceased end the person's calls
(hospitalised and deceased are noted for the coordinator); "needs help" plans a visit today.
An urgent outcome shows "Appelez le 15" guidance. The same function runs on the agent's
laptop (offline) and on the server (progress, daily figures), so both say the same.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from havre_common import contract

# -- what can be recorded ---------------------------------------------------------------------

NO_ANSWER: Final = "pas-de-reponse"
NEEDS_HELP: Final = "besoin-aide"
REACHED_FINE: Final = "joint-bien"
PROCEDURE_STARTED: Final = "procedure-declenchee"
OUTCOMES: Final = tuple(contract.enum_values("campaign_outcomes"))
AGENT_OUTCOMES: Final = tuple(o for o in OUTCOMES if o != PROCEDURE_STARTED)
"""What an agent records for a call or a door knocked (one key each, 1 to 7)."""
PROCEDURE_RESULTS: Final = (REACHED_FINE, NEEDS_HELP, "hospitalise", "absent", "decede")
"""What the police or the firefighters found (recorded by the coordinator)."""
ENDING_OUTCOMES: Final = frozenset(
    {REACHED_FINE, "hospitalise", "absent", "refuse-appels", "decede"}
)
"""Outcomes that end the person's calls for the campaign."""
FOR_COORDINATOR: Final = frozenset({"hospitalise", "decede"})
"""Outcomes noted for the coordinator (the campaign's report names them)."""

PERSON: Final = "personne"
EMERGENCY_CONTACT: Final = "contact-urgence"
HOME_VISIT: Final = "visite-domicile"
CITY_PROCEDURE: Final = "procedure-ville"
CALLEES: Final = tuple(contract.enum_values("campaign_callees"))
AGENT_CALLEES: Final = tuple(c for c in CALLEES if c != CITY_PROCEDURE)


def outcome_error(called_whom: str, outcome: str, *, coordinator: bool) -> str | None:
    """Why this outcome cannot be recorded (French), or None. The City's procedure is the
    coordinator's: she records that she started it and what was found; an agent records
    calls and doors knocked, never the procedure."""
    if outcome not in OUTCOMES:
        return "Résultat de l'appel : choisissez un résultat de la liste."
    if called_whom not in CALLEES:
        return "Qui a été appelé : choisissez dans la liste."
    if called_whom == CITY_PROCEDURE:
        if not coordinator:
            return "Seul un coordinateur enregistre la procédure de la Ville (police, pompiers)."
        if outcome != PROCEDURE_STARTED and outcome not in PROCEDURE_RESULTS:
            return (
                "Procédure de la Ville : notez qu'elle est déclenchée, puis ce qui a été "
                "constaté (va bien, besoin d'aide, hospitalisée, absente, décédée)."
            )
    elif outcome == PROCEDURE_STARTED:
        return "« Procédure déclenchée » se note pour la procédure de la Ville seulement."
    return None


# -- the steps of a call ----------------------------------------------------------------------

TO_CALL: Final = "a-appeler"
CALL_AGAIN: Final = "rappeler"
CALL_EMERGENCY_CONTACT: Final = "appeler-contact-urgence"
VISIT_TODAY: Final = "visite-aujourdhui"
ESCALATE: Final = "escalade"
PROCEDURE_ONGOING: Final = "procedure-en-cours"
REACHED: Final = "joint"
DONE: Final = "termine"
STEP_CODES: Final = (
    TO_CALL,
    CALL_AGAIN,
    CALL_EMERGENCY_CONTACT,
    VISIT_TODAY,
    ESCALATE,
    PROCEDURE_ONGOING,
    REACHED,
    DONE,
)
ESCALATED_STEPS: Final = frozenset({ESCALATE, PROCEDURE_ONGOING})
"""Steps in the coordinator's hands: the procedure to start, or started and awaited."""
OPEN_STEPS: Final = frozenset({TO_CALL, CALL_AGAIN, CALL_EMERGENCY_CONTACT, VISIT_TODAY})
"""Steps an agent still has to take (escalation is the coordinator's)."""
CALL_15: Final = "Urgence : appelez le 15 (SAMU), puis prévenez votre coordinateur."

_PARIS: Final = ZoneInfo("Europe/Paris")

# Default settings (the campaign row carries the campaign's own).
DEFAULT_RETRY_DELAY_MIN: Final = 60
DEFAULT_FAILED_CALLS: Final = 2


@dataclass(frozen=True)
class CampaignRules:
    """The settings of a campaign that drive its calls."""

    retry_delay: timedelta = timedelta(minutes=DEFAULT_RETRY_DELAY_MIN)
    failed_calls_before_emergency: int = DEFAULT_FAILED_CALLS

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CampaignRules:
        """The rules of an ``alert_campaigns`` row (missing settings: the defaults)."""
        delay = row.get("retry_delay_min")
        failed = row.get("failed_calls_before_emergency")
        return cls(
            retry_delay=timedelta(minutes=int(delay or DEFAULT_RETRY_DELAY_MIN)),
            failed_calls_before_emergency=int(failed or DEFAULT_FAILED_CALLS),
        )


@dataclass(frozen=True)
class Attempt:
    """One outcome recorded for a person of a campaign (by whoever recorded it)."""

    outcome: str
    called_whom: str
    called_at: datetime
    urgent: bool = False


@dataclass(frozen=True)
class Step:
    """What comes next for one person of a campaign.

    ``code``: one of :data:`STEP_CODES`; ``label``: what the agent reads (French);
    ``not_before``: for "rappeler", the earliest time of the next call; ``urgent``: show
    "Appelez le 15"; ``reached``: the person (or her emergency contact) answered at some
    point; ``for_coordinator``: the coordinator must know (escalation, hospitalised,
    deceased); ``failed_calls``: unanswered attempts so far.
    """

    code: str
    label: str
    urgent: bool = False
    not_before: datetime | None = None
    reached: bool = False
    for_coordinator: bool = False
    failed_calls: int = 0
    outcome: str | None = None

    @property
    def open(self) -> bool:
        """Whether an agent still has something to do for this person."""
        return self.code in OPEN_STEPS

    def due(self, now: datetime) -> bool:
        """Whether the step can be taken now (a call back waits for its delay)."""
        return self.open and (self.not_before is None or self.not_before <= now)


_ENDING_LABELS: Final = {
    "hospitalise": "Hospitalisée : signalé au coordinateur, plus d'appel",
    "absent": "Absente (partie) : plus d'appel pendant la campagne",
    "refuse-appels": "Refuse les appels : plus d'appel pendant la campagne",
    "decede": "Décédée : signalé au coordinateur",
}


def next_step(
    attempts: Iterable[Attempt],
    rules: CampaignRules,
    now: datetime,
    *,
    has_emergency_contact: bool = True,
) -> Step:
    """The next step of one person's calls, from every attempt recorded so far (any agent).

    The attempts are read in time order (ties in a fixed order, so two devices that received
    them in another order agree); outcomes recorded by two agents count together (the person
    was called by both). ``now`` only says whether a call back is due yet.
    """
    ordered = sorted(attempts, key=lambda a: (a.called_at, a.called_whom, a.outcome, a.urgent))
    failed_person = failed_contact = failed_visit = 0
    needs_visit = reached = urgent = False
    ending: Attempt | None = None
    last_failed: datetime | None = None
    procedure: datetime | None = None
    for attempt in ordered:
        urgent = urgent or attempt.urgent
        if attempt.outcome == PROCEDURE_STARTED:
            procedure = attempt.called_at
            continue
        if attempt.outcome == NO_ANSWER:
            if attempt.called_whom == PERSON:
                failed_person += 1
                last_failed = attempt.called_at
            elif attempt.called_whom == EMERGENCY_CONTACT:
                failed_contact += 1
            else:
                failed_visit += 1
            continue
        reached = True
        if attempt.outcome == NEEDS_HELP:
            if attempt.called_whom in (HOME_VISIT, CITY_PROCEDURE):
                # The visitor (or the police, the firefighters) found her and arranged the
                # help: she was seen today.
                ending = Attempt(
                    REACHED_FINE, attempt.called_whom, attempt.called_at, attempt.urgent
                )
            else:
                needs_visit = True
                failed_visit = 0
            continue
        ending = attempt
    failed = failed_person + failed_contact + failed_visit
    if ending is not None:
        if ending.outcome == REACHED_FINE:
            how = {
                PERSON: "Jointe, va bien",
                EMERGENCY_CONTACT: "Va bien (selon son contact d'urgence)",
                HOME_VISIT: "Vue à domicile, va bien",
                CITY_PROCEDURE: "Trouvée par la police ou les pompiers : prise en charge",
            }[ending.called_whom]
            return Step(REACHED, how, urgent, None, True, False, failed, ending.outcome)
        return Step(
            DONE,
            _ENDING_LABELS[ending.outcome],
            urgent,
            None,
            True,
            ending.outcome in FOR_COORDINATOR,
            failed,
            ending.outcome,
        )
    if procedure is not None:
        local = procedure.astimezone(_PARIS) if procedure.tzinfo else procedure
        return Step(
            PROCEDURE_ONGOING,
            f"Procédure de la Ville déclenchée le {local.day:02d}/{local.month:02d} à "
            f"{local.hour:02d} h {local.minute:02d} (police ou pompiers) : résultat attendu",
            urgent,
            None,
            reached,
            True,
            failed,
            PROCEDURE_STARTED,
        )
    if failed_visit:
        return _urgent(
            Step(
                ESCALATE,
                "Personne à la porte : le coordinateur déclenche la procédure de la Ville "
                "(police ou pompiers)",
                True,
                None,
                reached,
                True,
                failed,
                NO_ANSWER,
            )
        )
    if needs_visit:
        step = Step(
            VISIT_TODAY,
            "Besoin d'aide : visite à domicile aujourd'hui",
            urgent,
            None,
            True,
            False,
            failed,
            NEEDS_HELP,
        )
        return _urgent(step) if urgent else step
    if failed_contact or (
        failed_person >= rules.failed_calls_before_emergency and not has_emergency_contact
    ):
        why = (
            "Son contact d'urgence ne répond pas"
            if failed_contact
            else f"{failed_person} appels sans réponse et aucun contact d'urgence"
        )
        return Step(
            VISIT_TODAY,
            f"{why} : visite à domicile aujourd'hui",
            urgent,
            None,
            reached,
            False,
            failed,
            NO_ANSWER,
        )
    if failed_person >= rules.failed_calls_before_emergency:
        return Step(
            CALL_EMERGENCY_CONTACT,
            f"{failed_person} appels sans réponse : appelez son contact d'urgence",
            urgent,
            None,
            reached,
            False,
            failed,
            NO_ANSWER,
        )
    if failed_person and last_failed is not None:
        when = last_failed + rules.retry_delay
        # Said in Le Havre's time (the attempts are stamped in UTC).
        local = when.astimezone(_PARIS) if when.tzinfo else when
        label = (
            "Rappeler maintenant"
            if when <= now
            else f"Rappeler à partir de {local.hour:02d} h {local.minute:02d}"
        )
        return Step(CALL_AGAIN, label, urgent, when, reached, False, failed, NO_ANSWER)
    return Step(TO_CALL, "À appeler", urgent, None, reached, False, failed, None)


def escalated(attempts: Iterable[Attempt], step: Step) -> bool:
    """Whether the person's calls went to the coordinator's escalation: awaiting it, the
    procedure started, or its result recorded (counted in the progress and the report)."""
    return step.code in ESCALATED_STEPS or any(a.called_whom == CITY_PROCEDURE for a in attempts)


def coordinator_label(step: Step, *, holder_makes_visits: bool) -> str | None:
    """What the coordinator must know of this step, or None: escalations, the procedure
    awaited, hospitalised and deceased persons; and a visit today on a list held by an agent
    who makes no home visits (a reception desk): the coordinator organises it."""
    if step.for_coordinator:
        return step.label
    if step.code == VISIT_TODAY and not holder_makes_visits:
        return f"{step.label} : à organiser (liste tenue par un agent d'accueil)"
    return None


def _urgent(step: Step) -> Step:
    if not step.urgent:
        return step
    return Step(
        step.code,
        f"{step.label}. {CALL_15}",
        True,
        step.not_before,
        step.reached,
        step.for_coordinator,
        step.failed_calls,
        step.outcome,
    )


# -- risk ---------------------------------------------------------------------------------------

RISK_WEIGHTS: Final[Mapping[str, int]] = {
    "vit-seul": 30,
    "sans-famille-proche": 20,
    "mobilite-reduite": 25,
    "aide-a-domicile": 10,
    "etage-sans-ascenseur": 15,
    "pas-de-contact-recent": 10,
    "campagne-precedente-difficile": 20,
    "grand-age": 10,
}
REDUCED_MOBILITY: Final = frozenset({"deambulateur", "fauteuil", "alite", "aide-exterieur"})
RECENT_CONTACT_DAYS: Final = 90
GREAT_AGE: Final = 90


@dataclass(frozen=True)
class RiskFeatures:
    """What the register and the fiche say about a person's exposure during an alert."""

    lives_alone: bool = False
    emergency_contacts: int = 0
    mobility: str | None = None
    help_at_home: bool = False
    floor: int | None = None
    lift: bool | None = None
    days_since_contact: int | None = None
    previous_campaign_difficult: bool = False
    age: int | None = None


def risk_score(features: RiskFeatures) -> tuple[int, list[str]]:
    """A score (higher: call first) and its reasons (``campaign_risks`` ids, in list order)."""
    reasons: list[str] = []
    if features.lives_alone:
        reasons.append("vit-seul")
    if features.emergency_contacts == 0:
        reasons.append("sans-famille-proche")
    if features.mobility in REDUCED_MOBILITY:
        reasons.append("mobilite-reduite")
    if features.help_at_home:
        reasons.append("aide-a-domicile")
    if features.floor is not None and features.floor >= 2 and not features.lift:
        reasons.append("etage-sans-ascenseur")
    if features.days_since_contact is None or features.days_since_contact > RECENT_CONTACT_DAYS:
        reasons.append("pas-de-contact-recent")
    if features.previous_campaign_difficult:
        reasons.append("campagne-precedente-difficile")
    if features.age is not None and features.age >= GREAT_AGE:
        reasons.append("grand-age")
    order = list(contract.enum_values("campaign_risks"))
    reasons.sort(key=order.index)
    return sum(RISK_WEIGHTS[r] for r in reasons), reasons


# -- call lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An enrolled person to call: her territory, her risk and her street (list order)."""

    person_id: str
    territory_id: str
    score: int = 0
    street: str = ""
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class CallAgent:
    """An agent who takes a call list, and the territories she works in."""

    agent_id: str
    territory_ids: frozenset[str]


_NUMBER = re.compile(r"^\s*\d+\s*(bis|ter|quater|[a-d])?\b[\s,]*", re.IGNORECASE)


def street_of(address_line: str | None) -> str:
    """The street of an address, for ordering (number removed, accents and case folded)."""
    return _folded(_NUMBER.sub("", address_line or ""))


@lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in folded if not unicodedata.combining(ch)).split())


def list_order(c: Candidate) -> tuple[int, str, str]:
    """Most at risk first, then by street (a visitor's round), then a stable tie-break."""
    return (-c.score, c.street, c.person_id)


def split_calls(
    persons: Sequence[Candidate], agents: Sequence[CallAgent]
) -> dict[str, list[Candidate]]:
    """Split persons among agents: each person on exactly one list, lists balanced.

    A person goes to an agent who works in her territory when there is one (the agent knows
    the streets and receives the person's fiche), else to any agent. Persons with the fewest
    possible agents are placed first, each on the least loaded of her possible agents (the
    first such agent in the given order on a tie), so lists stay within one person of each
    other among agents sharing the same territories. Each list is ordered by
    :func:`list_order`; its rank is its position (1 = most at risk).
    """
    if not agents:
        return {}
    lists: dict[str, list[Candidate]] = {a.agent_id: [] for a in agents}
    by_territory: dict[str, list[str]] = {}
    for agent in agents:
        for territory in sorted(agent.territory_ids):
            by_territory.setdefault(territory, []).append(agent.agent_id)
    everyone = [a.agent_id for a in agents]

    def possible(c: Candidate) -> list[str]:
        return by_territory.get(c.territory_id) or everyone

    placed = sorted(persons, key=lambda c: (len(possible(c)), list_order(c)))
    for person in placed:
        target = min(possible(person), key=lambda a: len(lists[a]))
        lists[target].append(person)
    for chosen in lists.values():
        chosen.sort(key=list_order)
    return lists
