"""Atkinson Hyperlegible, registered with reportlab so every PDF embeds it.

The Braille Institute designed this face for low-vision readers (handouts.md).
The TTF files come from the PyPI package ``fontpkg-atkinson-hyperlegible``; we
locate them through its ``metadata.json`` (by style and weight, not by file
name) so a renamed file in a new release does not break printing.

Only the regular and bold weights are registered: the italic files are never
used, and the family maps "italic" back to the upright faces, so nothing can
print in italics even by accident.

Speed: embedding a TrueType subset costs reportlab about 1.5 ms per font and
per document (subsetting, checksums, compression, the widths array), which was
half the time of a handout. ``EmbeddedFont`` keeps the formatted font objects
of each subset it has embedded, and `prepare_document` assigns the French
letters their codes in a fixed order before anything is drawn, so that
successive handouts use the very same subset and reuse those objects. The
embedded font is the same as reportlab's own (same subset, same objects).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    TTFont,
    makeToUnicodeCMap,
)

log = logging.getLogger("havre.printing")

FONT_PACKAGE = "fontpkg_atkinson_hyperlegible"
FAMILY = "AtkinsonHyperlegible"
REGULAR = "AtkinsonHyperlegible"
BOLD = "AtkinsonHyperlegible-Bold"

# Letters and signs of French text outside ASCII, in the order they get their codes.
SEED_CHARACTERS = "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ«»‘’“”–—…€°"
_SUBSET_CACHE_SIZE = 32

_lock = threading.Lock()


@dataclass(frozen=True)
class FontMetrics:
    """Vertical metrics as fractions of the font size (for exact line placement)."""

    ascent: float
    descent: float  # positive: how far glyphs go below the baseline


class _Formatted(pdfdoc.PDFObject):
    """A PDF object whose bytes were formatted once, for an earlier document."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: Any) -> bytes:
        return self.data


@dataclass(frozen=True)
class _SubsetObjects:
    base_name: str
    widths: bytes
    to_unicode: bytes
    font_file: bytes


class EmbeddedFont(TTFont):
    """A reportlab TTFont that reuses the formatted objects of subsets it embedded before."""

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename)
        self._subsets: OrderedDict[tuple[int, tuple[int, ...]], _SubsetObjects] = OrderedDict()
        self._subsets_lock = threading.Lock()

    def _objects(self, index: int, subset: list[int]) -> _SubsetObjects:
        key = (index, tuple(subset))
        with self._subsets_lock:
            found = self._subsets.get(key)
            if found is not None:
                self._subsets.move_to_end(key)
                return found
        face: Any = self.face
        base_name = (b"".join((SUBSETN(index), b"+", face.name, face.subfontNameX))).decode(
            "pdfdoc"
        )
        plain = pdfdoc.DummyDoc()  # no encryption: our PDFs are never encrypted
        widths = pdfdoc.PDFArray([face.getCharWidth(code) for code in subset]).format(plain)
        cmap = pdfdoc.PDFStream(
            content=makeToUnicodeCMap(base_name, subset), filters=[pdfdoc.PDFZCompress]
        )
        font_data = face.makeSubset(subset)
        font_file = pdfdoc.PDFStream(content=font_data, filters=[pdfdoc.PDFZCompress])
        font_file.dictionary["Length1"] = len(font_data)
        objects = _SubsetObjects(
            base_name=base_name,
            widths=widths,
            to_unicode=cmap.format(plain),
            font_file=font_file.format(plain),
        )
        with self._subsets_lock:
            self._subsets[key] = objects
            while len(self._subsets) > _SUBSET_CACHE_SIZE:
                self._subsets.popitem(last=False)
        return objects

    def addObjects(self, doc: Any) -> None:
        """What TTFont.addObjects writes, built from cached, already formatted parts."""
        if not doc.compression or not isinstance(doc.encrypt, pdfdoc.NoEncryption):
            super().addObjects(doc)
            return
        try:
            state = self.state[doc]
        except KeyError:
            state = self.state[doc] = TTFont.State(self._asciiReadable, self)  # type: ignore[attr-defined]
        state.frozen = 1
        face: Any = self.face
        flags = (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC  # as reportlab does
        for index, subset in enumerate(state.subsets):
            internal = self.getSubsetInternalName(index, doc)[1:]
            parts = self._objects(index, subset)
            font_file = doc.Reference(
                _Formatted(parts.font_file), f"fontFile:{face.filename}({parts.base_name})"
            )
            descriptor = pdfdoc.PDFDictionary(
                {
                    "Type": "/FontDescriptor",
                    "Ascent": face.ascent,
                    "CapHeight": face.capHeight,
                    "Descent": face.descent,
                    "Flags": flags,
                    "FontBBox": pdfdoc.PDFArray(face.bbox),
                    "FontName": pdfdoc.PDFName(parts.base_name),
                    "ItalicAngle": face.italicAngle,
                    "StemV": face.stemV,
                    "FontFile2": font_file,
                    "MissingWidth": face.defaultWidth,
                }
            )
            pdf_font: Any = pdfdoc.PDFTrueTypeFont()
            pdf_font.__Comment__ = f"Font {self.fontName} subset {index}"
            pdf_font.Name = internal
            pdf_font.BaseFont = parts.base_name
            pdf_font.FirstChar = 0
            pdf_font.LastChar = len(subset) - 1
            pdf_font.Widths = _Formatted(parts.widths)
            pdf_font.ToUnicode = doc.Reference(
                _Formatted(parts.to_unicode), f"toUnicodeCMap:{parts.base_name}"
            )
            pdf_font.FontDescriptor = doc.Reference(descriptor, f"fontDescriptor:{parts.base_name}")
            doc.Reference(pdf_font, internal)
            doc.idToObject["BasicFonts"].dict[internal] = pdf_font
        del self.state[doc]


def _font_file(style: str, weight: int) -> Traversable:
    package = resources.files(FONT_PACKAGE)
    meta = json.loads(package.joinpath("metadata.json").read_text("utf-8"))
    for entry in meta["files"]:
        if entry["style"] == style and int(entry["weight"]) == weight:
            return package.joinpath(entry["path"])
    raise RuntimeError(f"{FONT_PACKAGE} has no {style} {weight} font file")


def _load(name: str, style: str, weight: int) -> EmbeddedFont:
    with resources.as_file(_font_file(style, weight)) as path:
        # TTFont reads the whole file into memory: the path may go away afterwards.
        return EmbeddedFont(name, str(path))


def register_fonts() -> None:
    """Register the regular and bold faces once per process (idempotent, thread-safe)."""
    with _lock:
        if REGULAR in pdfmetrics.getRegisteredFontNames():
            return
        # Binary (Flate only) streams instead of Flate + ASCII85: smaller files, and the
        # pure-Python ASCII85 encoder took a fifth of the time of a handout.
        rl_config.useA85 = 0
        pdfmetrics.registerFont(_load(REGULAR, "normal", 400))
        pdfmetrics.registerFont(_load(BOLD, "normal", 700))
        # <i> or an italic style falls back to the upright faces: no italics anywhere.
        pdfmetrics.registerFontFamily(
            FAMILY, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD
        )
        log.info("font registered: Atkinson Hyperlegible (regular, bold)")


def prepare_document(doc: Any) -> None:
    """Give the French letters their codes first, so every document has the same subset."""
    register_fonts()
    for name in (REGULAR, BOLD):
        font: Any = pdfmetrics.getFont(name)
        font.splitString(SEED_CHARACTERS, doc)


def font_name(bold: bool) -> str:
    return BOLD if bold else REGULAR


@lru_cache(maxsize=4)
def metrics(name: str) -> FontMetrics:
    register_fonts()
    face: Any = pdfmetrics.getFont(name).face  # type: ignore[attr-defined]
    return FontMetrics(ascent=face.ascent / 1000.0, descent=-face.descent / 1000.0)


@lru_cache(maxsize=100_000)
def _width_per_point(text: str, name: str) -> float:
    register_fonts()
    return pdfmetrics.stringWidth(text, name, 1000.0) / 1000.0


def text_width(text: str, bold: bool, size: float) -> float:
    """Width of `text` at `size` points; cached per word, since handouts repeat their words."""
    return _width_per_point(text, font_name(bold)) * size


def has_glyph(char: str, bold: bool = False) -> bool:
    register_fonts()
    face: Any = pdfmetrics.getFont(font_name(bold)).face  # type: ignore[attr-defined]
    return ord(char) in face.charToGlyph
