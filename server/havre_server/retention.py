"""Retention of persons' files (issue 15; CNIL délibération 2023-095 on social action).

The active base keeps a person's file for a set time after the last contact with her
(``[retention] months`` in the configuration, ``HAVRE_SERVER_RETENTION_MONTHS``, 24 by
default). :func:`due` lists the files past that time that nothing keeps active; a coordinator
(her territories) or an administrator reviews the list and confirms, and :func:`anonymise`
empties what identifies the person — never deletes: her visits stay with their date, kind,
territory and actions proposed, so the counts of the activity reports do not change.

Everything comes from the contract (:mod:`havre_common.contract`), nothing is listed here:

* the *last contact* is the latest of the ``contact_dates`` of every table about a person
  (the fiche's creation, visits and calls, consents, register enrolment and removal, planned
  contacts, handouts); reception encounters are anonymous counts and name no one;
* a file is *kept active* by a live row matching a table's ``keeps_active`` rule (an open
  planned contact, a current register enrolment; the register and campaign tables declare
  theirs the same way);
* *anonymising* empties every ``identifying`` field of her rows (identity, contact details,
  free text: visit notes, reasons, conflict values), sets ``anonymised_on`` and ``archived``.

The anonymisation is a change like any other: new versions of her rows go to the change log
for every device that holds her, so each loses her identity and notes at its next sync (its
search index with them); earlier log entries about her are scrubbed in place, as erasure does,
so that no pull can bring the old values back; a device that edits her identity afterwards is
refused (``push``). One audit entry per file records who anonymised it, with ids and counts.
"""

from __future__ import annotations

import calendar
import json
import logging
from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, exists, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from havre_common import contract
from havre_common.contract import Check, KeepsActive
from havre_common.french import french_date
from havre_common.hlc import Timestamp
from havre_common.protocol import (
    RetentionCandidate,
    RetentionList,
    RetentionReply,
    RetentionSkipped,
)
from havre_server import schema
from havre_server.admin import redact_reasons, scrub_database_files, server_audit
from havre_server.auth import now_ms
from havre_server.changelog import ChangeBuffer, Ordering, flush
from havre_server.config import setting
from havre_server.db import dumps
from havre_server.domain import PERSON_DEPENDENTS, decode, encode, entry_for, load_row
from havre_server.errors import forbidden
from havre_server.push import iso_now
from havre_server.scope import ADMINISTRATOR, COORDINATOR, Principal

log = logging.getLogger("havre.server.retention")

MONTHS_ENV = "HAVRE_SERVER_RETENTION_MONTHS"
DEFAULT_MONTHS = 24
PARIS = ZoneInfo("Europe/Paris")
EVENT = "anonymisation-conservation"
SERVER_NODE = "serveur"
"""The node of the stamps the server gives the fields it empties (per-field merge)."""
SCRUBBED_REASON = "Fiche anonymisée (conservation) : motif retiré."
"""Replaces the refusal reasons recorded about her rows (a reason may quote a typed value)."""
REFUSED = "Seuls les coordinateurs et les administrateurs examinent la conservation des fiches."
RECENT = "Contact depuis le {cutoff} : la fiche est conservée."
NOT_FOUND = "Fiche introuvable ou hors de votre périmètre."
ALREADY = "Fiche déjà anonymisée."


def months_setting() -> int:
    months = int(setting(MONTHS_ENV, DEFAULT_MONTHS))
    if months < 1:
        raise ValueError("retention.months : au moins 1 mois")
    return months


def today_in_le_havre() -> date:
    return datetime.now(PARIS).date()


def cutoff_for(today: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it has fewer)."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(today.day, last))


def _scope(actor: Principal | None) -> Collection[str] | None:
    """The territories the actor may review (None: all, the operator or an administrator)."""
    if actor is None or actor.role == ADMINISTRATOR:
        return None
    if actor.role == COORDINATOR:
        return tuple(actor.territories)
    raise forbidden(REFUSED)


# -- which files are due -------------------------------------------------------------------------


def _person_column(table_name: str) -> str:
    return str(contract.TABLES[table_name].person_column)


def _live(table_name: str) -> list[ColumnElement[bool]]:
    table = schema.TABLES[table_name]
    return [table.c.deleted == 0] if "deleted" in table.c else []


def _condition(table_name: str, rule: KeepsActive, today: str) -> ColumnElement[bool]:
    table = schema.TABLES[table_name]
    parts: list[ColumnElement[bool]] = []
    for name, check in rule.conditions:
        column = table.c[name]
        if check is Check.EMPTY:
            parts.append(or_(column.is_(None), column == ""))
        elif check is Check.FALSE:
            parts.append(or_(column.is_(None), column == 0))
        else:
            parts.append(or_(column.is_(None), column == "", func.substr(column, 1, 10) >= today))
    if rule.through is not None:
        column_name, parent_name, conditions = rule.through
        parent = schema.TABLES[parent_name]
        parent_rule = KeepsActive(conditions, rule.label)
        parts.append(
            exists().where(
                parent.c.id == table.c[column_name],
                *_live(parent_name),
                _condition(parent_name, parent_rule, today),
            )
        )
    return and_(*parts)


def histories(conn: Connection) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """Every person's last contact (ISO date, the latest of the contract's contact dates) and
    her live rows per table: one grouped pass over each table about persons."""
    last: dict[str, str] = {}
    rows: dict[str, dict[str, int]] = {}
    for table_name in contract.PERSON_TABLES:
        table = schema.TABLES[table_name]
        person = table.c[_person_column(table_name)]
        dates = contract.TABLES[table_name].contact_dates
        query = (
            select(
                person,
                func.count(),
                *(func.max(func.substr(table.c[name], 1, 10)) for name in dates),
            )
            .where(*_live(table_name))
            .group_by(person)
        )
        for person_id, n, *found in conn.execute(query):
            if person_id is None:
                continue
            if table_name != "contacts":
                rows.setdefault(person_id, {})[table_name] = int(n)
            latest = max((d for d in found if d), default="")
            if latest > last.get(person_id, ""):
                last[person_id] = latest
    return last, rows


def kept_active(conn: Connection, today: str) -> dict[str, str]:
    """Persons a row keeps active whatever their last contact → the first rule's label."""
    kept: dict[str, str] = {}
    for table_name, rule in contract.KEEPS_ACTIVE:
        table = schema.TABLES[table_name]
        person = table.c[_person_column(table_name)]
        query = select(person).where(*_live(table_name), _condition(table_name, rule, today))
        for (person_id,) in conn.execute(query.distinct()):
            kept.setdefault(person_id, rule.label)
    return kept


def candidates(
    conn: Connection, *, cutoff: str, today: str, territories: Collection[str] | None
) -> list[RetentionCandidate]:
    """Files of persons whose last contact is before ``cutoff`` and that nothing keeps
    active, in ``territories`` (None: all); oldest contact first."""
    c = schema.contacts
    query = select(c.c.id, c.c.territory_id).where(
        c.c.kind == "person", c.c.deleted == 0, c.c.anonymised_on.is_(None)
    )
    if territories is not None:
        query = query.where(c.c.territory_id.in_(list(territories)))
    persons = {str(r.id): str(r.territory_id) for r in conn.execute(query)}
    last, counts = histories(conn)
    kept = kept_active(conn, today)
    due = {p for p in persons if p not in kept and last.get(p, "") < cutoff}
    found = [
        RetentionCandidate(
            person_id=p,
            territory_id=persons[p],
            # A file with no dated contact at all (none should exist: its creation dates it).
            last_contact=last.get(p) or "1970-01-01",
            rows=counts.get(p, {}),
        )
        for p in due
    ]
    found.sort(key=lambda x: (x.last_contact, x.person_id))
    return found


def due(
    engine: Engine,
    actor: Principal | None,
    *,
    months: int | None = None,
    today: date | None = None,
) -> RetentionList:
    """The files a coordinator (her territories) or an administrator may anonymise now."""
    territories = _scope(actor)
    months = months_setting() if months is None else months
    today = today_in_le_havre() if today is None else today
    cutoff = cutoff_for(today, months).isoformat()
    with engine.connect() as conn:
        found = candidates(conn, cutoff=cutoff, today=today.isoformat(), territories=territories)
    log.info("retention listed due=%d months=%d", len(found), months)
    return RetentionList(
        months=months,
        cutoff=cutoff,
        rules=[rule.label for _table, rule in contract.KEEPS_ACTIVE],
        candidates=found,
    )


# -- anonymisation ---------------------------------------------------------------------------------


def _is_anonymised(f: contract.Field, value: Any) -> bool:
    empty = contract.anonymised_value(f)
    return value == empty or value in (None, "", [], {})


def _rows_of(conn: Connection, person_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Her fiche and every row about her, deleted ones included (they hold text too)."""
    rows: list[tuple[str, dict[str, Any]]] = []
    person = load_row(conn, schema.contacts, person_id, for_update=True)
    if person is not None:
        rows.append(("contacts", person))
    for table, column in PERSON_DEPENDENTS:
        if table.name not in contract.IDENTIFYING:
            continue
        query = select(table).where(table.c[column] == person_id).order_by(table.c.id)
        rows.extend((table.name, decode(r)) for r in conn.execute(query.with_for_update()))
    return rows


def _anonymise_one(
    conn: Connection, person_id: str, today: str, buffer: ChangeBuffer
) -> dict[str, int]:
    """Empty her identifying fields everywhere; returns the rows changed per table."""
    rows = _rows_of(conn, person_id)
    territory = rows[0][1]["territory_id"]
    stamp = str(Timestamp(now_ms(), 0, SERVER_NODE))
    changed: dict[str, int] = {}
    for table_name, row in rows:
        spec = contract.TABLES[table_name]
        values: dict[str, Any] = {
            f.name: contract.anonymised_value(f)
            for f in spec.identifying
            if not _is_anonymised(f, row.get(f.name))
        }
        if table_name == "contacts":
            values[contract.ANONYMISED_COLUMN] = today
            values["archived"] = 1
        if not values:
            continue
        version = int(row.get("server_version") or 0) + 1
        if spec.field_clocks:
            clocks = json.loads(row.get(contract.CLOCK_COLUMN) or "{}")
            meta = json.loads(row.get("field_meta") or "{}")
            for name in values:
                clocks[name] = stamp
                meta[name] = {"v": version, "a": None, "d": SERVER_NODE}
            values[contract.CLOCK_COLUMN] = dumps(clocks)
            values["field_meta"] = dumps(meta)
        if "updated_at" in spec.by_name:
            values["updated_at"] = iso_now()
        table = schema.TABLES[table_name]
        conn.execute(
            update(table)
            .where(table.c.id == row["id"])
            .values(**encode(values), server_version=version)
        )
        fresh = load_row(conn, table, str(row["id"]))
        assert fresh is not None
        if not row.get("deleted"):
            buffer.add(entry_for(table_name, fresh, territory_id=territory))
        changed[table_name] = changed.get(table_name, 0) + 1
    _scrub_log(conn, person_id)
    redact_reasons(conn, [(t, str(r["id"])) for t, r in rows], SCRUBBED_REASON)
    return changed


def _scrub_log(conn: Connection, person_id: str) -> int:
    """Earlier log entries about her keep the old values: emptied in place (their versions
    stay, so a device replaying them ends with the anonymised row all the same)."""
    log_table = schema.change_log
    entries = conn.execute(
        select(log_table.c.seq, log_table.c.table_name, log_table.c.fields).where(
            log_table.c.person_id == person_id, log_table.c.fields.is_not(None)
        )
    ).all()
    scrubbed = 0
    for seq, table_name, raw in entries:
        spec = contract.TABLES.get(table_name)
        if spec is None or not spec.identifying:
            continue
        fields = json.loads(raw)
        emptied = {
            f.name: contract.anonymised_value(f)
            for f in spec.identifying
            if f.name in fields and not _is_anonymised(f, fields[f.name])
        }
        if not emptied:
            continue
        fields.update(emptied)
        conn.execute(update(log_table).where(log_table.c.seq == seq).values(fields=dumps(fields)))
        scrubbed += 1
    return scrubbed


def anonymise(
    engine: Engine,
    actor: Principal | None,
    person_ids: Iterable[str],
    ordering: Ordering,
    *,
    months: int | None = None,
    today: date | None = None,
) -> RetentionReply:
    """Anonymise the files asked for that are still due (checked again now: a visit may have
    come in since the list was read); the others are skipped with the reason."""
    territories = _scope(actor)
    months = months_setting() if months is None else months
    today = today_in_le_havre() if today is None else today
    day = today.isoformat()
    cutoff = cutoff_for(today, months).isoformat()
    buffer = ChangeBuffer()
    anonymised: list[str] = []
    skipped: list[RetentionSkipped] = []
    audit_ids: list[str] = []
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
        still_due = {
            c.person_id: c
            for c in candidates(conn, cutoff=cutoff, today=day, territories=territories)
        }
        for person_id in dict.fromkeys(person_ids):
            if person_id not in still_due:
                skipped.append(
                    RetentionSkipped(
                        person_id=person_id,
                        reason=_why_not(conn, person_id, territories, day, cutoff),
                    )
                )
                continue
            changed = _anonymise_one(conn, person_id, day, buffer)
            detail = {"mois": months, "dernier_contact_avant": cutoff, **changed}
            audit_ids.append(server_audit(conn, actor, EVENT, "contacts", person_id, detail))
            anonymised.append(person_id)
        flush(conn, buffer, ordering)
    log.info("retention applied anonymised=%d skipped=%d", len(anonymised), len(skipped))
    if anonymised:
        scrub_database_files(engine)
    return RetentionReply(anonymised=anonymised, skipped=skipped, audit_ids=audit_ids)


def _why_not(
    conn: Connection,
    person_id: str,
    territories: Collection[str] | None,
    today: str,
    cutoff: str,
) -> str:
    """Why a file asked for is not anonymised, in French (said to the coordinator)."""
    person = load_row(conn, schema.contacts, person_id)
    if (
        person is None
        or person["deleted"]
        or person["kind"] != "person"
        or (territories is not None and person["territory_id"] not in territories)
    ):
        return NOT_FOUND
    if person.get(contract.ANONYMISED_COLUMN):
        return ALREADY
    label = kept_active(conn, today).get(person_id)
    if label is not None:
        return f"Fiche conservée : {label}."
    return RECENT.format(cutoff=french_date(cutoff))
