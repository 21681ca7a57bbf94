//! The admin API of policy: the version in force (JSON or YAML), applying a new one
//! (YAML or JSON body, `?dry_run=true` to preview), editing one rule (add, change, move,
//! delete, each based on the version the admin read), versions, diffs, rollback, and
//! simulation jobs. Every change that makes a version needs a `reason`.

use arx_core::CoreError;
use arx_core::access::Principal;
use arx_core::engine::{ApplyOutcome, PolicyChange, SimRange};
use arx_core::ids::SimId;
use arx_core::policy::{PolicyDoc, Rule, RuleEdit};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Caller, IdPath, JsonBody, PolicyVersionNo, QueryParams};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/policy", get(current).put(apply))
        .route("/v1/admin/policy/versions", get(versions))
        .route("/v1/admin/policy/versions/{version}", get(version))
        .route("/v1/admin/policy/diff", get(diff))
        .route("/v1/admin/policy/rollback", post(rollback))
        .route("/v1/admin/policy/rules", post(add_rule))
        .route(
            "/v1/admin/policy/rules/{rule_id}",
            put(change_rule).delete(delete_rule),
        )
        .route("/v1/admin/policy/rules/{rule_id}/move", post(move_rule))
        .route(
            "/v1/admin/policy/simulations",
            get(simulations).post(simulate),
        )
        .route("/v1/admin/policy/simulations/{id}", get(simulation))
        .route("/v1/admin/policy/simulations/{id}/cancel", post(cancel))
}

/// How a policy is answered: JSON (the default) or `?format=yaml`; any other value is a
/// 400 listing these.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Format {
    #[default]
    Json,
    Yaml,
}

#[derive(Deserialize)]
struct FormatParams {
    #[serde(default)]
    format: Format,
}

fn yaml(text: String) -> Response {
    ([(CONTENT_TYPE, "application/yaml; charset=utf-8")], text).into_response()
}

async fn current(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(f): QueryParams<FormatParams>,
) -> ApiResult<Response> {
    let v = s.engine.reader(&p).policy().await?;
    if f.format == Format::Yaml {
        return Ok(yaml(v.doc.to_yaml()));
    }
    Ok(Json(json!({
        "version": v.version, "author": v.author, "created_ms": v.created_ms,
        "message": v.message, "policy": v.doc,
    }))
    .into_response())
}

#[derive(Deserialize)]
struct ApplyQuery {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    message: String,
    /// Why the policy changes; required unless `dry_run`.
    #[serde(default)]
    reason: String,
    /// The version the new policy was written from: refused (409) if another is in force.
    #[serde(default)]
    based_on: Option<i64>,
}

/// The answer to every change: the new version (or `null`), what changed, and warnings
/// about rules that can never be met.
fn outcome(out: &ApplyOutcome) -> Json<Value> {
    Json(json!({
        "version": out.version, "previous": out.previous, "dry_run": out.dry_run,
        "summary": out.diff.summary(), "diff": out.diff, "warnings": out.warnings,
    }))
}

fn parse_doc(body: &[u8]) -> Result<PolicyDoc, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| CoreError::InvalidRequest("the policy must be UTF-8 YAML or JSON".into()))?;
    PolicyDoc::from_yaml(text).map_err(|e| ApiError(CoreError::InvalidPolicy(e)))
}

/// `PUT /v1/admin/policy`: the body is the whole policy, as YAML or JSON.
async fn apply(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<ApplyQuery>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let admin = s.engine.admin(&p)?;
    let change = PolicyChange {
        message: q.message,
        reason: q.reason,
        based_on: q.based_on,
        dry_run: q.dry_run,
    };
    let out = admin.apply_policy(parse_doc(&body)?, change).await?;
    Ok(outcome(&out))
}

async fn versions(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Value>> {
    let list: Vec<Value> = s
        .engine
        .reader(&p)
        .policy_versions()
        .await?
        .into_iter()
        .map(|v| {
            json!({
                "version": v.version, "author": v.author, "created_ms": v.created_ms,
                "message": v.message, "summary": v.summary, "rules": v.doc.rules.len(),
            })
        })
        .collect();
    Ok(Json(json!({"versions": list})))
}

async fn version(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(PolicyVersionNo(version)): IdPath<PolicyVersionNo>,
    QueryParams(f): QueryParams<FormatParams>,
) -> ApiResult<Response> {
    let v = s.engine.reader(&p).policy_at(version).await?;
    if f.format == Format::Yaml {
        return Ok(yaml(v.doc.to_yaml()));
    }
    Ok(Json(json!({"version": v})).into_response())
}

#[derive(Deserialize)]
struct DiffQuery {
    from: i64,
    to: i64,
}

async fn diff(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<DiffQuery>,
) -> ApiResult<Json<Value>> {
    let d = s.engine.reader(&p).policy_diff(q.from, q.to).await?;
    Ok(Json(
        json!({"summary": d.summary(), "unified": d.unified(), "diff": d}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    version: i64,
    #[serde(default)]
    reason: String,
}

async fn rollback(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(b): JsonBody<RollbackBody>,
) -> ApiResult<Json<Value>> {
    let out = s
        .engine
        .admin(&p)?
        .rollback_policy(b.version, &b.reason)
        .await?;
    Ok(outcome(&out))
}

/// One rule edit by an admin, based on the version they read.
async fn edit_rules(
    s: &AppState,
    p: &Principal,
    based_on: i64,
    edit: RuleEdit,
    reason: &str,
) -> ApiResult<Json<Value>> {
    let out = s
        .engine
        .admin(p)?
        .edit_rules(based_on, edit, reason)
        .await?;
    Ok(outcome(&out))
}

/// `based_on` is required by every rule edit; the message says where to find it.
fn based_on(v: Option<i64>) -> Result<i64, ApiError> {
    v.ok_or_else(|| {
        ApiError(CoreError::InvalidRequest(
            "based_on is required: the policy version your edit starts from (the version of GET /v1/admin/policy)".into(),
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddRuleBody {
    #[serde(default)]
    based_on: Option<i64>,
    #[serde(default)]
    reason: String,
    rule: Rule,
    /// Where in evaluation order, from 0; absent: the rule keeps its own priority.
    #[serde(default)]
    position: Option<usize>,
}

/// `POST /v1/admin/policy/rules`: adds a rule.
async fn add_rule(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(b): JsonBody<AddRuleBody>,
) -> ApiResult<Json<Value>> {
    let edit = RuleEdit::Add {
        rule: b.rule,
        position: b.position,
    };
    edit_rules(&s, &p, based_on(b.based_on)?, edit, &b.reason).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeRuleBody {
    #[serde(default)]
    based_on: Option<i64>,
    #[serde(default)]
    reason: String,
    rule: Rule,
}

/// `PUT /v1/admin/policy/rules/{rule_id}`: replaces a rule (the new one may be renamed).
async fn change_rule(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ChangeRuleBody>,
) -> ApiResult<Json<Value>> {
    let edit = RuleEdit::Change { id, rule: b.rule };
    edit_rules(&s, &p, based_on(b.based_on)?, edit, &b.reason).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveRuleBody {
    #[serde(default)]
    based_on: Option<i64>,
    #[serde(default)]
    reason: String,
    /// The new position in evaluation order, from 0.
    to: usize,
}

/// `POST /v1/admin/policy/rules/{rule_id}/move`: moves a rule in evaluation order.
async fn move_rule(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<MoveRuleBody>,
) -> ApiResult<Json<Value>> {
    let edit = RuleEdit::Move { id, to: b.to };
    edit_rules(&s, &p, based_on(b.based_on)?, edit, &b.reason).await
}

/// A DELETE carries no body: `based_on` and `reason` are query parameters.
#[derive(Deserialize)]
struct DeleteRuleQuery {
    #[serde(default)]
    based_on: Option<String>,
    #[serde(default)]
    reason: String,
}

/// `DELETE /v1/admin/policy/rules/{rule_id}?based_on=N&reason=...`: deletes a rule.
async fn delete_rule(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<DeleteRuleQuery>,
) -> ApiResult<Json<Value>> {
    let version = match q.based_on.as_deref().map(str::parse::<i64>) {
        None => based_on(None)?,
        Some(Ok(v)) => v,
        Some(Err(_)) => {
            return Err(ApiError(CoreError::InvalidRequest(
                "based_on must be a policy version number".into(),
            )));
        }
    };
    edit_rules(&s, &p, version, RuleEdit::Delete { id }, &q.reason).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulateBody {
    /// The proposed policy as an object, or as YAML text.
    policy: Value,
    #[serde(default)]
    from_ms: Option<i64>,
    #[serde(default)]
    to_ms: Option<i64>,
}

async fn simulate(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(b): JsonBody<SimulateBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let doc = match &b.policy {
        Value::String(text) => parse_doc(text.as_bytes())?,
        other => parse_doc(other.to_string().as_bytes())?,
    };
    let range = SimRange {
        from_ms: b.from_ms,
        to_ms: b.to_ms,
    };
    let report = s.engine.admin(&p)?.start_simulation(doc, range).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"simulation": report}))))
}

async fn simulations(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"simulations": s.engine.reader(&p).simulations().await?}),
    ))
}

async fn simulation(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<SimId>,
) -> ApiResult<Json<Value>> {
    let r = s.engine.reader(&p).simulation(id).await?;
    Ok(Json(json!({"simulation": r, "percent": r.percent()})))
}

async fn cancel(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<SimId>,
) -> ApiResult<Json<Value>> {
    let r = s.engine.admin(&p)?.cancel_simulation(id).await?;
    Ok(Json(json!({"simulation": r})))
}
