//! People and how they prove who they are: users (with their groups and Slack links),
//! admin API tokens, console sessions.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{OrgId, TokenId, UserId};
use crate::model::{ApiToken, User};

#[async_trait]
pub trait IdentityStore: Send + Sync {
    // Users
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    /// Local accounts sign in by email, which is unique across orgs.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>>;
    async fn list_users(&self, org: OrgId) -> StoreResult<Vec<User>>;
    /// Links (or with `None` unlinks) a user's Slack user id; `false` when no such user.
    /// A Slack id already linked to another user of the org is a conflict.
    async fn set_user_slack(
        &self,
        org: OrgId,
        id: UserId,
        slack_user_id: Option<&str>,
    ) -> StoreResult<bool>;
    /// The user of `org` linked to this Slack user id.
    async fn user_by_slack(&self, org: OrgId, slack_user_id: &str) -> StoreResult<Option<User>>;
    async fn set_user_groups(&self, org: OrgId, id: UserId, groups: &[String])
    -> StoreResult<bool>;

    // API tokens
    /// Stores a token under the SHA-256 `hash` of its secret.
    async fn create_api_token(&self, token: &ApiToken, hash: &str) -> StoreResult<()>;
    /// The token with this hash and its user, revoked and expired ones included (the
    /// caller says why they no longer work).
    async fn api_token_by_hash(&self, hash: &str) -> StoreResult<Option<(ApiToken, User)>>;
    /// The org's tokens, newest first; only `user`'s when given.
    async fn list_api_tokens(&self, org: OrgId, user: Option<UserId>)
    -> StoreResult<Vec<ApiToken>>;
    /// Revokes a token of the org (of `user` only, when given); false when there is no
    /// such unrevoked token.
    async fn revoke_api_token(
        &self,
        org: OrgId,
        id: TokenId,
        user: Option<UserId>,
        now_ms: i64,
    ) -> StoreResult<bool>;
    /// Notes a use of the token, at most once per `every_ms`.
    async fn touch_api_token(&self, id: TokenId, now_ms: i64, every_ms: i64) -> StoreResult<()>;

    // Console sessions (opaque to the engine)
    /// Inserts a new session; `false` if the id is taken.
    async fn session_create(&self, id: &str, data: &[u8], expires_ms: i64) -> StoreResult<bool>;
    async fn session_load(&self, id: &str, now_ms: i64) -> StoreResult<Option<Vec<u8>>>;
    async fn session_save(&self, id: &str, data: &[u8], expires_ms: i64) -> StoreResult<()>;
    async fn session_delete(&self, id: &str) -> StoreResult<()>;
    async fn session_delete_expired(&self, now_ms: i64) -> StoreResult<u64>;
}
