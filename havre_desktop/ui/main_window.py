"""The main window: side navigation, pages, and a status bar."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from havre_desktop import APP_NAME
from havre_desktop.core import contacts
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.models import PersonSearchModel
from havre_desktop.ui.worker import DatabaseService

log = logging.getLogger("havre.ui")

SEARCH_DELAY_MS = 150


class PersonsPage(QWidget):
    """Find a person in a few keystrokes and read the fiche."""

    def __init__(self, database: DatabaseService, territories: dict[str, str]) -> None:
        super().__init__()
        self._db = database
        self._territories = territories
        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText("Nom, téléphone ou adresse (ex. : lefe, 06 39)")
        self.search_field.setAccessibleName("Rechercher une personne")
        self.search_field.setClearButtonEnabled(True)
        label = QLabel(self.tr("&Rechercher :"))
        label.setBuddy(self.search_field)
        self.model = PersonSearchModel(database, territories)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Résultats de la recherche")
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.fiche = QTextBrowser()
        self.fiche.setAccessibleName("Fiche de la personne")
        self.fiche.setPlaceholderText("Choisissez une personne pour afficher sa fiche.")
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self._search)
        self.search_field.textChanged.connect(self._debounce.start)
        self.search_field.returnPressed.connect(self._open_first)
        self.table.activated.connect(lambda index: self.open_fiche(index.row()))

        top = QHBoxLayout()
        top.addWidget(label)
        top.addWidget(self.search_field, 1)
        body = QHBoxLayout()
        body.addWidget(self.table, 3)
        body.addWidget(self.fiche, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        self.model.set_search_text("")

    def _search(self) -> None:
        self.model.set_search_text(self.search_field.text())

    def _open_first(self) -> None:
        self._debounce.stop()
        self._search()
        self.model.loaded.connect(self._open_first_loaded, Qt.ConnectionType.SingleShotConnection)

    def _open_first_loaded(self) -> None:
        if self.model.rowCount():
            self.table.selectRow(0)
            self.open_fiche(0)

    def open_fiche(self, row: int) -> None:
        person_id = self.model.person_id(row)
        if person_id is None:
            return
        self._db.submit(lambda ws: contacts.open_fiche(ws, person_id), self._show_fiche)

    def _show_fiche(self, fiche: dict[str, Any]) -> None:
        self.fiche.setHtml(render_fiche_html(fiche, self._territories))


def french_date(iso: str | None) -> str:
    """2026-11-25 → 25/11/2026 (dates are shown the French way)."""
    if not iso:
        return ""
    year, month, day = iso[:10].split("-")
    return f"{day}/{month}/{year}"


def render_fiche_html(fiche: dict[str, Any], territories: dict[str, str]) -> str:
    from html import escape

    lines = [f"<h2>{escape(contacts.display_name(fiche))}</h2>"]
    for label, value in (
        ("Date de naissance", french_date(fiche.get("birth_date"))),
        (
            "Adresse",
            " ".join(
                str(p)
                for p in (fiche.get("address_line"), fiche.get("postcode"), fiche.get("city"))
                if p
            ),
        ),
        ("Territoire", territories.get(fiche.get("territory_id") or "", "")),
        ("Téléphone", fiche.get("phone_1")),
        ("Autre téléphone", fiche.get("phone_2")),
        ("Vit seule / seul", {1: "oui", 0: "non"}.get(fiche.get("lives_alone"), "")),
        ("Accès au logement", fiche.get("access_notes")),
        (
            "Registre des personnes isolées",
            "inscrite / inscrit" if fiche.get("register") else "non inscrite / non inscrit",
        ),
    ):
        if value:
            lines.append(f"<p><b>{escape(label)} :</b> {escape(str(value))}</p>")
    for contact in fiche.get("emergency_contacts") or []:
        lines.append(
            f"<p><b>Contact d'urgence :</b> {escape(contact['name'])} "
            f"({escape(contact.get('relation') or '')}) – {escape(contact['phone'])}</p>"
        )
    return "\n".join(lines)


class MainWindow(QMainWindow):
    """Side navigation on the left, the current page on the right."""

    def __init__(self, database: DatabaseService, workspace_info: dict[str, Any]) -> None:
        super().__init__()
        self._db = database
        demo = bool(workspace_info.get("demo"))
        self.setWindowTitle(APP_NAME + (" — démonstration (données fictives)" if demo else ""))
        self.navigation = QListWidget()
        self.navigation.setAccessibleName("Navigation")
        self.navigation.setMaximumWidth(220)
        self.pages = QStackedWidget()
        self.persons_page = PersonsPage(database, workspace_info["territories"])
        self._add_page("Personnes", self.persons_page)
        self.navigation.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.navigation.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.navigation)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        agent = workspace_info.get("agent_name") or ""
        self.agent_label = QLabel(agent)
        self.statusBar().addPermanentWidget(self.agent_label)
        if demo:
            banner = QLabel("Profil de démonstration : toutes les données sont fictives.")
            banner.setAccessibleName("Avertissement démonstration")
            self.statusBar().addWidget(banner)
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self._focus_search)
        self.resize(1100, 700)

    def _add_page(self, title: str, page: QWidget) -> None:
        self.navigation.addItem(title)
        self.pages.addWidget(page)

    def _focus_search(self) -> None:
        self.navigation.setCurrentRow(0)
        self.persons_page.search_field.setFocus()
        self.persons_page.search_field.selectAll()


def workspace_summary(ws: Workspace) -> dict[str, Any]:
    """What the window needs at start (read on the worker thread)."""
    from havre_desktop.core import agents

    try:
        agent = agents.current(ws)
    except Exception:
        agent = None
    return {
        "demo": ws.store.get_setting("demo") == "1",
        "territories": ws.reference("territories"),
        "agent_name": agent["display_name"] if agent else "",
    }
