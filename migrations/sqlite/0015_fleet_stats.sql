-- The CISO's view of the fleet (issue 11): when each key was last used, and the index
-- the per-agent activity reads.
--
-- `last_used_ms` is kept to the hour, not per call: the execute path writes it only when
-- the stored value is older than an hour (or absent), so the hot path adds no write.
-- NULL: not used since this column exists.
ALTER TABLE agent_keys ADD COLUMN last_used_ms BIGINT;

-- One agent's calls in a time window, and its latest call (MAX(ts_ms) is one index seek):
-- the fleet page reads both for up to 500 agents in one query.
CREATE INDEX audit_records_agent_kind_ts ON audit_records (org_id, agent_id, kind, ts_ms);
-- An org's records of one kind in a time window: the overview's days, and the
-- simulation's and exports' time ranges.
CREATE INDEX audit_records_kind_ts ON audit_records (org_id, kind, ts_ms);
