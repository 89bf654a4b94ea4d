-- Each session counts its configurations on its own row, so a change numbers its history
-- entry from the row it has just updated (and locked) instead of reading MAX(seq): on
-- Postgres the whole change is then one statement, and a concurrent change of the same
-- session cannot take the same number. One-way: a binary older than this migration would
-- number history without the counter, and this one's next change of such a session would
-- collide with it; roll back the binary only together with the database.
ALTER TABLE configuration_sessions ADD COLUMN config_seq INTEGER NOT NULL DEFAULT 1;
UPDATE configuration_sessions SET config_seq = (
    SELECT MAX(seq) FROM session_configurations WHERE session_id = configuration_sessions.id
) WHERE EXISTS (
    SELECT 1 FROM session_configurations WHERE session_id = configuration_sessions.id AND seq > 1
);
