"""Malformed request text is refused with the protocol's ErrorBody, never a 500, never half-read.

Python's ``int()`` accepts ``'١٢٣'``, ``'1_000'`` and ``' 12 '``, ``str.isdigit()`` accepts
``'²'`` (which ``int()`` then refuses), and PostgreSQL refuses NUL in text with an error of
its own: each of these once reached the database or crashed a handler.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from havre_common.protocol import API_PREFIX, CLIENT_VERSION_HEADER, ErrorBody
from tests.server.support import CLIENT_VERSION, PASSWORD, World, new_person, person_fields


def _seen(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:150]}"


def _error(response: httpx.Response) -> ErrorBody:
    return ErrorBody.model_validate_json(response.content)


def _sign_in(world: World, login: str, password: str, **overrides: Any) -> httpx.Response:
    body = {
        "login": login,
        "password": password,
        "device_id": uuid.uuid4().hex,
        "device_label": "poste de test",
        "client_version": CLIENT_VERSION,
        **overrides,
    }
    # Written by hand: a lone surrogate is legal in JSON text (an escape) but not in UTF-8.
    return world.client.post(
        f"{API_PREFIX}/session",
        content=json.dumps(body).encode("ascii"),
        headers={"Content-Type": "application/json"},
    )


# -- integers in request text -------------------------------------------------------------------

MALFORMED_CURSORS = [
    "١٢٣",  # Arabic-Indic digits: int() reads 123
    "1_000",  # int() reads 1000
    " 12 ",  # int() strips spaces
    "+12",
    "-1",
    "1e9",
    "0x10",
    "²",  # isdigit() but not int()
    "007",
    "0" * 30,
    "9" * 30,
    "x",
    "1.5",
    "s.١.0.a",
    "s.².0.a",
    "s.1_0.0.a",
    "s.1.0",
    "s..0.a",
    "s.1. 0.a",
    "s.1.0.a\x00b",  # PostgreSQL: a NUL in text is an error of the database
    "s.1.0.é",
    "s.1.0.a b",
]


@pytest.mark.parametrize("cursor", MALFORMED_CURSORS)
def test_a_malformed_pull_cursor_is_a_400(world: World, cursor: str) -> None:
    device = world.agent("travailleur-social", ["nord"])
    response = device.pull_page(cursor)
    assert response.status_code == 400, _seen(response)
    body = _error(response)
    assert body.code == "invalid_cursor"
    assert "Curseur de synchronisation invalide" in body.message


def test_well_formed_cursors_still_page_through(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    new_person(device)
    first = device.pull_page("0", limit=2).json()
    assert first["next_cursor"].startswith("s.")
    changes, cursor = device.pull_all(first["next_cursor"], limit=50)
    assert changes and cursor.isascii() and cursor.isdigit()
    assert device.pull_page(cursor).json()["changes"] == []


@pytest.mark.parametrize("limit", ["1_0", " 10", "10 ", "+10", "١٠", "1e1", "0x10", "10.0"])
def test_a_malformed_pull_limit_is_refused(world: World, limit: str) -> None:
    device = world.agent("travailleur-social", ["nord"])
    response = world.client.get(
        f"{API_PREFIX}/sync/pull", params={"cursor": "0", "limit": limit}, headers=device.headers()
    )
    assert response.status_code == 422, _seen(response)
    assert _error(response).code == "invalid_request"


def test_a_stamp_in_other_digits_is_refused(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    person_id = str(uuid.uuid4())
    stamp = device.hlc()
    eastern = stamp[:13].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + stamp[13:]
    fields = {**person_fields("nord"), "id": person_id}
    mutation = device.mutation("contacts", person_id, "insert", fields, hlc=eastern)
    response = device.push_raw([mutation])
    assert response.status_code == 422, _seen(response)
    assert world.server.sql("SELECT count(*) FROM contacts WHERE id = :i", i=person_id)[0][0] == 0


def test_a_client_version_in_other_digits_is_refused(world: World) -> None:
    login = world.create_agent("accueil", ["nord"])
    response = _sign_in(world, login, PASSWORD, client_version="٠.١.٠")
    assert response.status_code == 422, _seen(response)
    assert _error(response).code == "invalid_request"


def test_the_client_version_header_in_other_digits_is_refused(world: World) -> None:
    device = world.agent("travailleur-social", ["nord"])
    response = world.client.get(
        f"{API_PREFIX}/sync/pull",
        params={"cursor": "0"},
        headers={"Authorization": f"Bearer {device.token}", CLIENT_VERSION_HEADER: b"0.1.\xb2"},
    )
    assert response.status_code == 426, _seen(response)
    assert _error(response).code == "client_too_old"


# -- control characters and lone surrogates -----------------------------------------------------

BAD_TEXT = ["\x00", "\x1f", "\x7f", "\x85", "\ud800"]


def _refused_as_invalid(response: httpx.Response) -> None:
    assert response.status_code == 422, _seen(response)
    body = _error(response)
    assert body.code == "invalid_request"
    assert "Requête invalide" in body.message


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize("where", ["login", "password", "device_label"])
def test_control_characters_in_a_sign_in_are_refused(world: World, where: str, bad: str) -> None:
    login = world.create_agent("accueil", ["nord"])
    values = {"login": login, "password": PASSWORD, "device_label": "poste de test"}
    values[where] = values[where][:3] + bad + values[where][3:]
    response = _sign_in(world, values.pop("login"), values.pop("password"), **values)
    _refused_as_invalid(response)
    assert world.server.sql(
        "SELECT count(*) FROM devices d JOIN accounts a ON a.id = d.account_id WHERE a.login = :l",
        l=login,
    ) == [(0,)]
    # The account still signs in normally.
    assert _sign_in(world, login, PASSWORD).status_code == 200


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_control_characters_in_an_unknown_key_are_refused(world: World, bad: str) -> None:
    login = world.create_agent("accueil", ["nord"])
    # The name of an unknown key is quoted back in the error's details.
    _refused_as_invalid(_sign_in(world, login, PASSWORD, **{f"cl{bad}e": 1}))


def _admin_post(world: World, path: str, body: dict[str, Any], patch: bool = False) -> Any:
    method = "PATCH" if patch else "POST"
    return world.client.request(
        method,
        f"{API_PREFIX}{path}",
        content=json.dumps(body).encode("ascii"),
        headers={**world.admin.headers(), "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize("where", ["display_name", "password", "work_phone"])
def test_control_characters_in_a_new_agent_are_refused(world: World, where: str, bad: str) -> None:
    login = f"nouveau-{uuid.uuid4().hex[:8]}"
    body = {
        "login": login,
        "password": PASSWORD,
        "display_name": "Martine Durand",
        "role": "accueil",
        "territory_ids": ["nord"],
        "work_phone": "02 61 91 01 01",
    }
    body[where] = str(body[where])[:4] + bad + str(body[where])[4:]
    _refused_as_invalid(_admin_post(world, "/admin/agents", body))
    assert world.server.sql("SELECT count(*) FROM accounts WHERE login = :l", l=login) == [(0,)]


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize("where", ["display_name", "work_phone"])
def test_control_characters_in_an_agent_update_are_refused(
    world: World, where: str, bad: str
) -> None:
    device = world.agent("accueil", ["nord"])
    before = world.server.sql("SELECT display_name FROM agents WHERE id = :i", i=device.agent_id)
    value = {"display_name": "Martine Durand", "work_phone": "02 61 91 01 01"}[where]
    response = _admin_post(
        world, f"/admin/agents/{device.agent_id}", {where: value[:4] + bad + value[4:]}, patch=True
    )
    _refused_as_invalid(response)
    after = world.server.sql("SELECT display_name FROM agents WHERE id = :i", i=device.agent_id)
    assert after == before
