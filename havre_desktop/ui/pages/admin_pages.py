"""Équipe and Appareils: administration from the app, for coordinators and administrators.

Online only: everything is read from and written to the server through the authenticated API
(``/api/v1/admin/…``), on the sync controller's thread (its own connection: the window keeps
answering). The server decides what each account may do, as for its command line: a
coordinator sees the agents of their territories and manages the social workers and reception
agents of their territories only; every change is audited there. Nothing of this is stored on
the computer. Offline, or without a valid session, each page says so in French.

The team's table is built from a list of columns (:data:`TEAM_COLUMNS`) and a list of tick
columns (:data:`TEAM_TICKS`, an agent's yes/no attributes shown as check boxes): an attribute
the API adds later is one more entry there and one more box in :class:`AgentDialog`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_common.french import count
from havre_common.passwords import one_time_password
from havre_common.protocol import AgentCreate, AgentOut, AgentUpdate, DeviceOut, PasswordReset
from havre_desktop.core.errors import ValidationError as FormValidationError
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.engine import SyncEngine
from havre_desktop.sync.errors import (
    DeviceRevokedError,
    RequestRefusedError,
    ServerUnreachableError,
    SignInRequiredError,
    SyncError,
)
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.operations import Operation
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.sync_widgets import french_moment, french_relative_time
from havre_desktop.ui.widgets import (
    SavingForm,
    checkable_list,
    checked_ids,
    error_label,
    set_checked_ids,
    table_view,
    wrap_short_list,
)
from havre_desktop.ui.worker import DatabaseService

log = logging.getLogger("havre.ui.admin")

LOGIN_PATTERN = re.compile(r"[a-z0-9._-]{2,100}")
_Index = QModelIndex | QPersistentModelIndex
ControllerGetter = Callable[[], SyncController | None]
NOT_READY = (
    "La synchronisation n'est pas encore prête : l'administration se fait en ligne. Réessayez "
    "dans un instant."
)


class FormProblem(FormValidationError):
    """What the agent dialog refuses, one French message per field."""


def run_online(
    controller: SyncController,
    job: Callable[[], Any],
    done: Callable[[Any], None],
    failed: Callable[[str], None],
    always: Callable[[], None] | None = None,
) -> None:
    """Run `job` (calls to the server) on the sync thread: `done` with its result, or
    `failed` with what went wrong in French; a revoked computer is said by the window."""

    def failure(error: Exception) -> None:
        if isinstance(error, DeviceRevokedError):
            controller.revoked.emit(error.message)  # this computer was wiped: the window says
            return
        failed(problem_text(error))

    operation = Operation(controller.worker, lambda _ws: job()).success(done).failure(failure)
    if always is not None:
        operation = operation.always(always)
    operation.run()


def problem_text(error: Exception) -> str:
    """What an administration call's failure means, in French, for the person at the screen."""
    if isinstance(error, ServerUnreachableError):
        return tr(
            "Le serveur est injoignable : l'administration se fait en ligne. Vérifiez la "
            "connexion au réseau puis cliquez sur Actualiser."
        ) + (f" ({error.message})" if error.code == "certificate" else "")
    if isinstance(error, SignInRequiredError):
        return tr(
            "L'administration demande une session valide sur le serveur : connectez-vous "
            "depuis la page Synchronisation. ({message})"
        ).format(message=error.message)
    if isinstance(error, SyncError):
        return error.message
    log.error("administration call failed", exc_info=error)
    return tr("Erreur inattendue ; elle est consignée dans le journal.")


def confirmed(parent: QWidget, title: str, question: str) -> bool:
    """A Yes/No question whose default is No (Entrée does not revoke a laptop by mistake)."""
    answer = QMessageBox.question(
        parent,
        title,
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def moment_of(millis: int | None) -> str:
    """'25/11/2026 à 10:32' (Le Havre time) from milliseconds since 1970."""
    if millis is None:
        return ""
    return french_moment(datetime.fromtimestamp(millis / 1000, UTC).isoformat())


def last_sync_text(millis: int | None, now: datetime) -> str:
    """'il y a 5 minutes' and, on the next line, '25/11/2026 à 10:32'."""
    if millis is None:
        return tr("jamais")
    iso = datetime.fromtimestamp(millis / 1000, UTC).isoformat()
    return f"{french_relative_time(iso, now)}\n{moment_of(millis)}"


def _device_cell(device: DeviceOut) -> str:
    version = tr("version {v}").format(v=device.client_version) if device.client_version else ""
    return f"{_device_name(device)}\n{version}".strip()


def _device_name(device: DeviceOut) -> str:
    """Its label (the computer's name); without one, the start of its id."""
    return device.label or tr("appareil {id}…").format(id=device.device_id[:8])


class _OnlinePage(QWidget):
    """A page whose content lives on the server: a message line, Actualiser, loads on show."""

    def __init__(self, context: UiContext, controller: ControllerGetter, intro: str) -> None:
        super().__init__()
        self.ctx = context
        self._controller = controller
        self.loading = False
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName(tr("État"))
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur"))
        self.refresh_button = QPushButton(tr("&Actualiser"))
        self.refresh_button.setToolTip(tr("Relire la liste sur le serveur"))
        self.refresh_button.clicked.connect(lambda: self.reload())  # not clicked(bool)

    @property
    def controller(self) -> SyncController | None:
        return self._controller()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.loading:
            self.reload()

    def reload(self) -> None:
        raise NotImplementedError

    def online(
        self,
        job: Callable[[], Any],
        done: Callable[[Any], None],
        waiting: str,
        buttons: tuple[QPushButton, ...] = (),
    ) -> bool:
        """Run `job` (network calls) on the sync thread; `buttons` wait meanwhile."""
        controller = self.controller
        if controller is None:
            self._failed(tr(NOT_READY))
            return False
        self.message.setText(waiting)
        self.error.setVisible(False)
        for button in buttons:
            button.setEnabled(False)

        def always() -> None:
            for button in buttons:
                button.setEnabled(True)
            self._update_buttons()

        run_online(controller, job, done, self._failed, always)
        return True

    def _failed(self, text: str) -> None:
        self.loading = False
        self.message.setText("")
        self.error.setText(text)
        self.error.setVisible(True)
        self._update_buttons()

    def _update_buttons(self) -> None:
        """Enable what the current selection allows."""


# -- Équipe ---------------------------------------------------------------------------------


def _territories_text(agent: AgentOut, labels: dict[str, str]) -> str:
    return ", ".join(labels.get(t, t) for t in agent.territory_ids)


TEAM_TICKS: list[tuple[str, Callable[[AgentOut], bool]]] = [
    ("Actif", lambda a: not a.disabled),
    ("Registre", lambda a: a.register_right),
]
"""An agent's yes/no attributes, one check-box column each (read here, changed in the dialog)."""


def _yes_no(tick: Callable[[AgentOut], bool]) -> Callable[[AgentOut], str]:
    return lambda agent: tr("oui") if tick(agent) else tr("non")


def _agent_cell(agent: AgentOut) -> str:
    """Name, then login and work phone on the next line (one column: nothing runs off the
    side at 200 % text size)."""
    phone = agent.work_phone.replace(" ", "\u00a0") if agent.work_phone else None  # one piece
    second = " · ".join(part for part in (agent.login, phone) if part)
    return f"{agent.display_name}\n{second}" if second else agent.display_name


class TeamModel(RowsModel[AgentOut]):
    """The agents: who, role, one check box per :data:`TEAM_TICKS` entry, territories."""

    def __init__(self, references: dict[str, dict[str, str]]) -> None:
        roles, territories = references["roles"], references["territories"]
        columns: list[tuple[str, Callable[[AgentOut], Any]]] = [
            (tr("Agent"), _agent_cell),
            (tr("Rôle"), lambda a: roles.get(a.role, a.role)),
        ]
        self.first_tick = len(columns)
        columns += [(tr(title), _yes_no(tick)) for title, tick in TEAM_TICKS]
        columns.append((tr("Territoires"), lambda a: _territories_text(a, territories)))
        super().__init__(columns)
        self._ticks = [tick for _title, tick in TEAM_TICKS]

    STRETCHED = (0, -1)
    """Who and the territories share what is left of the width and wrap."""

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        tick = index.column() - self.first_tick
        if index.isValid() and 0 <= tick < len(self._ticks) and 0 <= index.row() < len(self.rows):
            agent = self.rows[index.row()]
            if role == Qt.ItemDataRole.CheckStateRole:
                return (
                    Qt.CheckState.Checked if self._ticks[tick](agent) else Qt.CheckState.Unchecked
                )
            if role == Qt.ItemDataRole.DisplayRole:
                return ""  # the box says it; screen readers get "oui" / "non"
        if role == Qt.ItemDataRole.UserRole and index.isValid() and index.row() < len(self.rows):
            return self.rows[index.row()].id
        return super().data(index, role)


def fit_columns(table: QTableView, stretched: tuple[int, ...]) -> None:
    """Short columns as wide as their contents, the `stretched` ones share the rest and wrap,
    rows as tall as they need (again after each reset: it forgets per-column modes)."""
    wrap_short_list(table)
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    count = table.model().columnCount()
    for column in stretched:
        header.setSectionResizeMode(column % count, QHeaderView.ResizeMode.Stretch)


class TeamPage(_OnlinePage):
    """The agents this account manages: create, change role and territories, disable an
    account, give a new password."""

    def __init__(self, context: UiContext, controller: ControllerGetter) -> None:
        super().__init__(
            context,
            controller,
            tr(
                "Les agents de vos territoires, lus en ligne sur le serveur. Un coordinateur "
                "gère les travailleurs sociaux et les agents d'accueil de ses territoires ; "
                "chaque action est inscrite au journal d'audit du serveur."
            ),
        )
        self.model = TeamModel(context.references)
        self.table = table_view(tr("Agents de l'équipe"))
        self.table.setModel(self.model)
        fit_columns(self.table, TeamModel.STRETCHED)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.table.activated.connect(lambda _index: self.edit_agent())
        self.new_button = QPushButton(tr("&Nouvel agent…"))
        self.new_button.clicked.connect(self.new_agent)
        self.edit_button = QPushButton(tr("&Modifier…"))
        self.edit_button.setToolTip(tr("Nom, rôle, territoires, téléphone de l'agent choisi"))
        self.edit_button.clicked.connect(self.edit_agent)
        self.disable_button = QPushButton(tr("&Désactiver le compte…"))
        self.disable_button.clicked.connect(self.toggle_account)
        self.reset_button = QPushButton(tr("Ré&initialiser le mot de passe…"))
        self.reset_button.clicked.connect(self.reset_password)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        # What applies to the agent chosen in the list, on its own line (the window stays
        # within a 1366-pixel laptop screen at 200 % text size).
        chosen = QHBoxLayout()
        chosen.addWidget(QLabel(tr("Agent choisi :")))
        for button in (self.edit_button, self.disable_button, self.reset_button):
            chosen.addWidget(button)
        chosen.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(buttons)
        layout.addLayout(chosen)
        layout.addWidget(self.message)
        layout.addWidget(self.error)
        layout.addWidget(self.table, 1)
        self._update_buttons()

    @property
    def current(self) -> AgentOut | None:
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _update_buttons(self, *_args: object) -> None:
        agent = self.current
        manageable = agent is not None and self._may_manage(agent)
        for button in (self.edit_button, self.disable_button, self.reset_button):
            button.setEnabled(manageable and not self.loading)
        self.new_button.setEnabled(not self.loading)
        if agent is not None and agent.disabled:
            self.disable_button.setText(tr("Ré&activer le compte"))
        else:
            self.disable_button.setText(tr("&Désactiver le compte…"))

    def _may_manage(self, agent: AgentOut) -> bool:
        """As the server decides (the buttons only spare a refusal): an administrator manages
        everyone; a coordinator the social workers and reception agents of their territories."""
        if self.ctx.role == contract.ADMINISTRATOR:
            return True
        return (
            agent.id != self.ctx.agent.get("id")
            and agent.role in (contract.SOCIAL_WORKER, contract.RECEPTION)
            and set(agent.territory_ids) <= set(self.ctx.territories)
        )

    def reload(self, then: str = "") -> None:
        controller = self.controller
        engine = controller.engine if controller is not None else None
        self.loading = True
        self._update_buttons()

        def shown(agents: list[AgentOut]) -> None:
            self.loading = False
            keep = self.current.id if self.current is not None else None
            self.model.set_rows(sorted(agents, key=lambda a: a.display_name.casefold()))
            fit_columns(self.table, TeamModel.STRETCHED)
            for row, agent in enumerate(self.model.rows):
                if agent.id == keep:
                    self.table.selectRow(row)
            self.message.setText(
                then
                or count(
                    len(agents),
                    tr("{n} agent dans votre périmètre."),
                    tr("{n} agents dans votre périmètre."),
                )
            )
            self._update_buttons()

        if engine is None:
            self.online(lambda: [], shown, "")  # says why
            return
        self.online(engine.list_agents, shown, tr("Lecture de l'équipe sur le serveur…"))

    def new_agent(self) -> None:
        dialog = self._agent_dialog(None)
        if dialog is not None and dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved:
            created = AgentOut.model_validate(dialog.saved)
            PasswordDialog(
                tr("Compte créé"),
                tr(
                    "Le compte de {name} est créé. Voici son mot de passe initial, à lui "
                    "transmettre :"
                ).format(name=created.display_name),
                created.login or "",
                dialog.password,
                self,
            ).exec()
            self.reload(tr("Agent {name} créé.").format(name=created.display_name))

    def edit_agent(self) -> None:
        agent = self.current
        if agent is None or not self._may_manage(agent):
            return
        dialog = self._agent_dialog(agent)
        if dialog is not None and dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved:
            name = str(dialog.saved["display_name"])
            self.reload(tr("Agent {name} modifié.").format(name=name))

    def _agent_dialog(self, agent: AgentOut | None) -> AgentDialog | None:
        controller = self.controller
        if controller is None:
            self._failed(tr(NOT_READY))
            return None
        return AgentDialog(
            self.ctx, controller.worker, controller.engine, agent, self, controller.revoked.emit
        )

    def toggle_account(self) -> None:
        agent, controller = self.current, self.controller
        if agent is None or controller is None:
            return
        disable = not agent.disabled
        if disable and not confirmed(
            self,
            tr("Désactiver le compte"),
            tr(
                "Désactiver le compte de {name} ({login}) ? Il ne pourra plus se connecter "
                "ni synchroniser ; ses modifications non envoyées restent sur son "
                "ordinateur. Vous pourrez réactiver le compte."
            ).format(name=agent.display_name, login=agent.login or ""),
        ):
            return
        engine = controller.engine
        done_text = (
            tr("Compte de {name} désactivé : ses connexions sont refusées.")
            if disable
            else tr("Compte de {name} réactivé.")
        ).format(name=agent.display_name)
        self.online(
            lambda: engine.update_agent(agent.id, AgentUpdate(disabled=disable)),
            lambda _out: self.reload(done_text),
            tr("Demande envoyée au serveur…"),
            (self.disable_button,),
        )

    def reset_password(self) -> None:
        agent, controller = self.current, self.controller
        if agent is None or controller is None:
            return
        if not confirmed(
            self,
            tr("Réinitialiser le mot de passe"),
            tr(
                "Donner un nouveau mot de passe à {name} ({login}) ? L'ancien ne fonctionnera "
                "plus et ses appareils devront se reconnecter (rien n'y est effacé)."
            ).format(name=agent.display_name, login=agent.login or ""),
        ):
            return
        engine = controller.engine

        def given(reply: PasswordReset) -> None:
            self.message.setText(
                tr("Nouveau mot de passe donné à {name}.").format(name=agent.display_name)
            )
            PasswordDialog(
                tr("Nouveau mot de passe"),
                tr("Le nouveau mot de passe de {name}, à lui transmettre :").format(
                    name=agent.display_name
                ),
                agent.login or "",
                reply.password,
                self,
            ).exec()

        self.online(
            lambda: engine.reset_password(agent.id),
            given,
            tr("Demande envoyée au serveur…"),
            (self.reset_button,),
        )


class AgentDialog(SavingForm):
    """A new agent (login, name, role, territories, phone; a one-time password drawn here), or
    the changes to one. Checked first (French messages under the fields, nothing sent), then by
    the server on the sync thread, whose refusal is shown the same way; what was typed stays.
    `saved` is the agent as the server answered (a dict of :class:`AgentOut`)."""

    announces = ()  # nothing changes on this computer: the directory comes with the next sync

    def __init__(
        self,
        context: UiContext,
        database: DatabaseService,
        engine: SyncEngine | None,
        agent: AgentOut | None,
        parent: QWidget | None = None,
        on_revoked: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(database, "agents", log, parent)
        self.ctx = context
        self.engine = engine
        self.agent = agent
        self.on_revoked = on_revoked
        self.password = one_time_password() if agent is None else ""
        self.setWindowTitle(tr("Nouvel agent") if agent is None else tr("Modifier l'agent"))
        administrator = context.role == contract.ADMINISTRATOR
        roles = context.references["roles"]
        offered_roles = (
            list(contract.ROLES) if administrator else [contract.SOCIAL_WORKER, contract.RECEPTION]
        )
        offered_territories = [
            (t, label)
            for t, label in context.references["territories"].items()
            if administrator or t in context.territories
        ]
        self.login = QLineEdit(agent.login or "" if agent is not None else "")
        self.login.setMaxLength(100)
        self.login.setPlaceholderText(tr("ex. : c.martin"))
        self.login.setReadOnly(agent is not None)
        self.name = QLineEdit(agent.display_name if agent is not None else "")
        self.role = QComboBox()
        for code in offered_roles:
            self.role.addItem(roles.get(code, code), code)
        if agent is not None:
            if self.role.findData(agent.role) < 0:
                self.role.addItem(roles.get(agent.role, agent.role), agent.role)
            self.role.setCurrentIndex(self.role.findData(agent.role))
        self.territories = checkable_list(offered_territories, tr("Territoires"))
        if agent is not None:
            set_checked_ids(self.territories, agent.territory_ids)
        elif len(offered_territories) == 1:
            set_checked_ids(self.territories, [offered_territories[0][0]])
        self.territories.setMaximumHeight(self.territories.sizeHintForRow(0) * 6 + 8)
        self.phone = QLineEdit(agent.work_phone or "" if agent is not None else "")
        self.phone.setPlaceholderText(tr("ex. : 02 35 19 45 45"))
        # The register of vulnerable persons serves the alert plan only: named staff hold it.
        # Only an administrator, or a coordinator who holds it herself, may grant it.
        self.register_right = QCheckBox(tr("Accès au re&gistre des personnes vulnérables"))
        self.register_right.setChecked(
            agent.register_right if agent is not None else self._role_default()
        )
        self.register_right.setEnabled(administrator or context.register_right)
        if agent is None:  # a new agent: the role's default until the box is changed by hand
            self.role.currentIndexChanged.connect(
                lambda _i: self.register_right.setChecked(self._role_default())
            )
        form = QFormLayout()
        for text, field, widget in (
            (tr("&Identifiant de connexion :"), "login", self.login),
            (tr("&Nom affiché :"), "display_name", self.name),
            (tr("&Rôle :"), "role", self.role),
            (tr("&Territoires :"), "territory_ids", self.territories),
            (tr("Télé&phone professionnel :"), "work_phone", self.phone),
        ):
            # Short labels on one line each (a wrapped one left "Rôle" and its colon apart).
            self.errors.add_row(form, text, field, widget).setWordWrap(False)
        form.addRow(self.register_right)
        layout = QVBoxLayout(self)
        if agent is None:
            note = QLabel(
                tr(
                    "Un mot de passe initial est tiré au hasard ; il s'affichera une seule "
                    "fois, après l'enregistrement."
                )
            )
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)  # from the text size
        (self.name if agent is not None else self.login).setFocus()

    def _role_default(self) -> bool:
        """The server's default: coordinators hold the register right, other roles not."""
        return bool(self.role.currentData() == contract.COORDINATOR)

    def request(self) -> AgentCreate | AgentUpdate:
        """What to send, read from the fields (an empty update: nothing changed); refused with
        French messages under the fields."""
        problems: dict[str, str] = {}
        login = self.login.text().strip().lower()
        if self.agent is None and not LOGIN_PATTERN.fullmatch(login):
            problems["login"] = tr(
                "De 2 à 100 caractères parmi les lettres a à z sans accent, les chiffres, le "
                "point, le tiret et le tiret bas."
            )
        name, phone = self.name.text().strip(), self.phone.text().strip()
        role, territories = str(self.role.currentData()), checked_ids(self.territories)
        if not name:
            problems["display_name"] = tr("Le nom est obligatoire.")
        if not territories:
            problems["territory_ids"] = tr("Cochez au moins un territoire.")
        if problems:
            raise FormProblem(problems)
        try:
            if self.agent is None:
                return AgentCreate(
                    login=login,
                    password=self.password,
                    display_name=name,
                    role=role,  # type: ignore[arg-type]  # one of the roles offered
                    territory_ids=territories,
                    work_phone=phone or None,
                    register_right=self.register_right.isChecked(),
                )
            changes: dict[str, Any] = {}
            if name != self.agent.display_name:
                changes["display_name"] = name
            if role != self.agent.role:
                changes["role"] = role
            if set(territories) != set(self.agent.territory_ids):
                changes["territory_ids"] = territories
            if phone != (self.agent.work_phone or ""):
                changes["work_phone"] = phone  # empty: the number is removed
            if self.register_right.isChecked() != self.agent.register_right:
                changes["register_right"] = self.register_right.isChecked()
            return AgentUpdate(**changes)
        except ValidationError as exc:
            fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            raise FormProblem(
                {
                    field: tr("Caractère invisible ou texte trop long : corrigez la saisie.")
                    for field in fields or {"display_name"}
                }
            ) from None

    def save_job(self) -> Callable[[Workspace], dict[str, Any]]:
        try:
            request = self.request()
        except FormProblem as problem:
            error = problem

            def refused(_ws: Workspace) -> dict[str, Any]:
                raise error  # shown under the fields, nothing sent

            return refused
        engine, agent = self.engine, self.agent

        def send(_ws: Workspace) -> dict[str, Any]:
            if engine is None:
                raise ServerUnreachableError()
            if isinstance(request, AgentCreate):
                return engine.create_agent(request).model_dump()
            assert agent is not None
            if not request.model_dump(exclude_none=True):
                return agent.model_dump()  # nothing changed: nothing to send
            return engine.update_agent(agent.id, request).model_dump()

        return send

    def _failed(self, error: Exception) -> None:
        if isinstance(error, DeviceRevokedError):
            self.buttons.setEnabled(True)
            self.reject()
            if self.on_revoked is not None:
                self.on_revoked(error.message)
            return
        if isinstance(error, RequestRefusedError) and error.server_code == "conflict":
            error = FormProblem({"login": error.message})  # this login exists already
        elif isinstance(error, SyncError):
            error = SyncError(problem_text(error))
        super()._failed(error)


class PasswordDialog(QDialog):
    """A password given once: readable, selectable, copied on request; never stored here."""

    def __init__(
        self, title: str, text: str, login: str, password: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        intro = QLabel(text)
        intro.setWordWrap(True)
        self.login = QLineEdit(login)
        self.login.setReadOnly(True)
        self.password = QLineEdit(password)
        self.password.setReadOnly(True)
        font = self.password.font()
        font.setFamily("monospace")
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.password.setFont(font)
        self.password.setMinimumWidth(self.password.fontMetrics().horizontalAdvance(password) + 24)
        form = QFormLayout()
        form.addRow(tr("&Identifiant :"), self.login)
        form.addRow(tr("&Mot de passe :"), self.password)
        once = QLabel(
            tr(
                "Il ne sera plus affiché : notez-le ou transmettez-le maintenant, de vive voix "
                "ou par un moyen sûr (pas par courriel). Le serveur n'en garde qu'une empreinte."
            )
        )
        once.setWordWrap(True)
        self.copy_button = QPushButton(tr("&Copier le mot de passe"))
        self.copy_button.clicked.connect(self.copy)
        close = QPushButton(tr("&Fermer"))
        close.setDefault(True)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(once)
        layout.addLayout(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.password.text())
        self.copy_button.setText(tr("Copié ✓ (&Copier à nouveau)"))


# -- Appareils ------------------------------------------------------------------------------


class DevicesPage(_OnlinePage):
    """The devices of the agents this account manages, with their last sync; revoke one."""

    def __init__(self, context: UiContext, controller: ControllerGetter) -> None:
        super().__init__(
            context,
            controller,
            tr(
                "Les ordinateurs de votre équipe et leur dernière synchronisation, lus en ligne "
                "sur le serveur. Un ordinateur perdu ou volé se révoque : il efface ses données "
                "à sa prochaine connexion au serveur."
            ),
        )
        self.names: dict[str, str] = {}
        self.model: RowsModel[DeviceOut] = RowsModel(
            [
                (tr("Appareil"), _device_cell),
                (tr("Agent"), lambda d: f"{self.names.get(d.agent_id, '')}\n{d.login}".strip()),
                # Its last sync or sign-in (a short title: the login beside it must fit at 200 %).
                (tr("Dernier contact"), lambda d: last_sync_text(d.last_sync_at_ms, context.now())),
                (tr("État"), self._state),
            ]
        )
        self.table = table_view(tr("Appareils de l'équipe"))
        self.table.setModel(self.model)
        fit_columns(self.table, self.STRETCHED)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.revoke_button = QPushButton(tr("&Révoquer l'appareil…"))
        self.revoke_button.setToolTip(tr("Ordinateur perdu ou volé : il s'effacera"))
        self.revoke_button.clicked.connect(self.revoke)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.revoke_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.error)
        layout.addWidget(self.table, 1)
        self._update_buttons()

    STRETCHED = (0, 1)
    """The device and its agent share what is left of the width and wrap."""

    @staticmethod
    def _state(device: DeviceOut) -> str:
        if device.revoked_at_ms is None:
            return tr("actif")
        return tr("révoqué le\n{moment}").format(moment=moment_of(device.revoked_at_ms))

    @property
    def current(self) -> DeviceOut | None:
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _update_buttons(self, *_args: object) -> None:
        device = self.current
        self.revoke_button.setEnabled(
            device is not None and device.revoked_at_ms is None and not self.loading
        )

    def reload(self, then: str = "") -> None:
        controller = self.controller
        engine = controller.engine if controller is not None else None
        self.loading = True
        self._update_buttons()

        def shown(found: tuple[list[DeviceOut], list[AgentOut]]) -> None:
            devices, agents = found
            self.loading = False
            keep = self.current.device_id if self.current is not None else None
            self.names = {a.id: a.display_name for a in agents}
            self.model.set_rows(
                sorted(
                    devices,
                    key=lambda d: (
                        d.revoked_at_ms is not None,
                        self.names.get(d.agent_id, "").casefold(),
                        d.label.casefold(),
                    ),
                )
            )
            fit_columns(self.table, self.STRETCHED)
            for row, device in enumerate(self.model.rows):
                if device.device_id == keep:
                    self.table.selectRow(row)
            active = sum(1 for d in devices if d.revoked_at_ms is None)
            self.message.setText(
                then or count(active, tr("{n} appareil actif."), tr("{n} appareils actifs."))
            )
            self._update_buttons()

        if engine is None:
            self.online(lambda: ([], []), shown, "")  # says why
            return
        self.online(
            lambda: (engine.list_devices(), engine.list_agents()),
            shown,
            tr("Lecture des appareils sur le serveur…"),
        )

    def revoke(self) -> None:
        device, controller = self.current, self.controller
        if device is None or controller is None:
            return
        who = self.names.get(device.agent_id) or device.login
        this_one = (
            tr(" Attention : c'est cet ordinateur-ci.")
            if device.device_id == controller.engine.ws.device_id
            else ""
        )
        if not confirmed(
            self,
            tr("Révoquer l'appareil"),
            tr(
                "Révoquer l'appareil « {label} » de {who} ? À sa prochaine connexion au "
                "serveur, il effacera toutes ses données locales, modifications non envoyées "
                "comprises. À faire pour un ordinateur perdu ou volé. C'est irréversible : "
                "l'agent devra se reconnecter sur un autre ordinateur.{this_one}"
            ).format(label=_device_name(device), who=who, this_one=this_one),
        ):
            return
        engine = controller.engine
        done_text = tr(
            "Appareil « {label} » révoqué : il effacera ses données à sa prochaine connexion."
        ).format(label=_device_name(device))
        self.online(
            lambda: engine.revoke_device(device.device_id),
            lambda _none: self.reload(done_text),
            tr("Révocation demandée au serveur…"),
            (self.revoke_button,),
        )
