"""Save PNG screenshots of the application's pages on demo data (offscreen).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [dossier]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from havre_desktop.app import open_demo_workspace
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.main_window import MainWindow, workspace_summary
from havre_desktop.ui.worker import DatabaseService


def _wait(app: QApplication, condition: object, timeout_ms: int = 5000) -> None:
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: loop.quit() if condition() else None)  # type: ignore[operator]
    timer.start()
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="havre-shots-") as tmp:
        ws = open_demo_workspace(Path(tmp), 1500)
        assert isinstance(ws, Workspace)
        database = DatabaseService(ws)
        window = MainWindow(database, workspace_summary(ws))
        window.resize(1200, 720)
        window.show()
        page = window.persons_page
        _wait(app, lambda: page.model.rowCount() > 0)
        window.grab().save(str(out / "personnes.png"))
        page.search_field.setText("lefe")
        _wait(
            app,
            lambda: page.model.rowCount() and "LEF" in str(page.model.data(page.model.index(0, 0))),
        )
        page.open_fiche(0)
        _wait(app, lambda: page.fiche.toPlainText() != "")
        window.grab().save(str(out / "personnes-recherche-fiche.png"))
        database.shutdown()
    print(f"captures enregistrées dans {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
