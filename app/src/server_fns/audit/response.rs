//! One vendor response body, for admins and auditors, with whether it still matches
//! the hash its result record holds in the chain.

use leptos::prelude::*;

use crate::types::ResponseBodyView;

#[server]
pub async fn fetch_response(id: String) -> Result<ResponseBodyView, ServerFnError> {
    use super::super::ssr::{engine, invalid, principal, to_error};
    let p = principal().await?;
    let id = id
        .parse()
        .map_err(|_| invalid("that record id is not valid"))?;
    let v = engine()
        .responses(&p)
        .map_err(to_error)?
        .response(id)
        .await
        .map_err(to_error)?;
    Ok(ResponseBodyView {
        record_id: v.record_id.to_string(),
        sha256: v.sha256,
        bytes: v.bytes,
        body: serde_json::to_string_pretty(&v.body).unwrap_or_default(),
        verified: v.verified,
    })
}
