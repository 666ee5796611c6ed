"""Save PNG screenshots of every page on demo data, at 100 % and 200 % text size, and in the
high-contrast theme (at 100 %).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [dossier]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from havre_desktop.app import open_demo_workspace
from havre_desktop.core import applock
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.pages.city_details import CityDetailsDialog
from havre_desktop.ui.worker import DatabaseService

PAGE_FILES = {
    "today": "ma-journee",
    "persons": "personnes",
    "visits": "visites",
    "actions": "actions",
    "reception": "accueil",
    "prints": "impressions",
    "settings": "parametres",
}


def wait(condition: Callable[[], object], timeout_ms: int = 30_000) -> None:
    """Run the event loop until `condition()` holds; a screenshot of a page still loading
    is worse than none, so a timeout is an error."""
    if condition():
        return
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    timer.start()
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    if not condition():
        raise RuntimeError("la page n'a pas fini de se charger")


def settle(database: DatabaseService) -> None:
    wait(lambda: database.pending == 0)
    QApplication.processEvents()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])  # noqa: F841 - must exist for the widgets
    with tempfile.TemporaryDirectory(prefix="havre-shots-") as tmp:
        ws = open_demo_workspace(Path(tmp), 1500)
        assert isinstance(ws, Workspace)
        applock.set_pin(ws, "2580")  # the lock page asks a code, as on an agent's laptop
        data = load_context_data(ws)
        database = DatabaseService(ws)
        window = MainWindow(build_context(database, data))
        window.resize(1280, 800)
        window.show()
        settle(database)
        for scale, high_contrast, suffix in (
            (100, False, "100"),
            (200, False, "200"),
            (100, True, "contraste"),
        ):
            # Through Paramètres, as a user would: the page then shows the size in use.
            window.settings_page.text_scale.setValue(scale)
            window.settings_page.high_contrast.setChecked(high_contrast)
            window.adapt_to_font()
            settle(database)
            persons = window.persons_page
            persons.search_field.setText("lefevre jeanne")
            persons._search()
            settle(database)
            persons.open_fiche(0)
            settle(database)
            for key, name in PAGE_FILES.items():
                window.show_page(key)
                settle(database)
                if name == "accueil":
                    # A resident's street typed: the territories found (sample street list).
                    window.reception_page.street.setText("rue de paris")
                    settle(database)
                if name == "impressions" and window.prints_page is not None:
                    # The batch letters' recipients, ticked, with the count and pages.
                    window.prints_page.load_recipients()
                    settle(database)
                window.adapt_to_font()
                window.grab().save(str(out / f"{name}-{suffix}.png"))
            if suffix in ("100", "200"):  # the coordinators' form of the City's details
                box = window.settings_page.city
                form = CityDetailsDialog(window.ctx, None, box.rows, box.source, window)
                form.fields["standard_phone"].setText("02 35 19 4")
                form.save()  # refused here, in French, before anything is sent
                form.show()
                settle(database)
                form.grab().save(str(out / f"coordonnees-ville-{suffix}.png"))
                form.close()
            if suffix == "100":  # the lock page over the fiche, after one wrong code
                window.go_to(persons)
                window.lock.lock("raccourci")
                window.lock.attempt("1357")
                settle(database)
                window.grab().save(str(out / "verrouillage.png"))
                window.lock.unlock()
                settle(database)
        database.shutdown()
    print(f"captures enregistrées dans {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
