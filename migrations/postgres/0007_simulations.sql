-- Policy simulations, so that any replica shows a job's progress and can cancel it: the
-- replica running a job writes its report after each page of records it replays and
-- reads `cancel_requested` there. A running job whose report stops moving for a minute is
-- shown as failed (its server stopped).

CREATE TABLE simulations (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    status           TEXT NOT NULL,
    report           TEXT NOT NULL,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    started_ms       BIGINT NOT NULL,
    updated_ms       BIGINT NOT NULL
);
CREATE INDEX simulations_by_org ON simulations (org_id, started_ms);
