-- Identity, part four (issue 12): sign-in through an org's SAML 2.0 identity provider.
--
-- The org's SAML settings (JSON: whether it is on, where the metadata came from, the
-- IdP's entity id, sign-in URL and signing certificates' fingerprints, whether IdP-initiated
-- sign-in is allowed, the attribute names) and the IdP's metadata document as read (the
-- signing certificates every response is checked against come from it).
CREATE TABLE saml_settings (
    org_id       TEXT PRIMARY KEY REFERENCES orgs(id),
    settings     TEXT NOT NULL,
    idp_metadata TEXT NOT NULL,
    updated_ms   BIGINT NOT NULL
);

-- Assertion ids already consumed, kept until the assertion could no longer be accepted
-- anyway: a captured response cannot be posted twice. Expired ones are swept on insert.
CREATE TABLE saml_assertions (
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    assertion_id TEXT NOT NULL,
    expires_ms   BIGINT NOT NULL,
    PRIMARY KEY (org_id, assertion_id)
);
CREATE INDEX saml_assertions_by_expiry ON saml_assertions (expires_ms);
