-- Sealing the approval promise (issue 8).
-- A grant names the instance it covers and keeps the approval requirements it was
-- approved under, so it never turns an escalation that needs more into a permit.
-- Grants from before this migration have no instance: they cover nothing (fail closed).
ALTER TABLE grants ADD COLUMN instance_id TEXT;
ALTER TABLE grants ADD COLUMN requirements TEXT;
-- A running approved call beats its heartbeat; recovery fails only calls whose
-- heartbeat stopped, however long a live call takes.
ALTER TABLE approvals ADD COLUMN heartbeat_ms BIGINT;
