"""Atkinson Hyperlegible, registered with reportlab so every PDF embeds it.

The Braille Institute designed this face for low-vision readers (handouts.md).
The TTF files come from the PyPI package ``fontpkg-atkinson-hyperlegible``; we
locate them through its ``metadata.json`` (by style and weight, not by file
name) so a renamed file in a new release does not break printing.

Only the regular and bold weights are registered: the italic files are never
used, and the family maps "italic" back to the upright faces, so nothing can
print in italics even by accident.

Characters Atkinson Hyperlegible lacks are drawn with an embedded fallback font
(`FALLBACKS`, registered on first need): IBM Plex Sans Arabic for Arabic (static
regular and bold TTFs, OFL, PyPI ``fontpkg-ibm-plex-sans-arabic``), then Noto Sans
for Cyrillic, Greek, Vietnamese and the rest of Latin (OFL,
``fontpkg-noto-sans``; a variable font, drawn at its default, regular, instance).
Arabic is shaped (``arabic-reshaper``: the joining forms of each letter) before
it is measured, and put in visual order line by line (``python-bidi``) when it is
drawn; the text layer maps the joining forms back to the letters typed. What no
font covers is listed by `missing` so the preview can warn before printing.

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
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
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
)

log = logging.getLogger("havre.printing")

FONT_PACKAGE = "fontpkg_atkinson_hyperlegible"
FAMILY = "AtkinsonHyperlegible"
REGULAR = "AtkinsonHyperlegible"
BOLD = "AtkinsonHyperlegible-Bold"

# Letters and signs of French text outside ASCII, in the order they get their codes.
SEED_CHARACTERS = "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ«»‘’“”–—…€°"
_SUBSET_CACHE_SIZE = 32
# Characters whose codes are the same in every prepared document (see splitString).
_SEEDED = frozenset(chr(c) for c in range(32, 127)) | frozenset(SEED_CHARACTERS) | {"\u00a0"}
_SPLIT_CACHE_SIZE = 50_000

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
        self._split_cache: dict[str, list[tuple[int, bytes]]] = {}

    def splitString(self, text: str, doc: Any, encoding: str = "utf-8") -> Any:
        """reportlab's, from a cache for text whose every character has its seeded code.

        In a document prepared by `prepare_document`, ASCII and SEED_CHARACTERS have the
        same codes in every document, so their encoding never changes: a quarter of the
        drawing time was spent encoding the same words again.
        """
        state = self.state.get(doc)
        if state is None or not getattr(state, "havre_seeded", False):
            return super().splitString(text, doc, encoding)
        found = self._split_cache.get(text)
        if found is None:
            found = super().splitString(text, doc, encoding)
            if _SEEDED.issuperset(text) and len(self._split_cache) < _SPLIT_CACHE_SIZE:
                self._split_cache[text] = found
        return found

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
            content=_to_unicode_cmap(base_name, subset), filters=[pdfdoc.PDFZCompress]
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


def _is_presentation_form(code: int) -> bool:
    return 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF


def _unicode_hex(code: int) -> str:
    """What a character code means in the text layer: shaped Arabic maps back to its letters."""
    text = chr(code)
    if _is_presentation_form(code):
        text = unicodedata.normalize("NFKC", text)
    return text.encode("utf-16-be").hex().upper()


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with joining forms read as the letters they draw."""
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({fontname})",
            f"/Ordering ({fontname})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *(f"<{i:02X}> <{_unicode_hex(v)}>" for i, v in enumerate(subset)),
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


def _font_file(package_name: str, style: str, weight: int | None) -> Traversable:
    """A font file of a fontpkg package, by style and weight (None: its variable font)."""
    package = resources.files(package_name)
    meta = json.loads(package.joinpath("metadata.json").read_text("utf-8"))
    for entry in meta["files"]:
        if entry["style"] != style:
            continue
        if weight is None and entry.get("variable"):
            return package.joinpath(entry["path"])
        if weight is not None and entry["weight"] is not None and int(entry["weight"]) == weight:
            return package.joinpath(entry["path"])
    raise RuntimeError(f"{package_name} has no {style} {weight} font file")


def _load(name: str, style: str, weight: int | None, package: str = FONT_PACKAGE) -> EmbeddedFont:
    with resources.as_file(_font_file(package, style, weight)) as path:
        # TTFont reads the whole file into memory: the path may go away afterwards.
        return EmbeddedFont(name, str(path))


@dataclass(frozen=True)
class Fallback:
    """A font for the characters Atkinson Hyperlegible lacks (registered on first need)."""

    regular: str
    bold: str
    package: str
    regular_weight: int | None  # None: the package's variable font, default instance
    bold_weight: int | None


FALLBACKS = (
    Fallback(
        "IBMPlexSansArabic",
        "IBMPlexSansArabic-Bold",
        "fontpkg_ibm_plex_sans_arabic",
        400,
        700,
    ),
    Fallback("NotoSans", "NotoSans", "fontpkg_noto_sans", None, None),
)
# Characters no font has: drawn as Atkinson's empty box (its .notdef glyph) by a copy of
# the font that maps them to that glyph, so that they keep a code in the PDF and stay in
# its text layer (reportlab would draw them with code 0, which reads as nothing).
MISSING = "AtkinsonHyperlegible-Missing"
FONT_NAMES = (
    REGULAR,
    BOLD,
    *(f.regular for f in FALLBACKS),
    *(f.bold for f in FALLBACKS),
    MISSING,
)


def _register_fallback(fallback: Fallback) -> None:
    with _lock:
        registered = pdfmetrics.getRegisteredFontNames()
        if fallback.regular not in registered:
            pdfmetrics.registerFont(
                _load(fallback.regular, "normal", fallback.regular_weight, fallback.package)
            )
        if fallback.bold not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(
                _load(fallback.bold, "normal", fallback.bold_weight, fallback.package)
            )
        log.info("fallback font registered: %s", fallback.regular)


def _has(name: str, char: str) -> bool:
    face: Any = pdfmetrics.getFont(name).face  # type: ignore[attr-defined]
    return ord(char) in face.charToGlyph


@lru_cache(maxsize=4096)
def covering_font(char: str, bold: bool = False) -> str | None:
    """The font that draws `char`: ours, else the first fallback that has it, else None."""
    register_fonts()
    primary = font_name(bold)
    if _has(primary, char) or char in " \u00a0\n":
        return primary
    for fallback in FALLBACKS:
        _register_fallback(fallback)
        name = fallback.bold if bold else fallback.regular
        if _has(name, char):
            return name
    return None


def _missing_font(char: str) -> str:
    """The font that draws `char`, which no font has, as an empty box (MISSING)."""
    with _lock:
        if MISSING not in pdfmetrics.getRegisteredFontNames():
            font = _load(MISSING, "normal", 400)
            font.face.name = MISSING.encode("ascii")
            pdfmetrics.registerFont(font)
        face: Any = pdfmetrics.getFont(MISSING).face  # type: ignore[attr-defined]
        face.charToGlyph.setdefault(ord(char), 0)
    return MISSING


@lru_cache(maxsize=100_000)
def runs(text: str, bold: bool) -> tuple[tuple[str, str], ...]:
    """`text` cut into (font name, text) runs: ours, a fallback, or MISSING's empty box."""
    primary = font_name(bold)
    if text.isascii():
        return ((primary, text),)
    out: list[tuple[str, str]] = []
    for char in text:
        name = covering_font(char, bold) or _missing_font(char)
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + char)
        else:
            out.append((name, char))
    return tuple(out)


def missing(text: str) -> str:
    """The characters of `text` that no embedded font can draw (each once, in order)."""
    if text.isascii() or _SEEDED.issuperset(text):
        return ""  # French text: all in our font
    found = dict.fromkeys(
        char
        for char in shape(text)
        if not char.isspace()
        and unicodedata.category(char)[0] != "C"
        and covering_font(char) is None
    )
    return "".join(found)


_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


@lru_cache(maxsize=4096)
def shape(text: str) -> str:
    """Arabic letters in their joining forms (initial, medial, final), as they are drawn."""
    if text.isascii() or not _ARABIC.search(text):
        return text
    import arabic_reshaper  # only documents with Arabic in them pay for it

    return str(arabic_reshaper.reshape(text))


def visual(segments: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, bool], ...]:
    """A line's segments in the order they are drawn: right-to-left runs reversed (bidi).

    The document's direction is left to right (French); each segment is reordered on
    its own, which is exact as long as a right-to-left run does not straddle a change
    between regular and bold (a label in bold is French, then a colon and a space).
    """
    if all(text.isascii() or not _RTL.search(text) for text, _bold in segments):
        return segments
    from bidi import get_display

    return tuple((str(get_display(text, base_dir="L")), bold) for text, bold in segments)


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
        font.state[doc].havre_seeded = True


def seeded(text: str) -> bool:
    """Whether every character of `text` has the same code in every prepared document."""
    return _SEEDED.issuperset(text)


def font_name(bold: bool) -> str:
    return BOLD if bold else REGULAR


@lru_cache(maxsize=4)
def metrics(name: str) -> FontMetrics:
    register_fonts()
    face: Any = pdfmetrics.getFont(name).face  # type: ignore[attr-defined]
    return FontMetrics(ascent=face.ascent / 1000.0, descent=-face.descent / 1000.0)


@lru_cache(maxsize=100_000)
def _width_per_point(text: str, bold: bool) -> float:
    register_fonts()
    return sum(pdfmetrics.stringWidth(run, name, 1000.0) for name, run in runs(text, bold)) / 1000.0


def text_width(text: str, bold: bool, size: float) -> float:
    """Width of `text` at `size` points; cached per word, since handouts repeat their words."""
    return _width_per_point(text, bold) * size


def coverage_warnings(fields: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """A French warning for each field holding characters no embedded font can draw.

    `fields` are (label, value) pairs; the preview shows the warnings before printing.
    Such a character stays in the PDF's text and prints as an empty box.
    """
    out = []
    for label, value in fields:
        chars = missing(value)
        if chars:
            shown = ", ".join(f"« {c} » (U+{ord(c):04X})" for c in chars)
            out.append(
                f"{label} : {shown} ne peut pas être imprimé ; il apparaîtra "
                "comme un carré vide. Remplacez-le ou retirez-le avant d'imprimer."
            )
    return tuple(out)
