"""The two large-print sizes, without the PDF engine.

The interface offers the choice on every page that prints; importing reportlab and its
fonts (about 16 MB of memory) is left to the moment a document is built.
"""

from __future__ import annotations

from enum import StrEnum


class Variant(StrEnum):
    """The two large-print sizes; values are those stored in handouts_given.variant."""

    LARGE = "large"
    VERY_LARGE = "very-large"
