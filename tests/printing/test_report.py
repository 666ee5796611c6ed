"""The coordinator's activity report: figures, charts, escaping, fonts, metadata."""

from __future__ import annotations

from datetime import date

import pytest

from havre_desktop.core import visits
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import record, report
from tests.printing import pdfcheck
from tests.printing.conftest import HOSTILE_TITLE, action, import_actions, lefevre

SINCE, UNTIL = date(2026, 1, 1), date(2026, 11, 30)


def test_activity_report_counts_and_prints(coordinator_ws: Workspace) -> None:
    ws = coordinator_ws
    for need in ("isolement", "isolement", "numerique"):
        visits.count_encounter(ws, {"territory_id": "nord", "need_id": need})
    ids = import_actions(ws, [action("rep-001", HOSTILE_TITLE)])
    record.give_personal_handout(ws, lefevre(ws), ids)
    activity = report.load_activity(ws, SINCE, UNTIL)
    expected_visits = ws.store.scalar(
        "SELECT count(*) FROM visits WHERE occurred_at >= '2026-01-01' "
        "AND occurred_at < '2026-12-01'"
    )
    assert sum(sum(k.values()) for k in activity.visits_by_territory.values()) == expected_visits
    assert activity.encounters_by_territory["nord"] == 3
    needs = {label: (in_visits, at_desk) for label, in_visits, at_desk in activity.needs}
    assert needs["Isolement, lien social"][1] == 2
    assert needs["Numérique"][1] == 1
    assert activity.handouts_by_action == ((HOSTILE_TITLE, 1),)
    assert dict(activity.actions_by_status)["En cours"] >= 1

    pdf = report.activity_report_pdf(activity)
    text = pdfcheck.body_text(pdf)
    assert "Rapport d'activité" in text
    assert "Période : du 1er janvier 2026 au 30 novembre 2026." in text
    assert "Territoires : tous les territoires." in text
    assert HOSTILE_TITLE in text  # escaped for Paragraph markup, printed as typed
    for heading in (
        "Visites et accueil par territoire",
        "Activité par mois",
        "Besoins repérés",
        "Actions par statut",
        "Fiches remises, par action",
    ):
        assert heading in text
    # Staff document: normal sizes, but nothing below 9 pt; our font only, embedded.
    for page in pdfcheck.chars(pdf):
        for char in page:
            assert float(str(char["size"])) >= 9
            assert "Atkinson" in str(char["fontname"])
    assert all("Atkinson" in name and embedded for name, embedded in pdfcheck.font_objects(pdf))
    meta = pdfcheck.metadata(pdf)
    assert meta["/Lang"] == "fr-FR"
    assert meta["/Title"] == "Rapport d'activité — Ville du Havre"
    assert meta["/Author"] == "Ville du Havre — Le Havre Ensemble"


def test_report_for_some_territories(coordinator_ws: Workspace) -> None:
    activity = report.load_activity(coordinator_ws, SINCE, UNTIL, ["sud", "est"])
    assert [t for t, _name in activity.territories] == ["est", "sud"]
    text = pdfcheck.body_text(report.activity_report_pdf(activity))
    assert "Territoires : Le Havre Est, Le Havre Sud." in text


def test_report_is_for_coordinators_and_checks_the_period(
    demo_ws: Workspace, coordinator_ws: Workspace
) -> None:
    with pytest.raises(PermissionDeniedError):
        report.activity_report_for(demo_ws, SINCE, UNTIL)
    with pytest.raises(ValidationError, match="fin de la période"):
        report.activity_report_for(coordinator_ws, UNTIL, SINCE)
