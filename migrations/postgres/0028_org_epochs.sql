-- Each org's configuration epoch (issue 14): bumped, in the same transaction, by every
-- change to what a governed call is decided on (the org's row, its agents, their keys,
-- its connector instances), so replicas can keep those rows in memory. A call decided on
-- rows read at epoch N writes its intercept record with `guard_epoch = N`; the guard
-- below refuses the insert if the epoch has moved since, and the call is decided again
-- on fresh rows. A key's `last_used_ms` (bookkeeping, kept to the hour) does not count.
CREATE TABLE org_epochs (
    org_id TEXT PRIMARY KEY,
    epoch  BIGINT NOT NULL
);
INSERT INTO org_epochs (org_id, epoch) SELECT id, 1 FROM orgs;

-- The configuration epoch a record's call was decided at (intercept records only).
ALTER TABLE audit_records ADD COLUMN guard_epoch BIGINT;

CREATE FUNCTION audit_records_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.guard_epoch IS DISTINCT FROM
       COALESCE((SELECT epoch FROM org_epochs WHERE org_id = NEW.org_id), 0) THEN
        RAISE EXCEPTION 'arx: stale configuration';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_records_guard BEFORE INSERT ON audit_records
FOR EACH ROW WHEN (NEW.guard_epoch IS NOT NULL) EXECUTE FUNCTION audit_records_guard();

-- The org named by the trigger's argument (`id` on orgs, `org_id` elsewhere), before
-- and after the change, moves to its next epoch, and replicas hear of it on
-- `arx_config` (a hint to drop what they keep of it; the epoch is what makes it exact).
CREATE FUNCTION bump_org_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o TEXT;
BEGIN
    FOREACH o IN ARRAY ARRAY[
        CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) ->> TG_ARGV[0] END,
        CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) ->> TG_ARGV[0] END]
    LOOP
        IF o IS NOT NULL THEN
            INSERT INTO org_epochs (org_id, epoch) VALUES (o, 1)
            ON CONFLICT (org_id) DO UPDATE SET epoch = org_epochs.epoch + 1;
            PERFORM pg_notify('arx_config', o);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER orgs_epoch AFTER INSERT OR UPDATE OR DELETE ON orgs
FOR EACH ROW EXECUTE FUNCTION bump_org_epoch('id');
CREATE TRIGGER agents_epoch AFTER INSERT OR UPDATE OR DELETE ON agents
FOR EACH ROW EXECUTE FUNCTION bump_org_epoch('org_id');
CREATE TRIGGER agent_keys_epoch AFTER INSERT OR UPDATE OF org_id, agent_id, hash, revoked_ms OR DELETE ON agent_keys
FOR EACH ROW EXECUTE FUNCTION bump_org_epoch('org_id');
CREATE TRIGGER instances_epoch AFTER INSERT OR UPDATE OR DELETE ON instances
FOR EACH ROW EXECUTE FUNCTION bump_org_epoch('org_id');
