"""Impressions: territory programmes, batch letters (progress, cancel), activity reports."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import cast

from PySide6.QtCore import QDate, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from havre_common.french import count
from havre_desktop.core import audit, register
from havre_desktop.core.errors import HavreError
from havre_desktop.core.files import write_file
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.data import (
    SAMPLE_CITY_WARNING,
    CityContact,
    read_city_contact,
    territory_actions,
)
from havre_desktop.printing.handouts import territory_programme_for
from havre_desktop.printing.layout import Variant
from havre_desktop.printing.letters import (
    LETTER_LABELS,
    ROLES_FOR_REGISTER_MAILING,
    BatchOptions,
    BatchPreview,
    BatchResult,
    FollowedBy,
    LetterKind,
    RegisterOf,
    letters_pdf,
    preview_batch,
)
from havre_desktop.printing.register_export import prefect_export
from havre_desktop.printing.report import activity_report_for
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.operations import Changes, Operation
from havre_desktop.ui.print_preview import PdfPreviewDialog
from havre_desktop.ui.widgets import (
    CheckList,
    checked_ids,
    error_label,
    fold,
    hide_unless,
    scrolling,
)

log = logging.getLogger("havre.ui.printing")


class _BatchSignals(QObject):
    """Progress crosses from the database worker to the GUI as queued signals."""

    progress = Signal(int, int)


class PrintsPage(QWidget):
    """Three kinds of documents; each opens in the preview before printing or saving."""

    batch_finished = Signal(object)  # BatchResult

    def __init__(self, context: UiContext) -> None:
        super().__init__()
        self.ctx = context
        # The City's details as printed (read again when a sync brings new ones): the preview
        # says so before printing while the number is still the sample one.
        self.city = CityContact()
        self._read_city()
        context.database.changes.changed.connect(self._city_changes)
        refs = context.references
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur"))

        # Territory programme
        self.programme_territory = self._territories(tr("Territoire du programme"))
        self.programme_variant = self._variants(tr("Taille des caractères du programme"))
        self.programme_button = QPushButton(tr("Aperçu du &programme"))
        self.programme_button.clicked.connect(self.preview_programme)
        programme = QGroupBox(tr("Programme d'un territoire pour les seniors"))
        form = QFormLayout(programme)
        self._row(form, tr("&Territoire :"), self.programme_territory)
        self._row(form, tr("Ta&ille :"), self.programme_variant)
        form.addRow(self.programme_button)

        # Batch letters
        self.letter_kind = QComboBox()
        self.letter_kind.setAccessibleName(tr("Courrier"))
        for kind, label in LETTER_LABELS.items():
            self.letter_kind.addItem(tr(label), kind.value)
        self.letter_source = QComboBox()
        self.letter_source.setAccessibleName(tr("Destinataires"))
        self.letter_source.addItem(tr("Les personnes que je suis"), "followed")
        coordinator = context.role in ROLES_FOR_REGISTER_MAILING
        for territory_id, label in refs["territories"].items() if coordinator else ():
            self.letter_source.addItem(
                tr("Registre des personnes isolées — {t} (alertes seulement)").format(t=label),
                f"register:{territory_id}",
            )
        self.letter_variant = self._variants(tr("Taille des caractères des courriers"))
        # The summer letter presents the activities ticked here that are in each person's
        # quarter; none ticked: the first three of her quarter.
        self.letter_actions = CheckList()
        self.letter_actions.setMinimumHeight(8 * self.fontMetrics().lineSpacing())
        self.letter_actions.setAccessibleName(tr("Activités présentées dans la lettre de l'été"))
        self.letter_actions.itemChanged.connect(lambda _item: self._forget_recipients())
        self.letter_actions_hint = QLabel(
            tr(
                "Activités présentées (celles du quartier de chaque personne ; aucune cochée : "
                "les trois premières de son quartier). Le programme complet est proposé en livret."
            )
        )
        self.letter_actions_hint.setWordWrap(True)
        self.letter_actions_box = QWidget()
        actions_layout = QVBoxLayout(self.letter_actions_box)
        actions_layout.setContentsMargins(0, 0, 0, 0)
        actions_layout.addWidget(self.letter_actions_hint)
        actions_layout.addWidget(self.letter_actions)
        self._actions_loaded = False
        # The recipients: loaded on demand, filtered, ticked; the count and pages follow.
        self.recipients_button = QPushButton(tr("Choisir les d&estinataires…"))
        self.recipients_button.clicked.connect(self.load_recipients)
        self.recipients = CheckList()
        self.recipients.setAccessibleName(tr("Destinataires des courriers"))
        self.recipients.itemChanged.connect(lambda _item: self._show_summary())
        self.recipient_filter = QLineEdit()
        self.recipient_filter.setPlaceholderText(tr("Nom ou adresse"))
        self.recipient_filter.setAccessibleName(tr("Filtrer les destinataires"))
        self.recipient_filter.textChanged.connect(lambda _text: self._filter_recipients())
        self.recipient_territory = QComboBox()
        self.recipient_territory.setAccessibleName(tr("Quartier des destinataires"))
        self.recipient_territory.addItem(tr("Tous les quartiers"), None)
        for territory_id, label in refs["territories"].items():
            self.recipient_territory.addItem(label, territory_id)
        self.recipient_territory.currentIndexChanged.connect(lambda _i: self._filter_recipients())
        self.tick_shown = QPushButton(tr("Cocher les personnes affic&hées"))
        self.tick_shown.clicked.connect(lambda: self._tick_shown(True))
        self.untick_shown = QPushButton(tr("Décocher les personnes affichées"))
        self.untick_shown.clicked.connect(lambda: self._tick_shown(False))
        self.recipients_summary = QLabel()
        self.recipients_summary.setWordWrap(True)
        self.recipients_summary.setAccessibleName(tr("Destinataires cochés et pages"))
        rows = self.fontMetrics().lineSpacing()
        self.recipients.setMinimumHeight(14 * rows)
        self.chooser = QWidget()
        chooser = QFormLayout(self.chooser)
        chooser.setContentsMargins(0, 0, 0, 0)
        self._row(chooser, tr("&Filtrer :"), self.recipient_filter, wrap=False)
        self._row(chooser, tr("&Quartier :"), self.recipient_territory, wrap=False)
        ticks = QHBoxLayout()
        ticks.addWidget(self.tick_shown)
        ticks.addWidget(self.untick_shown)
        chooser.addRow(ticks)
        chooser.addRow(self.recipients)
        chooser.addRow(self.recipients_summary)
        self.chooser.setVisible(False)
        self._batch_preview: BatchPreview | None = None
        self.letter_button = QPushButton(tr("Préparer les &courriers"))
        self.letter_button.clicked.connect(self.start_letters)
        self.cancel_button = QPushButton(tr("&Annuler les courriers"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_letters)
        self.progress = QProgressBar()
        self.progress.setAccessibleName(tr("Avancement des courriers"))
        self.progress.setFormat(tr("%v sur %m"))
        self.letter_status = QLabel()
        self.letter_status.setWordWrap(True)
        self.letter_status.setAccessibleName(tr("État des courriers"))
        letters = QGroupBox(tr("Courriers en nombre"))
        letters_form = QFormLayout(letters)
        self._row(letters_form, tr("C&ourrier :"), self.letter_kind)
        self._row(letters_form, tr("Desti&nataires :"), self.letter_source)
        self._row(letters_form, tr("Tai&lle :"), self.letter_variant)
        letters_form.addRow(self.letter_actions_box)
        letters_form.addRow(self.recipients_button)
        letters_form.addRow(self.chooser)
        letters_form.addRow(self.letter_button)
        letters_form.addRow(self.cancel_button)
        letters_form.addRow(self.progress)
        letters_form.addRow(self.letter_status)
        for combo in (self.letter_kind, self.letter_source, self.letter_variant):
            combo.currentIndexChanged.connect(lambda _i: self._forget_recipients())
        self.letter_kind.currentIndexChanged.connect(lambda _i: self._show_letter_actions())
        self._show_letter_actions()
        self._cancel = threading.Event()
        self._signals = _BatchSignals()
        self._signals.progress.connect(self._show_progress)

        # Activity report
        since = context.today - timedelta(days=365)
        self.report_since = QDateEdit(QDate(since.year, since.month, since.day))
        today = context.today
        self.report_until = QDateEdit(QDate(today.year, today.month, today.day))
        for edit in (self.report_since, self.report_until):
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setCalendarPopup(True)
        self.report_territory = QComboBox()
        self.report_territory.setAccessibleName(tr("Territoire du rapport"))
        self.report_territory.addItem(tr("Tous mes territoires"), None)
        for territory_id, label in refs["territories"].items():
            self.report_territory.addItem(label, territory_id)
        self.report_button = QPushButton(tr("Aperçu du rapport d'acti&vité"))
        self.report_button.clicked.connect(self.preview_report)
        report = QGroupBox(tr("Rapport d'activité (coordination)"))
        report_form = QFormLayout(report)
        self._row(report_form, tr("&Du :"), self.report_since)
        self._row(report_form, tr("A&u :"), self.report_until)
        self._row(report_form, tr("Te&rritoire :"), self.report_territory)
        report_form.addRow(self.report_button)

        hide_unless(coordinator, report)  # reports are the coordinators' (architecture.md)
        self.report_box = report
        # The register passed to the préfet when an alert plan is triggered (CSV and PDF).
        self.prefect_territory = QComboBox()
        self.prefect_territory.setAccessibleName(tr("Territoires à transmettre"))
        self.prefect_territory.addItem(tr("Tous mes territoires"), None)
        for territory_id in context.territories:
            self.prefect_territory.addItem(refs["territories"].get(territory_id, ""), territory_id)
        self.prefect_pdf_button = QPushButton(tr("Re&gistre pour le préfet (PDF)…"))
        self.prefect_pdf_button.clicked.connect(self.preview_prefect_export)
        self.prefect_csv_button = QPushButton(tr("E&xporter le registre en CSV…"))
        self.prefect_csv_button.clicked.connect(self.save_prefect_csv)
        prefect = QGroupBox(tr("Registre des personnes vulnérables : transmission au préfet"))
        prefect_form = QFormLayout(prefect)
        self._row(prefect_form, tr("Territoires à trans&mettre :"), self.prefect_territory)
        prefect_form.addRow(self.prefect_pdf_button)
        prefect_form.addRow(self.prefect_csv_button)
        # A list transmitted by the département or a pension fund: "à informer".
        self.import_source = QComboBox()
        self.import_source.setAccessibleName(tr("Liste transmise par"))
        self.import_source.addItem(tr("le département"), "departement")
        self.import_source.addItem(tr("une caisse de retraite"), "caisse-retraite")
        self.import_territory = self._territories(tr("Territoire des personnes transmises"))
        self.import_button = QPushButton(tr("&Bénéficiaires transmis (CSV) : importer…"))
        self.import_button.clicked.connect(self.choose_transmitted_list)
        prefect_form.addRow(QLabel(tr("Liste transmise par :")), self.import_source)
        prefect_form.addRow(QLabel(tr("Territoire des personnes :")), self.import_territory)
        prefect_form.addRow(self.import_button)
        self.prefect_status = QLabel()
        self.prefect_status.setAccessibleName(tr("Confirmation de l'export"))
        self.prefect_status.setWordWrap(True)
        prefect_form.addRow(self.prefect_status)
        hide_unless(coordinator and context.register_right, prefect)
        self.prefect_box = prefect
        # The letters' lists make the page taller than a laptop's screen: it scrolls.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(programme)
        layout.addWidget(letters)
        layout.addWidget(report)
        layout.addWidget(prefect)
        layout.addWidget(self.error)
        layout.addStretch(1)
        scrolling(self, content)

    # -- helpers ----------------------------------------------------------------------

    def _territories(self, name: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        for territory_id, label in self.ctx.references["territories"].items():
            combo.addItem(label, territory_id)
        if self.ctx.territories:
            combo.setCurrentIndex(combo.findData(self.ctx.territories[0]))
        return combo

    @staticmethod
    def _variants(name: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.addItem(tr("Grands caractères (16 points)"), Variant.LARGE.value)
        combo.addItem(tr("Très grands caractères (22 points)"), Variant.VERY_LARGE.value)
        return combo

    @staticmethod
    def _row(form: QFormLayout, text: str, widget: QWidget, wrap: bool = True) -> None:
        label = QLabel(text)
        label.setBuddy(widget)
        label.setWordWrap(wrap)
        form.addRow(label, widget)

    def _fail(self, error: Exception) -> None:
        if isinstance(error, HavreError):
            self.error.setText(error.message)
        else:
            log.error("printing failed", exc_info=error)
            self.error.setText(tr("Le document n'a pas pu être préparé (erreur inattendue)."))
        self.error.setVisible(True)

    def _preview(
        self, pdf: bytes, title: str, name: str, entity: str, warnings: tuple[str, ...] = ()
    ) -> None:
        self.error.setVisible(False)

        def on_output(how: str) -> None:
            event = "impression" if how == "printed" else "export"
            self.ctx.database.submit(lambda ws: audit.record(ws, event, entity), lambda _r: None)

        if self.city.is_sample and entity != "rapport":
            warnings = (SAMPLE_CITY_WARNING, *warnings)
        self.last_preview = PdfPreviewDialog(pdf, title, name, on_output, self, warnings=warnings)
        self.last_preview.open()

    def _read_city(self) -> None:
        def keep(city: CityContact) -> None:
            self.city = city

        self.ctx.database.submit(read_city_contact, keep)

    def _city_changes(self, changes: Changes) -> None:
        if changes.touches("city_details", "agents"):
            self._read_city()

    # -- territory programme ----------------------------------------------------------

    def preview_programme(self) -> None:
        territory = self.programme_territory.currentData()
        variant = Variant(self.programme_variant.currentData())
        name = self.programme_territory.currentText()
        self.ctx.database.submit(
            lambda ws: territory_programme_for(
                ws, territory, variant=variant, city=read_city_contact(ws)
            ),
            lambda pdf: self._preview(
                pdf, tr("Programme — {t}").format(t=name), f"programme-{territory}.pdf", "programme"
            ),
            self._fail,
        )

    # -- batch letters ----------------------------------------------------------------

    def _register(self) -> RegisterOf | None:
        """The register chosen as the source, or None for the persons the agent follows
        (read on the database thread: the agent as stored then, see start_letters)."""
        source_key = str(self.letter_source.currentData())
        return RegisterOf(source_key.split(":", 1)[1]) if source_key != "followed" else None

    def _show_letter_actions(self) -> None:
        """The actions list, for the summer letter only; read once, when first needed."""
        summer = self.letter_kind.currentData() == LetterKind.PROGRAMME_ETE.value
        self.letter_actions_box.setVisible(summer)
        if not summer or self._actions_loaded:
            return
        self._actions_loaded = True
        territories = self.ctx.references["territories"]

        def job(ws: Workspace) -> list[tuple[str, str]]:
            found: dict[str, tuple[str, list[str]]] = {}
            for territory_id, label in territories.items():
                for action in territory_actions(ws, territory_id):
                    found.setdefault(action.id, (action.title, []))[1].append(label)
            return [(i, f"{title} ({', '.join(labels)})") for i, (title, labels) in found.items()]

        def show(items: list[tuple[str, str]]) -> None:
            self.letter_actions.blockSignals(True)
            for action_id, label in sorted(items, key=lambda item: fold(item[1])):
                item = QListWidgetItem(label)
                item.setData(Qt.ItemDataRole.UserRole, action_id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                self.letter_actions.addItem(item)
            self.letter_actions.blockSignals(False)

        self.ctx.database.submit(job, show, self._fail)

    def _chosen_actions(self) -> list[str] | None:
        if self.letter_kind.currentData() != LetterKind.PROGRAMME_ETE.value:
            return None
        return checked_ids(self.letter_actions) or None

    def load_recipients(self) -> None:
        """List the batch's recipients, all ticked, with each letter's pages."""
        kind = LetterKind(self.letter_kind.currentData())
        register = self._register()
        variant = Variant(self.letter_variant.currentData())
        action_ids = self._chosen_actions()
        self.error.setVisible(False)
        self.ctx.database.submit(
            lambda ws: preview_batch(
                ws,
                kind,
                register or FollowedBy(str(ws.agent_id or "")),
                variant=variant,
                city=read_city_contact(ws),
                action_ids=action_ids,
            ),
            self._show_recipients,
            self._fail,
        )

    def _show_recipients(self, preview: BatchPreview) -> None:
        self._batch_preview = preview
        territories = self.ctx.references["territories"]
        self.recipients.blockSignals(True)
        self.recipients.clear()
        for person in preview.recipients:
            town = " ".join(p for p in (person.postcode, person.city) if p)
            where = f"{person.address_line}, {town}" if person.address_line else tr("sans adresse")
            quarter = territories.get(person.territory_id, "")
            item = QListWidgetItem(f"{person.name} — {where} ({quarter})")
            item.setData(Qt.ItemDataRole.UserRole, person.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, person.territory_id)
            if person.address_line:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked)
            else:
                # No address, no letter: shown so the agent knows, never ticked.
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.recipients.addItem(item)
        self.recipients.blockSignals(False)
        self.chooser.setVisible(True)
        self._filter_recipients()
        self._show_summary()

    def _filter_recipients(self) -> None:
        wanted = fold(self.recipient_filter.text().strip())
        territory = self.recipient_territory.currentData()
        for row in range(self.recipients.count()):
            item = self.recipients.item(row)
            shown = (not wanted or wanted in fold(item.text())) and (
                territory is None or item.data(Qt.ItemDataRole.UserRole + 1) == territory
            )
            item.setHidden(not shown)

    def _tick_shown(self, ticked: bool) -> None:
        state = Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked
        self.recipients.blockSignals(True)
        for row in range(self.recipients.count()):
            item = self.recipients.item(row)
            if not item.isHidden() and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(state)
        self.recipients.blockSignals(False)
        self._show_summary()

    def _show_summary(self) -> None:
        preview = self._batch_preview
        if preview is None:
            return
        ticked = checked_ids(self.recipients)
        pages = preview.total_pages(ticked)
        self.recipients_summary.setText(
            count(len(ticked), tr("{n} personne cochée"), tr("{n} personnes cochées"))
            + tr(" sur {total} : ").format(total=len(preview.recipients))
            + count(pages, tr("{n} page"), tr("{n} pages"))
            + count(
                pages // 2, tr(" ({n} feuille recto verso)."), tr(" ({n} feuilles recto verso).")
            )
        )

    def _forget_recipients(self) -> None:
        """Another kind, source or size: the list no longer holds; all will be written."""
        self._batch_preview = None
        self.recipients.clear()
        self.chooser.setVisible(False)

    def start_letters(self) -> None:
        kind = LetterKind(self.letter_kind.currentData())
        register = self._register()
        variant = Variant(self.letter_variant.currentData())
        recipient_ids = checked_ids(self.recipients) if self._batch_preview else None
        action_ids = self._chosen_actions()
        if recipient_ids == []:
            self.error.setText(tr("Cochez au moins une personne à qui écrire."))
            self.error.setVisible(True)
            return
        self._cancel.clear()
        self.error.setVisible(False)
        self.letter_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.letter_status.setText(tr("Préparation des courriers…"))
        signals, cancel = self._signals, self._cancel

        def job(ws: Workspace) -> BatchResult:
            # The agent as stored now: the first sign-in binds the profile to its server
            # account (another id than the one read when the window opened).
            source = register or FollowedBy(str(ws.agent_id or ""))
            return letters_pdf(
                ws,
                kind,
                source,
                BatchOptions(variant, read_city_contact(ws), action_ids, recipient_ids),
                progress=lambda done, total: signals.progress.emit(done, total),
                cancelled=cancel.is_set,
            )

        self.ctx.database.submit(job, self._letters_done, self._letters_failed)

    def cancel_letters(self) -> None:
        self._cancel.set()
        self.letter_status.setText(tr("Annulation demandée…"))

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _letters_done(self, result: BatchResult) -> None:
        self.letter_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if result.cancelled or result.pdf is None:
            self.letter_status.setText(
                tr(
                    "Courriers annulés après {done} sur {total} : aucun fichier n'a été gardé."
                ).format(done=result.done, total=result.total)
            )
        else:
            missing = (
                count(
                    result.without_address,
                    tr(" {n} personne sans adresse n'a pas de courrier."),
                    tr(" {n} personnes sans adresse n'ont pas de courrier."),
                )
                if result.without_address
                else ""
            )
            self.letter_status.setText(
                count(result.done, tr("{n} courrier prêt"), tr("{n} courriers prêts"))
                + count(result.pages, tr(" ({n} page)."), tr(" ({n} pages)."))
                + missing
            )
            self._preview(
                result.pdf,
                self.letter_kind.currentText(),
                f"courriers-{self.letter_kind.currentData()}.pdf",
                "courriers",
                result.warnings,
            )
        self.batch_finished.emit(result)

    def _letters_failed(self, error: Exception) -> None:
        self.letter_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.letter_status.setText("")
        self._fail(error)

    # -- activity report --------------------------------------------------------------

    def _prefect_territories(self) -> list[str] | None:
        chosen = self.prefect_territory.currentData()
        return [chosen] if chosen else None

    def preview_prefect_export(self) -> None:
        """The register for the préfet as PDF (the build is audited as an export)."""
        territories = self._prefect_territories()
        self.ctx.database.submit(
            lambda ws: prefect_export(ws, territories).pdf,
            lambda pdf: self._preview(
                pdf, tr("Registre pour le préfet"), "registre-prefet.pdf", "register_enrolments"
            ),
            self._fail,
        )

    def save_prefect_csv(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, tr("Exporter le registre en CSV"), "registre-prefet.csv", tr("CSV (*.csv)")
        )
        if name:
            self.export_prefect_csv(Path(name))

    def export_prefect_csv(self, path: Path) -> None:
        """Write the CSV where the coordinator chose (her explicit choice; audited)."""
        territories = self._prefect_territories()

        def job(ws: Workspace) -> int:
            found = prefect_export(ws, territories)
            write_file(path, found.csv, private=False)
            return found.count

        self.ctx.database.submit(
            job,
            lambda n: self.status_text(
                count(n, tr("{n} personne exportée."), tr("{n} personnes exportées."))
            ),
            self._fail,
        )

    def choose_transmitted_list(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self, tr("Liste transmise (CSV)"), "", tr("CSV (*.csv)")
        )
        if name:
            self.import_transmitted_file(Path(name))

    def import_transmitted_file(self, path: Path) -> None:
        """Import it whole or not at all; the problems, by line and column, are shown."""
        source = str(self.import_source.currentData())
        territory = str(self.import_territory.currentData())
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            self.status_text(tr("Ce fichier ne peut pas être lu (CSV en UTF-8 attendu)."))
            return

        def done(result: register.ImportResult) -> None:
            self.status_text(
                tr(
                    "{n} personne(s) à informer : un courrier chacune dans Ma journée ; "
                    "inscrites le {day} sauf opposition ({already} déjà inscrite(s))."
                ).format(
                    n=result.to_inform,
                    day=result.inform_until.strftime("%d/%m/%Y"),
                    already=result.already,
                )
            )

        def failed(error: Exception) -> None:
            if isinstance(error, register.ImportRefusedError):
                self.status_text(
                    tr("Rien n'a été importé :") + "\n" + "\n".join(str(p) for p in error.problems)
                )
            else:
                self._fail(error)

        Operation(
            self.ctx.database,
            lambda ws: register.import_transmitted(ws, text, source, territory),
        ).success(done).failure(failed).announces(
            "contacts", "register_enrolments", "register_events"
        ).run()

    def status_text(self, text: str) -> None:
        self.error.setVisible(False)
        self.prefect_status.setText(text)

    def preview_report(self) -> None:
        since = cast(date, self.report_since.date().toPython())
        until = cast(date, self.report_until.date().toPython())
        territory = self.report_territory.currentData()
        territories = [territory] if territory else (self.ctx.territories or None)
        self.ctx.database.submit(
            lambda ws: activity_report_for(ws, since, until, territories),
            lambda pdf: self._preview(
                pdf, tr("Rapport d'activité"), "rapport-activite.pdf", "rapport"
            ),
            self._fail,
        )
