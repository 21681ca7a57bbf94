//! The `drift.detected` notice: when the engine raises a critical drift alert (or one
//! whose action is `suspend_and_notify`), the org's Slack channel, Teams webhook and signed
//! webhooks hear of it: which agent, which signal, the severity, the action taken (the
//! agent suspended) and a link to the console's Drift page. Sent through the same senders
//! as approval notices, with the same retries; never on the path of the call that drifted
//! (the engine only hands the notice over). Names are escaped for each channel.

use std::sync::{Arc, Weak};

use arx_core::Engine;
use arx_core::audit::format_ts;
use arx_core::integration::{DriftNotice, IntegrationKind, IntegrationSettings};
use serde_json::{Value, json};
use slack_morphism::prelude::{SlackBlock, SlackMessageContent};
use tokio::sync::broadcast::error::RecvError;

use super::notifier::{AGAIN_AFTER, AGAIN_TIMES, with_retries};
use super::{Failure, Hub, slack, teams, webhook};

/// The webhook event (`X-ARX-Event`) and the kind of notice.
pub const EVENT: &str = "drift.detected";

/// The notice as the channels show it.
pub struct DriftMessage<'a> {
    pub d: &'a DriftNotice,
    /// The console's Drift page, critical alerts first.
    pub link: String,
}

impl<'a> DriftMessage<'a> {
    pub fn new(d: &'a DriftNotice, public_url: &str) -> Self {
        DriftMessage {
            d,
            link: format!(
                "{}/drift?severity={}",
                public_url.trim_end_matches('/'),
                d.severity.as_str()
            ),
        }
    }

    /// What was done: `suspended` when the agent is, else the action's name.
    pub fn action_taken(&self) -> String {
        match self.d.status {
            arx_core::model::AgentStatus::Suspended => "agent suspended".into(),
            s if self.d.action.suspends() => format!("suspend (agent {})", s.as_str()),
            _ => self.d.action.as_str().replace('_', " "),
        }
    }

    pub fn headline(&self) -> String {
        format!(
            "Drift ({}): {}",
            self.d.severity.as_str(),
            self.action_taken()
        )
    }

    /// The webhook body (exact bytes sent and signed).
    pub fn body(&self, now_ms: i64) -> Vec<u8> {
        let d = self.d;
        json!({
            "id": uuid::Uuid::new_v4(),
            "event": EVENT,
            "sent_at": now_ms.div_euclid(1000),
            "sent_at_iso": format_ts(now_ms),
            "org_id": d.org_id,
            "drift": {
                "alert_id": d.alert_id, "agent_id": d.agent_id, "agent": d.agent,
                "signal": {"kind": d.kind, "text": d.signal},
                "severity": d.severity.as_str(), "action": d.action.as_str(),
                "agent_status": d.status.as_str(), "manifest_version": d.manifest_version,
                "audit_id": d.audit_id, "detected_at": format_ts(d.created_ms),
                "link": self.link, "summary": self.headline(),
            },
        })
        .to_string()
        .into_bytes()
    }

    /// Slack's blocks: names escaped for mrkdwn.
    pub fn slack_blocks(&self) -> Value {
        let d = self.d;
        let esc = slack::escape;
        let manifest = d
            .manifest_version
            .map_or("none".to_string(), |v| format!("version {v}"));
        json!([
            {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", esc(&self.headline()))}},
            {"type": "section", "text": {"type": "mrkdwn", "text": format!(
                "*{}* drifted from its manifest: {}", esc(&d.agent), esc(&d.signal)
            )}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": format!("*Severity*\n{}", d.severity.as_str())},
                {"type": "mrkdwn", "text": format!("*Action taken*\n{}", esc(&self.action_taken()))},
                {"type": "mrkdwn", "text": format!("*Manifest*\n{manifest}")},
                {"type": "mrkdwn", "text": format!("*Detected*\n{}", format_ts(d.created_ms))},
            ]},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": format!("<{}|Open the Drift page> · alert {}", self.link, d.alert_id)}
            ]},
        ])
    }

    fn slack_content(&self) -> Result<SlackMessageContent, String> {
        let blocks: Vec<SlackBlock> = serde_json::from_value(self.slack_blocks())
            .map_err(|e| format!("the message blocks do not fit Block Kit: {e}"))?;
        Ok(SlackMessageContent::new()
            .with_text(slack::escape(&format!(
                "{}: {}",
                self.headline(),
                self.d.agent
            )))
            .with_blocks(blocks))
    }

    /// The Teams card: the facts as a FactSet, names with markdown escaped.
    pub fn teams_card(&self) -> Value {
        let d = self.d;
        let facts = vec![
            json!({"title": "Agent", "value": teams::escape(&d.agent)}),
            json!({"title": "Signal", "value": teams::escape(&d.signal)}),
            json!({"title": "Severity", "value": d.severity.as_str()}),
            json!({"title": "Action taken", "value": teams::escape(&self.action_taken())}),
            json!({"title": "Detected", "value": format_ts(d.created_ms)}),
        ];
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
                         "text": teams::escape(&self.headline())},
                        {"type": "FactSet", "facts": facts},
                    ],
                    "actions": [{"type": "Action.OpenUrl", "title": "Open the Drift page", "url": self.link}],
                },
            }],
        })
    }
}

/// Follows the engine's drift notices until it is dropped; each is delivered by its own
/// task, so a slow channel holds nothing else up.
pub(super) fn follow(engine: &Arc<Engine>, hub: Arc<Hub>) {
    let mut events = engine.drift_events();
    let engine = Arc::downgrade(engine);
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(d) => {
                    tokio::spawn(deliver(engine.clone(), hub.clone(), d));
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "the notifier fell behind; some drift notices were not sent"
                    );
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// Tells each configured channel; a channel that still fails after its retries is tried
/// again a minute later (three times), the others are not sent twice.
async fn deliver(engine: Weak<Engine>, hub: Arc<Hub>, d: DriftNotice) {
    let mut left: Vec<IntegrationKind> = IntegrationKind::ALL.to_vec();
    for round in 0..=AGAIN_TIMES {
        if round > 0 {
            tokio::time::sleep(AGAIN_AFTER).await;
        }
        let Some(e) = engine.upgrade() else { return };
        let mut failed = Vec::new();
        for kind in left {
            let s = match e.system().integration_settings(d.org_id, kind).await {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(err) => {
                    tracing::warn!(org = %d.org_id, kind = kind.as_str(), error = %err, "integration settings unreadable");
                    failed.push(kind);
                    continue;
                }
            };
            if let Err(err) = send(&e, &hub, &s, &d).await {
                tracing::warn!(org = %d.org_id, alert = %d.alert_id, kind = kind.as_str(), error = %err, "drift notice not delivered");
                failed.push(kind);
            }
        }
        if failed.is_empty() {
            return;
        }
        left = failed;
    }
}

async fn send(
    e: &Engine,
    hub: &Hub,
    s: &IntegrationSettings,
    d: &DriftNotice,
) -> Result<(), Failure> {
    let m = DriftMessage::new(d, &hub.public_url);
    match s.kind {
        IntegrationKind::Slack => {
            let ws = hub.slack.workspace(s)?;
            let content = m.slack_content()?;
            with_retries("Slack chat.postMessage", false, || {
                ws.post_content(content.clone())
            })
            .await
            .map(|_| ())
        }
        IntegrationKind::Teams => {
            let card = m.teams_card();
            with_retries("Teams webhook", false, || {
                teams::post_card(&hub.http, s, &card)
            })
            .await
        }
        IntegrationKind::Webhook => {
            with_retries("webhook", false, || {
                let now = e.now_ms();
                webhook::post_signed(&hub.http, s, EVENT, m.body(now), now)
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use arx_core::ids::{AgentId, DriftId, OrgId};
    use arx_core::model::AgentStatus;
    use arx_core::registry::{DriftAction, Severity};

    use super::*;

    fn notice(agent: &str, signal: &str) -> DriftNotice {
        DriftNotice {
            org_id: OrgId::new(),
            alert_id: DriftId::new(),
            agent_id: AgentId::new(),
            agent: agent.into(),
            kind: "undeclared_operation".into(),
            signal: signal.into(),
            severity: Severity::Critical,
            action: DriftAction::SuspendAndNotify,
            status: AgentStatus::Suspended,
            manifest_version: Some(2),
            audit_id: "rec".into(),
            created_ms: 0,
        }
    }

    #[test]
    fn names_and_signals_cannot_become_links_or_markup() {
        let d = notice(
            "triage_<b>",
            "undeclared <https://evil.example|click> [here](https://evil.example) *now*",
        );
        let m = DriftMessage::new(&d, "https://arx.example/");
        let slack = m.slack_blocks().to_string();
        assert!(!slack.contains("<https://evil"), "{slack}");
        assert!(
            slack.contains("&lt;https://evil.example|click&gt;"),
            "{slack}"
        );
        assert!(
            slack.contains("<https://arx.example/drift?severity=critical|Open the Drift page>"),
            "{slack}"
        );
        let card = m.teams_card().to_string();
        assert!(!card.contains("[here](https"), "{card}");
        assert!(
            card.contains(r"\\[here\\]\\(https://evil.example\\)"),
            "{card}"
        );
        assert!(card.contains(r"triage\\_\\<b\\>"), "{card}");
        assert_eq!(m.action_taken(), "agent suspended");
    }

    #[test]
    fn the_webhook_body_names_the_alert_and_its_action() {
        let d = notice(
            "triage",
            "undeclared critical operation crowdstrike:rtr:command_admin",
        );
        let body: Value =
            serde_json::from_slice(&DriftMessage::new(&d, "https://arx.example").body(5_000))
                .unwrap_or_default();
        assert_eq!(body["event"], EVENT);
        assert_eq!(body["sent_at"], 5);
        assert_eq!(body["drift"]["agent_status"], "suspended");
        assert_eq!(body["drift"]["severity"], "critical");
        assert_eq!(
            body["drift"]["link"],
            "https://arx.example/drift?severity=critical"
        );
    }
}
