"""Sync from the window against a real havre-server process on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from havre_desktop.core import contacts
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.sync_widgets import SignInDialog
from havre_desktop.ui.worker import DatabaseService
from tests.helpers import MemoryKeyring, new_workspace, person_values
from tests.server.support import PASSWORD, ServerProcess, World, make_server, started
from tests.ui.conftest import DemoApp, DialogDriver


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


def _window(tmp_path: Path, qtbot: QtBot) -> tuple[DemoApp, SyncController]:
    keyring = MemoryKeyring()
    ws, manager, _recovery = new_workspace(
        tmp_path / "profile", keyring, territories=["nord"], now=datetime.now(UTC)
    )  # the server refuses clocks more than 5 minutes off: this profile's clock is now
    data = load_context_data(ws)
    sync_store = ws.store.open_another()
    database = DatabaseService(ws)
    window = MainWindow(build_context(database, data), str(tmp_path / "profile"))
    qtbot.addWidget(window)
    window.show()
    controller = SyncController.for_store(ws, sync_store, manager.profile_id, keyring)
    window.attach_sync(controller)
    app = DemoApp(window, ws, database, qtbot)
    app.settle()
    return app, controller


def test_sign_in_edit_offline_sync_and_the_server_has_it(
    tmp_path: Path, qtbot: QtBot, world: World, server: ServerProcess, dialogs: DialogDriver
) -> None:
    login = world.create_agent("travailleur-social", ["nord"])
    app, controller = _window(tmp_path, qtbot)
    try:
        area, page = app.window.sync_area, app.window.sync_page
        assert area is not None and page is not None
        qtbot.waitUntil(lambda: area.network.text() == "Non connecté au serveur")
        assert not area.button.isEnabled()

        def wrong_then_right(dialog: object) -> None:
            assert isinstance(dialog, SignInDialog)
            dialog.server.setText(server.base_url)
            dialog.login.setText(login)
            dialog.password.setText("mauvais mot de passe")
            dialog.submit()
            qtbot.waitUntil(dialog.error.isVisible, timeout=10_000)
            assert "mot de passe" in dialog.error.text().lower()
            assert dialog.password.text() == ""  # not kept on screen
            dialog.password.setText(PASSWORD)
            dialog.submit()

        dialogs.when(SignInDialog, wrong_then_right)
        page.sign_in_button.click()
        dialogs.check()
        qtbot.waitUntil(lambda: "Connecté en tant que" in page.account.text(), timeout=10_000)

        # Offline work: a new person waits in the outbox.
        app.database.submit(
            lambda ws: contacts.create_person(
                ws, person_values(family_name="Synchronisée", given_names="Rose")
            ),
            lambda _p: app.window.data_changed(),
        )
        qtbot.waitUntil(lambda: area.pending.text() == "1 modification(s) en attente")
        with qtbot.waitSignal(controller.finished, timeout=30_000):
            area.button.click()
        qtbot.waitUntil(lambda: area.pending.text() == "Aucune modification en attente")
        assert "Synchronisation terminée" in page.message.text()
        assert "Dernière synchronisation : à l'instant" in area.last.text()
        assert area.network.text() == "En ligne"
        # A colleague of the same territory receives her at the next pull.
        colleague = world.agent("travailleur-social", ["nord"])
        changes, _cursor = colleague.pull_all()
        names = {
            (c.get("fields") or {}).get("family_name")
            for c in changes
            if c["table_name"] == "contacts"
        }
        assert "Synchronisée" in names
    finally:
        app.settle()
        app.window.sync = None  # closing at teardown must not ask about unsent changes
        controller.shutdown()
        app.database.shutdown()


def test_server_unreachable_is_said_in_french_and_nothing_is_lost(
    tmp_path: Path, qtbot: QtBot, dialogs: DialogDriver
) -> None:
    app, controller = _window(tmp_path, qtbot)
    try:
        page = app.window.sync_page
        assert page is not None
        seen: list[str] = []

        def unreachable(dialog: object) -> None:
            assert isinstance(dialog, SignInDialog)
            dialog.server.setText("http://127.0.0.1:9")  # nothing listens there
            dialog.login.setText("camille")
            dialog.password.setText("x")
            dialog.submit()
            qtbot.waitUntil(dialog.error.isVisible, timeout=20_000)
            seen.append(dialog.error.text())
            dialog.reject()

        dialogs.when(SignInDialog, unreachable)
        page.sign_in_button.click()
        dialogs.check()
        assert "serveur" in seen[0].lower() and ("joindre" in seen[0] or "injoignable" in seen[0])
    finally:
        app.settle()
        app.window.sync = None  # closing at teardown must not ask about unsent changes
        controller.shutdown()
        app.database.shutdown()
