"""Screenshots of an alert campaign: the agent's call list (Alerte), the coordinator's
progress and the start dialog, at 100 % and 200 % text, on a throwaway coordinator profile
(fake demo data, a campaign written as a pull writes it).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/campaign_screenshots.py [dossier]

Saves alerte-liste-{100,200}.png, alerte-progression-{100,200}.png and
alerte-lancer-{100,200}.png into docs/screenshots/ (or the folder given). ``seed_campaign``
is also what scripts/render_prints.py uses for the call sheet and the campaign report.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from havre_common import campaign as rules
from havre_desktop.core import campaign
from havre_desktop.core.workspace import Workspace, new_id

COLLEAGUES = (
    ("00000000-0000-4000-8000-0000000a1ce0", "Alice Martin (fictif)", ["nord", "centre-ouest"]),
    ("00000000-0000-4000-8000-0000000b2d00", "Bruno Petit (fictif)", ["est", "sud", "centre-est"]),
)


def seed_campaign(ws: Workspace, territories: list[str]) -> str:
    """An orange heatwave campaign on this profile, as the server would have built and sent it
    (lists split by ``havre_common.campaign``), with a morning of outcomes recorded here."""
    now = ws.clock.now_iso()
    owner = str(ws.agent_id)
    with ws.store.transaction() as conn:
        conn.execute("UPDATE agents SET register_right = 1 WHERE id = ?", (owner,))
    with ws.store.transaction():
        for agent_id, name, where in COLLEAGUES:
            ws.write_row(
                "agents",
                {
                    "id": agent_id,
                    "display_name": name,
                    "role": "travailleur-social",
                    "territory_ids": where,
                    "register_right": True,
                    "updated_at": now,
                },
                outbox=False,
            )
    marks = ",".join("?" for _ in territories)
    persons = ws.store.query(
        "SELECT c.id, c.territory_id, c.address_line, c.lives_alone, c.mobility, "
        "c.emergency_contacts, c.birth_date, e.floor, e.lift, e.help_at_home "
        "FROM register_enrolments e JOIN contacts c ON c.id = e.person_id "
        "WHERE e.deleted = 0 AND e.status = 'inscrite' AND c.deleted = 0 "
        f"AND c.territory_id IN ({marks})",
        tuple(territories),
    )
    today = ws.clock.today()
    candidates = []
    for p in persons:
        born = date.fromisoformat(str(p["birth_date"])) if p["birth_date"] else None
        score, reasons = rules.risk_score(
            rules.RiskFeatures(
                lives_alone=bool(p["lives_alone"]),
                emergency_contacts=len(json.loads(p["emergency_contacts"] or "[]")),
                mobility=p["mobility"],
                help_at_home=bool(p["help_at_home"]),
                floor=p["floor"],
                lift=None if p["lift"] is None else bool(p["lift"]),
                age=(today.year - born.year) if born else None,
            )
        )
        candidates.append(
            rules.Candidate(
                str(p["id"]),
                str(p["territory_id"]),
                score,
                rules.street_of(p["address_line"]),
                tuple(reasons),
            )
        )
    callers = [rules.CallAgent(owner, frozenset(["nord"]))] + [
        rules.CallAgent(agent_id, frozenset(where)) for agent_id, _n, where in COLLEAGUES
    ]
    lists = rules.split_calls(candidates, callers)
    campaign_id = new_id()
    with ws.store.transaction():
        ws.write_row(
            "alert_campaigns",
            {
                "id": campaign_id,
                "kind": "canicule",
                "level": "orange",
                "title": "Canicule de juin",
                "territory_ids": territories,
                "starts_on": today.isoformat(),
                "expected_end_on": (today + timedelta(days=4)).isoformat(),
                "retry_delay_min": 60,
                "failed_calls_before_emergency": 2,
                "created_by": owner,
                "updated_at": now,
            },
            outbox=False,
        )
        for agent_id, chosen in lists.items():
            for rank, c in enumerate(chosen, start=1):
                ws.write_row(
                    "campaign_calls",
                    {
                        "id": new_id(),
                        "campaign_id": campaign_id,
                        "person_id": c.person_id,
                        "agent_id": agent_id,
                        "rank": rank,
                        "risk_score": c.score,
                        "risk_reasons": list(c.reasons),
                        "assigned_at": now,
                        "updated_at": now,
                    },
                    outbox=False,
                )
    # A morning's work: some reached, some needing help, some not answering.
    base = ws.clock.now() - timedelta(hours=5)
    pattern = ["joint-bien", "joint-bien", "pas-de-reponse", "besoin-aide", "joint-bien"]
    escalated: list[str] = []
    for agent_id, _chosen in lists.items():
        rows = campaign.call_list(ws, campaign_id, agent_id)
        for index, row in enumerate(rows[: max(len(rows) // 2, 1)]):
            outcome = pattern[index % len(pattern)]
            campaign.record_outcome(
                ws,
                row.call_id,
                outcome,
                called_at=base + timedelta(minutes=2 * index),
                for_agent_id=agent_id,
            )
            if outcome == "pas-de-reponse" and index % 2 == 0:  # twice: her emergency contact
                campaign.record_outcome(
                    ws,
                    row.call_id,
                    outcome,
                    called_at=base + timedelta(minutes=2 * index + 65),
                    for_agent_id=agent_id,
                )
                if index % 4 == 2:  # nor her contact, nor the door: the escalation
                    for minutes, whom in ((70, "contact-urgence"), (150, "visite-domicile")):
                        campaign.record_outcome(
                            ws,
                            row.call_id,
                            outcome,
                            called_whom=whom,
                            called_at=base + timedelta(minutes=2 * index + minutes),
                            for_agent_id=agent_id,
                        )
                    escalated.append(row.call_id)
    # The coordinator started the City's procedure for the first of them.
    if escalated:
        campaign.record_outcome(
            ws,
            escalated[0],
            rules.PROCEDURE_STARTED,
            called_whom=rules.CITY_PROCEDURE,
            note="Police nationale prévenue",
            called_at=base + timedelta(minutes=200),
        )
    return campaign_id


def demo_days(ws: Workspace, campaign_id: str) -> list[Any]:
    """The day figures of a demo campaign (what the server's /daily returns), counted from the
    outcomes on this profile: for the report's render only."""
    from havre_common.protocol import CampaignDay

    rows = ws.store.query(
        "SELECT outcome, called_whom, person_id, called_at FROM campaign_outcomes "
        "WHERE campaign_id = ? ORDER BY called_at",
        (campaign_id,),
    )
    persons = int(
        ws.store.scalar(
            "SELECT count(*) FROM campaign_calls WHERE campaign_id = ? AND deleted = 0",
            (campaign_id,),
        )
        or 0
    )
    by_day: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_day.setdefault(str(r["called_at"])[:10], []).append(r)
    days = []
    reached: set[str] = set()
    escalated: set[str] = set()
    for day, found in sorted(by_day.items()):
        procedure = [r for r in found if r["called_whom"] == "procedure-ville"]
        calls = [r for r in found if r["called_whom"] != "procedure-ville"]  # not calls
        reached |= {
            str(r["person_id"])
            for r in found
            if r["outcome"] not in ("pas-de-reponse", "procedure-declenchee")
        }
        # Escalated that day: nobody at the door, or the City's procedure recorded.
        newly = {
            str(r["person_id"])
            for r in found
            if r["called_whom"] == "visite-domicile" and r["outcome"] == "pas-de-reponse"
        } | {str(r["person_id"]) for r in procedure}
        newly -= escalated
        escalated |= newly
        days.append(
            CampaignDay(
                day=day,
                calls=len(calls),
                persons_called=len({r["person_id"] for r in calls}),
                reached=sum(r["outcome"] != "pas-de-reponse" for r in calls),
                no_answer=sum(r["outcome"] == "pas-de-reponse" for r in calls),
                emergency_contact_calls=sum(r["called_whom"] == "contact-urgence" for r in calls),
                home_visits=sum(r["called_whom"] == "visite-domicile" for r in calls),
                needs_help=sum(r["outcome"] == "besoin-aide" for r in calls),
                hospitalised=sum(r["outcome"] == "hospitalise" for r in found),
                deceased=sum(r["outcome"] == "decede" for r in found),
                urgent=0,
                escalations=len(newly),
                not_reached_at_end_of_day=persons - len(reached),
            )
        )
    return days


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from havre_desktop.core import agents
    from havre_desktop.core.demo import DemoSize, seed_demo
    from havre_desktop.core.keys import new_database_key
    from havre_desktop.core.store import Store
    from havre_desktop.ui.context import load_context_data
    from havre_desktop.ui.main_window import MainWindow, build_context
    from havre_desktop.ui.pages.alert_page import AlertPage
    from havre_desktop.ui.pages.campaign_coordination import (
        CoordinationTab,
        ProcedureDialog,
        StartDialog,
    )
    from havre_desktop.ui.worker import DatabaseService
    from scripts.register_screenshots import COORDINATOR
    from scripts.screenshots import settle, wait

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])  # noqa: F841 - must exist for the widgets
    with tempfile.TemporaryDirectory(prefix="havre-shots-") as tmp:
        ws = Workspace(Store.create(Path(tmp) / "havre.db", new_database_key()))
        agents.create_owner(ws, COORDINATOR)
        seed_demo(ws, DemoSize(persons=1500, organisations=40, visits=12_000), with_owner=False)
        ws.store.set_setting("demo", "1")
        seed_campaign(ws, list(COORDINATOR["territory_ids"]))
        data = load_context_data(ws)
        database = DatabaseService(ws)
        window = MainWindow(build_context(database, data))
        window.resize(1280, 800)
        window.show()
        settle(database)
        for scale in (100, 200):
            window.settings_page.text_scale.setValue(scale)
            window.adapt_to_font()
            settle(database)
            page = window.show_page("alert")
            assert isinstance(page, AlertPage)
            page.refresh()
            settle(database)
            wait(lambda page=page: page.calls.model.rowCount() > 0)
            page.tabs.setCurrentIndex(0)
            page.calls.table.selectRow(2)
            settle(database)
            window.resize(1281, 800)  # lay out again with the new text size
            QApplication.processEvents()
            window.resize(1280, 800)
            QApplication.processEvents()
            window.grab().save(str(out / f"alerte-liste-{scale}.png"))
            tab = page.coordination
            assert isinstance(tab, CoordinationTab)
            page.tabs.setCurrentWidget(tab)
            tab.refresh()
            settle(database)
            wait(lambda tab=tab: tab.territory_model.rowCount() > 0)
            window.grab().save(str(out / f"alerte-progression-{scale}.png"))
            callers = [(a, n) for a, n, _w in COLLEAGUES]
            callers.insert(0, (str(ws.agent_id), str(COORDINATOR["display_name"])))
            dialog = StartDialog(
                window,
                window.ctx.references["territories"],
                window.ctx.territories,
                callers,
                datetime(2026, 6, 18).date(),
            )
            window.adapt_to_font()
            dialog.show()
            dialog.adjustSize()
            QApplication.processEvents()
            dialog.grab().save(str(out / f"alerte-lancer-{scale}.png"))
            dialog.reject()
            procedure = ProcedureDialog(tab)
            procedure.show()
            wait(lambda procedure=procedure: procedure.person.count() > 0)
            procedure.adjustSize()
            QApplication.processEvents()
            procedure.grab().save(str(out / f"alerte-procedure-{scale}.png"))
            procedure.reject()
        database.shutdown()
    print(f"captures enregistrées dans {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
