-- The audit trail as evidence, part two (issue 13): who acted, the approval a record
-- names, and full text. Same meaning as migrations/postgres.
--
-- `actor` is the actor's id (`system` for ARX itself) and `approval_id` the approval the
-- record names: copies of what the hashed `record` says, so the search can index them.
-- The records written before them get them here, the append-only guard lifted for this
-- one statement only; nothing the chain hashes changes.
ALTER TABLE audit_records ADD COLUMN actor TEXT;
ALTER TABLE audit_records ADD COLUMN approval_id TEXT;
DROP TRIGGER audit_records_no_update;
UPDATE audit_records SET
    actor = COALESCE(json_extract(record, '$.actor.id'), json_extract(record, '$.actor.type')),
    approval_id = json_extract(record, '$.fields.approval_id');
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE INDEX audit_records_actor ON audit_records (org_id, actor, seq);
CREATE INDEX audit_records_approval ON audit_records (org_id, approval_id, seq);

-- Full text over what people search a record for: its params, the result's projection
-- (or the whole answer of records from before answers left the chain), reasons, comments,
-- messages, errors and the agent's own reasoning. Words are runs of letters and digits,
-- lowercased, as `arx_core::store::text_words` cuts a query. Contentless: the index keeps
-- the words, the record keeps the text. The inserting statement fills it (the trigger),
-- so a record is searchable from the commit that writes it.
--
-- An indexed row's rowid is `n * 2^40 + seq`, `n` the org's number below: stable
-- (audit_records' own rowids are not: VACUUM may renumber them), and each org's rows
-- are one rowid range, which a search reads alone.
CREATE TABLE audit_text_orgs (
    n      INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL UNIQUE REFERENCES orgs(id)
);
INSERT INTO audit_text_orgs (org_id) SELECT id FROM orgs ORDER BY created_ms, id;
CREATE TRIGGER orgs_number_for_text AFTER INSERT ON orgs
BEGIN
    INSERT INTO audit_text_orgs (org_id) VALUES (NEW.id);
END;
CREATE VIRTUAL TABLE audit_text USING fts5(
    body, content = '', columnsize = 0, tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER audit_records_index_text AFTER INSERT ON audit_records
BEGIN
    INSERT INTO audit_text (rowid, body) VALUES (
        (SELECT n FROM audit_text_orgs WHERE org_id = NEW.org_id) * 1099511627776 + NEW.seq,
        substr(concat_ws(' ',
        json_extract(NEW.record, '$.fields.params'),
        json_extract(NEW.record, '$.fields.response_projection'),
        json_extract(NEW.record, '$.fields.response'),
        json_extract(NEW.record, '$.fields.reason'),
        json_extract(NEW.record, '$.fields.comment'),
        json_extract(NEW.record, '$.fields.message'),
        json_extract(NEW.record, '$.fields.error'),
        json_extract(NEW.record, '$.fields.session_context.reasoning')), 1, 100000));
END;
INSERT INTO audit_text (rowid, body)
SELECT o.n * 1099511627776 + r.seq, substr(concat_ws(' ',
        json_extract(r.record, '$.fields.params'),
        json_extract(r.record, '$.fields.response_projection'),
        json_extract(r.record, '$.fields.response'),
        json_extract(r.record, '$.fields.reason'),
        json_extract(r.record, '$.fields.comment'),
        json_extract(r.record, '$.fields.message'),
        json_extract(r.record, '$.fields.error'),
        json_extract(r.record, '$.fields.session_context.reasoning')), 1, 100000)
FROM audit_records r JOIN audit_text_orgs o ON o.org_id = r.org_id;
