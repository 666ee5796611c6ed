"""Hybrid logical clock (Kulkarni et al. 2014), as strings that sort in time order.

A stamp is ``<millis:13 digits>-<counter:4 hex>-<node id>``: wall-clock
milliseconds, a counter that breaks ties inside one millisecond, and the device
id that breaks ties between devices. Comparing two stamps as strings compares
them as clocks, which is what the per-field merge needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_DRIFT_MS = 5 * 60 * 1000
_MAX_COUNTER = 0xFFFF


class ClockDriftError(Exception):
    """A remote stamp is more than five minutes ahead of this clock."""


@dataclass(frozen=True, order=True)
class Timestamp:
    millis: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.millis:013d}-{self.counter:04x}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        millis, counter, node = text.split("-", 2)
        if len(millis) != 13 or len(counter) != 4 or not node:
            raise ValueError(f"horodatage HLC invalide : {text!r}")
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
        self._last = Timestamp.parse(last) if last else Timestamp(0, 0, node)

    @property
    def last(self) -> str:
        return str(self._last)

    def now(self) -> str:
        """A new stamp later than every stamp this clock issued or received."""
        wall = self._wall()
        if wall > self._last.millis:
            self._last = Timestamp(wall, 0, self.node)
        else:
            counter = self._last.counter + 1
            if counter > _MAX_COUNTER:
                self._last = Timestamp(self._last.millis + 1, 0, self.node)
            else:
                self._last = Timestamp(self._last.millis, counter, self.node)
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
        self._last = Timestamp(millis, counter, self.node)
