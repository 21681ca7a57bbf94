//! Console-wide server functions.

mod flash;
mod instances;
mod me;
mod overview;

pub use flash::*;
pub use instances::*;
pub use me::*;
pub use overview::*;
