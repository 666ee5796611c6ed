"""Screenshots of the catalogue kept true by coordinators: the Actions page with a temporary
closure, the action editor, the temporary change dialog, the spreadsheet import (report of a
messy sheet, preview of the fixed one) at 100 % and 200 % text, and a handout printed during the
closure and the yearly review (PNG of their pages), on a throwaway coordinator profile (fake data).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/catalogue_screenshots.py [dossier]

The import dialog shows the report the server sends: here computed by the same reader and
checks (havre_common.catalogue_sheet) on the test sheets (tests/catalogue_sheets.py), without a
server; every line would be "created" on an empty catalogue.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication

from havre_common.catalogue_sheet import convert, read_sheet
from havre_common.protocol import CatalogueSheetReport, SheetItem, SheetProblem
from havre_common.reference import load_reference
from havre_desktop.core import agents
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.keys import new_database_key
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.handouts import reception_handout_for
from havre_desktop.printing.review import review_for
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.pages.actions_page import ActionsPage
from havre_desktop.ui.pages.catalogue_editor import (
    ActionEditor,
    SheetImportDialog,
    TemporaryChangeDialog,
)
from havre_desktop.ui.worker import DatabaseService
from scripts.render_prints import _png
from scripts.screenshots import settle, wait
from tests.catalogue_sheets import fixed_xlsx, messy_xlsx

COORDINATOR = {
    "display_name": "Jordan Coordination (fictif)",
    "role": "coordinateur",
    "territory_ids": ["nord"],
    "work_phone": "02 61 91 00 20",
}


def _report(data: bytes, preview: bool) -> CatalogueSheetReport:
    lines, problems, ignored = convert(read_sheet(data, "catalogue.xlsx"), load_reference(), {})
    return CatalogueSheetReport(
        created=len(lines) if preview else 0,
        changed=0,
        unchanged=0,
        items=[
            SheetItem(line=ln.line, code=ln.code, title=str(ln.values["title"]), outcome="created")
            for ln in lines
        ],
        problems=[SheetProblem(line=p.line, column=p.column, message=p.message) for p in problems],
        ignored_columns=ignored,
        applied=False,
    )


def _closure(ws: Workspace) -> str:
    """A closure of one senior action of the north, from yesterday to next week (as pulled)."""
    row = ws.store.query_one(
        "SELECT id FROM actions WHERE status = 'en-cours' AND territory_ids = '[\"nord\"]' "
        "AND audience_ids LIKE '%seniors%' ORDER BY code LIMIT 1"
    )
    assert row is not None
    today = ws.clock.today()
    with ws.store.transaction() as conn:
        conn.execute(
            "INSERT INTO temporary_changes (id, action_id, kind, starts_on, ends_on, message, "
            "updated_at, server_version) VALUES (?, ?, 'fermeture', ?, ?, ?, ?, 1)",
            (
                str(uuid.uuid4()),
                row["id"],
                (today - timedelta(days=1)).isoformat(),
                (today + timedelta(days=7)).isoformat(),
                "Travaux dans la salle ; l'activité reprend ensuite aux horaires habituels",
                ws.clock.now_iso(),
            ),
        )
    return str(row["id"])


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])  # noqa: F841 - must exist for the widgets
    with tempfile.TemporaryDirectory(prefix="havre-shots-") as tmp:
        ws = Workspace(Store.create(Path(tmp) / "havre.db", new_database_key()))
        agents.create_owner(ws, COORDINATOR)
        seed_demo(ws, DemoSize(persons=600, organisations=10, visits=2_000), with_owner=False)
        ws.store.set_setting("demo", "1")
        closed = _closure(ws)
        pdf = Path(tmp) / "document.pdf"
        pdf.write_bytes(reception_handout_for(ws, [closed]))
        _png(pdf, out, "document-fermeture-temporaire.png", 60)  # its pages side by side
        review = Path(tmp) / "revue.pdf"
        review.write_bytes(review_for(ws, ["nord"]))
        _png(review, out, "revue-annuelle.png", 60)
        data = load_context_data(ws)
        database = DatabaseService(ws)
        window = MainWindow(build_context(database, data))
        window.resize(1280, 800)
        window.show()
        window.build_remaining_pages(one_at_a_time=False)
        settle(database)
        for scale in (100, 200):
            window.settings_page.text_scale.setValue(scale)
            window.adapt_to_font()
            window.show_page("actions")
            page = window.pages.currentWidget()
            assert isinstance(page, ActionsPage)
            page.refresh()
            settle(database)
            rows = [page.model.row(i)["id"] for i in range(page.model.rowCount())]
            page.table.selectRow(rows.index(closed))
            wait(lambda page=page: page.browser.current is not None)
            wait(lambda page=page: "Fermé" in page.detail.toPlainText())
            settle(database)
            window.grab().save(str(out / f"catalogue-{scale}.png"))
            action = page.browser.current
            assert action is not None
            facilities = [dict(f) for f in ws.store.query("SELECT * FROM facilities LIMIT 60")]
            for dialog, name in (
                (ActionEditor(window.ctx, None, action, facilities, window), "catalogue-action"),
                (TemporaryChangeDialog(window.ctx, None, action, window), "catalogue-fermeture"),
            ):
                if isinstance(dialog, TemporaryChangeDialog):
                    dialog.message.setText("Travaux dans la salle")
                dialog.show()
                QApplication.processEvents()
                dialog.grab().save(str(out / f"{name}-{scale}.png"))
                dialog.close()
            for data_bytes, preview, name in (
                (messy_xlsx("A-2027"), False, "import-rapport"),
                (fixed_xlsx("A-2027"), True, "import-apercu"),
            ):
                sheet_dialog = SheetImportDialog(window.ctx, None, window)
                sheet_dialog.path.setText(f"/home/coordination/{name}.xlsx")
                sheet_dialog.show()
                sheet_dialog._show(_report(data_bytes, preview))
                QApplication.processEvents()
                sheet_dialog.grab().save(str(out / f"{name}-{scale}.png"))
                sheet_dialog.close()
        database.shutdown()
    print(f"captures enregistrées dans {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
