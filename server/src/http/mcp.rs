//! Agents over the Model Context Protocol: `POST /mcp` (streamable HTTP, through rmcp),
//! authenticated with the agent's API key like `POST /v1/sdk/execute`.
//!
//! - `tools/list` offers what the agent may call now ([`Engine::agent_tools`]): each
//!   operation its manifest in force declares on the org's instances, with a JSON Schema
//!   built from the catalog's params, the operation's description, its risk tier and
//!   what the policy in force decides for it; plus `arx_approval_status`.
//! - `tools/call` runs the call through [`Engine::execute`], the very pipeline of
//!   `POST /v1/sdk/execute` (its intercept record says `via: mcp`). A refusal is a tool
//!   error with the code and reason; an escalated call waits like execute, then answers
//!   that it is pending with its approval id and expiry, and `arx_approval_status` tells
//!   the outcome later.
//!
//! Stateless: no MCP session is kept, so any replica behind a load balancer answers any
//! request. Every request's key is checked before rmcp sees it (a bad key is a 401 in
//! the API's error shape). Hosts are not restricted to loopback: the endpoint takes no
//! ambient credentials (no cookies), so a page that rebinds a name to ARX gains nothing.
//!
//! [`Engine::agent_tools`]: arx_core::engine::Engine::agent_tools
//! [`Engine::execute`]: arx_core::engine::Engine::execute

use std::sync::{Arc, LazyLock};

use arx_core::CoreError;
use arx_core::engine::{AgentTool, Executed};
use arx_core::policy::Verdict;
use arx_core::request::{ExecuteRequest, MAX_WAIT_SECONDS, Via};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use super::extract::bearer;
use super::sdk::executed_body;
use crate::AppState;
use crate::error::ApiError;

/// The built-in tool that tells an escalated call's outcome.
const STATUS_TOOL: &str = "arx_approval_status";
/// Arguments ARX reads itself; the rest are the operation's params.
const REASONING: &str = "arx_reasoning";
const INSTANCE: &str = "arx_instance";

/// The Model Context Protocol endpoint, for agents: JSON-RPC 2.0 (`initialize`,
/// `tools/list`, `tools/call`) over streamable HTTP, stateless, answered as JSON. Each
/// tool is an operation the agent's manifest declares, run through the same pipeline as
/// `POST /v1/sdk/execute`.
#[utoipa::path(
    post,
    path = "/mcp",
    tag = "sdk",
    security(("agentKey" = [])),
    request_body(content = JsonRpcMessage, description = "A JSON-RPC 2.0 request or notification", content_type = "application/json"),
    responses(
        (status = 200, description = "The JSON-RPC answer: a result, or an error. A refused call is a tool result with `isError` and the API's error body as its structured content", body = Value),
        (status = 202, description = "A notification, taken"),
        (status = 400, description = "Not a JSON-RPC 2.0 message the endpoint takes", body = crate::error::ErrorBody),
        (status = 401, description = "No valid agent key", body = crate::error::ErrorBody),
        (status = 406, description = "The Accept header excludes JSON", body = crate::error::ErrorBody),
        (status = 413, description = "The body is over 256 KiB", body = crate::error::ErrorBody),
        (status = 415, description = "The body is not JSON", body = crate::error::ErrorBody),
    )
)]
pub async fn mcp(State(s): State<AppState>, mut req: Request) -> Response {
    if let Err(e) = s
        .engine
        .authenticate_agent(bearer(req.headers()).as_deref())
        .await
    {
        return ApiError(e).into_response();
    }
    // Answers are JSON: a client that accepts anything (no Accept, `*/*`) gets them,
    // as one that lists the two types MCP names does.
    let accepts_any = req
        .headers()
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == "*/*");
    if accepts_any {
        req.headers_mut().insert(
            axum::http::header::ACCEPT,
            axum::http::HeaderValue::from_static("application/json, text/event-stream"),
        );
    }
    req.extensions_mut().insert(s);
    static SERVICE: LazyLock<StreamableHttpService<ArxTools, NeverSessionManager>> =
        LazyLock::new(|| {
            StreamableHttpService::new(
                || Ok(ArxTools),
                Arc::new(NeverSessionManager::default()),
                StreamableHttpServerConfig::default()
                    .with_legacy_session_mode(false)
                    .with_json_response(true)
                    .with_sse_keep_alive(None)
                    .with_max_request_body_bytes(arx_core::request::MAX_BODY_BYTES)
                    .disable_allowed_hosts(),
            )
        });
    let answer = match SERVICE.clone().oneshot(req).await {
        Ok(r) => r.map(Body::new),
        Err(never) => match never {},
    };
    if answer.status().is_client_error() {
        return refusal(answer).await;
    }
    answer
}

/// rmcp's refusal of a request it could not take (a plain-text body), in the API's
/// error shape: what was wrong, and its status (a message that is no JSON-RPC is 400).
async fn refusal(answer: Response) -> Response {
    use axum::http::StatusCode;
    let status = answer.status();
    let said = axum::body::to_bytes(answer.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (status, code) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (status, "payload_too_large"),
        StatusCode::NOT_ACCEPTABLE => (status, "not_acceptable"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE if said.contains("Content-Type") => {
            (status, "unsupported_media_type")
        }
        _ => (StatusCode::BAD_REQUEST, "invalid_request"),
    };
    crate::error::router_error(
        status,
        code,
        format!(
            "not an MCP request this endpoint takes (JSON-RPC 2.0 over streamable HTTP): {said}"
        ),
    )
}

/// A JSON-RPC 2.0 message as an MCP client sends it (for the API document).
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))]
#[allow(dead_code)]
pub struct JsonRpcMessage {
    /// `2.0`.
    #[schema(pattern = "^2\\.0$")]
    jsonrpc: String,
    /// The request's id, a string or a number; none for a notification.
    id: Option<Value>,
    /// `initialize`, `tools/list`, `tools/call`, `notifications/initialized`…
    method: String,
    #[schema(value_type = Option<Object>)]
    params: Option<Value>,
}

/// The MCP server: it holds nothing; each request brings its state and key.
#[derive(Debug, Clone, Copy)]
pub struct ArxTools;

/// The server's state and the agent's key, from the HTTP request rmcp was handed.
fn caller(ctx: &RequestContext<RoleServer>) -> Result<(AppState, Option<String>), McpError> {
    let parts = ctx
        .extensions
        .get::<axum::http::request::Parts>()
        .ok_or_else(|| McpError::internal_error("the request's HTTP parts are missing", None))?;
    let state = parts
        .extensions
        .get::<AppState>()
        .cloned()
        .ok_or_else(|| McpError::internal_error("the server's state is missing", None))?;
    Ok((state, bearer(&parts.headers)))
}

impl ServerHandler for ArxTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("arx", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Each tool is an operation of a security tool, governed by ARX: scored, \
                 decided by your org's policy, recorded, and run with credentials you never \
                 see. Say why you call in arx_reasoning: reviewers read it. A call that needs \
                 approval returns pending with an approval id; ask arx_approval_status for \
                 its outcome.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let (s, key) = caller(&ctx)?;
        let tools = s
            .engine
            .agent_tools(key.as_deref())
            .await
            .map_err(refused)?;
        let mut listed: Vec<Tool> = tools.iter().map(tool_of).collect();
        listed.push(status_tool());
        Ok(ListToolsResult::with_all_items(listed))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let (s, key) = caller(&ctx)?;
        let mut args = request.arguments.unwrap_or_default();
        let out = if request.name == STATUS_TOOL {
            let Some(id) = args.get("approval_id").and_then(Value::as_str) else {
                return Err(McpError::invalid_params(
                    "arx_approval_status needs approval_id (a string)",
                    None,
                ));
            };
            let wait = args
                .get("wait_seconds")
                .and_then(Value::as_u64)
                .map(|w| u32::try_from(w).unwrap_or(MAX_WAIT_SECONDS));
            s.engine.poll_approval(key.as_deref(), id, wait).await
        } else {
            let Some((connector, operation)) = operation_named(&s, &request.name) else {
                return Err(McpError::invalid_params(
                    format!(
                        "no tool named {}; tools/list names the tools you may call",
                        request.name
                    ),
                    None,
                ));
            };
            let reasoning = args.remove(REASONING);
            let instance = match args.remove(INSTANCE) {
                Some(Value::String(i)) => Some(i),
                Some(_) => {
                    return Err(McpError::invalid_params(
                        format!("{INSTANCE} must be a string"),
                        None,
                    ));
                }
                None => None,
            };
            let session_context = match reasoning {
                Some(r) => json!({ "reasoning": r }),
                None => Value::Null,
            };
            let req = ExecuteRequest {
                connector,
                operation,
                params: args,
                session_context,
                instance,
                wait_seconds: None,
                via: Some(Via::Mcp),
            };
            let out = s.engine.execute(key.as_deref(), Ok(req)).await;
            s.metrics.count_execute(&out);
            out
        };
        Ok(tool_result(out).into())
    }
}

/// A refusal of the whole request (the key, the agent's state): a JSON-RPC error
/// carrying the API's error body.
fn refused(e: CoreError) -> McpError {
    McpError::invalid_request(e.public_message(), Some(crate::error::body(&e)))
}

/// A tool's name: the connector and the operation, with what MCP clients refuse in a
/// name (`:`, `.`) as `_` (`crowdstrike__hosts_contain`).
fn tool_name(connector: &str, operation: &str) -> String {
    let op: String = operation
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    format!("{connector}__{op}")
}

/// The connector and operation a tool name stands for, from the catalog.
fn operation_named(s: &AppState, name: &str) -> Option<(String, String)> {
    let (connector, _) = name.split_once("__")?;
    let c = s.engine.catalog().get(connector)?;
    c.operations
        .keys()
        .find(|op| tool_name(&c.name, op) == name)
        .map(|op| (c.name.clone(), op.clone()))
}

fn tool_of(t: &AgentTool) -> Tool {
    let op = &t.declaration;
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for (name, p) in &op.params {
        let mut schema = json!({ "type": p.kind.as_str() });
        if !p.description.is_empty() {
            schema["description"] = p.description.clone().into();
        }
        if !p.allowed.is_empty() {
            schema["enum"] = p.allowed.clone().into();
        }
        properties.insert(name.clone(), schema);
        if p.required {
            required.push(name.clone().into());
        }
    }
    properties.insert(
        REASONING.into(),
        json!({"type": "string", "description": "Why you make this call. It is recorded with the call and shown to the reviewer when the call needs approval."}),
    );
    if t.instances.len() > 1 {
        properties.insert(
            INSTANCE.into(),
            json!({"type": "string", "enum": t.instances, "description": "Which of the org's instances of the connector to call."}),
        );
        required.push(INSTANCE.into());
    }
    let mut schema = JsonObject::new();
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), properties.into());
    schema.insert("required".into(), required.into());
    schema.insert("additionalProperties".into(), false.into());
    let decided = match t.verdict {
        Verdict::Permit => "The policy in force permits it.".to_string(),
        Verdict::Escalate => format!(
            "It may need a reviewer's approval: the call waits up to {MAX_WAIT_SECONDS} s, then returns pending with an approval id ({STATUS_TOOL} tells the outcome)."
        ),
        Verdict::Deny => {
            "The policy in force denies it as declared (some params may be permitted).".into()
        }
    };
    let description = format!(
        "{} Risk tier: {}. {decided}",
        op.description.trim_end(),
        op.risk.as_str()
    );
    let annotations = ToolAnnotations::with_title(format!("{}: {}", t.connector, t.operation))
        .read_only(!op.writes)
        .destructive(op.writes);
    Tool::new(
        tool_name(&t.connector, &t.operation),
        description,
        Arc::new(schema),
    )
    .with_annotations(annotations)
}

fn status_tool() -> Tool {
    let schema = json!({
        "type": "object",
        "properties": {
            "approval_id": {"type": "string", "description": "The approval id a pending call returned."},
            "wait_seconds": {"type": "integer", "minimum": 0, "maximum": MAX_WAIT_SECONDS, "description": "How long to wait for the decision (default 0: answer at once)."},
        },
        "required": ["approval_id"],
        "additionalProperties": false,
    });
    let schema = match schema {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    };
    Tool::new(
        STATUS_TOOL,
        "The outcome of a call that was escalated for approval: its result once approved and run, still pending, or denied or expired.",
        Arc::new(schema),
    )
    .with_annotations(ToolAnnotations::with_title("ARX approval status").read_only(true))
}

/// A call's outcome as a tool result, carrying the same body `POST /v1/sdk/execute`
/// answers with as its structured content. A refusal (denied, expired, a bad param, the
/// target's error) is a tool error whose text names the code and the reason.
fn tool_result(out: Result<Executed, CoreError>) -> CallToolResult {
    match out {
        Ok(done) => {
            let body = json!(executed_body(done).1);
            let text = if body["status"] == "pending" {
                format!(
                    "Pending: a reviewer must approve this call (approval id {}, audit id {}, risk {}). If nobody decides by {}, it is refused. Ask {STATUS_TOOL} with this approval_id for the outcome.",
                    body["approval_id"].as_str().unwrap_or_default(),
                    body["audit_id"].as_str().unwrap_or_default(),
                    body["risk_score"],
                    body["expires_at"].as_str().unwrap_or_default(),
                )
            } else {
                body.get("result")
                    .map_or_else(|| body.to_string(), Value::to_string)
            };
            let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
            r.structured_content = Some(body);
            r
        }
        Err(e) => {
            let mut r = CallToolResult::error(vec![ContentBlock::text(format!(
                "{}: {}",
                e.code(),
                e.public_message()
            ))]);
            r.structured_content = Some(crate::error::body(&e));
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_keep_to_what_mcp_clients_accept() {
        assert_eq!(
            tool_name("crowdstrike", "hosts:write"),
            "crowdstrike__hosts_write"
        );
        assert_eq!(
            tool_name("crowdstrike", "rtr:command.admin"),
            "crowdstrike__rtr_command_admin"
        );
        let name = tool_name("servicenow", "records:delete");
        assert!(
            name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
    }
}
