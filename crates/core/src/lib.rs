//! The ARX governance engine. It decides, records and executes agent actions, and knows
//! neither HTTP frameworks nor SQL dialects: storage comes in through [`store::Store`].
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod access;
pub mod audit;
pub mod catalog;
pub mod clock;
pub mod engine;
pub mod error;
pub mod executor;
pub mod ids;
pub mod integration;
pub mod model;
pub mod policy;
pub mod projection;
pub mod registry;
pub mod request;
pub mod review;
pub mod risk;
pub mod scim;
pub mod secret;
pub mod signing;
pub mod stages;
pub mod store;
pub mod stream;
pub mod target;
pub mod valid;
pub mod vault;
pub mod witness;

pub use engine::Engine;
pub use error::CoreError;
