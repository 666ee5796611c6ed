"""The heatwave simulation (issue 14): registered persons, agents as separate processes (each
its own SQLCipher profile and sync engine, tests/sync/campaign_agent.py) working offline
with sync faults, one laptop killed mid-work and restarted, its open calls reassigned.

At the end: every person ends reached or escalated; no person on two lists (a reassigned
call stays one row, its former holder shown, and the person called by two agents is listed
so); escalations only after the emergency contact (when she has one) and a home visit found
nobody; no outcome lost (every outcome on every laptop is on the server, every outbox empty).

Size: 300 persons and 4 agents in the normal suite; ``HAVRE_LONG_RUN=1``: 5,000 persons and
20 agents (the issue's figures). Each run prints its figures (``-s`` to see them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from havre_common import campaign as rules
from havre_desktop.core import campaign
from tests.helpers import FileKeyring, start_child
from tests.server.campaign_seed import TERRITORIES, seed_register
from tests.server.support import API_PREFIX, Device, ServerProcess, World
from tests.sync.conftest import serving
from tests.sync.support import Laptop

LONG = os.environ.get("HAVRE_LONG_RUN") == "1"
PERSONS, AGENTS = (5000, 20) if LONG else (300, 4)
TIMEOUT = 1800 if LONG else 240


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own: the campaign takes everyone on its register."""
    with serving("sqlite", tmp_path / "serveur") as process:
        yield process


class Child:
    """One agent's laptop process, its stdout read on a thread."""

    def __init__(self, settings: dict[str, Any], log: Path) -> None:
        self.lines: list[str] = []
        self.done: dict[str, Any] | None = None
        self.stderr = log.open("a", encoding="utf-8")
        self.proc: subprocess.Popen[str] = start_child(
            "tests.sync.campaign_agent", stderr=self.stderr
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(settings) + "\n")
        self.proc.stdin.flush()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            self.lines.append(line)
            if line.startswith("DONE "):
                self.done = json.loads(line[5:])

    def wait_for(self, prefix: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith(prefix) for line in self.lines):
            if self.proc.poll() is not None and not self.reader.is_alive():
                raise AssertionError(f"child ended before {prefix!r}: {self.lines[-5:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {prefix!r} from the child: {self.lines[-5:]}")
            time.sleep(0.05)

    def _close(self) -> None:
        self.reader.join(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()
        self.stderr.close()

    def finish(self, timeout: float) -> dict[str, Any]:
        self.proc.wait(timeout=timeout)
        self._close()
        assert self.proc.returncode == 0, self.lines[-5:]
        assert self.done is not None, self.lines[-5:]
        return self.done

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close()


def _progress(world: World, coordinator: Device, campaign_id: str) -> dict[str, Any]:
    reply = world.client.get(
        f"{API_PREFIX}/campaigns/{campaign_id}/progress", headers=coordinator.headers()
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_heatwave_simulation(own_server: ServerProcess, tmp_path: Path) -> None:
    began = time.monotonic()
    world = World(own_server)
    try:
        _simulate(world, own_server, tmp_path, began)
    finally:
        world.close()


def _simulate(world: World, own_server: ServerProcess, tmp_path: Path, began: float) -> None:
    territories = list(TERRITORIES)
    coordinator = world.agent("coordinateur", territories)
    seeded = seed_register(own_server.engine, PERSONS)
    logins, agent_ids = [], []
    for i in range(AGENTS):
        mine = [territories[i % 5], territories[(i + 2) % 5]]
        login = world.create_agent("travailleur-social", mine, register_right=True)
        logins.append((login, mine))
    roots: dict[str, Path] = {}
    keyrings: dict[str, Path] = {}
    for index, (login, mine) in enumerate(logins):
        keyring = tmp_path / f"keyring-{index}.json"
        laptop = Laptop(tmp_path / f"laptop-{index}", "travailleur-social", mine,
                        keyring=FileKeyring(keyring))  # fmt: skip
        laptop.sign_in(world, login)
        agent_ids.append(laptop.agent_id)
        roots[laptop.agent_id], keyrings[laptop.agent_id] = laptop.root, keyring
        laptop.close()
    territories_of = {agent_ids[i]: set(logins[i][1]) for i in range(AGENTS)}
    started = time.monotonic()
    reply = world.client.post(
        f"{API_PREFIX}/campaigns",
        json={
            "kind": "canicule",
            "level": "rouge",
            "title": "Canicule (simulation)",
            "territory_ids": territories,
            "agent_ids": agent_ids,
            "starts_on": datetime.now().date().isoformat(),
            "retry_delay_min": 5,
        },
        headers=coordinator.headers(),
    )
    assert reply.status_code == 201, reply.text
    build_s = time.monotonic() - started
    campaign_id = reply.json()["campaign_id"]
    assert reply.json()["persons"] == PERSONS

    def run(agent_id: str, seed: int, hold: int | None = None) -> Child:
        return Child(
            {
                "root": str(roots[agent_id]),
                "keyring": str(keyrings[agent_id]),
                "campaign_id": campaign_id,
                "seed": seed,
                "fault_rate": 0.4,
                "max_rounds": 20,
                "hold_after_round": hold,
            },
            tmp_path / f"child-{agent_id}.log",
        )

    # Everyone works; the first laptop is killed after its first round (outcomes recorded
    # on the laptop, not sent yet).
    victim = agent_ids[0]
    children = {a: run(a, i, hold=1 if a == victim else None) for i, a in enumerate(agent_ids)}
    children[victim].wait_for("ROUND 1", TIMEOUT)
    children[victim].kill()
    # Killed with outcomes recorded and not sent (its profile, read back from the file).
    killed = _open(roots[victim], keyrings[victim])
    unsent = int(
        killed.scalar("SELECT count(*) FROM outbox WHERE table_name = 'campaign_outcomes'")
    )
    killed.close()
    assert unsent > 0
    reports: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for agent_id, child in children.items():
        if agent_id != victim:
            reports[agent_id].append(child.finish(TIMEOUT))
    # Its agent is unreachable: the coordinator gives her open calls to colleagues who work
    # in the same territory.
    by_territory: dict[str, list[str]] = defaultdict(list)
    for call_id, (holder, territory) in sorted(_open_calls(own_server, campaign_id).items()):
        if holder == victim:
            by_territory[territory].append(call_id)
    for territory, call_ids in sorted(by_territory.items()):
        receiver = next(a for a in agent_ids[1:] if territory in territories_of[a])
        moved = world.client.post(
            f"{API_PREFIX}/campaigns/{campaign_id}/reassign",
            json={"from_agent_id": victim, "to_agent_id": receiver, "call_ids": call_ids},
            headers=coordinator.headers(),
        )
        assert moved.status_code == 200, moved.text
    # The killed laptop starts again: its outcomes go up (stale: the calls were moved).
    reports[victim].append(run(victim, 100).finish(TIMEOUT))
    # The colleagues work what they received, until nobody has an open step.
    for attempt in range(4):
        holders = {holder for holder, _t in _open_calls(own_server, campaign_id).values()}
        if not holders:
            break
        again = {a: run(a, 200 + attempt * 50 + i) for i, a in enumerate(sorted(holders))}
        for agent_id, child in again.items():
            reports[agent_id].append(child.finish(TIMEOUT))
    worked_s = time.monotonic() - started

    # -- every person ends reached or escalated ------------------------------------------------
    progress = _progress(world, coordinator, campaign_id)
    assert progress["persons"] == PERSONS
    assert all(p["step"] == "escalade" for p in progress["not_reached"]), [
        p for p in progress["not_reached"] if p["step"] != "escalade"
    ][:3]
    assert _open_calls(own_server, campaign_id) == {}
    # -- nobody on two lists; a person called by two agents was reassigned, and shown -------
    calls = own_server.sql(
        "SELECT id, person_id, agent_id, previous_agent_id FROM campaign_calls "
        "WHERE campaign_id = :c",
        c=campaign_id,
    )
    assert len(calls) == len({c[1] for c in calls}) == PERSONS
    assert {c[1] for c in calls} == set(seeded)
    twice = {p["call_id"] for p in progress["called_twice"]}
    callers: dict[str, set[str]] = defaultdict(set)
    for call_id, agent in own_server.sql(
        "SELECT call_id, agent_id FROM campaign_outcomes WHERE campaign_id = :c", c=campaign_id
    ):
        callers[call_id].add(agent)
    reassigned = {c[0] for c in calls if c[3] is not None}
    assert {k for k, v in callers.items() if len(v) > 1} == twice
    assert twice <= reassigned
    # … and the laptop of the agent who holds such a call shows the other caller.
    if twice:
        shown = next(iter(sorted(twice)))
        holder = next(c[2] for c in calls if c[0] == shown)
        laptop = Laptop(roots[holder], "travailleur-social", sorted(territories_of[holder]),
                        store=_open(roots[holder], keyrings[holder]),
                        keyring=FileKeyring(keyrings[holder]))  # fmt: skip
        try:
            rows = {r.call_id: r for r in campaign.call_list(laptop.ws, campaign_id, holder)}
            assert rows[shown].also_called_by
        finally:
            laptop.close()
    # -- escalations at the right time -----------------------------------------------------------
    outcomes: dict[str, list[rules.Attempt]] = defaultdict(list)
    for call_id, whom, outcome, called_at, urgent in own_server.sql(
        "SELECT call_id, called_whom, outcome, called_at, urgent FROM campaign_outcomes "
        "WHERE campaign_id = :c",
        c=campaign_id,
    ):
        moment = datetime.fromisoformat(str(called_at).replace("Z", "+00:00"))
        outcomes[call_id].append(rules.Attempt(outcome, whom, moment, bool(urgent)))
    contact_of = dict(
        own_server.sql(
            "SELECT k.id, c.emergency_contacts != '[]' FROM campaign_calls k "
            "JOIN contacts c ON c.id = k.person_id WHERE k.campaign_id = :c",
            c=campaign_id,
        )
    )
    rule = rules.CampaignRules(failed_calls_before_emergency=2)
    escalated = [p["call_id"] for p in progress["not_reached"]]
    for call_id in escalated:
        tried = sorted(outcomes[call_id], key=lambda a: a.called_at)
        fails = [a.called_whom for a in tried if a.outcome == rules.NO_ANSWER]
        assert fails.count(rules.PERSON) >= 2
        if contact_of[call_id]:
            assert rules.EMERGENCY_CONTACT in fails
        assert tried[-1].called_whom == rules.HOME_VISIT
        # Before that last visit, nobody escalated.
        before = rules.next_step(tried[:-1], rule, tried[-1].called_at,
                                 has_emergency_contact=bool(contact_of[call_id]))  # fmt: skip
        assert before.code == rules.VISIT_TODAY
    # No emergency contact called before two unanswered calls to the person.
    for call_id, tried in outcomes.items():
        tried = sorted(tried, key=lambda a: a.called_at)
        for index, attempt in enumerate(tried):
            if attempt.called_whom == rules.EMERGENCY_CONTACT:
                earlier = [a for a in tried[:index] if a.outcome == rules.NO_ANSWER]
                assert sum(a.called_whom == rules.PERSON for a in earlier) >= 2, call_id
    # -- no outcome lost ---------------------------------------------------------------------------
    on_server = {
        r[0]
        for r in own_server.sql(
            "SELECT id FROM campaign_outcomes WHERE campaign_id = :c", c=campaign_id
        )
    }
    recorded: set[str] = set()
    for agent_id, runs in reports.items():
        assert runs[-1]["outbox"] == 0, agent_id
        recorded |= set(runs[-1]["recorded"])
    assert recorded == on_server
    failed = sum(r["failed_syncs"] for runs in reports.values() for r in runs)
    figures = {
        "persons": PERSONS,
        "agents": AGENTS,
        "build_lists_s": round(build_s, 3),
        "campaign_s": round(worked_s, 1),
        "total_s": round(time.monotonic() - began, 1),
        "outcomes": len(on_server),
        "reached": progress["reached"],
        "escalated": progress["escalated"],
        "reassigned": len(reassigned),
        "called_by_two": len(twice),
        "failed_syncs": failed,
        "unsent_when_killed": unsent,
        "visits_planned": own_server.sql(
            "SELECT count(*) FROM planned_contacts WHERE reason LIKE 'Campagne%'"
        )[0][0],
    }
    print("campaign simulation", json.dumps(figures))
    assert failed > 0  # the faults did happen


def _open_calls(server: ServerProcess, campaign_id: str) -> dict[str, tuple[str, str]]:
    """Calls with a step still to take (call, visit), as the laptops' rules say: call id →
    (holder, the person's territory)."""
    rule = rules.CampaignRules(failed_calls_before_emergency=2)
    tried: dict[str, list[rules.Attempt]] = defaultdict(list)
    for call_id, whom, outcome, called_at in server.sql(
        "SELECT call_id, called_whom, outcome, called_at FROM campaign_outcomes "
        "WHERE campaign_id = :c",
        c=campaign_id,
    ):
        moment = datetime.fromisoformat(str(called_at).replace("Z", "+00:00"))
        tried[call_id].append(rules.Attempt(outcome, whom, moment))
    found: dict[str, tuple[str, str]] = {}
    for call_id, agent_id, territory, has_contact in server.sql(
        "SELECT k.id, k.agent_id, c.territory_id, c.emergency_contacts != '[]' "
        "FROM campaign_calls k JOIN contacts c ON c.id = k.person_id WHERE k.campaign_id = :c",
        c=campaign_id,
    ):
        step = rules.next_step(
            tried[call_id],
            rule,
            datetime.now().astimezone(),
            has_emergency_contact=bool(has_contact),
        )
        if step.open:
            found[str(call_id)] = (str(agent_id), str(territory))
    return found


def _open(root: Path, keyring: Path) -> Any:
    from havre_desktop.core.profile import ProfileManager

    return ProfileManager(root, FileKeyring(keyring)).unlock()
