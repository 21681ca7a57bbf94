//! Configured connector instances with their catalog entries.

use leptos::prelude::*;

use crate::types::InstanceRow;

#[server]
pub async fn list_instances() -> Result<Vec<InstanceRow>, ServerFnError> {
    use super::super::ssr::{engine, principal, to_error};
    let p = principal().await?;
    let engine = engine();
    let instances = engine.reader(&p).instances().await.map_err(to_error)?;
    Ok(instances
        .into_iter()
        .filter_map(|i| {
            let c = engine.catalog().get(&i.connector)?;
            Some(InstanceRow {
                connector: c.name.clone(),
                display_name: c.display_name.clone(),
                category: c.category.label().into(),
                name: i.name,
                environment: i.environment.as_str().into(),
                sensitivity: i.sensitivity.unwrap_or_else(|| c.sensitivity()),
                credentials_set: i.credentials_set,
                operations: c
                    .operations
                    .iter()
                    .map(|(id, o)| crate::types::OperationRow {
                        id: id.clone(),
                        method: o.method.as_str().into(),
                        tier: o.risk.as_str().into(),
                        description: o.description.clone(),
                        writes: o.writes,
                    })
                    .collect(),
            })
        })
        .collect())
}
