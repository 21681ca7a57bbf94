-- Signed checkpoints to a witness (issue 13, point 4; docs/audit.md).
--
-- Each org's Ed25519 signing key: the public half as it is published (base64 of the 32
-- raw bytes), the private half sealed by the vault under the org's data key.
CREATE TABLE signing_keys (
    org_id         TEXT PRIMARY KEY REFERENCES orgs(id),
    key_id         TEXT NOT NULL,
    public_key     TEXT NOT NULL,
    sealed_private TEXT NOT NULL,
    created_ms     BIGINT NOT NULL
);

-- Every checkpoint signed: the chain's record at `seq` (an `audit.checkpoint` record)
-- had `hash`; `signature` is over the checkpoint's canonical message. Rows are written
-- once and never change: the witness sinks deliver them in seq order.
CREATE TABLE checkpoints (
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL,
    ts_ms     BIGINT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);

-- Where an org's audit trail is sent: witness sinks (checkpoints) now, SIEM streams
-- later. `cursor_seq` is the last seq delivered; delivery resumes after it.
CREATE TABLE audit_sinks (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    purpose        TEXT NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    config         TEXT NOT NULL,
    sealed_secrets TEXT,
    created_ms     BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    cursor_seq     BIGINT NOT NULL DEFAULT 0,
    last_ok_ms     BIGINT,
    last_error     TEXT,
    last_error_ms  BIGINT,
    UNIQUE (org_id, name)
);
CREATE INDEX audit_sinks_by_org ON audit_sinks (org_id, purpose);
