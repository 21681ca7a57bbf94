//! What a notice says about an approval request, whatever the channel: who wants to do
//! what where, the risk, the rule, a few rows of the diff, the outcome and who decided,
//! and a signed link into the console.

use arx_core::audit::format_ts;
use arx_core::engine::{ApprovalDetail, StateRow};
use arx_core::ids::{ApprovalId, OrgId};
use arx_core::integration::{ApprovalNotice, IntegrationKind};
use arx_core::model::{ApprovalKind, ApprovalStatus};
use arx_core::review;
use serde_json::{Value, json};

/// At most this many diff rows go into a chat message; the console shows them all.
const DIFF_ROWS: usize = 5;

#[derive(Debug, Clone)]
pub struct Notice {
    pub id: ApprovalId,
    pub org: OrgId,
    pub kind: ApprovalKind,
    pub status: ApprovalStatus,
    pub agent: String,
    pub connector: String,
    pub operation: String,
    pub instance: String,
    pub environment: String,
    pub risk_score: u8,
    /// The rule that escalated the call (or the org default).
    pub rule: String,
    pub reason: String,
    /// The agent's reasoning from `session_context`, if it gave one (agent-written).
    pub reasoning: Option<String>,
    /// What will run, one line a param (canonical JSON, long values cut with what is
    /// left, list params with their item count); for a grant, its whole scope.
    pub details: Vec<String>,
    /// Changed rows first, at most [`DIFF_ROWS`].
    pub diff: Vec<StateRow>,
    /// How many records the diff covers and could not read, or that nothing would change.
    pub diff_note: Option<String>,
    pub approvals: u32,
    pub needed: usize,
    pub decided_by: Vec<String>,
    pub comment: String,
    pub created_at: String,
    pub expires_at: String,
    /// The console's page of the request, signed (see [`super::links`]).
    pub link: String,
}

/// What a notice says before the agent's own reasoning, which ARX passes on unchecked.
pub const AGENT_WRITTEN: &str = "Written by the agent, not checked by ARX";

fn text(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

impl Notice {
    /// The diff rows, one line each: `record field: current → proposed`.
    pub fn diff_lines(&self) -> Vec<String> {
        let line =
            |r: &StateRow| format!("{} {}: {} → {}", r.record, r.field, r.current, r.proposed);
        self.diff.iter().map(line).collect()
    }

    pub fn new(d: &ApprovalDetail, public_url: &str, tag: &str) -> Self {
        let a = &d.approval;
        let call = match &d.intercept {
            Some(arx_core::audit::AuditEvent::Intercept(i)) => Some(i),
            _ => None,
        };
        let mut diff: Vec<StateRow> = d.state.as_ref().map(|s| s.rows.clone()).unwrap_or_default();
        diff.sort_by_key(|r| !r.changed);
        diff.truncate(DIFF_ROWS);
        Notice {
            id: a.id,
            org: a.org_id,
            kind: a.kind,
            status: a.status,
            agent: d
                .agent
                .as_ref()
                .map_or_else(|| a.agent_id.to_string(), |g| g.name.clone()),
            connector: a.connector.clone(),
            operation: a.operation.clone(),
            instance: d.instance.as_ref().map_or("—".into(), |x| x.name.clone()),
            environment: d
                .instance
                .as_ref()
                .map_or("unknown", |x| x.environment.as_str())
                .to_string(),
            risk_score: a.risk_score,
            rule: text(call.and_then(|i| i.rule_id.as_deref()))
                .or_else(|| Some(a.policy_id.clone()).filter(|p| !p.trim().is_empty()))
                .unwrap_or_else(|| "org default".into()),
            reason: text(call.map(|i| i.reason.as_str())).unwrap_or_default(),
            reasoning: text(call.and_then(|i| i.reasoning())),
            details: match a.kind {
                ApprovalKind::Grant => review::grant_lines(&a.connector, &a.params),
                ApprovalKind::Manifest => review::manifest_lines(&a.params),
                ApprovalKind::Call => review::param_lines(&a.params),
            },
            diff,
            diff_note: d.state.as_ref().and_then(review::diff_note),
            approvals: u32::try_from(d.votes.len()).unwrap_or(u32::MAX),
            needed: usize::from(a.requirements.min_approvals.max(1)),
            decided_by: a.decided_by.clone(),
            comment: a.comment.clone(),
            created_at: format_ts(a.created_ms),
            expires_at: format_ts(a.expires_ms),
            link: format!(
                "{}/approvals/view?id={}&sig={tag}",
                public_url.trim_end_matches('/'),
                a.id
            ),
        }
    }

    /// The heading of [`Notice::details`].
    pub fn details_title(&self) -> &'static str {
        match self.kind {
            ApprovalKind::Grant => "Scope asked for",
            ApprovalKind::Manifest => "Manifest changes asked for",
            ApprovalKind::Call => "Exactly what will run",
        }
    }

    /// What this notice shows of the request; a message is rewritten when it changes.
    pub fn shown(&self) -> (ApprovalStatus, u32) {
        (self.status, self.approvals)
    }

    /// The record of this notice on channel `kind`, claimed before it goes out.
    pub fn claim(&self, kind: IntegrationKind, now_ms: i64) -> ApprovalNotice {
        ApprovalNotice {
            org_id: self.org,
            approval_id: self.id,
            kind,
            channel: String::new(),
            message_ts: String::new(),
            status: self.status,
            votes: self.approvals,
            updated_ms: now_ms,
        }
    }

    /// `crowdstrike.hosts:write`.
    pub fn action(&self) -> String {
        format!("{}.{}", self.connector, self.operation)
    }

    /// One line: what ARX asks, or how the request ended and who decided.
    pub fn headline(&self) -> String {
        let by = if self.decided_by.is_empty() {
            String::new()
        } else {
            format!(" by {}", self.decided_by.join(" and "))
        };
        let what = match self.kind {
            ApprovalKind::Grant => "temporary access",
            ApprovalKind::Manifest => "a manifest that widens the agent's scope",
            ApprovalKind::Call => "a call",
        };
        match self.status {
            ApprovalStatus::Pending if self.approvals > 0 => format!(
                "Approval needed: {} of {} approvals so far",
                self.approvals, self.needed
            ),
            ApprovalStatus::Pending => format!("Approval needed for {what}"),
            ApprovalStatus::Approved | ApprovalStatus::Executing => {
                format!("Approved{by}; running")
            }
            ApprovalStatus::Executed => format!("Approved{by} and done"),
            ApprovalStatus::Failed => format!("Approved{by}, but it failed"),
            ApprovalStatus::Denied => format!("Denied{by}"),
            ApprovalStatus::Expired => {
                format!("Expired: nobody decided before {}", self.expires_at)
            }
            ApprovalStatus::Cancelled => "Cancelled".to_string(),
        }
    }

    /// The request as JSON for webhooks (no params: they may hold sensitive values; the
    /// console shows them to those who may see them).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "kind": self.kind, "status": self.status.as_str(),
            "agent": self.agent, "connector": self.connector, "operation": self.operation,
            "instance": self.instance, "environment": self.environment,
            "risk_score": self.risk_score, "rule": self.rule, "reason": self.reason,
            "approvals": self.approvals, "approvals_needed": self.needed,
            "decided_by": self.decided_by, "comment": self.comment,
            "created_at": self.created_at, "expires_at": self.expires_at,
            "diff": self.diff, "link": self.link, "summary": self.headline(),
            "details": if self.kind == ApprovalKind::Call { Value::Null } else { json!(self.details) },
        })
    }
}
