-- The audit trail as evidence, part one (issue 13): search by filters. Each filter the
-- search offers on a column has an index that keeps its pages in `seq` order, so a page
-- reads only what it shows (kind and agent have theirs since 0001).
CREATE INDEX audit_records_connector ON audit_records (org_id, connector, operation, seq);
CREATE INDEX audit_records_verdict ON audit_records (org_id, verdict, seq);
CREATE INDEX audit_records_time ON audit_records (org_id, ts_ms);
