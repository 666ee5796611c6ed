-- Ma journée lists the persons of the agent's territories not seen for N days. Computing
-- each person's latest visit from a million visits took seconds at every start; the date
-- is now kept on the person by the store itself (local bookkeeping, never synced) and a
-- partial index serves the list in territory order of "longest without a visit".
-- The latest visit of a person is read through visits_person: left to itself, SQLite walks
-- visits_journal (deleted, occurred_at) backwards for each person, minutes on a large file.
ALTER TABLE contacts ADD COLUMN last_visit_at TEXT NOT NULL DEFAULT '';

UPDATE contacts SET last_visit_at = coalesce(
    (SELECT max(v.occurred_at) FROM visits v INDEXED BY visits_person
     WHERE v.person_id = contacts.id AND v.deleted = 0),
    '')
WHERE kind = 'person';

CREATE INDEX contacts_not_seen ON contacts(territory_id, last_visit_at)
WHERE kind = 'person' AND deleted = 0 AND archived = 0;

CREATE TRIGGER visits_last_visit_insert AFTER INSERT ON visits WHEN new.deleted = 0 BEGIN
    UPDATE contacts SET last_visit_at = new.occurred_at
    WHERE id = new.person_id AND last_visit_at < new.occurred_at;
END;

CREATE TRIGGER visits_last_visit_update
AFTER UPDATE OF person_id, occurred_at, deleted ON visits BEGIN
    UPDATE contacts SET last_visit_at = coalesce(
        (SELECT max(v.occurred_at) FROM visits v INDEXED BY visits_person
         WHERE v.person_id = contacts.id AND v.deleted = 0),
        '')
    WHERE id IN (old.person_id, new.person_id);
END;

CREATE TRIGGER visits_last_visit_delete AFTER DELETE ON visits WHEN old.deleted = 0 BEGIN
    UPDATE contacts SET last_visit_at = coalesce(
        (SELECT max(v.occurred_at) FROM visits v INDEXED BY visits_person
         WHERE v.person_id = old.person_id AND v.deleted = 0),
        '')
    WHERE id = old.person_id AND last_visit_at = old.occurred_at;
END;
