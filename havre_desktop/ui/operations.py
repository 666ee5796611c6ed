"""Operations and change announcements: how the UI stays right all day.

Every database job is an `Operation`: run on the database thread, its result handled on the
GUI thread, and its failure never silent — by default logged with its traceback and told to
the user in French (the window's status bar); a page that must clean up (a list that was
loading, a button that waited) says so with `always`. An operation that writes announces what
it changed; so do a sync and the midnight roll-over. Pages listen to `ChangeBus.changed` and
refresh what they show from it, and shared state (today's date, the agent, the colleagues,
the catalogue) is reloaded from it instead of being read once at start. Anki's
`aqt.operations` (CollectionOp, QueryOp) is the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from havre_desktop.core.workspace import Workspace
    from havre_desktop.ui.worker import DatabaseService

log = logging.getLogger("havre.ui.operations")

T = TypeVar("T")


@dataclass(frozen=True)
class Changes:
    """What changed: tables (by contract name) and whether the day turned."""

    tables: frozenset[str] = field(default_factory=frozenset)
    new_day: bool = False

    def touches(self, *tables: str) -> bool:
        return self.new_day or bool(self.tables.intersection(tables))


class ChangeBus(QObject):
    """One per database (`DatabaseService.changes`): operations, the sync and the clock
    announce; pages listen."""

    changed = Signal(object)  # Changes

    def announce(self, tables: Iterable[str] = (), *, new_day: bool = False) -> None:
        changes = Changes(frozenset(tables), new_day)
        if changes.tables or changes.new_day:
            log.debug("changes announced: %s", changes)
            self.changed.emit(changes)


class Operation(Generic[T]):
    """A database job with its handlers; `run()` submits it.

    >>> Operation(db, lambda ws: visits.log_visit(ws, pid, values)) \\
    ...     .success(show).announces("visits", "planned_contacts").run()
    """

    def __init__(self, database: DatabaseService, job: Callable[[Workspace], T]) -> None:
        self._database = database
        self._job = job
        self._success: Callable[[T], None] | None = None
        self._failure: Callable[[Exception], None] | None = None
        self._always: Callable[[], None] | None = None
        self._tables: tuple[str, ...] = ()

    def success(self, handler: Callable[[T], None]) -> Operation[T]:
        self._success = handler
        return self

    def failure(self, handler: Callable[[Exception], None]) -> Operation[T]:
        """Replaces the default handler (log with traceback, French message on screen): for
        errors the page shows itself, such as a form's validation messages."""
        self._failure = handler
        return self

    def always(self, handler: Callable[[], None]) -> Operation[T]:
        """Runs after success or failure, first: what must be undone either way."""
        self._always = handler
        return self

    def announces(self, *tables: str) -> Operation[T]:
        """After success, tell every page these tables changed."""
        self._tables = tables
        return self

    def run(self) -> int:
        return self._database.submit(self._job, self._done, self._failed)

    def _done(self, result: T) -> None:
        if self._always is not None:
            self._always()
        if self._success is not None:
            self._success(result)
        if self._tables:
            self._database.changes.announce(self._tables)

    def _failed(self, error: Exception) -> None:
        if self._always is not None:
            self._always()
        if self._failure is not None:
            self._failure(error)
        else:
            self._database.failed.emit(error)  # the window logs it and tells the user


class DayWatch(QObject):
    """Announces the new day when the local date changes (midnight, or a laptop woken the
    next morning): "today" is never the day the application started."""

    def __init__(
        self,
        bus: ChangeBus,
        local_now: Callable[[], datetime],
        today: date,
        on_new_day: Callable[[date], None],
        check_every_ms: int = 30_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bus = bus
        self._local_now = local_now
        self.today = today
        self._on_new_day = on_new_day
        self.timer = QTimer(self)
        self.timer.setInterval(check_every_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> bool:
        """True when the day turned since the last check (and it was announced)."""
        now = self._local_now().date()
        if now == self.today:
            return False
        log.info("new day: %s", now.isoformat())
        self.today = now
        self._on_new_day(now)
        self._bus.announce(new_day=True)
        return True
