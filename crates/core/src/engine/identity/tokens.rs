//! Admin API tokens: issued to a user with an expiry (the server's default lifetime, or
//! shorter on request), stored hashed, listed without their secret, revoked at once.
//! Admins list and revoke every token of their org; other users only their own.

use super::super::Engine;
use super::accounts::{new_secret_token, token_hash};
use crate::access::Principal;
use crate::audit::event as ev;
use crate::audit::{Actor, format_ts};
use crate::error::CoreError;
use crate::ids::TokenId;
use crate::model::{ApiToken, User};

/// The default token lifetime when the server does not set one.
pub const DEFAULT_TOKEN_LIFETIME_DAYS: u32 = 90;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// A use is noted at most this often, so a busy token costs no write per call.
const TOUCH_EVERY_MS: i64 = 60_000;
/// Characters of the secret kept to recognise a token in lists (`arxu_` and 6 more).
const PREFIX_CHARS: usize = 11;

/// What a caller asks for when creating a token.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// Days until it expires; at most (and by default) the server's token lifetime.
    #[serde(default)]
    pub lifetime_days: Option<u32>,
}

impl Engine {
    /// The longest (and default) lifetime of a new token, in days.
    pub fn token_lifetime_days(&self) -> u32 {
        self.token_lifetime_days
    }

    /// Issues a token of the default lifetime to `user` (the demo, the first admin, tests).
    pub(crate) async fn issue_user_token(
        &self,
        user: &User,
        name: &str,
    ) -> Result<String, CoreError> {
        let by = Actor::user(user.id, &user.email);
        self.issue(user, name, self.token_lifetime_days, None, by)
            .await
            .map(|(_, secret)| secret)
    }

    /// Issues a token for the signed-in user; the secret is returned once. A token made
    /// with a token expires no later than the one that made it, so a leaked token cannot
    /// extend its own life.
    pub async fn create_token(
        &self,
        p: &Principal,
        new: &NewToken,
        via: Option<&ApiToken>,
    ) -> Result<(ApiToken, String), CoreError> {
        let max = self.token_lifetime_days;
        let days = new.lifetime_days.unwrap_or(max);
        if days == 0 || days > max {
            return Err(CoreError::InvalidField {
                field: "lifetime_days",
                message: format!("lifetime_days must be 1 to {max}"),
            });
        }
        let user = self.active_user(p, "your account is not active").await?;
        let by = Actor::user(p.user_id, &p.email);
        self.issue(&user, &new.name, days, via.map(|t| t.expires_ms), by)
            .await
    }

    async fn issue(
        &self,
        user: &User,
        name: &str,
        days: u32,
        not_after: Option<i64>,
        by: Actor,
    ) -> Result<(ApiToken, String), CoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(CoreError::InvalidField {
                field: "name",
                message: "name must be 1 to 100 characters".into(),
            });
        }
        let secret = new_secret_token("arxu_");
        let now = self.now_ms();
        let expires = now + i64::from(days) * DAY_MS;
        let token = ApiToken {
            id: TokenId::new(),
            org_id: user.org_id,
            user_id: user.id,
            user_email: user.email.clone(),
            name: name.to_string(),
            prefix: secret.chars().take(PREFIX_CHARS).collect(),
            created_ms: now,
            expires_ms: not_after.map_or(expires, |n| n.min(expires)),
            last_used_ms: None,
            revoked_ms: None,
        };
        self.store
            .create_api_token(&token, &token_hash(&secret))
            .await?;
        self.record(
            user.org_id,
            by,
            ev::TokenIssued {
                user_id: user.id,
                token_id: token.id,
                name: token.name.clone(),
                expires_at: Some(format_ts(token.expires_ms)),
            },
        )
        .await?;
        Ok((token, secret))
    }

    /// The principal behind an admin-API bearer token.
    pub async fn principal_from_token(&self, bearer: Option<&str>) -> Result<Principal, CoreError> {
        self.token_auth(bearer).await.map(|(p, _)| p)
    }

    /// The principal and the token behind a bearer token. Unknown, revoked, expired, or
    /// of an inactive user: 401 saying which, when that tells a holder what to do.
    pub async fn token_auth(
        &self,
        bearer: Option<&str>,
    ) -> Result<(Principal, ApiToken), CoreError> {
        let secret = bearer.ok_or_else(|| {
            CoreError::Unauthenticated(
                "send an admin token as 'Authorization: Bearer <token>'".into(),
            )
        })?;
        let unknown = || CoreError::Unauthenticated("the token is unknown or revoked".into());
        let (token, user) = self
            .store
            .api_token_by_hash(&token_hash(secret))
            .await?
            .ok_or_else(unknown)?;
        if token.revoked_ms.is_some() || !user.active {
            return Err(unknown());
        }
        let now = self.now_ms();
        if now >= token.expires_ms {
            return Err(CoreError::Unauthenticated(format!(
                "the token expired on {}; create a new one",
                format_ts(token.expires_ms)
            )));
        }
        self.store
            .touch_api_token(token.id, now, TOUCH_EVERY_MS)
            .await?;
        Ok((self.principal_for(&user).await?, token))
    }

    /// Tokens the principal may see: the org's for an admin, else their own.
    pub async fn list_tokens(&self, p: &Principal) -> Result<Vec<ApiToken>, CoreError> {
        let only = (!p.is_admin()).then_some(p.user_id);
        self.store.list_api_tokens(p.org_id, only).await
    }

    /// Revokes a token (any of the org's for an admin, else one's own); it stops working
    /// at once. Recorded.
    pub async fn revoke_token(&self, p: &Principal, id: TokenId) -> Result<(), CoreError> {
        let only = (!p.is_admin()).then_some(p.user_id);
        let revoked = self
            .store
            .revoke_api_token(p.org_id, id, only, self.now_ms())
            .await?;
        if !revoked {
            return Err(CoreError::NotFound(format!(
                "no active token {id} that you may revoke"
            )));
        }
        self.record(
            p.org_id,
            Actor::user(p.user_id, &p.email),
            ev::TokenRevoked { token_id: id },
        )
        .await?;
        Ok(())
    }
}
