"""Crash safety: SIGKILL a process writing visits, then check the database.

A child process (tests/core/crash_writer.py) logs visits in a loop on one real
encrypted database and acknowledges each committed visit on stdout. The test kills
it with SIGKILL, either at a random moment (while it opens the store or while it
writes) or at a fault point inside a transaction, after a data row is written and
before its outbox entry. After every kill the database must pass
`PRAGMA integrity_check` and `PRAGMA cipher_integrity_check`, hold every
acknowledged visit, and its outbox must agree with its data.

25 kills by default; HAVRE_LONG_RUN=1 runs 200, HAVRE_CRASH_KILLS=N runs N.
HAVRE_CRASH_SEED fixes the seed (printed with the summary) of the kill plan.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from havre_desktop.core import agents, contacts
from havre_desktop.core.clock import FixedClock
from havre_desktop.core.store import JOURNAL_MODE, SYNCHRONOUS_FULL, Store
from havre_desktop.core.workspace import Workspace
from tests.core.crash_writer import notes_for
from tests.helpers import TEST_NOW, person_values, start_child

CI_KILLS = 25
LONG_RUN_KILLS = 200
DEFAULT_SEED = 20261125
MAX_WRITE_DELAY_S = 0.150  # random kills: 0–150 ms after the child is ready to write
MAX_OPENING_DELAY_S = 0.040  # kills while the child opens (and migrates) the store
CHILD_TIMEOUT_S = 60.0  # only reached if the child hangs or dies early


def kill_target() -> int:
    if os.environ.get("HAVRE_CRASH_KILLS"):
        return int(os.environ["HAVRE_CRASH_KILLS"])
    return LONG_RUN_KILLS if os.environ.get("HAVRE_LONG_RUN") == "1" else CI_KILLS


def crash_seed() -> int:
    return int(os.environ.get("HAVRE_CRASH_SEED") or DEFAULT_SEED)


# -- the child process ----------------------------------------------------------------------


class ChildOutput:
    """Reads the child's stdout on a thread until EOF (the pipe outlives the child)."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.events = {name: threading.Event() for name in ("OPENING", "READY", "ACK", "AT_FAULT")}
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for raw in stream:
            line = raw.rstrip("\n")
            self.lines.append(line)
            event = self.events.get(line.split(" ", 1)[0])
            if event is not None:
                event.set()

    def join(self) -> None:
        self._thread.join(CHILD_TIMEOUT_S)
        assert not self._thread.is_alive(), "the child's stdout never reached EOF"

    def fields(self, tag: str) -> list[list[str]]:
        return [line.split()[1:] for line in self.lines if line.split(" ", 1)[0] == tag]


@dataclass
class Kill:
    mode: str  # "write" (random), "opening" (random), "fault-visits", "fault-planned_contacts"
    returncode: int | None
    reached: bool  # the child reached the moment the kill was meant for
    acked: list[tuple[str, int]]  # (visit id, n) acknowledged before the kill
    ready: list[list[str]]
    fault: list[str] | None
    fault_at: int = 0
    delay_s: float = 0.0
    stderr: str = ""


def run_and_kill(
    db: Path, key: bytes, person_id: str, run: int, mode: str, rng: random.Random, log: Path
) -> Kill:
    env = dict(os.environ)
    env.update(
        {
            "HAVRE_CRASH_DB": str(db),
            "HAVRE_CRASH_PERSON": person_id,
            "HAVRE_CRASH_RUN": str(run),
            "HAVRE_CRASH_SEED": str(crash_seed()),
        }
    )
    env.pop("HAVRE_CRASH_AT_OUTBOX", None)
    env.pop("HAVRE_CRASH_FAULT_TABLE", None)
    fault_at = 0
    if mode.startswith("fault-"):
        table = mode.removeprefix("fault-")
        fault_at = rng.randint(1, 6 if table == "visits" else 3)
        env["HAVRE_CRASH_FAULT_TABLE"] = table
        env["HAVRE_CRASH_AT_OUTBOX"] = str(fault_at)
    if mode == "write":
        delay = rng.uniform(0.0, MAX_WRITE_DELAY_S)
    elif mode == "opening":
        delay = rng.uniform(0.0, MAX_OPENING_DELAY_S)
    else:
        delay = 0.0
    wait_for = {"write": "READY", "opening": "OPENING"}.get(mode, "AT_FAULT")

    with (
        log.open("w", encoding="utf-8") as stderr,
        start_child("tests.core.crash_writer", env=env, stderr=stderr) as proc,
    ):
        assert proc.stdin is not None and proc.stdout is not None
        output = ChildOutput(proc.stdout)
        try:
            # The key travels through a pipe, never through a file or the environment.
            proc.stdin.write(key.hex() + "\n")
            proc.stdin.close()
            reached = output.events[wait_for].wait(CHILD_TIMEOUT_S)
            if reached and delay:
                time.sleep(delay)  # the random moment of the kill, not a synchronisation
        finally:
            proc.send_signal(signal.SIGKILL)  # no-op if the child already exited
            returncode = proc.wait(CHILD_TIMEOUT_S)
            output.join()
    faults = output.fields("AT_FAULT")
    return Kill(
        mode=mode,
        returncode=returncode,
        reached=reached,
        acked=[(f[0], int(f[1])) for f in output.fields("ACK")],
        ready=output.fields("READY"),
        fault=faults[0] if faults else None,
        fault_at=fault_at,
        delay_s=delay,
        stderr=log.read_text("utf-8"),
    )


# -- checks on the reopened database --------------------------------------------------------


@dataclass
class Snapshot:
    visits: dict[str, dict[str, Any]]
    planned: dict[str, dict[str, Any]]
    outbox_entries: int


def check_store(store: Store, person_id: str) -> Snapshot:
    """Settings, foreign keys, and outbox ⇄ data agreement (integrity is checked first)."""
    assert str(store.scalar("PRAGMA journal_mode")).lower() == JOURNAL_MODE
    assert store.scalar("PRAGMA synchronous") == SYNCHRONOUS_FULL
    assert store.query("PRAGMA foreign_key_check") == []

    visits = {r["id"]: r for r in store.query("SELECT * FROM visits")}
    planned = {r["id"]: r for r in store.query("SELECT * FROM planned_contacts")}
    outbox = store.query("SELECT * FROM outbox ORDER BY seq")
    rows = {
        "contacts": {r["id"]: r for r in store.query("SELECT * FROM contacts")},
        "visits": visits,
        "planned_contacts": planned,
    }
    entries: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in outbox:
        assert entry["table_name"] in rows, f"unexpected outbox entry {entry}"
        assert entry["row_id"] in rows[entry["table_name"]], f"outbox entry without row: {entry}"
        entry["changed_fields"] = json.loads(entry["changed_fields"])
        entries.setdefault((entry["table_name"], entry["row_id"]), []).append(entry)

    def ops(table: str, row_id: str) -> list[str]:
        return [e["op"] for e in entries.get((table, row_id), [])]

    assert list(rows["contacts"]) == [person_id]
    assert ops("contacts", person_id) == ["insert"]

    for visit_id, visit in visits.items():
        assert ops("visits", visit_id) == ["insert"], f"visit {visit_id} without its outbox entry"
        sent = entries[("visits", visit_id)][0]["changed_fields"]
        for column in ("id", "person_id", "occurred_at", "notes", "follow_up_on"):
            assert sent[column] == visit[column], (visit_id, column)

    for planned_id, row in planned.items():
        done_by = row["done_by_visit_id"]
        expected = ["insert"] if done_by is None else ["insert", "update"]
        assert ops("planned_contacts", planned_id) == expected, (planned_id, done_by)
        sent = entries[("planned_contacts", planned_id)]
        assert sent[0]["changed_fields"]["due_on"] == row["due_on"]
        if done_by is not None:
            assert sent[1]["changed_fields"] == {"done_by_visit_id": done_by}
            assert done_by in visits
            assert visits[done_by]["occurred_at"][:10] >= row["due_on"]
    # Every follow-up date made its planned contact in the same transaction, and only those.
    with_follow_up = [v for v in visits.values() if v["follow_up_on"]]
    assert len(with_follow_up) == len(planned)
    assert Counter(v["follow_up_on"] for v in with_follow_up) == Counter(
        p["due_on"] for p in planned.values()
    )

    # The HLC stamps grow with the outbox, and the saved clock is the last stamp issued.
    stamps = [e["hlc"] for e in outbox]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    last = store.scalar("SELECT value FROM sync_meta WHERE key = 'last_hlc'")
    assert last == stamps[-1]
    return Snapshot(visits, planned, len(outbox))


def check_kill(kill: Kill, run: int, before: Snapshot, after: Snapshot) -> None:
    """What this kill must have left: acknowledged visits kept, the faulted one rolled back."""
    assert kill.returncode == -signal.SIGKILL, f"child exited {kill.returncode}:\n{kill.stderr}"
    assert kill.reached, f"the child never reached the kill point ({kill.mode}):\n{kill.stderr}"
    if kill.ready:
        assert kill.ready[0] == [JOURNAL_MODE, str(SYNCHRONOUS_FULL)]
    assert set(before.visits) <= set(after.visits), "a visit disappeared"
    new = set(after.visits) - set(before.visits)
    acked_ids = [visit_id for visit_id, _ in kill.acked]
    for visit_id, n in kill.acked:
        assert visit_id in after.visits, f"acknowledged visit {visit_id} lost"
        assert after.visits[visit_id]["notes"] == notes_for(run, n)
    assert [n for _, n in kill.acked] == list(range(1, len(kill.acked) + 1))
    assert set(acked_ids) <= new
    # At most the one visit committed between its COMMIT and its acknowledgement.
    assert len(new - set(acked_ids)) <= (0 if kill.fault else 1)

    if kill.fault is not None:
        table, op, row_id, visit_id, data_written, outbox_written = kill.fault
        # The kill really landed between the data write and the outbox write.
        assert (data_written, outbox_written) == ("1", "0"), kill.fault
        assert visit_id not in after.visits, "the interrupted visit was not rolled back"
        assert new == set(acked_ids)
        if table == "visits":
            assert row_id == visit_id
            assert op == "insert"
            # The N-th visit of this run was interrupted: the N-1 before it were acknowledged.
            assert len(kill.acked) == kill.fault_at - 1
        elif op == "insert":
            assert row_id not in after.planned, "the interrupted planned contact was kept"
        else:
            assert after.planned[row_id]["done_by_visit_id"] is None


# -- the test --------------------------------------------------------------------------------


def kill_plan(target: int, rng: random.Random) -> list[str]:
    """About a third at the outbox fault point, the rest at random moments."""
    faults = max(1, round(target / 3))
    planned_faults = faults // 4
    opening = target // 10
    plan = (
        ["fault-visits"] * (faults - planned_faults)
        + ["fault-planned_contacts"] * planned_faults
        + ["opening"] * opening
    )
    plan += ["write"] * (target - len(plan))
    rng.shuffle(plan)
    return plan


@dataclass
class Tally:
    kills: int = 0
    by_mode: Counter[str] = field(default_factory=Counter)
    writes_after_ack: int = 0
    acknowledged: int = 0
    integrity_problems: int = 0


def test_sigkill_while_writing_visits_keeps_the_database_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = kill_target()
    seed = crash_seed()
    rng = random.Random(seed)
    plan = kill_plan(target, rng)
    assert "write" in plan, "at least two kills are needed (one at random, one at the fault)"

    key = os.urandom(32)
    db = tmp_path / "havre.db"
    store = Store.create(db, key)
    ws = Workspace(store, clock=FixedClock(TEST_NOW))
    agents.create_owner(
        ws,
        {
            "display_name": "Agent Fictif",
            "role": "travailleur-social",
            "territory_ids": ["nord"],
            "work_phone": "02 61 91 00 01",
        },
    )
    person_id = contacts.create_person(ws, person_values())["id"]
    assert store.integrity_problems() == []
    before = check_store(store, person_id)
    store.close()

    tally = Tally()
    started = time.monotonic()
    for run, mode in enumerate(plan, start=1):
        kill = run_and_kill(db, key, person_id, run, mode, rng, tmp_path / "child-stderr.txt")
        store = Store.open(db, key)
        try:
            problems = store.integrity_problems()
            tally.integrity_problems += len(problems)
            assert problems == [], f"seed {seed}, kill {run} ({mode}): {problems}"
            try:
                after = check_store(store, person_id)
                check_kill(kill, run, before, after)
            except AssertionError as exc:
                raise AssertionError(
                    f"seed {seed}, kill {run} ({mode}, delay {kill.delay_s * 1000:.0f} ms, "
                    f"{len(kill.acked)} acknowledged, fault {kill.fault}): {exc}"
                ) from exc
        finally:
            store.close()
        before = after
        tally.kills += 1
        tally.by_mode[mode] += 1
        tally.acknowledged += len(kill.acked)
        if mode == "write" and kill.acked:
            tally.writes_after_ack += 1

    faults = tally.by_mode["fault-visits"] + tally.by_mode["fault-planned_contacts"]
    summary = (
        f"crash-safety: {tally.kills} kills ({faults} at the outbox fault point, "
        f"{tally.by_mode['fault-planned_contacts']} of them in a follow-up's second row; "
        f"{tally.by_mode['opening']} while opening; {tally.by_mode['write']} at random while "
        f"writing, {tally.writes_after_ack} after ≥1 acknowledgement), "
        f"{tally.integrity_problems} integrity problems, {tally.acknowledged} acknowledged "
        f"visits all present ({len(before.visits)} visits, {len(before.planned)} follow-ups, "
        f"{before.outbox_entries} outbox entries), seed {seed}, "
        f"{time.monotonic() - started:.1f} s"
    )
    with capsys.disabled():
        print(f"\n{summary}")
    assert tally.kills == target
    assert faults >= 1
    assert tally.writes_after_ack >= 1
    assert tally.acknowledged > 0
