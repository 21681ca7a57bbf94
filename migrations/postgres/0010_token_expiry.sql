-- Admin API tokens get an id (to list and revoke them without their secret), the first
-- characters of the secret (to recognise one), an expiry and a last-used time.
-- Tokens issued before this migration expire 90 days after it ran (not after their
-- creation), so automation that uses them does not stop on the day of the upgrade; their
-- id is derived from their hash (which reveals nothing of the secret) and prefix is empty.

ALTER TABLE api_tokens ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN last_used_ms BIGINT;

UPDATE api_tokens SET
    id = substr(hash, 1, 8) || '-' || substr(hash, 9, 4) || '-' || substr(hash, 13, 4) || '-'
         || substr(hash, 17, 4) || '-' || substr(hash, 21, 12),
    expires_ms = (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT + 7776000000;

CREATE UNIQUE INDEX api_tokens_id ON api_tokens (id);
CREATE INDEX api_tokens_by_user ON api_tokens (org_id, user_id);
