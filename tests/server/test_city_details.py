"""The City's details and the street table: written on the server by coordinators and
administrators (API and command line), audited, checked by the contract, pulled by every device."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from havre_common.protocol import API_PREFIX
from havre_common.streets import SAMPLE_STREETS, street_id
from tests.server.support import ServerProcess, World

URL = f"{API_PREFIX}/admin/city-details"


def _put(device: Any, row_id: str, **values: Any) -> httpx.Response:
    return device.client.put(f"{URL}/{row_id}", json={"values": values}, headers=device.headers())


def _rows(changes: list[dict[str, Any]], table: str) -> dict[str, dict[str, Any]]:
    """The last state of each row of `table` in a pull (None: removed)."""
    rows: dict[str, Any] = {}
    for change in changes:
        if change["table_name"] == table:
            rows[change["row_id"]] = change.get("fields") if change["op"] == "upsert" else None
    return rows


def _audit(server: ServerProcess, row_id: str) -> list[Any]:
    return server.sql(
        "SELECT event, agent_id, detail FROM audit_log WHERE entity_id = :row ORDER BY chain_seq",
        row=row_id,
    )


def test_a_coordinator_sets_the_number_and_every_device_pulls_it(world: World) -> None:
    coordinator = world.agent("coordinateur", ["nord"])
    worker = world.agent("travailleur-social", ["sud"])
    number = f"02 35 19 {uuid.uuid4().int % 90 + 10:02d} 45"
    reply = _put(coordinator, "ville", standard_phone=number.replace(" ", "."))
    assert reply.status_code == 200, reply.text
    assert reply.json()["standard_phone"] == number  # written the French way
    desk = f"nord-{uuid.uuid4().hex[:8]}"
    reply = _put(
        coordinator,
        desk,
        territory_id="nord",
        desk_name="Mairie annexe de Caucriauville",
        address="1 place de l'Exemple, 76620 Le Havre",
        opening_hours="du lundi au vendredi, 8 h 30 - 17 h",
    )
    assert reply.status_code == 200, reply.text

    changes, _cursor = worker.pull_all()
    rows = _rows(changes, "city_details")
    assert rows["ville"]["standard_phone"] == number
    assert rows[desk]["desk_name"] == "Mairie annexe de Caucriauville"
    events = _audit(world.server, desk)
    assert [(e.event, e.agent_id) for e in events] == [("coordonnees-ville", coordinator.agent_id)]

    # A desk removed leaves every device.
    _, cursor = worker.pull_all()
    gone = coordinator.client.delete(f"{URL}/{desk}", headers=coordinator.headers())
    assert gone.status_code == 204, gone.text
    changes, _ = worker.pull_all(cursor)
    assert _rows(changes, "city_details") == {desk: None}
    listed = coordinator.client.get(URL, headers=coordinator.headers()).json()
    assert desk not in {row["id"] for row in listed}


@pytest.mark.parametrize("role", ["travailleur-social", "accueil"])
def test_only_coordinators_and_administrators_edit(world: World, role: str) -> None:
    agent = world.agent(role, ["nord"])
    before = world.server.sql("SELECT count(*) FROM audit_log")[0][0]
    reply = _put(agent, "ville", standard_phone="02 35 00 00 01")
    assert reply.status_code == 403
    assert reply.json()["message"] == (
        "Les coordonnées de la Ville sont saisies par les coordinateurs et les administrateurs."
    )
    removed = agent.client.delete(f"{URL}/ville", headers=agent.headers())
    assert removed.status_code == 403
    streets = agent.client.post(
        f"{API_PREFIX}/admin/streets",
        json={"csv": "rue;territoire\nRue de Test;nord\n"},
        headers=agent.headers(),
    )
    assert streets.status_code == 403
    assert "coordinateurs" in streets.json()["message"]
    assert world.server.sql("SELECT count(*) FROM audit_log")[0][0] == before
    # Reading is every role's: the details are printed on every document.
    assert agent.client.get(URL, headers=agent.headers()).status_code == 200


HOSTILE: list[tuple[str, dict[str, Any], str]] = [
    ("ville", {"standard_phone": "0899 ABC"}, "Numéro du standard : "),
    ("ville", {"standard_phone": "06 12 34 56 78 99"}, "Numéro du standard : "),
    ("ville", {"heatwave_line": "<script>alert(1)</script>"}, "Ligne d'information canicule"),
    ("ville", {"standard_label": "Standard\u0000"}, "Libellé du standard : "),
    ("ville", {"standard_label": "x" * 201}, "Libellé du standard : "),
    ("ville", {"territory_id": "nord"}, "vaut pour toute la Ville, sans territoire"),
    ("desk-a", {"desk_name": "Accueil", "standard_phone": "02 35 00 00 02"}, "ligne « ville »"),
    ("desk-b", {"address": "1 rue de l'Exemple"}, "Service ou accueil : ce champ est obligatoire"),
    ("desk-c", {"desk_name": "Accueil", "territory_id": "atlantide"}, "Territoire : "),
    ("desk-d", {"desk_name": "Accueil", "opening_hours": "9 h\n17 h"}, "Horaires d'ouverture"),
    ("ville", {"is_sample": 1}, "Champ inconnu"),
    ("ville", {"server_version": 99}, "Champ inconnu"),
]


@pytest.mark.parametrize(("row_id", "values", "message"), HOSTILE)
def test_hostile_values_are_refused_in_french_and_nothing_is_written(
    world: World, row_id: str, values: dict[str, Any], message: str
) -> None:
    coordinator = world.agent("coordinateur", ["nord"])
    before = world.server.sql("SELECT id, server_version, standard_phone FROM city_details")
    reply = _put(coordinator, row_id, **values)
    assert reply.status_code == 422, reply.text
    assert message in reply.json()["message"]
    assert world.server.sql("SELECT id, server_version, standard_phone FROM city_details") == before


def test_a_row_id_outside_the_pattern_is_refused(world: World) -> None:
    coordinator = world.agent("coordinateur", ["nord"])
    for bad in ("Ville", "ville%20x", "x" * 41):
        assert _put(coordinator, bad, desk_name="Accueil").status_code in (404, 422)


def test_the_command_line_sets_lists_and_refuses_in_french(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory("sqlite")
    server.cli("city-details", "sample")
    listed = server.cli("city-details", "list")
    assert "02 61 91 00 00" in listed and '"is_sample": true' in listed
    out = server.cli("city-details", "set", "ville", "--standard-phone", "0235194545")
    assert '"standard_phone": "02 35 19 45 45"' in out
    assert '"is_sample": false' in out  # the real number: no longer the sample row
    refused = server.cli("city-details", "set", "ville", "--standard-phone", "123", check=False)
    assert "Numéro du standard : " in refused
    assert server.sql("SELECT standard_phone FROM city_details WHERE id = 'ville'") == [
        ("02 35 19 45 45",)
    ]
    assert server.cli("city-details", "sample").strip().startswith("La ligne « ville » existe")
    removed = server.cli("city-details", "remove", "ville", check=False)
    assert "ne se supprime pas" in removed
    events = server.sql("SELECT event, agent_id FROM audit_log WHERE entity = 'city_details'")
    assert [tuple(e) for e in events] == [("coordonnees-ville", None)] * 2


# -- the street table ---------------------------------------------------------------------------


def test_the_sample_streets_load_and_reach_devices_once(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory("sqlite")
    out = server.cli("import-streets", "--exemple")
    lines = SAMPLE_STREETS.read_text("utf-8").strip().splitlines()
    assert f"{len(lines) - 1} ajoutée(s)" in out
    world = World(server)
    try:
        worker = world.agent("accueil", ["nord"])
        changes, cursor = worker.pull_all()
        streets = _rows(changes, "streets")
        assert streets[street_id("Rue de Paris", "76600")]["territory_id"] == "centre-ouest"
        assert len(streets) == len(lines) - 1
        # The same file again: nothing changes, nothing is downloaded again.
        assert "0 ajoutée(s), 0 modifiée(s)" in server.cli("import-streets", "--exemple")
        changes, cursor = worker.pull_all(cursor)
        assert _rows(changes, "streets") == {}
        # A new file replaces the table: a street moved, one added, the others removed.
        reply = world.client.post(
            f"{API_PREFIX}/admin/streets",
            json={
                "csv": "rue;territoire;code_postal\nRue de Paris;Le Havre Sud;76600\n"
                "Rue Neuve;est;76610\n"
            },
            headers=world.admin.headers(),
        )
        assert reply.json() == {
            "added": 1,
            "changed": 1,
            "unchanged": 0,
            "removed": len(lines) - 2,
        }
        changes, _ = worker.pull_all(cursor)
        after = _rows(changes, "streets")
        assert after[street_id("Rue de Paris", "76600")]["territory_id"] == "sud"
        assert after[street_id("Rue Neuve", "76610")]["name"] == "Rue Neuve"
        assert sum(1 for v in after.values() if v is None) == len(lines) - 2
        audit = server.sql("SELECT event FROM audit_log WHERE entity = 'streets'")
        assert [e[0] for e in audit] == ["rues-importees"] * 3
    finally:
        world.close()


BAD_FILE = (
    "rue;territoire;code_postal\n"
    "Rue Correcte;nord;76620\n"
    ";nord;76620\n"
    "Rue Sans Territoire;;76620\n"
    "Rue Perdue;atlantide;76620\n"
    "Rue du Code;nord;7662\n"
    "Rue Correcte;nord;76620\n"
    "Rue\u0007Sonnante;nord;76620\n"
    "Rue en Trop;nord;76620;x\n"
)


def test_a_file_with_bad_lines_is_refused_whole_with_a_report(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory("sqlite")
    path = tmp_path / "rues.csv"
    path.write_text(BAD_FILE, "utf-8")
    out = server.cli("import-streets", str(path), check=False)
    assert "Fichier refusé : 7 ligne(s) à corriger sur 8 (rien n'a été importé)." in out
    for expected in (
        "Ligne 3 : Nom de la rue : ce champ est obligatoire.",
        "Ligne 4 : Territoire : ce champ est obligatoire.",
        "Ligne 5 : territoire « atlantide » inconnu.",
        "Ligne 6 : Code postal : ",
        "Ligne 7 : « Rue Correcte » est déjà donnée ligne 2.",
        "Ligne 8 : Nom de la rue : ",
        "Ligne 9 : trop de colonnes.",
    ):
        assert expected in out
    assert server.sql("SELECT count(*) FROM streets") == [(0,)]
    path.write_text("nom de la voie;quartier\nRue A;nord\n", "utf-8")
    out = server.cli("import-streets", str(path), check=False)
    assert "l'en-tête doit nommer les colonnes « rue » et « territoire »" in out
    world = World(server)
    try:
        reply = world.client.post(
            f"{API_PREFIX}/admin/streets", json={"csv": BAD_FILE}, headers=world.admin.headers()
        )
        assert reply.status_code == 422
        assert reply.json()["message"].startswith("Fichier refusé : 7 ligne(s)")
        assert len(reply.json()["details"]) == 7
    finally:
        world.close()
    assert server.sql("SELECT count(*) FROM streets") == [(0,)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('rue;territoire\n"Rue A;nord\n', "Ligne 2 : ligne illisible (guillemet"),
        ('rue;territoire\nRue A;nord\n"x"y;nord\n', "Ligne 3 : ligne illisible (guillemet"),
        ("rue;territoire\n", "Le fichier ne contient aucune rue."),
        ("rue;territoire\nRue\u0000A;nord\n", "Ligne 2 : Nom de la rue : caractère de contrôle"),
    ],
)
def test_an_unreadable_or_empty_street_file_is_refused_in_french(
    world: World, text: str, expected: str
) -> None:
    before = world.server.sql("SELECT count(*), max(server_version) FROM streets")
    reply = world.client.post(
        f"{API_PREFIX}/admin/streets", json={"csv": text}, headers=world.admin.headers()
    )
    assert reply.status_code == 422, reply.text
    assert expected in reply.json()["message"]
    assert world.server.sql("SELECT count(*), max(server_version) FROM streets") == before


def test_a_coordinator_changes_the_desks_of_her_territories_only(world: World) -> None:
    north = world.agent("coordinateur", ["nord"])
    south = world.agent("coordinateur", ["sud"])
    desk = f"sud-{uuid.uuid4().hex[:8]}"
    assert _put(south, desk, territory_id="sud", desk_name="Accueil Sud").status_code == 200
    for reply in (
        _put(north, desk, desk_name="Accueil Sud (renommé)"),
        _put(north, f"nord-{uuid.uuid4().hex[:8]}", territory_id="sud", desk_name="X"),
        north.client.delete(f"{URL}/{desk}", headers=north.headers()),
    ):
        assert reply.status_code == 403
        assert reply.json()["message"].startswith("Cet accueil relève d'un territoire")
    assert world.server.sql("SELECT desk_name FROM city_details WHERE id = :d", d=desk) == [
        ("Accueil Sud",)
    ]
    # Moving her desk to another territory is not hers to do either; the City-wide row is.
    assert _put(south, desk, territory_id="nord").status_code == 403
    assert _put(north, "ville", standard_label="Ville du Havre, accueil").status_code == 200
    assert (
        world.admin.client.delete(f"{URL}/{desk}", headers=world.admin.headers()).status_code == 204
    )
