//! Audit trail server functions.

mod page;
mod response;

pub use page::*;
pub use response::*;
