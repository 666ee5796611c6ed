"""Temporary changes (closure, other hours, a message) print on the handouts of their period only,
and the catalogue's core answers campaigns (seasonal offers) and freshness (6 months)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from havre_desktop.core import catalogue
from havre_desktop.core.clock import FixedClock
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.handouts import (
    personal_handout_for,
    reception_handout_for,
    territory_programme_for,
)
from havre_desktop.printing.letters import BatchOptions, FollowedBy, LetterKind, letters_pdf
from tests.printing.conftest import lefevre, senior_actions
from tests.printing.pdfcheck import all_text


def _change(ws: Workspace, **values: object) -> str:
    """A row as a pull writes it (the server's; never typed on this device)."""
    row = {
        "id": str(uuid.uuid4()),
        "action_id": None,
        "facility_id": None,
        "kind": "fermeture",
        "starts_on": "2027-02-10",
        "ends_on": "2027-02-20",
        "hours": None,
        "message": None,
        "updated_at": "2027-02-01T10:00:00.000Z",
        "server_version": 1,
        **values,
    }
    with ws.store.transaction() as conn:
        conn.execute(
            f"INSERT INTO temporary_changes ({', '.join(row)}) VALUES "
            f"({', '.join('?' for _ in row)})",
            tuple(row.values()),
        )
    return str(row["id"])


def _at(ws: Workspace, day: date) -> None:
    ws.clock = FixedClock(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC))


def test_a_closure_prints_during_its_period_not_before_nor_after(demo_ws: Workspace) -> None:
    first, second = senior_actions(demo_ws, 2)
    _change(demo_ws, action_id=first, message="Travaux dans la salle")
    facility = demo_ws.store.scalar("SELECT facility_id FROM actions WHERE id = ?", (second,))
    _change(
        demo_ws,
        facility_id=facility,
        kind="horaires",
        hours="9 h – 12 h seulement",
        starts_on="2027-02-15",
        ends_on="2027-02-15",
    )
    closed = "Fermé du mercredi 10 février 2027 au samedi 20 février 2027. Travaux dans la salle."
    hours = "Horaires différents le lundi 15 février 2027 : 9 h – 12 h seulement."

    def printed(day: date) -> str:
        _at(demo_ws, day)
        text = all_text(reception_handout_for(demo_ws, [first, second]))
        return " ".join(text.split())

    assert "Attention" not in printed(date(2027, 2, 9))
    during = printed(date(2027, 2, 15))
    assert f"Attention : {closed}" in during and f"Attention : {hours}" in during
    last_day = printed(date(2027, 2, 20))
    assert closed in last_day and hours not in last_day
    assert "Attention" not in printed(date(2027, 2, 21))
    # The personal handout and the territory programme say it too, in the period.
    _at(demo_ws, date(2027, 2, 12))
    personal = " ".join(all_text(personal_handout_for(demo_ws, lefevre(demo_ws), [first])).split())
    assert closed in personal
    territory = json.loads(
        str(demo_ws.store.scalar("SELECT territory_ids FROM actions WHERE id = ?", (first,)))
    )[0]
    programme = " ".join(all_text(territory_programme_for(demo_ws, territory)).split())
    assert closed in programme


def test_seasonal_offers_and_freshness(demo_ws: Workspace) -> None:
    first, second, third = senior_actions(demo_ws, 3)
    facility = str(demo_ws.store.scalar("SELECT facility_id FROM actions WHERE id = ?", (second,)))
    with demo_ws.store.transaction() as conn:
        conn.execute(
            "UPDATE actions SET seasonal = ? WHERE id = ?",
            (json.dumps({"lieu-chauffe": True}), first),
        )
        conn.execute(
            "UPDATE facilities SET seasonal = ? WHERE id = ?",
            (json.dumps({"salle-rafraichie": True}), facility),
        )
        conn.execute("UPDATE actions SET reviewed_on = '2027-01-05' WHERE id = ?", (third,))
        conn.execute("UPDATE actions SET reviewed_on = '2026-06-01' WHERE id = ?", (first,))
    heat = catalogue.seasonal_offers(demo_ws, "canicule")
    assert ("facility", facility) in {(o.kind, o.id) for o in heat}
    assert second in {o.id for o in heat if o.kind == "action"}
    assert first not in {o.id for o in heat}
    cold = catalogue.seasonal_offers(demo_ws.store, "grand-froid")
    assert [(o.kind, o.id, o.flags) for o in cold] == [("action", first, ("lieu-chauffe",))]
    assert catalogue.seasonal_offers(demo_ws, "cold") == cold
    assert catalogue.seasonal_offers(demo_ws, "heatwave") == heat
    # A closed facility offers nothing.
    with demo_ws.store.transaction() as conn:
        conn.execute("UPDATE facilities SET status = 'ferme' WHERE id = ?", (facility,))
    assert facility not in {o.facility_id for o in catalogue.seasonal_offers(demo_ws, "canicule")}

    today = date(2027, 2, 1)
    stale = {s.id: s for s in catalogue.stale_actions(demo_ws, today)}
    assert third not in stale  # confirmed less than 6 months ago
    assert stale[first].reviewed_on == date(2026, 6, 1)
    live = demo_ws.store.scalar(
        "SELECT count(*) FROM actions WHERE deleted = 0 AND status NOT IN "
        "('arretee', 'realisee', 'abandonnee') AND (reviewed_on IS NULL OR reviewed_on < ?)",
        ("2026-08-02",),
    )
    assert len(stale) == live
    north = catalogue.stale_actions(demo_ws, today, ["nord"])
    assert north and all("nord" in s.territory_ids for s in north)


def test_the_yearly_review_prints_every_action_with_its_last_evaluation(
    coordinator_ws: Workspace,
) -> None:
    from havre_desktop.printing.review import load_review, review_for

    ws = coordinator_ws
    first, second = senior_actions(ws, 2)
    catalogue.add_evaluation(
        ws, first, {"evaluated_on": "01/02/2026", "verdict": "adapter", "comment": "Trop tôt"}
    )
    catalogue.add_evaluation(
        ws, first, {"evaluated_on": "01/03/2026", "verdict": "poursuivre", "comment": "Bien"}
    )
    with ws.store.transaction() as conn:
        conn.execute(
            "UPDATE actions SET reviewed_on = ? WHERE id = ?",
            (ws.clock.today().isoformat(), second),
        )
    lines = load_review(ws)
    assert len(lines) == ws.store.scalar("SELECT count(*) FROM actions WHERE deleted = 0")
    by_title = {line.title: line for line in lines}
    title = str(ws.store.scalar("SELECT title FROM actions WHERE id = ?", (first,)))
    assert by_title[title].verdict == "Poursuivre" and by_title[title].comment == "Bien"
    assert by_title[title].stale
    second_title = str(ws.store.scalar("SELECT title FROM actions WHERE id = ?", (second,)))
    assert not by_title[second_title].stale
    text = " ".join(all_text(review_for(ws)).split())
    assert "Revue annuelle des actions" in text and "Poursuivre" in text
    code = str(ws.store.scalar("SELECT code FROM actions WHERE id = ?", (first,)))
    assert code in text
    north = load_review(ws, ["nord"])
    assert 0 < len(north) < len(lines)


def test_a_summer_letter_prints_the_closure_of_its_period(demo_ws: Workspace) -> None:
    """The batch letters present the territory's actions as the handouts do: a closure in
    effect on the day of printing is said, before it nothing."""
    assert demo_ws.agent_id
    source = FollowedBy(demo_ws.agent_id)

    def printed(day: date) -> str:
        _at(demo_ws, day)
        result = letters_pdf(demo_ws, LetterKind.PROGRAMME_ETE, source, BatchOptions())
        assert result.pdf is not None
        return " ".join(all_text(result.pdf).split())

    before = printed(date(2027, 2, 9))
    first_title = next(
        str(r["title"])
        for r in demo_ws.store.query("SELECT id, title FROM actions WHERE deleted = 0")
        if str(r["title"]) in before
    )
    action_id = str(demo_ws.store.scalar("SELECT id FROM actions WHERE title = ?", (first_title,)))
    _change(demo_ws, action_id=action_id, message="Travaux dans la salle")
    assert "Travaux dans la salle" not in printed(date(2027, 2, 9))
    during = printed(date(2027, 2, 12))
    assert "Attention : Fermé du mercredi 10 février 2027 au samedi 20 février 2027." in during
    assert "Travaux dans la salle" in during
