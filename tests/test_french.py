"""French agreement of counts: no "(s)" left on screen or in the sync reports."""

from __future__ import annotations

import pytest

from havre_common.french import count, french_number


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
