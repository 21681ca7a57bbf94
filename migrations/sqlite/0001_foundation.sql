-- ARX foundation schema (SQLite). Same tables and meaning as migrations/postgres.
-- Ids are UUID text, times are Unix milliseconds, JSON is text.

CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    wrapped_dek TEXT NOT NULL,
    created_ms  BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT,
    active        BIGINT NOT NULL,
    created_ms    BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    hash       TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    user_id    TEXT NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);

CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    owner         TEXT NOT NULL,
    labels        TEXT NOT NULL,
    status        TEXT NOT NULL,
    declared_rate BIGINT NOT NULL,
    created_ms    BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE agent_keys (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    agent_id   TEXT NOT NULL REFERENCES agents(id),
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE INDEX agent_keys_agent ON agent_keys (org_id, agent_id);

CREATE TABLE instances (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES orgs(id),
    connector          TEXT NOT NULL,
    name               TEXT NOT NULL,
    environment        TEXT NOT NULL,
    variables          TEXT NOT NULL,
    sensitivity        BIGINT,
    sealed_credentials TEXT,
    created_ms         BIGINT NOT NULL,
    UNIQUE (org_id, connector, name)
);

-- The head of each org's chain; its row is the lock that serializes appends.
CREATE TABLE chain_heads (
    org_id TEXT PRIMARY KEY REFERENCES orgs(id),
    seq    BIGINT NOT NULL,
    hash   TEXT NOT NULL
);

CREATE TABLE audit_records (
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    seq        BIGINT NOT NULL,
    id         TEXT NOT NULL UNIQUE,
    ts_ms      BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    agent_id   TEXT,
    connector  TEXT,
    operation  TEXT,
    verdict    TEXT,
    risk_score BIGINT,
    record     TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_records_kind ON audit_records (org_id, kind, seq);
CREATE INDEX audit_records_agent ON audit_records (org_id, agent_id, seq);

CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

CREATE TABLE approvals (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    agent_id     TEXT NOT NULL REFERENCES agents(id),
    instance_id  TEXT NOT NULL REFERENCES instances(id),
    connector    TEXT NOT NULL,
    operation    TEXT NOT NULL,
    params       TEXT NOT NULL,
    params_hash  TEXT NOT NULL,
    intercept_id TEXT NOT NULL,
    risk_score   BIGINT NOT NULL,
    policy_id    TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL
);
CREATE INDEX approvals_status ON approvals (org_id, status, created_ms);

-- Console sessions: transport state, keyed by an unguessable id; the org lives in the data.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       BLOB NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_ms);
