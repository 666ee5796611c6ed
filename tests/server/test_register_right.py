"""The register right in the admin API: who may grant it, its defaults, its audit."""

from __future__ import annotations

import json

import httpx

from tests.server.support import API_PREFIX, World


def _patch(
    world: World, actor_headers: dict[str, str], agent_id: str, **changes: object
) -> httpx.Response:
    return world.client.patch(
        f"{API_PREFIX}/admin/agents/{agent_id}", json=changes, headers=actor_headers
    )


def test_defaults_grants_and_audit(world: World) -> None:
    coordinator = world.agent("coordinateur", ["est"])
    worker = world.agent("travailleur-social", ["est"])
    desk = world.agent("accueil", ["est"])
    listed = {
        a["id"]: a
        for a in world.client.get(
            f"{API_PREFIX}/admin/agents", headers=world.admin.headers()
        ).json()
    }
    # Coordinators have it by default; social workers and reception agents do not.
    assert listed[coordinator.agent_id]["register_right"] is True
    assert listed[worker.agent_id]["register_right"] is False
    assert listed[desk.agent_id]["register_right"] is False
    # A coordinator who holds it may give it to an agent of her territory (named staff)…
    granted = _patch(world, coordinator.headers(), desk.agent_id, register_right=True)
    assert granted.status_code == 200 and granted.json()["register_right"] is True
    # … a coordinator without it may not, and says why in French.
    plain = world.agent("coordinateur", ["est"], register_right=False)
    refused = _patch(world, plain.headers(), worker.agent_id, register_right=True)
    assert refused.status_code == 403
    assert "accès au registre peut donner ce droit" in refused.json()["message"]
    # A social worker manages no one.
    assert _patch(world, worker.headers(), desk.agent_id, register_right=False).status_code == 403
    # Every change is audited (ids and a boolean, no name), by whom.
    rows = world.server.sql(
        "SELECT agent_id, entity_id, detail FROM audit_log WHERE event = 'droit-registre' "
        "AND entity_id = :a",
        a=desk.agent_id,
    )
    assert [(r[0], json.loads(r[2])) for r in rows] == [
        (coordinator.agent_id, {"register_right": True})
    ]


def test_the_agent_learns_her_right_at_sign_in(world: World) -> None:
    """The login reply says it: the device knows before its first pull."""
    named = world.sign_in(world.create_agent("travailleur-social", ["nord"], register_right=True))
    assert named.agent["register_right"] is True
    assert world.agent("travailleur-social", ["nord"]).agent["register_right"] is False
