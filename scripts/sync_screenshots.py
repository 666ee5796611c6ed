"""Screenshots of sync in the window, against a real havre-server on loopback, fake data only.

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/sync_screenshots.py [dossier] [conservation]

Saves into docs/screenshots/ (or the folder given): the sign-in dialog, the status bar in each
state (not signed in, changes waiting, syncing with progress, up to date, offline, error) and the
Synchronisation page with two conflicts between two agents, and with a visit the server
refused; a coordinator's Journal d'audit and her Conservation des données (``conservation``
as second argument: that one only). The server runs from a throwaway folder and is
stopped at the end; every person and phone number is fictional.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The repository root: the server and keyring helpers of the tests are reused here.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from PySide6.QtWidgets import QApplication

from havre_desktop.core import agents, contacts, visits
from havre_desktop.core.clock import Clock
from havre_desktop.core.profile import ProfileManager
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.engine import SyncEngine
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.sync_widgets import SignInDialog
from havre_desktop.ui.worker import DatabaseService
from scripts.screenshots import wait
from tests.helpers import MemoryKeyring, new_workspace
from tests.server.support import PASSWORD, ServerProcess, World, make_server


class SlowPushes(httpx.BaseTransport):
    """The real transport; each push waits a moment while `slow[0]` (a slow mobile network),
    so that the progress can be seen."""

    def __init__(self, inner: httpx.BaseTransport, slow: list[bool]) -> None:
        self.inner, self.slow = inner, slow

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.slow[0] and request.url.path.endswith("/sync/push"):
            time.sleep(1.0)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def profile(
    folder: Path, name: str, role: str = "travailleur-social"
) -> tuple[Workspace, ProfileManager, MemoryKeyring]:
    """A profile on the real clock (the server refuses clocks more than 5 minutes off)."""
    keyring = MemoryKeyring()
    ws, manager, _recovery = new_workspace(folder, keyring, clock=Clock(), name=name, role=role)
    return ws, manager, keyring


PERSONS = [
    ("Lefèvre", "Jeanne", "14 rue de la Mare-Rouge", "02 61 91 12 34"),
    ("Dubois", "Marcel", "3 allée des Tilleuls", "02 61 91 45 67"),
    ("Nguyen", "Thérèse", "27 rue Jules-Siegfried", "06 39 98 21 09"),
]


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="havre-sync-shots-") as tmp:
        root = Path(tmp)
        folder = root / "serveur"
        server = make_server("sqlite", f"sqlite:///{folder / 'havre-server.db'}", folder)
        for login, name in (("camille", "Camille Exemple"), ("bruno", "Bruno Fictif")):
            server.cli(
                "add-agent",
                *("--login", login, "--name", name, "--role", "travailleur-social"),
                *("--territory", "nord", "--password-stdin"),
                stdin=PASSWORD + "\n",
            )
        server.start("--log-level", "warning")
        try:
            if sys.argv[2:] != ["conservation"]:
                shoot(app, root, server, out)
                shoot_audit(app, root, server, out)
                shoot_admin(app, root, server, out)
            shoot_retention(app, root, server, out)
        finally:
            server.stop()
    print(f"captures enregistrées dans {out}")
    return 0


def shoot(app: QApplication, root: Path, server: ServerProcess, out: Path) -> None:
    ws, manager, keyring = profile(root / "camille", "Camille Exemple")
    data = load_context_data(ws)
    database = DatabaseService(ws)
    window = MainWindow(build_context(database, data), str(root / "camille"))
    window.resize(1280, 800)
    window.show()
    slow = [False]
    controller = SyncController.for_store(
        ws,
        ws.store.open_another(),
        manager.profile_id,
        keyring,
        push_batch=1,
        http_wrap=lambda inner: SlowPushes(inner, slow),
    )
    window.attach_sync(controller)
    area, page = window.sync_area, window.sync_page
    assert area is not None and page is not None
    statuses = [0]
    controller.status_changed.connect(lambda _s: statuses.__setitem__(0, statuses[0] + 1))

    def settle() -> None:
        wait(lambda: database.pending == 0 and controller.worker.pending == 0)
        app.processEvents()

    def status_bar(name: str) -> None:
        settle()
        window.statusBar().grab().save(str(out / f"sync-barre-{name}.png"))

    def run(job: Callable[[Workspace], Any]) -> Any:
        done: list[Any] = []
        database.submit(job, lambda r: (done.append(r), window.data_changed()))
        wait(lambda: bool(done))
        settle()
        return done[0]

    def sync() -> None:
        seen = statuses[0]
        area.button.click()
        wait(lambda: not controller.running and statuses[0] > seen)
        settle()

    wait(lambda: statuses[0] > 0)
    status_bar("non-connecte")

    # The sign-in dialog, filled in (the password shows as dots).
    dialog = SignInDialog(controller, "", window)
    dialog.server.setText(server.base_url)
    dialog.login.setText("camille")
    dialog.password.setText(PASSWORD)
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(out / "sync-connexion.png"))
    dialog.submit()
    wait(lambda: not dialog.isVisible())
    wait(lambda: "Connecté en tant que" in page.account.text())

    people = [
        run(
            lambda w, p=p: contacts.create_person(
                w,
                {
                    "family_name": p[0],
                    "given_names": p[1],
                    "birth_date": "12/03/1939",
                    "territory_id": "nord",
                    "address_line": p[2],
                    "postcode": "76620",
                    "phone_1": p[3],
                    "lives_alone": True,
                    "mobility": "autonome",
                },
            )
        )["id"]
        for p in PERSONS
    ]
    status_bar("en-attente")

    # Syncing, on a slow network: the progress bar and the step.
    slow[0] = True
    seen = statuses[0]
    area.button.click()
    wait(lambda: area.bar.isVisible() and area.bar.value() >= 1)
    window.statusBar().grab().save(str(out / "sync-barre-en-cours.png"))
    wait(lambda: not controller.running and statuses[0] > seen)
    slow[0] = False
    status_bar("a-jour")

    # Journey 3: Bruno, on his own laptop, changed the same phone number and address.
    bruno_ws, bruno_manager, bruno_keyring = profile(root / "bruno", "Bruno Fictif")
    bruno = SyncEngine(bruno_ws, profile_id=bruno_manager.profile_id, keyring=bruno_keyring)
    bruno.sign_in(server.base_url, "bruno", PASSWORD)
    bruno.sync()
    lefevre = people[0]
    run(
        lambda w: contacts.update(
            w,
            lefevre,
            {"phone_1": "02 61 91 55 66", "address_line": "14 rue de la Mare-Rouge, 4e étage"},
        )
    )
    contacts.update(
        bruno_ws,
        lefevre,
        {"phone_1": "02 61 91 77 88", "address_line": "14 bis rue de la Mare-Rouge"},
    )
    sync()
    bruno.sync()
    sync()
    window.go_to(page)
    settle()
    page.conflicts.selectRow(0)
    app.processEvents()
    window.grab().save(str(out / "sync-conflits.png"))

    # A visit the server refuses (the workshop it proposes left the catalogue meanwhile): the
    # page shows why, and what had been typed, until Camille discards it.
    world = World(server)
    admin = world.admin
    workshop = str(uuid.uuid4())
    fields = {"code": "F-ATELIER", "title": "Atelier mémoire (fictif)", "priority_id": "P06"}
    admin.push(admin.mutation("actions", workshop, "insert", {**fields, "status": "en-cours"}))
    sync()
    run(
        lambda w: visits.log_visit(
            w,
            people[1],
            {
                "occurred_at": w.clock.now_iso(),
                "kind": "visite-domicile",
                "outcome": "realisee",
                "duration_min": 40,
                "wellbeing": 3,
                "proposed_action_ids": [workshop],
                "notes": "M. Dubois aimerait un atelier mémoire près de chez lui ; rappeler jeudi.",
            },
        )
    )
    admin.push(admin.mutation("actions", workshop, "delete", {}, 1))
    world.close()
    sync()
    page.rejected.selectRow(0)
    app.processEvents()
    window.grab().save(str(out / "sync-refus.png"))

    # The server goes away: offline, the change waits, another try is planned.
    window.go_to(window.today_page)
    server.stop()
    run(lambda w: contacts.update(w, people[1], {"phone_2": "06 39 98 33 44"}))
    sync()
    status_bar("hors-ligne")

    # Back, but this account was disabled meanwhile: an error the agent must act on.
    server.restart()
    server.cli("disable-agent", "camille")
    sync()
    status_bar("erreur")

    controller.shutdown()
    database.shutdown()
    bruno_ws.store.close()
    window.sync = None  # the change left waiting is fake data: no question on closing
    window.close()


def coordinator_window(
    folder: Path, server: ServerProcess
) -> tuple[MainWindow, SyncController, DatabaseService]:
    """Dominique's window on a new profile in `folder`, signed in to the server."""
    ws, manager, keyring = profile(folder, "Dominique Exemple", "coordinateur")
    database = DatabaseService(ws)
    window = MainWindow(build_context(database, load_context_data(ws)), str(folder))
    window.resize(1280, 800)
    window.show()
    controller = SyncController.for_store(ws, ws.store.open_another(), manager.profile_id, keyring)
    window.attach_sync(controller)
    signed: list[object] = []
    controller.signed_in.connect(signed.append)
    controller.sign_in(server.base_url, "dominique", PASSWORD)
    wait(lambda: bool(signed))
    return window, controller, database


def shoot_audit(app: QApplication, root: Path, server: ServerProcess, out: Path) -> None:
    """A coordinator's Journal d'audit: who opened, printed or exported which fiche."""
    from havre_desktop.ui.audit_dialog import AuditDialog

    server.cli(
        "add-agent",
        *("--login", "dominique", "--name", "Dominique Exemple", "--role", "coordinateur"),
        *("--territory", "nord", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    window, controller, database = coordinator_window(root / "dominique", server)

    def sync_once() -> None:
        done: list[object] = []
        controller.finished.connect(done.append)
        controller.sync_now()
        wait(lambda: bool(done))
        controller.finished.disconnect()

    sync_once()  # the fiches of her territory
    opened: list[list[str]] = []
    database.submit(
        lambda w: [
            contacts.open_fiche(w, r["id"])["id"]
            for r in w.store.query("SELECT id FROM contacts ORDER BY family_name LIMIT 2")
        ],
        opened.append,
    )
    wait(lambda: bool(opened))
    sync_once()  # the openings go up
    # The administration answers a request of access (RGPD art. 15) from the server's shell.
    server.cli("subject-access", opened[0][1], "--out", str(root / "acces"))
    names: list[dict[str, str]] = []
    database.submit(
        lambda w: {a["id"]: a["display_name"] for a in agents.colleagues(w)}, names.append
    )
    wait(lambda: bool(names))
    dialog = AuditDialog(controller, names[0], "", window)
    dialog.resize(1150, 520)
    dialog.load()
    wait(lambda: dialog.model.rowCount() > 0 and dialog.show_button.isEnabled())
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(out / "journal-audit.png"))
    dialog.close()
    controller.shutdown()
    database.shutdown()
    window.sync = None
    window.close()


TEAM = [
    ("a.lemoine", "Alix Lemoine", "travailleur-social", "PC-CCAS-NORD-07"),
    ("m.durand", "Martine Durand-Vasseur", "travailleur-social", "PORTABLE-NORD-12"),
    ("s.benali", "Sami Benali", "accueil", "ACCUEIL-MAIRIE-ANNEXE-2"),
    ("j.petit", "Jo Petit", "travailleur-social", "PORTABLE-NORD-03"),
]


def shoot_admin(app: QApplication, root: Path, server: ServerProcess, out: Path) -> None:
    """Équipe and Appareils of a coordinator, at 100 % and 200 % text size: agents with their
    role and territories (one account disabled), devices with their last sync (one revoked)."""
    from havre_common.passwords import one_time_password
    from havre_desktop.ui.pages.admin_pages import (
        AgentDialog,
        DevicesPage,
        PasswordDialog,
        TeamPage,
    )

    world = World(server)
    for login, name, role, label in TEAM:
        server.cli(
            "add-agent",
            *("--login", login, "--name", name, "--role", role, "--territory", "nord"),
            *("--phone", "02 61 91 00 1" + str(len(label) % 10), "--password-stdin"),
            stdin=PASSWORD + "\n",
        )
        reply = world.client.post(
            "/api/v1/session",
            json={
                "login": login,
                "password": PASSWORD,
                "device_id": uuid.uuid4().hex,
                "device_label": label,
                "client_version": "0.1.0",
            },
        )
        reply.raise_for_status()
    world.close()
    server.cli("disable-agent", "j.petit")
    lost = next(d for d in _devices(server) if d["login"] == "m.durand")
    server.cli("revoke-device", lost["device_id"])
    window, controller, database = coordinator_window(root / "dominique-admin", server)
    assert window.theme is not None
    for scale in (100, 200):
        window.theme.apply(scale)
        window.adapt_to_font()
        for key, name in (("team", "equipe"), ("devices", "appareils")):
            page = window.show_page(key)
            assert isinstance(page, TeamPage | DevicesPage)
            wait(lambda page=page: not page.loading and page.model.rowCount() > 0)
            page.table.selectRow(1)  # an agent (a device) the coordinator manages
            window.resize(1280, 800)  # a laptop's screen (the status bar may ask for more)
            app.processEvents()
            window.grab().save(str(out / f"{name}-{scale}.png"))
    window.theme.apply(100)
    # The agent's dialog (as Modifier… opens it) and a password shown once.
    team = window.show_page("team")
    assert isinstance(team, TeamPage)
    wait(lambda: not team.loading and team.current is not None)
    agent = team.current
    assert agent is not None
    dialog = AgentDialog(window.ctx, controller.worker, controller.engine, agent, window)
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(out / "equipe-agent.png"))
    dialog.close()
    shown = PasswordDialog(
        "Nouveau mot de passe",
        f"Le nouveau mot de passe de {agent.display_name}, à lui transmettre :",
        agent.login or "",
        one_time_password(),
        window,
    )
    shown.show()
    app.processEvents()
    shown.grab().save(str(out / "equipe-mot-de-passe.png"))
    shown.close()
    controller.shutdown()
    database.shutdown()
    window.sync = None
    window.close()


OLD_FILES = [
    ("Martin", "Odette", "8 rue Émile-Zola", "02 61 91 33 10", 3 * 365),
    ("Leroy", "Fernand", "51 rue de Normandie", "02 61 91 33 11", 2 * 365 + 200),
    ("Petit", "Simone", "2 place Danton", "06 39 98 33 12", 2 * 365 + 40),
]


def shoot_retention(app: QApplication, root: Path, server: ServerProcess, out: Path) -> None:
    """A coordinator's Conservation des données: files with no contact for two years."""
    from datetime import UTC, datetime, timedelta

    from havre_desktop.ui.retention_dialog import RetentionDialog
    from tests.server.support import new_person, new_visit

    server.cli("set-agent", "camille", "--enable")  # disabled by shoot() for its error bar
    world = World(server)
    worker = world.sign_in("camille")
    for family, given, street, phone, age in OLD_FILES:
        # The fiche made 4 months before the last of three visits, `age` days ago.
        moment = (datetime.now(UTC) - timedelta(days=age + 120)).strftime("%Y-%m-%dT10:00:00.000Z")
        person = new_person(
            worker,
            "nord",
            family_name=family,
            given_names=given,
            address_line=street,
            phone_1=phone,
            emergency_contacts=[],
            created_at=moment,
            updated_at=moment,
        )
        for days in (0, 30, 90):
            earlier = (datetime.now(UTC) - timedelta(days=age + days)).strftime(
                "%Y-%m-%dT10:00:00.000Z"
            )
            new_visit(worker, person, occurred_at=earlier, created_at=earlier, updated_at=earlier)
    world.close()
    server.cli(
        "add-agent",
        *("--login", "claire", "--name", "Claire Exemple", "--role", "coordinateur"),
        *("--territory", "nord", "--password-stdin"),
        stdin=PASSWORD + "\n",
    )
    ws, manager, keyring = profile(root / "claire", "Claire Exemple", "coordinateur")
    database = DatabaseService(ws)
    window = MainWindow(build_context(database, load_context_data(ws)), str(root / "claire"))
    window.resize(1280, 800)
    window.show()
    controller = SyncController.for_store(ws, ws.store.open_another(), manager.profile_id, keyring)
    window.attach_sync(controller)
    signed: list[object] = []
    controller.signed_in.connect(signed.append)
    controller.sign_in(server.base_url, "claire", PASSWORD)
    wait(lambda: bool(signed))
    done: list[object] = []
    controller.finished.connect(done.append)
    controller.sync_now()
    wait(lambda: bool(done))
    dialog = RetentionDialog(controller, window)
    dialog.load()
    wait(lambda: dialog.model.rowCount() > 0 and dialog.refresh_button.isEnabled())
    dialog.show()
    dialog.table.setFocus()
    dialog.table.selectRow(0)
    app.processEvents()
    dialog.grab().save(str(out / "conservation-100.png"))
    dialog.close()
    controller.shutdown()
    database.shutdown()
    window.sync = None
    window.close()


def _devices(server: ServerProcess) -> list[dict[str, Any]]:
    import json

    found: list[dict[str, Any]] = json.loads(server.cli("list-devices"))
    return found


if __name__ == "__main__":
    sys.exit(main())
