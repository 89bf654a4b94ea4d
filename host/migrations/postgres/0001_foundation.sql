-- Organisations, API keys and template catalogs.
-- Postgres twin of migrations/sqlite/0001: the same tables with BIGINT for 64-bit integers,
-- so the store's one portable SQL text runs on both backends.

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
    pricing_timeout_ms BIGINT NOT NULL,
    created_at         BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    scope      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_org ON api_keys(org_id);

CREATE TABLE templates (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, slug)
);
