"""One running instance per profile: a second start brings the open window forward.

The first start on a profile holds a lock file in the profile folder (QLockFile, owner-only)
for the life of its window, and listens on a local socket whose name is derived from the
profile folder and the user (hashed). A second start on the same profile finds the lock
taken, connects to that socket, asks the first to raise its window and exits with code 0:
two windows never open one profile (two sync engines on one database). A lock left by a
process that crashed (or was killed) is stale: the next start takes it over.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QDeadlineTimer, QLockFile, QObject, QThread, Signal
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:  # QtNetwork loads when the server starts (after the first screen)
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("havre.ui.instance")

LOCK_NAME = "instance.lock"
RAISE_REQUEST = b"raise\n"
RAISED_REPLY = b"raised\n"
CONNECT_TIMEOUT_MS = 3000
CONNECT_RETRY_MS = 50
REPLY_TIMEOUT_MS = 5000
ALREADY_OPEN_LINE = "havre-desktop: profil déjà ouvert, sa fenêtre est mise au premier plan"


def server_name(profile_root: Path) -> str:
    """The local socket's name for this profile and this user: a hash (no path or user name
    in the temp folder, and short: a Unix socket's whole path must fit in 107 bytes)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment: the uid still separates users
        user = str(os.getuid()) if hasattr(os, "getuid") else "?"
    digest = hashlib.sha256(f"{user}\0{profile_root.resolve()}".encode()).hexdigest()
    return f"havre-{digest[:24]}"


class InstanceGuard(QObject):
    """Held by the first start on a profile: the lock, and the server a second start asks."""

    raise_requested = Signal()

    def __init__(self, profile_root: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.profile_root = profile_root
        self.name = server_name(profile_root)
        self.lock_file = QLockFile(str(profile_root / LOCK_NAME))
        # The lock is held for hours: never stale by age, only when its process is gone.
        self.lock_file.setStaleLockTime(0)
        self.server: QLocalServer | None = None
        self._clients: list[QLocalSocket] = []
        self.window: QWidget | None = None  # raised on request, once there is one

    def acquire(self, listen: bool = True) -> bool:
        """Take the lock (a stale one is taken over) and, unless told to wait (`listen`
        later), listen; False if another live process holds it."""
        if not self.lock_file.tryLock(0):
            if self.lock_file.error() == QLockFile.LockError.LockFailedError:
                return False
            log.warning("instance lock error %s; started without it", self.lock_file.error())
            return True  # an unwritable folder: the profile's own checks will say more
        lock_path = self.profile_root / LOCK_NAME
        if hasattr(os, "chmod"):
            os.chmod(lock_path, 0o600)
        if listen:
            self.listen()
        return True

    def listen(self) -> None:
        """Answer a second start from now on (once: later calls do nothing). The app calls
        it once its first screen is painted, or as soon as a dialog waits for the agent
        before that (QtNetwork and its types cost ~8 ms of the start); a second start
        arriving before waits for it (`ask_first_instance_to_raise`)."""
        if self.server is not None or not self.lock_file.isLocked():
            return
        from PySide6.QtNetwork import QLocalServer

        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        # We hold the lock: a socket left there by a crashed instance is ours to replace.
        QLocalServer.removeServer(self.name)
        if not server.listen(self.name):
            log.warning("instance server not listening: %s", server.errorString())
        else:
            server.newConnection.connect(self._accept)
            self.server = server
            log.info("instance lock taken; listening for a second start")

    def release(self) -> None:
        for socket in self._clients:
            socket.abort()
        self._clients.clear()
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.lock_file.isLocked():
            self.lock_file.unlock()

    def _accept(self) -> None:
        assert self.server is not None
        while (socket := self.server.nextPendingConnection()) is not None:
            self._clients.append(socket)  # owned by the server; dropped with it
            socket.readyRead.connect(self._read_all)
        self._read_all()

    def _read_all(self) -> None:
        for socket in list(self._clients):
            while socket.canReadLine():
                line = bytes(socket.readLine().data())
                if line != RAISE_REQUEST:
                    log.info("instance server: unknown request ignored")
                    continue
                log.info("a second start on this profile asked to raise the window")
                self.raise_window()
                socket.write(QByteArray(RAISED_REPLY))
                socket.flush()
                self.raise_requested.emit()
            if socket.state() != socket.LocalSocketState.ConnectedState:
                self._clients.remove(socket)

    def raise_window(self) -> None:
        """The main window, or while the profile is being opened the dialog on screen."""
        target = self.window
        if target is None:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                target = app.activeModalWidget() or next(
                    (w for w in app.topLevelWidgets() if w.isVisible()), None
                )
        if target is None:
            return
        if target.isMinimized():
            target.showNormal()
        else:
            target.show()
        target.raise_()
        target.activateWindow()


def ask_first_instance_to_raise(profile_root: Path) -> bool:
    """From a second start: ask the instance holding the profile to raise its window.
    True once it answered. An instance that holds the lock but is still starting listens
    once its first screen is painted: it is asked again until CONNECT_TIMEOUT_MS."""
    from PySide6.QtNetwork import QLocalSocket

    socket = QLocalSocket()
    deadline = QDeadlineTimer(CONNECT_TIMEOUT_MS)
    while True:
        socket.connectToServer(server_name(profile_root))
        if socket.waitForConnected(max(1, deadline.remainingTime())):
            break
        if deadline.hasExpired():
            log.warning("profile locked but its instance does not answer: %s", socket.errorString())
            return False
        socket.abort()
        QThread.msleep(CONNECT_RETRY_MS)  # another process: no signal to wait for here
    socket.write(QByteArray(RAISE_REQUEST))
    socket.flush()
    answered = False
    while socket.waitForReadyRead(REPLY_TIMEOUT_MS):
        if socket.canReadLine():
            answered = bytes(socket.readLine().data()) == RAISED_REPLY
            break
    socket.disconnectFromServer()
    return answered
