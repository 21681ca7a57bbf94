-- Identity, part three (issue 12): sign-in through an org's OpenID Connect provider.
--
-- The org's OIDC settings (JSON: issuer, client id, scopes, groups claim, whether the
-- email must be verified and whether first sign-ins create accounts) and its client
-- secret sealed under the org's data key (write-only: never read back to a person).
CREATE TABLE oidc_settings (
    org_id        TEXT PRIMARY KEY REFERENCES orgs(id),
    settings      TEXT NOT NULL,
    sealed_secret TEXT,
    updated_ms    BIGINT NOT NULL
);

-- Sign-ins in progress (OIDC now, SAML later), under the SHA-256 of their `state`: what
-- the callback needs (nonce, PKCE verifier, the hash of the browser's binding cookie).
-- Taken (deleted) by the callback, so a state works once; expired ones are swept when a
-- new one is stored.
CREATE TABLE sso_logins (
    state_hash TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs(id),
    protocol   TEXT NOT NULL,
    data       TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX sso_logins_by_org ON sso_logins (org_id, expires_ms);
CREATE INDEX sso_logins_by_expiry ON sso_logins (expires_ms);
