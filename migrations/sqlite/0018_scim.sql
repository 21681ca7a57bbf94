-- Identity, part two (issue 12): SCIM 2.0 provisioning.
--
-- A user's own role may now be empty (''): a directory user holds only what their groups'
-- mappings give them. (The column stays NOT NULL, as it was created.)
--
-- What a directory said about a user beyond ARX's own columns (userName is the email,
-- active is `users.active`): its externalId, the SCIM attributes kept as sent (name parts,
-- displayName, emails), and when it deleted the user. A deleted user stays in ARX,
-- deactivated, so the audit chain keeps naming them; SCIM no longer shows them.
CREATE TABLE scim_users (
    user_id     TEXT PRIMARY KEY REFERENCES users(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    external_id TEXT,
    attrs       TEXT NOT NULL,
    updated_ms  BIGINT NOT NULL,
    deleted_ms  BIGINT
);
CREATE INDEX scim_users_by_org ON scim_users (org_id);

-- Groups a directory pushed. Their members are `user_groups` rows with source 'scim' and
-- the group's display name, so rights follow them through the org's group mapping.
CREATE TABLE scim_groups (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    display_name TEXT NOT NULL,
    external_id  TEXT,
    created_ms   BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL,
    UNIQUE (org_id, display_name)
);

-- Bearer tokens a directory uses on /scim/v2, per org, stored hashed. They open SCIM
-- only: never the admin API, and an admin token never opens SCIM.
CREATE TABLE scim_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    hash         TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    name         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    last_used_ms BIGINT,
    revoked_ms   BIGINT
);
CREATE INDEX scim_tokens_by_org ON scim_tokens (org_id);
