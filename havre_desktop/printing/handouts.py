"""Large-print handouts: personal (after a visit), anonymous (reception desk), programme.

Two layers, so the UI can use either: ``*_pdf`` functions build a PDF from plain
data (``HandoutData``, a list of ``ActionInfo``); ``*_for`` functions read what
they need from a Workspace first. Both return the PDF as bytes: the preview
shows them, the printer prints them, "Enregistrer en PDF" writes them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from havre_common.french import de
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import data, fonts
from havre_desktop.printing.data import (
    DEMO_CITY_CONTACT,
    SAMPLE_CITY_WARNING,
    ActionInfo,
    AgentInfo,
    CityContact,
    NextContact,
)
from havre_desktop.printing.layout import (
    BUILD_LOCK,
    TYPOGRAPHY,
    Flow,
    LaidOut,
    Metadata,
    Span,
    Variant,
    paginate,
    render,
    sparse_pages,
)
from havre_desktop.printing.text import clean, long_date
from havre_desktop.printing.wording import Words

log = logging.getLogger("havre.printing")

PERSONAL_META = Metadata(
    title="Des activités pour vous — Ville du Havre",
    subject="Fiche remise à une personne : activités proposées et numéros utiles",
)
RECEPTION_META = Metadata(
    title="Des activités pour vous — Ville du Havre",
    subject="Fiche remise à l'accueil : activités proposées et numéros utiles",
)


@dataclass(frozen=True)
class HandoutData:
    """Everything a handout says. `recipient_name` None means anonymous (reception desk)."""

    actions: tuple[ActionInfo, ...]
    given_on: date
    recipient_name: str | None = None
    agent: AgentInfo | None = None
    next_contact: NextContact | None = None
    alert: bool = False
    message: str = ""
    place: str = ""
    city: CityContact = field(default=DEMO_CITY_CONTACT)
    territory_id: str = ""  # not printed: recorded with the handout given


def handout_flow(
    handout: HandoutData,
    variant: Variant,
    compact: bool = False,
    notes_last: bool = False,
    desk: bool = True,
) -> list[Flow]:
    """What a handout says, in reading order; the useful numbers come right after who and when.

    `compact` leaves the accessibility notes and sign-up details out of the actions
    (whom to call stays), and the sentence that introduces them; `notes_last` puts
    the next visit and the agent's words after the actions instead of before them;
    `desk` prints the City's desk (when set) in the useful numbers. `layout_handout`
    uses them to fit the handout's sheets.
    """
    w = Words(TYPOGRAPHY[variant])
    flow: list[Flow] = [w.h1("Des activités pour vous")]
    if handout.recipient_name is not None:
        flow.append(w.line(f"Ce document est pour {clean(handout.recipient_name)}.", name=True))
    elif handout.place:
        flow.append(
            w.line(f"Vous avez reçu ce document à l'accueil : {clean(handout.place)}.", name=True)
        )
    else:
        flow.append(w.line("Vous avez reçu ce document à l'accueil de la Ville du Havre."))
    flow.append(w.p(f"Date : {long_date(handout.given_on)}."))
    # On the first page, whatever the size: the part of the handout that goes on the fridge.
    flow.append(w.numbers_block(handout.city, handout.alert, desk=desk))
    flow += w.agent_block(handout.agent, handout.city)
    if handout.alert:
        flow.append(w.heat_block())
    notes = w.next_contact_block(handout.next_contact, handout.agent.name if handout.agent else "")
    if handout.message.strip():
        who = clean(handout.agent.name) if handout.agent else "la Ville"
        notes += w.message_block(f"Un mot {de(who)}", handout.message)
    if not notes_last:
        flow += notes
    count = len(handout.actions)
    if not compact:
        # The title says it already ("Des activités pour vous"): no heading here.
        flow.append(
            w.p("Voici l'activité dont nous avons parlé.")
            if count == 1
            else w.p(f"Voici les {count} activités dont nous avons parlé.")
        )
    flow += w.actions_blocks(handout.actions, handout.agent, handout.city, compact=compact)
    if notes_last and notes:
        notes[0] = replace(notes[0], space_before=w.typo.body)
        flow += notes
    return flow


def page_target(actions: int, variant: Variant) -> int:
    """The most pages a handout of this many actions should take (handouts.md, Length).

    Up to 3 actions: one sheet printed on both sides at 16 pt, two sheets at 22 pt;
    each further action may add a page.
    """
    base = 2 if variant is Variant.LARGE else 4
    return base + max(0, actions - 3)


def layout_handout(handout: HandoutData, variant: Variant) -> LaidOut:
    """The handout laid out to fit its sheets, saying as much as they hold.

    Tried in this order, the first within the page target with no page under
    MIN_LINES lines is kept (else the one on the fewest sheets): the full text; the
    next visit and the agent's words after the actions (they then fill the end of a
    page instead of pushing an action over); the compact text (no accessibility
    notes, sign-up details or "no fixed place") in both placements; the actions (at
    most REORDER_AT_MOST) in other orders, so that a short one fills page 1's end;
    and all of these again without the City's desk line in the useful numbers.
    """
    typo = TYPOGRAPHY[variant]
    target = page_target(len(handout.actions), variant)
    has_notes = handout.next_contact is not None or bool(handout.message.strip())
    placements = (False, True) if has_notes else (False,)

    def candidates() -> Iterator[tuple[HandoutData, bool, bool, bool]]:
        # The City's desk line goes last: the actions matter more on the sheet.
        for desk in (True, False) if handout.city.desk_lines() else (False,):
            for compact in (False, True):
                for notes_last in placements:
                    yield handout, compact, notes_last, desk
            if 1 < len(handout.actions) <= REORDER_AT_MOST:
                for order in itertools.permutations(handout.actions):
                    if order != handout.actions:
                        for notes_last in placements:
                            yield replace(handout, actions=order), True, notes_last, desk

    best: tuple[tuple[bool, int, int], LaidOut] | None = None
    for data_, compact, notes_last, desk in candidates():
        laid = paginate(handout_flow(data_, variant, compact, notes_last, desk), typo)
        pages = len(laid.pages)
        cost = (pages > target, (pages + 1) // 2, len(sparse_pages(laid)))
        if not cost[0] and not cost[2]:
            return laid
        if best is None or cost < best[0]:
            best = (cost, laid)
    assert best is not None
    return best[1]


# Orders tried to fit a handout's sheets (3 actions: 5 more layouts, only when needed).
REORDER_AT_MOST = 4


def action_fields(action: ActionInfo) -> list[tuple[str, str]]:
    """(label, value) of each printed field of an action, for the warnings."""
    title = f"Activité « {action.title} »"
    fields = [
        ("Titre d'une activité", action.title),
        (f"{title}, résumé", action.summary),
        (f"{title}, quand", action.schedule),
        (f"{title}, inscription", action.signup),
        (f"{title}, qui appeler", action.contact_name),
        (f"{title}, prix", action.price_label),
        (f"{title}, bon à savoir", action.accessibility_note),
        *((f"{title}, changement temporaire", notice) for notice in action.notices),
    ]
    if action.venue is not None:
        fields += [
            (f"{title}, lieu", action.venue.name),
            (f"{title}, adresse", action.venue.address_line),
        ]
    return fields


def handout_warnings(handout: HandoutData) -> tuple[str, ...]:
    """What the preview says before printing: characters no font draws, the sample number."""
    fields = [
        ("Nom de la personne", handout.recipient_name or ""),
        ("Lieu d'accueil", handout.place),
        ("Message", handout.message),
    ]
    if handout.agent is not None:
        fields.append(("Nom de l'agent", handout.agent.name))
    if handout.next_contact is not None:
        fields.append(("Prochain rendez-vous, agent", handout.next_contact.agent_name))
    for action in handout.actions:
        fields += action_fields(action)
    out = fonts.coverage_warnings(fields)
    return (SAMPLE_CITY_WARNING, *out) if handout.city.is_sample else out


def handout_pdf(handout: HandoutData, variant: Variant = Variant.LARGE) -> bytes:
    """The PDF of a personal or anonymous handout."""
    meta = PERSONAL_META if handout.recipient_name is not None else RECEPTION_META
    typo = TYPOGRAPHY[variant]
    with BUILD_LOCK:
        return render([layout_handout(handout, variant)], typo, meta)


def load_personal_handout(
    ws: Workspace,
    person_id: str,
    action_ids: Sequence[str],
    *,
    agent_id: str | None = None,
    alert: bool = False,
    message: str = "",
    city: CityContact | None = None,
) -> HandoutData:
    """Read a personal handout's data: the person, the actions, the agent, the next contact."""
    person = data.load_person(ws, person_id)
    today = ws.clock.today()
    return HandoutData(
        actions=data.load_actions(ws, action_ids, on=today),
        given_on=today,
        recipient_name=data.recipient(person).name,
        agent=data.load_agent(ws, agent_id),
        next_contact=data.next_contact(ws, person_id, today),
        alert=alert,
        message=message,
        city=city if city is not None else data.read_city_contact(ws),
        territory_id=str(person.get("territory_id") or ""),
    )


def personal_handout_for(
    ws: Workspace,
    person_id: str,
    action_ids: Sequence[str],
    *,
    variant: Variant = Variant.LARGE,
    agent_id: str | None = None,
    alert: bool = False,
    message: str = "",
    city: CityContact | None = None,
) -> bytes:
    handout = load_personal_handout(
        ws, person_id, action_ids, agent_id=agent_id, alert=alert, message=message, city=city
    )
    return handout_pdf(handout, variant)


def load_reception_handout(
    ws: Workspace,
    action_ids: Sequence[str],
    *,
    facility_id: str | None = None,
    alert: bool = False,
    city: CityContact | None = None,
) -> HandoutData:
    """An anonymous handout: no name, no next contact; the desk's agent and place."""
    place = ""
    if facility_id:
        name = ws.store.scalar("SELECT name FROM facilities WHERE id = ?", (facility_id,))
        place = clean(name) if name else ""
    today = ws.clock.today()
    return HandoutData(
        actions=data.load_actions(ws, action_ids, on=today),
        given_on=today,
        recipient_name=None,
        agent=data.load_agent(ws),
        alert=alert,
        place=place,
        city=city if city is not None else data.read_city_contact(ws),
    )


def reception_handout_for(
    ws: Workspace,
    action_ids: Sequence[str],
    *,
    variant: Variant = Variant.LARGE,
    facility_id: str | None = None,
    alert: bool = False,
    city: CityContact | None = None,
) -> bytes:
    handout = load_reception_handout(
        ws, action_ids, facility_id=facility_id, alert=alert, city=city
    )
    return handout_pdf(handout, variant)


# -- territory programme ----------------------------------------------------------------


@dataclass(frozen=True)
class Programme:
    territory_name: str
    actions: tuple[ActionInfo, ...]
    edited_on: date
    alert: bool = False
    city: CityContact = field(default=DEMO_CITY_CONTACT)


def _programme_flow(
    programme: Programme, variant: Variant, pages: dict[str, int] | None
) -> list[Flow]:
    w = Words(TYPOGRAPHY[variant])
    count = len(programme.actions)
    flow: list[Flow] = [
        w.h1("Les activités pour les seniors"),
        w.p(f"Quartier : {programme.territory_name}."),
        w.p(f"Programme du {long_date(programme.edited_on)}."),
    ]
    if count == 0:
        flow.append(w.p("Il n'y a pas d'activité pour les seniors dans ce quartier en ce moment."))
        flow += w.call("Pour en savoir plus, appelez la Ville :", programme.city.phone)
    else:
        flow.append(
            w.p(
                "Ce livret présente l'activité de la Ville pour les seniors de votre quartier."
                if count == 1
                else f"Ce livret présente les {count} activités de la Ville "
                "pour les seniors de votre quartier."
            )
        )
        flow.append(w.p("Pour chaque activité, il dit quand, où, à quel prix et qui appeler."))
        flow.append(w.h2("Dans ce livret"))

        def page_of(anchor: str) -> str:
            number = (pages or {}).get(anchor)
            return f"page {number}" if number else "page"

        # One line an entry, no gap between them; the activities follow on the same page
        # when there is room (a page break here could leave a page of two lines).
        for index, action in enumerate(programme.actions):
            entry = Span(page_of(f"action-{index}"), bold=True)
            flow.append(w.line(f"{action.title} : ", entry))
        flow.append(w.line("Numéros utiles : ", Span(page_of("numeros"), bold=True)))
        flow.append(
            w.p("Le registre canicule et grand froid : ", Span(page_of("registre"), bold=True))
        )
        for index, action in enumerate(programme.actions):
            flow.append(w.action_block(action, None, programme.city, anchor=f"action-{index}"))
    flow.append(w.numbers_block(programme.city, programme.alert, anchor="numeros", register=False))
    flow.append(w.register_block(programme.city, anchor="registre"))
    return flow


def programme_pdf(programme: Programme, variant: Variant = Variant.LARGE) -> bytes:
    """A short booklet; its contents list gives each activity's page (laid out twice)."""
    typo = TYPOGRAPHY[variant]
    meta = Metadata(
        title=f"Les activités pour les seniors — {programme.territory_name}",
        subject="Programme des activités de la Ville pour les seniors d'un quartier",
    )
    with BUILD_LOCK:
        laid = paginate(_programme_flow(programme, variant, None), typo)
        for _ in range(3):
            again = paginate(_programme_flow(programme, variant, laid.anchors), typo)
            stable = again.anchors == laid.anchors
            laid = again
            if stable:
                break
        return render([laid], typo, meta)


def territory_programme_for(
    ws: Workspace,
    territory_id: str,
    *,
    variant: Variant = Variant.LARGE,
    alert: bool = False,
    city: CityContact | None = None,
) -> bytes:
    """Every current action (en cours, en test) of one territory for seniors."""
    programme = Programme(
        territory_name=data.territory_name(ws, territory_id),
        actions=data.with_notices(ws, data.territory_actions(ws, territory_id), ws.clock.today()),
        edited_on=ws.clock.today(),
        alert=alert,
        city=city if city is not None else data.read_city_contact(ws),
    )
    log.info("programme built: territory=%s actions=%d", territory_id, len(programme.actions))
    return programme_pdf(programme, variant)
