//! The data classes an operation reads or writes, a fixed set so that a manifest, the
//! catalog and drift all speak the same words. An operation lists every class its answer
//! or its change carries (Okta's user list is `identity` and `pii`); an agent's manifest
//! declares the classes it may handle, and touching another is drift.

/// Every data class, with what it covers, in the order the docs list them.
pub const DATA_CLASSES: &[(&str, &str)] = &[
    (
        "security_telemetry",
        "detections, alerts, threats, security incidents and the events a SIEM searches",
    ),
    (
        "asset_inventory",
        "hosts, endpoints, devices, cloud resources and services, and their state",
    ),
    (
        "identity",
        "user accounts, groups, memberships and sign-in state",
    ),
    (
        "pii",
        "personal data of people: names, email addresses, phone numbers, who is on call",
    ),
    (
        "credentials",
        "secrets, keys, tokens, sessions and authentication factors",
    ),
    (
        "vulnerability",
        "vulnerability findings, misconfigurations and cloud security issues",
    ),
    (
        "tickets",
        "ITSM incidents, change requests, issues, pages and their comments",
    ),
    (
        "communications",
        "chat messages and channels, and notifications sent to people",
    ),
    (
        "configuration",
        "settings and rules of a tool: detection and alert rules, saved searches, security settings",
    ),
    (
        "audit_log",
        "a tool's own record of who did what in it (system logs, console activities)",
    ),
    (
        "endpoint_contents",
        "files, processes, registry and memory on an endpoint, as live response reads and changes them",
    ),
];

/// Whether `name` is one of [`DATA_CLASSES`].
pub fn is_data_class(name: &str) -> bool {
    DATA_CLASSES.iter().any(|(n, _)| *n == name)
}

/// The names of [`DATA_CLASSES`], comma-separated, for messages.
pub fn data_class_names() -> String {
    DATA_CLASSES
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_words() {
        let mut seen = std::collections::BTreeSet::new();
        for (name, what) in DATA_CLASSES {
            assert!(seen.insert(*name), "{name} twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert!(!what.is_empty());
        }
        assert!(is_data_class("pii") && !is_data_class("PII") && !is_data_class(""));
        assert!(data_class_names().starts_with("security_telemetry, asset_inventory"));
    }
}
