"""The register of vulnerable persons serves the alert plan only (CASF L121-6-1): no other
list, mailing, export or report can draw on it — enforced in code, shown here three ways.

1. Behaviour: every ordinary list, mailing, export and report entry point runs on a profile
   whose register is full while SQLite itself refuses any read of the register tables (an
   authorizer on the real SQLCipher connection): they all succeed, so none reads it. The
   alert-plan letters, run the same way, are refused: the guard does catch a read.
2. Declarations: the purpose flag of the contract, and the entry points' checks.
3. Source: the register tables are named only by the modules that serve the alert plan or the
   register's own procedure (listed below with why), so a new report cannot quietly join them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from havre_common import contract
from havre_desktop.core import contacts, search, visits
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import handouts, letters, record, report
from havre_desktop.printing.letters import BatchOptions, FollowedBy, LetterKind, RegisterOf
from tests.helpers import PROJECT_ROOT, MemoryKeyring, new_workspace

SQLITE_OK, SQLITE_DENY, SQLITE_READ = 0, 1, 20


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Workspace]:
    """A coordinator's profile (register right) with a full register, whose connection
    refuses every read of a register table."""
    ws, _manager, _recovery = new_workspace(
        tmp_path / "coord",
        MemoryKeyring(),
        role="coordinateur",
        territories=["nord", "centre-ouest", "centre-est", "est", "sud"],
    )
    seed_demo(ws, DemoSize(persons=400, organisations=5, visits=1_500), with_owner=False)
    assert ws.store.scalar("SELECT count(*) FROM register_enrolments") > 10
    assert ws.store.scalar("SELECT count(*) FROM register_events") > 10
    refused: list[str] = []

    def authorizer(action: int, table: str | None, *_rest: object) -> int:
        if action == SQLITE_READ and table in contract.REGISTER_TABLES:
            refused.append(str(table))
            return SQLITE_DENY
        return SQLITE_OK

    ws.store.conn.set_authorizer(authorizer)
    ws.refused_register_reads = refused  # type: ignore[attr-defined]
    yield ws
    ws.store.conn.set_authorizer(None)
    ws.store.close()


def _senior_actions(ws: Workspace) -> list[str]:
    rows = ws.store.query(
        "SELECT id FROM actions WHERE status IN ('en-cours', 'en-test') ORDER BY id LIMIT 3"
    )
    return [str(r["id"]) for r in rows]


def _a_person(ws: Workspace) -> str:
    return str(ws.store.scalar("SELECT id FROM contacts WHERE kind = 'person' LIMIT 1"))


# Every list, mailing, export and report that is not the alert plan.
ORDINARY_USES: dict[str, Callable[[Workspace], Any]] = {
    "rapport d'activité": lambda ws: report.activity_report_for(
        ws, date(2026, 1, 1), date(2026, 11, 25)
    ),
    "programme du territoire": lambda ws: handouts.territory_programme_for(ws, "nord"),
    "fiche d'accueil": lambda ws: handouts.reception_handout_for(ws, _senior_actions(ws)),
    "fiche personnelle remise": lambda ws: record.give_personal_handout(
        ws, _a_person(ws), _senior_actions(ws)
    ),
    "lettres du programme de l'été": lambda ws: letters.letters_pdf(
        ws, LetterKind.PROGRAMME_ETE, FollowedBy(str(ws.agent_id)), BatchOptions()
    ),
    "aperçu d'un envoi": lambda ws: letters.preview_batch(
        ws, LetterKind.PROGRAMME_ETE, FollowedBy(str(ws.agent_id))
    ),
    "liste des personnes": lambda ws: contacts.list_page(ws, limit=500),
    "recherche": lambda ws: search.search_persons(ws, "lef"),
    "Ma journée et feuille de tournée": lambda ws: visits.day_plan(ws, ws.clock.today(), 60),
}


@pytest.mark.parametrize("use", sorted(ORDINARY_USES))
def test_no_ordinary_list_mailing_export_or_report_reads_the_register(
    guarded: Workspace, use: str
) -> None:
    ORDINARY_USES[use](guarded)
    assert guarded.refused_register_reads == []  # type: ignore[attr-defined]


def test_the_guard_catches_a_read_the_alert_plan_makes(guarded: Workspace) -> None:
    """The control: the alert-plan letters do read the register, and are caught here."""
    with pytest.raises(Exception, match=r"(?i)not authorized|prohibited"):
        letters.letters_pdf(
            guarded, LetterKind.CONSEILS_CANICULE, RegisterOf("nord"), BatchOptions()
        )
    assert "register_enrolments" in guarded.refused_register_reads  # type: ignore[attr-defined]


def test_the_contract_binds_the_register_to_the_alert_plan() -> None:
    assert {
        "register_enrolments",
        "register_events",
        "alert_campaigns",
        "campaign_calls",
        "campaign_outcomes",
    } == contract.REGISTER_TABLES
    for table in contract.REGISTER_TABLES:
        assert contract.TABLES[table].purpose == contract.ALERT_PLAN
    contract.check_purpose(contract.REGISTER_TABLES, contract.ALERT_PLAN)
    contract.check_purpose(contract.REGISTER_TABLES, contract.SUBJECT_ACCESS)  # RGPD art. 15
    for other in (None, "rapport", "export", "publipostage"):
        with pytest.raises(contract.PurposeRefusedError, match="uniquement au plan d'alerte"):
            contract.check_purpose(("contacts", "register_events"), other)
    # The activity report declares what it reads, and that is checked when it runs.
    assert not set(report.READS) & contract.REGISTER_TABLES


def test_a_register_mailing_outside_the_alert_plan_is_refused_before_reading(
    guarded: Workspace,
) -> None:
    with pytest.raises(letters.RegisterUseRefusedError):
        letters.letters_pdf(guarded, LetterKind.PROGRAMME_ETE, RegisterOf("nord"), BatchOptions())
    assert guarded.refused_register_reads == []  # type: ignore[attr-defined]


# Who may name a register table in its source, and why (everything else may not).
ALLOWED = {
    "common/havre_common/contract.py": "the contract declares the tables and their purpose",
    "havre_desktop/core/register.py": "the register's own procedure (enrolment, letters due)",
    "havre_desktop/core/contacts.py": "the fiche shows the person's own enrolment",
    "common/havre_common/campaign.py": "the alert plan's rules (its outcome list)",
    "havre_desktop/core/campaign.py": "the alert plan: call lists, outcomes, progress",
    "havre_desktop/core/demo.py": "demo data",
    "havre_desktop/core/indicators.py": "register coverage and campaign outcomes, the alert "
    "plan's own figures (agents with the register right)",
    "havre_desktop/printing/letters.py": "alert-plan letters (behind check_register_use)",
    "havre_desktop/printing/register_letters.py": "the register's own letters",
    "havre_desktop/printing/register_export.py": "the alert plan: the register for the préfet",
    "havre_desktop/printing/call_sheet.py": "the alert plan: an agent's call list on paper",
    "havre_desktop/printing/campaign_report.py": "the alert plan: the campaign report (counts)",
    "havre_desktop/ui/pages/alert_page.py": "the alert plan: the agent's call list (Alerte)",
    "havre_desktop/ui/pages/campaign_coordination.py": "the alert plan: the coordinator's "
    "progress, call sheets, paper sheets, report",
    "havre_desktop/ui/pages/persons.py": "the fiche refreshes on register changes",
    "havre_desktop/ui/pages/register_form.py": "the register dialogs",
    "havre_desktop/ui/pages/dashboard_page.py": "refreshes the register coverage and campaign "
    "outcome figures when enrolments or outcomes change",
    "havre_desktop/ui/retention_dialog.py": "says a current enrolment keeps a file (the server's "
    "count of reasons, no register data)",
    "havre_desktop/ui/pages/today.py": "Ma journée lists the register letters to print",
    "havre_desktop/ui/pages/prints_page.py": "préfet export, transmitted lists (coordinators)",
    "havre_desktop/sync/local.py": "sync: a device keeps the calls it holds or held",
    "server/havre_server/campaigns.py": "the alert plan: call lists, progress, daily figures",
    "server/havre_server/domain.py": "sync: who receives a call and its outcomes",
    "server/havre_server/pull.py": "sync: only to agents with the register right",
    "server/havre_server/push.py": "sync: only from agents with the register right",
    "server/havre_server/schema.py": "the server's tables",
    "server/havre_server/scope.py": "who receives the register",
}
NAMES = re.compile(r"register_(enrolments|events)|alert_campaigns|campaign_(calls|outcomes)")


def test_only_the_alert_plan_and_the_register_name_its_tables() -> None:
    found = set()
    for folder in ("common/havre_common", "havre_desktop", "server/havre_server"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            if "/alembic/" in relative:
                continue  # migrations: history of the schema
            if NAMES.search(path.read_text("utf-8")):
                found.add(relative)
    assert found - set(ALLOWED) == set(), "a new module reads the register: is it the alert plan?"
