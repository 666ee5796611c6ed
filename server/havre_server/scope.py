"""Who may see what: the matrix of sync.md, as code used by every pull and push.

Each change-log entry carries its *audience* (a class of readers) and scope columns written at
the time of the change (the person's territory, the agents concerned). A pull keeps an entry when
the reader belongs to its audience *now*:

=================  =========================================================================
audience           readers
=================  =========================================================================
``all``            everyone (reference data, facilities, actions)
``coord``          coordinators and administrators (action evaluations)
``directory``      agents with the entry's territory (agent directory: one entry per territory)
``person``         social workers, coordinators and reception agents of the territory
                   (contacts); reception agents get a projection: identity and contact
                   details only
``register``       agents of the territory who hold the register right (``register_right``,
                   named staff: coordinators by default) — the register of vulnerable persons
                   (``contract.REGISTER_TABLES``, enrolments and their history, consents to
                   the register); reception agents with the right get a projection
``campaign``       agents of the territory with the register right who are coordinators, or
                   are listed (the call's holder and its former holder): alert campaigns'
                   call lists and their outcomes (``alert_campaigns`` rows go to the
                   ``register`` audience of each of their territories)
``person-private`` social workers and coordinators of the territory (other consents)
``care``           social workers and coordinators of the territory (visits, handouts given)
``planned``        coordinators of the territory, and the assigned agent if a social worker or
                   coordinator of the territory
``conflict``       coordinators of the territory and the agents whose edits collided
``target``         only the agents listed (a removal sent to one agent, their own agent row)
=================  =========================================================================

Within an entry, :func:`project` keeps what the reader's role may hold (reception agents: a
projection) and empties the private fields of a row (``contract.Table.private``: a visit note
marked private) for anyone but its author and the coordinators; a note made private later is
sent empty to colleagues at their next pull, which clears it on their devices.

Scope changes are written to the log when they happen (see push/admin): a person moving from
*sud* to *nord* writes removals scoped to *sud* then full upserts scoped to *nord* for the person
and every row that depends on her; an agent whose own role or territories change gets
``reset_required`` on their next pull (a full download, which removes whatever left their scope
and brings whatever entered it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from havre_common import contract

# Roles and what each may read: the contract's (one definition for both sides).
SOCIAL_WORKER = contract.SOCIAL_WORKER
RECEPTION = contract.RECEPTION
COORDINATOR = contract.COORDINATOR
ADMINISTRATOR = contract.ADMINISTRATOR
ROLES = contract.ROLES
CARE_ROLES = contract.CARE_ROLES
PERSON_ROLES = contract.PERSON_ROLES
CATALOGUE_ROLES = contract.CATALOGUE_ROLES

# What a reception agent receives of a contact and of a register enrolment.
RECEPTION_CONTACT_FIELDS = contract.CONTACTS.readable_by(RECEPTION)
RECEPTION_REGISTER_FIELDS = contract.REGISTER_ENROLMENTS.readable_by(RECEPTION)
# The agent directory; an agent's own row also carries their login (``server_account``).
DIRECTORY_FIELDS = contract.AGENTS.readable_by(SOCIAL_WORKER)


@dataclass(frozen=True)
class Principal:
    """The signed-in agent and device of one request."""

    account_id: str
    agent_id: str
    login: str
    role: str
    territories: frozenset[str]
    device_pk: int
    device_id: str
    token_hash: str
    scope_changed_seq: int = 0
    register_right: bool = False

    @property
    def sees_register(self) -> bool:
        """Whether this agent may hold register data (the right, on a role that sees persons)."""
        return self.register_right and self.role in PERSON_ROLES

    @property
    def is_care(self) -> bool:
        return self.role in CARE_ROLES

    @property
    def sees_persons(self) -> bool:
        return self.role in PERSON_ROLES

    def has_territory(self, territory_id: str | None) -> bool:
        return territory_id is not None and territory_id in self.territories


def entry_visible(
    p: Principal, audience: str, territory_id: str | None, scope_agents: Iterable[str]
) -> bool:
    agents = set(scope_agents)
    if audience == "all":
        return True
    if audience == "coord":
        return p.role in CATALOGUE_ROLES
    if audience == "target":
        return p.agent_id in agents
    if not p.has_territory(territory_id):
        return False
    if audience == "directory":
        return True
    if audience == "person":
        return p.sees_persons
    if audience == "register":
        return p.sees_register
    if audience == "campaign":
        return p.sees_register and (p.role == COORDINATOR or p.agent_id in agents)
    if audience in ("person-private", "care"):
        return p.is_care
    if audience == "planned":
        return p.role == COORDINATOR or (p.is_care and p.agent_id in agents)
    if audience == "conflict":
        return p.role == COORDINATOR or (p.sees_persons and p.agent_id in agents)
    return False


def project(p: Principal, table: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The part of a row this reader may hold."""
    if table == "agents":
        allowed = set(DIRECTORY_FIELDS)
        if fields.get("id") == p.agent_id:
            allowed |= {"server_account", "register_right"}
        return {k: v for k, v in fields.items() if k in allowed}
    private = contract.TABLES[table].private if table in contract.TABLES else None
    if private is not None and private.withheld_from(fields, p.agent_id, p.role):
        fields = {**fields, **dict.fromkeys(private.fields)}
    spec = contract.TABLES.get(table)
    if spec is not None and spec.projected_for(p.role):
        # Least data: the fields this role may hold (reception agents: a projection).
        readable = spec.readable_by(p.role)
        return {k: v for k, v in fields.items() if k in readable}
    return fields


def field_hlc_for(p: Principal, table: str, field_hlc: dict[str, str] | None) -> Any:
    if field_hlc is None:
        return None
    if p.role == RECEPTION and table == "contacts":
        return {k: v for k, v in field_hlc.items() if k in RECEPTION_CONTACT_FIELDS}
    return field_hlc


def consent_audience(purpose: str | None) -> str:
    return "register" if purpose == "registre" else "person-private"
