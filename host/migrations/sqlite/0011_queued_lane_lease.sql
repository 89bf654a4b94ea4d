-- SQLite's queued delivery lane is held by one process at a time under one lease (see
-- store/claims.rs): its claims are then reads, not a row update per delivery. A process
-- renews its lease while it runs and deletes it on a clean shutdown; after a crash the next
-- holder waits for it to run out. (Postgres leases rows, so several processes share the
-- lane; it has no such table.)
CREATE TABLE outbox_leases (
    lane         TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    leased_until INTEGER NOT NULL
);
