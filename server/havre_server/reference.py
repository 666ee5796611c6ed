"""Reference data on the server: the shared file (:mod:`havre_common.reference`) in its tables."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, delete

from havre_common.reference import (
    Reference,
    load_reference,
    ref_row_id,
    reference_rows,
    reference_text,
)
from havre_server.changelog import ChangeBuffer, Entry
from havre_server.db import get_state, set_state
from havre_server.schema import ref_items, ref_priorities, ref_stakes, ref_territories


def install_reference(conn: Connection, buffer: ChangeBuffer) -> bool:
    """Load the file into the ref_* tables when it changed; the change goes to every device."""
    digest = hashlib.sha256(reference_text().encode("utf-8")).hexdigest()
    if get_state(conn, "reference_sha256", "") == digest:
        return False
    tables = {
        "ref_territories": ref_territories,
        "ref_stakes": ref_stakes,
        "ref_priorities": ref_priorities,
        "ref_items": ref_items,
    }
    version = int(get_state(conn, "reference_version", "0")) + 1
    for name, rows in reference_rows().items():
        table = tables[name]
        conn.execute(delete(table))
        conn.execute(table.insert(), rows)
        for row in rows:
            buffer.add(
                Entry(
                    table_name=name,
                    row_id=ref_row_id(name, row),
                    op="upsert",
                    audience="all",
                    fields=dict(row),
                    server_version=version,
                )
            )
    set_state(conn, "reference_sha256", digest)
    set_state(conn, "reference_version", str(version))
    return True


__all__ = ["Reference", "install_reference", "load_reference", "ref_row_id", "reference_rows"]
