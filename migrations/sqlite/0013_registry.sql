-- The agent registry (issue 11): immutable manifest versions, drift alerts, and the
-- lineage and retirement of agents.
--
-- A manifest version is written once: (agent_id, version) is its key, so publishing a
-- version number that exists is refused by the database, whichever replica tries.
-- `manifest` is the canonical JSON whose SHA-256 is `hash`, the value the audit chain
-- records for the version.

CREATE TABLE manifest_versions (
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    agent_id    TEXT NOT NULL REFERENCES agents(id),
    version     BIGINT NOT NULL,
    manifest    TEXT NOT NULL,
    hash        TEXT NOT NULL,
    generated   BIGINT NOT NULL,
    rollback_of BIGINT,
    reason      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    PRIMARY KEY (agent_id, version)
);
CREATE INDEX manifest_versions_by_org ON manifest_versions (org_id, agent_id, version);
-- The version in force, on the agent's row: the execute path reads it with the agent (no
-- query of its own) and keeps the immutable versions in memory by number.
ALTER TABLE agents ADD COLUMN manifest_version BIGINT;
CREATE TRIGGER manifest_versions_no_update BEFORE UPDATE ON manifest_versions
BEGIN SELECT RAISE(ABORT, 'manifest versions are immutable'); END;
CREATE TRIGGER manifest_versions_no_delete BEFORE DELETE ON manifest_versions
BEGIN SELECT RAISE(ABORT, 'manifest versions are immutable'); END;

-- One alert per drift signal: open, then acknowledged and resolved by a person. A signal
-- that repeats while its alert is not resolved counts on that alert (`occurrences`,
-- `last_ms`), found by `signal_key` (the kind and what it is about), so an agent that
-- keeps calling outside its manifest raises one alert, not one per call.
CREATE TABLE drift_alerts (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    agent_id         TEXT NOT NULL REFERENCES agents(id),
    signal_key       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    severity         TEXT NOT NULL,
    action           TEXT NOT NULL,
    signal           TEXT NOT NULL,
    message          TEXT NOT NULL,
    manifest_version BIGINT,
    audit_id         TEXT,
    status           TEXT NOT NULL,
    occurrences      BIGINT NOT NULL,
    created_ms       BIGINT NOT NULL,
    last_ms          BIGINT NOT NULL,
    updated_ms       BIGINT,
    updated_by       TEXT,
    note             TEXT
);
CREATE INDEX drift_alerts_by_org ON drift_alerts (org_id, status, created_ms);
CREATE INDEX drift_alerts_by_agent ON drift_alerts (org_id, agent_id, created_ms);
-- At most one unresolved alert per agent and signal, whichever replica raises it.
CREATE UNIQUE INDEX drift_alerts_unresolved ON drift_alerts (agent_id, signal_key) WHERE status <> 'resolved';

-- A decommissioned agent's retirement, written once: why, how long its records are kept,
-- the agent that replaced it (lineage walks these back), who retired it, and the audit
-- record that sealed its personnel record.
CREATE TABLE agent_retirements (
    agent_id        TEXT PRIMARY KEY REFERENCES agents(id),
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    reason          TEXT NOT NULL,
    retention_class TEXT NOT NULL,
    replaced_by     TEXT REFERENCES agents(id),
    retired_by      TEXT NOT NULL,
    retired_ms      BIGINT NOT NULL,
    seal_id         TEXT NOT NULL
);
CREATE INDEX agent_retirements_by_successor ON agent_retirements (org_id, replaced_by);
