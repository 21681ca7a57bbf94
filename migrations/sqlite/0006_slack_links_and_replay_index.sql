-- Slack reviewers: an explicit link from a user to their Slack user id (used before the
-- profile email, for workspaces whose emails differ from ARX's or are hidden), unique per
-- org; and how many approvals the last notice of a request showed, so a Slack message is
-- rewritten when a vote moves a two-approver request to "1 of 2".

ALTER TABLE users ADD COLUMN slack_user_id TEXT;
CREATE UNIQUE INDEX users_org_slack_user ON users (org_id, slack_user_id);

ALTER TABLE approval_notices ADD COLUMN votes BIGINT NOT NULL DEFAULT 0;

-- Policy simulation reads one kind of record (execute.intercept) in a time range, in
-- time order: this index seeks to the range instead of scanning the org's chain.
CREATE INDEX audit_records_kind_time ON audit_records (org_id, kind, ts_ms, seq);
