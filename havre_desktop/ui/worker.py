"""One worker thread owns the database connection; the GUI never waits on SQLite.

`DatabaseService.submit(job, on_done, on_error)` runs ``job(workspace)`` on the
worker thread and delivers the result (or the exception) on the GUI thread
through a queued signal, so the window never freezes on a slow query.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.operations import ChangeBus

log = logging.getLogger("havre.ui.worker")

Job = Callable[[Workspace], Any]


class _Worker(QObject):
    done = Signal(int, object, object)

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace

    @Slot(int, object)
    def run(self, request_id: int, job: Job) -> None:
        try:
            result = job(self.workspace)
        except Exception as exc:  # delivered to the caller, who decides what the user sees
            self.done.emit(request_id, None, exc)
        else:
            self.done.emit(request_id, result, None)

    @Slot()
    def close(self) -> None:
        self.workspace.store.close()


class DatabaseService(QObject):
    """GUI-side handle on the database worker."""

    _request = Signal(int, object)
    _close = Signal()
    failed = Signal(object)  # an unexpected error with no handler of its own

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._callbacks: dict[
            int, tuple[Callable[[Any], None], Callable[[Exception], None] | None]
        ] = {}
        self._thread = QThread()
        self._thread.setObjectName("havre-database")
        self._worker = _Worker(workspace)
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.run)
        self._close.connect(self._worker.close)
        self._worker.done.connect(self._deliver)
        self._thread.start()
        self.is_demo = workspace.store.get_setting("demo") == "1"
        self.changes = ChangeBus(self)  # what the jobs on this database changed, announced

    def submit(
        self,
        job: Job,
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None] | None = None,
    ) -> int:
        request_id = next(self._ids)
        self._callbacks[request_id] = (on_done, on_error)
        self._request.emit(request_id, job)
        return request_id

    @Slot(int, object, object)
    def _deliver(self, request_id: int, result: Any, error: Exception | None) -> None:
        on_done, on_error = self._callbacks.pop(request_id, (None, None))
        if error is None:
            if on_done is not None:
                on_done(result)
            return
        if on_error is not None:
            on_error(error)
        else:
            self.failed.emit(error)

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def shutdown(self) -> None:
        """Close the connection on its own thread, then stop the thread."""
        if self._thread.isRunning():
            self._close.emit()
            self._thread.quit()
            self._thread.wait()
