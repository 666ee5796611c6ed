"""Hypothesis strategies derived from the data contract (havre_common.contract).

``row(table)`` draws rows the contract accepts, at its limits (longest texts, characters outside
the BMP, both line-break styles where a text may hold them, first and last allowed values);
``hostile_value(field)`` draws values it must refuse (control characters, NUL, lone surrogates,
one character too many, unknown choices). New fields and limits are covered without editing
this file.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from havre_common import contract
from havre_common.contract import ENUMS, Field, Kind
from havre_common.reference import load_reference

# Printable text, accents, apostrophes, quotes and backslashes, emoji (outside the BMP).
_CHARACTERS = st.characters(
    codec="utf-8",
    categories=("L", "M", "N", "P", "S", "Zs"),
)
_WORDS = st.sampled_from(["Lefèvre", "d'Aubigné", "Œuvre", '"guillemets"', "a\\b", "🙂", "ﬁ"])


def allowed_ids(f: Field) -> list[str]:
    name = str(f.choices)
    values = ENUMS[name] if name in ENUMS else load_reference().labels(name)
    return sorted(values)


def _text(f: Field) -> st.SearchStrategy[str]:
    limit = int(f.max_length or 0)
    alphabet = st.one_of(_CHARACTERS, _WORDS)
    if f.multiline:
        alphabet = st.one_of(alphabet, st.just("\n"), st.just("\t"))
    pieces = st.lists(alphabet, min_size=1, max_size=min(limit, 60)).map("".join)
    longest = st.just("é" * (limit - 1) + "🙂")
    return (
        st.one_of(pieces, longest)
        .map(lambda text: text.strip()[:limit])
        .filter(lambda text: bool(text) and len(text) <= limit)
    )


def _phone() -> st.SearchStrategy[str]:
    return st.integers(0, 9999).map(lambda n: f"06 39 98 {n // 100:02d} {n % 100:02d}")


def _date() -> st.SearchStrategy[str]:
    return st.dates(date(1920, 1, 1), date(2100, 12, 31)).map(date.isoformat)


def _timestamp() -> st.SearchStrategy[str]:
    start = date(2020, 1, 1)
    return st.integers(0, 3650 * 24 * 60).map(
        lambda minutes: f"{start + timedelta(minutes=minutes):%Y-%m-%d}T10:00:00.000Z"
    )


def _uuid() -> st.SearchStrategy[str]:
    return st.uuids(version=4).map(str)


def value(f: Field) -> st.SearchStrategy[Any]:
    """A value the contract accepts for this field (never empty)."""
    if f.kind is Kind.TEXT:
        return _text(f)
    if f.kind is Kind.INTEGER:
        return st.integers(f.minimum if f.minimum is not None else 0, f.maximum or 10_000)
    if f.kind is Kind.BOOLEAN:
        return st.sampled_from([0, 1])
    if f.kind is Kind.DATE:
        return _date()
    if f.kind is Kind.TIMESTAMP:
        return _timestamp()
    if f.kind is Kind.UUID:
        return _uuid()
    if f.kind is Kind.CHOICE:
        return st.sampled_from(allowed_ids(f))
    if f.kind is Kind.CHOICE_LIST:
        return st.lists(
            st.sampled_from(allowed_ids(f)), max_size=min(int(f.max_items or 0), 8), unique=True
        )
    if f.kind is Kind.UUID_LIST:
        return st.lists(_uuid(), max_size=3, unique=True)
    if f.kind is Kind.PHONE:
        return _phone()
    if f.kind is Kind.EMAIL:
        return st.from_regex(r"[a-z]{1,10}\.[a-z]{1,10}@exemple\.fr", fullmatch=True)
    if f.kind is Kind.POSTCODE:
        return st.sampled_from(["76600", "76610", "76620"])
    if f.kind is Kind.FLAGS:
        return st.dictionaries(st.sampled_from(allowed_ids(f)), st.booleans(), max_size=5)
    if f.kind is Kind.CONTACT_LIST:
        one = st.fixed_dictionaries(
            {
                "name": _text(Field("name", Kind.TEXT, "Nom", max_length=200)),
                "relation": st.sampled_from(["fille", "voisin", "neveu"]),
                "phone": _phone(),
            }
        )
        return st.lists(one, max_size=3)
    if f.kind is Kind.OBJECT:
        return st.dictionaries(st.sampled_from(["a", "b", "note"]), st.integers(0, 99), max_size=3)
    assert f.kind is Kind.CODE
    return st.from_regex(str(f.pattern), fullmatch=True).filter(
        lambda text: len(text) <= int(f.max_length or 0) and text.isascii()
    )


def row(
    table: str, *, fixed: dict[str, Any] | None = None, optional: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """A new row of ``table`` that the contract accepts: every required field, and (when
    ``optional``) any of the others; ``fixed`` values (ids of existing rows, the author…) win."""
    spec = contract.TABLES[table]
    fixed = dict(fixed or {})
    required = {f.name: value(f) for f in spec.fields if f.required and f.name not in fixed}
    others = {f.name: value(f) for f in spec.fields if not f.required and f.name not in fixed}
    return st.fixed_dictionaries(
        {**{k: st.just(v) for k, v in fixed.items()}, **required},
        optional=others if optional else {},
    )


def hostile_value(f: Field) -> st.SearchStrategy[Any]:
    """A value the contract must refuse for this field."""
    options: list[st.SearchStrategy[Any]] = [
        st.sampled_from(["\x00", "a\x00b", "\x07", "\x1b[31m", "\ud800", "\x85"]),
    ]
    if f.kind is Kind.TEXT and f.max_length:
        options.append(st.just("x" * (f.max_length + 1)))
        if not f.multiline:
            options.append(st.just("ligne 1\nligne 2"))
    if f.kind in (Kind.CHOICE, Kind.CODE):
        options.append(st.just("inconnu-" + "x" * 200))
    if f.kind is Kind.INTEGER:
        options.append(st.just((f.maximum or 0) + 1))
        options.append(st.just("12"))
    if f.kind in (Kind.UUID, Kind.UUID_LIST):
        options.append(st.just("not-a-uuid"))
    if f.kind is Kind.DATE:
        options.append(st.just("31/02/2024"))
        options.append(st.just("٢٠٢٤-٠١-٠١"))
    return st.one_of(*options)


def fresh_id() -> str:
    return str(uuid.uuid4())
