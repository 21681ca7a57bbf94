//! Slack's Web API through slack-morphism: `chat.postMessage` and `chat.update` for the
//! message of each approval request, `users.info` to learn who pressed a button, and
//! `chat.postEphemeral` to tell them why a press was refused. Messages are Block Kit,
//! written as JSON and read into slack-morphism's block types.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arx_core::integration::{IntegrationSettings, SLACK_API_BASE_URL};
use arx_core::model::ApprovalStatus;
use hyper_rustls::HttpsConnectorBuilder;
use serde_json::{Value, json};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::Failure;
use super::notice::{AGENT_WRITTEN, Notice};

/// `action_id`s of the buttons; their `value` is the approval id.
pub const APPROVE: &str = "arx_approve";
pub const DENY: &str = "arx_deny";

type Client = SlackHyperClient;

/// One Slack client per API base URL (one in production; tests point orgs at local fakes).
#[derive(Default)]
pub struct Clients {
    by_base: Mutex<HashMap<String, Arc<Client>>>,
}

fn connector(base: &str) -> SlackClientHyperHttpsConnector {
    // Plain http is only reachable for a loopback `api_base_url` (checked when it is set).
    SlackClientHyperConnector::from(
        HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build(),
    )
    .with_slack_api_url(base)
}

/// Escapes text for Slack's mrkdwn (`&`, `<`, `>` are control characters there).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text safe inside a Slack code block: agent-written backticks cannot close it.
fn fence(s: &str) -> String {
    s.replace('`', "ˋ")
}

/// The message for a request: what it asks, risk, rule, a short diff, and the Approve
/// and Deny buttons while it is pending; the outcome and who decided afterwards.
pub fn blocks(n: &Notice) -> Value {
    let mut blocks = vec![
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", escape(&n.headline()))}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!(
            "*{}* wants to run `{}` on *{}* ({})",
            escape(&n.agent), escape(&n.action()), escape(&n.instance), escape(&n.environment)
        )}}),
    ];
    let mut fields = vec![
        format!("*Risk*\n{}/100", n.risk_score),
        format!("*Rule*\n{}", escape(&n.rule)),
    ];
    if n.status == ApprovalStatus::Pending {
        fields.push(format!("*Expires*\n{}", n.expires_at));
        if n.needed > 1 {
            fields.push(format!("*Approvals*\n{} of {}", n.approvals, n.needed));
        }
    }
    blocks.push(json!({"type": "section", "fields": fields
        .iter()
        .map(|f| json!({"type": "mrkdwn", "text": f}))
        .collect::<Vec<_>>()}));
    if !n.details.is_empty() {
        let title = n.details_title();
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": format!(
                "*{title}*\n```{}```", fence(&escape(&n.details.join("\n")))
            )}}),
        );
    }
    if let Some(r) = &n.reasoning {
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": format!("{AGENT_WRITTEN}: {}", escape(&fence(r)))}
        ]}));
    }
    if !n.diff.is_empty() {
        let rows = n.diff_lines();
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": format!(
                "*Change*\n```{}```", fence(&escape(&rows.join("\n")))
            )}}),
        );
    }
    if let Some(note) = &n.diff_note {
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": escape(note)}
        ]}));
    }
    if n.status == ApprovalStatus::Pending {
        let id = n.id.to_string();
        blocks.push(
            json!({"type": "actions", "block_id": "arx_decision", "elements": [
                {"type": "button", "action_id": APPROVE, "value": id, "style": "primary",
                 "text": {"type": "plain_text", "text": "Approve"}},
                {"type": "button", "action_id": DENY, "value": id, "style": "danger",
                 "text": {"type": "plain_text", "text": "Deny"}},
            ]}),
        );
    } else if !n.comment.is_empty() {
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": format!("Comment: {}", escape(&n.comment))}
        ]}));
    }
    blocks.push(json!({"type": "context", "elements": [
        {"type": "mrkdwn", "text": format!("<{}|Open in ARX> · request {}", n.link, n.id)}
    ]}));
    Value::Array(blocks)
}

fn content(n: &Notice) -> Result<SlackMessageContent, String> {
    let blocks: Vec<SlackBlock> = serde_json::from_value(blocks(n))
        .map_err(|e| format!("the message blocks do not fit Block Kit: {e}"))?;
    Ok(SlackMessageContent::new()
        .with_text(format!("{}: {} by {}", n.headline(), n.action(), n.agent))
        .with_blocks(blocks))
}

/// Slack's error codes that say "try again later" rather than "this will never work".
const TRANSIENT_CODES: [&str; 5] = [
    "ratelimited",
    "service_unavailable",
    "internal_error",
    "fatal_error",
    "request_timeout",
];

/// A Slack API failure, without the token (slack-morphism never prints it), and whether
/// another try may help: the network, 5xx and rate limits (with Slack's `Retry-After`).
fn failed(method: &str) -> impl Fn(SlackClientError) -> Failure + '_ {
    move |e| {
        let message = format!("Slack {method} failed: {e}");
        match &e {
            SlackClientError::RateLimitError(r) => Failure::Transient {
                message,
                after: r.retry_after,
            },
            SlackClientError::HttpError(h) if h.status_code.is_server_error() => {
                Failure::transient(message)
            }
            SlackClientError::ApiError(a) if TRANSIENT_CODES.contains(&a.code.as_str()) => {
                Failure::transient(message)
            }
            SlackClientError::HttpProtocolError(_)
            | SlackClientError::SystemError(_)
            | SlackClientError::EndOfStream(_) => Failure::transient(message),
            _ => Failure::Permanent(message),
        }
    }
}

/// The org's Slack: its client and bot token.
pub struct Workspace<'a> {
    client: Arc<Client>,
    token: SlackApiToken,
    settings: &'a IntegrationSettings,
}

impl Clients {
    /// The org's Slack, or why it cannot be used.
    pub fn workspace<'a>(&self, s: &'a IntegrationSettings) -> Result<Workspace<'a>, String> {
        let token = s
            .secret("bot_token")
            .ok_or("the Slack settings have no bot token")?;
        let base = match s.config("api_base_url") {
            "" => SLACK_API_BASE_URL,
            b => b,
        };
        let client = {
            let mut m = self.by_base.lock().unwrap_or_else(|p| p.into_inner());
            m.entry(base.to_string())
                .or_insert_with(|| Arc::new(SlackClient::new(connector(base))))
                .clone()
        };
        Ok(Workspace {
            client,
            token: SlackApiToken::new(SlackApiTokenValue::new(token.expose().to_string())),
            settings: s,
        })
    }
}

impl Workspace<'_> {
    /// Posts the request's message to the org's channel; the channel id and `ts` to update it by.
    pub async fn post(&self, n: &Notice) -> Result<(String, String), Failure> {
        self.post_content(content(n)?).await
    }

    /// Posts a message to the org's channel (every notice kind goes out this way).
    pub async fn post_content(
        &self,
        content: SlackMessageContent,
    ) -> Result<(String, String), Failure> {
        let req = SlackApiChatPostMessageRequest::new(
            SlackChannelId::new(self.settings.config("channel").to_string()),
            content,
        );
        let session = self.client.open_session(&self.token);
        let r = session.chat_post_message(&req).await.map_err(|e| {
            // Posting twice makes two messages: try again only when Slack answered that
            // it did not post (a rate limit, a 5xx, a "try later" code), not when the
            // connection broke and the message may have arrived.
            let definite = matches!(
                e,
                SlackClientError::RateLimitError(_)
                    | SlackClientError::HttpError(_)
                    | SlackClientError::ApiError(_)
            );
            match failed("chat.postMessage")(e) {
                Failure::Transient { message, .. } if !definite => Failure::Permanent(message),
                f => f,
            }
        })?;
        Ok((r.channel.0, r.ts.0))
    }

    /// Rewrites a posted message to show the request as it stands.
    pub async fn update(&self, channel: &str, ts: &str, n: &Notice) -> Result<(), Failure> {
        let req = SlackApiChatUpdateRequest::new(
            SlackChannelId::new(channel.to_string()),
            content(n)?,
            SlackTs::new(ts.to_string()),
        );
        let session = self.client.open_session(&self.token);
        session
            .chat_update(&req)
            .await
            .map_err(failed("chat.update"))?;
        Ok(())
    }

    /// The email on a Slack user's profile (needs the `users:read.email` scope).
    pub async fn user_email(&self, user: &str) -> Result<Option<String>, String> {
        let session = self.client.open_session(&self.token);
        let r = session
            .users_info(&SlackApiUsersInfoRequest::new(SlackUserId::new(
                user.to_string(),
            )))
            .await
            .map_err(|e| failed("users.info")(e).to_string())?;
        Ok(r.user.profile.and_then(|p| p.email).map(|e| e.0))
    }

    /// A message only `user` sees, in `channel`.
    pub async fn tell(&self, channel: &str, user: &str, text: &str) -> Result<(), String> {
        let req = SlackApiChatPostEphemeralRequest::new(
            SlackChannelId::new(channel.to_string()),
            SlackUserId::new(user.to_string()),
            SlackMessageContent::new().with_text(text.to_string()),
        );
        let session = self.client.open_session(&self.token);
        session
            .chat_post_ephemeral(&req)
            .await
            .map_err(|e| failed("chat.postEphemeral")(e).to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arx_core::engine::StateRow;
    use arx_core::ids::{ApprovalId, OrgId};

    fn notice(status: ApprovalStatus) -> Notice {
        Notice {
            id: ApprovalId::new(),
            org: OrgId::new(),
            kind: arx_core::model::ApprovalKind::Call,
            status,
            agent: "remediation-agent".into(),
            connector: "crowdstrike".into(),
            operation: "hosts:write".into(),
            instance: "main".into(),
            environment: "prod".into(),
            risk_score: 72,
            rule: "contain-prod-hosts".into(),
            reason: String::new(),
            reasoning: Some("beaconing to <evil> & co ```".into()),
            details: arx_core::review::param_lines(
                &serde_json::json!({"action_name": "contain", "ids": ["host-1", "host-2"]}),
            ),
            diff: vec![StateRow {
                record: "host-1".into(),
                field: "status".into(),
                current: "normal".into(),
                proposed: "contained".into(),
                changed: true,
            }],
            diff_note: Some("Covers 1 record; all were read.".into()),
            approvals: 0,
            needed: 1,
            decided_by: vec!["lead@example.com".into()],
            comment: "confirmed".into(),
            created_at: String::new(),
            expires_at: "2030-01-01T00:00:00.000Z".into(),
            link: "https://arx.example/approvals/view?id=x&sig=y".into(),
        }
    }

    fn is_known(b: &SlackBlock) -> bool {
        !matches!(b, SlackBlock::Unknown(_))
    }

    #[test]
    fn a_pending_request_has_buttons_and_an_ended_one_has_none() {
        let pending = content(&notice(ApprovalStatus::Pending)).unwrap();
        let blocks = pending.blocks.unwrap();
        assert!(blocks.iter().all(is_known), "{blocks:?}");
        let json = serde_json::to_string(&blocks).unwrap();
        assert!(json.contains(APPROVE) && json.contains(DENY), "{json}");
        assert!(json.contains("normal → contained"), "{json}");
        assert!(
            json.contains("&lt;evil&gt; &amp; co ˋˋˋ"),
            "escaped: {json}"
        );
        assert!(json.contains("Written by the agent"), "{json}");
        assert!(
            json.contains(r#"ids (2 items): \"host-1\", \"host-2\""#),
            "{json}"
        );

        let done = content(&notice(ApprovalStatus::Executed)).unwrap();
        let json = serde_json::to_string(&done.blocks.unwrap()).unwrap();
        assert!(
            !json.contains(APPROVE) && !json.contains("\"button\""),
            "{json}"
        );
        assert!(
            json.contains("Approved by lead@example.com and done"),
            "{json}"
        );
    }
}
