-- Havre Ensemble Desktop: initial local schema.
-- Conventions (see shared/design/sync.md):
--   * every synced row has a UUID text key `id`, the server version last seen
--     (`server_version`, 0 = never acknowledged) and a tombstone flag `deleted`;
--   * tables searched through FTS5 also carry an integer `seq` primary key so the
--     full-text index can refer to a stable rowid (the UUID stays the identity);
--   * contacts and planned contacts keep one hybrid logical clock per field in
--     `field_hlc` (JSON object field -> HLC string) for the per-field merge;
--   * JSON list columns end in `_ids` and hold reference or row ids.

-- Reference data (server-authoritative, fixed ids from db/reference_data.json).
CREATE TABLE ref_territories (id TEXT PRIMARY KEY, name TEXT NOT NULL, sort INTEGER NOT NULL);
CREATE TABLE ref_stakes (id TEXT PRIMARY KEY, number INTEGER NOT NULL, name TEXT NOT NULL);
CREATE TABLE ref_priorities (
    id TEXT PRIMARY KEY, number INTEGER NOT NULL,
    stake_id TEXT NOT NULL REFERENCES ref_stakes(id), name TEXT NOT NULL);
CREATE TABLE ref_items (
    -- small enumerations: facility kinds, audiences, needs, age groups, statuses...
    list TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, sort INTEGER NOT NULL,
    PRIMARY KEY (list, id));

-- Settings of this profile and sync bookkeeping (key/value).
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE sync_meta (key TEXT PRIMARY KEY, value TEXT);

-- Agents: the profile owner and colleagues of the same territories (synced down).
CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    territory_ids TEXT NOT NULL DEFAULT '[]',
    work_phone TEXT,
    server_account TEXT,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);

CREATE TABLE facilities (
    id TEXT PRIMARY KEY,
    kind_id TEXT NOT NULL,
    name TEXT NOT NULL,
    address_line TEXT,
    postcode TEXT,
    city TEXT,
    territory_id TEXT REFERENCES ref_territories(id),
    phone TEXT,
    opening_hours TEXT,
    step_free INTEGER NOT NULL DEFAULT 0,
    is_sample INTEGER NOT NULL DEFAULT 0,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);

CREATE TABLE actions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    priority_id TEXT NOT NULL REFERENCES ref_priorities(id),
    audience_ids TEXT NOT NULL DEFAULT '[]',
    need_ids TEXT NOT NULL DEFAULT '[]',
    territory_ids TEXT NOT NULL DEFAULT '[]',
    facility_id TEXT REFERENCES facilities(id),
    schedule TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    signup TEXT,
    is_free INTEGER NOT NULL DEFAULT 1,
    price_label TEXT,
    accessibility TEXT NOT NULL DEFAULT '{}',
    accessibility_note TEXT,
    status TEXT NOT NULL,
    start_date TEXT,
    end_date TEXT,
    search_audiences TEXT NOT NULL DEFAULT '',
    is_sample INTEGER NOT NULL DEFAULT 0,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);
CREATE INDEX actions_priority ON actions(priority_id);
CREATE INDEX actions_status ON actions(status);

CREATE TABLE action_evaluations (
    id TEXT PRIMARY KEY,
    action_id TEXT NOT NULL REFERENCES actions(id),
    evaluated_on TEXT NOT NULL,
    participants INTEGER,
    verdict TEXT NOT NULL CHECK (verdict IN ('poursuivre', 'adapter', 'arreter')),
    indicators TEXT NOT NULL DEFAULT '{}',
    comment TEXT,
    author_agent_id TEXT,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);
CREATE INDEX action_evaluations_action ON action_evaluations(action_id);

-- Contacts: persons and organisations.
CREATE TABLE contacts (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('person', 'organisation')),
    family_name TEXT,
    given_names TEXT,
    organisation_name TEXT,
    birth_date TEXT,
    address_line TEXT,
    postcode TEXT,
    city TEXT,
    territory_id TEXT NOT NULL REFERENCES ref_territories(id),
    phone_1 TEXT,
    phone_2 TEXT,
    email TEXT,
    lives_alone INTEGER,
    mobility TEXT,
    access_notes TEXT,
    emergency_contacts TEXT NOT NULL DEFAULT '[]',
    referent_agent_id TEXT,
    archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    search_phones TEXT NOT NULL DEFAULT '',
    field_hlc TEXT NOT NULL DEFAULT '{}',
    is_sample INTEGER NOT NULL DEFAULT 0,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX contacts_territory ON contacts(territory_id, deleted, archived);
CREATE INDEX contacts_referent ON contacts(referent_agent_id);
CREATE INDEX contacts_name ON contacts(family_name COLLATE NOCASE, given_names COLLATE NOCASE);

CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL REFERENCES contacts(id),
    purpose TEXT NOT NULL CHECK (purpose IN ('fiche', 'registre', 'partage-partenaires')),
    given INTEGER NOT NULL CHECK (given IN (0, 1)),
    recorded_on TEXT NOT NULL,
    method TEXT NOT NULL,
    recorded_by_agent_id TEXT,
    withdrawn_on TEXT,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);
CREATE INDEX consents_contact ON consents(contact_id);

CREATE TABLE register_enrolments (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES contacts(id),
    enrolled_on TEXT NOT NULL,
    basis TEXT NOT NULL,
    requested_by TEXT NOT NULL CHECK (requested_by IN ('personne', 'tiers')),
    requester_name TEXT,
    consent_given INTEGER NOT NULL CHECK (consent_given = 1),
    consent_date TEXT NOT NULL,
    removed_on TEXT,
    removal_reason TEXT,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);
CREATE INDEX register_person ON register_enrolments(person_id);

CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES contacts(id),
    agent_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    duration_min INTEGER,
    wellbeing INTEGER CHECK (wellbeing BETWEEN 1 AND 5),
    need_ids TEXT NOT NULL DEFAULT '[]',
    proposed_action_ids TEXT NOT NULL DEFAULT '[]',
    handout_given INTEGER NOT NULL DEFAULT 0,
    follow_up_on TEXT,
    notes TEXT,
    revision INTEGER NOT NULL DEFAULT 1,
    is_sample INTEGER NOT NULL DEFAULT 0,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX visits_person ON visits(person_id, occurred_at);
CREATE INDEX visits_agent ON visits(agent_id, occurred_at);
CREATE INDEX visits_occurred ON visits(occurred_at);
CREATE INDEX visits_follow_up ON visits(follow_up_on) WHERE follow_up_on IS NOT NULL;

CREATE TABLE planned_contacts (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES contacts(id),
    agent_id TEXT NOT NULL,
    due_on TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT,
    done_by_visit_id TEXT REFERENCES visits(id),
    cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
    field_hlc TEXT NOT NULL DEFAULT '{}',
    is_sample INTEGER NOT NULL DEFAULT 0,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);
CREATE INDEX planned_agent_due ON planned_contacts(agent_id, due_on);
CREATE INDEX planned_person ON planned_contacts(person_id);

-- Anonymous counts at the reception desk: no person, only need, territory, age group.
CREATE TABLE reception_encounters (
    id TEXT PRIMARY KEY,
    occurred_at TEXT NOT NULL,
    territory_id TEXT NOT NULL REFERENCES ref_territories(id),
    need_id TEXT NOT NULL,
    age_group_id TEXT,
    agent_id TEXT NOT NULL,
    facility_id TEXT,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);

CREATE TABLE handouts_given (
    id TEXT PRIMARY KEY,
    person_id TEXT REFERENCES contacts(id),
    agent_id TEXT NOT NULL,
    given_at TEXT NOT NULL,
    action_ids TEXT NOT NULL DEFAULT '[]',
    variant TEXT NOT NULL DEFAULT 'large',
    visit_id TEXT,
    territory_id TEXT,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX handouts_person ON handouts_given(person_id);

-- Audit: who opened, printed or exported what. Ids only, never personal data.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    agent_id TEXT,
    event TEXT NOT NULL,
    entity TEXT,
    entity_id TEXT,
    detail TEXT
);

-- Sync bookkeeping.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id TEXT NOT NULL UNIQUE,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    changed_fields TEXT NOT NULL,
    base_version INTEGER NOT NULL,
    hlc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_row ON outbox(table_name, row_id);

CREATE TABLE conflicts (
    id TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    field TEXT NOT NULL,
    local_value TEXT,
    remote_value TEXT,
    local_hlc TEXT,
    remote_hlc TEXT,
    local_agent_id TEXT,
    remote_agent_id TEXT,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolution TEXT
);

-- Full-text search (accents and case ignored, prefix indexes).
CREATE VIRTUAL TABLE contacts_fts USING fts5(
    name, phones, address,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4'
);
CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts WHEN new.deleted = 0 BEGIN
    INSERT INTO contacts_fts(rowid, name, phones, address) VALUES (
        new.seq,
        trim(coalesce(new.family_name, '') || ' ' || coalesce(new.given_names, '') || ' '
             || coalesce(new.organisation_name, '')),
        new.search_phones,
        trim(coalesce(new.address_line, '') || ' ' || coalesce(new.postcode, '') || ' '
             || coalesce(new.city, '')));
END;
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
    DELETE FROM contacts_fts WHERE rowid = old.seq;
END;
CREATE TRIGGER contacts_fts_update
AFTER UPDATE OF family_name, given_names, organisation_name, search_phones, address_line,
    postcode, city, deleted ON contacts BEGIN
    DELETE FROM contacts_fts WHERE rowid = old.seq;
    INSERT INTO contacts_fts(rowid, name, phones, address)
    SELECT new.seq,
        trim(coalesce(new.family_name, '') || ' ' || coalesce(new.given_names, '') || ' '
             || coalesce(new.organisation_name, '')),
        new.search_phones,
        trim(coalesce(new.address_line, '') || ' ' || coalesce(new.postcode, '') || ' '
             || coalesce(new.city, ''))
    WHERE new.deleted = 0;
END;

CREATE VIRTUAL TABLE actions_fts USING fts5(
    title, summary, audiences,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4'
);
CREATE TRIGGER actions_fts_insert AFTER INSERT ON actions WHEN new.deleted = 0 BEGIN
    INSERT INTO actions_fts(rowid, title, summary, audiences)
    VALUES (new.seq, new.title, new.summary, new.search_audiences);
END;
CREATE TRIGGER actions_fts_delete AFTER DELETE ON actions BEGIN
    DELETE FROM actions_fts WHERE rowid = old.seq;
END;
CREATE TRIGGER actions_fts_update
AFTER UPDATE OF title, summary, search_audiences, deleted ON actions BEGIN
    DELETE FROM actions_fts WHERE rowid = old.seq;
    INSERT INTO actions_fts(rowid, title, summary, audiences)
    SELECT new.seq, new.title, new.summary, new.search_audiences WHERE new.deleted = 0;
END;
