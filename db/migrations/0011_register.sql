-- The register of vulnerable persons (issue 14, enrolment): who asked and how (the person, a
-- legal representative, a third party, a list transmitted by the département or a pension
-- fund), consent or non-objection, the situation at home, the information notice, the
-- acknowledgment due within 8 days, removal and its letter; each step in an append-only
-- history (register_events). A third party's request stands unless the person objects, so
-- consent_given is no longer always 1 and enrolled_on is empty while a transmitted person is
-- still "à informer": the table is rebuilt (SQLite cannot drop a CHECK in place). Nothing
-- refers to register_enrolments; existing enrolments keep their data (requested on the day
-- they were enrolled, acknowledged: they predate the workflow).
CREATE TABLE register_enrolments_new (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES contacts(id),
    status TEXT NOT NULL DEFAULT 'inscrite'
        CHECK (status IN ('inscrite', 'a-informer', 'opposee', 'radiee')),
    requested_on TEXT NOT NULL,
    enrolled_on TEXT,
    basis TEXT,
    source TEXT NOT NULL DEFAULT 'saisie',
    requested_by TEXT CHECK (requested_by IN ('personne', 'representant', 'tiers', 'organisme')),
    requester_name TEXT,
    requester_relation TEXT,
    written_request INTEGER NOT NULL DEFAULT 0,
    consent_given INTEGER NOT NULL CHECK (consent_given IN (0, 1)),
    consent_date TEXT,
    objected_on TEXT,
    inform_until TEXT,
    floor INTEGER,
    lift INTEGER,
    help_at_home INTEGER NOT NULL DEFAULT 0,
    help_service TEXT,
    notice_given_on TEXT,
    notice_how TEXT,
    ack_due_on TEXT,
    ack_printed_on TEXT,
    removed_on TEXT,
    removal_reason TEXT,
    removal_letter_printed_on TEXT,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);
INSERT INTO register_enrolments_new (
    id, person_id, status, requested_on, enrolled_on, basis, requested_by, requester_name,
    consent_given, consent_date, ack_due_on, ack_printed_on, removed_on, removal_reason,
    server_version, deleted, updated_at)
SELECT id, person_id, CASE WHEN removed_on IS NULL THEN 'inscrite' ELSE 'radiee' END,
    enrolled_on, enrolled_on, basis, requested_by, requester_name, consent_given,
    consent_date, date(enrolled_on, '+8 days'), enrolled_on, removed_on, removal_reason,
    server_version, deleted, updated_at
FROM register_enrolments;
DROP TABLE register_enrolments;
ALTER TABLE register_enrolments_new RENAME TO register_enrolments;
CREATE INDEX register_person ON register_enrolments(person_id);
CREATE INDEX register_ack_due ON register_enrolments(ack_due_on) WHERE ack_printed_on IS NULL;

CREATE TABLE register_events (
    id TEXT PRIMARY KEY,
    enrolment_id TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES contacts(id),
    event TEXT NOT NULL,
    occurred_on TEXT NOT NULL,
    agent_id TEXT,
    note TEXT,
    created_at TEXT NOT NULL,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX register_events_person ON register_events(person_id);
-- Append-only: a step of the register's history is never changed (the same values pulled
-- back after a push, the server's version, a tombstone, and its note emptied for a role
-- that may not hold it are the only updates allowed).
CREATE TRIGGER register_events_append_only BEFORE UPDATE ON register_events
WHEN NEW.enrolment_id IS NOT OLD.enrolment_id OR NEW.person_id IS NOT OLD.person_id
    OR NEW.event IS NOT OLD.event OR NEW.occurred_on IS NOT OLD.occurred_on
    OR NEW.agent_id IS NOT OLD.agent_id OR (NEW.note IS NOT OLD.note AND NEW.note IS NOT NULL)
    OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'historique du registre : ajout seulement'); END;

-- Whether this profile's agent may see the register (named staff only; set by the server).
ALTER TABLE agents ADD COLUMN register_right INTEGER NOT NULL DEFAULT 0;
-- Coordinators have it by default (the server's row, pulled, has the last word).
UPDATE agents SET register_right = 1 WHERE role = 'coordinateur';
