"""The visit form explains its 1–5 wellbeing scale in words; at 100 % and 200 % text it fits
a laptop screen (its fields scroll) and no label of it is cut."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize

from havre_desktop.ui.pages.visit_form import VisitForm
from tests.ui.conftest import DemoApp
from tests.ui.layout_checks import clipped_texts, unnamed_controls


def test_the_wellbeing_scale_is_said_in_words(demo_app: DemoApp) -> None:
    (person,) = demo_app.query("SELECT * FROM contacts WHERE kind = 'person' LIMIT 1")
    form = VisitForm.for_person(demo_app.window.ctx, person)
    scale = "1 très mal, 2 mal, 3 moyen, 4 bien, 5 très bien"
    assert form.wellbeing_meaning.text() == f"Comment va la personne, selon vous ? {scale}."
    form.wellbeing.setValue(4)
    assert form.wellbeing_meaning.text() == f"4 : bien ({scale})"
    form.wellbeing.setValue(1)
    assert form.wellbeing_meaning.text().startswith("1 : très mal")
    assert form.values()["wellbeing"] == 1
    form.deleteLater()


@pytest.mark.parametrize("scale", [100, 200])
def test_the_visit_form_fits_the_screen_and_no_label_is_cut(demo_app: DemoApp, scale: int) -> None:
    window = demo_app.window
    assert window.theme is not None
    window.theme.apply(scale)
    (person,) = demo_app.query("SELECT * FROM contacts WHERE kind = 'person' LIMIT 1")
    form = VisitForm.for_person(window.ctx, person, window)
    # It fits a 1366 × 768 screen (title bar and task bar included), its fields scrolling.
    assert form.minimumSizeHint().height() <= 680 and form.minimumSizeHint().width() <= 1366
    form.show()
    form.resize(form.sizeHint().boundedTo(QSize(1366, 680)))
    demo_app.settle()
    try:
        assert clipped_texts(form) == []
        assert unnamed_controls(form) == []
    finally:
        form.close()
        form.deleteLater()
