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


def test_no_gendered_doublet_in_what_the_app_says_or_prints() -> None:
    """The persons we write about and to are named without doublets ("inscrite ou inscrit",
    "Née ou né", "seul(e)", "inscrit·e"): the sentences are built so that none is needed
    (issue 12). Every string of the application, the printing and the contract is read."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    doublet = re.compile(
        r"\b(\w+)e ou \1\b"  # "seule ou seul", "Née ou né", "inscrite ou inscrit"
        r"|\b(\w+) ou \2e\b"  # "seul ou seule"
        r"|\w\((e|es|ne|ve)\)"  # "seul(e)", "inscrit(e)s"
        r"|\w·\w",  # "inscrit·e"
        re.IGNORECASE,
    )
    found = []
    for folder in ("havre_desktop", "common/havre_common", "server/havre_server"):
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {  # they explain the rule and may quote what it forbids
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(
                    node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
                )
                and node.body
                and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and doublet.search(node.value)
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value[:60]!r}")
    assert found == []
