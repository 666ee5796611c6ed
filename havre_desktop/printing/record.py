"""Handouts given: build the PDF, then record who received which actions.

Each handout given counts in the evaluation of actions and syncs up, so it is
recorded with `havre_desktop.core.visits.record_handout` (the row, its outbox
entry and an audit entry in one transaction). The PDF is built first: if it
cannot be built, nothing is recorded.

The UI previews before printing, so it can split the two steps:
`prepare_*` returns a `PreparedHandout` (the PDF and what to record) for the
preview; `record_given` records it when the agent prints or saves it.
`give_*` does both at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from havre_desktop.core import visits
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.data import CityContact
from havre_desktop.printing.handouts import (
    handout_pdf,
    handout_warnings,
    load_personal_handout,
    load_reception_handout,
)
from havre_desktop.printing.layout import Variant

log = logging.getLogger("havre.printing")


@dataclass(frozen=True)
class PreparedHandout:
    """A built handout and what recording it as given will write."""

    pdf: bytes
    action_ids: tuple[str, ...]
    variant: Variant
    person_id: str | None = None
    visit_id: str | None = None
    territory_id: str | None = None
    warnings: tuple[str, ...] = ()  # shown in the preview before printing


@dataclass(frozen=True)
class GivenHandout:
    pdf: bytes
    record: dict[str, Any]


def prepare_personal_handout(
    ws: Workspace,
    person_id: str,
    action_ids: Sequence[str],
    *,
    variant: Variant = Variant.LARGE,
    visit_id: str | None = None,
    agent_id: str | None = None,
    alert: bool = False,
    message: str = "",
    city: CityContact | None = None,
) -> PreparedHandout:
    handout = load_personal_handout(
        ws, person_id, action_ids, agent_id=agent_id, alert=alert, message=message, city=city
    )
    return PreparedHandout(
        pdf=handout_pdf(handout, variant),
        action_ids=tuple(a.id for a in handout.actions),
        variant=variant,
        person_id=person_id,
        visit_id=visit_id,
        territory_id=handout.territory_id or None,
        warnings=handout_warnings(handout),
    )


def prepare_reception_handout(
    ws: Workspace,
    action_ids: Sequence[str],
    *,
    territory_id: str | None = None,
    facility_id: str | None = None,
    variant: Variant = Variant.LARGE,
    alert: bool = False,
    city: CityContact | None = None,
) -> PreparedHandout:
    """An anonymous handout at the desk: recorded with its territory, never a person."""
    handout = load_reception_handout(
        ws, action_ids, facility_id=facility_id, alert=alert, city=city
    )
    return PreparedHandout(
        pdf=handout_pdf(handout, variant),
        action_ids=tuple(a.id for a in handout.actions),
        variant=variant,
        territory_id=territory_id,
        warnings=handout_warnings(handout),
    )


def record_given(ws: Workspace, prepared: PreparedHandout) -> dict[str, Any]:
    """Record a prepared handout as given (row + outbox + audit, one transaction)."""
    row = visits.record_handout(
        ws,
        list(prepared.action_ids),
        person_id=prepared.person_id,
        variant=prepared.variant.value,
        visit_id=prepared.visit_id,
        territory_id=prepared.territory_id,
    )
    log.info("handout recorded id=%s actions=%d", row["id"], len(prepared.action_ids))
    return row


def give_personal_handout(
    ws: Workspace,
    person_id: str,
    action_ids: Sequence[str],
    *,
    variant: Variant = Variant.LARGE,
    visit_id: str | None = None,
    agent_id: str | None = None,
    alert: bool = False,
    message: str = "",
    city: CityContact | None = None,
) -> GivenHandout:
    """Build a personal handout and record it as given."""
    prepared = prepare_personal_handout(
        ws,
        person_id,
        action_ids,
        variant=variant,
        visit_id=visit_id,
        agent_id=agent_id,
        alert=alert,
        message=message,
        city=city,
    )
    return GivenHandout(pdf=prepared.pdf, record=record_given(ws, prepared))


def give_reception_handout(
    ws: Workspace,
    action_ids: Sequence[str],
    *,
    territory_id: str | None = None,
    facility_id: str | None = None,
    variant: Variant = Variant.LARGE,
    alert: bool = False,
    city: CityContact | None = None,
) -> GivenHandout:
    prepared = prepare_reception_handout(
        ws,
        action_ids,
        territory_id=territory_id,
        facility_id=facility_id,
        variant=variant,
        alert=alert,
        city=city,
    )
    return GivenHandout(pdf=prepared.pdf, record=record_given(ws, prepared))
