"""Accounts, devices and tokens.

* Passwords: argon2id (argon2-cffi's defaults); an unknown login is checked against a dummy hash
  so that timing does not tell which logins exist.
* Tokens: 256 random bits given once to the device; only their SHA-256 is stored. A token belongs
  to one device of one account, expires (``HAVRE_SERVER_TOKEN_TTL_S``, 30 days by default) and is
  revoked by a logout or by revoking the device.
* Login rate limiting: failures are counted in the database per login and per client address
  over a sliding window (works across restarts); beyond the limit, 429 with ``Retry-After``.
  An attempt is counted *before* its password is checked (and uncounted when it was right),
  checking and counting under a lock per key: a burst of simultaneous guesses gets no more
  tries than the limit. A disabled account answers exactly as a wrong password until the
  password is right.
* Answers: a revoked device gets 410 ``device_revoked`` with ``wipe: true`` (the only answer
  that makes a client wipe itself); an expired token, a closed session, a disabled account get
  distinct 401 codes and French messages, and never wipe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, text, update

from havre_common.messages import client_too_old_message
from havre_common.protocol import AgentInfo, LoginReply, LoginRequest, printable, version_tuple
from havre_server import schema
from havre_server.db import is_postgres
from havre_server.errors import ApiError
from havre_server.scope import Principal

log = logging.getLogger("havre.server.auth")


@cache
def _hasher() -> PasswordHasher:
    """argon2id; cost tunable for small servers (and cheap in tests): time cost, memory in KiB.
    Made at first use, after the configuration file was read (havre_server.config)."""
    return PasswordHasher(
        time_cost=int(os.environ.get("HAVRE_SERVER_ARGON2_TIME_COST", "3")),
        memory_cost=int(os.environ.get("HAVRE_SERVER_ARGON2_MEMORY_KIB", "65536")),
    )


@cache
def _dummy_hash() -> str:
    return _hasher().hash("mot de passe factice pour un identifiant inconnu")


@dataclass(frozen=True)
class AuthSettings:
    token_ttl_s: int = 30 * 24 * 3600
    max_failures: int = 10
    max_failures_per_address: int = 50
    failure_window_s: int = 300
    min_client_version: str = "0.1.0"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_client_version(version: str | None, minimum: str) -> None:
    try:
        ok = version is not None and version_tuple(version) >= version_tuple(minimum)
    except ValueError:
        ok = False
    if not ok:
        raise ApiError("client_too_old", client_too_old_message(minimum))


# Namespace of the per-key advisory locks (the two-key form never meets changelog's one-key lock).
_LOGIN_LOCK_SPACE = 0x4C6F67  # "Log"


def _lock_keys(conn: Connection, keys: list[str]) -> None:
    """Serialise the attempts on each key until the end of the transaction, so that counting
    and recording an attempt is atomic. PostgreSQL: one advisory lock per key, taken in a fixed
    order (no deadlock). SQLite: BEGIN IMMEDIATE already serialises every writing transaction."""
    if is_postgres(conn):
        for key in sorted(keys):
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
                {"space": _LOGIN_LOCK_SPACE, "key": key},
            )


def _too_many(conn: Connection, keys: list[str], settings: AuthSettings, now: int) -> bool:
    since = now - settings.failure_window_s * 1000
    lf = schema.login_failures
    for key in keys:
        count = conn.execute(
            select(func.count()).select_from(lf).where(lf.c.key == key, lf.c.at_ms > since)
        ).scalar_one()
        limit = (
            settings.max_failures if key.startswith("login:") else settings.max_failures_per_address
        )
        if count >= limit:
            return True
    return False


def login(
    engine: Engine, request: LoginRequest, client_address: str, settings: AuthSettings
) -> LoginReply:
    check_client_version(request.client_version, settings.min_client_version)
    now = now_ms()
    login_name = request.login.strip().lower()
    keys = [f"login:{login_name}", f"addr:{client_address}"]
    lf = schema.login_failures
    with engine.begin() as conn:
        conn.execute(delete(lf).where(lf.c.at_ms < now - settings.failure_window_s * 1000))
        _lock_keys(conn, keys)
        if _too_many(conn, keys, settings, now):
            raise ApiError(
                "too_many_attempts",
                "Trop de tentatives de connexion : réessayez dans quelques minutes.",
                retry_after_s=settings.failure_window_s,
            )
        # Counted as a failure now, while the keys are locked; uncounted below if it was right.
        attempt_ids = list(
            conn.execute(
                insert(lf).returning(lf.c.id), [{"key": k, "at_ms": now} for k in keys]
            ).scalars()
        )
        account = conn.execute(
            select(schema.accounts).where(schema.accounts.c.login == login_name)
        ).first()
    valid = False
    try:
        valid = _hasher().verify(
            account.password_hash if account else _dummy_hash(), request.password
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        valid = False
    if not valid or account is None:
        # Whatever the account's state (disabled, device revoked): the same answer.
        log.info("login refused")
        raise ApiError("bad_credentials", "Identifiant ou mot de passe incorrect.")
    with engine.begin() as conn:
        # The right password: this attempt was no guess, and the login's failures are forgiven.
        conn.execute(
            delete(lf).where(or_(lf.c.id.in_(attempt_ids), lf.c.key == f"login:{login_name}"))
        )
    with engine.begin() as conn:
        if account.disabled:
            raise ApiError(
                "account_disabled",
                "Votre compte est désactivé : adressez-vous à votre coordinateur. Vos "
                "modifications restent sur cet ordinateur.",
            )
        d = schema.devices
        device = conn.execute(
            select(d).where(d.c.device_id == request.device_id, d.c.account_id == account.id)
        ).first()
        if device is not None and device.revoked_at_ms is not None:
            raise ApiError(
                "device_revoked",
                "Cet appareil a été révoqué : ses données locales doivent être effacées.",
                wipe=True,
            )
        if device is None:
            device_pk = conn.execute(
                insert(d)
                .values(
                    device_id=request.device_id,
                    account_id=account.id,
                    label=request.device_label,
                    client_version=request.client_version,
                    created_at_ms=now,
                    last_seen_at_ms=now,
                )
                .returning(d.c.id)
            ).scalar_one()
        else:
            device_pk = device.id
            conn.execute(
                update(d)
                .where(d.c.id == device.id)
                .values(client_version=request.client_version, last_seen_at_ms=now)
            )
        token = secrets.token_urlsafe(32)
        expires = now + settings.token_ttl_s * 1000
        conn.execute(
            insert(schema.tokens).values(
                token_hash=token_hash(token),
                device_pk=device_pk,
                account_id=account.id,
                created_at_ms=now,
                expires_at_ms=expires,
            )
        )
        agent = conn.execute(
            select(schema.agents).where(schema.agents.c.id == account.agent_id)
        ).one()
    log.info("login agent=%s device=%s", agent.id, request.device_id)
    return LoginReply(
        token=token,
        expires_at_ms=expires,
        device_id=request.device_id,
        agent=AgentInfo(
            id=agent.id,
            # Stored before names were checked for control characters: shown, not refused.
            display_name=printable(agent.display_name, multiline=False),
            role=agent.role,
            territory_ids=json.loads(agent.territory_ids),
            work_phone=None
            if agent.work_phone is None
            else printable(agent.work_phone, multiline=False),
            register_right=bool(agent.register_right),
        ),
        server_time_ms=now,
    )


def authenticate(engine: Engine, authorization: str | None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError("missing_token", "Connexion requise : identifiez-vous.")
    token = authorization[7:].strip()
    if not token or len(token) > 200:
        raise ApiError("invalid_token", "Session inconnue : reconnectez-vous.")
    now = now_ms()
    t, d, a, ag = schema.tokens, schema.devices, schema.accounts, schema.agents
    with engine.connect().execution_options(havre_read_only=True) as conn, conn.begin():
        row = conn.execute(
            select(
                t.c.token_hash,
                t.c.expires_at_ms,
                t.c.revoked_at_ms.label("token_revoked"),
                d.c.id.label("device_pk"),
                d.c.device_id,
                d.c.revoked_at_ms.label("device_revoked"),
                a.c.id.label("account_id"),
                a.c.login,
                a.c.disabled,
                ag.c.id.label("agent_id"),
                ag.c.role,
                ag.c.scope_changed_seq,
                ag.c.register_right,
            )
            .join(d, d.c.id == t.c.device_pk)
            .join(a, a.c.id == t.c.account_id)
            .join(ag, ag.c.id == a.c.agent_id)
            .where(t.c.token_hash == token_hash(token))
        ).first()
        if row is None:
            raise ApiError("invalid_token", "Session inconnue : reconnectez-vous.")
        if row.device_revoked is not None:
            raise ApiError(
                "device_revoked",
                "Cet appareil a été révoqué : ses données locales doivent être effacées.",
                wipe=True,
            )
        if row.token_revoked is not None:
            raise ApiError("invalid_token", "Session fermée : reconnectez-vous.")
        if row.expires_at_ms <= now:
            raise ApiError(
                "token_expired",
                "Votre session a expiré : reconnectez-vous. Vos modifications sont conservées.",
            )
        if row.disabled:
            raise ApiError(
                "account_disabled",
                "Votre compte est désactivé : adressez-vous à votre coordinateur. Vos "
                "modifications restent sur cet ordinateur.",
            )
        territories = conn.execute(
            select(schema.agent_territories.c.territory_id).where(
                schema.agent_territories.c.agent_id == row.agent_id
            )
        ).scalars()
        return Principal(
            account_id=row.account_id,
            agent_id=row.agent_id,
            login=row.login,
            role=row.role,
            territories=frozenset(territories),
            device_pk=int(row.device_pk),
            device_id=row.device_id,
            token_hash=row.token_hash,
            scope_changed_seq=int(row.scope_changed_seq or 0),
            register_right=bool(row.register_right),
        )


def touch_device(engine: Engine, p: Principal) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(schema.devices)
            .where(schema.devices.c.id == p.device_pk)
            .values(last_seen_at_ms=now_ms())
        )


def logout(engine: Engine, p: Principal) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(schema.tokens)
            .where(schema.tokens.c.token_hash == p.token_hash)
            .values(revoked_at_ms=now_ms())
        )
    log.info("logout agent=%s device=%s", p.agent_id, p.device_id)
