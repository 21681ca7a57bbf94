//! Integrations (docs/architecture.md §6): a Slack message with Approve and Deny buttons for each
//! new approval request, updated when the request ends, and the interaction endpoint
//! behind the buttons; notices to Microsoft Teams and to generic signed webhooks; signed
//! console links. Settings are kept by the engine (secrets sealed by the vault); this
//! module renders and delivers. Its admin endpoints are `http::admin::integrations`; the
//! Slack interaction endpoint is mounted by `http`.

pub mod drift;
pub mod links;
pub mod notice;
pub mod notifier;
pub mod slack;
pub mod slack_interactions;
pub mod teams;
pub mod webhook;

use std::time::Duration;

/// What delivery needs besides the engine: HTTP clients and where the console is.
pub struct Hub {
    /// The console's base URL, for links (`ARX_PUBLIC_URL`).
    pub public_url: String,
    /// For Teams and webhooks: bounded time, no redirects (a redirect could carry a
    /// signed body somewhere it was not configured to go).
    pub http: reqwest::Client,
    pub slack: slack::Clients,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// `allow_local_targets`: Teams and webhook posts may go to local addresses too.
    pub fn new(public_url: &str, allow_local_targets: bool) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            // A name that resolves to a local address is refused when posting, as for calls.
            .dns_resolver(arx_core::target::resolver(allow_local_targets))
            .build()
            .map_err(|e| format!("cannot build the HTTP client for notifications: {e}"))?;
        Ok(Hub {
            public_url: public_url.trim_end_matches('/').to_string(),
            http,
            slack: slack::Clients::default(),
        })
    }
}

/// Why a notice did not go out, and whether trying again may help. Never holds a secret.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The network, a 5xx, or a rate limit: worth another try, after `after` when the
    /// other side said how long to wait.
    Transient {
        message: String,
        after: Option<Duration>,
    },
    /// It would fail the same way again (a bad token, an unknown channel, a 4xx).
    Permanent(String),
}

impl Failure {
    pub fn transient(message: impl Into<String>) -> Self {
        Failure::Transient {
            message: message.into(),
            after: None,
        }
    }

    /// A failed HTTP exchange (Teams, webhooks): connection errors, timeouts, 429 and 5xx
    /// are transient; a 429's or 503's `Retry-After` (in seconds) is honoured.
    pub fn from_status(
        what: &str,
        status: reqwest::StatusCode,
        headers: &reqwest::header::HeaderMap,
    ) -> Self {
        let message = format!("{what} answered {status}");
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let after = headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            Failure::Transient { message, after }
        } else {
            Failure::Permanent(message)
        }
    }
}

impl Failure {
    /// A request that got no answer: worth another try only if it never connected (past
    /// that, the notice may have arrived, and is not sent twice).
    pub fn unanswered(what: &str, e: reqwest::Error) -> Self {
        let connect = e.is_connect();
        let message = format!("{what} unreachable: {}", e.without_url());
        if connect {
            Failure::transient(message)
        } else {
            Failure::Permanent(message)
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Permanent(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::Permanent(message.to_string())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transient { message, .. } | Failure::Permanent(message) => {
                f.write_str(message)
            }
        }
    }
}
