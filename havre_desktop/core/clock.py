"""Time as the application sees it, injectable so tests can fix "today"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class Clock:
    """Wall clock in UTC; `today()` is the civil date in Le Havre."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        value = self._now()
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def now_iso(self) -> str:
        return iso_utc(self.now())

    def today(self) -> date:
        return self.now().astimezone(PARIS).date()

    def millis(self) -> int:
        return int(self.now().timestamp() * 1000)


class FixedClock(Clock):
    """A clock that only moves when told to (tests, demo generation)."""

    def __init__(self, at: datetime) -> None:
        self.at = at if at.tzinfo else at.replace(tzinfo=UTC)
        super().__init__(lambda: self.at)

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)


def iso_utc(moment: datetime) -> str:
    """A moment as the database writes it (UTC, milliseconds, "Z"): such strings sort by time."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
