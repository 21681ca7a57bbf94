//! Slack, Teams and signed webhooks for approvals (admins): what is configured, setting
//! one, removing one. Secrets go straight to the vault and are never shown again.

mod list;
mod remove;
mod save;

pub use list::*;
pub use remove::*;
pub use save::*;
