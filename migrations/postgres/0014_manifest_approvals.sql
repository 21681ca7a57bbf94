-- Self-registration (issue 11): an agent's widening manifest waits for a reviewer as an
-- approval request of kind `manifest`, which is for no connector instance.
ALTER TABLE approvals ALTER COLUMN instance_id DROP NOT NULL;
