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
