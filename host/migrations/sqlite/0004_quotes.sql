-- Quotes with numbered versions, per-organisation quote numbers, and the mail outbox used
-- when no SMTP server is configured.

CREATE TABLE quotes (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    submission_id TEXT NOT NULL,
    number        TEXT NOT NULL,
    status        TEXT NOT NULL,      -- draft | sent | accepted | rejected | expired
    version       INTEGER NOT NULL,   -- current version
    currency      TEXT NOT NULL,
    reference     TEXT,
    valid_until   INTEGER NOT NULL,
    external_ref  TEXT,
    view_token    TEXT NOT NULL UNIQUE,
    sent_at       INTEGER,
    viewed_at     INTEGER,              -- first view by the customer
    decided_at    INTEGER,              -- accepted or rejected
    decision      TEXT,             -- JSON: who, why, from where
    expiring_notified_at INTEGER,       -- quote.expiring_soon emitted
    expired_at    INTEGER,              -- quote.expired emitted
    pdf_version   INTEGER,              -- the version whose PDF was prepared (sent or /prepare)
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (org_id, number)
);
CREATE INDEX quotes_org_created ON quotes(org_id, created_at, id);

CREATE TABLE quote_versions (
    quote_id   TEXT NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    pricing    TEXT NOT NULL,         -- Pricing JSON
    created_at INTEGER NOT NULL,
    PRIMARY KEY (quote_id, version)
);

CREATE TABLE quote_counters (
    org_id TEXT NOT NULL,
    year   INTEGER NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE mail_outbox (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    recipients TEXT NOT NULL,         -- JSON array
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    quote_id   TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX mail_outbox_org ON mail_outbox(org_id, created_at);
