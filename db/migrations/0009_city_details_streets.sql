-- The City's details printed on every document come from the server (issue 13): the row
-- "ville" holds the standard number and the heatwave line, every other row a desk or service
-- (name, address, opening hours) of a territory. Written by coordinators on the server only.
-- The values a laptop had typed in Paramètres before stay in its settings: printed where the
-- server has no value yet, and shown as replaced once it has one (README, "City details").
CREATE TABLE city_details (
    id TEXT PRIMARY KEY,
    territory_id TEXT REFERENCES ref_territories(id),
    desk_name TEXT,
    address TEXT,
    opening_hours TEXT,
    standard_label TEXT,
    standard_phone TEXT,
    heatwave_line TEXT,
    is_sample INTEGER NOT NULL DEFAULT 0,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    updated_at TEXT NOT NULL
);

-- The street table the City loads (havre-server streets import): Accueil finds a resident's
-- territory from the street name (issue 12).
CREATE TABLE streets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    territory_id TEXT NOT NULL REFERENCES ref_territories(id),
    postcode TEXT,
    is_sample INTEGER NOT NULL DEFAULT 0,
    server_version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX streets_territory ON streets(territory_id);
