"""Alerte: an alert campaign on the agent's laptop (heatwave, cold), for agents with the
register right only (the page does not exist for the others).

*Ma liste d'appels*: the agent's call list in risk order, the next step of each person (call,
call back at HH h MM, call the emergency contact: name and number, visit today, escalation),
one key per outcome (1–7 in the list, Ctrl+1–7 anywhere on the page, written on the buttons),
a short note, an action of the catalogue offered; an urgent case says "Appelez le 15" in words.
Works offline: the outcomes are written here and sent at the next sync.

*Coordination* (coordinators and administrators): :mod:`.campaign_coordination`.
Thin over :mod:`havre_desktop.core.campaign`; every database job is an Operation and the page
refreshes on the announcements of the campaign tables (after a sync too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from havre_common import campaign as rules
from havre_common import contract
from havre_common.french import count, french_date
from havre_desktop.core import campaign
from havre_desktop.core.campaign import CallRow
from havre_desktop.core.catalogue import SEASONS, SeasonalOffer, seasonal_offers
from havre_desktop.core.errors import HavreError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.text import emergency_lines, floor_and_access, upper_first
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.operations import Changes, Operation
from havre_desktop.ui.widgets import error_label, scrolling, table_view, wrap_short_list

CAMPAIGN_TABLES = ("alert_campaigns", "campaign_calls", "campaign_outcomes", "contacts", "agents")
OUTCOME_CODES = rules.AGENT_OUTCOMES  # an agent's outcomes, keys 1 to 7
OUTCOME_LABELS = dict(contract.ENUMS["campaign_outcomes"])
OUTCOME_KEYS = {str(n): code for n, code in enumerate(OUTCOME_CODES, start=1)}
CALLEE_LABELS = {c: contract.ENUMS["campaign_callees"][c] for c in rules.AGENT_CALLEES}
RISK_LABELS = dict(contract.ENUMS["campaign_risks"])
KIND_LABELS = dict(contract.ENUMS["campaign_kinds"])
LEVEL_LABELS = dict(contract.ENUMS["alert_levels"])
CALL_15 = "APPELEZ LE 15"
STACK_BELOW_CHARS = 150  # narrower than this (in average characters): list above the keys


def campaign_heading(row: dict[str, Any]) -> str:
    """'Canicule — niveau orange : titre' and its dates."""
    kind = KIND_LABELS.get(str(row.get("kind")), str(row.get("kind")))
    level = LEVEL_LABELS.get(str(row.get("level")), str(row.get("level"))).lower()
    dates = tr("depuis le {d}").format(d=french_date(row.get("starts_on")))
    if row.get("expected_end_on"):
        dates += tr(", fin prévue le {d}").format(d=french_date(row.get("expected_end_on")))
    return f"{kind} — niveau {level} : {row.get('title')} ({dates})"


def campaign_settings(row: dict[str, Any]) -> str:
    """The delays and counts of the campaign (they come from its row, set by the coordinator)."""
    rule = campaign.campaign_rules(row)
    minutes = int(rule.retry_delay.total_seconds() // 60)
    return tr(
        "Sans réponse : rappeler après {m} min ; après {n} appels sans réponse, appeler le "
        "contact d'urgence ; puis visite à domicile le jour même ; puis escalade."
    ).format(m=minutes, n=rule.failed_calls_before_emergency)


def step_text(row: CallRow) -> str:
    """The next step in words; the emergency contact's name and number when it is their turn."""
    text = row.step.label
    if row.step.code == rules.CALL_EMERGENCY_CONTACT:
        text += "\n" + (
            "\n".join(emergency_lines(row.emergency_contacts)) or tr("aucun contact d'urgence")
        )
    if row.step.urgent and CALL_15.lower() not in text.lower():
        text = f"{CALL_15} — {text}"
    return text


def remarks(row: CallRow) -> str:
    notes = []
    if row.reassigned_to:
        notes.append(tr("Réattribuée à {name} (lecture seule)").format(name=row.reassigned_to))
    if row.reassigned_from:
        notes.append(tr("Reprise de la liste de {name}").format(name=row.reassigned_from))
    if row.also_called_by:
        notes.append(tr("Aussi appelée par {names}").format(names=", ".join(row.also_called_by)))
    return "\n".join(notes)


def access_text(row: CallRow) -> str:
    return floor_and_access(row.floor, row.lift, row.access_notes)


class CallListTab(QWidget):
    """One agent's list and the outcome keys."""

    def __init__(self, page: AlertPage) -> None:
        super().__init__()
        self.page = page
        self.ctx = page.ctx
        self.model: RowsModel[CallRow] = RowsModel(
            [
                (tr("N°"), lambda r: r.rank),
                (tr("Personne"), lambda r: "\n".join([r.name, *r.phones])),
                # The last column takes the rest of the width and wraps: nothing is cut.
                (
                    tr("Prochaine étape"),
                    lambda r: "\n".join(x for x in (step_text(r), remarks(r)) if x),
                ),
            ]
        )
        self.table = table_view(tr("Liste d'appels"))
        self.table.setModel(self.model)
        wrap_short_list(self.table)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._show_current())
        self.table.installEventFilter(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(tr("Résumé de la liste"))

        self.person = QLabel()
        self.person.setWordWrap(True)
        self.person.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.person.setAccessibleName(tr("Personne à appeler"))
        self.next_step = QLabel()
        self.next_step.setWordWrap(True)
        self.next_step.setAccessibleName(tr("Prochaine étape"))
        font = self.next_step.font()
        font.setBold(True)
        self.next_step.setFont(font)
        # Urgent: in words, with a sign, on the banner's colours (never by colour alone).
        self.urgent_banner = QLabel()
        self.urgent_banner.setProperty("role", "banner")
        self.urgent_banner.setWordWrap(True)
        self.urgent_banner.setAccessibleName(tr("Urgence"))
        self.urgent_banner.setVisible(False)

        self.callee = QComboBox()
        for code, label in CALLEE_LABELS.items():
            self.callee.addItem(label, code)
        self.urgent = QCheckBox(tr("&Urgence : le 15 a été appelé ou doit l'être"))
        self.urgent.toggled.connect(lambda _on: self._show_current(keep_form=True))
        self.note = QLineEdit()
        self.note.setMaxLength(500)
        self.note.setPlaceholderText(tr("Quelques mots, 500 caractères au plus"))
        self.offer = QComboBox()
        self.offer.setAccessibleName(tr("Action proposée"))
        self.set_offers([])
        form = QFormLayout()
        callee_label = QLabel(tr("&Qui a été appelé"))
        callee_label.setBuddy(self.callee)
        note_label = QLabel(tr("&Note"))
        note_label.setBuddy(self.note)
        offer_label = QLabel(tr("Action pr&oposée"))
        offer_label.setBuddy(self.offer)
        form.addRow(callee_label, self.callee)
        form.addRow(note_label, self.note)
        form.addRow(offer_label, self.offer)
        form.addRow(self.urgent)

        self.outcome_buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        for index, code in enumerate(OUTCOME_CODES):
            key = str(index + 1)
            # The key is written on the button; no Alt letter (the digits are the keys).
            button = QPushButton(f"{key} · {OUTCOME_LABELS[code]}")
            button.setToolTip(tr("Touche {k} dans la liste, Ctrl+{k} depuis la note").format(k=key))
            button.setAccessibleName(OUTCOME_LABELS[code])
            button.clicked.connect(lambda _c=False, code=code: self.record(code))
            self.outcome_buttons[code] = button
            grid.addWidget(button, index // 2, index % 2)
            shortcut = QShortcut(QKeySequence(f"Ctrl+{key}"), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda code=code: self.record(code))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(tr("Résultat enregistré"))
        self.error = error_label()

        details = QWidget()  # who and what next: scrolls when long (200 % text)
        about = QVBoxLayout(details)
        about.setContentsMargins(0, 0, 0, 0)
        about.addWidget(self.person)
        about.addStretch(1)
        shown = QWidget()
        scrolling(shown, details)
        right = QWidget()  # the keys stay in view, below
        side = QVBoxLayout(right)
        side.addWidget(self.next_step)  # what to do next, and an urgency, always in view
        side.addWidget(self.urgent_banner)
        side.addWidget(shown, 1)
        side.addLayout(form)
        side.addLayout(grid)
        side.addWidget(self.status)
        side.addWidget(self.error)
        self.split = QSplitter()
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.table)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        content = QWidget()  # the summary on one line above; scrolls when stacked (200 %)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.split, 1)
        scrolling(self, content)
        self._show_current()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Side by side when there is room; the list above the keys when the text is large
        (at 200 % side by side squeezed the list to a column of a few letters)."""
        super().resizeEvent(event)
        chars = self.width() / max(1, self.fontMetrics().averageCharWidth())
        stacked = chars < STACK_BELOW_CHARS
        wanted = Qt.Orientation.Vertical if stacked else Qt.Orientation.Horizontal
        if self.split.orientation() != wanted:
            self.split.setOrientation(wanted)
        # Stacked, the list keeps eight lines in view (the page scrolls to the keys).
        self.table.setMinimumHeight(self.fontMetrics().height() * 16 if stacked else 0)

    # -- showing ----------------------------------------------------------------------

    def set_offers(self, seasonal: list[SeasonalOffer]) -> None:
        """The actions to offer: first those the catalogue flags for this campaign's season
        (cooled rooms, climate refuges, heated places), then every other current action."""
        keep = self.offer.currentData()
        self.offer.clear()
        self.offer.addItem(tr("Aucune"), None)
        first = [o for o in seasonal if o.kind == "action"]
        for offer in first:
            where = f" — {offer.facility_name}" if offer.facility_name else ""
            self.offer.addItem(tr("Pour la saison : ") + offer.name + where, offer.id)
        flagged = {o.id for o in first}
        for action in self.ctx.current_actions:
            if action.get("id") not in flagged:
                self.offer.addItem(str(action.get("title") or ""), action.get("id"))
        self.offer.setCurrentIndex(max(self.offer.findData(keep), 0))

    def set_rows(self, rows: list[CallRow]) -> None:
        keep = self.current.call_id if self.current is not None else None
        self.model.set_rows(rows)
        open_rows = [r for r in rows if r.reassigned_to is None and r.step.open]
        due = [r for r in open_rows if r.step.due(self.ctx.now())]
        self.summary.setText(
            count(
                len(rows), tr("{n} personne sur votre liste"), tr("{n} personnes sur votre liste")
            )
            + " — "
            + count(len(open_rows), tr("{n} à joindre"), tr("{n} à joindre"))
            + " — "
            + count(len(due), tr("{n} à appeler maintenant"), tr("{n} à appeler maintenant"))
        )
        target = 0
        for index, row in enumerate(rows):
            if row.call_id == keep:
                target = index
                break
        else:  # first the first person still to call
            for index, row in enumerate(rows):
                if row.reassigned_to is None and row.step.due(self.ctx.now()):
                    target = index
                    break
        if rows:
            self.table.selectRow(target)
        self._show_current()

    @property
    def current(self) -> CallRow | None:
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _show_current(self, keep_form: bool = False) -> None:
        row = self.current
        for button in self.outcome_buttons.values():
            button.setEnabled(row is not None and row.reassigned_to is None)
        if row is None:
            self.person.setText(tr("Choisissez une personne dans la liste."))
            self.next_step.setText("")
            self.urgent_banner.setVisible(False)
            return
        lines = [f"{row.rank}. {row.name}"]
        lines.append(tr("Téléphone : {p}").format(p=" — ".join(row.phones) or tr("aucun")))
        lines.append(row.address)
        if access_text(row):
            lines.append(upper_first(access_text(row)))
        contacts_lines = emergency_lines(row.emergency_contacts)
        lines.append(
            tr("Contact d'urgence : {c}").format(c="; ".join(contacts_lines) or tr("aucun"))
        )
        if row.risk_reasons:
            reasons = ", ".join(RISK_LABELS.get(r, r) for r in row.risk_reasons)
            lines.append(tr("Priorité : {r}").format(r=reasons))
        if row.attempts:
            lines.append(
                count(len(row.attempts), tr("{n} appel enregistré"), tr("{n} appels enregistrés"))
            )
        if remarks(row):
            lines.append(remarks(row))
        self.person.setText("\n".join(lines))
        self.next_step.setText(tr("À faire : {s}").format(s=step_text(row)))
        urgent = row.step.urgent or self.urgent.isChecked()
        self.urgent_banner.setText(
            tr(
                "⚠ URGENCE — APPELEZ LE 15 (SAMU) si la personne est en danger, puis "
                "prévenez votre coordinateur."
            )
        )
        self.urgent_banner.setVisible(urgent)
        if not keep_form:
            callee = {
                rules.CALL_EMERGENCY_CONTACT: rules.EMERGENCY_CONTACT,
                rules.VISIT_TODAY: rules.HOME_VISIT,
                rules.ESCALATE: rules.HOME_VISIT,
            }.get(row.step.code, rules.PERSON)
            self.callee.setCurrentIndex(self.callee.findData(callee))

    # -- recording --------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """1–7 on the list record the outcome of the selected person."""
        if watched is self.table and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            code = OUTCOME_KEYS.get(event.text())
            if code is not None and event.modifiers() in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.KeypadModifier,
            ):
                self.record(code)
                return True
        return super().eventFilter(watched, event)

    def record(self, outcome: str) -> None:
        row = self.current
        if row is None or row.reassigned_to is not None:
            return
        button = self.outcome_buttons[outcome]
        if not button.isEnabled():
            return  # already recording
        callee = str(self.callee.currentData())
        note = self.note.text()
        urgent = self.urgent.isChecked()
        offer = self.offer.currentData()
        self.error.setVisible(False)
        for b in self.outcome_buttons.values():
            b.setEnabled(False)

        def job(ws: Workspace) -> campaign.Recorded:
            return campaign.record_outcome(
                ws,
                row.call_id,
                outcome,
                called_whom=callee,
                note=note,
                urgent=urgent,
                offered_action_id=offer,
            )

        def done(recorded: campaign.Recorded) -> None:
            text = tr("{name} : « {outcome} » enregistré. Ensuite : {step}").format(
                name=row.name, outcome=OUTCOME_LABELS[outcome], step=recorded.step.label
            )
            if recorded.planned_visit is not None:
                text += tr(" Une visite est prévue aujourd'hui dans Ma journée.")
            self.status.setText(text)
            self.note.clear()
            self.urgent.setChecked(False)
            self.offer.setCurrentIndex(0)
            self.table.setFocus()

        def failed(error: Exception) -> None:
            self._show_current(keep_form=True)
            self.page.show_error(error, self.error)

        Operation(self.ctx.database, job).success(done).failure(failed).announces(
            "campaign_outcomes", "planned_contacts"
        ).run()


class AlertPage(QWidget):
    """The campaign chosen at the top; the agent's list; the coordination tab for coordinators."""

    def __init__(
        self, context: UiContext, coordination: Callable[[AlertPage], QWidget] | None = None
    ) -> None:
        super().__init__()
        self.ctx = context
        self.campaigns: list[dict[str, Any]] = []
        self.choice = QComboBox()
        self.choice.setAccessibleName(tr("Campagne"))
        self.choice.currentIndexChanged.connect(lambda _i: self.refresh_list())
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setAccessibleName(tr("Campagne en cours"))
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.settings = QLabel()
        self.settings.setWordWrap(True)
        self.settings.setAccessibleName(tr("Réglages de la campagne"))
        self.calls = CallListTab(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.calls, tr("Ma liste d'appels"))
        self.coordination: QWidget | None = None
        if coordination is not None and context.role in (
            contract.COORDINATOR,
            contract.ADMINISTRATOR,
        ):
            self.coordination = coordination(self)
            self.tabs.addTab(self.coordination, tr("Coordination"))
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.choice)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.settings)
        layout.addWidget(self.tabs, 1)
        context.database.changes.changed.connect(self._changes)

    @property
    def campaign_id(self) -> str | None:
        data = self.choice.currentData()
        return str(data) if data else None

    @property
    def campaign(self) -> dict[str, Any] | None:
        for row in self.campaigns:
            if row["id"] == self.campaign_id:
                return row
        return None

    def _changes(self, changes: Changes) -> None:
        if changes.touches(*CAMPAIGN_TABLES):
            self.refresh()

    def refresh(self) -> None:
        """Read the open campaigns, then the chosen one's list."""

        def shown(found: list[dict[str, Any]]) -> None:
            keep = self.campaign_id
            self.campaigns = found
            self.choice.blockSignals(True)
            self.choice.clear()
            for row in found:
                self.choice.addItem(str(row.get("title") or ""), row["id"])
            index = self.choice.findData(keep) if keep else 0
            self.choice.setCurrentIndex(max(index, 0))
            self.choice.blockSignals(False)
            self.choice.setVisible(len(found) > 1)
            self.refresh_list()

        Operation(self.ctx.database, campaign.active_campaigns).success(shown).run()

    def refresh_list(self) -> None:
        row = self.campaign
        if row is None:
            self.heading.setText(
                tr(
                    "Aucune campagne d'alerte en cours. Quand le coordinateur en lance une, "
                    "votre liste d'appels arrive ici à la prochaine synchronisation."
                )
            )
            self.settings.setText("")
            self.calls.set_rows([])
            return
        self.heading.setText(campaign_heading(row))
        self.settings.setText(campaign_settings(row))
        campaign_id = str(row["id"])
        kind = str(row.get("kind") or "")

        def job(ws: Workspace) -> tuple[list[CallRow], list[SeasonalOffer]]:
            seasonal = seasonal_offers(ws, kind) if kind in SEASONS else []
            return campaign.call_list(ws, campaign_id), seasonal

        def shown(found: tuple[list[CallRow], list[SeasonalOffer]]) -> None:
            rows, seasonal = found
            self.calls.set_offers(seasonal)
            self.calls.set_rows(rows)

        Operation(self.ctx.database, job).success(shown).run()
        if self.coordination is not None and hasattr(self.coordination, "refresh"):
            self.coordination.refresh()

    def show_error(self, error: Exception, label: QLabel) -> None:
        """A refusal in French under the controls; anything else goes to the window."""
        if isinstance(error, HavreError):
            label.setText(str(error))
            label.setVisible(True)
        else:
            self.ctx.database.failed.emit(error)
