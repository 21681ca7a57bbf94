//! Who people are to ARX: local accounts and sign-in (with its throttle), console
//! sessions, admin API tokens, approver groups, and Slack identities. Single sign-on and
//! SCIM provisioning belong here too.

pub(super) mod accounts;
mod groups;
pub(super) mod oidc;
pub(super) mod saml;
pub(super) mod scim;
mod slack;
pub(super) mod sso;
pub(super) mod throttle;
pub(super) mod tokens;
