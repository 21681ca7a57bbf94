-- One index fewer to write on every append (issue 14): (org_id, kind, ts_ms), made by
-- 0015 for the overview's days and time-ranged reads of one kind, is a prefix of 0006's
-- (org_id, kind, ts_ms, seq), which answers every one of those reads the same way.
DROP INDEX audit_records_kind_ts;
