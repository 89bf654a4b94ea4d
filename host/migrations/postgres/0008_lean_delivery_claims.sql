-- Recording a result rewrote two index entries per delivery that nothing reads:
-- - the claim only looks for pending deliveries, so only those are indexed by due time
--   (a delivered or failed delivery leaves this index instead of moving within it);
-- - looking a delivery up by endpoint (recovery, the log's filter) narrows by time, not by
--   status, so a status change no longer moves its entry.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries(fast, next_attempt_at) WHERE status = 'pending';
DROP INDEX deliveries_endpoint;
CREATE INDEX deliveries_endpoint ON deliveries(endpoint_id, created_at);

-- A lease is now the due time moved to the lease's end (a visibility timeout), so claims
-- never scan the deliveries in flight; leases held at upgrade carry over.
UPDATE deliveries SET next_attempt_at = locked_until
WHERE status = 'pending' AND locked_until > next_attempt_at;
ALTER TABLE deliveries DROP COLUMN locked_until;
