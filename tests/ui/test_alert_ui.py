"""Alerte in the window, driven from the keyboard on a real encrypted profile: the agent's call
list in risk order, one key per outcome, the next step (call back, emergency contact, visit
today), "Appelez le 15" in words, a person also called by a colleague shown as such; the
coordinator's local progress, call sheet and paper sheet; nothing for an agent without the
register right.

The campaign and its calls are written as a pull writes them (the server's rows, no outbox);
journey 7 (tests/sync/test_journey_heatwave.py) does it with a real server.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from havre_common import contract
from havre_desktop.core.workspace import Workspace, new_id
from havre_desktop.ui.pages.alert_page import AlertPage
from havre_desktop.ui.pages.campaign_coordination import (
    CoordinationTab,
    PaperSheetDialog,
    ProcedureDialog,
)
from havre_desktop.ui.pages.dashboard_page import LABEL_LENGTH, shorten
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard, make_app
from tests.ui.test_mnemonics import clashes

COLLEAGUE = "00000000-0000-4000-8000-00000000c0de"
CAMPAIGN = "00000000-0000-4000-8000-0000000ca4a1"


def _prepare(ws: Workspace) -> None:
    """A campaign with four persons of Le Havre Nord on the agent's list, one also called by a
    colleague (as a reassignment leaves it)."""
    with ws.store.transaction() as conn:
        conn.execute("UPDATE agents SET register_right = 1")
    persons = ws.store.query(
        "SELECT id FROM contacts WHERE kind = 'person' AND deleted = 0 AND territory_id = 'nord' "
        "AND phone_1 IS NOT NULL ORDER BY id LIMIT 4"
    )
    now = ws.clock.now_iso()
    with ws.store.transaction():
        ws.write_row(
            "agents",
            {
                "id": COLLEAGUE,
                "display_name": "Claire Martin",
                "role": "travailleur-social",
                "territory_ids": ["nord"],
                "register_right": True,
                "updated_at": now,
            },
            outbox=False,
        )
        ws.write_row(
            "alert_campaigns",
            {
                "id": CAMPAIGN,
                "kind": "canicule",
                "level": "orange",
                "title": "Canicule de juillet",
                "territory_ids": ["nord"],
                "starts_on": ws.clock.today().isoformat(),
                "retry_delay_min": 45,
                "failed_calls_before_emergency": 2,
                "updated_at": now,
            },
            outbox=False,
        )
        for rank, person in enumerate(persons, start=1):
            call = {
                "id": new_id(),
                "campaign_id": CAMPAIGN,
                "person_id": person["id"],
                "agent_id": ws.agent_id,
                "rank": rank,
                "risk_score": 100 - rank,
                "risk_reasons": ["vit-seul", "mobilite-reduite"] if rank == 1 else ["vit-seul"],
                "assigned_at": now,
                "updated_at": now,
            }
            ws.write_row("campaign_calls", call, outbox=False)
            if rank == 4:  # the colleague called her before the list came here
                ws.write_row(
                    "campaign_outcomes",
                    {
                        "campaign_id": CAMPAIGN,
                        "call_id": call["id"],
                        "person_id": person["id"],
                        "agent_id": COLLEAGUE,
                        "called_whom": "personne",
                        "outcome": "pas-de-reponse",
                        "called_at": now,
                        "created_at": now,
                    },
                    outbox=False,
                )


@pytest.fixture
def alert_app(tmp_path: Path, qtbot: QtBot) -> Iterator[DemoApp]:
    yield from make_app(tmp_path, qtbot, role="coordinateur", prepare=_prepare)


def _page(app: DemoApp) -> AlertPage:
    page = app.window.show_page("alert")
    assert isinstance(page, AlertPage)
    app.settle()
    app.qtbot.waitUntil(lambda: page.calls.model.rowCount() == 4, timeout=10_000)
    return page


def _outcomes(app: DemoApp) -> list[dict[str, Any]]:
    return app.query(
        "SELECT o.outcome, o.called_whom, o.urgent, o.note, o.agent_id, o.entered_by, k.rank "
        "FROM campaign_outcomes o JOIN campaign_calls k ON k.id = o.call_id "
        "WHERE o.agent_id <> ? ORDER BY o.created_at, k.rank",
        (COLLEAGUE,),
    )


def test_the_list_one_key_per_outcome_and_the_next_step(
    alert_app: DemoApp, keyboard: Keyboard
) -> None:
    app = alert_app
    page = _page(app)
    calls = page.calls
    assert "Canicule — niveau orange : Canicule de juillet" in page.heading.text()
    assert "rappeler après 45 min" in page.settings.text()  # the campaign's own delay
    assert "après 2 appels sans réponse" in page.settings.text()
    assert [r.rank for r in calls.model.rows] == [1, 2, 3, 4]
    assert "Personne vivant seule, Mobilité réduite" in calls.person.text()
    assert calls.model.data(calls.model.index(3, 2)).endswith("\nAussi appelée par Claire Martin")
    for number, button in enumerate(calls.outcome_buttons.values(), start=1):
        assert button.text().startswith(f"{number} · ")  # the key is on the button

    calls.table.setFocus()
    app.qtbot.waitUntil(calls.table.hasFocus)
    calls.table.selectRow(0)
    keyboard.type("1")  # Jointe, va bien
    app.qtbot.waitUntil(lambda: len(_outcomes(app)) == 1, timeout=10_000)
    app.qtbot.waitUntil(lambda: "Jointe, va bien" in calls.model.data(calls.model.index(0, 2)))

    calls.table.selectRow(1)
    keyboard.type("2")  # Besoin d'aide → a visit today in Ma journée
    app.qtbot.waitUntil(lambda: len(_outcomes(app)) == 2, timeout=10_000)
    app.qtbot.waitUntil(lambda: "Une visite est prévue aujourd'hui" in calls.status.text())
    planned = app.query(
        "SELECT due_on, kind, reason FROM planned_contacts WHERE reason LIKE 'Campagne%'"
    )
    assert [(p["due_on"], p["kind"]) for p in planned] == [
        (app.window.ctx.today.isoformat(), "visite")
    ]
    today = app.window.today_page
    app.qtbot.waitUntil(
        lambda: any(
            "Canicule de juillet" in str(today.due_model.data(today.due_model.index(r, 1)))
            for r in range(today.due_model.rowCount())
        ),
        timeout=10_000,
    )

    # No answer twice (the second after the delay: recorded at the same minute, the app
    # still says when to call back) → the emergency contact.
    calls.table.selectRow(2)
    keyboard.type("3")
    app.qtbot.waitUntil(lambda: len(_outcomes(app)) == 3, timeout=10_000)
    app.qtbot.waitUntil(
        lambda: "Rappeler" in calls.model.data(calls.model.index(2, 2)), timeout=10_000
    )
    calls.table.selectRow(2)
    keyboard.type("3")
    app.qtbot.waitUntil(lambda: len(_outcomes(app)) == 4, timeout=10_000)
    app.qtbot.waitUntil(
        lambda: "appelez son contact d'urgence" in calls.model.data(calls.model.index(2, 2)),
        timeout=10_000,
    )
    calls.table.selectRow(2)
    app.qtbot.waitUntil(lambda: calls.callee.currentData() == "contact-urgence")

    # Urgent, with a note, from the note field: Ctrl+key.
    calls.table.selectRow(3)
    calls.urgent.setChecked(True)
    assert calls.urgent_banner.isVisibleTo(page) and "APPELEZ LE 15" in calls.urgent_banner.text()
    calls.note.setFocus()
    app.qtbot.waitUntil(calls.note.hasFocus)
    keyboard.type("Malaise, SAMU appele")
    keyboard.key(Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    app.qtbot.waitUntil(lambda: len(_outcomes(app)) == 5, timeout=10_000)
    assert [(o["rank"], o["outcome"], o["called_whom"], o["urgent"]) for o in _outcomes(app)] == [
        (1, "joint-bien", "personne", 0),
        (2, "besoin-aide", "personne", 0),
        (3, "pas-de-reponse", "personne", 0),
        (3, "pas-de-reponse", "personne", 0),
        (4, "besoin-aide", "personne", 1),
    ]
    assert _outcomes(app)[-1]["note"] == "Malaise, SAMU appele"
    app.qtbot.waitUntil(
        lambda: "APPELEZ LE 15" in calls.model.data(calls.model.index(3, 2)).upper(),
        timeout=10_000,
    )


def test_the_coordinator_sees_local_progress_prints_a_sheet_and_types_a_paper_one(
    alert_app: DemoApp, dialogs: DialogDriver
) -> None:
    app = alert_app
    page = _page(app)
    tab = page.coordination
    assert isinstance(tab, CoordinationTab)
    page.tabs.setCurrentWidget(tab)
    app.qtbot.waitUntil(lambda: tab.territory_model.rowCount() == 1, timeout=10_000)
    assert "Chiffres de cet ordinateur" in tab.source.text()
    assert clashes(app.window) == []  # the coordination tab's Alt+letters, with the window's
    assert tab.waiting_model.rowCount() == 4  # nobody reached yet
    assert (
        tab.totals.text()
        == "4 personnes sur les listes — 0 jointe — 4 pas encore jointes — 0 escalade"
    )

    app.qtbot.waitUntil(lambda: tab.sheet_agent.count() == 1, timeout=10_000)
    tab.sheet_button.click()
    app.qtbot.waitUntil(lambda: tab.last_preview is not None, timeout=20_000)
    with pdfplumber.open(io.BytesIO(tab.last_pdf)) as doc:
        text = "\n".join(p.extract_text() or "" for p in doc.pages)
    assert "Liste d'appels — Canicule — niveau orange" in text
    assert "4 personnes à appeler" in text
    assert tab.last_preview is not None
    tab.last_preview.close()

    def fill(dialog: Any) -> None:
        assert isinstance(dialog, PaperSheetDialog)
        app.qtbot.waitUntil(lambda: dialog.person.count() == 4, timeout=10_000)
        dialog.outcome.setCurrentIndex(dialog.outcome.findData("joint-bien"))
        dialog.save_button.click()
        app.qtbot.waitUntil(lambda: "enregistré" in dialog.status.text(), timeout=10_000)
        dialog.reject()

    dialogs.when(PaperSheetDialog, fill)
    tab.paper_button.click()
    dialogs.check()
    (typed,) = _outcomes(app)
    assert typed["outcome"] == "joint-bien" and typed["entered_by"] is None  # her own list
    app.qtbot.waitUntil(lambda: tab.waiting_model.rowCount() == 3, timeout=10_000)


def test_no_alert_page_without_the_register_right(demo_app: DemoApp) -> None:
    assert not demo_app.window.ctx.register_right
    assert "alert" not in demo_app.window.page_keys
    assert "Alerte" not in demo_app.window.page_names


def test_the_dashboard_counts_the_campaign_outcomes(alert_app: DemoApp, keyboard: Keyboard) -> None:
    """Tableau de bord → Campagnes d'alerte: what the bars show, against a count written here."""
    from havre_desktop.ui.pages.dashboard_page import DashboardPage  # QtCharts: when needed

    app = alert_app
    page = _page(app)
    calls = page.calls
    calls.table.setFocus()
    app.qtbot.waitUntil(calls.table.hasFocus)
    for row, key in ((0, "1"), (1, "3"), (2, "3")):
        calls.table.selectRow(row)
        keyboard.type(key)
        app.qtbot.waitUntil(lambda n=row: len(_outcomes(app)) == n + 1, timeout=10_000)
    board = app.window.show_page("dashboard")
    assert isinstance(board, DashboardPage)
    board.refresh()
    app.qtbot.waitUntil(lambda: bool(board.shown_categories("campagnes")), timeout=20_000)
    app.settle()
    f = board.filters()
    counted = {
        str(r["label"]): float(str(r["n"]))
        for r in app.query(
            "SELECT o.outcome AS label, count(*) AS n FROM campaign_outcomes o "
            "JOIN contacts c ON c.id = o.person_id WHERE c.territory_id = 'nord' "
            "AND o.called_at >= ? AND o.called_at < ? GROUP BY 1",
            (f.since.isoformat(), (f.until + timedelta(days=1)).isoformat()),
        )
    }
    assert counted == {"joint-bien": 1.0, "pas-de-reponse": 3.0}  # 2 here, 1 by the colleague
    labels = dict(contract.ENUMS["campaign_outcomes"])
    drawn = board.shown_values("campagnes")  # one series a territory
    values = drawn.pop(app.window.ctx.references["territories"]["nord"].removeprefix("Le Havre "))
    assert all(v == 0 for other in drawn.values() for v in other)  # all were in Nord
    shown = dict(zip(board.shown_categories("campagnes"), values, strict=True))
    assert shown == {shorten(labels[code], LABEL_LENGTH): counted.get(code, 0.0) for code in labels}


@pytest.fixture
def season_app(tmp_path: Path, qtbot: QtBot) -> Iterator[tuple[DemoApp, dict[str, str]]]:
    """The campaign of alert_app, and one current action flagged as a cooled room."""
    flagged: dict[str, str] = {}

    def prepare(ws: Workspace) -> None:
        _prepare(ws)
        action = ws.store.query(
            "SELECT id, title FROM actions WHERE deleted = 0 AND status = 'en-cours' "
            "ORDER BY title DESC LIMIT 1"
        )[0]
        flagged.update(id=str(action["id"]), title=str(action["title"]))
        with ws.store.transaction() as conn:
            conn.execute(
                "UPDATE actions SET seasonal = ? WHERE id = ?",
                ('{"salle-rafraichie": 1}', flagged["id"]),
            )

    for app in make_app(tmp_path, qtbot, role="coordinateur", prepare=prepare):
        yield app, flagged


def test_the_actions_of_the_season_are_offered_first(
    season_app: tuple[DemoApp, dict[str, str]],
) -> None:
    app, flagged = season_app
    offer = _page(app).calls.offer
    app.qtbot.waitUntil(lambda: offer.itemData(1) == flagged["id"], timeout=10_000)
    assert offer.itemText(0) == "Aucune"
    # a heatwave campaign: the cooled room first, said so; not offered twice
    assert offer.itemText(1).startswith("Pour la saison : " + flagged["title"])
    ids = [offer.itemData(i) for i in range(offer.count())]
    assert ids.count(flagged["id"]) == 1
    assert len(ids) == 1 + len(app.window.ctx.current_actions)


@pytest.fixture
def escalated_app(tmp_path: Path, qtbot: QtBot) -> Iterator[DemoApp]:
    """The campaign of alert_app; nobody answered for the first person, nor her emergency
    contact, nor the door: she is in the coordinator's escalation."""

    def prepare(ws: Workspace) -> None:
        _prepare(ws)
        call = ws.store.query_one(
            "SELECT id, person_id FROM campaign_calls WHERE campaign_id = ? AND rank = 1",
            (CAMPAIGN,),
        )
        assert call is not None
        start = ws.clock.now() - timedelta(hours=4)
        with ws.store.transaction():
            for minutes, whom in ((0, "personne"), (60, "personne"),
                                  (70, "contact-urgence"), (180, "visite-domicile")):  # fmt: skip
                when = (start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                ws.write_row(
                    "campaign_outcomes",
                    {
                        "campaign_id": CAMPAIGN,
                        "call_id": call["id"],
                        "person_id": call["person_id"],
                        "agent_id": COLLEAGUE,
                        "called_whom": whom,
                        "outcome": "pas-de-reponse",
                        "called_at": when,
                        "created_at": when,
                    },
                    outbox=False,
                )

    yield from make_app(tmp_path, qtbot, role="coordinateur", prepare=prepare)


def test_the_coordinator_records_the_citys_procedure_from_the_keyboard(
    escalated_app: DemoApp, keyboard: Keyboard, dialogs: DialogDriver
) -> None:
    """Journey 7's end: the escalated person, chosen in "À signaler"; Alt+V; the procedure
    noted as started (police), then what was found: she leaves the escalations."""
    app = escalated_app
    page = _page(app)
    tab = page.coordination
    assert isinstance(tab, CoordinationTab)
    page.tabs.setCurrentWidget(tab)
    app.qtbot.waitUntil(lambda: tab.noted_model.rowCount() == 1, timeout=10_000)
    assert "police ou pompiers" in tab.noted_model.data(tab.noted_model.index(0, 3))
    tab.noted_table.setFocus()
    app.qtbot.waitUntil(tab.noted_table.hasFocus)
    tab.noted_table.selectRow(0)

    def fill(dialog: Any) -> None:
        assert isinstance(dialog, ProcedureDialog)
        assert clashes(dialog) == []
        app.qtbot.waitUntil(lambda: dialog.person.count() == 1, timeout=10_000)
        assert "Personne à la porte" in dialog.step.text()
        # The step in full: as tall as its wrapped lines (it overlapped at 100 %).
        assert dialog.step.height() >= dialog.step.heightForWidth(dialog.step.width())
        assert dialog.outcome.currentData() == "procedure-declenchee"
        dialog.note.setFocus()
        app.qtbot.waitUntil(dialog.note.hasFocus)
        keyboard.type("Police nationale prevenue")
        keyboard.key(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
        app.qtbot.waitUntil(lambda: "enregistré" in dialog.status.text(), timeout=10_000)
        assert "résultat attendu" in dialog.status.text()
        # Started: now what was found is asked, not a second start.
        app.qtbot.waitUntil(
            lambda: dialog.outcome.findData("procedure-declenchee") == -1, timeout=10_000
        )
        assert dialog.outcome.itemText(0) == "Trouvée, va bien"
        keyboard.key(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
        app.qtbot.waitUntil(
            lambda: "Plus personne en escalade" in dialog.status.text(), timeout=10_000
        )
        assert "Trouvée par la police ou les pompiers" in dialog.status.text()
        keyboard.key(Qt.Key.Key_Escape)

    dialogs.when(ProcedureDialog, fill)
    keyboard.key(Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    app.qtbot.waitUntil(
        lambda: (
            bool(dialogs.errors)
            or (tab.last_dialog is not None and not tab.last_dialog.isVisible())
        ),
        timeout=20_000,
    )
    dialogs.check()
    recorded = app.query(
        "SELECT outcome, agent_id, entered_by, note FROM campaign_outcomes "
        "WHERE called_whom = 'procedure-ville' ORDER BY called_at, created_at"
    )
    assert [(r["outcome"], r["agent_id"], r["entered_by"]) for r in recorded] == [
        ("procedure-declenchee", app.ws.agent_id, None),
        ("joint-bien", app.ws.agent_id, None),
    ]
    assert recorded[0]["note"] == "Police nationale prevenue"
    app.qtbot.waitUntil(lambda: tab.noted_model.rowCount() == 0, timeout=10_000)
    app.qtbot.waitUntil(lambda: tab.waiting_model.rowCount() == 3, timeout=10_000)
    assert tab.totals.text().endswith("1 jointe — 3 pas encore jointes — 1 escalade")


def test_the_start_dialogs_labels_keep_their_last_letter_at_200_percent(qtbot: QtBot) -> None:
    """Qt clips a label's text to the text's own width: at 200 % the "e" of "Type d'alerte"
    overhung it and lost its right edge. Every caption's ink now ends inside the label."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication, QWidget

    from havre_desktop.ui.pages.campaign_coordination import StartDialog
    from havre_desktop.ui.widgets import Caption

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    normal = QFont(app.font())
    large = QFont(normal)
    large.setPointSizeF(normal.pointSizeF() * 2)
    app.setFont(large)
    try:
        parent = QWidget()
        qtbot.addWidget(parent)
        dialog = StartDialog(parent, {"nord": "Le Havre Nord"}, ["nord"], [("a", "Alice")],
                             datetime(2026, 6, 18).date())  # fmt: skip
        dialog.show()
        qtbot.waitExposed(dialog)
        captions = dialog.findChildren(Caption)
        assert len(captions) == 9
        for label in captions:
            image = label.grab().toImage()
            background = image.pixelColor(0, 0)
            inked = [
                x
                for x in range(image.width())
                if any(image.pixelColor(x, y) != background for y in range(image.height()))
            ]
            assert inked and max(inked) < image.width() - 1, label.text()
        dialog.reject()
    finally:
        app.setFont(normal)


def test_at_200_percent_the_list_stacks_above_the_keys(alert_app: DemoApp) -> None:
    """Side by side at 200 %, the list was squeezed to a column of a few letters: on a laptop
    screen the list now sits above the keys, in full width, and goes back beside them at
    100 %."""
    from PySide6.QtWidgets import QApplication

    app = alert_app
    window = app.window
    page = _page(app)
    calls = page.calls
    window.resize(1280, 800)
    settings = window.settings_page
    try:
        settings.text_scale.setValue(200)
        app.settle()
        QApplication.processEvents()
        app.qtbot.waitUntil(
            lambda: calls.split.orientation() == Qt.Orientation.Vertical, timeout=10_000
        )
        wide = calls.fontMetrics().averageCharWidth() * 60
        app.qtbot.waitUntil(lambda: calls.table.width() >= wide, timeout=10_000)
        assert calls.summary.fontMetrics().horizontalAdvance(calls.summary.text()) <= (
            calls.summary.width()
        )  # the summary on one line
    finally:
        settings.text_scale.setValue(100)
        app.settle()
    app.qtbot.waitUntil(
        lambda: calls.split.orientation() == Qt.Orientation.Horizontal, timeout=10_000
    )
