"""Child process of the campaign simulation: one agent's laptop working her call list.

Run from the project root as ``python -m tests.sync.campaign_agent``. The parent made and
signed in the profile (its own SQLCipher file, its key and token in a test keyring file);
this process opens it, syncs through a fault-injecting transport (cut connections, lost
replies), works its list offline round by round with :mod:`havre_desktop.core.campaign`
(what the person does is fixed per person, so any agent who calls her gets the same
answers), and syncs now and then. The parent may SIGKILL it at any moment (after a
``ROUND`` line: outcomes recorded, not sent yet) and start it again on the same profile.

Time: the campaign's retry delay is 5 minutes; each round is 6 minutes of *virtual* time,
starting two hours before now (an outcome's time is never in the future), so a day's work
takes seconds. The virtual clock resumes after the last outcome the profile holds.

Settings, one JSON object on stdin: ``root``, ``keyring``, ``campaign_id``, ``seed``,
``fault_rate`` (share of syncs with one fault), ``max_rounds``, ``hold_after_round`` (wait
there for the parent, who kills it: a laptop closed mid-work with outcomes not sent).
Protocol on stdout: ``READY``, ``SYNC ok|failed <error>``, ``ROUND <n> <calls made>``,
``DONE <json>`` (outcomes recorded by this profile, outbox left, syncs failed).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from havre_common import campaign as rules
from havre_common.values import parse_datetime
from havre_desktop.core import campaign
from havre_desktop.core.clock import Clock
from havre_desktop.core.profile import ProfileManager
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync.engine import SyncEngine
from havre_desktop.sync.errors import SyncError
from tests.helpers import FileKeyring
from tests.sync.faults import FaultPlan, FaultyTransport

MAX_SECONDS = 600.0
ROUND = timedelta(minutes=6)
FAULTS = (
    ("push", "drop_reply"),
    ("push", "cut_request"),
    ("push", "drop_request"),
    ("pull", "cut_reply"),
    ("pull", "drop_request"),
)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def behaviour(person_id: str) -> str:
    """What this person does during the campaign (the same for every agent who calls her)."""
    h = int(hashlib.sha256(person_id.encode()).hexdigest()[:8], 16) % 100
    for bound, kind in (
        (55, "answers"),
        (70, "second"),
        (80, "contact"),
        (88, "visit"),
        (93, "escalate"),
        (98, "help"),
    ):
        if h < bound:
            return kind
    return "hospital"


def answer(person_id: str, step: rules.Step) -> tuple[str, str]:
    """(called_whom, outcome) for the step the list asks for."""
    kind = behaviour(person_id)
    if step.code in (rules.TO_CALL, rules.CALL_AGAIN):
        if kind == "answers" or (kind == "second" and step.failed_calls >= 1):
            return rules.PERSON, rules.REACHED_FINE
        if kind == "help":
            return rules.PERSON, rules.NEEDS_HELP
        if kind == "hospital":
            return rules.PERSON, "hospitalise"
        return rules.PERSON, rules.NO_ANSWER
    if step.code == rules.CALL_EMERGENCY_CONTACT:
        found = kind in ("contact", "second")
        return rules.EMERGENCY_CONTACT, rules.REACHED_FINE if found else rules.NO_ANSWER
    # A home visit today.
    return rules.HOME_VISIT, rules.NO_ANSWER if kind == "escalate" else rules.REACHED_FINE


def main() -> int:
    settings = json.loads(sys.stdin.readline())
    watchdog = threading.Timer(MAX_SECONDS, os._exit, (3,))
    watchdog.daemon = True
    watchdog.start()
    rng = random.Random(int(settings["seed"]))
    keyring = FileKeyring(Path(settings["keyring"]))
    manager = ProfileManager(Path(settings["root"]), keyring)
    store = manager.unlock()
    ws = Workspace(store, clock=Clock())
    plan = FaultPlan()
    engine = SyncEngine(
        ws,
        profile_id=manager.profile_id,
        keyring=keyring,
        http_wrap=lambda inner: FaultyTransport(inner, plan),
        device_label="poste de simulation",
    )
    campaign_id = str(settings["campaign_id"])
    me = str(ws.agent_id)
    failed_syncs = 0

    def sync(faulty: bool) -> bool:
        nonlocal failed_syncs
        plan.clear()
        if faulty and rng.random() < float(settings["fault_rate"]):
            endpoint, fault = rng.choice(FAULTS)
            plan.add(endpoint, fault)
        try:
            engine.sync()
        except SyncError as exc:
            failed_syncs += 1
            say(f"SYNC failed {type(exc).__name__}")
            return False
        say("SYNC ok")
        return True

    say("READY")
    last = ws.store.scalar("SELECT max(called_at) FROM campaign_outcomes WHERE agent_id = ?", (me,))
    now = datetime.now(UTC)
    virtual = now - timedelta(hours=2)
    if last:
        virtual = max(virtual, parse_datetime(str(last)) + ROUND)
    # The lists arrive at a sync that goes through (the morning, at the office).
    for attempt in range(8):
        if sync(faulty=attempt < 6):
            break
    for round_number in range(int(settings["max_rounds"])):
        if round_number and rng.random() < 0.5:
            sync(faulty=True)  # online now and then; offline the rest of the time
        rows = campaign.call_list(ws, campaign_id, me, now=virtual)
        due = [r for r in rows if r.mine and r.step.due(virtual)]
        for row in due:
            whom, outcome = answer(row.person_id, row.step)
            campaign.record_outcome(
                ws,
                row.call_id,
                outcome,
                called_whom=whom,
                called_at=min(virtual, datetime.now(UTC)),
            )
        say(f"ROUND {round_number} {len(due)}")
        if round_number == settings.get("hold_after_round"):
            sys.stdin.readline()  # the parent kills the laptop here (outcomes not sent)
        virtual += ROUND
        still = [r for r in rows if r.mine and r.step.open]
        if not due and not still:
            break
    # Back at the office: sync until everything is sent (the network is good there).
    for _ in range(6):
        if sync(faulty=False) and ws.pending_changes() == 0:
            break
    recorded = [
        str(r["id"])
        for r in ws.store.query("SELECT id FROM campaign_outcomes WHERE agent_id = ?", (me,))
    ]
    say(
        "DONE "
        + json.dumps(
            {
                "agent_id": me,
                "recorded": recorded,
                "outbox": ws.pending_changes(),
                "failed_syncs": failed_syncs,
            }
        )
    )
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
