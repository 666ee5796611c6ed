"""Alerte → Coordination, for coordinators and administrators with the register right: start a
campaign (online: the server builds the call lists), follow its progress (the server's figures
when online, this computer's offline, and the page says which), reassign an agent's list, print
call sheets for agents without a laptop, type in a paper sheet's outcomes, close the campaign
and print its report for the préfet.

Network calls run on the sync controller's thread (:class:`..admin_pages._OnlinePage`'s way);
database work through Operations; a start, a reassignment or a close is followed by a sync so
that the lists on this computer follow at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from havre_common import campaign as rules
from havre_common import contract
from havre_common.french import count
from havre_common.protocol import CampaignClose, CampaignReassign, CampaignStart
from havre_desktop.core import campaign
from havre_desktop.core.errors import HavreError
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.operations import Operation
from havre_desktop.ui.pages.admin_pages import NOT_READY, confirmed, problem_text, run_online
from havre_desktop.ui.pages.alert_page import (
    CALLEE_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    OUTCOME_CODES,
    OUTCOME_LABELS,
    AlertPage,
)
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.widgets import (
    DateTimeField,
    add_captioned_rows,
    checkable_list,
    checked_ids,
    error_label,
    scrolling,
    table_view,
    wrap_short_list,
)

ControllerGetter = Callable[[], SyncController | None]
READING = "Lecture de la progression sur le serveur…"
LIVE_SECONDS = 60  # the server's progress is read again this often while the tab is shown
STEP_ROLE = Qt.ItemDataRole.UserRole + 1  # a person's next step, said (outcome dialogs)
STEP_CODE_ROLE = Qt.ItemDataRole.UserRole + 2
BY_OUTCOME_COLUMNS = (  # each person once, by her latest outcome ("a-appeler": none yet)
    ("a-appeler", "À appeler"),
    ("pas-de-reponse", "Sans réponse"),
    ("joint-bien", "Va bien"),
    ("besoin-aide", "Besoin d'aide"),
    ("hospitalise", "Hospitalisées"),
    ("absent", "Absentes"),
    ("refuse-appels", "Refus"),
    ("decede", "Décédées"),
)
STEP_WORDS = {
    "a-appeler": "à appeler",
    "pas-de-reponse": "sans réponse",
    "procedure-declenchee": "procédure en cours",
}


def _agent_names(colleagues: list[dict[str, Any]]) -> dict[str, str]:
    return {str(a["id"]): str(a.get("display_name") or "") for a in colleagues}


def outcome_summary(by_outcome: dict[str, int]) -> str:
    """'Jointe, va bien : 3 ; Pas de réponse : 1 ; à appeler : 2'."""
    parts = []
    for code, n in sorted(by_outcome.items(), key=lambda kv: -kv[1]):
        label = OUTCOME_LABELS.get(code) or STEP_WORDS.get(code, code)
        parts.append(f"{label} : {n}")
    return " ; ".join(parts)


class StartDialog(QDialog):
    """Kind, level, title, territories, dates, agents, delays: the request the server gets."""

    def __init__(
        self,
        parent: QWidget,
        territories: dict[str, str],
        own: list[str],
        agents: list[tuple[str, str]],
        today: date,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Lancer une campagne d'alerte"))
        self.request: CampaignStart | None = None
        self.kind = QComboBox()
        for code, label in KIND_LABELS.items():
            self.kind.addItem(label, code)
        self.level = QComboBox()
        for code, label in LEVEL_LABELS.items():
            self.level.addItem(label, code)
        self.level.setCurrentIndex(self.level.findData("orange"))
        self.title = QLineEdit()
        self.title.setMaxLength(200)
        self.title.setText(tr("Canicule du {d}").format(d=today.strftime("%d/%m/%Y")))
        self.kind.currentIndexChanged.connect(self._default_title)
        self._today = today
        self.territories = checkable_list(
            [(t, territories.get(t, t)) for t in own], tr("Territoires de la campagne")
        )
        for row in range(self.territories.count()):
            item = self.territories.item(row)
            if item is not None:
                item.setCheckState(Qt.CheckState.Checked)
        self.agents = checkable_list(agents, tr("Agents qui appellent"))
        for row in range(self.agents.count()):
            item = self.agents.item(row)
            if item is not None:
                item.setCheckState(Qt.CheckState.Checked)
        self.starts_on = QDateEdit(QDate(today.year, today.month, today.day))
        self.starts_on.setCalendarPopup(True)
        self.starts_on.setDisplayFormat("dd/MM/yyyy")
        self.expected_end_on = QDateEdit(QDate(today.year, today.month, today.day).addDays(4))
        self.expected_end_on.setCalendarPopup(True)
        self.expected_end_on.setDisplayFormat("dd/MM/yyyy")
        self.retry = QSpinBox()
        self.retry.setRange(5, 1440)
        self.retry.setValue(rules.DEFAULT_RETRY_DELAY_MIN)
        self.retry.setSuffix(tr(" min"))
        self.failed = QSpinBox()
        self.failed.setRange(1, 10)
        self.failed.setValue(rules.DEFAULT_FAILED_CALLS)
        self.error = error_label()
        form = QFormLayout()
        add_captioned_rows(
            form,
            (
                (tr("&Type d'alerte"), self.kind),
                (tr("&Niveau"), self.level),
                (tr("Int&itulé"), self.title),
                (tr("Te&rritoires"), self.territories),
                (tr("&Début"), self.starts_on),
                (tr("&Fin prévue"), self.expected_end_on),
                (tr("A&gents qui appellent"), self.agents),
                (tr("Rappeler a&près"), self.retry),
                (tr("Sans réponse avant le &contact d'urgence"), self.failed),
            ),
        )
        buttons = QDialogButtonBox()
        self.start_button = buttons.addButton(
            tr("&Lancer la campagne"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        cancel = buttons.addButton(tr("Annuler"), QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setShortcut("Escape")
        self.start_button.clicked.connect(self.check)
        cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        metrics = self.fontMetrics()  # room for the territory and agent names, at any text size
        self.setMinimumWidth(metrics.averageCharWidth() * 90)
        for listing in (self.territories, self.agents):
            listing.setMinimumHeight(metrics.height() * 6)

    def _default_title(self) -> None:
        kind = str(self.kind.currentData())
        words = {"canicule": "Canicule", "grand-froid": "Grand froid", "autre": "Alerte"}
        self.title.setText(f"{words[kind]} du {self._today.strftime('%d/%m/%Y')}")

    def check(self) -> None:
        """Refuse in French what the server would refuse, or accept with the request."""
        problems = []
        territories = checked_ids(self.territories)
        agents = checked_ids(self.agents)
        if not self.title.text().strip():
            problems.append(tr("Intitulé : donnez un intitulé à la campagne."))
        if not territories:
            problems.append(tr("Territoires : cochez au moins un territoire."))
        if not agents:
            problems.append(tr("Agents : cochez au moins un agent qui appelle."))
        starts = self.starts_on.date().toPython()
        ends = self.expected_end_on.date().toPython()
        assert isinstance(starts, date) and isinstance(ends, date)
        if ends < starts:
            problems.append(tr("Fin prévue : elle ne peut pas précéder le début."))
        if problems:
            self.error.setText("\n".join(problems))
            self.error.setVisible(True)
            return
        self.request = CampaignStart(
            kind=self.kind.currentData(),
            level=self.level.currentData(),
            title=self.title.text().strip(),
            territory_ids=territories,
            agent_ids=agents,
            starts_on=starts.isoformat(),
            expected_end_on=ends.isoformat(),
            retry_delay_min=self.retry.value(),
            failed_calls_before_emergency=self.failed.value(),
        )
        self.accept()


class ReassignDialog(QDialog):
    """From the agent who cannot call any more, to another: every open call of the list."""

    def __init__(
        self, parent: QWidget, holders: list[tuple[str, str]], agents: list[tuple[str, str]]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Réattribuer une liste d'appels"))
        self.request: CampaignReassign | None = None
        self.source = QComboBox()
        for agent_id, name in holders:
            self.source.addItem(name, agent_id)
        self.target = QComboBox()
        for agent_id, name in agents:
            self.target.addItem(name, agent_id)
        self.error = error_label()
        form = QFormLayout()
        add_captioned_rows(form, ((tr("&De"), self.source), (tr("&À"), self.target)))
        explain = QLabel(
            tr(
                "Les appels encore ouverts passent au nouvel agent. L'ancien les voit "
                "« réattribués » ; si les deux appellent la même personne, c'est affiché."
            )
        )
        explain.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.move_button = buttons.addButton(
            tr("&Réattribuer"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        cancel = buttons.addButton(tr("Annuler"), QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setShortcut("Escape")
        self.move_button.clicked.connect(self.check)
        cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def check(self) -> None:
        source, target = self.source.currentData(), self.target.currentData()
        if not source or not target or source == target:
            self.error.setText(tr("Choisissez deux agents différents."))
            self.error.setVisible(True)
            return
        self.request = CampaignReassign(from_agent_id=source, to_agent_id=target)
        self.accept()


class _OutcomeDialog(QDialog):
    """What the coordinator records in a campaign's name: a person, what happened, when, a
    note; saved as an outcome event (``record_outcome``), the dialog kept open for the next."""

    def __init__(self, tab: CoordinationTab, title: str) -> None:
        super().__init__(tab)
        self.tab = tab
        self.setWindowTitle(title)
        self.person = QComboBox()
        self.outcome = QComboBox()
        now = tab.page.ctx.local_now().replace(second=0, microsecond=0, tzinfo=None)
        self.called_at = DateTimeField(QDateTime.fromString(now.isoformat(), Qt.DateFormat.ISODate))
        self.called_at.setDisplayFormat("dd/MM/yyyy HH:mm")
        self.note = QLineEdit()
        self.note.setMaxLength(500)
        self.person.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.outcome.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.step = QLabel()  # the chosen person's next step, in full (too long for a list)
        self.step.setWordWrap(True)
        self.step.setAccessibleName(tr("Où en est la personne"))
        # Room for the longest step (an escalation, "appelez le 15"): a wrapped label in a
        # form was given the height of fewer lines than it wraps to, and overlapped.
        self.step.setMinimumHeight(self.step.fontMetrics().lineSpacing() * 4)
        self.person.currentIndexChanged.connect(lambda _i: self._show_step())
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.error = error_label()
        self.form = QFormLayout()
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton(
            tr("&Enregistrer"), QDialogButtonBox.ButtonRole.ApplyRole
        )
        close = buttons.addButton(tr("&Fermer"), QDialogButtonBox.ButtonRole.RejectRole)
        close.setShortcut("Escape")
        self.save_button.clicked.connect(self.save)
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 72)  # at any text size

    def add_person(self, text: str, call_id: str, step: rules.Step) -> None:
        self.person.addItem(text, call_id)
        self.person.setItemData(self.person.count() - 1, step.label, STEP_ROLE)
        self.person.setItemData(self.person.count() - 1, step.code, STEP_CODE_ROLE)
        if self.person.currentIndex() == self.person.count() - 1:
            self._show_step()  # the first item became current before its data was set

    def _show_step(self) -> None:
        self.step.setText(str(self.person.currentData(STEP_ROLE) or ""))

    def load(self) -> None:
        raise NotImplementedError

    def recorded_for(self) -> tuple[str, str | None]:
        """Who called (``called_whom``) and for which agent (None: the coordinator herself)."""
        raise NotImplementedError

    def save(self) -> None:
        call_id = self.person.currentData()
        if not call_id:
            self.error.setText(tr("Personne : choisissez une personne de la liste."))
            self.error.setVisible(True)
            return
        when = self.called_at.dateTime().toPython()
        assert isinstance(when, datetime)
        from havre_desktop.core.clock import PARIS

        called_at = when.replace(tzinfo=PARIS)
        outcome = str(self.outcome.currentData())
        callee, agent_id = self.recorded_for()
        note = self.note.text()
        person = self.person.currentText()
        self.save_button.setEnabled(False)
        self.error.setVisible(False)

        def job(ws: Workspace) -> campaign.Recorded:
            return campaign.record_outcome(
                ws,
                str(call_id),
                outcome,
                called_whom=callee,
                note=note,
                called_at=called_at,
                for_agent_id=agent_id,
            )

        def done(recorded: campaign.Recorded) -> None:
            self.status.setText(
                tr("« {o} » enregistré pour {p}. Ensuite : {s}").format(
                    o=OUTCOME_LABELS[outcome], p=person, s=recorded.step.label
                )
            )
            self.note.clear()
            self.load()

        def failed(error: Exception) -> None:
            self.tab.page.show_error(error, self.error)

        Operation(self.tab.page.ctx.database, job).success(done).failure(failed).always(
            lambda: self.save_button.setEnabled(True)
        ).announces("campaign_outcomes", "planned_contacts").run()


class PaperSheetDialog(_OutcomeDialog):
    """A paper call sheet's ticked boxes, typed in by the coordinator (recorded as entered by
    her, for the agent who called)."""

    def __init__(self, tab: CoordinationTab, agents: list[tuple[str, str]]) -> None:
        super().__init__(tab, tr("Saisir une feuille d'appels papier"))
        self.rows: list[campaign.CallRow] = []
        self.agent = QComboBox()
        for agent_id, name in agents:
            self.agent.addItem(name, agent_id)
        self.callee = QComboBox()
        for code, label in CALLEE_LABELS.items():
            self.callee.addItem(label, code)
        for number, code in enumerate(OUTCOME_CODES, start=1):
            self.outcome.addItem(f"{number} · {OUTCOME_LABELS[code]}", code)
        add_captioned_rows(
            self.form,
            (
                (tr("A&gent"), self.agent),
                (tr("&Personne"), self.person),
                ("", self.step),
                (tr("&Qui a été appelé"), self.callee),
                (tr("&Résultat"), self.outcome),
                (tr("&Heure de l'appel"), self.called_at),
                (tr("&Note"), self.note),
            ),
        )
        self.agent.currentIndexChanged.connect(lambda _i: self.load())
        self.load()

    def recorded_for(self) -> tuple[str, str | None]:
        return str(self.callee.currentData()), str(self.agent.currentData())

    def load(self) -> None:
        campaign_id = self.tab.page.campaign_id
        agent_id = self.agent.currentData()
        if not campaign_id or not agent_id:
            return

        def shown(rows: list[campaign.CallRow]) -> None:
            self.rows = [r for r in rows if r.reassigned_to is None]
            keep = self.person.currentData()
            self.person.clear()
            for row in self.rows:
                self.add_person(f"{row.rank}. {row.name}", row.call_id, row.step)
            index = self.person.findData(keep)
            self.person.setCurrentIndex(max(index, 0))

        Operation(
            self.tab.page.ctx.database,
            lambda ws: campaign.call_list(ws, campaign_id, str(agent_id)),
        ).success(shown).run()


class ProcedureDialog(_OutcomeDialog):
    """The escalation (journey 7's last step): the coordinator notes that she started the
    City's procedure (a welfare check by the police or the firefighters) for a person nobody
    could reach, then what they found. Both are outcome events in her own name; the person
    leaves the escalations once the result is in."""

    def __init__(self, tab: CoordinationTab, call_id: str | None = None) -> None:
        super().__init__(tab, tr("Procédure de la Ville (police, pompiers)"))
        self.wanted = call_id
        add_captioned_rows(
            self.form,
            (
                (tr("&Personne"), self.person),
                ("", self.step),
                (tr("&Ce qui est noté"), self.outcome),
                (tr("&Heure"), self.called_at),
                (tr("&Note"), self.note),
            ),
        )
        self.person.currentIndexChanged.connect(lambda _i: self._offer_outcomes())
        self.load()

    def recorded_for(self) -> tuple[str, str | None]:
        return rules.CITY_PROCEDURE, None

    def load(self) -> None:
        campaign_id = self.tab.page.campaign_id
        if not campaign_id:
            return

        def job(ws: Workspace) -> list[dict[str, Any]]:
            progress = campaign.local_progress(ws, campaign_id)
            return [e for e in progress.for_coordinator if e["step"].code in rules.ESCALATED_STEPS]

        def shown(entries: list[dict[str, Any]]) -> None:
            keep = self.wanted or self.person.currentData()
            self.wanted = None
            self.person.clear()
            for entry in entries:
                self.add_person(str(entry["name"]), str(entry["call_id"]), entry["step"])
            self.person.setCurrentIndex(max(self.person.findData(keep), 0))
            if not entries:  # said after what was just saved, if anything
                done = self.status.text()
                self.status.setText(
                    f"{done} {tr('Plus personne en escalade dans cette campagne.')}"
                    if done
                    else tr("Aucune personne en escalade dans cette campagne.")
                )
            self.save_button.setEnabled(bool(entries))
            self._offer_outcomes()

        Operation(self.tab.page.ctx.database, job).success(shown).failure(
            lambda e: self.tab.page.show_error(e, self.error)
        ).run()

    def _offer_outcomes(self) -> None:
        """Started first; once started, what was found (the result is the usual next note)."""
        ongoing = self.person.currentData(STEP_CODE_ROLE) == rules.PROCEDURE_ONGOING
        self.outcome.clear()
        codes = [*rules.PROCEDURE_RESULTS]
        if not ongoing:
            codes.insert(0, rules.PROCEDURE_STARTED)
        for code in codes:
            label = OUTCOME_LABELS[code]
            if code == rules.NEEDS_HELP:
                label = tr("Trouvée, besoin d'aide : prise en charge")
            elif code == rules.REACHED_FINE:
                label = tr("Trouvée, va bien")
            self.outcome.addItem(label, code)


class CoordinationTab(QWidget):
    """Progress and the coordinator's actions on the campaign chosen at the top of the page."""

    def __init__(self, page: AlertPage, controller: ControllerGetter) -> None:
        super().__init__()
        self.page = page
        self.ctx = page.ctx
        self._controller = controller
        self.last_preview: QDialog | None = None
        self.last_dialog: QDialog | None = None
        self.last_pdf = b""
        self.last_progress: Any = None
        self.live_timer = QTimer(self)
        self.live_timer.setInterval(LIVE_SECONDS * 1000)
        self.live_timer.timeout.connect(self.live_refresh)
        territories = self.ctx.references["territories"]
        self.territory_model: RowsModel[Any] = RowsModel(
            [
                (tr("Territoire"), lambda t: territories.get(t.territory_id, t.territory_id)),
                (tr("Sur les listes"), lambda t: t.persons),
                (tr("Jointes"), lambda t: t.reached),
                (tr("Non jointes"), lambda t: t.persons - t.reached),
                (tr("Escalade"), lambda t: t.escalated),
                *(
                    (label, lambda t, code=code: dict(t.by_outcome).get(code, 0))
                    for code, label in BY_OUTCOME_COLUMNS
                ),
            ]
        )
        self.territory_table = table_view(tr("Progression par territoire"))
        self.territory_table.setModel(self.territory_model)
        self.territory_table.setToolTip(tr("Une personne compte une fois : son dernier résultat."))
        self.waiting_model: RowsModel[dict[str, Any]] = RowsModel(
            [
                (tr("Personne"), lambda r: r["name"]),
                (tr("Territoire"), lambda r: territories.get(r["territory_id"], "")),
                (tr("Agent"), lambda r: r["agent"]),
                (tr("Prochaine étape"), lambda r: r["label"]),
            ]
        )
        self.waiting_table = table_view(tr("Pas encore jointes"))
        self.waiting_table.setModel(self.waiting_model)
        wrap_short_list(self.waiting_table)
        self.noted_model: RowsModel[dict[str, Any]] = RowsModel(self.waiting_model.columns)
        self.noted_table = table_view(tr("À signaler au coordinateur"))
        self.noted_table.setModel(self.noted_model)
        wrap_short_list(self.noted_table)
        self.source = QLabel()
        self.source.setWordWrap(True)
        self.source.setAccessibleName(tr("Origine des chiffres"))
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.totals.setAccessibleName(tr("Bilan de la campagne"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName(tr("État"))
        self.error = error_label()

        self.start_button = QPushButton(tr("&Lancer une campagne…"))
        self.start_button.clicked.connect(self.start)
        self.refresh_button = QPushButton(tr("Actualiser la &progression"))
        self.refresh_button.clicked.connect(lambda: self.refresh(online=True))
        self.reassign_button = QPushButton(tr("Réa&ttribuer une liste…"))
        self.reassign_button.clicked.connect(self.reassign)
        self.sheet_agent = QComboBox()
        self.sheet_agent.setAccessibleName(tr("Agent de la feuille d'appels"))
        self.sheet_agent.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.sheet_button = QPushButton(tr("&Feuille d'appels (PDF)…"))
        self.sheet_button.clicked.connect(self.print_sheet)
        self.paper_button = QPushButton(tr("Saisir une feuille papi&er…"))
        self.paper_button.clicked.connect(self.paper_sheet)
        self.procedure_button = QPushButton(tr("Procédure de la &Ville…"))
        self.procedure_button.setToolTip(
            tr("Noter la procédure déclenchée (police, pompiers) et ce qui a été constaté")
        )
        self.procedure_button.clicked.connect(lambda: self.procedure())
        self.report_button = QPushButton(tr("Rapport (P&DF)…"))
        self.report_button.clicked.connect(lambda: self.report())
        self.close_button = QPushButton(tr("Clore la campa&gne…"))
        self.close_button.clicked.connect(self.close_campaign)

        actions = QHBoxLayout()
        for button in (self.start_button, self.refresh_button, self.reassign_button):
            actions.addWidget(button)
        actions.addStretch(1)
        papers = QHBoxLayout()
        sheet_label = QLabel(tr("Feuille d'appels de"))
        papers.addWidget(sheet_label)
        papers.addWidget(self.sheet_agent)
        papers.addWidget(self.sheet_button)
        papers.addStretch(1)
        ending = QHBoxLayout()  # short rows: they fit at 200 % text
        ending.addWidget(self.paper_button)
        ending.addWidget(self.procedure_button)
        ending.addStretch(1)
        closing = QHBoxLayout()
        closing.addWidget(self.report_button)
        closing.addWidget(self.close_button)
        closing.addStretch(1)
        progress = QGroupBox(tr("Progression"))
        inner = QVBoxLayout(progress)
        inner.addWidget(self.source)
        inner.addWidget(self.totals)
        inner.addWidget(self.territory_table, 1)
        waiting_label = QLabel(tr("Pas encore jointes (à joindre, visite, escalade)"))
        inner.addWidget(waiting_label)
        inner.addWidget(self.waiting_table, 2)
        noted_label = QLabel(tr("À signaler : escalades, hospitalisations, décès"))
        inner.addWidget(noted_label)
        inner.addWidget(self.noted_table, 1)
        lines = self.fontMetrics().height()
        self.territory_table.setMinimumHeight(lines * 8)
        self.waiting_table.setMinimumHeight(lines * 12)
        self.noted_table.setMinimumHeight(lines * 6)
        content = QWidget()  # scrolls at 200 % text: the tables keep a readable height
        layout = QVBoxLayout(content)
        layout.addLayout(actions)
        layout.addLayout(papers)
        layout.addLayout(ending)
        layout.addLayout(closing)
        layout.addWidget(self.message)
        layout.addWidget(self.error)
        layout.addWidget(progress, 1)
        scrolling(self, content)
        self._update_buttons()

    # -- helpers -------------------------------------------------------------------------

    @property
    def controller(self) -> SyncController | None:
        return self._controller()

    def _update_buttons(self) -> None:
        has = self.page.campaign_id is not None
        for button in (
            self.refresh_button,
            self.reassign_button,
            self.sheet_button,
            self.paper_button,
            self.procedure_button,
            self.report_button,
            self.close_button,
        ):
            button.setEnabled(has)

    def _names(self) -> dict[str, str]:
        return _agent_names(self.ctx.colleagues)

    def _holders(self) -> list[tuple[str, str]]:
        """The agents with a list in this campaign (from the synced calls)."""
        progress = self.last_progress
        ids: list[str] = []
        if progress is not None:
            ids = sorted({str(a) for a in getattr(progress, "agents", [])})
        names = self._names()
        if not ids:
            ids = sorted(names)
        return sorted(((a, names.get(a, a[:8])) for a in ids), key=lambda x: x[1].casefold())

    def _fail(self, text: str) -> None:
        self.message.setText("")
        self.error.setText(text)
        self.error.setVisible(True)

    def online(
        self,
        job: Callable[[Any], Any],
        done: Callable[[Any], None],
        waiting: str,
        otherwise: Callable[[], None] | None = None,
        quiet: bool = False,
    ) -> bool:
        """Run `job(engine)` on the sync thread; say in French why not when it cannot
        (``quiet``: only `otherwise`, for the reads nobody asked for)."""
        controller = self.controller
        if controller is None:
            self._fail(tr(NOT_READY))
            return False
        if waiting:
            self.message.setText(waiting)
            self.error.setVisible(False)
        engine = controller.engine

        def failed(text: str) -> None:
            if not quiet:
                self._fail(text)
            if otherwise is not None:
                otherwise()

        run_online(controller, lambda: job(engine), done, failed)
        return True

    def sync_soon(self) -> None:
        controller = self.controller
        if controller is not None:
            controller.sync_now()

    # -- progress ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.live_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.live_timer.stop()

    def live_refresh(self) -> None:
        """Every minute while the tab is shown: the server's progress, quietly (offline, this
        computer's figures, said so, without an error every minute)."""
        if self.controller is not None and self.page.campaign_id is not None:
            self.refresh(online=True, quiet=True)

    def refresh(self, online: bool = False, quiet: bool = False) -> None:
        """This computer's figures at once; the server's when asked (Actualiser, or every
        minute while the tab is shown) and online."""
        self._update_buttons()
        self._fill_sheet_agents()
        campaign_id = self.page.campaign_id
        if campaign_id is None:
            self.territory_model.set_rows([])
            self.waiting_model.set_rows([])
            self.noted_model.set_rows([])
            self.source.setText(tr("Aucune campagne en cours."))
            self.totals.setText("")
            return
        if online and self.controller is not None:
            self.online(
                lambda engine: engine.campaign_progress(campaign_id),
                self._show_server,
                "" if quiet else tr(READING),
                otherwise=lambda: self.refresh(online=False),  # offline: this computer's
                quiet=quiet,
            )
            return

        def shown(progress: campaign.Progress) -> None:
            self.last_progress = progress
            self._show(
                progress,
                [self._local_entry(e) for e in progress.not_reached],
                [self._local_entry(e) for e in progress.for_coordinator],
            )
            self.source.setText(
                tr(
                    "Chiffres de cet ordinateur (hors ligne ou avant actualisation) : ce que "
                    "la dernière synchronisation a apporté. « Actualiser la progression » lit "
                    "ceux du serveur."
                )
            )

        Operation(self.ctx.database, lambda ws: campaign.local_progress(ws, campaign_id)).success(
            shown
        ).failure(lambda e: self.page.show_error(e, self.error)).run()

    @staticmethod
    def _local_entry(entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "label": entry.get("told") or entry["step"].label}

    def _show_server(self, progress: Any) -> None:
        """The server's progress: names are looked up on this computer (ids on the wire)."""
        names = self._names()

        def job(ws: Workspace) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            def rows(persons: list[Any]) -> list[dict[str, Any]]:
                found = []
                for person in persons:
                    try:  # as on the agents' lists: "Lefèvre Jeanne"
                        row = ws.get_row("contacts", str(person.person_id))
                        name = " ".join(
                            str(row[k]) for k in ("family_name", "given_names") if row.get(k)
                        )
                    except HavreError:
                        name = tr("(fiche non reçue)")
                    found.append(
                        {
                            "call_id": str(person.call_id),
                            "name": name,
                            "territory_id": person.territory_id,
                            "agent": names.get(str(person.agent_id), ""),
                            "label": person.label,
                        }
                    )
                return found

            return rows(progress.not_reached), rows(progress.for_coordinator)

        def shown(found: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
            self.last_progress = progress
            self._show(progress, *found)
            now = self.ctx.local_now()
            if self.message.text() == tr(READING):  # not a result the coordinator is reading
                self.message.setText("")
            self.source.setText(
                tr("Chiffres du serveur, lus à {h} h {m:02d}.").format(h=now.hour, m=now.minute)
            )

        Operation(self.ctx.database, job).success(shown).run()

    def _show(
        self, progress: Any, waiting: list[dict[str, Any]], noted: list[dict[str, Any]]
    ) -> None:
        self.territory_model.set_rows(list(progress.territories))
        self.territory_table.resizeColumnsToContents()
        self.waiting_model.set_rows(waiting)
        self.noted_model.set_rows(noted)
        self.totals.setText(
            count(
                progress.persons,
                tr("{n} personne sur les listes"),
                tr("{n} personnes sur les listes"),
            )
            + " — "
            + count(progress.reached, tr("{n} jointe"), tr("{n} jointes"))
            + " — "
            + count(
                progress.persons - progress.reached,
                tr("{n} pas encore jointe"),
                tr("{n} pas encore jointes"),
            )
            + " — "
            + count(progress.escalated, tr("{n} escalade"), tr("{n} escalades"))
        )

    def _fill_sheet_agents(self) -> None:
        campaign_id = self.page.campaign_id
        if campaign_id is None:
            self.sheet_agent.clear()
            return
        names = self._names()

        def shown(ids: list[str]) -> None:
            keep = self.sheet_agent.currentData()
            self.sheet_agent.clear()
            for agent_id in sorted(ids, key=lambda a: str(names.get(a, a)).casefold()):
                self.sheet_agent.addItem(names.get(agent_id, agent_id[:8]), agent_id)
            self.sheet_agent.setCurrentIndex(max(self.sheet_agent.findData(keep), 0))
            metrics = self.sheet_agent.fontMetrics()  # the names in full, at any text size
            widest = max((metrics.horizontalAdvance(names.get(a, a)) for a in ids), default=0)
            self.sheet_agent.setMinimumWidth(widest + 5 * metrics.averageCharWidth())

        Operation(
            self.ctx.database,
            lambda ws: [
                str(r["agent_id"])
                for r in ws.store.query(
                    "SELECT DISTINCT agent_id FROM campaign_calls "
                    "WHERE campaign_id = ? AND deleted = 0",
                    (campaign_id,),
                )
            ],
        ).success(shown).run()

    def list_holders(self) -> list[tuple[str, str]]:
        return [
            (str(self.sheet_agent.itemData(i)), self.sheet_agent.itemText(i))
            for i in range(self.sheet_agent.count())
        ]

    # -- actions -------------------------------------------------------------------------

    def start(self) -> None:
        """Ask the server for the agents who may call (register right, territories), then the
        dialog, then the start; the lists arrive with the sync that follows."""

        def chosen(found: list[Any]) -> None:
            self.message.setText("")
            callers = [
                (a.id, a.display_name)
                for a in found
                if a.register_right and not a.disabled and a.role in contract.PERSON_ROLES
            ]
            dialog = StartDialog(
                self,
                self.ctx.references["territories"],
                self.ctx.territories,
                callers,
                self.ctx.local_now().date(),
            )
            self.last_dialog = dialog
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.request is None:
                return
            request = dialog.request

            def started(result: Any) -> None:
                self.message.setText(
                    tr("Campagne lancée : {p} réparties sur {l}. Synchronisation…").format(
                        p=count(result.persons, tr("{n} personne"), tr("{n} personnes")),
                        l=count(len(result.lists), tr("{n} liste"), tr("{n} listes")),
                    )
                )
                self.sync_soon()

            self.online(
                lambda engine: engine.start_campaign(request),
                started,
                tr("Lancement de la campagne sur le serveur…"),
            )

        self.online(
            lambda engine: engine.list_agents(), chosen, tr("Lecture des agents sur le serveur…")
        )

    def reassign(self) -> None:
        campaign_id = self.page.campaign_id
        if campaign_id is None:
            return
        names = self._names()
        everyone = sorted(
            (
                (str(a["id"]), str(a.get("display_name") or ""))
                for a in self.ctx.colleagues
                if a.get("register_right") and a.get("role") in contract.PERSON_ROLES
            ),
            key=lambda x: x[1].casefold(),
        )
        holders = self.list_holders()
        # Another agent who has a list, or any colleague this computer knows with the right.
        targets = dict(holders)
        targets.update(everyone)
        dialog = ReassignDialog(
            self, holders or everyone, sorted(targets.items(), key=lambda x: x[1].casefold())
        )
        self.last_dialog = dialog
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.request is None:
            return
        request = dialog.request

        def moved(result: Any) -> None:
            self.message.setText(
                tr("{n} de {a} à {b}. Synchronisation…").format(
                    n=count(result.moved, tr("{n} appel réattribué"), tr("{n} appels réattribués")),
                    a=names.get(request.from_agent_id, ""),
                    b=names.get(request.to_agent_id, ""),
                )
            )
            self.sync_soon()

        self.online(
            lambda engine: engine.reassign_calls(campaign_id, request),
            moved,
            tr("Réattribution sur le serveur…"),
        )

    def print_sheet(self) -> None:
        campaign_id = self.page.campaign_id
        agent_id = self.sheet_agent.currentData()
        if campaign_id is None or not agent_id:
            self._fail(tr("Choisissez l'agent dont vous imprimez la feuille d'appels."))
            return
        name = self.sheet_agent.currentText()

        def job(ws: Workspace) -> bytes:
            from havre_desktop.printing.call_sheet import call_sheet_for

            return call_sheet_for(ws, campaign_id, str(agent_id))

        Operation(self.ctx.database, job).success(
            lambda pdf: self._preview(
                pdf, tr("Feuille d'appels — {n}").format(n=name), "feuille-appels.pdf"
            )
        ).failure(lambda e: self.page.show_error(e, self.error)).run()

    def paper_sheet(self) -> None:
        dialog = PaperSheetDialog(self, self.list_holders())
        self.last_dialog = dialog
        dialog.exec()

    def procedure(self, call_id: str | None = None) -> None:
        """Record the City's procedure for a person in escalation (the one chosen in the
        table "À signaler" when there is one)."""
        if call_id is None:
            index = self.noted_table.currentIndex()
            chosen = self.noted_model.row(index.row()) if index.isValid() else None
            call_id = None if chosen is None else chosen.get("call_id")
        dialog = ProcedureDialog(self, call_id)
        self.last_dialog = dialog
        dialog.exec()

    def report(self, then: Callable[[bytes], None] | None = None) -> None:
        """The report: the server's figures when online, else this computer's (said so)."""
        campaign_id = self.page.campaign_id
        row = self.page.campaign
        if campaign_id is None or row is None:
            return
        territories = self.ctx.references["territories"]
        today = self.ctx.local_now().date()

        def build(pdf_values: Any) -> None:
            Operation(self.ctx.database, lambda _ws: _report_pdf(pdf_values)).success(
                then
                or (
                    lambda pdf: self._preview(
                        pdf, tr("Rapport de campagne"), "rapport-campagne.pdf"
                    )
                )
            ).run()

        if self.controller is None:
            self._local_report(campaign_id, dict(row), build)
            return

        def fetched(found: tuple[Any, Any, dict[str, Any]]) -> None:
            progress, daily, fresh = found
            if self.message.text() == reading:
                self.message.setText("")
            from havre_desktop.printing.campaign_report import report_data

            now = self.ctx.local_now()
            build(
                report_data(
                    fresh,
                    territories,
                    progress,
                    daily.days,
                    today,
                    tr("Chiffres du serveur à {h} h {m:02d}.").format(h=now.hour, m=now.minute),
                )
            )

        def job(engine: Any) -> tuple[Any, Any, dict[str, Any]]:
            progress = engine.campaign_progress(campaign_id)
            daily = engine.campaign_daily_figures(campaign_id)
            fresh = {**dict(row), "closed_on": progress.closed_on}
            return progress, daily, fresh

        controller = self.controller
        reading = tr("Lecture des chiffres sur le serveur…")
        self.message.setText(reading)

        def offline(error: Exception) -> None:
            self.message.setText(problem_text(error))
            self._local_report(campaign_id, dict(row), build)

        Operation(controller.worker, lambda _ws: job(controller.engine)).success(fetched).failure(
            offline
        ).run()

    def _local_report(
        self, campaign_id: str, row: dict[str, Any], build: Callable[[Any], None]
    ) -> None:
        territories = self.ctx.references["territories"]
        today = self.ctx.local_now().date()

        def job(ws: Workspace) -> Any:
            from havre_desktop.printing.campaign_report import report_data

            progress = campaign.local_progress(ws, campaign_id)
            return report_data(
                row,
                territories,
                progress,
                (),
                today,
                tr("Chiffres de cet ordinateur (hors ligne) ; par jour : en ligne seulement."),
            )

        Operation(self.ctx.database, job).success(build).run()

    def close_campaign(self) -> None:
        campaign_id = self.page.campaign_id
        row = self.page.campaign
        if campaign_id is None or row is None:
            return
        if not confirmed(
            self,
            tr("Clore la campagne"),
            tr(
                "Clore « {t} » ? Plus aucun résultat ne pourra y être enregistré ; le rapport "
                "pour le préfet s'ouvre ensuite."
            ).format(t=row.get("title")),
        ):
            return

        def closed(result: Any) -> None:
            self.report()  # the report first: its reading message gives way to this one
            self.message.setText(
                tr("Campagne close le {d} : {r} sur {p}, {e}.").format(
                    d=date.fromisoformat(str(result.closed_on)[:10]).strftime("%d/%m/%Y"),
                    r=count(result.reached, tr("{n} personne jointe"), tr("{n} personnes jointes")),
                    p=result.persons,
                    e=count(result.escalated, tr("{n} escalade"), tr("{n} escalades")),
                )
            )
            self.sync_soon()

        self.online(
            lambda engine: engine.close_campaign(campaign_id, CampaignClose()),
            closed,
            tr("Clôture sur le serveur…"),
        )

    def _preview(self, pdf: bytes, title: str, name: str) -> None:
        from havre_desktop.core import audit
        from havre_desktop.ui.print_preview import PdfPreviewDialog

        def on_output(how: str) -> None:
            event = "impression" if how == "printed" else "export"
            self.ctx.database.submit(
                lambda ws: audit.record(ws, event, "alert_campaigns", self.page.campaign_id),
                lambda _r: None,
            )

        self.last_pdf = pdf
        self.last_preview = PdfPreviewDialog(pdf, title, name, on_output, self)
        self.last_preview.open()


def _report_pdf(values: Any) -> bytes:
    from havre_desktop.printing.campaign_report import campaign_report_pdf

    return campaign_report_pdf(values)
