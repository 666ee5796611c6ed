"""Personnes: find a person in a few keystrokes, read and edit the fiche, log a visit."""

from __future__ import annotations

import logging
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_common.french import address_lines, count, french_number
from havre_desktop.core import contacts, register, search, visits
from havre_desktop.core.errors import NotFoundError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.data import read_city_contact
from havre_desktop.printing.variant import Variant
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import age_text, french_date, french_datetime, tr
from havre_desktop.ui.models import PersonSearchModel, RowsModel
from havre_desktop.ui.operations import Changes, Operation
from havre_desktop.ui.pages.consent_form import ConsentForm
from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog, preview_handout
from havre_desktop.ui.pages.person_form import PersonForm
from havre_desktop.ui.pages.visit_form import VisitForm
from havre_desktop.ui.widgets import hide_unless, table_view, wrap_short_list

if TYPE_CHECKING:  # the PDF engine loads when a document is built
    from havre_desktop.printing.record import PreparedHandout

log = logging.getLogger("havre.ui.persons")

# A search takes under a millisecond on 100,000 persons: it runs as the agent types, the
# keys typed in one turn of the event loop grouped into one search (a pause would be the only
# wait the agent feels). Results of an older search are dropped (PersonSearchModel).
SEARCH_DELAY_MS = 0


# What the Personnes page shows comes from these tables (and the day, for ages).
FICHE_TABLES = (
    "contacts",
    "visits",
    "consents",
    "register_enrolments",
    "register_events",
    "planned_contacts",
    "agents",
)


class PersonsPage(QWidget):
    """Search list on the left, the fiche and its history on the right."""

    fiche_shown = Signal(str)
    visit_saved = Signal(dict)
    audit_requested = Signal(str)  # a fiche's id: its audit journal (coordinators)

    def __init__(self, context: UiContext) -> None:
        super().__init__()
        self.ctx = context
        context.database.changes.changed.connect(self._changes)
        self._db = context.database
        refs = context.references
        self.current: dict[str, Any] | None = None

        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText(tr("Nom, téléphone ou adresse (ex. : lefe, 06 39)"))
        self.search_field.setAccessibleName(tr("Rechercher une personne"))
        self.search_field.setClearButtonEnabled(True)
        for clear_button in self.search_field.findChildren(QToolButton):
            clear_button.setAccessibleName(tr("Effacer la recherche"))
        search_label = QLabel(tr("&Rechercher :"))
        search_label.setBuddy(self.search_field)
        self.new_button = QPushButton(tr("Nouvelle &personne"))
        self.new_button.setAccessibleName(tr("Nouvelle personne"))
        self.new_button.clicked.connect(self.create_person)

        self.model = PersonSearchModel(self._db, refs["territories"], lambda: self.ctx.today)
        self.table = table_view(tr("Résultats de la recherche"))
        self.table.setModel(self.model)
        self.table.activated.connect(lambda index: self.open_fiche(index.row()))
        self.count_label = QLabel()
        self.count_label.setAccessibleName(tr("Nombre de résultats"))
        self.model.loaded.connect(self._show_count)

        self.fiche = QTextBrowser()
        self.fiche.setAccessibleName(tr("Fiche de la personne"))
        self.fiche.setPlaceholderText(tr("Choisissez une personne pour afficher sa fiche."))
        self.edit_button = QPushButton(tr("&Modifier la fiche"))
        self.edit_button.setAccessibleName(tr("Modifier la fiche"))
        self.edit_button.clicked.connect(self.edit_person)
        self.visit_button = QPushButton(tr("Nouvelle &visite"))
        self.visit_button.setAccessibleName(tr("Nouvelle visite"))
        self.visit_button.clicked.connect(self.new_visit)
        hide_unless(context.may_see_visits, self.visit_button)
        self.print_button = QPushButton(tr("Imprimer un &document"))
        self.print_button.setAccessibleName(tr("Imprimer un document pour la personne"))
        self.print_button.clicked.connect(self.print_handout)
        self.consent_button = QPushButton(tr("&Consentement…"))
        self.consent_button.setAccessibleName(tr("Enregistrer un consentement"))
        self.consent_button.clicked.connect(self.record_consent)
        # The register of vulnerable persons: named staff only (the register right).
        self.register_button = QPushButton(tr("Re&gistre…"))
        self.register_button.setAccessibleName(tr("Registre des personnes vulnérables"))
        self.register_button.clicked.connect(self.open_register)
        hide_unless(context.register_right, self.register_button)
        self.archive_button = QPushButton(tr("&Archiver"))
        self.archive_button.setAccessibleName(tr("Archiver la fiche"))
        self.archive_button.clicked.connect(self.archive_person)
        archivists = contract.CONTACTS.field("archived").writers
        may_archive = archivists is None or context.role in archivists
        hide_unless(may_archive, self.archive_button)
        # Coordinators: who opened, printed, exported this fiche; its RGPD export (online).
        may_audit = context.role in contract.CATALOGUE_ROLES
        self.audit_button = QPushButton(tr("&Journal de la fiche…"))
        self.audit_button.setAccessibleName(tr("Journal d'audit de la fiche"))
        self.audit_button.clicked.connect(self._ask_audit)
        hide_unless(may_audit, self.audit_button)
        for button in self._fiche_buttons():
            button.setEnabled(False)
        steps = contract.enum_values("register_event_kinds")

        def register_step(r: dict[str, Any]) -> bool:
            return "register_event" in r

        self.history_model: RowsModel[dict[str, Any]] = RowsModel(
            [
                (
                    tr("Date"),
                    lambda r: (
                        french_date(r.get("occurred_at"))
                        if register_step(r)
                        else french_datetime(r.get("occurred_at"))
                    ),
                ),
                (
                    tr("Type"),
                    lambda r: (
                        tr("Registre")
                        if register_step(r)
                        else refs["visit_kinds"].get(r.get("kind") or "", "")
                    ),
                ),
                (
                    tr("Résultat"),
                    lambda r: (
                        steps.get(str(r["register_event"]), "")
                        if register_step(r)
                        else refs["visit_outcomes"].get(r.get("outcome") or "", "")
                    ),
                ),
                (
                    tr("Notes"),
                    lambda r: (
                        str(r.get("note") or "") if register_step(r) else visits.shown_note(r)
                    ),
                ),
            ]
        )
        self.history = table_view(tr("Historique des visites"))
        self.history.setModel(self.history_model)
        wrap_short_list(self.history)  # the notes wrap rather than run off the side
        history_label = QLabel(tr("Historique des visites et appels"))
        hide_unless(context.may_see_visits, self.history, history_label)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self._search)
        self.search_field.textChanged.connect(self._debounce.start)
        self.search_field.returnPressed.connect(self._open_first)

        top = QHBoxLayout()
        top.addWidget(search_label)
        top.addWidget(self.search_field, 1)
        top.addWidget(self.new_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count_label)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        # Two by two: four in a row widen the page past a 1366-pixel screen at 200 % text.
        buttons = QGridLayout()
        not_for_this_role = {
            self.visit_button: not context.may_see_visits,
            self.archive_button: not may_archive,
            self.audit_button: not may_audit,
            self.register_button: not context.register_right,
        }
        shown_buttons = [b for b in self._fiche_buttons() if not not_for_this_role.get(b)]
        for position, button in enumerate(shown_buttons):
            buttons.addWidget(button, position // 2, position % 2)
        buttons.setColumnStretch(2, 1)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.fiche, 3)
        right_layout.addWidget(history_label)
        right_layout.addWidget(self.history, 2)
        # The fiche and its history (notes that wrap) get most of the width: at 200 % text
        # the results still show name and phone, the rest is a scroll away.
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        self.search_field.installEventFilter(self)
        QShortcut(QKeySequence("Ctrl+N"), self).activated.connect(self.new_visit)
        QShortcut(QKeySequence("Ctrl+E"), self).activated.connect(self.edit_person)
        QShortcut(QKeySequence("Ctrl+P"), self).activated.connect(self.print_handout)

    # -- search -----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down arrow in the search field goes to the results, on the first row."""
        if (
            watched is self.search_field
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
            and self.model.rowCount()
        ):
            self.table.setFocus()
            self.table.selectRow(0)
            return True
        return super().eventFilter(watched, event)

    def focus_search(self) -> None:
        self.search_field.setFocus()
        self.search_field.selectAll()

    def _search(self) -> None:
        self.model.set_search_text(self.search_field.text())

    def _show_count(self) -> None:
        self.table.resizeColumnsToContents()
        shown = self.model.rowCount()
        if self.model.canFetchMore():  # more rows come as the list scrolls
            text = tr("{n} personnes et plus").format(n=french_number(shown))
        else:
            text = count(shown, tr("{n} personne"), tr("{n} personnes"))
        typed = self.model.search_text
        if not typed:
            order = tr("par ordre alphabétique")
        elif search.is_ranked(typed):
            order = tr("les plus proches de la recherche d'abord")
        else:
            order = tr("sans classement : tapez au moins {n} lettres pour classer").format(
                n=search.RANK_FROM_CHARS
            )
        self.count_label.setText(f"{text}, {order}" if shown > 1 else text)

    def _open_first(self) -> None:
        """Enter in the search field: search now and open the first result."""
        if self._debounce.isActive() or self.model.search_text != self.search_field.text().strip():
            self._debounce.stop()
            self._search()
            self.model.loaded.connect(
                self._open_first_loaded, Qt.ConnectionType.SingleShotConnection
            )
        else:
            self._open_first_loaded()

    def _open_first_loaded(self) -> None:
        if self.model.rowCount():
            self.table.selectRow(0)
            self.open_fiche(0)

    # -- fiche ------------------------------------------------------------------------

    def open_fiche(self, row: int) -> None:
        person_id = self.model.person_id(row)
        if person_id is not None:
            self.open_person(person_id)

    def open_person(self, person_id: str) -> None:
        """Open a fiche: the opening is audited."""
        self._load_fiche(person_id, opening=True)

    def _load_fiche(self, person_id: str, *, opening: bool) -> None:
        may_see_visits = self.ctx.may_see_visits
        register_right = self.ctx.register_right

        def job(ws: Workspace) -> dict[str, Any]:
            read = contacts.open_fiche if opening else contacts.fiche
            fiche = read(ws, person_id)
            fiche["history"] = (
                visits.journal(ws, person_id=person_id, limit=200) if may_see_visits else []
            )
            if may_see_visits and register_right:
                # The register's steps in the fiche's history, newest first with the visits.
                steps = [
                    {
                        "occurred_at": e["occurred_on"],
                        "register_event": e["event"],
                        "note": e.get("note"),
                    }
                    for e in register.history(ws, person_id)
                ]
                fiche["history"] = sorted(
                    [*fiche["history"], *steps],
                    key=lambda r: str(r.get("occurred_at") or ""),
                    reverse=True,
                )
            fiche["planned"] = visits.planned_for_person(ws, person_id)
            return fiche

        operation = Operation(self._db, job).success(self._show_fiche)
        if opening:
            operation.announces("audit_log")
        else:
            operation.failure(self._fiche_gone)
        operation.run()

    def _changes(self, changes: Changes) -> None:
        """An edit here, a sync or a new day: the results and the open fiche (its age, its
        history, what a colleague changed) are read again, without a new audit entry."""
        if changes.touches(*FICHE_TABLES):
            self.model.refresh()
            if self.current:
                self._load_fiche(self.current["id"], opening=False)

    def _fiche_gone(self, error: Exception) -> None:
        """The fiche open on screen left this device (archived, erased, out of this
        agent's territories since the last sync): say so instead of showing stale data."""
        if not isinstance(error, NotFoundError):
            self._db.failed.emit(error)
            return
        self._clear_fiche()
        self.fiche.setPlainText(
            tr(
                "Cette fiche n'est plus disponible sur cet appareil (archivée, effacée ou "
                "hors de vos territoires depuis la dernière synchronisation)."
            )
        )

    def _clear_fiche(self) -> None:
        self.current = None
        self.fiche.clear()
        self.history_model.set_rows([])
        for button in self._fiche_buttons():
            button.setEnabled(False)

    def _show_fiche(self, fiche: dict[str, Any]) -> None:
        self.current = fiche
        self.fiche.setHtml(render_fiche_html(fiche, self.ctx))
        self.history_model.set_rows(fiche.get("history") or [])
        for button in self._fiche_buttons():
            button.setEnabled(True)
        self.fiche_shown.emit(fiche["id"])

    def _fiche_buttons(self) -> tuple[QPushButton, ...]:
        return (
            self.edit_button,
            self.visit_button,
            self.print_button,
            self.consent_button,
            self.register_button,
            self.archive_button,
            self.audit_button,
        )

    def _ask_audit(self) -> None:
        if self.current:
            self.audit_requested.emit(str(self.current["id"]))

    # -- printing ---------------------------------------------------------------------

    def print_handout(self) -> None:
        """The personal handout; the actions proposed at the latest visit come preselected."""
        if not self.current:
            return
        person = self.current
        history = person.get("history") or []
        proposed = list(history[0].get("proposed_action_ids") or []) if history else []
        name = contacts.display_name(person)
        dialog = HandoutChoiceDialog(
            self.ctx,
            proposed,
            person.get("territory_id"),
            tr("Document pour {name}").format(name=name),
            self,
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        person_id = person["id"]
        visit_id = history[0]["id"] if history and proposed else None
        from havre_desktop.printing.record import prepare_personal_handout

        handout_for = partial(
            prepare_personal_handout, visit_id=visit_id, agent_id=self.ctx.agent.get("id")
        )

        def prepare(ws: Workspace, action_ids: list[str], variant: Variant) -> PreparedHandout:
            city = read_city_contact(ws)  # as the server last sent them
            return handout_for(ws, person_id, action_ids, variant=variant, city=city)

        preview_handout(
            self.ctx,
            prepare,
            dialog.chosen(),
            dialog.variant,
            tr("Document pour {name}").format(name=name),
            "document-personne.pdf",
            self,
            lambda _row: self._db.changes.announce(["handouts_given"]),
        )

    # -- edits ------------------------------------------------------------------------

    def create_person(self) -> None:
        dialog = PersonForm(self._db, self.ctx.references, None, self)
        if self.ctx.territories:
            dialog.territory.setCurrentIndex(dialog.territory.findData(self.ctx.territories[0]))
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved:
            self.open_person(dialog.saved["id"])

    def edit_person(self) -> None:
        if not self.current:
            return
        dialog = PersonForm(self._db, self.ctx.references, self.current, self)
        dialog.exec()  # a save is announced: the list and the fiche follow

    def record_consent(self) -> None:
        if not self.current:
            return
        ConsentForm(self._db, self.current, self.ctx.today, self).exec()
        self.consent_button.setFocus()

    def open_register(self) -> None:
        """The person's enrolment: enrol, remove, record an objection, print its letters."""
        if not self.current or self.current.get("kind") == "organisation":
            return
        from havre_desktop.ui.pages.register_form import RegisterDialog

        self.register_dialog = RegisterDialog(self.ctx, self.current, self)
        self.register_dialog.open()

    def new_visit(self) -> None:
        if not self.current or not self.ctx.may_see_visits:
            return
        dialog = VisitForm.for_person(self.ctx, self.current, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved:
            self.visit_saved.emit(dialog.saved)
        self.visit_button.setFocus()

    def archive_person(self) -> None:
        if not self.current:
            return
        answer = QMessageBox.question(
            self,
            tr("Archiver la fiche"),
            tr(
                "Archiver cette fiche ? Elle n'apparaîtra plus dans les listes, mais reste "
                "conservée."
            ),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        person_id = self.current["id"]
        Operation(self._db, lambda ws: contacts.archive(ws, person_id)).success(
            lambda _row: self._clear_fiche()
        ).announces("contacts").run()


def register_text(register: dict[str, Any] | None) -> str:
    if register is None:
        return tr("pas d'inscription")
    status = str(register.get("status") or "inscrite")
    if status == "inscrite":
        return tr("inscrite le {date}").format(date=french_date(register.get("enrolled_on")))
    if status == "a-informer":
        return tr("à informer (inscrite le {date} sauf opposition)").format(
            date=french_date(register.get("inform_until"))
        )
    if status == "opposee":
        return tr("opposition le {date}").format(date=french_date(register.get("objected_on")))
    return tr("radiée le {date}").format(date=french_date(register.get("removed_on")))


def render_fiche_html(fiche: dict[str, Any], ctx: UiContext) -> str:
    refs = ctx.references
    name = escape(contacts.display_name(fiche))
    lines = [f"<h2>{name}</h2>"]
    if fiche.get("anonymised_on"):
        notice = tr(
            "Fiche anonymisée le {date} (fin de la durée de conservation) : ses visites "
            "restent comptées, son identité et ses notes ont été effacées."
        ).format(date=french_date(fiche["anonymised_on"]))
        lines.append(f"<p><i>{escape(notice)}</i></p>")
    born = french_date(fiche.get("birth_date"))
    address = "<br>".join(
        escape(line)
        for line in address_lines(
            fiche.get("address_line"), fiche.get("postcode"), fiche.get("city")
        )
    )
    enrolment = fiche.get("register")
    colleagues = {str(a["id"]): str(a.get("display_name") or "") for a in ctx.colleagues}
    if ctx.agent.get("id"):
        colleagues[str(ctx.agent["id"])] = str(ctx.agent.get("display_name") or "")
    referent_id = fiche.get("referent_agent_id")
    lives_alone: dict[int | None, str] = {1: tr("oui"), 0: tr("non")}
    rows: list[tuple[str, str | None]] = [
        (
            tr("Date de naissance"),
            f"{born} ({age_text(fiche.get('birth_date'), ctx.today)})" if born else "",
        ),
        (tr("Territoire"), refs["territories"].get(fiche.get("territory_id") or "", "")),
        (tr("Téléphone"), fiche.get("phone_1")),
        (tr("Autre téléphone"), fiche.get("phone_2")),
        (tr("Personne vivant seule"), lives_alone.get(fiche.get("lives_alone"), "")),
        (tr("Mobilité"), refs["mobility_levels"].get(fiche.get("mobility") or "", "")),
        (tr("Accès au logement"), fiche.get("access_notes")),
    ]
    if fiche.get("kind", "person") == "person":
        rows.append(
            (
                tr("Référent"),
                colleagues.get(str(referent_id), tr("un agent d'un autre territoire"))
                if referent_id
                else tr("aucun référent désigné"),
            )
        )
        # Only an agent with the register right holds it: others are told nothing either way.
        if ctx.register_right:
            rows.append((tr("Registre des personnes vulnérables"), register_text(enrolment)))
    if address:
        lines.append(f"<p><b>{escape(tr('Adresse'))} :</b><br>{address}</p>")
    for label, value in rows:
        if value:
            lines.append(f"<p><b>{escape(label)} :</b> {escape(str(value))}</p>")
    for contact in fiche.get("emergency_contacts") or []:
        relation = f" ({escape(contact['relation'])})" if contact.get("relation") else ""
        lines.append(
            f"<p><b>{escape(tr('Contact d’urgence'))} :</b> {escape(contact['name'])}{relation}"
            f" – {escape(contact['phone'])}</p>"
        )
    purposes = contract.ENUMS["consent_purposes"]
    consents = fiche.get("consents") or []
    for consent in consents:
        state = tr("donné") if consent.get("given") else tr("refusé")
        purpose = purposes.get(consent["purpose"], consent["purpose"])
        withdrawn = (
            tr(", retiré le {date}").format(date=french_date(consent["withdrawn_on"]))
            if consent.get("withdrawn_on")
            else ""
        )
        lines.append(
            f"<p><b>{escape(tr('Consentement'))} ({escape(purpose)}) :</b> "
            f"{state} le {french_date(consent['recorded_on'])}{escape(withdrawn)}</p>"
        )
    if not consents:
        lines.append(
            f"<p><b>{escape(tr('Consentement'))} :</b> "
            f"{escape(tr('aucun consentement enregistré'))}</p>"
        )
    kinds = contract.ENUMS["planned_kinds"]
    for planned in fiche.get("planned") or []:
        reason = f" — {escape(planned['reason'])}" if planned.get("reason") else ""
        lines.append(
            f"<p><b>{escape(tr('Prochain contact prévu'))} :</b> "
            f"{french_date(planned['due_on'])}, "
            f"{escape(kinds.get(planned['kind'], planned['kind']).lower())}{reason}</p>"
        )
    return "\n".join(lines)
