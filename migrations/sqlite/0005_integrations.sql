-- Integrations: an org's Slack, Microsoft Teams and signed-webhook settings (plain
-- settings as JSON, secrets sealed by the vault with the org and kind as associated
-- data), and what ARX last sent about each approval request on each of them, so a
-- Slack message can be updated when the request ends and no notice goes out twice.

CREATE TABLE integrations (
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    kind           TEXT NOT NULL,
    config         TEXT NOT NULL,
    sealed_secrets TEXT NOT NULL,
    secret_fields  TEXT NOT NULL,
    updated_ms     BIGINT NOT NULL,
    updated_by     TEXT NOT NULL,
    PRIMARY KEY (org_id, kind)
);

CREATE TABLE approval_notices (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    message_ts  TEXT NOT NULL,
    status      TEXT NOT NULL,
    updated_ms  BIGINT NOT NULL,
    PRIMARY KEY (approval_id, kind)
);
