//! Parsing of the agent's execute request, and checking its params against the
//! operation's declaration, with messages that say what to fix.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::{Operation, Param, ParamLocation};
use crate::error::CoreError;

/// Upper bound of the body of `POST /v1/sdk/execute`.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The longest an execute call waits for an approval decision.
pub const MAX_WAIT_SECONDS: u32 = 25;
/// Most items an `in: each` param may hold: each is one request to the target, made with
/// one approval, so a call must not fan out without bound.
pub const MAX_EACH_ITEMS: usize = 100;

/// How a call reached ARX when not through `POST /v1/sdk/execute`; its intercept record
/// says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// A `tools/call` at `POST /mcp`.
    Mcp,
}

/// The body of `POST /v1/sdk/execute`.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"connector": "crowdstrike", "operation": "detections:read",
    "params": {"limit": 5}, "session_context": {"task": "triage the morning's detections"}}))]
pub struct ExecuteRequest {
    /// The connector, by name (`GET /v1/admin/connectors` lists them).
    pub connector: String,
    /// One of the connector's operations.
    pub operation: String,
    /// The operation's parameters, as its schema in the catalog says.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// The agent's reasoning and prior actions, shown to reviewers.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub session_context: Value,
    /// Which instance of the connector, by name, when the org has several.
    #[serde(default)]
    pub instance: Option<String>,
    /// How long to wait for an approval decision, 0 to 25 s.
    #[serde(default)]
    #[schema(maximum = 25)]
    pub wait_seconds: Option<u32>,
    /// Set by ARX, never by the body (a body naming it is refused as unknown).
    #[serde(skip)]
    pub via: Option<Via>,
}

impl ExecuteRequest {
    pub fn parse(body: &[u8]) -> Result<Self, CoreError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(CoreError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(CoreError::InvalidRequest(
                "the request body is empty; send {\"connector\", \"operation\", \"params\"}".into(),
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(body);
        let req: ExecuteRequest = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." {
                String::new()
            } else {
                format!("{path}: ")
            };
            CoreError::InvalidRequest(format!(
                "the request body is not a valid execute request: {at}{}",
                e.inner()
            ))
        })?;
        if req.connector.trim().is_empty() || req.operation.trim().is_empty() {
            return Err(CoreError::InvalidRequest(
                "connector and operation must not be empty".into(),
            ));
        }
        if !(req.session_context.is_null() || req.session_context.is_object()) {
            return Err(CoreError::InvalidRequest(
                "session_context must be a JSON object".into(),
            ));
        }
        if req.wait_seconds.is_some_and(|w| w > MAX_WAIT_SECONDS) {
            return Err(CoreError::InvalidRequest(format!(
                "wait_seconds must be between 0 and {MAX_WAIT_SECONDS}"
            )));
        }
        Ok(req)
    }
}

/// Why a well-typed value is refused: a path value or `each` item that would leave its
/// segment, too many `each` items, a string matching one of the param's refused patterns.
fn refusals(name: &str, p: &Param, v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match (p.location, v) {
        (ParamLocation::Path, v) => {
            if let Some(why) = crate::target::path_segment_refusal(&scalar_text(v)) {
                out.push(format!("'{name}' {why}"));
            }
        }
        (ParamLocation::Each, Value::Array(items)) => {
            if items.len() > MAX_EACH_ITEMS {
                out.push(format!(
                    "'{name}' has {} items; at most {MAX_EACH_ITEMS} per call (split the call)",
                    items.len()
                ));
            }
            for (i, item) in items.iter().enumerate() {
                if !(item.is_string() || item.is_number()) {
                    out.push(format!("'{name}[{i}]' must be a string or a number"));
                } else if let Some(why) = crate::target::path_segment_refusal(&scalar_text(item)) {
                    out.push(format!("'{name}[{i}]' {why}"));
                }
            }
        }
        _ => {}
    }
    if !p.refuse.is_empty() {
        let mut texts = Vec::new();
        strings_in(v, &mut texts);
        for r in &p.refuse {
            if texts.iter().any(|t| r.pattern.is_match(t)) {
                out.push(format!("'{name}' is refused: {}", r.why));
            }
        }
    }
    out
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every string inside a value (keys too), so a pattern cannot be dodged by nesting.
fn strings_in<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| strings_in(i, out)),
        Value::Object(m) => m.iter().for_each(|(k, i)| {
            out.push(k);
            strings_in(i, out)
        }),
        _ => {}
    }
}

/// Checks `params` against the operation: required present, nothing undeclared, types
/// and closed value sets respected, refused values refused. Lists every problem at once.
pub fn check_params(
    op_id: &str,
    op: &Operation,
    params: &Map<String, Value>,
) -> Result<(), CoreError> {
    let mut problems = Vec::new();
    for (name, p) in &op.params {
        match params.get(name) {
            None | Some(Value::Null) if p.required => {
                problems.push(format!("'{name}' is required"))
            }
            None | Some(Value::Null) => {}
            Some(v) if !p.kind.matches(v) => {
                problems.push(format!("'{name}' must be of type {}", p.kind.as_str()))
            }
            Some(v) if !p.allowed.is_empty() && !p.allowed.contains(v) => {
                let allowed: Vec<String> = p.allowed.iter().map(Value::to_string).collect();
                problems.push(format!("'{name}' must be one of {}", allowed.join(", ")))
            }
            Some(v) => problems.extend(refusals(name, p, v)),
        }
    }
    let unknown: Vec<&str> = params
        .keys()
        .filter(|k| !op.params.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let declared: Vec<&str> = op.params.keys().map(String::as_str).collect();
        problems.push(format!(
            "unknown param{} {} (this operation takes: {})",
            if unknown.len() > 1 { "s" } else { "" },
            unknown
                .iter()
                .map(|u| format!("'{u}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if declared.is_empty() {
                "no params".to_string()
            } else {
                declared.join(", ")
            }
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CoreError::InvalidParams(format!(
            "{op_id}: {}",
            problems.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn messages_say_what_to_fix() {
        let e = ExecuteRequest::parse(b"{\"connector\": 1}").unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        assert!(e.to_string().contains("connector"), "{e}");
        let e = ExecuteRequest::parse(b"{\"connector\":\"a\",\"operation\":\"b\",\"bogus\":1}")
            .unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = ExecuteRequest::parse(b"").unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e =
            ExecuteRequest::parse(b"{\"connector\":\"a\",\"operation\":\"b\",\"wait_seconds\":99}")
                .unwrap_err();
        assert!(e.to_string().contains("wait_seconds"), "{e}");
        // How a call came is ARX's to say: a body claiming MCP is refused.
        let e = ExecuteRequest::parse(b"{\"connector\":\"a\",\"operation\":\"b\",\"via\":\"mcp\"}")
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `via`"), "{e}");
    }

    proptest! {
        /// Arbitrary bytes never panic the parser; they parse or give a 4xx error.
        #[test]
        fn parser_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            match ExecuteRequest::parse(&body) {
                Ok(_) => {}
                Err(e) => prop_assert!(
                    matches!(e, CoreError::InvalidRequest(_) | CoreError::PayloadTooLarge { .. }),
                    "{e:?}"
                ),
            }
        }

        /// Arbitrary JSON values never panic either, and well-formed requests parse back to their parts.
        #[test]
        fn well_formed_requests_parse(
            connector in "[a-z]{1,12}", operation in "[a-z]{1,8}:[a-z_]{1,8}",
            n in any::<i64>(), s in ".{0,40}", wait in 0u32..40,
        ) {
            let body = serde_json::json!({
                "connector": connector, "operation": operation,
                "params": {"n": n, "s": s}, "session_context": {"reason": s},
                "wait_seconds": wait,
            });
            let r = ExecuteRequest::parse(body.to_string().as_bytes());
            if wait > MAX_WAIT_SECONDS {
                prop_assert!(r.is_err());
            } else {
                let r = r.unwrap();
                prop_assert_eq!(r.connector, connector);
                prop_assert_eq!(r.operation, operation);
                prop_assert_eq!(&r.params["n"], &serde_json::json!(n));
            }
        }
    }
}
