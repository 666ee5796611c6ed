"""A small large-print layout engine drawing straight onto the reportlab canvas.

Why not platypus for the handouts: the rules of handouts.md are easier to
*guarantee* than to hope for. Here every line is broken by our own code, so:

* text is left aligned and never justified (spaces are real space glyphs of
  the font's normal width; there is no word-spacing operator anywhere);
* a line never exceeds 70 characters *and* never exceeds the frame width,
  both measured with the embedded font's own metrics;
* successive baselines are at least 1.5 times the larger of the two sizes;
* nothing is parsed as markup, so user text prints exactly as typed;
* headings and page numbers are drawn by the page itself, always in the same place.

It is also several times faster than platypus for the same text, which
matters when a batch prints hundreds of letters (see benchmarks/printing.py).
Coordinators' reports (tables, charts, small print) do use platypus.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import IO

from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.units import cm, mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from havre_desktop.printing import fonts
from havre_desktop.printing.text import clean
from havre_desktop.printing.variant import Variant as Variant

log = logging.getLogger("havre.printing")

CITY_IDENTITY = "Ville du Havre — Le Havre Ensemble"
AUTHOR = CITY_IDENTITY
CREATOR = "Havre Ensemble Desktop"
LANGUAGE = "fr-FR"

# Building two documents at once would share reportlab's per-font subset state.
BUILD_LOCK = threading.RLock()


@dataclass(frozen=True)
class Typography:
    """Sizes and measures of one variant (points)."""

    body: float
    min_body: float  # the smallest a name may shrink to, so no word of it is cut
    leading_ratio: float = 1.5
    max_chars: int = 70
    margin: float = 2.5 * cm
    page_size: tuple[float, float] = A4

    @property
    def h1(self) -> float:
        return round(self.body * 1.55)

    @property
    def h2(self) -> float:
        return round(self.body * 1.3)

    @property
    def h3(self) -> float:
        return round(self.body * 1.15)

    @property
    def number(self) -> float:
        """Phone numbers: bigger than the body, so they are easy to find (20 and 26 pt)."""
        return self.body + 4

    @property
    def header(self) -> float:
        """Page header and footer: never smaller than the body."""
        return self.body

    def leading(self, size: float) -> float:
        return size * self.leading_ratio


TYPOGRAPHY = {
    # Never below 14 pt anywhere; the very large variant stays within 20-24 pt.
    Variant.LARGE: Typography(body=16, min_body=14),
    Variant.VERY_LARGE: Typography(body=22, min_body=20),
}


# -- the flow: what a document says, before it is laid out ---------------------------------


@dataclass(frozen=True)
class Span:
    """A run of text, regular or bold (the only emphasis allowed)."""

    text: str
    bold: bool = False


@dataclass(frozen=True)
class Para:
    """A paragraph: spans of one size; a newline in a span forces a line break."""

    spans: tuple[Span, ...]
    size: float
    space_before: float = 0.0
    space_after: float = 0.0
    keep_with_next: bool = False
    anchor: str | None = None
    # A name or an address: when one of its words (cut at hyphens) is wider than a line,
    # the paragraph is set smaller, down to this size, rather than cut inside a word.
    min_size: float | None = None


@dataclass(frozen=True)
class Group:
    """Paragraphs kept on one page when they fit on one; optionally framed by a box.

    A group with a `continued` heading may instead be split, at paragraph
    boundaries, when much of the page is still free (unless `keep`), or when it
    is taller than a page: that heading is then repeated at the top of the next
    page ("Atelier mémoire (suite)"), so a reader never finds a page of details
    without knowing what they are about.
    """

    items: tuple[Para, ...]
    boxed: bool = False
    continued: Para | None = None
    # Never split when it fits on one page, however much of the page it leaves free.
    keep: bool = False


@dataclass(frozen=True)
class PageBreak:
    pass


Flow = Para | Group | PageBreak


# -- lines and pages --------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    segments: tuple[tuple[str, bool], ...]
    size: float
    leading: float
    chars: int
    width: float
    gap_before: float = 0.0
    gap_after: float = 0.0
    pad_top: float = 0.0
    pad_bottom: float = 0.0
    box_pad: float = 0.0  # inside a box: room kept for its frame at a page's top and bottom
    indent: float = 0.0
    box: int | None = None
    anchor: str | None = None

    @property
    def text(self) -> str:
        return "".join(text for text, _bold in self.segments)


@dataclass
class PlacedLine:
    line: Line
    x: float
    y: float  # baseline


@dataclass
class Page:
    lines: list[PlacedLine] = field(default_factory=list)


@dataclass(frozen=True)
class Geometry:
    """Where the header, the footer and the text frame sit on every page."""

    typo: Typography
    width: float
    height: float
    x0: float
    frame_width: float
    header_baseline: float
    header_rule: float
    footer_baseline: float
    footer_rule: float
    frame_top: float
    frame_bottom: float

    @classmethod
    def of(cls, typo: Typography) -> Geometry:
        width, height = typo.page_size
        m = fonts.metrics(fonts.BOLD)
        size = typo.header
        header_baseline = height - typo.margin - m.ascent * size
        header_rule = header_baseline - m.descent * size - 0.25 * size
        footer_baseline = typo.margin + m.descent * size
        footer_rule = footer_baseline + m.ascent * size + 0.25 * size
        return cls(
            typo=typo,
            width=width,
            height=height,
            x0=typo.margin,
            frame_width=width - 2 * typo.margin,
            header_baseline=header_baseline,
            header_rule=header_rule,
            footer_baseline=footer_baseline,
            footer_rule=footer_rule,
            frame_top=header_rule - 0.45 * size,
            frame_bottom=footer_rule + 0.45 * size,
        )


@dataclass
class LaidOut:
    """One section (a handout, one letter) cut into pages, numbered from 1."""

    pages: list[Page]
    anchors: dict[str, int]
    header: str
    address: tuple[PlacedLine, ...] = ()  # in the envelope's window, on page 1


# -- line breaking ----------------------------------------------------------------------

_SPACES = re.compile(r"([ \u00a0\u2000-\u200a\u205f\u3000]+|\n)")
_BREAKING_SPACE = re.compile(r"[ \u2000-\u200a\u205f\u3000]+")
_NEWLINE = object()
Word = tuple[tuple[str, bool], ...]


def _words(spans: Sequence[Span]) -> list[Word | object]:
    """Words (each a tuple of (text, bold) pieces glued together) and forced breaks."""
    out: list[Word | object] = []
    current: list[tuple[str, bool]] = []
    for span in spans:
        # Arabic takes its joining forms before anything is measured (fonts.shape).
        for piece in _SPACES.split(fonts.shape(clean(span.text))):
            if not piece:
                continue
            if piece == "\n":
                if current:
                    out.append(tuple(current))
                    current = []
                out.append(_NEWLINE)
            elif _BREAKING_SPACE.fullmatch(piece):
                if current:
                    out.append(tuple(current))
                    current = []
            else:
                # A no-break space stays inside its word.
                current.append((piece, span.bold))
    if current:
        out.append(tuple(current))
    return out


def _word_width(word: Word, size: float) -> float:
    return sum(fonts.text_width(text, bold, size) for text, bold in word)


_AFTER_HYPHEN = re.compile(r"(?<=[-\u2010])(?=.)")


def _hyphen_pieces(word: Word) -> list[Word]:
    """A compound word cut after its own hyphens ("Dupont-", "Lefèvre"): no hyphen is added."""
    pieces: list[list[tuple[str, bool]]] = [[]]
    for text, bold in word:
        for index, part in enumerate(_AFTER_HYPHEN.split(text)):
            if index:
                pieces.append([])
            pieces[-1].append((part, bold))
    return [tuple(piece) for piece in pieces if piece]


def _split_long_word(word: Word, size: float, width: float, max_chars: int) -> list[Word]:
    """A word wider than a line (a pasted web address) is cut, never left to overflow."""
    chunks: list[Word] = []
    current: list[tuple[str, bool]] = []
    used = 0.0
    count = 0
    for text, bold in word:
        for char in text:
            w = fonts.text_width(char, bold, size)
            if current and (used + w > width or count + 1 > max_chars):
                chunks.append(tuple(current))
                current, used, count = [], 0.0, 0
            if current and current[-1][1] == bold:
                current[-1] = (current[-1][0] + char, bold)
            else:
                current.append((char, bold))
            used += w
            count += 1
    if current:
        chunks.append(tuple(current))
    return chunks


class _LineBuilder:
    def __init__(self, size: float, width: float, max_chars: int) -> None:
        self.size = size
        self.width = width
        self.max_chars = max_chars
        self.lines: list[tuple[tuple[tuple[str, bool], ...], int, float]] = []
        self._segments: list[tuple[str, bool]] = []
        self._width = 0.0
        self._chars = 0

    def _append(self, word: Word, with_space: bool) -> None:
        if with_space:
            text, bold = self._segments[-1]
            self._segments[-1] = (text + " ", bold)
            self._width += fonts.text_width(" ", bold, self.size)
            self._chars += 1
        for text, bold in word:
            if self._segments and self._segments[-1][1] == bold:
                self._segments[-1] = (self._segments[-1][0] + text, bold)
            else:
                self._segments.append((text, bold))
            self._width += fonts.text_width(text, bold, self.size)
            self._chars += len(text)

    def add(self, word: Word, glue: bool = False) -> None:
        """Add a word after a space (or right after the previous piece, `glue`)."""
        width = _word_width(word, self.size)
        chars = sum(len(text) for text, _ in word)
        if width > self.width or chars > self.max_chars:
            pieces = _hyphen_pieces(word)
            if len(pieces) > 1:
                # Wider than a line: wrapped at its own hyphens before anything is cut.
                for index, piece in enumerate(pieces):
                    self.add(piece, glue=glue or index > 0)
                return
            for index, chunk in enumerate(
                _split_long_word(word, self.size, self.width, self.max_chars)
            ):
                self.add(chunk, glue=glue or index > 0)
            return
        if not self._segments:
            self._append(word, with_space=False)
            return
        if glue:
            if self._width + width <= self.width and self._chars + chars <= self.max_chars:
                self._append(word, with_space=False)
            else:
                self.end_line()
                self._append(word, with_space=False)
            return
        space = fonts.text_width(" ", self._segments[-1][1], self.size)
        if self._width + space + width <= self.width and self._chars + 1 + chars <= self.max_chars:
            self._append(word, with_space=True)
        else:
            self.end_line()
            self._append(word, with_space=False)

    def end_line(self, force: bool = False) -> None:
        if self._segments or force:
            self.lines.append((tuple(self._segments), self._chars, self._width))
        self._segments, self._width, self._chars = [], 0.0, 0


def wrap(para: Para, width: float, typo: Typography) -> list[Line]:
    """Break a paragraph into lines that fit `width` and `typo.max_chars`."""
    return list(_wrap(para, width, typo))


def _fitting_size(para: Para, width: float, typo: Typography) -> float:
    """The paragraph's size, or a smaller one (down to `min_size`) at which no word is cut."""
    if para.min_size is None:
        return para.size
    pieces = [
        piece
        for word in _words(para.spans)
        if isinstance(word, tuple)
        for piece in _hyphen_pieces(word)
    ]
    size = para.size
    while size > para.min_size and any(
        _word_width(piece, size) > width or sum(len(t) for t, _ in piece) > typo.max_chars
        for piece in pieces
    ):
        size = max(para.min_size, size - 1)
    return size


@lru_cache(maxsize=8192)
def _wrap(para: Para, width: float, typo: Typography) -> tuple[Line, ...]:
    # Cached: a batch repeats the same actions and the same fixed wording.
    size = _fitting_size(para, width, typo)
    if size != para.size:
        para = replace(para, size=size)
    builder = _LineBuilder(para.size, width, typo.max_chars)
    pending_break = False
    for word in _words(para.spans):
        if word is _NEWLINE:
            builder.end_line(force=pending_break)
            pending_break = True
            continue
        pending_break = False
        assert isinstance(word, tuple)
        builder.add(word)
    builder.end_line()
    if not builder.lines:
        return ()
    leading = typo.leading(para.size)
    lines = [
        Line(segments=s, size=para.size, leading=leading, chars=c, width=w)
        for s, c, w in builder.lines
    ]
    lines[0] = replace(lines[0], gap_before=para.space_before, anchor=para.anchor)
    lines[-1] = replace(lines[-1], gap_after=para.space_after)
    return tuple(lines)


# -- the envelope's window ----------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Where the recipient's address goes so that it shows in a window envelope.

    The French window envelope (DL 110 x 220 mm, window 45 x 100 mm at 20 mm from the
    right and 15 mm from the bottom: NF/La Poste) takes an A4 sheet folded in three;
    the address frame on the letter is 85 mm wide and 33 mm high, its top left corner
    110 mm from the left edge and 55 mm from the top edge (La Poste's guidance for
    window envelopes). The text is kept 75 mm wide, so it also keeps the handouts'
    2.5 cm right margin; at 14 pt (the smallest size any print uses; postal guidance
    asks for 9 to 12 pt) four lines fill the frame's 33 mm, a fifth still shows in
    the 45 mm window.
    """

    left: float = 110 * mm
    top: float = 55 * mm  # from the top edge of the sheet
    width: float = 75 * mm
    height: float = 33 * mm
    size: float = 14.0
    gap_below: float = 12 * mm  # between the window's frame and the letter's text
    # The sender (the City's service, address, hours) to the left of the window, clear of
    # it: the window's left edge is 100 mm from the envelope's, about 95 mm on the sheet.
    sender_width: float = 65 * mm

    def text_top(self, geo: Geometry) -> float:
        """The top of page 1's text, below the window (reportlab's y, from the bottom)."""
        return min(geo.frame_top, geo.height - self.top - self.height - self.gap_below)


WINDOW = Window()


def window_lines(
    address: Sequence[str], typo: Typography, left: float = WINDOW.left, width: float = WINDOW.width
) -> tuple[PlacedLine, ...]:
    """Lines placed from the window's top (each part of the address on its own line)."""
    placed: list[PlacedLine] = []
    ascent = fonts.metrics(fonts.REGULAR).ascent
    y = typo.page_size[1] - WINDOW.top - ascent * WINDOW.size
    window_typo = replace(typo, leading_ratio=1.4)
    for part in address:
        para = Para((Span(part),), WINDOW.size, min_size=WINDOW.size)
        for line in _wrap(para, width, window_typo):
            placed.append(PlacedLine(line, left, y))
            y -= line.leading
    return tuple(placed)


# -- pagination -------------------------------------------------------------------------

# A group that does not fit is split rather than moved when more than this share of
# the page is still free (moving it would leave a page a third empty or worse).
SPLIT_WHEN_FREE = 0.35


@dataclass(frozen=True)
class _Unit:
    """Lines of one paragraph: `whole` ones never split (short: an address, a label)."""

    lines: tuple[Line, ...]
    whole: bool
    keep_with_next: bool


@dataclass(frozen=True)
class _Block:
    units: tuple[_Unit, ...]
    keep_together: bool = False
    continued: tuple[Line, ...] = ()
    page_break: bool = False
    never_split: bool = False  # a kept-together block that fits on a page: never split

    @property
    def lines(self) -> list[Line]:
        return [line for unit in self.units for line in unit.lines]


_PAGE_BREAK = _Block((), page_break=True)


class _Paginator:
    def __init__(self, geo: Geometry, first_top: float | None = None) -> None:
        self.geo = geo
        self.metrics = fonts.metrics(fonts.REGULAR)
        self.pages: list[Page] = [Page()]
        self.anchors: dict[str, int] = {}
        self.continuation: tuple[Line, ...] = ()
        # The top of the text on the current page (lower on a letter's first page).
        self._y = geo.frame_top if first_top is None else first_top
        self._prev: Line | None = None

    @property
    def empty(self) -> bool:
        return self._prev is None

    def free_share(self) -> float:
        """How much of the frame is still free on this page (0 to 1)."""
        frame = self.geo.frame_top - self.geo.frame_bottom
        return max(0.0, self._y - self.geo.frame_bottom) / frame

    def _baseline(self, line: Line, prev: Line | None, y: float) -> float:
        """The baseline of `line` after `prev`, or at the top `y` of an empty page."""
        if prev is None:
            top_pad = max(line.pad_top, line.box_pad)
            return y - self.metrics.ascent * line.size - top_pad
        step = max(prev.leading, line.leading)
        return y - step - prev.gap_after - prev.pad_bottom - line.gap_before - line.pad_top

    def _fits(self, baseline: float, line: Line) -> bool:
        bottom_pad = max(line.pad_bottom, line.box_pad)
        bottom = baseline - self.metrics.descent * line.size - bottom_pad
        return bottom >= self.geo.frame_bottom

    def fits(self, lines: Sequence[Line], *, fresh_page: bool = False) -> bool:
        prev = None if fresh_page else self._prev
        y = self.geo.frame_top if fresh_page else self._y
        if fresh_page and self.continuation:
            lines = [*self.continuation, *lines]
        for line in lines:
            y = self._baseline(line, prev, y)
            if not self._fits(y, line):
                return False
            prev = line
        return True

    def new_page(self) -> None:
        if self.pages[-1].lines:
            self.pages.append(Page())
        self._prev = None
        self._y = self.geo.frame_top
        for line in self.continuation:
            self._put(line)

    def place(self, line: Line) -> None:
        y = self._baseline(line, self._prev, self._y)
        if self._prev is not None and not self._fits(y, line):
            self.new_page()
            y = self._baseline(line, self._prev, self._y)
        self._put(line, y)

    def _put(self, line: Line, y: float | None = None) -> None:
        if y is None:
            y = self._baseline(line, self._prev, self._y)
        self.pages[-1].lines.append(PlacedLine(line, self.geo.x0 + line.indent, y))
        if line.anchor and line.anchor not in self.anchors:
            self.anchors[line.anchor] = len(self.pages)
        self._prev = line
        self._y = y


def _unit(lines: Sequence[Line], keep_with_next: bool) -> _Unit:
    # Paragraphs of three lines or fewer never split.
    return _Unit(tuple(lines), len(lines) <= 3, keep_with_next)


def _blocks(flow: Iterable[Flow], geo: Geometry) -> list[_Block]:
    blocks: list[_Block] = []
    box_count = 0
    for item in flow:
        if isinstance(item, PageBreak):
            blocks.append(_PAGE_BREAK)
        elif isinstance(item, Para):
            block = _para_block(item, geo)
            if block.units:
                blocks.append(block)
        else:
            blocks.append(_group_block(item, geo, box_count if item.boxed else -1))
            box_count += int(item.boxed)
    return blocks


@lru_cache(maxsize=4096)
def _para_block(para: Para, geo: Geometry) -> _Block:
    lines = _wrap(para, geo.frame_width, geo.typo)
    return _Block((_unit(lines, para.keep_with_next),) if lines else ())


@lru_cache(maxsize=4096)
def _group_block(group: Group, geo: Geometry, box_id: int) -> _Block:
    typo = geo.typo
    width, indent, pad = geo.frame_width, 0.0, 0.0
    if group.boxed:
        pad = 0.6 * typo.body
        width, indent = geo.frame_width - 2 * pad, pad

    def lay(para: Para) -> list[Line]:
        lines = _wrap(para, width, typo)
        if not group.boxed:
            return list(lines)
        return [replace(line, indent=indent, box=box_id, box_pad=pad) for line in lines]

    pairs = [(lines, para) for para in group.items if (lines := lay(para))]
    if group.boxed and pairs:
        first, final = pairs[0][0][0], pairs[-1][0][-1]
        # The padding keeps the frame off the text; a little more keeps it off its neighbours.
        pairs[0][0][0] = replace(first, pad_top=pad, gap_before=first.gap_before + pad / 2)
        pairs[-1][0][-1] = replace(final, pad_bottom=pad, gap_after=final.gap_after + pad / 2)
    units = tuple(_unit(lines, para.keep_with_next) for lines, para in pairs)
    continued: tuple[Line, ...] = ()
    if group.continued is not None:
        continued = tuple(replace(line, anchor=None) for line in lay(group.continued))
    block = _Block(units, keep_together=True, continued=continued)
    whole_fits = _Paginator(geo).fits(block.lines, fresh_page=True)
    if group.boxed and not whole_fits and not continued:
        # A box taller than a page and with no heading to repeat flows without its frame.
        return _group_block(replace(group, boxed=False), geo, -1)
    return replace(block, keep_together=whole_fits, never_split=whole_fits and group.keep)


def _chain(units: Sequence[_Unit]) -> list[Line]:
    """The lines that must share a page with the first unit: headings take along what follows."""
    needed: list[Line] = []
    for unit in units:
        needed += unit.lines if unit.whole else unit.lines[:2]
        if not (unit.keep_with_next and unit.whole):
            break
    return needed


def _moves_whole(pager: _Paginator, block: _Block) -> bool:
    """Whether a kept-together block that does not fit here goes whole to the next page."""
    if not block.keep_together or pager.empty or pager.fits(block.lines):
        return False
    if not pager.fits(block.lines, fresh_page=True):
        return False
    return block.never_split or not block.continued or pager.free_share() < SPLIT_WHEN_FREE


def _units_ahead(pager: _Paginator, blocks: Sequence[_Block]) -> list[_Unit]:
    """Units of the next blocks as they will be placed (a block moving whole counts whole)."""
    units: list[_Unit] = []
    for block in blocks:
        if block.page_break:
            break
        if _moves_whole(pager, block):
            units.append(_Unit(tuple(block.lines), True, False))
            break
        units += block.units
        if not block.units or not block.units[-1].keep_with_next:
            break
    return units


def paginate(
    flow: Iterable[Flow],
    typo: Typography,
    header: str = CITY_IDENTITY,
    address: Sequence[str] = (),
    sender: Sequence[str] = (),
) -> LaidOut:
    """Lay a flow out on pages: headings stay with what follows, short blocks stay whole.

    `address` (a letter): the recipient's name and postal address, placed in the window
    of the envelope on page 1 (`Window`); `sender`, the lines to the left of it; the
    text of page 1 starts below both.
    """
    geo = Geometry.of(typo)
    blocks = _blocks(flow, geo)
    window = window_lines(address, typo) if address else ()
    if sender:
        window += window_lines(sender, typo, typo.margin, WINDOW.sender_width)
    top = None
    if address or sender:
        lowest = (
            min(placed.y for placed in window) - fonts.metrics(fonts.REGULAR).descent * WINDOW.size
        )
        top = min(WINDOW.text_top(geo), lowest - WINDOW.gap_below)
    pager = _Paginator(geo, top)
    for index, block in enumerate(blocks):
        if block.page_break:
            pager.new_page()
            continue
        if _moves_whole(pager, block):
            pager.new_page()
        for position, unit in enumerate(block.units):
            rest = block.units[position:]
            if all(u.keep_with_next and u.whole for u in rest):
                # The chain of headings runs past this block: look at what follows.
                rest = (*rest, *_units_ahead(pager, blocks[index + 1 :]))
            needed = _chain(rest)
            if (
                block.continued
                and position > 0
                and len(block.units) - position <= MIN_TAIL_UNITS
                and not pager.fits(block.lines[_line_index(block, position) :])
            ):
                # A split box never leaves one or two items alone under its "(suite)".
                needed = [line for u in block.units[position:] for line in u.lines]
            if not pager.empty and not pager.fits(needed) and pager.fits(needed, fresh_page=True):
                pager.new_page()
            if unit.whole:
                for line in unit.lines:
                    pager.place(line)
            else:
                _place_splittable(pager, unit.lines)
            if position == 0 and block.continued:
                pager.continuation = block.continued
        pager.continuation = ()
    return LaidOut(pages=pager.pages, anchors=pager.anchors, header=header, address=window)


# No page of a document holds fewer lines of text than this (header and page number apart).
MIN_LINES = 6
# A block split over two pages carries at least this many of its items to the second.
MIN_TAIL_UNITS = 3


def _line_index(block: _Block, position: int) -> int:
    """Index in block.lines of the first line of unit `position`."""
    return sum(len(unit.lines) for unit in block.units[:position])


def sparse_pages(laid: LaidOut) -> list[int]:
    """The numbers of the pages that hold fewer than MIN_LINES lines (a near-empty page)."""
    return [n for n, page in enumerate(laid.pages, start=1) if len(page.lines) < MIN_LINES]


def _place_splittable(pager: _Paginator, lines: Sequence[Line]) -> None:
    """Lines of a long paragraph; its last line never goes alone to a new page."""
    for i, line in enumerate(lines):
        if (
            len(lines) - i == 2
            and not pager.empty
            and pager.fits([line])
            and not pager.fits(lines[i:])
        ):
            pager.new_page()
        pager.place(line)


# -- drawing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Metadata:
    """What a PDF viewer shows in its title bar and document properties (never a name)."""

    title: str
    subject: str
    author: str = AUTHOR
    keywords: tuple[str, ...] = ("Ville du Havre", "Le Havre Ensemble")


def new_canvas(target: IO[bytes], meta: Metadata) -> Canvas:
    fonts.register_fonts()
    # The initial font is ours, so no unembedded Helvetica is listed in the PDF.
    canvas = Canvas(
        target,
        pagesize=A4,
        lang=LANGUAGE,
        pageCompression=1,
        initialFontName=fonts.REGULAR,  # type: ignore[arg-type]
        initialFontSize=TYPOGRAPHY[Variant.LARGE].body,
    )
    fonts.prepare_document(canvas._doc)  # type: ignore[attr-defined]
    canvas.setTitle(meta.title)
    canvas.setAuthor(meta.author)
    canvas.setSubject(meta.subject)
    canvas.setCreator(CREATOR)
    canvas.setKeywords(", ".join(meta.keywords))
    # Viewers show the title, not the file name, in their title bar.
    canvas.setViewerPreference("DisplayDocTitle", "true")
    return canvas


# "(...) Tj" of text in our two faces whose codes are the same in every document.
_SHOWN: dict[tuple[str, str], str] = {}
_SHOWN_MAX = 50_000


class _Text:
    """One text object per page; a font is set only when it changes."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.obj = canvas.beginText()
        self._font: tuple[str, float] | None = None  # as set on reportlab's text object
        self._shown: tuple[str, float] | None = None  # as set by our own operator

    def line(self, x: float, y: float, segments: tuple[tuple[str, bool], ...], size: float) -> None:
        self.obj.setTextOrigin(x, y)
        for segment, bold in fonts.visual(segments):
            # Characters our font lacks are drawn with an embedded fallback (fonts.runs).
            for name, run in fonts.runs(segment, bold):
                if self._show_seeded(name, run, size):
                    continue
                font = (name, size)
                if font != self._font:
                    self.obj.setFont(*font)
                    self._font = font
                self.obj._curSubset = -1  # type: ignore[attr-defined] # ours may have changed it
                self._shown = None
                # What textOut does, minus measuring the text to advance a cursor we never
                # use (every line sets its own origin): a fifth of the drawing time.
                self.obj._code.append(self.obj._formatText(run))  # type: ignore[attr-defined]

    def _show_seeded(self, name: str, run: str, size: float) -> bool:
        """Draw text made only of ASCII and the seeded French letters with cached operators.

        Their codes are the same in every document (fonts.prepare_document), so the
        operator reportlab would write is always the same: encoding, escaping and
        formatting it again was a third of the drawing time.
        """
        doc = self.canvas._doc  # type: ignore[attr-defined]
        shown = _SHOWN.get((name, run))
        if shown is None:
            if name not in (fonts.REGULAR, fonts.BOLD) or not fonts.seeded(run):
                return False
            parts = pdfmetrics.getFont(name).splitString(run, doc)  # type: ignore[attr-defined]
            if len(parts) != 1 or parts[0][0] != 0:
                return False
            shown = f"({self.canvas._escape(parts[0][1])}) Tj"  # type: ignore[attr-defined]
            if len(_SHOWN) < _SHOWN_MAX:
                _SHOWN[(name, run)] = shown
        if self._shown != (name, size):
            subset = pdfmetrics.getFont(name).getSubsetInternalName(0, doc)  # type: ignore[attr-defined]
            self.obj._code.append(f"{subset} {fp_str(size)} Tf {fp_str(size * 1.2)} TL")  # type: ignore[attr-defined]
            self._shown = (name, size)
        self.obj._code.append(shown)  # type: ignore[attr-defined]
        return True


def draw_section(canvas: Canvas, section: LaidOut, typo: Typography) -> int:
    """Draw every page of one section (its own page numbers); returns the page count."""
    geo = Geometry.of(typo)
    total = len(section.pages)
    m = fonts.metrics(fonts.REGULAR)
    for number, page in enumerate(section.pages, start=1):
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setStrokeColorRGB(0, 0, 0)
        text = _Text(canvas)
        # Header and page number: same place, same size on every page.
        text.line(geo.x0, geo.header_baseline, ((clean(section.header), True),), typo.header)
        footer = f"Page {number} sur {total}"
        text.line(geo.x0, geo.footer_baseline, ((footer, False),), typo.header)
        boxes: dict[int, list[PlacedLine]] = {}
        for placed in section.address if number == 1 else ():
            text.line(placed.x, placed.y, placed.line.segments, placed.line.size)
        for placed in page.lines:
            text.line(placed.x, placed.y, placed.line.segments, placed.line.size)
            if placed.line.box is not None:
                boxes.setdefault(placed.line.box, []).append(placed)
        canvas.drawText(text.obj)
        canvas.setLineWidth(1)
        canvas.line(geo.x0, geo.header_rule, geo.x0 + geo.frame_width, geo.header_rule)
        canvas.line(geo.x0, geo.footer_rule, geo.x0 + geo.frame_width, geo.footer_rule)
        canvas.setLineWidth(2)
        for placed_lines in boxes.values():
            first, last = placed_lines[0], placed_lines[-1]
            top_pad = max(first.line.pad_top, first.line.box_pad)
            bottom_pad = max(last.line.pad_bottom, last.line.box_pad)
            top = first.y + m.ascent * first.line.size + top_pad
            bottom = last.y - m.descent * last.line.size - bottom_pad
            canvas.rect(geo.x0, bottom, geo.frame_width, top - bottom, stroke=1, fill=0)
        canvas.showPage()
    return total


def render(sections: Iterable[LaidOut], typo: Typography, meta: Metadata) -> bytes:
    """The PDF of already laid-out sections, as bytes."""
    buffer = io.BytesIO()
    with BUILD_LOCK:
        canvas = new_canvas(buffer, meta)
        for section in sections:
            draw_section(canvas, section, typo)
        canvas.save()
    return buffer.getvalue()


def build(flow: Sequence[Flow], variant: Variant, meta: Metadata) -> bytes:
    """Lay out and draw one document."""
    typo = TYPOGRAPHY[variant]
    with BUILD_LOCK:
        return render([paginate(flow, typo)], typo, meta)
