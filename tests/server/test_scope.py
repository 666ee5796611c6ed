"""Pull scope per role (the matrix of sync.md), scope changes, journey 5, erasure."""

from __future__ import annotations

import json
import uuid

from havre_server.scope import RECEPTION_CONTACT_FIELDS
from tests.server.support import (
    Replica,
    World,
    new_person,
    new_visit,
    now_ms,
    visit_fields,
)


def _enrol(device, person_id: str) -> str:  # type: ignore[no-untyped-def]
    enrolment_id = str(uuid.uuid4())
    result = device.push(
        device.mutation(
            "register_enrolments",
            enrolment_id,
            "insert",
            {
                "id": enrolment_id,
                "person_id": person_id,
                "requested_on": "2026-06-01",
                "enrolled_on": "2026-06-01",
                "basis": "handicap",
                "requested_by": "tiers",
                "requester_name": "Paul Lefèvre",
                "requester_relation": "fils",
                "written_request": True,
                "consent_given": True,
                "consent_date": "2026-06-01",
                "updated_at": "2026-06-01T10:00:00Z",
            },
        )
    )[0]
    assert result["status"] == "applied", result
    return enrolment_id


def test_social_worker_sees_persons_and_visits_of_their_territory_only(world: World) -> None:
    nord = world.agent("travailleur-social", ["nord"])
    sud = world.agent("travailleur-social", ["sud"])
    p_nord = new_person(nord, "nord")
    p_sud = new_person(sud, "sud")
    v_nord = new_visit(nord, p_nord)
    v_sud = new_visit(sud, p_sud)
    replica = Replica(nord).sync()
    assert replica.has("contacts", p_nord) and replica.has("visits", v_nord)
    assert not replica.has("contacts", p_sud) and not replica.has("visits", v_sud)
    # Colleagues' visits are shared, for continuity.
    colleague = Replica(world.agent("travailleur-social", ["nord"])).sync()
    assert colleague.has("visits", v_nord)
    assert colleague.get("visits", v_nord)["notes"].startswith("Mme se sent seule")


def test_reception_gets_identity_contact_and_register_status_only(world: World) -> None:
    worker = world.agent("travailleur-social", ["est"], register_right=True)
    person_id = new_person(worker, "est")
    visit_id = new_visit(worker, person_id)
    enrolment_id = _enrol(worker, person_id)
    # A reception agent without the register right gets no register data at all.
    plain = Replica(world.agent("accueil", ["est"])).sync()
    assert plain.has("contacts", person_id) and not plain.has("register_enrolments", enrolment_id)
    # With it (named staff), the register status only.
    desk = Replica(world.agent("accueil", ["est"], register_right=True)).sync()
    contact = desk.get("contacts", person_id)
    assert set(contact) <= RECEPTION_CONTACT_FIELDS
    assert contact["family_name"] == "Lefèvre" and contact["phone_1"] == "02 61 91 12 34"
    for hidden in ("access_notes", "mobility", "lives_alone", "emergency_contacts"):
        assert hidden not in contact
    assert not desk.has("visits", visit_id)
    assert desk.ids("visits") == set()
    enrolment = desk.get("register_enrolments", enrolment_id)
    assert "basis" not in enrolment and "requester_name" not in enrolment
    assert enrolment["enrolled_on"] == "2026-06-01"
    # Also in the log phase: a later edit of a hidden field reaches the desk without it.
    worker.push(worker.mutation("contacts", person_id, "update", {"access_notes": "code 1234"}, 1))
    desk.sync()
    assert "access_notes" not in desk.get("contacts", person_id)
    raw, _ = world.sign_in(desk.device.login).pull_all()
    assert "code 1234" not in json.dumps(raw)


def test_planned_contacts_go_to_the_assigned_agent_and_coordinators(world: World) -> None:
    worker = world.agent("travailleur-social", ["centre-est"])
    colleague = world.agent("travailleur-social", ["centre-est"])
    coordinator = world.agent("coordinateur", ["centre-est"])
    person_id = new_person(worker, "centre-est")
    planned_id = str(uuid.uuid4())
    result = worker.push(
        worker.mutation(
            "planned_contacts",
            planned_id,
            "insert",
            {
                "id": planned_id,
                "person_id": person_id,
                "agent_id": worker.agent_id,
                "due_on": "2026-12-01",
                "kind": "visite",
                "reason": "Suivi",
                "updated_at": "2026-11-25T10:00:00Z",
            },
        )
    )[0]
    assert result["status"] == "applied"
    assert Replica(worker).sync().has("planned_contacts", planned_id)
    assert Replica(coordinator).sync().has("planned_contacts", planned_id)
    colleague_view = Replica(colleague).sync()
    assert not colleague_view.has("planned_contacts", planned_id)
    # Reassigned to the colleague: the colleague receives it, the first worker loses it.
    worker_view = Replica(worker).sync()
    reassign = coordinator.push(
        coordinator.mutation(
            "planned_contacts", planned_id, "update", {"agent_id": colleague.agent_id}, 1
        )
    )[0]
    assert reassign["status"] == "applied"
    assert colleague_view.sync().has("planned_contacts", planned_id)
    assert not worker_view.sync().has("planned_contacts", planned_id)


def test_directory_catalogue_and_reference_data(world: World) -> None:
    a = world.agent("travailleur-social", ["centre-ouest"])
    b = world.agent("accueil", ["centre-ouest", "est"])
    c = world.agent("travailleur-social", ["sud"])
    view = Replica(a).sync()
    assert view.has("agents", b.agent_id) and view.has("agents", a.agent_id)
    assert not view.has("agents", c.agent_id)
    assert "server_account" not in view.get("agents", b.agent_id)
    assert view.get("agents", a.agent_id)["server_account"] == a.login
    assert len(view.ids("actions")) >= 79 and len(view.ids("facilities")) >= 45
    assert view.ids("ref_territories") == {"nord", "centre-ouest", "centre-est", "est", "sud"}
    assert "roles:coordinateur" in view.ids("ref_items")


def test_agent_gaining_and_losing_a_territory_resyncs_their_scope(world: World) -> None:
    worker = world.agent("travailleur-social", ["nord"])
    helper = world.agent("travailleur-social", ["sud"])
    p_nord = new_person(worker, "nord")
    p_sud = new_person(helper, "sud")
    v_sud = new_visit(helper, p_sud)
    view = Replica(worker).sync()
    assert view.has("contacts", p_nord) and not view.has("contacts", p_sud)
    assert world.patch_agent(worker.agent_id, territory_ids=["nord", "sud"]).status_code == 200
    view.sync()
    assert view.resets == 1
    assert view.has("contacts", p_sud) and view.has("visits", v_sud)
    assert world.patch_agent(worker.agent_id, territory_ids=["sud"]).status_code == 200
    view.sync()
    assert view.resets == 2
    assert not view.has("contacts", p_nord) and view.has("contacts", p_sud)
    # Their colleagues of the territory they left no longer see them in the directory.
    nord_colleague = Replica(world.agent("accueil", ["nord"])).sync()
    assert not nord_colleague.has("agents", worker.agent_id)


def test_journey_5_person_moves_from_sud_to_nord(world: World) -> None:
    """Mme moves from Le Havre Sud to Le Havre Nord (journey 5)."""
    sud = world.agent("travailleur-social", ["sud"])
    sud_desk = world.agent("accueil", ["sud"])
    nord = world.agent("travailleur-social", ["nord"])
    nord_coordinator = world.agent("coordinateur", ["nord"])
    person_id = new_person(sud, "sud")
    old_visit = new_visit(sud, person_id)
    sud_view, desk_view = Replica(sud).sync(), Replica(sud_desk).sync()
    nord_view, coord_view = Replica(nord).sync(), Replica(nord_coordinator).sync()
    assert sud_view.has("contacts", person_id) and sud_view.has("visits", old_visit)
    assert desk_view.has("contacts", person_id)
    assert not nord_view.has("contacts", person_id)

    # While offline, the sud worker logs a visit (before the move is known to the server).
    offline_visit = str(uuid.uuid4())
    offline = sud.mutation(
        "visits", offline_visit, "insert", visit_fields(person_id, sud.agent_id), hlc=sud.hlc()
    )
    # Another colleague records the move (new address in Le Havre Nord).
    mover = world.agent("travailleur-social", ["sud"])
    move = mover.mutation(
        "contacts",
        person_id,
        "update",
        {"territory_id": "nord", "address_line": "3 rue de Verdun", "postcode": "76620"},
        1,
        hlc=mover.hlc(now_ms() + 1000),
    )
    assert mover.push(move)[0]["status"] == "applied"
    # The sud worker comes back online: the visit made before the move is accepted.
    assert sud.push(offline)[0]["status"] == "applied"
    # A visit logged after the move (stamped later) is refused with a reason.
    late_visit = str(uuid.uuid4())
    late = sud.push(
        sud.mutation(
            "visits",
            late_visit,
            "insert",
            visit_fields(person_id, sud.agent_id),
            hlc=sud.hlc(now_ms() + 5000),
        )
    )[0]
    assert late["status"] == "rejected" and "accès" in late["reason"]

    sud_view.sync()
    desk_view.sync()
    nord_view.sync()
    coord_view.sync()
    for view in (sud_view, desk_view):
        assert not view.has("contacts", person_id)
        assert not view.has("visits", old_visit) and not view.has("visits", offline_visit)
    for view in (nord_view, coord_view):
        assert view.get("contacts", person_id)["territory_id"] == "nord"
        assert view.has("visits", old_visit) and view.has("visits", offline_visit)
        assert not view.has("visits", late_visit)
    # A fresh device of the nord worker gets the same view from a full download.
    fresh = Replica(world.sign_in(nord.login)).sync()
    assert fresh.has("visits", old_visit) and fresh.has("visits", offline_visit)


def test_erasure_removes_everywhere_and_leaves_an_anonymous_audit_entry(world: World) -> None:
    worker = world.agent("travailleur-social", ["centre-ouest"], register_right=True)
    desk = world.agent("accueil", ["centre-ouest"])
    person_id = new_person(worker, "centre-ouest", family_name="Zyxwvut", phone_1="02 61 91 77 66")
    visit_id = new_visit(worker, person_id)
    enrolment_id = _enrol(worker, person_id)
    views = [Replica(worker).sync(), Replica(desk).sync()]
    assert all(v.has("contacts", person_id) for v in views)
    response = world.client.post(
        f"/api/v1/admin/persons/{person_id}/erase",
        json={"reason": "demande-personne"},
        headers=world.admin.headers(),
    )
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["removed"]["contacts"] == 1 and reply["removed"]["visits"] == 1
    for view in views:
        view.sync()
        assert not view.has("contacts", person_id)
        assert not view.has("visits", visit_id)
        assert not view.has("register_enrolments", enrolment_id)
    # Nothing about her is left on the server, not even in the change log.
    for table in ("contacts", "visits", "register_enrolments"):
        assert (
            world.server.sql(
                f"SELECT count(*) FROM {table} WHERE id IN (:a, :b, :c)",
                a=person_id,
                b=visit_id,
                c=enrolment_id,
            )[0][0]
            == 0
        )
    log_text = json.dumps([list(map(str, r)) for r in world.server.sql("SELECT * FROM change_log")])
    assert "Zyxwvut" not in log_text and "02 61 91 77 66" not in log_text
    audit = world.server.sql(
        "SELECT event, entity, entity_id, detail, agent_id FROM audit_log WHERE id = :i",
        i=reply["audit_id"],
    )[0]
    assert audit[0] == "effacement-rgpd" and audit[2] == person_id
    assert audit[4] == world.admin.agent_id
    assert "Zyxwvut" not in audit[3] and "Lefèvre" not in audit[3] and "76620" not in audit[3]
    # A device still offline cannot bring her back.
    late = worker.push(worker.mutation("contacts", person_id, "update", {"city": "Harfleur"}, 1))[0]
    assert late["status"] == "rejected" and "effacée" in late["reason"]
    # Nor log a visit for her.
    again = worker.push(
        worker.mutation(
            "visits", str(uuid.uuid4()), "insert", visit_fields(person_id, worker.agent_id)
        )
    )[0]
    assert again["status"] == "rejected"
    # A fresh full download has nothing of her.
    fresh = Replica(world.sign_in(worker.login)).sync()
    assert not fresh.has("contacts", person_id)


def test_deleted_person_is_removed_from_devices(world: World) -> None:
    worker = world.agent("travailleur-social", ["est"])
    person_id = new_person(worker, "est")
    colleague = Replica(world.agent("coordinateur", ["est"])).sync()
    assert colleague.has("contacts", person_id)
    result = worker.push(worker.mutation("contacts", person_id, "delete", {"deleted": True}, 1))[0]
    assert result["status"] == "applied"
    colleague.sync()
    assert not colleague.has("contacts", person_id)
    edit = worker.push(worker.mutation("contacts", person_id, "update", {"city": "Harfleur"}, 1))[0]
    assert edit["status"] == "rejected"


def _desktop_columns() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Columns of the desktop's own schema (db/migrations), read from a scratch database."""
    import sqlite3
    from importlib import resources

    conn = sqlite3.connect(":memory:")
    for entry in sorted(resources.files("havre_desktop.db.migrations").iterdir(), key=str):
        if entry.name.endswith(".sql"):
            conn.executescript(entry.read_text("utf-8"))
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    columns = {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
    required = {
        t: {
            r[1]
            for r in conn.execute(f"PRAGMA table_info({t})")
            if r[3] and r[4] is None and not r[5] and r[1] != "seq"
        }
        for t in tables
    }
    conn.close()
    return columns, required


def test_pulled_rows_fit_the_desktop_schema(world: World) -> None:
    """Every field sent down is a column of the same table on the desktop (same names)."""
    coordinator = world.agent("coordinateur", ["centre-ouest"])
    worker = world.agent("travailleur-social", ["centre-ouest"], register_right=True)
    person_id = new_person(worker, "centre-ouest")
    visit_id = new_visit(worker, person_id)
    _enrol(worker, person_id)
    worker.push(worker.mutation("contacts", person_id, "update", {"city": "A"}, 1))
    other = world.agent("travailleur-social", ["centre-ouest"])
    other.push(
        other.mutation(
            "contacts", person_id, "update", {"city": "B"}, 1, hlc=other.hlc(now_ms() + 500)
        )
    )
    desktop, required = _desktop_columns()
    for device in (coordinator, world.agent("accueil", ["centre-ouest"], register_right=True)):
        changes, _ = device.pull_all()
        tables = {c["table_name"] for c in changes}
        assert {"contacts", "ref_items", "agents", "actions"} <= tables
        for change in changes:
            if change["op"] != "upsert":
                continue
            table = change["table_name"]
            assert set(change["fields"]) <= desktop[table], change
            missing = required[table] - set(change["fields"])
            assert not missing, (table, missing)
    visit = Replica(coordinator).sync().get("visits", visit_id)
    assert visit["person_id"] == person_id and visit["agent_id"] == worker.agent_id


def test_visit_logged_before_the_agent_lost_the_territory_is_kept(world: World) -> None:
    worker = world.agent("travailleur-social", ["est"])
    person_id = new_person(worker, "est")
    offline_visit = str(uuid.uuid4())
    logged = worker.mutation(
        "visits", offline_visit, "insert", visit_fields(person_id, worker.agent_id)
    )
    assert world.patch_agent(worker.agent_id, territory_ids=["sud"]).status_code == 200
    # Access lost while offline: the visit that happened is accepted and reaches the colleagues…
    assert worker.push(logged)[0]["status"] == "applied"
    assert Replica(world.agent("coordinateur", ["est"])).sync().has("visits", offline_visit)
    # …but other edits after the revocation are refused with a reason the agent sees.
    correction = worker.push(
        worker.mutation("visits", offline_visit, "update", {"wellbeing": 5}, 1)
    )[0]
    assert correction["status"] == "rejected" and correction["reason"]
    edit = worker.push(worker.mutation("contacts", person_id, "update", {"city": "Harfleur"}, 1))[0]
    assert edit["status"] == "rejected"
    # And the agent's device no longer holds the person or the visit after its next sync.
    view = Replica(worker).sync()
    assert not view.has("contacts", person_id) and not view.has("visits", offline_visit)
