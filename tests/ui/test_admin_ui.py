"""Équipe and Appareils (issue 17): administration from the window against a real havre-server
process on loopback. A coordinator revokes a laptop (it wipes itself at its next contact),
disables an account, gives a new password, creates an agent; a social worker has no such pages
and the API refuses them; offline, each page says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from havre_common.protocol import API_PREFIX
from havre_desktop.sync import local
from havre_desktop.sync.errors import DeviceRevokedError, RequestRefusedError
from havre_desktop.ui.pages.admin_pages import (
    TEAM_TICKS,
    AgentDialog,
    DevicesPage,
    PasswordDialog,
    TeamPage,
)
from tests.server.support import PASSWORD, ServerProcess, World, attempt_sign_in
from tests.ui.conftest import DialogDriver, Keyboard
from tests.ui.layout_checks import clipped_cells, clipped_texts, unnamed_controls
from tests.ui.test_sync_ui import (
    Desk,
    MessageBoxes,
    No,
    Yes,
    boxes,
    desks,
    new_person,
    server,
    sign_in,
    sync,
    world,
)

__all__ = ["boxes", "desks", "server", "world"]  # fixtures shared with test_sync_ui (real server)


def coordinator_desk(qtbot: QtBot, desks: Callable[..., Desk], world: World) -> Desk:
    desk = desks("coordinateur", role="coordinateur")
    sign_in(qtbot, desk, world.server.base_url, world.create_agent("coordinateur", ["nord"]))
    return desk


def team_page(qtbot: QtBot, desk: Desk) -> TeamPage:
    page = desk.window.show_page("team")
    assert isinstance(page, TeamPage)
    qtbot.waitUntil(lambda: not page.loading and page.model.rowCount() > 0, timeout=20_000)
    return page


def devices_page(qtbot: QtBot, desk: Desk) -> DevicesPage:
    page = desk.window.show_page("devices")
    assert isinstance(page, DevicesPage)
    qtbot.waitUntil(lambda: not page.loading, timeout=20_000)
    return page


def _row_of(page: TeamPage | DevicesPage, login: str) -> int:
    """The row of the agent with this login (on a line of the "Agent" cell, before the phone)."""
    model = page.model
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            lines = str(model.index(row, column).data()).split("\n")
            if any(line.split(" · ")[0] == login for line in lines):  # before the phone
                return row
    raise AssertionError(f"{login!r} not listed")


def select(page: TeamPage | DevicesPage, login: str) -> None:
    page.table.setCurrentIndex(page.model.index(_row_of(page, login), 0))


def cells(page: TeamPage | DevicesPage, login: str) -> list[str]:
    model, row = page.model, _row_of(page, login)
    return [str(model.index(row, c).data()) for c in range(model.columnCount())]


def test_a_coordinator_revokes_a_lost_laptop_and_it_wipes_itself_at_its_next_sync(
    qtbot: QtBot, desks: Callable[..., Desk], world: World, boxes: MessageBoxes
) -> None:
    login = world.create_agent("travailleur-social", ["nord"], name="Camille")
    laptop = desks("portable-perdu")
    sign_in(qtbot, laptop, world.server.base_url, login)
    person = new_person(qtbot, laptop, family_name="Envoyée")
    sync(qtbot, laptop)
    new_person(qtbot, laptop, family_name="Pasenvoyée")
    assert laptop.query("SELECT count(*) n FROM contacts WHERE id = ?", (person,))[0]["n"] == 1

    coordinator = coordinator_desk(qtbot, desks, world)
    page = devices_page(qtbot, coordinator)
    device_id = laptop.controller.engine.ws.device_id
    row = cells(page, login)
    assert row[0].endswith(f"\nversion {laptop.controller.engine.client_version}")
    assert row[1].startswith("Camille") and row[1].endswith(f"\n{login}") and row[3] == "actif"
    assert row[2].split("\n")[0] in ("à l'instant", "il y a 1 minute"), row[2]
    select(page, login)
    assert page.revoke_button.isEnabled()
    boxes.answer(Yes)
    page.revoke_button.click()
    qtbot.waitUntil(lambda: "révoqué" in page.message.text(), timeout=20_000)
    qtbot.waitUntil(lambda: not page.loading, timeout=20_000)
    title, question = boxes.seen[0]
    assert title == "Révoquer l'appareil" and "effacera toutes ses données" in question
    assert "Camille" in question and "irréversible" in question
    assert cells(page, login)[3].startswith("révoqué le\n")
    assert not page.revoke_button.isEnabled()  # the selected laptop is revoked already
    revoked = world.server.sql(
        "SELECT revoked_at_ms FROM devices WHERE device_id = :d", d=device_id
    )
    assert revoked[0][0] is not None
    events = world.server.sql(
        "SELECT a.login FROM audit_log l JOIN accounts a ON a.agent_id = l.agent_id "
        "WHERE l.event = 'appareil-revoque' AND l.entity_id = :d",
        d=device_id,
    )
    assert len(events) == 1

    # The lost laptop's next contact: it wipes itself and says why.
    boxes.answer(Yes)
    laptop.window.go_to(laptop.page)
    with qtbot.waitSignal(laptop.controller.revoked, timeout=30_000):
        laptop.area.button.click()
    qtbot.waitUntil(lambda: not laptop.window.isVisible(), timeout=10_000)
    assert boxes.seen[-1] == ("Appareil révoqué", DeviceRevokedError(1).message)
    store = laptop.manager.unlock()
    try:
        for table in ("contacts", "outbox", "visits"):
            assert store.scalar(f"SELECT count(*) FROM {table}") == 0, table
    finally:
        store.close()


def test_a_coordinator_disables_an_account_and_that_agent_is_refused(
    qtbot: QtBot, desks: Callable[..., Desk], world: World, boxes: MessageBoxes
) -> None:
    login = world.create_agent("travailleur-social", ["nord"], name="Dominique")
    coordinator = coordinator_desk(qtbot, desks, world)
    page = team_page(qtbot, coordinator)
    row = cells(page, login)
    assert row[0] == f"Dominique {login[-4:]}\n{login}"
    assert row[1] == "Travailleur social" and row[2:4] == ["", ""] and row[4] == "Le Havre Nord"
    select(page, login)
    assert page.disable_button.text() == "&Désactiver le compte…"
    boxes.answer(Yes)
    page.disable_button.click()
    qtbot.waitUntil(lambda: "désactivé" in page.message.text(), timeout=20_000)
    qtbot.waitUntil(lambda: not page.loading, timeout=20_000)
    assert boxes.seen[0][0] == "Désactiver le compte"
    model = page.model
    index = model.index(_row_of(page, login), 2)
    assert model.data(index, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert model.data(index, Qt.ItemDataRole.AccessibleTextRole) == "non"
    refused = attempt_sign_in(world.client, login, PASSWORD)
    assert refused.status_code == 401 and refused.json()["code"] == "account_disabled"
    # Réactiver: no question, the agent is let in again.
    select(page, login)
    assert page.disable_button.text() == "Ré&activer le compte"
    page.disable_button.click()
    qtbot.waitUntil(lambda: "réactivé" in page.message.text(), timeout=20_000)
    assert attempt_sign_in(world.client, login, PASSWORD).status_code == 200
    events = world.server.sql(
        "SELECT l.event FROM audit_log l JOIN accounts a ON a.agent_id = l.entity_id "
        "WHERE a.login = :l ORDER BY l.chain_seq",
        l=login,
    )
    assert [e[0] for e in events] == ["agent-cree", "compte-desactive", "compte-reactive"]


def test_reset_password_old_refused_new_works_shown_once(
    qtbot: QtBot,
    desks: Callable[..., Desk],
    world: World,
    boxes: MessageBoxes,
    dialogs: DialogDriver,
) -> None:
    login = world.create_agent("accueil", ["nord"], name="Sacha")
    coordinator = coordinator_desk(qtbot, desks, world)
    page = team_page(qtbot, coordinator)
    select(page, login)
    shown: dict[str, str] = {}

    def read(dialog: QDialog) -> None:
        assert isinstance(dialog, PasswordDialog)
        shown["login"] = dialog.login.text()
        shown["password"] = dialog.password.text()
        assert dialog.password.isReadOnly()
        dialog.copy_button.click()
        shown["clipboard"] = QApplication.clipboard().text()
        dialog.accept()

    dialogs.when(PasswordDialog, read, timeout_ms=20_000)
    boxes.answer(Yes)
    page.reset_button.click()
    qtbot.waitUntil(lambda: "password" in shown or bool(dialogs.errors), timeout=30_000)
    dialogs.check()
    assert boxes.seen[0][0] == "Réinitialiser le mot de passe"
    assert shown["login"] == login and shown["clipboard"] == shown["password"]
    assert len(shown["password"]) == 19
    assert attempt_sign_in(world.client, login, PASSWORD).json()["code"] == "bad_credentials"
    assert attempt_sign_in(world.client, login, shown["password"]).status_code == 200
    assert "Nouveau mot de passe donné" in page.message.text()
    QApplication.clipboard().clear()


def test_a_coordinator_creates_an_agent_whose_initial_password_works(
    qtbot: QtBot, desks: Callable[..., Desk], world: World, dialogs: DialogDriver
) -> None:
    coordinator = coordinator_desk(qtbot, desks, world)
    page = team_page(qtbot, coordinator)
    login = f"n.{coordinator.controller.engine.ws.device_id[:6].lower()}"
    seen: dict[str, Any] = {}

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, AgentDialog)
        # A coordinator is offered the roles and territories they manage only.
        seen["roles"] = [dialog.role.itemText(i) for i in range(dialog.role.count())]
        seen["territories"] = [
            dialog.territories.item(i).text() for i in range(dialog.territories.count())
        ]
        dialog.login.setText("Pas Valide!")
        dialog.save()
        under_login = dialog.errors.labels["login"]
        qtbot.waitUntil(under_login.isVisible, timeout=10_000)
        seen["refused"] = under_login.text()
        dialog.login.setText(login)
        dialog.name.setText("Noé Exemple")
        dialog.role.setCurrentIndex(dialog.role.findData("accueil"))
        dialog.phone.setText("0261910199")
        # This coordinator holds the register right: she may grant it (a role's default: no).
        seen["register_offered"] = dialog.register_right.isEnabled()
        seen["register_default"] = dialog.register_right.isChecked()
        dialog.register_right.setChecked(True)
        dialog.save()

    def note(dialog: QDialog) -> None:
        assert isinstance(dialog, PasswordDialog)
        seen["password"] = dialog.password.text()
        dialog.accept()

    dialogs.when(AgentDialog, fill, timeout_ms=20_000)
    dialogs.when(PasswordDialog, note, timeout_ms=30_000)
    page.new_button.click()
    qtbot.waitUntil(lambda: "password" in seen or bool(dialogs.errors), timeout=30_000)
    dialogs.check()
    assert seen["roles"] == ["Travailleur social", "Accueil mairie annexe"]
    assert seen["territories"] == ["Le Havre Nord"]
    assert seen["refused"].startswith("De 2 à 100 caractères parmi les lettres a à z")
    qtbot.waitUntil(lambda: "créé" in page.message.text(), timeout=20_000)
    qtbot.waitUntil(lambda: not page.loading, timeout=20_000)
    assert cells(page, login) == [
        f"Noé Exemple\n{login} · 02\u00a061\u00a091\u00a001\u00a099",
        "Accueil mairie annexe",
        "",
        "",
        "Le Havre Nord",
    ]
    assert (seen["register_offered"], seen["register_default"]) == (True, False)
    register_column = page.model.first_tick + [t for t, _f in TEAM_TICKS].index("Registre")
    ticked = page.model.index(_row_of(page, login), register_column).data(
        Qt.ItemDataRole.CheckStateRole
    )
    assert ticked == Qt.CheckState.Checked  # the team page shows the right given
    created = world.client.get(f"{API_PREFIX}/admin/agents", headers=world.admin.headers())
    assert [a["register_right"] for a in created.json() if a["login"] == login] == [True]
    assert attempt_sign_in(world.client, login, seen["password"]).status_code == 200


def test_a_social_worker_has_no_such_pages_and_the_api_refuses_them(
    qtbot: QtBot, desks: Callable[..., Desk], world: World
) -> None:
    login = world.create_agent("travailleur-social", ["nord"])
    desk = desks("travailleur")
    sign_in(qtbot, desk, world.server.base_url, login)
    window = desk.window
    assert "team" not in window.page_keys and "devices" not in window.page_keys
    assert "Équipe" not in window.page_names and "Appareils" not in window.page_names
    with pytest.raises(KeyError):
        window.show_page("team")
    reception = desks("accueil", role="accueil")
    assert "team" not in reception.window.page_keys
    # Its session asking the server anyway: refused, in French, nothing listed.
    for call in (desk.controller.engine.list_agents, desk.controller.engine.list_devices):
        with pytest.raises(RequestRefusedError) as refused:
            call()
        assert refused.value.status == 403
        assert refused.value.message == "Votre rôle ne permet pas cette opération."


def test_offline_or_signed_out_each_page_says_so(
    qtbot: QtBot, desks: Callable[..., Desk], world: World, server: ServerProcess
) -> None:
    desk = desks("coordinateur-hors-ligne", role="coordinateur")
    page = desk.window.show_page("team")
    assert isinstance(page, TeamPage)
    qtbot.waitUntil(page.error.isVisible, timeout=20_000)
    assert page.error.text().startswith(
        "L'administration demande une session valide sur le serveur : connectez-vous depuis "
        "la page Synchronisation."
    )
    sign_in(qtbot, desk, server.base_url, world.create_agent("coordinateur", ["nord"]))
    # The server stops answering (here: the address of a closed port).
    local.set_meta(desk.controller.engine.store, "server_url", "http://127.0.0.1:9")
    devices = desk.window.show_page("devices")
    assert isinstance(devices, DevicesPage)
    qtbot.waitUntil(lambda: devices.error.isVisible() and not devices.loading, timeout=20_000)
    assert devices.error.text().startswith(
        "Le serveur est injoignable : l'administration se fait en ligne."
    )
    assert not devices.revoke_button.isEnabled()


@pytest.mark.parametrize("scale", [100, 200])
def test_the_pages_show_every_word_at_100_and_200_percent(
    qtbot: QtBot, desks: Callable[..., Desk], world: World, scale: int
) -> None:
    for role in ("travailleur-social", "accueil"):
        world.create_agent(role, ["nord"], name="Dominique-Marie Vasseur-Lemaître")
    coordinator = coordinator_desk(qtbot, desks, world)
    window = coordinator.window
    assert window.theme is not None
    window.theme.apply(scale)
    window.adapt_to_font()
    problems: list[str] = []
    for key in ("team", "devices"):
        page = window.show_page(key)
        assert isinstance(page, TeamPage | DevicesPage)
        qtbot.waitUntil(lambda page=page: not page.loading, timeout=20_000)
        QApplication.processEvents()
        problems += [f"{key} ({scale} %): {p}" for p in clipped_texts(window)]
        problems += [f"{key} ({scale} %): {p}" for p in unnamed_controls(window)]
        # The wrapping columns too (the generic check reads only lists sized to contents).
        problems += [f"{key} ({scale} %): {p}" for p in clipped_cells(page.table)]
        minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
        if minimum.width() > 1366 or minimum.height() > 768:  # a City laptop's screen
            problems.append(f"{key} ({scale} %): the window needs {minimum.toTuple()}")
    window.theme.apply(100)
    assert problems == [], "\n".join(problems)


def test_a_login_already_taken_is_said_under_the_field_and_nothing_is_created(
    qtbot: QtBot, desks: Callable[..., Desk], world: World, dialogs: DialogDriver
) -> None:
    taken = world.create_agent("travailleur-social", ["nord"])
    coordinator = coordinator_desk(qtbot, desks, world)
    page = team_page(qtbot, coordinator)
    before = world.server.sql("SELECT count(*) FROM accounts")[0][0]
    seen: dict[str, Any] = {}

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, AgentDialog)
        dialog.login.setText(taken)
        dialog.name.setText("Homonyme")
        dialog.save()
        under_login = dialog.errors.labels["login"]
        qtbot.waitUntil(under_login.isVisible, timeout=20_000)
        seen["message"] = under_login.text()
        seen["kept"] = (dialog.login.text(), dialog.name.text())
        assert dialog.buttons.isEnabled()  # the coordinator can correct and save again
        dialog.reject()

    dialogs.when(AgentDialog, fill, timeout_ms=20_000)
    page.new_button.click()
    qtbot.waitUntil(lambda: "message" in seen or bool(dialogs.errors), timeout=30_000)
    dialogs.check()
    assert seen["message"] == "Cet identifiant de connexion existe déjà."
    assert seen["kept"] == (taken, "Homonyme")
    assert world.server.sql("SELECT count(*) FROM accounts")[0][0] == before


def test_the_devices_page_from_the_keyboard_and_no_means_nothing_revoked(
    qtbot: QtBot,
    desks: Callable[..., Desk],
    world: World,
    boxes: MessageBoxes,
    keyboard: Keyboard,
) -> None:
    worker = world.agent("travailleur-social", ["nord"])
    coordinator = coordinator_desk(qtbot, desks, world)
    window = coordinator.window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=20_000)
    window.navigation.setFocus()
    qtbot.waitUntil(window.navigation.hasFocus, timeout=20_000)
    position = window.page_keys.index("devices") + 1  # Alt+1…9, Alt+0 the tenth
    assert position <= 10
    keyboard.key(getattr(Qt.Key, f"Key_{position % 10}"), Qt.KeyboardModifier.AltModifier)
    page = window.pages.currentWidget()
    assert isinstance(page, DevicesPage)
    qtbot.waitUntil(lambda: not page.loading and page.model.rowCount() > 0, timeout=20_000)
    keyboard.key(Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)  # Actualiser
    qtbot.waitUntil(lambda: page.loading, timeout=5_000)
    qtbot.waitUntil(lambda: not page.loading, timeout=20_000)
    page.table.setFocus()
    qtbot.waitUntil(page.table.hasFocus, timeout=20_000)
    target = _row_of(page, worker.login)
    keyboard.key(Qt.Key.Key_Home)
    for _ in range(target):
        keyboard.key(Qt.Key.Key_Down)
    assert page.table.currentIndex().row() == target
    assert page.revoke_button.isEnabled()
    boxes.answer(No)
    keyboard.key(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)  # Révoquer l'appareil…
    qtbot.waitUntil(lambda: bool(boxes.seen), timeout=10_000)
    assert boxes.seen[0][0] == "Révoquer l'appareil"
    revoked = world.server.sql(
        "SELECT revoked_at_ms FROM devices WHERE device_id = :d", d=worker.device_id
    )
    assert revoked[0][0] is None
    assert worker.pull_page("0").status_code == 200
