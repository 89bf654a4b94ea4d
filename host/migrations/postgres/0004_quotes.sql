-- Quotes with numbered versions, per-organisation quote numbers, and the mail outbox used
-- when no SMTP server is configured.

CREATE TABLE quotes (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    submission_id TEXT NOT NULL,
    number        TEXT NOT NULL,
    status        TEXT NOT NULL,      -- draft | sent | accepted | rejected | expired
    version       BIGINT NOT NULL,   -- current version
    currency      TEXT NOT NULL,
    reference     TEXT,
    valid_until   BIGINT NOT NULL,
    external_ref  TEXT,
    view_token    TEXT NOT NULL UNIQUE,
    sent_at       BIGINT,
    viewed_at     BIGINT,              -- first view by the customer
    decided_at    BIGINT,              -- accepted or rejected
    decision      TEXT,             -- JSON: who, why, from where
    expiring_notified_at BIGINT,       -- quote.expiring_soon emitted
    expired_at    BIGINT,              -- quote.expired emitted
    pdf_version   BIGINT,              -- the version whose PDF was prepared (sent or /prepare)
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (org_id, number)
);
CREATE INDEX quotes_org_created ON quotes(org_id, created_at, id);

CREATE TABLE quote_versions (
    quote_id   TEXT NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    pricing    TEXT NOT NULL,         -- Pricing JSON
    created_at BIGINT NOT NULL,
    PRIMARY KEY (quote_id, version)
);

CREATE TABLE quote_counters (
    org_id TEXT NOT NULL,
    year   BIGINT NOT NULL,
    last   BIGINT NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE mail_outbox (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    recipients TEXT NOT NULL,         -- JSON array
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    quote_id   TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX mail_outbox_org ON mail_outbox(org_id, created_at);
