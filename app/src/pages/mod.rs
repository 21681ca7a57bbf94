//! One module per console area.

pub mod agent;
pub mod agents;
pub mod approvals;
pub mod audit;
pub mod connectors;
pub mod drift;
pub mod fleet;
pub mod grants;
pub mod identity;
pub mod integrations;
pub mod login;
pub mod not_found;
pub mod overview;
pub mod planned;
pub mod policy;
pub mod streams;
pub mod tokens;
pub mod users;
pub mod witness;
