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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import IO

from havre_common import contract
from havre_common.french import count
from havre_desktop.core import agents, audit, register
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.files import replace_file
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import data, fonts
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
    LaidOut,
    Metadata,
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
    warnings: tuple[str, ...] = ()  # characters no font draws, by person and field
    pdf: bytes | None = field(default=None, repr=False)  # letters_pdf: the document itself

    @property
    def written(self) -> bool:
        return not self.cancelled and self.done > 0


def recipient_warnings(recipients: Iterable[Recipient]) -> tuple[str, ...]:
    """A warning for each name or address holding a character no embedded font draws."""
    fields = []
    for person in recipients:
        fields += [
            ("Nom d'un destinataire", person.name),
            (f"Adresse de {person.name}", f"{person.address_line} {person.city}"),
        ]
    return fonts.coverage_warnings(fields)


def letter_purpose(kind: LetterKind) -> str | None:
    """The purpose a batch of this kind serves (contract.check_purpose)."""
    return contract.ALERT_PLAN if kind in ALERT_PLAN_KINDS else None


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
        "WHERE r.deleted = 0 AND r.status = 'inscrite' AND c.deleted = 0 AND c.archived = 0 "
        "AND c.kind = 'person' AND c.territory_id = ? "
        "GROUP BY c.id ORDER BY c.family_name COLLATE NOCASE, c.given_names COLLATE NOCASE",
        (territory_id,),
    )
    return [replace(data.recipient(r), registered=True) for r in rows]


def _with_register_status(
    ws: Workspace, kind: LetterKind, people: list[Recipient]
) -> list[Recipient]:
    """Alert-plan letters say whether the person is on the register, from the real enrolment;
    other letters never read it (purpose), nor do devices without the register right."""
    if kind not in ALERT_PLAN_KINDS or not agents.has_register_right(ws):
        return people
    enrolled = register.enrolled_ids(ws, [p.id for p in people], letter_purpose(kind))
    return [replace(p, registered=p.id in enrolled) for p in people]


def recipients_for(ws: Workspace, kind: LetterKind, source: RecipientSource) -> list[Recipient]:
    """Who a batch goes to; the register only for alert-plan letters, by coordinators."""
    if isinstance(source, RegisterOf):
        check_register_use(kind)
        contract.check_purpose(contract.REGISTER_TABLES, letter_purpose(kind))
        if agents.current_role(ws) not in ROLES_FOR_REGISTER_MAILING:
            raise PermissionDeniedError(
                "Seuls les coordinateurs peuvent écrire aux personnes du registre."
            )
        data.territory_name(ws, source.territory_id)
        return _register_recipients(ws, source.territory_id)
    if not source.agent_id:
        raise ValidationError({"agent_id": "Choisissez l'agent dont les personnes sont suivies."})
    return _with_register_status(ws, kind, data.followed_persons(ws, source.agent_id))


# -- the letters ------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterContext:
    kind: LetterKind
    sent_on: date
    agent: AgentInfo | None
    city: CityContact = DEMO_CITY_CONTACT


# At most this many pages for a summer letter: its cover letter and the chosen actions;
# the territory's whole programme is a separate booklet (handouts.md, Length).
LETTER_PAGES = 4
# Actions a summer letter presents when none are chosen: the first of the territory's.
LETTER_ACTIONS = 3


def letter_address(person: Recipient) -> tuple[str, ...]:
    """The lines of the postal address, as typed (the name first)."""
    town = " ".join(p for p in (person.postcode, person.city) if p)
    return tuple(part for part in (person.name, person.address_line, town) if part)


def letter_flow(
    person: Recipient,
    context: LetterContext,
    variant: Variant,
    actions: tuple[ActionInfo, ...] = (),
    territory: str = "",
    more: bool = False,
    numbers_last: bool = False,
) -> list[Flow]:
    """The text of one letter (its address goes in the envelope's window: `paginate`).

    `more`: the territory has more activities than the letter shows; the letter
    then offers the whole programme as a booklet. `numbers_last`: the useful
    numbers after the activities rather than before them (`layout_letter`).
    """
    w = Words(TYPOGRAPHY[variant])
    flow: list[Flow] = [w.p(f"Le Havre, le {day_month_year(context.sent_on)}.")]
    kind = context.kind
    if kind is LetterKind.PROGRAMME_ETE:
        flow.append(w.h1("Les activités de l'été près de chez vous"))
        flow.append(w.p("Bonjour,"))
        if actions:
            flow.append(
                w.p(
                    "La Ville du Havre vous présente une activité pour cet été."
                    if len(actions) == 1
                    else f"La Ville du Havre vous présente {len(actions)} activités pour cet été."
                )
            )
            if territory:
                where = count(
                    len(actions),
                    "Elle a lieu dans votre quartier",
                    "Elles ont lieu dans votre quartier",
                )
                flow.append(w.p(f"{where} : {territory}."))
        else:
            flow.append(w.p("Il n'y a pas encore d'activité prévue dans votre quartier."))
            flow.append(w.p("Nous vous écrirons quand il y en aura."))
        flow += w.agent_block(context.agent, context.city)
        if more:
            flow.append(
                w.p(
                    Span("Le programme complet ", bold=True),
                    "de votre quartier est dans un livret. Pour le recevoir, appelez la Ville.",
                )
            )
        if not numbers_last:
            flow.append(w.numbers_block(context.city, alert=False))
        if actions:
            flow.append(w.h2("Les activités pour vous"))
            flow += w.actions_blocks(actions, context.agent, context.city, compact=True)
        if numbers_last:
            flow.append(w.numbers_block(context.city, alert=False))
        return flow
    heat = kind is LetterKind.CONSEILS_CANICULE
    season = "canicule" if heat else "grand froid"
    flow.append(w.h1("Canicule : les bons gestes" if heat else "Grand froid : les bons gestes"))
    flow.append(w.p("Bonjour,"))
    flow += register_sentences(w, person.registered, season)
    flow.append(
        w.heat_block("En cas de canicule : les bons gestes")
        if heat
        else w.cold_block("En cas de grand froid : les bons gestes")
    )
    flow += w.agent_block(context.agent, context.city)
    if person.registered:
        flow.append(w.p("Vous partez de chez vous quelques jours ? Prévenez-nous."))
        flow.append(w.p("Vous pouvez sortir du registre quand vous voulez. Appelez-nous."))
    flow.append(w.numbers_block(context.city, alert=heat, register=False))
    return flow


def register_sentences(w: Words, registered: bool | None, season: str) -> list[Flow]:
    """What an alert letter says of the register: only what the real enrolment says.

    ``registered`` None: the device cannot know (no register right), so the letter says
    neither that the person is on it nor that she is not."""
    if registered:
        return [
            w.p("Votre nom est sur le registre canicule et grand froid de la Ville."),
            w.p(f"Pendant une alerte {season}, la Ville vous appellera."),
            w.p("Nous voulons savoir si tout va bien pour vous."),
        ]
    offer = w.p("Pour vous inscrire, appelez-nous. C'est gratuit et ce n'est pas obligatoire.")
    if registered is False:
        return [
            w.p("Votre nom n'est pas sur le registre canicule et grand froid de la Ville."),
            w.p(f"Pendant une alerte {season}, la Ville appelle les personnes du registre."),
            offer,
        ]
    return [
        w.p("La Ville a un registre canicule et grand froid."),
        w.p(f"Pendant une alerte {season}, la Ville appelle les personnes du registre."),
        w.p(
            "Pour savoir si vous y êtes, ou pour vous inscrire, appelez-nous. C'est gratuit "
            "et ce n'est pas obligatoire."
        ),
    ]


def layout_letter(
    person: Recipient,
    context: LetterContext,
    variant: Variant,
    actions: tuple[ActionInfo, ...] = (),
    territory: str = "",
) -> LaidOut:
    """One letter laid out, its address in the window; a summer letter keeps to LETTER_PAGES.

    The chosen actions are presented in order while the letter stays within its pages;
    those left out are in the territory's booklet, which the letter then offers. The
    useful numbers go before the activities, or after them when that takes fewer
    sheets (printed on both sides) or fewer pages.
    """
    typo = TYPOGRAPHY[variant]
    address = letter_address(person)
    # The City's service, address and hours, when set, where a letter's sender goes.
    desk = context.city.desk_lines()
    sender = ("Ville du Havre", *desk) if desk else ()
    shown = actions
    while True:
        more = len(shown) < len(actions)
        laid = paginate(
            letter_flow(person, context, variant, shown, territory, more),
            typo,
            address=address,
            sender=sender,
        )
        if kind_has_actions(context.kind) and len(laid.pages) > 1:
            last = letter_flow(person, context, variant, shown, territory, more, numbers_last=True)
            other = paginate(last, typo, address=address, sender=sender)
            if len(other.pages) < len(laid.pages):
                laid = other
        if len(laid.pages) <= LETTER_PAGES or not shown:
            return laid
        shown = shown[:-1]


def kind_has_actions(kind: LetterKind) -> bool:
    return kind is LetterKind.PROGRAMME_ETE


def summer_actions(
    territory_actions: tuple[ActionInfo, ...], chosen: tuple[str, ...] | None
) -> tuple[ActionInfo, ...]:
    """The actions a summer letter presents: those chosen that are in the territory."""
    if chosen is None:
        return territory_actions[:LETTER_ACTIONS]
    by_id = {a.id: a for a in territory_actions}
    return tuple(by_id[i] for i in chosen if i in by_id)


@dataclass
class _Progress:
    done: int = 0
    pages: int = 0
    cancelled: bool = False


def _context(ws: Workspace, kind: LetterKind, city: CityContact | None) -> LetterContext:
    if city is None:
        city = data.read_city_contact(ws)
    return LetterContext(kind=kind, sent_on=ws.clock.today(), agent=data.load_agent(ws), city=city)


class _LetterLayouts:
    """Lays out each recipient's letter; a territory's actions are read once per batch."""

    def __init__(
        self,
        ws: Workspace,
        context: LetterContext,
        variant: Variant,
        action_ids: Sequence[str] | None,
    ) -> None:
        self.ws, self.context, self.variant = ws, context, variant
        self.chosen = None if action_ids is None else tuple(action_ids)
        self.programme: dict[str, tuple[tuple[ActionInfo, ...], str]] = {}

    def of(self, person: Recipient) -> LaidOut:
        actions: tuple[ActionInfo, ...] = ()
        territory = ""
        if self.context.kind is LetterKind.PROGRAMME_ETE and person.territory_id:
            if person.territory_id not in self.programme:
                self.programme[person.territory_id] = (
                    # with the closures and other hours in effect on the day of printing
                    data.with_notices(
                        self.ws,
                        data.territory_actions(self.ws, person.territory_id),
                        self.ws.clock.today(),
                    ),
                    data.territory_name(self.ws, person.territory_id),
                )
            pool, territory = self.programme[person.territory_id]
            actions = summer_actions(pool, self.chosen)
        return layout_letter(person, self.context, self.variant, actions, territory)


@dataclass(frozen=True)
class BatchPreview:
    """Who a batch would go to, and the pages each letter takes (before building it)."""

    recipients: tuple[Recipient, ...]
    pages: dict[str, int]  # printed pages of each letter, blank backs included (duplex)

    def total_pages(self, ticked: Iterable[str]) -> int:
        return sum(self.pages.get(i, 0) for i in ticked)


def preview_batch(
    ws: Workspace,
    kind: LetterKind,
    source: RecipientSource,
    *,
    variant: Variant = Variant.LARGE,
    city: CityContact | None = None,
    action_ids: Sequence[str] | None = None,
    duplex: bool = True,
) -> BatchPreview:
    """The recipients of a batch and each letter's pages, laid out but not drawn.

    Persons without an address are listed with 0 pages: they get no letter.
    """
    recipients = recipients_for(ws, kind, source)
    context = _context(ws, kind, city)
    laying = _LetterLayouts(ws, context, variant, action_ids)
    pages = {}
    for person in recipients:
        count = len(laying.of(person).pages) if person.address_line else 0
        pages[person.id] = count + (count % 2 if duplex else 0)
    return BatchPreview(tuple(recipients), pages)


@dataclass(frozen=True)
class BatchOptions:
    """What a batch may be told beyond its kind and source (see write_letters); no ``city``:
    the City's details this laptop prints (from the server, see ``data.read_city_source``)."""

    variant: Variant = Variant.LARGE
    city: CityContact | None = None
    action_ids: Sequence[str] | None = None
    recipient_ids: Sequence[str] | None = None
    duplex: bool = True


def write_letters(
    ws: Workspace,
    kind: LetterKind,
    source: RecipientSource,
    path: Path,
    *,
    variant: Variant = Variant.LARGE,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
    city: CityContact | None = None,
    action_ids: Sequence[str] | None = None,
    recipient_ids: Sequence[str] | None = None,
    duplex: bool = True,
) -> BatchResult:
    """Write one letter per recipient into `path` (one PDF); progress and cancel per letter.

    `progress(done, total)` is called after each letter; `cancelled()` is asked
    before each one (both from the calling thread: the UI runs this in a worker).
    `action_ids`: the actions a summer letter presents (each person gets those of
    her territory; None: the first LETTER_ACTIONS of it). `recipient_ids`: only
    these persons among the source's (the agent ticked them). `duplex`: a letter
    of an odd number of pages is followed by a blank page, so that printed on both
    sides each letter starts on its own sheet.
    """
    # A cancelled or failed batch leaves nothing behind: no half-printed file of personal
    # letters lying in a folder.
    options = BatchOptions(variant, city, action_ids, recipient_ids, duplex)
    result = _letters(
        ws,
        kind,
        source,
        lambda produce: replace_file(Path(path), produce, private=False),
        options,
        progress,
        cancelled,
    )
    return replace(result, path=Path(path) if result.written else None)


def letters_pdf(
    ws: Workspace,
    kind: LetterKind,
    source: RecipientSource,
    options: BatchOptions,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> BatchResult:
    """The same letters kept in memory (`BatchResult.pdf`): nothing is written to a disk
    until the agent saves or prints them (the application's way: no clear-text copy of
    names and addresses in a temporary folder). `options` as write_letters' keywords."""
    buffer = io.BytesIO()
    result = _letters(
        ws, kind, source, lambda produce: produce(buffer), options, progress, cancelled
    )
    return replace(result, pdf=buffer.getvalue() if result.written else None)


def _letters(
    ws: Workspace,
    kind: LetterKind,
    source: RecipientSource,
    write: Callable[[Callable[[IO[bytes]], bool]], bool],
    options: BatchOptions,
    progress: Progress | None,
    cancelled: CancelCheck | None,
) -> BatchResult:
    variant, city, duplex = options.variant, options.city, options.duplex
    recipient_ids = options.recipient_ids
    recipients = recipients_for(ws, kind, source)
    if recipient_ids is not None:
        ticked = set(recipient_ids)
        recipients = [r for r in recipients if r.id in ticked]
    with_address = [r for r in recipients if r.address_line]
    skipped = tuple(r.id for r in recipients if not r.address_line)
    total = len(with_address)
    context = _context(ws, kind, city)
    typo = TYPOGRAPHY[variant]
    meta = Metadata(
        title=f"{LETTER_LABELS[kind]} — lettres — Ville du Havre",
        subject=f"Lettres « {LETTER_LABELS[kind]} »",
    )
    laying = _LetterLayouts(ws, context, variant, options.action_ids)
    state = _Progress()

    def produce(handle: IO[bytes]) -> bool:
        with BUILD_LOCK:
            canvas = new_canvas(handle, meta)
            for person in with_address:
                if cancelled is not None and cancelled():
                    state.cancelled = True
                    return False
                pages = draw_section(canvas, laying.of(person), typo)
                if duplex and pages % 2:
                    canvas.showPage()  # the back of the last sheet stays blank
                    pages += 1
                state.pages += pages
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
        warnings=recipient_warnings(with_address),
    )
