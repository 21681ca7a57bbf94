//! Server functions, one per file, grouped by resource. Each gets the engine and the
//! signed-in principal from context and calls one engine method.

/// `engine.admin(&p)`, or for a lower role a return of the flash that tells them so (an
/// admin form posted by a reviewer answers in the page's flash, never an error page).
#[cfg(feature = "ssr")]
macro_rules! admin_or_flash {
    ($engine:expr, $p:expr) => {
        match $engine.admin(&$p) {
            Ok(admin) => admin,
            Err(e) => {
                return $crate::server_fns::ssr::flash(
                    false,
                    $crate::server_fns::ssr::public_message(e),
                    None,
                )
                .await;
            }
        }
    };
}

pub mod agents;
pub mod approvals;
pub mod audit;
pub mod console;
pub mod drift;
pub mod grants;
pub mod identity;
pub mod integrations;
pub mod policy;
pub mod tokens;
pub mod witness;

#[cfg(feature = "ssr")]
pub mod ssr {
    //! What every server function needs on the server side.
    use std::sync::Arc;

    use arx_core::access::{Principal, SessionClaim};
    use arx_core::{CoreError, Engine};
    use leptos::prelude::*;
    use tower_sessions::Session;

    use crate::types::{AuditRow, Flash};
    use crate::{FLASH_KEY, SESSION_CLAIM_KEY};

    pub fn engine() -> Arc<Engine> {
        expect_context::<Arc<Engine>>()
    }

    pub async fn session() -> Result<Session, ServerFnError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|e| ServerFnError::new(format!("no session: {e}")))
    }

    /// The signed-in user, built by the engine from the session's claim on every call, so
    /// a deactivated account or a changed role counts now.
    pub async fn principal() -> Result<Principal, ServerFnError> {
        let session = session().await?;
        let claim: SessionClaim = session
            .get(SESSION_CLAIM_KEY)
            .await
            .ok()
            .flatten()
            .ok_or_else(signed_out)?;
        match engine()
            .principal_for_session(&claim)
            .await
            .map_err(to_error)?
        {
            Some(fresh) => Ok(fresh),
            None => {
                let _ = session.flush().await;
                Err(signed_out())
            }
        }
    }

    /// The session ended (signed out, ended by an admin, timed out, or the account
    /// deactivated): a browser that called from a page goes to the sign-in page, as a
    /// page load would.
    fn signed_out() -> ServerFnError {
        // A browser's plain form post gets a 302 to `/login`; a page's own call gets the
        // redirect header its client follows, with 401 rather than a server error.
        leptos_axum::redirect("/login");
        answer_status(axum::http::StatusCode::UNAUTHORIZED, false);
        ServerFnError::new(crate::SIGNED_OUT)
    }

    /// Answers a page's own call of a server function with `status` (a refusal is a 4xx,
    /// as the API answers it, not a server error); with `only_server_fn_calls`, a page
    /// rendered on the server keeps its status. A browser's plain form post keeps the
    /// redirect back to its page that leptos_axum gives it.
    fn answer_status(status: axum::http::StatusCode, only_server_fn_calls: bool) {
        let from_page = use_context::<axum::http::request::Parts>().is_some_and(|req| {
            (!only_server_fn_calls || req.uri.path().starts_with("/api/"))
                && !req
                    .headers
                    .get(axum::http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
        });
        if from_page && let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
            r.set_status(status);
        }
    }

    /// An engine error as the console shows it: its message, never internal causes, with
    /// the status the API gives it.
    pub fn to_error(e: CoreError) -> ServerFnError {
        // A page rendered on the server shows the refusal in its place and stays a 200.
        answer_status(
            axum::http::StatusCode::from_u16(e.http_status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
            true,
        );
        if matches!(e, CoreError::Internal(_)) {
            tracing::error!(error = ?e, "console request failed");
            return ServerFnError::new("something went wrong on the server; the log has details");
        }
        ServerFnError::new(e.public_message())
    }

    /// A request the console cannot act on as written (a malformed id, a filter value
    /// that is not one of its choices): a 400 that says what to fix.
    pub fn invalid(message: impl Into<String>) -> ServerFnError {
        to_error(CoreError::InvalidRequest(message.into()))
    }

    /// Leaves a message for the next page render (works with and without JavaScript).
    pub async fn flash(
        ok: bool,
        message: impl Into<String>,
        secret: Option<String>,
    ) -> Result<(), ServerFnError> {
        let f = Flash {
            ok,
            message: message.into(),
            secret,
            form: None,
            field: None,
            values: Vec::new(),
        };
        keep(f).await
    }

    async fn keep(f: Flash) -> Result<(), ServerFnError> {
        session()
            .await?
            .insert(FLASH_KEY, f)
            .await
            .map_err(|e| ServerFnError::new(e.to_string()))
    }

    /// As [`flash_outcome`], for the form `form`: when it is refused, the message stands
    /// by that form (by the field at fault for an [`CoreError::InvalidField`]) and what
    /// was typed (`values`, never a secret) goes back into it.
    pub async fn flash_form<T>(
        form: &str,
        r: Result<T, CoreError>,
        values: &[(&str, &str)],
        ok: impl FnOnce(T) -> (String, Option<String>),
    ) -> Result<(), ServerFnError> {
        let e = match r {
            Ok(v) => return flash_outcome(Ok(v), ok).await,
            Err(e) => e,
        };
        let field = match &e {
            CoreError::InvalidField { field, .. } => Some(*field),
            _ => None,
        };
        refuse_form(form, field, public_message(e), values).await
    }

    /// The refusal of the form `form`, before the engine was asked: `message` says what
    /// to fix in `field` (or in the form as a whole), and `values` go back into it.
    pub async fn refuse_form(
        form: &str,
        field: Option<&str>,
        message: impl Into<String>,
        values: &[(&str, &str)],
    ) -> Result<(), ServerFnError> {
        keep_form(false, form, field, message.into(), values).await
    }

    /// An outcome that leaves the form `form` as it was typed (a preview): `message`
    /// stands by the form, and `values` stay in it.
    pub async fn keep_typed(
        form: &str,
        message: impl Into<String>,
        values: &[(&str, &str)],
    ) -> Result<(), ServerFnError> {
        keep_form(true, form, None, message.into(), values).await
    }

    async fn keep_form(
        ok: bool,
        form: &str,
        field: Option<&str>,
        message: String,
        values: &[(&str, &str)],
    ) -> Result<(), ServerFnError> {
        keep(Flash {
            ok,
            message,
            secret: None,
            form: Some(form.to_string()),
            field: field.map(str::to_string),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
        .await
    }

    /// A form's fields as it posts them (`prefix[field]`), with what was typed: the text
    /// fields, and the checkboxes that were checked.
    pub fn form_values<T: serde::Serialize>(prefix: &str, form: &T) -> Vec<(String, String)> {
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(form) else {
            return Vec::new();
        };
        fields
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((format!("{prefix}[{k}]"), s)),
                _ => None,
            })
            .collect()
    }

    /// What an engine error says to the console user (an internal one is logged, not shown).
    pub fn public_message(e: CoreError) -> String {
        to_error(e)
            .to_string()
            .trim_start_matches("error running server function: ")
            .to_string()
    }

    /// The items of a comma-separated form field, trimmed, empty ones left out.
    pub fn comma_list(s: &str) -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(String::from)
            .collect()
    }

    /// Runs a state-changing engine call and reports its outcome through the flash.
    pub async fn flash_outcome<T>(
        r: Result<T, CoreError>,
        ok: impl FnOnce(T) -> (String, Option<String>),
    ) -> Result<(), ServerFnError> {
        match r {
            Ok(v) => {
                let (msg, secret) = ok(v);
                flash(true, msg, secret).await
            }
            Err(e) => flash(false, public_message(e), None).await,
        }
    }

    /// One drift alert as the console lists it.
    pub fn drift_row(a: &arx_core::model::registry::DriftAlert) -> crate::types::DriftRow {
        crate::types::DriftRow {
            id: a.id.to_string(),
            agent: a.agent.clone(),
            severity: a.severity.as_str().into(),
            action: a.action.as_str().into(),
            message: a.message.clone(),
            manifest_version: a.manifest_version,
            status: a.status.as_str().into(),
            occurrences: a.occurrences,
            first: format_ms(a.created_ms),
            last: format_ms(a.last_ms),
            by: a.updated_by.clone(),
            note: a.note.clone().filter(|n| !n.is_empty()),
        }
    }

    pub fn audit_row(r: &arx_core::audit::AuditRecord) -> AuditRow {
        let event = r.event().ok();
        let subject = event.as_ref().map(|e| e.subject()).unwrap_or_default();
        let text = |v: Option<&str>| v.map(str::to_string);
        AuditRow {
            seq: r.seq,
            ts: r.ts.replace('T', " ").trim_end_matches('Z').to_string(),
            kind: r.kind.clone(),
            actor: r.actor.name.clone(),
            agent: text(subject.agent),
            connector: text(subject.connector),
            operation: text(subject.operation),
            verdict: subject.verdict.map(|v| v.as_str().to_string()),
            risk: subject.risk_score,
            tier: subject.tier.map(|t| t.as_str().to_string()),
            hash: r.hash.clone(),
            prev_hash: r.prev_hash.clone(),
            details: serde_json::to_string_pretty(&r.fields).unwrap_or_default(),
            id: r.id.to_string(),
            response_sha256: match &event {
                Some(arx_core::audit::AuditEvent::CallResult(c)) => c.response_sha256.clone(),
                _ => None,
            },
        }
    }

    /// Agents' names by id, as `ReadOps::agent_names` reads them for the rows shown.
    pub type AgentNames = std::collections::BTreeMap<arx_core::ids::AgentId, String>;

    /// The name of the agent `id` among `names`; empty when it is not there.
    pub fn agent_name(names: &AgentNames, id: arx_core::ids::AgentId) -> String {
        names.get(&id).cloned().unwrap_or_default()
    }

    pub fn format_ms(ms: i64) -> String {
        minute(&arx_core::audit::format_ts(ms))
    }

    /// An RFC 3339 time as the console shows it (`YYYY-MM-DD HH:MM`, UTC).
    pub fn minute(ts: &str) -> String {
        ts.replace('T', " ").chars().take(16).collect()
    }
}
