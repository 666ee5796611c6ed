"""French wording shared by the interface, sync reports and prints (no Qt).

Counts take the singular for 0 and 1 and the plural from 2 on ("0 modification en attente",
"3 modifications en attente"): no "(s)" left for the reader to sort out.
"""

from __future__ import annotations


def french_number(n: int) -> str:
    """12345 → "12 345" (narrow no-break space between thousands, as in French)."""
    return f"{n:,}".replace(",", "\u202f")


def count(n: int, one: str, many: str) -> str:
    """`one` or `many` by French agreement, with ``{n}`` replaced by the number.

    >>> count(1, "{n} modification en attente", "{n} modifications en attente")
    '1 modification en attente'
    >>> count(3, "{n} modification en attente", "{n} modifications en attente")
    '3 modifications en attente'
    """
    return (one if abs(n) < 2 else many).format(n=french_number(n))
