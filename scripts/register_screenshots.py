"""Screenshots of the register of vulnerable persons: the enrolment form and the fiche's
register dialog, at 100 % and 200 % text, on a throwaway coordinator profile (fake data).

QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/register_screenshots.py [dossier]

Saves registre-inscription-{100,200}.png, registre-fiche-{100,200}.png and
registre-ma-journee-100.png into docs/screenshots/ (or the folder given).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication

from havre_desktop.core import agents, register
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.keys import new_database_key
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.pages.register_form import RegisterDialog, RegisterForm
from havre_desktop.ui.worker import DatabaseService
from scripts.screenshots import settle, wait

COORDINATOR = {
    "display_name": "Jordan Coordination (fictif)",
    "role": "coordinateur",
    "territory_ids": ["nord", "centre-ouest", "centre-est", "est", "sud"],
    "work_phone": "02 61 91 00 20",
}


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])  # noqa: F841 - must exist for the widgets
    with tempfile.TemporaryDirectory(prefix="havre-shots-") as tmp:
        ws = Workspace(Store.create(Path(tmp) / "havre.db", new_database_key()))
        agents.create_owner(ws, COORDINATOR)
        seed_demo(ws, DemoSize(persons=1500, organisations=40, visits=12_000), with_owner=False)
        ws.store.set_setting("demo", "1")
        jeanne = ws.store.query_one(
            "SELECT id FROM contacts WHERE family_name = 'Lefèvre' AND given_names = 'Jeanne'"
        )
        assert jeanne is not None
        person_id = str(jeanne["id"])
        current = register.active_enrolment(ws, person_id)
        if current is not None:
            register.remove(ws, str(current["id"]), ws.clock.today().isoformat(), "Démonstration")
        # A second one, enrolled through the form's rules, for the fiche's register dialog.
        data = load_context_data(ws)
        database = DatabaseService(ws)
        window = MainWindow(build_context(database, data))
        window.resize(1280, 800)
        window.show()
        settle(database)
        person: dict[str, object] = {}
        database.submit(lambda w: w.get_row("contacts", person_id), person.update)
        wait(lambda: bool(person))
        for scale in (100, 200):
            window.settings_page.text_scale.setValue(scale)
            window.adapt_to_font()
            settle(database)
            form = RegisterForm(window.ctx, person, window)
            form.requested_by.setCurrentIndex(form.requested_by.findData("tiers"))
            form.requester_name.setText("Paul Lefèvre (fictif)")
            form.requester_relation.setText("fils")
            form.written_request.setChecked(True)
            form.floor.setText("4")
            form.lift.setCurrentIndex(form.lift.findData(False))
            form.help_at_home.setChecked(True)
            form.help_service.setText("Aide à domicile du Havre (fictif)")
            form.notice.setCurrentIndex(form.notice.findData("courrier"))
            window.adapt_to_font()
            form.show()
            QApplication.processEvents()
            form.grab().save(str(out / f"registre-inscription-{scale}.png"))
            if scale == 100:
                form.save()
                wait(lambda form=form: form.saved is not None)
                settle(database)
            else:
                form.reject()
            dialog = RegisterDialog(window.ctx, person, window)
            dialog.show()
            settle(database)
            wait(lambda dialog=dialog: dialog.history_model.rowCount() > 0)
            dialog.grab().save(str(out / f"registre-fiche-{scale}.png"))
            dialog.close()
            if scale == 100:
                window.show_page("today")
                window.today_page.refresh()
                settle(database)
                wait(lambda: window.today_page.letters_box.isVisible())
                window.grab().save(str(out / "registre-ma-journee-100.png"))
        database.shutdown()
    print(f"captures enregistrées dans {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
