//! What a directory provisioned over SCIM: the attributes it sent for users, its groups,
//! and the tokens it uses.

use async_trait::async_trait;
use serde_json::Value;

use super::StoreResult;
use crate::ids::{GroupId, OrgId, TokenId, UserId};
use crate::model::User;

/// A user as SCIM sees them: the account and what the directory sent beyond it (empty
/// for a user made in ARX that no directory touched yet).
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUser {
    pub user: User,
    pub external_id: Option<String>,
    /// The SCIM attributes kept as sent (`userName`, `name`, `displayName`, `title`,
    /// `emails`); `{}` when none were.
    pub attrs: Value,
    pub updated_ms: i64,
}

/// A directory's write of a user: a new account, or new values for one.
#[derive(Debug, Clone)]
pub struct ScimUserWrite<'a> {
    /// The account as it is to be (its `active` is not written here: deactivation has
    /// its own transaction, which ends everything the account held).
    pub user: &'a User,
    pub create: bool,
    pub external_id: Option<&'a str>,
    pub attrs: &'a Value,
    pub now_ms: i64,
}

/// A member of a SCIM group.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimMember {
    pub user_id: UserId,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroup {
    pub id: GroupId,
    pub org_id: OrgId,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub members: Vec<ScimMember>,
}

/// A directory's SCIM bearer token, listed without its secret.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ScimToken {
    pub id: TokenId,
    pub org_id: OrgId,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    /// The email of the admin who created it.
    pub created_by: String,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

#[async_trait]
pub trait ScimStore: Send + Sync {
    async fn scim_token_create(&self, t: &ScimToken, hash: &str) -> StoreResult<()>;
    async fn scim_tokens(&self, org: OrgId) -> StoreResult<Vec<ScimToken>>;
    /// `false` when the org has no such unrevoked token.
    async fn scim_token_revoke(&self, org: OrgId, id: TokenId, now_ms: i64) -> StoreResult<bool>;
    async fn scim_token_by_hash(&self, hash: &str) -> StoreResult<Option<ScimToken>>;
    async fn scim_token_touch(&self, id: TokenId, now_ms: i64) -> StoreResult<()>;

    /// The org's users SCIM sees (not the break-glass account, not those a directory
    /// deleted), by email when `email` is given.
    async fn scim_users(&self, org: OrgId, email: Option<&str>) -> StoreResult<Vec<ScimUser>>;
    async fn scim_user(&self, org: OrgId, id: UserId) -> StoreResult<Option<ScimUser>>;
    /// The org's user with this email that a directory deleted (to bring back on a create).
    async fn scim_deleted_user(&self, org: OrgId, email: &str) -> StoreResult<Option<UserId>>;
    /// Creates or updates the account and its SCIM attributes in one transaction, and
    /// clears a deletion. A taken email is a `Conflict`.
    async fn scim_user_write(&self, w: &ScimUserWrite<'_>) -> StoreResult<()>;
    /// Marks a user deleted by the directory; `false` when no such visible user.
    async fn scim_user_delete(&self, org: OrgId, id: UserId, now_ms: i64) -> StoreResult<bool>;

    async fn scim_groups(&self, org: OrgId) -> StoreResult<Vec<ScimGroup>>;
    async fn scim_group(&self, org: OrgId, id: GroupId) -> StoreResult<Option<ScimGroup>>;
    /// Creates (`previous` `None`) or replaces a group and its members in one transaction.
    /// A replace applies only if the group is still at `previous.updated_ms` (else
    /// `Conflict`, and the caller reads it again); renaming moves its memberships. A
    /// taken name is a `Conflict`.
    async fn scim_group_write(
        &self,
        group: &ScimGroup,
        previous: Option<&ScimGroup>,
    ) -> StoreResult<()>;
    /// Deletes a group and its memberships; `false` when no such group.
    async fn scim_group_delete(&self, org: OrgId, id: GroupId) -> StoreResult<bool>;
}
