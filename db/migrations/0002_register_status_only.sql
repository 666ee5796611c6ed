-- A reception agent receives the register *status* of a person only (sync.md: identity,
-- contact details and register status), not the basis of the enrolment nor who asked for it:
-- `basis` and `requested_by` become nullable. SQLite cannot drop NOT NULL in place, so the
-- table is rebuilt (same columns in the same order, same data, same index). Nothing refers to
-- register_enrolments, so the rebuild is safe with foreign keys on; the table has no
-- full-text triggers.
CREATE TABLE register_enrolments_new (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES contacts(id),
    enrolled_on TEXT NOT NULL,
    basis TEXT,
    requested_by TEXT CHECK (requested_by IN ('personne', 'tiers')),
    requester_name TEXT,
    consent_given INTEGER NOT NULL CHECK (consent_given = 1),
    consent_date TEXT NOT NULL,
    removed_on TEXT,
    removal_reason TEXT,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);
INSERT INTO register_enrolments_new (
    id, person_id, enrolled_on, basis, requested_by, requester_name, consent_given,
    consent_date, removed_on, removal_reason, server_version, deleted, updated_at)
SELECT id, person_id, enrolled_on, basis, requested_by, requester_name, consent_given,
    consent_date, removed_on, removal_reason, server_version, deleted, updated_at
FROM register_enrolments;
DROP TABLE register_enrolments;
ALTER TABLE register_enrolments_new RENAME TO register_enrolments;
CREATE INDEX register_person ON register_enrolments(person_id);
