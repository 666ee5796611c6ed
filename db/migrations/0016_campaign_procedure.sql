-- The escalation recorded (issue 14): a coordinator notes that she started the City's
-- procedure (a welfare check by the police or the firefighters) for a person nobody reached,
-- then what they found, as outcomes of the "procedure-ville" callee. SQLite cannot change a
-- CHECK constraint: the append-only table is rebuilt with the same rows, indexes and trigger.
CREATE TABLE campaign_outcomes_new (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES contacts(id),
    agent_id TEXT NOT NULL,
    called_whom TEXT NOT NULL CHECK (called_whom IN ('personne', 'contact-urgence',
        'visite-domicile', 'procedure-ville')),
    outcome TEXT NOT NULL CHECK (outcome IN ('joint-bien', 'besoin-aide', 'pas-de-reponse',
        'hospitalise', 'absent', 'refuse-appels', 'decede', 'procedure-declenchee')),
    urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    note TEXT,
    offered_action_id TEXT,
    entered_by TEXT,
    called_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
INSERT INTO campaign_outcomes_new (id, campaign_id, call_id, person_id, agent_id, called_whom,
    outcome, urgent, note, offered_action_id, entered_by, called_at, created_at,
    server_version, deleted)
SELECT id, campaign_id, call_id, person_id, agent_id, called_whom, outcome, urgent, note,
    offered_action_id, entered_by, called_at, created_at, server_version, deleted
FROM campaign_outcomes;
DROP TABLE campaign_outcomes;
ALTER TABLE campaign_outcomes_new RENAME TO campaign_outcomes;
CREATE INDEX campaign_outcomes_campaign ON campaign_outcomes(campaign_id, person_id, called_at);
CREATE INDEX campaign_outcomes_person ON campaign_outcomes(person_id);
CREATE TRIGGER campaign_outcomes_append_only BEFORE UPDATE ON campaign_outcomes
WHEN NEW.campaign_id IS NOT OLD.campaign_id OR NEW.call_id IS NOT OLD.call_id
    OR NEW.person_id IS NOT OLD.person_id OR NEW.agent_id IS NOT OLD.agent_id
    OR NEW.called_whom IS NOT OLD.called_whom OR NEW.outcome IS NOT OLD.outcome
    OR NEW.urgent IS NOT OLD.urgent OR (NEW.note IS NOT OLD.note AND NEW.note IS NOT NULL)
    OR NEW.offered_action_id IS NOT OLD.offered_action_id
    OR NEW.entered_by IS NOT OLD.entered_by OR NEW.called_at IS NOT OLD.called_at
    OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'résultats des appels : ajout seulement'); END;
