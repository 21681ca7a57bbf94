-- A record's words come from ARX from here on (issue 14): the append binds them
-- (`arx_core::store::record_text`, the same fields, order and cut as `audit_text`, and
-- the same words as the search's own `text_words`) and PostgreSQL only builds the
-- tsvector. Computing `audit_text(record)` in the database parsed every record's JSON
-- and ran a regular expression over its text at insert: 125 µs of a record's 180 µs
-- there. The column keeps every value already stored; `audit_text` stays, for checking.
ALTER TABLE audit_records ALTER COLUMN text_vec DROP EXPRESSION;
