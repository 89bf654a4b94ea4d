-- Whether a session has an answer from the organisation's own system is asked on every
-- session read; without this index the question scanned all of the session's plugin answers
-- (one per live change).
CREATE INDEX adjustments_session_source ON adjustments(session_id, source);
