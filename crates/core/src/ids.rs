//! Typed identifiers. Each is a UUID underneath, but an `AgentId` cannot be passed where
//! an `OrgId` is expected.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

id_type!(
    /// An organization (tenant).
    OrgId,
    /// A registered agent.
    AgentId,
    /// An API key of an agent.
    KeyId,
    /// A console or API user.
    UserId,
    /// A configured connector instance (a connector plus target and credentials).
    InstanceId,
    /// An approval request.
    ApprovalId,
    /// An audit record.
    RecordId,
    /// A policy simulation job.
    SimId,
    /// A drift alert.
    DriftId,
    /// A time-bound grant of extra scope.
    GrantId,
    /// An admin API token of a user, or a directory's SCIM token.
    TokenId,
    /// A group a directory pushed over SCIM.
    GroupId,
    /// Where an org's audit trail is sent (a witness or a SIEM).
    SinkId,
);
