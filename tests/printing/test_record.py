"""Handouts given are recorded: the row, its outbox entry and an audit entry."""

from __future__ import annotations

import pytest

from havre_desktop.core import audit
from havre_desktop.core.errors import ValidationError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import record
from havre_desktop.printing.layout import Variant
from tests.printing import pdfcheck
from tests.printing.conftest import lefevre, senior_actions


def test_giving_a_personal_handout_records_row_outbox_and_audit(demo_ws: Workspace) -> None:
    person = lefevre(demo_ws)
    ids = senior_actions(demo_ws, 3)
    before = demo_ws.pending_changes()
    given = record.give_personal_handout(
        demo_ws, person, ids, variant=Variant.VERY_LARGE, visit_id=None
    )
    assert pdfcheck.page_count(given.pdf) >= 1
    row = demo_ws.get_row("handouts_given", given.record["id"])
    assert row["person_id"] == person
    assert row["action_ids"] == ids
    assert row["variant"] == "very-large"
    assert row["agent_id"] == demo_ws.agent_id
    assert row["territory_id"] == "nord"
    outbox = demo_ws.outbox_entries([row["id"]])
    assert len(outbox) == 1 and outbox[0]["table_name"] == "handouts_given"
    assert outbox[0]["changed_fields"]["action_ids"] == ids
    assert demo_ws.pending_changes() == before + 1
    entries = audit.entries(demo_ws, row["id"])
    assert [e["event"] for e in entries] == ["impression"]
    # The audit entry holds ids and counts, never the person's name.
    assert "Lefèvre" not in str(entries)


def test_reception_handout_is_recorded_without_a_person(demo_ws: Workspace) -> None:
    given = record.give_reception_handout(demo_ws, senior_actions(demo_ws, 2), territory_id="est")
    row = demo_ws.get_row("handouts_given", given.record["id"])
    assert row["person_id"] is None and row["territory_id"] == "est"
    assert "Ce document est pour" not in pdfcheck.body_text(given.pdf)


def test_preview_then_record_only_when_printed(demo_ws: Workspace) -> None:
    prepared = record.prepare_personal_handout(
        demo_ws, lefevre(demo_ws), senior_actions(demo_ws, 1)
    )
    assert demo_ws.store.scalar("SELECT count(*) FROM handouts_given") == 0
    row = record.record_given(demo_ws, prepared)
    assert demo_ws.store.scalar("SELECT count(*) FROM handouts_given") == 1
    assert row["action_ids"] == list(prepared.action_ids)


def test_nothing_is_recorded_when_the_handout_cannot_be_built(demo_ws: Workspace) -> None:
    with pytest.raises(ValidationError):
        record.give_personal_handout(demo_ws, lefevre(demo_ws), ["no-such-action"])
    assert demo_ws.store.scalar("SELECT count(*) FROM handouts_given") == 0
    assert demo_ws.pending_changes() == 0
