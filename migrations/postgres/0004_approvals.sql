-- Deciding approvals: what a request needs (approver groups, how many approvals, whether
-- the owner may approve, whether the diff is shown), each approver's vote, the decision,
-- and the outcome the waiting agent receives. Users belong to approver groups.

ALTER TABLE users ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';

ALTER TABLE approvals ADD COLUMN requirements TEXT NOT NULL DEFAULT '{}';
ALTER TABLE approvals ADD COLUMN decided_ms BIGINT;
ALTER TABLE approvals ADD COLUMN decided_by TEXT NOT NULL DEFAULT '[]';
ALTER TABLE approvals ADD COLUMN comment TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN outcome TEXT;
ALTER TABLE approvals ADD COLUMN result_audit_id TEXT;
CREATE INDEX approvals_due ON approvals (status, expires_ms);

CREATE TABLE approval_votes (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    email       TEXT NOT NULL,
    comment     TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    PRIMARY KEY (approval_id, user_id)
);

-- What a request asks for: a call (`call`) or temporary scope (`grant`).
ALTER TABLE approvals ADD COLUMN kind TEXT NOT NULL DEFAULT 'call';

-- Time-bound grants: extra scope an agent asked for and a reviewer approved.
CREATE TABLE grants (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    agent_id     TEXT NOT NULL REFERENCES agents(id),
    connector    TEXT NOT NULL,
    operations   TEXT NOT NULL,
    resource     TEXT,
    reason       TEXT NOT NULL,
    ttl_secs     BIGINT NOT NULL,
    approval_id  TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    starts_ms    BIGINT,
    expires_ms   BIGINT,
    ended_ms     BIGINT,
    ended_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX grants_by_agent ON grants (org_id, agent_id, status);
CREATE INDEX grants_due ON grants (status, expires_ms);
