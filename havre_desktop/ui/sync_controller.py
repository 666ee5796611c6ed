"""Sync from the window: its own connection and thread, progress, cancel, automatic runs.

The engine (havre_desktop.sync, Qt-free) talks to the network for long moments; it
runs on a second database connection on its own worker thread, so searching,
reading fiches and logging visits go on during a sync.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.engine import SyncEngine, SyncReport
from havre_desktop.sync.errors import (
    CertificateError,
    DeviceRevokedError,
    NotSignedInError,
    ServerUnreachableError,
    SyncCancelledError,
    SyncError,
)
from havre_desktop.sync.local import SyncStatus
from havre_desktop.ui.worker import DatabaseService

log = logging.getLogger("havre.ui.sync")

DEFAULT_INTERVAL_MINUTES = 10
RETRY_DELAYS_S: tuple[float, ...] = (30, 60, 120, 300)
"""After a sync that could not reach the server: next tries, then every 5 minutes."""


class _ProgressRelay(QObject):
    """Carries progress from the sync thread to the GUI thread (queued signal)."""

    progress = Signal(object)


class SyncController(QObject):
    """One per window. `state` is "idle", "running" or "offline"."""

    status_changed = Signal(object)  # SyncStatus
    progress = Signal(object)  # SyncProgress
    finished = Signal(object)  # SyncReport
    failed = Signal(object)  # the exception (a SyncError carries the French message)
    sync_failed = Signal(object)  # the same, when it was a sync (not a sign-in) that failed
    retry_scheduled = Signal(float)  # seconds until the next automatic try
    revoked = Signal(str)  # the French explanation; local data are gone
    signed_in = Signal(object)  # AgentInfo

    def __init__(self, engine: SyncEngine, worker: DatabaseService) -> None:
        super().__init__()
        self.engine = engine
        self.worker = worker
        self.running = False
        self.online: bool | None = None  # unknown until the first contact
        self._cancel = threading.Event()
        self._relay = _ProgressRelay()
        self._relay.progress.connect(self.progress)
        self.timer = QTimer(self)
        self.timer.timeout.connect(lambda: self.refresh_status(then_sync=True))  # if signed in
        self.retry_delays_s = RETRY_DELAYS_S
        self._retries = 0
        self.retry_timer = QTimer(self)
        self.retry_timer.setSingleShot(True)
        self.retry_timer.timeout.connect(self.sync_now)

    @classmethod
    def for_store(
        cls, ws: Workspace, store: Store, profile_id: str, keyring: Any, **engine_options: Any
    ) -> SyncController:
        """A controller on `store`, a second connection to the workspace's database."""
        sync_ws = Workspace(store, clock=ws.clock, agent_id=ws.agent_id)
        engine = SyncEngine(sync_ws, profile_id=profile_id, keyring=keyring, **engine_options)
        return cls(engine, DatabaseService(sync_ws))

    # -- automatic runs ---------------------------------------------------------------

    def set_interval(self, minutes: int) -> None:
        self.timer.setInterval(max(1, minutes) * 60_000)
        self.timer.start()

    def network_back(self) -> None:
        """The operating system says the network is there again: sync if signed in."""
        self.refresh_status(then_sync=True)

    # -- actions ----------------------------------------------------------------------

    def refresh_status(self, then_sync: bool = False) -> None:
        def done(status: SyncStatus) -> None:
            self.status_changed.emit(status)
            if then_sync and status.signed_in:
                self.sync_now()

        self.worker.submit(lambda _ws: self.engine.status(), done, self._failed)

    def sign_in(self, server_url: str, login: str, password: str) -> None:
        def done(agent: Any) -> None:
            self.signed_in.emit(agent)
            self.refresh_status()

        self.worker.submit(
            lambda _ws: self.engine.sign_in(server_url, login, password), done, self._failed
        )

    def sign_out(self) -> None:
        """A failure is reported like a sync's (a device revoked meanwhile is wiped here, and
        says so; a locked keyring keeps the session and says why)."""
        self.worker.submit(
            lambda _ws: self.engine.sign_out(), lambda _r: self.refresh_status(), self._failed
        )

    def sync_now(self) -> None:
        if self.running:
            return
        self.running = True
        self.retry_timer.stop()
        self._cancel.clear()
        relay, cancel = self._relay, self._cancel
        self.worker.submit(
            lambda _ws: self.engine.sync(relay.progress.emit, cancel.is_set),
            self._done,
            self._sync_failed,
        )

    def cancel(self) -> None:
        self._cancel.set()

    def _done(self, report: SyncReport) -> None:
        self.running = False
        self.online = True
        self._retries = 0
        self.finished.emit(report)
        self.refresh_status()

    def _failed(self, error: Exception) -> None:
        self.running = False
        if isinstance(error, ServerUnreachableError):
            self.online = False
        elif isinstance(error, SyncError) and not isinstance(
            error, NotSignedInError | SyncCancelledError
        ):
            self.online = True  # the server answered (a refusal is an answer)
        if isinstance(error, DeviceRevokedError):
            self.revoked.emit(error.message)
        else:
            self.failed.emit(error)
        self.refresh_status()

    def _sync_failed(self, error: Exception) -> None:
        """A sync failed: said like any failure; when the server could not be reached (it
        may come back any minute), another try is scheduled."""
        self.running = False
        transient = isinstance(error, ServerUnreachableError) and not isinstance(
            error, CertificateError
        )
        if transient and self.retry_delays_s:
            delay = self.retry_delays_s[min(self._retries, len(self.retry_delays_s) - 1)]
            self._retries += 1
            self.retry_timer.start(int(delay * 1000))
            self.retry_scheduled.emit(float(delay))
        if not isinstance(error, DeviceRevokedError):
            self.sync_failed.emit(error)
        self._failed(error)

    def shutdown(self) -> None:
        self.timer.stop()
        self.retry_timer.stop()
        self.cancel()
        self.worker.shutdown()


def start_sync(
    window: Any, ws: Workspace, store: Store, profile_id: str, keyring: Any
) -> SyncController:
    """Attach sync to the window: periodic runs while signed in, and one when the network
    comes back (when the platform can tell)."""
    controller = SyncController.for_store(ws, store, profile_id, keyring)
    window.attach_sync(controller)
    minutes = int(window.ctx.settings.get("sync_interval_minutes", DEFAULT_INTERVAL_MINUTES))
    controller.set_interval(minutes)
    try:
        from PySide6.QtNetwork import QNetworkInformation

        if QNetworkInformation.loadDefaultBackend():
            info = QNetworkInformation.instance()

            def reachability(state: QNetworkInformation.Reachability) -> None:
                online = state == QNetworkInformation.Reachability.Online
                controller.online = online
                if online:
                    controller.network_back()

            info.reachabilityChanged.connect(reachability)
    except ImportError:  # no network information on this platform: the timer still runs
        log.info("network reachability not available; periodic sync only")
    return controller
