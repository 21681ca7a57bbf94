//! SIEM streams: every role sees them with their lag; admins add, remove and test.

use leptos::prelude::*;

use crate::types::StreamRow;

#[server]
pub async fn list_streams() -> Result<Vec<StreamRow>, ServerFnError> {
    use crate::server_fns::ssr::{engine, minute, principal, to_error};
    let p = principal().await?;
    let streams = engine().reader(&p).streams().await.map_err(to_error)?;
    Ok(streams
        .into_iter()
        .map(|v| {
            let s = v.sink;
            let get = |k: &str| s.config.get(k).cloned().unwrap_or_default();
            let place = match s.kind.as_str() {
                "syslog" => format!("{}://{}:{}", get("transport"), get("host"), get("port")),
                "hec" if get("ack") == "true" => {
                    format!("{} (indexer acknowledgement)", get("url"))
                }
                _ => get("url"),
            };
            let mut shaping = Vec::new();
            if !get("kinds").is_empty() {
                shaping.push(format!("only {}", get("kinds").replace(',', ", ")));
            }
            if !get("redact").is_empty() {
                shaping.push(format!("redacts {}", get("redact").replace(',', ", ")));
            }
            if get("transport") == "udp" {
                shaping.push("UDP: lossy".into());
            }
            StreamRow {
                id: s.id.to_string(),
                kind: s.kind.as_str().into(),
                name: s.name,
                place,
                shaping: if shaping.is_empty() {
                    "every record".into()
                } else {
                    shaping.join("; ")
                },
                cursor_seq: s.cursor_seq,
                lag_records: v.lag_records,
                lag_seconds: v.lag_seconds,
                last_ok: s.last_ok_at.as_deref().map(minute),
                last_error: s
                    .last_error
                    .map(|e| (minute(s.last_error_at.as_deref().unwrap_or("")), e)),
            }
        })
        .collect())
}

/// Adds a stream from the console's form; a refused form gets back what was typed,
/// except the secret.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn add_stream(
    name: String,
    kind: String,
    url: String,
    #[server(default)] secret: String,
    #[server(default)] ack: Option<String>,
    #[server(default)] ca_pem: String,
    #[server(default)] kinds: String,
    #[server(default)] redact: String,
    #[server(default)] from: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_form, principal};
    let typed = [
        ("name", name.as_str()),
        ("kind", kind.as_str()),
        ("url", url.as_str()),
        ("ca_pem", ca_pem.as_str()),
        ("kinds", kinds.as_str()),
        ("redact", redact.as_str()),
        ("from", from.as_str()),
    ];
    let list = |v: &str| -> Vec<String> {
        v.split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let secret = (!secret.trim().is_empty()).then(|| secret.trim().to_string());
    let input = arx_core::witness::StreamSinkInput {
        name: name.clone(),
        kind: kind.clone(),
        url: url.clone(),
        token: secret.clone().filter(|_| kind == "hec"),
        secret: secret.filter(|_| kind == "webhook"),
        ack: ack.is_some(),
        ca_pem: (!ca_pem.trim().is_empty()).then(|| ca_pem.clone()),
        kinds: list(&kinds),
        redact: list(&redact),
        from: (!from.is_empty()).then(|| from.clone()),
    };
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => admin.add_stream(input).await,
        Err(e) => Err(e),
    };
    flash_form("add-stream", r, &typed, |v| {
        (
            format!(
                "Stream '{}' added; it sends from seq {} on. Its secret is stored encrypted and not shown again.",
                v.sink.name,
                v.sink.cursor_seq + 1
            ),
            None,
        )
    })
    .await
}

#[server]
pub async fn remove_stream(id: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    let Ok(id) = id.parse() else {
        return flash(false, "that stream id is not valid", None).await;
    };
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => {
            admin
                .remove_sink(arx_core::witness::SinkPurpose::Stream, id)
                .await
        }
        Err(e) => Err(e),
    };
    flash_outcome(r, |()| {
        ("Stream removed: nothing more is sent there.".into(), None)
    })
    .await
}

#[server]
pub async fn test_stream(id: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    let Ok(id) = id.parse() else {
        return flash(false, "that stream id is not valid", None).await;
    };
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => admin.test_stream(id).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(Err(e)) => {
            flash(
                false,
                format!("The stream did not take the test event: {e}"),
                None,
            )
            .await
        }
        r => flash_outcome(r, |_| ("A test event went to the stream.".into(), None)).await,
    }
}
