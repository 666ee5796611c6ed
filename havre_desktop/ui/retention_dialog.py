"""Conservation des données, for coordinators and administrators (online).

The server lists the files of their territories whose last contact is older than the retention
period (2 years by default, CNIL délibération 2023-095) and that nothing keeps active (an open
planned contact, a current register enrolment…). The coordinator reviews them — names come from
this device's own copy, the server sends ids only — selects all or some and confirms; the
server anonymises them (identity, contact details and notes removed, visits still counted) and
every device, this one first, loses their identity at its next sync.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from havre_common.french import count, french_date
from havre_common.protocol import MAX_RETENTION_BATCH, RetentionList, RetentionReply
from havre_desktop.core import contacts
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.errors import SyncError
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.widgets import table_view, wrap_short_list

_ROW_LABELS = {
    "visits": ("{n} visite ou appel", "{n} visites ou appels"),
    "planned_contacts": ("{n} contact prévu", "{n} contacts prévus"),
    "register_enrolments": ("{n} inscription au registre", "{n} inscriptions au registre"),
    "consents": ("{n} consentement", "{n} consentements"),
    "handouts_given": ("{n} document remis", "{n} documents remis"),
}


def _rows(candidate: dict[str, Any]) -> str:
    rows: dict[str, int] = candidate.get("rows") or {}
    return ", ".join(
        count(n, tr(_ROW_LABELS[t][0]), tr(_ROW_LABELS[t][1]))
        for t, n in rows.items()
        if t in _ROW_LABELS and n
    )


class RetentionDialog(QDialog):
    def __init__(self, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Conservation des données"))
        self.controller = controller
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(tr("Règle de conservation"))
        self.model: RowsModel[dict[str, Any]] = RowsModel(
            [
                (tr("Personne"), lambda c: c["name"]),
                (tr("Territoire"), lambda c: c["territory"]),
                (tr("Dernier contact"), lambda c: french_date(c["last_contact"])),
                (tr("Ce qui reste compté"), _rows),
            ]
        )
        self.table = table_view(tr("Fiches à anonymiser"))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setModel(self.model)
        wrap_short_list(self.table)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        list_label = QLabel(tr("&Liste des fiches sans contact depuis la durée de conservation :"))
        list_label.setBuddy(self.table)
        self.refresh_button = QPushButton(tr("&Actualiser la liste"))
        self.refresh_button.clicked.connect(self.load)
        self.all_button = QPushButton(tr("&Tout sélectionner"))
        self.all_button.clicked.connect(self.select_all)
        self.anonymise_button = QPushButton(tr("A&nonymiser la sélection…"))
        self.anonymise_button.setToolTip(
            tr(
                "Efface l'identité, les coordonnées et les notes, sur le serveur et sur chaque "
                "appareil ; les visites restent comptées"
            )
        )
        self.anonymise_button.clicked.connect(self.confirm)
        self.anonymise_button.setEnabled(False)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName(tr("État de la conservation"))
        close = QPushButton(tr("&Fermer"))
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.all_button)
        buttons.addStretch(1)
        buttons.addWidget(self.anonymise_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(list_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self._result = ""  # what the last anonymisation did, said above the new list
        self.resize(900, 520)

    # -- the list ---------------------------------------------------------------------------

    def load(self) -> None:
        """Ask the server for the files due; name them from this device's copy."""
        self.message.setText(tr("Lecture de la liste sur le serveur…"))
        self.refresh_button.setEnabled(False)
        engine = self.controller.engine

        def job(ws: Workspace) -> tuple[RetentionList, dict[str, str], dict[str, str]]:
            listed = engine.retention_due()
            ids = [c.person_id for c in listed.candidates]
            return listed, contacts.names_of(ws, ids), ws.reference("territories")

        self.controller.worker.submit(job, lambda found: self._shown(*found), self._failed)

    def _shown(
        self, listed: RetentionList, names: dict[str, str], territories: dict[str, str]
    ) -> None:
        rows = [
            {
                **c.model_dump(),
                # Not on this device (not synced yet): the id says which file it is.
                "name": names.get(c.person_id)
                or tr("fiche {id} (pas sur ce poste)").format(id=c.person_id[:8]),
                "territory": territories.get(c.territory_id, c.territory_id),
            }
            for c in listed.candidates
        ]
        self.model.set_rows(rows)
        self.refresh_button.setEnabled(True)
        rules = tr(" ni ").join(tr(rule) for rule in listed.rules)
        self.summary.setText(
            tr(
                "Une fiche est conservée {months} mois après le dernier contact (CNIL, "
                "délibération 2023-095). Sont listées les fiches sans contact depuis le {cutoff}, "
                "sans {rules}. Une fiche anonymisée perd son identité, ses coordonnées et ses "
                "notes, sur le serveur et sur chaque appareil ; ses visites restent comptées "
                "(date, type, territoire, actions proposées)."
            ).format(months=listed.months, cutoff=french_date(listed.cutoff), rules=rules)
        )
        state = (
            tr("Aucune fiche à anonymiser.")
            if not rows
            else count(
                len(rows),
                tr("{n} fiche à examiner, la plus ancienne d'abord."),
                tr("{n} fiches à examiner, les plus anciennes d'abord."),
            )
        )
        self.message.setText(f"{self._result} {state}".strip())
        self._result = ""
        self._selection_changed()

    def _failed(self, error: Exception) -> None:
        self.refresh_button.setEnabled(True)
        self._selection_changed()
        text = error.message if isinstance(error, SyncError) else tr("Erreur inattendue.")
        self.message.setText(tr("Conservation indisponible : {text}").format(text=text))

    # -- selection and confirmation ------------------------------------------------------------

    def select_all(self) -> None:
        self.table.selectAll()
        self.table.setFocus()

    def selected(self) -> list[dict[str, Any]]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [r for r in (self.model.row(i) for i in rows) if r is not None]

    def _selection_changed(self, *_args: object) -> None:
        self.anonymise_button.setEnabled(bool(self.selected()))

    def confirm(self) -> None:
        chosen = self.selected()
        if not chosen:
            return
        shown = ", ".join(r["name"] for r in chosen[:5])
        if len(chosen) > 5:
            shown += tr("… et {n} autres").format(n=len(chosen) - 5)
        answer = QMessageBox.question(
            self,
            tr("Anonymiser des fiches"),
            count(len(chosen), tr("Anonymiser {n} fiche"), tr("Anonymiser {n} fiches"))
            + f" ({shown}) ?\n\n"
            + tr(
                "Leur identité, leurs coordonnées et leurs notes sont effacées du serveur, puis "
                "de chaque appareil à sa prochaine synchronisation. Les visites restent "
                "comptées pour les statistiques. Cette opération est irréversible."
            ),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.anonymise([str(r["person_id"]) for r in chosen])

    def anonymise(self, person_ids: list[str]) -> None:
        engine = self.controller.engine
        self.message.setText(tr("Anonymisation demandée au serveur…"))
        self.anonymise_button.setEnabled(False)

        def done(reply: RetentionReply) -> None:
            text = count(
                len(reply.anonymised),
                tr("{n} fiche anonymisée sur le serveur ; les appareils suivront."),
                tr("{n} fiches anonymisées sur le serveur ; les appareils suivront."),
            )
            if reply.skipped:
                kept = count(
                    len(reply.skipped), tr("{n} fiche conservée"), tr("{n} fiches conservées")
                )
                text += f" {kept} : {reply.skipped[0].reason}"
            self._result = text
            self.controller.sync_now()  # this device first
            self.load()

        def job(_ws: Workspace) -> RetentionReply:
            """In requests of at most MAX_RETENTION_BATCH files (a whole territory may be due)."""
            replies = [
                engine.retention_anonymise(person_ids[start : start + MAX_RETENTION_BATCH])
                for start in range(0, len(person_ids), MAX_RETENTION_BATCH)
            ]
            return RetentionReply(
                anonymised=[p for r in replies for p in r.anonymised],
                skipped=[s for r in replies for s in r.skipped],
                audit_ids=[a for r in replies for a in r.audit_ids],
            )

        self.controller.worker.submit(job, done, self._failed)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter in the list asks for confirmation (the list has the focus, not a button)."""
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and self.table.hasFocus()
            and self.anonymise_button.isEnabled()
        ):
            self.confirm()
            return
        super().keyPressEvent(event)
