"""Administration shared by the command line (actor ``None``: the operator on the server) and the
authenticated API (actor: an administrator, or a coordinator limited to their territories).

Agent directory and scope changes are written to the change log like any other change; a change
of an agent's role or territories also sets their ``scope_changed_seq`` so that their devices
re-download their (new) scope at the next pull.
"""

from __future__ import annotations

import csv
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from havre_common.passwords import one_time_password
from havre_common.protocol import (
    AgentCreate,
    AgentOut,
    AgentUpdate,
    CatalogueImportReply,
    DeviceOut,
    EraseReply,
    PasswordReset,
    printable,
)
from havre_common.values import normalise_phone
from havre_server import audit, schema
from havre_server.auth import hash_password, now_ms
from havre_server.changelog import ChangeBuffer, Entry, Ordering, flush
from havre_server.db import dumps
from havre_server.domain import (
    PERSON_DEPENDENTS,
    SPECS,
    Reject,
    clean,
    decode,
    entry_for,
    load_row,
    wire_fields,
)
from havre_server.errors import ApiError, forbidden, not_found
from havre_server.push import iso_now
from havre_server.reference import Reference
from havre_server.schema import unservable_rows
from havre_server.scope import ADMINISTRATOR, COORDINATOR, RECEPTION, SOCIAL_WORKER, Principal

log = logging.getLogger("havre.server.admin")

COORDINATOR_MANAGED_ROLES = frozenset({SOCIAL_WORKER, RECEPTION})


def _require_manager(actor: Principal | None) -> None:
    if actor is not None and actor.role not in (ADMINISTRATOR, COORDINATOR):
        raise forbidden()


def _check_territories(ref: Reference, territories: list[str]) -> list[str]:
    unknown = [t for t in territories if t not in ref.territories]
    if unknown:
        raise ApiError("invalid_request", f"Territoire inconnu : {', '.join(unknown)}.")
    if not territories:
        raise ApiError("invalid_request", "Choisissez au moins un territoire.")
    return list(dict.fromkeys(territories))


def _agent_row(conn: Connection, agent_id: str) -> dict[str, Any] | None:
    return load_row(conn, schema.agents, agent_id)


def _can_manage(actor: Principal | None, agent: dict[str, Any]) -> bool:
    if actor is None or actor.role == ADMINISTRATOR:
        return True
    if actor.role != COORDINATOR or agent["id"] == actor.agent_id:
        return False
    return agent["role"] in COORDINATOR_MANAGED_ROLES and set(agent["territory_ids"]) <= set(
        actor.territories
    )


def _directory_entries(
    agent: dict[str, Any], old_territories: list[str], buffer: ChangeBuffer
) -> None:
    new = list(agent["territory_ids"])
    for territory in old_territories:
        if territory not in new or agent.get("deleted"):
            buffer.add(
                Entry(
                    table_name="agents",
                    row_id=agent["id"],
                    op="remove",
                    reason="revoked",
                    audience="directory",
                    territory_id=territory,
                    server_version=int(agent["server_version"]),
                )
            )
    if agent.get("deleted"):
        return
    for territory in new:
        buffer.add(
            Entry(
                table_name="agents",
                row_id=agent["id"],
                op="upsert",
                audience="directory",
                territory_id=territory,
                fields=wire_fields(agent, "agents"),
                server_version=int(agent["server_version"]),
            )
        )


def _set_territories(conn: Connection, agent_id: str, old: list[str], new: list[str]) -> None:
    at, history = schema.agent_territories, schema.agent_territory_history
    now = now_ms()
    for territory in set(old) - set(new):
        conn.execute(delete(at).where(at.c.agent_id == agent_id, at.c.territory_id == territory))
        conn.execute(
            update(history)
            .where(
                history.c.agent_id == agent_id,
                history.c.territory_id == territory,
                history.c.to_ms.is_(None),
            )
            .values(to_ms=now)
        )
    for territory in [t for t in new if t not in old]:
        conn.execute(insert(at).values(agent_id=agent_id, territory_id=territory))
        conn.execute(insert(history).values(agent_id=agent_id, territory_id=territory, from_ms=now))


def _check_register_grant(actor: Principal | None, granted: bool) -> None:
    """Only an administrator, a coordinator holding the right, or the command line grants it."""
    if granted and actor is not None and actor.role != ADMINISTRATOR and not actor.register_right:
        raise forbidden(
            "Seul un administrateur ou un coordinateur qui a lui-même accès au registre peut "
            "donner ce droit."
        )


def _shown(value: str | None) -> str | None:
    """A stored name as a reply may carry it: values stored before names were checked for
    control characters are shown (replaced characters), not a 500 for the whole list."""
    return None if value is None else printable(value, multiline=False)


def _agent_out(conn: Connection, agent: dict[str, Any]) -> AgentOut:
    account = conn.execute(
        select(schema.accounts).where(schema.accounts.c.agent_id == agent["id"])
    ).first()
    return AgentOut(
        id=agent["id"],
        login=None if account is None else _shown(account.login),
        display_name=printable(agent["display_name"], multiline=False),
        role=agent["role"],
        territory_ids=list(agent["territory_ids"]),
        work_phone=_shown(agent["work_phone"]),
        disabled=bool(account.disabled) if account is not None else True,
        register_right=bool(agent.get("register_right")),
    )


def create_agent(
    engine: Engine,
    actor: Principal | None,
    request: AgentCreate,
    ref: Reference,
    ordering: Ordering,
) -> AgentOut:
    _require_manager(actor)
    territories = _check_territories(ref, list(request.territory_ids))
    if (
        actor is not None
        and actor.role == COORDINATOR
        and (
            request.role not in COORDINATOR_MANAGED_ROLES
            or not set(territories) <= set(actor.territories)
        )
    ):
        raise forbidden(
            "Un coordinateur crée des travailleurs sociaux ou des agents d'accueil de ses "
            "territoires seulement."
        )
    phone = _clean_phone(request.work_phone)
    register_right = (
        request.role == COORDINATOR if request.register_right is None else request.register_right
    )
    _check_register_grant(actor, register_right)
    agent_id = str(uuid.uuid4())
    now = now_ms()
    buffer = ChangeBuffer()
    try:
        with engine.begin() as conn:
            agent = {
                "id": agent_id,
                "display_name": request.display_name.strip(),
                "role": request.role,
                "territory_ids": dumps(territories),
                "work_phone": phone,
                "server_account": request.login,
                "register_right": int(register_right),
                "server_version": 1,
                "updated_at": iso_now(),
            }
            conn.execute(insert(schema.agents).values(**agent))
            conn.execute(
                insert(schema.accounts).values(
                    id=str(uuid.uuid4()),
                    login=request.login,
                    password_hash=hash_password(request.password),
                    agent_id=agent_id,
                    created_at_ms=now,
                )
            )
            _set_territories(conn, agent_id, [], territories)
            server_audit(
                conn,
                actor,
                "agent-cree",
                "agents",
                agent_id,
                {"role": request.role, "territoires": ":".join(territories)},
            )
            if register_right:
                server_audit(
                    conn, actor, "droit-registre", "agents", agent_id, {"register_right": True}
                )
            row = _agent_row(conn, agent_id)
            assert row is not None
            _directory_entries(row, [], buffer)
            seqs = flush(conn, buffer, ordering)
            # Their scope begins now: no cursor from before may ever read the log for them.
            conn.execute(
                update(schema.agents)
                .where(schema.agents.c.id == agent_id)
                .values(scope_changed_seq=max(seqs))
            )
            out = _agent_out(conn, row)
    except IntegrityError:
        raise ApiError("conflict", "Cet identifiant de connexion existe déjà.") from None
    log.info("agent created agent=%s role=%s", agent_id, request.role)
    return out


def _clean_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    try:
        return normalise_phone(phone)
    except ValueError as exc:
        raise ApiError("invalid_request", str(exc)) from None


def find_agent_id(engine: Engine, login: str) -> str:
    with engine.connect() as conn:
        agent_id = conn.execute(
            select(schema.accounts.c.agent_id).where(schema.accounts.c.login == login.lower())
        ).scalar()
    if agent_id is None:
        raise not_found(f"Aucun compte « {login} ».")
    return str(agent_id)


def update_agent(
    engine: Engine,
    actor: Principal | None,
    agent_id: str,
    request: AgentUpdate,
    ref: Reference,
    ordering: Ordering,
) -> AgentOut:
    _require_manager(actor)
    buffer = ChangeBuffer()
    with engine.begin() as conn:
        agent = _agent_row(conn, agent_id)
        if agent is None or agent["deleted"] or not _can_manage(actor, agent):
            raise not_found("Agent introuvable ou hors de votre périmètre.")
        old_territories = list(agent["territory_ids"])
        new_territories = (
            _check_territories(ref, list(request.territory_ids))
            if request.territory_ids is not None
            else old_territories
        )
        role = request.role or agent["role"]
        if (
            actor is not None
            and actor.role == COORDINATOR
            and (
                role not in COORDINATOR_MANAGED_ROLES
                or not set(new_territories) <= set(actor.territories)
            )
        ):
            raise forbidden(
                "Un coordinateur ne gère que les travailleurs sociaux et les agents "
                "d'accueil de ses territoires."
            )
        changes: dict[str, Any] = {}
        if request.display_name is not None:
            changes["display_name"] = request.display_name.strip()
        if request.work_phone is not None:
            changes["work_phone"] = _clean_phone(request.work_phone)
        scope_changed = role != agent["role"] or set(new_territories) != set(old_territories)
        if scope_changed:
            changes["role"] = role
            changes["territory_ids"] = dumps(new_territories)
        if request.register_right is not None and request.register_right != bool(
            agent["register_right"]
        ):
            _check_register_grant(actor, request.register_right)
            # Gained: the next pull brings the register; lost: it removes it from the devices.
            scope_changed = True
            changes["register_right"] = int(request.register_right)
            server_audit(
                conn,
                actor,
                "droit-registre",
                "agents",
                agent_id,
                {"register_right": request.register_right},
            )
        if changes:
            changes["server_version"] = int(agent["server_version"]) + 1
            changes["updated_at"] = iso_now()
            conn.execute(
                update(schema.agents).where(schema.agents.c.id == agent_id).values(**changes)
            )
            _set_territories(conn, agent_id, old_territories, new_territories)
            fresh = _agent_row(conn, agent_id)
            assert fresh is not None
            _directory_entries(fresh, old_territories, buffer)
            buffer.add(
                Entry(
                    table_name="agents",
                    row_id=agent_id,
                    op="upsert",
                    audience="target",
                    scope_agent_ids=[agent_id],
                    fields=wire_fields(fresh, "agents"),
                    server_version=int(fresh["server_version"]),
                )
            )
        if changes:
            detail: dict[str, Any] = {"role": role, "territoires": ":".join(new_territories)}
            server_audit(conn, actor, "agent-modifie", "agents", agent_id, detail)
        if request.disabled is not None:
            disabled = conn.execute(
                update(schema.accounts)
                .where(
                    schema.accounts.c.agent_id == agent_id,
                    schema.accounts.c.disabled != int(request.disabled),
                )
                .values(disabled=int(request.disabled))
            ).rowcount
            if disabled:
                event = "compte-desactive" if request.disabled else "compte-reactive"
                server_audit(conn, actor, event, "agents", agent_id, {})
        seqs = flush(conn, buffer, ordering)
        if scope_changed and seqs:
            conn.execute(
                update(schema.agents)
                .where(schema.agents.c.id == agent_id)
                .values(scope_changed_seq=max(seqs))
            )
        final = _agent_row(conn, agent_id)
        assert final is not None
        out = _agent_out(conn, final)
    log.info("agent updated agent=%s scope_changed=%s", agent_id, scope_changed)
    return out


def reset_password(
    engine: Engine, actor: Principal | None, agent_id: str, password: str | None = None
) -> PasswordReset:
    """A new password for an agent the actor manages (the CLI may choose it; else the server
    draws a one-time password), given once in the reply. The account's open sessions are
    closed (its devices ask to sign in again: nothing is wiped, unsent changes stay), except
    the one making the request; its failed attempts are forgiven. Audited."""
    _require_manager(actor)
    if password is not None and not 10 <= len(password) <= 256:
        raise ApiError("invalid_request", "Le mot de passe doit compter de 10 à 256 caractères.")
    new = password or one_time_password()
    a = schema.accounts
    with engine.begin() as conn:
        agent = _agent_row(conn, agent_id)
        account = conn.execute(select(a.c.id, a.c.login).where(a.c.agent_id == agent_id)).first()
        if agent is None or agent["deleted"] or account is None or not _can_manage(actor, agent):
            raise not_found("Agent introuvable ou hors de votre périmètre.")
        conn.execute(update(a).where(a.c.id == account.id).values(password_hash=hash_password(new)))
        t = schema.tokens
        sessions = update(t).where(t.c.account_id == account.id, t.c.revoked_at_ms.is_(None))
        if actor is not None:
            sessions = sessions.where(t.c.token_hash != actor.token_hash)
        closed = conn.execute(sessions.values(revoked_at_ms=now_ms())).rowcount or 0
        lf = schema.login_failures
        conn.execute(delete(lf).where(lf.c.key == f"login:{account.login}"))
        server_audit(
            conn, actor, "mot-de-passe-reinitialise", "agents", agent_id, {"sessions": closed}
        )
    log.info("password reset agent=%s sessions_closed=%d", agent_id, closed)
    return PasswordReset(password=new)


def list_agents(engine: Engine, actor: Principal | None) -> list[AgentOut]:
    _require_manager(actor)
    with engine.connect() as conn:
        rows = conn.execute(
            select(schema.agents).where(schema.agents.c.deleted == 0).order_by(schema.agents.c.id)
        ).all()
        agents = [decode(r) for r in rows]
        return [_agent_out(conn, a) for a in agents if _visible_agent(actor, a)]


def _visible_agent(actor: Principal | None, agent: dict[str, Any]) -> bool:
    if actor is None or actor.role == ADMINISTRATOR:
        return True
    return bool(set(agent["territory_ids"]) & set(actor.territories))


def list_devices(
    engine: Engine, actor: Principal | None, login: str | None = None
) -> list[DeviceOut]:
    _require_manager(actor)
    d, a, s = schema.devices, schema.accounts, schema.device_pull_state
    with engine.connect() as conn:
        query = (
            select(d, a.c.login, a.c.agent_id, s.c.seen_at_ms.label("pulled_at_ms"))
            .join(a, a.c.id == d.c.account_id)
            .outerjoin(s, s.c.device_pk == d.c.id)
            .order_by(d.c.created_at_ms, d.c.id)
        )
        if login:
            query = query.where(a.c.login == login.lower())
        out: list[DeviceOut] = []
        for row in conn.execute(query).all():
            agent = _agent_row(conn, row.agent_id)
            if agent is None or not _can_manage(actor, agent):
                continue
            out.append(
                DeviceOut(
                    device_id=row.device_id,
                    agent_id=row.agent_id,
                    login=printable(row.login, multiline=False),
                    label=printable(row.label, multiline=False),
                    client_version=_shown(row.client_version),
                    created_at_ms=row.created_at_ms,
                    last_seen_at_ms=row.last_seen_at_ms,
                    revoked_at_ms=row.revoked_at_ms,
                    last_sync_at_ms=max(
                        (m for m in (row.last_seen_at_ms, row.pulled_at_ms) if m is not None),
                        default=None,
                    ),
                )
            )
        return out


def revoke_device(engine: Engine, actor: Principal | None, device_id: str) -> int:
    """Revoke every device row with this id the actor may manage; returns how many."""
    _require_manager(actor)
    d, a = schema.devices, schema.accounts
    now = now_ms()
    count = 0
    with engine.begin() as conn:
        rows = conn.execute(
            select(d.c.id, a.c.agent_id)
            .join(a, a.c.id == d.c.account_id)
            .where(d.c.device_id == device_id)
        ).all()
        for row in rows:
            agent = _agent_row(conn, row.agent_id)
            if agent is None or not _can_manage(actor, agent):
                continue
            conn.execute(update(d).where(d.c.id == row.id).values(revoked_at_ms=now))
            conn.execute(
                update(schema.tokens)
                .where(schema.tokens.c.device_pk == row.id, schema.tokens.c.revoked_at_ms.is_(None))
                .values(revoked_at_ms=now)
            )
            server_audit(conn, actor, "appareil-revoque", "devices", device_id, {})
            count += 1
    if not count:
        raise not_found("Appareil introuvable ou hors de votre périmètre.")
    log.info("device revoked device=%s", device_id)
    return count


def server_audit(
    conn: Connection,
    actor: Principal | None,
    event: str,
    entity: str,
    entity_id: str,
    detail: dict[str, Any],
) -> str:
    audit_id = str(uuid.uuid4())
    audit.append(
        conn,
        {
            "id": audit_id,
            "at": iso_now(),
            "agent_id": None if actor is None else actor.agent_id,
            "event": event,
            "entity": entity,
            "entity_id": entity_id,
            "detail": dumps(detail),
            "device_id": None if actor is None else actor.device_id,
            "received_at_ms": now_ms(),
        },
    )
    return audit_id


# -- catalogue ----------------------------------------------------------------------------------


def import_catalogue(
    engine: Engine,
    actor: Principal | None,
    catalogue: dict[str, Any],
    ref: Reference,
    ordering: Ordering,
    *,
    sample: bool = False,
) -> CatalogueImportReply:
    """Insert or replace facilities and actions (checked like a push; all or nothing)."""
    if actor is not None and actor.role not in (ADMINISTRATOR, COORDINATOR):
        raise forbidden("Le catalogue est géré par les coordinateurs et les administrateurs.")
    buffer = ChangeBuffer()
    counts = {"facilities": 0, "actions": 0}
    with engine.begin() as conn:
        for table_name in ("facilities", "actions"):
            spec = SPECS[table_name]
            for index, item in enumerate(catalogue.get(table_name) or [], start=1):
                if not isinstance(item, dict):
                    raise ApiError("invalid_request", f"{table_name} n° {index} : objet attendu.")
                values = {
                    k: v
                    for k, v in item.items()
                    if k not in ("id", "is_sample", "server_version", "deleted")
                }
                row_id = item.get("id") or str(uuid.uuid4())
                try:
                    uuid.UUID(str(row_id))
                    cleaned = clean(spec, ref, values)
                except (Reject, ValueError) as exc:
                    reason = exc.reason if isinstance(exc, Reject) else "identifiant invalide"
                    raise ApiError(
                        "invalid_request", f"{table_name} n° {index} : {reason}"
                    ) from None
                missing = [k for k in spec.required if cleaned.get(k) in (None, "")]
                if missing:
                    raise ApiError(
                        "invalid_request",
                        f"{table_name} n° {index} : champs manquants {', '.join(sorted(missing))}.",
                    )
                cleaned.setdefault("updated_at", iso_now())
                cleaned["is_sample"] = int(sample)
                for key in spec.contract.json_fields & cleaned.keys():  # lists, flags
                    cleaned[key] = json.dumps(cleaned[key], ensure_ascii=False)
                existing = load_row(conn, spec.table, str(row_id), for_update=True)
                if existing is None:
                    conn.execute(
                        insert(spec.table).values(id=str(row_id), server_version=1, **cleaned)
                    )
                else:
                    conn.execute(
                        update(spec.table)
                        .where(spec.table.c.id == str(row_id))
                        .values(
                            server_version=int(existing["server_version"]) + 1, deleted=0, **cleaned
                        )
                    )
                fresh = load_row(conn, spec.table, str(row_id))
                assert fresh is not None
                buffer.add(
                    Entry(
                        table_name=table_name,
                        row_id=str(row_id),
                        op="upsert",
                        audience="all",
                        fields=wire_fields(fresh, table_name),
                        server_version=int(fresh["server_version"]),
                    )
                )
                counts[table_name] += 1
        flush(conn, buffer, ordering)
    log.info("catalogue imported facilities=%d actions=%d", counts["facilities"], counts["actions"])
    return CatalogueImportReply(**counts)


_LIST_COLUMNS = ("audience_ids", "need_ids", "territory_ids")
_BOOL_COLUMNS = ("step_free", "is_free")


def read_catalogue_csv(path: Path) -> list[dict[str, Any]]:
    """One CSV (header row, ``;`` or ``,`` separated, UTF-8): lists separated by ``|``,
    booleans as oui/non/1/0, ``accessibility`` as the ``|``-separated flags that are true."""
    # newline="": the csv module reads the line ends itself, so that a quoted cell keeps its
    # line breaks (a description over several lines); split lines would lose them.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        # Only the separator is guessed: a dialect sniffed from the header alone misreads the
        # doubled quotes ("") of a cell, as Excel writes a quote inside one.
        delimiter = csv.Sniffer().sniff(handle.readline(), delimiters=";,").delimiter
        handle.seek(0)
        records = list(csv.DictReader(handle, delimiter=delimiter))
    rows: list[dict[str, Any]] = []
    for raw in records:
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key is None:
                continue
            value = (value or "").strip()
            if key in _LIST_COLUMNS:
                row[key] = [v.strip() for v in value.split("|") if v.strip()]
            elif key in _BOOL_COLUMNS:
                row[key] = value.lower() in ("1", "oui", "true", "vrai", "yes")
            elif key == "accessibility":
                flags = {v.strip() for v in value.split("|") if v.strip()}
                row[key] = {
                    f: f in flags
                    for f in (
                        "step_free",
                        "hearing_loop",
                        "easy_read",
                        "sign_language",
                        "adapted_transport",
                    )
                }
            else:
                row[key] = value or None
        rows.append(row)
    return rows


# -- erasure (RGPD) ---------------------------------------------------------------------------


ERASE_TABLES = PERSON_DEPENDENTS
"""Every table whose rows belong to a person (the contract's, and the conflicts about her)."""
ERASED_REASON = "Fiche effacée (RGPD) : motif retiré."
"""Replaces the refusal reasons recorded about her rows (a reason may quote a typed value)."""


def erase_person(
    engine: Engine,
    actor: Principal | None,
    person_id: str,
    reason: str,
    ordering: Ordering,
) -> EraseReply:
    """Remove a person and everything about her, everywhere; always wins.

    Every device that may hold her receives removals (``erased``); past log entries about her
    are scrubbed (their content replaced by a removal, in place: a deleted head entry would let
    SQLite hand its seq out again), so no pull can ever send her data again; the refusal
    reasons recorded for edits of her rows are replaced (they may quote a typed value); her id
    is kept in ``erased_rows`` so a late push cannot bring her back; one audit entry records
    who erased what, by ids and counts only. Then no byte of her is left in the database files
    either (:func:`scrub_database_files`).
    """
    _require_manager(actor)
    buffer = ChangeBuffer()
    removed: dict[str, int] = {}
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # Deleted content is overwritten with zeros instead of left in free space.
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
        person = load_row(conn, schema.contacts, person_id, for_update=True)
        if person is None:
            raise not_found("Personne introuvable ou hors de votre périmètre.")
        territory = person["territory_id"]
        if actor is not None and actor.role == COORDINATOR and territory not in actor.territories:
            raise not_found("Personne introuvable ou hors de votre périmètre.")
        rows: list[tuple[str, dict[str, Any]]] = []
        for table, column in ERASE_TABLES:
            found = conn.execute(select(table).where(table.c[column] == person_id)).all()
            rows.extend((table.name, decode(r)) for r in found)
        rows.append(("contacts", person))
        for table_name, row in rows:
            buffer.add(
                entry_for(table_name, row, territory_id=territory, op="remove", reason="erased")
            )
            removed[table_name] = removed.get(table_name, 0) + 1
        for table, column in ERASE_TABLES:
            conn.execute(delete(table).where(table.c[column] == person_id))
        conn.execute(delete(schema.contacts).where(schema.contacts.c.id == person_id))
        conn.execute(
            delete(schema.territory_history).where(
                schema.territory_history.c.person_id == person_id
            )
        )
        now = now_ms()
        conn.execute(
            insert(schema.erased_rows),
            [{"table_name": t, "row_id": str(r["id"]), "erased_at_ms": now} for t, r in rows],
        )
        log_table = schema.change_log
        conn.execute(
            update(log_table)
            .where(log_table.c.person_id == person_id)
            .values(op="remove", reason="erased", fields=None, field_hlc=None)
        )
        for table_name, chunk in redact_reasons(
            conn, [(t, str(r["id"])) for t, r in rows], ERASED_REASON
        ):
            conn.execute(
                delete(unservable_rows).where(
                    unservable_rows.c.table_name == table_name,
                    unservable_rows.c.row_id.in_(chunk),
                )
            )
        audit_id = server_audit(
            conn, actor, "effacement-rgpd", "contacts", person_id, {"motif": reason, **removed}
        )
        flush(conn, buffer, ordering)
    log.info("person erased rows=%d", sum(removed.values()))
    scrub_database_files(engine)
    return EraseReply(person_id=person_id, removed=removed, audit_id=audit_id)


def redact_reasons(
    conn: Connection, rows: list[tuple[str, str]], reason: str
) -> list[tuple[str, list[str]]]:
    """Replace the refusal reasons recorded for edits of these (table, id) rows (a reason may
    quote a typed value); returns the rows by table, in chunks of 500, for further work."""
    am = schema.applied_mutations
    by_table: dict[str, list[str]] = {}
    for table_name, row_id in rows:
        by_table.setdefault(table_name, []).append(row_id)
    chunks: list[tuple[str, list[str]]] = []
    for table_name, ids in by_table.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            conn.execute(
                update(am)
                .where(am.c.table_name == table_name, am.c.row_id.in_(chunk))
                .where(am.c.reason.is_not(None))
                .values(reason=reason)
            )
            chunks.append((table_name, chunk))
    return chunks


def scrub_database_files(engine: Engine) -> None:
    """SQLite: leave no trace of deleted content in the files, write-ahead log included.

    ``VACUUM`` rebuilds the database from its live rows only (content deleted before
    ``secure_delete`` was on, or left behind by earlier versions of rows, stays in free space
    otherwise), then ``wal_checkpoint(TRUNCATE)`` copies the log into the database and empties
    the ``-wal`` file, whose old frames hold every earlier version of the pages. Both wait for
    the other connections (busy timeout); the checkpoint is retried while readers hold it back.

    PostgreSQL: nothing here. Deleted and updated rows stay as dead tuples in the table files
    until ``VACUUM`` makes the space reusable, and their bytes until it is reused; only
    ``VACUUM FULL`` of the tables concerned rewrites the files (README, deployment notes). WAL
    segments and backups keep them until they are recycled or expire.
    """
    if engine.dialect.name != "sqlite":
        return
    started = time.monotonic()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute("VACUUM")
        for _attempt in range(3):  # each attempt waits for readers up to the busy timeout
            busy, _frames, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                break
        else:
            raise ApiError(
                "busy",
                "Effacement fait, mais le nettoyage des fichiers de la base n'a pas pu aboutir "
                ": relancez « havre-server scrub-database ».",
            )
        cursor.close()
    finally:
        raw.close()
    log.info("database files scrubbed ms=%d", round((time.monotonic() - started) * 1000))


# -- rows a pull could not serve -----------------------------------------------------------------

PROBLEMS = {
    "too_large": "trop volumineuse pour une page de synchronisation",
    "invalid": "invalide pour le protocole",
}


def list_unservable(engine: Engine, actor: Principal | None) -> list[dict[str, Any]]:
    """Rows or log entries that pulls had to skip (ids only), most recent first."""
    if actor is not None and actor.role != ADMINISTRATOR:
        raise forbidden()
    u = unservable_rows
    with engine.connect() as conn:
        rows = conn.execute(
            select(u).order_by(u.c.last_seen_at_ms.desc(), u.c.table_name, u.c.row_id)
        ).all()
    return [
        {
            "table_name": r.table_name,
            "row_id": r.row_id,
            "problem": r.problem,
            "description": PROBLEMS.get(r.problem, r.problem),
            "seq": r.seq,
            "first_seen_at_ms": r.first_seen_at_ms,
            "last_seen_at_ms": r.last_seen_at_ms,
            "occurrences": r.occurrences,
        }
        for r in rows
    ]


def clear_unservable(engine: Engine, actor: Principal | None) -> int:
    """Forget the list (after a repair); rows still unservable are recorded again."""
    if actor is not None and actor.role != ADMINISTRATOR:
        raise forbidden()
    with engine.begin() as conn:
        return int(conn.execute(delete(unservable_rows)).rowcount or 0)
