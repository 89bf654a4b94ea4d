-- Organisations, API keys and template catalogs.
-- Portable types only (TEXT, INTEGER as 64-bit): instants are epoch milliseconds,
-- booleans 0/1, JSON documents TEXT, so one SQL text serves SQLite and Postgres.

CREATE TABLE orgs (
    id                 TEXT PRIMARY KEY,
    slug               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    email              TEXT NOT NULL,
    phone              TEXT,
    logo_url           TEXT,
    locale             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    unit_system        TEXT NOT NULL,
    plan               TEXT NOT NULL,
    pricing_timeout_ms INTEGER NOT NULL,
    created_at         INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    scope      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_org ON api_keys(org_id);

CREATE TABLE templates (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, slug)
);
