//! The admin API (`/v1/admin/...`), one module per resource. Every handler takes the
//! caller from [`super::extract::Caller`] (an admin token) and goes through the engine's
//! role-checked handles: `reader` for what any role may read, `admin` for changes.
//! The approval queue and decisions are [`super::reviewer`]'s.

pub mod agents;
pub mod audit;
pub mod drift;
pub mod grants;
pub mod graph;
pub mod instances;
pub mod integrations;
pub mod manifests;
pub mod policy;
pub mod scim_tokens;
pub mod settings;
pub mod sso;
pub mod streams;
pub mod tokens;
pub mod users;
pub mod witness;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(agents::routes())
        .merge(manifests::routes())
        .merge(drift::routes())
        .merge(graph::routes())
        .merge(instances::routes())
        .merge(policy::routes())
        .merge(users::routes())
        .merge(grants::routes())
        .merge(tokens::routes())
        .merge(scim_tokens::routes())
        .merge(sso::routes())
        .merge(audit::routes())
        .merge(witness::routes())
        .merge(streams::routes())
        .merge(settings::routes())
        .merge(integrations::routes())
}
