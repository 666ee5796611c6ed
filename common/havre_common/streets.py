"""The street table (contract table ``streets``): reading the City's file, and finding a street.

The City loads a CSV of its streets, each with its territory (``havre-server streets import``);
every device receives the rows and *Accueil* finds a resident's territory from a street name
typed the way people type it: "rue de paris", "av foch", "ST JOSEPH", "francois 1er".

A sample file of generic street names (:data:`SAMPLE_STREETS`) ships with the code: it is
loaded as sample rows (``is_sample``) on demo servers, never mistaken for the City's list.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from havre_common import contract
from havre_common.reference import Reference
from havre_common.validation import ContractViolation, clean
from havre_common.values import shown

SAMPLE_STREETS: Final = Path(__file__).with_name("sample_streets.csv")
STREET_NAMESPACE: Final = uuid.UUID("5b0c1e3e-3f5e-4d57-9a43-6c3f2f6a1d01")
MAX_LINES: Final = 20_000
MAX_PROBLEMS_SHOWN: Final = 50

UNREADABLE: Final = "ligne illisible (guillemet ouvert sans être fermé, ou mal placé)."
NAME_HEADERS: Final = ("rue", "nom", "voie", "name")
TERRITORY_HEADERS: Final = ("territoire", "territory_id", "territory")
POSTCODE_HEADERS: Final = ("code_postal", "code postal", "cp", "postcode")

ABBREVIATIONS: Final = {
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "bvd": "boulevard",
    "r": "rue",
    "pl": "place",
    "imp": "impasse",
    "all": "allee",
    "ch": "chemin",
    "che": "chemin",
    "sq": "square",
    "qu": "quai",
    "crs": "cours",
    "rte": "route",
    "st": "saint",
    "ste": "sainte",
    "gal": "general",
    "mal": "marechal",
    "pdt": "president",
    "ier": "1er",  # François Ier, typed "francois 1er" or "francois 1"
}
"""Short forms typed at a desk (and printed on plates): compared as their full word."""


def fold(text: str) -> str:
    """Lower case, no accents, words only: "Rue de l'Église" → "rue de l eglise"."""
    plain = "".join(
        c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c)
    )
    plain = plain.replace("œ", "oe").replace("æ", "ae")
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def _words(text: str) -> list[str]:
    return [ABBREVIATIONS.get(word, word) for word in fold(text).split()]


def street_id(name: str, postcode: str | None) -> str:
    """A street's row id, the same at every import of the same street (no churn on devices)."""
    return str(uuid.uuid5(STREET_NAMESPACE, f"{fold(name)}|{postcode or ''}"))


def words_of(text: str) -> list[str]:
    """The words compared: folded, the usual short forms as their full word."""
    return _words(text)


def match_rank(query: str, name: str) -> int | None:
    """How well a typed text names a street (lower is better), None when it does not.

    Every word typed must begin a word of the street's name (accents, case, punctuation and
    the usual short forms ignored); the words typed in the name's order and from its start
    rank first, so "rue de paris" lists "Rue de Paris" before "Rue Jean de Paris".
    """
    return match_words(_words(query), _words(name))


def match_words(wanted: list[str], words: list[str]) -> int | None:
    """:func:`match_rank` on words already folded (:func:`words_of`), for a whole table."""
    if not wanted:
        return None
    positions: list[int] = []
    used: set[int] = set()
    for typed in wanted:
        found = next(
            (i for i, word in enumerate(words) if i not in used and word.startswith(typed)), None
        )
        if found is None:
            return None
        used.add(found)
        positions.append(found)
    if words == wanted:
        return 0
    in_order = positions == sorted(positions)
    from_start = positions[0] == 0
    contiguous = in_order and positions[-1] - positions[0] == len(positions) - 1
    return 1 + (0 if from_start else 2) + (0 if contiguous else 1) + (0 if in_order else 4)


@dataclass(frozen=True)
class StreetFile:
    """A street file read: the rows to load, or the problems of its bad lines (French)."""

    rows: list[dict[str, Any]]
    problems: list[str]
    lines: int

    def report(self) -> str:
        """The validation report, as the command line prints it."""
        if not self.problems:
            return f"{self.lines} ligne(s) lue(s), {len(self.rows)} rue(s) valable(s)."
        shown_problems = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown_problems)
        tail = [f"… et {more} autre(s) problème(s)."] if more else []
        return "\n".join(
            [
                f"Fichier refusé : {len(self.problems)} ligne(s) à corriger sur {self.lines} "
                "(rien n'a été importé).",
                *shown_problems,
                *tail,
            ]
        )


def _column(headers: Iterable[str], wanted: tuple[str, ...]) -> str | None:
    for header in headers:
        if fold(header).replace(" ", "_") in {w.replace(" ", "_") for w in wanted}:
            return header
    return None


def read_streets(text: str, ref: Reference) -> StreetFile:
    """Read a CSV (UTF-8, ``;`` or ``,``, a header row naming the columns ``rue``, ``territoire``
    and optionally ``code_postal``). The territory is its id (``nord``) or its name (``Le Havre
    Nord``). Every line is checked against the contract (``streets``); a street given twice
    (same name and postcode) is a problem too."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        headers = reader.fieldnames or []
    except csv.Error:
        return StreetFile([], [f"Ligne 1 : {UNREADABLE}"], 1)
    name_col = _column(headers, NAME_HEADERS)
    territory_col = _column(headers, TERRITORY_HEADERS)
    postcode_col = _column(headers, POSTCODE_HEADERS)
    if name_col is None or territory_col is None:
        return StreetFile(
            [],
            [
                "Ligne 1 : l'en-tête doit nommer les colonnes « rue » et « territoire » "
                "(et, si besoin, « code_postal »), séparées par des points-virgules."
            ],
            0,
        )
    by_name = {fold(name): territory_id for territory_id, name in ref.territories.items()}
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    lines = 0
    try:
        records = list(reader)
    except csv.Error:  # a quote left open or misplaced, a NUL byte…
        return StreetFile([], [f"Ligne {reader.line_num + 1} : {UNREADABLE}"], reader.line_num)
    for line_number, raw in enumerate(records, start=2):
        lines += 1
        if lines > MAX_LINES:
            problems.append(f"Plus de {MAX_LINES} lignes : découpez le fichier.")
            break
        if None in raw:
            problems.append(f"Ligne {line_number} : trop de colonnes.")
            continue
        values = {key: (value or "").strip() for key, value in raw.items() if key is not None}
        name = values.get(name_col, "")
        territory = values.get(territory_col, "")
        postcode = values.get(postcode_col, "") if postcode_col else ""
        if not any(values.values()):
            continue  # a blank line
        territory_id = territory if territory in ref.territories else by_name.get(fold(territory))
        if territory and territory_id is None:
            problems.append(f"Ligne {line_number} : territoire « {shown(territory)} » inconnu.")
            continue
        try:
            row = clean(
                contract.STREETS,
                {
                    "id": str(STREET_NAMESPACE),  # its own id is made from the cleaned name
                    "name": name,
                    "territory_id": territory_id or "",
                    "postcode": postcode,
                },
                creating=True,
                ref=ref,
            )
        except ContractViolation as exc:
            problems.append(f"Ligne {line_number} : {' '.join(exc.errors.values())}")
            continue
        row_id = street_id(row["name"], row.get("postcode"))
        if row_id in seen:
            problems.append(
                f"Ligne {line_number} : « {shown(name)} » est déjà donnée ligne {seen[row_id]}."
            )
            continue
        seen[row_id] = line_number
        rows.append({**row, "id": row_id})
    return StreetFile(rows if not problems else [], problems, lines)
