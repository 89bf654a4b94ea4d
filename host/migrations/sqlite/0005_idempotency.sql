-- Idempotency-Key: the first answer to a POST, replayed for 24 hours.

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,     -- SHA-256 of the credentials and the path
    key          TEXT NOT NULL,     -- the client's Idempotency-Key
    status       INTEGER NOT NULL,  -- 0 while the first request runs
    content_type TEXT,
    body         TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
