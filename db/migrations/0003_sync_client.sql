-- Bookkeeping of the sync client (havre_desktop/sync).

-- Edits the server refused (or that could not be sent at all), moved out of the outbox so
-- that they never count as "changes waiting" nor block the others. They stay visible, with
-- the French reason and the values typed, until the agent dismisses them. When the fiche they
-- are about leaves the device (deleted, access lost, erased), the values typed are removed
-- (`values_removed`), the field names and the reason stay: a device holds only what its
-- agent may see now.
CREATE TABLE sync_rejections (
    mutation_id TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    op TEXT NOT NULL,
    changed_fields TEXT NOT NULL,
    values_removed INTEGER NOT NULL DEFAULT 0 CHECK (values_removed IN (0, 1)),
    hlc TEXT,
    created_at TEXT NOT NULL,
    rejected_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    dismissed_at TEXT
);
CREATE INDEX sync_rejections_open ON sync_rejections(dismissed_at, rejected_at);

-- One line per synchronisation attempt (no personal data: counts and a French message).
CREATE TABLE sync_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error', 'cancelled', 'wiped')),
    pushed INTEGER NOT NULL DEFAULT 0,
    conflicts INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    received INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT ''
);

-- Rows received since a full download started (cursor "0"): at its end, rows not received
-- are no longer visible to the agent and are removed (rows with edits waiting excepted).
CREATE TABLE sync_snapshot_seen (
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    PRIMARY KEY (table_name, row_id)
) WITHOUT ROWID;
