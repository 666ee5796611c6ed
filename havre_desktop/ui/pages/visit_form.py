"""Quick entry of a visit, call or desk encounter: made to be filled from the keyboard.

Tab moves field to field; in the lists, typing the first letters jumps to an
item and Space ticks it; Ctrl+Entrée saves from anywhere in the form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, cast

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_desktop.core import visits
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import french_date, tr
from havre_desktop.ui.widgets import (
    DateTimeField,
    SavingForm,
    checkable_list,
    checked_ids,
    fold,
)
from havre_desktop.ui.worker import DatabaseService

log = logging.getLogger("havre.ui.visits")

# The 1–5 wellbeing scale in words (the agent's impression at the visit).
WELLBEING = {1: "très mal", 2: "mal", 3: "moyen", 4: "bien", 5: "très bien"}


class VisitForm(SavingForm):
    """Log a visit for one person; the proposed actions can be printed right after."""

    announces = ("visits", "planned_contacts")

    def __init__(
        self,
        database: DatabaseService,
        references: dict[str, dict[str, str]],
        person: dict[str, Any],
        actions: list[dict[str, Any]],
        now: QDateTime | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(database, "visits", log, parent)
        self.person = person
        name = f"{(person.get('family_name') or '').upper()} {person.get('given_names') or ''}"
        self.setWindowTitle(tr("Nouvelle visite — {name}").format(name=name.strip()))
        self.kind = QComboBox()
        for kind_id, label in references["visit_kinds"].items():
            self.kind.addItem(label, kind_id)
        self.occurred_at = DateTimeField(now or QDateTime.currentDateTime())
        self.occurred_at.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.occurred_at.setCalendarPopup(True)
        self.outcome = QComboBox()
        for outcome_id, label in references["visit_outcomes"].items():
            self.outcome.addItem(label, outcome_id)
        self.duration = QSpinBox()
        # 0 is "not given"; the maximum is the contract's (the server checks the same).
        self.duration.setRange(0, int(contract.VISITS.field("duration_min").maximum or 0))
        self.duration.setSpecialValueText(tr("non précisée"))
        self.duration.setSuffix(tr(" min"))
        self.wellbeing = QSpinBox()
        self.wellbeing.setRange(0, int(contract.VISITS.field("wellbeing").maximum or 0))
        self.wellbeing.setSpecialValueText(tr("non évalué"))
        self.wellbeing.setSuffix(tr(" / 5"))
        self.wellbeing_meaning = QLabel()
        self.wellbeing_meaning.setAccessibleName(tr("Sens de la note de bien-être"))
        self.wellbeing_meaning.setWordWrap(True)
        self.wellbeing.valueChanged.connect(self._show_wellbeing_meaning)
        self._show_wellbeing_meaning(0)
        self.needs = checkable_list(references["need_kinds"].items(), tr("Besoins repérés"))
        self.needs.setMinimumHeight(120)
        self._all_actions = actions
        self.action_list = checkable_list([], tr("Actions proposées"))
        self.action_list.setMinimumHeight(120)
        self._order_actions()
        self.needs.itemChanged.connect(lambda _item: self._order_actions())
        self.follow_up = QSpinBox()
        self.follow_up.setRange(0, 365)
        self.follow_up.setSpecialValueText(tr("pas de suivi"))
        self.follow_up.setPrefix(tr("dans "))
        self.follow_up.setSuffix(tr(" jours"))
        self.follow_up_date = QLabel()
        self.follow_up_date.setAccessibleName(tr("Date du suivi"))
        self.follow_up_date.setWordWrap(True)
        self.follow_up_kind = QComboBox()
        for kind_id in visits.FOLLOW_UP_KINDS:
            self.follow_up_kind.addItem(visits.PLANNED_KINDS[kind_id], kind_id)
        self.follow_up_reason = QLineEdit()
        self.follow_up_reason.setMaxLength(contract.ui_max_length("planned_contacts", "reason"))
        self.follow_up_reason.setPlaceholderText(tr("Ce qui a été promis (facultatif)"))
        self.follow_up.valueChanged.connect(self._show_follow_up_date)
        self.occurred_at.dateTimeChanged.connect(self._show_follow_up_date)
        self.kind.currentIndexChanged.connect(self._default_follow_up_kind)
        self.outcome.currentIndexChanged.connect(self._outcome_changed)
        self.handout = QCheckBox(tr("Document remis à la personne"))
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setAccessibleName(tr("Notes"))
        self.notes.setMaximumHeight(110)
        self.notes_private = QCheckBox(tr("Note privée (vous et les coordinateurs)"))
        self.notes_private.setAccessibleName(tr("Note privée"))
        self.notes_private.setToolTip(
            tr("Vos collègues reçoivent la visite sans la note ; l'accueil, aucune visite.")
        )
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, field, widget in (
            (tr("&Type :"), "kind", self.kind),
            (tr("&Date et heure :"), "occurred_at", self.occurred_at),
            (tr("&Résultat :"), "outcome", self.outcome),
            (tr("D&urée :"), "duration_min", self.duration),
            (tr("&Bien-être (1 à 5) :"), "wellbeing", self.wellbeing),
            ("", "wellbeing_meaning", self.wellbeing_meaning),
            (tr("Beso&ins repérés :"), "need_ids", self.needs),
            (tr("Actions pr&oposées :"), "proposed_action_ids", self.action_list),
            (tr("&Suivi :"), "follow_up_on", self.follow_up),
            ("", "follow_up_label", self.follow_up_date),
            (tr("Suivi &par :"), "follow_up_kind", self.follow_up_kind),
            (tr("&Motif du suivi :"), "follow_up_reason", self.follow_up_reason),
            (tr("Document :"), "handout_given", self.handout),
            (tr("&Notes :"), "notes", self.notes),
            ("", "notes_private", self.notes_private),
        ):
            self.errors.add_row(form, text, field, widget)
        hint = QLabel(tr("Ctrl+Entrée enregistre la visite. Espace coche un besoin ou une action."))
        hint.setWordWrap(True)
        # The fields scroll: at 200 % text they are taller than a 768-pixel screen, and the
        # buttons must stay in view.
        fields = QWidget()
        fields.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(fields)
        # As wide as the fields want, their scroll bar beside them: a check box does not wrap,
        # and the form would otherwise squeeze the longest one by the bar's width.
        scroll.setMinimumWidth(
            fields.sizeHint().width()
            + scroll.verticalScrollBar().sizeHint().width()
            + 2 * scroll.frameWidth()
        )
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(hint)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.save)
        self._default_follow_up_kind()
        self._show_follow_up_date()
        self.kind.setFocus()

    @classmethod
    def for_person(
        cls, context: UiContext, person: dict[str, Any], parent: QWidget | None = None
    ) -> VisitForm:
        """The form as every page opens it: today's catalogue, the time now in Le Havre."""
        return cls(
            context.database,
            context.references,
            person,
            context.current_actions,
            # PySide6 converts a datetime to a QDateTime; its stubs do not list that overload.
            now=QDateTime(context.local_now().replace(tzinfo=None)),  # type: ignore[call-overload]
            parent=parent,
        )

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.kind.setFocus(Qt.FocusReason.ActiveWindowFocusReason)  # the form starts at "Type"

    def _order_actions(self) -> None:
        """Actions near the person that meet a ticked need come first, then the others."""
        needs = set(checked_ids(self.needs))
        territory = self.person.get("territory_id")
        ticked = set(checked_ids(self.action_list))
        current = self.action_list.currentItem()
        current_id = current.data(Qt.ItemDataRole.UserRole) if current else None

        def rank(action: dict[str, Any]) -> tuple[int, str]:
            near = territory in (action.get("territory_ids") or [])
            fits = bool(needs.intersection(action.get("need_ids") or []))
            return (0 if near and fits else 1 if near else 2, fold(action["title"]))

        self.action_list.clear()
        for action in sorted(self._all_actions, key=rank):
            item = QListWidgetItem(action["title"])
            item.setData(Qt.ItemDataRole.UserRole, action["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = action["id"] in ticked
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.action_list.addItem(item)
            if action["id"] == current_id:
                self.action_list.setCurrentItem(item)

    def _default_follow_up_kind(self, *_args: object) -> None:
        """A call promises a call, a visit a visit (the agent may choose otherwise)."""
        wanted = (
            "suivi-appel" if str(self.kind.currentData()).startswith("appel") else "suivi-visite"
        )
        self.follow_up_kind.setCurrentIndex(self.follow_up_kind.findData(wanted))

    def _outcome_changed(self, *_args: object) -> None:
        """Nobody reached: what was planned stays to do; a new date is proposed (the next
        working day), which the agent can change or clear."""
        if self.outcome.currentData() in visits.NOT_REACHED_OUTCOMES and not self.follow_up.value():
            start = cast(date, self.occurred_at.dateTime().date().toPython())
            self.follow_up.setValue((visits.next_working_day(start) - start).days)
        self._show_follow_up_date()

    def _show_wellbeing_meaning(self, value: int) -> None:
        """The scale in words, the chosen step first: the same note means the same thing
        whoever gives it."""
        scale = tr("1 très mal, 2 mal, 3 moyen, 4 bien, 5 très bien")
        chosen = WELLBEING.get(value)
        self.wellbeing_meaning.setText(
            tr("{value} : {meaning} ({scale})").format(value=value, meaning=chosen, scale=scale)
            if chosen
            else tr("Comment va la personne, selon vous ? {scale}.").format(scale=scale)
        )

    def _follow_up_iso(self) -> str | None:
        days = self.follow_up.value()
        if not days:
            return None
        start = cast(date, self.occurred_at.dateTime().date().toPython())
        return (start + timedelta(days=days)).isoformat()

    def _show_follow_up_date(self, *_args: object) -> None:
        iso = self._follow_up_iso()
        not_reached = self.outcome.currentData() in visits.NOT_REACHED_OUTCOMES
        if iso and not_reached:
            text = tr("Le contact prévu reste à faire : il est reporté au {date}.")
        elif not_reached:
            text = tr("Le contact prévu reste à faire, à sa date.")
        else:
            text = tr("Suivi prévu le {date}") if iso else ""
        self.follow_up_date.setText(text.format(date=french_date(iso)))
        self.follow_up_kind.setEnabled(bool(iso))
        self.follow_up_reason.setEnabled(bool(iso))

    def values(self) -> dict[str, Any]:
        moment = cast(datetime, self.occurred_at.dateTime().toPython())
        return {
            "kind": self.kind.currentData(),
            "occurred_at": moment.strftime("%Y-%m-%dT%H:%M"),
            "outcome": self.outcome.currentData(),
            "duration_min": self.duration.value() or None,
            "wellbeing": self.wellbeing.value() or None,
            "need_ids": checked_ids(self.needs),
            "proposed_action_ids": checked_ids(self.action_list),
            "follow_up_on": self._follow_up_iso(),
            "follow_up_kind": self.follow_up_kind.currentData(),
            "follow_up_reason": self.follow_up_reason.text(),
            "handout_given": self.handout.isChecked(),
            "notes": self.notes.toPlainText(),
            "notes_private": self.notes_private.isChecked(),
        }

    def save_job(self) -> Callable[[Workspace], dict[str, Any]]:
        values, person_id = self.values(), self.person["id"]
        return lambda ws: visits.log_visit(ws, person_id, values)
