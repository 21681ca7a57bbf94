-- Vendor responses leave the append-only chain (issue 8, point 12). The result record
-- keeps the response's SHA-256, size and a declared projection; the body itself lives
-- here, where an admin's retention setting purges it. A purged row stays as a tombstone
-- (body NULL, purged_ms set) so that a reader learns when it went, not just that it is gone.
-- record_id is the id of the `execute.result` record whose `response_sha256` proves the body.

CREATE TABLE response_bodies (
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    record_id    TEXT NOT NULL,
    intercept_id TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BIGINT NOT NULL,
    body         TEXT,
    created_ms   BIGINT NOT NULL,
    purged_ms    BIGINT,
    PRIMARY KEY (org_id, record_id)
);
CREATE INDEX response_bodies_due ON response_bodies (org_id, created_ms);

-- Per-org retention of response bodies, in days; an org without a row keeps the default.
CREATE TABLE retention_settings (
    org_id        TEXT PRIMARY KEY REFERENCES orgs(id),
    response_days BIGINT NOT NULL,
    updated_ms    BIGINT NOT NULL
);
