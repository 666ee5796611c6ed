"""Search: accents and case ignored, prefixes, phones, addresses, actions; paged."""

from __future__ import annotations

from havre_desktop.core import catalogue, contacts, search
from havre_desktop.core.workspace import Workspace
from tests.helpers import person_values


def _names(rows: list[dict[str, object]]) -> list[str]:
    return [str(r.get("family_name") or r.get("organisation_name")) for r in rows]


def test_accents_case_and_prefixes(workspace: Workspace) -> None:
    contacts.create_person(workspace, person_values())
    contacts.create_person(workspace, person_values(family_name="Lefebvre", given_names="Marcel"))
    contacts.create_person(workspace, person_values(family_name="Hébert", given_names="Zoé"))
    assert sorted(_names(search.search_persons(workspace, "lefe"))) == ["Lefebvre", "Lefèvre"]
    assert _names(search.search_persons(workspace, "LEFEV")) == ["Lefèvre"]
    assert _names(search.search_persons(workspace, "lefèvre jea")) == ["Lefèvre"]
    assert _names(search.search_persons(workspace, "hebert zoe")) == ["Hébert"]
    assert search.search_persons(workspace, "lefebvre zoe") == []


def test_phone_digits_in_any_grouping(workspace: Workspace) -> None:
    contacts.create_person(workspace, person_values(phone_1="06 39 98 45 67", phone_2=None))
    contacts.create_person(workspace, person_values(family_name="Autre", phone_1="02 61 91 00 99"))
    for typed in ("06 39", "0639", "06 39 98 45", "0639984567"):
        assert _names(search.search_persons(workspace, typed)) == ["Lefèvre"], typed


def test_address_words(workspace: Workspace) -> None:
    contacts.create_person(
        workspace, person_values(address_line="3 avenue du Bois-au-Coq", postcode="76620")
    )
    assert _names(search.search_persons(workspace, "bois coq")) == ["Lefèvre"]
    assert _names(search.search_persons(workspace, "76620")) == ["Lefèvre"]


def test_special_characters_do_not_break_the_query(workspace: Workspace) -> None:
    contacts.create_person(workspace, person_values(family_name="N'Diaye", given_names="Awa"))
    assert _names(search.search_persons(workspace, "n'dia")) == ["N'Diaye"]
    for hostile in ('"', "*", "AND OR NOT", "(", "NEAR(", "-", "''", "^a"):
        search.search_persons(workspace, hostile)  # must not raise an FTS syntax error
    assert search.search_persons(workspace, "   ") == []


def test_results_are_paged(workspace: Workspace) -> None:
    for index in range(25):
        contacts.create_person(workspace, person_values(given_names=f"Prénom{index:02d}"))
    first = search.search_persons(workspace, "lefe", limit=10)
    second = search.search_persons(workspace, "lefe", limit=10, offset=10)
    third = search.search_persons(workspace, "lefe", limit=10, offset=20)
    ids = [r["id"] for r in first + second + third]
    assert len(first) == 10 and len(second) == 10 and len(third) == 5
    assert len(set(ids)) == 25


def test_edits_and_deletions_reach_the_index(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    contacts.update(workspace, person["id"], {"family_name": "Duval"})
    assert search.search_persons(workspace, "lefe") == []
    assert _names(search.search_persons(workspace, "duv")) == ["Duval"]
    with workspace.store.transaction():
        workspace.update_row("contacts", person["id"], {"deleted": True})
    assert search.search_persons(workspace, "duv") == []


def test_actions_by_title_summary_and_audience(workspace: Workspace) -> None:
    catalogue.import_catalogue(workspace, catalogue.load_sample_catalogue(), sample=True)
    cafe = search.search_actions(workspace, "cafe senior")
    assert cafe and all("seniors" in a["audience_ids"] for a in cafe)
    handicap = search.search_actions(workspace, "situation handicap")
    assert handicap and all("handicap" in a["audience_ids"] for a in handicap)
    assert search.search_actions(workspace, "zzzzqqq") == []
