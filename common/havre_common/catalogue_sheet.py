"""The City's catalogue spreadsheet (xlsx or CSV): read it, check each line against the contract.

The City keeps its actions in a spreadsheet, one action a line, matched on its **code**. Reading
is done where the file is (the desktop, or the server's command line): :func:`read_sheet` turns
the file into cells (text) with their line numbers and the problems of its shape (merged cells,
a missing header); :func:`convert` turns the cells into contract values (``actions``) and
reports every bad cell as (line, column, French message). The server compares the lines with its
catalogue (created / changed / unchanged) and writes them all in one transaction, or nothing.

CSV: UTF-8 (with or without BOM), cp1252 or latin-1 — decided line by line, since a sheet
pasted together from several files mixes them —, ``;`` or ``,`` separated. xlsx: read with
openpyxl (values, not formulas), the first sheet (or the one named "Actions").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from havre_common import contract
from havre_common.reference import Reference
from havre_common.streets import fold
from havre_common.validation import ContractViolation, clean
from havre_common.values import parse_date, shown

MAX_LINES: Final = 5000
MAX_PROBLEMS_SHOWN: Final = 60
CURRENT_STATUSES: Final = ("proposee", "en-test", "en-cours", "suspendue", "arretee")
"""The statuses an action is given today (issue 16); older values stay readable."""

COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "code": ("code", "code action"),
    "title": ("intitule", "titre", "title", "nom de l action"),
    "summary": ("resume", "summary"),
    "description": ("description",),
    "priority_id": ("priorite", "priority id", "priority"),
    "audience_ids": ("publics", "public", "audience ids"),
    "need_ids": ("besoins", "besoin", "need ids"),
    "territory_ids": ("territoires", "territoire", "territory ids"),
    "facility_id": ("lieu", "facility id", "equipement"),
    "schedule": ("horaires", "schedule"),
    "contact_name": ("contact", "contact name"),
    "contact_phone": ("telephone", "telephone du contact", "contact phone"),
    "signup": ("inscription", "signup"),
    "is_free": ("gratuit", "is free"),
    "price_label": ("tarif", "price label"),
    "accessibility_note": ("precisions sur l accessibilite", "accessibilite", "accessibility note"),
    "status": ("statut", "status"),
    "start_date": ("debut", "date de debut", "start date"),
    "end_date": ("fin", "date de fin", "end date"),
    "seasonal": ("usage saisonnier", "saisonnier", "seasonal"),
}
"""Field → the column headers that name it (folded: no accents, no case, words only)."""
REQUIRED_COLUMNS: Final = ("code", "title", "priority_id", "status")
_BY_HEADER: Final = {header: name for name, headers in COLUMNS.items() for header in headers}
_LISTS: Final = {
    "audience_ids": ("audiences", "public"),
    "need_ids": ("need_kinds", "besoin"),
    "territory_ids": ("territories", "territoire"),
}
_SPLIT = re.compile(r"\s*[|;,/\n]\s*")
_PLACEHOLDER_ID: Final = "00000000-0000-4000-8000-000000000000"
_TRUE: Final = frozenset({"oui", "o", "vrai", "1", "x", "yes", "true"})
_FALSE: Final = frozenset({"non", "n", "faux", "0", "no", "false"})


@dataclass(frozen=True)
class Problem:
    """One bad cell (or line): where it is and why, in French."""

    line: int
    column: str
    message: str

    def text(self) -> str:
        where = f"Ligne {self.line}" + (f", colonne « {self.column} »" if self.column else "")
        return f"{where} : {self.message}"


@dataclass
class RawSheet:
    """A file read: its header, its non-blank lines as text cells, the problems of its shape."""

    columns: list[str]
    rows: list[tuple[int, list[str]]]
    problems: list[Problem] = field(default_factory=list)
    header_line: int = 1


@dataclass(frozen=True)
class SheetLine:
    """One valid line: the action's code and its contract values (the columns given only)."""

    line: int
    code: str
    values: dict[str, Any]


def report(problems: list[Problem], lines: int) -> str:
    """The validation report as the command line prints it (every bad line named)."""
    bad_lines = len({p.line for p in problems})
    shown_problems = [p.text() for p in problems[:MAX_PROBLEMS_SHOWN]]
    more = len(problems) - len(shown_problems)
    return "\n".join(
        [
            f"Tableau refusé : {bad_lines} ligne(s) à corriger sur {lines} (rien n'a été importé).",
            *shown_problems,
            *([f"… et {more} autre(s) problème(s)."] if more else []),
        ]
    )


# -- reading the file --------------------------------------------------------------------------


def _decode_line(raw: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def decode_csv(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (BOM or not), else cp1252, else latin-1, line by line."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    return "".join(_decode_line(line) for line in data.splitlines(keepends=True))


def _is_header(cells: list[str]) -> bool:
    folded = {fold(c) for c in cells}
    return "code" in folded and bool(folded & set(COLUMNS["title"]))


def _strip_blank(
    records: list[tuple[int, list[str]]],
) -> tuple[int, list[str], list[tuple[int, list[str]]], list[Problem]]:
    """The header (first line naming « Code » and « Intitulé »; title lines above it are
    skipped) and the non-blank lines under it."""
    for index, (line, cells) in enumerate(records):
        if _is_header(cells):
            rows = [(n, c) for n, c in records[index + 1 :] if any(v.strip() for v in c)]
            return line, [c.strip() for c in cells], rows, []
    problem = Problem(
        1,
        "",
        "aucune ligne d'en-tête nommant les colonnes « Code » et « Intitulé » n'a été trouvée.",
    )
    return 1, [], [], [problem]


def read_csv(data: bytes) -> RawSheet:
    text = decode_csv(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            records.append((start, cells))
            start = reader.line_num + 1
            if len(records) > MAX_LINES + 20:
                break
    except csv.Error:
        problem = Problem(
            start, "", "ligne illisible (guillemet ouvert sans être fermé, ou mal placé)."
        )
        return RawSheet([], [], [problem])
    header_line, columns, rows, problems = _strip_blank(records)
    return RawSheet(columns, rows, problems, header_line)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(data: bytes) -> RawSheet:
    import openpyxl  # only where a spreadsheet is read

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception:
        problem = Problem(1, "", "ce fichier n'est pas un classeur Excel (.xlsx) lisible.")
        return RawSheet([], [], [problem])
    sheet = next((s for s in book.worksheets if fold(s.title) == "actions"), book.worksheets[0])
    records = [
        (index, [_cell_text(v) for v in row])
        for index, row in enumerate(sheet.iter_rows(values_only=True), start=1)
    ][: MAX_LINES + 20]
    header_line, columns, rows, problems = _strip_blank(records)
    for merged in sorted(sheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
        if merged.max_row <= header_line:
            continue  # a title above the header
        column = columns[merged.min_col - 1] if merged.min_col <= len(columns) else ""
        for line in range(max(merged.min_row, header_line + 1), merged.max_row + 1):
            problems.append(
                Problem(
                    line,
                    column,
                    f"cellules fusionnées ({merged.coord}) : défusionnez-les et écrivez la "
                    "valeur sur chaque ligne.",
                )
            )
    # A merged cell keeps its value in its first line only: its other lines may look blank.
    merged_lines = {p.line for p in problems}
    present = {n for n, _ in rows}
    for line in sorted(merged_lines - present):
        if line > header_line:
            rows.append((line, [""] * len(columns)))
    rows.sort()
    return RawSheet(columns, rows, problems, header_line)


def read_sheet(data: bytes, filename: str) -> RawSheet:
    """Read a spreadsheet file: ``.xlsx`` with openpyxl, anything else as CSV."""
    if filename.lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04":
        return read_xlsx(data)
    return read_csv(data)


# -- checking the lines ------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _lookup(text: str, labels: Mapping[str, str], what: str) -> str:
    if text in labels:
        return text
    folded = fold(text)
    for key, label in labels.items():
        if fold(key) == folded or fold(label) == folded:
            return key
    raise _Bad(f"{what} « {shown(text)} » inconnu.")


def _list(text: str, labels: Mapping[str, str], what: str) -> list[str]:
    return [_lookup(part, labels, what) for part in _SPLIT.split(text.strip()) if part]


def _priority(text: str, ref: Reference) -> str:
    labels = ref.labels("priorities")
    match = re.fullmatch(r"[Pp]?\s*0*([0-9]{1,2})(\b.*)?", text.strip())
    if match:
        key = f"P{int(match.group(1)):02d}"
        if key in labels:
            return key
    return _lookup(text, labels, "priorité")


def _status(text: str, ref: Reference) -> str:
    labels = {k: v for k, v in ref.labels("action_statuses").items() if k in CURRENT_STATUSES}
    try:
        return _lookup(text, labels, "statut")
    except _Bad:
        names = ", ".join(label.lower() for label in labels.values())
        raise _Bad(f"statut « {shown(text)} » inconnu (attendu : {names}).") from None


def _date(text: str) -> str:
    try:
        parsed = parse_date(text.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise _Bad(f"date « {shown(text)} » invalide (attendu : JJ/MM/AAAA).")
    return parsed.isoformat()


def _boolean(text: str) -> bool:
    folded = fold(text)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise _Bad(f"« {shown(text)} » : oui ou non attendu.")


def _facility(text: str, facilities: Mapping[str, str]) -> str:
    """A facility by its id or its name (``facilities``: id → name)."""
    if text.strip() in facilities:
        return text.strip()
    folded = fold(text)
    found = [key for key, name in facilities.items() if fold(name) == folded]
    if len(found) == 1:
        return found[0]
    if found:
        raise _Bad(f"plusieurs lieux s'appellent « {shown(text)} » : donnez son identifiant.")
    raise _Bad(f"lieu « {shown(text)} » inconnu.")


def _value(name: str, text: str, ref: Reference, facilities: Mapping[str, str]) -> Any:
    if name in _LISTS:
        reference, what = _LISTS[name]
        return _list(text, ref.labels(reference), what)
    if name == "priority_id":
        return _priority(text, ref)
    if name == "status":
        return _status(text, ref)
    if name in ("start_date", "end_date"):
        return _date(text) if text.strip() else None
    if name == "is_free":
        return _boolean(text) if text.strip() else None
    if name == "facility_id":
        return _facility(text, facilities) if text.strip() else None
    if name == "seasonal":
        flags = _list(text, contract.ENUMS["seasonal_flags"], "usage saisonnier")
        return {flag: flag in flags for flag in contract.ENUMS["seasonal_flags"]}
    return text


def convert(
    sheet: RawSheet, ref: Reference, facilities: Mapping[str, str]
) -> tuple[list[SheetLine], list[Problem], list[str]]:
    """The valid lines, every problem (line, column, French message), the ignored columns.

    Every cell is checked (a line can have several problems), then the line against the
    contract, then the codes against each other (a code given twice is named on both lines)."""
    problems = list(sheet.problems)
    fields: dict[int, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(sheet.columns):
        name = _BY_HEADER.get(fold(header))
        if name is None or name in fields.values():
            if header.strip():
                ignored.append(header)
            continue
        fields[index] = name
    missing = [n for n in REQUIRED_COLUMNS if n not in fields.values()]
    for name in missing:
        label = contract.ACTIONS.field(name).label
        problems.append(Problem(sheet.header_line, label, "cette colonne manque à l'en-tête."))
    if missing or not sheet.columns:
        return [], problems, ignored
    if len(sheet.rows) > MAX_LINES:
        problems.append(Problem(sheet.header_line, "", f"plus de {MAX_LINES} lignes."))
        return [], problems, ignored
    header_of = {name: sheet.columns[index] for index, name in fields.items()}
    lines: list[SheetLine] = []
    by_code: dict[str, list[tuple[int, str]]] = {}
    for line, cells in sheet.rows:
        values: dict[str, Any] = {}
        bad = False
        for index, name in fields.items():
            text = cells[index].strip() if index < len(cells) else ""
            try:
                values[name] = _value(name, text, ref, facilities)
            except _Bad as exc:
                problems.append(Problem(line, header_of[name], exc.message))
                bad = True
        if len(cells) > len(sheet.columns) and any(c.strip() for c in cells[len(sheet.columns) :]):
            problems.append(Problem(line, "", "des cellules sont remplies hors des colonnes."))
            bad = True
        try:
            cleaned = clean(
                contract.ACTIONS, {**values, "id": _PLACEHOLDER_ID}, creating=True, ref=ref
            )
            del cleaned["id"]
        except ContractViolation as exc:
            for name, message in exc.errors.items():
                column = header_of.get(name, contract.ACTIONS.field(name).label)
                already = any(p.line == line and p.column == column for p in problems)
                if not already:
                    problems.append(Problem(line, column, message.split(" : ", 1)[-1]))
            bad = True
            cleaned = {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            problems.append(Problem(line, header_of["end_date"], "la fin précède le début."))
            bad = True
        code = str(values.get("code") or "").strip()
        if code:
            by_code.setdefault(code_key(code), []).append((line, code))
        if not bad:
            lines.append(SheetLine(line, cleaned["code"], cleaned))
    twice = {line for found in by_code.values() if len(found) > 1 for line, _code in found}
    for found in by_code.values():
        if len(found) < 2:
            continue
        for line, code in found:
            others = ", ".join(str(n) for n, _c in found if n != line)
            problems.append(
                Problem(
                    line,
                    header_of["code"],
                    f"le code « {shown(code)} » est aussi donné ligne(s) {others} : "
                    "un code par action.",
                )
            )
    problems.sort(key=lambda p: (p.line, p.column))
    bad_lines = twice | {p.line for p in problems}
    return [ln for ln in lines if ln.line not in bad_lines], problems, ignored


def code_key(code: str) -> str:
    """How codes are compared (case and spaces ignored): "a-p01-001 " is "A-P01-001"."""
    return re.sub(r"\s+", "", code).casefold()
