"""The register passed to the préfet: CSV and PDF, all territories or some, coordinators
with the register right only, audited without personal data."""

from __future__ import annotations

import csv
import io

import pytest

from havre_desktop.core import audit, contacts, register
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.register_export import prefect_export
from tests.helpers import person_values
from tests.printing import pdfcheck


def _enrolled(ws: Workspace, territory: str | None = None) -> int:
    sql = (
        "SELECT count(*) FROM register_enrolments r JOIN contacts c ON c.id = r.person_id "
        "WHERE r.status = 'inscrite' AND r.deleted = 0 AND c.deleted = 0"
    )
    if territory is None:
        return int(ws.store.scalar(sql))
    return int(ws.store.scalar(sql + " AND c.territory_id = ?", (territory,)))


def test_export_for_the_prefect_csv_and_pdf(coordinator_ws: Workspace) -> None:
    hostile = contacts.create_person(
        coordinator_ws,
        person_values(family_name='=HYPERLIEN("x")', territory_id="sud", birth_date="01/01/1940"),
    )
    register.enrol(
        coordinator_ws,
        str(hostile["id"]),
        {"requested_on": "20/11/2026", "requested_by": "personne", "consent_given": True},
    )
    everything = prefect_export(coordinator_ws)
    assert everything.count == _enrolled(coordinator_ws) > 10
    rows = list(csv.reader(io.StringIO(everything.csv.decode("utf-8-sig")), delimiter=";"))
    assert (
        rows[0][:3] == ["Nom", "Prénom", "Date de naissance"] and len(rows) == everything.count + 1
    )
    # A spreadsheet never runs a name as a formula.
    assert [r[0] for r in rows if "HYPERLIEN" in r[0]] == ['\'=HYPERLIEN("X")']
    assert pdfcheck.page_count(everything.pdf) >= 1
    text = pdfcheck.all_text(everything.pdf)
    assert "transmission au préfet" in text and "Document confidentiel" in text
    # Some territories only.
    sud = prefect_export(coordinator_ws, ["sud"])
    assert sud.count == _enrolled(coordinator_ws, "sud") < everything.count
    entry = audit.entries(coordinator_ws)[-1]
    assert entry["event"] == "export" and entry["entity"] == "register_enrolments"
    assert "HYPERLIEN" not in str(entry) and "prefet" in str(entry["detail"])


def test_only_coordinators_with_the_right_export(
    coordinator_ws: Workspace, demo_ws: Workspace
) -> None:
    with pytest.raises(PermissionDeniedError, match="coordinateurs"):
        prefect_export(demo_ws)
    with pytest.raises(ValidationError, match="parmi les vôtres"):
        prefect_export(coordinator_ws, ["ailleurs"])
    with coordinator_ws.store.transaction() as conn:
        conn.execute("UPDATE agents SET register_right = 0")
    with pytest.raises(PermissionDeniedError, match="accès au registre"):
        prefect_export(coordinator_ws)
