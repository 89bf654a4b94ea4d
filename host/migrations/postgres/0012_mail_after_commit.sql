-- Quote mails leave after the send commits: each outbox row is a delivery with its own
-- state. While an attempt runs, next_attempt_at is the end of its lease; attempts (bumped by
-- every claim) fences a late result from an attempt whose lease was taken over. Rows from
-- before this change were recorded (and mailed, when SMTP was configured) at once.

ALTER TABLE mail_outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'recorded'; -- pending | sent | failed | cancelled | recorded
ALTER TABLE mail_outbox ADD COLUMN quote_version BIGINT;
ALTER TABLE mail_outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mail_outbox ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE mail_outbox ADD COLUMN last_error TEXT;
ALTER TABLE mail_outbox ADD COLUMN sent_at BIGINT;
CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at) WHERE status = 'pending';
