"""The register right, end to end: a real havre-server on loopback and real SQLCipher
profiles. An agent without the right never receives register data; the right granted
brings it at the next sync, the right removed wipes it from the device; an enrolment made
offline by an agent who lost the right meanwhile is refused, shown, and not kept."""

from __future__ import annotations

import json
import uuid

from havre_common.protocol import Change, PullReply
from havre_desktop.core import agents, contacts, register
from havre_desktop.sync.apply import PageApplier
from tests.server.support import World
from tests.sync.conftest import MakeLaptop
from tests.sync.scenario_helpers import new_person
from tests.sync.support import Laptop, differences


def _register_rows(laptop: Laptop) -> int:
    return int(
        laptop.ws.store.scalar(
            "SELECT (SELECT count(*) FROM register_enrolments) "
            "+ (SELECT count(*) FROM register_events) "
            "+ (SELECT count(*) FROM consents WHERE purpose = 'registre')"
        )
    )


def _enrol(laptop: Laptop, person_id: str) -> dict[str, object]:
    return register.enrol(
        laptop.ws,
        person_id,
        {
            "requested_on": "02/10/2026",
            "requested_by": "personne",
            "consent_given": True,
            "notice_how": "remise",
        },
    )


def test_the_register_reaches_only_agents_with_the_right(laptops: MakeLaptop, world: World) -> None:
    coordinator = laptops("coordinateur", ("sud",))  # has the right by default
    worker = laptops(territories=("sud",))
    desk = laptops("accueil", ("sud",))
    assert agents.has_register_right(coordinator.ws)
    person_id = new_person(coordinator, territory_id="sud")
    enrolment = _enrol(coordinator, person_id)
    assert coordinator.sync().rejected == 0
    assert world.server.sql(
        "SELECT status FROM register_enrolments WHERE id = :i", i=enrolment["id"]
    ) == [("inscrite",)]
    for laptop in (worker, desk):
        laptop.sync()
        assert laptop.has("contacts", person_id)
        assert not agents.has_register_right(laptop.ws)
        assert _register_rows(laptop) == 0
        assert contacts.fiche(laptop.ws, person_id)["register"] is None
        assert differences(laptop, world) == []
    # What the server sends them holds nothing of the register either.
    raw, _ = world.sign_in(worker.login or "").pull_all()
    tables = {change.get("table_name") for change in raw}
    assert not tables & {"register_enrolments", "register_events"}

    # Granted (administrator, audited): the next sync brings the register.
    response = world.patch_agent(worker.agent_id, register_right=True)
    assert response.status_code == 200 and response.json()["register_right"] is True
    report = worker.sync()
    assert report.full_download
    assert agents.has_register_right(worker.ws)
    assert worker.has("register_enrolments", str(enrolment["id"]))
    assert worker.ws.store.scalar("SELECT count(*) FROM register_events") == 3
    assert differences(worker, world) == []

    # Removed: the next sync wipes it from the device (SQLCipher file, read back).
    assert world.patch_agent(worker.agent_id, register_right=False).status_code == 200
    report = worker.sync()
    assert report.full_download
    assert not agents.has_register_right(worker.ws)
    assert _register_rows(worker) == 0
    assert worker.has("contacts", person_id)  # the person stays: she is in his territory
    assert differences(worker, world) == []
    audited = world.server.sql(
        "SELECT detail FROM audit_log WHERE event = 'droit-registre' AND entity_id = :a "
        "ORDER BY chain_seq",
        a=worker.agent_id,
    )
    assert [json.loads(row[0]) for row in audited] == [
        {"register_right": True},
        {"register_right": False},
    ]


def test_an_enrolment_made_offline_after_the_right_was_removed_is_refused(
    laptops: MakeLaptop, world: World
) -> None:
    worker = laptops(territories=("est",), register_right=True)
    person_id = new_person(worker, territory_id="est")
    worker.sync()
    # Offline, she enrols a person; meanwhile the coordinator removes her right.
    enrolment = _enrol(worker, person_id)
    assert world.patch_agent(worker.agent_id, register_right=False).status_code == 200
    report = worker.sync()
    assert report.rejected >= 1
    reasons = {r.table_name: r.reason for r in worker.engine.status().rejected}
    assert "accès au registre" in reasons["register_enrolments"]
    assert not world.server.sql(
        "SELECT id FROM register_enrolments WHERE id = :i", i=enrolment["id"]
    )
    assert _register_rows(worker) == 0
    assert differences(worker, world) == []


def test_a_device_without_the_right_keeps_no_register_row_a_server_sends(
    laptops: MakeLaptop, world: World
) -> None:
    """Least data on the device too: a server (buggy or hostile) that sends the register to
    an agent without the right is not trusted; the rows are ignored."""
    worker = laptops(territories=("nord",))
    person_id = new_person(worker)
    worker.sync()
    cursor = worker.cursor()
    enrolment_id = str(uuid.uuid4())
    page = PullReply(
        changes=[
            Change(
                seq=int(cursor) + 1,
                table_name="register_enrolments",
                row_id=enrolment_id,
                op="upsert",
                fields={
                    "id": enrolment_id,
                    "person_id": person_id,
                    "status": "inscrite",
                    "requested_on": "2026-10-02",
                    "enrolled_on": "2026-10-02",
                    "basis": "65-plus",
                    "source": "saisie",
                    "requested_by": "personne",
                    "consent_given": 1,
                    "written_request": 0,
                    "help_at_home": 0,
                    "updated_at": "2026-10-02T10:00:00Z",
                },
                server_version=1,
            )
        ],
        next_cursor=str(int(cursor) + 1),
        has_more=False,
        phase="log",
        head_seq=int(cursor) + 1,
    )
    PageApplier(worker.ws).apply(page, cursor)
    assert not worker.has("register_enrolments", enrolment_id)
    assert _register_rows(worker) == 0
