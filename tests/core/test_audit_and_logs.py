"""Audit entries for opening fiches and printing; no personal data in logs or audit."""

from __future__ import annotations

import logging
from pathlib import Path

from havre_desktop.core import audit, catalogue, contacts, search, visits
from havre_desktop.core.demo import DemoSize, generated_names, seed_demo
from havre_desktop.core.logs import close_logging, configure_logging
from havre_desktop.core.workspace import Workspace
from tests.helpers import MemoryKeyring, new_workspace, person_values


def test_opening_a_fiche_is_audited_but_searching_is_not(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    search.search_persons(workspace, "lefe")
    assert audit.entries(workspace) == []
    fiche = contacts.open_fiche(workspace, person["id"])
    assert fiche["family_name"] == "Lefèvre"
    (entry,) = audit.entries(workspace)
    assert entry["event"] == "fiche-ouverte"
    assert entry["entity_id"] == person["id"] and entry["agent_id"] == workspace.agent_id
    assert "Lefèvre" not in str(entry) and "Jeanne" not in str(entry)


def test_printing_a_handout_is_recorded_and_audited(workspace: Workspace) -> None:
    catalogue.import_catalogue(workspace, catalogue.load_sample_catalogue(), sample=True)
    person = contacts.create_person(workspace, person_values())
    action_ids = [a["id"] for a in catalogue.list_actions(workspace, audience_id="seniors")[:2]]
    given = visits.record_handout(workspace, action_ids, person_id=person["id"])
    assert given["action_ids"] == action_ids
    assert [e["event"] for e in audit.entries(workspace)] == ["impression"]
    assert workspace.outbox_entries([given["id"]])[0]["table_name"] == "handouts_given"


def test_log_of_a_demo_run_holds_none_of_the_generated_names(tmp_path: Path) -> None:
    log_path = configure_logging(tmp_path / "logs", level=logging.DEBUG)
    try:
        ws, _m, _r = new_workspace(tmp_path / "profile", MemoryKeyring())
        seed_demo(ws, DemoSize(persons=400, organisations=10, visits=1_500))
        # A session's worth of ordinary work over the demo data.
        for row in search.search_persons(ws, "le", limit=30):
            contacts.open_fiche(ws, row["id"])
            contacts.update(ws, row["id"], {"phone_2": "06 39 98 11 22"})
        person_id = search.search_persons(ws, "lefevre jeanne")[0]["id"]
        visits.log_visit(
            ws,
            person_id,
            {
                "occurred_at": "2026-11-25T10:00",
                "kind": "visite-domicile",
                "outcome": "realisee",
                "notes": "Note fictive de test",
                "follow_up_on": "2026-12-10",
            },
        )
        names = generated_names(ws)
        ws.store.close()
    finally:
        close_logging()
    text = log_path.read_text("utf-8")
    assert "demo data seeded" in text and "visit logged" in text  # the log is really written
    assert len(names) > 300
    leaked = [n for n in names if n in text]
    assert leaked == []


def test_demo_generator_is_deterministic_and_clearly_fake(tmp_path: Path) -> None:
    summaries = []
    for run in ("a", "b"):
        ws, _m, _r = new_workspace(tmp_path / run, MemoryKeyring())
        counts = seed_demo(ws, DemoSize(persons=300, organisations=5, visits=900), seed=7)
        rows = ws.store.query(
            "SELECT family_name, given_names, birth_date, territory_id, phone_1 FROM contacts "
            "WHERE kind = 'person' ORDER BY seq"
        )
        phones = ws.store.query(
            "SELECT phone_1 AS p FROM contacts UNION SELECT phone_2 FROM "
            "contacts WHERE phone_2 IS NOT NULL"
        )
        territories = {r["territory_id"] for r in rows}
        summaries.append((counts, rows))
        assert territories == {"nord", "centre-ouest", "centre-est", "est", "sud"}
        assert all(str(p["p"]).startswith(("02 61 91", "06 39 98")) for p in phones)
        assert ws.store.scalar("SELECT count(*) FROM contacts WHERE is_sample = 0") == 0
        lefevre = ws.store.query_one(
            "SELECT * FROM contacts WHERE family_name = 'Lefèvre' AND given_names = 'Jeanne'"
        )
        assert lefevre and lefevre["lives_alone"] == 1 and "4e étage" in lefevre["access_notes"]
        due = visits.due_contacts(ws, ws.clock.today())
        assert len([d for d in due if d["due_on"] == ws.clock.today().isoformat()]) == 6
        ws.store.close()
    assert summaries[0] == summaries[1]
    counts = summaries[0][0]
    assert counts["persons"] == 300 and counts["visits"] == 900 and counts["actions"] > 40


def test_a_crash_report_in_the_log_keeps_frames_but_no_message(tmp_path: Path) -> None:
    """Unexpected errors are logged with their traceback; a message may quote what was being
    handled (a refused value, a dictionary key), so only the exception types are written."""
    log_path = configure_logging(tmp_path / "logs")
    logger = logging.getLogger("havre.test")
    try:
        try:
            {"Dupont": 1}["Lefèvre Jeanne"]
        except KeyError as exc:
            raise ValueError("téléphone 02 61 91 12 34 refusé") from exc
    except ValueError:
        logger.exception("unexpected error")
    finally:
        close_logging()
    text = log_path.read_text("utf-8")
    assert "unexpected error" in text and "test_a_crash_report_in_the_log" in text
    assert "builtins.KeyError (message not logged)" in text
    assert "builtins.ValueError (message not logged)" in text
    assert text.index("KeyError") < text.index("ValueError")  # the cause first, as Python does
    assert "Lefèvre" not in text and "02 61 91 12 34" not in text
