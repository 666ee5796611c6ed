-- Conflicts carry the sync columns every other synced table has (the data contract,
-- havre_common/contract.py; the server always had them): the version of the conflict row
-- the device last received, and the tombstone flag. Existing rows were received at some
-- version the device did not keep: 0, as for a row never acknowledged.
ALTER TABLE conflicts ADD COLUMN server_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conflicts ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1));
