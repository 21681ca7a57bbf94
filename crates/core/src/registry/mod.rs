//! The agent registry's pure rules (docs/architecture.md §8): label selectors that filter
//! the fleet and match policy rules, the manifest an agent declares (immutable per version,
//! hashed for the audit chain), and drift, which compares what an agent does with what its
//! manifest declares, never with its own history. No storage and no HTTP here: the engine
//! calls these with what it has loaded.

pub mod diff;
pub mod drift;
pub mod graph;
pub mod manifest;
pub mod selector;

#[cfg(test)]
mod drift_tests;
#[cfg(test)]
mod manifest_tests;

pub use diff::{ManifestDiff, RateChange, TextChange};
pub use drift::{
    DriftAction, DriftPolicy, DriftSignal, ObservedCall, Severity, SeverityActions, check,
};
pub use graph::{Graph, GraphConnector, GraphInstance, GraphOperation, OpPolicy};
pub use manifest::{DeclaredOp, Manifest, ManifestError, Widening};
pub use selector::{
    Requirement, Selector, SelectorError, check_labels, parse_label_key, parse_labels,
};
