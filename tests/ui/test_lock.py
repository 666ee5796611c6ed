"""The app lock: idle delay (time injected), session-lock signals on a real D-Bus, Ctrl+L;
nothing personal visible or reachable while locked; PIN limits; typed text survives."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtDBus import QDBusConnection, QDBusMessage
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from havre_desktop.core import applock
from havre_desktop.core.clock import FixedClock
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.lock import LockPage, PinDialog, SessionLockMonitor, logind_session_path
from havre_desktop.ui.pages.visit_form import VisitForm
from havre_desktop.ui.startup import choose_pin_if_none
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard

CTRL = Qt.KeyboardModifier.ControlModifier
PIN = "2580"
NOTE = "Personne fictive : elle attend sa petite-fille samedi."


def _set_pin(app: DemoApp, pin: str = PIN) -> None:
    done: list[object] = []
    app.database.submit(lambda ws: applock.set_pin(ws, pin), done.append)
    app.qtbot.waitUntil(lambda: bool(done))
    app.window.lock.refresh_pin_state()
    app.settle()


def _open_lefevre(app: DemoApp) -> dict[str, object]:
    (jeanne,) = app.query(
        "SELECT id FROM contacts WHERE family_name = 'Lefèvre' AND given_names = 'Jeanne'"
    )
    app.window.show_person(str(jeanne["id"]))
    persons = app.window.persons_page
    app.qtbot.waitUntil(lambda: persons.current is not None)
    assert "Lefèvre" in persons.fiche.toPlainText() or "LEFÈVRE" in persons.fiche.toPlainText()
    return jeanne


def _personal_strings(app: DemoApp) -> set[str]:
    """Every name, phone number and note of the profile (what must not show while locked)."""
    found: set[str] = set()
    for row in app.query(
        "SELECT family_name, given_names, phone_1, phone_2, address_line FROM contacts"
    ):
        found.update(str(v) for v in row.values() if v and len(str(v)) >= 4)
    for row in app.query("SELECT notes FROM visits WHERE notes IS NOT NULL AND notes != ''"):
        found.add(str(row["notes"]))
    found.add(str(app.window.ctx.agent["display_name"]))
    found.add(NOTE)
    return found


def _shown_widgets() -> list[QWidget]:
    return [
        w
        for top in QApplication.topLevelWidgets()
        if top.isVisible()
        for w in [top, *top.findChildren(QWidget)]
        if w.isVisible()
    ]


def _texts(widget: QWidget) -> list[str]:
    texts = [widget.windowTitle(), widget.toolTip(), widget.accessibleName()]
    if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
        texts.append(widget.text())
    if isinstance(widget, QPlainTextEdit | QTextEdit):
        texts.append(widget.toPlainText())
    if isinstance(widget, QComboBox):
        texts.append(widget.currentText())
    return texts


def _assert_nothing_personal(app: DemoApp, keyboard: Keyboard) -> None:
    personal = _personal_strings(app)
    pages = app.window.lock.lock_pages
    assert pages
    shown = _shown_widgets()
    for widget in shown:
        # Only the lock pages and the windows that carry them are on screen.
        assert widget.isWindow() or any(p is widget or p.isAncestorOf(widget) for p in pages), (
            widget
        )
        assert not isinstance(widget, QAbstractItemView), widget
        for text in _texts(widget):
            leaked = [p for p in personal if p and p in text]
            assert not leaked, (widget, leaked)
    # Tab and Shift+Tab go round the lock page only: no list, no fiche, no form field.
    for key in [Qt.Key.Key_Tab] * 12 + [Qt.Key.Key_Backtab] * 12:
        keyboard.key(key)
        focus = QApplication.focusWidget()
        assert focus is not None and any(p.isAncestorOf(focus) for p in pages), focus


def _type_in_lock(app: DemoApp, keyboard: Keyboard, text: str) -> None:
    page = _input_page(app)
    app.qtbot.waitUntil(lambda: page.field.isEnabled() and page.field.hasFocus())
    keyboard.type(text, counted=False)
    keyboard.key(Qt.Key.Key_Return)
    app.qtbot.waitUntil(lambda: not app.window.lock.locked or page.field.isEnabled())
    app.settle()


def _input_page(app: DemoApp) -> LockPage:
    modal = QApplication.activeModalWidget()
    veils = app.window.lock.veils
    return (veils.get(modal) if modal in veils else veils[app.window]).page  # type: ignore[index]


def test_ctrl_l_hides_everything_personal_and_the_pin_reopens(
    demo_app: DemoApp, keyboard: Keyboard
) -> None:
    app, window = demo_app, demo_app.window
    _set_pin(app)
    _open_lefevre(app)
    window.persons_page.table.setFocus()
    personal = _personal_strings(app)
    before = [t for w in _shown_widgets() for t in _texts(w)]
    assert any(p in t for t in before for p in personal)  # the check below can fail
    keyboard.key(Qt.Key.Key_L, CTRL)
    assert window.lock.locked and window.lock.reason == "raccourci"
    assert window.windowTitle() == "Havre Ensemble — verrouillé"
    assert not window.persons_page.isVisible() and not window.statusBar().isVisible()
    _assert_nothing_personal(app, keyboard)
    # Shortcuts of the hidden pages do nothing while locked.
    keyboard.key(Qt.Key.Key_F, CTRL)
    keyboard.key(Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    _assert_nothing_personal(app, keyboard)
    assert app.query("SELECT value FROM settings WHERE key = 'lock_engaged'")[0]["value"] == "1"

    _type_in_lock(app, keyboard, PIN)
    assert not window.lock.locked
    assert window.persons_page.isVisible() and "Lefèvre" in window.persons_page.fiche.toPlainText()
    assert window.windowTitle().startswith("Havre Ensemble — démonstration")
    assert window.persons_page.table.hasFocus()  # back where the agent was
    assert not window.lock.lock_pages
    assert app.query("SELECT value FROM settings WHERE key = 'lock_engaged'")[0]["value"] == "0"


def test_the_idle_delay_locks_with_the_application_clock(
    demo_app: DemoApp, keyboard: Keyboard
) -> None:
    app, window = demo_app, demo_app.window
    clock = app.ws.clock
    assert isinstance(clock, FixedClock)
    idle = window.lock.idle
    window.settings_page.idle_lock.setValue(3)  # Paramètres: 3 minutes
    app.settle()
    assert idle.delay.total_seconds() == 180
    window.navigation.setFocus()
    idle.activity()
    clock.advance(minutes=2, seconds=59)
    idle.check()
    assert not window.lock.locked
    keyboard.key(Qt.Key.Key_Down)  # the agent does something: the delay starts again
    clock.advance(minutes=2, seconds=59)
    idle.check()
    assert not window.lock.locked
    # The timer looks at the clock by itself (every 5 s in the application).
    idle.timer.setInterval(10)
    clock.advance(seconds=2)
    app.qtbot.waitUntil(lambda: window.lock.locked)
    assert window.lock.reason == "inactivite"
    _assert_nothing_personal(app, keyboard)


@pytest.fixture
def private_bus(tmp_path: Path) -> Iterator[str]:
    """A real D-Bus daemon of our own (the tests must not reach the machine's buses)."""
    config = tmp_path / "bus.conf"
    config.write_text(
        "<!DOCTYPE busconfig PUBLIC '-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN'"
        " 'http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd'>"
        "<busconfig><type>session</type>"
        f"<listen>unix:path={tmp_path}/bus</listen>"
        "<policy context='default'><allow send_destination='*' eavesdrop='true'/>"
        "<allow eavesdrop='true'/><allow own='*'/></policy></busconfig>"
    )
    daemon = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert daemon.stdout is not None
    address = daemon.stdout.readline().strip()
    assert address.startswith("unix:"), address
    yield address
    QDBusConnection.disconnectFromBus("havre-test-listener")
    QDBusConnection.disconnectFromBus("havre-test-logind")
    daemon.terminate()
    daemon.wait(timeout=10)
    daemon.stdout.close()


def test_session_lock_and_suspend_signals_lock_the_window(
    demo_app: DemoApp, keyboard: Keyboard, private_bus: str
) -> None:
    app, window = demo_app, demo_app.window
    _set_pin(app)
    _open_lefevre(app)
    bus = QDBusConnection.connectToBus(private_bus, "havre-test-listener")
    assert bus.isConnected()
    # The same private bus stands for the session bus (screensaver) and the system bus (logind).
    monitor = SessionLockMonitor(bus, bus, session_id="2")
    assert len(monitor.listening) == 4
    window.lock.listen_to_session(monitor)

    def send(path: str, signal: str, *arguments: str) -> None:
        subprocess.run(
            ["dbus-send", f"--bus={private_bus}", "--type=signal", path, signal, *arguments],
            check=True,
            timeout=30,
        )

    # The screensaver going away does not lock; coming on does (freedesktop, then GNOME).
    saver = "org.freedesktop.ScreenSaver"
    send("/org/freedesktop/ScreenSaver", f"{saver}.ActiveChanged", "boolean:false")
    send("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged", "boolean:true")
    app.qtbot.waitUntil(lambda: window.lock.locked)
    assert window.lock.reason == "ecran-de-veille"
    _assert_nothing_personal(app, keyboard)
    _type_in_lock(app, keyboard, PIN)
    assert not window.lock.locked

    # logind, from the name org.freedesktop.login1 (a service on the bus, as on a laptop).
    logind = QDBusConnection.connectToBus(private_bus, "havre-test-logind")
    assert logind.registerService("org.freedesktop.login1")

    def session_lock(session: str) -> QDBusMessage:
        path = f"/org/freedesktop/login1/session/{session}"
        return QDBusMessage.createSignal(path, "org.freedesktop.login1.Session", "Lock")

    sleep = QDBusMessage.createSignal(
        "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForSleep"
    )
    sleep.setArguments([True])
    # Another user's session locking (session 3) does not lock this one; the suspend does.
    assert logind.send(session_lock("_33")) and logind.send(sleep)
    app.qtbot.waitUntil(lambda: window.lock.locked)
    assert window.lock.reason == "veille"
    _assert_nothing_personal(app, keyboard)
    _type_in_lock(app, keyboard, PIN)
    assert logind.send(session_lock("_32"))  # this session (XDG_SESSION_ID=2)
    app.qtbot.waitUntil(lambda: window.lock.locked)
    assert window.lock.reason == "session"


def test_five_wrong_pins_then_only_the_passphrase_or_recovery_phrase(
    demo_app: DemoApp, keyboard: Keyboard
) -> None:
    app, window = demo_app, demo_app.window
    _set_pin(app)
    stored = app.query("SELECT value FROM settings WHERE key = 'lock_pin_hash'")[0]["value"]
    assert str(stored).startswith("$argon2id$") and PIN not in str(stored)
    window.navigation.setFocus()
    keyboard.key(Qt.Key.Key_L, CTRL)
    page = _input_page(app)
    for remaining in (4, 3, 2):
        _type_in_lock(app, keyboard, "1357")
        assert page.message.text() == f"Code incorrect. Il reste {remaining} essais."
    _type_in_lock(app, keyboard, "1357")
    assert page.message.text() == "Code incorrect. Il reste un essai."
    _type_in_lock(app, keyboard, "1357")
    assert "Code incorrect cinq fois" in page.message.text()
    assert page.field_label.text() == "&Mot de passe ou phrase de récupération :"
    # The right PIN no longer opens; the count is kept in the encrypted database (a restart
    # gives no new tries).
    _type_in_lock(app, keyboard, PIN)
    assert window.lock.locked
    assert page.message.text() == (
        "Ce n'est ni le mot de passe du profil ni sa phrase de récupération."
    )
    failed: list[int] = []
    app.database.submit(applock.failed_attempts, failed.append)
    app.qtbot.waitUntil(lambda: bool(failed))
    assert failed == [5]
    _type_in_lock(app, keyboard, app.recovery.lower().replace("-", " "))
    assert not window.lock.locked
    # Afterwards the PIN works again.
    keyboard.key(Qt.Key.Key_L, CTRL)
    assert _input_page(app).field_label.text() == "&Code :"
    _type_in_lock(app, keyboard, PIN)
    assert not window.lock.locked


def test_without_a_pin_the_lock_asks_the_recovery_phrase(
    demo_app: DemoApp, keyboard: Keyboard
) -> None:
    app, window = demo_app, demo_app.window
    window.navigation.setFocus()
    keyboard.key(Qt.Key.Key_L, CTRL)
    page = _input_page(app)
    assert "Aucun code de verrouillage n'est choisi" in page.explanation.text()
    _type_in_lock(app, keyboard, "1234")
    assert window.lock.locked
    _type_in_lock(app, keyboard, app.recovery)
    assert not window.lock.locked


def test_a_visit_being_typed_survives_the_lock(
    demo_app: DemoApp, keyboard: Keyboard, dialogs: DialogDriver
) -> None:
    app, window = demo_app, demo_app.window
    _set_pin(app)
    jeanne = _open_lefevre(app)
    window.persons_page.table.setFocus()

    def type_lock_unlock_save() -> None:
        form = QApplication.activeModalWidget()
        assert isinstance(form, VisitForm)
        app.qtbot.waitUntil(form.kind.hasFocus)
        form.notes.setFocus()
        keyboard.type(NOTE, counted=False)
        keyboard.key(Qt.Key.Key_L, CTRL)  # from inside the modal form
        assert window.lock.locked and form.isVisible()  # the form is kept, veiled
        assert not form.notes.isVisible()
        assert form.windowTitle() == "Havre Ensemble — verrouillé"
        _assert_nothing_personal(app, keyboard)
        keyboard.key(Qt.Key.Key_Escape)  # neither Échap nor closing the window ends the form
        form.close()
        assert form.isVisible() and window.lock.locked
        _type_in_lock(app, keyboard, "9999")  # a wrong code first
        assert window.lock.locked and form.isVisible()
        _type_in_lock(app, keyboard, PIN)
        assert not window.lock.locked
        assert form.notes.isVisible() and form.notes.toPlainText() == NOTE
        assert "LEFÈVRE" in form.windowTitle()
        assert form.notes.hasFocus()
        keyboard.key(Qt.Key.Key_Return, CTRL)

    dialogs.soon(type_lock_unlock_save)
    window.persons_page.new_visit()
    dialogs.check()
    app.settle()
    (visit,) = app.query(
        "SELECT notes FROM visits WHERE person_id = ? AND is_sample = 0", (jeanne["id"],)
    )
    assert visit["notes"] == NOTE


def test_a_window_opening_while_locked_is_veiled(demo_app: DemoApp, keyboard: Keyboard) -> None:
    app, window = demo_app, demo_app.window
    _set_pin(app)
    window.lock.lock("raccourci")
    form = VisitForm(
        app.database,
        window.ctx.references,
        {"id": "x", "family_name": "Lefèvre", "given_names": "Jeanne"},
        [],
        parent=window,
    )
    form.show()  # e.g. a preview that finished while the agent was away
    app.qtbot.waitUntil(lambda: form in window.lock.veils)
    assert "Lefèvre" not in form.windowTitle() and not form.notes.isVisible()
    _assert_nothing_personal(app, keyboard)
    form.close()


def test_closed_while_locked_opens_locked(demo_app: DemoApp) -> None:
    from havre_desktop.ui.context import load_context_data
    from havre_desktop.ui.main_window import MainWindow, build_context

    app = demo_app
    app.window.lock.lock("raccourci")
    app.settle()
    data: list[dict[str, object]] = []
    app.database.submit(load_context_data, data.append)
    app.qtbot.waitUntil(lambda: bool(data))
    again = MainWindow(build_context(app.database, data[0]))
    app.qtbot.addWidget(again)
    again.show()
    app.qtbot.waitUntil(lambda: again in again.lock.veils)
    assert not again.navigation.isVisible()
    # The pages go on being built behind the lock (the last one is Paramètres).
    app.qtbot.waitUntil(lambda: "settings" in again.pages_built, timeout=10_000)
    assert not again.navigation.isVisible()
    again.close()


def test_first_run_asks_the_lock_code(workspace: Workspace, dialogs: DialogDriver) -> None:
    def choose(dialog: PinDialog) -> None:
        for pin, confirmation, message in (
            ("12a4", "12a4", "Le code doit compter de 4 à 8 chiffres, sans lettre."),
            ("1234", "1234", "Ce code est trop facile à deviner"),
            ("0000", "0000", "Ce code est trop facile à deviner"),
            ("4871", "4817", "Les deux saisies ne sont pas identiques."),
        ):
            dialog.pin.setText(pin)
            dialog.confirmation.setText(confirmation)
            dialog._check()
            assert dialog.isVisible() and dialog.error.text().startswith(message)
        dialog.pin.setText("4871")
        dialog.confirmation.setText("4871")
        dialog._check()

    dialogs.when(PinDialog, choose)  # type: ignore[arg-type]
    assert choose_pin_if_none(workspace)
    dialogs.check()
    assert applock.check_pin(workspace, "4871").ok
    assert choose_pin_if_none(workspace)  # asked once only


def test_logind_session_paths() -> None:
    assert logind_session_path("2") == "/org/freedesktop/login1/session/_32"
    assert logind_session_path("c1") == "/org/freedesktop/login1/session/c1"
    assert logind_session_path("a-b") == "/org/freedesktop/login1/session/a_2db"


# A popup on the offscreen platform: its own notices, not the application's.
@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)")
def test_an_open_list_is_closed_by_the_lock(demo_app: DemoApp, keyboard: Keyboard) -> None:
    app, window = demo_app, demo_app.window
    page = window.prints_page
    window.go_to(page)
    page.letter_kind.setFocus()
    page.letter_kind.showPopup()
    app.qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
    keyboard.key(Qt.Key.Key_L, CTRL)  # the open list has the keyboard
    assert window.lock.locked
    assert QApplication.activePopupWidget() is None
    # The offscreen platform does not hand activation back to the window after a popup.
    window.activateWindow()
    app.qtbot.waitActive(window)
    app.qtbot.waitUntil(_input_page(app).field.hasFocus)
    _assert_nothing_personal(app, keyboard)
