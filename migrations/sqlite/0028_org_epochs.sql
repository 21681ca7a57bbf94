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

CREATE TRIGGER audit_records_guard BEFORE INSERT ON audit_records
WHEN NEW.guard_epoch IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'arx: stale configuration')
    WHERE NEW.guard_epoch IS NOT COALESCE((SELECT epoch FROM org_epochs WHERE org_id = NEW.org_id), 0);
END;

CREATE TRIGGER orgs_epoch_insert AFTER INSERT ON orgs BEGIN
    INSERT INTO org_epochs (org_id, epoch) VALUES (NEW.id, 1)
    ON CONFLICT (org_id) DO UPDATE SET epoch = epoch + 1;
END;
CREATE TRIGGER orgs_epoch_update AFTER UPDATE ON orgs BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id = NEW.id;
END;

CREATE TRIGGER agents_epoch_insert AFTER INSERT ON agents BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER agents_epoch_update AFTER UPDATE ON agents BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id IN (OLD.org_id, NEW.org_id);
END;
CREATE TRIGGER agents_epoch_delete AFTER DELETE ON agents BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id = OLD.org_id;
END;

CREATE TRIGGER agent_keys_epoch_insert AFTER INSERT ON agent_keys BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER agent_keys_epoch_update AFTER UPDATE OF org_id, agent_id, hash, revoked_ms ON agent_keys BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id IN (OLD.org_id, NEW.org_id);
END;
CREATE TRIGGER agent_keys_epoch_delete AFTER DELETE ON agent_keys BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id = OLD.org_id;
END;

CREATE TRIGGER instances_epoch_insert AFTER INSERT ON instances BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER instances_epoch_update AFTER UPDATE ON instances BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id IN (OLD.org_id, NEW.org_id);
END;
CREATE TRIGGER instances_epoch_delete AFTER DELETE ON instances BEGIN
    UPDATE org_epochs SET epoch = epoch + 1 WHERE org_id = OLD.org_id;
END;
