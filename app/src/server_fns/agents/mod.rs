//! Agent registry server functions.

mod create;
mod decommission;
mod detail;
mod edit;
mod fleet_graph;
#[cfg(feature = "ssr")]
mod fleet_svg;
#[cfg(feature = "ssr")]
mod graph_svg;
mod issue_key;
mod list;
mod manifests;
mod status;

pub use create::*;
pub use decommission::*;
pub use detail::*;
pub use edit::*;
pub use fleet_graph::*;
pub use issue_key::*;
pub use list::*;
pub use manifests::*;
pub use status::*;

/// The agent a console form names in `field` by its name, in the caller's org (none for
/// an empty field); a name of no agent of the org is a refusal of that field.
#[cfg(feature = "ssr")]
async fn agent_id_named(
    engine: &arx_core::Engine,
    p: &arx_core::access::Principal,
    field: &'static str,
    name: &str,
) -> Result<Option<arx_core::ids::AgentId>, arx_core::CoreError> {
    match name.trim() {
        "" => Ok(None),
        name => match engine.reader(p).agent_named(name).await? {
            Some(a) => Ok(Some(a.id)),
            None => Err(arx_core::CoreError::InvalidField {
                field,
                message: format!("no agent of this org is named '{name}'"),
            }),
        },
    }
}
