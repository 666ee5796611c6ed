"""Private visit notes (issue 15): a note marked private reaches its author and the coordinators
of the person's territory, never a colleague's device nor a reception desk's — enforced by the
server's scope. Real encrypted profiles against a real server, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from havre_desktop.core import visits
from tests.server.support import Device, ServerProcess, World
from tests.sync.conftest import MakeLaptop, serving
from tests.sync.scenario_helpers import log_visit, new_person
from tests.sync.support import Laptop, differences


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def privacy_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    backend = str(request.param)
    with serving(backend, tmp_path_factory.mktemp(f"private-notes-{backend}")) as process:
        yield process


@pytest.fixture
def world(privacy_server: ServerProcess) -> Iterator[World]:
    """This module's server (both databases) for the ``laptops`` of tests/sync/conftest.py."""
    w = World(privacy_server)
    yield w
    w.close()


def _raw_pull(world: World, login: str) -> str:
    """Every pull page a new device of this agent receives, as the bytes of the replies."""
    device: Device = world.sign_in(login)
    pages, cursor = [], "0"
    for _ in range(1000):
        response = device.pull_page(cursor)
        assert response.status_code == 200, response.text
        pages.append(response.text)
        page = response.json()
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return "\n".join(pages)
    raise AssertionError("pull never ended")


def _holds(laptop: Laptop, needle: str) -> list[str]:
    """``table.column`` of every value of the laptop's database that contains the needle."""
    found: list[str] = []
    store = laptop.ws.store
    names = [r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in names:
        for row in store.query(f'SELECT * FROM "{table}"'):
            found += [f"{table}.{k}" for k, v in row.items() if isinstance(v, str) and needle in v]
    return found


def test_a_private_note_reaches_its_author_and_coordinators_only(
    laptops: MakeLaptop, world: World
) -> None:
    secret = f"Note privée fictive {uuid.uuid4().hex[:8]} : confie des difficultés."
    shared = f"Note partagée fictive {uuid.uuid4().hex[:8]}."
    author = laptops("travailleur-social", ["nord"])
    colleague = laptops("travailleur-social", ["nord"])
    coordinator = laptops("coordinateur", ["nord"])
    desk = laptops("accueil", ["nord"])
    person_id = new_person(author)
    private_id = log_visit(author, person_id, notes=secret, notes_private=True)
    shared_id = log_visit(author, person_id, notes=shared)
    assert author.sync().rejected == 0
    for laptop in (colleague, coordinator, desk):
        laptop.sync()

    # The author and the coordinator hold the note.
    for laptop in (author, coordinator):
        row = laptop.row("visits", private_id)
        assert row is not None and row["notes"] == secret and row["notes_private"] == 1
    # The colleague holds the visit (continuity) without its note; the shared note is there.
    seen = colleague.row("visits", private_id)
    assert seen is not None and seen["notes"] is None and seen["notes_private"] == 1
    assert seen["outcome"] == "realisee"
    assert colleague.row("visits", shared_id)["notes"] == shared  # type: ignore[index]
    listed = {
        v["id"]: visits.shown_note(v) for v in visits.journal(colleague.ws, person_id=person_id)
    }
    assert listed[private_id] == visits.PRIVATE_NOTE_WITHHELD
    # The reception desk holds no visit at all.
    assert desk.count("visits") == 0
    # Nowhere in their databases, nor in what the server sent them.
    for laptop in (colleague, desk):
        assert _holds(laptop, secret) == [], laptop.role
        assert secret not in _raw_pull(world, str(laptop.login)), laptop.role
    assert secret in _raw_pull(world, str(coordinator.login))
    assert secret in _raw_pull(world, str(author.login))  # the author's other device
    for laptop in (author, colleague, coordinator, desk):
        assert differences(laptop, world) == [], laptop.role


def test_a_note_made_private_later_leaves_the_colleagues_device(
    laptops: MakeLaptop, world: World
) -> None:
    note = f"Note fictive {uuid.uuid4().hex[:8]}, d'abord partagée."
    author = laptops("travailleur-social", ["nord"])
    colleague = laptops("travailleur-social", ["nord"])
    person_id = new_person(author)
    visit_id = log_visit(author, person_id, notes=note)
    author.sync()
    colleague.sync()
    assert colleague.row("visits", visit_id)["notes"] == note  # type: ignore[index]

    visits.correct_visit(author.ws, visit_id, {"notes_private": True})
    assert author.sync().rejected == 0
    colleague.sync()
    assert colleague.row("visits", visit_id)["notes"] is None  # type: ignore[index]
    assert _holds(colleague, note) == []
    assert note not in _raw_pull(world, str(colleague.login))

    # Shared again: the colleague receives it back.
    visits.correct_visit(author.ws, visit_id, {"notes_private": False})
    author.sync()
    colleague.sync()
    assert colleague.row("visits", visit_id)["notes"] == note  # type: ignore[index]
    for laptop in (author, colleague):
        assert differences(laptop, world) == [], laptop.role
