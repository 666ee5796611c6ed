"""Tableau de bord (coordinators): the activity's charts, filters, exports, evaluations.

The figures come from core/indicators.py (the PDF activity report uses the same queries),
computed on the database thread through an Operation; this page only draws them. Each chart
is drawn from an `indicators.ChartTable`, and its CSV is written from the same table.

Only the chart on screen is drawn when the figures arrive (the first paint and a filter
change wait for one chart, not six); another tab's chart is drawn when it is shown, from the
same figures. `painted` is emitted once the chart on screen shows the new figures, `loaded`
once every figure is there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QDateTimeAxis,
    QHorizontalBarSeries,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QDate, QDateTime, QEvent, QPointF, Qt, QTime, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from havre_desktop.core import audit, indicators
from havre_desktop.core.indicators import ActionIndicators, ChartTable, Filters, ReviewRow
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.operations import Changes, Operation
from havre_desktop.ui.widgets import SavingForm, error_label, table_view

log = logging.getLogger("havre.ui.dashboard")

# Distinct colours and line styles: a series is told by its style and its legend too.
COLOURS = ("#1f4e79", "#c55a11", "#2e7d32", "#6a1b9a", "#8d6e00")
ON_DARK = ("#ffff00", "#00ffff", "#ffffff", "#ff80ff", "#80ff80")  # the high-contrast theme
STYLES = (
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
    Qt.PenStyle.DashDotDotLine,
)
LABEL_LENGTH = 24  # a bar's label longer than this is shortened ("…"); the CSV has it whole
WATCHED = (
    "visits",
    "handouts_given",
    "reception_encounters",
    "actions",
    "action_evaluations",
    "contacts",
    "register_enrolments",
    "campaign_outcomes",
)


def french_date(value: str) -> str:
    day = date.fromisoformat(value)
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


TAKEN_UP_HELP = (
    "« Proposée à » : les personnes des territoires choisis à qui au moins une visite ou un "
    "appel de la période a proposé l'action. « Prise par » : parmi elles, celles à qui un "
    "document citant l'action a été remis pendant la période (le document qu'elles ont "
    "demandé est la trace de leur intérêt ; un document imprimé à l'accueil ne nomme "
    "personne et n'est pas compté). Chaque personne compte une fois par action."
)


class DashboardPage(QWidget):
    """Filters on top, one tab per chart, the evaluations' tab; exports below."""

    loaded = Signal()  # every figure of the request shown
    painted = Signal()  # the chart on screen drawn with the request's figures

    def __init__(self, context: UiContext) -> None:
        super().__init__()
        self.ctx = context
        refs = context.references
        self.tables: dict[str, ChartTable] = {}
        self._drawn: set[str] = set()
        self.review: list[ReviewRow] = []
        self._generation = 0
        self.loaded_generation = 0  # every figure of this request shown
        self.painted_generation = 0  # the chart on screen drawn with this request's figures
        self._part_keys: dict[str, tuple[object, ...]] = {}  # what each part was counted for
        self._waiting: set[str] = set()  # parts of the current request not back yet
        self._totals = (0, 0)  # visits and calls of the period (the status line)

        self.territory = QComboBox()
        self.territory.setAccessibleName(tr("Territoire"))
        self.territory.addItem(tr("Tous les territoires"), None)
        for territory_id, label in refs["territories"].items():
            self.territory.addItem(label, territory_id)
        today = context.local_now().date()
        since = today - timedelta(days=364)
        self.since = QDateEdit(QDate(since.year, since.month, since.day))
        self.until = QDateEdit(QDate(today.year, today.month, today.day))
        for edit, name in ((self.since, tr("Début de la période")), (self.until, tr("Fin"))):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setAccessibleName(name)
        self.priority = QComboBox()
        self.priority.setAccessibleName(tr("Priorité"))
        self.priority.addItem(tr("Toutes les priorités"), None)
        for number, (priority_id, label) in enumerate(refs["priorities"].items(), start=1):
            self.priority.addItem(f"{number}. {label}", priority_id)
        self.stake = QComboBox()
        self.stake.setAccessibleName(tr("Enjeu ou préoccupation transversale"))
        self.stake.addItem(tr("Tous les enjeux"), None)
        for number, (stake_id, label) in enumerate(refs["stakes"].items(), start=1):
            self.stake.addItem(tr("Enjeu {n} : {label}").format(n=number, label=label), stake_id)
        for concern_id, label in refs.get("transversal_concerns", {}).items():
            self.stake.addItem(
                tr("Transversal : {label}").format(label=label),
                indicators.CONCERN_PREFIX + concern_id,
            )

        filters = QGridLayout()
        for column, (text, widget) in enumerate(
            (
                (tr("&Territoire :"), self.territory),
                (tr("&Du :"), self.since),
                (tr("A&u :"), self.until),
                (tr("&Priorité :"), self.priority),
                (tr("&Enjeu :"), self.stake),
            )
        ):
            buddy = QLabel(text)
            buddy.setBuddy(widget)
            row, col = divmod(column, 3)
            filters.addWidget(buddy, row, 2 * col)
            filters.addWidget(widget, row, 2 * col + 1)
        filters.setColumnStretch(6, 1)

        self.status = QLabel()
        self.status.setAccessibleName(tr("État du tableau de bord"))
        self.status.setWordWrap(True)
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur"))

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(tr("Graphiques"))
        self.views: dict[str, QChartView] = {}
        self.scrolls: dict[str, QScrollArea] = {}
        for key, title in (
            ("visites", tr("Visites")),
            ("appels", tr("Appels")),
            ("besoins", tr("Besoins repérés")),
            ("actions", tr("Actions proposées et prises")),
            ("accueils", tr("Accueils par besoin")),
            ("campagnes", tr("Campagnes d'alerte")),
            ("registre", tr("Registre")),
        ):
            view = QChartView()
            view.setRenderHint(QPainter.RenderHint.Antialiasing)
            view.setAccessibleName(title)
            self.views[key] = view
            # A chart needs room for every bar's label (Qt drops the labels that would
            # overlap): at large text sizes it scrolls rather than lose one.
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            if key == "actions":  # what "taken up" counts, said under the chart
                self.taken_up_help = QLabel(tr(TAKEN_UP_HELP))
                self.taken_up_help.setWordWrap(True)
                line = self.fontMetrics().height()
                self.taken_up_help.setContentsMargins(line // 2, line // 4, line // 2, line // 4)
                self.taken_up_help.setAccessibleName(tr("Ce que comptent proposée et prise"))
                holder = QWidget()
                holder_layout = QVBoxLayout(holder)
                holder_layout.setContentsMargins(0, 0, 0, 0)
                holder_layout.addWidget(view, 1)
                holder_layout.addWidget(self.taken_up_help)
                scroll.setWidget(holder)
            else:
                scroll.setWidget(view)
            scroll.setAccessibleName(title)
            self.scrolls[key] = scroll
            self.tabs.addTab(scroll, title)

        self.review_model: RowsModel[ReviewRow] = RowsModel(
            [
                (tr("Code"), lambda r: r.code),
                (tr("Action"), lambda r: r.title),
                (tr("Statut"), lambda r: refs["action_statuses"].get(r.status, r.status)),
                (
                    tr("Dernière évaluation"),
                    lambda r: french_date(r.evaluated_on) if r.evaluated_on else tr("jamais"),
                ),
                (tr("Décision"), lambda r: VERDICTS.get(r.verdict or "", "")),
                (tr("Commentaire"), lambda r: r.comment or ""),
            ]
        )
        self.review_table = table_view(tr("Revue annuelle des actions"))
        self.review_table.setModel(self.review_model)
        self.evaluate_button = QPushButton(tr("É&valuer l'action…"))
        self.evaluate_button.setAccessibleName(tr("Évaluer l'action choisie"))
        self.evaluate_button.clicked.connect(self.evaluate_selected)
        review = QWidget()
        review_layout = QVBoxLayout(review)
        review_layout.addWidget(
            QLabel(tr("Revue annuelle : chaque action et sa dernière évaluation."))
        )
        review_layout.addWidget(self.review_table, 1)
        review_buttons = QHBoxLayout()
        review_buttons.addWidget(self.evaluate_button)
        review_buttons.addStretch(1)
        review_layout.addLayout(review_buttons)
        self.tabs.addTab(review, tr("Évaluations et revue annuelle"))

        self.csv_button = QPushButton(tr("Exporter en &CSV…"))
        self.csv_button.clicked.connect(self._ask_csv)
        self.png_button = QPushButton(tr("Exporter en i&mage (PNG)…"))
        self.png_button.clicked.connect(self._ask_png)
        self.anonymised_button = QPushButton(tr("Export a&nonymisé de l'année…"))
        self.anonymised_button.setToolTip(
            tr(
                "Personnes touchées par action, territoire et tranche d'âge sur l'année civile "
                "de la fin de période ; les effectifs de moins de 5 sont masqués (« < 5 »)."
            )
        )
        self.anonymised_button.clicked.connect(self._ask_anonymised)
        exports = QHBoxLayout()
        for button in (self.csv_button, self.png_button, self.anonymised_button):
            exports.addWidget(button)
        exports.addStretch(1)
        self.tabs.currentChanged.connect(self._tab_changed)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(exports)

        for combo in (self.territory, self.priority, self.stake):
            combo.currentIndexChanged.connect(self.filters_changed)
        for edit in (self.since, self.until):
            edit.dateChanged.connect(self.filters_changed)
        context.database.changes.changed.connect(self._changes)
        self._tab_changed(0)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_to_font()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_to_font()

    def _fit_to_font(self) -> None:
        """Filters wide enough for their usual choices; charts tall enough for their bars, at
        every text size (the window's own adaptation keeps long choices from widening it)."""
        metrics = self.fontMetrics()
        for combo, sample in (
            (self.territory, "Tous les territoires"),
            (self.priority, "Toutes les priorités"),
            (self.stake, "Tous les enjeux"),
        ):
            combo.setMinimumWidth(metrics.horizontalAdvance(sample) + 2 * metrics.height())
        for key in self.views:
            self._fit_view(key)

    def _fit_view(self, key: str) -> None:
        """Tall enough for the chart's bars and their labels at this text size."""
        line = self.fontMetrics().height()
        table = self.tables.get(key)
        bars = 0
        if table is not None and table.kind == "bars":
            bars = len(table.drawn_rows) * (1 + len(table.series))
        self.views[key].setMinimumHeight(max(15 * line, int(bars * line * 0.9) + 8 * line))

    # -- loading -------------------------------------------------------------------------

    def filters(self) -> Filters:
        chosen: str | None = self.stake.currentData()
        stake, concern = chosen, None
        if chosen is not None and chosen.startswith(indicators.CONCERN_PREFIX):
            stake, concern = None, chosen.removeprefix(indicators.CONCERN_PREFIX)
        territory = self.territory.currentData()
        return Filters(
            cast(date, self.since.date().toPython()),
            cast(date, self.until.date().toPython()),
            (territory,) if territory else (),
            self.priority.currentData(),
            stake,
            concern,
        )

    def refresh(self) -> None:
        """Count every figure again (off the UI thread), and the yearly review: at the start
        and when the data changed. A newer request wins."""
        self._part_keys.clear()
        self._request(review=True)

    def filters_changed(self) -> None:
        """Count again what the new filters change (off the UI thread), the chart on screen
        first; a newer request wins."""
        self._request(review=False)

    def _request(self, *, review: bool) -> None:
        self._generation += 1
        generation = self._generation
        f = self.filters()
        stale = [p for p in indicators.PARTS if self._part_keys.get(p) != indicators.part_key(f, p)]
        shown = indicators.CHART_PARTS.get(self.current_key() or "")
        # The chart on screen first: its part alone, then the others in a second job (the
        # database thread runs them in turn; the first is drawn while the second counts).
        groups = [[p for p in stale if p == shown], [p for p in stale if p != shown]]
        self._waiting = set(stale)
        self.status.setText(tr("Calcul des indicateurs…"))
        for group in groups:
            if group:
                self._count(generation, f, tuple(group))
        if review:
            Operation(self.ctx.database, indicators.yearly_review).success(
                self._show_review
            ).failure(lambda error: self._failed(generation, error)).run()
        if shown not in stale:  # the chart on screen stays right (e.g. visits: a priority)
            self.painted_generation = generation
            self.painted.emit()
        if not stale:
            self._done(generation, f)

    def _count(self, generation: int, f: Filters, parts: tuple[str, ...]) -> None:
        def job(ws: Workspace) -> indicators.Dashboard:
            return indicators.dashboard(ws, f, parts)

        Operation(self.ctx.database, job).success(
            lambda board: self._show(generation, board)
        ).failure(lambda error: self._failed(generation, error)).run()

    def _changes(self, changes: Changes) -> None:
        if changes.touches(*WATCHED) and self.loaded_generation:
            self.refresh()

    def _failed(self, generation: int, error: Exception) -> None:
        if generation != self._generation:
            return
        from havre_desktop.core.errors import HavreError, ValidationError

        if isinstance(error, ValidationError):
            self.error.setText("\n".join(error.errors.values()))
        elif isinstance(error, HavreError):
            self.error.setText(error.message)
        else:
            log.error("the dashboard failed", exc_info=error)
            self.error.setText(tr("Les indicateurs n'ont pas pu être calculés."))
        self.error.setVisible(True)
        self.status.setText("")
        self._waiting.clear()
        self.painted_generation = self.loaded_generation = generation
        self.loaded.emit()

    def _show(self, generation: int, board: indicators.Dashboard) -> None:
        if generation != self._generation:
            return  # a newer filter was chosen meanwhile
        self.error.setVisible(False)
        tables = indicators.chart_tables(self.ctx.references, board)
        self.tables.update(tables)
        self._drawn.difference_update(tables)
        for key in tables:
            self._fit_view(key)
        for part in board.parts:
            self._part_keys[part] = indicators.part_key(board.filters, part)
        if "weeks" in board.parts:
            self._totals = (
                sum(r.visits for r in board.contacts_by_week),
                sum(r.calls for r in board.contacts_by_week),
            )
        self._waiting -= board.parts
        self._done(generation, board.filters)

    def _done(self, generation: int, f: Filters) -> None:
        """The chart on screen drawn when its figures are there; `loaded` once all are."""
        key = self.current_key()
        if key is None or indicators.CHART_PARTS[key] not in self._waiting:
            self._draw_current()
            self.painted_generation = generation
            self.painted.emit()
        if self._waiting:
            return
        visits, calls = self._totals
        self.status.setText(
            tr("Du {since} au {until} : {visits} visites, {calls} appels.").format(
                since=french_date(f.since.isoformat()),
                until=french_date(f.until.isoformat()),
                visits=number(visits),
                calls=number(calls),
            )
        )
        self.loaded_generation = generation
        self.loaded.emit()

    def _show_review(self, review: list[ReviewRow]) -> None:
        """The yearly review (it does not follow the filters: read at the start and when the
        data changed)."""
        self.review = review
        self.review_model.set_rows(review)
        self.review_table.resizeColumnsToContents()

    # -- drawing ---------------------------------------------------------------------------

    def ensure_drawn(self, key: str) -> None:
        """Draw chart `key` from the current figures if it was not yet (tab not shown)."""
        waiting = indicators.CHART_PARTS[key] in self._waiting  # drawn when its figures come
        if key in self.tables and key not in self._drawn and not waiting:
            self._draw(self.views[key], self.tables[key])
            self._drawn.add(key)

    def _draw_current(self) -> None:
        key = self.current_key()
        if key is not None:
            self.ensure_drawn(key)

    def _draw(self, view: QChartView, table: ChartTable) -> None:
        chart = QChart()
        chart.setTitle(tr(table.title))
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        font = self.font()
        chart.setTitleFont(font)
        chart.legend().setFont(font)
        chart.setBackgroundBrush(self.palette().base())
        chart.setTitleBrush(self.palette().text())
        chart.legend().setLabelColor(self.palette().text().color())
        if table.kind == "lines":
            self._lines(chart, table)
        else:
            self._bars(chart, table)
        for axis in chart.axes():
            axis.setLabelsFont(font)
            axis.setLabelsColor(self.palette().text().color())
            axis.setTitleBrush(self.palette().text())
        old = view.chart()
        view.setChart(chart)
        if old is not None:
            old.deleteLater()

    def _colour(self, index: int) -> QColor:
        """The series' colour, readable on the theme's background."""
        dark = self.palette().base().color().lightnessF() < 0.5
        colours = ON_DARK if dark else COLOURS
        return QColor(colours[index % len(colours)])

    def _lines(self, chart: QChart, table: ChartTable) -> None:
        x_axis = QDateTimeAxis()
        x_axis.setFormat("dd/MM")
        x_axis.setTitleText(tr("Semaine du"))
        y_axis = QValueAxis()
        y_axis.setLabelFormat("%d")
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        top = 0.0
        rows = table.drawn_rows
        xs = [float(qdatetime(str(row[0]), 12).toMSecsSinceEpoch()) for row in rows]
        for column, name in enumerate(table.series, start=1):
            series = QLineSeries()
            # "Nord", "Centre Ouest"…: the title says they are territories; the five full
            # names did not fit side by side at 200 % (the CSV keeps them whole).
            series.setName(name.removeprefix("Le Havre "))
            pen = QPen(self._colour(column - 1))
            pen.setWidth(2)
            pen.setStyle(STYLES[(column - 1) % len(STYLES)])
            series.setPen(pen)
            ys = [float(row[column]) for row in rows]
            series.replace([QPointF(x, y) for x, y in zip(xs, ys, strict=True)])  # one call
            top = max([top, *ys])
            chart.addSeries(series)
            series.attachAxis(x_axis)
            series.attachAxis(y_axis)
        if table.rows:
            first, last = str(table.rows[0][0]), str(table.rows[-1][0])
            x_axis.setRange(qdatetime(first, 0), qdatetime(last, 23))
            x_axis.setTickCount(min(len(table.rows), 8))
        y_axis.setRange(0, max(top * 1.1, 1.0))
        y_axis.applyNiceNumbers()

    def _bars(self, chart: QChart, table: ChartTable) -> None:
        series = QHorizontalBarSeries()
        rows = list(reversed(table.drawn_rows))  # the largest on top
        for column, name in enumerate(table.series, start=1):
            bar_set = QBarSet(name.removeprefix("Le Havre "))  # as the lines' legend
            bar_set.setColor(self._colour(column - 1))
            bar_set.setLabelColor(self.palette().text().color())
            for row in rows:
                bar_set.append(float(row[column]))
            series.append(bar_set)
        series.setLabelsVisible(True)
        series.setLabelsPosition(QHorizontalBarSeries.LabelsPosition.LabelsOutsideEnd)
        series.setLabelsFormat("@value")
        chart.addSeries(series)
        categories = QBarCategoryAxis()
        categories.setTruncateLabels(False)  # the space is there: never "…" for a whole label
        categories.append([shorten(str(row[0]), LABEL_LENGTH) for row in rows])
        values = QValueAxis()
        values.setLabelFormat("%d")
        top = max(
            (float(row[c]) for row in rows for c in range(1, len(table.series) + 1)), default=0
        )
        values.setRange(0, max(top * 1.15, 1.0))
        values.applyNiceNumbers()  # round ticks (0, 50, 100…), not 0, 64, 128…
        chart.addAxis(categories, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(categories)
        series.attachAxis(values)
        chart.legend().setVisible(len(table.series) > 1)

    # -- what the screen shows (tests read it as the user sees it) ---------------------------

    def shown_values(self, key: str) -> dict[str, list[float]]:
        """Per series name, the values drawn in chart `key` (bars: top to bottom); a chart
        not drawn yet is drawn first, as showing its tab does."""
        self.ensure_drawn(key)
        chart = self.views[key].chart()
        out: dict[str, list[float]] = {}
        for series in chart.series():
            if isinstance(series, QLineSeries):
                out[series.name()] = [point.y() for point in series.points()]
            elif isinstance(series, QHorizontalBarSeries):
                for bar_set in series.barSets():
                    values = [bar_set.at(i) for i in range(bar_set.count())]
                    out[bar_set.label()] = list(reversed(values))
        return out

    def shown_categories(self, key: str) -> list[str]:
        self.ensure_drawn(key)
        for axis in self.views[key].chart().axes():
            if isinstance(axis, QBarCategoryAxis):
                return list(reversed(axis.categories()))
        return []

    # -- exports -----------------------------------------------------------------------------

    def current_key(self) -> str | None:
        widget = self.tabs.currentWidget()
        for key, scroll in self.scrolls.items():
            if scroll is widget:
                return key
        return None

    def _tab_changed(self, _index: int) -> None:
        self._draw_current()
        chart = self.current_key() is not None
        self.png_button.setEnabled(chart)
        self.csv_button.setToolTip(
            tr("Les chiffres du graphique affiché")
            if chart
            else tr("La revue annuelle : chaque action et sa dernière évaluation")
        )

    def _save_name(self, title: str, suggested: str, kind: str) -> str:
        name, _filter = QFileDialog.getSaveFileName(self, title, str(Path.home() / suggested), kind)
        return name

    def _ask_csv(self) -> None:
        key = self.current_key() or "revue-annuelle"
        name = self._save_name(tr("Exporter en CSV"), f"havre-{key}.csv", tr("CSV (*.csv)"))
        if name:
            self.export_csv(Path(name))

    def _ask_png(self) -> None:
        key = self.current_key()
        if key is None:
            return
        name = self._save_name(tr("Exporter en image"), f"havre-{key}.png", tr("Image (*.png)"))
        if name:
            self.export_png(Path(name))

    def _ask_anonymised(self) -> None:
        year = self.filters().until.year
        name = self._save_name(
            tr("Export anonymisé de l'année"), f"havre-anonymise-{year}.csv", tr("CSV (*.csv)")
        )
        if name:
            self.export_anonymised(Path(name), year)

    def csv_text(self, key: str | None) -> str:
        if key is not None:
            return self.tables[key].csv() if key in self.tables else ""
        return indicators.table_csv(
            ("Code", "Action", "Statut", "Dernière évaluation", "Décision", "Commentaire"),
            [
                (
                    r.code,
                    r.title,
                    self.ctx.references["action_statuses"].get(r.status, r.status),
                    r.evaluated_on or "",
                    VERDICTS.get(r.verdict or "", ""),
                    r.comment or "",
                )
                for r in self.review
            ],
        )

    def export_csv(self, path: Path) -> None:
        """The current chart's figures (or the yearly review) as CSV."""
        key = self.current_key()
        self._write(path, self.csv_text(key).encode("utf-8-sig"), key or "revue-annuelle")

    def export_png(self, path: Path) -> None:
        key = self.current_key()
        if key is None:
            return
        if not self.views[key].grab().save(str(path), "PNG"):
            self._tell(tr("L'image n'a pas pu être enregistrée."), error=True)
            return
        self._exported(path, key)

    def export_anonymised(self, path: Path, year: int) -> None:
        def job(ws: Workspace) -> bytes:
            return indicators.anonymised_csv(ws, year).encode("utf-8-sig")

        Operation(self.ctx.database, job).success(
            lambda data: self._write(path, data, f"anonymise-{year}")
        ).failure(self._export_failed).run()

    def _write(self, path: Path, data: bytes, what: str) -> None:
        try:
            path.write_bytes(data)
        except OSError:
            self._tell(tr("Le fichier n'a pas pu être enregistré (dossier ou droits ?)."), True)
            return
        self._exported(path, what)

    def _exported(self, path: Path, what: str) -> None:
        Operation(
            self.ctx.database,
            lambda ws: audit.record(ws, "export", "tableau-de-bord", None, {"export": what}),
        ).run()
        self._tell(tr("Enregistré : {name}").format(name=path.name))

    def _export_failed(self, error: Exception) -> None:
        log.error("an export failed", exc_info=error)
        self._tell(tr("L'export n'a pas pu être fait."), error=True)

    def _tell(self, text: str, error: bool = False) -> None:
        if error:
            self.error.setText(text)
            self.error.setVisible(True)
        else:
            self.error.setVisible(False)
            self.status.setText(text)

    # -- evaluation ----------------------------------------------------------------------------

    def selected_review_row(self) -> ReviewRow | None:
        index = self.review_table.currentIndex()
        return self.review_model.row(index.row()) if index.isValid() else None

    def evaluate_selected(self) -> None:
        row = self.selected_review_row()
        if row is None:
            self._tell(tr("Choisissez d'abord une action dans la liste."), error=True)
            return
        f = self.filters()
        dialog = EvaluationDialog(self.ctx, row, f.since, f.until, self)
        dialog.open()
        self.evaluation_dialog = dialog


VERDICTS = {"poursuivre": "Poursuivre", "adapter": "Adapter", "arreter": "Arrêter"}


def qdatetime(day: str, hour: int) -> QDateTime:
    parsed = date.fromisoformat(day)
    return QDateTime(QDate(parsed.year, parsed.month, parsed.day), QTime(hour, 0))


def number(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


def shorten(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class EvaluationDialog(SavingForm):
    """An action's figures over the period, and the coordinator's verdict with a comment."""

    announces = ("action_evaluations",)

    def __init__(
        self, context: UiContext, action: ReviewRow, since: date, until: date, parent: QWidget
    ) -> None:
        super().__init__(context.database, "action_evaluations", log, parent)
        self.ctx = context
        self.action = action
        self.since, self.until = since, until
        self.figures: ActionIndicators | None = None
        self.setWindowTitle(tr("Évaluer : {title}").format(title=action.title))
        self.summary = QLabel(tr("Calcul des indicateurs…"))
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(tr("Indicateurs de l'action"))
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.reach_model: RowsModel[indicators.Reach] = RowsModel(
            [
                (
                    tr("Territoire"),
                    lambda r: context.references["territories"].get(r.territory_id, r.territory_id),
                ),
                (
                    tr("Tranche d'âge"),
                    lambda r: {
                        **context.references["age_groups"],
                        indicators.UNKNOWN_AGE: indicators.UNKNOWN_AGE_LABEL,
                    }.get(r.age_group_id, r.age_group_id),
                ),
                (tr("Personnes touchées"), lambda r: r.persons),
            ]
        )
        self.reach_table: QTableView = table_view(tr("Personnes touchées par territoire et âge"))
        self.reach_table.setModel(self.reach_model)
        self.verdict = QComboBox()
        self.verdict.setAccessibleName(tr("Décision"))
        for verdict_id, label in VERDICTS.items():
            self.verdict.addItem(tr(label), verdict_id)
        self.participants = QLineEdit()
        self.participants.setAccessibleName(tr("Participants"))
        self.comment = QPlainTextEdit()
        self.comment.setAccessibleName(tr("Commentaire"))
        self.comment.setTabChangesFocus(True)
        form = QFormLayout()
        self.errors.add_row(form, tr("&Décision\u00a0:"), "verdict", self.verdict)
        self.errors.add_row(form, tr("&Participants\u00a0:"), "participants", self.participants)
        self.errors.add_row(form, tr("&Commentaire\u00a0:"), "comment", self.comment)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.reach_table, 1)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self.buttons.button(self.buttons.StandardButton.Save).setText(
            tr("&Enregistrer la décision")
        )
        self.summary.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.reach_table.setMinimumHeight(6 * self.fontMetrics().height())
        metrics = self.fontMetrics()
        self.resize(70 * metrics.averageCharWidth(), 36 * metrics.height())
        action_id = action.action_id
        Operation(
            context.database,
            lambda ws: indicators.action_indicators(ws, action_id, since, until),
        ).success(self._show_figures).run()

    def _show_figures(self, figures: ActionIndicators) -> None:
        self.figures = figures
        lines = [
            tr("Période : du {since} au {until}.").format(
                since=french_date(figures.since.isoformat()),
                until=french_date(figures.until.isoformat()),
            ),
            tr("Visites qui l'ont proposée : {n} ({p} personnes).").format(
                n=number(figures.visits_proposing), p=number(figures.persons_proposed)
            ),
            tr("Documents remis qui la citent : {n}, dont {d} imprimés à l'accueil.").format(
                n=number(figures.handouts_listing), d=number(figures.desk_handouts)
            ),
            tr("Personnes qui l'ont prise (document demandé) : {n}.").format(
                n=number(figures.taken_up)
            ),
            tr("Personnes touchées : {n}.").format(n=number(figures.persons_reached)),
        ]
        if figures.test is not None:
            lines.append(
                tr(
                    "Test à petite échelle depuis le {since} : {p} personnes touchées, "
                    "{t} l'ont prise sur {n} à qui elle a été proposée."
                ).format(
                    since=french_date(figures.test.since.isoformat()),
                    p=number(figures.test.persons_reached),
                    t=number(figures.test.taken_up),
                    n=number(figures.test.persons_proposed),
                )
            )
        if figures.participants is not None:
            lines.append(
                tr("Participants à la dernière évaluation : {n}.").format(
                    n=number(figures.participants)
                )
            )
        self.summary.setText("\n".join(lines))
        self.reach_model.set_rows(list(figures.reached))
        self.reach_table.resizeColumnsToContents()

    def save_job(self) -> Callable[[Workspace], dict[str, Any]]:
        action_id, since, until = self.action.action_id, self.since, self.until
        values = {
            "verdict": self.verdict.currentData(),
            "participants": self.participants.text().strip() or None,
            "comment": self.comment.toPlainText().strip() or None,
        }
        return lambda ws: indicators.record_verdict(ws, action_id, since, until, values)
