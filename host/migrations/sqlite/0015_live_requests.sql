-- The live loop's request claims, shared by every replica: at most one `pricing.calculated`
-- per (session, configHash) is out until its pending's deadline (`until_ms`, epoch ms).
-- A claim past its deadline counts as none; retention deletes those.

CREATE TABLE live_requests (
    session_id  TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    until_ms    BIGINT NOT NULL,
    PRIMARY KEY (session_id, config_hash)
);
