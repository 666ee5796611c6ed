"""Tableau de bord, by keyboard, on a real encrypted profile with a generated year.

What the charts show is read from the charts themselves (their series) and compared with
independent queries written here; the filters, chosen with Alt+letter and the arrow keys,
change what is shown; exports write the shown figures; an evaluation is recorded from the
keyboard and appears in the yearly review.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from havre_desktop.core import demo
from havre_desktop.ui.pages.dashboard_page import (
    LABEL_LENGTH,
    DashboardPage,
    EvaluationDialog,
    shorten,
)
from tests.ui.conftest import DemoApp, Keyboard
from tests.ui.layout_checks import clipped_texts, unnamed_controls
from tests.ui.test_mnemonics import clashes


def loaded(app: DemoApp, page: DashboardPage) -> None:
    app.qtbot.waitUntil(
        lambda: page.loaded_generation == page._generation and page.loaded_generation > 0,
        timeout=20_000,
    )
    app.settle()


def weekly(app: DemoApp, first: str, last: str, territory: str, calls: bool) -> list[float]:
    """Visits (or calls) per Monday-started week, one territory: independent SQL."""
    kinds = "('appel', 'appel-alerte')"
    rows = app.query(
        "SELECT date(julianday(substr(occurred_at, 1, 10)) - "
        "((CAST(strftime('%w', substr(occurred_at, 1, 10)) AS INTEGER) + 6) % 7)) AS week, "
        "count(*) AS n FROM visits NOT INDEXED WHERE deleted = 0 "
        "AND substr(occurred_at, 1, 10) BETWEEN ? AND ? "
        f"AND kind {'IN' if calls else 'NOT IN'} {kinds} "
        "AND person_id IN (SELECT id FROM contacts WHERE territory_id = ?) GROUP BY 1",
        (first, last, territory),
    )
    counts = {r["week"]: int(str(r["n"])) for r in rows}
    monday = date.fromisoformat(first)
    monday -= timedelta(days=monday.weekday())
    out = []
    while monday <= date.fromisoformat(last):
        out.append(float(counts.get(monday.isoformat(), 0)))
        monday += timedelta(days=7)
    return out


def per_need(app: DemoApp, sql: str, params: tuple[Any, ...]) -> dict[str, float]:
    """Need (as the chart labels it: long names shortened) → count."""
    return {
        shorten(str(r["label"]), LABEL_LENGTH): float(str(r["n"])) for r in app.query(sql, params)
    }


def test_dashboard_by_keyboard(
    coordinator_app: DemoApp, keyboard: Keyboard, tmp_path: Path
) -> None:
    app = coordinator_app
    window = app.window
    today = window.ctx.local_now().date()
    first_day = today - timedelta(days=364)
    seeded: list[dict[str, int]] = []
    app.database.submit(
        lambda ws: demo.seed_activity_year(ws, first_day, demo.ActivitySize.small(), seed=7),
        seeded.append,
    )
    app.qtbot.waitUntil(lambda: bool(seeded), timeout=60_000)
    page = window.show_page("dashboard")
    assert isinstance(page, DashboardPage)
    page.refresh()
    loaded(app, page)
    first, last = (today - timedelta(days=364)).isoformat(), today.isoformat()

    # Every territory: one line per territory, its weekly visits and calls as counted here.
    shown = page.shown_values("visites")
    assert set(shown) == {"Nord", "Centre Ouest", "Centre Est", "Est", "Sud"}
    assert shown["Sud"] == weekly(app, first, last, "sud", calls=False)
    assert page.shown_values("appels")["Est"] == weekly(app, first, last, "est", True)
    needs = per_need(
        app,
        "SELECT n.name AS label, (SELECT count(*) FROM visits v WHERE v.deleted = 0 "
        "AND substr(v.occurred_at, 1, 10) BETWEEN ? AND ? "
        "AND instr(v.need_ids, '\"' || n.id || '\"') > 0) AS n "
        "FROM ref_items n WHERE n.list = 'need_kinds'",
        (first, last),
    )
    assert (
        dict(
            zip(
                page.shown_categories("besoins"),
                page.shown_values("besoins")["Visites et appels"],
                strict=True,
            )
        )
        == needs
    )
    desk = per_need(
        app,
        "SELECT n.name AS label, (SELECT count(*) FROM reception_encounters e "
        "WHERE e.need_id = n.id AND substr(e.occurred_at, 1, 10) BETWEEN ? AND ?) AS n "
        "FROM ref_items n WHERE n.list = 'need_kinds'",
        (first, last),
    )
    assert (
        dict(
            zip(
                page.shown_categories("accueils"),
                page.shown_values("accueils")["Accueils"],
                strict=True,
            )
        )
        == desk
    )
    assert sum(desk.values()) == 600
    coverage = app.query(
        "SELECT t.name AS label, round(100.0 * sum(c.id IN (SELECT person_id FROM "
        "register_enrolments WHERE deleted = 0 AND removed_on IS NULL AND enrolled_on <= ?)) "
        "/ count(*), 1) AS pct FROM contacts c JOIN ref_territories t ON t.id = c.territory_id "
        "WHERE c.kind = 'person' AND c.deleted = 0 AND c.archived = 0 AND c.birth_date <= ? "
        "GROUP BY t.id ORDER BY t.sort",
        (last, date(today.year - 65, today.month, today.day).isoformat()),
    )
    assert page.shown_values("registre")["Couverture (%)"] == [
        float(str(r["pct"])) for r in coverage
    ]
    all_actions = page.shown_values("actions")["Proposée à (personnes)"]
    assert len(all_actions) == 10  # the 10 most proposed; the CSV has every action

    # Alt+T, Down: Le Havre Nord only. The lines and figures change.
    keyboard.key(Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    app.qtbot.waitUntil(lambda: page.territory.hasFocus())
    keyboard.key(Qt.Key.Key_Down)
    loaded(app, page)
    app.qtbot.waitUntil(lambda: list(page.shown_values("visites")) == ["Nord"])
    loaded(app, page)
    assert page.shown_values("visites")["Nord"] == weekly(app, first, last, "nord", False)
    assert sum(page.shown_values("besoins")["Visites et appels"]) < sum(needs.values())

    # Alt+P, five times Down: priority 5. Only its actions remain.
    keyboard.key(Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    app.qtbot.waitUntil(lambda: page.priority.hasFocus())
    for _ in range(5):
        keyboard.key(Qt.Key.Key_Down)
    app.qtbot.waitUntil(lambda: page.priority.currentData() == "P05")
    loaded(app, page)
    codes = {
        str(r["code"])
        for r in app.query("SELECT code FROM actions WHERE priority_id = 'P05' AND deleted = 0")
    }
    shown_actions = page.shown_categories("actions")
    assert shown_actions and all(label.split(" — ")[0] in codes for label in shown_actions)
    # A priority changes the actions alone: the other charts keep their (right) figures.
    assert page.shown_values("visites")["Nord"] == weekly(app, first, last, "nord", False)

    # Alt+E: the transversal concern is a choice of its own, under the two stakes.
    keyboard.key(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    app.qtbot.waitUntil(lambda: page.stake.hasFocus())
    labels = [page.stake.itemText(i) for i in range(page.stake.count())]
    assert labels[-1] == "Transversal : Inclusion des personnes en situation de handicap"
    assert labels[1].startswith("Enjeu 1 : ") and labels[2].startswith("Enjeu 2 : ")

    # Exports: the shown chart as CSV (its figures) and PNG (a real image).
    page.tabs.setCurrentWidget(page.scrolls["besoins"])
    csv_path, png_path = tmp_path / "besoins.csv", tmp_path / "besoins.png"
    page.export_csv(csv_path)
    page.export_png(png_path)
    rows = list(csv.reader(io.StringIO(csv_path.read_text("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Besoin", "Visites et appels"]
    assert {shorten(r[0], LABEL_LENGTH): float(r[1]) for r in rows[1:]} == dict(
        zip(
            page.shown_categories("besoins"),
            page.shown_values("besoins")["Visites et appels"],
            strict=True,
        )
    )
    image = QImage(str(png_path))
    assert not image.isNull() and image.width() > 200
    # Every chart, not only this one: its CSV holds what the chart draws, its PNG is an image.
    for key in page.views:
        page.tabs.setCurrentWidget(page.scrolls[key])
        chart_csv, chart_png = tmp_path / f"{key}.csv", tmp_path / f"{key}.png"
        page.export_csv(chart_csv)
        page.export_png(chart_png)
        table = page.tables[key]
        lines = list(csv.reader(io.StringIO(chart_csv.read_text("utf-8-sig")), delimiter=";"))
        assert lines[0] == list(table.header) and len(lines) == len(table.rows) + 1, key
        shown = page.shown_values(key)
        drawn = lines[1 : 1 + len(table.drawn_rows)]
        for column, name in enumerate(table.series, start=1):
            assert shown[name.removeprefix("Le Havre ")] == [float(r[column]) for r in drawn]
        picture = QImage(str(chart_png))
        assert not picture.isNull() and picture.width() > 200, key
    # What "taken up" counts is said under the actions chart.
    page.tabs.setCurrentWidget(page.scrolls["actions"])
    assert page.taken_up_help.isVisible()
    assert "« Prise par » : parmi elles" in page.taken_up_help.text()
    app.qtbot.waitUntil(
        lambda: len(app.query("SELECT id FROM audit_log WHERE event = 'export'")) >= 14
    )
    anonymised = tmp_path / "anonymise.csv"
    page.export_anonymised(anonymised, today.year)
    app.qtbot.waitUntil(anonymised.exists)
    assert anonymised.read_text("utf-8-sig").startswith("Année;Code action;Action;")

    # The yearly review; Alt+V evaluates the chosen action; the verdict is saved and listed.
    page.tabs.setCurrentIndex(page.tabs.count() - 1)
    assert page.review_model.rowCount() == int(
        str(app.query("SELECT count(*) AS n FROM actions WHERE deleted = 0")[0]["n"])
    )
    row = next(i for i, r in enumerate(page.review_model.rows) if r.status == "en-test")
    page.review_table.setFocus()
    page.review_table.selectRow(row)
    action = page.review_model.rows[row]
    keyboard.key(Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    app.qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), EvaluationDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, EvaluationDialog)
    app.qtbot.waitUntil(lambda: dialog.figures is not None)
    assert "Test à petite échelle" in dialog.summary.text()
    assert clashes(dialog) == []
    keyboard.key(Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    keyboard.key(Qt.Key.Key_Down)  # Adapter
    keyboard.key(Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    keyboard.type("Ouvrir aussi le samedi matin.")
    keyboard.key(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    app.qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    saved = app.query(
        "SELECT verdict, comment, period_start, period_end FROM action_evaluations "
        "WHERE action_id = ?",
        (action.action_id,),
    )
    assert saved == [
        {
            "verdict": "adapter",
            "comment": "Ouvrir aussi le samedi matin.",
            "period_start": page.filters().since.isoformat(),
            "period_end": page.filters().until.isoformat(),
        }
    ]
    app.qtbot.waitUntil(
        lambda: any(
            r.action_id == action.action_id and r.verdict == "adapter"
            for r in page.review_model.rows
        ),
        timeout=20_000,
    )


def test_a_bad_period_says_so_in_french(coordinator_app: DemoApp) -> None:
    page = coordinator_app.window.show_page("dashboard")
    assert isinstance(page, DashboardPage)
    loaded(coordinator_app, page)
    page.until.setDate(page.since.date().addDays(-3))
    coordinator_app.qtbot.waitUntil(lambda: page.error.isVisible(), timeout=10_000)
    assert "La fin de la période doit suivre son début." in page.error.text()


def test_only_coordinators_have_the_dashboard(demo_app: DemoApp) -> None:
    assert "dashboard" not in demo_app.window.page_keys


@pytest.mark.parametrize("scale", [100, 200])
def test_dashboard_shows_whole_texts_names_its_controls_and_fits(
    coordinator_app: DemoApp, scale: int
) -> None:
    """Every tab at 100 % and 200 %: no clipped text, every control named; at 200 % the
    smallest window the dashboard allows fits a 1366 × 768 screen."""
    app = coordinator_app
    window = app.window
    assert window.theme is not None
    window.theme.apply(scale)
    window.adapt_to_font()
    page = window.show_page("dashboard")
    assert isinstance(page, DashboardPage)
    loaded(app, page)
    problems = []
    for index in range(page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        app.settle()
        window.adapt_to_font()
        QApplication.processEvents()
        tab = page.tabs.tabText(index)
        problems += [f"{tab} ({scale} %): {p}" for p in clipped_texts(window)]
        problems += [f"{tab} ({scale} %): {p}" for p in unnamed_controls(window)]
    assert problems == [], "\n".join(problems)
    if scale == 200:
        minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
        frame = window.frameGeometry().size() - window.geometry().size()
        assert minimum.width() + frame.width() <= 1366, (minimum, frame)
        assert minimum.height() + frame.height() <= 768, (minimum, frame)
