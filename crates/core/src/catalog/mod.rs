//! The declarative connector catalog: one YAML file per connector in `connectors/`,
//! parsed into [`Connector`] and checked once at start so a bad file fails loudly.

mod classes;
mod load;
mod model;
mod validate;

pub use classes::{DATA_CLASSES, data_class_names, is_data_class};
pub use load::Catalog;
pub use model::*;
pub use validate::Problem;

#[cfg(test)]
mod tests {
    use super::*;

    /// A connector file `x` with `ops` (YAML lines under `operations:`), its base URL
    /// `https://{host}` or, when `typed`, `{scheme}://{host}` with typed variables.
    pub(crate) fn connector_x(typed: bool, ops: &str) -> String {
        let (base, vars) = match typed {
            true => (
                "{scheme}://{host}",
                "{ scheme: { type: scheme, default: https }, host: { type: host, default: example.com } }",
            ),
            false => ("https://{host}", "{ host: { default: example.com } }"),
        };
        format!(
            "name: x\ndisplay_name: X\ncategory: siem\nvendor_docs: https://example.com\n\
             base_url: \"{base}\"\nvariables: {vars}\nauth: {{ scheme: bearer }}\noperations:\n{ops}"
        )
    }

    #[test]
    fn builtin_catalog_parses_and_covers_the_required_vendors() {
        let cat = Catalog::builtin().unwrap();
        for name in [
            "crowdstrike",
            "splunk",
            "jira",
            "okta",
            "servicenow",
            "sentinel",
            "sentinelone",
            "wiz",
            "pagerduty",
            "slack",
        ] {
            assert!(cat.get(name).is_some(), "missing connector {name}");
        }
        let cs = cat.get("crowdstrike").unwrap();
        for (op, path, tier) in [
            (
                "detections:read",
                "/detects/queries/detects/v1",
                RiskTier::Low,
            ),
            (
                "detections:read_details",
                "/detects/entities/summaries/GET/v1",
                RiskTier::Low,
            ),
            (
                "detections:write",
                "/detects/entities/detects/v2",
                RiskTier::Medium,
            ),
            (
                "hosts:read",
                "/devices/queries/devices-scroll/v1",
                RiskTier::Low,
            ),
            (
                "hosts:write",
                "/devices/entities/devices-actions/v2",
                RiskTier::High,
            ),
            (
                "rtr:command_admin",
                "/real-time-response/entities/admin-command/v1",
                RiskTier::Critical,
            ),
        ] {
            let o = cs
                .operation(op)
                .unwrap_or_else(|| panic!("crowdstrike lacks {op}"));
            assert_eq!(o.path, path, "{op}");
            assert_eq!(o.risk, tier, "{op}");
        }
    }

    /// Every operation of `connectors/` declares the data classes it reads or writes, each
    /// a known one; a few are what their vendor's API plainly carries.
    #[test]
    fn every_builtin_operation_declares_known_data_classes() {
        let cat = Catalog::builtin().unwrap();
        let mut count = 0;
        for c in cat.iter() {
            for (id, op) in &c.operations {
                assert!(
                    !op.data_classes.is_empty(),
                    "{}:{id} declares no data classes",
                    c.name
                );
                for class in &op.data_classes {
                    assert!(is_data_class(class), "{}:{id}: {class}", c.name);
                }
                count += 1;
            }
        }
        assert!(count >= 80, "only {count} operations");
        let classes = |c: &str, op: &str| {
            cat.get(c)
                .unwrap()
                .operation(op)
                .unwrap()
                .data_classes
                .clone()
        };
        for (c, op, want) in [
            ("okta", "users:read", &["identity", "pii"][..]),
            ("okta", "sessions:revoke", &["identity", "credentials"]),
            ("crowdstrike", "detections:read", &["security_telemetry"]),
            ("crowdstrike", "hosts:write", &["asset_inventory"]),
            ("crowdstrike", "rtr:command_admin", &["endpoint_contents"]),
            (
                "wiz",
                "vulnerabilities:read",
                &["vulnerability", "asset_inventory"],
            ),
            ("slack", "messages:read", &["communications", "pii"]),
            ("servicenow", "changes:close", &["tickets"]),
            ("splunk", "saved_searches:delete", &["configuration"]),
            ("sentinelone", "activities:read", &["audit_log"]),
        ] {
            assert_eq!(classes(c, op), want, "{c}:{op}");
        }
    }

    #[test]
    fn an_operation_without_known_data_classes_fails_the_catalog_naming_it() {
        let op = |classes: &str| {
            connector_x(
                true,
                &format!(
                    "  items:read:\n    method: GET\n    path: /items\n    scope: read\n    risk: low\n{classes}    description: d\n"
                ),
            )
        };
        assert!(
            Catalog::from_sources([("x.yaml", op("    data_classes: [pii]\n").as_str())]).is_ok()
        );
        for (classes, says) in [
            (
                "",
                "x.yaml (x): operation 'items:read': data_classes: declares no data classes; list what the operation reads or writes, from security_telemetry",
            ),
            (
                "    data_classes: []\n",
                "operation 'items:read': data_classes: declares no data classes",
            ),
            (
                "    data_classes: [pii, secrets]\n",
                "operation 'items:read': data_classes: 'secrets' is not a data class; use security_telemetry",
            ),
            (
                "    data_classes: [pii, pii]\n",
                "operation 'items:read': data_classes: 'pii' is listed twice",
            ),
        ] {
            let err = refusal(&op(classes));
            assert!(err.contains(says), "{classes:?}: {err}");
        }
    }

    #[test]
    fn a_path_placeholder_without_a_source_is_rejected() {
        let bad = connector_x(
            false,
            "  items:read:\n    method: GET\n    path: /items/{item_id}\n    scope: read\n    risk: low\n    data_classes: [tickets]\n    description: d\n",
        );
        let err = refusal(&bad);
        assert!(err.contains("item_id"), "{err}");
    }

    #[test]
    fn a_bad_projection_path_is_a_catalog_error_naming_connector_operation_and_path() {
        let with = |path: &str| {
            connector_x(
                true,
                &format!(
                    "  items:read:\n    method: GET\n    path: /items\n    scope: read\n    risk: low\n    data_classes: [tickets]\n    description: d\n    projection: [\"items.*.id\", \"{path}\"]\n"
                ),
            )
        };
        let good = Catalog::from_sources([("x.yaml", with("meta.total").as_str())]).unwrap();
        assert_eq!(
            good.get("x")
                .unwrap()
                .operation("items:read")
                .unwrap()
                .projection,
            vec!["items.*.id".to_string(), "meta.total".to_string()]
        );
        for bad in ["items..name", "items.*.", "items.first name", "items.*.id"] {
            let err = refusal(&with(bad));
            assert!(
                err.contains("x.yaml (x)") && err.contains("items:read") && err.contains(bad),
                "{bad}: {err}"
            );
        }
    }

    /// Why the catalog made of the connector file `x.yaml` alone is refused.
    fn refusal(yaml: &str) -> String {
        Catalog::from_sources([("x.yaml", yaml)])
            .unwrap_err()
            .to_string()
    }

    fn with_refusal() -> String {
        connector_x(
            true,
            "  items:read:\n    method: GET\n    path: /items\n    scope: read\n    risk: low\n    data_classes: [tickets]\n    description: d\n    params:\n      q: { in: query, type: string, refuse: [{ pattern: \"PATTERN\", why: \"no\" }] }\n",
        )
    }

    #[test]
    fn a_bad_refuse_pattern_fails_the_catalog() {
        let bad = with_refusal().replace("PATTERN", "(unclosed");
        let err = refusal(&bad);
        assert!(err.contains("refuse pattern"), "{err}");
        let good = with_refusal().replace("PATTERN", "(?i)drop");
        assert!(Catalog::from_sources([("x.yaml", good.as_str())]).is_ok());
    }

    #[test]
    fn a_host_filled_by_an_untyped_variable_fails_the_catalog() {
        let bad = with_refusal()
            .replace("PATTERN", "x")
            .replace("host: { type: host,", "host: {");
        let err = refusal(&bad);
        assert!(err.contains("type host"), "{err}");
        let bad = with_refusal()
            .replace("PATTERN", "x")
            .replace("scheme: { type: scheme,", "scheme: {");
        let err = refusal(&bad);
        assert!(err.contains("type scheme"), "{err}");
    }

    /// The SPL that writes, sends or reaches other endpoints is refused in every
    /// spelling an agent might try; ordinary searches pass.
    #[test]
    fn splunk_refuses_dangerous_spl() {
        let cat = Catalog::builtin().unwrap();
        let op = cat
            .get("splunk")
            .unwrap()
            .operation("search:create")
            .unwrap();
        assert!(op.risk >= RiskTier::Medium);
        let p = &op.params["search"];
        let refused = |q: &str| p.refuse.iter().any(|r| r.pattern.is_match(q));
        for bad in [
            "| rest /services/authentication/users",
            "|REST /services",
            "search x |\n\t rest /services",
            "search x | Collect index=summary",
            "search x | outputlookup evil.csv",
            "search x | sendemail to=a@b.c",
            "search x | delete",
            "search x | map search=\"| rest /x\"",
            "search x [ | rest /services ]",
            "search x | `my_macro`",
            "search x ```comment``` | script foo",
            "rest /services",
        ] {
            assert!(refused(bad), "{bad:?} should be refused");
        }
        for ok in [
            "search index=main sourcetype=firewall action=blocked | stats count by src",
            "search index=main restart OR delete_user | table _time host",
            "| tstats count where index=main by host",
        ] {
            assert!(!refused(ok), "{ok:?} should pass");
        }
    }
}
