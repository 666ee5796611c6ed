"""The fixed wording of the large-print documents, in FALC, as reusable blocks.

FALC (*Facile à lire et à comprendre*): short sentences, one idea each, the
same word for the same thing (always "activité", "la Ville", "appelez"),
phone numbers and addresses on their own line, bigger and bold. Sentences
avoid gendered forms ("inscrit·e") by construction ("Votre nom est sur le
registre"), since the fiche records no civility.
"""

from __future__ import annotations

from collections.abc import Iterable

from havre_desktop.printing.data import ActionInfo, AgentInfo, CityContact, NextContact
from havre_desktop.printing.layout import Group, Para, Span, Typography
from havre_desktop.printing.text import long_date, sentence

HEATWAVE_LINE_LABEL = "Canicule info service, appel gratuit :"

# Emergency numbers as the box prints them: the three short ones on one line, the fridge
# magnet's way (each number in bold before its word), the SMS number on its own line.
EMERGENCY_LINES = (
    (("15", "Samu"), ("18", "Pompiers"), ("112", "Urgences")),
    (("114", "Urgences par SMS (sourds et malentendants)"),),
)

HEAT_ADVICE = (
    "Buvez de l'eau souvent, même sans soif.",
    "Restez dans un endroit frais.",
    "Fermez les volets et les fenêtres pendant la journée.",
    "Mouillez votre visage et vos bras.",
    "Évitez de sortir aux heures les plus chaudes.",
    "Mangez normalement.",
    "Donnez des nouvelles à vos proches.",
    "Si vous vous sentez mal, appelez le 15.",
)

COLD_ADVICE = (
    "Chauffez votre logement, sans le surchauffer.",
    "Couvrez-vous bien : bonnet, écharpe et gants.",
    "Évitez de sortir quand il fait très froid.",
    "Mangez chaud et buvez des boissons chaudes.",
    "Ne chauffez jamais votre logement avec le four ou un barbecue.",
    "Aérez votre logement quelques minutes chaque jour.",
    "Donnez des nouvelles à vos proches.",
    "Si vous vous sentez mal, appelez le 15.",
)


class Words:
    """Paragraph factories for one typography (sizes and spacing come from it)."""

    def __init__(self, typo: Typography) -> None:
        self.typo = typo
        self.gap = 0.3 * typo.body

    # -- elements ---------------------------------------------------------------------

    def h1(self, text: str) -> Para:
        return Para(
            (Span(text, bold=True),),
            self.typo.h1,
            space_after=0.25 * self.typo.body,
            keep_with_next=True,
        )

    def h2(self, text: str, anchor: str | None = None, first: bool = False) -> Para:
        """A section heading; `first` in a box or at the top (no space above)."""
        return Para(
            (Span(text, bold=True),),
            self.typo.h2,
            space_before=0.0 if first else 0.8 * self.typo.body,
            space_after=0.2 * self.typo.body,
            keep_with_next=True,
            anchor=anchor,
        )

    def h3(self, text: str, anchor: str | None = None) -> Para:
        return Para(
            (Span(text, bold=True),),
            self.typo.h3,
            space_before=0.6 * self.typo.body,
            space_after=0.1 * self.typo.body,
            keep_with_next=True,
            anchor=anchor,
        )

    def p(self, *spans: Span | str, keep_with_next: bool = False) -> Para:
        """A paragraph of running text, a little space after it."""
        parts = tuple(Span(s) if isinstance(s, str) else s for s in spans)
        return Para(parts, self.typo.body, space_after=self.gap, keep_with_next=keep_with_next)

    def line(self, *spans: Span | str, keep_with_next: bool = False, name: bool = False) -> Para:
        """One item of a block (no space after: the line spacing separates the items).

        `name`: a name or an address, never cut inside a word (shrunk a little,
        within the allowed sizes, when one of its words is wider than a line).
        """
        parts = tuple(Span(s) if isinstance(s, str) else s for s in spans)
        return Para(
            parts,
            self.typo.body,
            keep_with_next=keep_with_next,
            min_size=self.typo.min_body if name else None,
        )

    def item(self, label: str, value: str, keep_with_next: bool = False) -> Para:
        """ "Quand : tous les mardis" with the label in bold, as one item of a block."""
        return self.line(Span(f"{label} : ", bold=True), value, keep_with_next=keep_with_next)

    def labelled(self, label: str, value: str, keep_with_next: bool = False) -> Para:
        """ "Quand : tous les mardis" with the label in bold."""
        return self.p(Span(f"{label} : ", bold=True), value, keep_with_next=keep_with_next)

    def phone(self, number: str) -> Para:
        """A phone number alone on its line, bigger and bold."""
        return Para((Span(number, bold=True),), self.typo.number)

    def call(self, label: str, number: str) -> tuple[Para, Para]:
        """A label line then the number on its own line (kept together)."""
        return (self.line(label, keep_with_next=True), self.phone(number))

    # -- blocks -----------------------------------------------------------------------

    def agent_block(self, agent: AgentInfo | None, city: CityContact) -> list[Para]:
        if agent is None:
            return [*self.call("Pour toute question, appelez la Ville :", city.phone)]
        if agent.phone:
            return [*self.call(f"Votre contact à la Ville, {agent.name} :", agent.phone)]
        return [
            self.line(f"Votre contact à la Ville est {agent.name}.", keep_with_next=True),
            *self.call(f"Pour joindre {agent.name}, appelez la Ville :", city.phone),
        ]

    def next_contact_block(self, planned: NextContact | None, contact: str = "") -> list[Para]:
        """The next visit or call, on one line when it can: who only if not `contact`."""
        if planned is None:
            return []
        label = {
            "visite": "Prochaine visite chez vous",
            "suivi-visite": "Prochaine visite chez vous",
            "appel": "Prochain appel",
            "appel-alerte": "Prochain appel",
        }.get(planned.kind, "Prochain rendez-vous")
        when = long_date(planned.due_on)
        who = planned.agent_name
        text = f"le {when}, avec {who}." if who and who != contact else f"le {when}."
        return [self.p(Span(f"{label} : ", bold=True), text)]

    def message_block(self, title: str, message: str) -> list[Para]:
        """The agent's own words after "title :" in bold; blank lines separate paragraphs."""
        paragraphs = [part.strip("\n") for part in message.replace("\r\n", "\n").split("\n\n")]
        paragraphs = [part for part in paragraphs if part.strip()]
        if not paragraphs:
            return []
        first, *rest = paragraphs
        lead = Span(f"{title} : ", bold=True)
        return [self.p(lead, first), *(self.p(part) for part in rest)]

    def action_block(
        self,
        action: ActionInfo,
        agent: AgentInfo | None,
        city: CityContact,
        anchor: str | None = None,
        compact: bool = False,
    ) -> Group:
        """One action: what, when, where, access, price, how to sign up, whom to call.

        One compact block, never split over two pages when it fits on one: the
        lines of the block follow each other without paragraph gaps (the 1.5
        line spacing keeps them apart), the place's name on one line and its
        address on the next, access and price on one line. `compact` (a letter,
        or a handout that must fit its sheet) leaves out the accessibility note,
        the sign-up details and "no fixed place": whom to call is still there.
        """
        out: list[Para] = [self.h3(action.title, anchor=anchor)]
        if action.status == "en-test":
            out.append(self.line(Span("Nouveau : ", bold=True), "cette activité est à l'essai."))
        for notice in action.notices:  # a closure or other hours now: before anything else
            out.append(self.line(Span("Attention : ", bold=True), notice))
        if action.summary:
            out.append(self.line(sentence(action.summary)))
        out.append(
            self.item(
                "Quand",
                sentence(action.schedule)
                if action.schedule
                else "demandez les dates par téléphone.",
            )
        )
        venue = action.venue
        if venue is not None:
            town = " ".join(part for part in (venue.postcode, venue.city) if part)
            address = ", ".join(part for part in (venue.address_line, town) if part)
            where = venue.name + (f"\n{address}" if address else "")
            out.append(self.line(Span("Où : ", bold=True), where, name=True))
            step_free: bool | None = venue.step_free
        else:
            if not compact:
                out.append(self.item("Où", "il n'y a pas de lieu fixe."))
            step_free = action.step_free
        if action.is_free:
            price = "gratuit."
        elif action.price_label:
            price = f"payant, {sentence(action.price_label)}"
        else:
            price = "payant. Demandez le prix par téléphone."
        spans: list[Span | str] = [Span("Prix : ", bold=True), price]
        if step_free is True:
            spans += [Span(" Accès : ", bold=True), "sans marche."]
        elif step_free is False:
            spans += [Span(" Accès : ", bold=True), "attention, il y a des marches."]
        out.append(self.line(*spans))
        if action.accessibility_note and not compact:
            out.append(self.item("Bon à savoir", sentence(action.accessibility_note)))
        if action.signup and not compact:
            out.append(self.item("Pour vous inscrire", sentence(action.signup)))
        if action.contact_phone:
            who, number = action.contact_name, action.contact_phone
        elif agent is not None and agent.phone:
            who, number = f"votre contact à la Ville, {agent.name}", agent.phone
        else:
            who, number = "la Ville du Havre", city.phone
        if who:
            out.append(self.item("Qui appeler", who, keep_with_next=True))
        else:
            out.append(self.line(Span("Qui appeler :", bold=True), keep_with_next=True))
        out.append(self.phone(number))
        return Group(tuple(out), continued=self.h3(f"{action.title} (suite)"), keep=True)

    def actions_blocks(
        self,
        actions: Iterable[ActionInfo],
        agent: AgentInfo | None,
        city: CityContact,
        compact: bool = False,
    ) -> list[Group]:
        return [self.action_block(a, agent, city, compact=compact) for a in actions]

    def numbers_block(
        self,
        city: CityContact,
        alert: bool,
        anchor: str | None = None,
        register: bool = True,
        desk: bool = True,
    ) -> Group:
        """Useful numbers, in a box: the part of the handout that goes on the fridge.

        `desk`: the City's desk (service, address, hours) when set, on an "Accueil" line.

        Each number in bold at the start of its line; the City's number on its own
        line, bigger; what the register is and how to enrol, in two short
        sentences right under the City's number (the number to call).
        """
        out: list[Para] = [self.h2("Numéros utiles", anchor=anchor, first=True)]
        for line in EMERGENCY_LINES:
            spans: list[Span | str] = []
            for number, label in line:
                if spans:
                    spans.append(" \u2013 ")
                # No-break spaces: a number never leaves its word at the end of a line.
                spans += [Span(number, bold=True), f"\u00a0{label.replace(' ', chr(0xA0), 1)}"]
            out.append(self.line(*spans))
        if alert:
            out += self.call(HEATWAVE_LINE_LABEL, city.heatwave_line)
        out += self.call(f"{city.label} :", city.phone)
        if desk and city.desk_lines():
            where = sentence(", ".join(city.desk_lines()))
            out.append(self.line(Span("Accueil : ", bold=True), where))
        if register:
            out.append(
                self.line(
                    Span("Registre canicule et grand froid : ", bold=True),
                    "la Ville vous appelle pendant une alerte. Inscription gratuite à ce numéro.",
                )
            )
        return Group(tuple(out), boxed=True, keep=True)

    def register_block(self, city: CityContact, anchor: str | None = None) -> Group:
        """How to enrol on the register (CASF L121-6-1): voluntary, for alerts only."""
        return Group(
            (
                self.h2("Le registre canicule et grand froid", anchor=anchor),
                self.p("La Ville a un registre des personnes âgées ou handicapées."),
                self.p("Pendant une canicule ou un grand froid, la Ville appelle ces personnes."),
                self.p("L'inscription est gratuite. Elle n'est pas obligatoire."),
                self.p("Un proche peut demander votre inscription. Vous pouvez refuser."),
                self.p("Vous pouvez sortir du registre quand vous voulez."),
                *self.call("Pour vous inscrire, appelez la Ville :", city.phone),
                self.p("Vous pouvez aussi aller à l'accueil de votre mairie annexe."),
            )
        )

    def advice_block(self, title: str, advice: Iterable[str]) -> Group:
        return Group(
            (self.h2(title), *(self.p(line) for line in advice)),
            boxed=True,
            continued=self.h2(f"{title} (suite)"),
        )

    def heat_block(self, title: str = "Alerte canicule : protégez-vous de la chaleur") -> Group:
        return self.advice_block(title, HEAT_ADVICE)

    def cold_block(self, title: str = "Grand froid : protégez-vous du froid") -> Group:
        return self.advice_block(title, COLD_ADVICE)
