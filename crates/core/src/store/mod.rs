//! What the engine needs from storage, one trait per aggregate. One implementation per
//! database lives in `arx-store`; it holds SQL only. Every method that reads or changes
//! org data takes the org id, so no call can reach across orgs.
//!
//! [`Store`] is every trait at once: the engine holds one `Arc<dyn Store>` and calls any
//! of them on it. Code that holds a concrete store imports [`prelude`] to call them.

mod agents;
mod approvals;
mod audit;
mod grants;
mod identity;
mod integrations;
mod leases;
mod policy;
mod registry;
mod responses;
mod scim;
mod simulations;
mod sso;
mod stats;
mod witness;

/// Which way a list runs in the column it is sorted by.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Order::Asc, Order::Desc]
            .into_iter()
            .find(|o| o.as_str() == s)
    }

    /// `ASC` or `DESC`.
    pub fn sql(self) -> &'static str {
        match self {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        }
    }

    /// The other way.
    pub fn flip(self) -> Self {
        match self {
            Order::Asc => Order::Desc,
            Order::Desc => Order::Asc,
        }
    }
}

pub use agents::{AgentStore, AtEpoch, FleetQuery, FleetRow, FleetRows, FleetSort, KeyContext};
pub use approvals::ApprovalStore;
pub use audit::{
    AgentCalls, AuditFacets, AuditFilter, AuditQuery, AuditStore, FACET_WINDOW, Facet, FacetGroup,
    KindFilter, MAX_TEXT_CHARS, TEXT_FIELDS, record_text, text_phrases, text_words,
};
pub use grants::GrantStore;
pub use identity::{
    Deactivated, IdentityStore, SessionInfo, SessionRow, SessionSettings, SessionWrite,
};
pub use integrations::IntegrationStore;
pub use leases::LeaseStore;
pub use policy::PolicyStore;
pub use registry::{DriftChange, DriftCursor, DriftQuery, RegistryStore};
pub use responses::{ResponseBody, ResponseStore};
pub use scim::{ScimGroup, ScimMember, ScimStore, ScimToken, ScimUser, ScimUserWrite};
pub use simulations::SimulationStore;
pub use sso::{SsoLogin, SsoStore, StoredOidc, StoredSaml};
pub use stats::StatsStore;
pub use witness::{StoredSigningKey, WitnessStore};

use crate::error::CoreError;

pub type StoreResult<T> = Result<T, CoreError>;

/// `Store` is every aggregate's trait at once, and anything that implements them all is
/// one; the list is written once here.
macro_rules! whole_store {
    ($($aggregate:ident),+) => {
        /// The whole storage: every aggregate's trait. Implemented by anything that
        /// implements them all, so a backend only writes the parts.
        pub trait Store: $($aggregate +)+ Send + Sync + std::fmt::Debug {}

        impl<T> Store for T where T: $($aggregate +)+ Send + Sync + std::fmt::Debug {}
    };
}

whole_store!(
    AgentStore,
    IdentityStore,
    AuditStore,
    ResponseStore,
    ApprovalStore,
    GrantStore,
    PolicyStore,
    IntegrationStore,
    SimulationStore,
    LeaseStore,
    RegistryStore,
    ScimStore,
    SsoStore,
    StatsStore,
    WitnessStore
);

/// Every store trait, to call them on a concrete store (`use arx_core::store::prelude::*`).
/// Through `dyn Store` they need no import.
pub mod prelude {
    pub use super::{
        AgentStore, ApprovalStore, AuditStore, GrantStore, IdentityStore, IntegrationStore,
        LeaseStore, PolicyStore, RegistryStore, ResponseStore, ScimStore, SimulationStore,
        SsoStore, StatsStore, Store, StoreResult, WitnessStore,
    };
}
