-- Identity, part one (issue 12): rights that follow groups, sessions that belong to a
-- user, and the break-glass account.
--
-- Where a user came from, when they last signed in, and whether they are the org's
-- bootstrap admin (the local break-glass account, whose every sign-in the Overview shows).
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE users ADD COLUMN last_login_ms BIGINT;
ALTER TABLE users ADD COLUMN break_glass BIGINT NOT NULL DEFAULT 0;
-- The first admin of each org with a password is its bootstrap admin.
UPDATE users SET break_glass = 1
WHERE password_hash IS NOT NULL AND role = 'admin'
  AND created_ms = (SELECT MIN(o.created_ms) FROM users o
                    WHERE o.org_id = users.org_id AND o.role = 'admin' AND o.password_hash IS NOT NULL);

-- The groups a user is a member of, by where the membership came from (set by an admin,
-- or later an IdP's claim or SCIM). Rights are computed from these at every request.
CREATE TABLE user_groups (
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    user_id    TEXT NOT NULL REFERENCES users(id),
    group_name TEXT NOT NULL,
    source     TEXT NOT NULL,
    PRIMARY KEY (user_id, source, group_name)
);
CREATE INDEX user_groups_by_group ON user_groups (org_id, group_name);

-- What a group gives its members: a role, approver groups, or both.
CREATE TABLE group_mappings (
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    group_name      TEXT NOT NULL,
    role            TEXT,
    approver_groups TEXT NOT NULL,
    updated_ms      BIGINT NOT NULL,
    PRIMARY KEY (org_id, group_name)
);

-- Per-org session lifetimes (defaults in code when no row).
CREATE TABLE session_settings (
    org_id           TEXT PRIMARY KEY REFERENCES orgs(id),
    idle_minutes     BIGINT NOT NULL,
    absolute_minutes BIGINT NOT NULL,
    updated_ms       BIGINT NOT NULL
);

-- A session now belongs to a user, so ending every session of a user is one statement,
-- and a user can list theirs. Its key is the SHA-256 of the cookie's id, so the table
-- cannot be used to sign in. Sessions from before cannot be keyed so: they end.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN org_id TEXT;
ALTER TABLE sessions ADD COLUMN user_id TEXT;
ALTER TABLE sessions ADD COLUMN created_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_seen_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN client TEXT;
CREATE INDEX sessions_by_user ON sessions (user_id);
