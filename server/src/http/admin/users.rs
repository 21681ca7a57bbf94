//! `/v1/admin/users`: the org's users, their approver groups, the groups they are members
//! of, their sessions, deactivation, and the Slack member each is linked to (who may press
//! Approve in Slack as them). `/v1/admin/group-mappings`: what each group gives its members.
//! `/v1/admin/sessions/{key}`: ending a session.

use arx_core::ids::UserId;
use arx_core::model::{GroupMapping, Role, User, UserView};
use arx_core::store::SessionInfo;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, JsonBody, QueryParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users))
        .routes(routes!(set_groups))
        .routes(routes!(set_member_of))
        .routes(routes!(deactivate))
        .routes(routes!(reactivate))
        .routes(routes!(sessions_of))
        .routes(routes!(end_session))
        .routes(routes!(
            group_mappings,
            set_group_mapping,
            delete_group_mapping
        ))
        .routes(routes!(link_slack))
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    users: Vec<UserView>,
}

/// The org's users, each with the roles and approver groups they hold now (their own and
/// their groups' mapped ones) and their live console sessions.
#[utoipa::path(get, path = "/v1/admin/users", tag = "users", security(("adminToken" = [])),
    responses((status = 200, description = "The users", body = UserList)))]
async fn users(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<UserList>> {
    Ok(Json(UserList {
        users: s.engine.reader(&p).user_views().await?,
    }))
}

/// The groups a user is a member of in ARX itself (`local`); memberships an IdP or SCIM
/// sends are theirs to change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"groups": ["Okta-SecOps-Leads"]}))]
pub struct MemberOf {
    groups: Vec<String>,
}

/// Sets the local groups a user is a member of (admins). Their rights follow at their
/// next request.
#[utoipa::path(put, path = "/v1/admin/users/{id}/member-of", tag = "users", security(("adminToken" = [])),
    params(("id" = UserId, Path)),
    request_body = MemberOf,
    responses(
        (status = 200, description = "Set", body = UserChanged),
        (status = 400, description = "A group name is empty, too long or has control characters", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in the org", body = ErrorBody),
    ))]
async fn set_member_of(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<UserId>,
    JsonBody(g): JsonBody<MemberOf>,
) -> ApiResult<Json<UserChanged>> {
    let user = s.engine.admin(&p)?.set_member_of(id, &g.groups).await?;
    Ok(Json(UserChanged { user }))
}

/// Deactivates a user (admins): they can no longer sign in, and at once their console
/// sessions end, their API tokens are revoked, and their group memberships and approver
/// groups are removed, so votes they cast on open requests stop counting. Recorded.
#[utoipa::path(post, path = "/v1/admin/users/{id}/deactivate", tag = "users", security(("adminToken" = [])),
    params(("id" = UserId, Path)),
    responses(
        (status = 200, description = "Deactivated", body = UserChanged),
        (status = 400, description = "Your own account", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in the org", body = ErrorBody),
        (status = 409, description = "Already deactivated", body = ErrorBody),
    ))]
async fn deactivate(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Json<UserChanged>> {
    let user = s.engine.admin(&p)?.deactivate_user(id).await?;
    Ok(Json(UserChanged { user }))
}

/// Lets a deactivated user sign in again (admins), with no groups and no tokens.
#[utoipa::path(post, path = "/v1/admin/users/{id}/reactivate", tag = "users", security(("adminToken" = [])),
    params(("id" = UserId, Path)),
    responses(
        (status = 200, description = "Reactivated", body = UserChanged),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in the org", body = ErrorBody),
        (status = 409, description = "Already active", body = ErrorBody),
    ))]
async fn reactivate(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Json<UserChanged>> {
    let user = s.engine.admin(&p)?.reactivate_user(id).await?;
    Ok(Json(UserChanged { user }))
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    sessions: Vec<SessionInfo>,
}

/// A user's live console sessions (admins): when each began and was last used, and from
/// which address. A session's `key` is the SHA-256 of its cookie: it ends the session
/// but cannot be used to sign in.
#[utoipa::path(get, path = "/v1/admin/users/{id}/sessions", tag = "users", security(("adminToken" = [])),
    params(("id" = UserId, Path)),
    responses(
        (status = 200, description = "The sessions, last used first", body = SessionList),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in the org", body = ErrorBody),
    ))]
async fn sessions_of(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<UserId>,
) -> ApiResult<Json<SessionList>> {
    Ok(Json(SessionList {
        sessions: s.engine.admin(&p)?.sessions_of(id).await?,
    }))
}

/// Ends a console session of the org (admins); its user's next click goes to the sign-in
/// page. Recorded.
#[utoipa::path(delete, path = "/v1/admin/sessions/{key}", tag = "users", security(("adminToken" = [])),
    params(("key" = String, Path, description = "The session's key, as listed")),
    responses(
        (status = 204, description = "Ended"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such session in the org", body = ErrorBody),
    ))]
async fn end_session(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    s.engine.admin(&p)?.end_session(&key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MappingList {
    mappings: Vec<GroupMapping>,
}

/// What each group gives its members: a role, approver groups, or both.
#[utoipa::path(get, path = "/v1/admin/group-mappings", tag = "users", security(("adminToken" = [])),
    responses((status = 200, description = "The mappings, by group", body = MappingList)))]
async fn group_mappings(
    State(s): State<AppState>,
    Caller(p, _): Caller,
) -> ApiResult<Json<MappingList>> {
    Ok(Json(MappingList {
        mappings: s.engine.reader(&p).group_mappings().await?,
    }))
}

/// A group's mapping: the group's name exactly as the directory sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"group": "Okta-SecOps-Leads", "role": "reviewer", "approver_groups": ["secops-leads"]}))]
pub struct MappingBody {
    group: String,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    approver_groups: Vec<String>,
}

/// Maps a group to a role, approver groups or both, replacing its mapping (admins;
/// recorded). Every member's rights change at their next request.
#[utoipa::path(put, path = "/v1/admin/group-mappings", tag = "users", security(("adminToken" = [])),
    request_body = MappingBody,
    responses(
        (status = 200, description = "Set", body = GroupMapping),
        (status = 400, description = "A bad group name, an unknown role, or a mapping that gives nothing", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn set_group_mapping(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(m): JsonBody<MappingBody>,
) -> ApiResult<Json<GroupMapping>> {
    let m = s
        .engine
        .admin(&p)?
        .set_group_mapping(&m.group, m.role, m.approver_groups)
        .await?;
    Ok(Json(m))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupParam {
    /// The group whose mapping to remove.
    #[param(example = "Okta-SecOps-Leads")]
    group: String,
}

/// Removes a group's mapping (admins; recorded): its members lose what it gave them at
/// their next request.
#[utoipa::path(delete, path = "/v1/admin/group-mappings", tag = "users", security(("adminToken" = [])),
    params(GroupParam),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "The group has no mapping", body = ErrorBody),
    ))]
async fn delete_group_mapping(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<GroupParam>,
) -> ApiResult<StatusCode> {
    s.engine.admin(&p)?.delete_group_mapping(&q.group).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct UserChanged {
    user: User,
}

/// The approver groups a user belongs to (an ESCALATE rule names the groups that decide).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"groups": ["soc-leads"]}))]
pub struct Groups {
    groups: Vec<String>,
}

/// Sets a user's approver groups (admins).
#[utoipa::path(put, path = "/v1/admin/users/{id}/groups", tag = "users", security(("adminToken" = [])),
    params(("id" = UserId, Path)),
    request_body = Groups,
    responses(
        (status = 200, description = "Set", body = UserChanged),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn set_groups(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<UserId>,
    JsonBody(g): JsonBody<Groups>,
) -> ApiResult<Json<UserChanged>> {
    let user = s.engine.admin(&p)?.set_user_groups(id, g.groups).await?;
    Ok(Json(UserChanged { user }))
}

/// The Slack member whose button presses count as this user's; `null` unlinks.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"slack_user_id": "U0123ABCD"}))]
pub struct SlackLink {
    /// Required: a missing field is a mistake, `null` is how to unlink.
    #[serde(deserialize_with = "Option::deserialize")]
    #[schema(pattern = "^[UW][A-Z0-9]{2,31}$", required)]
    slack_user_id: Option<String>,
}

/// Links a user to a Slack member, or unlinks (admins).
#[utoipa::path(put, path = "/v1/admin/users/{id}/slack", tag = "users", security(("adminToken" = [])),
    params(("id" = UserId, Path)),
    request_body = SlackLink,
    responses(
        (status = 200, description = "Linked or unlinked", body = UserChanged),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Another user is linked to that Slack member", body = ErrorBody),
    ))]
async fn link_slack(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<UserId>,
    JsonBody(l): JsonBody<SlackLink>,
) -> ApiResult<Json<UserChanged>> {
    let user = s
        .engine
        .admin(&p)?
        .link_slack_user(id, l.slack_user_id.as_deref())
        .await?;
    Ok(Json(UserChanged { user }))
}
