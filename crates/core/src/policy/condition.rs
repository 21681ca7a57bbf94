//! Rule conditions in CEL. A condition compiles when its rule is saved (a syntax error or
//! an unknown variable is refused with its line and column) and is evaluated against the
//! call's facts:
//!
//! - `params` (also `payload`): the call's parameters;
//! - `agent`: `id`, `name`, `labels`;
//! - `session`: `context` (the agent's `session_context`), `actions` (its recent
//!   `connector.operation` calls, oldest first), `calls_last_60s`;
//! - `target`: `connector`, `operation`, `instance`, `environment`, `tier`;
//! - `risk`: `score`, `operation`, `connector`, `frequency`, `target`.

use std::sync::{Arc, LazyLock};

use cel::{Context, Env, Program};
use serde_json::json;

use super::PolicyInput;

/// The variables a condition may use.
pub const VARIABLES: [&str; 6] = ["params", "payload", "agent", "session", "target", "risk"];

static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

#[derive(Debug)]
pub struct Condition {
    program: Program,
}

impl Condition {
    /// Compiles a CEL expression; the error gives the line and column of the problem.
    pub fn compile(src: &str) -> Result<Condition, String> {
        let program = ENV.compile(src).map_err(|errs| {
            errs.errors
                .first()
                .map(|e| {
                    format!(
                        "is not valid CEL at line {}, column {}: {}",
                        e.pos.0, e.pos.1, e.msg
                    )
                })
                .unwrap_or_else(|| "is not valid CEL".to_string())
        })?;
        let refs = program.references();
        let mut unknown: Vec<&str> = refs
            .variables()
            .into_iter()
            .filter(|v| !VARIABLES.contains(v) && !bound_by_macro(src, v))
            .collect();
        unknown.sort_unstable();
        if let Some(v) = unknown.first() {
            let col = src.find(v).map_or(1, |i| i + 1);
            return Err(format!(
                "uses '{v}' at column {col}, which is not defined; use {}",
                VARIABLES.join(", ")
            ));
        }
        Ok(Condition { program })
    }

    /// The call's facts as CEL variables; built once per decision, on the first condition.
    pub fn activation(i: &PolicyInput<'_>) -> Context<'static, 'static> {
        let mut ctx = Context::with_env(ENV.clone());
        let params = serde_json::Value::Object(i.call.params.clone());
        let vars = [
            ("params", params.clone()),
            ("payload", params),
            (
                "agent",
                json!({"id": i.agent_id, "name": i.agent_name, "labels": i.agent_labels}),
            ),
            (
                "session",
                json!({
                    "context": i.call.session_context,
                    "actions": i.call.session_actions,
                    "calls_last_60s": i.risk.calls_last_60s,
                }),
            ),
            (
                "target",
                json!({
                    "connector": i.connector, "operation": i.operation,
                    "instance": i.call.instance, "environment": i.call.environment.as_str(),
                    "tier": i.tier.as_str(),
                }),
            ),
            (
                "risk",
                json!({
                    "score": i.risk.score, "operation": i.risk.operation,
                    "connector": i.risk.connector, "frequency": i.risk.frequency,
                    "target": i.risk.target,
                }),
            ),
        ];
        for (name, v) in vars {
            if let Ok(v) = cel::to_value(v) {
                ctx.add_variable_from_value(name, v);
            }
        }
        ctx
    }

    /// Whether the condition holds; an error or a non-boolean result says why not.
    pub fn holds(&self, ctx: &Context<'_, '_>) -> Result<bool, String> {
        match self.program.execute(ctx) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(_) => Err("the condition did not give true or false".to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Macro variables (`list.all(x, ...)`, `.exists(x, ...)`, `.map(x, ...)`) are local names.
fn bound_by_macro(src: &str, name: &str) -> bool {
    ["all", "exists", "exists_one", "map", "filter"]
        .iter()
        .any(|m| {
            src.match_indices(&format!(".{m}("))
                .any(|(at, pat)| src[at + pat.len()..].trim_start().starts_with(name))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = Condition::compile("size(params.ids) >").unwrap_err();
        assert!(e.contains("line 1, column"), "{e}");
        let e = Condition::compile("paramz.x > 1").unwrap_err();
        assert!(e.contains("'paramz'") && e.contains("column 1"), "{e}");
        // The column points at the problem: the second '>' is the 11th character.
        let e = Condition::compile("params.x >> 1").unwrap_err();
        assert!(e.contains("column 11"), "{e}");
        assert!(Condition::compile("params.ids.all(x, x != '')").is_ok());
        assert!(Condition::compile("risk.score > 50 && agent.labels.team == 'soc'").is_ok());
    }
}
