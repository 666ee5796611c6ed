"""Sign-in dialog, the status bar's sync area, and the Synchronisation page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_common.contract import Field, Kind
from havre_common.french import count
from havre_common.reference import load_reference
from havre_desktop.core import agents
from havre_desktop.core.clock import PARIS
from havre_desktop.core.errors import HavreError
from havre_desktop.sync.engine import SyncProgress, SyncReport
from havre_desktop.sync.local import ConflictView, HistoryEntry, RejectedEdit, SyncStatus
from havre_desktop.ui.i18n import pending_text, tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.widgets import error_label, table_view

if TYPE_CHECKING:
    from havre_desktop.ui.retention_dialog import RetentionDialog


def french_relative_time(iso: str | None, now: datetime) -> str:
    """'à l'instant', 'il y a 5 minutes', 'il y a 2 heures', 'il y a 3 jours'."""
    if not iso:
        return tr("jamais")
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return tr("à l'instant")
    minutes = seconds // 60
    if minutes < 60:
        return count(minutes, tr("il y a {n} minute"), tr("il y a {n} minutes"))
    hours = minutes // 60
    if hours < 24:
        return count(hours, tr("il y a {n} heure"), tr("il y a {n} heures"))
    return count(hours // 24, tr("il y a {n} jour"), tr("il y a {n} jours"))


def error_text(error: Exception) -> str:
    return error.message if isinstance(error, HavreError) else tr("Erreur inattendue.")


def short_problem(error: Exception) -> str:
    """A few words for the status bar; the whole message is in its tooltip and on the
    Synchronisation page."""
    code = getattr(error, "code", "")
    words = {
        "unreachable": tr("Serveur injoignable"),
        "busy": tr("Serveur momentanément indisponible"),
        "certificate": tr("Certificat du serveur non reconnu"),
        "clock_skew": tr("Date ou heure de l'ordinateur à corriger"),
        "client_too_old": tr("Mise à jour de l'application nécessaire"),
        "account_disabled": tr("Compte désactivé"),
        "bad_credentials": tr("Reconnexion nécessaire"),
        "sign_in_required": tr("Reconnexion nécessaire"),
        "token_expired": tr("Reconnexion nécessaire"),
        "not_signed_in": tr("Connexion au serveur nécessaire"),
        "cancelled": tr("Synchronisation interrompue"),
    }
    return words.get(code, tr("Échec de la synchronisation"))


def french_delay(seconds: float) -> str:
    """'30 secondes', '1 minute', '5 minutes'."""
    if seconds < 60:
        n = max(1, round(seconds))
        return tr("{n} seconde").format(n=n) if n == 1 else tr("{n} secondes").format(n=n)
    n = round(seconds / 60)
    return tr("{n} minute").format(n=n) if n == 1 else tr("{n} minutes").format(n=n)


class SignInDialog(QDialog):
    """Server address, user name, password; the device token goes to the keyring."""

    def __init__(
        self, controller: SyncController, server_url: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle(tr("Connexion au serveur de la Ville"))
        self.server = QLineEdit(server_url)
        self.server.setPlaceholderText("https://havre-ensemble.exemple.fr")
        self.server.setAccessibleName(tr("Adresse du serveur"))
        self.login = QLineEdit()
        self.login.setAccessibleName(tr("Identifiant"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(tr("Mot de passe"))
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur de connexion"))
        form = QFormLayout()
        for text, widget in (
            (tr("&Serveur :"), self.server),
            (tr("&Identifiant :"), self.login),
            (tr("&Mot de passe :"), self.password),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Se &connecter"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Annuler"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        intro = QLabel(
            tr(
                "Votre mot de passe n'est pas conservé\u00a0: cet ordinateur reçoit une clé de "
                "connexion rangée dans le trousseau du système."
            )
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        # Wide enough for a whole server address and for the messages to wrap in few lines.
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)
        controller.signed_in.connect(self._signed_in)
        controller.failed.connect(self._failed)
        (self.login if server_url else self.server).setFocus()

    def submit(self) -> None:
        self.buttons.setEnabled(False)
        self.error.setVisible(False)
        self.controller.sign_in(self.server.text(), self.login.text(), self.password.text())

    def _signed_in(self, _agent: Any) -> None:
        self.buttons.setEnabled(True)
        self.accept()

    def _failed(self, error: Exception) -> None:
        if not self.isVisible():
            return
        self.buttons.setEnabled(True)
        self.error.setText(error_text(error))
        self.error.setVisible(True)
        self.password.clear()
        self.password.setFocus()


class SyncStatusArea(QWidget):
    """In the status bar: network state, changes waiting, last sync, Synchroniser."""

    def __init__(self, controller: SyncController, now: Any) -> None:
        super().__init__()
        self.controller = controller
        self.now = now
        self.network = QLabel()
        self.network.setAccessibleName(tr("État du réseau"))
        self.pending = QLabel()
        self.pending.setAccessibleName(tr("Modifications en attente"))
        self.last = QLabel()
        self.last.setAccessibleName(tr("Dernière synchronisation"))
        self.problem = error_label()
        self.problem.setWordWrap(False)
        self.problem.setAccessibleName(tr("Problème de synchronisation"))
        self.bar = QProgressBar()
        self.bar.setAccessibleName(tr("Avancement de la synchronisation"))
        self.bar.setMaximumWidth(160)
        self.bar.setVisible(False)
        self.button = QPushButton(tr("&Synchroniser"))
        self.button.setAccessibleName(tr("Synchroniser"))
        self.button.clicked.connect(controller.sync_now)
        self.cancel = QPushButton(tr("Annuler"))
        self.cancel.setAccessibleName(tr("Annuler la synchronisation"))
        self.cancel.setVisible(False)
        self.cancel.clicked.connect(controller.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (
            self.network,
            self.problem,
            self.pending,
            self.last,
            self.bar,
            self.button,
            self.cancel,
        ):
            layout.addWidget(widget)
        self._revoked = False
        self.pending_count = 0  # what the label says, for the warning before quitting
        controller.status_changed.connect(self.show_status)
        controller.progress.connect(self.show_progress)
        controller.finished.connect(self._finished)
        controller.failed.connect(lambda _e: self._stopped())
        controller.sync_failed.connect(self._sync_failed)
        controller.retry_scheduled.connect(self._retry_scheduled)
        controller.signed_in.connect(lambda _a: self._clear_problem())
        controller.revoked.connect(self._device_revoked)

    def show_status(self, status: SyncStatus) -> None:
        if self._revoked and not status.signed_in:
            self.network.setText(tr("Appareil révoqué : données effacées"))
        elif not status.signed_in:
            self._revoked = False
            self.network.setText(tr("Non connecté au serveur"))
        elif self.controller.online is False:
            self.network.setText(tr("Hors ligne"))
        else:
            self.network.setText(tr("En ligne") if self.controller.online else tr("Connecté"))
        self.pending_count = status.pending
        self.pending.setText(pending_text(status.pending))
        self.last.setText(
            tr("Dernière synchronisation : {when}").format(
                when=french_relative_time(status.last_success_at, self.now())
            )
        )
        self.button.setEnabled(status.signed_in and not self.controller.running)

    def show_progress(self, progress: SyncProgress) -> None:
        self.bar.setVisible(True)
        self.cancel.setVisible(True)
        self.button.setEnabled(False)
        self.bar.setMaximum(progress.total or 0)  # 0: busy indicator while the total is unknown
        self.bar.setValue(progress.done)
        self.bar.setToolTip(progress.message)
        self.network.setText(progress.message)
        self._clear_problem()

    def _stopped(self) -> None:
        self.bar.setVisible(False)
        self.cancel.setVisible(False)
        self.button.setEnabled(True)

    def _finished(self, _report: SyncReport) -> None:
        self._clear_problem()
        self._stopped()

    def _sync_failed(self, error: Exception) -> None:
        text = short_problem(error)
        if self._retry_note:
            text = f"{text} ({self._retry_note})"
            self._retry_note = ""
        self.problem.setText(text)
        self.problem.setToolTip(error_text(error))
        self.problem.setVisible(True)

    def _retry_scheduled(self, seconds: float) -> None:
        self._retry_note = tr("nouvel essai dans {delay}").format(delay=french_delay(seconds))

    _retry_note = ""

    def _clear_problem(self) -> None:
        self.problem.setVisible(False)
        self.problem.setText("")
        self.problem.setToolTip("")

    def _device_revoked(self, message: str) -> None:
        """The wipe removed the unsent changes too: the bar must not count them any more
        (closing the window right after must not ask about them)."""
        self._revoked = True
        self._stopped()
        self.button.setEnabled(False)
        self.network.setText(tr("Appareil révoqué : données effacées"))
        self.pending_count = 0
        self.pending.setText(pending_text(0))
        self.problem.setText(tr("Appareil révoqué"))
        self.problem.setToolTip(message)
        self.problem.setVisible(True)


class SyncPage(QWidget):
    """Synchronisation: waiting changes, conflicts to settle, refused changes, history."""

    def __init__(self, controller: SyncController, now: Any, role: str | None = None) -> None:
        super().__init__()
        self.controller = controller
        self.now = now
        self.audit_button = QPushButton(tr("Journal d'au&dit…"))
        self.audit_button.setToolTip(
            tr("Qui a ouvert, imprimé ou exporté quelle fiche, quand, depuis quel appareil")
        )
        self.audit_button.clicked.connect(lambda: self.open_audit())
        self.audit_button.setVisible(role in contract.CATALOGUE_ROLES)
        self.retention_button = QPushButton(tr("Conser&vation des données…"))
        self.retention_button.setToolTip(
            tr("Fiches sans contact depuis la durée de conservation : examiner, anonymiser")
        )
        self.retention_button.clicked.connect(lambda: self.open_retention())
        self.retention_button.setVisible(role in contract.CATALOGUE_ROLES)
        self.account = QLabel()
        self.account.setWordWrap(True)
        self.account.setAccessibleName(tr("Compte"))
        self.sign_in_button = QPushButton(tr("Se &connecter…"))
        self.sign_in_button.clicked.connect(self.open_sign_in)
        self.sign_out_button = QPushButton(tr("Se &déconnecter"))
        self.sign_out_button.clicked.connect(self.sign_out)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName(tr("Résultat de la synchronisation"))
        self.conflict_model: RowsModel[ConflictView] = RowsModel(
            [
                (tr("Fiche"), lambda c: c.row_label or c.row_id),
                (tr("Information"), lambda c: field_label(c.table_name, c.field)),
                (tr("Valeur retenue"), lambda c: _value(self._sides(c)[0][0])),
                (tr("Saisie par, le"), lambda c: self._who(*self._sides(c)[0][1:])),
                (tr("Valeur écartée"), lambda c: _value(self._sides(c)[1][0])),
                (tr("Saisie par, le "), lambda c: self._who(*self._sides(c)[1][1:])),
            ]
        )
        self.conflicts = table_view(tr("Conflits à régler"))
        self.conflicts.setModel(self.conflict_model)
        self.keep_retained = QPushButton(tr("Garder la valeur &retenue"))
        self.keep_discarded = QPushButton(tr("Reprendre la valeur é&cartée"))
        self.merged = QLineEdit()
        self.merged.setAccessibleName(tr("Valeur corrigée"))
        self.merged.setPlaceholderText(tr("ou saisir la bonne valeur"))
        self.use_merged = QPushButton(tr("&Enregistrer cette valeur"))
        self.keep_retained.clicked.connect(lambda: self.resolve("retained"))
        self.keep_discarded.clicked.connect(lambda: self.resolve("discarded"))
        self.use_merged.clicked.connect(lambda: self.resolve("merged"))
        self.rejected_model: RowsModel[RejectedEdit] = RowsModel(
            [
                (tr("Modification"), rejected_label),
                (tr("Saisie le"), lambda r: french_moment(r.created_at)),
                (tr("Raison du refus"), lambda r: r.reason),
            ]
        )
        self.rejected = table_view(tr("Modifications refusées"))
        self.rejected.setModel(self.rejected_model)
        self.rejected.selectionModel().currentRowChanged.connect(self._show_rejected)
        # What was typed stays readable (and can be copied to type it again) until the agent
        # discards it: a refused edit is never lost silently.
        self.rejected_detail = QLabel()
        self.rejected_detail.setWordWrap(True)
        self.rejected_detail.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.rejected_detail.setAccessibleName(tr("Ce qui avait été saisi"))
        self.copy_rejected = QPushButton(tr("Co&pier ce qui avait été saisi"))
        self.copy_rejected.clicked.connect(self._copy_rejected)
        self.discard_rejected = QPushButton(tr("Écarter cette modi&fication"))
        self.discard_rejected.clicked.connect(self._discard_rejected)
        self.history_model: RowsModel[HistoryEntry] = RowsModel(
            [
                (tr("Date"), lambda h: french_moment(h.started_at)),
                (tr("Résultat"), lambda h: h.message),
            ]
        )
        self.history = table_view(tr("Historique des synchronisations"))
        self.history.setModel(self.history_model)
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur"))
        top = QHBoxLayout()
        top.addWidget(self.account, 1)
        top.addWidget(self.sign_in_button)
        top.addWidget(self.sign_out_button)
        top.addWidget(self.audit_button)
        top.addWidget(self.retention_button)
        conflicts = QGroupBox(tr("Conflits : deux agents ont modifié la même information"))
        conflicts_layout = QVBoxLayout(conflicts)
        conflicts_layout.addWidget(self.conflicts)
        choice = QHBoxLayout()
        for widget in (self.keep_retained, self.keep_discarded, self.merged, self.use_merged):
            choice.addWidget(widget)
        conflicts_layout.addLayout(choice)
        rejected = QGroupBox(tr("Modifications refusées par le serveur"))
        rejected_layout = QVBoxLayout(rejected)
        rejected_layout.addWidget(self.rejected)
        # A long note scrolls inside its own frame instead of pushing the page's lists away.
        detail_frame = QScrollArea()
        detail_frame.setWidgetResizable(True)
        detail_frame.setWidget(self.rejected_detail)
        detail_frame.setMaximumHeight(self.fontMetrics().lineSpacing() * 8)
        self.rejected_detail_frame = detail_frame
        rejected_layout.addWidget(detail_frame)
        rejected_actions = QHBoxLayout()
        rejected_actions.addWidget(self.copy_rejected)
        rejected_actions.addWidget(self.discard_rejected)
        rejected_actions.addStretch(1)
        rejected_layout.addLayout(rejected_actions)
        history = QGroupBox(tr("Historique"))
        QVBoxLayout(history).addWidget(self.history)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.error)
        layout.addWidget(conflicts, 2)
        layout.addWidget(rejected, 1)
        layout.addWidget(history, 1)
        controller.status_changed.connect(self.show_status)
        controller.finished.connect(self._finished)
        controller.failed.connect(self._failed)
        controller.retry_scheduled.connect(self._retry_scheduled)
        controller.revoked.connect(self._failed_text)
        self._show_rejected()

    def open_audit(self, entity_id: str = "") -> None:
        """The server's audit log (coordinators, online), agents named from the directory."""
        from havre_desktop.ui.audit_dialog import AuditDialog

        def show(names: dict[str, str]) -> None:
            dialog = AuditDialog(self.controller, names, entity_id, self)
            dialog.load()
            dialog.exec()

        self.controller.worker.submit(
            lambda ws: {a["id"]: a["display_name"] for a in agents.colleagues(ws)}, show
        )

    def open_retention(self) -> RetentionDialog:
        """Conservation des données (coordinators and administrators, online)."""
        from havre_desktop.ui.retention_dialog import RetentionDialog

        dialog = RetentionDialog(self.controller, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.load()
        dialog.open()
        return dialog

    def open_sign_in(self) -> None:
        SignInDialog(self.controller, self._server_url, self).exec()

    _server_url = ""
    _pending = 0
    _retry_note = ""

    def sign_out(self) -> None:
        """Sign out; with changes not sent yet, say that they stay here, and ask first."""
        if self._pending:
            answer = QMessageBox.question(
                self,
                tr("Modifications non envoyées"),
                count(
                    self._pending,
                    tr(
                        "{n} modification n'a pas encore été envoyée au serveur. Elle reste sur "
                        "cet ordinateur et partira à la prochaine synchronisation, après une "
                        "nouvelle connexion avec le même compte.\n\nSe déconnecter maintenant ?"
                    ),
                    tr(
                        "{n} modifications n'ont pas encore été envoyées au serveur. Elles "
                        "restent sur cet ordinateur et partiront à la prochaine synchronisation, "
                        "après une nouvelle connexion avec le même compte.\n\nSe déconnecter "
                        "maintenant ?"
                    ),
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.controller.sign_out()

    def show_status(self, status: SyncStatus) -> None:
        self._server_url = status.server_url or ""
        self._pending = status.pending
        if status.signed_in:
            self.account.setText(
                tr("Connecté en tant que {login} sur {server}.").format(
                    login=status.account_login or "", server=status.server_url or ""
                )
            )
        else:
            self.account.setText(tr("Cet ordinateur n'est pas connecté au serveur de la Ville."))
        self.sign_in_button.setVisible(not status.signed_in)
        self.sign_out_button.setVisible(status.signed_in)
        self.conflict_model.set_rows(status.conflicts)
        self.rejected_model.set_rows(status.rejected)
        self._show_rejected()
        self.history_model.set_rows(status.history)
        for table in (self.conflicts, self.rejected, self.history):
            table.resizeColumnsToContents()

    def _finished(self, report: SyncReport) -> None:
        self.error.setVisible(False)
        self.message.setText(report.summary())

    def _retry_scheduled(self, seconds: float) -> None:
        self._retry_note = tr("Nouvel essai automatique dans {delay}.").format(
            delay=french_delay(seconds)
        )

    def _failed(self, error: Exception) -> None:
        text = error_text(error)
        if self._retry_note:
            text = f"{text} {self._retry_note}"
            self._retry_note = ""
        self._failed_text(text)

    def _failed_text(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)

    @staticmethod
    def _sides(c: ConflictView) -> tuple[tuple[Any, str | None, str | None, str | None], ...]:
        """(value, agent id, agent name, when) of the value in the fiche now, then of the
        other one. Each device sees the same order, whoever pushed first."""
        local = (c.local_value, c.local_agent_id, c.local_agent_name, c.local_at)
        remote = (c.remote_value, c.remote_agent_id, c.remote_agent_name, c.remote_at)
        if c.current_value == c.remote_value and c.current_value != c.local_value:
            return remote, local
        return local, remote

    def _who(self, agent_id: str | None, name: str | None, at: str | None) -> str:
        me = self.controller.engine.ws.agent_id
        who = name or tr("agent inconnu")
        if agent_id is not None and agent_id == me:
            who = tr("{name} (vous)").format(name=who)
        return f"{who}, {french_moment(at)}" if at else who

    def resolve(self, which: str) -> None:
        index = self.conflicts.currentIndex()
        conflict = self.conflict_model.row(index.row()) if index.isValid() else None
        if not isinstance(conflict, ConflictView):
            self._failed_text(tr("Choisissez d'abord un conflit dans la liste."))
            return
        retained, discarded = self._sides(conflict)
        if which == "retained":
            value = retained[0]
        elif which == "discarded":
            value = discarded[0]
        else:
            value = self.merged.text().strip()
            if not value:
                self._failed_text(tr("Saisissez d'abord la bonne valeur."))
                return
        engine = self.controller.engine
        self.controller.worker.submit(
            lambda _ws: engine.resolve(conflict.id, value),
            lambda _r: self.controller.refresh_status(),
            self._failed,
        )

    # -- refused edits ------------------------------------------------------------------------

    def _current_rejected(self) -> RejectedEdit | None:
        index = self.rejected.currentIndex()
        edit = self.rejected_model.row(index.row()) if index.isValid() else None
        return edit if isinstance(edit, RejectedEdit) else None

    def _show_rejected(self, *_args: object) -> None:
        edit = self._current_rejected()
        self.rejected_detail.setText(typed_text(edit) if edit else "")
        self.rejected_detail_frame.setVisible(edit is not None)
        self.copy_rejected.setEnabled(edit is not None and not edit.values_removed)
        self.discard_rejected.setEnabled(edit is not None)

    def _copy_rejected(self) -> None:
        edit = self._current_rejected()
        if edit is not None:
            QApplication.clipboard().setText(typed_text(edit))

    def _discard_rejected(self) -> None:
        edit = self._current_rejected()
        if edit is None:
            self._failed_text(tr("Choisissez d'abord une modification refusée dans la liste."))
            return
        answer = QMessageBox.question(
            self,
            tr("Écarter la modification refusée"),
            tr(
                "Ce qui avait été saisi ne sera plus gardé sur cet ordinateur. Copiez-le d'abord "
                "si vous voulez le saisir à nouveau.\n\nÉcarter cette modification ?"
            ),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        engine = self.controller.engine
        self.controller.worker.submit(
            lambda _ws: engine.dismiss_rejection(edit.mutation_id),
            lambda _r: self.controller.refresh_status(),
            self._failed,
        )


OPERATIONS = {
    "insert": "nouvelle saisie",
    "update": "modification",
    "delete": "suppression",
}


def rejected_label(edit: RejectedEdit) -> str:
    """'Visites — nouvelle saisie' (the table's French name from the contract)."""
    spec = contract.TABLES.get(edit.table_name)
    table = spec.label if spec else edit.table_name
    return f"{tr(table)} — {tr(OPERATIONS.get(edit.op, edit.op))}"


_NOT_SHOWN = (Kind.UUID, Kind.UUID_LIST, Kind.TIMESTAMP)


def typed_text(edit: RejectedEdit) -> str:
    """What the agent had typed, field by field with the fiche's labels."""
    if edit.values_removed:
        return tr(
            "Les valeurs saisies ne sont plus sur cet ordinateur : la fiche n'y est plus "
            "(supprimée, effacée ou hors de votre périmètre)."
        )
    spec = contract.TABLES.get(edit.table_name)
    lines = []
    for name, value in edit.changed_fields.items():
        f = spec.by_name.get(name) if spec else None
        if f is None or f.kind in _NOT_SHOWN or name == "revision" or value in (None, "", []):
            continue
        lines.append(f"{field_label(edit.table_name, name)} : {_shown(f, value)}")
    return "\n".join(lines) or tr("(aucune valeur saisie)")


def _shown(f: Field, value: Any) -> str:
    labels = load_reference().labels(f.choices) if f.choices else {}
    if f.choices in contract.ENUMS:
        labels = dict(contract.ENUMS[str(f.choices)])
    if isinstance(value, str) and value in labels:
        return labels[value]
    if isinstance(value, list) and labels:
        return ", ".join(labels.get(str(v), str(v)) for v in value) or tr("(vide)")
    if f.kind is Kind.BOOLEAN and value in (0, 1):
        return _value(bool(value))
    return _value(value)


def _value(value: Any) -> str:
    if value is None or value == "":
        return tr("(vide)")
    if isinstance(value, bool):
        return tr("oui") if value else tr("non")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def field_label(table: str, name: str) -> str:
    """The French name of a field, as the contract (and the fiche) names it."""
    spec = contract.TABLES.get(table)
    f = spec.by_name.get(name) if spec else None
    return tr(f.label) if f else name


def french_moment(iso: str) -> str:
    """'25/11/2026 à 10:32', Le Havre time."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(PARIS)
    return tr("{day} à {time}").format(day=local.strftime("%d/%m/%Y"), time=local.strftime("%H:%M"))
