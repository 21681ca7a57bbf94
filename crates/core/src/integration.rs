//! The model of an org's notification and decision channels: Slack (messages with
//! Approve and Deny buttons), Microsoft Teams incoming webhooks and generic signed
//! webhooks. Plain settings are stored as they are; secrets are sealed by the vault and
//! leave the engine only as [`Secret`]s, for delivery.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::ids::{ApprovalId, OrgId};
use crate::model::ApprovalStatus;
use crate::secret::{Credentials, Secret};

/// Where Slack's Web API lives unless an org says otherwise (tests point at a local one).
pub const SLACK_API_BASE_URL: &str = "https://slack.com/api";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IntegrationKind {
    Slack,
    Teams,
    Webhook,
}

impl IntegrationKind {
    pub const ALL: [IntegrationKind; 3] = [
        IntegrationKind::Slack,
        IntegrationKind::Teams,
        IntegrationKind::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::Slack => "slack",
            IntegrationKind::Teams => "teams",
            IntegrationKind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The fields that are sealed, never shown.
    pub fn secret_fields(self) -> &'static [&'static str] {
        match self {
            IntegrationKind::Slack => &["bot_token", "signing_secret"],
            IntegrationKind::Teams => &["url"],
            IntegrationKind::Webhook => &["secret"],
        }
    }

    /// The fields of the admin API's body, for error messages.
    fn shape(self) -> &'static str {
        match self {
            IntegrationKind::Slack => {
                "{bot_token, signing_secret, channel, team_id, app_id, api_base_url?} (team_id is the workspace's T… id, app_id the approval app's A… id from its Basic Information page; api_base_url defaults to https://slack.com/api)"
            }
            IntegrationKind::Teams => "{url} (the Teams incoming webhook URL)",
            IntegrationKind::Webhook => "{url, secret}",
        }
    }
}

/// An integration as stored: plain settings, and the secrets sealed by the vault.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIntegration {
    pub org_id: OrgId,
    pub kind: IntegrationKind,
    pub config: BTreeMap<String, String>,
    /// `v1:…` ciphertext of a JSON object of secret fields; bound to the org and kind.
    pub sealed_secrets: String,
    /// Names of the sealed fields (their values never leave the vault unsealed).
    pub secret_fields: Vec<String>,
    pub updated_ms: i64,
    pub updated_by: String,
}

/// What the admin API shows of an integration: its settings and which secrets are set,
/// never their values.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IntegrationView {
    pub kind: IntegrationKind,
    pub configured: bool,
    pub config: BTreeMap<String, String>,
    /// For each secret field, whether it is set.
    pub secrets_set: BTreeMap<String, bool>,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
}

/// An integration unsealed for delivery: the secrets stay [`Secret`]s (redacted in
/// `Debug`, zeroized on drop).
#[derive(Debug, Clone)]
pub struct IntegrationSettings {
    pub kind: IntegrationKind,
    pub config: BTreeMap<String, String>,
    pub secrets: Credentials,
}

impl IntegrationSettings {
    pub fn config(&self, key: &str) -> &str {
        self.config.get(key).map_or("", String::as_str)
    }
    pub fn secret(&self, key: &str) -> Option<&Secret> {
        self.secrets.0.get(key)
    }
}

/// What ARX last sent about one approval request on one channel (for Slack, the message
/// to update when the request ends).
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalNotice {
    pub org_id: OrgId,
    pub approval_id: ApprovalId,
    pub kind: IntegrationKind,
    /// The Slack channel id the message is in (empty for webhooks).
    pub channel: String,
    /// The Slack message's `ts` (empty for webhooks).
    pub message_ts: String,
    /// The request's status the last notice showed.
    pub status: ApprovalStatus,
    /// The approvals counted so far that the last notice showed ("1 of 2").
    pub votes: u32,
    pub updated_ms: i64,
}

impl ApprovalNotice {
    /// What the notice showed: a new notice is due when this changes.
    pub fn shown(&self) -> (ApprovalStatus, u32) {
        (self.status, self.votes)
    }
}

/// The Slack app that carries approval requests: secrets (`bot_token`,
/// `signing_secret`) are sealed and never shown again.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"bot_token": "xoxb-example", "signing_secret": "example-signing-secret",
    "channel": "C0123ABCD", "team_id": "T0123ABCD", "app_id": "A0123ABCD"}))]
pub struct SlackInput {
    bot_token: String,
    signing_secret: String,
    /// The channel requests are posted to.
    channel: String,
    /// The workspace (`T…`) and the app (`A…`) whose button presses count: a press from
    /// another workspace or another app signed with a leaked secret is refused.
    #[schema(pattern = "^T[A-Z0-9]{1,31}$")]
    team_id: String,
    #[schema(pattern = "^A[A-Z0-9]{1,31}$")]
    app_id: String,
    /// Slack's Web API (an https URL); defaults to https://slack.com/api.
    #[serde(default)]
    api_base_url: Option<String>,
}

/// A Teams incoming webhook: the URL is the credential, sealed.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://example.webhook.office.com/webhookb2/example"}))]
pub struct TeamsInput {
    /// An https URL.
    url: String,
}

/// A webhook that receives signed approval notices.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.com/arx", "secret": "example-shared-secret"}))]
pub struct WebhookInput {
    /// An https URL.
    url: String,
    /// The key of the notices' HMAC signature.
    secret: String,
}

/// Plain settings and secrets, validated, from the admin API's JSON body.
pub(crate) type Parsed = (BTreeMap<String, String>, BTreeMap<String, String>);

fn required(what: &str, field: &'static str, v: String) -> Result<String, CoreError> {
    let v = v.trim().to_string();
    if v.is_empty() || v.len() > 2000 {
        return Err(CoreError::InvalidField {
            field,
            message: format!("{what} needs '{field}' (1 to 2000 characters)"),
        });
    }
    Ok(v)
}

/// An `https://` URL to a public host; `http://` and local addresses (loopback, private,
/// link-local) only when the server allows local targets (`--allow-local-targets`, which
/// the demo and the tests set). Plain HTTP would expose what travels with it, and a local
/// address would turn ARX's notices against the internal network.
/// A URL that carries a credential (Slack's API, a Teams webhook URL) stays https even then,
/// except to this machine, where it cannot be overheard.
pub(crate) fn checked_url(
    what: &str,
    field: &'static str,
    v: String,
    allow_local: bool,
    carries_secret: bool,
) -> Result<String, CoreError> {
    let v = required(what, field, v)?;
    let bad = |why: &str| CoreError::InvalidField {
        field,
        message: format!("{what} '{field}' {why}"),
    };
    let (rest, plain) = match (v.strip_prefix("https://"), v.strip_prefix("http://")) {
        (Some(r), _) => (r, false),
        (None, Some(r)) => (r, true),
        (None, None) => return Err(bad("must be an https:// URL")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || rest.contains(char::is_whitespace) {
        return Err(bad(
            "must be an https:// URL (a host, no user info or spaces)",
        ));
    }
    let host = authority
        .rsplit_once(':')
        .filter(|(h, _)| !h.ends_with(']') || authority.starts_with('['))
        .map_or(authority, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if allow_local && plain && carries_secret && !loopback {
        return Err(bad(
            "must use https:// (it carries a credential; plain http:// only to this machine)",
        ));
    }
    if !allow_local {
        if host == "localhost" || host.ends_with(".localhost") {
            return Err(bad(
                "must not be a local address (start the server with --allow-local-targets to allow it)",
            ));
        }
        crate::target::check_url(&v, false).map_err(|why| {
            bad(&format!(
                "must be an https:// URL to a public host ({})",
                why.trim_start_matches("refused: ")
            ))
        })?;
    }
    Ok(v.trim_end_matches('/').to_string())
}

/// Parses and validates the body of `PUT /v1/admin/integrations/{kind}`.
pub(crate) fn parse_input(
    kind: IntegrationKind,
    body: serde_json::Value,
    allow_local: bool,
) -> Result<Parsed, CoreError> {
    let bad = |e: serde_json::Error| {
        CoreError::InvalidRequest(format!(
            "the {} settings are {}: {e}",
            kind.as_str(),
            kind.shape()
        ))
    };
    let mut config = BTreeMap::new();
    let mut secrets = BTreeMap::new();
    match kind {
        IntegrationKind::Slack => {
            let i: SlackInput = serde_json::from_value(body).map_err(bad)?;
            secrets.insert(
                "bot_token".into(),
                required(kind.as_str(), "bot_token", i.bot_token)?,
            );
            secrets.insert(
                "signing_secret".into(),
                required(kind.as_str(), "signing_secret", i.signing_secret)?,
            );
            config.insert(
                "channel".into(),
                required(kind.as_str(), "channel", i.channel)?,
            );
            for (field, v, prefix) in [("team_id", i.team_id, 'T'), ("app_id", i.app_id, 'A')] {
                let v = required(kind.as_str(), field, v)?;
                if !v.starts_with(prefix)
                    || v.len() > 32
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                {
                    return Err(CoreError::InvalidField {
                        field,
                        message: format!(
                            "slack '{field}' is an id like {prefix}0123ABCD (upper-case letters and digits, starting with {prefix})"
                        ),
                    });
                }
                config.insert(field.into(), v);
            }
            let base = match i.api_base_url {
                Some(u) => checked_url(kind.as_str(), "api_base_url", u, allow_local, true)?,
                None => SLACK_API_BASE_URL.to_string(),
            };
            config.insert("api_base_url".into(), base);
        }
        IntegrationKind::Teams => {
            let i: TeamsInput = serde_json::from_value(body).map_err(bad)?;
            // The URL itself is the credential (anyone holding it can post), so it is sealed.
            secrets.insert(
                "url".into(),
                checked_url(kind.as_str(), "url", i.url, allow_local, true)?,
            );
        }
        IntegrationKind::Webhook => {
            let i: WebhookInput = serde_json::from_value(body).map_err(bad)?;
            config.insert(
                "url".into(),
                checked_url(kind.as_str(), "url", i.url, allow_local, false)?,
            );
            secrets.insert(
                "secret".into(),
                required(kind.as_str(), "secret", i.secret)?,
            );
        }
    }
    Ok((config, secrets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slack_settings_default_the_api_and_keep_secrets_apart() {
        let (config, secrets) = parse_input(
            IntegrationKind::Slack,
            json!({"bot_token": "xoxb-1", "signing_secret": "abc", "channel": "C1", "team_id": "T1", "app_id": "A1"}),
            false,
        )
        .unwrap();
        assert_eq!(config["api_base_url"], SLACK_API_BASE_URL);
        assert_eq!(config["channel"], "C1");
        assert_eq!(
            secrets.keys().collect::<Vec<_>>(),
            ["bot_token", "signing_secret"]
        );
    }

    #[test]
    fn bad_settings_say_what_is_expected() {
        let teams = |url: &str, local: bool| {
            parse_input(IntegrationKind::Teams, json!({"url": url}), local)
        };
        let webhook = |url: &str, local: bool| {
            parse_input(
                IntegrationKind::Webhook,
                json!({"url": url, "secret": "s"}),
                local,
            )
        };
        let e = webhook("ftp://x", true).unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        let e = teams("http://teams.example", false).unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        assert!(teams("https://acme.webhook.office.com/x", false).is_ok());
        // Plain http and local addresses only when the server allows local targets.
        for local in [
            "http://127.0.0.1:9/hook",
            "https://127.0.0.1:9/hook",
            "https://[::1]:9/hook",
            "https://localhost/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.8/hook",
            "https://2130706433/hook",
            "https://user@hooks.example/x",
        ] {
            assert!(teams(local, false).is_err(), "{local}");
        }
        assert!(teams("http://127.0.0.1:9/hook", true).is_ok());
        assert!(teams("http://[::1]:9/hook", true).is_ok());
        // A Teams URL is a credential: plain http only to this machine, even then.
        assert!(teams("http://teams.example/x", true).is_err());
        assert!(teams("http://127.0.0.1.evil.example/", true).is_err());
        assert!(
            webhook("http://hooks.internal/x", true).is_ok(),
            "a signed webhook carries no credential"
        );
        let e = webhook("http://hooks.example/x", false).unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        let e = teams("", false).unwrap_err();
        assert!(e.to_string().contains("url"), "{e}");
        let e =
            parse_input(IntegrationKind::Teams, json!({"link": "https://x"}), false).unwrap_err();
        assert!(e.to_string().contains("{url}"), "{e}");
        let e = parse_input(
            IntegrationKind::Slack,
            json!({"bot_token": " ", "signing_secret": "abc", "channel": "C1", "team_id": "T1", "app_id": "A1"}),
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("bot_token"), "{e}");
    }
}

/// A drift alert the org's channels hear of (`drift.detected`): a new alert of severity
/// critical, or one whose action is `suspend_and_notify`. Sent once, by the replica that
/// raised the alert, after the action was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftNotice {
    pub org_id: OrgId,
    pub alert_id: crate::ids::DriftId,
    pub agent_id: crate::ids::AgentId,
    /// The agent's name (an admin wrote it; escaped wherever it is shown).
    pub agent: String,
    /// The signal's kind (`undeclared_operation`) and its sentence.
    pub kind: String,
    pub signal: String,
    pub severity: crate::registry::Severity,
    pub action: crate::registry::DriftAction,
    /// The agent's status once the action was taken (`suspended`).
    pub status: crate::model::AgentStatus,
    pub manifest_version: Option<i64>,
    /// The intercept record of the call that drifted.
    pub audit_id: String,
    pub created_ms: i64,
}

impl DriftNotice {
    /// Whether an alert of `severity` handled by `action` is told to the org's channels.
    pub fn due(severity: crate::registry::Severity, action: crate::registry::DriftAction) -> bool {
        severity == crate::registry::Severity::Critical
            || action == crate::registry::DriftAction::SuspendAndNotify
    }
}
