//! People and how they prove who they are: users (with their groups and Slack links),
//! admin API tokens, console sessions.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{OrgId, TokenId, UserId};
use crate::model::{ApiToken, GroupMapping, Source, User};

/// A console session as the engine writes it: the session layer's opaque data, and the
/// user it belongs to once signed in.
#[derive(Debug, Clone)]
pub struct SessionWrite<'a> {
    pub data: &'a [u8],
    pub expires_ms: i64,
    pub owner: Option<(OrgId, UserId)>,
    pub client: Option<String>,
    pub now_ms: i64,
}

/// A stored session, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub data: Vec<u8>,
    pub org_id: Option<OrgId>,
    pub created_ms: i64,
    pub last_seen_ms: i64,
}

/// A signed-in session as its user and admins see it (never its data or cookie).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SessionInfo {
    /// The session's key: the SHA-256 of its cookie's id (the cookie cannot be rebuilt from it).
    pub key: String,
    pub user_id: UserId,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub expires_ms: i64,
    pub client: Option<String>,
}

/// Per-org session lifetimes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"idle_minutes": 60, "absolute_minutes": 720}))]
pub struct SessionSettings {
    /// A session ends after this many minutes without a request.
    pub idle_minutes: i64,
    /// A session ends this many minutes after sign-in, however busy.
    pub absolute_minutes: i64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_minutes: 12 * 60,
            absolute_minutes: 24 * 60,
        }
    }
}

/// What deactivating a user ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deactivated {
    pub sessions_ended: u64,
    pub tokens_revoked: u64,
    pub groups_removed: Vec<String>,
}

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

    // Groups and what they give
    /// Replaces the user's memberships from `source`; `false` when no such user.
    async fn set_member_of(
        &self,
        org: OrgId,
        user: UserId,
        source: Source,
        groups: &[String],
    ) -> StoreResult<bool>;
    async fn group_mappings(&self, org: OrgId) -> StoreResult<Vec<GroupMapping>>;
    /// Inserts or replaces the mapping of `m.group`.
    async fn put_group_mapping(&self, org: OrgId, m: &GroupMapping) -> StoreResult<()>;
    /// `false` when the group had no mapping.
    async fn delete_group_mapping(&self, org: OrgId, group: &str) -> StoreResult<bool>;

    // The account's life
    /// Notes a sign-in.
    async fn user_signed_in(&self, org: OrgId, user: UserId, now_ms: i64) -> StoreResult<()>;
    /// In one transaction: marks the user inactive, deletes their sessions, revokes their
    /// tokens, removes their group memberships and approver groups. `None` when no such
    /// active user.
    async fn deactivate_user(
        &self,
        org: OrgId,
        user: UserId,
        now_ms: i64,
    ) -> StoreResult<Option<Deactivated>>;
    /// `false` when no such inactive user.
    async fn reactivate_user(&self, org: OrgId, user: UserId) -> StoreResult<bool>;

    // Console sessions, keyed by the SHA-256 of the cookie's id
    /// Inserts a new session; `false` if the key is taken.
    async fn session_create(&self, key: &str, s: &SessionWrite<'_>) -> StoreResult<bool>;
    async fn session_load(&self, key: &str, now_ms: i64) -> StoreResult<Option<SessionRow>>;
    /// Updates a session; a session ended meanwhile stays ended (nothing is written).
    async fn session_save(&self, key: &str, s: &SessionWrite<'_>) -> StoreResult<()>;
    /// Notes a request on the session: it was seen at `now_ms` and now expires at
    /// `expires_ms`.
    async fn session_touch(&self, key: &str, now_ms: i64, expires_ms: i64) -> StoreResult<()>;
    async fn session_delete(&self, key: &str) -> StoreResult<()>;
    async fn session_delete_expired(&self, now_ms: i64) -> StoreResult<u64>;
    /// The live sessions of a user of the org, last seen first.
    async fn sessions_of(
        &self,
        org: OrgId,
        user: UserId,
        now_ms: i64,
    ) -> StoreResult<Vec<SessionInfo>>;
    /// How many live sessions each user of the org has.
    async fn session_counts(&self, org: OrgId, now_ms: i64) -> StoreResult<Vec<(UserId, i64)>>;
    /// Ends a session of the org (of `user` only, when given); the ended session's owner,
    /// `None` when there was no such session.
    async fn end_session(
        &self,
        org: OrgId,
        key: &str,
        user: Option<UserId>,
    ) -> StoreResult<Option<UserId>>;
    async fn session_settings(&self, org: OrgId) -> StoreResult<Option<SessionSettings>>;
    async fn put_session_settings(
        &self,
        org: OrgId,
        s: SessionSettings,
        now_ms: i64,
    ) -> StoreResult<()>;
}
