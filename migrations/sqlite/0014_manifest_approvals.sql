-- Self-registration (issue 11): an agent's widening manifest waits for a reviewer as an
-- approval request of kind `manifest`, which is for no connector instance.
--
-- SQLite cannot drop a NOT NULL, so the table is rebuilt, inside the migration's
-- transaction and with foreign keys on: the votes and notices that reference
-- `approvals` are set aside while the old table is dropped (so no reference dangles,
-- not even for a moment) and put back, unchanged, once the new one has its name.
CREATE TABLE approvals_new (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    agent_id        TEXT NOT NULL REFERENCES agents(id),
    instance_id     TEXT REFERENCES instances(id),
    connector       TEXT NOT NULL,
    operation       TEXT NOT NULL,
    params          TEXT NOT NULL,
    params_hash     TEXT NOT NULL,
    intercept_id    TEXT NOT NULL,
    risk_score      BIGINT NOT NULL,
    policy_id       TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL,
    requirements    TEXT NOT NULL DEFAULT '{}',
    decided_ms      BIGINT,
    decided_by      TEXT NOT NULL DEFAULT '[]',
    comment         TEXT NOT NULL DEFAULT '',
    outcome         TEXT,
    result_audit_id TEXT,
    kind            TEXT NOT NULL DEFAULT 'call',
    heartbeat_ms    BIGINT
);
INSERT INTO approvals_new (id, org_id, agent_id, instance_id, connector, operation, params,
    params_hash, intercept_id, risk_score, policy_id, status, created_ms, expires_ms,
    requirements, decided_ms, decided_by, comment, outcome, result_audit_id, kind, heartbeat_ms)
SELECT id, org_id, agent_id, instance_id, connector, operation, params,
    params_hash, intercept_id, risk_score, policy_id, status, created_ms, expires_ms,
    requirements, decided_ms, decided_by, comment, outcome, result_audit_id, kind, heartbeat_ms
FROM approvals;
CREATE TEMP TABLE votes_kept AS SELECT * FROM approval_votes;
CREATE TEMP TABLE notices_kept AS SELECT * FROM approval_notices;
DELETE FROM approval_votes;
DELETE FROM approval_notices;
DROP TABLE approvals;
ALTER TABLE approvals_new RENAME TO approvals;
INSERT INTO approval_votes SELECT * FROM votes_kept;
INSERT INTO approval_notices SELECT * FROM notices_kept;
DROP TABLE votes_kept;
DROP TABLE notices_kept;
CREATE INDEX approvals_status ON approvals (org_id, status, created_ms);
CREATE INDEX approvals_due ON approvals (status, expires_ms);
