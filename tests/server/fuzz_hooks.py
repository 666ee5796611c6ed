"""Schemathesis hooks of tests/server/test_schemathesis.py (loaded by path, SCHEMATHESIS_HOOKS).

Schemathesis draws bodies from the published OpenAPI, which describes the pushed fields table by
table (havre_common.json_schema): their values are the contract's. What no schema can know is
the context of the run, so ``before_call`` puts it in, most of the time, just before each
request leaves: the signed-in device and its clock (``device_id``, ``client_time_ms``, HLC stamps
of that device), ids of rows that exist and that the agent sees (persons, visits, actions…, and
the rows the run itself created), the agent's territory, pull cursors the server gave, spare
agents and devices for the administration endpoints. The rest of the time a part of the context
is left as generated (or a mutation id reused, a base version left too high): the requests the
server must refuse still come. The fuzzing agents' own accounts and devices are never targeted
(a revoked token would end the run).

Recording: every answer is written, one JSON line each, to ``HAVRE_FUZZ_STATS``: the operation
and its status; for a push, each mutation with what the contract says of it (checked here with
the desktop's own validation), the faults left in its context, and what the server answered.

Environment: ``HAVRE_FUZZ_WORLD`` (the JSON the test wrote: agents, devices, row ids),
``HAVRE_FUZZ_ROLE`` (empty: no token), ``HAVRE_FUZZ_STATS``, ``HAVRE_FUZZ_SEED``.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
import uuid
from collections import defaultdict
from typing import Any

import schemathesis
from pydantic import BaseModel, ValidationError

from havre_common import contract, validation
from havre_common.contract import Kind, Policy
from havre_common.hlc import Timestamp
from havre_common.protocol import MAX_PULL_LIMIT, AgentCreate, AgentUpdate, EraseRequest

STATS = os.environ.get("HAVRE_FUZZ_STATS", "")
ROLE = os.environ.get("HAVRE_FUZZ_ROLE") or None
WORLD: dict[str, Any] = {}
if os.environ.get("HAVRE_FUZZ_WORLD"):
    with open(os.environ["HAVRE_FUZZ_WORLD"], encoding="utf-8") as _handle:
        WORLD = json.load(_handle)
RNG = random.Random(f"{os.environ.get('HAVRE_FUZZ_SEED', '20261125')}-{ROLE}")

API = "/api/v1"
PUSH = f"{API}/sync/push"
PULL = f"{API}/sync/pull"
KEEP_CONTEXT = 0.9
"""How often each part of the context is put in (the rest of the time it stays as generated)."""

# What a device may send and the server ignores (havre_server.domain.CLIENT_LOCAL_COLUMNS).
_IGNORED = contract.DESKTOP_LOCAL_COLUMNS | {
    contract.SAMPLE_COLUMN,
    contract.CLOCK_COLUMN,
    "server_version",
}
_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|\d+")

ME: dict[str, str] = (WORLD.get("roles") or {}).get(ROLE or "", {})
AGENT_ID = ME.get("agent_id", str(uuid.UUID(int=0)))
DEVICE_ID = ME.get("device_id", "fuzzing-device-without-token")
TERRITORIES: list[str] = WORLD.get("territories", ["nord"])

# Rows by table: ids the run may aim at (from the world, then the run's own inserts), with the
# last server version seen; rows the agent wrote are preferred for updates.
ROWS: dict[str, dict[str, int]] = defaultdict(dict)
MINE: dict[str, set[str]] = defaultdict(set)
INSERTED: dict[str, set[str]] = defaultdict(set)  # by this run
for _table, _versions in ((WORLD.get("visible") or {}).get(ROLE or "") or {}).items():
    ROWS[_table].update(_versions)
OTHER_ROWS: dict[str, list[str]] = {
    table: sorted(set(versions) - set(ROWS.get(table, {})))
    for table, versions in (WORLD.get("rows") or {}).items()
}
for _table, _ids in ((WORLD.get("owned") or {}).get(AGENT_ID) or {}).items():
    MINE[_table].update(_ids)
PERSONS: list[str] = list(WORLD.get("persons", []))
ERASABLE: list[str] = list((WORLD.get("erasable") or {}).get(ROLE or "", []))
for _persons in (WORLD.get("erasable") or {}).values():  # erase targets only
    for _person in _persons:
        ROWS["contacts"].pop(_person, None)
SPARE: dict[str, list[str]] = (WORLD.get("spare") or {}).get(ROLE or "", {})
CURSORS: list[str] = ["0"]
SENT_MUTATIONS: list[str] = []
FAULTS: dict[str, list[str]] = {}
_COUNTER = [0]


# -- the contract's verdict ---------------------------------------------------------------------


def contract_verdict(mutation: Any, role: str | None) -> str:
    """What the contract says of one mutation, before the server looks at the database:
    ``valid``, or why not (the table, the role, the values)."""
    if not isinstance(mutation, dict):
        return "malformed"
    table = contract.TABLES.get(str(mutation.get("table_name")))
    fields = mutation.get("changed_fields")
    if table is None or not table.writers:
        return "unknown-table"
    if role not in table.writers:
        return "role-may-not-write"
    if not isinstance(fields, dict):
        return "malformed"
    values = {k: v for k, v in fields.items() if k not in _IGNORED and k != "id"}
    op = mutation.get("op")
    if op not in ("insert", "update", "delete"):
        return "malformed"
    if op == "delete":
        if table.policy is Policy.REVISION:  # created once, then revised: never deleted
            return "revision-not-deleted"
        return "valid" if set(values) <= {"deleted", "updated_at"} else "invalid-values"
    if op == "insert":
        values["id"] = mutation.get("row_id")
    try:
        validation.clean(table, values, creating=op == "insert", role=role)
    except Exception:  # ContractViolation, or a value it cannot even read (then recorded)
        return "invalid-values"
    return "valid"


# -- the context --------------------------------------------------------------------------------


def _fresh_uuid() -> str:
    return str(uuid.UUID(int=RNG.getrandbits(128), version=4))


def _stamp() -> str:
    _COUNTER[0] = (_COUNTER[0] + 1) % 0xFFFF
    return str(Timestamp(time.time_ns() // 1_000_000, _COUNTER[0], DEVICE_ID))


def _likely() -> bool:
    return RNG.random() < KEEP_CONTEXT


def _pick(values: list[str] | set[str] | tuple[str, ...]) -> str | None:
    choices = sorted(values)
    return RNG.choice(choices) if choices else None


AUTHORED = frozenset({"visits", "action_evaluations"})
"""Tables whose rows only their author corrects."""


def _row_of(table: str, op: str) -> str | None:
    """An existing row of ``table`` that the agent sees: the agent's own three times in four
    (always for a row only its author corrects). A deletion aims only at rows this run
    inserted: the runs on one server share its world."""
    visible = set(ROWS.get(table, {}))
    own = MINE.get(table, set()) & visible
    if op == "delete":
        return _pick(INSERTED.get(table, set()) & visible)
    if own and (table in AUTHORED or RNG.random() < 0.75):
        return _pick(own)
    return _pick(visible)


def _reference(table: str, name: str, current: Any) -> Any:
    """A value for a field that names another row (or the agent, or a territory)."""
    if name in ("person_id", "contact_id"):
        return _pick(PERSONS)
    if name in ("agent_id", "recorded_by_agent_id", "author_agent_id"):
        if table == "planned_contacts" and RNG.random() < 0.3:
            return _pick(WORLD.get("care_agents", [AGENT_ID]))
        return AGENT_ID
    if name == "referent_agent_id":
        return _pick(WORLD.get("care_agents", [AGENT_ID]))
    if name in ("facility_id",):
        return _pick(list(ROWS.get("facilities", {})))
    if name in ("action_id",):
        return _pick(list(ROWS.get("actions", {})))
    if name in ("proposed_action_ids", "action_ids"):
        actions = sorted(ROWS.get("actions", {}))
        return RNG.sample(actions, min(len(actions), RNG.randint(0, 2)))
    if name in ("visit_id", "done_by_visit_id"):
        return None if RNG.random() < 0.5 else _pick(list(ROWS.get("visits", {})))
    if name == "territory_id":
        return _pick(TERRITORIES)
    return current


_REFERENCE_KINDS = (Kind.UUID, Kind.UUID_LIST)


def _fit_fields(table: contract.Table, op: str, row_id: str, fields: dict[str, Any]) -> None:
    """Put ids of live rows where the fields name rows, and what the policies ask for."""
    for f in table.fields:
        if f.name not in fields or f.name == "id":
            continue
        if (f.kind in _REFERENCE_KINDS or f.name == "territory_id") and fields[f.name] is not None:
            fields[f.name] = _reference(table.name, f.name, fields[f.name])
    if op == "insert":
        fields["id"] = row_id
        if table.name == "contacts" and fields.get("kind") == "person":
            fields.setdefault("family_name", "Lefèvre")
            fields.setdefault("given_names", "Jeanne")
            for name in ("family_name", "given_names"):
                if not fields[name] or not str(fields[name]).strip():
                    fields[name] = "Lefèvre"
        if table.name == "register_enrolments":
            # Who asked and how (the legal rules the server checks, as the desktop does).
            fields["consent_given"] = 1
            fields["written_request"] = 1
            fields["requester_name"] = fields.get("requester_name") or "Paul Lefèvre"
        if table.name == "planned_contacts" and fields.get("done_by_visit_id"):
            fields["done_by_visit_id"] = None
    else:
        fields.pop("id", None)
        if table.name == "planned_contacts":
            fields.pop("done_by_visit_id", None)
    if ROLE == contract.RECEPTION and table.name == "contacts":
        for name in list(fields):
            if name not in contract.CONTACTS.readable_by(contract.RECEPTION):
                fields.pop(name)
    if ROLE not in contract.PERSON_ROLES and table.name == "handouts_given":
        fields["person_id"] = None  # given at a desk, to no one in particular
    if ROLE == contract.RECEPTION and table.name == "consents" and op == "insert":
        fields["purpose"] = "registre"


def _fit_mutation(mutation: dict[str, Any], used_ids: set[str]) -> None:
    faults: list[str] = []
    table = contract.TABLES.get(str(mutation.get("table_name")))
    op = str(mutation.get("op"))
    fields = mutation.get("changed_fields")
    if RNG.random() < 0.03 and SENT_MUTATIONS:
        reused = RNG.choice(SENT_MUTATIONS)
        if reused not in used_ids:
            mutation["mutation_id"] = reused
            faults.append("mutation-id-reused")
    if not faults:
        mutation["mutation_id"] = _fresh_uuid()
    used_ids.add(str(mutation["mutation_id"]))
    if _likely() or RNG.random() < 0.5:
        mutation["hlc"] = _stamp()
    else:
        faults.append("hlc-as-generated")
    if table is None or not isinstance(fields, dict):
        FAULTS[str(mutation["mutation_id"])] = [*faults, "not-a-table"]
        return
    if op == "insert":
        mutation["row_id"] = _fresh_uuid()
        mutation["base_version"] = 0
    else:
        existing = _row_of(table.name, op) if _likely() else None
        if RNG.random() < 0.05 and OTHER_ROWS.get(table.name):
            mutation["row_id"] = _pick(OTHER_ROWS[table.name])
            faults.append("row-not-visible")
        elif existing is None:
            faults.append("row-as-generated")
        else:
            mutation["row_id"] = existing
        draw = RNG.random()
        if draw < 0.6:
            mutation["base_version"] = 0
        elif draw < 0.95:
            mutation["base_version"] = ROWS[table.name].get(str(mutation.get("row_id")), 0)
        else:
            faults.append("base-version-as-generated")
    if _likely():
        _fit_fields(table, op, str(mutation.get("row_id")), fields)
    else:
        faults.append("fields-as-generated")
    FAULTS[str(mutation["mutation_id"])] = faults


def _fit_push(body: dict[str, Any]) -> None:
    if RNG.random() < 0.97:
        body["device_id"] = DEVICE_ID
    if RNG.random() < 0.97:
        body["client_time_ms"] = time.time_ns() // 1_000_000
    mutations = body.get("mutations")
    if not isinstance(mutations, list):
        return
    used: set[str] = set()
    for mutation in mutations:
        if isinstance(mutation, dict):
            _fit_mutation(mutation, used)


def _repair(model: type[BaseModel], body: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Values of ``body`` the protocol refuses replaced by valid ones, unknown keys dropped
    (what schemathesis generated otherwise stays)."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            key = error["loc"][0] if error["loc"] else None
            if error["type"] == "extra_forbidden":
                body.pop(str(key), None)
            elif key in defaults:
                body[str(key)] = defaults[str(key)]


def _fit_pull(query: dict[str, Any]) -> None:
    limit = query.get("limit")
    valid = limit is None or (type(limit) is int and 1 <= limit <= MAX_PULL_LIMIT)
    if _likely() and not valid:
        query["limit"] = RNG.choice([1, 7, 100, 500, MAX_PULL_LIMIT])
    draw = RNG.random()
    if draw < 0.4:
        query["cursor"] = "0"
    elif draw < 0.8:
        query["cursor"] = RNG.choice(CURSORS)
    elif draw < 0.9:
        query["cursor"] = str(RNG.randint(0, 10_000))


def _spare_agent() -> str | None:
    return _pick(SPARE.get("agents", []))


def _territories() -> list[str]:
    return RNG.sample(TERRITORIES, RNG.randint(1, len(TERRITORIES)))


def _fit_agent_body(body: dict[str, Any], creating: bool) -> None:
    defaults = {
        "login": f"agent-{RNG.getrandbits(32):08x}",
        "password": "mot-de-passe-de-test",
        "display_name": "Agent de test",
        "role": contract.SOCIAL_WORKER,
        "territory_ids": TERRITORIES[:1],
        "work_phone": None,
        "disabled": False,
    }
    _repair(AgentCreate if creating else AgentUpdate, body, defaults)
    if "territory_ids" in body or creating:
        body["territory_ids"] = _territories()
    if "work_phone" in body:
        body["work_phone"] = RNG.choice([None, "02 35 19 45 45", "0639981234"])
    if ROLE == contract.COORDINATOR and ("role" in body or creating):
        body["role"] = RNG.choice([contract.SOCIAL_WORKER, contract.RECEPTION])
    if creating and isinstance(body.get("login"), str):
        body["login"] = f"{body['login'][:80]}-{RNG.getrandbits(32):08x}".lower()
    if body.get("disabled") and RNG.random() < 0.5:
        body["disabled"] = False


def _fit_catalogue(body: dict[str, Any]) -> None:
    for table in ("facilities", "actions"):
        rows = body.get(table)
        if not isinstance(rows, list):
            continue
        for row in rows:
            if not isinstance(row, dict):
                continue
            draw = RNG.random()
            if draw < 0.6:
                row["id"] = _fresh_uuid()
            elif draw < 0.8:
                row["id"] = _pick(list(ROWS.get(table, {}))) or _fresh_uuid()
            else:
                row.pop("id", None)
            if row.get("facility_id") and _likely():
                row["facility_id"] = _pick(list(ROWS.get("facilities", {})))


def _fit(case: Any) -> None:
    method, path = case.method.upper(), case.operation.path
    body = case.body if isinstance(case.body, dict) else None
    if "{" in path and not isinstance(case.path_parameters, dict):
        case.path_parameters = {}
    path_parameters = case.path_parameters if isinstance(case.path_parameters, dict) else {}
    if path == PUSH and method == "POST" and body is not None:
        _fit_push(body)
    elif path == PULL and method == "GET":
        if case.query is None:
            case.query = {}
        if isinstance(case.query, dict):
            _fit_pull(case.query)
    elif path == f"{API}/admin/agents" and method == "POST" and body is not None and _likely():
        _fit_agent_body(body, creating=True)
    elif path == f"{API}/admin/agents/{{agent_id}}":
        if _likely() or path_parameters.get("agent_id") in WORLD.get("protected_agents", []):
            path_parameters["agent_id"] = _spare_agent() or _fresh_uuid()
        if body is not None and _likely():
            _fit_agent_body(body, creating=False)
    elif path == f"{API}/admin/agents/{{agent_id}}/password":
        # A spare agent (its sessions close, its password changes) or one that does not exist.
        if _likely() or path_parameters.get("agent_id") in WORLD.get("protected_agents", []):
            path_parameters["agent_id"] = _spare_agent() or _fresh_uuid()
    elif path == f"{API}/admin/devices/{{device_id}}/revoke":
        protected = WORLD.get("protected_devices", [])
        if RNG.random() < 0.7 or path_parameters.get("device_id") in protected:
            path_parameters["device_id"] = _pick(SPARE.get("devices", [])) or "device-0000"
    elif path == f"{API}/admin/persons/{{person_id}}/erase":
        if _likely() or path_parameters.get("person_id") in PERSONS:
            path_parameters["person_id"] = _pick(ERASABLE) or _fresh_uuid()
        if body is not None and _likely():
            _repair(EraseRequest, body, {"reason": "demande-personne"})
    elif path == f"{API}/admin/catalogue" and method == "POST" and body is not None:
        _fit_catalogue(body)
    elif path == f"{API}/session" and method == "POST" and body is not None and _sign_in():
        body["login"] = _pick(SPARE["logins"])
        body["password"] = WORLD["password"]
        body["device_id"] = f"{RNG.getrandbits(64):016x}"
        body["client_version"] = WORLD["client_version"]
        body["device_label"] = "Poste de test"


def _sign_in() -> bool:
    """Three sign-ins in ten are a spare agent's, with the right password."""
    return RNG.random() < 0.3 and bool(SPARE.get("logins"))


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    _fit(case)


# -- recording ----------------------------------------------------------------------------------


def _reason(text: Any) -> str:
    return _ID.sub("…", str(text or ""))[:90]


def _write(record: dict[str, Any]) -> None:
    if STATS:
        with open(STATS, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _learn_push(sent: list[Any], results: list[Any]) -> None:
    for mutation, result in zip(sent, results, strict=False):
        if not isinstance(mutation, dict) or not isinstance(result, dict):
            continue
        SENT_MUTATIONS.append(str(mutation.get("mutation_id")))
        if result.get("status") not in ("applied", "conflict"):
            continue
        table, row_id = str(mutation.get("table_name")), str(mutation.get("row_id"))
        ROWS[table][row_id] = int(result.get("server_version") or 0)
        if mutation.get("op") == "insert":
            MINE[table].add(row_id)
            INSERTED[table].add(row_id)
            if table == "contacts" and len(ERASABLE) < 200:
                ERASABLE.append(row_id)
        elif mutation.get("op") == "delete":
            ROWS[table].pop(row_id, None)


def _record_push(case: Any, response: Any, record: dict[str, Any]) -> None:
    body = case.body if isinstance(case.body, dict) else {}
    sent = body.get("mutations") if isinstance(body.get("mutations"), list) else []
    results: list[Any] = []
    if response.status_code == 200:
        try:
            results = list(response.json().get("results") or [])
        except ValueError:
            results = []
        _learn_push(sent, results)
    mutations = []
    for index, mutation in enumerate(sent):
        result = results[index] if index < len(results) else {}
        mutation_id = str(mutation.get("mutation_id")) if isinstance(mutation, dict) else ""
        table = mutation.get("table_name") if isinstance(mutation, dict) else None
        mutations.append(
            {
                "table": table if isinstance(table, str) else repr(table)[:40],
                "op": str(mutation.get("op")) if isinstance(mutation, dict) else None,
                "contract": contract_verdict(mutation, ROLE),
                "faults": FAULTS.pop(mutation_id, ["not-fitted"]),
                "status": result.get("status", f"http-{response.status_code}"),
                "reason": _reason(result.get("reason")),
            }
        )
    record["device_id_fitted"] = body.get("device_id") == DEVICE_ID
    record["mutations"] = mutations


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    path, method = case.operation.path, case.method.upper()
    record: dict[str, Any] = {"operation": f"{method} {path}", "status": response.status_code}
    if path == PUSH and method == "POST":
        _record_push(case, response, record)
    elif path == PULL and method == "GET" and response.status_code == 200:
        try:
            cursor = response.json().get("next_cursor")
        except ValueError:
            cursor = None
        if isinstance(cursor, str) and len(CURSORS) < 500:
            CURSORS.append(cursor)
    elif path.endswith("/erase") and response.status_code == 200:
        erased = (case.path_parameters or {}).get("person_id")
        if erased in ERASABLE:
            ERASABLE.remove(erased)
        ROWS["contacts"].pop(str(erased), None)
    _write(record)
