"""Hybrid logical clock (Kulkarni et al. 2014), as strings that sort in time order.

A stamp is ``<millis:13 digits>-<counter:4 hex>-<node id>``: wall-clock
milliseconds, a counter that breaks ties inside one millisecond, and the device
id that breaks ties between devices. Comparing two stamps as strings compares
them as clocks, which is what the per-field merge needs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_DRIFT_MS = 5 * 60 * 1000
_MAX_COUNTER = 0xFFFF
_MAX_MILLIS = 10**13 - 1  # 13 digits: the year 2286
NODE_PATTERN = r"[A-Za-z0-9_-]{1,64}"
STAMP_PATTERN = rf"^[0-9]{{13}}-[0-9a-f]{{4}}-{NODE_PATTERN}$"
"""A stamp as the protocol accepts it. ASCII classes, not ``\\d``: the protocol's regex engine
would match other scripts' digits with it, and ``int()`` reads them."""
_STAMP = re.compile(STAMP_PATTERN)
_NODE = re.compile(NODE_PATTERN)


class ClockDriftError(Exception):
    """A remote stamp is more than five minutes ahead of this clock."""


@dataclass(frozen=True, order=True)
class Timestamp:
    """One stamp; refuses values whose text would not parse back to the same stamp."""

    millis: int
    counter: int
    node: str

    def __post_init__(self) -> None:
        if not (
            0 <= self.millis <= _MAX_MILLIS
            and 0 <= self.counter <= _MAX_COUNTER
            and _NODE.fullmatch(self.node)
        ):
            raise ValueError(
                f"horodatage HLC invalide : {self.millis}, {self.counter}, {self.node!r}"
            )

    def __str__(self) -> str:
        return f"{self.millis:013d}-{self.counter:04x}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        """The stamp written as ``text``, which must be exactly its canonical form."""
        if not _STAMP.fullmatch(text):
            raise ValueError(f"horodatage HLC invalide : {text!r}")
        millis, counter, node = text.split("-", 2)
        return cls(int(millis), int(counter, 16), node)


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class HybridLogicalClock:
    """Issues monotonic stamps for one node; `receive` merges a remote stamp."""

    def __init__(
        self,
        node: str,
        last: str | None = None,
        wall: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.node = node
        self._wall = wall
        origin = Timestamp(0, 0, node)  # refuses a node that no stamp could carry
        self._last = Timestamp.parse(last) if last else origin

    @property
    def last(self) -> str:
        return str(self._last)

    def now(self) -> str:
        """A new stamp later than every stamp this clock issued or received."""
        wall = self._wall()
        if wall > self._last.millis:
            self._last = Timestamp(wall, 0, self.node)
        else:
            self._last = self._next(self._last.millis, self._last.counter + 1)
        return str(self._last)

    def receive(self, remote: str) -> None:
        """Move this clock past a stamp seen from elsewhere (refused beyond 5 min of drift)."""
        stamp = Timestamp.parse(remote)
        wall = self._wall()
        if stamp.millis - wall > MAX_DRIFT_MS:
            raise ClockDriftError(
                "L'horloge d'un autre appareil est en avance de plus de 5 minutes."
            )
        millis = max(wall, self._last.millis, stamp.millis)
        if millis == self._last.millis == stamp.millis:
            counter = max(self._last.counter, stamp.counter) + 1
        elif millis == self._last.millis:
            counter = self._last.counter + 1
        elif millis == stamp.millis:
            counter = stamp.counter + 1
        else:
            counter = 0
        self._last = self._next(millis, counter)

    def _next(self, millis: int, counter: int) -> Timestamp:
        """(millis, counter), carried into the next millisecond when the counter is full:
        four hex digits is all the stamp's text (and the protocol) has room for."""
        if counter > _MAX_COUNTER:
            return Timestamp(millis + 1, 0, self.node)
        return Timestamp(millis, counter, self.node)
