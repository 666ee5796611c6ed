"""The catalogue, edited on the server: actions, facilities and their temporary changes.

Coordinators and administrators change it from the app when online (``PUT
/api/v1/catalogue/{table}/{id}``) or load the City's spreadsheet (``POST
/api/v1/admin/catalogue/sheet``, ``havre-server import-catalogue --tableur``); every device
receives the rows at its next pull (audience ``all``). A coordinator changes the actions of her
territories only (and the facilities and temporary changes of those territories); every change
is checked by the contract (same French messages as on the desktop) and audited
(``catalogue-modifie``, ``catalogue-importe``: ids, field names and counts only).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from havre_common import contract, validation
from havre_common.catalogue_sheet import (
    Problem,
    RawSheet,
    SheetLine,
    code_key,
    convert,
)
from havre_common.protocol import CatalogueSheetReport, SheetItem, SheetProblem
from havre_common.validation import ContractViolation
from havre_server import schema
from havre_server.admin import server_audit
from havre_server.catalogue_rules import require_editor, territories_of, territory_problem
from havre_server.changelog import ChangeBuffer, Ordering, flush
from havre_server.domain import decode, encode, entry_for, load_row, wire_fields
from havre_server.errors import ApiError, forbidden, not_found
from havre_server.push import iso_now
from havre_server.reference import Reference
from havre_server.scope import Principal

log = logging.getLogger("havre.server.catalogue")

TABLES = ("actions", "facilities", "temporary_changes")
_SERVER_SET = frozenset({"id", "updated_at", "author_agent_id"})


def _row_problems(conn: Connection, table: str, row_id: str, row: dict[str, Any]) -> list[str]:
    """Checks on the whole row (after the contract's field by field)."""
    problems: list[str] = []
    if table == "actions":
        if row.get("facility_id"):
            facility = load_row(conn, schema.facilities, str(row["facility_id"]))
            if facility is None or facility["deleted"]:
                problems.append("Lieu : ce lieu n'existe pas.")
        start, end = row.get("start_date"), row.get("end_date")
        if start and end and end < start:
            problems.append("Fin : la date de fin précède la date de début.")
        key = code_key(str(row.get("code") or ""))
        a = schema.actions
        others = conn.execute(
            select(a.c.id, a.c.code).where(a.c.deleted == 0, a.c.id != row_id)
        ).all()
        if any(code_key(str(o.code)) == key for o in others):
            problems.append(f"Code : le code « {row.get('code')} » est déjà celui d'une action.")
    if table == "temporary_changes":
        targets = [k for k in ("action_id", "facility_id") if row.get(k)]
        if len(targets) != 1:
            problems.append(
                "Un changement temporaire concerne une action ou un lieu (l'un des deux)."
            )
        else:
            parent = schema.actions if targets[0] == "action_id" else schema.facilities
            found = load_row(conn, parent, str(row[targets[0]]))
            if found is None or found["deleted"]:
                problems.append("L'action ou le lieu concerné n'existe pas.")
        if row.get("starts_on") and row.get("ends_on") and row["ends_on"] < row["starts_on"]:
            problems.append("Au : la fin de la période précède son début.")
        if row.get("kind") == "horaires" and not row.get("hours"):
            problems.append("Horaires pendant la période : à indiquer pour d'autres horaires.")
        if row.get("kind") == "message" and not row.get("message"):
            problems.append("Message : à écrire.")
    return problems


def save_row(
    engine: Engine,
    actor: Principal | None,
    table: str,
    row_id: str,
    values: dict[str, Any],
    ref: Reference,
    ordering: Ordering,
) -> dict[str, Any]:
    """Create or change one catalogue row (the given fields; an empty one is cleared).

    Every problem comes back at once, in French, and nothing is written. Suspending or closing
    is a change of ``status`` (and of ``end_date``); a row is never deleted here: history and
    evaluations keep naming it."""
    require_editor(actor)
    if table not in TABLES:
        raise not_found("Table inconnue dans le catalogue.")
    try:
        uuid.UUID(row_id)
    except ValueError:
        raise ApiError("invalid_request", "Identifiant invalide.") from None
    spec = contract.TABLES[table]
    unknown = sorted(set(values) - set(spec.names) | (set(values) & _SERVER_SET))
    if unknown:
        raise ApiError(
            "invalid_request",
            f"Champ inconnu ou réservé au serveur : {', '.join(unknown)[:200]}.",
        )
    sql_table = schema.TABLES[table]
    buffer = ChangeBuffer()
    with engine.begin() as conn:
        existing = load_row(conn, sql_table, row_id, for_update=True)
        creating = existing is None
        try:
            cleaned = validation.clean(spec, {**values, "id": row_id}, creating=creating, ref=ref)
        except ContractViolation as exc:
            raise ApiError("invalid_request", str(exc), details=list(exc.errors.values())) from None
        cleaned.pop("id", None)
        if not creating:
            assert existing is not None
            fixed = [
                k for k in cleaned if not spec.field(k).updatable and cleaned[k] != existing.get(k)
            ]
            if fixed:
                labels = ", ".join(spec.field(k).label for k in fixed)
                raise ApiError("invalid_request", f"Ne change pas après la création : {labels}.")
        merged = {**(existing or {}), **cleaned}
        problems = _row_problems(conn, table, row_id, merged)
        if problems:
            raise ApiError("invalid_request", " ".join(problems), details=problems)
        for territories in (
            territories_of(conn, table, existing),
            territories_of(conn, table, merged),
        ):
            if existing is None and territories == []:
                continue
            refused = territory_problem(actor, territories)
            if refused:
                raise forbidden(refused)
        changed = sorted(k for k in cleaned if existing is None or existing.get(k) != cleaned[k])
        if existing is not None and not changed and not existing["deleted"]:
            return _out(existing, table)
        stamp: dict[str, Any] = {"updated_at": iso_now()}
        if table == "temporary_changes":
            stamp["author_agent_id"] = None if actor is None else actor.agent_id
        if existing is None:
            conn.execute(
                insert(sql_table).values(id=row_id, server_version=1, **encode(cleaned), **stamp)
            )
        else:
            conn.execute(
                update(sql_table)
                .where(sql_table.c.id == row_id)
                .values(
                    server_version=int(existing["server_version"]) + 1,
                    deleted=0,
                    **encode(cleaned),
                    **stamp,
                )
            )
        fresh = load_row(conn, sql_table, row_id)
        assert fresh is not None
        buffer.add(entry_for(table, fresh, territory_id=None))
        server_audit(
            conn,
            actor,
            "catalogue-modifie",
            table,
            row_id,
            {"fields": changed or ["row"], "created": existing is None},
        )
        flush(conn, buffer, ordering)
    log.info("catalogue row saved table=%s fields=%d", table, len(changed))
    return _out(fresh, table)


def _out(row: dict[str, Any], table: str) -> dict[str, Any]:
    return {k: v for k, v in wire_fields(row, table).items() if k != contract.SAMPLE_COLUMN}


# -- the City's spreadsheet ---------------------------------------------------------------------


def _facility_names(conn: Connection) -> dict[str, str]:
    f = schema.facilities
    return {
        str(r.id): str(r.name)
        for r in conn.execute(select(f.c.id, f.c.name).where(f.c.deleted == 0))
    }


def _current_actions(conn: Connection) -> dict[str, dict[str, Any]]:
    """code key → the action (live ones first: a deleted one is revived only if no live one)."""
    found: dict[str, dict[str, Any]] = {}
    for row in conn.execute(select(schema.actions).order_by(schema.actions.c.deleted.desc())):
        action = decode(row)
        found[code_key(str(action["code"]))] = action
    return found


def _sheet_problem(p: Problem) -> SheetProblem:
    return SheetProblem(line=p.line, column=p.column[:300], message=p.message[:1000])


def import_sheet(
    engine: Engine,
    actor: Principal | None,
    sheet: RawSheet,
    ref: Reference,
    ordering: Ordering,
    *,
    apply: bool,
) -> CatalogueSheetReport:
    """Preview (``apply`` false) or import the City's spreadsheet, matched on the codes.

    With one problem anywhere, nothing is written and every problem is reported (line, column,
    French message). Lines whose values are those already stored change nothing (no new
    version, nothing sent to the devices): importing the same sheet twice changes nothing."""
    require_editor(actor)
    buffer = ChangeBuffer()
    table = schema.actions
    with engine.begin() as conn:
        lines, problems, ignored = convert(sheet, ref, _facility_names(conn))
        current = _current_actions(conn)
        items: list[SheetItem] = []
        plans: list[tuple[SheetLine, dict[str, Any] | None, list[str]]] = []
        for line in lines:
            old = current.get(code_key(line.code))
            values = dict(line.values)
            if old is not None and old["code"] != values["code"]:
                values["code"] = old["code"]  # same code, typed another way: kept as stored
            changed = sorted(k for k, v in values.items() if old is None or old.get(k) != v)
            if old is not None and old["deleted"]:
                changed = changed or ["code"]
            for territories in (
                territories_of(conn, "actions", old) if old is not None else [],
                values.get("territory_ids") or None,
            ):
                refused = territory_problem(actor, territories)
                if refused and (old is None or changed):
                    problems.append(Problem(line.line, "Territoires", refused))
                    break
            start, end = values.get("start_date"), values.get("end_date")
            outcome = "created" if old is None else ("changed" if changed else "unchanged")
            items.append(
                SheetItem(
                    line=line.line,
                    code=str(values["code"]),
                    title=str(values.get("title") or ""),
                    outcome=outcome,
                    fields=changed if old is not None else [],
                )
            )
            del start, end
            plans.append((line, old, changed))
        problems.sort(key=lambda p: (p.line, p.column))
        counts = {
            o: sum(1 for i in items if i.outcome == o) for o in ("created", "changed", "unchanged")
        }
        report = CatalogueSheetReport(
            **counts,
            items=items if not problems else [],
            problems=[_sheet_problem(p) for p in problems[:5000]],
            ignored_columns=ignored[:60],
            applied=False,
        )
        if problems or not apply:
            if problems:
                report = report.model_copy(update={"created": 0, "changed": 0, "unchanged": 0})
            return report
        now = iso_now()
        for line, old, changed in plans:
            values = dict(line.values)
            if old is None:
                row_id = str(uuid.uuid4())
                conn.execute(
                    insert(table).values(
                        id=row_id, server_version=1, updated_at=now, **encode(values)
                    )
                )
            elif changed:
                row_id = str(old["id"])
                values["code"] = old["code"]
                conn.execute(
                    update(table)
                    .where(table.c.id == row_id)
                    .values(
                        server_version=int(old["server_version"]) + 1,
                        deleted=0,
                        updated_at=now,
                        is_sample=0,
                        **encode(values),
                    )
                )
            else:
                continue
            fresh = load_row(conn, table, row_id)
            assert fresh is not None
            buffer.add(entry_for("actions", fresh, territory_id=None))
        server_audit(conn, actor, "catalogue-importe", "actions", "tableur", dict(counts))
        flush(conn, buffer, ordering)
    log.info("catalogue sheet imported %s", counts)
    return report.model_copy(update={"applied": True})


def sheet_from_request(
    columns: Iterable[str],
    rows: Iterable[tuple[int, list[str]]],
    problems: Iterable[tuple[int, str, str]],
    header_line: int,
) -> RawSheet:
    return RawSheet(
        list(columns),
        [(n, list(c)) for n, c in rows],
        [Problem(n, c, m) for n, c, m in problems],
        header_line,
    )
