"""Save PNG screenshots of the *Tableau de bord* (coordinators) on a generated year of fake
activity, at 100 % and 200 % text size and in the high-contrast theme, with an evaluation.

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/dashboard_screenshots.py [dossier]
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from havre_desktop.core import agents, applock
from havre_desktop.core.demo import ActivitySize, seed_activity_year
from havre_desktop.core.keys import new_database_key
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.pages.dashboard_page import DashboardPage
from havre_desktop.ui.worker import DatabaseService

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import settle, wait

TABS = ("visites", "besoins", "actions")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])  # noqa: F841 - must exist for the widgets
    with tempfile.TemporaryDirectory(prefix="havre-shots-") as tmp:
        ws = Workspace(Store.create(Path(tmp) / "havre.db", new_database_key()))
        agents.create_owner(
            ws,
            {
                "display_name": "Claire Coordination (fictive)",
                "role": "coordinateur",
                "territory_ids": ["nord", "sud"],
                "work_phone": "02 61 91 00 40",
            },
        )
        first_day = ws.clock.today() - timedelta(days=364)
        seed_activity_year(
            ws,
            first_day,
            ActivitySize(persons=4_000, visits=20_000, encounters=4_000, handouts=3_000),
        )
        ws.store.set_setting("demo", "1")
        applock.set_pin(ws, "2580")
        database = DatabaseService(ws)
        window = MainWindow(build_context(database, load_context_data(ws)))
        window.resize(1280, 800)
        window.show()
        settle(database)
        for scale, high_contrast, suffix in (
            (100, False, "100"),
            (200, False, "200"),
            (100, True, "contraste"),
        ):
            window.settings_page.text_scale.setValue(scale)
            window.settings_page.high_contrast.setChecked(high_contrast)
            window.adapt_to_font()
            settle(database)
            page = window.show_page("dashboard")
            assert isinstance(page, DashboardPage)
            page.refresh()
            wait(lambda p=page: p.loaded_generation == p._generation)
            settle(database)
            window.adapt_to_font()
            for tab in TABS:
                page.tabs.setCurrentWidget(page.scrolls[tab])
                settle(database)
                window.grab().save(str(out / f"tableau-de-bord-{tab}-{suffix}.png"))
            page.tabs.setCurrentIndex(page.tabs.count() - 1)
            settle(database)
            rows = page.review_model.rows
            page.review_table.selectRow(
                next(i for i, r in enumerate(rows) if r.status == "en-test")
            )
            page.evaluate_selected()
            dialog = page.evaluation_dialog
            wait(lambda d=dialog: d.figures is not None)
            settle(database)
            dialog.grab().save(str(out / f"evaluation-{suffix}.png"))
            dialog.reject()
            settle(database)
        database.shutdown()
    print(f"captures enregistrées dans {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
