"""Ma journée, a round sheet: who to see or call today, where and what for, promised
follow-ups, alert calls, people not seen for long; "fait" and "absent" on the row, and the
round printed for the day."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_common.french import count, long_date
from havre_desktop.core import catalogue, contacts, register, visits
from havre_desktop.core.rounds import RoundStop, overdue_text, round_stop, round_stops
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import french_datetime, tr
from havre_desktop.ui.models import Column, ItemRowsModel
from havre_desktop.ui.operations import Changes, Operation
from havre_desktop.ui.pages.visit_form import VisitForm
from havre_desktop.ui.widgets import (
    one_line_row_height,
    scrolling,
    table_view,
    viewport_made_in_python,
    wrap_short_list,
)

# What is logged when a planned contact is done: a visit at home, or a call.
VISIT_KIND_FOR = {
    "visite": "visite-domicile",
    "suivi-visite": "visite-domicile",
    "suivi": "visite-domicile",
    "appel": "appel",
    "suivi-appel": "appel",
    "appel-alerte": "appel-alerte",
}


class TodayPage(QWidget):
    """Four short lists; Enter on a row opens the person's fiche."""

    open_person = Signal(str)
    loaded = Signal()
    open_stale_actions = Signal()  # a coordinator's actions waiting for their 6-month check

    def __init__(self, context: UiContext) -> None:
        super().__init__()
        self.ctx = context
        territories = context.references["territories"]

        def name(row: dict[str, Any]) -> str:
            return contacts.display_name({**row, "kind": row.get("contact_kind", "person")})

        def stop(row: dict[str, Any]) -> RoundStop:
            return round_stop(row, self.ctx.today)

        def who_and_where(row: dict[str, Any]) -> str:
            found = stop(row)
            lines = [name(row), found.address.replace("\n", ", ")]
            if found.access:
                lines.append(tr("Accès : {access}").format(access=found.access))
            return "\n".join(line for line in lines if line)

        def what_and_when(row: dict[str, Any]) -> str:
            found = stop(row)
            # Overdue in words (a colour alone says nothing to some, and nothing on paper).
            return f"{found.to_do}\n{overdue_text(found) or tr('Prévu aujourd’hui')}"

        # Three columns that wrap rather than run off the side, even at 200 % text.
        planned_columns: list[Column] = [
            (tr("Personne et adresse"), who_and_where),
            (tr("À faire"), what_and_when),
            (tr("Téléphone"), lambda r: stop(r).phones.replace(" / ", "\n")),
        ]
        self.due_model = ItemRowsModel(planned_columns)
        self.follow_model = ItemRowsModel(planned_columns)
        self.alert_model = ItemRowsModel(planned_columns)
        self.not_seen_model: ItemRowsModel[dict[str, Any]] = ItemRowsModel(
            [
                (tr("Personne"), name),
                (
                    tr("Dernier contact"),
                    lambda r: french_datetime(r.get("last_visit")) or tr("jamais"),
                ),
                (tr("Territoire"), lambda r: territories.get(r.get("territory_id") or "", "")),
                (tr("Téléphone"), lambda r: r.get("phone_1") or ""),
            ]
        )
        self.title = QLabel()
        self.title.setAccessibleName(tr("Titre de la page"))
        self.title.setWordWrap(True)
        self.refresh_button = QPushButton(tr("&Actualiser"))
        self.refresh_button.setAccessibleName(tr("Actualiser Ma journée"))
        self.refresh_button.clicked.connect(self.refresh)
        # The lists scroll as a whole when they do not fit (200 % text on a laptop screen,
        # a coordinator's extra list of register letters): the window stays within the screen.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.title)
        # Coordinators: the actions of their territories not confirmed for 6 months.
        self.stale_box = QGroupBox(tr("Catalogue à vérifier"))
        stale_layout = QHBoxLayout(self.stale_box)
        self.stale_label = QLabel()
        self.stale_label.setWordWrap(True)
        self.stale_label.setAccessibleName(tr("Actions à vérifier"))
        self.stale_button = QPushButton(tr("Voir les actions à &vérifier"))
        self.stale_button.clicked.connect(self.open_stale_actions.emit)
        stale_layout.addWidget(self.stale_label, 1)
        stale_layout.addWidget(self.stale_button)
        self.stale_box.setVisible(False)
        layout.addWidget(self.stale_box)
        self.tables: dict[str, QTableView] = {}
        for key, label, model in (
            ("due", tr("À voir ou appeler aujourd'hui (et en retard)"), self.due_model),
            ("follow_ups", tr("Suivis promis"), self.follow_model),
            ("alerts", tr("Appels d'alerte"), self.alert_model),
            ("not_seen", "", self.not_seen_model),
        ):
            box = QGroupBox(label)
            box_layout = QVBoxLayout(box)
            table = table_view(label or tr("Personnes non vues depuis longtemps"))
            viewport_made_in_python(table)  # the window watches its first paint
            table.setModel(model)
            wrap_short_list(table)
            if key != "not_seen":  # who, where and what to do share the width and wrap
                header = table.horizontalHeader()
                header.setStretchLastSection(False)
                for column in (0, 1):
                    header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            table.activated.connect(lambda index, m=model: self._activate(m, index.row()))
            box_layout.addWidget(table)
            layout.addWidget(box, 1)
            self.tables[key] = table
            if key == "not_seen":
                self.not_seen_box = box
                # Its rows (up to 100, one line each) are as tall as one line until the
                # first screen is painted, then sized to their contents again (a phone
                # number wrapping in a narrow window): measuring every cell of every row
                # before that paint was 10 ms of the start. See `first_screen_shown`.
                table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
                self._rows_follow_contents = False
            if key == "alerts":
                self.alert_box = box
        # The register's letters to print (acknowledgment due 8 days after the request,
        # removal, information): listed until printed; only for agents with the right.
        self.letters_model: ItemRowsModel[register.LetterDue] = ItemRowsModel(
            [
                (tr("Personne"), lambda d: d.name),
                (tr("Courrier"), lambda d: tr(register.LETTER_LABELS[d.kind])),
                (
                    tr("À imprimer avant le"),
                    lambda d: (tr("{date} (en retard)") if d.overdue else "{date}").format(
                        date=long_date(d.due_on)
                    ),
                ),
            ]
        )
        self.letters_box = QGroupBox(tr("Courriers du registre à imprimer"))
        letters_layout = QVBoxLayout(self.letters_box)
        self.letters_table = table_view(tr("Courriers du registre à imprimer"))
        self.letters_table.setModel(self.letters_model)
        wrap_short_list(self.letters_table)
        self.letters_table.activated.connect(lambda index: self.print_register_letter(index.row()))
        self.letter_button = QPushButton(tr("Imprimer le &courrier du registre…"))
        self.letter_button.setAccessibleName(tr("Imprimer le courrier du registre choisi"))
        self.letter_button.clicked.connect(
            lambda: self.print_register_letter(self.letters_table.currentIndex().row())
        )
        letters_layout.addWidget(self.letters_table)
        letters_layout.addWidget(self.letter_button)
        layout.addWidget(self.letters_box, 1)
        self.letters_box.setVisible(False)
        self.done_button = QPushButton(tr("&Fait…"))
        self.done_button.setAccessibleName(tr("Fait : noter la visite ou l'appel"))
        self.done_button.clicked.connect(self.mark_done)
        self.absent_button = QPushButton(tr("Ab&sent"))
        self.absent_button.setAccessibleName(
            tr("Personne absente : reporter au prochain jour ouvré")
        )
        self.absent_button.clicked.connect(self.mark_absent)
        self.print_button = QPushButton(tr("Imprimer la feuille de &tournée…"))
        self.print_button.setAccessibleName(tr("Imprimer la feuille de tournée du jour"))
        self.print_button.clicked.connect(self.print_round)
        self.status = QLabel()
        self.status.setAccessibleName(tr("Confirmation"))
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.done_button, self.absent_button, self.print_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        scrolling(self, content)
        # The buttons and the status line stay in view; only the lists scroll when they do not fit.
        outer = self.layout()
        assert isinstance(outer, QVBoxLayout)
        outer.addLayout(buttons)
        outer.addWidget(self.status)
        self._last_table = self.tables["due"]
        for key in ("due", "follow_ups", "alerts"):
            table = self.tables[key]
            table.installEventFilter(self)
        self.plan: dict[str, list[dict[str, Any]]] = {}
        context.database.changes.changed.connect(self._changes)

    def first_screen_shown(self) -> None:
        """The window's first screen is painted: every list sizes its rows to their contents."""
        if not self._rows_follow_contents:
            self._rows_follow_contents = True
            wrap_short_list(self.tables["not_seen"])

    def _changes(self, changes: Changes) -> None:
        """A visit, a plan, a sync or a new day: the day's lists are read again."""
        if changes.touches(
            "planned_contacts", "visits", "contacts", "agents", "register_enrolments", "actions"
        ):
            self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Fait and Absent act on the row chosen in the list last used."""
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QTableView):
            self._last_table = watched
        return super().eventFilter(watched, event)

    def chosen(self) -> dict[str, Any] | None:
        """The planned contact on the selected row (of the list used last)."""
        table = self._last_table
        model = table.model()
        index = table.currentIndex()
        if not isinstance(model, ItemRowsModel) or not index.isValid():
            return None
        return model.row(index.row())

    def mark_done(self) -> None:
        """Fait: the visit or call form for that person, its kind already chosen."""
        planned = self.chosen()
        if planned is None:
            self._say(tr("Choisissez d'abord une ligne de la liste."))
            return
        person_id = str(planned["person_id"])
        Operation(self.ctx.database, lambda ws: contacts.get(ws, person_id)).success(
            lambda person: self._visit_form(person, planned)
        ).run()

    def _visit_form(self, person: dict[str, Any], planned: dict[str, Any]) -> None:
        form = VisitForm.for_person(self.ctx, person, self)
        form.kind.setCurrentIndex(form.kind.findData(VISIT_KIND_FOR[str(planned["kind"])]))
        if form.exec() == QDialog.DialogCode.Accepted and form.saved:
            self._say(tr("Noté : {name}.").format(name=round_stop(planned, self.ctx.today).name))

    def mark_absent(self) -> None:
        """Absent: the visit is logged as "Personne absente" and what was planned moves to the
        next working day (it stays on the list until then)."""
        planned = self.chosen()
        if planned is None:
            self._say(tr("Choisissez d'abord une ligne de la liste."))
            return
        person_id = str(planned["person_id"])
        now = self.ctx.local_now()
        again = visits.next_working_day(now.date())
        values = {
            "occurred_at": now.isoformat(timespec="minutes"),
            "kind": VISIT_KIND_FOR[str(planned["kind"])],
            "outcome": "absent",
            "follow_up_on": again.isoformat(),
        }
        name = round_stop(planned, self.ctx.today).name
        Operation(self.ctx.database, lambda ws: visits.log_visit(ws, person_id, values)).success(
            lambda _visit: self._say(
                tr("Personne absente : {name}. Le contact est reporté au {day}.").format(
                    name=name, day=long_date(again)
                )
            )
        ).announces("visits", "planned_contacts").run()

    def print_round(self) -> None:
        """The day's round on paper (built on the database thread, previewed here)."""
        from havre_desktop.printing.round_sheet import round_sheet_pdf

        day, agent = self.ctx.today, str(self.ctx.agent.get("display_name") or "")
        days = int(self.ctx.settings.get("not_seen_days", "60"))

        def job(ws: Workspace) -> bytes:
            plan = visits.day_plan(ws, day, days)
            rows = [*plan["due"], *plan["follow_ups"], *plan["alerts"]]
            ordered = sorted(rows, key=visits.round_order)
            return round_sheet_pdf(day, agent, round_stops(ordered, day))

        Operation(self.ctx.database, job).success(self._preview_round).run()

    def _preview_round(self, pdf: bytes) -> None:
        from havre_desktop.ui.print_preview import PdfPreviewDialog

        name = f"tournee-{self.ctx.today.isoformat()}.pdf"
        self.round_preview = PdfPreviewDialog(pdf, tr("Feuille de tournée"), name, parent=self)
        self.round_preview.open()

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _activate(self, model: ItemRowsModel[dict[str, Any]], row: int) -> None:
        found = model.row(row)
        if found:
            self.open_person.emit(found.get("person_id") or found["id"])

    def refresh(self) -> None:
        days = int(self.ctx.settings.get("not_seen_days", "60"))
        today = self.ctx.today
        role = self.ctx.role
        checks_catalogue = role in (contract.COORDINATOR, contract.ADMINISTRATOR)
        territories = (
            None
            if role == contract.ADMINISTRATOR
            else list(self.ctx.agent.get("territory_ids") or [])
        )

        def job(ws: Workspace) -> dict[str, list[Any]]:
            # Transmitted persons whose delay passed without objection are enrolled now.
            confirmed = register.confirm_due(ws)
            plan: dict[str, list[Any]] = dict(visits.day_plan(ws, today, days))
            plan["register_letters"] = register.letters_due(ws)
            plan["register_confirmed"] = [confirmed] if confirmed else []
            plan["stale_actions"] = (
                catalogue.stale_actions(ws, today, territories) if checks_catalogue else []
            )
            return plan

        Operation(self.ctx.database, job).success(self._show).run()

    def print_register_letter(self, row: int) -> None:
        """Preview a register letter; printed or saved, it leaves the list."""
        from havre_desktop.ui.pages.register_form import print_register_letter

        due = self.letters_model.row(row) if row >= 0 else None
        if due is None:
            self._say(tr("Choisissez d'abord un courrier de la liste."))
            return
        print_register_letter(self.ctx, self, due.enrolment_id, due.kind)

    def _show(self, plan: dict[str, list[Any]]) -> None:
        days = self.ctx.settings.get("not_seen_days", "60")
        self.plan = plan
        self.title.setText(
            tr("Ma journée — {date} : ").format(date=long_date(self.ctx.today))
            + count(len(plan["due"]), tr("{n} contact prévu"), tr("{n} contacts prévus"))
            + ", "
            + count(len(plan["follow_ups"]), tr("{n} suivi promis"), tr("{n} suivis promis"))
        )
        self.due_model.set_rows(plan["due"])
        self.follow_model.set_rows(plan["follow_ups"])
        self.alert_model.set_rows(plan["alerts"])
        self.alert_box.setVisible(bool(plan["alerts"]))
        self.not_seen_model.set_rows(plan["not_seen"])
        if not self._rows_follow_contents and plan["not_seen"]:
            table = self.tables["not_seen"]
            table.verticalHeader().setDefaultSectionSize(one_line_row_height(table))
        if plan.get("register_confirmed"):
            self.ctx.database.changes.announce(("register_enrolments", "register_events"))
        stale = plan.get("stale_actions") or []
        self.stale_label.setText(
            count(
                len(stale),
                tr("{n} action de vos territoires n'a pas été vérifiée depuis 6 mois."),
                tr("{n} actions de vos territoires n'ont pas été vérifiées depuis 6 mois."),
            )
        )
        self.stale_box.setVisible(bool(stale))
        letters = plan.get("register_letters") or []
        self.letters_model.set_rows(letters)
        self.letters_box.setVisible(bool(letters))
        self.not_seen_box.setTitle(
            tr("Personnes non contactées depuis plus de {days} jours").format(days=days)
        )
        self.loaded.emit()
