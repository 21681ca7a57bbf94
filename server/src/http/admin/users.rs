//! `/v1/admin/users`: the org's users, their approver groups, and the Slack member each
//! is linked to (who may press Approve in Slack as them).

use arx_core::ids::UserId;
use arx_core::model::User;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, JsonBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users))
        .routes(routes!(set_groups))
        .routes(routes!(link_slack))
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    users: Vec<User>,
}

/// The org's users.
#[utoipa::path(get, path = "/v1/admin/users", tag = "users", security(("adminToken" = [])),
    responses((status = 200, description = "The users", body = UserList)))]
async fn users(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<UserList>> {
    Ok(Json(UserList {
        users: s.engine.reader(&p).users().await?,
    }))
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
