-- The audit trail as evidence, part two (issue 13): who acted, the approval a record
-- names, and full text. Same meaning as migrations/sqlite.
--
-- `actor` is the actor's id (`system` for ARX itself) and `approval_id` the approval the
-- record names: copies of what the hashed `record` says, so the search can index them.
-- The records written before them get them here, the append-only guard lifted inside
-- this migration's transaction only; nothing the chain hashes changes.
ALTER TABLE audit_records ADD COLUMN actor TEXT;
ALTER TABLE audit_records ADD COLUMN approval_id TEXT;
ALTER TABLE audit_records DISABLE TRIGGER audit_records_no_update_delete;
UPDATE audit_records SET
    actor = COALESCE(record::jsonb -> 'actor' ->> 'id', record::jsonb -> 'actor' ->> 'type'),
    approval_id = record::jsonb -> 'fields' ->> 'approval_id';
ALTER TABLE audit_records ENABLE TRIGGER audit_records_no_update_delete;
CREATE INDEX audit_records_actor ON audit_records (org_id, actor, seq);
CREATE INDEX audit_records_approval ON audit_records (org_id, approval_id, seq);

-- Full text over what people search a record for: its params, the result's projection
-- (or the whole answer of records from before answers left the chain), reasons, comments,
-- messages, errors and the agent's own reasoning. Words are runs of letters and digits,
-- lowercased, as `arx_core::store::text_words` cuts a query (hence the regexp: the
-- `simple` parser alone keeps `ws-042.corp` whole). An expression index: PostgreSQL
-- keeps it in the inserting transaction, and a search names the same expression.
--
-- Its COST is what it really costs per row (parsing the record, the regexp, the
-- tsvector): at the default the planner, with fresh statistics on a million records,
-- evaluated it on every row walking back from the newest instead of reading the GIN
-- index, and a search for one host took 41 s instead of milliseconds.
CREATE FUNCTION audit_text(record TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10000 AS $$
    SELECT to_tsvector('simple', regexp_replace(left(
        coalesce(f ->> 'params', '') || ' ' ||
        coalesce(f ->> 'response_projection', '') || ' ' ||
        coalesce(f ->> 'response', '') || ' ' ||
        coalesce(f ->> 'reason', '') || ' ' ||
        coalesce(f ->> 'comment', '') || ' ' ||
        coalesce(f ->> 'message', '') || ' ' ||
        coalesce(f ->> 'error', '') || ' ' ||
        coalesce(f -> 'session_context' ->> 'reasoning', ''),
        100000), '[^[:alnum:]]+', ' ', 'g'))
    FROM (SELECT record::jsonb -> 'fields' AS f) AS r
$$;
CREATE INDEX audit_records_text ON audit_records USING GIN (audit_text(record));
