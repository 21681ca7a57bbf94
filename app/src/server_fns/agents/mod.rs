//! Agent registry server functions.

mod create;
mod issue_key;
mod list;
mod status;

pub use create::*;
pub use issue_key::*;
pub use list::*;
pub use status::*;
