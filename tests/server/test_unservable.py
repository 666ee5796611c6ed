"""One row never blocks everyone (sync.md, Policies): a row the server cannot put in a pull page
is skipped, logged by ids and listed for administrators; every other row still syncs."""

from __future__ import annotations

import json

from havre_common.protocol import MAX_ROW_JSON_BYTES
from tests.server.history import fake_name, new_id
from tests.server.support import ServerProcess, World, iso, new_person, now_ms


def _insert_behind_the_servers_back(
    server: ServerProcess, territory: str, name: str, notes: str, field_hlc: str
) -> str:
    """A contact and its log entry written straight into the database (an import script, a
    repair by hand, an older server), without the checks of a push."""
    person_id = new_id()
    row = {
        "id": person_id,
        "kind": "person",
        "family_name": name,
        "given_names": "Test",
        "territory_id": territory,
        "access_notes": notes,
        "emergency_contacts": "[]",
        "field_hlc": field_hlc,
        "created_at": iso(),
        "updated_at": iso(),
    }
    server.sql(
        "INSERT INTO contacts (id, kind, family_name, given_names, territory_id, access_notes,"
        " emergency_contacts, field_hlc, created_at, updated_at, server_version) VALUES (:id,"
        " :kind, :family_name, :given_names, :territory_id, :access_notes, :emergency_contacts,"
        " :field_hlc, :created_at, :updated_at, 1)",
        **row,
    )
    fields = {k: v for k, v in row.items() if k not in ("field_hlc", "emergency_contacts")}
    server.sql(
        "INSERT INTO change_log (table_name, row_id, op, fields, field_hlc, server_version,"
        " audience, territory_id, person_id, created_at_ms) VALUES ('contacts', :id, 'upsert',"
        " :fields, :field_hlc, 1, 'person', :territory, :id, :now)",
        id=person_id,
        fields=json.dumps({**fields, "emergency_contacts": []}),
        field_hlc=field_hlc,
        territory=territory,
        now=now_ms(),
    )
    return person_id


def test_a_row_that_cannot_be_served_is_skipped_logged_and_listed(world: World) -> None:
    server = world.server
    worker = world.agent("travailleur-social", ["est"])
    follower = world.agent("coordinateur", ["est"])
    _, cursor = follower.pull_all()  # follows the log from here
    before = new_person(worker, "est")
    big_name, bad_name = fake_name(), fake_name()
    too_large = _insert_behind_the_servers_back(
        server, "est", big_name, "x" * (MAX_ROW_JSON_BYTES + 1000), "{}"
    )
    invalid = _insert_behind_the_servers_back(
        server, "est", bad_name, "rien", json.dumps({"phone_1": "pas-une-horloge"})
    )
    after = new_person(worker, "est")

    # The device that follows the log, and a new one downloading everything (small pages, so
    # that a skipped row ends some page): both get every other row.
    followed, _ = follower.pull_all(cursor)
    fresh = world.sign_in(follower.login)
    downloaded, _ = fresh.pull_all("0", limit=3)
    for changes in (followed, downloaded):
        ids = {c["row_id"] for c in changes if c["table_name"] == "contacts"}
        assert {before, after} <= ids
        assert not {too_large, invalid} & ids

    # Administrators see them, by ids, with what is wrong.
    listed = {(r["table_name"], r["row_id"]): r for r in json.loads(server.cli("unservable-rows"))}
    assert listed[("contacts", too_large)]["problem"] == "too_large"
    assert listed[("contacts", invalid)]["problem"] == "invalid"
    assert listed[("contacts", too_large)]["occurrences"] >= 2  # log, then snapshot
    # The server's log names the rows, never their content.
    text = server.log_text()
    assert too_large in text and invalid in text
    assert big_name not in text and bad_name not in text

    # Erasing them (the repair here) removes them from the list too.
    for person_id in (too_large, invalid):
        server.cli("erase-person", person_id)
    listed_after = {r["row_id"] for r in json.loads(server.cli("unservable-rows"))}
    assert not {too_large, invalid} & listed_after
