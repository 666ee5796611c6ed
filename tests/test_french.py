"""French agreement of counts: no "(s)" left on screen or in the sync reports."""

from __future__ import annotations

import pytest

from havre_common.french import count, de, elide, french_number


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0 modification en attente"),
        (1, "1 modification en attente"),
        (2, "2 modifications en attente"),
        (12345, "12\u202f345 modifications en attente"),
    ],
)
def test_counts_agree_the_french_way(n: int, expected: str) -> None:
    assert count(n, "{n} modification en attente", "{n} modifications en attente") == expected


def test_thousands_are_separated_by_a_narrow_no_break_space() -> None:
    assert french_number(1_000_000) == "1\u202f000\u202f000"
    assert french_number(999) == "999"


def test_elision_before_a_vowel_or_a_mute_h_only() -> None:
    assert de("Agent Fictif") == "d'Agent Fictif"
    assert de("Émilie Martin") == "d'Émilie Martin"
    assert de("Hélène") == "d'Hélène"
    assert de("Yves") == "d'Yves"
    assert de("Œuvre") == "d'Œuvre"
    assert de("Camille Démo") == "de Camille Démo"
    assert de("la Ville") == "de la Ville"
    assert de("Yaël") == "de Yaël"
    assert elide("le", "accueil") == "l'accueil"
    assert elide("La", "Anse") == "L'Anse"
    assert elide("que", "il") == "qu'il"
    assert elide("pour", "Agent") == "pour Agent"
