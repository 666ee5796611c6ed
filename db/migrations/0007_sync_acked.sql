-- What a device has seen is what it pulled (sync.md): a row's `server_version` is the version
-- of the server's row last received by a pull, and the base version of the next edit comes
-- from it. An acknowledgement of this device's own push no longer raises it: the server may
-- have applied the edit on top of changes this device has not received yet.
--
-- The version an acknowledgement gave is kept here instead, until a pull brings the row at
-- that version or later: a pull skips the older states of that row still in the log (they
-- would seem to undo the device's own edit until the newer state arrives). Never used as a
-- base version.
CREATE TABLE sync_acked (
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    server_version INTEGER NOT NULL,
    PRIMARY KEY (table_name, row_id)
) WITHOUT ROWID;
