"""Journey 7, a heatwave, end to end: a real havre-server process on loopback, three real
encrypted profiles each with its window (a coordinator and two social workers with the register
right), driven as people would.

The coordinator starts a campaign for her territory; both agents sync and get lists without
overlap. One works without syncing (offline: every outcome is written on her laptop): reached
and fine, needs help (a visit today appears in Ma journée), no answer twice → the app says to
call the emergency contact (her daughter, name and number) → no answer → a home visit today.
The coordinator's progress (the server's figures) shows Mme Lefèvre as not reached until the
visit's outcome syncs. The other agent's list is reassigned: both see it. The campaign is closed
and its report, read back with pdfplumber, has the right figures.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pdfplumber
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from havre_common.french import count
from havre_desktop.core import contacts, register
from havre_desktop.ui.pages.alert_page import AlertPage
from havre_desktop.ui.pages.campaign_coordination import (
    CoordinationTab,
    PaperSheetDialog,
    ReassignDialog,
    StartDialog,
)
from havre_desktop.ui.widgets import checked_ids
from tests.helpers import person_values
from tests.server.support import World
from tests.ui.conftest import DialogDriver, Keyboard
from tests.ui.test_sync_ui import (
    Desk,
    MessageBoxes,
    Yes,
    boxes,
    desks,
    edit,
    other_process,
    server,
    sign_in,
    sync,
    world,
)

# Fixtures shared with test_sync_ui (a real server).
__all__ = ["boxes", "desks", "other_process", "server", "world"]

PERSONS = 6  # on the register of Le Havre Nord


def _enrolled(desk: Desk, family_name: str, **values: Any) -> str:
    def job(ws: Any) -> str:
        person = contacts.create_person(
            ws, person_values(family_name=family_name, birth_date="01/01/1938", **values)
        )
        register.enrol(
            ws,
            str(person["id"]),
            {"requested_on": "20/06/2026", "requested_by": "personne", "consent_given": True},
        )
        return str(person["id"])

    return str(edit(desk.app.qtbot, desk, job))


def _agent_id(desk: Desk) -> str:
    return str(desk.query("SELECT value FROM settings WHERE key = 'owner_agent_id'")[0]["value"])


def _alert(qtbot: QtBot, desk: Desk) -> AlertPage:
    """The Alerte page; it appears once the register right came with the agent's row."""
    qtbot.waitUntil(lambda: "alert" in desk.window.page_keys, timeout=20_000)
    page = desk.window.show_page("alert")
    assert isinstance(page, AlertPage)
    desk.window.activateWindow()  # three windows on one screen: this one takes the keys
    qtbot.waitUntil(desk.window.isActiveWindow, timeout=20_000)
    desk.app.settle()
    return page


def _calls(desk: Desk) -> list[dict[str, Any]]:
    return desk.query(
        "SELECT id, person_id, agent_id, previous_agent_id FROM campaign_calls WHERE deleted = 0"
    )


def _step_of(page: AlertPage, person_id: str) -> str:
    for row in page.calls.model.rows:
        if row.person_id == person_id:
            return row.step.label
    raise AssertionError(f"{person_id} not on the list")


def _select(qtbot: QtBot, page: AlertPage, person_id: str) -> None:
    rows = page.calls.model.rows
    index = next(i for i, r in enumerate(rows) if r.person_id == person_id)
    page.calls.table.setFocus()
    qtbot.waitUntil(page.calls.table.hasFocus)
    page.calls.table.selectRow(index)
    assert page.calls.current is not None and page.calls.current.person_id == person_id


def _press(qtbot: QtBot, desk: Desk, keyboard: Keyboard, key: str, expected: int) -> None:
    """One outcome key on the list; waits for the event to be in the database."""
    keyboard.type(key)
    qtbot.waitUntil(
        lambda: len(desk.query("SELECT id FROM campaign_outcomes")) == expected, timeout=10_000
    )
    desk.app.settle()


def test_journey_7_a_heatwave(
    qtbot: QtBot,
    desks: Callable[..., Desk],
    world: World,
    boxes: MessageBoxes,
    dialogs: DialogDriver,
    keyboard: Keyboard,
) -> None:
    url = world.server.base_url
    coordinator = desks("coordination", role="coordinateur")
    sign_in(qtbot, coordinator, url, world.create_agent("coordinateur", ["nord"], name="Coord"))
    lefevre = _enrolled(
        coordinator,
        "Lefèvre",
        emergency_contacts=[
            {"name": "Sophie Lefèvre", "relation": "fille", "phone": "06 39 98 45 67"}
        ],
    )
    others = [_enrolled(coordinator, f"Personne{n}") for n in range(PERSONS - 1)]
    sync(qtbot, coordinator)

    first = desks("agent-a")
    second = desks("agent-b")
    sign_in(qtbot, first, url, world.create_agent("travailleur-social", ["nord"], "Alice", True))
    sign_in(qtbot, second, url, world.create_agent("travailleur-social", ["nord"], "Bruno", True))
    for desk in (first, second):
        sync(qtbot, desk)
    ids = {_agent_id(first), _agent_id(second)}

    # -- the coordinator starts the campaign (online) -------------------------------------
    page = _alert(qtbot, coordinator)
    tab = page.coordination
    assert isinstance(tab, CoordinationTab)
    page.tabs.setCurrentWidget(tab)

    def start(dialog: QDialog) -> None:
        assert isinstance(dialog, StartDialog)
        assert dialog.kind.currentData() == "canicule" and dialog.level.currentData() == "orange"
        assert checked_ids(dialog.territories) == ["nord"]
        for row in range(dialog.agents.count()):
            item = dialog.agents.item(row)
            assert item is not None
            keep = item.data(Qt.ItemDataRole.UserRole) in ids
            item.setCheckState(Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
        dialog.title.setText("Canicule de juin")
        dialog.retry.setValue(30)
        dialog.start_button.click()

    dialogs.when(StartDialog, start, timeout_ms=20_000)
    tab.start_button.click()
    qtbot.waitUntil(lambda: "Campagne lancée" in tab.message.text(), timeout=20_000)
    dialogs.check()
    assert f"{PERSONS} personnes réparties sur 2 listes" in tab.message.text()
    qtbot.waitUntil(lambda: page.campaign_id is not None, timeout=30_000)  # the sync brought it
    assert "rappeler après 30 min" in page.settings.text()

    # -- both agents get their lists, without overlap ----------------------------------
    for desk in (first, second):
        sync(qtbot, desk)
    a_list, b_list = ({c["person_id"] for c in _calls(desk)} for desk in (first, second))
    assert a_list and b_list
    assert not a_list & b_list
    assert a_list | b_list == {lefevre, *others}
    offline, colleague = (first, second) if lefevre in a_list else (second, first)
    offline_list, colleague_list = (a_list, b_list) if lefevre in a_list else (b_list, a_list)

    # -- one agent works offline: nothing is sent until she syncs ---------------------------
    alert = _alert(qtbot, offline)
    qtbot.waitUntil(lambda: alert.calls.model.rowCount() == len(offline_list), timeout=10_000)
    fine, needs_help = [p for p in (r.person_id for r in alert.calls.model.rows) if p != lefevre][
        :2
    ]
    _select(qtbot, alert, fine)
    _press(qtbot, offline, keyboard, "1", 1)  # Jointe, va bien
    _select(qtbot, alert, needs_help)
    _press(qtbot, offline, keyboard, "2", 2)  # Besoin d'aide → a visit today
    qtbot.waitUntil(lambda: "Une visite est prévue aujourd'hui" in alert.calls.status.text())
    today = offline.window.today_page
    qtbot.waitUntil(
        lambda: any(
            "Canicule de juin" in str(today.due_model.data(today.due_model.index(r, 1)))
            for r in range(today.due_model.rowCount())
        ),
        timeout=10_000,
    )
    _select(qtbot, alert, lefevre)
    _press(qtbot, offline, keyboard, "3", 3)  # no answer
    qtbot.waitUntil(lambda: "Rappeler" in _step_of(alert, lefevre), timeout=10_000)
    _select(qtbot, alert, lefevre)
    _press(qtbot, offline, keyboard, "3", 4)  # no answer again → her emergency contact
    qtbot.waitUntil(
        lambda: "appelez son contact d'urgence" in _step_of(alert, lefevre), timeout=10_000
    )
    _select(qtbot, alert, lefevre)
    shown = alert.calls.model.data(
        alert.calls.model.index(alert.calls.table.currentIndex().row(), 2)
    )
    assert "Sophie Lefèvre (fille) : 06 39 98 45 67" in shown  # name and number, on the list
    assert alert.calls.callee.currentData() == "contact-urgence"
    _press(qtbot, offline, keyboard, "3", 5)  # the daughter does not answer → visit today
    qtbot.waitUntil(lambda: "visite à domicile aujourd'hui" in _step_of(alert, lefevre))
    visits = offline.query(
        "SELECT person_id FROM planned_contacts WHERE due_on = ? AND reason LIKE 'Campagne%'",
        (offline.window.ctx.today.isoformat(),),
    )
    assert sorted(v["person_id"] for v in visits) == sorted([needs_help, lefevre])
    assert len(offline.query("SELECT mutation_id FROM outbox")) >= 5  # all waiting to be sent
    assert world.server.sql("SELECT count(*) FROM campaign_outcomes")[0][0] == 0  # none sent
    sync(qtbot, offline)

    # -- the coordinator's progress: the server's figures; Mme Lefèvre not reached ---------
    def waiting_names() -> list[str]:
        return [str(r["name"]) for r in tab.waiting_model.rows]

    tab.refresh_button.click()
    qtbot.waitUntil(lambda: "Chiffres du serveur" in tab.source.text(), timeout=20_000)
    qtbot.waitUntil(lambda: any("Lefèvre" in n for n in waiting_names()), timeout=10_000)
    lefevre_row = next(r for r in tab.waiting_model.rows if "Lefèvre" in r["name"])
    assert "visite à domicile aujourd'hui" in lefevre_row["label"]

    # The visitor finds her: recorded on the offline laptop, not synced yet → still not reached.
    _select(qtbot, alert, lefevre)
    assert alert.calls.callee.currentData() == "visite-domicile"
    _press(qtbot, offline, keyboard, "1", 6)
    tab.refresh_button.click()
    qtbot.waitUntil(lambda: "Chiffres du serveur" in tab.source.text(), timeout=20_000)
    coordinator.app.settle()
    assert any("Lefèvre" in n for n in waiting_names())
    sync(qtbot, offline)
    tab.source.setText("")
    tab.refresh_button.click()
    qtbot.waitUntil(lambda: "Chiffres du serveur" in tab.source.text(), timeout=20_000)
    qtbot.waitUntil(lambda: not any("Lefèvre" in n for n in waiting_names()), timeout=10_000)

    # -- the colleague records one outcome, then is unreachable: her list is reassigned -----
    helped = _alert(qtbot, colleague)
    qtbot.waitUntil(lambda: helped.calls.model.rowCount() == len(colleague_list))
    hospital = helped.calls.model.rows[0].person_id
    _select(qtbot, helped, hospital)
    _press(qtbot, colleague, keyboard, "4", 1)  # hospitalisée
    sync(qtbot, colleague)
    tab.source.setText("")
    tab.refresh_button.click()  # noted for the coordinator, on the server's word
    qtbot.waitUntil(lambda: "Chiffres du serveur" in tab.source.text(), timeout=20_000)
    qtbot.waitUntil(
        lambda: [r["label"].split(" :")[0] for r in tab.noted_model.rows] == ["Hospitalisée"],
        timeout=10_000,
    )

    # The colleague's paper sheet: one box ticked, typed in by the coordinator for her.
    paper_person = next(r.person_id for r in helped.calls.model.rows if r.person_id != hospital)

    def paper(dialog: QDialog) -> None:
        assert isinstance(dialog, PaperSheetDialog)
        dialog.agent.setCurrentIndex(dialog.agent.findData(_agent_id(colleague)))
        qtbot.waitUntil(
            lambda: any(
                r.person_id == paper_person and r.agent_id == _agent_id(colleague)
                for r in dialog.rows
            ),
            timeout=10_000,
        )
        call = next(r.call_id for r in dialog.rows if r.person_id == paper_person)
        dialog.person.setCurrentIndex(dialog.person.findData(call))
        dialog.outcome.setCurrentIndex(dialog.outcome.findData("joint-bien"))
        dialog.save_button.click()
        qtbot.waitUntil(lambda: "enregistré" in dialog.status.text(), timeout=10_000)
        dialog.reject()

    dialogs.when(PaperSheetDialog, paper)
    tab.paper_button.click()
    dialogs.check()
    (typed,) = coordinator.query(
        "SELECT agent_id, entered_by FROM campaign_outcomes WHERE person_id = ?", (paper_person,)
    )
    assert typed == {"agent_id": _agent_id(colleague), "entered_by": _agent_id(coordinator)}
    sync(qtbot, coordinator)

    def reassign(dialog: QDialog) -> None:
        assert isinstance(dialog, ReassignDialog)
        sources = [dialog.source.itemData(i) for i in range(dialog.source.count())]
        targets = [dialog.target.itemData(i) for i in range(dialog.target.count())]
        assert _agent_id(colleague) in sources, (
            sources,
            _agent_id(colleague),
            coordinator.query("SELECT agent_id, count(*) n FROM campaign_calls GROUP BY agent_id"),
        )
        assert _agent_id(offline) in targets, (targets, _agent_id(offline))
        dialog.source.setCurrentIndex(dialog.source.findData(_agent_id(colleague)))
        dialog.target.setCurrentIndex(dialog.target.findData(_agent_id(offline)))
        dialog.move_button.click()

    held = coordinator.query("SELECT DISTINCT agent_id FROM campaign_calls")
    assert {h["agent_id"] for h in held} == ids, held
    dialogs.when(ReassignDialog, reassign)
    tab.reassign_button.click()
    dialogs.check()
    qtbot.waitUntil(lambda: "réattribué" in tab.message.text(), timeout=20_000)
    moved = len(colleague_list) - 2  # the hospitalised person's and the paper sheet's are over
    assert tab.message.text().startswith(
        count(moved, "{n} appel réattribué", "{n} appels réattribués")
    )
    for desk in (offline, colleague):
        sync(qtbot, desk)
    qtbot.waitUntil(
        lambda: alert.calls.model.rowCount() == len(offline_list) + moved, timeout=10_000
    )
    taken = [r for r in alert.calls.model.rows if r.reassigned_from]
    assert len(taken) == moved and all(
        "Bruno" in r.reassigned_from or "Alice" in r.reassigned_from for r in taken
    )
    qtbot.waitUntil(
        lambda: sum(1 for r in helped.calls.model.rows if r.reassigned_to) == moved,
        timeout=10_000,
    )
    column = [
        str(helped.calls.model.data(helped.calls.model.index(i, 2)))
        for i in range(helped.calls.model.rowCount())
    ]
    assert sum("Réattribuée à" in text for text in column) == moved

    # -- close, and the report for the préfet ------------------------------------------
    boxes.answer(Yes)
    tab.last_pdf = b""
    tab.close_button.click()
    try:
        qtbot.waitUntil(
            lambda: "Campagne close" in tab.message.text() or tab.error.isVisibleTo(tab),
            timeout=20_000,
        )
    except Exception:
        raise AssertionError((tab.message.text(), tab.error.text(), boxes.seen)) from None
    assert "Campagne close" in tab.message.text(), (tab.error.text(), boxes.seen)
    qtbot.waitUntil(lambda: bool(tab.last_pdf), timeout=30_000)
    assert boxes.seen and boxes.seen[-1][0] == "Clore la campagne"
    with pdfplumber.open(io.BytesIO(tab.last_pdf)) as doc:
        lines = "\n".join(p.extract_text() or "" for p in doc.pages).splitlines()
    reached = 3 + 2  # fine, needs help, Mme Lefèvre seen at home; hospitalised; paper sheet
    assert "Personnes sur les listes 6" in lines
    assert f"Jointes {reached}" in lines
    assert f"Pas encore jointes {PERSONS - reached}" in lines
    assert "Hospitalisées 1" in lines and "Décédées 0" in lines
    assert "Procédure de vérification (escalade) 0" in lines
    assert any(line.startswith("Le Havre Nord 6 5 1 0 1 0") for line in lines), lines
    assert any("(campagne close)" in line for line in lines)


def test_offline_the_coordinator_sees_this_computers_figures_and_is_told_so(
    qtbot: QtBot,
    desks: Callable[..., Desk],
    world: World,
    other_process: Any,
    dialogs: DialogDriver,
) -> None:
    """Started online; the progress is read again every minute while the tab is shown; the
    server then goes away: the minute's read falls back to this computer's figures quietly,
    Actualiser says the server is out of reach; the progress shown is said as this
    computer's."""
    process = other_process("--min-client-version", "0.1.0")
    coordinator = desks("coordination-hors-ligne", role="coordinateur")
    # Le Havre Sud: journey 7 (same server database) campaigns in Le Havre Nord.
    sign_in(qtbot, coordinator, process.base_url, world.create_agent("coordinateur", ["sud"]))
    for n in range(3):
        _enrolled(coordinator, f"Horsligne{n}", territory_id="sud")
    sync(qtbot, coordinator)
    caller = world.create_agent("travailleur-social", ["sud"], "Chloé", True)
    caller_id = world.sign_in(caller).agent["id"]
    page = _alert(qtbot, coordinator)
    tab = page.coordination
    assert isinstance(tab, CoordinationTab)
    page.tabs.setCurrentWidget(tab)

    def start(dialog: QDialog) -> None:
        assert isinstance(dialog, StartDialog)
        for row in range(dialog.agents.count()):
            item = dialog.agents.item(row)
            assert item is not None
            keep = item.data(Qt.ItemDataRole.UserRole) == caller_id
            item.setCheckState(Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
        dialog.start_button.click()

    dialogs.when(StartDialog, start, timeout_ms=20_000)
    tab.start_button.click()
    qtbot.waitUntil(lambda: "Campagne lancée" in tab.message.text(), timeout=20_000)
    dialogs.check()
    qtbot.waitUntil(lambda: page.campaign_id is not None, timeout=30_000)
    tab.refresh_button.click()
    qtbot.waitUntil(lambda: "Chiffres du serveur" in tab.source.text(), timeout=20_000)
    # Live while the tab is shown: the server's progress read again every minute, quietly
    # (what the coordinator is reading stays); not while another tab is shown.
    assert tab.live_timer.isActive() and tab.live_timer.interval() == 60_000
    page.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: not tab.live_timer.isActive())
    page.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(tab.live_timer.isActive)
    tab.source.setText("")
    tab.message.setText("12 appels réattribués")
    tab.live_refresh()  # what the timer does
    qtbot.waitUntil(lambda: "Chiffres du serveur" in tab.source.text(), timeout=20_000)
    assert tab.message.text() == "12 appels réattribués"

    process.stop()
    tab.source.setText("")
    tab.live_refresh()  # offline: this computer's figures, said so, and no error every minute
    qtbot.waitUntil(lambda: "Chiffres de cet ordinateur" in tab.source.text(), timeout=30_000)
    assert not tab.error.isVisibleTo(tab) and tab.message.text() == "12 appels réattribués"
    tab.refresh_button.click()
    qtbot.waitUntil(lambda: tab.error.isVisibleTo(tab), timeout=30_000)
    assert "injoignable" in tab.error.text()
    qtbot.waitUntil(lambda: "Chiffres de cet ordinateur" in tab.source.text(), timeout=10_000)
    assert tab.totals.text().startswith("3 personnes sur les listes — 0 jointe")
    assert tab.waiting_model.rowCount() == 3
