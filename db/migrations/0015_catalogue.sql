-- A catalogue that stays true (issue 16): coordinators edit it from the app, on the server.
--
-- Facilities can be suspended or closed; facilities and actions carry seasonal flags (cooled
-- room, climate refuge, heated place) a campaign offers; an action says when a coordinator
-- last confirmed it is still true (freshness: 6 months).
ALTER TABLE facilities ADD COLUMN status TEXT NOT NULL DEFAULT 'ouvert';
ALTER TABLE facilities ADD COLUMN seasonal TEXT NOT NULL DEFAULT '{}';
ALTER TABLE actions ADD COLUMN seasonal TEXT NOT NULL DEFAULT '{}';
ALTER TABLE actions ADD COLUMN reviewed_on TEXT;

-- Temporary changes of an action or a facility (closure, other hours, a message), from
-- starts_on to ends_on included: shown on Accueil and in the catalogue, printed on the
-- handouts of that period. Written on the server only (coordinators), received by every device.
CREATE TABLE temporary_changes (
    id TEXT PRIMARY KEY,
    action_id TEXT,
    facility_id TEXT,
    kind TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    hours TEXT,
    message TEXT,
    author_agent_id TEXT,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);
-- The changes of a period (Accueil, handouts: starts_on <= day <= ends_on).
CREATE INDEX temporary_changes_period ON temporary_changes(deleted, ends_on, starts_on);
CREATE INDEX temporary_changes_action ON temporary_changes(action_id);
CREATE INDEX temporary_changes_facility ON temporary_changes(facility_id);
