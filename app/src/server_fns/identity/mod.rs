//! Users, group mappings and sessions: the Users page and the SSO & SCIM page.

mod mappings;
mod sessions;
mod users;

pub use mappings::*;
pub use sessions::*;
pub use users::*;
