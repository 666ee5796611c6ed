"""Child process of test_crash_safety: logs visits in a loop until it is killed.

Run from the project root as ``python -m tests.core.crash_writer``. The database key
arrives as hex on the first line of stdin (never in a file nor in the environment).

Environment:
  HAVRE_CRASH_DB          path of the encrypted database (created by the test)
  HAVRE_CRASH_PERSON      id of the person the visits are logged for
  HAVRE_CRASH_RUN         iteration number (goes into the visit notes)
  HAVRE_CRASH_SEED        seed of the visit values
  HAVRE_CRASH_AT_OUTBOX   N: stop at the N-th outbox write for HAVRE_CRASH_FAULT_TABLE,
                          after the data row is written and before its outbox entry,
                          inside the same transaction, and wait there to be killed
  HAVRE_CRASH_FAULT_TABLE "visits" (default) or "planned_contacts"

Protocol on stdout, one flushed line each:
  OPENING                                 about to open the store (which writes at opening)
  READY <journal_mode> <synchronous>      store opened, about to write
  ACK <visit_id> <n>                      log_visit returned: the visit is committed
  AT_FAULT <table> <op> <row_id> <visit_id> <data_written> <outbox_written>
                                          at the fault point (waiting to be killed)
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from havre_desktop.core import visits
from havre_desktop.core.clock import PARIS, Clock
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace

# A child never killed stops on its own (the test then fails on its exit code).
MAX_SECONDS = 30.0
EXIT_NOT_KILLED = 3
EXIT_FAULT_NOT_KILLED = 70


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def install_fault_point(fault_table: str, at_call: int) -> None:
    """Wrap Workspace._record_mutation (the outbox write) in this process only."""
    original = Workspace._record_mutation
    calls: dict[str, int] = {}
    current_visit: list[str | None] = [None]

    def record_mutation(
        self: Workspace,
        table: str,
        row_id: str,
        op: str,
        fields: dict[str, Any],
        base_version: int,
        stamp: str,
    ) -> None:
        if table == "visits" and op == "insert":
            current_visit[0] = row_id
        calls[table] = calls.get(table, 0) + 1
        if table == fault_table and calls[table] == at_call:
            assert self.store.in_transaction
            conn = self.store.conn
            if op == "insert":
                data = conn.execute(
                    f"SELECT count(*) FROM {table} WHERE id = ?", (row_id,)
                ).fetchone()[0]
            else:  # the update that closes a planned contact
                data = conn.execute(
                    f"SELECT count(*) FROM {table} WHERE id = ? AND done_by_visit_id = ?",
                    (row_id, current_visit[0]),
                ).fetchone()[0]
            outbox = conn.execute(
                "SELECT count(*) FROM outbox WHERE table_name = ? AND row_id = ? AND op = ?",
                (table, row_id, op),
            ).fetchone()[0]
            say(f"AT_FAULT {table} {op} {row_id} {current_visit[0]} {data} {outbox}")
            time.sleep(MAX_SECONDS)  # the test kills us here
            os._exit(EXIT_FAULT_NOT_KILLED)  # no commit, no cleanup
        original(self, table, row_id, op, fields, base_version, stamp)

    Workspace._record_mutation = record_mutation  # type: ignore[method-assign]


def visit_values(rng: random.Random, run: int, n: int) -> dict[str, Any]:
    occurred = datetime.now(PARIS) - timedelta(days=rng.randint(0, 20), minutes=rng.randint(5, 600))
    values: dict[str, Any] = {
        "occurred_at": occurred.isoformat(timespec="minutes"),
        "kind": rng.choice(["visite-domicile", "appel"]),
        "outcome": "realisee",
        "duration_min": rng.randint(5, 90),
        "wellbeing": rng.randint(1, 5),
        "notes": notes_for(run, n),
    }
    if rng.random() < 0.3:
        # A follow-up: one more row (planned_contacts) in the same transaction; later
        # visits on or after that day close it (an update, also in their transaction).
        values["follow_up_on"] = (occurred.date() + timedelta(days=rng.randint(0, 10))).isoformat()
    return values


def notes_for(run: int, n: int) -> str:
    return f"Essai de coupure : passage {run}, visite n° {n}"


def main() -> int:
    key = bytes.fromhex(sys.stdin.readline().strip())
    path = Path(os.environ["HAVRE_CRASH_DB"])
    person_id = os.environ["HAVRE_CRASH_PERSON"]
    run = int(os.environ["HAVRE_CRASH_RUN"])
    rng = random.Random(f"{os.environ['HAVRE_CRASH_SEED']}-{run}")
    fault_at = int(os.environ.get("HAVRE_CRASH_AT_OUTBOX") or 0)
    if fault_at:
        install_fault_point(os.environ.get("HAVRE_CRASH_FAULT_TABLE") or "visits", fault_at)

    say("OPENING")
    store = Store.open(path, key)
    ws = Workspace(store, clock=Clock())
    mode = store.scalar("PRAGMA journal_mode")
    synchronous = store.scalar("PRAGMA synchronous")
    say(f"READY {mode} {synchronous}")
    deadline = time.monotonic() + MAX_SECONDS
    n = 0
    while time.monotonic() < deadline:
        n += 1
        visit = visits.log_visit(ws, person_id, visit_values(rng, run, n))
        say(f"ACK {visit['id']} {n}")
    store.close()
    return EXIT_NOT_KILLED


if __name__ == "__main__":
    sys.exit(main())
