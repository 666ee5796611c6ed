"""Batch letters, with progress and cancel: one PDF, each letter numbered on its own.

Who receives them comes from one of two sources:

* ``FollowedBy(agent_id)``: every person this agent is the referent of;
* ``RegisterOf(territory_id)``: the persons on the register of isolated older
  and disabled people of one territory.

The register (CASF art. L121-6-1) exists to contact people during heatwave
and cold alerts and must not be used for anything else: `write_letters`
refuses any register mailing whose kind is not an alert-plan letter, before
reading a single row of it. The query of the register lives only here.

The application keeps a batch in memory (`letters_pdf`): names and addresses
reach a disk only when the agent saves or prints them. `write_letters` writes
one to a file (scripts) through a temporary file renamed into place at the end.
Either way a cancelled batch leaves no half-printed letters behind, and reports
how many letters were done when it stopped.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import IO

from havre_desktop.core import agents, audit
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.files import replace_file
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import data
from havre_desktop.printing.data import (
    DEMO_CITY_CONTACT,
    ActionInfo,
    AgentInfo,
    CityContact,
    Recipient,
)
from havre_desktop.printing.layout import (
    BUILD_LOCK,
    TYPOGRAPHY,
    Flow,
    Metadata,
    Para,
    Span,
    Variant,
    draw_section,
    new_canvas,
    paginate,
)
from havre_desktop.printing.text import day_month_year
from havre_desktop.printing.wording import Words

log = logging.getLogger("havre.printing")

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


class LetterKind(StrEnum):
    PROGRAMME_ETE = "programme-ete"
    CONSEILS_CANICULE = "conseils-canicule"
    CONSEILS_GRAND_FROID = "conseils-grand-froid"


LETTER_LABELS = {
    LetterKind.PROGRAMME_ETE: "Programme de l'été",
    LetterKind.CONSEILS_CANICULE: "Conseils en cas de canicule",
    LetterKind.CONSEILS_GRAND_FROID: "Conseils en cas de grand froid",
}
# The only letters the register may serve: those of the alert plan.
ALERT_PLAN_KINDS = frozenset({LetterKind.CONSEILS_CANICULE, LetterKind.CONSEILS_GRAND_FROID})
# Alert campaigns are the coordinators' (architecture.md, roles).
ROLES_FOR_REGISTER_MAILING = frozenset({"coordinateur", "administrateur"})


class RegisterUseRefusedError(PermissionDeniedError):
    """The register of isolated people asked to serve something else than the alert plan."""


@dataclass(frozen=True)
class FollowedBy:
    agent_id: str


@dataclass(frozen=True)
class RegisterOf:
    territory_id: str


RecipientSource = FollowedBy | RegisterOf


@dataclass(frozen=True)
class BatchResult:
    """What a batch did; `path` (write_letters) or `pdf` (letters_pdf) is None when it was
    cancelled or had nobody to write to (nothing written)."""

    total: int
    done: int
    cancelled: bool
    pages: int
    path: Path | None
    without_address: int = 0
    skipped_ids: tuple[str, ...] = field(default=(), repr=False)
    pdf: bytes | None = field(default=None, repr=False)  # letters_pdf: the document itself

    @property
    def written(self) -> bool:
        return not self.cancelled and self.done > 0


def check_register_use(kind: LetterKind) -> None:
    """Refuse, with a French message, any use of the register outside the alert plan."""
    if kind not in ALERT_PLAN_KINDS:
        raise RegisterUseRefusedError(
            "Le registre des personnes isolées sert uniquement au plan d'alerte "
            "(canicule, grand froid). Il ne peut pas servir à envoyer "
            f"« {LETTER_LABELS[kind]} ». Choisissez les personnes suivies par un agent."
        )


def _register_recipients(ws: Workspace, territory_id: str) -> list[Recipient]:
    """Persons currently on the register (not removed) living in this territory."""
    rows = ws.store.query(
        "SELECT c.id, c.family_name, c.given_names, c.address_line, c.postcode, c.city, "
        "c.territory_id FROM register_enrolments r JOIN contacts c ON c.id = r.person_id "
        "WHERE r.deleted = 0 AND r.removed_on IS NULL AND c.deleted = 0 AND c.archived = 0 "
        "AND c.kind = 'person' AND c.territory_id = ? "
        "GROUP BY c.id ORDER BY c.family_name COLLATE NOCASE, c.given_names COLLATE NOCASE",
        (territory_id,),
    )
    return [data.recipient(r) for r in rows]


def recipients_for(ws: Workspace, kind: LetterKind, source: RecipientSource) -> list[Recipient]:
    """Who a batch goes to; the register only for alert-plan letters, by coordinators."""
    if isinstance(source, RegisterOf):
        check_register_use(kind)
        if agents.current_role(ws) not in ROLES_FOR_REGISTER_MAILING:
            raise PermissionDeniedError(
                "Seuls les coordinateurs peuvent écrire aux personnes du registre."
            )
        data.territory_name(ws, source.territory_id)
        return _register_recipients(ws, source.territory_id)
    if not source.agent_id:
        raise ValidationError({"agent_id": "Choisissez l'agent dont les personnes sont suivies."})
    return data.followed_persons(ws, source.agent_id)


# -- the letters ------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterContext:
    kind: LetterKind
    sent_on: date
    agent: AgentInfo | None
    city: CityContact = DEMO_CITY_CONTACT


def letter_flow(
    person: Recipient,
    context: LetterContext,
    variant: Variant,
    actions: tuple[ActionInfo, ...] = (),
    territory: str = "",
) -> list[Flow]:
    w = Words(TYPOGRAPHY[variant])
    address = "\n".join(
        part
        for part in (
            person.name,
            person.address_line,
            " ".join(p for p in (person.postcode, person.city) if p),
        )
        if part
    )
    flow: list[Flow] = [
        Para((Span(address),), w.typo.body, space_after=w.typo.body),
        w.p(f"Le Havre, le {day_month_year(context.sent_on)}."),
    ]
    kind = context.kind
    if kind is LetterKind.PROGRAMME_ETE:
        flow.append(w.h1("Les activités de l'été près de chez vous"))
        flow.append(w.p("Bonjour,"))
        flow.append(w.p("La Ville du Havre vous envoie son programme pour les seniors."))
        if territory:
            flow.append(w.p(f"Ces activités ont lieu dans votre quartier : {territory}."))
        flow += w.agent_block(context.agent, context.city)
        if actions:
            flow.append(w.p("Pour chaque activité, le numéro à appeler est indiqué."))
            flow += w.actions_blocks(actions, context.agent, context.city, compact=True)
        else:
            flow.append(w.p("Il n'y a pas encore d'activité prévue dans votre quartier."))
            flow.append(w.p("Nous vous écrirons quand il y en aura."))
        flow.append(w.numbers_block(context.city, alert=False))
        flow.append(w.register_block(context.city))
        return flow
    heat = kind is LetterKind.CONSEILS_CANICULE
    season = "canicule" if heat else "grand froid"
    flow.append(w.h1("Canicule : les bons gestes" if heat else "Grand froid : les bons gestes"))
    flow.append(w.p("Bonjour,"))
    flow.append(w.p("Votre nom est sur le registre canicule et grand froid de la Ville."))
    flow.append(w.p(f"Pendant une alerte {season}, la Ville vous appellera."))
    flow.append(w.p("Nous voulons savoir si tout va bien pour vous."))
    flow.append(
        w.heat_block("En cas de canicule : les bons gestes")
        if heat
        else w.cold_block("En cas de grand froid : les bons gestes")
    )
    flow += w.agent_block(context.agent, context.city)
    flow.append(w.p("Vous partez de chez vous quelques jours ? Prévenez-nous."))
    flow.append(w.p("Vous pouvez sortir du registre quand vous voulez. Appelez-nous."))
    flow.append(w.numbers_block(context.city, alert=heat))
    return flow


@dataclass
class _Progress:
    done: int = 0
    pages: int = 0
    cancelled: bool = False


def write_letters(
    ws: Workspace,
    kind: LetterKind,
    source: RecipientSource,
    path: Path,
    *,
    variant: Variant = Variant.LARGE,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    city: CityContact = DEMO_CITY_CONTACT,
) -> BatchResult:
    """Write one letter per recipient into `path` (one PDF); progress and cancel per letter.

    `progress(done, total)` is called after each letter; `cancelled()` is asked
    before each one (both from the calling thread: the UI runs this in a worker).
    """
    # A cancelled or failed batch leaves nothing behind: no half-printed file of personal
    # letters lying in a folder.
    result = _letters(
        ws,
        kind,
        source,
        lambda produce: replace_file(Path(path), produce, private=False),
        variant,
        progress,
        cancelled,
        city,
    )
    return replace(result, path=Path(path) if result.written else None)


def letters_pdf(
    ws: Workspace,
    kind: LetterKind,
    source: RecipientSource,
    *,
    variant: Variant = Variant.LARGE,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    city: CityContact = DEMO_CITY_CONTACT,
) -> BatchResult:
    """The same letters kept in memory (`BatchResult.pdf`): nothing is written to a disk
    until the agent saves or prints them (the application's way: no clear-text copy of
    names and addresses in a temporary folder)."""
    buffer = io.BytesIO()
    result = _letters(
        ws, kind, source, lambda produce: produce(buffer), variant, progress, cancelled, city
    )
    return replace(result, pdf=buffer.getvalue() if result.written else None)


def _letters(
    ws: Workspace,
    kind: LetterKind,
    source: RecipientSource,
    write: Callable[[Callable[[IO[bytes]], bool]], bool],
    variant: Variant,
    progress: Progress | None,
    cancelled: CancelCheck | None,
    city: CityContact,
) -> BatchResult:
    recipients = recipients_for(ws, kind, source)
    with_address = [r for r in recipients if r.address_line]
    skipped = tuple(r.id for r in recipients if not r.address_line)
    total = len(with_address)
    context = LetterContext(
        kind=kind, sent_on=ws.clock.today(), agent=data.load_agent(ws), city=city
    )
    typo = TYPOGRAPHY[variant]
    meta = Metadata(
        title=f"{LETTER_LABELS[kind]} — lettres — Ville du Havre",
        subject=f"Lettres « {LETTER_LABELS[kind]} »",
    )
    programme: dict[str, tuple[ActionInfo, ...]] = {}
    names: dict[str, str] = {}
    state = _Progress()

    def produce(handle: IO[bytes]) -> bool:
        with BUILD_LOCK:
            canvas = new_canvas(handle, meta)
            for person in with_address:
                if cancelled is not None and cancelled():
                    state.cancelled = True
                    return False
                actions: tuple[ActionInfo, ...] = ()
                territory = ""
                if kind is LetterKind.PROGRAMME_ETE and person.territory_id:
                    if person.territory_id not in programme:
                        programme[person.territory_id] = data.territory_actions(
                            ws, person.territory_id
                        )
                        names[person.territory_id] = data.territory_name(ws, person.territory_id)
                    actions = programme[person.territory_id]
                    territory = names[person.territory_id]
                flow = letter_flow(person, context, variant, actions, territory)
                state.pages += draw_section(canvas, paginate(flow, typo), typo)
                state.done += 1
                if progress is not None:
                    progress(state.done, total)
            if total == 0:
                return False
            canvas.save()
            return True

    written = write(produce)
    done = state.done
    if written:
        audit.record(
            ws,
            "impression",
            "register_enrolments" if isinstance(source, RegisterOf) else "contacts",
            None,
            {"lettres": done, "type": kind.value, "sans_adresse": len(skipped)},
        )
    log.info(
        "letters %s: %d of %d done, cancelled=%s, without address=%d",
        kind.value,
        done,
        total,
        state.cancelled,
        len(skipped),
    )
    return BatchResult(
        total=total,
        done=done,
        cancelled=state.cancelled,
        pages=state.pages,
        path=None,
        without_address=len(skipped),
        skipped_ids=skipped,
    )
