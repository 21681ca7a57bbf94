//! Audit trail server functions.

mod page;

pub use page::*;
