//! Slack, Teams and signed webhooks for approvals (admins): what is configured, setting
//! one, removing one; which Slack member decides as which user. Secrets go straight to the vault and are never shown again.

mod list;
mod remove;
mod save;
mod slack_links;

pub use list::*;
pub use remove::*;
pub use save::*;
pub use slack_links::*;
