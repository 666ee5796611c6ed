"""Sign-in, sign-out, token revocation and expiry, disabled accounts, versions, rate limit."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from havre_common.protocol import API_PREFIX, CLIENT_VERSION_HEADER
from tests.server.support import CLIENT_VERSION, PASSWORD, TEST_ENV, World, attempt_sign_in


def test_login_gives_a_device_token_and_the_agent(world: World) -> None:
    device = world.agent("travailleur-social", ["sud"])
    assert device.agent["role"] == "travailleur-social"
    assert device.agent["territory_ids"] == ["sud"]
    changes, _ = device.pull_all()
    assert any(c["table_name"] == "ref_territories" for c in changes)
    # The token is stored hashed: its clear text is nowhere in the database.
    rows = world.server.sql("SELECT token_hash FROM tokens")
    assert all(device.token not in r[0] for r in rows)
    assert len(rows[0][0]) == 64


def test_bad_password_is_refused_without_telling_which_part(world: World) -> None:
    login = world.create_agent("accueil", ["nord"])
    for name, password in ((login, "mauvais-mot-de-passe"), ("inconnu-" + login, PASSWORD)):
        response = attempt_sign_in(world.client, name, password)
        assert response.status_code == 401
        assert response.json()["code"] == "bad_credentials"
        assert response.json()["message"] == "Identifiant ou mot de passe incorrect."


def test_logout_closes_the_session_of_this_device_only(world: World) -> None:
    login = world.create_agent("travailleur-social", ["nord"])
    laptop = world.sign_in(login)
    desktop = world.sign_in(login)
    assert world.client.delete(f"{API_PREFIX}/session", headers=laptop.headers()).status_code == 204
    refused = laptop.pull_page("0")
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    assert refused.json()["wipe"] is False
    assert desktop.pull_page("0").status_code == 200


def test_expired_token_asks_to_sign_in_again_and_never_wipes(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    world.server.sql(
        "UPDATE tokens SET expires_at_ms = 1 WHERE device_pk IN "
        "(SELECT id FROM devices WHERE device_id = :d)",
        d=device.device_id,
    )
    for response in (device.pull_page("0"), device.push_raw([])):
        assert response.status_code == 401
        body = response.json()
        assert body["code"] == "token_expired"
        assert "expiré" in body["message"]
        assert body["wipe"] is False


def test_disabled_account_gets_a_distinct_message_and_keeps_its_data(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    assert world.patch_agent(device.agent_id, disabled=True).status_code == 200
    response = device.pull_page("0")
    assert response.status_code == 401
    assert response.json()["code"] == "account_disabled"
    assert "désactivé" in response.json()["message"]
    assert response.json()["wipe"] is False
    login = world.client.post(
        f"{API_PREFIX}/session",
        json={
            "login": device.login,
            "password": PASSWORD,
            "device_id": device.device_id,
            "client_version": CLIENT_VERSION,
        },
    )
    assert login.status_code == 401
    assert login.json()["code"] == "account_disabled"
    assert world.patch_agent(device.agent_id, disabled=False).status_code == 200
    assert device.pull_page("0").status_code == 200


def test_revoked_device_is_told_to_wipe_itself(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    other = world.sign_in(device.login)
    response = world.client.post(
        f"{API_PREFIX}/admin/devices/{device.device_id}/revoke", headers=world.admin.headers()
    )
    assert response.status_code == 204
    for answer in (device.pull_page("0"), device.push_raw([])):
        assert answer.status_code == 410
        assert answer.json()["code"] == "device_revoked"
        assert answer.json()["wipe"] is True
    # Signing in again from the revoked device is refused the same way.
    again = world.client.post(
        f"{API_PREFIX}/session",
        json={
            "login": device.login,
            "password": PASSWORD,
            "device_id": device.device_id,
            "client_version": CLIENT_VERSION,
        },
    )
    assert again.status_code == 410
    assert again.json()["wipe"] is True
    # The agent's other device is untouched.
    assert other.pull_page("0").status_code == 200


def test_old_client_is_asked_to_update(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    response = world.client.get(
        f"{API_PREFIX}/sync/pull",
        params={"cursor": "0"},
        headers={"Authorization": f"Bearer {device.token}", CLIENT_VERSION_HEADER: "0.0.9"},
    )
    assert response.status_code == 426
    assert response.json()["code"] == "client_too_old"
    assert "mettre à jour" in response.json()["message"]
    login = world.client.post(
        f"{API_PREFIX}/session",
        json={
            "login": device.login,
            "password": PASSWORD,
            "device_id": uuid.uuid4().hex,
            "client_version": "0.0.1",
        },
    )
    assert login.status_code == 426
    assert "mettre à jour" in login.json()["message"]


def test_repeated_failures_are_rate_limited(world: World) -> None:
    login = world.create_agent("accueil", ["nord"])

    statuses = [
        attempt_sign_in(world.client, login, "mauvais-mot-de-passe").status_code for _ in range(5)
    ]
    assert statuses == [401] * 5
    limited = attempt_sign_in(world.client, login, PASSWORD)
    assert limited.status_code == 429
    assert limited.json()["code"] == "too_many_attempts"
    assert int(limited.headers["Retry-After"]) > 0


def test_a_burst_of_wrong_passwords_gets_no_more_tries_than_allowed(world: World) -> None:
    login = world.create_agent("accueil", ["nord"])
    allowed = int(TEST_ENV["HAVRE_SERVER_LOGIN_MAX_FAILURES"])
    burst = 24
    start = threading.Barrier(burst)

    def attempt(_: int) -> tuple[int, str]:
        # One connection per thread, all sent at once.
        with httpx.Client(base_url=world.server.base_url, timeout=120) as client:
            start.wait(timeout=60)
            response = attempt_sign_in(client, login, "mauvais-mot-de-passe")
        return response.status_code, response.json()["code"]

    with ThreadPoolExecutor(burst) as pool:
        answers = list(pool.map(attempt, range(burst)))
    tried = answers.count((401, "bad_credentials"))
    assert answers.count((429, "too_many_attempts")) == burst - tried
    assert tried <= allowed, f"{tried} wrong passwords tried at once, {allowed} allowed"
    # The limit holds for the right password too until the window has passed.
    assert attempt_sign_in(world.client, login, PASSWORD).status_code == 429


def test_a_disabled_account_answers_like_a_wrong_password(world: World) -> None:
    active = world.create_agent("accueil", ["nord"])
    disabled = world.sign_in(world.create_agent("accueil", ["nord"]))
    assert world.patch_agent(disabled.agent_id, disabled=True).status_code == 200

    def seen(response: httpx.Response) -> tuple[int, bytes, list[str]]:
        varying = {"date", "x-request-id"}
        return response.status_code, response.content, sorted(set(response.headers) - varying)

    wrong = seen(attempt_sign_in(world.client, active, "mauvais-mot-de-passe"))
    assert wrong[0] == 401
    assert seen(attempt_sign_in(world.client, disabled.login, "mauvais-mot-de-passe")) == wrong
    assert seen(attempt_sign_in(world.client, "inconnu-" + active, "mauvais-mot-de-passe")) == wrong
    # Only the right password tells that the account is disabled.
    right = attempt_sign_in(world.client, disabled.login, PASSWORD)
    assert right.status_code == 401
    assert right.json()["code"] == "account_disabled"
    assert "désactivé" in right.json()["message"]


def test_meta_answers_without_sign_in(world: World) -> None:
    meta = world.client.get(f"{API_PREFIX}/sync/meta").json()
    assert meta["protocol_version"] == 1
    assert meta["schema_version"] >= 1
    assert meta["min_client_version"] == "0.1.0"
    assert meta["head_seq"] > 0
