"""The register of vulnerable persons, from the fiche and from Accueil: enrolment form, and
the enrolment's state, history, removal, objection and letters.

Thin: every rule is in :mod:`havre_desktop.core.register`; these dialogs collect what the
agent is told and show the French messages the core returns under the fields.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any, cast

from PySide6.QtCore import QDate, QSize
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_desktop.core import contacts, register
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import age_text, french_date, tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.operations import Operation
from havre_desktop.ui.widgets import SavingForm, error_label, table_view, wrap_short_list

log = logging.getLogger("havre.ui.register")

REGISTER_TABLES = ("register_enrolments", "register_events", "contacts")


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


class RegisterForm(SavingForm):
    """Enrol one person: who asked and how, eligibility, situation at home, notice."""

    announces = REGISTER_TABLES

    def __init__(
        self, ctx: UiContext, person: dict[str, Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx.database, "register_enrolments", log, parent)
        self.person = person
        refs = ctx.references
        name = contacts.display_name(person)
        self.setWindowTitle(tr("Inscription au registre — {name}").format(name=name))
        today = ctx.today
        # Who she is, as the fiche holds it (corrected from the fiche, not here).
        phones = " / ".join(p for p in (person.get("phone_1"), person.get("phone_2")) if p)
        town = " ".join(p for p in (person.get("postcode"), person.get("city")) if p)
        born = french_date(person.get("birth_date")) or tr("non renseignée")
        listed = person.get("emergency_contacts") or []
        if isinstance(listed, str):  # a row read as stored (JSON text)
            listed = json.loads(listed)
        emergency = "; ".join(
            f"{c.get('name', '')} ({c.get('relation', '')}) {c.get('phone', '')}".strip()
            for c in listed
        )
        self.identity = QLabel(
            "\n".join(
                [
                    name,
                    tr("Date de naissance : {date}").format(date=born)
                    + (f" ({age})" if (age := age_text(person.get("birth_date"), today)) else ""),
                    ", ".join(p for p in (person.get("address_line"), town) if p),
                    tr("Téléphone : {phones}").format(phones=phones or tr("aucun")),
                    tr("Contacts d'urgence : {who}").format(who=emergency or tr("aucun")),
                ]
            )
        )
        self.identity.setWordWrap(True)
        self.identity.setAccessibleName(tr("Identité de la personne"))

        self.requested_on = QDateEdit(_qdate(today))
        self.requested_on.setDisplayFormat("dd/MM/yyyy")
        self.requested_on.setMaximumDate(_qdate(today))
        self.requested_on.setCalendarPopup(True)
        self.requested_by = QComboBox()
        for key, label in contract.enum_values("requesters").items():
            if key != "organisme":
                self.requested_by.addItem(label, key)
        self.requester_name = QLineEdit()
        self.requester_name.setMaxLength(
            contract.ui_max_length("register_enrolments", "requester_name")
        )
        self.requester_relation = QLineEdit()
        self.requester_relation.setMaxLength(
            contract.ui_max_length("register_enrolments", "requester_relation")
        )
        self.requester_relation.setPlaceholderText(tr("fille, voisin, médecin…"))
        self.written_request = QCheckBox(tr("Demande é&crite reçue"))
        self.written_request.setAccessibleName(tr("Demande écrite reçue"))
        self.consent = QCheckBox(tr("Acc&ord de la personne ou de son représentant"))
        self.consent.setChecked(True)
        self.consent.setAccessibleName(tr("Accord de la personne ou de son représentant"))

        self.lives_at_home = QCheckBox(tr("Vit à do&micile"))
        self.lives_at_home.setChecked(True)
        self.lives_at_home.setAccessibleName(tr("Vit à domicile"))
        self.unfit = QCheckBox(tr("Reconnue &inapte au travail (60 ans ou plus)"))
        self.unfit.setAccessibleName(tr("Reconnue inapte au travail"))
        self.benefit = QComboBox()
        self.benefit.addItem(tr("aucune"), None)
        for key, label in refs.get("register_benefits", {}).items():
            self.benefit.addItem(label, key)

        self.lives_alone = QCheckBox(tr("Personne vivant &seule"))
        self.lives_alone.setChecked(bool(person.get("lives_alone")))
        self.lives_alone.setAccessibleName(tr("Personne vivant seule"))
        self.floor = QLineEdit()
        self.floor.setMaxLength(3)
        self.floor.setPlaceholderText(tr("0 : rez-de-chaussée"))
        self.lift = QComboBox()
        for label, value in ((tr("non renseigné"), None), (tr("oui"), True), (tr("non"), False)):
            self.lift.addItem(label, value)
        self.mobility = QComboBox()
        self.mobility.addItem(tr("non renseignée"), None)
        for key, label in refs.get("mobility_levels", {}).items():
            self.mobility.addItem(label, key)
        if person.get("mobility"):
            self.mobility.setCurrentIndex(self.mobility.findData(person["mobility"]))
        self.help_at_home = QCheckBox(tr("&Reçoit une aide à domicile"))
        self.help_at_home.setAccessibleName(tr("Reçoit une aide à domicile"))
        self.help_service = QLineEdit()
        self.help_service.setMaxLength(
            contract.ui_max_length("register_enrolments", "help_service")
        )
        self.help_service.setPlaceholderText(tr("service d'aide à domicile, infirmier…"))
        self.notice = QComboBox()
        self.notice.addItem(tr("pas encore remise"), None)
        for key, label in contract.enum_values("notice_modes").items():
            self.notice.addItem(label, key)

        request_box = QGroupBox(tr("La demande"))
        request = QFormLayout(request_box)
        for text, field, widget in (
            (tr("Date de la &demande :"), "requested_on", self.requested_on),
            (tr("Demandée &par :"), "requested_by", self.requested_by),
            (tr("&Nom du demandeur :"), "requester_name", self.requester_name),
            (tr("&Lien avec la personne :"), "requester_relation", self.requester_relation),
        ):
            self.errors.add_row(request, text, field, widget)
        self.errors.add_row(request, "", "written_request", self.written_request)
        self.errors.add_row(request, "", "consent_given", self.consent)
        eligibility_box = QGroupBox(tr("Qui peut être inscrit (aucun justificatif demandé)"))
        eligibility = QFormLayout(eligibility_box)
        self.errors.add_row(eligibility, "", "lives_at_home", self.lives_at_home)
        self.errors.add_row(eligibility, "", "basis", self.unfit)
        self.errors.add_row(
            eligibility, tr("Prestation ou car&te handicap :"), "benefit", self.benefit
        )
        home_box = QGroupBox(tr("La situation à domicile"))
        home = QFormLayout(home_box)
        self.errors.add_row(home, "", "lives_alone", self.lives_alone)
        for text, field, widget in (
            (tr("Éta&ge :"), "floor", self.floor),
            (tr("&Ascenseur :"), "lift", self.lift),
            (tr("Mo&bilité :"), "mobility", self.mobility),
        ):
            self.errors.add_row(home, text, field, widget)
        self.errors.add_row(home, "", "help_at_home", self.help_at_home)
        self.errors.add_row(home, tr("Ser&vice d'aide :"), "help_service", self.help_service)
        self.errors.add_row(home, tr("Notice d'in&formation :"), "notice_how", self.notice)

        # Two columns when they fit the window, else one (200 % text): never cut, it scrolls.
        inner = QWidget()
        grid = QGridLayout(inner)
        for row, part in enumerate((self.identity, request_box, eligibility_box)):
            grid.addWidget(part, row, 0)
        grid.addWidget(home_box, 0, 1, 3, 1)
        grid.setRowStretch(3, 1)
        room = parent.window().size() if parent is not None else QSize(1280, 800)
        if inner.sizeHint().width() + 60 > room.width():
            grid.removeWidget(home_box)
            grid.addWidget(home_box, 3, 0)
            grid.setRowStretch(3, 0)
            grid.setRowStretch(4, 1)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        wanted = inner.sizeHint() + QSize(40, self.buttons.sizeHint().height() + 60)
        self.resize(wanted.boundedTo(room))
        # The fiche's situation at home is not a reception agent's to change (the contract).
        fiche_writers = contract.CONTACTS.field("mobility").writers or frozenset()
        for control in (self.lives_alone, self.mobility):
            control.setEnabled(ctx.role in fiche_writers)
        self.requested_by.currentIndexChanged.connect(self._requester_changed)
        self.help_at_home.toggled.connect(self.help_service.setEnabled)
        self.help_service.setEnabled(False)
        self._requester_changed()
        self.requested_on.setFocus()

    def _requester_changed(self) -> None:
        by = self.requested_by.currentData()
        other = by != "personne"
        self.requester_name.setEnabled(other)
        self.requester_relation.setEnabled(by == "tiers")
        self.written_request.setEnabled(by == "tiers")
        # A third party's request stands unless the person objects: no consent asked.
        self.consent.setEnabled(by != "tiers")
        self.consent.setChecked(by != "tiers")

    def values(self) -> dict[str, Any]:
        return {
            "requested_on": cast(date, self.requested_on.date().toPython()).isoformat(),
            "requested_by": self.requested_by.currentData(),
            "requester_name": self.requester_name.text(),
            "requester_relation": self.requester_relation.text(),
            "written_request": self.written_request.isChecked(),
            "consent_given": self.consent.isChecked() and self.consent.isEnabled(),
            "lives_at_home": self.lives_at_home.isChecked(),
            "unfit_for_work": self.unfit.isChecked(),
            "benefit": self.benefit.currentData(),
            "lives_alone": self.lives_alone.isChecked(),
            "floor": self.floor.text().strip(),
            "lift": self.lift.currentData(),
            "mobility": self.mobility.currentData(),
            "help_at_home": self.help_at_home.isChecked(),
            "help_service": self.help_service.text(),
            "notice_how": self.notice.currentData(),
        }

    def save_job(self) -> Callable[[Workspace], dict[str, Any]]:
        values, person_id = self.values(), str(self.person["id"])
        return lambda ws: register.enrol(ws, person_id, values)


def _status_text(enrolment: dict[str, Any] | None, refs: dict[str, dict[str, str]]) -> str:
    if enrolment is None:
        return tr("Cette personne n'est pas inscrite au registre.")
    status = contract.enum_values("register_statuses")[str(enrolment["status"])]
    lines = [
        tr("État : {status}").format(status=status),
        tr("Demande du {date}, {who}").format(
            date=french_date(enrolment.get("requested_on")),
            who=contract.enum_values("requesters")
            .get(str(enrolment.get("requested_by") or ""), "")
            .lower(),
        ),
    ]
    basis = refs.get("register_bases", {}).get(str(enrolment.get("basis") or ""))
    if basis:
        lines.append(tr("Motif : {basis}").format(basis=basis))
    if enrolment.get("ack_printed_on"):
        lines.append(
            tr("Accusé de réception imprimé le {date}").format(
                date=french_date(enrolment["ack_printed_on"])
            )
        )
    elif enrolment.get("ack_due_on"):
        lines.append(
            tr("Accusé de réception à imprimer avant le {date}").format(
                date=french_date(enrolment["ack_due_on"])
            )
        )
    if enrolment.get("notice_given_on"):
        lines.append(
            tr("Notice d'information remise le {date}").format(
                date=french_date(enrolment["notice_given_on"])
            )
        )
    else:
        lines.append(tr("Notice d'information : pas encore remise"))
    return "\n".join(lines)


class RegisterDialog(QDialog):
    """The person's enrolment: its state, its history, and what can be done next."""

    def __init__(
        self, ctx: UiContext, person: dict[str, Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.person = person
        self.enrolment: dict[str, Any] | None = None
        self.setWindowTitle(
            tr("Registre des personnes vulnérables — {name}").format(
                name=contacts.display_name(person)
            )
        )
        events = contract.enum_values("register_event_kinds")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(tr("État de l'inscription"))
        self.history_model: RowsModel[dict[str, Any]] = RowsModel(
            [
                (tr("Date"), lambda r: french_date(r.get("occurred_on"))),
                (tr("Étape"), lambda r: events.get(str(r.get("event")), "")),
                (tr("Précision"), lambda r: str(r.get("note") or "")),
            ]
        )
        self.history = table_view(tr("Historique du registre"))
        self.history.setModel(self.history_model)
        wrap_short_list(self.history)
        self.reason = QLineEdit()
        self.reason.setMaxLength(contract.ui_max_length("register_enrolments", "removal_reason"))
        reason_label = QLabel(tr("&Motif ou précision :"))
        reason_label.setBuddy(self.reason)
        self.enrol_button = QPushButton(tr("&Inscrire…"))
        self.enrol_button.clicked.connect(self.enrol)
        self.remove_button = QPushButton(tr("&Radier du registre"))
        self.remove_button.clicked.connect(self.remove)
        self.object_button = QPushButton(tr("&Opposition de la personne"))
        self.object_button.clicked.connect(self.record_objection)
        self.notice = QComboBox()
        self.notice.setAccessibleName(tr("Comment la notice a été remise"))
        for key, label in contract.enum_values("notice_modes").items():
            self.notice.addItem(label, key)
        self.notice_button = QPushButton(tr("&Notice d'information remise"))
        self.notice_button.clicked.connect(self.record_notice)
        self.letter_button = QPushButton(tr("Imprimer l'&accusé de réception…"))
        for button in (
            self.enrol_button,
            self.remove_button,
            self.object_button,
            self.notice_button,
            self.letter_button,
        ):
            button.setEnabled(False)  # until the enrolment is read
        self.letter_button.clicked.connect(self.print_letter)
        close = QPushButton(tr("&Fermer"))
        close.clicked.connect(self.accept)
        self.message = error_label()
        self.message.setAccessibleName(tr("Message"))
        reason_row = QHBoxLayout()
        reason_row.addWidget(reason_label)
        reason_row.addWidget(self.reason, 1)
        notice_row = QHBoxLayout()
        notice_row.addWidget(self.notice, 1)
        notice_row.addWidget(self.notice_button)
        buttons = QHBoxLayout()
        for button in (
            self.enrol_button,
            self.remove_button,
            self.object_button,
            self.letter_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.history, 1)
        layout.addLayout(reason_row)
        layout.addLayout(notice_row)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(900, 520)
        self.refresh()

    def refresh(self) -> None:
        person_id = str(self.person["id"])

        def job(ws: Workspace) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
            return register.latest_enrolment(ws, person_id), register.history(ws, person_id)

        Operation(self.ctx.database, job).success(self._show).run()

    def _show(self, found: tuple[dict[str, Any] | None, list[dict[str, Any]]]) -> None:
        enrolment, events = found
        self.enrolment = enrolment
        self.status.setText(_status_text(enrolment, self.ctx.references))
        self.history_model.set_rows(events)
        active = enrolment is not None and enrolment["status"] in register.ACTIVE
        self.enrol_button.setEnabled(not active)
        self.remove_button.setEnabled(active)
        self.object_button.setEnabled(active)
        self.notice_button.setEnabled(enrolment is not None)
        due = self._letter_due()
        self.letter_button.setEnabled(due is not None)
        self.letter_button.setText(
            tr("Imprimer la &lettre de radiation…")
            if due == "radiation"
            else tr("Imprimer la &lettre d'information…")
            if due == "information"
            else tr("Imprimer l'&accusé de réception…")
        )

    def _letter_due(self) -> str | None:
        enrolment = self.enrolment
        if enrolment is None:
            return None
        if not enrolment.get("ack_printed_on") and enrolment["status"] in register.ACTIVE:
            return "information" if enrolment["status"] == "a-informer" else "accuse"
        if enrolment["status"] == "radiee" and not enrolment.get("removal_letter_printed_on"):
            return "radiation"
        return None

    def enrol(self) -> None:
        form = RegisterForm(self.ctx, self.person, self)
        if form.exec() == QDialog.DialogCode.Accepted:
            self.refresh()

    def _change(self, job: Callable[[Workspace], dict[str, Any]], done: str) -> None:
        def failed(error: Exception) -> None:
            self.message.setText(str(error))

        def succeeded(_row: dict[str, Any]) -> None:
            self.message.setText(done)
            self.reason.clear()
            self.refresh()

        Operation(self.ctx.database, job).success(succeeded).failure(failed).announces(
            *REGISTER_TABLES
        ).run()

    def remove(self) -> None:
        if self.enrolment is None:
            return
        enrolment_id, reason = str(self.enrolment["id"]), self.reason.text()
        day = self.ctx.today.isoformat()
        self._change(
            lambda ws: register.remove(ws, enrolment_id, day, reason),
            tr("Radiée du registre. La lettre de radiation est à imprimer."),
        )

    def record_objection(self) -> None:
        if self.enrolment is None:
            return
        enrolment_id, note = str(self.enrolment["id"]), self.reason.text()
        day = self.ctx.today.isoformat()
        self._change(
            lambda ws: register.record_objection(ws, enrolment_id, day, note),
            tr("Opposition enregistrée : la personne n'est plus sur le registre."),
        )

    def record_notice(self) -> None:
        if self.enrolment is None:
            return
        enrolment_id, how = str(self.enrolment["id"]), str(self.notice.currentData())
        self._change(
            lambda ws: register.record_notice(ws, enrolment_id, how),
            tr("Remise de la notice d'information enregistrée."),
        )

    def print_letter(self) -> None:
        kind = self._letter_due()
        if self.enrolment is None or kind is None:
            return
        print_register_letter(self.ctx, self, str(self.enrolment["id"]), kind, self.refresh)


def print_register_letter(
    ctx: UiContext,
    parent: QWidget,
    enrolment_id: str,
    kind: str,
    after: Callable[[], None] | None = None,
) -> None:
    """Build the letter on the database thread, preview it; printed or saved, it is marked
    printed (it leaves Ma journée) and the step enters the history."""
    from havre_desktop.printing.data import city_contact
    from havre_desktop.printing.register_letters import register_letter_pdf
    from havre_desktop.ui.print_preview import PdfPreviewDialog

    city = city_contact(ctx.settings)

    def build(ws: Workspace) -> bytes:
        return register_letter_pdf(ws, enrolment_id, kind, city=city)

    def printed(_how: str) -> None:
        Operation(ctx.database, lambda ws: register.mark_printed(ws, enrolment_id, kind)).success(
            lambda _row: after() if after is not None else None
        ).announces(*REGISTER_TABLES).run()

    def preview(pdf: bytes) -> None:
        dialog = PdfPreviewDialog(
            pdf,
            register.LETTER_LABELS[kind],
            f"registre-{kind}.pdf",
            on_output=printed,
            parent=parent,
        )
        dialog.open()
        parent.setProperty("registerPreview", dialog)  # kept alive while open (and for tests)

    Operation(ctx.database, build).success(preview).run()
