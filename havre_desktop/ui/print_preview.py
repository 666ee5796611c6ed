"""Preview a PDF (QtPdf), print it (QPrinter, pages rendered from the PDF) or save it.

The PDF comes from havre_desktop.printing (Qt-free). What happens once the
document has really left the screen (recording a handout as given, auditing an
export) is the caller's `on_output` callback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from havre_common.french import count
from havre_desktop.core.files import write_file
from havre_desktop.ui.i18n import tr

log = logging.getLogger("havre.ui.printing")

OutputCallback = Callable[[str], None]  # "printed" or "saved"
RENDER_DPI = 300


def print_pdf(document: QPdfDocument, printer: QPrinter) -> int:
    """Render every page of `document` onto `printer`; returns the pages printed."""
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError(tr("L'imprimante n'a pas pu être ouverte."))
    try:
        pages = document.pageCount()
        # Pages are rendered at up to 300 dpi (plenty for 16 pt text and charts), then
        # scaled onto the page: rendering at a 1200 dpi printer's full resolution would
        # take seconds and hundreds of MB per page.
        dpi = min(printer.resolution(), RENDER_DPI)
        for index in range(pages):
            if index:
                printer.newPage()
            viewport = painter.viewport()
            size = document.pagePointSize(index)
            image = document.render(
                index, QSize(int(size.width() * dpi / 72), int(size.height() * dpi / 72))
            )
            scale = min(viewport.width() / size.width(), viewport.height() / size.height())
            target = QRect(0, 0, int(size.width() * scale), int(size.height() * scale))
            painter.drawImage(target, image)
        return pages
    finally:
        painter.end()


class PdfPreviewDialog(QDialog):
    """Shows the document; Imprimer and Enregistrer en PDF act on exactly these bytes."""

    def __init__(
        self,
        pdf: bytes,
        title: str,
        suggested_name: str,
        on_output: OutputCallback | None = None,
        parent: QWidget | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.pdf = pdf
        self.suggested_name = suggested_name
        self.on_output = on_output
        self.outputs: list[str] = []
        self._bytes = QByteArray(pdf)
        self._buffer = QBuffer(self._bytes, self)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)
        self.view = QPdfView(self)
        self.view.setAccessibleName(tr("Aperçu du document"))
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.pages_label = QLabel(count(self.document.pageCount(), tr("{n} page"), tr("{n} pages")))
        self.pages_label.setAccessibleName(tr("Nombre de pages"))
        self.print_button = QPushButton(tr("&Imprimer…"))
        self.print_button.setAccessibleName(tr("Imprimer"))
        self.print_button.setDefault(True)
        self.print_button.clicked.connect(self.print_with_dialog)
        self.save_button = QPushButton(tr("&Enregistrer en PDF…"))
        self.save_button.setAccessibleName(tr("Enregistrer en PDF"))
        self.save_button.clicked.connect(self.save_with_dialog)
        close = QPushButton(tr("&Fermer"))
        close.setAccessibleName(tr("Fermer l'aperçu"))
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pages_label)
        buttons.addStretch(1)
        for button in (self.print_button, self.save_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        # What the agent must know before printing: a character no font draws, a sample
        # City number. Above the document, where it is read first.
        self.warnings = QLabel("\n".join(f"⚠ {w}" for w in warnings))
        self.warnings.setWordWrap(True)
        self.warnings.setObjectName("printWarnings")
        self.warnings.setAccessibleName(tr("Avertissements avant impression"))
        self.warnings.setVisible(bool(warnings))
        layout.addWidget(self.warnings)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.resize(900, 1000)
        self.finished.connect(self._release)

    def _release(self) -> None:
        """Closed: the document (names, addresses) is let go, not kept until the next one."""
        self.document.close()
        self._buffer.close()
        self._bytes.clear()
        self.pdf = b""

    # -- output -----------------------------------------------------------------------

    def print_to(self, printer: QPrinter) -> int:
        pages = print_pdf(self.document, printer)
        self._done("printed")
        return pages

    def print_with_dialog(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.windowTitle())
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(tr("Imprimer"))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            self.print_to(printer)
        except OSError as exc:
            QMessageBox.warning(self, tr("Impression"), str(exc))

    def save_to(self, path: Path, pdf: bytes | None = None) -> None:
        write_file(path, self.pdf if pdf is None else pdf, private=False)
        self._done("saved")

    def save_with_dialog(self) -> None:
        pdf = self.pdf  # these bytes, even if the preview is closed meanwhile
        name, _filter = QFileDialog.getSaveFileName(
            self, tr("Enregistrer en PDF"), self.suggested_name, tr("Documents PDF (*.pdf)")
        )
        if not name:
            return
        path = Path(name if name.lower().endswith(".pdf") else name + ".pdf")
        try:
            self.save_to(path, pdf)
        except OSError as exc:
            QMessageBox.warning(
                self,
                tr("Enregistrement"),
                tr("Le fichier n'a pas pu être enregistré : {e}").format(e=exc),
            )

    def _done(self, how: str) -> None:
        self.outputs.append(how)
        if self.on_output is not None:
            self.on_output(how)
