//! Microsoft Teams: an Adaptive Card posted to the org's incoming webhook (or Workflows
//! webhook) URL when a request is new and when it ends. Teams cannot call ARX back, so
//! the card links into the console, where the reviewer decides.

use arx_core::integration::IntegrationSettings;
use serde_json::{Value, json};

use super::Failure;
use super::notice::{AGENT_WRITTEN, Notice};

/// Text a card shows as it is: the characters Teams' markdown reads (emphasis, links,
/// code, headings, HTML) are escaped with a backslash, so a name cannot become a link.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '[' | ']' | '(' | ')' | '~' | '`' | '<' | '>' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The message: one Adaptive Card with the request's facts and a link to decide.
pub fn card(n: &Notice) -> Value {
    let mut facts = vec![
        json!({"title": "Agent", "value": n.agent}),
        json!({"title": "Action", "value": n.action()}),
        json!({"title": "Target", "value": format!("{} ({})", n.instance, n.environment)}),
        json!({"title": "Risk", "value": format!("{}/100", n.risk_score)}),
        json!({"title": "Rule", "value": n.rule}),
    ];
    if !n.status.is_final() {
        facts.push(json!({"title": "Expires", "value": n.expires_at}));
    } else if !n.comment.is_empty() {
        facts.push(json!({"title": "Comment", "value": n.comment}));
    }
    let mut body = vec![
        json!({"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "text": n.headline()}),
        json!({"type": "FactSet", "facts": facts}),
    ];
    if !n.details.is_empty() {
        let title = n.details_title();
        body.push(json!({"type": "TextBlock", "wrap": true, "weight": "Bolder", "text": title}));
        body.push(
            json!({"type": "TextBlock", "wrap": true, "fontType": "Monospace",
                         "text": n.details.join("\n\n")}),
        );
    }
    if let Some(r) = &n.reasoning {
        body.push(json!({"type": "TextBlock", "wrap": true, "isSubtle": true,
                         "text": format!("{AGENT_WRITTEN}: {r}")}));
    }
    if !n.diff.is_empty() {
        let rows: Vec<String> = n.diff_lines().iter().map(|l| format!("- {l}")).collect();
        body.push(json!({"type": "TextBlock", "wrap": true, "text": format!("Change:\n{}", rows.join("\n"))}));
    }
    if let Some(note) = &n.diff_note {
        body.push(json!({"type": "TextBlock", "wrap": true, "isSubtle": true, "text": note}));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": [{"type": "Action.OpenUrl", "title": "Open in ARX", "url": n.link}],
            },
        }],
    })
}

/// Posts the card. The URL is a credential: errors never show it.
pub async fn send(
    http: &reqwest::Client,
    s: &IntegrationSettings,
    n: &Notice,
) -> Result<(), Failure> {
    post_card(http, s, &card(n)).await
}

/// Posts a message (an Adaptive Card) to the org's Teams webhook: every notice kind.
pub async fn post_card(
    http: &reqwest::Client,
    s: &IntegrationSettings,
    message: &Value,
) -> Result<(), Failure> {
    let url = s.secret("url").ok_or("the Teams settings have no URL")?;
    let r = http
        .post(url.expose())
        .json(message)
        .send()
        .await
        .map_err(|e| Failure::unanswered("Teams webhook", e))?;
    if !r.status().is_success() {
        return Err(Failure::from_status(
            "Teams webhook",
            r.status(),
            r.headers(),
        ));
    }
    Ok(())
}
