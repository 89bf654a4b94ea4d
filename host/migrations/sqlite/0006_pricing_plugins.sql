-- Wasm pricing plugins: uploaded versions (the component bytes stay in the database, so
-- every replica can load them), the org's active version, precompiled-artifact digests,
-- and recent runs.

CREATE TABLE pricing_plugins (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL,
    wasm        BLOB NOT NULL,
    imports     TEXT NOT NULL,
    settings    TEXT NOT NULL,
    status      TEXT NOT NULL,
    error       TEXT,
    compile_ms  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (org_id, name, version)
);
CREATE INDEX pricing_plugins_org ON pricing_plugins(org_id, created_at);

-- One active version per org: activation is a single-row update.
ALTER TABLE orgs ADD COLUMN active_plugin_id TEXT;

-- SHA-256 of each precompiled artifact this service wrote (key: component sha256 and
-- engine compatibility hash); an artifact on disk is only loaded if it matches.
CREATE TABLE plugin_artifacts (
    cache_key  TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE plugin_runs (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    plugin_id         TEXT NOT NULL,
    session_id        TEXT,
    context           TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    error             TEXT,
    origin            TEXT,
    duration_us       INTEGER NOT NULL,
    peak_memory_bytes INTEGER NOT NULL,
    output_bytes      INTEGER NOT NULL,
    log               TEXT NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE INDEX plugin_runs_plugin ON plugin_runs(plugin_id, created_at);
