//! Drift alerts: the org's list by status and severity, and an admin acknowledging or
//! resolving one with a note.

mod list;
mod set;

pub use list::*;
pub use set::*;
