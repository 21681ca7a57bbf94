//! Single sign-on: each org's OIDC settings (the client secret sealed) and SAML settings
//! (with the IdP's metadata), the sign-ins in progress, and the SAML assertions consumed.

use async_trait::async_trait;
use serde_json::Value;

use super::StoreResult;
use crate::ids::OrgId;
use crate::model::{OidcSettings, SamlSettings};

/// An org's OIDC settings as stored: the secret sealed under the org's data key.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOidc {
    pub settings: OidcSettings,
    pub sealed_secret: Option<String>,
}

/// An org's SAML settings as stored, with the IdP's metadata document they were read from.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSaml {
    pub settings: SamlSettings,
    pub idp_metadata: String,
}

/// A sign-in in progress, under the SHA-256 of its `state`.
#[derive(Debug, Clone, PartialEq)]
pub struct SsoLogin {
    pub state_hash: String,
    pub org_id: OrgId,
    /// `oidc` or `saml`.
    pub protocol: String,
    pub data: Value,
    pub expires_ms: i64,
}

#[async_trait]
pub trait SsoStore: Send + Sync {
    async fn oidc_settings(&self, org: OrgId) -> StoreResult<Option<StoredOidc>>;
    async fn put_oidc_settings(&self, org: OrgId, s: &StoredOidc) -> StoreResult<()>;
    /// Every org's OIDC settings (for the sign-in page's buttons).
    async fn oidc_orgs(&self) -> StoreResult<Vec<(OrgId, OidcSettings)>>;
    /// Stores a sign-in in progress (sweeping expired ones first); `false` when the org
    /// already has `max_pending` in progress.
    async fn sso_login_put(&self, l: &SsoLogin, now_ms: i64, max_pending: i64)
    -> StoreResult<bool>;
    async fn saml_settings(&self, org: OrgId) -> StoreResult<Option<StoredSaml>>;
    async fn put_saml_settings(&self, org: OrgId, s: &StoredSaml) -> StoreResult<()>;
    /// Every org's SAML settings (for the sign-in page's buttons).
    async fn saml_orgs(&self) -> StoreResult<Vec<(OrgId, SamlSettings)>>;
    /// Marks an assertion id consumed until `expires_ms` (sweeping expired ones first);
    /// `false` when it was consumed already.
    async fn saml_assertion_once(
        &self,
        org: OrgId,
        assertion_id: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> StoreResult<bool>;
    /// Takes (deletes and returns) the sign-in with this state hash: it works once.
    async fn sso_login_take(&self, state_hash: &str) -> StoreResult<Option<SsoLogin>>;
}
