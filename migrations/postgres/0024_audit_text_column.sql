-- Full text on PostgreSQL, part two (issue 13, point 2): the record's words are stored,
-- computed once at insert, instead of indexed by expression. GIN keeps no positions, so
-- with the expression index every candidate row's `audit_text()` was computed again at
-- read: a word in every record took 1.1 s (p50) and 32 s (p95) at a million records.
-- Stored, checking a row is a lookup. A rare word is still found through the index:
-- the search asks the index first and walks seq order only when it holds many matches
-- (`arx_store::audit::TextPlan`). Same meaning as the expression it replaces.
ALTER TABLE audit_records ADD COLUMN text_vec tsvector
    GENERATED ALWAYS AS (audit_text(record)) STORED;
CREATE INDEX audit_records_text_vec ON audit_records USING GIN (text_vec);
DROP INDEX audit_records_text;

-- A connector alone, and a call's connector, operation and verdict together, each read
-- in seq order from their own index: with only (connector, operation, seq), a connector
-- alone sorted every one of its records, and a verdict that a connector's operation never
-- has (a PERMIT of a containment) was looked for row by row through all of them.
CREATE INDEX audit_records_connector_only ON audit_records (org_id, connector, seq);
CREATE INDEX audit_records_call ON audit_records (org_id, connector, operation, verdict, seq);

-- The kind and agent indexes carry what the other filters and the facets read (agent or
-- kind, risk, verdict, connector), so a search by kind or agent with more conditions, and
-- its facets, reads the index alone instead of one record row per candidate: the facets
-- of an agent's risky calls read 30,000 rows for their 10,000 newest.
DROP INDEX audit_records_kind;
CREATE INDEX audit_records_kind ON audit_records (org_id, kind, seq) INCLUDE (agent_id, risk_score, verdict, connector);
DROP INDEX audit_records_agent;
CREATE INDEX audit_records_agent ON audit_records (org_id, agent_id, seq) INCLUDE (kind, risk_score, verdict, connector);
