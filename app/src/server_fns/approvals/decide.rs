//! Approve or deny a request, with an optional comment (reviewers and admins).

use leptos::prelude::*;

#[server]
pub async fn decide_approval(
    id: String,
    decision: String,
    comment: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_form, principal};
    let p = principal().await?;
    let engine = engine();
    let Ok(id) = id.parse() else {
        return flash(false, "that approval id is not valid", None).await;
    };
    let r = match engine.reviewer(&p).await {
        Err(e) => Err(e),
        Ok(reviewer) if decision == "approve" => reviewer.approve(id, &comment).await,
        Ok(reviewer) => reviewer.deny(id, &comment).await,
    };
    let typed = [("comment", comment.as_str())];
    flash_form(DECIDE_FORM, r, &typed, |a| {
        use arx_core::model::ApprovalKind;
        let msg = match a.status.as_str() {
            "executed" if a.kind == ApprovalKind::Grant => {
                "Approved. The grant is active; the agent is told so.".to_string()
            }
            "executed" if a.kind == ApprovalKind::Manifest => {
                "Approved. The manifest is the agent's version in force now.".to_string()
            }
            "executed" => "Approved. ARX ran the call; the agent has its result.".to_string(),
            "failed" => "Approved, but the call failed; the outcome is below.".to_string(),
            "cancelled" => format!(
                "Approved, but the request was cancelled: {}.",
                a.comment.trim_end_matches('.')
            ),
            "pending" => {
                "Your approval is recorded; this request needs another approver.".to_string()
            }
            "denied" => "Denied. The agent is told so.".to_string(),
            "executing" | "approved" => {
                "Approved. The call is still running and will finish by itself; this page shows its outcome when it ends."
                    .to_string()
            }
            s => format!("The request is {s}."),
        };
        (msg, None)
    })
    .await
}

/// The name of the decision form's refusals.
pub const DECIDE_FORM: &str = "decide";
