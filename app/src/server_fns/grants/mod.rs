//! Time-bound grants: the list, and revoking one.

mod list;
mod revoke;

pub use list::*;
pub use revoke::*;
