"""The ``havre-server`` commands, migrations, shared constants, and logs without personal data."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.server.support import PASSWORD, Replica, ServerProcess, World, new_person, new_visit


def test_admin_commands_from_the_server_shell(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory("sqlite")
    out = server.cli(
        "add-agent",
        "--login",
        "m.durand",
        "--name",
        "Martine Durand",
        "--role",
        "travailleur-social",
        "--territory",
        "sud",
        "--phone",
        "0261910101",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    agent = json.loads(out)
    assert agent["territory_ids"] == ["sud"] and agent["work_phone"] == "02 61 91 01 01"
    world = World(server)
    try:
        device = world.sign_in("m.durand")
        person_id = new_person(device, "sud")
        view = Replica(device).sync()
        assert view.has("contacts", person_id)

        changed = json.loads(
            server.cli("set-agent", "m.durand", "--role", "coordinateur", "--territory", "nord")
        )
        assert changed["role"] == "coordinateur" and changed["territory_ids"] == ["nord"]
        view.sync()
        assert view.resets == 1 and not view.has("contacts", person_id)

        # The register right, from the shell (named staff only; audited, ids only).
        assert changed["register_right"] is False  # a role change does not grant it
        granted = json.loads(server.cli("set-agent", "m.durand", "--registre"))
        assert granted["register_right"] is True
        removed = json.loads(server.cli("set-agent", "m.durand", "--sans-registre"))
        assert removed["register_right"] is False
        rights = server.sql(
            "SELECT detail FROM audit_log WHERE event = 'droit-registre' AND entity_id = :a "
            "ORDER BY chain_seq",
            a=granted["id"],
        )
        assert [json.loads(r[0]) for r in rights] == [
            {"register_right": True},
            {"register_right": False},
        ]

        devices = json.loads(server.cli("list-devices", "--login", "m.durand"))
        assert [d["device_id"] for d in devices] == [device.device_id]

        server.cli("disable-agent", "m.durand")
        assert device.pull_page("0").json()["code"] == "account_disabled"
        server.cli("set-agent", "m.durand", "--enable")
        assert device.pull_page("0").status_code == 200

        assert "révoqué" in server.cli("revoke-device", device.device_id)
        assert device.pull_page("0").json()["wipe"] is True

        facilities = tmp_path / "lieux.csv"
        facilities.write_text(
            "id;kind_id;name;territory_id;phone;step_free\n"
            f"{uuid.uuid4()};bibliotheque-musee;Bibliothèque de test;sud;02 61 91 55 55;oui\n",
            "utf-8",
        )
        actions = tmp_path / "actions.csv"
        action_id = str(uuid.uuid4())
        actions.write_text(
            "id;code;title;priority_id;status;audience_ids;territory_ids;accessibility\n"
            f"{action_id};T-1;Atelier de test;P05;en-test;seniors|handicap;sud;"
            "step_free|easy_read\n",
            "utf-8",
        )
        assert "1 lieux, 1 actions" in server.cli(
            "import-catalogue", "--facilities", str(facilities), "--actions", str(actions)
        )
        reader = Replica(world.agent("accueil", ["est"])).sync()
        action = reader.get("actions", action_id)
        assert action["audience_ids"] == ["seniors", "handicap"]
        assert action["accessibility"]["easy_read"] is True

        worker = world.agent("travailleur-social", ["est"])
        victim = new_person(worker, "est")
        erased = json.loads(server.cli("erase-person", victim))
        assert erased["removed"] == {"contacts": 1}
        bad = server.cli("erase-person", str(uuid.uuid4()), check=False)
        assert "introuvable" in bad
    finally:
        world.close()


def test_invalid_catalogue_is_refused_whole(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory("sqlite")
    path = tmp_path / "catalogue.json"
    path.write_text(
        json.dumps(
            {
                "facilities": [
                    {"id": str(uuid.uuid4()), "kind_id": "fabrique", "name": "Valide"},
                    {"id": str(uuid.uuid4()), "kind_id": "inconnu", "name": "Invalide"},
                ]
            }
        ),
        "utf-8",
    )
    before = server.sql("SELECT count(*) FROM facilities")[0][0]
    out = server.cli("import-catalogue", str(path), check=False)
    assert "valeur inconnue" in out
    assert server.sql("SELECT count(*) FROM facilities")[0][0] == before


def test_server_logs_hold_no_personal_data(world: World) -> None:
    worker = world.agent("travailleur-social", ["nord"])
    person_id = new_person(
        worker, "nord", family_name="Vraimentunique", given_names="Hortense", phone_1="0261918877"
    )
    new_visit(worker, person_id, notes="Confidence très personnelle")
    worker.push(worker.mutation("contacts", person_id, "update", {"phone_1": "12"}, 1))
    Replica(worker).sync()
    log = world.server.log_text()
    assert person_id in log or "push agent=" in log  # the log is there and speaks in ids
    for secret in ("Vraimentunique", "Hortense", "02 61 91 88 77", "Confidence"):
        assert secret not in log
    for line in log.splitlines():
        if line.startswith("{"):
            json.loads(line)  # structured: one JSON object per line


def test_the_server_imports_no_qt_and_no_desktop_ui() -> None:
    import subprocess
    import sys

    code = (
        "import sys, havre_server.app, havre_server.cli, havre_common.protocol;"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'havre_desktop.ui', "
        "'sqlcipher3', 'sqlite_utils'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_serve_refuses_options_it_could_not_honour(capsys: pytest.CaptureFixture[str]) -> None:
    """A minimum version the protocol cannot carry would make every /sync/meta fail: refused
    at start, like a certificate without its key."""
    from havre_server.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--min-client-version", "99.0"])
    assert "version attendue sous la forme 1.2.0" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--ssl-certfile et --ssl-keyfile vont ensemble"):
        main(["--database", "sqlite://", "serve", "--ssl-certfile", "cert.pem"])
