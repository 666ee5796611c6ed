-- Alert campaigns (issue 14, second half): the alert plan's call lists, worked offline.
--
-- alert_campaigns and campaign_calls come from the server (a coordinator starts, reassigns and
-- closes a campaign through its API); campaign_outcomes are append-only events written on the
-- device (one per call made, number dialled or door knocked), sent up and never changed: two
-- agents' outcomes for one person never conflict, both are kept and shown. The three tables
-- serve the alert plan only (contract purpose "alert-plan", agents with the register right).
CREATE TABLE alert_campaigns (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('canicule', 'grand-froid', 'autre')),
    level TEXT NOT NULL CHECK (level IN ('jaune', 'orange', 'rouge')),
    title TEXT NOT NULL,
    territory_ids TEXT NOT NULL DEFAULT '[]',
    starts_on TEXT NOT NULL,
    expected_end_on TEXT,
    closed_on TEXT,
    retry_delay_min INTEGER NOT NULL DEFAULT 60 CHECK (retry_delay_min BETWEEN 5 AND 1440),
    failed_calls_before_emergency INTEGER NOT NULL DEFAULT 2
        CHECK (failed_calls_before_emergency BETWEEN 1 AND 10),
    created_by TEXT,
    updated_at TEXT NOT NULL,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);

CREATE TABLE campaign_calls (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES contacts(id),
    agent_id TEXT NOT NULL,
    rank INTEGER NOT NULL CHECK (rank BETWEEN 1 AND 100000),
    risk_score INTEGER NOT NULL DEFAULT 0 CHECK (risk_score BETWEEN 0 AND 1000),
    risk_reasons TEXT NOT NULL DEFAULT '[]',
    previous_agent_id TEXT,
    assigned_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
-- An agent's list, in its order (call_list reads it for one campaign and agent).
CREATE INDEX campaign_calls_list ON campaign_calls(campaign_id, agent_id, rank);
CREATE INDEX campaign_calls_person ON campaign_calls(person_id);

CREATE TABLE campaign_outcomes (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES contacts(id),
    agent_id TEXT NOT NULL,
    called_whom TEXT NOT NULL
        CHECK (called_whom IN ('personne', 'contact-urgence', 'visite-domicile')),
    outcome TEXT NOT NULL CHECK (outcome IN ('joint-bien', 'besoin-aide', 'pas-de-reponse',
        'hospitalise', 'absent', 'refuse-appels', 'decede')),
    urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    note TEXT,
    offered_action_id TEXT,
    entered_by TEXT,
    called_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
-- The attempts of a campaign, person by person, in time order (the next step of each call).
CREATE INDEX campaign_outcomes_campaign ON campaign_outcomes(campaign_id, person_id, called_at);
CREATE INDEX campaign_outcomes_person ON campaign_outcomes(person_id);
-- Append-only: an outcome is never changed (the same values pulled back after a push, the
-- server's version, a tombstone and its note emptied when the person's file is anonymised
-- are the only updates allowed).
CREATE TRIGGER campaign_outcomes_append_only BEFORE UPDATE ON campaign_outcomes
WHEN NEW.campaign_id IS NOT OLD.campaign_id OR NEW.call_id IS NOT OLD.call_id
    OR NEW.person_id IS NOT OLD.person_id OR NEW.agent_id IS NOT OLD.agent_id
    OR NEW.called_whom IS NOT OLD.called_whom OR NEW.outcome IS NOT OLD.outcome
    OR NEW.urgent IS NOT OLD.urgent OR (NEW.note IS NOT OLD.note AND NEW.note IS NOT NULL)
    OR NEW.offered_action_id IS NOT OLD.offered_action_id
    OR NEW.entered_by IS NOT OLD.entered_by OR NEW.called_at IS NOT OLD.called_at
    OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'résultats des appels : ajout seulement'); END;
