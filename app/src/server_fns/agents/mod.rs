//! Agent registry server functions.

mod create;
mod issue_key;
mod list;

pub use create::*;
pub use issue_key::*;
pub use list::*;
