"""The register's letters, in large print: the acknowledgment of a request (with the
information notice), the letter of removal, and the information letter to a person whose
name a département or a pension fund transmitted.

Each letter is about one enrolment and serves the register's own procedure (R121-5: the
mayor acknowledges each request, informs, removes on request); it reads the register
through the alert-plan purpose and only with the register right. Like every batch, the PDF
stays in memory (``register_letter_pdf``) until the agent prints or saves it; printing is
audited (ids only) and recorded in the enrolment's history (``register.mark_printed``, done
by the caller once the agent has printed or saved it).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from havre_common import contract
from havre_desktop.core import audit, register
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import data
from havre_desktop.printing.data import DEMO_CITY_CONTACT, AgentInfo, CityContact, Recipient
from havre_desktop.printing.layout import (
    BUILD_LOCK,
    TYPOGRAPHY,
    Flow,
    Group,
    LaidOut,
    Metadata,
    Variant,
    draw_section,
    new_canvas,
    paginate,
)
from havre_desktop.printing.text import day_month_year
from havre_desktop.printing.wording import Words

KINDS = ("accuse", "radiation", "information")
TITLES = {
    "accuse": "Accusé de réception — registre canicule et grand froid",
    "radiation": "Radiation du registre canicule et grand froid",
    "information": "Information — registre canicule et grand froid",
}


@dataclass(frozen=True)
class RegisterLetter:
    """What a register letter says, read from one enrolment."""

    kind: str
    sent_on: date
    requested_on: date
    enrolled_on: date | None
    requested_by: str
    requester_name: str
    requester_relation: str
    removed_on: date | None
    inform_until: date | None
    source: str


def notice(w: Words) -> Group:
    """The information notice (R121-3): sole purpose, optional, recipients, rights."""
    return Group(
        (
            w.h2("Le registre : ce qu'il faut savoir", first=True),
            w.p(
                "Le registre sert à une seule chose : vous appeler pendant une alerte "
                "canicule ou grand froid, pour savoir si tout va bien et vous aider si besoin."
            ),
            w.p("L'inscription est gratuite. Elle n'est pas obligatoire."),
            w.p(
                "Seuls les agents de la Ville chargés du registre voient vos informations. "
                "Pendant une alerte, le préfet peut les demander pour organiser l'aide."
            ),
            w.p(
                "Vous pouvez voir vos informations, les corriger, ou sortir du registre "
                "quand vous voulez. Il suffit de nous appeler ou de nous écrire."
            ),
        ),
        boxed=True,
        # It may continue on the next page (very large print): no half-empty page before it.
        continued=w.h2("Le registre : ce qu'il faut savoir (suite)"),
    )


def _who(letter: RegisterLetter) -> str:
    if letter.requested_by == "personne":
        return "par vous"
    if letter.requested_by == "representant":
        return f"par votre représentant légal, {letter.requester_name}"
    relation = f" ({letter.requester_relation})" if letter.requester_relation else ""
    return f"par {letter.requester_name}{relation}"


def letter_flow(
    letter: RegisterLetter, variant: Variant, agent: AgentInfo | None, city: CityContact
) -> list[Flow]:
    w = Words(TYPOGRAPHY[variant])
    flow: list[Flow] = [w.p(f"Le Havre, le {day_month_year(letter.sent_on)}.")]
    if letter.kind == "accuse":
        flow.append(w.h1("Votre inscription au registre canicule et grand froid"))
        flow.append(w.p("Bonjour,"))
        flow.append(
            w.p(
                f"Nous avons bien reçu, le {day_month_year(letter.requested_on)}, la demande "
                f"d'inscription faite {_who(letter)}."
            )
        )
        if letter.enrolled_on is not None:
            flow.append(
                w.p(
                    f"Votre nom est sur le registre depuis le {day_month_year(letter.enrolled_on)}."
                )
            )
        flow.append(w.p("Pendant une alerte, la Ville vous appellera."))
        if letter.requested_by == "tiers":
            flow.append(
                w.p(
                    "Vous n'avez pas fait cette demande vous-même. Si vous ne voulez pas être "
                    "sur le registre, dites-le nous : nous retirerons votre nom."
                )
            )
        flow.append(notice(w))
    elif letter.kind == "radiation":
        flow.append(w.h1("Votre nom n'est plus sur le registre canicule et grand froid"))
        flow.append(w.p("Bonjour,"))
        if letter.removed_on is not None:
            flow.append(
                w.p(f"Votre nom a été retiré du registre le {day_month_year(letter.removed_on)}.")
            )
        flow.append(w.p("La Ville ne vous appellera plus pendant les alertes."))
        flow.append(w.p("Vous pouvez vous inscrire de nouveau quand vous voulez. Appelez-nous."))
    else:
        who = (
            "Votre caisse de retraite"
            if letter.source == "caisse-retraite"
            else "Le département de la Seine-Maritime"
        )
        flow.append(w.h1("Le registre canicule et grand froid de la Ville"))
        flow.append(w.p("Bonjour,"))
        flow.append(w.p(f"{who} nous a transmis votre nom et votre adresse."))
        if letter.inform_until is not None:
            flow.append(
                w.p(
                    "Votre nom sera ajouté au registre le "
                    f"{day_month_year(letter.inform_until)}, sauf si vous ne le voulez pas."
                )
            )
        flow.append(
            w.p("Vous ne voulez pas être sur le registre ? Appelez-nous ou écrivez-nous avant.")
        )
        flow.append(notice(w))
    flow += w.agent_block(agent, city)
    flow.append(w.numbers_block(city, alert=False, register=False))
    return flow


def layout(
    person: Recipient,
    letter: RegisterLetter,
    variant: Variant,
    agent: AgentInfo | None,
    city: CityContact = DEMO_CITY_CONTACT,
) -> LaidOut:
    town = " ".join(p for p in (person.postcode, person.city) if p)
    address = tuple(part for part in (person.name, person.address_line, town) if part)
    desk = city.desk_lines()
    sender = ("Ville du Havre", *desk) if desk else ()
    return paginate(
        letter_flow(letter, variant, agent, city),
        TYPOGRAPHY[variant],
        address=address,
        sender=sender,
    )


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def read_letter(ws: Workspace, enrolment_id: str, kind: str) -> tuple[Recipient, RegisterLetter]:
    """The person and what her letter says, from the enrolment (register right needed)."""
    contract.check_purpose(contract.REGISTER_TABLES, contract.ALERT_PLAN)
    register.require_right(ws)
    if kind not in KINDS:
        raise ValueError(kind)
    enrolment = register.get(ws, enrolment_id)
    row = ws.store.query_one(
        "SELECT id, family_name, given_names, address_line, postcode, city, territory_id "
        "FROM contacts WHERE id = ?",
        (enrolment["person_id"],),
    )
    assert row is not None
    letter = RegisterLetter(
        kind=kind,
        sent_on=ws.clock.today(),
        requested_on=date.fromisoformat(str(enrolment["requested_on"])),
        enrolled_on=_day(enrolment.get("enrolled_on")),
        requested_by=str(enrolment.get("requested_by") or "personne"),
        requester_name=str(enrolment.get("requester_name") or ""),
        requester_relation=str(enrolment.get("requester_relation") or ""),
        removed_on=_day(enrolment.get("removed_on")),
        inform_until=_day(enrolment.get("inform_until")),
        source=str(enrolment.get("source") or "saisie"),
    )
    return data.recipient(row), letter


def register_letter_pdf(
    ws: Workspace,
    enrolment_id: str,
    kind: str,
    *,
    variant: Variant = Variant.LARGE,
    city: CityContact = DEMO_CITY_CONTACT,
) -> bytes:
    """One register letter as PDF bytes (in memory); the build is audited (ids only)."""
    person, letter = read_letter(ws, enrolment_id, kind)
    laid = layout(person, letter, variant, data.load_agent(ws), city)
    buffer = io.BytesIO()
    with BUILD_LOCK:
        canvas = new_canvas(
            buffer, Metadata(title=f"{TITLES[kind]} — Ville du Havre", subject=TITLES[kind])
        )
        draw_section(canvas, laid, TYPOGRAPHY[variant])
        canvas.save()
    audit.record(
        ws, "impression", "register_enrolments", enrolment_id, {"lettre": f"registre-{kind}"}
    )
    return buffer.getvalue()
