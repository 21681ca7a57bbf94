//! The org's drift alerts, newest first, filtered by status and severity, a page at a
//! time.

use leptos::prelude::*;

use crate::types::DriftView;

/// How many alerts a page of the Drift page shows.
pub const DRIFT_PAGE: u32 = 50;

/// Alerts in `status` (`open`, `acknowledged`, `resolved`; empty: all) and `severity`
/// (empty: all), newest first (`order` `asc`: oldest first), after `cursor` (empty: from
/// the first), with the open ones counted by severity.
#[server]
pub async fn list_drift(
    status: String,
    severity: String,
    cursor: String,
    #[server(default)] order: String,
) -> Result<DriftView, ServerFnError> {
    use crate::server_fns::ssr::{drift_row, engine, invalid, principal, to_error};
    use arx_core::model::registry::DriftStatus;
    use arx_core::registry::Severity;
    use arx_core::store::DriftQuery;
    let p = principal().await?;
    let engine = engine();
    let r = engine.reader(&p);
    let status = match status.as_str() {
        "" => None,
        s => Some(DriftStatus::parse(s).ok_or_else(|| {
            invalid(format!(
                "'{s}' is not a status: open, acknowledged or resolved"
            ))
        })?),
    };
    let severity = match severity.as_str() {
        "" => None,
        s => Some(Severity::parse(s).ok_or_else(|| {
            invalid(format!(
                "'{s}' is not a severity: low, medium, high or critical"
            ))
        })?),
    };
    let after = match cursor.as_str() {
        "" => None,
        c => Some(c.parse().map_err(|e: String| invalid(e))?),
    };
    let alerts = r
        .drift_alerts(&DriftQuery {
            status,
            severity,
            after,
            limit: DRIFT_PAGE,
            oldest_first: order == "asc",
            ..Default::default()
        })
        .await
        .map_err(to_error)?;
    let next_cursor = (alerts.len() == DRIFT_PAGE as usize)
        .then(|| {
            alerts
                .last()
                .map(|a| arx_core::store::DriftCursor::of(a).to_string())
        })
        .flatten();
    let open = r.open_drift_counts().await.map_err(to_error)?;
    Ok(DriftView {
        open_by_severity: open
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), n))
            .collect(),
        next_cursor,
        rows: alerts.iter().map(drift_row).collect(),
        sorted: crate::types::Sorted {
            key: "raised".into(),
            order: if order == "asc" { "asc" } else { "desc" }.into(),
        },
    })
}
