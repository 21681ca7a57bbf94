//! Console-wide server functions.

#[cfg(feature = "ssr")]
mod charts_svg;
mod flash;
mod instances;
mod me;
mod overview;

pub use flash::*;
pub use instances::*;
pub use me::*;
pub use overview::*;
