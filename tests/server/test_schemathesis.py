"""Schemathesis against the served OpenAPI, on SQLite and on PostgreSQL, once per role (signed in)
and once without a token.

The OpenAPI describes the pushed fields and the catalogue rows table by table, from the contract
(havre_common.json_schema), so the bodies schemathesis draws carry the contract's values; the
hooks (fuzz_hooks.py) put in the context of the run most of the time (the signed-in device and its
clock, ids of rows that exist, pull cursors, spare agents and devices), and leave it as generated
the rest of the time. The requests then reach the code behind validation: the policies, the
scope checks and the database.

Checks: ``not_a_server_error`` (whatever the request, never a 5xx), and "a valid push is
applied": among the mutations the contract accepts for the role and whose context was put in,
most are applied (or merged with a conflict). Bounded for CI (a few examples per operation);
``HAVRE_LONG_RUN=1`` raises the number. Each run prints its figures (``-s`` to see them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from havre_common.protocol import API_PREFIX, CLIENT_VERSION_HEADER
from tests.server.support import (
    CLIENT_VERSION,
    PASSWORD,
    Device,
    PostgresCluster,
    ServerProcess,
    World,
    iso,
    make_server,
    new_person,
    started,
    visit_fields,
)

LONG = os.environ.get("HAVRE_LONG_RUN") == "1"
MAX_EXAMPLES = "200" if LONG else "8"
PUSH_EXAMPLES = 400 if LONG else 50
CATALOGUE_EXAMPLES = 100 if LONG else 8
CONFIG = """
[[operations]]
include-path = "{prefix}/sync/push"
generation.max-examples = {push}
phases.coverage.enabled = {coverage}

[[operations]]
include-path = "{prefix}/admin/catalogue"
generation.max-examples = {catalogue}
phases.coverage.enabled = {coverage}
"""
"""Pushes get more examples than the other operations: their bodies hold many tables (without
a token, where every push is refused at the door, as many as the others). The coverage phase,
which draws every boundary of every table's schema (some 2,400 pushes and 500 catalogue imports
a run), runs only with HAVRE_LONG_RUN=1."""
SEED = os.environ.get("HAVRE_FUZZ_SEED", "20261125")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
HOOKS = Path(__file__).with_name("fuzz_hooks.py")
ROLES = ("administrateur", "coordinateur", "travailleur-social", "accueil")
MIN_APPLIED_SHARE = 0.8
"""Share of the valid mutations (contract-valid for the role, context put in) that must be
applied or merged with a conflict; the rest are refusals by policy or scope (a visit corrected by
another agent than its author, a row deleted meanwhile, a person erased by the run…)."""
SYNCED_TABLES = (
    "contacts",
    "consents",
    "register_enrolments",
    "visits",
    "planned_contacts",
    "handouts_given",
    "action_evaluations",
    "conflicts",
    "facilities",
    "actions",
)


@dataclass
class FuzzWorld:
    server: ServerProcess
    path: Path
    data: dict[str, Any]


def _insert(device: Device, table: str, fields: dict[str, Any]) -> str:
    row_id = str(uuid.uuid4())
    return _push(device, [device.mutation(table, row_id, "insert", {**fields, "id": row_id})])[0]


def _push(device: Device, mutations: list[dict[str, Any]]) -> list[str]:
    results = device.push(*mutations)
    assert all(r["status"] in ("applied", "conflict") for r in results), results
    return [str(m["row_id"]) for m in mutations]


def _build(world: World) -> dict[str, Any]:
    """Agents of every role in "nord", a few persons and every kind of row about them, spare
    agents and devices for the administration endpoints; what the hooks need, as JSON."""
    devices = {"administrateur": world.admin}
    for role in ROLES[1:]:
        # Named staff: each fuzzed role also pushes the register (it needs the right).
        devices[role] = world.agent(role, ["nord"], register_right=True)
    worker, coordinator = devices["travailleur-social"], devices["coordinateur"]
    colleague = world.agent("travailleur-social", ["nord"])
    elsewhere = world.agent("coordinateur", ["sud"])
    # Each run its own spare agents (that a coordinator manages) and devices: one run's changes
    # (a role, territories, a revoked device) do not turn the next one's requests into 404s.
    spare: dict[str, dict[str, list[str]]] = {}
    for role in ROLES:
        logins = [world.create_agent(kind, ["nord"]) for kind in ("travailleur-social", "accueil")]
        signed_in = [world.sign_in(login) for login in [*logins, logins[0]]]
        spare[role] = {
            "agents": sorted({d.agent_id for d in signed_in}),
            "devices": [d.device_id for d in signed_in],
            "logins": logins,
        }

    persons = [new_person(worker) for _ in range(4)]
    organisation = _insert(
        worker,
        "contacts",
        {
            "kind": "organisation",
            "organisation_name": "Résidence des Tilleuls",
            "territory_id": "nord",
            "created_at": iso(),
            "updated_at": iso(),
        },
    )
    erasable = {role: [new_person(worker) for _ in range(8)] for role in ROLES}
    person_elsewhere = new_person(elsewhere, "sud")
    actions = [str(r[0]) for r in world.server.sql("SELECT id FROM actions ORDER BY id")]
    owned: dict[str, dict[str, list[str]]] = {}
    for device in (worker, coordinator):
        mutations = []
        for person in persons:
            visit = visit_fields(person, device.agent_id, proposed_action_ids=actions[:1])
            mutations.append(device.mutation("visits", str(uuid.uuid4()), "insert", visit))
            planned = {
                "person_id": person,
                "agent_id": device.agent_id,
                "due_on": "2026-12-01",
                "kind": "visite",
                "reason": "Point sur le maintien à domicile",
                "updated_at": iso(),
            }
            mutations.append(
                device.mutation("planned_contacts", str(uuid.uuid4()), "insert", planned)
            )
        ids = _push(device, mutations)
        owned[device.agent_id] = {"visits": ids[0::2], "planned_contacts": ids[1::2]}
    records = []
    for person in persons:
        for purpose in ("fiche", "registre"):
            consent = {
                "contact_id": person,
                "purpose": purpose,
                "given": 1,
                "recorded_on": "2026-06-01",
                "method": "Entretien à domicile",
                "updated_at": iso(),
            }
            records.append(worker.mutation("consents", str(uuid.uuid4()), "insert", consent))
        enrolment = {
            "person_id": person,
            "requested_on": "2026-06-01",
            "enrolled_on": "2026-06-01",
            "basis": "handicap",
            "requested_by": "personne",
            "consent_given": 1,
            "consent_date": "2026-06-01",
            "updated_at": iso(),
        }
        records.append(
            worker.mutation("register_enrolments", str(uuid.uuid4()), "insert", enrolment)
        )
        handout = {
            "person_id": person,
            "agent_id": worker.agent_id,
            "given_at": iso(),
            "action_ids": actions[:2],
            "variant": "large",
        }
        records.append(worker.mutation("handouts_given", str(uuid.uuid4()), "insert", handout))
    _push(worker, records)
    evaluation = {
        "action_id": actions[0],
        "evaluated_on": "2026-06-01",
        "participants": 12,
        "verdict": "poursuivre",
    }
    owned[coordinator.agent_id]["action_evaluations"] = [
        _insert(coordinator, "action_evaluations", evaluation)
    ]
    owned[world.admin.agent_id] = {
        "action_evaluations": [_insert(world.admin, "action_evaluations", evaluation)]
    }
    # Two social workers change one field of one person from the same version: a conflict
    # (about the worker and the colleague, seen by the coordinator).
    for device, city in ((worker, "Harfleur"), (colleague, "Montivilliers")):
        _push(device, [device.mutation("contacts", persons[0], "update", {"city": city}, 1)])

    rows: dict[str, dict[str, int]] = {}
    for table in SYNCED_TABLES:
        found = world.server.sql(f"SELECT id, server_version FROM {table} WHERE deleted = 0")
        rows[table] = {str(row_id): int(version) for row_id, version in found}
    # What each role sees (its full download): the rows its updates aim at.
    visible: dict[str, dict[str, dict[str, int]]] = {}
    for role, device in devices.items():
        seen: dict[str, dict[str, int]] = {}
        for change in device.pull_all()[0]:
            if change["op"] == "upsert" and change["table_name"] in SYNCED_TABLES:
                versions = seen.setdefault(change["table_name"], {})
                versions[change["row_id"]] = int(change["server_version"])
        visible[role] = seen
    agents = [*devices.values(), colleague, elsewhere]
    return {
        "roles": {
            role: {"agent_id": d.agent_id, "device_id": d.device_id, "token": d.token}
            for role, d in devices.items()
        },
        "territories": ["nord"],
        "persons": persons,
        "organisation": organisation,
        "person_elsewhere": person_elsewhere,
        "erasable": erasable,
        "rows": rows,
        "visible": visible,
        "owned": owned,
        "care_agents": [worker.agent_id, coordinator.agent_id, colleague.agent_id],
        "protected_agents": [d.agent_id for d in agents],
        "protected_devices": [d.device_id for d in agents],
        "spare": spare,
        "password": PASSWORD,
        "client_version": CLIENT_VERSION,
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzWorld]:
    """One server per database for its runs, and the world they share (made *before* any run:
    the fuzzer's own sign-in attempts may rate-limit logins afterwards, as they should)."""
    backend = str(request.param)
    tmp = tmp_path_factory.mktemp(f"fuzz-{backend}")
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'fuzz.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        url = cluster.new_database()
    process = make_server(backend, url, tmp)
    with started(process):
        world = World(process)
        try:
            data = _build(world)
        finally:
            world.close()
        path = tmp / "world.json"
        path.write_text(json.dumps(data), "utf-8")
        yield FuzzWorld(process, path, data)


Figures = list[tuple[str, str | None, float, dict[str, Any]]]
COUNTED = (
    "requests",
    "mutations",
    "refused_at_the_door",
    "applied_or_conflict",
    "rejected_invalid_values",
    "rejected_other",
    "duplicate",
    "valid_with_context",
    "valid_applied",
)


@pytest.fixture(scope="module")
def figures() -> Iterator[Figures]:
    """Every run's figures; their totals are printed at the end (``-s`` to see them)."""
    runs: Figures = []
    yield runs
    total = Counter[str]()
    for _backend, _role, elapsed, summary in runs:
        total["seconds"] += round(elapsed)
        for key in COUNTED:
            total[key] += summary[key]
    mutations, valid = max(total["mutations"], 1), max(total["valid_with_context"], 1)
    print(
        f"\nschemathesis total: {len(runs)} runs, {total['seconds']} s, "
        f"{total['requests']} requests, {total['mutations']} push mutations: "
        f"{1 - total['refused_at_the_door'] / mutations:.0%} past the door "
        f"({total['applied_or_conflict']} applied or merged with a conflict, "
        f"{total['rejected_invalid_values']} refused by the validation, "
        f"{total['rejected_other']} by a policy or the scope, {total['duplicate']} duplicates), "
        f"{total['refused_at_the_door']} refused at the door; "
        f"valid ones applied: {total['valid_applied']} of {total['valid_with_context']} "
        f"({total['valid_applied'] / valid:.0%})"
    )


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures of one run, from the hooks' records. A mutation is "refused at the door" when
    its whole request was (422 and other statuses than 200); past the door, the server answers
    each mutation: applied (or merged with a conflict), a duplicate, or rejected with a reason,
    by the validation (values the contract refuses) or by a policy or the scope."""
    mutations = [m for r in records for m in r.get("mutations", [])]
    door = [m for m in mutations if m["status"].startswith("http-")]
    rejected = [m for m in mutations if m["status"] == "rejected"]
    valid = [
        m
        for m in mutations
        if m["contract"] == "valid" and not m["faults"] and not m["status"].startswith("http-")
    ]
    applied = [m for m in valid if m["status"] in ("applied", "conflict")]
    refusals = Counter(m["reason"] for m in valid if m["status"] == "rejected")
    return {
        "requests": len(records),
        "mutations": len(mutations),
        "refused_at_the_door": len(door),
        "applied_or_conflict": sum(1 for m in mutations if m["status"] in ("applied", "conflict")),
        "rejected_invalid_values": sum(1 for m in rejected if m["contract"] == "invalid-values"),
        "rejected_other": sum(1 for m in rejected if m["contract"] != "invalid-values"),
        "duplicate": sum(1 for m in mutations if m["status"] == "duplicate"),
        "contract": dict(Counter(m["contract"] for m in mutations)),
        "valid_with_context": len(valid),
        "valid_applied": len(applied),
        "valid_refused_by": dict(refusals.most_common(8)),
        "server_errors": sum(1 for r in records if r["status"] >= 500),
    }


@pytest.mark.parametrize("role", [*ROLES, None])
def test_no_server_error_and_valid_pushes_are_applied(
    fuzz_world: FuzzWorld,
    figures: Figures,
    tmp_path: Path,
    role: str | None,
) -> None:
    server = fuzz_world.server
    headers = [f"{CLIENT_VERSION_HEADER}: {CLIENT_VERSION}"]
    exclude: list[str] = []
    if role is not None:
        headers.append(f"Authorization: Bearer {fuzz_world.data['roles'][role]['token']}")
        # Signing out would end the run's session after the first example.
        exclude = ["--exclude-method", "DELETE"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        CONFIG.format(
            prefix=API_PREFIX,
            # The administrator may push catalogue rows only: most of its generated pushes
            # are refused by role, so it gets more of them to reach the valid-push floor.
            push=(PUSH_EXAMPLES * (2 if role == "administrateur" else 1))
            if role is not None
            else MAX_EXAMPLES,
            catalogue=CATALOGUE_EXAMPLES,
            coverage=str(LONG).lower(),
        ),
        "utf-8",
    )
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
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
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        *exclude,
    ]
    for header in headers:
        command += ["-H", header]
    stats = tmp_path / "stats.jsonl"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(HOOKS),
        "HAVRE_FUZZ_WORLD": str(fuzz_world.path),
        "HAVRE_FUZZ_ROLE": role or "",
        "HAVRE_FUZZ_STATS": str(stats),
        "HAVRE_FUZZ_SEED": SEED,
    }
    started_at = time.monotonic()
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env, check=False
    )
    elapsed = time.monotonic() - started_at
    output = result.stdout[-4000:]
    assert result.returncode == 0, output + result.stderr[-2000:] + server.log_text()[-3000:]
    assert " passed" in result.stdout
    records = [json.loads(line) for line in stats.read_text("utf-8").splitlines()]
    summary = _summary(records)
    figures.append((server.backend, role, elapsed, summary))
    print(f"\nschemathesis {server.backend} {role or 'no token'} {elapsed:.1f}s", summary)
    assert summary["server_errors"] == 0, summary
    if role is None:
        assert summary["refused_at_the_door"] == summary["mutations"], summary
        return
    assert summary["valid_with_context"] >= 10, summary
    share = summary["valid_applied"] / summary["valid_with_context"]
    assert share >= MIN_APPLIED_SHARE, json.dumps(summary, ensure_ascii=False)
