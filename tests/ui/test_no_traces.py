"""No clear-text traces: a full working session, then every file outside the encrypted database
is searched for the names, phone numbers and notes it handled.

The session runs in the real window against a real ``havre-server`` on loopback: sign-in,
search, fiche, a visit typed in the form, a personal handout saved by the agent (her explicit
choice, audited), batch letters, the activity report, the lock, a sync. Then the profile
folder (logs included), the temporary folder (TMPDIR points to a folder of the test) and the
home folder (Qt's settings and caches) are read: none of the generated values is in any file
but the encrypted database, and no PDF is left anywhere but where the agent saved one.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from havre_desktop.core import contacts
from havre_desktop.core.demo import DemoSize, generated_names, seed_demo
from havre_desktop.core.logs import close_logging, configure_logging
from havre_desktop.core.paths import ProfilePaths
from havre_desktop.printing.letters import LetterKind
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog
from havre_desktop.ui.pages.visit_form import VisitForm
from havre_desktop.ui.print_preview import PdfPreviewDialog
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.worker import DatabaseService
from tests.helpers import MemoryKeyring, new_workspace, person_values
from tests.server.support import World
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard
from tests.ui.test_sync_ui import Desk, edit, server, sign_in, sync, world

__all__ = ["server", "world"]  # the real server on loopback, shared with test_sync_ui

CTRL = Qt.KeyboardModifier.ControlModifier
ENCRYPTED = {"havre.db", "havre.db-wal", "havre.db-shm"}


def _fictional_person(index: int) -> dict[str, Any]:
    """Names and numbers made for this run only (fiction ranges), so a find is ours."""
    token = secrets.token_hex(3).upper()
    return person_values(
        family_name=f"Traçabilité{token}",
        given_names=f"Odile{index}",
        address_line=f"{10 + index} rue Secrète-{token}",
        phone_1=f"02 61 91 {40 + index:02d} {secrets.randbelow(90) + 10:02d}",
    )


def _text_of(path: Path) -> bytes:
    """The bytes of a file, plus the text of a PDF (its fonts are subsets: the names are not
    in its bytes as such)."""
    data = path.read_bytes()
    if not data.startswith(b"%PDF-"):
        return data
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    return data + b"\n" + text.encode("utf-8")


def _variants(value: str) -> list[bytes]:
    digits = re.sub(r"\D", "", value)
    out = {value, value.upper(), value.casefold()}
    if len(digits) >= 8:
        out |= {digits, " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))}
    return [v.encode(enc) for v in out for enc in ("utf-8", "utf-16-le")]


@pytest.fixture
def session_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """TMPDIR of this test (Python and Qt read it), the isolated HOME of tests/conftest.py."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    import os

    yield {"tmp": tmp, "home": Path(os.environ["HOME"]), "profile": tmp_path / "profile"}


@pytest.fixture
def coordinator_desk(qtbot: QtBot, session_folders: dict[str, Path], server: Any) -> Iterator[Desk]:
    """A coordinator's profile as the application opens it: log file in the profile, window,
    sync controller (the same wiring as app.py, with a test keyring)."""
    folder = session_folders["profile"]
    keyring = MemoryKeyring()
    ws, manager, _recovery = new_workspace(
        folder, keyring, role="coordinateur", territories=["nord"], now=datetime.now(UTC)
    )
    configure_logging(ProfilePaths(folder).logs)
    seed_demo(ws, DemoSize(persons=150, organisations=5, visits=400), with_owner=False)
    data = load_context_data(ws)
    sync_store = ws.store.open_another()
    database = DatabaseService(ws)
    window = MainWindow(build_context(database, data), str(folder), manager)
    window.resize(1280, 800)
    window.show()
    window.build_remaining_pages(one_at_a_time=False)
    window.activateWindow()
    qtbot.waitActive(window)
    controller = SyncController.for_store(ws, sync_store, manager.profile_id, keyring)
    window.attach_sync(controller)
    app = DemoApp(window, ws, database, qtbot)
    desk = Desk(app, controller, manager, folder)
    controller.status_changed.connect(lambda _s: desk.statuses.__setitem__(0, desk.statuses[0] + 1))
    app.settle()
    qtbot.waitUntil(lambda: desk.statuses[0] > 0)
    yield desk
    app.settle()
    window.sync = None
    controller.shutdown()
    database.shutdown()
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    close_logging()


def test_a_working_session_leaves_no_clear_text_outside_the_database(
    qtbot: QtBot,
    world: World,
    server: Any,
    coordinator_desk: Desk,
    session_folders: dict[str, Path],
    dialogs: DialogDriver,
    keyboard: Keyboard,
    tmp_path: Path,
) -> None:
    desk, window = coordinator_desk, coordinator_desk.window
    app = desk.app
    login = world.create_agent("coordinateur", ["nord"], name="Coordinatrice")
    sign_in(qtbot, desk, server.base_url, login)
    agent_id = edit(qtbot, desk, lambda ws: ws.agent_id)
    note = f"Note fictive {secrets.token_hex(4)} : sa voisine passe le mardi."
    persons = [_fictional_person(i) for i in range(3)]
    ids = []
    for values in persons:
        row = edit(
            qtbot,
            desk,
            lambda ws, v=values: contacts.create_person(ws, {**v, "referent_agent_id": agent_id}),
        )
        ids.append(str(row["id"]))
    first = persons[0]

    # Search and fiche.
    page = window.persons_page
    window.go_to(page)
    page.search_field.setText(str(first["family_name"]).lower())
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    page.open_fiche(0)
    qtbot.waitUntil(lambda: page.current is not None and page.current["id"] == ids[0])

    # A visit typed in the form (with a lock and unlock in the middle).
    def type_visit() -> None:
        form = QApplication.activeModalWidget()
        assert isinstance(form, VisitForm)
        qtbot.waitUntil(form.kind.hasFocus)
        form.notes.setFocus()
        keyboard.type(note, counted=False)
        keyboard.key(Qt.Key.Key_L, CTRL)
        assert window.lock.locked
        window.lock.unlock()
        form.notes.setFocus()
        keyboard.key(Qt.Key.Key_Return, CTRL)

    dialogs.soon(type_visit)
    page.new_visit()
    dialogs.check()
    app.settle()

    # A personal handout, saved by the agent where she chose (her decision, audited).
    chosen = tmp_path / "choisi-par-l-agent"
    chosen.mkdir()

    def choose_actions(dialog: object) -> None:
        assert isinstance(dialog, HandoutChoiceDialog)
        dialog.action_list.item(0).setCheckState(Qt.CheckState.Checked)
        dialog.accept()

    def save_preview(preview: object) -> None:
        assert isinstance(preview, PdfPreviewDialog)

        def choose_file(dialog: object) -> None:  # Qt's own file dialog (it keeps a history)
            assert isinstance(dialog, QFileDialog)
            dialog.setDirectory(str(chosen))  # the name the application suggests is kept
            dialog.accept()
            QTimer.singleShot(0, preview.accept)  # then the preview is closed

        dialogs.when(QFileDialog, choose_file)
        # "Enregistrer en PDF…": the agent's explicit choice (after this handler returns: the
        # file dialog runs its own event loop).
        QTimer.singleShot(0, preview.save_button.click)

    dialogs.when(HandoutChoiceDialog, choose_actions)
    dialogs.when(PdfPreviewDialog, save_preview)
    page.print_handout()
    qtbot.waitUntil(lambda: (chosen / "document-personne.pdf").exists(), timeout=20_000)
    dialogs.check()
    app.settle()

    # Batch letters to the persons she follows, then the activity report: previews closed.
    prints = window.prints_page
    window.go_to(prints)
    prints.letter_kind.setCurrentIndex(prints.letter_kind.findData(LetterKind.PROGRAMME_ETE.value))
    with qtbot.waitSignal(prints.batch_finished, timeout=60_000) as batch:
        prints.start_letters()
    assert batch.args is not None and batch.args[0].done >= 3  # hers and the demo ones
    qtbot.waitUntil(lambda: getattr(prints, "last_preview", None) is not None)
    prints.last_preview.accept()
    prints.preview_report()
    qtbot.waitUntil(lambda: prints.last_preview.windowTitle() == "Rapport d'activité")
    prints.last_preview.accept()
    app.settle()

    # Saving the handout was audited (ids only); audit entries leave with the sync.
    exported = app.query("SELECT entity, entity_id FROM audit_log WHERE event = 'export'")
    assert {"entity": "contacts", "entity_id": ids[0]} in exported
    sync(qtbot, desk)
    assert desk.area.pending.text() == "Aucune modification en attente"
    synced = app.query("SELECT count(*) AS n FROM visits WHERE notes = ?", (note,))
    assert synced[0]["n"] == 1

    # -- the scan --------------------------------------------------------------------------
    needles: dict[bytes, str] = {}
    for values in persons:
        for key in ("family_name", "address_line", "phone_1"):
            for variant in _variants(str(values[key])):
                needles[variant] = f"{key} {values[key]}"
    for variant in _variants(note):
        needles[variant] = "note"
    # Every name, phone number, address and note of the profile (demo data included).
    for name in edit(qtbot, desk, generated_names):
        if len(name) >= 4:
            needles[name.encode("utf-8")] = f"name {name}"
    for row in app.query(
        "SELECT phone_1, phone_2, address_line FROM contacts UNION ALL "
        "SELECT notes, NULL, NULL FROM visits WHERE notes IS NOT NULL AND notes != ''"
    ):
        for value in row.values():
            if value and len(str(value)) >= 8:
                needles[str(value).encode("utf-8")] = f"value {value}"
    files = [
        p
        for root in session_folders.values()
        for p in root.rglob("*")
        if p.is_file() and not (p.parent == session_folders["profile"] and p.name in ENCRYPTED)
    ]
    assert any(p.name == "havre.log" for p in files)  # the log was written and is searched
    found = [
        (str(p), what) for p in files for needle, what in needles.items() if needle in _text_of(p)
    ]
    assert not found, found
    pdfs = [str(p) for p in files if p.read_bytes()[:5] == b"%PDF-"]
    assert not pdfs, pdfs
    # The database itself holds them (the needles would be found if written in clear).
    assert (
        app.query("SELECT count(*) AS n FROM contacts WHERE id IN (?, ?, ?)", tuple(ids))[0]["n"]
        == 3
    )
    # The saved handout is where she chose (and the scan would have seen the name in it).
    assert str(first["family_name"]).encode() in _text_of(chosen / "document-personne.pdf")
