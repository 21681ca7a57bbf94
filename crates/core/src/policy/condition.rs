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
    /// The variables it reads, as bits of [`VARIABLES`].
    needs: u8,
}

/// The call's facts as CEL variables, each converted the first time a condition reads it.
pub struct Activation {
    ctx: Context<'static, 'static>,
    added: u8,
}

impl Default for Activation {
    fn default() -> Self {
        Activation {
            ctx: Context::with_env(ENV.clone()),
            added: 0,
        }
    }
}

impl Activation {
    fn ensure(&mut self, needs: u8, i: &PolicyInput<'_>) {
        for (bit, name) in VARIABLES.iter().enumerate() {
            let mask = 1u8 << bit;
            if needs & mask != 0 && self.added & mask == 0 {
                if let Ok(v) = cel::to_value(variable(name, i)) {
                    self.ctx.add_variable_from_value(*name, v);
                }
                self.added |= mask;
            }
        }
    }
}

/// One variable's value for a call.
fn variable(name: &str, i: &PolicyInput<'_>) -> serde_json::Value {
    match name {
        "params" | "payload" => serde_json::Value::Object(i.call.params.clone()),
        "agent" => json!({"id": i.agent_id, "name": i.agent_name, "labels": i.agent_labels}),
        "session" => json!({
            "context": i.call.session_context,
            "actions": i.call.session_actions,
            "calls_last_60s": i.risk.calls_last_60s,
        }),
        "target" => json!({
            "connector": i.connector, "operation": i.operation,
            "instance": i.call.instance, "environment": i.call.environment.as_str(),
            "tier": i.tier.as_str(),
        }),
        _ => json!({
            "score": i.risk.score, "operation": i.risk.operation,
            "connector": i.risk.connector, "frequency": i.risk.frequency,
            "target": i.risk.target,
        }),
    }
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
        let needs = VARIABLES
            .iter()
            .enumerate()
            .filter(|(_, v)| refs.has_variable(v))
            .fold(0u8, |m, (bit, _)| m | (1 << bit));
        Ok(Condition { program, needs })
    }

    /// Whether the condition holds; an error or a non-boolean result says why not.
    pub fn holds(&self, act: &mut Activation, i: &PolicyInput<'_>) -> Result<bool, String> {
        act.ensure(self.needs, i);
        match self.program.execute(&act.ctx) {
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

    #[test]
    fn conditions_see_params_agent_session_target_and_risk() {
        use crate::catalog::RiskTier;
        use crate::model::Environment;
        use crate::policy::CallFacts;
        use crate::risk::{RiskInputs, score};
        let params = serde_json::json!({"ids": ["a", "b"], "action_name": "contain"});
        let labels = [("team".to_string(), "ir".to_string())].into();
        let actions = vec!["okta.users:suspend".to_string()];
        let context = serde_json::json!({"reasoning": "beaconing"});
        let i = PolicyInput {
            connector: "crowdstrike",
            operation: "hosts:write",
            agent_id: "a1",
            agent_name: "remediation-agent",
            agent_labels: &labels,
            tier: RiskTier::High,
            risk: score(RiskInputs {
                tier: RiskTier::High,
                sensitivity: 20,
                calls_last_60s: 2,
                declared_rate: 60,
                environment: Environment::Prod,
            }),
            call: CallFacts {
                params: params.as_object().unwrap(),
                instance: "main",
                environment: Environment::Prod,
                session_context: &context,
                session_actions: &actions,
            },
            grant_id: None,
        };
        let mut act = Activation::default();
        let mut holds = |src: &str| Condition::compile(src).unwrap().holds(&mut act, &i);
        for yes in [
            "size(payload.ids) > 1",
            "params.action_name == 'contain' && target.environment == 'prod'",
            "'okta.users:suspend' in session.actions",
            "session.context.reasoning == 'beaconing' && session.calls_last_60s == 2",
            "agent.labels.team == 'ir' && agent.name == 'remediation-agent'",
            "risk.score == 70 && risk.target == 20 && target.tier == 'high'",
            "!has(params.reason)",
        ] {
            assert_eq!(holds(yes), Ok(true), "{yes}");
        }
        assert_eq!(holds("size(params.ids) > 2"), Ok(false));
        assert!(
            holds("params.reason == 'x'").is_err(),
            "a missing key is an error"
        );
        assert!(holds("params.ids").is_err(), "a non-boolean is an error");
    }
}
