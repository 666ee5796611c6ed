"""Personal handouts in a batch, and what one handout costs next to a bare PDF.

Targets (issue 13):

* a batch of 500 personal handouts, 3 actions each (the issue's case) and then
  5 actions each, 16 pt, each one read from the encrypted profile (person, actions
  with their venues, agent, next planned contact) and recorded as given (row +
  outbox + audit, one transaction each): >= 200 handouts per second;
* in the same run, the rate of a bare one-page reportlab document with the same
  font registered the plain way, and the batch's rate as a ratio to it (reported);
* pages per handout at 16 and 22 pt (reported; the page targets themselves are
  tested in tests/printing/test_packing.py).

Usage: ``python benchmarks/printing.py [--quick] [--check]`` (see benchmarks/common.py).
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make `benchmarks` and `havre_desktop` importable from the repo root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from benchmarks.common import emit, finish, interleaved_ns, ms, parser, progress
from havre_desktop.core import agents
from havre_desktop.core.clock import FixedClock
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.keys import new_database_key
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import fonts, record
from havre_desktop.printing.handouts import handout_pdf, load_personal_handout
from havre_desktop.printing.layout import Variant

NOW = datetime(2026, 6, 17, 9, 30, tzinfo=UTC)
BATCH_ACTIONS = (3, 5)
BARE_FONT = "AtkinsonHyperlegibleBare"


def _profile(root: Path, persons: int) -> Workspace:
    ws = Workspace(Store.create(root / "havre.db", new_database_key()), clock=FixedClock(NOW))
    agents.create_owner(
        ws,
        {
            "display_name": "Camille Banc d'essai (fictif)",
            "role": "travailleur-social",
            "territory_ids": ["nord"],
            "work_phone": "02 61 91 00 30",
        },
    )
    seed_demo(ws, DemoSize(persons=persons, organisations=10, visits=persons * 4))
    return ws


def _choices(ws: Workspace, count: int, per_handout: int) -> list[tuple[str, list[str]]]:
    """(person, current actions of the person's territory), as an agent would pick them."""
    persons = ws.store.query(
        "SELECT id, territory_id FROM contacts WHERE kind = 'person' AND deleted = 0 "
        "ORDER BY id LIMIT ?",
        (count,),
    )
    by_territory: dict[str, list[str]] = {}
    for territory in {str(p["territory_id"]) for p in persons}:
        rows = ws.store.query(
            "SELECT id FROM actions WHERE status IN ('en-cours', 'en-test') AND EXISTS "
            "(SELECT 1 FROM json_each(territory_ids) WHERE value = ?) ORDER BY title",
            (territory,),
        )
        by_territory[territory] = [str(r["id"]) for r in rows]
    out = []
    for index, person in enumerate(persons):
        pool = by_territory[str(person["territory_id"])]
        start = (index * 3) % max(1, len(pool) - per_handout)
        out.append((str(person["id"]), pool[start : start + per_handout]))
    return out


def _bare_document() -> bytes:
    """One page, one line, the same TTF registered as reportlab does by default."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, initialFontName=BARE_FONT)  # type: ignore[arg-type]
    canvas.setFont(BARE_FONT, 16)
    canvas.drawString(72, 720, "Des activités pour vous, près de chez vous.")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page\n")


def _batch(
    ws: Workspace, choices: list[tuple[str, list[str]]], variant: Variant
) -> tuple[float, float, list[int]]:
    """Seconds for the whole batch (read, build, record each handout), seconds of it spent
    recording (one transaction each, fsync'd: what other work on the disk slows), and the
    pages of each handout."""
    pages = []
    recording = 0.0
    start = time.perf_counter()
    for person, actions in choices:
        prepared = record.prepare_personal_handout(ws, person, actions, variant=variant)
        before = time.perf_counter()
        record.record_given(ws, prepared)
        recording += time.perf_counter() - before
        pages.append(_pages(prepared.pdf))
    return time.perf_counter() - start, recording, pages


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    batch = 100 if args.quick else 500
    repeat = 20 if args.quick else 100
    fonts.register_fonts()
    regular = pdfmetrics.getFont(fonts.REGULAR)
    pdfmetrics.registerFont(TTFont(BARE_FONT, regular.face.filename))  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(prefix="havre-bench-printing-") as tmp:
        progress(f"building a demo profile ({max(batch, 600)} persons)…")
        ws = _profile(Path(tmp), max(batch, 600))
        first = _choices(ws, 1, BATCH_ACTIONS[0])[0]

        # Cold: the first handout of a session pays the font loading (once per process).
        start = time.perf_counter()
        record.give_personal_handout(ws, *first)
        emit("printing.first_handout", (time.perf_counter() - start) * 1000, "ms")

        # The bare document's rate, measured in this run, on this machine's load.
        bare = interleaved_ns({"bare": _bare_document}, repeat * 5, warmup=10)["bare"]
        bare_ms = ms(statistics.median(bare))
        emit("printing.bare_documents_per_s", 1000 / bare_ms, "documents/s")
        recorded = 1
        for count in BATCH_ACTIONS:
            choices = _choices(ws, batch, count)
            progress(f"batch of {batch} personal handouts of {count} actions…")
            elapsed, recording, pages = _batch(ws, choices, Variant.LARGE)
            recorded += batch
            rate = batch / elapsed
            emit(
                f"printing.batch_{count}_actions_handouts_per_s",
                rate,
                "handouts/s",
                ">= 200",
                notes=f"{batch} handouts, {count} actions, 16 pt, each read and recorded",
            )
            emit(
                f"printing.batch_{count}_actions_vs_bare",
                rate / (1000 / bare_ms),
                "x",
                notes="batch rate / bare one-page document rate, same font, same run",
            )
            emit(
                f"printing.batch_{count}_actions_ms_read_and_build",
                (elapsed - recording) * 1000 / batch,
                "ms",
            )
            emit(f"printing.batch_{count}_actions_ms_record", recording * 1000 / batch, "ms")
            emit(
                f"printing.pages_per_handout_{count}_actions_16pt", statistics.mean(pages), "pages"
            )
            emit(
                f"printing.max_pages_{count}_actions_16pt",
                max(pages),
                "pages",
                "<= 2" if count <= 3 else None,
            )
        very_large = _choices(ws, min(batch, 100), BATCH_ACTIONS[0])
        _elapsed, _recording, pages = _batch(ws, very_large, Variant.VERY_LARGE)
        recorded += len(very_large)
        emit(
            f"printing.pages_per_handout_{BATCH_ACTIONS[0]}_actions_22pt",
            statistics.mean(pages),
            "pages",
        )
        emit(f"printing.max_pages_{BATCH_ACTIONS[0]}_actions_22pt", max(pages), "pages", "<= 4")
        assert int(ws.store.scalar("SELECT count(*) FROM handouts_given")) == recorded

        progress("one handout vs a bare one-page document…")
        person, actions = _choices(ws, 2, BATCH_ACTIONS[0])[1]
        data = load_personal_handout(ws, person, actions)
        samples = interleaved_ns(
            {"handout": lambda: handout_pdf(data, Variant.LARGE), "bare": _bare_document},
            repeat,
            warmup=3,
        )
        handout_ms = ms(statistics.median(samples["handout"]))
        bare_ms = ms(statistics.median(samples["bare"]))
        emit("printing.handout_build_median", handout_ms, "ms")
        emit("printing.bare_document_median", bare_ms, "ms")
        emit(
            "printing.handout_vs_bare",
            handout_ms / bare_ms,
            "x",
            notes="one 3-action handout (built from data already read) vs one line on one page",
        )
        very = interleaved_ns({"v": lambda: handout_pdf(data, Variant.VERY_LARGE)}, repeat)
        emit("printing.handout_22pt_build_median", ms(statistics.median(very["v"])), "ms")
        ws.store.close()
    return finish(args)


if __name__ == "__main__":
    raise SystemExit(main())
