"""Alert campaigns: building the call lists on the server, an agent's list, recording an outcome.

Targets (issue 14):

* the server builds the call lists of 5,000 registered persons for 20 agents
  (``havre_server.campaigns.start_campaign``: the eligible persons and their risk read in one
  query, split, written in bulk with their change-log entries) in <= 1 s, on SQLite, through
  the server's own function on a database made by ``havre-server init`` (the HTTP round trip
  adds a few milliseconds: informative measure ``campaign.start_http``);
* an agent's list of 300 persons read by ``havre_desktop.core.campaign.call_list`` (identity,
  phones, address, emergency contacts, attempts so far, next step) on an encrypted profile
  in <= 0.3 s (the UI engineer may add the painted measure);
* recording an outcome (``record_outcome``: the event, its outbox entry, the visit planned
  when needed, one transaction) in <= 20 ms (median).

Usage: ``python benchmarks/campaign.py [--quick] [--check]`` (see benchmarks/common.py).
Everything lives in a temporary folder removed at the end.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.common import emit, finish, median_ns, ms, parser, progress, time_ns
from havre_common.protocol import AgentCreate, CampaignStart
from havre_common.reference import load_reference
from havre_desktop.core import campaign
from havre_desktop.core.clock import FixedClock, iso_utc
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.workspace import Workspace, new_id
from havre_server import admin, campaigns
from havre_server.changelog import Ordering
from havre_server.db import make_engine
from tests.helpers import MemoryKeyring, new_workspace
from tests.server.campaign_seed import TERRITORIES, seed_register
from tests.server.support import ADMIN_PASSWORD, API_PREFIX, make_server, running_cluster, started

NOW = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)


def bench_server(
    folder: Path, persons: int, agents: int, repeat: int, url: str | None = None
) -> None:
    """The lists built by the server's own function; ``url``: a PostgreSQL database
    (informative measure, names prefixed ``campaign.pg``), else a SQLite file."""
    postgres = url is not None
    url = url or f"sqlite:///{folder / 'havre-server.db'}"
    server = make_server("postgresql" if postgres else "sqlite", url, folder)
    engine = make_engine(url)
    ref = load_reference()
    agent_ids = []
    for i in range(agents):
        out = admin.create_agent(
            engine,
            None,
            AgentCreate(
                login=f"agent-{i:02d}",
                password="mot de passe de mesure 2026",
                display_name=f"Agent {i:02d} (fictif)",
                role="travailleur-social",
                territory_ids=[TERRITORIES[i % 5], TERRITORIES[(i + 2) % 5]],
                register_right=True,
            ),
            ref,
            Ordering(),
        )
        agent_ids.append(out.id)
    progress(f"seeding {persons} registered persons")
    seed_register(engine, persons)
    request = CampaignStart(
        kind="canicule",
        level="orange",
        title="Canicule (mesure)",
        territory_ids=list(TERRITORIES),
        agent_ids=agent_ids,
        starts_on=datetime.now(UTC).date().isoformat(),
    )
    samples, cpu = [], []
    for _ in range(repeat):
        before = time.process_time()
        samples.append(
            time_ns(lambda: campaigns.start_campaign(engine, None, request, ref, Ordering()))
        )
        cpu.append(time.process_time() - before)
    if postgres:
        emit(
            "campaign.pg_start_lists",
            ms(statistics.median(samples)) / 1000,
            "s",
            notes=f"{persons} persons, {agents} agents, PostgreSQL, median of {repeat}",
        )
        engine.dispose()
        return
    emit(
        "campaign.start_lists_cpu",
        statistics.median(cpu),
        "s",
        notes="CPU time of the same calls (the wall time also waits for the disk and for "
        "other processes on a shared machine)",
    )
    emit(
        "campaign.start_lists",
        ms(statistics.median(samples)) / 1000,
        "s",
        "<= 1",
        notes=f"{persons} persons, {agents} agents, SQLite, median of {repeat}",
    )
    # The same through HTTP, as a coordinator's laptop asks for it (informative).
    with started(server, "--min-client-version", "0.1.0"):
        client = httpx.Client(base_url=server.base_url, timeout=120, verify=server.verify())
        reply = client.post(
            f"{API_PREFIX}/session",
            json={
                "login": "admin",
                "password": ADMIN_PASSWORD,
                "device_id": uuid.uuid4().hex,
                "device_label": "poste de mesure",
                "client_version": "0.1.0",
            },
        )
        token = reply.json()["token"]
        with engine.begin() as conn:
            from sqlalchemy import update

            from havre_server import schema

            conn.execute(update(schema.agents).values(register_right=1))
        start = time.perf_counter()
        answer = client.post(
            f"{API_PREFIX}/campaigns",
            content=request.model_dump_json(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        elapsed = time.perf_counter() - start
        assert answer.status_code == 201, answer.text
        emit("campaign.start_http", elapsed, "s", notes="one POST /api/v1/campaigns")
        client.close()
    engine.dispose()


def _profile(folder: Path, persons: int) -> Workspace:
    ws, _manager, _recovery = new_workspace(
        folder / "profil",
        MemoryKeyring(),
        role="travailleur-social",
        territories=list(TERRITORIES),
        clock=FixedClock(NOW),
    )
    with ws.store.transaction() as conn:
        conn.execute("UPDATE agents SET register_right = 1")
    seed_demo(ws, DemoSize(persons=persons, organisations=5, visits=persons * 2), with_owner=False)
    return ws


def bench_desktop(folder: Path, listed: int, recorded: int, repeat: int) -> None:
    progress(f"desktop profile with a list of {listed}")
    ws = _profile(folder, listed + recorded + 50)
    rng = random.Random(7)
    people = [
        str(r["id"])
        for r in ws.store.query("SELECT id FROM contacts WHERE kind = 'person' ORDER BY id")
    ]
    campaign_id = new_id()
    stamp = ws.clock.now_iso()
    with ws.store.transaction():
        ws.write_row(
            "alert_campaigns",
            {
                "id": campaign_id,
                "kind": "canicule",
                "level": "rouge",
                "title": "Canicule (mesure)",
                "territory_ids": list(TERRITORIES),
                "starts_on": NOW.date().isoformat(),
                "updated_at": stamp,
            },
            outbox=False,
        )
        calls = []
        for rank, person in enumerate(people[: listed + recorded], start=1):
            call_id = new_id()
            calls.append(call_id)
            ws.write_row(
                "campaign_calls",
                {
                    "id": call_id,
                    "campaign_id": campaign_id,
                    "person_id": person,
                    "agent_id": ws.agent_id if rank <= listed else new_id(),
                    "rank": rank,
                    "risk_score": 200 - rank % 200,
                    "risk_reasons": ["vit-seul", "etage-sans-ascenseur"],
                    "assigned_at": stamp,
                    "updated_at": stamp,
                },
                outbox=False,
            )
            # Half the list has been called once or twice already (the list mid-morning).
            for attempt in range(rng.choice((0, 0, 1, 2))):
                ws.write_row(
                    "campaign_outcomes",
                    {
                        "campaign_id": campaign_id,
                        "call_id": call_id,
                        "person_id": person,
                        "agent_id": ws.agent_id,
                        "called_whom": "personne",
                        "outcome": "pas-de-reponse",
                        "called_at": iso_utc(NOW - timedelta(hours=3 - attempt)),
                        "created_at": stamp,
                    },
                    outbox=False,
                )
    rows = campaign.call_list(ws, campaign_id)
    assert len(rows) == listed, len(rows)
    emit(
        "campaign.call_list",
        ms(median_ns(lambda: campaign.call_list(ws, campaign_id), repeat)) / 1000,
        "s",
        "<= 0.3",
        notes=f"{listed} persons on the list, encrypted profile, median of {repeat}",
    )
    # Recording: each on a call of its own (the next step and a planned visit are computed).
    own = [r.call_id for r in rows][:recorded]
    outcomes = ("joint-bien", "pas-de-reponse", "besoin-aide")
    samples = [
        time_ns(lambda c=call, o=outcomes[i % 3]: campaign.record_outcome(ws, c, o))
        for i, call in enumerate(own)
    ]
    emit(
        "campaign.record_outcome",
        ms(statistics.median(samples)),
        "ms",
        "<= 20",
        notes=f"median of {len(samples)} outcomes (event, outbox, visit when needed)",
    )
    ws.store.close()


def main() -> int:
    cli = parser(__doc__ or "")
    cli.add_argument(
        "--postgres", action="store_true", help="also build the lists on PostgreSQL (informative)"
    )
    args = cli.parse_args()
    if args.quick:
        persons, agents, listed, recorded, repeat = 500, 5, 60, 20, 3
    else:
        persons, agents, listed, recorded, repeat = 5000, 20, 300, 60, 5
    with tempfile.TemporaryDirectory(prefix="havre-bench-campagne-") as tmp:
        folder = Path(tmp)
        (folder / "serveur").mkdir()
        bench_server(folder / "serveur", persons, agents, repeat)
        bench_desktop(folder, listed, recorded, repeat * 2)
        if args.postgres:
            (folder / "serveur-pg").mkdir()
            with running_cluster() as cluster:
                bench_server(folder / "serveur-pg", persons, agents, repeat, cluster.new_database())
    return finish(args)


if __name__ == "__main__":
    sys.exit(main())
