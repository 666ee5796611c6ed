"""The catalogue edited on the server: the City's spreadsheet (preview, report, all or nothing,
idempotent), actions and facilities created, changed, suspended and closed by coordinators of
their territories, temporary changes; other roles refused in French.

Real parts: a ``havre-server`` process on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from havre_common.catalogue_sheet import read_sheet
from havre_common.protocol import API_PREFIX
from tests.catalogue_sheets import MESSY_BAD_LINES, fixed_xlsx, messy_xlsx
from tests.server.support import Device, ServerProcess, World

SHEET = f"{API_PREFIX}/admin/catalogue/sheet"


def _body(data: bytes, name: str, apply: bool) -> dict[str, Any]:
    sheet = read_sheet(data, name)
    return {
        "columns": sheet.columns,
        "rows": [{"line": n, "cells": cells} for n, cells in sheet.rows],
        "problems": [
            {"line": p.line, "column": p.column, "message": p.message} for p in sheet.problems
        ],
        "header_line": sheet.header_line,
        "apply": apply,
    }


def _send(device: Device, data: bytes, apply: bool, name: str = "catalogue.xlsx") -> Any:
    response = device.client.post(SHEET, json=_body(data, name, apply), headers=device.headers())
    assert response.status_code == 200, response.text
    return response.json()


def _actions(server: ServerProcess, prefix: str) -> list[Any]:
    return server.sql(
        "SELECT code, title, status, server_version FROM actions WHERE code LIKE :p ORDER BY code",
        p=f"{prefix}-%",
    )


def _log_size(server: ServerProcess) -> int:
    return int(server.sql("SELECT count(*) FROM change_log")[0][0])


def test_a_messy_sheet_is_refused_whole_the_fixed_one_imports_then_changes_nothing(
    world: World, server: ServerProcess
) -> None:
    prefix = "S" + uuid.uuid4().hex[:6].upper()
    coordinator = world.agent("coordinateur", ["nord"])

    # The messy sheet: every bad line named, with its column and a French message; nothing
    # written, even when asked to import.
    for apply in (False, True):
        report = _send(coordinator, messy_xlsx(prefix), apply)
        assert {p["line"] for p in report["problems"]} == MESSY_BAD_LINES
        assert report["applied"] is False and report["items"] == []
        columns = {(p["line"], p["column"]) for p in report["problems"]}
        assert {
            (4, "Territoires"),
            (5, "Début"),
            (3, "Code"),
            (6, "Code"),
            (8, "Publics"),
        } <= columns
        assert _actions(server, prefix) == []

    # The fixed sheet: the preview says what will be created, and writes nothing.
    before = _log_size(server)
    preview = _send(coordinator, fixed_xlsx(prefix), False)
    assert (preview["created"], preview["changed"], preview["unchanged"]) == (6, 0, 0)
    assert preview["problems"] == [] and preview["applied"] is False
    assert _actions(server, prefix) == [] and _log_size(server) == before

    done = _send(coordinator, fixed_xlsx(prefix), True)
    assert done["applied"] is True and done["created"] == 6
    stored = _actions(server, prefix)
    assert [row[0] for row in stored] == [f"{prefix}-00{n}" for n in range(1, 7)]
    assert stored[5][1] == "Café des aînés « Œuvre » — l'été à Sainte-Adresse"
    assert [row[2] for row in stored] == [
        "en-cours",
        "en-test",
        "en-cours",
        "proposee",
        "suspendue",
        "arretee",
    ]
    assert {row[3] for row in stored} == {1}
    audit = server.sql(
        "SELECT detail FROM audit_log WHERE event = 'catalogue-importe' AND agent_id = :a",
        a=coordinator.agent_id,
    )
    assert len(audit) == 1 and '"created": 6' in audit[0][0].replace('":', '": ').replace("  ", " ")

    # A device receives them; a second import of the same sheet changes nothing at all.
    changes, _cursor = world.agent("travailleur-social", ["nord"]).pull_all()
    pulled = {
        c["fields"]["code"] for c in changes if c["table_name"] == "actions" and c.get("fields")
    }
    assert {row[0] for row in stored} <= pulled
    after = _log_size(server)
    again = _send(coordinator, fixed_xlsx(prefix), True)
    assert (again["created"], again["changed"], again["unchanged"]) == (0, 0, 6)
    assert _actions(server, prefix) == stored
    assert _log_size(server) == after

    # One cell changed in the City's sheet: one action changed, its field named.
    changed = fixed_xlsx(prefix).replace(b"", b"")  # same bytes, then re-read and edit
    body = _body(changed, "catalogue.xlsx", True)
    body["rows"][0]["cells"][9] = "Jeudi 12 h 30"
    response = coordinator.client.post(SHEET, json=body, headers=coordinator.headers())
    assert response.status_code == 200, response.text
    third = response.json()
    assert (third["created"], third["changed"], third["unchanged"]) == (0, 1, 5)
    assert [i["fields"] for i in third["items"] if i["outcome"] == "changed"] == [["schedule"]]


def test_a_coordinator_imports_the_actions_of_her_territories_only(world: World) -> None:
    prefix = "T" + uuid.uuid4().hex[:6].upper()
    south = world.agent("coordinateur", ["sud"])
    report = _send(south, fixed_xlsx(prefix), False)
    assert {p["line"] for p in report["problems"]} == {3, 4, 6, 7, 8, 9}
    assert "n'est pas le vôtre" in report["problems"][0]["message"]


@pytest.mark.parametrize("role", ["travailleur-social", "accueil"])
def test_other_roles_are_refused_in_french(world: World, role: str) -> None:
    agent = world.agent(role, ["nord"])
    response = agent.client.post(
        SHEET, json=_body(fixed_xlsx("X"), "c.xlsx", False), headers=agent.headers()
    )
    assert response.status_code == 403
    assert response.json()["message"].startswith("Le catalogue est modifié par les coordinateurs")
    row_id = str(uuid.uuid4())
    response = agent.client.put(
        f"{API_PREFIX}/catalogue/actions/{row_id}",
        json={"values": _action("X-1")},
        headers=agent.headers(),
    )
    assert response.status_code == 403
    assert "coordinateurs et les administrateurs" in response.json()["message"]


def _action(code: str, **overrides: Any) -> dict[str, Any]:
    return {
        "code": code,
        "title": "Thé dansant",
        "priority_id": "P03",
        "status": "en-test",
        "territory_ids": ["nord"],
        "audience_ids": ["seniors"],
        "need_ids": ["isolement"],
        "start_date": "2027-01-10",
        **overrides,
    }


def _put(device: Device, table: str, row_id: str, values: dict[str, Any]) -> Any:
    return device.client.put(
        f"{API_PREFIX}/catalogue/{table}/{row_id}",
        json={"values": values},
        headers=device.headers(),
    )


def test_create_edit_suspend_close_and_temporary_changes(
    world: World, server: ServerProcess
) -> None:
    code = "E" + uuid.uuid4().hex[:8].upper()
    north = world.agent("coordinateur", ["nord"])
    action_id, facility_id, change_id = (str(uuid.uuid4()) for _ in range(3))

    response = _put(
        north,
        "facilities",
        facility_id,
        {
            "kind_id": "maison-municipale",
            "name": "Maison de quartier Œuvre",
            "territory_id": "nord",
            "seasonal": {"salle-rafraichie": True},
        },
    )
    assert response.status_code == 200, response.text
    response = _put(north, "actions", action_id, _action(code, facility_id=facility_id))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "en-test"

    # Bad values: every problem at once, in French, nothing written.
    response = _put(north, "actions", action_id, {"status": "inconnu", "end_date": "31/02/2027"})
    assert response.status_code == 422
    message = response.json()["message"]
    assert "Statut" in message and "Fin" in message
    assert server.sql("SELECT status FROM actions WHERE id = :i", i=action_id) == [("en-test",)]
    response = _put(north, "actions", str(uuid.uuid4()), _action(code))
    assert response.status_code == 422 and "déjà celui d'une action" in response.json()["message"]

    # Edit, confirm, suspend, close.
    assert (
        _put(north, "actions", action_id, {"title": "Thé dansant du dimanche"}).status_code == 200
    )
    assert _put(north, "actions", action_id, {"reviewed_on": "2027-02-01"}).status_code == 200
    assert _put(north, "actions", action_id, {"status": "suspendue"}).status_code == 200
    assert (
        _put(
            north, "actions", action_id, {"status": "arretee", "end_date": "2027-03-31"}
        ).status_code
        == 200
    )
    assert _put(north, "facilities", facility_id, {"status": "ferme"}).status_code == 200
    assert server.sql(
        "SELECT title, status, end_date, reviewed_on, server_version FROM actions WHERE id = :i",
        i=action_id,
    ) == [("Thé dansant du dimanche", "arretee", "2027-03-31", "2027-02-01", 5)]
    events = server.sql(
        "SELECT event, entity FROM audit_log WHERE entity_id = :i ORDER BY chain_seq", i=action_id
    )
    assert events == [("catalogue-modifie", "actions")] * 5

    # A temporary closure; a device receives it.
    response = _put(
        north,
        "temporary_changes",
        change_id,
        {
            "action_id": action_id,
            "kind": "fermeture",
            "starts_on": "2027-02-10",
            "ends_on": "2027-02-20",
            "message": "Travaux dans la salle",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["author_agent_id"] == north.agent_id
    reception = world.agent("accueil", ["nord"])
    changes, _ = reception.pull_all()
    got = [
        c for c in changes if c["table_name"] == "temporary_changes" and c["row_id"] == change_id
    ]
    assert got and got[-1]["fields"]["kind"] == "fermeture"
    bad = _put(
        north,
        "temporary_changes",
        str(uuid.uuid4()),
        {
            "action_id": action_id,
            "kind": "horaires",
            "starts_on": "2027-02-10",
            "ends_on": "2027-02-01",
        },
    )
    assert bad.status_code == 422
    assert "précède son début" in bad.json()["message"] and "Horaires" in bad.json()["message"]

    # Another territory's coordinator: refused, in French; nothing changes.
    south = world.agent("coordinateur", ["sud"])
    response = _put(south, "actions", action_id, {"title": "Autre"})
    assert response.status_code == 403 and "n'est pas le vôtre" in response.json()["message"]
    response = _put(
        south,
        "temporary_changes",
        str(uuid.uuid4()),
        {
            "action_id": action_id,
            "kind": "message",
            "starts_on": "2027-02-10",
            "ends_on": "2027-02-11",
            "message": "x",
        },
    )
    assert response.status_code == 403


def test_the_command_line_previews_reports_and_imports(
    world: World, server: ServerProcess, tmp_path: Path
) -> None:
    prefix = "C" + uuid.uuid4().hex[:6].upper()
    messy, fixed = tmp_path / "messy.xlsx", tmp_path / "fixed.xlsx"
    messy.write_bytes(messy_xlsx(prefix))
    fixed.write_bytes(fixed_xlsx(prefix))
    out = server.cli("import-catalogue", "--tableur", str(messy), "--appliquer", check=False)
    assert "Tableau refusé : 6 ligne(s) à corriger" in out
    assert "Ligne 4, colonne « Territoires » : territoire « Atlantide » inconnu." in out
    assert _actions(server, prefix) == []
    out = server.cli("import-catalogue", "--tableur", str(fixed))
    assert "aperçu" in out and "6 action(s) créée(s)" in out and _actions(server, prefix) == []
    out = server.cli("import-catalogue", "--tableur", str(fixed), "--appliquer")
    assert "Tableau importé : 6 action(s) créée(s)" in out
    out = server.cli("import-catalogue", "--tableur", str(fixed), "--appliquer")
    assert "0 action(s) créée(s), 0 modifiée(s), 6 inchangée(s)" in out
