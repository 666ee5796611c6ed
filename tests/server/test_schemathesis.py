"""Schemathesis against the served OpenAPI: signed in once per role, and once without a token.

The check is ``not_a_server_error``: whatever the generated request, the server never answers
5xx. Bounded for CI (a few examples per operation); ``HAVRE_LONG_RUN=1`` raises the number.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from havre_common.protocol import API_PREFIX, CLIENT_VERSION_HEADER
from tests.server.support import CLIENT_VERSION, ServerProcess, World, make_server, started

LONG = os.environ.get("HAVRE_LONG_RUN") == "1"
MAX_EXAMPLES = "200" if LONG else "8"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def fuzz_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """One server (SQLite) for the five runs, with one token per role made *before* any run
    (the fuzzer's own sign-in attempts may rate-limit logins afterwards, as they should)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    process = make_server("sqlite", f"sqlite:///{tmp / 'fuzz.db'}", tmp)
    with started(process):
        world = World(process)
        try:
            tokens = {"administrateur": world.admin.token}
            for role in ("coordinateur", "travailleur-social", "accueil"):
                tokens[role] = world.agent(role, ["nord"]).token
        finally:
            world.close()
        yield process, tokens


@pytest.mark.parametrize(
    "role", ["administrateur", "coordinateur", "travailleur-social", "accueil", None]
)
def test_no_server_error_for_any_generated_request(
    fuzz_server: tuple[ServerProcess, dict[str, str]], tmp_path: Path, role: str | None
) -> None:
    server, tokens = fuzz_server
    headers = [f"{CLIENT_VERSION_HEADER}: {CLIENT_VERSION}"]
    exclude: list[str] = []
    if role is not None:
        headers.append(f"Authorization: Bearer {tokens[role]}")
        # Signing out would end the run's session after the first example.
        exclude = ["--exclude-method", "DELETE"]
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{server.base_url}{API_PREFIX}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        MAX_EXAMPLES,
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-database",
        "none",
        "--seed",
        "20261125",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        *exclude,
    ]
    for header in headers:
        command += ["-H", header]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        check=False,
    )
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary + result.stderr[-2000:] + server.log_text()[-3000:]
    print(summary)
    assert " passed" in result.stdout
