"""Alt+letter shortcuts never clash: on every page (with the window's own controls) and in
every dialog, each underlined letter leads to one control only. With a clash Alt+letter only
moves the focus between the controls sharing it, and a keyboard user cannot press anything."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable
from typing import cast

import pytest
from PySide6.QtWidgets import QAbstractButton, QDialog, QGroupBox, QLabel, QWidget
from reportlab.pdfgen.canvas import Canvas

from havre_common.protocol import AgentOut
from havre_desktop.core.workspace import decode_row
from havre_desktop.ui.pages.admin_pages import AgentDialog, PasswordDialog
from havre_desktop.ui.pages.campaign_coordination import ReassignDialog, StartDialog
from havre_desktop.ui.pages.catalogue_editor import (
    ActionEditor,
    FacilityEditor,
    SheetImportDialog,
    TemporaryChangeDialog,
)
from havre_desktop.ui.pages.consent_form import ConsentForm
from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog
from havre_desktop.ui.pages.person_form import PersonForm
from havre_desktop.ui.pages.register_form import RegisterDialog, RegisterForm
from havre_desktop.ui.pages.visit_form import VisitForm
from havre_desktop.ui.print_preview import PdfPreviewDialog
from havre_desktop.ui.retention_dialog import RetentionDialog
from havre_desktop.ui.sync_controller import SyncController
from tests.ui.conftest import DemoApp

_MNEMONIC = re.compile(r"&([^&\s])")


def mnemonics(root: QWidget) -> dict[str, list[str]]:
    """Letter → the texts of the visible controls that underline it."""
    found: dict[str, list[str]] = defaultdict(list)
    texts: list[str] = []
    for button in root.findChildren(QAbstractButton):
        if button.isVisibleTo(root):
            texts.append(button.text())
    for label in root.findChildren(QLabel):
        if label.isVisibleTo(root) and label.buddy() is not None:
            texts.append(label.text())
    for box in root.findChildren(QGroupBox):
        if box.isVisibleTo(root) and (box.isCheckable() or box.focusPolicy()):
            texts.append(box.title())
    for text in texts:
        match = _MNEMONIC.search(text.replace("&&", ""))
        if match:
            found[match.group(1).casefold()].append(text)
    return found


def clashes(root: QWidget) -> list[str]:
    return [
        f"Alt+{letter.upper()} : {' / '.join(texts)}"
        for letter, texts in sorted(mnemonics(root).items())
        if len(texts) > 1
    ]


def test_no_page_has_two_controls_on_one_letter(coordinator_app: DemoApp) -> None:
    window = coordinator_app.window
    found: list[str] = []
    for key in window.page_keys:
        window.show_page(key)
        coordinator_app.settle()
        if key == "persons":
            window.persons_page.open_fiche(0)
            coordinator_app.settle()
        found += [f"[{key}] {c}" for c in clashes(window)]
    assert not found, "\n".join(found)


DIALOGS: dict[str, Callable[[DemoApp], QDialog]] = {
    "personne": lambda app: PersonForm(app.database, app.window.ctx.references, None),
    "visite": lambda app: VisitForm.for_person(app.window.ctx, _person(app)),
    "consentement": lambda app: ConsentForm(app.database, _person(app), app.window.ctx.today),
    "document": lambda app: HandoutChoiceDialog(app.window.ctx, [], "nord", "Document"),
    "aperçu": lambda app: PdfPreviewDialog(_pdf(), "Aperçu", "aperçu.pdf"),
    "nouvel agent": lambda app: AgentDialog(app.window.ctx, app.database, None, None),
    "modifier l'agent": lambda app: AgentDialog(app.window.ctx, app.database, None, _agent()),
    "mot de passe": lambda app: PasswordDialog("Mot de passe", "Le voici :", "c.m", "abcd-efgh"),
    # Its controller is used only once the list is asked for, which this test does not do.
    "conservation": lambda app: RetentionDialog(cast(SyncController, None)),
    "registre": lambda app: RegisterForm(app.window.ctx, _person(app)),
    "registre-fiche": lambda app: RegisterDialog(app.window.ctx, _person(app)),
    "lancer une campagne": lambda app: StartDialog(
        app.window,
        app.window.ctx.references["territories"],
        ["nord", "sud"],
        [("6f1c1e0a-4a51-4c1e-9d3c-1a2b3c4d5e6f", "Camille Martin")],
        app.window.ctx.today,
    ),
    "réattribuer une liste": lambda app: ReassignDialog(
        app.window, [("a", "Camille Martin")], [("b", "Claire Petit")]
    ),
    "action du catalogue": lambda app: ActionEditor(app.window.ctx, None, _action(app), []),
    "nouvelle action": lambda app: ActionEditor(app.window.ctx, None, None, []),
    "lieu": lambda app: FacilityEditor(app.window.ctx, None, None),
    "changement temporaire": lambda app: TemporaryChangeDialog(
        app.window.ctx, None, {**_action(app), "facility": {"id": "x", "name": "Salle"}}
    ),
    "tableur": lambda app: SheetImportDialog(app.window.ctx, None),
}


def _action(app: DemoApp) -> dict[str, object]:
    (row,) = app.query("SELECT * FROM actions LIMIT 1")
    return decode_row(row)


def _agent() -> AgentOut:
    return AgentOut(
        id="6f1c1e0a-4a51-4c1e-9d3c-1a2b3c4d5e6f",
        login="c.martin",
        display_name="Camille Martin",
        role="travailleur-social",
        territory_ids=["nord"],
        disabled=False,
    )


def _person(app: DemoApp) -> dict[str, object]:
    (row,) = app.query("SELECT * FROM contacts WHERE kind = 'person' LIMIT 1")
    return row


def _pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(100, 700, "Aperçu")
    canvas.save()
    return buffer.getvalue()


@pytest.mark.parametrize("name", sorted(DIALOGS))
def test_no_dialog_has_two_controls_on_one_letter(demo_app: DemoApp, name: str) -> None:
    dialog = DIALOGS[name](demo_app)
    try:
        dialog.show()
        demo_app.settle()
        assert clashes(dialog) == []
        assert mnemonics(dialog), "a dialog with no Alt+letter at all is not keyboard-friendly"
    finally:
        dialog.close()
        dialog.deleteLater()
