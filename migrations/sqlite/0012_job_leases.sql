-- Leases on periodic jobs (issue 9, point 5): replicas sharing one database each run the
-- job scheduler, and a job (approval expiry, response purge...) runs only on the replica
-- holding its lease. A lease is taken by compare-and-set (no row, same holder, or
-- expired) and renewed by each run; when its holder dies it runs out and another
-- replica takes the job over. holder is the process instance that holds it.

CREATE TABLE job_leases (
    job         TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_ms BIGINT NOT NULL,
    renewed_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL
);
