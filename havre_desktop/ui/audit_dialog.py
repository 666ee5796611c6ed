"""Journal d'audit, for coordinators: who opened, printed, exported or erased which file, when,
from which device. Read from the server, online (audit entries never come down to devices);
the server decides what a coordinator may see (her territories)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_common.french import count
from havre_common.protocol import UUID_PATTERN, AuditPage, EraseReply, SubjectAccessReply
from havre_common.subject_access import write_pdf
from havre_desktop.core import contacts
from havre_desktop.core.audit import EVENT_LABELS
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.errors import SyncError
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.sync_widgets import french_moment
from havre_desktop.ui.widgets import table_view

NO_DATE = QDate(2000, 1, 1)
"""The earliest date of the date fields: shown as "toutes", no filter."""
PAGE = 200
UUID_RE = re.compile(UUID_PATTERN)


def _detail(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k} : {v}" for k, v in sorted(detail.items()))


def _entity(entry: dict[str, Any]) -> str:
    entity = entry.get("entity") or ""
    spec = contract.TABLES.get(entity)
    return spec.label if spec is not None else entity


class AuditDialog(QDialog):
    def __init__(
        self,
        controller: SyncController,
        agents: dict[str, str],
        entity_id: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Journal d'audit"))
        self.controller = controller
        self.agents = agents
        self.file = QLineEdit(entity_id)
        self.file.setMaxLength(100)
        self.file.setPlaceholderText(tr("identifiant d'une fiche (toutes si vide)"))
        self.agent = QComboBox()
        self.agent.addItem(tr("Tous les agents"), "")
        for agent_id, name in sorted(agents.items(), key=lambda item: item[1]):
            self.agent.addItem(name, agent_id)
        self.event_kind = QComboBox()
        self.event_kind.addItem(tr("Tous les évènements"), "")
        for code, label in EVENT_LABELS.items():
            self.event_kind.addItem(tr(label), code)
        self.since, self.until = QDateEdit(), QDateEdit()
        for field in (self.since, self.until):
            field.setCalendarPopup(True)
            field.setDisplayFormat("dd/MM/yyyy")
            field.setMinimumDate(NO_DATE)
            field.setSpecialValueText(tr("toutes"))
            field.setDate(NO_DATE)
        self.show_button = QPushButton(tr("&Afficher"))
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(lambda: self.load())
        self.older_button = QPushButton(tr("Entrées plus a&nciennes"))
        self.older_button.clicked.connect(lambda: self.load(older=True))
        self.older_button.setEnabled(False)
        self.export_button = QPushButton(tr("E&xporter ses données (RGPD)…"))
        self.export_button.setToolTip(
            tr("Tout ce que le serveur détient sur la personne de cette fiche : JSON et PDF")
        )
        self.export_button.clicked.connect(self.choose_export_folder)
        self.erase_button = QPushButton(tr("E&ffacer la personne (RGPD)…"))
        self.erase_button.setToolTip(
            tr("Supprime tout ce qui la concerne, sur le serveur et sur chaque appareil")
        )
        self.erase_button.clicked.connect(self.erase_person)
        self.file.textChanged.connect(self._file_changed)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName(tr("État du journal"))
        self.model = RowsModel(
            [
                (tr("Date"), lambda e: french_moment(e["at"])),
                (tr("Agent"), lambda e: e.get("agent_name") or tr("serveur (administration)")),
                (tr("Évènement"), lambda e: tr(EVENT_LABELS.get(e["event"], e["event"]))),
                (tr("Objet"), _entity),
                (tr("Fiche"), lambda e: self.names.get(e.get("entity_id") or "", "")),
                (tr("Identifiant"), lambda e: e.get("entity_id") or ""),
                (tr("Appareil"), lambda e: e.get("device_id") or ""),
                (tr("Détail"), lambda e: _detail(e.get("detail") or {})),
            ]
        )
        self.table = table_view(tr("Entrées du journal d'audit"))
        self.table.setModel(self.model)
        form = QFormLayout()
        form.addRow(tr("&Fiche :"), self.file)
        form.addRow(tr("A&gent :"), self.agent)
        form.addRow(tr("&Évènement :"), self.event_kind)
        dates = QHBoxLayout()
        dates.addWidget(self.since)
        to = QLabel(tr("a&u"))
        to.setBuddy(self.until)
        dates.addWidget(to)
        dates.addWidget(self.until)
        dates.addStretch(1)
        since = QLabel(tr("&Du :"))
        since.setBuddy(self.since)
        form.addRow(since, dates)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.older_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.erase_button)
        close = QPushButton(tr("&Fermer"))
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self._next_before: int | None = None
        self.names: dict[str, str] = {}  # file id → name, for the fiches this device holds
        self.resize(900, 560)
        self._file_changed()

    def filters(self) -> dict[str, str]:
        found = {
            "entity_id": self.file.text().strip(),
            "agent_id": str(self.agent.currentData() or ""),
            "event": str(self.event_kind.currentData() or ""),
            "limit": str(PAGE),
        }
        if self.since.date() != NO_DATE:
            found["since"] = self.since.date().toString("yyyy-MM-dd")
        if self.until.date() != NO_DATE:
            found["until"] = self.until.date().toString("yyyy-MM-dd")
        return found

    def load(self, older: bool = False) -> None:
        filters = self.filters()
        if older and self._next_before is not None:
            filters["before"] = str(self._next_before)
        self.message.setText(tr("Lecture du journal sur le serveur…"))
        self.show_button.setEnabled(False)
        self.older_button.setEnabled(False)
        engine = self.controller.engine

        def job(ws: Workspace) -> tuple[AuditPage, dict[str, str]]:
            page = engine.audit_entries(filters)
            ids = sorted(
                {str(e.entity_id) for e in page.entries if e.entity == "contacts" and e.entity_id}
            )
            return page, contacts.names_of(ws, ids)

        self.controller.worker.submit(
            job, lambda found: self._shown(found[0], found[1], older), self._failed
        )

    def _shown(self, page: AuditPage, names: dict[str, str], older: bool) -> None:
        self.names.update(names)
        rows = [e.model_dump() for e in page.entries]
        self.model.set_rows((self.model.rows + rows) if older else rows)
        self._next_before = page.next_before
        self.show_button.setEnabled(True)
        self.older_button.setEnabled(page.next_before is not None)
        self.table.resizeColumnsToContents()
        shown = len(self.model.rows)
        self.message.setText(
            tr("Aucune entrée pour ces critères.")
            if not shown
            else count(
                shown,
                tr("{n} entrée affichée, les plus récentes d'abord."),
                tr("{n} entrées affichées, les plus récentes d'abord."),
            )
        )

    def _failed(self, error: Exception) -> None:
        self.show_button.setEnabled(True)
        text = error.message if isinstance(error, SyncError) else tr("Erreur inattendue.")
        self.message.setText(tr("Journal indisponible : {text}").format(text=text))

    # -- subject access (RGPD art. 15) ------------------------------------------------------

    def _file_changed(self, *_args: object) -> None:
        one_file = bool(UUID_RE.match(self.file.text().strip()))
        self.export_button.setEnabled(one_file)
        self.erase_button.setEnabled(one_file)

    # -- erasure (RGPD art. 17) ---------------------------------------------------------------

    def erase_person(self) -> None:
        """After a confirmation naming her: the server erases her everywhere (always wins)."""
        person_id = self.file.text().strip()
        who = self.names.get(person_id) or tr("la personne {id}").format(id=person_id)
        answer = QMessageBox.question(
            self,
            tr("Effacer la personne (RGPD)"),
            tr(
                "Effacer définitivement {who} ? Sa fiche et tout ce qui la concerne (visites, "
                "consentements, inscription au registre, contacts prévus…) sont supprimés du "
                "serveur et de chaque appareil à sa prochaine synchronisation. Le journal "
                "d'audit garde seulement son identifiant. Cette opération est irréversible."
            ).format(who=who),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.erase_confirmed(person_id)

    def erase_confirmed(self, person_id: str) -> None:
        engine = self.controller.engine
        self.message.setText(tr("Effacement demandé au serveur…"))
        self.erase_button.setEnabled(False)

        def done(reply: EraseReply) -> None:
            removed = sum(reply.removed.values())
            self.message.setText(
                count(
                    removed,
                    tr("Personne effacée : {n} ligne supprimée partout."),
                    tr("Personne effacée : {n} lignes supprimées partout."),
                )
            )
            self.controller.sync_now()  # her rows leave this device now
            self._file_changed()

        def failed(error: Exception) -> None:
            self._failed(error)
            self._file_changed()

        self.controller.worker.submit(lambda _ws: engine.erase_person(person_id), done, failed)

    def choose_export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Dossier où écrire l'export"))
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        """Ask the server for everything it holds about this person (the server audits the
        request), then write it here as JSON and a readable PDF: the coordinator's choice."""
        person_id, engine = self.file.text().strip(), self.controller.engine
        self.message.setText(tr("Export demandé au serveur…"))
        self.export_button.setEnabled(False)

        def write(reply: SubjectAccessReply) -> None:
            data = reply.model_dump()
            try:
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / f"acces-{person_id}.json"
                target.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
                pdf = write_pdf(data, folder / f"acces-{person_id}.pdf")
            except OSError as exc:
                self.message.setText(
                    tr("Export non écrit dans {folder} : {error}").format(
                        folder=folder, error=exc.strerror or type(exc).__name__
                    )
                )
            else:
                written = [p.name for p in (target, pdf) if p is not None]
                self.message.setText(
                    tr("Export écrit dans {folder} : {files}.").format(
                        folder=folder, files=", ".join(written)
                    )
                )
            self._file_changed()

        def failed(error: Exception) -> None:
            self._failed(error)
            self._file_changed()

        self.controller.worker.submit(lambda _ws: engine.subject_access(person_id), write, failed)
