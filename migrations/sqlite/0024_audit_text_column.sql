-- PostgreSQL stores each record's words from here on (its 0024); SQLite's FTS5 index
-- already keeps them.
--
-- A connector alone, and a call's connector, operation and verdict together, each read
-- in seq order from their own index: with only (connector, operation, seq), a connector
-- alone sorted every one of its records (136 ms at a million), and a verdict that a
-- connector's operation never has (a PERMIT of a containment) was looked for row by row
-- through all of them (0.7 to 2.2 s). Same meaning as migrations/postgres.
CREATE INDEX audit_records_connector_only ON audit_records (org_id, connector, seq);
CREATE INDEX audit_records_call ON audit_records (org_id, connector, operation, verdict, seq);

-- The kind and agent indexes carry what the other filters and the facets read (agent or
-- kind, risk, verdict, connector), so a search by kind or agent with more conditions, and
-- its facets, reads the index alone instead of one record row per candidate: the facets
-- of an agent's risky calls read 30,000 rows for their 10,000 newest.
DROP INDEX audit_records_kind;
CREATE INDEX audit_records_kind ON audit_records (org_id, kind, seq, agent_id, risk_score, verdict, connector);
DROP INDEX audit_records_agent;
CREATE INDEX audit_records_agent ON audit_records (org_id, agent_id, seq, kind, risk_score, verdict, connector);

-- What the facets read, by seq: the facets of a full-text search (FTS5 hands over seqs)
-- and of no filter at all read this instead of ten thousand record rows.
CREATE INDEX audit_records_facets ON audit_records (org_id, seq, verdict, connector);
