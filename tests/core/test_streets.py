"""Finding a street as a reception desk types it (core, no window)."""

from __future__ import annotations

import pytest

from havre_common.streets import match_rank
from havre_desktop.core import streets
from havre_desktop.core.workspace import Workspace


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("rue de paris", "Rue de Paris"),
        ("RUE DE PARIS", "Rue de Paris"),
        ("av foch", "Avenue Foch"),
        ("bd strasbourg", "Boulevard de Strasbourg"),
        ("st joseph", "Rue Saint-Joseph"),
        ("eglise", "Rue de l'Église"),
        ("l'eglise", "Rue de l'Église"),
        ("francois 1", "Rue François Ier"),
        ("paris", "Rue de Paris"),
        ("gal leclerc", "Rue du Général Leclerc"),
    ],
)
def test_what_a_desk_types_names_the_street(typed: str, name: str) -> None:
    assert match_rank(typed, name) is not None


@pytest.mark.parametrize(
    ("typed", "name"),
    [("rue de lyon", "Rue de Paris"), ("aris", "Rue de Paris"), ("", "Rue de Paris")],
)
def test_what_does_not_name_it(typed: str, name: str) -> None:
    assert match_rank(typed, name) is None


def test_the_exact_name_and_the_words_in_order_come_first(workspace: Workspace) -> None:
    with workspace.store.transaction() as conn:
        conn.executemany(
            "INSERT INTO streets (id, name, territory_id, server_version) VALUES (?, ?, ?, 1)",
            [
                ("a", "Rue Jean de Paris", "nord"),
                ("b", "Rue de Paris", "centre-ouest"),
                ("c", "Place de Paris", "sud"),
            ],
        )
    found = streets.find_streets(workspace, "rue de paris")
    assert [s.name for s in found] == ["Rue de Paris", "Rue Jean de Paris"]
    # A street the sync brings is found at once (the index follows the table).
    with workspace.store.transaction() as conn:
        conn.execute(
            "INSERT INTO streets (id, name, territory_id, server_version) "
            "VALUES ('d', 'Rue de Paris prolongée', 'est', 1)"
        )
    assert [s.name for s in streets.find_streets(workspace, "rue de paris")] == [
        "Rue de Paris",
        "Rue de Paris prolongée",
        "Rue Jean de Paris",
    ]
    with workspace.store.transaction() as conn:
        conn.execute("UPDATE streets SET deleted = 1, server_version = 2 WHERE id = 'b'")
    assert [s.territory_id for s in streets.find_streets(workspace, "rue de paris")] == [
        "est",
        "nord",
    ]
