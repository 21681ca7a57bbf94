-- The audit index follows the chain (issue 14). An append used to maintain twelve
-- secondary indexes of `audit_records` and the full-text index in the commit that
-- answers the agent: about fifteen b-trees per record, most of an append's time (35
-- pages a commit in the execute benchmark's replay). The chain now keeps only its keys
-- (`(org_id, seq)` and `id`); what the search filters on is copied into `audit_index`
-- in batches, at most a second behind (the `audit-index` job), and every reader of it
-- first copies what is missing for its org, so a search still sees every record
-- committed before it.
--
-- Same columns as the chain's copies, the same indexes the search was tuned with (0021,
-- 0022, 0024, 0006, 0015), and the full-text trigger, which now reads the record from
-- the chain. PostgreSQL keeps its indexes on the chain and reads it through a view of
-- the same name (its 0029 says why).
CREATE TABLE audit_index (
    org_id      TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    ts_ms       BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    agent_id    TEXT,
    connector   TEXT,
    operation   TEXT,
    verdict     TEXT,
    risk_score  BIGINT,
    actor       TEXT,
    approval_id TEXT,
    PRIMARY KEY (org_id, seq)
) WITHOUT ROWID;
INSERT INTO audit_index
SELECT org_id, seq, ts_ms, kind, agent_id, connector, operation, verdict, risk_score, actor, approval_id
FROM audit_records;

DROP INDEX audit_records_kind_time;
DROP INDEX audit_records_agent_kind_ts;
DROP INDEX audit_records_connector;
DROP INDEX audit_records_verdict;
DROP INDEX audit_records_time;
DROP INDEX audit_records_actor;
DROP INDEX audit_records_approval;
DROP INDEX audit_records_connector_only;
DROP INDEX audit_records_call;
DROP INDEX audit_records_kind;
DROP INDEX audit_records_agent;
DROP INDEX audit_records_facets;

CREATE INDEX audit_index_kind_time ON audit_index (org_id, kind, ts_ms, seq);
CREATE INDEX audit_index_agent_kind_ts ON audit_index (org_id, agent_id, kind, ts_ms);
CREATE INDEX audit_index_connector ON audit_index (org_id, connector, operation, seq);
CREATE INDEX audit_index_verdict ON audit_index (org_id, verdict, seq);
CREATE INDEX audit_index_time ON audit_index (org_id, ts_ms);
CREATE INDEX audit_index_actor ON audit_index (org_id, actor, seq);
CREATE INDEX audit_index_approval ON audit_index (org_id, approval_id, seq);
CREATE INDEX audit_index_connector_only ON audit_index (org_id, connector, seq);
CREATE INDEX audit_index_call ON audit_index (org_id, connector, operation, verdict, seq);
CREATE INDEX audit_index_kind ON audit_index (org_id, kind, seq, agent_id, risk_score, verdict, connector);
CREATE INDEX audit_index_agent ON audit_index (org_id, agent_id, seq, kind, risk_score, verdict, connector);
CREATE INDEX audit_index_facets ON audit_index (org_id, seq, verdict, connector);

-- The records already indexed keep their words; from here on a record's words are
-- indexed with its row of `audit_index`.
DROP TRIGGER audit_records_index_text;
CREATE TRIGGER audit_index_text AFTER INSERT ON audit_index
BEGIN
    INSERT INTO audit_text (rowid, body)
    SELECT (SELECT n FROM audit_text_orgs WHERE org_id = NEW.org_id) * 1099511627776 + NEW.seq,
        substr(concat_ws(' ',
        json_extract(r.record, '$.fields.params'),
        json_extract(r.record, '$.fields.response_projection'),
        json_extract(r.record, '$.fields.response'),
        json_extract(r.record, '$.fields.reason'),
        json_extract(r.record, '$.fields.comment'),
        json_extract(r.record, '$.fields.message'),
        json_extract(r.record, '$.fields.error'),
        json_extract(r.record, '$.fields.session_context.reasoning')), 1, 100000)
    FROM audit_records r WHERE r.org_id = NEW.org_id AND r.seq = NEW.seq;
END;
