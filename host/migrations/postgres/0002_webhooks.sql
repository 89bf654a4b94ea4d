-- Webhook endpoints, the transactional outbox (events + one delivery per matching
-- endpoint), the attempt log, and leads (the first business source of events).

CREATE TABLE webhook_endpoints (
    id                        TEXT PRIMARY KEY,
    org_id                    TEXT NOT NULL REFERENCES orgs(id),
    url                       TEXT NOT NULL,
    description               TEXT,
    events                    TEXT NOT NULL,   -- JSON array of event types or "*"
    filters                   TEXT,            -- JSON object, see delivery::filters
    enabled                   BIGINT NOT NULL,
    disabled_reason           TEXT,
    secret                    TEXT NOT NULL,
    previous_secret           TEXT,
    previous_secret_expires_at BIGINT,
    failing_since             BIGINT,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id);

CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    event_type TEXT NOT NULL,
    payload    TEXT NOT NULL,   -- the exact body every delivery sends
    created_at BIGINT NOT NULL
);
CREATE INDEX events_org_created ON events(org_id, created_at, id);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    org_id          TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    url             TEXT NOT NULL,
    status          TEXT NOT NULL,   -- pending | delivered | failed | expired
    fast            BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    retry_step      BIGINT NOT NULL,
    next_attempt_at BIGINT,
    expires_at      BIGINT,
    locked_until    BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX deliveries_due ON deliveries(status, fast, next_attempt_at);
CREATE INDEX deliveries_event ON deliveries(event_id);
CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id, status, created_at);

CREATE TABLE delivery_attempts (
    id               TEXT PRIMARY KEY,
    delivery_id      TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt          BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    status_code      BIGINT,
    error            TEXT,
    response_snippet TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, attempt);
CREATE INDEX delivery_attempts_started ON delivery_attempts(started_at);

CREATE TABLE leads (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    phone      TEXT,
    message    TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX leads_org_created ON leads(org_id, created_at, id);
