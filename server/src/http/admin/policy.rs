//! The admin API of policy: the version in force (JSON or YAML), applying a new one
//! (YAML or JSON body, `?dry_run=true` to preview), editing one rule (add, change, move,
//! delete, each based on the version the admin read), versions, diffs, rollback, and
//! simulation jobs. Every change that makes a version needs a `reason`.

use arx_core::CoreError;
use arx_core::access::Principal;
use arx_core::engine::{ApplyOutcome, PolicyChange, SimRange, SimulationReport};
use arx_core::ids::SimId;
use arx_core::model::PolicyVersion;
use arx_core::policy::{PolicyDiff, PolicyDoc, Rule, RuleEdit};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{Caller, IdPath, JsonBody, PolicyVersionNo, QueryParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current, apply))
        .routes(routes!(versions))
        .routes(routes!(version))
        .routes(routes!(diff))
        .routes(routes!(rollback))
        .routes(routes!(add_rule))
        .routes(routes!(change_rule, delete_rule))
        .routes(routes!(move_rule))
        .routes(routes!(simulations, simulate))
        .routes(routes!(simulation))
        .routes(routes!(cancel))
}

/// A small policy, as the examples of this API show it.
fn example_policy() -> Value {
    serde_json::json!({
        "settings": {"review_threshold": 50, "deny_threshold": 90},
        "rules": [{"id": "contain-needs-review", "when": "crowdstrike.hosts:contain",
            "then": "ESCALATE", "approvers": ["soc-leads"]}]
    })
}

/// How a policy is answered: JSON (the default) or `?format=yaml`; any other value is a
/// 400 listing these.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Format {
    #[default]
    Json,
    Yaml,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct FormatParams {
    /// `yaml` answers the policy as YAML text.
    #[serde(default)]
    #[param(inline)]
    format: Format,
}

fn yaml(text: String) -> Response {
    ([(CONTENT_TYPE, "application/yaml; charset=utf-8")], text).into_response()
}

/// The policy in force.
#[derive(Serialize, ToSchema)]
pub struct CurrentPolicy {
    version: i64,
    author: String,
    created_ms: i64,
    message: String,
    policy: PolicyDoc,
}

/// The policy in force: JSON, or YAML with `?format=yaml`.
#[utoipa::path(get, path = "/v1/admin/policy", tag = "policy", security(("adminToken" = [])),
    params(FormatParams),
    responses((status = 200, description = "The policy",
        content((CurrentPolicy = "application/json"), (String = "application/yaml")))))]
async fn current(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(f): QueryParams<FormatParams>,
) -> ApiResult<Response> {
    let v = s.engine.reader(&p).policy().await?;
    if f.format == Format::Yaml {
        return Ok(yaml(v.doc.to_yaml()));
    }
    Ok(Json(CurrentPolicy {
        version: v.version,
        author: v.author,
        created_ms: v.created_ms,
        message: v.message,
        policy: v.doc,
    })
    .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ApplyQuery {
    /// Only compare and validate; nothing is saved.
    #[serde(default)]
    dry_run: bool,
    /// A title for the version.
    #[serde(default)]
    #[param(example = "contain needs review")]
    message: String,
    /// Why the policy changes; required unless `dry_run`; kept in the
    /// `policy.version_created` audit record.
    #[serde(default)]
    #[param(max_length = 500, example = "containment needs a second pair of eyes")]
    reason: String,
    /// The version the new policy was written from: refused (409) if another is in force.
    #[serde(default)]
    based_on: Option<i64>,
}

/// The answer to every change: the new version (or `null`), what changed, and warnings
/// about rules that can never be met.
#[derive(Serialize, ToSchema)]
pub struct Outcome {
    /// The new version; `null` for a dry run or when nothing changed.
    version: Option<i64>,
    /// The version it was compared with.
    previous: i64,
    dry_run: bool,
    summary: String,
    diff: PolicyDiff,
    warnings: Vec<String>,
}

fn outcome(out: ApplyOutcome) -> Json<Outcome> {
    Json(Outcome {
        version: out.version,
        previous: out.previous,
        dry_run: out.dry_run,
        summary: out.diff.summary(),
        diff: out.diff,
        warnings: out.warnings,
    })
}

fn parse_doc(body: &[u8]) -> Result<PolicyDoc, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| CoreError::InvalidRequest("the policy must be UTF-8 YAML or JSON".into()))?;
    // An empty body is a mistake, never "a policy without rules".
    if text.trim().is_empty() {
        return Err(ApiError(CoreError::InvalidRequest(
            "the body is empty: send the whole policy, as YAML or JSON".into(),
        )));
    }
    PolicyDoc::from_yaml(text).map_err(|e| ApiError(CoreError::InvalidPolicy(e)))
}

/// Validates a whole policy (YAML or JSON) and applies it as the next version (admins).
#[utoipa::path(put, path = "/v1/admin/policy", tag = "policy", security(("adminToken" = [])),
    params(ApplyQuery),
    request_body(description = "The whole policy; docs/policy.md has the format",
        content((PolicyDoc = "application/json", example = example_policy),
            (PolicyDoc = "application/yaml"))),
    responses(
        (status = 200, description = "Applied (or compared, for a dry run)", body = Outcome),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Another version is in force than `based_on`", body = ErrorBody),
    ))]
async fn apply(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<ApplyQuery>,
    body: Bytes,
) -> ApiResult<Json<Outcome>> {
    let admin = s.engine.admin(&p)?;
    let change = PolicyChange {
        message: q.message,
        reason: q.reason,
        based_on: q.based_on,
        dry_run: q.dry_run,
    };
    let out = admin.apply_policy(parse_doc(&body)?, change).await?;
    Ok(outcome(out))
}

/// One version as lists show it.
#[derive(Serialize, ToSchema)]
pub struct VersionRow {
    version: i64,
    author: String,
    created_ms: i64,
    message: String,
    summary: String,
    /// How many rules it has.
    rules: usize,
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    versions: Vec<VersionRow>,
}

/// Every policy version, newest first.
#[utoipa::path(get, path = "/v1/admin/policy/versions", tag = "policy", security(("adminToken" = [])),
    responses((status = 200, description = "The versions", body = VersionList)))]
async fn versions(State(s): State<AppState>, Caller(p, _): Caller) -> ApiResult<Json<VersionList>> {
    let versions = s
        .engine
        .reader(&p)
        .policy_versions()
        .await?
        .into_iter()
        .map(|v| VersionRow {
            version: v.version,
            author: v.author,
            created_ms: v.created_ms,
            message: v.message,
            summary: v.summary,
            rules: v.doc.rules.len(),
        })
        .collect();
    Ok(Json(VersionList { versions }))
}

#[derive(Serialize, ToSchema)]
pub struct OneVersion {
    version: PolicyVersion,
}

/// One policy version: JSON, or its policy as YAML with `?format=yaml`.
#[utoipa::path(get, path = "/v1/admin/policy/versions/{version}", tag = "policy",
    security(("adminToken" = [])),
    params(("version" = i64, Path, minimum = 0, description = "0 is the built-in defaults"), FormatParams),
    responses((status = 200, description = "The version",
        content((OneVersion = "application/json"), (String = "application/yaml")))))]
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
    Ok(Json(OneVersion { version: v }).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DiffQuery {
    /// The older version.
    #[param(minimum = 0)]
    from: i64,
    /// The newer version.
    #[param(minimum = 0)]
    to: i64,
}

/// What changed from one version to another.
#[derive(Serialize, ToSchema)]
pub struct Diff {
    summary: String,
    /// The YAML of both, as a unified diff.
    unified: String,
    diff: PolicyDiff,
}

/// What changed between two versions.
#[utoipa::path(get, path = "/v1/admin/policy/diff", tag = "policy", security(("adminToken" = [])),
    params(DiffQuery),
    responses(
        (status = 200, description = "The difference", body = Diff),
        (status = 404, description = "No such version", body = ErrorBody),
    ))]
async fn diff(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    QueryParams(q): QueryParams<DiffQuery>,
) -> ApiResult<Json<Diff>> {
    let diff = s.engine.reader(&p).policy_diff(q.from, q.to).await?;
    Ok(Json(Diff {
        summary: diff.summary(),
        unified: diff.unified(),
        diff,
    }))
}

/// Which earlier version to apply again, and why.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"version": 1, "reason": "the new rules blocked the night shift"}))]
pub struct RollbackBody {
    #[schema(minimum = 0)]
    version: i64,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500, required)]
    reason: String,
}

/// Applies an earlier version's content as a new version (admins).
#[utoipa::path(post, path = "/v1/admin/policy/rollback", tag = "policy", security(("adminToken" = [])),
    request_body = RollbackBody,
    responses(
        (status = 200, description = "Applied", body = Outcome),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such version", body = ErrorBody),
    ))]
async fn rollback(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(b): JsonBody<RollbackBody>,
) -> ApiResult<Json<Outcome>> {
    let out = s
        .engine
        .admin(&p)?
        .rollback_policy(b.version, &b.reason)
        .await?;
    Ok(outcome(out))
}

/// One rule edit by an admin, based on the version they read.
async fn edit_rules(
    s: &AppState,
    p: &Principal,
    based_on: i64,
    edit: RuleEdit,
    reason: &str,
) -> ApiResult<Json<Outcome>> {
    let out = s
        .engine
        .admin(p)?
        .edit_rules(based_on, edit, reason)
        .await?;
    Ok(outcome(out))
}

/// `based_on` is required by every rule edit; the message says where to find it.
fn based_on(v: Option<i64>) -> Result<i64, ApiError> {
    v.ok_or_else(|| {
        ApiError(CoreError::InvalidRequest(
            "based_on is required: the policy version your edit starts from (the version of GET /v1/admin/policy)".into(),
        ))
    })
}

/// A rule to add, where, and why, based on the version the admin read.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"based_on": 1, "reason": "containment needs review",
    "rule": {"id": "contain-needs-review", "when": "crowdstrike.hosts:contain", "then": "ESCALATE"}}))]
pub struct AddRuleBody {
    /// The version the edit starts from (`GET /v1/admin/policy`); 409 if another is in force.
    #[serde(default)]
    #[schema(required)]
    based_on: Option<i64>,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500, required)]
    reason: String,
    rule: Rule,
    /// Where in evaluation order, from 0; absent: the rule keeps its own priority.
    #[serde(default)]
    position: Option<usize>,
}

/// Adds a rule (admins): a new version.
#[utoipa::path(post, path = "/v1/admin/policy/rules", tag = "policy", security(("adminToken" = [])),
    request_body = AddRuleBody,
    responses(
        (status = 200, description = "Added: the new version", body = Outcome),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Another version is in force than `based_on`, or the rule id is taken", body = ErrorBody),
    ))]
async fn add_rule(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(b): JsonBody<AddRuleBody>,
) -> ApiResult<Json<Outcome>> {
    let edit = RuleEdit::Add {
        rule: b.rule,
        position: b.position,
    };
    edit_rules(&s, &p, based_on(b.based_on)?, edit, &b.reason).await
}

/// The rule that replaces one (it may be renamed), and why.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"based_on": 1, "reason": "also page the on-call lead",
    "rule": {"id": "contain-needs-review", "when": "crowdstrike.hosts:contain", "then": "ESCALATE",
        "approvers": ["soc-leads"]}}))]
pub struct ChangeRuleBody {
    /// The version the edit starts from; 409 if another is in force.
    #[serde(default)]
    #[schema(required)]
    based_on: Option<i64>,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500, required)]
    reason: String,
    rule: Rule,
}

/// Replaces a rule (admins): a new version.
#[utoipa::path(put, path = "/v1/admin/policy/rules/{rule_id}", tag = "policy",
    security(("adminToken" = [])),
    params(("rule_id" = String, Path, description = "The rule's id")),
    request_body = ChangeRuleBody,
    responses(
        (status = 200, description = "Changed: the new version", body = Outcome),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Another version is in force than `based_on`", body = ErrorBody),
    ))]
async fn change_rule(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ChangeRuleBody>,
) -> ApiResult<Json<Outcome>> {
    let edit = RuleEdit::Change { id, rule: b.rule };
    edit_rules(&s, &p, based_on(b.based_on)?, edit, &b.reason).await
}

/// Where a rule moves in evaluation order, and why.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"based_on": 1, "reason": "check containment first", "to": 0}))]
pub struct MoveRuleBody {
    /// The version the edit starts from; 409 if another is in force.
    #[serde(default)]
    #[schema(required)]
    based_on: Option<i64>,
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500, required)]
    reason: String,
    /// The new position in evaluation order, from 0.
    to: usize,
}

/// Moves a rule in evaluation order (admins): a new version.
#[utoipa::path(post, path = "/v1/admin/policy/rules/{rule_id}/move", tag = "policy",
    security(("adminToken" = [])),
    params(("rule_id" = String, Path, description = "The rule's id")),
    request_body = MoveRuleBody,
    responses(
        (status = 200, description = "Moved: the new version", body = Outcome),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Another version is in force than `based_on`", body = ErrorBody),
    ))]
async fn move_rule(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<MoveRuleBody>,
) -> ApiResult<Json<Outcome>> {
    let edit = RuleEdit::Move { id, to: b.to };
    edit_rules(&s, &p, based_on(b.based_on)?, edit, &b.reason).await
}

/// A DELETE carries no body: `based_on` and `reason` are query parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DeleteRuleQuery {
    /// The version the edit starts from; 409 if another is in force.
    #[param(required = true, example = 1)]
    based_on: Option<i64>,
    #[serde(default)]
    #[param(
        required = true,
        min_length = 1,
        max_length = 500,
        example = "the rule is covered by another"
    )]
    reason: String,
}

/// Deletes a rule (admins): a new version.
#[utoipa::path(delete, path = "/v1/admin/policy/rules/{rule_id}", tag = "policy",
    security(("adminToken" = [])),
    params(("rule_id" = String, Path, description = "The rule's id"), DeleteRuleQuery),
    responses(
        (status = 200, description = "Deleted: the new version", body = Outcome),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Another version is in force than `based_on`", body = ErrorBody),
    ))]
async fn delete_rule(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<DeleteRuleQuery>,
) -> ApiResult<Json<Outcome>> {
    edit_rules(
        &s,
        &p,
        based_on(q.based_on)?,
        RuleEdit::Delete { id },
        &q.reason,
    )
    .await
}

/// A proposed policy to replay over past calls, and which calls.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"policy": {"rules": [{"id": "contain-needs-review",
    "when": "crowdstrike.hosts:contain", "then": "ESCALATE"}]}}))]
pub struct SimulateBody {
    /// The proposed policy as an object, or as YAML text.
    #[schema(value_type = Object)]
    policy: Value,
    /// From when (ms since the epoch); absent: the last 30 days.
    #[serde(default)]
    from_ms: Option<i64>,
    /// Until when; absent: now.
    #[serde(default)]
    to_ms: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Simulation {
    simulation: SimulationReport,
}

/// Starts a simulation (admins): the proposed policy replayed over past calls, in the
/// background; poll it by id.
#[utoipa::path(post, path = "/v1/admin/policy/simulations", tag = "policy",
    security(("adminToken" = [])),
    request_body = SimulateBody,
    responses(
        (status = 202, description = "Started", body = Simulation),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "A simulation is already running", body = ErrorBody),
        (status = 429, description = "Too many simulations", body = ErrorBody),
    ))]
async fn simulate(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    JsonBody(b): JsonBody<SimulateBody>,
) -> ApiResult<(StatusCode, Json<Simulation>)> {
    let doc = match &b.policy {
        Value::String(text) => parse_doc(text.as_bytes())?,
        other => parse_doc(other.to_string().as_bytes())?,
    };
    let range = SimRange {
        from_ms: b.from_ms,
        to_ms: b.to_ms,
    };
    let simulation = s.engine.admin(&p)?.start_simulation(doc, range).await?;
    Ok((StatusCode::ACCEPTED, Json(Simulation { simulation })))
}

#[derive(Serialize, ToSchema)]
pub struct SimulationList {
    simulations: Vec<SimulationReport>,
}

/// The org's simulations, newest first.
#[utoipa::path(get, path = "/v1/admin/policy/simulations", tag = "policy",
    security(("adminToken" = [])),
    responses((status = 200, description = "The simulations", body = SimulationList)))]
async fn simulations(
    State(s): State<AppState>,
    Caller(p, _): Caller,
) -> ApiResult<Json<SimulationList>> {
    Ok(Json(SimulationList {
        simulations: s.engine.reader(&p).simulations().await?,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SimulationProgress {
    simulation: SimulationReport,
    /// How far it has come, 0 to 100.
    #[schema(maximum = 100)]
    percent: u8,
}

/// One simulation, with its progress.
#[utoipa::path(get, path = "/v1/admin/policy/simulations/{id}", tag = "policy",
    security(("adminToken" = [])),
    params(("id" = SimId, Path)),
    responses((status = 200, description = "The simulation", body = SimulationProgress)))]
async fn simulation(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<SimId>,
) -> ApiResult<Json<SimulationProgress>> {
    let simulation = s.engine.reader(&p).simulation(id).await?;
    let percent = simulation.percent();
    Ok(Json(SimulationProgress {
        simulation,
        percent,
    }))
}

/// Cancels a running simulation (admins).
#[utoipa::path(post, path = "/v1/admin/policy/simulations/{id}/cancel", tag = "policy",
    security(("adminToken" = [])),
    params(("id" = SimId, Path)),
    responses(
        (status = 200, description = "Cancelled (or already over)", body = Simulation),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
async fn cancel(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    IdPath(id): IdPath<SimId>,
) -> ApiResult<Json<Simulation>> {
    let simulation = s.engine.admin(&p)?.cancel_simulation(id).await?;
    Ok(Json(Simulation { simulation }))
}
