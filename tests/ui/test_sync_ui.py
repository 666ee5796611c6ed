"""Sync from the window against a real havre-server process on loopback.

Every test drives the real window and its sync controller (own connection, own thread) against
a ``havre-server serve`` process, and checks what a person sees (status bar, Synchronisation
page, dialogs, message boxes) and what the databases hold (both ends).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from havre_common.french import long_date
from havre_common.reference import load_reference
from havre_desktop.core import contacts, visits
from havre_desktop.core.clock import PARIS, FixedClock
from havre_desktop.core.profile import ProfileManager
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.errors import (
    AccountDisabledError,
    BadCredentialsError,
    CertificateError,
    ClientTooOldError,
    ClockSkewError,
    DeviceRevokedError,
    ServerUnreachableError,
)
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.operations import Operation
from havre_desktop.ui.pages.visit_form import VisitForm
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.sync_widgets import SignInDialog, SyncPage, SyncStatusArea
from havre_desktop.ui.worker import DatabaseService
from tests.helpers import MemoryKeyring, new_workspace, person_values
from tests.server.support import (
    PASSWORD,
    ServerProcess,
    World,
    audit_mutation,
    iso,
    make_server,
    new_visit,
    started,
)
from tests.server.support import new_person as server_person
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard

Yes = QMessageBox.StandardButton.Yes
No = QMessageBox.StandardButton.No
Ok = QMessageBox.StandardButton.Ok


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("ui-sync-server")
    process = make_server("sqlite", f"sqlite:///{tmp / 'havre-server.db'}", tmp)
    with started(process, "--min-client-version", "0.1.0"):
        yield process


@pytest.fixture
def world(server: ServerProcess) -> Iterator[World]:
    w = World(server)
    yield w
    w.close()


@pytest.fixture
def other_process(server: ServerProcess, tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Another ``havre-server serve`` on the same database (its own port and options), for
    the tests that stop, reconfigure or put TLS in front of the server."""
    made: list[ServerProcess] = []

    def start(*options: str, ca_bundle: Path | None = None) -> ServerProcess:
        workdir = tmp_path / f"server-{len(made)}"
        workdir.mkdir()
        process = ServerProcess(server.backend, server.database_url, server.env, workdir)
        process.ca_bundle = ca_bundle
        made.append(process)
        process.start(*options)
        return process

    yield start
    for process in made:
        process.stop()


# -- a desktop: profile, window, sync controller ---------------------------------------------


@dataclass
class Desk:
    """One desktop profile with its window and its sync controller."""

    app: DemoApp
    controller: SyncController
    manager: ProfileManager
    folder: Path
    statuses: list[int] = field(default_factory=lambda: [0])

    @property
    def window(self) -> MainWindow:
        return self.app.window

    @property
    def area(self) -> SyncStatusArea:
        assert self.window.sync_area is not None
        return self.window.sync_area

    @property
    def page(self) -> SyncPage:
        assert self.window.sync_page is not None
        return self.window.sync_page

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
        return self.app.query(sql, params)

    def outbox_ids(self) -> set[str]:
        return {str(r["mutation_id"]) for r in self.query("SELECT mutation_id FROM outbox")}

    def person(self, person_id: str) -> dict[str, Any]:
        rows = self.query("SELECT * FROM contacts WHERE id = ?", (person_id,))
        assert rows, f"person {person_id} not on this desktop"
        return rows[0]


@pytest.fixture
def desks(tmp_path: Path, qtbot: QtBot) -> Iterator[Callable[..., Desk]]:
    """``desks(name)``: a new profile (own keyring, own folder) and its window, not signed in.
    ``clock_offset`` makes this computer's clock wrong by that much."""
    made: list[Desk] = []

    def make(
        name: str = "profile",
        *,
        clock_offset: timedelta = timedelta(0),
        parent: Path | None = None,
        role: str = "travailleur-social",
        **engine_options: Any,
    ) -> Desk:
        folder = (parent or tmp_path) / name
        keyring = MemoryKeyring()
        # The server refuses clocks more than 5 minutes off: this profile's clock is now
        # (plus the offset a test asks for).
        ws, manager, _recovery = new_workspace(
            folder, keyring, role=role, territories=["nord"], now=datetime.now(UTC) + clock_offset
        )
        data = load_context_data(ws)
        sync_store = ws.store.open_another()
        database = DatabaseService(ws)
        # Not given to qtbot: its own teardown closes windows before this fixture's, and the
        # window would ask about unsent changes with nobody to answer.
        window = MainWindow(build_context(database, data), str(folder))
        window.resize(1280, 800)
        window.show()
        controller = SyncController.for_store(
            ws, sync_store, manager.profile_id, keyring, **engine_options
        )
        window.attach_sync(controller)
        app = DemoApp(window, ws, database, qtbot)
        desk = Desk(app, controller, manager, folder)
        controller.status_changed.connect(
            lambda _s: desk.statuses.__setitem__(0, desk.statuses[0] + 1)
        )
        made.append(desk)
        app.settle()
        qtbot.waitUntil(lambda: desk.statuses[0] > 0)
        return desk

    yield make
    for desk in made:
        desk.app.settle()
        desk.window.sync = None  # closing at teardown must not ask about unsent changes
        desk.controller.shutdown()
        desk.app.database.shutdown()
        desk.window.close()
        desk.window.deleteLater()
    QApplication.processEvents()
    # Deleted now, not at some later test's turn of the event loop (their timers with them).
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def sign_in(qtbot: QtBot, desk: Desk, url: str, login: str) -> None:
    with qtbot.waitSignal(desk.controller.signed_in, timeout=20_000):
        desk.controller.sign_in(url, login, PASSWORD)
    qtbot.waitUntil(lambda: "Connecté en tant que" in desk.page.account.text(), timeout=10_000)
    qtbot.waitUntil(desk.area.button.isEnabled)


def synced_status(qtbot: QtBot, desk: Desk, action: Callable[[], None], signal: Any) -> None:
    """Run `action`, wait for `signal`, then for the status read afterwards to be on screen."""
    qtbot.waitUntil(lambda: not desk.controller.running, timeout=30_000)
    with qtbot.waitSignal(signal, timeout=30_000):
        action()
    shown = desk.statuses[0]
    qtbot.waitUntil(lambda: desk.statuses[0] > shown, timeout=10_000)
    desk.app.settle()


def sync(qtbot: QtBot, desk: Desk) -> None:
    """Click *Synchroniser* and wait until it has finished and the new status is shown."""
    qtbot.waitUntil(desk.area.button.isEnabled, timeout=10_000)
    synced_status(qtbot, desk, desk.area.button.click, desk.controller.finished)


def sync_fails(qtbot: QtBot, desk: Desk) -> None:
    qtbot.waitUntil(desk.area.button.isEnabled, timeout=10_000)
    synced_status(qtbot, desk, desk.area.button.click, desk.controller.sync_failed)


def edit(qtbot: QtBot, desk: Desk, job: Callable[[Workspace], Any]) -> Any:
    """Save something as the pages do (through the window's database worker)."""
    results: list[Any] = []

    def done(result: Any) -> None:
        results.append(result)
        desk.window.data_changed()

    desk.app.database.submit(job, done)
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    desk.app.settle()
    return results[0]


def new_person(qtbot: QtBot, desk: Desk, **values: Any) -> str:
    row = edit(qtbot, desk, lambda ws: contacts.create_person(ws, person_values(**values)))
    return str(row["id"])


class MessageBoxes:
    """Answers every message box as it opens (one poller for all of them) and records its
    title and text. Answers are given in order; without one, a box is answered No (or Ok)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.answers: list[QMessageBox.StandardButton] = []
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def answer(self, *buttons: QMessageBox.StandardButton) -> None:
        self.answers.extend(buttons)

    def _poll(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or not box.isVisible():
            return
        self.seen.append((box.windowTitle(), box.text()))
        wanted = self.answers.pop(0) if self.answers else None
        button = box.button(wanted) if wanted is not None else None
        button = button or box.button(No) or box.button(Ok)
        assert button is not None
        button.click()

    def stop(self) -> None:
        self._timer.stop()


@pytest.fixture
def boxes() -> Iterator[MessageBoxes]:
    answering = MessageBoxes()
    yield answering
    answering.stop()


def conflict_rows(page: SyncPage) -> list[list[str]]:
    model = page.conflict_model
    return [
        [str(model.data(model.index(r, c))) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


# -- sign in, edit, sync ----------------------------------------------------------------------


def test_sign_in_edit_offline_sync_and_the_server_has_it(
    qtbot: QtBot, world: World, server: ServerProcess, dialogs: DialogDriver, desks: Any
) -> None:
    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks()
    area, page = desk.area, desk.page
    assert area.network.text() == "Non connecté au serveur"
    assert not area.button.isEnabled()

    def wrong_then_right(dialog: object) -> None:
        assert isinstance(dialog, SignInDialog)
        dialog.server.setText(server.base_url)
        dialog.login.setText(login)
        dialog.password.setText("mauvais mot de passe")
        dialog.submit()
        qtbot.waitUntil(dialog.error.isVisible, timeout=10_000)
        assert dialog.error.text() == BadCredentialsError().message
        assert dialog.error.text() == "Identifiant ou mot de passe incorrect."
        assert dialog.password.text() == ""  # not kept on screen
        dialog.password.setText(PASSWORD)
        dialog.submit()

    dialogs.when(SignInDialog, wrong_then_right)
    page.sign_in_button.click()
    dialogs.check()
    qtbot.waitUntil(lambda: "Connecté en tant que" in page.account.text(), timeout=10_000)

    # Offline work: a new person waits in the outbox.
    new_person(qtbot, desk, family_name="Synchronisée", given_names="Rose")
    qtbot.waitUntil(lambda: area.pending.text() == "1 modification en attente")
    sync(qtbot, desk)
    assert area.pending.text() == "Aucune modification en attente"
    assert "Synchronisation terminée" in page.message.text()
    assert "Dernière synchronisation : à l'instant" in area.last.text()
    assert area.network.text() == "En ligne"
    assert not area.problem.isVisible()
    # A colleague of the same territory receives her at the next pull.
    colleague = world.agent("travailleur-social", ["nord"])
    changes, _cursor = colleague.pull_all()
    names = {
        (c.get("fields") or {}).get("family_name") for c in changes if c["table_name"] == "contacts"
    }
    assert "Synchronisée" in names


def test_edits_waiting_unsent_too_long_are_warned_about_until_a_sync_sends_them(
    qtbot: QtBot, world: World, server: ServerProcess, desks: Any, keyboard: Keyboard
) -> None:
    """CommCare's "unsent forms" warning: the status bar says, in words and with a sign, how
    many edits have waited more than the delay of Paramètres (3 days unless changed); the
    application's clock says how long; a sync that sends them removes it."""
    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks()
    sign_in(qtbot, desk, server.base_url, login)
    window, warning = desk.window, desk.window.unsent_warning
    clock = desk.app.ws.clock
    assert isinstance(clock, FixedClock)
    now = clock.at
    clock.at = now - timedelta(days=4)  # made four days ago, the window open since
    assert window.day_watch.check()
    new_person(qtbot, desk, family_name="Attente", given_names="Rose")
    assert desk.area.pending.text() == "1 modification en attente"
    assert not warning.isVisible()  # just made: nothing to warn about
    clock.at = now  # four days later: the day watch sees the new day, as at midnight
    assert window.day_watch.check()
    desk.app.settle()
    expected = "⚠ Attention : 1 modification attend d'être envoyée depuis plus de 3 jours"
    qtbot.waitUntil(lambda: warning.text() == expected)
    assert warning.isVisible()
    assert warning.accessibleName() == "Avertissement : modifications non envoyées"

    # Paramètres, from the keyboard: a longer delay hides it, a shorter one says so.
    window.show_page("settings")
    with qtbot.waitActive(window):
        window.activateWindow()
    window.navigation.setFocus()  # where Alt+number left it
    spin = window.settings_page.unsent_days
    keyboard.key(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is spin
    assert spin.value() == 3  # the default
    keyboard.key(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    keyboard.type("5")
    qtbot.waitUntil(lambda: not warning.isVisible())
    assert warning.text() == ""
    keyboard.key(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    keyboard.type("1")
    qtbot.waitUntil(lambda: "depuis plus de 1 jour" in warning.text())
    assert warning.text() == (
        "⚠ Attention : 1 modification attend d'être envoyée depuis plus de 1 jour"
    )
    assert warning.isVisible()
    assert desk.query("SELECT value FROM settings WHERE key = 'unsent_warning_days'") == [
        {"value": "1"}
    ]

    sync(qtbot, desk)  # the server acknowledges it: nothing waits any more
    assert desk.outbox_ids() == set()
    qtbot.waitUntil(lambda: not warning.isVisible())
    assert warning.text() == ""
    assert desk.area.pending.text() == "Aucune modification en attente"


# -- journey 3: two agents, one person ---------------------------------------------------------


def test_a_conflict_between_two_agents_is_settled_on_the_page_and_both_converge(
    qtbot: QtBot, world: World, server: ServerProcess, desks: Any
) -> None:
    login_a = world.create_agent("travailleur-social", ["nord"], name="Alice")
    login_b = world.create_agent("travailleur-social", ["nord"], name="Bruno")
    a, b = desks("poste-alice"), desks("poste-bruno")
    sign_in(qtbot, a, server.base_url, login_a)
    sign_in(qtbot, b, server.base_url, login_b)
    person = new_person(qtbot, a, family_name="Conflit", given_names="Jeanne")
    sync(qtbot, a)
    sync(qtbot, b)
    assert b.person(person)["phone_1"] == "02 61 91 12 34"

    # Both offline: each changes the phone and the address; Bruno also the postcode.
    edit(
        qtbot,
        a,
        lambda ws: contacts.update(
            ws, person, {"phone_1": "02 61 91 11 11", "address_line": "3 rue Alpha"}
        ),
    )
    edit(
        qtbot,
        b,
        lambda ws: contacts.update(
            ws,
            person,
            {"phone_1": "02 61 91 22 22", "address_line": "5 rue Bravo", "postcode": "76600"},
        ),
    )
    sync(qtbot, a)
    sync(qtbot, b)  # the server finds both fields changed twice: two conflicts
    assert "2 conflits à examiner" in b.page.message.text()
    sync(qtbot, a)  # Alice receives them

    names = {
        str(r["id"]): str(r["display_name"]) for r in a.query("SELECT id, display_name FROM agents")
    }
    alice = next(n for n in names.values() if n.startswith("Alice"))
    bruno = next(n for n in names.values() if n.startswith("Bruno"))
    for desk, me, other in ((a, alice, bruno), (b, bruno, alice)):
        desk.window.go_to(desk.page)
        rows = conflict_rows(desk.page)
        assert sorted(r[1] for r in rows) == ["Adresse", "Téléphone"], rows
        phone = next(r for r in rows if r[1] == "Téléphone")
        assert phone[0] == "CONFLIT Jeanne"
        assert {phone[2], phone[4]} == {"02 61 91 11 11", "02 61 91 22 22"}
        # Who typed each value, and when; "(vous)" on this agent's own value.
        mine = (
            phone[3]
            if phone[2] == ("02 61 91 11 11" if me == alice else "02 61 91 22 22")
            else phone[5]
        )
        theirs = phone[5] if mine == phone[3] else phone[3]
        assert mine.startswith(f"{me} (vous), ") and theirs.startswith(f"{other}, ")
        # Shown in Le Havre's time; the edit was made moments ago (perhaps before midnight).
        days = {(datetime.now(PARIS) - timedelta(minutes=m)).strftime("%d/%m/%Y") for m in (0, 5)}
        assert any(day in mine for day in days), mine
        # The value kept for now is the same on both desktops, and it is in the fiche.
        assert desk.person(person)["phone_1"] == phone[2]
    kept_phone = next(r for r in conflict_rows(a.page) if r[1] == "Téléphone")[2]
    set_aside_phone = next(r for r in conflict_rows(a.page) if r[1] == "Téléphone")[4]
    assert next(r for r in conflict_rows(b.page) if r[1] == "Téléphone")[2] == kept_phone

    # Alice settles both: the phone set aside was the right one; the address is typed anew.
    page = a.page
    labels = [r[1] for r in conflict_rows(page)]
    page.conflicts.selectRow(labels.index("Téléphone"))
    with qtbot.waitSignal(a.controller.status_changed, timeout=10_000):
        page.keep_discarded.click()
    qtbot.waitUntil(lambda: page.conflict_model.rowCount() == 1)
    assert conflict_rows(page)[0][1] == "Adresse"
    page.conflicts.selectRow(0)
    page.merged.setText("5 rue Bravo, bâtiment C")
    with qtbot.waitSignal(a.controller.status_changed, timeout=10_000):
        page.use_merged.click()
    qtbot.waitUntil(lambda: page.conflict_model.rowCount() == 0)
    qtbot.waitUntil(lambda: a.area.pending.text() != "Aucune modification en attente")

    sync(qtbot, a)
    sync(qtbot, b)
    for desk in (a, b):
        fiche = desk.person(person)
        assert fiche["phone_1"] == set_aside_phone
        assert fiche["address_line"] == "5 rue Bravo, bâtiment C"
        assert fiche["postcode"] == "76600"  # Bruno's edit that collided with nothing
        assert desk.query("SELECT id FROM conflicts WHERE resolved_at IS NULL") == []
        assert desk.outbox_ids() == set()
        assert desk.page.conflict_model.rowCount() == 0
        assert desk.area.pending.text() == "Aucune modification en attente"
    # The server holds the same.
    server_row = server.sql(
        "SELECT phone_1, address_line, postcode FROM contacts WHERE id = :id", id=person
    )
    assert tuple(server_row[0]) == (set_aside_phone, "5 rue Bravo, bâtiment C", "76600")


# -- the server goes away in the middle of a sync ------------------------------------------------


class StopServerAfterFirstPush(httpx.BaseTransport):
    """The real HTTP transport; once the first push has been answered (and committed), the
    server process is stopped, before the next batch goes out."""

    def __init__(self, inner: httpx.BaseTransport, server: ServerProcess, done: list[bool]):
        self.inner, self.server, self.done = inner, server, done

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/sync/push") and not self.done:
            response.read()
            self.done.append(True)
            self.server.stop()
        return response

    def close(self) -> None:
        self.inner.close()


def test_server_stopped_mid_sync_then_restarted_nothing_is_lost(
    qtbot: QtBot, world: World, other_process: Any, desks: Any
) -> None:
    process: ServerProcess = other_process("--min-client-version", "0.1.0")
    stopped: list[bool] = []
    desk = desks(
        push_batch=2, http_wrap=lambda inner: StopServerAfterFirstPush(inner, process, stopped)
    )
    desk.controller.retry_delays_s = (1.0,)
    login = world.create_agent("travailleur-social", ["nord"])
    sign_in(qtbot, desk, process.base_url, login)
    people = [new_person(qtbot, desk, family_name=f"Coupure{n}") for n in range(5)]
    waiting = desk.outbox_ids()
    assert len(waiting) == 5

    desk.window.go_to(desk.page)
    with qtbot.waitSignal(desk.controller.retry_scheduled, timeout=30_000):
        desk.area.button.click()
    qtbot.waitUntil(lambda: desk.page.error.isVisible(), timeout=10_000)
    assert stopped == [True]
    assert desk.page.error.text() == (
        f"{ServerUnreachableError().message} Nouvel essai automatique dans 1 seconde."
    )
    assert desk.page.error.text().startswith(
        "Le serveur de synchronisation est injoignable (réseau absent ou connexion "
        "interrompue). Vos modifications restent sur cet ordinateur et seront envoyées plus tard."
    )
    qtbot.waitUntil(lambda: desk.area.network.text() == "Hors ligne", timeout=10_000)
    assert desk.area.problem.text() == "Serveur injoignable (nouvel essai dans 1 seconde)"
    left = desk.outbox_ids()
    assert len(left) == 3 and left < waiting  # the first batch of two was acknowledged
    assert desk.area.pending.text() == "3 modifications en attente"

    process.restart()  # the automatic retry finds it back
    with qtbot.waitSignal(desk.controller.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: desk.area.pending.text() == "Aucune modification en attente")
    qtbot.waitUntil(lambda: desk.area.network.text() == "En ligne")
    assert not desk.area.problem.isVisible()
    assert desk.outbox_ids() == set()
    applied = {
        str(r[0])
        for r in process.sql("SELECT mutation_id FROM applied_mutations")
        if str(r[0]) in waiting
    }
    assert applied == waiting  # every edit reached the server, each once
    on_server = {str(r[0]) for r in process.sql("SELECT id FROM contacts")}
    assert set(people) <= on_server


# -- a lost laptop ----------------------------------------------------------------------------


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_signing_out_a_device_revoked_meanwhile_says_so_and_wipes_it(
    qtbot: QtBot, world: World, server: ServerProcess, desks: Any, boxes: MessageBoxes
) -> None:
    """A failed sign-out used to be silent: the wipe happened and nobody was told."""
    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks("profil-deconnecte")
    sign_in(qtbot, desk, server.base_url, login)
    new_person(qtbot, desk, family_name="Envoyée")
    sync(qtbot, desk)
    devices = json.loads(server.cli("list-devices", "--login", login))
    assert "Appareil révoqué" in server.cli("revoke-device", devices[0]["device_id"])
    boxes.answer(Ok)
    with qtbot.waitSignal(desk.controller.revoked, timeout=30_000):
        desk.page.sign_out_button.click()
    qtbot.waitUntil(lambda: bool(boxes.seen), timeout=10_000)
    assert boxes.seen[0][0] == "Appareil révoqué"
    assert desk.page.error.text() == DeviceRevokedError(0).message


def test_revoked_device_shows_why_wipes_its_profile_and_touches_nothing_else(
    qtbot: QtBot,
    world: World,
    server: ServerProcess,
    desks: Any,
    boxes: MessageBoxes,
    tmp_path: Path,
) -> None:
    home = tmp_path / "postes"
    home.mkdir()
    sibling = home / "notes-personnelles.txt"
    sibling.write_text("À ne pas effacer.\n", "utf-8")
    other_ws, _other_manager, _ = new_workspace(home / "autre-profil", MemoryKeyring())
    kept = contacts.create_person(other_ws, person_values(family_name="Gardée"))
    other_ws.store.close()
    before = _fingerprint(home / "autre-profil")

    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks("profil-vole", parent=home)
    sign_in(qtbot, desk, server.base_url, login)
    new_person(qtbot, desk, family_name="Envoyée")
    sync(qtbot, desk)
    new_person(qtbot, desk, family_name="Pasenvoyée")
    names = {r["family_name"] for r in desk.query("SELECT family_name FROM contacts")}
    assert {"Envoyée", "Pasenvoyée"} <= names  # with the territory's other persons

    # The coordinator revokes the laptop from the server's shell.
    devices = json.loads(server.cli("list-devices", "--login", login))
    assert len(devices) == 1
    device_id = devices[0]["device_id"]
    assert "Appareil révoqué" in server.cli("revoke-device", device_id)

    boxes.answer(Ok)
    desk.window.go_to(desk.page)
    with qtbot.waitSignal(desk.controller.revoked, timeout=30_000):
        desk.area.button.click()
    qtbot.waitUntil(lambda: not desk.window.isVisible(), timeout=10_000)
    expected = DeviceRevokedError(1).message
    assert expected == (
        "Cet appareil a été révoqué par votre coordinateur (ordinateur perdu ou volé) : ses "
        "données locales ont été effacées (1 modification non envoyée a été perdue). Pour "
        "travailler à nouveau sur cet ordinateur, reconnectez-vous : vos données vous seront "
        "renvoyées par le serveur."
    )
    # One box, saying why; no question about unsent changes (they are gone).
    assert boxes.seen == [("Appareil révoqué", expected)]
    assert desk.page.error.text() == expected
    assert desk.area.pending.text() == "Aucune modification en attente"

    # The profile's data is gone, from its file too (read through a new connection).
    store = desk.manager.unlock()
    try:
        for table in ("contacts", "outbox", "visits", "actions", "conflicts"):
            assert store.scalar(f"SELECT count(*) FROM {table}") == 0, table
        assert store.scalar("SELECT count(*) FROM agents") == 1  # the profile still opens
    finally:
        store.close()
    # Nothing else on the machine: the file beside it, another profile.
    assert sibling.read_text("utf-8") == "À ne pas effacer.\n"
    assert _fingerprint(home / "autre-profil") == before
    other = ProfileManager(home / "autre-profil", _other_manager.keyring_backend).unlock()
    try:
        assert other.scalar("SELECT family_name FROM contacts WHERE id = ?", (kept["id"],)) == (
            "Gardée"
        )
    finally:
        other.close()


# -- each error state, with the exact words the agent reads ----------------------------------------


def _sign_in_through_dialog(
    qtbot: QtBot, desk: Desk, dialogs: DialogDriver, url: str, login: str, password: str = PASSWORD
) -> str:
    """Fill the sign-in dialog as a person would; return the error it shows (then cancel)."""
    seen: list[str] = []

    def fill(dialog: object) -> None:
        assert isinstance(dialog, SignInDialog)
        dialog.server.setText(url)
        dialog.login.setText(login)
        dialog.password.setText(password)
        dialog.submit()
        qtbot.waitUntil(dialog.error.isVisible, timeout=20_000)
        seen.append(dialog.error.text())
        assert dialog.buttons.isEnabled()  # the agent can correct and try again
        dialog.reject()

    desk.window.go_to(desk.page)
    dialogs.when(SignInDialog, fill)
    desk.page.sign_in_button.click()
    dialogs.check()
    assert "n'est pas connecté" in desk.page.account.text()
    return seen[0]


def test_unreachable_server_message(qtbot: QtBot, desks: Any, dialogs: DialogDriver) -> None:
    desk = desks()
    shown = _sign_in_through_dialog(qtbot, desk, dialogs, "http://127.0.0.1:9", "camille")
    assert shown == ServerUnreachableError().message
    assert shown == (
        "Le serveur de synchronisation est injoignable (réseau absent ou connexion "
        "interrompue). Vos modifications restent sur cet ordinateur et seront envoyées plus tard."
    )


def test_untrusted_certificate_message(
    qtbot: QtBot,
    desks: Any,
    dialogs: DialogDriver,
    world: World,
    other_process: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca = trustme.CA()  # a certificate authority this computer does not trust
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(ca_file))
    process = other_process(
        "--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile), ca_bundle=ca_file
    )
    assert process.base_url.startswith("https://")
    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks()
    shown = _sign_in_through_dialog(qtbot, desk, dialogs, process.base_url, login)
    assert shown == CertificateError().message
    assert shown == (
        "Le certificat du serveur n'est pas reconnu : la connexion a été refusée pour protéger "
        "vos données. Vérifiez l'adresse du serveur ou adressez-vous au service informatique "
        "(certificat de la Ville à installer). Vos modifications restent sur cet ordinateur et "
        "seront envoyées plus tard."
    )
    # The same server is fine for a computer given the City's certificate authority.
    trusted = desks("poste-avec-ca", ca_bundle=ca_file)
    sign_in(qtbot, trusted, process.base_url, login)
    sync(qtbot, trusted)
    assert trusted.area.network.text() == "En ligne"
    # … and for one configured system-wide to trust it (OpenSSL's SSL_CERT_FILE), with no
    # setting in the application.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    installed = desks("poste-ca-systeme")
    sign_in(qtbot, installed, process.base_url, world.create_agent("travailleur-social", ["nord"]))
    sync(qtbot, installed)
    assert installed.area.network.text() == "En ligne"


def test_wrong_clock_message_and_nothing_leaves(
    qtbot: QtBot, desks: Any, world: World, server: ServerProcess
) -> None:
    desk = desks(clock_offset=timedelta(minutes=10, seconds=5))
    sign_in(qtbot, desk, server.base_url, world.create_agent("travailleur-social", ["nord"]))
    new_person(qtbot, desk, family_name="Horloge")
    waiting = desk.outbox_ids()
    desk.window.go_to(desk.page)
    sync_fails(qtbot, desk)
    assert desk.page.error.text() == ClockSkewError(10).message
    assert desk.page.error.text() == (
        "L'horloge de cet ordinateur a environ 10 minutes d'écart avec celle du serveur "
        "(5 minutes au plus sont admises). Corrigez la date et l'heure de l'ordinateur, puis "
        "relancez la synchronisation : vos modifications sont conservées et n'ont pas été "
        "envoyées."
    )
    assert desk.area.problem.text() == "Date ou heure de l'ordinateur à corriger"
    assert desk.area.problem.toolTip() == ClockSkewError(10).message
    assert desk.outbox_ids() == waiting
    assert desk.area.pending.text() == "1 modification en attente"
    assert desk.controller.retry_timer.isActive() is False  # retrying would not help


def test_app_too_old_message_at_sign_in_and_at_sync(
    qtbot: QtBot, desks: Any, dialogs: DialogDriver, world: World, other_process: Any
) -> None:
    process: ServerProcess = other_process("--min-client-version", "0.1.0")
    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks()
    sign_in(qtbot, desk, process.base_url, login)
    new_person(qtbot, desk, family_name="Ancienne")
    waiting = desk.outbox_ids()
    # The City upgrades its server and asks for a newer application.
    process.stop()
    process.restart("--min-client-version", "99.0.0")
    desk.window.go_to(desk.page)
    sync_fails(qtbot, desk)
    expected = (
        "Cette version de Havre Ensemble est trop ancienne pour le serveur (version minimale : "
        "99.0.0). Faites mettre à jour l'application (service informatique) : vos modifications "
        "sont conservées et seront envoyées après la mise à jour."
    )
    assert desk.page.error.text() == ClientTooOldError("99.0.0").message == expected
    assert desk.area.problem.text() == "Mise à jour de l'application nécessaire"
    assert desk.outbox_ids() == waiting
    # A new computer with the same old version cannot even sign in: same words.
    other = desks("poste-neuf")
    assert _sign_in_through_dialog(qtbot, other, dialogs, process.base_url, login) == expected


def test_wrong_password_message(
    qtbot: QtBot, desks: Any, dialogs: DialogDriver, world: World, server: ServerProcess
) -> None:
    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks()
    shown = _sign_in_through_dialog(qtbot, desk, dialogs, server.base_url, login, "pas le bon")
    assert shown == BadCredentialsError().message == "Identifiant ou mot de passe incorrect."


def test_disabled_account_message_and_the_changes_stay(
    qtbot: QtBot, desks: Any, dialogs: DialogDriver, world: World, server: ServerProcess
) -> None:
    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks()
    sign_in(qtbot, desk, server.base_url, login)
    new_person(qtbot, desk, family_name="Désactivée")
    waiting = desk.outbox_ids()
    server.cli("disable-agent", login)
    desk.window.go_to(desk.page)
    sync_fails(qtbot, desk)
    expected = (
        "Votre compte est désactivé : adressez-vous à votre coordinateur. Vos modifications "
        "restent sur cet ordinateur."
    )
    assert desk.page.error.text() == AccountDisabledError().message == expected
    assert desk.area.problem.text() == "Compte désactivé"
    assert desk.outbox_ids() == waiting
    assert desk.query("SELECT family_name FROM contacts WHERE family_name = 'Désactivée'")
    # Signing in again says the same, and still wipes nothing.
    other = desks("poste-2")
    assert _sign_in_through_dialog(qtbot, other, dialogs, server.base_url, login) == expected
    assert desk.outbox_ids() == waiting


# -- warnings before losing sight of unsent changes ----------------------------------------------


def test_sign_out_with_unsent_changes_asks_first_and_keeps_them(
    qtbot: QtBot, desks: Any, world: World, server: ServerProcess, boxes: MessageBoxes
) -> None:
    desk = desks()
    sign_in(qtbot, desk, server.base_url, world.create_agent("travailleur-social", ["nord"]))
    new_person(qtbot, desk, family_name="Gardée")
    new_person(qtbot, desk, family_name="Aussi")
    waiting = desk.outbox_ids()
    page = desk.page
    desk.window.go_to(page)
    qtbot.waitUntil(lambda: desk.area.pending.text() == "2 modifications en attente")
    qtbot.waitUntil(lambda: page._pending == 2)
    question = (
        "Modifications non envoyées",
        "2 modifications n'ont pas encore été envoyées au serveur. Elles restent sur cet "
        "ordinateur et partiront à la prochaine synchronisation, après une nouvelle connexion "
        "avec le même compte.\n\nSe déconnecter maintenant ?",
    )
    boxes.answer(No)
    page.sign_out_button.click()
    assert boxes.seen == [question]
    desk.app.settle()
    assert "Connecté en tant que" in page.account.text()  # nothing happened

    boxes.answer(Yes)
    with qtbot.waitSignal(desk.controller.status_changed, timeout=10_000):
        page.sign_out_button.click()
    assert boxes.seen == [question, question]
    qtbot.waitUntil(lambda: desk.area.network.text() == "Non connecté au serveur")
    assert page.sign_in_button.isVisible()
    assert desk.outbox_ids() == waiting  # still there, for the next sign-in
    assert desk.area.pending.text() == "2 modifications en attente"


def test_quitting_with_unsent_changes_asks_first_and_keeps_them(
    qtbot: QtBot, desks: Any, world: World, server: ServerProcess, boxes: MessageBoxes
) -> None:
    desk = desks()
    sign_in(qtbot, desk, server.base_url, world.create_agent("travailleur-social", ["nord"]))
    new_person(qtbot, desk, family_name="Restée")
    waiting = desk.outbox_ids()
    qtbot.waitUntil(lambda: desk.area.pending.text() == "1 modification en attente")
    question = (
        "Modifications non envoyées",
        "1 modification en attente : elle est gardée sur cet ordinateur et partira à la "
        "prochaine synchronisation. Quitter maintenant ?",
    )
    boxes.answer(No)
    desk.window.close()
    assert boxes.seen == [question]
    assert desk.window.isVisible()
    boxes.answer(Yes)
    desk.window.close()
    assert boxes.seen == [question, question]
    assert not desk.window.isVisible()
    # The changes are in the profile's file: a new connection finds them.
    store = desk.manager.unlock()
    try:
        rows = store.query("SELECT mutation_id FROM outbox")
    finally:
        store.close()
    assert {str(r["mutation_id"]) for r in rows} == waiting


def test_a_refused_visit_stays_readable_with_its_reason_until_the_agent_discards_it(
    qtbot: QtBot, world: World, server: ServerProcess, desks: Any, boxes: MessageBoxes
) -> None:
    """Issue 11: what the agent typed in a visit the server refused stays on the page, in
    French, with the reason, can be copied, and leaves only when the agent discards it."""
    import uuid

    from havre_desktop.core import visits

    admin = world.admin
    action_id = str(uuid.uuid4())
    action = {
        "code": "UI-REFUS",
        "title": "Atelier fictif",
        "priority_id": "P06",
        "status": "en-cours",
    }
    assert admin.push(admin.mutation("actions", action_id, "insert", action, 0))[0]["status"] == (
        "applied"
    )
    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks()
    sign_in(qtbot, desk, server.base_url, login)
    person_id = new_person(qtbot, desk, family_name="Refusée", given_names="Odile")
    sync(qtbot, desk)
    note = "Mme R. voulait s'inscrire à l'atelier ; rappeler sa fille."
    edit(
        qtbot,
        desk,
        lambda ws: visits.log_visit(
            ws,
            person_id,
            {
                "occurred_at": ws.clock.now_iso(),
                "kind": "visite-domicile",
                "outcome": "realisee",
                "wellbeing": 4,
                "proposed_action_ids": [action_id],
                "notes": note,
            },
        ),
    )
    assert admin.push(admin.mutation("actions", action_id, "delete", {}, 1))[0]["status"] == (
        "applied"
    )
    sync(qtbot, desk)
    page = desk.page
    model = page.rejected_model
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=10_000)
    assert str(model.data(model.index(0, 0))) == "Visites — nouvelle saisie"
    assert "action proposée n'existe pas" in str(model.data(model.index(0, 2)))
    page.rejected.setCurrentIndex(model.index(0, 0))
    detail = page.rejected_detail.text()
    assert f"Notes : {note}" in detail
    assert "Type de contact : Visite à domicile" in detail
    assert "Résultat : Réalisée" in detail and "Bien-être : 4" in detail
    page.copy_rejected.click()
    assert note in QApplication.clipboard().text()
    # Discarding asks first; "No" keeps it.
    boxes.answer(QMessageBox.StandardButton.No)
    page.discard_rejected.click()
    qtbot.waitUntil(lambda: len(boxes.seen) == 1)
    assert model.rowCount() == 1
    boxes.answer(QMessageBox.StandardButton.Yes)
    page.discard_rejected.click()
    qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=10_000)
    assert boxes.seen[-1][0] == "Écarter la modification refusée"
    assert not page.discard_rejected.isEnabled()


def test_a_coordinator_reads_the_servers_audit_log_with_filters(
    qtbot: QtBot, desks: Callable[..., Desk], world: World, dialogs: DialogDriver
) -> None:
    """Journal d'audit (issue 15): who opened or printed which file, when, from which device,
    read online from the server; filters by event and file. Social workers have no such
    button."""
    from havre_desktop.ui.audit_dialog import AuditDialog

    worker = world.agent("travailleur-social", ["nord"])
    person = server_person(worker)
    for event in ("fiche-ouverte", "impression"):
        assert worker.push(audit_mutation(worker, person, event))[0]["status"] == "applied"
    coordinator = desks("coordinateur", role="coordinateur")
    sign_in(qtbot, coordinator, world.server.base_url, world.create_agent("coordinateur", ["nord"]))
    sync(qtbot, coordinator)  # the agent directory: names in the journal's filter
    assert not coordinator.page.audit_button.isHidden()
    seen: dict[str, Any] = {}

    def read(dialog: QDialog) -> None:
        assert isinstance(dialog, AuditDialog)
        model = dialog.model

        def about_the_person() -> list[list[Any]]:
            # The journal holds the server's own entries too (agents created, rights given).
            every = [[model.index(r, c).data() for c in range(8)] for r in range(model.rowCount())]
            return [row for row in every if row[5] == person]

        qtbot.waitUntil(lambda: len(about_the_person()) == 2, timeout=20_000)
        seen["rows"] = about_the_person()
        seen["agents"] = [dialog.agent.itemText(i) for i in range(dialog.agent.count())]
        dialog.event_kind.setCurrentIndex(dialog.event_kind.findData("impression"))
        dialog.show_button.click()
        qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=20_000)
        seen["printed"] = model.index(0, 2).data()
        dialog.file.setText(str(uuid.uuid4()))
        dialog.show_button.click()
        qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=20_000)
        seen["none"] = dialog.message.text()
        dialog.reject()

    dialogs.when(AuditDialog, read, timeout_ms=20_000)
    coordinator.page.audit_button.click()  # the dialog opens once the directory is read
    qtbot.waitUntil(lambda: "none" in seen or bool(dialogs.errors), timeout=60_000)
    dialogs.check()
    newest, oldest = seen["rows"]
    assert newest[2] == "Impression" and oldest[2] == "Fiche ouverte"
    assert oldest[1] == worker.agent["display_name"]
    assert oldest[3] == "Personnes et organismes" and oldest[4] == "LEFÈVRE Jeanne"
    assert oldest[5] == person and oldest[6] == worker.device_id and oldest[0]
    assert worker.agent["display_name"] in seen["agents"]
    assert seen["printed"] == "Impression"
    assert seen["none"] == "Aucune entrée pour ces critères."

    social = desks("travailleur")
    assert social.page.audit_button.isHidden()


def test_from_a_fiche_a_coordinator_exports_what_the_server_holds_about_the_person(
    qtbot: QtBot, desks: Callable[..., Desk], world: World, dialogs: DialogDriver, tmp_path: Path
) -> None:
    """RGPD art. 15 from the app: the fiche's *Journal de la fiche…* opens the journal on that
    file; *Exporter ses données (RGPD)…* writes the server's export (JSON and PDF) where the
    coordinator chose, and the server records who asked."""
    from havre_desktop.ui.audit_dialog import AuditDialog

    worker = world.agent("travailleur-social", ["nord"])
    person = server_person(worker, family_name="Exportable")
    assert worker.push(audit_mutation(worker, person))[0]["status"] == "applied"
    coordinator = desks("coordinateur", role="coordinateur")
    login = world.create_agent("coordinateur", ["nord"])
    sign_in(qtbot, coordinator, world.server.base_url, login)
    sync(qtbot, coordinator)
    coordinator.app.open_fiche("exportable")
    persons = coordinator.window.persons_page
    assert persons.current is not None and persons.current["id"] == person
    seen: dict[str, Any] = {}
    out = tmp_path / "export"

    def export(dialog: QDialog) -> None:
        assert isinstance(dialog, AuditDialog)
        seen["filter"] = dialog.file.text()
        qtbot.waitUntil(lambda: dialog.model.rowCount() >= 1, timeout=20_000)
        assert dialog.export_button.isEnabled()
        dialog.export_to(out)
        qtbot.waitUntil(lambda: "Export écrit" in dialog.message.text(), timeout=20_000)
        seen["message"] = dialog.message.text()
        dialog.reject()

    dialogs.when(AuditDialog, export, timeout_ms=20_000)
    persons.audit_button.click()
    qtbot.waitUntil(lambda: "message" in seen or bool(dialogs.errors), timeout=60_000)
    dialogs.check()
    assert seen["filter"] == person
    assert f"acces-{person}.json" in seen["message"] and f"acces-{person}.pdf" in seen["message"]
    data = json.loads((out / f"acces-{person}.json").read_text("utf-8"))
    sections = {s["table"]: s["lignes"] for s in data["sections"]}
    assert sections["contacts"][0]["family_name"] == "Exportable"
    assert (out / f"acces-{person}.pdf").read_bytes().startswith(b"%PDF")
    asked = world.server.sql(
        "SELECT a.login FROM audit_log l JOIN accounts a ON a.agent_id = l.agent_id "
        "WHERE l.event = 'acces-personne' AND l.entity_id = :p",
        p=person,
    )
    assert [r[0] for r in asked] == [login]


def test_a_coordinator_erases_a_person_from_the_app_after_confirming(
    qtbot: QtBot,
    desks: Callable[..., Desk],
    world: World,
    dialogs: DialogDriver,
    boxes: MessageBoxes,
) -> None:
    """RGPD erasure from the app (online, coordinator): a confirmation that names her, then
    she is gone from the server and from this desktop; the audit keeps her id only."""
    from havre_desktop.ui.audit_dialog import AuditDialog

    worker = world.agent("travailleur-social", ["nord"])
    person = server_person(worker, family_name="Effacable")
    assert worker.push(audit_mutation(worker, person))[0]["status"] == "applied"
    coordinator = desks("coordinateur", role="coordinateur")
    sign_in(qtbot, coordinator, world.server.base_url, world.create_agent("coordinateur", ["nord"]))
    sync(qtbot, coordinator)
    assert coordinator.query("SELECT count(*) n FROM contacts WHERE id = ?", (person,))[0]["n"]
    seen: dict[str, str] = {}

    def erase(dialog: QDialog) -> None:
        assert isinstance(dialog, AuditDialog)
        qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=20_000)
        boxes.answer(Yes)
        dialog.erase_button.click()
        qtbot.waitUntil(lambda: "Personne effacée" in dialog.message.text(), timeout=20_000)
        seen["message"] = dialog.message.text()
        dialog.reject()

    dialogs.when(AuditDialog, erase, timeout_ms=20_000)
    coordinator.window.open_audit(person)
    qtbot.waitUntil(lambda: "message" in seen or bool(dialogs.errors), timeout=60_000)
    dialogs.check()
    (title, question) = boxes.seen[0]
    assert title == "Effacer la personne (RGPD)" and "EFFACABLE Jeanne" in question
    assert "irréversible" in question
    assert world.server.sql("SELECT count(*) FROM contacts WHERE id = :p", p=person)[0][0] == 0
    qtbot.waitUntil(lambda: not coordinator.controller.running, timeout=30_000)
    coordinator.app.settle()
    assert coordinator.query("SELECT count(*) n FROM contacts WHERE id = ?", (person,)) == [
        {"n": 0}
    ]
    events = world.server.sql(
        "SELECT event FROM audit_log WHERE entity_id = :p ORDER BY chain_seq", p=person
    )
    assert [r[0] for r in events] == ["fiche-ouverte", "effacement-rgpd"]
    assert "intègre" in world.server.cli("audit-verify")


def test_a_coordinator_reviews_and_anonymises_files_past_retention_from_the_keyboard(
    qtbot: QtBot,
    desks: Callable[..., Desk],
    world: World,
    boxes: MessageBoxes,
    keyboard: Keyboard,
) -> None:
    """Conservation des données (issue 15): the files of her territory with no contact for two
    years are listed, oldest first, named from this desktop's copy; she selects two from the
    keyboard and confirms; the server anonymises those two only and this desktop loses their
    identity at the sync that follows. A social worker has no such button."""
    from havre_desktop.ui.retention_dialog import RetentionDialog

    worker = world.agent("travailleur-social", ["nord"])
    long_ago = (datetime.now(UTC) - timedelta(days=3 * 365)).strftime("%Y-%m-%dT10:00:00.000Z")
    old = []
    for family, given in (("Ancienne", "Odette"), ("Oubliee", "Fernand"), ("Passee", "Simone")):
        person = server_person(
            worker,
            family_name=family,
            given_names=given,
            created_at=long_ago,
            updated_at=long_ago,
        )
        new_visit(worker, person, occurred_at=long_ago, created_at=long_ago, updated_at=long_ago)
        old.append(person)
    coordinator = desks("coordinateur", role="coordinateur")
    sign_in(qtbot, coordinator, world.server.base_url, world.create_agent("coordinateur", ["nord"]))
    sync(qtbot, coordinator)
    window = coordinator.window
    window.go_to(coordinator.page)
    with qtbot.waitActive(window):
        window.activateWindow()
    coordinator.page.setFocus()
    assert not coordinator.page.retention_button.isHidden()
    keyboard.key(Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)  # Conser&vation des données…
    qtbot.waitUntil(lambda: bool(coordinator.page.findChildren(RetentionDialog)), timeout=10_000)
    dialog = coordinator.page.findChildren(RetentionDialog)[0]
    # Other tests' old files may be listed too: ours are there, named, oldest first.
    qtbot.waitUntil(lambda: dialog.model.rowCount() >= 3, timeout=20_000)
    rows = [dialog.model.row(i) for i in range(dialog.model.rowCount())]
    names = {str(r["person_id"]): str(r["name"]) for r in rows if r is not None}
    assert {names[p] for p in old} == {"ANCIENNE Odette", "OUBLIEE Fernand", "PASSEE Simone"}
    assert "24 mois" in dialog.summary.text() and "contact prévu ouvert" in dialog.summary.text()
    assert not dialog.anonymise_button.isEnabled()  # nothing selected yet
    with qtbot.waitActive(dialog):
        dialog.activateWindow()
    keyboard.key(Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)  # &Liste des fiches…
    assert QApplication.focusWidget() is dialog.table
    ours = sorted(i for i, r in enumerate(rows) if r is not None and r["person_id"] in old)
    keyboard.key(Qt.Key.Key_Home)
    for _ in range(ours[0]):
        keyboard.key(Qt.Key.Key_Down)
    for _ in range(ours[1] - ours[0]):
        keyboard.key(Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    chosen = [str(r["person_id"]) for r in dialog.selected()]
    assert len(chosen) == 2 and set(chosen) <= set(old), chosen
    kept = next(p for p in old if p not in chosen)
    boxes.answer(Yes)
    keyboard.key(Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)  # A&nonymiser la sélection…
    qtbot.waitUntil(lambda: "2 fiches anonymisées" in dialog.message.text(), timeout=30_000)
    (title, question) = boxes.seen[-1]
    assert title == "Anonymiser des fiches" and "Anonymiser 2 fiches" in question
    assert "irréversible" in question and names[chosen[0]] in question

    for person in chosen:
        row = world.server.sql(
            "SELECT family_name, phone_1, anonymised_on FROM contacts WHERE id = :p", p=person
        )[0]
        assert row[0] is None and row[1] is None and row[2] is not None
    assert world.server.sql("SELECT family_name FROM contacts WHERE id = :p", p=kept)[0][0]
    qtbot.waitUntil(lambda: not coordinator.controller.running, timeout=30_000)
    coordinator.app.settle()
    qtbot.waitUntil(
        lambda: all(coordinator.person(p)["family_name"] is None for p in chosen), timeout=30_000
    )
    assert coordinator.person(kept)["family_name"] in ("Ancienne", "Oubliee", "Passee")
    from havre_desktop.ui.pages.persons import render_fiche_html

    row = coordinator.person(chosen[0])
    assert json.loads(row["emergency_contacts"]) == []
    shown = render_fiche_html(
        {**row, "emergency_contacts": [], "register": None, "consents": []}, window.ctx
    )
    assert "Personne anonymisée" in shown and "Fiche anonymisée le" in shown
    assert coordinator.query(
        "SELECT count(*) n FROM visits WHERE person_id IN (?, ?)", tuple(chosen)
    ) == [{"n": 2}]
    # The list read again after the anonymisation no longer has them.
    qtbot.waitUntil(lambda: dialog.refresh_button.isEnabled(), timeout=20_000)
    listed = {str(r["person_id"]) for r in dialog.model.rows}
    assert not listed & set(chosen) and kept in listed
    dialog.reject()

    social = desks("travail", role="travailleur-social")
    assert social.page.retention_button.isHidden()


# -- a whole working day, then midnight (issue 12) ----------------------------------------


def save(qtbot: QtBot, desk: Desk, job: Callable[[Workspace], Any], *tables: str) -> Any:
    """Save as a page does: an operation that announces what it changed."""
    results: list[Any] = []
    Operation(desk.app.database, job).success(results.append).announces(*tables).run()
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    desk.app.settle()
    return results[0]


def names_listed(desk: Desk) -> set[str]:
    model = desk.window.persons_page.model
    return {str(model.data(model.index(r, 0))) for r in range(model.rowCount())}


def test_a_working_day_then_midnight_without_a_restart(
    qtbot: QtBot, world: World, server: ServerProcess, desks: Any
) -> None:
    """Before midnight an agent opens a fiche, logs a visit and promises a follow-up for
    tomorrow; a colleague (through the real server) plans a call for her and adds a person;
    the City adds an action; she syncs. Every open page then shows the new data without being
    told to: Ma journée, the person list, the catalogue, the actions a new visit form offers.
    A failing operation says so and the page works again once the cause is gone. Then the
    clock crosses midnight: Ma journée shows the new day and its follow-up, ages move on."""
    login = world.create_agent("travailleur-social", ["nord"], name="Alice")
    desk = desks("poste-alice")
    sign_in(qtbot, desk, server.base_url, login)
    window = desk.window
    clock = desk.app.ws.clock
    assert isinstance(clock, FixedClock)
    today = window.ctx.today
    tomorrow = today + timedelta(days=1)

    # Rose turns 80 tomorrow; a follow-up is promised for tomorrow at today's visit.
    born = tomorrow.replace(year=tomorrow.year - 80).isoformat()
    rose = save(
        qtbot,
        desk,
        lambda ws: contacts.create_person(
            ws, person_values(family_name="Demain", given_names="Rose", birth_date=born)
        ),
        "contacts",
    )
    rose_id = str(rose["id"])
    persons = window.persons_page
    window.show_page("persons")
    persons.open_person(rose_id)
    qtbot.waitUntil(lambda: persons.current is not None and persons.current["id"] == rose_id)
    assert "(79 ans)" in persons.fiche.toPlainText()
    # Now (not 9:30: run just after midnight, 9:30 would be in the future and refused).
    visit_time = window.ctx.local_now().replace(second=0, microsecond=0)
    save(
        qtbot,
        desk,
        lambda ws: visits.log_visit(
            ws,
            rose_id,
            {
                "occurred_at": visit_time.isoformat(timespec="minutes"),
                "kind": "visite-domicile",
                "outcome": "realisee",
                "follow_up_on": tomorrow.isoformat(),
                "follow_up_reason": "Apporter le formulaire d'aide à domicile",
            },
        ),
        "visits",
        "planned_contacts",
    )
    # The open fiche follows the visit: its history, without being opened again.
    qtbot.waitUntil(lambda: persons.history_model.rowCount() == 1)
    today_page = window.today_page
    assert today_page.follow_model.rowCount() == 0  # tomorrow's, not today's
    sync(qtbot, desk)
    # Signed in, the profile's agent is the server's: the window's copy followed the sync.
    (owner,) = desk.query("SELECT value FROM settings WHERE key = 'owner_agent_id'")
    agent_id = str(owner["value"])
    qtbot.waitUntil(lambda: window.ctx.agent.get("id") == agent_id)

    # Meanwhile, through the server: a colleague plans a call for Alice and adds a person;
    # the City adds an action to the catalogue.
    colleague = world.agent("travailleur-social", ["nord"])
    call_id = str(uuid.uuid4())
    new_id = str(uuid.uuid4())
    fields = {
        "person_id": rose_id,
        "agent_id": agent_id,
        "due_on": today.isoformat(),
        "kind": "appel",
        "reason": "Rappeler sa fille (demande de Bruno)",
        "updated_at": iso(),
    }
    person = {
        "kind": "person",
        "family_name": "Nouvelle",
        "given_names": "Collègue",
        "territory_id": "nord",
        "created_at": iso(),
        "updated_at": iso(),
    }
    results = colleague.push(
        colleague.mutation("planned_contacts", call_id, "insert", fields),
        colleague.mutation("contacts", new_id, "insert", person),
    )
    assert [r["status"] for r in results] == ["applied", "applied"], results
    reference = load_reference()
    action_id = str(uuid.uuid4())
    action = {
        "code": "JOUR-1",
        "title": "Atelier fictif ajouté dans la journée",
        "priority_id": sorted(reference.labels("priorities"))[0],
        "status": "en-cours",
        "territory_ids": ["nord"],
    }
    (added,) = world.admin.push(world.admin.mutation("actions", action_id, "insert", action))
    assert added["status"] == "applied", added

    actions_page = window.show_page("actions")
    window.show_page("persons")
    persons.search_field.clear()
    persons._search()
    desk.app.settle()
    assert "NOUVELLE Collègue" not in names_listed(desk)
    sync(qtbot, desk)

    # Every page shows the new data, nobody pressed Actualiser nor restarted.
    qtbot.waitUntil(lambda: call_id in {r["id"] for r in today_page.due_model.rows})
    qtbot.waitUntil(lambda: "NOUVELLE Collègue" in names_listed(desk))
    actions_model = window.actions_page.model
    qtbot.waitUntil(lambda: action_id in {r["id"] for r in actions_model.rows})
    assert actions_page is window.actions_page
    qtbot.waitUntil(lambda: action_id in {a["id"] for a in window.ctx.current_actions})
    form = VisitForm(
        desk.app.database, window.ctx.references, rose, window.ctx.current_actions, parent=window
    )
    offered = {form.action_list.item(i).text() for i in range(form.action_list.count())}
    form.deleteLater()
    assert "Atelier fictif ajouté dans la journée" in offered
    # Refreshing the open fiche is not opening it again: the sync sent the opening's audit
    # entry, and the refreshes that followed wrote none.
    assert desk.query("SELECT count(*) AS n FROM audit_log WHERE event = 'fiche-ouverte'") == [
        {"n": 0}
    ]

    # A failing operation says so; the journal works again once the cause is gone.
    journal = window.show_page("visits")
    desk.app.settle()
    model = window.visits_page.model  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    status = window.statusBar()
    save(qtbot, desk, lambda ws: ws.store.conn.execute("ALTER TABLE visits RENAME TO v_x"))
    desk.app.database.changes.announce(["visits"])
    qtbot.waitUntil(lambda: "Une erreur inattendue" in status.currentMessage())
    assert model.rowCount() == 1  # what was shown stays
    save(
        qtbot,
        desk,
        lambda ws: ws.store.conn.execute("ALTER TABLE v_x RENAME TO visits"),
        "visits",
    )
    qtbot.waitUntil(lambda: model.is_loaded(0) and model.rowCount() == 1)
    assert journal.isVisible()

    # Midnight: the clock moves on, the day watch sees it, every page follows.
    assert window.day_watch.timer.isActive()
    midnight = datetime.combine(tomorrow, time(0, 1), PARIS)
    clock.at = midnight.astimezone(clock.at.tzinfo)
    window.show_page("today")
    window.day_watch.timer.timeout.emit()  # what the timer does every 30 seconds
    assert window.ctx.today == tomorrow
    qtbot.waitUntil(lambda: long_date(tomorrow) in today_page.title.text())
    qtbot.waitUntil(lambda: today_page.follow_model.rowCount() == 1)
    (promised,) = today_page.follow_model.rows
    assert (promised["person_id"], promised["reason"]) == (
        rose_id,
        "Apporter le formulaire d'aide à domicile",
    )
    qtbot.waitUntil(lambda: "(80 ans)" in persons.fiche.toPlainText())
    row = next(r for r in range(persons.model.rowCount()) if persons.model.person_id(r) == rose_id)
    assert persons.model.data(persons.model.index(row, 1)) == "80 ans"
