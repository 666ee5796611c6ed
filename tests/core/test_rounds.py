"""Ma journée's order and wording: a round by territory, street and number; overdue said in
words; a new try after an absence on the next working day."""

from __future__ import annotations

from datetime import date

from havre_desktop.core import contacts, visits
from havre_desktop.core.rounds import overdue_text, round_stop
from havre_desktop.core.workspace import Workspace
from tests.helpers import person_values

DAY = date(2026, 11, 25)  # a Wednesday


def test_the_day_comes_in_the_order_of_a_round(workspace: Workspace) -> None:
    addresses = {
        "Zola": ("12 rue Émile-Zola", "nord"),
        "Abel": ("3 rue Émile-Zola", "nord"),
        "Bis": ("3 bis rue Émile-Zola, 2e étage", "nord"),
        "Foch": ("140 avenue Foch", "nord"),
        "Sud": ("1 allée des Acacias", "sud"),
    }
    for family, (address, territory) in addresses.items():
        person = contacts.create_person(
            workspace,
            person_values(family_name=family, address_line=address, territory_id=territory),
        )
        visits.plan_contact(workspace, person["id"], {"due_on": "2026-11-24", "kind": "visite"})
    order = [row["family_name"] for row in visits.due_contacts(workspace, DAY)]
    # Territory first (the reference list's order: Nord before Sud), then the street as in a
    # map's index (accents ignored), then the number (3 and "3 bis" before 12).
    assert order == ["Foch", "Abel", "Bis", "Zola", "Sud"]


def test_a_stop_says_where_what_and_how_late_in_words(workspace: Workspace) -> None:
    person = contacts.create_person(
        workspace,
        person_values(
            family_name="Lefèvre",
            given_names="Jeanne",
            address_line="14 rue de la Mare-Rouge, 4e étage",
            access_notes="Sonner deux fois",
            phone_1="02 61 91 63 65",
            phone_2="06 39 98 02 48",
        ),
    )
    visits.plan_contact(
        workspace,
        person["id"],
        {"due_on": "2026-11-21", "kind": "appel", "reason": "Rappeler pour le dossier APA"},
    )
    (row,) = visits.due_contacts(workspace, DAY)
    stop = round_stop(row, DAY)
    assert stop.name == "LEFÈVRE Jeanne"
    assert stop.address == "14 rue de la Mare-Rouge, 4e étage\n76620 Le Havre"
    assert stop.access == "Sonner deux fois"
    assert stop.phones == "02 61 91 63 65 / 06 39 98 02 48"
    assert stop.to_do == "Appel — Rappeler pour le dossier APA"
    assert overdue_text(stop) == "En retard : prévu le 21/11/2026 (4 jours)"
    assert overdue_text(round_stop({**row, "due_on": "2026-11-25"}, DAY)) == ""
    assert overdue_text(round_stop({**row, "due_on": "2026-11-24"}, DAY)).endswith("(1 jour)")


def test_a_new_try_after_an_absence_is_on_the_next_working_day() -> None:
    assert visits.next_working_day(date(2026, 11, 25)) == date(2026, 11, 26)  # Wed → Thu
    assert visits.next_working_day(date(2026, 11, 27)) == date(2026, 11, 30)  # Fri → Mon
    assert visits.next_working_day(date(2026, 11, 28)) == date(2026, 11, 30)  # Sat → Mon
