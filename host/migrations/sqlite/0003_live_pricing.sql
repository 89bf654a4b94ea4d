-- Configuration sessions (the live pricing loop), single-use callback tokens, adjustments
-- per (session, configHash), contacts and submissions.

CREATE TABLE configuration_sessions (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    template_id   TEXT NOT NULL,
    origin        TEXT NOT NULL,
    configuration TEXT NOT NULL,   -- canonical configuration JSON
    config_hash   TEXT NOT NULL,
    pricing       TEXT NOT NULL,   -- the pricing the customer sees now (SessionPricing JSON)
    pricing_seq   INTEGER NOT NULL, -- SSE event id of that pricing
    submission_id TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX configuration_sessions_org ON configuration_sessions(org_id, created_at);

CREATE TABLE session_configurations (
    session_id    TEXT NOT NULL REFERENCES configuration_sessions(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    config_hash   TEXT NOT NULL,
    configuration TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE callback_tokens (
    token_hash  TEXT PRIMARY KEY,   -- SHA-256 of the token in the callback URL
    session_id  TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    context     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
);

CREATE TABLE adjustments (
    id          TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    context     TEXT NOT NULL,
    source      TEXT NOT NULL,      -- external | plugin
    pricing     TEXT NOT NULL,      -- Pricing JSON
    created_at  INTEGER NOT NULL
);
CREATE INDEX adjustments_session_hash ON adjustments(session_id, config_hash, created_at);

CREATE TABLE contacts (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    email            TEXT NOT NULL,
    email_key        TEXT NOT NULL,  -- lower-cased email, the upsert key
    name             TEXT NOT NULL,
    phone            TEXT,
    company_name     TEXT,
    external_ref     TEXT,
    submission_count INTEGER NOT NULL,
    last_used_at     INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (org_id, email_key)
);

CREATE TABLE submissions (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    session_id      TEXT NOT NULL,
    template_id     TEXT NOT NULL,
    contact_id      TEXT NOT NULL,
    customer        TEXT NOT NULL,   -- {name, email, phone, companyName}
    customer_locale TEXT,
    notes           TEXT,
    unit_amount     INTEGER NOT NULL,
    configuration   TEXT NOT NULL,
    config_hash     TEXT NOT NULL,
    pricing         TEXT NOT NULL,   -- the frozen breakdown
    pricing_source  TEXT NOT NULL,   -- base | external | plugin
    external_ref    TEXT,
    latest_quote_id TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX submissions_org_created ON submissions(org_id, created_at, id);
