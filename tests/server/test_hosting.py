"""The server as the City runs it: errors that can be traced in its log."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from havre_common.protocol import API_PREFIX, ErrorBody
from tests.server.support import (
    PASSWORD,
    ServerProcess,
    World,
    wait_until,
)

# -- errors answered 500 ----------------------------------------------------------------------


def _log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    lines = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_500_is_logged_with_its_route_and_traceback(
    server_factory: Callable[..., ServerProcess], backend: str
) -> None:
    # As in production: exception messages (which may quote data) stay out of the log.
    server = server_factory(backend, {"HAVRE_SERVER_LOG_TRACEBACKS": "0"})
    world = World(server)
    try:
        login = world.create_agent("accueil", ["nord"])
        # A row the server cannot read (a fault of the database, not of the request).
        server.sql(
            "UPDATE agents SET territory_ids = '[\"nord\", Jeanne' WHERE id = "
            "(SELECT agent_id FROM accounts WHERE login = :l)",
            l=login,
        )
        response = world.client.post(
            f"{API_PREFIX}/session",
            json={
                "login": login,
                "password": PASSWORD,
                "device_id": "poste-de-test-02",
                "client_version": "0.1.0",
            },
            headers={"X-Request-ID": "demande-42"},
        )
    finally:
        world.close()
    assert response.status_code == 500
    body = ErrorBody.model_validate_json(response.content)
    assert body.code == "internal_error"
    assert "Erreur interne du serveur" in body.message
    assert "Traceback" not in response.text and "auth.py" not in response.text
    assert response.headers["X-Request-ID"] == "demande-42"

    def logged() -> bool:
        return any(line.get("status") == 500 for line in _log_lines(server))

    wait_until(logged, 10, "the error in the server's log")
    errors = [line for line in _log_lines(server) if line["level"] == "error"]
    assert len(errors) == 1, errors  # one line, not one more from uvicorn
    error = errors[0]
    assert error["method"] == "POST"
    assert error["route"] == f"{API_PREFIX}/session"
    assert error["request_id"] == "demande-42"
    assert error["error"] == "JSONDecodeError"
    assert "havre_server/auth.py" in error["traceback"]
    assert "Jeanne" not in json.dumps(errors)


def test_a_request_id_is_made_when_the_client_sends_none_or_a_bad_one(world: World) -> None:
    answers = [
        world.client.get(f"{API_PREFIX}/sync/meta", headers=headers)
        for headers in ({}, {"X-Request-ID": "deux mots"}, {"X-Request-ID": "x" * 100})
    ]
    ids = [answer.headers["X-Request-ID"] for answer in answers]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and len(set(ids)) == 3
    given = world.client.get(f"{API_PREFIX}/sync/meta", headers={"X-Request-ID": "poste-7:42"})
    assert given.headers["X-Request-ID"] == "poste-7:42"
