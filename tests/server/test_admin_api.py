"""Administration through the authenticated API (the desktop's pages use it): a password reset,
an account disabled, the devices' last sync, with the same checks as the CLI, every action in
the audit log; a social worker refused in French."""

from __future__ import annotations

import uuid

import httpx

from havre_common.protocol import API_PREFIX
from tests.server.support import ADMIN_PASSWORD, PASSWORD, Device, World, attempt_sign_in


def _reset(world: World, headers: dict[str, str], agent_id: str) -> httpx.Response:
    return world.client.post(f"{API_PREFIX}/admin/agents/{agent_id}/password", headers=headers)


def _events(world: World, agent_id: str) -> list[tuple[str, str | None]]:
    rows = world.server.sql(
        "SELECT l.event, a.login FROM audit_log l LEFT JOIN accounts a ON a.agent_id = l.agent_id "
        "WHERE l.entity = 'agents' AND l.entity_id = :i ORDER BY l.chain_seq",
        i=agent_id,
    )
    return [(r[0], r[1]) for r in rows]


def test_a_coordinator_resets_a_password_old_refused_new_works_sessions_closed(
    world: World,
) -> None:
    coordinator = world.agent("coordinateur", ["nord"])
    worker = world.agent("travailleur-social", ["nord"])
    reply = _reset(world, coordinator.headers(), worker.agent_id)
    assert reply.status_code == 200, reply.text
    password = reply.json()["password"]
    assert len(password) >= 16 and password != PASSWORD
    assert attempt_sign_in(world.client, worker.login, PASSWORD).json()["code"] == (
        "bad_credentials"
    )
    assert attempt_sign_in(world.client, worker.login, password).status_code == 200
    # The device signed in before the reset must sign in again (nothing wiped: no 410).
    closed = worker.pull_page("0")
    assert closed.status_code == 401 and closed.json()["code"] == "invalid_token"
    assert "wipe" not in closed.json() or not closed.json()["wipe"]
    assert _events(world, worker.agent_id)[-1] == ("mot-de-passe-reinitialise", coordinator.login)
    assert coordinator.pull_page("0").status_code == 200  # the coordinator's own session stays


def test_a_coordinator_manages_only_workers_and_reception_of_their_territories(
    world: World,
) -> None:
    coordinator = world.agent("coordinateur", ["nord"])
    elsewhere = world.agent("travailleur-social", ["sud"])
    peer = world.agent("coordinateur", ["nord"])
    for target in (elsewhere, peer, coordinator, world.admin):
        refused = _reset(world, coordinator.headers(), target.agent_id)
        assert refused.status_code == 404
        assert refused.json()["message"] == "Agent introuvable ou hors de votre périmètre."
        assert (
            attempt_sign_in(world.client, target.login, _password(world, target)).status_code == 200
        )
    assert _reset(world, coordinator.headers(), str(uuid.uuid4())).status_code == 404
    assert not _events(world, elsewhere.agent_id)[1:]  # only its creation


def _password(world: World, device: Device) -> str:
    return ADMIN_PASSWORD if device is world.admin else PASSWORD


def test_a_social_worker_is_refused_the_admin_api_in_french(world: World) -> None:
    worker = world.agent("travailleur-social", ["nord"])
    colleague = world.agent("travailleur-social", ["nord"])
    for method, path in (
        ("GET", "/admin/agents"),
        ("GET", "/admin/devices"),
        ("POST", f"/admin/agents/{colleague.agent_id}/password"),
        ("POST", f"/admin/devices/{colleague.device_id}/revoke"),
    ):
        refused = world.client.request(method, API_PREFIX + path, headers=worker.headers())
        assert refused.status_code == 403, path
        assert refused.json()["message"] == "Votre rôle ne permet pas cette opération."
    assert attempt_sign_in(world.client, colleague.login, PASSWORD).status_code == 200
    assert colleague.pull_page("0").status_code == 200


def test_creating_changing_disabling_an_agent_is_audited_and_disabling_refuses_login(
    world: World,
) -> None:
    coordinator = world.agent("coordinateur", ["nord", "sud"])
    login = f"nouvel-{uuid.uuid4().hex[:8]}"
    created = world.client.post(
        f"{API_PREFIX}/admin/agents",
        json={
            "login": login,
            "password": PASSWORD,
            "display_name": "Nouvel Agent",
            "role": "accueil",
            "territory_ids": ["nord"],
        },
        headers=coordinator.headers(),
    )
    assert created.status_code == 201, created.text
    agent_id = created.json()["id"]
    patch = f"{API_PREFIX}/admin/agents/{agent_id}"
    headers = coordinator.headers()
    moved = world.client.patch(patch, json={"territory_ids": ["nord", "sud"]}, headers=headers)
    assert moved.json()["territory_ids"] == ["nord", "sud"]
    device = world.sign_in(login)
    assert world.client.patch(patch, json={"disabled": True}, headers=headers).json()["disabled"]
    refused = attempt_sign_in(world.client, login, PASSWORD)
    assert refused.json()["code"] == "account_disabled"
    assert "désactivé" in refused.json()["message"]
    assert device.pull_page("0").json()["code"] == "account_disabled"
    # Disabling twice records it once; enabling again lets the agent in.
    world.client.patch(patch, json={"disabled": True}, headers=headers)
    world.client.patch(patch, json={"disabled": False}, headers=headers)
    assert attempt_sign_in(world.client, login, PASSWORD).status_code == 200
    assert _events(world, agent_id) == [
        ("agent-cree", coordinator.login),
        ("agent-modifie", coordinator.login),
        ("compte-desactive", coordinator.login),
        ("compte-reactive", coordinator.login),
    ]
    detail = world.server.sql(
        "SELECT detail FROM audit_log WHERE entity_id = :i AND event = 'agent-modifie'", i=agent_id
    )
    assert '"territoires": "nord:sud"' in detail[0][0].replace('":"', '": "')
    assert "intègre" in world.server.cli("audit-verify")


def test_devices_list_their_last_sync(world: World) -> None:
    coordinator = world.agent("coordinateur", ["nord"])
    worker = world.agent("travailleur-social", ["nord"])
    worker.pull_all()
    pulled = world.server.sql(
        "SELECT s.seen_at_ms FROM device_pull_state s JOIN devices d ON d.id = s.device_pk "
        "WHERE d.device_id = :d",
        d=worker.device_id,
    )[0][0]
    listed = world.client.get(f"{API_PREFIX}/admin/devices", headers=coordinator.headers()).json()
    (mine,) = [d for d in listed if d["device_id"] == worker.device_id]
    assert mine["last_sync_at_ms"] >= pulled >= mine["created_at_ms"]
    assert mine["login"] == worker.login and mine["agent_id"] == worker.agent_id


def test_the_cli_resets_a_password_with_the_same_effect(world: World) -> None:
    worker = world.agent("travailleur-social", ["nord"])
    out = world.server.cli("reset-password", worker.login)
    password = out.split(" : ", 1)[1].splitlines()[0].strip()
    assert attempt_sign_in(world.client, worker.login, PASSWORD).status_code == 401
    assert attempt_sign_in(world.client, worker.login, password).status_code == 200
    assert _events(world, worker.agent_id)[-1] == ("mot-de-passe-reinitialise", None)
