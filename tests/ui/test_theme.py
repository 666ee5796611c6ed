"""The themes measured on rendered widgets. High contrast: every text against its background
at least 7:1 (WCAG AAA), alternate rows and disabled states included; unchecked boxes, spin
and list arrows drawn; a disabled button told apart from an enabled one by more than colour.
At 200 % text, in either theme, the window fits a 1366 × 768 screen."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from PySide6.QtCore import QModelIndex, QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStyle,
    QStyleOptionButton,
    QStyleOptionComboBox,
    QStyleOptionSpinBox,
    QTableView,
    QTabWidget,
    QWidget,
)

from havre_desktop.core import contacts
from havre_desktop.core.clock import FixedClock
from tests.helpers import person_values
from tests.ui.conftest import DemoApp

AAA = 7.0
# Colours drawn on fewer pixels than this are antialiasing, not a colour the reader sees.
MIN_PIXELS = 6


def luminance(colour: QColor) -> float:
    """WCAG 2 relative luminance."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.red())
        + 0.7152 * channel(colour.green())
        + 0.0722 * channel(colour.blue())
    )


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colours(image: QImage) -> Counter[int]:
    counts: Counter[int] = Counter()
    if image.isNull() or image.width() == 0 or image.height() == 0:
        return counts
    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    data = memoryview(rgb.constBits()).cast("I")  # type: ignore[arg-type]
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine() // 4
    for y in range(height):
        counts.update(data[y * stride : y * stride + width])
    return counts


@dataclass
class Pair:
    where: str
    background: QColor
    text: QColor

    @property
    def ratio(self) -> float:
        return contrast(self.background, self.text)

    def __str__(self) -> str:
        return f"{self.where}: {self.text.name()} sur {self.background.name()} ({self.ratio:.1f}:1)"


def text_pair(widget: QWidget, rect: QRect, where: str) -> Pair | None:
    """The background (the commonest colour) and the text (of the colours drawn on enough
    pixels, the one that stands out least from the background — so that a legible border
    or grid line cannot hide illegible text) inside `rect` of `widget`'s rendering."""
    image = widget.grab(rect).toImage()
    counts = colours(image)
    if len(counts) < 2:
        return None  # nothing drawn there
    background_rgb, _ = counts.most_common(1)[0]
    background = QColor.fromRgb(background_rgb)
    seen = [
        QColor.fromRgb(rgb)
        for rgb, n in counts.items()
        if rgb != background_rgb and n >= MIN_PIXELS
    ]
    # Antialiasing blends the text into the background: those blends sit between the two,
    # so the text's own colour is the one furthest from the background among its cluster.
    # Cluster = colours of the same hue family; take the most distant of the commonest.
    if not seen:
        return None
    commonest = max(seen, key=lambda c: counts[c.rgb() & 0xFFFFFFFF])
    text = max(
        (c for c in seen if _same_family(c, commonest, background)),
        key=lambda c: contrast(c, background),
    )
    return Pair(where, background, text)


def _same_family(colour: QColor, reference: QColor, background: QColor) -> bool:
    """True when `colour` lies on the blend from `background` to `reference` (or beyond)."""
    span = [reference.red() - background.red(), reference.green() - background.green()]
    span.append(reference.blue() - background.blue())
    offset = [colour.red() - background.red(), colour.green() - background.green()]
    offset.append(colour.blue() - background.blue())
    length = sum(v * v for v in span) ** 0.5
    if length == 0:
        return False
    along = sum(a * b for a, b in zip(offset, span, strict=True)) / length
    across = max(0.0, sum(v * v for v in offset) - along * along) ** 0.5
    return along > 0 and across < 40


def inner(rect: QRect, margin: int) -> QRect:
    return rect.adjusted(margin, margin, -margin, -margin)


def shown(widgets: list[QWidget]) -> Iterator[QWidget]:
    for widget in widgets:
        if widget.isVisible() and widget.width() > 8 and widget.height() > 8:
            yield widget


def measured_pairs(root: QWidget) -> list[Pair]:
    pairs: list[Pair] = []

    def add(pair: Pair | None) -> None:
        if pair is not None:
            pairs.append(pair)

    for label in shown(root.findChildren(QLabel)):
        if label.text().strip():
            add(text_pair(label, label.rect(), f"libellé « {label.text()[:30]} »"))
    for button in shown(root.findChildren(QPushButton)):
        state = "actif" if button.isEnabled() else "désactivé"
        add(text_pair(button, inner(button.rect(), 5), f"bouton {state} « {button.text()} »"))
    for edit in shown(root.findChildren(QLineEdit)):
        if edit.text():
            add(text_pair(edit, inner(edit.rect(), 4), f"champ « {edit.accessibleName()} »"))
    for check in shown(root.findChildren(QCheckBox)):
        option = QStyleOptionButton()
        check.initStyleOption(option)
        label = check.style().subElementRect(QStyle.SubElement.SE_CheckBoxContents, option, check)
        add(text_pair(check, label, f"case « {check.text()} »"))
    for table in shown(root.findChildren(QTableView)):
        model = table.model()
        if model is None:
            continue
        header = table.horizontalHeader()
        for column in range(min(model.columnCount(), 3)):
            if header.isSectionHidden(column):
                continue
            rect = QRect(
                header.sectionViewportPosition(column),
                0,
                header.sectionSize(column),
                header.height(),
            )
            add(text_pair(header, inner(rect, 3), f"en-tête de « {table.accessibleName()} »"))
        for row in range(min(model.rowCount(), 4)):  # even and odd rows, one selected
            for column in range(min(model.columnCount(), 3)):
                index = model.index(row, column, QModelIndex())
                rect = table.visualRect(index)
                if rect.isEmpty() or not model.data(index):
                    continue
                where = f"tableau « {table.accessibleName()} », ligne {row + 1}"
                add(text_pair(table.viewport(), inner(rect, 3), where))
    for listing in shown(root.findChildren(QListWidget)):
        for row in range(min(listing.count(), 8)):
            rect = listing.visualItemRect(listing.item(row))
            add(
                text_pair(
                    listing.viewport(), inner(rect, 2), f"liste « {listing.item(row).text()} »"
                )
            )
    return pairs


@pytest.fixture
def high_contrast(demo_app: DemoApp) -> DemoApp:
    window = demo_app.window
    assert window.theme is not None
    window.theme.apply(100, True)
    window.adapt_to_font()
    demo_app.settle()
    return demo_app


def open_every_page(app: DemoApp) -> Iterator[str]:
    window = app.window
    persons = window.persons_page
    window.show_page("persons")
    app.settle()
    persons.open_fiche(0)
    app.settle()
    for key in window.page_keys:
        window.show_page(key)
        app.settle()
        yield key


def test_every_text_is_at_least_7_to_1_in_the_high_contrast_theme(high_contrast: DemoApp) -> None:
    window = high_contrast.window
    # A disabled button and a selected row must be on screen to be measured.
    prints = window.prints_page
    assert not prints.cancel_button.isEnabled()
    failures: list[str] = []
    measured = 0
    kinds: set[str] = set()
    for key in open_every_page(high_contrast):
        page = window.pages.currentWidget()
        table = next(iter(shown(page.findChildren(QTableView))), None)
        if table is not None and table.model() is not None and table.model().rowCount() > 1:
            table.selectRow(1)
        for pair in measured_pairs(window):
            measured += 1
            kinds.add(pair.where.split(" ", 1)[0])
            if pair.ratio < AAA:
                failures.append(f"[{key}] {pair}")
    assert measured > 100, measured
    assert {"libellé", "bouton", "liste", "tableau", "en-tête", "champ", "case"} <= kinds, kinds
    assert not failures, "\n".join(failures[:40])


def test_alternate_rows_and_disabled_buttons_are_legible_and_distinct(
    high_contrast: DemoApp,
) -> None:
    window = high_contrast.window
    persons = window.persons_page
    window.show_page("persons")
    high_contrast.settle()
    table = persons.table
    model = table.model()
    assert model.rowCount() >= 2
    table.clearSelection()
    even = text_pair(table.viewport(), inner(table.visualRect(model.index(0, 0)), 3), "ligne 1")
    odd = text_pair(table.viewport(), inner(table.visualRect(model.index(1, 0)), 3), "ligne 2")
    assert even is not None and odd is not None
    assert even.ratio >= AAA and odd.ratio >= AAA, (str(even), str(odd))
    assert even.background != odd.background, "alternate rows are not told apart"

    prints = window.show_page("prints")
    high_contrast.settle()
    enabled = next(b for b in shown(prints.findChildren(QPushButton)) if b.isEnabled())
    disabled = next(b for b in shown(prints.findChildren(QPushButton)) if not b.isEnabled())
    on = text_pair(enabled, inner(enabled.rect(), 5), "actif")
    off = text_pair(disabled, inner(disabled.rect(), 5), "désactivé")
    assert on is not None and off is not None
    assert off.ratio >= AAA, str(off)
    assert on.text != off.text, "a disabled button looks like an enabled one"
    # Not by colour alone: the frame is drawn differently (dashed), seen on the edge.
    on_edge = colours(enabled.grab(QRect(0, enabled.height() // 2 - 4, 4, 8)).toImage())
    off_edge = colours(disabled.grab(QRect(0, disabled.height() // 2 - 4, 4, 8)).toImage())
    assert len(off_edge) > 1 and set(on_edge) != set(off_edge)


def _strong_pixels(widget: QWidget, rect: QRect) -> int:
    """How many pixels of `rect` stand out at least 7:1 from the widget's background."""
    counts = colours(widget.grab(rect).toImage())
    background = QColor.fromRgb(colours(widget.grab().toImage()).most_common(1)[0][0])
    return sum(n for rgb, n in counts.items() if contrast(QColor.fromRgb(rgb), background) >= AAA)


def test_boxes_and_arrows_are_drawn(high_contrast: DemoApp) -> None:
    window = high_contrast.window
    # (not the theme's own box on Paramètres: ticking it would change the theme)
    actions = window.show_page("actions")
    high_contrast.settle()
    check = window.actions_page.step_free
    option = QStyleOptionButton()
    check.initStyleOption(option)
    box = check.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, check)
    assert not check.isChecked() and actions.isVisible()
    unchecked = check.grab(box).toImage()
    assert _strong_pixels(check, box) >= box.width() * 2, "an unchecked box is invisible"
    check.setChecked(True)
    high_contrast.settle()
    checked = check.grab(box).toImage()
    check.setChecked(False)
    high_contrast.settle()
    assert colours(unchecked) != colours(checked), "checked and unchecked boxes look alike"

    settings = window.show_page("settings")
    high_contrast.settle()
    spin = next(iter(shown(settings.findChildren(QSpinBox))))
    spin_option = QStyleOptionSpinBox()
    spin.initStyleOption(spin_option)  # type: ignore[attr-defined]
    for control in (QStyle.SubControl.SC_SpinBoxUp, QStyle.SubControl.SC_SpinBoxDown):
        rect = spin.style().subControlRect(
            QStyle.ComplexControl.CC_SpinBox, spin_option, control, spin
        )
        assert _strong_pixels(spin, inner(rect, 2)) >= 6, f"no {control.name} arrow"

    prints = window.show_page("prints")
    high_contrast.settle()
    combo = next(iter(shown(prints.findChildren(QComboBox))))
    combo_option = QStyleOptionComboBox()
    combo.initStyleOption(combo_option)
    arrow = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, combo_option, QStyle.SubControl.SC_ComboBoxArrow, combo
    )
    assert _strong_pixels(combo, inner(arrow, 2)) >= 6, "no arrow on the list"


@pytest.mark.parametrize("high_contrast", [False, True], ids=["normal", "fort-contraste"])
def test_the_window_fits_a_1366_by_768_screen_at_200_percent(
    demo_app: DemoApp, high_contrast: bool
) -> None:
    """Every page built (the stack is as wide as its widest page), text at 200 %, the
    warning about unsent changes in the status bar: the smallest window the layouts allow,
    frame included, fits a common laptop screen."""
    window = demo_app.window
    clock = demo_app.ws.clock
    assert isinstance(clock, FixedClock)
    now = clock.at
    clock.at = now - timedelta(days=10)  # an edit left unsent for ten days
    demo_app.database.submit(
        lambda ws: contacts.create_person(ws, person_values()), lambda _r: window.data_changed()
    )
    demo_app.settle()
    clock.at = now
    window.data_changed()
    demo_app.settle()
    assert window.unsent_warning.isVisible()
    assert window.theme is not None
    window.theme.apply(200, high_contrast)
    window.adapt_to_font()
    for key in window.page_keys:
        window.show_page(key)
        demo_app.settle()
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    frame = window.frameGeometry().size() - window.geometry().size()
    assert minimum.width() + frame.width() <= 1366, (minimum, frame)
    assert minimum.height() + frame.height() <= 768, (minimum, frame)
    window.resize(1366 - frame.width(), 768 - frame.height())
    demo_app.settle()
    for key in window.page_keys:
        page = window.show_page(key)
        demo_app.settle()
        assert page.width() <= window.pages.width(), key


@pytest.mark.parametrize("scale", [100, 200])
@pytest.mark.parametrize("contrast", [False, True], ids=["normal", "fort-contraste"])
def test_a_tab_shows_the_accent_of_its_capital(
    demo_app: DemoApp, contrast: bool, scale: int
) -> None:
    # Fusion's tabs cut the accent off "É" on a tab not chosen ("Évaluations et revue
    # annuelle" read "Evaluations"): drawn with and without it, that tab must differ.
    window = demo_app.window
    assert window.theme is not None
    window.theme.apply(scale, contrast)
    demo_app.settle()
    drawn = []
    for title in ("Évaluations", "Evaluations"):
        tabs = QTabWidget(window)
        tabs.addTab(QLabel("…"), "Appels")
        tabs.addTab(QLabel("…"), title)
        tabs.adjustSize()
        tabs.show()
        demo_app.settle()
        bar = tabs.tabBar()
        drawn.append(bar.grab(bar.tabRect(1)).toImage())
        tabs.deleteLater()
    window.theme.apply(100, False)
    assert drawn[0].size() == drawn[1].size()
    assert drawn[0] != drawn[1], "the accent of É is not drawn"
