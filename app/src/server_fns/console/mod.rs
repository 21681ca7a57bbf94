//! Console-wide server functions.

mod approvals;
mod flash;
mod instances;
mod me;
mod overview;

pub use approvals::*;
pub use flash::*;
pub use instances::*;
pub use me::*;
pub use overview::*;
