"""Random scripts of edits, syncs and faults over several desktops, then every guarantee of sync.md.

A hypothesis state machine drives four real desktop profiles (two social workers and a reception
agent of Le Havre Nord, a coordinator of Nord and Sud) against the real server process, through
the fault-injecting transport. Steps: create and edit persons (phone, address, territory),
log and correct visits, plan follow-ups, record consents, delete persons, resolve conflicts,
sync under random faults (dropped or cut requests and replies, duplicates, reordering, delays),
restart a desktop (crash), and as the administrator: take a territory away from an agent and give
it back, erase a person (RGPD), revoke a device (wipe, then a new sign-in).

After the script, everything settles (every desktop syncs with no fault until a whole round
changes nothing) and the guarantees are checked:

1. nothing lost: every edit made on a desktop was applied, or applied with a conflict, or
   rejected with a reason the agent sees (the same reason as the server's); edits discarded by
   a wipe are exactly the ones the wipe reported;
2. exactly once: the server holds no edit these desktops did not make, each visit once, and each
   edit's change-log entries come from one single application;
3. convergence: every desktop holds exactly the server's view of what its agent may see;
4. least data: no erased person's data is left anywhere on any desktop (rows, edits waiting,
   rejected edits); revoked rows are covered by 3.

Size: ``HAVRE_SYNC_EXAMPLES`` examples of at most ``HAVRE_SYNC_STEPS`` steps (defaults: 10 × 15;
with HAVRE_LONG_RUN=1, 80 × 40), seed ``HAVRE_SYNC_SEED`` (default fixed, so CI is
reproducible). The summary line (seed, steps, syncs, faults, conflicts, rejections, wipes…) is
printed (``-s`` shows it).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

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

from havre_common.protocol import API_PREFIX
from havre_desktop.core import contacts, visits
from havre_desktop.core.errors import HavreError
from havre_desktop.sync.engine import SyncReport
from havre_desktop.sync.errors import DeviceRevokedError, ServerUnreachableError
from tests.helpers import person_values
from tests.server.support import ServerProcess, World
from tests.sync.scenario_helpers import delete_row, revoke_device, visit_values
from tests.sync.support import Laptop, differences

LONG_RUN = os.environ.get("HAVRE_LONG_RUN") == "1"
EXAMPLES = int(os.environ.get("HAVRE_SYNC_EXAMPLES") or (80 if LONG_RUN else 10))
STEPS = int(os.environ.get("HAVRE_SYNC_STEPS") or (40 if LONG_RUN else 15))
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
FAULT_KINDS = (
    "drop_request",
    "cut_request",
    "drop_reply",
    "cut_reply",
    "duplicate",
    "reorder",
    "delay",
)
faults_strategy = st.lists(
    st.tuples(
        st.sampled_from(("meta", "push", "pull")),
        st.sampled_from(FAULT_KINDS),
        st.integers(0, 2),
    ),
    max_size=3,
)

STATS: Counter[str] = Counter()


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
        self.discarded: set[str] = set()  # lost in a wipe (reported)
        self.wiped_rejections: set[str] = set()  # rejected, shown, then wiped with the rest
        self.devices: set[str] = set()
        self.revoked = False
        self.moved_away = False

    # -- set-up ----------------------------------------------------------------------------

    @initialize()
    def desktops(self) -> None:
        for index, (role, territories) in enumerate(ROLES):
            login = self.world.create_agent(role, list(territories))
            laptop = Laptop(self.root / f"laptop-{index}", role, list(territories))
            laptop.sign_in(self.world, login)
            laptop.engine.push_batch = 3
            laptop.engine.pull_limit = 60
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

    def person(self, index: int) -> str | None:
        if not self.persons:
            return None
        return self.persons[index % len(self.persons)]

    def record(self, laptop: Laptop) -> None:
        index = self.laptops.index(laptop)
        for entry in laptop.outbox():
            mutation_id = str(entry["mutation_id"])
            self.made[index].add(mutation_id)
            self.kinds[mutation_id] = (entry["table_name"], entry["op"], entry["row_id"])

    def held(self, laptop: Laptop, person_id: str | None) -> bool:
        if person_id is None:
            return False
        row = laptop.row("contacts", person_id)
        return row is not None and not row["deleted"]

    def edit(self, laptop: Laptop, action: Any) -> None:
        """Run a user action; refusals of the core (validation, permissions) are normal."""
        try:
            action()
        except HavreError:
            STATS["refused-locally"] += 1
        else:
            STATS["edits"] += 1
        self.record(laptop)

    # -- edits -----------------------------------------------------------------------------

    @rule(who=st.integers(0, 3), sud=st.booleans())
    def create_person(self, who: int, sud: bool) -> None:
        self.step()
        laptop = self.laptop(who)
        territory = "sud" if sud and "sud" in laptop.territories else laptop.territories[0]
        values = person_values(territory_id=territory)
        if laptop.role == "accueil":
            values.pop("lives_alone")
            values.pop("mobility")

        def create() -> None:
            self.persons.append(str(contacts.create_person(laptop.ws, values)["id"]))

        self.edit(laptop, create)

    @rule(
        who=st.integers(0, 3),
        which=st.integers(0, 1000),
        phone=st.sampled_from(PHONES),
        city=st.sampled_from(CITIES),
        address=st.sampled_from(ADDRESSES),
        fields=st.sets(st.sampled_from(("phone_1", "city", "address_line")), min_size=1),
    )
    def edit_person(
        self, who: int, which: int, phone: str | None, city: str, address: str, fields: set[str]
    ) -> None:
        self.step()
        laptop, person_id = self.laptop(who), self.person(which)
        if not self.held(laptop, person_id):
            return
        assert person_id
        values = {"phone_1": phone, "city": city, "address_line": address}
        changes = {k: v for k, v in values.items() if k in fields}
        self.edit(laptop, lambda: contacts.update(laptop.ws, person_id, changes))

    @rule(
        which=st.integers(0, 1000),
        pair=st.sampled_from(((0, 1), (1, 0), (0, 3), (3, 1), (2, 0))),
        field=st.sampled_from(("phone_1", "city")),
        first=st.integers(0, 3),
        second=st.integers(0, 3),
    )
    def concurrent_edits(
        self, which: int, pair: tuple[int, int], field: str, first: int, second: int
    ) -> None:
        """Two agents change the same field offline (journey 3): a conflict when values differ."""
        self.step()
        person_id = self.person(which)
        choices = PHONES[:3] if field == "phone_1" else CITIES
        for who, value in ((pair[0], choices[first % 3]), (pair[1], choices[second % 3])):
            laptop = self.laptop(who)
            if self.held(laptop, person_id):
                assert person_id
                edit = partial(contacts.update, laptop.ws, person_id, {field: value})
                self.edit(laptop, edit)

    @rule(which=st.integers(0, 1000))
    def move_person(self, which: int) -> None:
        """The coordinator moves a person between Nord and Sud (journey 5)."""
        self.step()
        laptop, person_id = self.laptop(3), self.person(which)
        if not self.held(laptop, person_id):
            return
        assert person_id
        row = laptop.row("contacts", person_id)
        assert row is not None
        target = "sud" if row["territory_id"] == "nord" else "nord"
        self.edit(laptop, lambda: contacts.update(laptop.ws, person_id, {"territory_id": target}))

    @rule(who=st.sampled_from((0, 1, 3)), which=st.integers(0, 1000), follow=st.booleans())
    def log_visit(self, who: int, which: int, follow: bool) -> None:
        self.step()
        laptop, person_id = self.laptop(who), self.person(which)
        if not self.held(laptop, person_id):
            return
        assert person_id
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

    @rule(who=st.sampled_from((0, 1, 3)), which=st.integers(0, 1000), colleague=st.booleans())
    def plan_contact(self, who: int, which: int, colleague: bool) -> None:
        self.step()
        laptop, person_id = self.laptop(who), self.person(which)
        if not self.held(laptop, person_id):
            return
        assert person_id
        values: dict[str, Any] = {"due_on": "2030-02-01", "kind": "appel"}
        if colleague:
            values["agent_id"] = self.laptop(1 if who == 0 else 0).agent_id
        self.edit(laptop, lambda: visits.plan_contact(laptop.ws, person_id, values))

    @rule(who=st.integers(0, 3), which=st.integers(0, 1000), registre=st.booleans())
    def record_consent(self, who: int, which: int, registre: bool) -> None:
        self.step()
        laptop, person_id = self.laptop(who), self.person(which)
        if not self.held(laptop, person_id):
            return
        assert person_id
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
        laptop, person_id = self.laptop(who), self.person(which)
        if not self.held(laptop, person_id):
            return
        assert person_id
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

    # -- sync, faults, crashes --------------------------------------------------------------

    def run_sync(self, who: int, faults: list[tuple[str, str, int]], restart: bool) -> None:
        laptop = self.laptop(who)
        if restart:
            STATS["restarts"] += 1
            laptop.reopen()  # the application crashed or was closed since
        for endpoint, fault, skip in faults:
            laptop.plan.add(endpoint, fault, skip=skip, delay_s=0.01)
        try:
            self.sync_once(laptop)
        except ServerUnreachableError:
            STATS["syncs-interrupted"] += 1
        STATS["faults"] += len(laptop.plan.applied)
        laptop.plan.clear()
        laptop.plan.applied.clear()
        self.check_nothing_lost(laptop)

    # Three rules run a sync, so that syncs are about as frequent as edits.
    @rule(who=st.integers(0, 3), faults=faults_strategy, restart=st.booleans())
    def sync(self, who: int, faults: list[tuple[str, str, int]], restart: bool) -> None:
        self.step()
        self.run_sync(who, faults, restart)

    @rule(who=st.integers(0, 3), faults=faults_strategy)
    def sync_with_faults(self, who: int, faults: list[tuple[str, str, int]]) -> None:
        self.step()
        self.run_sync(who, faults, False)

    @rule(who=st.integers(0, 3))
    def sync_cleanly(self, who: int) -> None:
        self.step()
        self.run_sync(who, [], False)

    def sync_once(self, laptop: Laptop) -> SyncReport | None:
        """One sync; a revoked device wipes itself (checked), then signs in again."""
        waiting = {str(e["mutation_id"]) for e in laptop.outbox()}
        shown = {
            str(r["mutation_id"])
            for r in laptop.ws.store.query("SELECT mutation_id FROM sync_rejections")
        }
        try:
            report = laptop.sync()
        except DeviceRevokedError as exc:
            assert exc.discarded == len(waiting)
            self.discarded |= waiting
            self.wiped_rejections |= shown  # a wipe keeps nothing, rejected edits included
            STATS["wipes"] += 1
            STATS["wiped-edits"] += exc.discarded
            assert laptop.outbox() == [] and laptop.count("contacts") == 0
            laptop.sign_in(self.world, self.logins[self.laptops.index(laptop)])
            self.devices.add(laptop.ws.device_id)
            return None
        STATS["syncs"] += 1
        STATS["pushed"] += report.pushed
        STATS["conflicts"] += report.conflicts
        STATS["rejected"] += report.rejected
        STATS["duplicates"] += report.duplicates
        STATS["full-downloads"] += int(report.full_download)
        return report

    # -- the administrator ------------------------------------------------------------------

    @rule()
    def toggle_territory(self) -> None:
        """Social worker 2 loses Nord (and gains Sud), or gets Nord back."""
        self.step()
        STATS["scope-changes"] += 1
        self.moved_away = not self.moved_away
        laptop = self.laptop(1)
        territories = ["sud"] if self.moved_away else ["nord"]
        response = self.world.patch_agent(laptop.agent_id, territory_ids=territories)
        assert response.status_code == 200, response.text

    @rule(which=st.integers(0, 1000))
    def erase_person(self, which: int) -> None:
        self.step()
        person_id = self.person(which)
        if person_id is None or person_id in self.erased:
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
                    assert server[mutation_id][1] == shown[mutation_id]["reason"]
            assert self.discarded.isdisjoint(server)  # a wipe's edits never reached the server
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
        STATS["edits-checked"] += len(made)


@pytest.mark.slow
def test_sync_guarantees_hold_under_random_edits_syncs_and_faults(
    sync_server: ServerProcess, tmp_path: Path
) -> None:
    SyncMachine.server = sync_server
    SyncMachine.base = tmp_path
    SyncMachine.examples = 0
    STATS.clear()
    started = time.monotonic()
    machine = seed(SEED)(SyncMachine)
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
    elapsed = time.monotonic() - started
    summary = " ".join(f"{k}={v}" for k, v in sorted(STATS.items()))
    print(
        f"\nsync stateful: seed={SEED} examples={EXAMPLES} max_steps={STEPS} "
        f"elapsed={elapsed:.0f}s {summary}"
    )
    assert STATS["settled"] == STATS["examples"]
