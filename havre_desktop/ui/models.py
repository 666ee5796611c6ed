"""Table models over the worker: they hold a page of rows and fetch more on demand."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from havre_desktop.core import contacts, search
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.worker import DatabaseService

PAGE_SIZE = 100
_Index = QModelIndex | QPersistentModelIndex


class PersonSearchModel(QAbstractTableModel):
    """Persons matching what is typed (all persons, by name, when nothing is typed)."""

    loaded = Signal()  # a page arrived (tests and the status line wait on it)
    COLUMNS = ("Nom", "Téléphone", "Adresse", "Territoire")

    def __init__(self, database: DatabaseService, territories: dict[str, str]) -> None:
        super().__init__()
        self._db = database
        self._territories = territories
        self._rows: list[dict[str, Any]] = []
        self._text = ""
        self._generation = 0
        self._has_more = True
        self._loading = False

    # -- querying ---------------------------------------------------------------------

    def set_search_text(self, text: str) -> None:
        self._text = text.strip()
        self._generation += 1
        self.beginResetModel()
        self._rows = []
        self._has_more = True
        self._loading = False
        self.endResetModel()
        self._request_page()

    def _request_page(self) -> None:
        if self._loading or not self._has_more:
            return
        self._loading = True
        generation, text, offset = self._generation, self._text, len(self._rows)

        def job(ws: Workspace) -> list[dict[str, Any]]:
            if text:
                return search.search_persons(ws, text, limit=PAGE_SIZE, offset=offset)
            return contacts.list_page(ws, limit=PAGE_SIZE, offset=offset)

        self._db.submit(job, lambda rows: self._page_arrived(generation, rows))

    def _page_arrived(self, generation: int, rows: list[dict[str, Any]]) -> None:
        if generation != self._generation:
            return  # an older search: the user typed more since
        self._loading = False
        self._has_more = len(rows) == PAGE_SIZE
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self.loaded.emit()

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._has_more and not self._loading

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if not parent.isValid():
            self._request_page()

    # -- model API --------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return row["id"]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        column = index.column()
        if column == 0:
            return contacts.display_name(row)
        if column == 1:
            return row.get("phone_1") or ""
        if column == 2:
            return " ".join(p for p in (row.get("address_line"), row.get("postcode")) if p)
        if column == 3:
            return self._territories.get(row.get("territory_id") or "", "")
        return None

    def person_id(self, row: int) -> str | None:
        return self._rows[row]["id"] if 0 <= row < len(self._rows) else None
