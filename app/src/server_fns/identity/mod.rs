//! Users, group mappings, SCIM tokens and sessions: the Users page and the SSO & SCIM page.

mod mappings;
mod oidc;
mod saml;
mod scim;
mod sessions;
mod users;

pub use mappings::*;
pub use oidc::*;
pub use saml::*;
pub use scim::*;
pub use sessions::*;
pub use users::*;
