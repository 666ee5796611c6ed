"""Privacy: the audit log is hash-chained; a visit note can be private.

Revision ID: 0004
Revises: 0003

``audit_log`` gains ``chain_seq`` (1, 2, 3… unique), ``prev_hash`` and ``entry_hash``
(SHA-256, see ``havre_server.audit``). Entries already stored are chained in the order they
were received (``received_at_ms``, then ``id``). The hash is computed here by this revision's
own copy of the rule, so that the revision never changes when the code does.

The database itself then refuses to change or delete an audit entry (triggers: SQLite
``RAISE(ABORT)``, PostgreSQL a ``plpgsql`` function, ``TRUNCATE`` included): a bug in the server
cannot rewrite history, and someone with the database's rights who removes the guard is still
caught by the chain.

``visits.notes_private`` (0/1): the note reaches its author and the coordinators only
(``havre_server.scope``); existing notes stay as they were, not private.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_HASHED = (
    "id",
    "at",
    "agent_id",
    "event",
    "entity",
    "entity_id",
    "detail",
    "device_id",
    "received_at_ms",
    "chain_seq",
)


def _hash(entry: dict[str, object], prev_hash: str) -> str:
    payload = {name: entry.get(name) for name in _HASHED}
    payload["prev_hash"] = prev_hash
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


_REFUSED = "journal d''audit : ajout seulement (ni modification ni suppression)"
_GUARD = {
    "sqlite": [
        f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END",
        f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{_REFUSED}'; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
}
_UNGUARD = {
    "sqlite": ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
    "postgresql": [
        "DROP TRIGGER audit_log_no_truncate ON audit_log",
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "DROP FUNCTION audit_log_append_only()",
    ],
}


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(
            sa.Column("notes_private", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    log = sa.table(
        "audit_log",
        *(sa.column(name) for name in _HASHED),
        sa.column("prev_hash"),
        sa.column("entry_hash"),
    )
    rows = conn.execute(
        sa.select(*(log.c[name] for name in _HASHED if name != "chain_seq")).order_by(
            log.c.received_at_ms, log.c.id
        )
    ).all()
    prev = "0" * 64
    for seq, row in enumerate(rows, start=1):
        entry = {**row._asdict(), "chain_seq": seq}
        digest = _hash(entry, prev)
        conn.execute(
            sa.update(log)
            .where(log.c.id == row.id)
            .values(chain_seq=seq, prev_hash=prev, entry_hash=digest)
        )
        prev = digest
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("chain_seq", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("entry_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_index("audit_log_chain", ["chain_seq"], unique=True)
    for statement in _GUARD[conn.dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in _UNGUARD[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("notes_private")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("audit_log_chain")
        batch.drop_column("entry_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("chain_seq")
