"""Random scripts of edits, syncs, faults and kills over several desktops, then every guarantee
of sync.md, on SQLite and on PostgreSQL (durable: fsync and synchronous_commit on).

A hypothesis state machine drives four real desktop profiles (two social workers and a reception
agent of Le Havre Nord, a coordinator of Nord and Sud) against the real server process, through
the fault-injecting transport. Steps: create and edit persons (phone, address, territory),
log and correct visits, plan follow-ups, record consents, delete persons, resolve conflicts,
sync under random faults (dropped or cut requests and replies, duplicates, reordering, delays),
type while a sync runs (the screens' own connection, as in the application: an edit just as a
push or pull request leaves, often of the field whose edit that sync sends), restart a desktop
(crash), and as the administrator: take a territory away from an agent and give it back, erase a
person (RGPD), revoke a device (wipe, then a new sign-in). Edits go half of the time to the first
persons a desktop holds, so that agents' edits meet on the same rows. And:

* interrupted pulls: small pages, the reply of page n cut midway, dropped, or its request
  dropped, in an incremental pull or in a full download (counted: ``pulls-interrupted``,
  ``-midway`` when at least one page of that sync was applied first, ``full-downloads-
  interrupted``);
* a desktop killed mid-sync: the sync runs in a child process (tests/sync/sync_child.py) on the
  same profile files and keyring, which is SIGKILLed at a random request, reply or progress
  step; the desktop then opens its profile again and carries on (``client-kills``);
* the server killed mid-push: SIGKILL a few milliseconds after a push request leaves, while
  the server reads, applies or commits it, or after; restarted on the same port
  (``server-kills``; ``-reply-lost`` when the batch was committed and never acknowledged).

After each sync: no edit lost so far, every field with an edit waiting still shows it on the
desktop (a pull never overwrites a pending edit), and after a kill the database is intact.
After the script, everything settles (every desktop syncs with no fault until a whole round
changes nothing) and the guarantees are checked:

1. nothing lost: every edit made on a desktop was applied, or applied with a conflict, or
   rejected with a reason the agent sees (the same reason as the server's); edits discarded by
   a wipe are the ones the wipe reported, never applied after the revocation (one whose reply
   was lost before may have been applied); an edit answered "applied" is in the row, a
   field of an edit answered "conflict" is in the row or in a conflict row; and no value an
   agent's edit put in a row (contacts, planned contacts) was replaced by another device's edit
   whose agent had not seen it on screen, unless a conflict row keeps both values (read from
   the server's change_log: each entry is the whole row after one edit);
2. exactly once: the server holds no edit these desktops did not make, each visit once, and each
   edit's change-log entries come from one single application;
3. convergence: every desktop holds exactly the server's view of what its agent may see;
4. least data: no erased person's data is left anywhere on any desktop (rows, edits waiting,
   rejected edits); revoked rows are covered by 3;
5. the dashboard's count tables on each desktop equal a recount of the rows it holds.

Size, per backend: ``HAVRE_SYNC_EXAMPLES`` examples of at most ``HAVRE_SYNC_STEPS`` steps
(defaults: CI_EXAMPLES × CI_STEPS below; with HAVRE_LONG_RUN=1, LONG_EXAMPLES × LONG_STEPS,
≥ 3,000 steps), seed ``HAVRE_SYNC_SEED`` (default fixed, so CI is reproducible). The summary
line of each backend (seed, steps, syncs, faults, kills, interrupted pulls, conflicts,
rejections, wipes, elapsed…) is printed (``-s`` shows it).
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from havre_common import contract
from havre_common.protocol import API_PREFIX
from havre_desktop.core import contacts, visits
from havre_desktop.core.errors import HavreError
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync import local
from havre_desktop.sync.engine import SyncReport
from havre_desktop.sync.errors import DeviceRevokedError, ServerUnreachableError
from havre_server.admin import ERASED_REASON
from havre_server.changelog import DELAY_ENV
from tests.core.test_dashboard_counts import assert_exact
from tests.helpers import FileKeyring, person_values, start_child
from tests.server.support import PostgresCluster, ServerProcess, World, make_server, started
from tests.sync.scenario_helpers import delete_row, revoke_device, visit_values
from tests.sync.support import Laptop, differences, normalise

LONG_RUN = os.environ.get("HAVRE_LONG_RUN") == "1"
CI_EXAMPLES, CI_STEPS = 10, 60
LONG_EXAMPLES, LONG_STEPS = 40, 100
EXAMPLES = int(
    os.environ.get("HAVRE_SYNC_EXAMPLES") or (LONG_EXAMPLES if LONG_RUN else CI_EXAMPLES)
)
STEPS = int(os.environ.get("HAVRE_SYNC_STEPS") or (LONG_STEPS if LONG_RUN else CI_STEPS))
SEED = int(os.environ.get("HAVRE_SYNC_SEED") or 20261125)
SETTLE_ROUNDS = 8

ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("travailleur-social", ("nord",)),
    ("travailleur-social", ("nord",)),
    ("accueil", ("nord",)),
    ("coordinateur", ("nord", "sud")),
)
CARE = frozenset({"travailleur-social", "coordinateur"})
PHONES = ("06 11 22 33 44", "06 55 66 77 88", "02 35 10 20 30", None)
CITIES = ("Le Havre", "Harfleur", "Montivilliers", "Sainte-Adresse")
ADDRESSES = ("1 rue de Paris", "12 quai Southampton", "3 place de l'Hôtel de Ville")
FIELD_VALUES = {"phone_1": PHONES[:3], "city": CITIES, "address_line": ADDRESSES}
FAULT_KINDS = (
    "drop_request",
    "cut_request",
    "drop_reply",
    "cut_reply",
    "duplicate",
    "reorder",
    "delay",
)
# Faults after which the request or its reply is lost: the sync stops there.
INTERRUPTING = frozenset({"drop_request", "cut_request", "drop_reply", "cut_reply"})
faults_strategy = st.lists(
    st.tuples(
        st.sampled_from(("meta", "push", "pull")),
        st.sampled_from(FAULT_KINDS),
        st.integers(0, 2),
    ),
    max_size=3,
)
PAIRS = ((0, 1), (1, 0), (0, 3), (3, 1), (2, 0))  # desktops editing one field "at once"
# Which person an edit is about: half of the time one of the first few a desktop holds, so
# that edits of different agents meet on the same rows and fields (deletions and erasures
# pick from the newest ones).
WHICH = st.one_of(st.integers(0, 2), st.integers(0, 1000))
# The agent typing while a sync runs: which person and field, when (see type_during).
TYPING = st.none() | st.fixed_dictionaries(
    {
        "which": WHICH,
        "field": st.sampled_from(("phone_1", "city", "address_line")),
        "value": st.integers(0, 3),
        "endpoint": st.sampled_from(("push", "pull")),
        "at": st.integers(0, 1),
        "same": st.booleans(),
    }
)
PUSH_BATCH = 3
COMMIT_DELAY_MS = 20
PULL_LIMIT = 25  # a full download (catalogue, agents, persons…) takes several pages
SMALL_PAGES = (4, 9, 25)
# Row states compared field by field: the agent's values, not the bookkeeping.
NOT_VALUES = (
    frozenset({"id", "created_at", "updated_at", "deleted", "server_version", "field_meta"})
    | contract.DESKTOP_LOCAL_COLUMNS
    | {contract.CLOCK_COLUMN}
)
MERGED = tuple(sorted(contract.MERGE_TABLES))  # contacts, planned contacts: per-field merge

STATS: Counter[str] = Counter()


def canon(column: str, value: Any) -> str:
    """One text for a value as the desktop stores it and as the server logs it."""
    return json.dumps(normalise(column, value), sort_keys=True, ensure_ascii=False)


# -- a desktop's sync in a child process, killed at a random moment ------------------------------


@dataclass
class ChildSync:
    lines: list[str] = field(default_factory=list)
    killed: bool = False
    returncode: int | None = None

    @property
    def end(self) -> str:
        return self.lines[-1] if self.lines else ""

    @property
    def moment(self) -> str:
        """The last event before the kill: ``SEND push``, ``STEP réception``…"""
        events = [line for line in self.lines if line.split(" ", 1)[0] in ("SEND", "RECV", "STEP")]
        return " ".join(events[-1].split()[:2]) if events else "READY"


def run_child_sync(
    laptop: Laptop, *, kill_at: int, delay_s: float, pull_limit: int, log: Path
) -> ChildSync:
    """Sync ``laptop``'s profile in a child process; SIGKILL it ``delay_s`` after its
    ``kill_at``-th event (request, reply or progress step), unless the sync ended before.
    The laptop's own connection must be closed."""
    assert isinstance(laptop.keyring, FileKeyring)
    settings_line = json.dumps(
        {
            "root": str(laptop.root),
            "keyring": str(laptop.keyring.path),
            "pull_limit": pull_limit,
            "push_batch": laptop.engine.push_batch,
            "faults": [],
        }
    )
    child = ChildSync()
    with (
        log.open("w", encoding="utf-8") as stderr,
        start_child("tests.sync.sync_child", stderr=stderr) as proc,
    ):
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(settings_line + "\n")
            proc.stdin.close()
            events = 0
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                child.lines.append(line)
                tag = line.split(" ", 1)[0]
                if tag in ("DONE", "WIPED", "FAILED"):
                    break
                if tag in ("SEND", "RECV", "STEP"):
                    events += 1
                    if events >= kill_at:
                        time.sleep(delay_s)  # the random moment, not a synchronisation
                        child.killed = proc.poll() is None
                        break
        finally:
            proc.send_signal(signal.SIGKILL)  # no-op if it already exited
            child.returncode = proc.wait(60)
            child.lines.extend(line.rstrip("\n") for line in proc.stdout)
    if child.end.split(" ", 1)[0] in ("DONE", "WIPED", "FAILED"):
        child.killed = False  # the sync had ended: not a kill mid-sync
    elif not child.killed:
        raise AssertionError(f"sync child died on its own ({child.returncode}): {log.read_text()}")
    return child


def pushed_ids(request: httpx.Request) -> list[str]:
    """The mutation ids of a push request as it leaves (gzip or not)."""
    body = request.content
    if request.headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return [str(m["mutation_id"]) for m in json.loads(body)["mutations"]]


class SyncMachine(RuleBasedStateMachine):
    server: ClassVar[ServerProcess]
    base: ClassVar[Path]
    examples: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        SyncMachine.examples += 1
        STATS["examples"] += 1
        self.world = World(self.server)
        self.root = self.base / f"example-{SyncMachine.examples}"
        self.laptops: list[Laptop] = []
        self.logins: list[str] = []
        self.persons: list[str] = []
        self.erased: set[str] = set()
        self.made: list[set[str]] = []  # mutation ids created on each desktop
        self.kinds: dict[str, tuple[str, str, str]] = {}  # mutation id → (table, op, row id)
        self.values: dict[str, dict[str, Any]] = {}  # mutation id → the fields it sends
        # mutation id → the value each field it changes had on the desktop when it was typed
        # (what its agent saw on screen and chose to replace), for the merged tables
        self.saw: dict[str, dict[str, Any]] = {}
        self.discarded: set[str] = set()  # lost in a wipe (reported)
        self.wiped_rejections: set[str] = set()  # rejected, shown, then wiped with the rest
        self.devices: set[str] = set()
        self.revoked = False
        self.revoked_devices: set[str] = set()
        self.away: set[int] = set()  # social workers moved to Sud
        self.turn = 0
        self.collisions = 0
        self.children = 0

    # -- set-up ----------------------------------------------------------------------------

    @initialize()
    def desktops(self) -> None:
        for index, (role, territories) in enumerate(ROLES):
            # With the register right: their consents to the register travel (issue 14).
            login = self.world.create_agent(role, list(territories), register_right=True)
            root = self.root / f"laptop-{index}"
            keyring = FileKeyring(self.root / f"keyring-{index}.json")
            laptop = Laptop(root, role, list(territories), keyring=keyring)
            laptop.sign_in(self.world, login)
            laptop.engine.push_batch = PUSH_BATCH
            laptop.engine.pull_limit = PULL_LIMIT
            self.laptops.append(laptop)
            self.logins.append(login)
            self.made.append(set())
            self.devices.add(laptop.ws.device_id)
        # A few persons known to everyone, so that edits have something to work on.
        for index, territory in ((0, "nord"), (0, "nord"), (3, "nord"), (3, "sud")):
            laptop = self.laptops[index]
            person = contacts.create_person(laptop.ws, person_values(territory_id=territory))
            self.persons.append(str(person["id"]))
            self.record(laptop)
        for laptop in self.laptops:
            laptop.sync()

    # -- helpers ---------------------------------------------------------------------------

    def step(self) -> None:
        STATS["steps"] += 1
        STATS[f"rule:{sys._getframe(1).f_code.co_name}"] += 1

    def laptop(self, index: int) -> Laptop:
        return self.laptops[index % len(self.laptops)]

    def person(self, index: int, *holders: Laptop) -> str | None:
        """The `index`-th person (modulo) not erased and held by every one of `holders`,
        oldest first (a negative index counts from the newest); None if there is none."""
        held = [
            p
            for p in self.persons
            if p not in self.erased and all(self.held(laptop, p) for laptop in holders)
        ]
        if not held:
            return None
        return held[index % len(held)]

    def merged_rows(self, ws: Workspace) -> dict[tuple[str, str], dict[str, Any]]:
        """The rows merged field by field as the screens show them (before an edit)."""
        return {
            (table, str(row["id"])): row
            for table in MERGED
            for row in ws.store.query(f"SELECT * FROM {table}")
        }

    def record(
        self,
        laptop: Laptop,
        before: dict[tuple[str, str], dict[str, Any]] | None = None,
        screens: Workspace | None = None,
    ) -> None:
        """Note the desktop's new outbox entries; ``before``: its merged rows before the edit;
        ``screens``: the connection it was made on, if not the laptop's."""
        index = self.laptops.index(laptop)
        for entry in (screens or laptop.ws).outbox_entries():
            mutation_id = str(entry["mutation_id"])
            if mutation_id in self.kinds:
                continue
            table, op, row_id = entry["table_name"], entry["op"], entry["row_id"]
            self.made[index].add(mutation_id)
            self.kinds[mutation_id] = (table, op, row_id)
            self.values[mutation_id] = dict(entry["changed_fields"])
            if before is not None and op == "update" and (table, row_id) in before:
                shown = before[(table, row_id)]
                self.saw[mutation_id] = {
                    k: shown.get(k) for k in self.values[mutation_id] if k not in NOT_VALUES
                }

    def held(self, laptop: Laptop, person_id: str | None) -> bool:
        if person_id is None:
            return False
        row = laptop.row("contacts", person_id)
        return row is not None and not row["deleted"]

    def edit(self, laptop: Laptop, action: Any) -> None:
        """Run a user action; refusals of the core (validation, permissions) are normal."""
        before = self.merged_rows(laptop.ws)
        try:
            action()
        except HavreError:
            STATS["refused-locally"] += 1
        else:
            STATS["edits"] += 1
        self.record(laptop, before)

    def add_person(self, laptop: Laptop, territory: str) -> None:
        values = person_values(territory_id=territory)
        if laptop.role == "accueil":
            values.pop("lives_alone")
            values.pop("mobility")

        def create() -> None:
            self.persons.append(str(contacts.create_person(laptop.ws, values)["id"]))

        self.edit(laptop, create)

    # -- edits -----------------------------------------------------------------------------

    @rule(who=st.integers(0, 3), sud=st.booleans())
    def create_person(self, who: int, sud: bool) -> None:
        self.step()
        laptop = self.laptop(who)
        territory = "sud" if sud and "sud" in laptop.territories else laptop.territories[0]
        self.add_person(laptop, territory)

    @rule(
        who=st.integers(0, 3),
        which=WHICH,
        phone=st.sampled_from(PHONES),
        city=st.sampled_from(CITIES),
        address=st.sampled_from(ADDRESSES),
        fields=st.sets(st.sampled_from(("phone_1", "city", "address_line")), min_size=1),
    )
    def edit_person(
        self, who: int, which: int, phone: str | None, city: str, address: str, fields: set[str]
    ) -> None:
        self.step()
        laptop = self.laptop(who)
        person_id = self.person(which, laptop)
        if person_id is None:
            return
        values = {"phone_1": phone, "city": city, "address_line": address}
        changes = {k: v for k, v in values.items() if k in fields}
        self.edit(laptop, lambda: contacts.update(laptop.ws, person_id, changes))

    @rule(
        which=WHICH,
        pair=st.sampled_from(PAIRS),
        field=st.sampled_from(("phone_1", "city")),
        first=st.integers(0, 3),
        second=st.integers(0, 3),
    )
    def concurrent_edits(
        self, which: int, pair: tuple[int, int], field: str, first: int, second: int
    ) -> None:
        """Two agents change the same field offline (journey 3): a conflict when values differ."""
        self.step()
        self.collide(which, pair, field, first, second)

    # Hypothesis tries the rules with fewest arguments first and most often (its simplest
    # example repeats the first one): the two without any are the cheap, central ones, two
    # agents' edits meeting on a field and a sync.
    @rule()
    def collision(self) -> None:
        """Like concurrent_edits, the agents, person, field and values in turn."""
        self.step()
        self.collisions += 1
        n = self.collisions
        field = ("phone_1", "city")[n // len(PAIRS) % 2]
        self.collide(n // 10 % 3, PAIRS[n % len(PAIRS)], field, n % 3, (n + 1 + n // 7) % 3)

    def collide(
        self, which: int, pair: tuple[int, int], field: str, first: int, second: int
    ) -> None:
        person_id = self.person(which, self.laptop(pair[0]), self.laptop(pair[1]))
        if person_id is None:
            return
        choices = PHONES[:3] if field == "phone_1" else CITIES
        for who, value in ((pair[0], choices[first % 3]), (pair[1], choices[second % 3])):
            laptop = self.laptop(who)
            edit = partial(contacts.update, laptop.ws, person_id, {field: value})
            self.edit(laptop, edit)

    @rule(which=WHICH)
    def move_person(self, which: int) -> None:
        """The coordinator moves a person between Nord and Sud (journey 5)."""
        self.step()
        laptop = self.laptop(3)
        person_id = self.person(which, laptop)
        if person_id is None:
            return
        row = laptop.row("contacts", person_id)
        assert row is not None
        target = "sud" if row["territory_id"] == "nord" else "nord"
        self.edit(laptop, lambda: contacts.update(laptop.ws, person_id, {"territory_id": target}))

    @rule(who=st.sampled_from((0, 1, 3)), which=WHICH, follow=st.booleans())
    def log_visit(self, who: int, which: int, follow: bool) -> None:
        self.step()
        laptop = self.laptop(who)
        person_id = self.person(which, laptop)
        if person_id is None:
            return
        follow_up = (laptop.clock.now().date().replace(year=2030)).isoformat() if follow else None
        values = visit_values(laptop, follow_up_on=follow_up)
        self.edit(laptop, lambda: visits.log_visit(laptop.ws, person_id, values))

    @rule(who=st.sampled_from((0, 1, 3)), wellbeing=st.integers(1, 5))
    def correct_visit(self, who: int, wellbeing: int) -> None:
        self.step()
        laptop = self.laptop(who)
        row = laptop.ws.store.query_one(
            "SELECT id FROM visits WHERE agent_id = ? AND deleted = 0 ORDER BY random() LIMIT 1",
            (laptop.agent_id,),
        )
        if row is None:
            return
        self.edit(
            laptop, lambda: visits.correct_visit(laptop.ws, row["id"], {"wellbeing": wellbeing})
        )

    @rule(who=st.sampled_from((0, 1, 3)), which=WHICH, colleague=st.booleans())
    def plan_contact(self, who: int, which: int, colleague: bool) -> None:
        self.step()
        laptop = self.laptop(who)
        person_id = self.person(which, laptop)
        if person_id is None:
            return
        values: dict[str, Any] = {"due_on": "2030-02-01", "kind": "appel"}
        if colleague:
            values["agent_id"] = self.laptop(1 if who == 0 else 0).agent_id
        self.edit(laptop, lambda: visits.plan_contact(laptop.ws, person_id, values))

    @rule(who=st.integers(0, 3), which=WHICH, registre=st.booleans())
    def record_consent(self, who: int, which: int, registre: bool) -> None:
        self.step()
        laptop = self.laptop(who)
        person_id = self.person(which, laptop)
        if person_id is None:
            return
        values = {
            "purpose": "registre" if registre else "fiche",
            "recorded_on": "01/10/2026",
            "method": "oral",
            "given": True,
        }
        self.edit(laptop, lambda: contacts.record_consent(laptop.ws, person_id, values))

    @rule(who=st.sampled_from((0, 1, 3)), which=st.integers(0, 1000))
    def delete_person(self, who: int, which: int) -> None:
        self.step()
        laptop = self.laptop(who)
        person_id = self.person(-1 - which, laptop)
        if person_id is None:
            return
        self.edit(laptop, lambda: delete_row(laptop, "contacts", person_id))

    @rule(who=st.integers(0, 3), mine=st.booleans())
    def resolve_conflict(self, who: int, mine: bool) -> None:
        self.step()
        laptop = self.laptop(who)
        conflicts = laptop.engine.status().conflicts
        if not conflicts:
            return
        conflict = conflicts[0]
        value = conflict.local_value if mine else conflict.remote_value
        STATS["resolutions"] += 1
        self.edit(laptop, lambda: laptop.engine.resolve(conflict.id, value))

    # -- sync, faults, crashes, kills -------------------------------------------------------

    def waiting_and_shown(self, laptop: Laptop) -> tuple[set[str], set[str]]:
        waiting = {str(e["mutation_id"]) for e in laptop.outbox()}
        shown = {
            str(r["mutation_id"])
            for r in laptop.ws.store.query("SELECT mutation_id FROM sync_rejections")
        }
        return waiting, shown

    def wiped(
        self, laptop: Laptop, waiting: set[str], shown: set[str], discarded: int | None
    ) -> None:
        """A revoked device wiped itself (checked); it signs in again before its next sync.

        `waiting` and `shown`: its edits waiting and rejected before that sync. The wipe
        reports the edits it discarded from the outbox: those waiting, except the ones the
        sync refused itself before its first request to the server (a reception agent's
        consent other than the register's), which went to the rejected list it wiped too."""
        if discarded is not None:
            refusable = {
                m
                for m in waiting
                if laptop.role == "accueil"
                and self.kinds[m][:2] == ("consents", "insert")
                and self.values[m].get("purpose") != "registre"
            }
            assert len(waiting) - len(refusable) <= discarded <= len(waiting)
        self.discarded |= waiting
        self.wiped_rejections |= shown  # a wipe keeps nothing, rejected edits included
        STATS["wipes"] += 1
        STATS["wiped-edits"] += len(waiting) if discarded is None else discarded
        assert laptop.outbox() == [] and laptop.count("contacts") == 0

    def signed_in(self, laptop: Laptop) -> Laptop:
        """Sign in again after a wipe (which deleted the token). Not in the wipe's own step:
        the server may be down then (killed mid-push)."""
        if laptop.engine.tokens.load() is None:
            laptop.sign_in(self.world, self.logins[self.laptops.index(laptop)])
            self.devices.add(laptop.ws.device_id)
        return laptop

    def count_report(self, counts: dict[str, int]) -> None:
        STATS["syncs"] += 1
        for name in ("pushed", "conflicts", "rejected", "duplicates"):
            STATS[name] += counts[name]
        STATS["full-downloads"] += int(counts["full_download"])

    def sync_once(self, laptop: Laptop) -> SyncReport | None:
        """One sync; a revoked device wipes itself (checked), then signs in again."""
        waiting, shown = self.waiting_and_shown(self.signed_in(laptop))
        try:
            report = laptop.sync()
        except DeviceRevokedError as exc:
            self.wiped(laptop, waiting, shown, exc.discarded)
            return None
        self.count_report(
            {
                **report.counts(),
                "duplicates": report.duplicates,
                "full_download": report.full_download,
            }
        )
        return report

    def sync_counted(self, laptop: Laptop) -> bool:
        """One sync under the laptop's fault plan; an interruption is normal (counted: for a
        pull, where it was cut). True when the sync ended normally. The plan is emptied."""
        plan = laptop.plan
        pulls_before = len(plan.seen_cursors)
        try:
            self.sync_once(laptop)
        except ServerUnreachableError:
            STATS["syncs-interrupted"] += 1
            if (
                plan.applied
                and plan.applied[-1][0] == "pull"
                and plan.applied[-1][1] in INTERRUPTING
            ):
                cursor = plan.fault_cursors[-1]
                pages_before = len(plan.seen_cursors) - pulls_before - 1
                full = cursor == "0" or cursor.startswith("s.")
                STATS["pulls-interrupted"] += 1
                STATS["pulls-interrupted-midway"] += int(pages_before > 0)
                STATS["full-downloads-interrupted"] += int(full)
                STATS["full-downloads-interrupted-midway"] += int(full and pages_before > 0)
            return False
        finally:
            STATS["faults"] += len(plan.applied)
            plan.clear()
            plan.applied.clear()
            plan.fault_cursors.clear()
        return True

    def after_sync(self, laptop: Laptop) -> None:
        self.check_nothing_lost(laptop)
        self.check_waiting_edits_shown(laptop)

    def type_during(self, laptop: Laptop, typing: dict[str, Any]) -> Workspace | None:
        """The agent types while the sync runs, as in the application (the screens have a
        connection of their own, the sync another): an edit of a person just as the sync's
        `at`-th push or pull request leaves; `same`: she corrects a field whose edit this sync
        sends (she stayed on that page). Returns the screens' workspace, to close after."""
        if laptop.ws.device_id in self.revoked_devices:
            return None  # it wipes at its first request: the edit would be lost with the rest
        field, endpoint, at = typing["field"], typing["endpoint"], typing["at"]
        sent = [
            (str(e["row_id"]), column)
            for e in laptop.outbox()
            if e["table_name"] == "contacts" and e["op"] == "update"
            for column in e["changed_fields"]
            if column in FIELD_VALUES
        ]
        sent = [(p, c) for p, c in sent if self.held(laptop, p) and p not in self.erased]
        person_id = self.person(typing["which"], laptop)
        if typing["same"] and sent:
            person_id, field = sent[typing["which"] % len(sent)]
        if person_id is None:
            return None
        choices = FIELD_VALUES[field]
        typed = {field: choices[typing["value"] % len(choices)]}
        screens = Workspace(laptop.ws.store.open_another(), clock=laptop.clock)
        requests: list[str] = []

        def on_request(request: httpx.Request) -> None:  # on the thread sending it
            if not request.url.path.endswith("/" + endpoint):
                return
            requests.append(endpoint)
            if len(requests) != at + 1:
                return
            shown = self.merged_rows(screens)
            try:
                contacts.update(screens, person_id, typed)
            except HavreError:  # the person just left this desktop
                STATS["refused-locally"] += 1
            else:
                STATS[f"edits-while-{endpoint}ing"] += 1
            self.record(laptop, shown, screens)  # now: a later batch of this sync may send it

        laptop.plan.on_request = on_request
        return screens

    def run_sync(
        self,
        who: int,
        faults: list[tuple[str, str, int]],
        restart: bool = False,
        typing: dict[str, Any] | None = None,
        pages: int = PULL_LIMIT,
    ) -> None:
        laptop = self.signed_in(self.laptop(who))
        if restart:
            STATS["restarts"] += 1
            laptop.reopen()  # the application crashed or was closed since
        for endpoint, fault, skip in faults:
            laptop.plan.add(endpoint, fault, skip=skip, delay_s=0.01)
        screens = self.type_during(laptop, typing) if typing else None
        laptop.engine.pull_limit = pages
        try:
            self.sync_counted(laptop)
        finally:
            laptop.plan.on_request = None
            laptop.engine.pull_limit = PULL_LIMIT
            if screens is not None:
                screens.store.close()
        self.after_sync(laptop)

    # Three rules run a sync, so that syncs are about as frequent as edits.
    @rule(who=st.integers(0, 3), faults=faults_strategy, restart=st.booleans(), typing=TYPING)
    def sync(
        self,
        who: int,
        faults: list[tuple[str, str, int]],
        restart: bool,
        typing: dict[str, Any] | None,
    ) -> None:
        self.step()
        self.run_sync(who, faults, restart, typing)

    @rule(
        who=st.integers(0, 3),
        faults=faults_strategy,
        typing=TYPING,
        pages=st.sampled_from(SMALL_PAGES),
    )
    def sync_with_faults(
        self,
        who: int,
        faults: list[tuple[str, str, int]],
        typing: dict[str, Any] | None,
        pages: int,
    ) -> None:
        self.step()
        self.run_sync(who, faults, typing=typing, pages=pages)

    @rule()
    def sync_next(self) -> None:
        """The next desktop in turn syncs, with no fault; every other round its agent goes on
        editing, while it pulls, a field whose edit it sends."""
        self.step()
        self.turn += 1
        typing = None
        if self.turn // 4 % 2:
            field = tuple(FIELD_VALUES)[self.turn // 8 % 3]
            typing = {"which": self.turn // 8, "field": field, "value": self.turn // 24}
            typing |= {"endpoint": "pull", "at": 0, "same": True}
        self.run_sync(self.turn, [], typing=typing)

    @rule(
        who=st.integers(0, 3),
        pages=st.integers(0, 6),
        fault=st.sampled_from(("cut_reply", "drop_reply", "drop_request")),
        full=st.booleans(),
        limit=st.sampled_from(SMALL_PAGES),
    )
    def interrupted_pull(self, who: int, pages: int, fault: str, full: bool, limit: int) -> None:
        """A pull in small pages, cut after `pages` of them (the reply cut midway or lost, or
        the request lost); `full`: during a full download, as after the server's
        reset_required (the pull starts again from cursor "0", the outbox kept)."""
        self.step()
        laptop = self.laptop(who)
        if full:
            local.restart_full_download(laptop.ws.store)
        laptop.engine.pull_limit = limit
        laptop.plan.add("pull", fault, skip=pages)
        try:
            if self.sync_counted(laptop):
                STATS["pull-cuts-not-reached"] += 1  # the pull had fewer pages
        finally:
            laptop.engine.pull_limit = PULL_LIMIT
        self.after_sync(laptop)

    @rule(
        who=st.integers(0, 3),
        kill_at=st.integers(1, 16),
        delay_ms=st.integers(0, 20),
        full=st.booleans(),
        limit=st.sampled_from(SMALL_PAGES),
    )
    def sync_killed(self, who: int, kill_at: int, delay_ms: int, full: bool, limit: int) -> None:
        """The application is killed (SIGKILL) at a random moment of a sync: at its `kill_at`-th
        request, reply or progress step, `delay_ms` later; then started again. `full`: the sync
        is a full download."""
        self.step()
        laptop = self.signed_in(self.laptop(who))
        waiting, shown = self.waiting_and_shown(laptop)
        device = laptop.ws.device_id
        if full:
            local.restart_full_download(laptop.ws.store)
        laptop.close()  # the child process is the application now
        self.children += 1
        try:
            child = run_child_sync(
                laptop,
                kill_at=kill_at,
                delay_s=delay_ms / 1000,
                pull_limit=limit,
                log=self.root / f"child-{self.children}.log",
            )
        finally:
            laptop.open()
        assert laptop.ws.store.scalar("PRAGMA integrity_check") == "ok"
        end, _, detail = child.end.partition(" ")
        if child.killed:
            moment = child.moment
            phase = (
                "push"
                if "push" in moment or "envoi" in moment
                else "pull"
                if "pull" in moment or "réception" in moment
                else "other"
            )
            STATS["client-kills"] += 1
            STATS[f"client-kills-{phase}"] += 1
            STATS["client-kills-full-download"] += int(full and phase == "pull")
        elif end == "DONE":
            STATS["client-syncs-not-killed"] += 1
            self.count_report(json.loads(detail))
        else:
            assert end == "WIPED", f"the child's sync failed: {child.lines[-3:]}"
        if laptop.ws.device_id != device:  # wiped, reported or killed before it could say
            self.wiped(laptop, waiting, shown, int(detail) if end == "WIPED" else None)
        else:
            assert end != "WIPED"
        self.after_sync(laptop)

    @rule(who=st.integers(0, 3), skip=st.integers(0, 1), delay_ms=st.integers(0, 30))
    def kill_server_mid_push(self, who: int, skip: int, delay_ms: int) -> None:
        """The server process is killed (SIGKILL) `delay_ms` after a push request of a desktop
        with edits waiting leaves (its `skip`+1-th batch): while the server reads, applies or
        commits it, or just after. Then restarted on the same port."""
        self.step()
        laptop = next(
            (self.laptop(who + i) for i in range(4) if self.laptop(who + i).outbox()), None
        )
        if laptop is None:  # nothing waiting anywhere: an edit to push
            laptop = self.laptop(who)
            self.add_person(laptop, laptop.territories[0])
        skip %= -(-len(laptop.outbox()) // PUSH_BATCH)  # one of its batches
        batches: list[list[str]] = []
        timers: list[threading.Timer] = []

        def on_request(request: httpx.Request) -> None:
            if request.url.path.endswith("/push"):
                batches.append(pushed_ids(request))
                if len(batches) == skip + 1:
                    timers.append(threading.Timer(delay_ms / 1000, self.server.kill))
                    timers[-1].start()

        laptop.plan.on_request = on_request
        try:
            self.sync_counted(laptop)
        finally:
            laptop.plan.on_request = None
            for timer in timers:
                timer.join()
            if timers:
                self.server.restart()
        if not timers:
            STATS["server-kills-not-reached"] += 1  # fewer batches than `skip` + 1
        else:
            STATS["server-kills"] += 1
            batch = set(batches[skip])
            committed = batch & set(self.server_results())
            waiting = {str(e["mutation_id"]) for e in laptop.outbox()}
            if committed & waiting:
                STATS["server-kills-reply-lost"] += 1  # committed, never acknowledged
            elif not committed:
                STATS["server-kills-before-commit"] += 1
            else:
                STATS["server-kills-after-reply"] += 1
        self.after_sync(laptop)

    # -- the administrator ------------------------------------------------------------------

    @rule(who=st.sampled_from((0, 1)))
    def toggle_territory(self, who: int) -> None:
        """A social worker loses Nord (and gains Sud), or gets Nord back."""
        self.step()
        STATS["scope-changes"] += 1
        self.away ^= {who}
        laptop = self.laptop(who)
        territories = ["sud"] if who in self.away else ["nord"]
        response = self.world.patch_agent(laptop.agent_id, territory_ids=territories)
        assert response.status_code == 200, response.text

    @rule(which=st.integers(0, 1000))
    def erase_person(self, which: int) -> None:
        self.step()
        person_id = self.person(-1 - which)
        if person_id is None:
            return
        response = self.world.client.post(
            f"{API_PREFIX}/admin/persons/{person_id}/erase",
            json={"reason": "demande-personne"},
            headers=self.world.admin.headers(),
        )
        if response.status_code == 200:
            self.erased.add(person_id)
            STATS["erasures"] += 1
        else:
            assert response.status_code == 404, response.text  # never reached the server

    @precondition(lambda self: not self.revoked)
    @rule(who=st.integers(0, 3))
    def revoke_device(self, who: int) -> None:
        self.step()
        self.revoked = True
        self.revoked_devices.add(self.laptop(who).ws.device_id)
        revoke_device(self.world, self.laptop(who).ws.device_id)

    # -- checks -----------------------------------------------------------------------------

    def server_results(self) -> dict[str, tuple[str, str | None, str]]:
        marks = ",".join(f"'{d}'" for d in sorted(self.devices))
        rows = self.world.server.sql(
            "SELECT mutation_id, status, reason, table_name FROM applied_mutations "
            f"WHERE device_id IN ({marks})"
        )
        return {str(r[0]): (str(r[1]), r[2], str(r[3])) for r in rows}

    def check_nothing_lost(self, laptop: Laptop) -> None:
        index = self.laptops.index(laptop)
        server = self.server_results()
        waiting = {str(e["mutation_id"]) for e in laptop.outbox()}
        rejected = {
            str(r["mutation_id"]) for r in laptop.ws.store.query("SELECT * FROM sync_rejections")
        }
        lost = (
            self.made[index]
            - waiting
            - rejected
            - set(server)
            - self.discarded
            - self.wiped_rejections
        )
        assert not lost, f"edits lost: {sorted(lost)}"

    def check_waiting_edits_shown(self, laptop: Laptop) -> None:
        """A pull never overwrites a field with an edit waiting: the desktop still shows the
        last value typed in every such field (cut pulls and kills included)."""
        for (table, row_id), pending in local.pending_rows(laptop.ws.store).items():
            row = laptop.row(table, row_id)
            if row is None:  # removed (left the agent's scope): the edit still waits
                continue
            for column, value in pending.values.items():
                if column in NOT_VALUES or column not in row:
                    continue
                assert canon(column, row[column]) == canon(column, value), (
                    f"{table} {row_id}.{column}: the desktop shows {row[column]!r}, "
                    f"its edit waiting says {value!r}"
                )

    def settle(self) -> None:
        for _round in range(SETTLE_ROUNDS):
            quiet = True
            for laptop in self.laptops:
                laptop.plan.clear()
                report = self.sync_once(laptop)
                if report is None or (
                    report.pushed or report.rejected or report.received or report.removed
                ):
                    quiet = False
            if quiet and all(not laptop.outbox() for laptop in self.laptops):
                return
        raise AssertionError(f"no quiet round after {SETTLE_ROUNDS} rounds of syncs")

    def teardown(self) -> None:
        try:
            if self.laptops:
                self.settle()
                self.check_guarantees()
                STATS["settled"] += 1
        finally:
            for laptop in self.laptops:
                laptop.close()
            for person_id in set(self.persons) - self.erased:
                self.world.client.post(
                    f"{API_PREFIX}/admin/persons/{person_id}/erase",
                    json={"reason": "demande-personne"},
                    headers=self.world.admin.headers(),
                )
            self.world.close()

    def check_guarantees(self) -> None:
        server = self.server_results()
        made = set().union(*self.made)
        # 1. Nothing lost: applied, conflict, or rejected with the reason shown to the agent.
        for index, laptop in enumerate(self.laptops):
            assert laptop.outbox() == [], "edits still waiting after settling"
            shown = {
                str(r["mutation_id"]): r
                for r in laptop.ws.store.query("SELECT * FROM sync_rejections")
            }
            for mutation_id in self.made[index] - self.discarded:
                if mutation_id in server and server[mutation_id][0] in ("applied", "conflict"):
                    assert mutation_id not in shown
                    continue
                if mutation_id in self.wiped_rejections:
                    assert server.get(mutation_id, ("rejected",))[0] == "rejected"
                    continue
                assert mutation_id in shown, f"edit {mutation_id} neither applied nor shown"
                assert shown[mutation_id]["reason"]
                if mutation_id in server:
                    # (the server replaces its copy when the person is erased: ERASED_REASON)
                    said = server[mutation_id][1]
                    assert said in (shown[mutation_id]["reason"], ERASED_REASON)
        # A wipe's edits never reached the server after the device was revoked (one whose
        # reply was lost before, the server killed or the reply cut, had: applied, and
        # counted as discarded by the device, which never heard of it).
        for mutation_id in self.discarded & set(server):
            ((received, revoked),) = self.world.server.sql(
                "SELECT a.received_at_ms, d.revoked_at_ms FROM applied_mutations a "
                "JOIN devices d ON d.device_id = a.device_id WHERE a.mutation_id = :m",
                m=mutation_id,
            )
            assert revoked is not None and received <= revoked, (
                f"applied after revocation: {mutation_id}"
            )
            STATS["wiped-edits-applied-before"] += 1
        self.check_merged_rows()
        # 2. Exactly once.
        audit_ids = {k for k, v in server.items() if v[2] == "audit_log"}
        invented = set(server) - made - audit_ids
        assert not invented, f"server holds edits no desktop made: {sorted(invented)}"
        for mutation_id in server:
            (row,) = self.world.server.sql(
                "SELECT count(*), min(seq), max(seq), count(DISTINCT created_at_ms) "
                "FROM change_log WHERE mutation_id = :m",
                m=mutation_id,
            )
            count, low, high, moments = row
            if count:
                assert moments == 1 and high - low + 1 == count, f"applied twice: {mutation_id}"
        applied_visits = {
            self.kinds[m][2]
            for m in made
            if self.kinds[m][:2] == ("visits", "insert") and server.get(m, ("",))[0] == "applied"
        }
        agents = ",".join(f"'{laptop.agent_id}'" for laptop in self.laptops)
        on_server = {
            str(r[0])
            for r in self.world.server.sql(f"SELECT id FROM visits WHERE agent_id IN ({agents})")
        }
        erased = {
            str(r[0])
            for r in self.world.server.sql(
                "SELECT row_id FROM erased_rows WHERE table_name = 'visits'"
            )
        }
        assert on_server == applied_visits - erased, "visits on the server != visits applied"
        # 3. Convergence.
        for laptop in self.laptops:
            problems = differences(laptop, self.world)
            assert not problems, f"{laptop.role} differs from the server: {problems[:5]}"
        # 4. Least data: nothing of an erased person anywhere (a rejected edit about her may
        # remain listed, by id and field names with its reason, without the values typed).
        tables = (
            "contacts",
            "visits",
            "consents",
            "register_enrolments",
            "register_events",
            "planned_contacts",
            "handouts_given",
            "conflicts",
            "outbox",
        )
        for laptop in self.laptops:
            held = json.dumps(
                [laptop.ws.store.query(f"SELECT * FROM {t}") for t in tables]
                + [laptop.ws.store.query("SELECT changed_fields FROM sync_rejections")],
                default=str,
            )
            for person_id in self.erased:
                assert person_id not in held, "an erased person is still on a desktop"
                for rejected in laptop.ws.store.query(
                    "SELECT * FROM sync_rejections WHERE row_id = ?", (person_id,)
                ):
                    assert rejected["values_removed"] == 1
        # 5. The dashboard's count tables (migration 0013, kept by triggers) equal a recount
        # of what each desktop holds, whatever the syncs, wipes, moves and erasures did.
        for laptop in self.laptops:
            assert_exact(laptop.ws, f"settling ({laptop.role})")
        STATS["edits-checked"] += len(made)

    def check_merged_rows(self) -> None:
        """Guarantee 1 on the rows merged field by field (contacts, planned contacts), from the
        server's change_log, whose entries are the whole row after each edit, in order.

        * An edit answered "applied" is in the row after it; a field of an edit answered
          "conflict" is in the row after it or in a conflict row of that edit.
        * A value that one device's edit put in a field and another device's edit replaced:
          the second edit's agent had that value on screen when typing (the desktop's row
          before the edit), or that edit left a conflict row with both values. Otherwise a
          concurrent edit was lost silently (as when an acknowledgement raised a row's
          version past changes the device never pulled: test_seen_versions.py).
        """
        marks = ",".join(f"'{d}'" for d in sorted(self.devices))
        answers = {
            str(r[0]): (str(r[1]), [str(c) for c in json.loads(r[2] or "[]")])
            for r in self.world.server.sql(
                "SELECT mutation_id, status, conflict_ids FROM applied_mutations "
                f"WHERE device_id IN ({marks})"
            )
        }
        rows = sorted({(t, r) for t, _op, r in self.kinds.values() if t in MERGED})
        kept: dict[str, tuple[str, str, str]] = {}  # conflict id → (field, edit's, server's)
        for table, row_id in rows:
            for conflict in self.world.server.sql(
                "SELECT id, field, local_value, remote_value FROM conflicts "
                "WHERE table_name = :t AND row_id = :r",
                t=table,
                r=row_id,
            ):
                column = str(conflict[1])
                kept[str(conflict[0])] = (
                    column,
                    canon(column, json.loads(conflict[2])),
                    canon(column, json.loads(conflict[3])),
                )

        def in_conflict(mutation: str, column: str, mine: str, theirs: str | None) -> bool:
            return any(
                kept.get(c, ("",))[0] == column
                and kept[c][1] == mine
                and (theirs is None or kept[c][2] == theirs)
                for c in answers.get(mutation, ("", []))[1]
            )

        edits: dict[tuple[str, str], list[str]] = {}
        for mutation_id, (table, op, row_id) in self.kinds.items():
            if op == "update" and mutation_id in answers:
                edits.setdefault((table, row_id), []).append(mutation_id)
        for table, row_id in rows:
            state: dict[str, Any] | None = None
            writer: dict[str, str | None] = {}  # column → the device whose edit put its value
            after: dict[str, dict[str, Any]] = {}  # edit → the row after it
            for text, device, mutation in self.world.server.sql(
                "SELECT fields, device_id, mutation_id FROM change_log "
                "WHERE table_name = :t AND row_id = :r AND op = 'upsert' ORDER BY seq",
                t=table,
                r=row_id,
            ):
                new: dict[str, Any] = json.loads(text)
                for column in sorted(new.keys() - NOT_VALUES):
                    if state is None:
                        writer[column] = device
                        continue
                    old_value, new_value = (
                        canon(column, state.get(column)),
                        canon(column, new[column]),
                    )
                    if old_value == new_value:
                        continue
                    by, writer[column] = writer.get(column), device
                    if by is None or device is None or by == device:
                        continue
                    STATS["overwrites"] += 1
                    saw = self.saw.get(str(mutation), {})
                    if column in saw and canon(column, saw[column]) == old_value:
                        STATS["overwrites-seen"] += 1
                        continue
                    assert in_conflict(str(mutation), column, new_value, old_value), (
                        f"{table} {row_id}.{column}: {old_value} (device {by}) replaced by "
                        f"{new_value} (device {device}, edit {mutation}, its agent saw "
                        f"{saw.get(column, '?')!r}) without a conflict row"
                    )
                    STATS["overwrites-in-conflict"] += 1
                state = new
                if mutation is not None:
                    after[str(mutation)] = new
            for mutation_id in edits.get((table, row_id), []):
                if mutation_id not in after:  # nothing changed (the same values, or all lost)
                    continue
                status = answers[mutation_id][0]
                for column, value in self.values[mutation_id].items():
                    if column in NOT_VALUES:
                        continue
                    mine = canon(column, value)
                    if canon(column, after[mutation_id].get(column)) == mine:
                        continue
                    assert status == "conflict" and in_conflict(mutation_id, column, mine, None), (
                        f"edit {mutation_id} answered {status}: {table} {row_id}.{column} is "
                        f"{after[mutation_id].get(column)!r} after it, not {value!r}"
                    )
                STATS["merged-edits-checked"] += 1


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stateful_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server of its own per backend (this test kills it); PostgreSQL with its durable
    settings (fsync, synchronous_commit and full_page_writes on, checked)."""
    backend = str(request.param)
    tmp = tmp_path_factory.mktemp(f"stateful-{backend}")
    cluster: PostgresCluster | None = None
    try:
        if backend == "postgresql":
            cluster = PostgresCluster(durable=True)
            cluster.start()
            assert {name: cluster.setting(name) for name in cluster.DURABLE} == dict.fromkeys(
                cluster.DURABLE, "on"
            )
            url = cluster.new_database()
        else:
            url = f"sqlite:///{tmp / 'havre-server.db'}"
        # Each write waits 0–COMMIT_DELAY_MS between its change-log rows and its commit (a
        # test-only setting, havre_server/changelog.py): a kill mid-push lands more often in
        # an open transaction.
        process = make_server(backend, url, tmp, env={DELAY_ENV: str(COMMIT_DELAY_MS)})
        with started(process, "--min-client-version", "0.1.0"):
            yield process
    finally:
        if cluster is not None:
            cluster.stop()


@pytest.mark.slow
@pytest.mark.timeout(6 * 3600 if LONG_RUN else 1800)  # room to shrink a failure
def test_sync_guarantees_hold_under_random_edits_syncs_faults_and_kills(
    stateful_server: ServerProcess, tmp_path: Path
) -> None:
    SyncMachine.server = stateful_server
    SyncMachine.base = tmp_path
    SyncMachine.examples = 0
    STATS.clear()
    started_at = time.monotonic()
    machine = seed(SEED)(SyncMachine)
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        elapsed = time.monotonic() - started_at
        first = (
            "steps",
            "client-kills",
            "server-kills",
            "pulls-interrupted",
            "full-downloads-interrupted",
            "conflicts",
        )
        summary = " ".join(
            [f"{k}={STATS[k]}" for k in first]
            + [f"{k}={v}" for k, v in sorted(STATS.items()) if k not in first]
        )
        print(
            f"\nsync stateful [{stateful_server.backend}]: seed={SEED} examples={EXAMPLES} "
            f"max_steps={STEPS} elapsed={elapsed:.0f}s {summary}"
        )
    assert STATS["settled"] == STATS["examples"]
