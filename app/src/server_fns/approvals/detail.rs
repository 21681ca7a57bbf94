//! One request with everything a reviewer needs to decide.

use leptos::prelude::*;

use crate::types::ApprovalView;

#[server]
pub async fn load_approval(id: String) -> Result<ApprovalView, ServerFnError> {
    use super::ssr::row;
    use crate::server_fns::ssr::{engine, format_ms, invalid, principal, to_error};
    use arx_core::model::ApprovalKind;
    let p = principal().await?;
    let engine = engine();
    let id = id
        .parse()
        .map_err(|_| invalid("that approval id is not valid"))?;
    let d = engine
        .reader(&p)
        .approval_detail(id)
        .await
        .map_err(to_error)?;
    let a = &d.approval;
    let call = match &d.intercept {
        Some(arx_core::audit::AuditEvent::Intercept(i)) => Some(i),
        _ => None,
    };
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let risk = call.map(|i| i.risk);
    let requirements = arx_core::review::requirements(&a.requirements);
    let agents: crate::server_fns::ssr::AgentNames =
        d.agent.iter().map(|a| (a.id, a.name.clone())).collect();
    Ok(ApprovalView {
        row: row(a, &agents, engine.now_ms()),
        kind: a.kind.as_str().into(),
        owner: d
            .agent
            .as_ref()
            .map(|g| g.owner.clone())
            .unwrap_or_default(),
        labels: d
            .agent
            .as_ref()
            .map(|g| g.labels.clone().into_iter().collect())
            .unwrap_or_default(),
        instance: d
            .instance
            .as_ref()
            .map(|i| i.name.clone())
            .unwrap_or_default(),
        environment: d
            .instance
            .as_ref()
            .map(|i| i.environment.as_str().to_string())
            .unwrap_or_default(),
        description: match a.kind {
            ApprovalKind::Manifest => {
                "The agent registered a manifest that widens its scope; it takes effect only if approved."
                    .into()
            }
            _ => d
                .operation
                .as_ref()
                .map(|o| o.description.clone())
                .unwrap_or_default(),
        },
        tier: call.map(|i| i.tier.as_str().into()).unwrap_or_default(),
        risk_inputs: (
            a.risk_score,
            risk.map_or(0, |r| r.operation),
            risk.map_or(0, |r| r.connector),
            risk.map_or(0, |r| r.frequency),
            risk.map_or(0, |r| r.target),
        ),
        reason: call.map(|i| i.reason.clone()).unwrap_or_default(),
        policy_version: call.map_or(0, |i| i.policy_version),
        reasoning: call.and_then(|i| i.reasoning()).map(String::from),
        session_context: pretty(call.map_or(&serde_json::Value::Null, |i| &i.session_context)),
        params: pretty(&a.params),
        requirements,
        require_reason: a.requirements.require_reason,
        scope: match a.kind {
            ApprovalKind::Grant => arx_core::review::grant_lines(&a.connector, &a.params),
            ApprovalKind::Manifest => arx_core::review::manifest_lines(&a.params),
            ApprovalKind::Call => vec![],
        },
        summary: arx_core::review::outcome(a),
        expires: format_ms(a.expires_ms),
        comment: a.comment.clone(),
        votes: d
            .votes
            .iter()
            .map(|v| (v.email.clone(), v.comment.clone()))
            .collect(),
        outcome: a
            .outcome
            .as_ref()
            .map(|o| pretty(&serde_json::to_value(o).unwrap_or_default())),
        can_decide: a.status.as_str() == "pending"
            && p.roles().decides(),
        diff: d.state.as_ref().map(|st| crate::types::StateDiffView {
            source: st.source.clone(),
            rows: st
                .rows
                .iter()
                .map(|r| {
                    (
                        format!("{} · {}", r.record, r.field),
                        r.current.clone(),
                        r.proposed.clone(),
                        r.changed,
                    )
                })
                .collect(),
            error: st.error.clone(),
            note: arx_core::review::diff_note(st),
            earlier: st
                .unchanged
                .as_ref()
                .and_then(|u| u.earlier)
                .map(|id| id.to_string()),
        }),
    })
}
