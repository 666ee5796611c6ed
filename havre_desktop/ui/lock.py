"""The app lock: after the idle delay, when the session locks or the laptop suspends, on Ctrl+L.

While locked, every window of the application is *veiled*: its own widgets are hidden (not
destroyed: a half-typed visit stays as it was) and a lock page covering the window asks for
the PIN. Hidden widgets are neither painted nor in the keyboard's focus chain; the windows'
titles, tooltips, open popups and shortcuts are put away too. A window that opens while
locked (a preview, a message) is veiled as it shows. The PIN is checked on the database
worker (core.applock: Argon2id hash in the encrypted database); after five wrong PINs only
the profile's passphrase or its recovery passphrase reopens the window.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from havre_desktop import APP_NAME
from havre_desktop.core import applock
from havre_desktop.core.errors import ValidationError
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.startup import PassphraseDialog
from havre_desktop.ui.widgets import error_label
from havre_desktop.ui.worker import DatabaseService

log = logging.getLogger("havre.ui.lock")

LOCK_KEYS = QKeySequence("Ctrl+L")
ACTIVITY_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)
SecretCheck = Callable[[str], bool]


class IdleWatcher(QObject):
    """Emits `idle` once no keyboard, mouse or touch input came for `delay`.

    Time comes from `now` (the application's clock, fixed in tests); the timer only decides
    how often it is looked at. A suspended laptop that wakes up past the delay locks at the
    first look.
    """

    idle = Signal()

    def __init__(
        self,
        now: Callable[[], datetime],
        minutes: int,
        interval_ms: int = 5000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.now = now
        self.delay = timedelta(minutes=minutes)
        self.last_activity = now()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def set_minutes(self, minutes: int) -> None:
        self.delay = timedelta(minutes=minutes)

    def activity(self) -> None:
        self.last_activity = self.now()

    def check(self) -> None:
        if self.now() - self.last_activity >= self.delay:
            self.last_activity = self.now()  # one signal per idle period
            self.idle.emit()


def logind_session_path(session_id: str) -> str:
    """logind's object for a session, its id escaped as sd-bus does ("2" → ``_32``)."""
    escaped = "".join(
        c if c.isascii() and c.isalnum() and not (i == 0 and c.isdigit()) else f"_{ord(c):02x}"
        for i, c in enumerate(session_id)
    )
    return f"/org/freedesktop/login1/session/{escaped}"


class SessionLockMonitor(QObject):
    """The desktop says the session locks or the computer goes to sleep (Linux, D-Bus).

    Listens to the screensaver's ``ActiveChanged(true)`` (freedesktop and GNOME) on the session
    bus and to logind's ``Session.Lock`` and ``Manager.PrepareForSleep(true)`` on the system
    bus. The buses are passed in (tests use a private bus daemon); where there is no D-Bus
    (Windows, macOS, no session bus) it listens to nothing and the idle delay still applies.
    `session_id` (``$XDG_SESSION_ID``) narrows ``Lock`` to this session's object; unknown, the
    lock of any session of the machine locks the window (the safe side).
    """

    lock_requested = Signal(str)  # "ecran-de-veille", "session", "veille"

    def __init__(
        self, session_bus: object | None, system_bus: object | None, session_id: str = ""
    ) -> None:
        super().__init__()
        self.listening: list[str] = []
        for bus, service, path, interface, name, slot in (
            (
                session_bus,
                "",
                "/org/freedesktop/ScreenSaver",
                "org.freedesktop.ScreenSaver",
                "ActiveChanged",
                "screensaver_changed(bool)",
            ),
            (
                session_bus,
                "",
                "/org/gnome/ScreenSaver",
                "org.gnome.ScreenSaver",
                "ActiveChanged",
                "screensaver_changed(bool)",
            ),
            (
                system_bus,
                "org.freedesktop.login1",
                logind_session_path(session_id) if session_id else "",
                "org.freedesktop.login1.Session",
                "Lock",
                "session_locked()",
            ),
            (
                system_bus,
                "org.freedesktop.login1",
                "/org/freedesktop/login1",
                "org.freedesktop.login1.Manager",
                "PrepareForSleep",
                "preparing_for_sleep(bool)",
            ),
        ):
            if bus is None or not bus.isConnected():  # type: ignore[attr-defined]
                continue
            if bus.connect(service, path, interface, name, self, "1" + slot):  # type: ignore[attr-defined]
                self.listening.append(f"{interface}.{name}")
        log.info("session lock signals listened to: %d", len(self.listening))

    @classmethod
    def for_desktop(cls) -> SessionLockMonitor:
        """On the user's own session and system buses (none where Qt has no D-Bus)."""
        try:
            from PySide6.QtDBus import QDBusConnection
        except ImportError:  # a build of Qt without D-Bus
            return cls(None, None)
        return cls(
            QDBusConnection.sessionBus(),
            QDBusConnection.systemBus(),
            os.environ.get("XDG_SESSION_ID", ""),
        )

    @Slot(bool)
    def screensaver_changed(self, active: bool) -> None:
        if active:
            self.lock_requested.emit("ecran-de-veille")

    @Slot()
    def session_locked(self) -> None:
        self.lock_requested.emit("session")

    @Slot(bool)
    def preparing_for_sleep(self, going: bool) -> None:
        if going:
            self.lock_requested.emit("veille")


class LockPage(QWidget):
    """What a locked window shows: a title, one field, one button. Nothing personal."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("lock-page")
        self.setAutoFillBackground(True)
        self.setAccessibleName(tr("Application verrouillée"))
        title = QLabel(tr("Havre Ensemble est verrouillé"))
        title.setProperty("role", "title")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setMaximumWidth(420)
        self.field_label = QLabel()
        self.field_label.setBuddy(self.field)
        self.button = QPushButton(tr("&Déverrouiller"))
        self.button.setAccessibleName(tr("Déverrouiller"))
        # Not the default button: Entrée in a veiled dialog must not reach its own buttons;
        # the field's returnPressed submits.
        self.button.setAutoDefault(False)
        self.button.clicked.connect(self._submit)
        self.field.returnPressed.connect(self._submit)
        self.message = error_label()
        self.message.setAccessibleName(tr("Message du verrouillage"))
        form = QFormLayout()
        form.addRow(self.field_label, self.field)
        box = QVBoxLayout()
        box.addWidget(title)
        box.addWidget(self.explanation)
        box.addLayout(form)
        box.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.message)
        panel = QWidget()
        panel.setFixedWidth(self.fontMetrics().averageCharWidth() * 64)
        panel.setLayout(box)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(panel)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.setTabOrder(self.field, self.button)

    def _submit(self) -> None:
        if self.field.isEnabled():
            self.submitted.emit(self.field.text())

    def show_state(self, explanation: str, label: str, message: str, busy: bool) -> None:
        self.explanation.setText(explanation)
        self.field_label.setText(label)
        self.field.setAccessibleName(label.replace("&", "").rstrip(" :"))
        self.message.setText(message)
        self.message.setVisible(bool(message))
        self.field.setEnabled(not busy)
        self.button.setEnabled(not busy)


class _Veil(QObject):
    """One window while locked: its widgets hidden (kept), a lock page over it."""

    def __init__(self, window: QWidget, controller: AppLock) -> None:
        super().__init__(window)
        self.window = window
        self.title = window.windowTitle()
        self.focus = window.focusWidget()
        self.hidden: list[QWidget] = []
        self.page = LockPage(window)
        direct = Qt.FindChildOption.FindDirectChildrenOnly
        for child in window.findChildren(QWidget, options=direct):
            if child is not self.page and not child.isWindow() and child.isVisible():
                self.hide_child(child)
        self.shortcuts = [s for s in window.findChildren(QShortcut) if s.isEnabled()]
        for shortcut in self.shortcuts:
            shortcut.setEnabled(False)
        window.setWindowTitle(tr("{app} — verrouillé").format(app=APP_NAME))
        self.page.setGeometry(window.rect())
        self.page.show()
        self.page.raise_()
        self.page.submitted.connect(controller.attempt)
        window.installEventFilter(self)

    def hide_child(self, child: QWidget) -> None:
        self.hidden.append(child)
        child.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Resize:
            self.page.setGeometry(self.window.rect())
        return False

    def lift(self) -> None:
        self.window.removeEventFilter(self)
        self.page.hide()
        self.page.deleteLater()
        for child in self.hidden:
            child.show()
        for shortcut in self.shortcuts:
            shortcut.setEnabled(True)
        self.window.setWindowTitle(self.title)
        if self.focus is not None:
            self.focus.setFocus(Qt.FocusReason.OtherFocusReason)
        self.deleteLater()


class AppLock(QObject):
    """Locks every window of the application and reopens them with the PIN (or passphrase)."""

    locked_changed = Signal(bool)

    def __init__(
        self,
        main_window: QWidget,
        database: DatabaseService,
        now: Callable[[], datetime],
        idle_minutes: int,
        verify_secret: SecretCheck | None,
        demo: bool = False,
    ) -> None:
        super().__init__(main_window)
        self.main_window = main_window
        self.database = database
        self.verify_secret = verify_secret
        self.demo = demo
        self.locked = False
        self.reason = ""
        self.has_pin = False
        self.passphrase_mode = False
        self.busy = False
        self.message = ""
        self.veils: dict[QWidget, _Veil] = {}
        self.idle = IdleWatcher(now, idle_minutes, parent=self)  # stops with the window
        self.idle.idle.connect(lambda: self.lock("inactivite"))
        self.session: SessionLockMonitor | None = None
        self.listening = False
        self.refresh_pin_state()

    def listen_to_input(self) -> None:
        """Watch every event of the application (activity, Ctrl+L, windows shown while
        locked). Called once the first screen is painted (`MainWindow`), or at once by a
        lock before it: a filter on the whole application makes each event of the first
        layout and paint (thousands, for every widget) a call into Python that resolves the
        Python type of the object and of the event -- about 17 ms of the start."""
        if self.listening:
            return
        self.listening = True
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.installEventFilter(self)

    def listen_to_session(self, monitor: SessionLockMonitor) -> None:
        self.session = monitor
        monitor.setParent(self)
        monitor.lock_requested.connect(self.lock)

    def refresh_pin_state(self) -> None:
        def read(ws: object) -> tuple[bool, int]:
            from havre_desktop.core.workspace import Workspace

            assert isinstance(ws, Workspace)
            return applock.has_pin(ws), applock.failed_attempts(ws)

        self.database.submit(read, self._pin_state)

    def _pin_state(self, state: tuple[bool, int]) -> None:
        self.has_pin = state[0]
        self.passphrase_mode = not self.has_pin or state[1] >= applock.MAX_PIN_ATTEMPTS
        self._show()

    # -- input anywhere in the application ----------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in ACTIVITY_EVENTS:
            if (
                kind == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and QKeySequence(event.keyCombination()) == LOCK_KEYS
            ):
                self.lock("raccourci")
                return True
            if not self.locked:
                self.idle.activity()
        elif kind == QEvent.Type.Show and self.locked and isinstance(watched, QWidget):
            self._veil_late(watched)
        elif (
            kind == QEvent.Type.Close
            and self.locked
            and isinstance(watched, QDialog)
            and watched in self.veils
        ):
            event.ignore()  # a form closed while locked would lose what was typed
            return True
        # Échap would close (reject) a veiled dialog, and its typed text with it.
        return (
            self.locked
            and kind == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        )

    def _veil_late(self, widget: QWidget) -> None:
        """A window, or a widget of a veiled window, shown while locked: put it away too."""
        if widget.isWindow():
            if widget not in self.veils and widget.windowType() in (
                Qt.WindowType.Window,
                Qt.WindowType.Dialog,
            ):
                self._veil(widget)
            return
        parent = widget.parentWidget()
        veil = self.veils.get(parent) if parent is not None else None
        if veil is not None and widget is not veil.page:
            QTimer.singleShot(0, widget, lambda: self._hide_late(parent, widget))

    def _hide_late(self, window: QWidget | None, widget: QWidget) -> None:
        veil = self.veils.get(window) if self.locked and window is not None else None
        if veil is not None and widget.isVisible():
            veil.hide_child(widget)

    def _veil(self, window: QWidget) -> None:
        veil = _Veil(window, self)
        self.veils[window] = veil
        window.destroyed.connect(lambda: self.veils.pop(window, None))
        self._show()

    # -- locking ------------------------------------------------------------------------

    @Slot(str)
    def lock(self, reason: str = "raccourci") -> None:
        if self.locked:
            return
        self.listen_to_input()  # locked before the first screen: dialogs shown later are veiled
        self.locked = True
        self.reason = reason
        self.message = ""
        QToolTip.hideText()
        while (popup := QApplication.activePopupWidget()) is not None:
            popup.close()
        for window in QApplication.topLevelWidgets():
            if (
                window.isVisible()
                and window.windowType() in (Qt.WindowType.Window, Qt.WindowType.Dialog)
                and window not in self.veils
            ):
                self._veil(window)
        self._focus_field()
        self.database.submit(lambda ws: applock.set_locked(ws, True), lambda _r: None)
        log.info("locked (%s)", reason)
        self.locked_changed.emit(True)

    def lock_on_start(self) -> None:
        """The application was closed while locked: it opens locked (veiled as it shows)."""
        self.listen_to_input()  # the window is veiled by its Show event
        self.locked = True
        self.reason = "redemarrage"

    def unlock(self) -> None:
        self.locked = False
        self.busy = False
        self.message = ""
        for veil in list(self.veils.values()):
            veil.lift()
        self.veils.clear()
        self.idle.activity()
        self.database.submit(lambda ws: applock.set_locked(ws, False), lambda _r: None)
        log.info("unlocked")
        self.locked_changed.emit(False)

    # -- the PIN, then the passphrase -----------------------------------------------------

    @Slot(str)
    def attempt(self, text: str) -> None:
        if not self.locked or self.busy:
            return
        if self.passphrase_mode:
            self._attempt_secret(text)
            return
        self.busy = True
        self._show()
        self.database.submit(
            lambda ws: applock.check_pin(ws, text), self._pin_checked, self._check_failed
        )

    def _pin_checked(self, result: applock.PinCheck) -> None:
        self.busy = False
        if result.ok:
            self.unlock()
            return
        if result.passphrase_required:
            self.passphrase_mode = True
            self.message = tr(
                "Code incorrect cinq fois. Pour rouvrir, saisissez le mot de passe du profil "
                "ou la phrase de récupération notée à sa création."
            )
        else:
            self.message = (
                tr("Code incorrect. Il reste un essai.")
                if result.remaining == 1
                else tr("Code incorrect. Il reste {n} essais.").format(n=result.remaining)
            )
        self._show()

    def _attempt_secret(self, text: str) -> None:
        check = self.verify_secret
        if check is None:  # a demo profile has neither passphrase nor recovery phrase
            if self.demo:
                self.unlock()
            return
        self.busy = True
        self._show()
        self.database.submit(lambda _ws: check(text), self._secret_checked, self._check_failed)

    def _secret_checked(self, ok: bool) -> None:
        self.busy = False
        if ok:
            self.passphrase_mode = not self.has_pin
            self.database.submit(applock.reset_attempts, lambda _r: None)
            self.unlock()
            return
        self.message = tr("Ce n'est ni le mot de passe du profil ni sa phrase de récupération.")
        self._show()

    def _check_failed(self, error: Exception) -> None:
        self.busy = False
        log.error("the lock could not check the code", exc_info=error)
        self.message = tr("La vérification a échoué (erreur inattendue). Réessayez.")
        self._show()

    # -- what the lock pages say ----------------------------------------------------------

    def _show(self) -> None:
        if self.passphrase_mode:
            if self.verify_secret is None and self.demo:
                explanation = tr(
                    "Profil de démonstration : aucun code n'est choisi. "
                    "Appuyez sur Déverrouiller pour reprendre."
                )
            elif not self.has_pin:
                explanation = tr(
                    "Aucun code de verrouillage n'est choisi (Paramètres). Saisissez le mot de "
                    "passe du profil ou la phrase de récupération pour reprendre."
                )
            else:
                explanation = tr(
                    "Saisissez le mot de passe du profil ou la phrase de récupération pour "
                    "reprendre là où vous en étiez."
                )
            label = tr("&Mot de passe ou phrase de récupération :")
        else:
            explanation = tr(
                "Vos données sont masquées. Saisissez votre code pour reprendre là où vous en "
                "étiez : ce qui était en cours de saisie est conservé."
            )
            label = tr("&Code :")
        for veil in self.veils.values():
            veil.page.show_state(explanation, label, self.message, self.busy)
            if not self.busy:
                veil.page.field.clear()
        if not self.busy:
            self._focus_field()

    def _focus_field(self) -> None:
        """The field of the window that takes input: the top modal dialog, else the window."""
        modal = QApplication.activeModalWidget()
        target = self.veils.get(modal) if modal is not None else None
        if target is None:
            target = self.veils.get(self.main_window)
        if target is None and self.veils:
            target = next(iter(self.veils.values()))
        if target is not None:
            target.page.field.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def lock_pages(self) -> list[LockPage]:
        return [veil.page for veil in self.veils.values()]


class PinDialog(PassphraseDialog):
    """Choose the lock code (twice); saved as an Argon2id hash in the encrypted database."""

    title = "Code de verrouillage"
    field_name = "Code"
    cancel_text = "Plus tard"

    def __init__(self, explanation: str, parent: QWidget | None = None) -> None:
        super().__init__(explanation, confirm=True, parent=parent)
        self.pin = self.passphrase

    def refusal(self, value: str) -> str | None:
        try:
            applock.check_pin_format(value)
        except ValidationError as exc:
            return exc.message
        return None


PIN_EXPLANATION = (
    "Choisissez un code de {low} à {high} chiffres. Il rouvre l'application quand elle s'est "
    "verrouillée (inactivité, session verrouillée, mise en veille, Ctrl+L). Après cinq codes "
    "faux, le mot de passe du profil ou la phrase de récupération sera demandé."
)


def pin_explanation() -> str:
    return tr(PIN_EXPLANATION).format(low=applock.PIN_MIN, high=applock.PIN_MAX)
