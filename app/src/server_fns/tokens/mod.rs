//! Admin API token server functions.

mod create;
mod list;
mod revoke;

pub use create::*;
pub use list::*;
pub use revoke::*;
