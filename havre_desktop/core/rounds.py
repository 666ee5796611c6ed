"""A day's round: the planned contacts of Ma journée as stops, in a round's order, each saying
where (address, floor and access), how to reach the person, what to do (a visit or a call, and
what was promised) and whether it is overdue — in words, for the screen and the printed sheet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from havre_common import contract
from havre_common.french import address_lines, count, french_date


@dataclass(frozen=True)
class RoundStop:
    """One row of the round, in the round's order."""

    name: str
    address: str
    access: str
    phones: str
    to_do: str
    due_on: str
    overdue_days: int


def round_stop(row: Mapping[str, object], day: date) -> RoundStop:
    """One planned contact of Ma journée (visits.day_plan) as a stop of the round."""
    if row.get("contact_kind") == "organisation":
        name = str(row.get("organisation_name") or "")
    else:
        name = f"{str(row.get('family_name') or '').upper()} {row.get('given_names') or ''}"
    due = str(row.get("due_on") or "")
    overdue = (day - date.fromisoformat(due)).days if due else 0
    kinds = contract.ENUMS["planned_kinds"]
    kind = kinds.get(str(row.get("kind") or ""), str(row.get("kind") or ""))
    reason = str(row.get("reason") or "").strip()
    return RoundStop(
        name=name.strip(),
        address="\n".join(
            address_lines(row.get("address_line"), row.get("postcode"), row.get("city"))
        ),
        access=str(row.get("access_notes") or "").strip(),
        phones=" / ".join(str(p) for p in (row.get("phone_1"), row.get("phone_2")) if p),
        to_do=f"{kind} — {reason}" if reason else kind,
        due_on=due,
        overdue_days=max(0, overdue),
    )


def round_stops(rows: Sequence[Mapping[str, object]], day: date) -> list[RoundStop]:
    return [round_stop(row, day) for row in rows]


def overdue_text(stop: RoundStop) -> str:
    """ "En retard : prévu le 25/11/2026 (4 jours)" — in words, not in colour."""
    if stop.overdue_days <= 0:
        return ""
    days = count(stop.overdue_days, "{n} jour", "{n} jours")
    return f"En retard : prévu le {french_date(stop.due_on)} ({days})"
