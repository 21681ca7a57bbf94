//! One request with everything a reviewer needs to decide.

use leptos::prelude::*;

use crate::types::ApprovalView;

#[server]
pub async fn load_approval(id: String) -> Result<ApprovalView, ServerFnError> {
    use super::ssr::row;
    use crate::server_fns::ssr::{engine, format_ms, principal, to_error};
    use arx_core::model::Role;
    let p = principal().await?;
    let engine = engine();
    let id = id
        .parse()
        .map_err(|_| ServerFnError::new("that approval id is not valid"))?;
    let d = engine
        .reader(&p)
        .approval_detail(id)
        .await
        .map_err(to_error)?;
    let a = &d.approval;
    let f = &d.intercept;
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let n = |k: &str| f["risk"][k].as_u64().unwrap_or(0) as u8;
    let requirements = arx_core::review::requirements(&a.requirements);
    let agents: Vec<_> = d.agent.iter().cloned().collect();
    Ok(ApprovalView {
        row: row(a, &agents, engine.now_ms()),
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
        description: d
            .operation
            .as_ref()
            .map(|o| o.description.clone())
            .unwrap_or_default(),
        tier: f["tier"].as_str().unwrap_or_default().into(),
        risk_inputs: (
            a.risk_score,
            n("operation"),
            n("connector"),
            n("frequency"),
            n("target"),
        ),
        reason: f["reason"].as_str().unwrap_or_default().into(),
        policy_version: f["policy_version"].as_i64().unwrap_or(0),
        reasoning: f["session_context"]["reasoning"].as_str().map(String::from),
        session_context: pretty(&f["session_context"]),
        params: pretty(&a.params),
        requirements,
        require_reason: a.requirements.require_reason,
        scope: if a.kind == arx_core::model::GRANT_KIND {
            arx_core::review::grant_lines(&a.connector, &a.params)
        } else {
            vec![]
        },
        summary: arx_core::review::outcome(a),
        expires: format_ms(a.expires_ms),
        comment: a.comment.clone(),
        votes: d
            .votes
            .iter()
            .map(|v| (v.email.clone(), v.comment.clone()))
            .collect(),
        outcome: a.outcome.as_ref().map(|o| pretty(&o["body"])),
        can_decide: a.status.as_str() == "pending"
            && matches!(p.role(), Role::Admin | Role::Reviewer),
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
