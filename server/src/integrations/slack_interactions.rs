//! `POST /integrations/slack/interactions`: the Approve and Deny buttons of Slack
//! messages. The button names the request, which names the org; the org's signing
//! secret must verify Slack's v0 signature over the exact body, dated within five
//! minutes. Only then is the payload trusted: the Slack user becomes the ARX user of the
//! org an admin linked to that Slack member id, or else the one with the same email
//! (Slack's `users.info`), whose rights decide as in the console.
//! Every refusal is answered with its reason and recorded as `slack.interaction_refused`.
//!
//! Slack wants an answer within three seconds; a decision that takes longer (an approved
//! call still running) goes on in the background, and the notifier updates the message.

use std::sync::Arc;
use std::time::Duration;

use arx_core::ids::{ApprovalId, OrgId};
use arx_core::integration::IntegrationKind;
use arx_core::model::ApprovalStatus;
use arx_core::signing::{SlackRefusal, verify_slack};
use arx_core::{CoreError, Engine};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::Hub;
use super::slack::{APPROVE, DENY};
use crate::AppState;
use crate::error::ErrorBody;

/// How long the answer waits for the decision before acknowledging anyway.
const ACK_WITHIN: Duration = Duration::from_millis(2500);

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    user: Option<Named>,
    channel: Option<Named>,
    team: Option<Named>,
    api_app_id: Option<String>,
    container: Option<Container>,
    #[serde(default)]
    actions: Vec<Action>,
}

#[derive(Deserialize)]
struct Named {
    id: String,
}

#[derive(Deserialize)]
struct Container {
    channel_id: Option<String>,
    message_ts: Option<String>,
}

#[derive(Deserialize)]
struct Action {
    action_id: String,
    value: Option<String>,
}

/// A button press, as the (not yet verified) body claims it.
struct Press {
    approval: ApprovalId,
    approve: bool,
    user: String,
    channel: String,
    /// The `ts` of the message whose button was pressed.
    message_ts: String,
    team: String,
    app: String,
}

fn parse(body: &[u8]) -> Result<Press, String> {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| "the body must be application/x-www-form-urlencoded".to_string())?;
    let payload = form
        .into_iter()
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v)
        .ok_or("the body has no 'payload' field")?;
    let p: Payload = serde_json::from_str(&payload)
        .map_err(|e| format!("the payload is not a Slack interaction: {e}"))?;
    if p.kind != "block_actions" {
        return Err(format!(
            "ARX handles block_actions interactions, not {}",
            p.kind
        ));
    }
    let (approve, value) = p
        .actions
        .iter()
        .find_map(|a| match a.action_id.as_str() {
            APPROVE => Some((true, a.value.as_deref())),
            DENY => Some((false, a.value.as_deref())),
            _ => None,
        })
        .ok_or("the payload has no ARX Approve or Deny action")?;
    let approval = value
        .and_then(|v| v.parse().ok())
        .ok_or("the action does not carry an approval request id")?;
    let (container_channel, message_ts) = p
        .container
        .map(|c| (c.channel_id, c.message_ts))
        .unwrap_or_default();
    let channel = p
        .channel
        .map(|c| c.id)
        .or(container_channel)
        .unwrap_or_default();
    Ok(Press {
        approval,
        approve,
        user: p.user.map(|u| u.id).unwrap_or_default(),
        channel,
        message_ts: message_ts.unwrap_or_default(),
        team: p.team.map(|t| t.id).unwrap_or_default(),
        app: p.api_app_id.unwrap_or_default(),
    })
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn refusal(status: StatusCode, code: &str, reason: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "reason": reason, "message": message}})),
    )
        .into_response()
}

/// Records a refusal in the org's chain, coalesced per reason (a flood of forged presses
/// is one record per burst with a count); the answer goes out even if recording fails.
async fn record_refusal(engine: &Engine, org: OrgId, reason: &str, message: &str, fields: Value) {
    let refused = arx_core::audit::event::InteractionRefused {
        reason: reason.into(),
        message: message.into(),
        burst: Default::default(),
        details: match fields {
            Value::Object(m) => m,
            _ => Default::default(),
        },
    };
    if let Err(e) = engine
        .system()
        .record_interaction_refusal(org, refused)
        .await
    {
        tracing::error!(%org, error = ?e, "recording a refused Slack interaction failed");
    }
}

/// What Slack is answered once the signature checked out: the decision, or why it was
/// not recorded (the presser is told in Slack too).
#[derive(Serialize, ToSchema)]
pub struct SlackAnswer {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_id: Option<ApprovalId>,
    /// The request's status after the press; `deciding` while an approved call runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<SlackRefused>,
}

#[derive(Serialize, ToSchema)]
pub struct SlackRefused {
    reason: String,
    message: String,
}

impl SlackAnswer {
    fn refused(approval_id: Option<ApprovalId>, reason: &str, message: &str) -> Self {
        SlackAnswer {
            ok: false,
            approval_id,
            status: None,
            decided_by: None,
            refused: Some(SlackRefused {
                reason: reason.into(),
                message: message.into(),
            }),
        }
    }
}

/// Slack's form post of an interaction: `payload` is the interaction as JSON text.
#[derive(ToSchema)]
#[schema(example = json!({"payload": "{\"type\":\"block_actions\",\"user\":{\"id\":\"U0123ABCD\"},\"team\":{\"id\":\"T0123ABCD\"},\"api_app_id\":\"A0123ABCD\",\"actions\":[{\"action_id\":\"arx_approve\",\"value\":\"01900000-0000-7000-8000-000000000000\"}]}"}))]
#[allow(dead_code)]
pub struct SlackForm {
    payload: String,
}

/// A press of an Approve or Deny button on an ARX message in Slack. Verified with the
/// signing secret of the org the request belongs to; only then does it decide, as the
/// ARX user linked to the Slack member. Refusals are recorded as
/// `slack.interaction_refused`.
#[utoipa::path(post, path = "/integrations/slack/interactions", tag = "integrations",
    params(
        ("X-Slack-Signature" = Option<String>, Header, description = "`v0=` and the HMAC-SHA256 of `v0:{timestamp}:{body}` with the app's signing secret"),
        ("X-Slack-Request-Timestamp" = Option<String>, Header, description = "Seconds since the epoch; more than five minutes off is refused"),
    ),
    request_body(content = SlackForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Verified: decided, or refused with the reason (the presser is told in Slack)", body = SlackAnswer),
        (status = 400, description = "Unreadable, or the signature headers are missing or stale", body = ErrorBody),
        (status = 401, description = "The signature does not verify, or Slack is not configured for the org", body = ErrorBody),
        (status = 404, description = "No such approval request", body = ErrorBody),
    ))]
pub async fn interactions(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let engine = s.engine.clone();
    // Which request the body names gives the org, hence the secret to verify with.
    let press = match parse(&body) {
        Ok(p) => p,
        Err(why) => {
            tracing::warn!(reason = %why, "Slack interaction refused before it named an org");
            return refusal(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "unreadable",
                &why,
            );
        }
    };
    let org = match engine.system().approval_org(press.approval).await {
        Ok(Some(org)) => org,
        Ok(None) => {
            tracing::warn!(approval = %press.approval, "Slack interaction for an unknown request");
            return refusal(
                StatusCode::NOT_FOUND,
                "not_found",
                "unknown_request",
                "no such approval request",
            );
        }
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let claimed = json!({"approval_id": press.approval, "claimed_slack_user": press.user});
    let secret = match engine
        .system()
        .integration_settings(org, IntegrationKind::Slack)
        .await
    {
        Ok(Some(settings)) => settings.secret("signing_secret").cloned(),
        Ok(None) => None,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let Some(secret) = secret else {
        let msg = "Slack is not configured for this org, so the request cannot be verified";
        record_refusal(&engine, org, "slack_not_configured", msg, claimed).await;
        return refusal(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "slack_not_configured",
            msg,
        );
    };
    let verified = verify_slack(
        secret.expose(),
        header(&headers, "x-slack-request-timestamp"),
        header(&headers, "x-slack-signature"),
        &body,
        engine.now_ms().div_euclid(1000),
    );
    if let Err(r) = verified {
        let msg = r.message();
        record_refusal(&engine, org, r.code(), &msg, claimed).await;
        let status = match r {
            SlackRefusal::MissingHeaders | SlackRefusal::BadTimestamp => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        };
        return refusal(status, "unauthenticated", r.code(), &msg);
    }
    let mut work = tokio::spawn(decide(engine, s.hub.clone(), org, press));
    match tokio::time::timeout(ACK_WITHIN, &mut work).await {
        Ok(Ok(answer)) => Json(answer).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a Slack decision task failed");
            Json(SlackAnswer::refused(None, "internal", "internal error")).into_response()
        }
        // Still running (an approved call takes its time): the notifier updates the message.
        Err(_) => Json(SlackAnswer {
            ok: true,
            approval_id: None,
            status: Some("deciding".into()),
            decided_by: None,
            refused: None,
        })
        .into_response(),
    }
}

/// A refusal after the signature checked out: who pressed may not decide this.
struct Refused {
    reason: &'static str,
    message: String,
}

fn refused(reason: &'static str) -> impl Fn(CoreError) -> Refused {
    move |e| Refused {
        reason: match &e {
            CoreError::Forbidden(_) => "no_rights",
            CoreError::Conflict(_) => "already_decided",
            CoreError::ApprovalExpired { .. } => "expired",
            CoreError::Unauthenticated(_) => reason,
            _ => "error",
        },
        message: e.public_message(),
    }
}

/// A press counts only from the org's Slack workspace and approval app, on the very
/// message ARX posted for that request: a validly signed payload naming another
/// request's id, another channel or another app's message is refused.
async fn bound_to_our_message(
    engine: &Engine,
    org: OrgId,
    settings: &arx_core::integration::IntegrationSettings,
    press: &Press,
) -> Result<(), Refused> {
    let (team, app) = (settings.config("team_id"), settings.config("app_id"));
    if team.is_empty() || app.is_empty() {
        return Err(Refused {
            reason: "slack_not_configured",
            message: "the org's Slack settings name no team_id and app_id; an admin sets them on the Integrations page".into(),
        });
    }
    if press.team != team || press.app != app {
        return Err(Refused {
            reason: "wrong_app",
            message: format!(
                "the press came from workspace '{}' and app '{}', not the org's approval app",
                press.team, press.app
            ),
        });
    }
    let notice = engine
        .system()
        .approval_notice(org, press.approval, IntegrationKind::Slack)
        .await
        .map_err(|_| Refused {
            reason: "error",
            message: "internal error".into(),
        })?;
    match notice {
        Some(n)
            if !n.message_ts.is_empty()
                && n.channel == press.channel
                && n.message_ts == press.message_ts =>
        {
            Ok(())
        }
        _ => Err(Refused {
            reason: "not_our_message",
            message: "the button is not on the message ARX posted for this request".into(),
        }),
    }
}

/// Maps the Slack user to an ARX user and decides as them; the answer for Slack.
async fn decide(engine: Arc<Engine>, hub: Arc<Hub>, org: OrgId, press: Press) -> SlackAnswer {
    let settings = match engine
        .system()
        .integration_settings(org, IntegrationKind::Slack)
        .await
    {
        Ok(Some(s)) => s,
        _ => {
            return SlackAnswer::refused(
                None,
                "slack_not_configured",
                "Slack is not configured for this org",
            );
        }
    };
    let ws = hub.slack.workspace(&settings);
    let mut email = None;
    let outcome: Result<_, Refused> = async {
        bound_to_our_message(&engine, org, &settings, &press).await?;
        let ws = ws.as_ref().map_err(|e| Refused {
            reason: "slack_unavailable",
            message: e.clone(),
        })?;
        let linked = engine
            .system()
            .principal_by_slack(org, &press.user)
            .await
            .map_err(refused("unknown_user"))?;
        let who = match linked {
            Some(who) => who,
            None => {
                let found = ws.user_email(&press.user).await.map_err(|e| Refused {
                    reason: "unknown_user",
                    message: format!("ARX could not look up Slack user {}: {e}", press.user),
                })?;
                let found = found.ok_or_else(|| Refused {
                    reason: "unknown_user",
                    message: format!(
                        "Slack member {} is not linked to an ARX user and their profile shows no email (link them on the Integrations page, or give the app the users:read.email scope)",
                        press.user
                    ),
                })?;
                email = Some(found.clone());
                engine
                    .system()
                    .principal_by_slack_email(org, &found, &press.user)
                    .await
                    .map_err(refused("unknown_user"))?
            }
        };
        let reviewer = engine
            .reviewer(&who)
            .await
            .map_err(refused("unknown_user"))?;
        let a = if press.approve {
            reviewer.approve_from_chat(press.approval, "via Slack").await
        } else {
            reviewer.deny(press.approval, "via Slack").await
        }
        .map_err(refused("unknown_user"))?;
        Ok((who.email().to_string(), a))
    }
    .await;
    match outcome {
        Ok((by, a)) => {
            // A vote that does not yet decide: the message shows the count; tell the voter too.
            if a.status == ApprovalStatus::Pending
                && let Ok(ws) = &ws
                && !press.channel.is_empty()
            {
                let text = format!(
                    "ARX recorded your approval; this request needs {} approvals from different people.",
                    a.requirements.min_approvals.max(1)
                );
                if let Err(e) = ws.tell(&press.channel, &press.user, &text).await {
                    tracing::warn!(%org, error = %e, "telling the Slack user failed");
                }
            }
            SlackAnswer {
                ok: true,
                approval_id: Some(press.approval),
                status: Some(a.status.as_str().into()),
                decided_by: Some(by),
                refused: None,
            }
        }
        Err(r) => {
            let fields = json!({"approval_id": press.approval, "slack_user": press.user, "email": email,
                                "decision": if press.approve { "approve" } else { "deny" }});
            record_refusal(&engine, org, r.reason, &r.message, fields).await;
            if let Ok(ws) = &ws
                && !press.channel.is_empty()
            {
                let text = format!("ARX did not record your decision: {}", r.message);
                if let Err(e) = ws.tell(&press.channel, &press.user, &text).await {
                    tracing::warn!(%org, error = %e, "telling the Slack user why failed");
                }
            }
            SlackAnswer::refused(Some(press.approval), r.reason, &r.message)
        }
    }
}
