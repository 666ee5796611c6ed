"""Reading generated PDFs back, as a reader (and a proofreader) would.

pdfplumber gives every character with its font, size, colour and position;
pypdf gives the document catalog, metadata and font objects. The checks here
are those of shared/design/handouts.md, measured on the PDF itself.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass
from typing import Any

import pdfplumber
import pypdf
from reportlab.lib.units import cm, mm

from havre_desktop.printing import fonts
from havre_desktop.printing.layout import WINDOW

PAGE_LINE = re.compile(r"^Page \d+ sur \d+$")
HEADER = "Ville du Havre — Le Havre Ensemble"


@dataclass
class TextLine:
    page: int
    baseline: float  # from the top of the page
    size: float  # the largest character size on the line
    chars: list[dict[str, object]]

    @property
    def text(self) -> str:
        return "".join(str(c["text"]) for c in self.chars)


def chars(pdf: bytes) -> list[list[dict[str, object]]]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [list(page.chars) for page in doc.pages]


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def text_lines(pdf: bytes) -> list[TextLine]:
    """Characters grouped by baseline, in reading order, page by page."""
    out: list[TextLine] = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for number, page in enumerate(doc.pages, start=1):
            by_baseline: dict[float, list[dict[str, object]]] = {}
            for char in page.chars:
                matrix = char["matrix"]
                assert isinstance(matrix, tuple)
                baseline = round(float(page.height) - float(matrix[5]), 1)
                by_baseline.setdefault(baseline, []).append(char)
            for baseline in sorted(by_baseline):
                line = sorted(by_baseline[baseline], key=lambda c: float(str(c["x0"])))
                size = max(float(str(c["size"])) for c in line)
                out.append(TextLine(number, baseline, size, line))
    return out


def body_text(pdf: bytes) -> str:
    """All text but the page headers and numbers, whitespace collapsed (to find flowed text)."""
    kept = [
        line.text
        for line in text_lines(pdf)
        if line.text.strip() != HEADER and not PAGE_LINE.match(line.text.strip())
    ]
    return re.sub(r"\s+", " ", " ".join(kept)).strip()


def all_text(pdf: bytes) -> str:
    return "\n".join(line.text for line in text_lines(pdf))


def metadata(pdf: bytes) -> dict[str, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    meta = {str(k): str(v) for k, v in (reader.metadata or {}).items()}
    root: Any = reader.trailer["/Root"]
    meta["/Lang"] = str(root.get("/Lang", ""))
    return meta


def font_objects(pdf: bytes) -> list[tuple[str, bool]]:
    """(BaseFont, embedded) for every font listed in any page's resources."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    found: dict[str, bool] = {}
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for ref in resources.get("/Font", {}).values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and "/FontFile2" in descriptor.get_object()
            found[str(font["/BaseFont"])] = embedded
    return sorted(found.items())


def content_streams(pdf: bytes) -> list[bytes]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [page.get_contents().get_data() for page in reader.pages]  # type: ignore[union-attr]


def embedded_family(font_name: str) -> bool:
    """Atkinson Hyperlegible, or one of the fallback fonts for what it lacks."""
    return any(family in font_name for family in ("Atkinson", "IBMPlexSansArabic", "NotoSans"))


def in_window(char: dict[str, Any]) -> bool:
    """Whether a character is in the band of the envelope's window (letters, page 1):
    the address in the window, the sender to its left."""
    return WINDOW.top - 1 <= float(char["top"]) and float(char["bottom"]) <= WINDOW.top + 45 * mm


def assert_large_print(pdf: bytes, body: float, window: bool = False) -> None:
    """Every rule of handouts.md that can be measured on the page.

    `window` (letters): the postal address in the envelope's window and the sender
    to its left may be set at 14 pt, the smallest size allowed anywhere, like nothing
    else.
    """
    lines = text_lines(pdf)
    assert lines, "no text at all"
    margin = 2.4 * cm
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            width, height = float(page.width), float(page.height)
            assert not page.images, "no images (no text over images)"
            # A letter's first page: its footer reads "Page 1 sur N".
            first_page = window and "Page 1 sur" in (page.extract_text() or "")
            for rect in page.rects:
                # Frames only: never a filled background behind text.
                assert not rect["fill"] or rect["non_stroking_color"] in ((1,), (1, 1, 1)), rect
            for char in page.chars:
                size = float(char["size"])
                # Never below 14 pt; in these documents nothing is smaller than the body.
                assert size >= 14, char
                if not (first_page and in_window(char)):
                    assert size >= body - 0.01, (char["text"], size)
                assert embedded_family(str(char["fontname"])), char["fontname"]
                # Black on white, whatever colour space the PDF uses.
                colour = tuple(char["non_stroking_color"] or (0,))
                assert colour in ((0,), (0, 0, 0), (0, 0, 0, 1)), (char["text"], colour)
                assert char["upright"]
                # Generous margins on all four sides (2.5 cm asked, 2.4 cm checked).
                assert float(char["x0"]) >= margin - 0.01, char
                assert float(char["x1"]) <= width - margin + 0.01, char
                assert float(char["top"]) >= margin - 0.01, char
                assert float(char["bottom"]) <= height - margin + 0.01, char
    by_page: dict[int, list[TextLine]] = {}
    for line in lines:
        # At most 70 characters per line, spaces included.
        assert len(line.text) <= 70, (len(line.text), line.text)
        by_page.setdefault(line.page, []).append(line)
        _assert_not_justified(line)
    for page_lines in by_page.values():
        for upper, lower in itertools.pairwise(page_lines):
            # Line spacing at least 1.4 times the larger of the two sizes.
            gap = lower.baseline - upper.baseline
            assert gap >= 1.4 * max(upper.size, lower.size) - 0.01, (
                upper.text,
                lower.text,
                gap,
            )
    for name, embedded in font_objects(pdf):
        assert embedded_family(name) and embedded, name
    for stream in content_streams(pdf):
        # No word or character spacing operators: text is never stretched.
        assert b" Tw" not in stream, "word spacing"
        assert b" Tc" not in stream, "character spacing"


def _assert_not_justified(line: TextLine) -> None:
    """Each space is the font's own space, and the next word starts right after it."""
    chars_ = line.chars
    for index, char in enumerate(chars_):
        if char["text"] != " " or index + 1 >= len(chars_):
            continue
        bold = "Bold" in str(char["fontname"])
        size = float(str(char["size"]))
        normal = fonts.text_width(" ", bold, size)
        space = float(str(char["x1"])) - float(str(char["x0"]))
        assert abs(space - normal) < 0.05, (line.text, space, normal)
        following = float(str(chars_[index + 1]["x0"]))
        assert abs(following - float(str(char["x1"]))) < 0.05, (line.text, "gap after space")


def line_starts(pdf: bytes) -> set[float]:
    """The x positions where lines begin (left alignment: only a few, all at the left)."""
    return {round(float(str(line.chars[0]["x0"])), 1) for line in text_lines(pdf)}


def body_lines_per_page(pdf: bytes) -> dict[int, int]:
    """How many lines of text each page holds, its header and page number apart."""
    counts = {page: 0 for page in range(1, page_count(pdf) + 1)}
    for line in text_lines(pdf):
        text = line.text.strip()
        if text and text != HEADER and not PAGE_LINE.match(text):
            counts[line.page] += 1
    return counts


def page_of(pdf: bytes, text: str) -> int:
    """The page of the first line that is exactly `text`."""
    return next(line.page for line in text_lines(pdf) if line.text.strip() == text)


def assert_words_whole(pdf: bytes, text: str) -> None:
    """Each word of `text` is on one line, or wrapped only right after one of its hyphens."""
    lines = "\n".join(line.text.strip() for line in text_lines(pdf))
    for word in text.split():
        pattern = "\n?".join(re.escape(char) for char in word)
        found = re.search(pattern, lines)
        assert found, (word, "not printed")
        for match in re.finditer("\n", found.group(0)):
            assert found.group(0)[match.start() - 1] in "-\u2010", (word, "cut inside")
