"""Table models over the database worker.

Small lists (a day's plan, a fiche's history, the catalogue) hold their rows;
large ones hold ids, or a page at a time, and fetch the rest on demand, as
Anki's browser does: nothing loads a whole table of persons or visits.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSignalBlocker,
    Qt,
    Signal,
)
from PySide6.QtGui import QStandardItem, QStandardItemModel

from havre_common.french import address_lines
from havre_desktop.core import contacts, search, visits
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.i18n import age_text, tr
from havre_desktop.ui.operations import Operation
from havre_desktop.ui.worker import DatabaseService

PAGE_SIZE = 100
_Index = QModelIndex | QPersistentModelIndex
Row = TypeVar("Row")  # what a model's row is: a dict, or a sync view (ConflictView, …)
Column = tuple[str, Callable[[dict[str, Any]], Any]]
_DISPLAY_ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole)
# The roles a RowsModel answers, as the plain ints Qt passes: the views ask for every role
# of every cell (font, alignment, size hint…) each time they size their rows and columns.
_ANSWERED_ROLES = frozenset(int(role) for role in (*_DISPLAY_ROLES, Qt.ItemDataRole.UserRole))


class _ColumnsModel(QAbstractTableModel, Generic[Row]):
    """Column titles and count from a list of (title, function) pairs."""

    columns: list[tuple[str, Callable[[Row], Any]]]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.columns):
            return self.columns[section][0]
        return None

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)


class RowsModel(_ColumnsModel[Row]):
    """A small list of rows (dicts) shown through column functions."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[Row], Any]]]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows: list[Row] = []
        # Each cell's text, computed once: a list sized to its contents asks for each cell
        # several times per layout (26,000 calls for Ma journée's first screen). Forgotten
        # whenever the rows change in any way a view hears of.
        self._texts: dict[tuple[int, int], str] = {}
        for signal in (
            self.modelReset,
            self.rowsInserted,
            self.rowsRemoved,
            self.rowsMoved,
            self.layoutChanged,
            self.dataChanged,
        ):
            signal.connect(self._texts.clear)

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row(self, index: int) -> Row | None:
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ANSWERED_ROLES:
            return None
        number, column = index.row(), index.column()
        if not 0 <= number < len(self.rows):  # an invalid index has row -1
            return None
        if role == Qt.ItemDataRole.UserRole:
            row = self.rows[number]
            return row.get("id") if isinstance(row, dict) else getattr(row, "id", None)
        if not 0 <= column < len(self.columns):
            return None
        text = self._texts.get((number, column))
        if text is None:
            value = self.columns[column][1](self.rows[number])
            text = self._texts[(number, column)] = "" if value is None else str(value)
        return text


class ItemRowsModel(QStandardItemModel, Generic[Row]):
    """A short list of rows (dicts or views) whose cells Qt reads without calling Python.

    Same use as `RowsModel` (`rows`, `row(i)`, `set_rows`), for the lists on screen at
    start (Ma journée): each cell's text is computed once by `set_rows` and kept in C++
    items. A list sized to its contents asks its model for every role of every cell each
    time it measures a row or a column, and paints ask again: Ma journée's first screen made
    about 39,000 calls into a Python `data()` (about a third of the time between its rows
    arriving and their first paint). Read-only: cells cannot be edited (no editor opens).
    """

    _FLAGS = (
        Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
    )

    def __init__(self, columns: Sequence[tuple[str, Callable[[Row], Any]]]) -> None:
        super().__init__(0, len(columns))
        self.columns = list(columns)
        self.rows: list[Row] = []
        self.setHorizontalHeaderLabels([title for title, _ in self.columns])

    def set_rows(self, rows: list[Row]) -> None:
        self.rows = list(rows)
        self.beginResetModel()
        with QSignalBlocker(self):  # one reset for the views, not a signal per cell
            self.setRowCount(0)
            self.setRowCount(len(self.rows))
            for number, row in enumerate(self.rows):
                key = row.get("id") if isinstance(row, dict) else getattr(row, "id", None)
                for column, (_, cell) in enumerate(self.columns):
                    value = cell(row)
                    text = "" if value is None else str(value)
                    item = QStandardItem(text)
                    item.setFlags(self._FLAGS)
                    item.setData(text, Qt.ItemDataRole.AccessibleTextRole)
                    item.setData(key, Qt.ItemDataRole.UserRole)
                    self.setItem(number, column, item)
        self.endResetModel()

    def row(self, index: int) -> Row | None:
        return self.rows[index] if 0 <= index < len(self.rows) else None


class PersonSearchModel(RowsModel[dict[str, Any]]):
    """Persons matching what is typed (all persons by name when nothing is typed), by page."""

    loaded = Signal()  # a page arrived (tests and the status line wait on it)

    def __init__(
        self,
        database: DatabaseService,
        territories: dict[str, str],
        today: Callable[[], date],
    ) -> None:
        super().__init__(
            [
                (tr("Nom"), contacts.display_name),
                # Namesakes are told apart by their age (the birth year when it is unknown).
                (tr("Âge"), lambda r: age_text(r.get("birth_date"), today())),
                (tr("Téléphone"), lambda r: r.get("phone_1") or ""),
                (
                    tr("Adresse"),
                    lambda r: ", ".join(
                        address_lines(r.get("address_line"), r.get("postcode"), r.get("city"))
                    ),
                ),
                (tr("Territoire"), lambda r: territories.get(r.get("territory_id") or "", "")),
            ]
        )
        self._db = database
        self._text = ""
        self._generation = 0
        self._has_more = True
        self._loading = False

    @property
    def search_text(self) -> str:
        return self._text

    def set_search_text(self, text: str) -> None:
        self._text = text.strip()
        self._generation += 1
        self.beginResetModel()
        self.rows = []
        self._has_more = True
        self._loading = False
        self.endResetModel()
        self._request_page()

    def refresh(self) -> None:
        self.set_search_text(self._text)

    def _request_page(self) -> None:
        if self._loading or not self._has_more:
            return
        self._loading = True
        generation, text, offset = self._generation, self._text, len(self.rows)

        def job(ws: Workspace) -> list[dict[str, Any]]:
            if text:
                return search.search_persons(ws, text, limit=PAGE_SIZE, offset=offset)
            return contacts.list_page(ws, limit=PAGE_SIZE, offset=offset)

        # A failed page is reported (the operation's default handler) and can be asked again:
        # the list never stops loading for good.
        Operation(self._db, job).always(lambda: self._page_done(generation)).success(
            lambda rows: self._page_arrived(generation, rows)
        ).run()

    def _page_done(self, generation: int) -> None:
        if generation == self._generation:
            self._loading = False

    def _page_arrived(self, generation: int, rows: list[dict[str, Any]]) -> None:
        if generation != self._generation:
            return  # an older search: the user typed more since
        self._has_more = len(rows) == PAGE_SIZE
        if rows:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()
        self.loaded.emit()

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._has_more and not self._loading

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if not parent.isValid():
            self._request_page()

    def person_id(self, row: int) -> str | None:
        found = self.row(row)
        return None if found is None else str(found["id"])


class VisitJournalModel(_ColumnsModel[dict[str, Any]]):
    """The visit journal: holds only the ordered row numbers, fetches rows a page at a time.

    A million visits cost 4 MB of ids; rows are kept in a bounded cache of pages,
    so scrolling to the end does not grow memory.
    """

    loaded = Signal()
    MAX_CACHED_PAGES = 12  # 1,200 rows around what is shown: 40 pages cost about 4 MB more

    def __init__(self, database: DatabaseService, columns: Sequence[Column]) -> None:
        super().__init__()
        self._db = database
        self.columns = list(columns)
        self._rowids = array("q")
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self._pending: set[int] = set()
        self._filters: dict[str, Any] = {}
        self._generation = 0

    def set_filters(self, filters: dict[str, Any]) -> None:
        self._filters = dict(filters)
        self._generation += 1
        generation = self._generation
        filters_now = dict(filters)
        Operation(self._db, lambda ws: visits.journal_rowids(ws, **filters_now)).success(
            lambda ids: self._ids_arrived(generation, ids)
        ).run()

    def refresh(self) -> None:
        self.set_filters(self._filters)

    def _ids_arrived(self, generation: int, ids: array[int]) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self._rowids = ids
        self._pages.clear()
        self._pending.clear()
        self.endResetModel()
        self.loaded.emit()

    def _page_of(self, row: int) -> list[dict[str, Any]] | None:
        page = row // PAGE_SIZE
        if page in self._pages:
            self._pages.move_to_end(page)
            return self._pages[page]
        if page not in self._pending:
            self._pending.add(page)
            generation = self._generation
            wanted = list(self._rowids[page * PAGE_SIZE : (page + 1) * PAGE_SIZE])
            # Failed, the page is reported and asked again the next time it is shown.
            Operation(self._db, lambda ws: visits.journal_rows(ws, wanted)).always(
                lambda: self._pending.discard(page)
            ).success(lambda rows: self._page_arrived(generation, page, rows)).run()
        return None

    def _page_arrived(self, generation: int, page: int, rows: list[dict[str, Any]]) -> None:
        if generation != self._generation:
            return
        self._pages[page] = rows
        while len(self._pages) > self.MAX_CACHED_PAGES:
            self._pages.popitem(last=False)
        first = page * PAGE_SIZE
        last = min(first + len(rows), len(self._rowids)) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))
        self.loaded.emit()

    def row(self, row: int) -> dict[str, Any] | None:
        page = self._page_of(row)
        if page is None:
            return None
        offset = row % PAGE_SIZE
        return page[offset] if offset < len(page) else None

    def is_loaded(self, row: int) -> bool:
        return (row // PAGE_SIZE) in self._pages

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rowids)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rowids):
            return None
        if role not in (*_DISPLAY_ROLES, Qt.ItemDataRole.UserRole):
            return None
        row = self.row(index.row())
        if row is None:
            return tr("…") if role in _DISPLAY_ROLES and index.column() == 0 else None
        if role == Qt.ItemDataRole.UserRole:
            return row.get("id")
        value = self.columns[index.column()][1](row)
        return "" if value is None else str(value)
