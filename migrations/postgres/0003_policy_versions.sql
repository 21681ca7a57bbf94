-- Policy versions (PostgreSQL; same meaning as migrations/sqlite). Every change to an org's
-- policy (thresholds, defaults, rules) is a new immutable row; orgs.policy_version names
-- the one in force (0: the built-in defaults).

ALTER TABLE orgs DROP COLUMN settings;
ALTER TABLE orgs ADD COLUMN policy_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE policy_versions (
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    version    BIGINT NOT NULL,
    doc        TEXT NOT NULL,
    author_id  TEXT,
    author     TEXT NOT NULL,
    message    TEXT NOT NULL,
    summary    TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (org_id, version)
);

CREATE FUNCTION policy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'policy versions are immutable';
END
$$;
CREATE TRIGGER policy_versions_no_update_delete BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_versions_immutable();
