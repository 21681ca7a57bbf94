//! Message authentication for integrations (docs/architecture.md §6): Slack's v0 request
//! signatures on inbound interactions, the `X-ARX-Signature` of outbound webhooks, and
//! the tag of signed console links. HMAC-SHA256 throughout; every comparison of a
//! received value is constant-time.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// How far a Slack request's timestamp may lie from now, in either direction.
pub const SLACK_MAX_SKEW_SECS: i64 = 300;

/// HMAC-SHA256 of the concatenated `parts` under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; the zero-key
    // fallback only satisfies the type.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as KeyInit>::new(&Default::default()));
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Whether two byte strings are equal, in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Slack's request signature: `v0=` and the hex HMAC of `v0:{timestamp}:{body}`.
pub fn slack_signature(signing_secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mac = hmac_sha256(
        signing_secret.as_bytes(),
        &[b"v0:", timestamp.as_bytes(), b":", body],
    );
    format!("v0={}", hex::encode(mac))
}

/// Why a request claiming to come from Slack was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackRefusal {
    /// `X-Slack-Signature` or `X-Slack-Request-Timestamp` is absent.
    MissingHeaders,
    /// The timestamp is not a number of seconds.
    BadTimestamp,
    /// The timestamp is older than the window allows (a replay, or a slow proxy).
    Stale { age_secs: i64 },
    /// The timestamp lies ahead of our clock by more than the window.
    Future { ahead_secs: i64 },
    /// The signature does not match the body under the org's signing secret.
    BadSignature,
}

impl SlackRefusal {
    /// A short, stable name for audit records and tests.
    pub fn code(&self) -> &'static str {
        match self {
            SlackRefusal::MissingHeaders => "missing_headers",
            SlackRefusal::BadTimestamp => "bad_timestamp",
            SlackRefusal::Stale { .. } => "stale_timestamp",
            SlackRefusal::Future { .. } => "future_timestamp",
            SlackRefusal::BadSignature => "bad_signature",
        }
    }

    /// What went wrong, for the answer and the audit record (never a secret).
    pub fn message(&self) -> String {
        match self {
            SlackRefusal::MissingHeaders => {
                "X-Slack-Signature and X-Slack-Request-Timestamp are required".into()
            }
            SlackRefusal::BadTimestamp => {
                "X-Slack-Request-Timestamp is not a Unix time in seconds".into()
            }
            SlackRefusal::Stale { age_secs } => format!(
                "the request is {age_secs} s old; Slack requests older than {SLACK_MAX_SKEW_SECS} s are refused"
            ),
            SlackRefusal::Future { ahead_secs } => format!(
                "the request is dated {ahead_secs} s in the future; more than {SLACK_MAX_SKEW_SECS} s is refused"
            ),
            SlackRefusal::BadSignature => {
                "the signature does not match the body under this org's Slack signing secret".into()
            }
        }
    }
}

/// Checks a Slack request: both headers present, the timestamp within
/// [`SLACK_MAX_SKEW_SECS`] of `now_secs`, and the signature over the exact body.
pub fn verify_slack(
    signing_secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SlackRefusal> {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(SlackRefusal::MissingHeaders);
    };
    let ts = ts.trim();
    let at: i64 = ts.parse().map_err(|_| SlackRefusal::BadTimestamp)?;
    let skew = now_secs.saturating_sub(at);
    if skew > SLACK_MAX_SKEW_SECS {
        return Err(SlackRefusal::Stale { age_secs: skew });
    }
    if -skew > SLACK_MAX_SKEW_SECS {
        return Err(SlackRefusal::Future { ahead_secs: -skew });
    }
    let expected = slack_signature(signing_secret, ts, body);
    if constant_time_eq(expected.as_bytes(), sig.trim().as_bytes()) {
        Ok(())
    } else {
        Err(SlackRefusal::BadSignature)
    }
}

/// The headers of an outbound webhook: its signature, when it was sent (Unix seconds),
/// and what it is about.
pub const SIGNATURE_HEADER: &str = "x-arx-signature";
pub const TIMESTAMP_HEADER: &str = "x-arx-timestamp";
pub const EVENT_HEADER: &str = "x-arx-event";

/// The `X-ARX-Signature` header of an outbound webhook: `sha256=` and the hex HMAC of
/// the exact body under the webhook's secret. The body carries its own `sent_at`, so
/// the signature covers the time too and a receiver can refuse replays.
pub fn webhook_signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &[body]))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's published example (api.slack.com/authentication/verifying-requests-from-slack).
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const AT: i64 = 1_531_420_618;

    #[test]
    fn slacks_published_example_verifies() {
        assert_eq!(slack_signature(SECRET, TS, BODY.as_bytes()), SIG);
        assert_eq!(
            verify_slack(SECRET, Some(TS), Some(SIG), BODY.as_bytes(), AT + 10),
            Ok(())
        );
    }

    #[test]
    fn tampering_staleness_and_missing_headers_are_refused() {
        let tampered = BODY.replace("roadrunner", "wile_e_coyote");
        assert_eq!(
            verify_slack(SECRET, Some(TS), Some(SIG), tampered.as_bytes(), AT),
            Err(SlackRefusal::BadSignature)
        );
        assert_eq!(
            verify_slack("another secret", Some(TS), Some(SIG), BODY.as_bytes(), AT),
            Err(SlackRefusal::BadSignature)
        );
        assert_eq!(
            verify_slack(SECRET, Some(TS), Some(SIG), BODY.as_bytes(), AT + 301),
            Err(SlackRefusal::Stale { age_secs: 301 })
        );
        assert_eq!(
            verify_slack(SECRET, Some(TS), Some(SIG), BODY.as_bytes(), AT - 301),
            Err(SlackRefusal::Future { ahead_secs: 301 })
        );
        assert!(verify_slack(SECRET, Some(TS), Some(SIG), BODY.as_bytes(), AT + 300).is_ok());
        assert_eq!(
            verify_slack(SECRET, None, Some(SIG), BODY.as_bytes(), AT),
            Err(SlackRefusal::MissingHeaders)
        );
        assert_eq!(
            verify_slack(SECRET, Some("yesterday"), Some(SIG), BODY.as_bytes(), AT),
            Err(SlackRefusal::BadTimestamp)
        );
    }

    #[test]
    fn webhook_signatures_cover_the_exact_body() {
        let a = webhook_signature("s3cret", br#"{"a":1}"#);
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, webhook_signature("s3cret", br#"{"a":2}"#));
        assert_ne!(a, webhook_signature("other", br#"{"a":1}"#));
    }
}
