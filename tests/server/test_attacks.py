"""Access-control attacks: each is refused with the right status, and nothing leaks or changes.

Every test checks three things: the HTTP status (and code), that no personal data of the
victim appears in the answer, and that the victim's rows on the server are unchanged.
"""

from __future__ import annotations

import gzip
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from havre_common.protocol import API_PREFIX, CLIENT_VERSION_HEADER, MAX_PUSH_BATCH
from tests.server.support import (
    CLIENT_VERSION,
    PASSWORD,
    Device,
    Replica,
    World,
    new_person,
    new_visit,
    now_ms,
    person_fields,
    visit_fields,
)

SECRET_NAME = "Quelqu'unDeSecret"
SECRET_NOTE = "Note médicale confidentielle : traitement lourd."


@dataclass
class Scene:
    world: World
    owner: Device  # social worker, nord
    attacker: Device  # social worker, sud
    desk: Device  # reception, nord
    person_id: str
    visit_id: str

    def state(self) -> Any:
        """Everything the server holds about the victim (to show it did not change)."""
        server = self.world.server
        return (
            server.sql("SELECT * FROM contacts WHERE id = :i", i=self.person_id),
            server.sql("SELECT * FROM visits WHERE person_id = :i", i=self.person_id),
            server.sql("SELECT count(*) FROM change_log")[0][0],
        )


@pytest.fixture
def scene(world: World) -> Scene:
    owner = world.agent("travailleur-social", ["nord"])
    attacker = world.agent("travailleur-social", ["sud"])
    desk = world.agent("accueil", ["nord"])
    person_id = new_person(owner, "nord", family_name=SECRET_NAME)
    visit_id = new_visit(owner, person_id, notes=SECRET_NOTE)
    return Scene(world, owner, attacker, desk, person_id, visit_id)


def _no_leak(response: httpx.Response) -> None:
    assert SECRET_NAME not in response.text
    assert SECRET_NOTE not in response.text


def _refused(scene: Scene, mutation: dict[str, Any], device: Device | None = None) -> str:
    """Push one mutation; it must be rejected, leak nothing and change nothing."""
    device = device or scene.attacker
    before = scene.state()
    response = device.push_raw([mutation])
    assert response.status_code == 200
    _no_leak(response)
    result = response.json()["results"][0]
    assert result["status"] == "rejected", result
    after = scene.state()
    assert after[0] == before[0] and after[1] == before[1]
    return str(result["reason"])


@pytest.mark.parametrize("text", ["a\x00b", "a\x07b", "ligne 1\nligne 2"])
def test_control_characters_in_logins_labels_and_agent_names(scene: Scene, text: str) -> None:
    """Refused at the door (422). PostgreSQL refuses NUL in text: a sign-in whose login or
    device label held one, or an agent named with one, answered 500 (found by schemathesis)."""
    client, admin = scene.world.client, scene.world.admin
    devices = "SELECT count(*) FROM devices"
    before = scene.world.server.sql(devices)
    sign_in = {
        "login": scene.owner.login,
        "password": PASSWORD,
        "device_id": uuid.uuid4().hex,
        "client_version": CLIENT_VERSION,
    }
    for changed in ({"device_label": text}, {"login": text}):
        response = client.post(f"{API_PREFIX}/session", json={**sign_in, **changed})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_request"
    created = client.post(
        f"{API_PREFIX}/admin/agents",
        json={
            "login": "nom-invalide",
            "password": "0123456789ab",
            "display_name": text,
            "role": "accueil",
            "territory_ids": ["nord"],
        },
        headers=admin.headers(),
    )
    assert created.status_code == 422, created.text
    renamed = client.patch(
        f"{API_PREFIX}/admin/agents/{scene.owner.agent_id}",
        json={"display_name": text},
        headers=admin.headers(),
    )
    assert renamed.status_code == 422, renamed.text
    assert scene.world.server.sql(devices) == before


# -- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "missing_token"),
        ("Bearer pas-un-vrai-jeton-0123456789", "invalid_token"),
        ("Basic YWRtaW46YWRtaW4=", "missing_token"),
    ],
)
def test_pull_without_a_valid_token(scene: Scene, authorization: str | None, code: str) -> None:
    headers = {CLIENT_VERSION_HEADER: CLIENT_VERSION}
    if authorization:
        headers["Authorization"] = authorization
    response = scene.world.client.get(
        f"{API_PREFIX}/sync/pull", params={"cursor": "0"}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.json()["wipe"] is False
    _no_leak(response)


def test_logged_out_token_is_refused(scene: Scene) -> None:
    thief = scene.world.sign_in(scene.owner.login)
    assert (
        scene.world.client.delete(f"{API_PREFIX}/session", headers=thief.headers()).status_code
        == 204
    )
    before = scene.state()
    response = thief.push_raw(
        [thief.mutation("contacts", scene.person_id, "update", {"city": "Rouen"}, 1)]
    )
    assert response.status_code == 401 and response.json()["code"] == "invalid_token"
    assert thief.pull_page("0").status_code == 401
    _no_leak(thief.pull_page("0"))
    assert scene.state()[0] == before[0]


def test_expired_token_is_refused(scene: Scene) -> None:
    old = scene.world.sign_in(scene.owner.login)
    scene.world.server.sql(
        "UPDATE tokens SET expires_at_ms = :t WHERE device_pk IN "
        "(SELECT id FROM devices WHERE device_id = :d)",
        t=now_ms() - 1,
        d=old.device_id,
    )
    response = old.pull_page("0")
    assert response.status_code == 401 and response.json()["code"] == "token_expired"
    _no_leak(response)


def test_revoked_device_cannot_push_or_pull(scene: Scene) -> None:
    stolen = scene.world.sign_in(scene.owner.login)
    revoke = scene.world.client.post(
        f"{API_PREFIX}/admin/devices/{stolen.device_id}/revoke", headers=scene.world.admin.headers()
    )
    assert revoke.status_code == 204
    before = scene.state()
    response = stolen.push_raw(
        [stolen.mutation("contacts", scene.person_id, "update", {"city": "Rouen"}, 1)]
    )
    assert response.status_code == 410 and response.json()["wipe"] is True
    pulled = stolen.pull_page("0")
    assert pulled.status_code == 410
    _no_leak(pulled)
    assert scene.state()[0] == before[0]


# -- scope: persons of another territory ------------------------------------------------------


def test_editing_another_territorys_person_by_id(scene: Scene) -> None:
    reason = _refused(
        scene,
        scene.attacker.mutation(
            "contacts", scene.person_id, "update", {"phone_1": "0639981111"}, 1
        ),
    )
    # Same answer as for an id that does not exist: existence is not revealed.
    unknown = _refused(
        scene,
        scene.attacker.mutation(
            "contacts", str(uuid.uuid4()), "update", {"phone_1": "0639981111"}, 1
        ),
    )
    assert reason == unknown


def test_moving_another_territorys_person_into_mine(scene: Scene) -> None:
    _refused(
        scene,
        scene.attacker.mutation("contacts", scene.person_id, "update", {"territory_id": "sud"}, 1),
    )


def test_deleting_another_territorys_person(scene: Scene) -> None:
    _refused(
        scene, scene.attacker.mutation("contacts", scene.person_id, "delete", {"deleted": True}, 1)
    )


def test_logging_a_visit_for_another_territorys_person(scene: Scene) -> None:
    visit_id = str(uuid.uuid4())
    _refused(
        scene,
        scene.attacker.mutation(
            "visits", visit_id, "insert", visit_fields(scene.person_id, scene.attacker.agent_id)
        ),
    )
    assert (
        scene.world.server.sql("SELECT count(*) FROM visits WHERE id = :i", i=visit_id)[0][0] == 0
    )


def test_creating_a_person_in_another_territory(scene: Scene) -> None:
    person_id = str(uuid.uuid4())
    _refused(
        scene,
        scene.attacker.mutation(
            "contacts", person_id, "insert", {**person_fields("nord"), "id": person_id}
        ),
    )
    assert (
        scene.world.server.sql("SELECT count(*) FROM contacts WHERE id = :i", i=person_id)[0][0]
        == 0
    )


def test_reusing_an_existing_id_to_overwrite_a_person(scene: Scene) -> None:
    _refused(
        scene,
        scene.attacker.mutation(
            "contacts", scene.person_id, "insert", {**person_fields("sud"), "id": scene.person_id}
        ),
    )


def test_a_forged_snapshot_cursor_reveals_nothing(scene: Scene) -> None:
    for cursor in ("s.0.8.", "s.999999999.8.", "-1", "1e9", "s.1.99.x", "0" * 30):
        response = scene.attacker.pull_page(cursor)
        assert response.status_code in (200, 400)
        _no_leak(response)
    changes, _ = scene.attacker.pull_all()
    assert scene.person_id not in json.dumps(changes)


# -- forged identities in pushes ----------------------------------------------------------------


def test_visit_forged_in_another_agents_name(scene: Scene) -> None:
    colleague = scene.world.agent("travailleur-social", ["nord"])
    reason = _refused(
        scene,
        colleague.mutation(
            "visits",
            str(uuid.uuid4()),
            "insert",
            visit_fields(scene.person_id, scene.owner.agent_id),
        ),
        colleague,
    )
    assert "auteur" in reason


def test_correcting_someone_elses_visit(scene: Scene) -> None:
    colleague = scene.world.agent("travailleur-social", ["nord"])
    _refused(
        scene,
        colleague.mutation(
            "visits", scene.visit_id, "update", {"notes": "falsifié", "revision": 2}, 1
        ),
        colleague,
    )


def test_stamp_forged_with_another_devices_id(scene: Scene) -> None:
    forged = f"{now_ms():013d}-0001-{scene.owner.device_id}"
    _refused(
        scene,
        scene.owner.mutation(
            "contacts", scene.person_id, "update", {"city": "Rouen"}, 1, hlc=forged
        ),
        scene.world.sign_in(scene.owner.login),
    )


def test_mutation_replayed_from_another_device(scene: Scene) -> None:
    mutation = scene.owner.mutation("contacts", scene.person_id, "update", {"city": "Harfleur"}, 1)
    assert scene.owner.push(mutation)[0]["status"] == "applied"
    replayer = scene.world.sign_in(scene.owner.login)
    before = scene.state()
    response = replayer.push_raw([mutation])
    result = response.json()["results"][0]
    assert response.status_code == 200 and result["status"] == "rejected"
    assert "autre appareil" in result["reason"]
    assert scene.state() == before


def test_push_body_claiming_another_device(scene: Scene) -> None:
    before = scene.state()
    body = {
        "device_id": scene.owner.device_id,
        "client_time_ms": now_ms(),
        "mutations": [
            scene.attacker.mutation("contacts", scene.person_id, "update", {"city": "Rouen"}, 1)
        ],
    }
    response = scene.world.client.post(
        f"{API_PREFIX}/sync/push", json=body, headers=scene.attacker.headers()
    )
    assert response.status_code == 403
    assert scene.state() == before


def test_promoting_oneself_through_the_agent_directory(scene: Scene) -> None:
    reason = _refused(
        scene,
        scene.attacker.mutation(
            "agents", scene.attacker.agent_id, "update", {"role": "administrateur"}, 1
        ),
    )
    assert "serveur" in reason
    role = scene.world.server.sql(
        "SELECT role FROM agents WHERE id = :i", i=scene.attacker.agent_id
    )
    assert role[0][0] == "travailleur-social"


# -- roles -------------------------------------------------------------------------------------


def test_reception_agent_cannot_read_visit_notes(scene: Scene) -> None:
    changes, _ = scene.desk.pull_all()
    text = json.dumps(changes, ensure_ascii=False)
    assert SECRET_NOTE not in text and scene.visit_id not in text
    assert SECRET_NAME in text  # identity is theirs to see


def test_reception_agent_cannot_log_or_read_visits_through_push(scene: Scene) -> None:
    _refused(
        scene,
        scene.desk.mutation(
            "visits",
            str(uuid.uuid4()),
            "insert",
            visit_fields(scene.person_id, scene.desk.agent_id),
        ),
        scene.desk,
    )


def test_reception_agent_cannot_change_care_fields(scene: Scene) -> None:
    _refused(
        scene,
        scene.desk.mutation("contacts", scene.person_id, "update", {"access_notes": "x"}, 1),
        scene.desk,
    )


def test_social_worker_cannot_change_the_catalogue(scene: Scene) -> None:
    action = scene.world.server.sql("SELECT id, title FROM actions ORDER BY id LIMIT 1")[0]
    result = scene.attacker.push(
        scene.attacker.mutation("actions", action[0], "update", {"title": "Piraté"}, 1)
    )[0]
    assert result["status"] == "rejected"
    after = scene.world.server.sql("SELECT title FROM actions WHERE id = :i", i=action[0])
    assert after[0][0] == action[1]


def test_social_worker_cannot_use_the_admin_api(scene: Scene) -> None:
    client, headers = scene.world.client, scene.attacker.headers()
    created = client.post(
        f"{API_PREFIX}/admin/agents",
        json={
            "login": "intrus",
            "password": "0123456789ab",
            "display_name": "Intrus",
            "role": "administrateur",
            "territory_ids": ["nord"],
        },
        headers=headers,
    )
    assert created.status_code == 403
    assert client.get(f"{API_PREFIX}/admin/devices", headers=headers).status_code == 403
    erase = client.post(
        f"{API_PREFIX}/admin/persons/{scene.person_id}/erase", json={}, headers=headers
    )
    assert erase.status_code == 403
    assert scene.world.server.sql("SELECT count(*) FROM accounts WHERE login = 'intrus'")[0][0] == 0
    assert scene.state()[0]


def test_coordinator_is_limited_to_their_territories(scene: Scene) -> None:
    coordinator = scene.world.agent("coordinateur", ["sud"])
    client, headers = scene.world.client, coordinator.headers()
    admin_made = client.post(
        f"{API_PREFIX}/admin/agents",
        json={
            "login": f"x-{uuid.uuid4().hex[:8]}",
            "password": "0123456789ab",
            "display_name": "X",
            "role": "administrateur",
            "territory_ids": ["sud"],
        },
        headers=headers,
    )
    assert admin_made.status_code == 403
    moved = client.patch(
        f"{API_PREFIX}/admin/agents/{scene.owner.agent_id}",
        json={"territory_ids": ["sud"]},
        headers=headers,
    )
    assert moved.status_code == 404
    before = scene.state()
    erase = client.post(
        f"{API_PREFIX}/admin/persons/{scene.person_id}/erase", json={}, headers=headers
    )
    assert erase.status_code == 404
    _no_leak(erase)
    assert scene.state()[:2] == before[:2]
    devices = client.get(f"{API_PREFIX}/admin/devices", headers=headers).json()
    assert scene.owner.device_id not in json.dumps(devices)


def test_resolving_a_conflict_one_cannot_see(scene: Scene) -> None:
    other = scene.world.agent("travailleur-social", ["nord"])
    scene.owner.push(scene.owner.mutation("contacts", scene.person_id, "update", {"city": "A"}, 1))
    result = other.push(
        other.mutation(
            "contacts", scene.person_id, "update", {"city": "B"}, 1, hlc=other.hlc(now_ms() + 500)
        )
    )[0]
    conflict_id = result["conflict_ids"][0]
    reason = scene.attacker.push(
        scene.attacker.mutation(
            "conflicts", conflict_id, "update", {"resolved_at": "2026-11-25T10:00:00Z"}, 1
        )
    )[0]
    assert reason["status"] == "rejected"
    assert not Replica(scene.attacker).sync().has("conflicts", conflict_id)


# -- malformed and oversized requests ------------------------------------------------------------


def _raw_push(scene: Scene, content: bytes, **headers: str) -> httpx.Response:
    return scene.world.client.post(
        f"{API_PREFIX}/sync/push",
        content=content,
        headers={**scene.attacker.headers(), "Content-Type": "application/json", **headers},
    )


def test_oversized_batch(scene: Scene) -> None:
    before = scene.state()
    mutations = [
        scene.attacker.mutation("contacts", str(uuid.uuid4()), "insert", person_fields("sud"))
        for _ in range(MAX_PUSH_BATCH + 1)
    ]
    response = scene.attacker.push_raw(mutations)
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"
    assert scene.state() == before


def test_body_over_the_size_limit(scene: Scene) -> None:
    before = scene.state()
    response = _raw_push(scene, b"{" + b" " * (5 * 1024 * 1024) + b"}")
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"
    bomb = gzip.compress(b"[" + b"0," * (4 * 1024 * 1024) + b"0]")
    assert len(bomb) < 100_000
    response = _raw_push(scene, bomb, **{"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert scene.state() == before


@pytest.mark.parametrize(
    "content",
    [
        b'{"device_id": "abc", "mutations": [',
        b"\xff\xfe\x00not json",
        b"[]",
        b"null",
    ],
)
def test_malformed_json(scene: Scene, content: bytes) -> None:
    before = scene.state()
    response = _raw_push(scene, content)
    # 422 for JSON that does not match the protocol, 400 for bytes that are not even text.
    assert response.status_code in (400, 422)
    assert response.json()["code"] == "invalid_request"
    assert scene.state() == before


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base_version", "1"),
        ("base_version", -1),
        ("op", "upsert"),
        ("row_id", "../../etc/passwd"),
        ("hlc", "demain"),
        ("changed_fields", ["city", "Rouen"]),
        ("extra", "champ inconnu"),
    ],
)
def test_wrong_types_and_unknown_keys(scene: Scene, key: str, value: Any) -> None:
    mutation = scene.owner.mutation("contacts", scene.person_id, "update", {"city": "Rouen"}, 1)
    mutation[key] = value
    before = scene.state()
    response = scene.owner.push_raw([mutation])
    assert response.status_code == 422
    assert scene.state() == before


def test_wrong_value_types_inside_fields(scene: Scene) -> None:
    reason = _refused(
        scene,
        scene.owner.mutation(
            "contacts",
            scene.person_id,
            "update",
            {"lives_alone": "peut-être", "territory_id": ["nord"], "birth_date": 1939},
            1,
        ),
        scene.owner,
    )
    assert "lives_alone" in reason or "invalide" in reason


def test_pull_limit_and_headers_are_bounded(scene: Scene) -> None:
    client = scene.world.client
    too_many = client.get(
        f"{API_PREFIX}/sync/pull",
        params={"cursor": "0", "limit": 100_000},
        headers=scene.desk.headers(),
    )
    assert too_many.status_code == 422
    no_version = client.get(
        f"{API_PREFIX}/sync/pull",
        params={"cursor": "0"},
        headers={"Authorization": f"Bearer {scene.desk.token}"},
    )
    assert no_version.status_code == 426
    _no_leak(no_version)
