"""Server tables added for pull bookkeeping (branch fix-pull), kept apart from ``schema.py``.

TO PORT: move both definitions into ``schema.py`` and create them in a schema revision. For this
branch only they are declared here, on ``schema.metadata`` (so the declared schema includes
them), and ``migrations/m0002_pull_bookkeeping.py`` creates them in databases of version 1.

* ``device_pull_state`` — where each device stands in the change log, as told by its own pull
  requests: ``start_seq`` is the snapshot point of its current full download (no log entry at
  or below it is ever sent to that device: history stays on the server), ``cursor_seq`` the
  lowest position it may still ask from (compaction never removes entries above the lowest
  ``cursor_seq`` of the active devices), ``seen_at_ms`` its last pull.
* ``unservable_rows`` — rows or log entries a pull had to skip (too large for a pull page, or
  not valid in the reply model), by ids only, for administrators (``havre-server
  unservable-rows``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from havre_server.schema import metadata

device_pull_state = Table(
    "device_pull_state",
    metadata,
    Column("device_pk", BigInteger, primary_key=True, autoincrement=False),  # devices.id
    Column("start_seq", BigInteger, nullable=False),
    Column("cursor_seq", BigInteger, nullable=False),
    Column("seen_at_ms", BigInteger, nullable=False),
)

unservable_rows = Table(
    "unservable_rows",
    metadata,
    Column("table_name", String(40), primary_key=True),
    Column("row_id", String(100), primary_key=True),
    Column("problem", String(20), nullable=False),  # too_large | invalid
    Column("seq", BigInteger),  # the last log entry that could not be served (NULL: snapshot)
    Column("first_seen_at_ms", BigInteger, nullable=False),
    Column("last_seen_at_ms", BigInteger, nullable=False),
    Column("occurrences", BigInteger, nullable=False, server_default="1"),
)
