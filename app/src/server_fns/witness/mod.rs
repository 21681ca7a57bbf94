//! Signed checkpoints and their witnesses: the status every role may read, and what
//! admins change (an S3 bucket added or removed, a checkpoint now).

use leptos::prelude::*;

mod streams;
pub use streams::*;

use crate::types::WitnessView;

#[server]
pub async fn witness_status() -> Result<WitnessView, ServerFnError> {
    use crate::server_fns::ssr::{engine, minute, principal, to_error};
    use crate::types::{CheckpointRow, WitnessSinkRow};
    let p = principal().await?;
    let st = engine()
        .reader(&p)
        .witness_status()
        .await
        .map_err(to_error)?;
    Ok(WitnessView {
        key_id: st.key.key_id,
        public_key_pem: st.key.public_key_pem,
        key_created: minute(&st.key.created_at),
        interval_seconds: st.interval_seconds,
        head_seq: st.head_seq,
        checkpoints: st
            .checkpoints
            .iter()
            .map(|c| CheckpointRow {
                seq: c.seq,
                hash: c.hash.clone(),
                signed: minute(&c.ts),
            })
            .collect(),
        sinks: st
            .sinks
            .into_iter()
            .map(|s| {
                let get = |k: &str| s.config.get(k).cloned().unwrap_or_default();
                let place = match s.kind {
                    arx_core::witness::SinkKind::Directory => {
                        "this server's witness directory".to_string()
                    }
                    arx_core::witness::SinkKind::S3 => {
                        let at = match get("endpoint") {
                            e if e.is_empty() => format!("AWS {}", get("region")),
                            e => e,
                        };
                        let prefix = get("prefix");
                        format!(
                            "s3://{}{}{prefix} ({at})",
                            get("bucket"),
                            if prefix.is_empty() { "" } else { "/" }
                        )
                    }
                    other => other.as_str().to_string(),
                };
                WitnessSinkRow {
                    id: s.id.to_string(),
                    kind: s.kind.as_str().into(),
                    name: s.name,
                    place,
                    cursor_seq: s.cursor_seq,
                    pending: s.pending,
                    last_ok: s.last_ok_at.as_deref().map(minute),
                    last_error: s
                        .last_error
                        .map(|e| (minute(s.last_error_at.as_deref().unwrap_or("")), e)),
                }
            })
            .collect(),
    })
}

/// Adds an S3-compatible bucket from the console's form; a refused form gets back what
/// was typed, except the secret key.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn add_witness(
    name: String,
    bucket: String,
    #[server(default)] prefix: String,
    #[server(default)] region: String,
    #[server(default)] endpoint: String,
    access_key_id: String,
    secret_access_key: String,
) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_form, principal};
    let typed = [
        ("name", name.as_str()),
        ("bucket", bucket.as_str()),
        ("prefix", prefix.as_str()),
        ("region", region.as_str()),
        ("endpoint", endpoint.as_str()),
        ("access_key_id", access_key_id.as_str()),
    ];
    let opt = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
    let input = arx_core::witness::S3SinkInput {
        name: name.clone(),
        bucket: bucket.clone(),
        prefix: opt(&prefix),
        region: opt(&region),
        endpoint: opt(&endpoint),
        access_key_id: access_key_id.clone(),
        secret_access_key,
    };
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => admin.add_witness_sink(input).await,
        Err(e) => Err(e),
    };
    flash_form("add-witness", r, &typed, |v| {
        (
            format!(
                "Witness '{}' added: every checkpoint ({} now) will be written there. The secret key is stored encrypted and not shown again.",
                v.name, v.pending
            ),
            None,
        )
    })
    .await
}

#[server]
pub async fn remove_witness(id: String) -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash, flash_outcome, principal};
    let Ok(id) = id.parse() else {
        return flash(false, "that witness id is not valid", None).await;
    };
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => {
            admin
                .remove_sink(arx_core::witness::SinkPurpose::Witness, id)
                .await
        }
        Err(e) => Err(e),
    };
    flash_outcome(r, |()| {
        (
            "Witness removed: no more checkpoints go there; what it holds stays.".into(),
            None,
        )
    })
    .await
}

#[server]
pub async fn checkpoint_now() -> Result<(), ServerFnError> {
    use crate::server_fns::ssr::{engine, flash_outcome, principal};
    let p = principal().await?;
    let engine = engine();
    let r = match engine.admin(&p) {
        Ok(admin) => admin.checkpoint_now().await,
        Err(e) => Err(e),
    };
    flash_outcome(r, |c| {
        let msg = match c {
            Some(c) => format!(
                "Checkpoint signed at seq {} and written to every witness that answered.",
                c.seq
            ),
            None => "Nothing new since the last checkpoint; pending checkpoints were written to every witness that answered.".into(),
        };
        (msg, None)
    })
    .await
}
