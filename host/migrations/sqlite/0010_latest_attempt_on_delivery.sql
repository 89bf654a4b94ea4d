-- A delivery's latest attempt lives on its own row; delivery_attempts keeps the earlier
-- ones. Recording a result is then one row update instead of an update plus an insert
-- with three index entries, and a delivery answered at its first attempt (nearly all of
-- them) never writes to delivery_attempts. When a later attempt is recorded, the one it
-- replaces moves to delivery_attempts in the same transaction. Deliveries attempted
-- before this migration have every attempt in delivery_attempts and no latest attempt
-- here (last_started_at NULL), so nothing is moved or shown twice.
ALTER TABLE deliveries ADD COLUMN last_started_at INTEGER;
ALTER TABLE deliveries ADD COLUMN last_duration_ms INTEGER;
ALTER TABLE deliveries ADD COLUMN last_snippet TEXT;
