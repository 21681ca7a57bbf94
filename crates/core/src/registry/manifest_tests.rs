//! Tests of [`super::manifest`]: reading and refusing manifests, the canonical form and
//! its hash, what a manifest allows, diffs and widening.

use std::collections::BTreeMap;

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::diff::*;
use super::manifest::*;
use crate::catalog::Catalog;
use crate::model::Environment;

const EXAMPLE: &str = r#"{"connectors": {"crowdstrike": ["detections:read", "hosts:*"]},
    "rate_per_minute": 60, "environments": ["prod"], "data_classes": ["security_telemetry"],
    "purpose": "Triage detections", "model": "claude-sonnet-4"}"#;

const EXAMPLE_YAML: &str = "
connectors:
  crowdstrike: [hosts:*, detections:read, hosts:*]
rate_per_minute: 60
environments: [production]
data_classes: [security_telemetry, security_telemetry]
purpose: '  Triage detections '
model: claude-sonnet-4
";

fn example() -> Manifest {
    Manifest::parse(EXAMPLE).unwrap()
}

/// A valid manifest declaring `ops` of `crowdstrike`, to vary.
fn with_ops(ops: &[&str]) -> Manifest {
    let mut m = example();
    m.connectors.insert(
        "crowdstrike".into(),
        ops.iter().map(|s| s.to_string()).collect(),
    );
    m
}

/// Why the example, changed by `edit` (a JSON object merged over it), is refused.
fn refusal(edit: serde_json::Value) -> String {
    let mut v: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
    for (k, val) in edit.as_object().unwrap() {
        v[k] = val.clone();
    }
    Manifest::parse(&v.to_string()).unwrap_err().to_string()
}

#[test]
fn json_and_yaml_read_to_the_same_canonical_manifest_and_hash() {
    let json = example();
    let yaml = Manifest::parse(EXAMPLE_YAML).unwrap();
    assert_eq!(json, yaml);
    assert_eq!(
        json.connectors["crowdstrike"],
        vec!["detections:read".to_string(), "hosts:*".to_string()]
    );
    assert_eq!(yaml.environments, vec!["prod".to_string()]);
    assert_eq!(yaml.data_classes, vec!["security_telemetry".to_string()]);
    assert_eq!(yaml.purpose, "Triage detections");
    assert_eq!(json.hash().unwrap(), yaml.hash().unwrap());
}

#[test]
fn the_hash_is_sha256_of_the_rfc8785_json_of_the_canonical_form() {
    let m = example();
    let canonical = r#"{"connectors":{"crowdstrike":["detections:read","hosts:*"]},"data_classes":["security_telemetry"],"environments":["prod"],"model":"claude-sonnet-4","purpose":"Triage detections","rate_per_minute":60}"#;
    let want = hex::encode(Sha256::digest(canonical.as_bytes()));
    assert_eq!(m.hash().unwrap(), want);
    // A manifest built in code, unsorted, hashes as its canonical form does.
    let mut messy = m.clone();
    messy.connectors.insert(
        "crowdstrike".into(),
        vec!["hosts:*".into(), "detections:read".into(), "hosts:*".into()],
    );
    messy.environments = vec!["production".into()];
    assert_eq!(messy.hash().unwrap(), want);
    // Any change of content changes the hash.
    for change in [
        with_ops(&["detections:read"]),
        Manifest {
            rate_per_minute: 61,
            ..m.clone()
        },
        Manifest {
            purpose: "Triage detections.".into(),
            ..m.clone()
        },
        Manifest {
            model: String::new(),
            ..m.clone()
        },
        Manifest {
            environments: vec!["prod".into(), "dev".into()],
            ..m.clone()
        },
    ] {
        assert_ne!(change.hash().unwrap(), want, "{change:?}");
    }
}

#[test]
fn serde_reading_checks_too_so_an_api_body_cannot_skip_the_checks() {
    let m: Manifest = serde_json::from_str(EXAMPLE).unwrap();
    assert_eq!(m, example());
    let e = serde_json::from_str::<Manifest>(&EXAMPLE.replace("60", "0"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("rate_per_minute: must be 1 to 10000000"), "{e}");
    let round = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<Manifest>(&round).unwrap(), m);
}

#[test]
fn a_stored_version_reads_back_even_if_the_checks_have_tightened_since() {
    let m = example();
    let stored = serde_json::to_string(&m).unwrap();
    let back = Manifest::read_stored(&stored).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.hash().unwrap(), m.hash().unwrap());
    // A class no longer in the set, say: the version still reads, with the same content.
    let old = stored.replace("security_telemetry", "retired_class");
    let back = Manifest::read_stored(&old).unwrap();
    assert_eq!(back.data_classes, vec!["retired_class".to_string()]);
    assert!(Manifest::parse(&old).is_err());
    let e = Manifest::read_stored(&stored.replace("\"model\"", "\"modle\""))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `modle`"), "{e}");
}

#[test]
fn unknown_missing_and_mistyped_fields_are_named() {
    let e = Manifest::parse(&EXAMPLE.replace("\"model\"", "\"modle\"")).unwrap_err();
    assert!(matches!(e, ManifestError::Syntax(_)));
    let e = e.to_string();
    assert!(e.contains("unknown field `modle`"), "{e}");
    let e = Manifest::parse(r#"{"connectors": {}, "rate_per_minute": 1}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing field `environments`"), "{e}");
    let e = Manifest::parse(&EXAMPLE.replace("60", "\"sixty\""))
        .unwrap_err()
        .to_string();
    assert!(e.contains("rate_per_minute"), "{e}");
    let e = refusal(serde_json::json!({"connectors": {"okta": "users:read"}}));
    assert!(e.contains("connectors.okta"), "{e}");
    for junk in ["", "[1, 2]", "{", "just words"] {
        let e = Manifest::parse(junk).unwrap_err().to_string();
        assert!(e.contains("does not read as JSON or YAML"), "{junk:?}: {e}");
    }
}

#[test]
fn every_field_is_checked_with_a_message_that_says_what_to_fix() {
    use serde_json::json;
    let long_model = "m".repeat(201);
    let many: Vec<String> = (0..201).map(|i| format!("op{i}:read")).collect();
    for (edit, says) in [
        (
            json!({"connectors": {"CrowdStrike": ["*"]}}),
            "connectors.CrowdStrike: a connector name is 1 to 64 lowercase letters",
        ),
        (
            json!({"connectors": {"crowd-strike": ["*"]}}),
            "connectors.crowd-strike: a connector name",
        ),
        (
            json!({"connectors": {"okta": []}}),
            "connectors.okta: declares no operations",
        ),
        (
            json!({"connectors": {"okta": ["users:read", "users: read"]}}),
            "connectors.okta[1]: 'users: read' has ' ' at position 7",
        ),
        (
            json!({"connectors": {"okta": [""]}}),
            "connectors.okta[0]: '' is empty",
        ),
        (
            json!({"connectors": {"okta": ["users"]}}),
            "connectors.okta[0]: 'users' is neither an operation id (resource:action",
        ),
        (
            json!({"connectors": {"okta": [":read"]}}),
            "is neither an operation id",
        ),
        (
            json!({"connectors": {"okta": [format!("a:{}", "b".repeat(127))]}}),
            "connectors.okta[0]: is longer than 128 characters",
        ),
        (
            json!({"connectors": {"okta": many}}),
            "declares more than 200 operations",
        ),
        (
            json!({"rate_per_minute": 0}),
            "rate_per_minute: must be 1 to 10000000 calls per minute, not 0",
        ),
        (
            json!({"rate_per_minute": 10000001}),
            "rate_per_minute: must be 1 to 10000000 calls per minute, not 10000001",
        ),
        (
            json!({"environments": ["prod", "qa"]}),
            "environments[1]: 'qa' is not an environment; use prod, staging, dev or unknown",
        ),
        (
            json!({"data_classes": ["pii", "PII"]}),
            "data_classes[1]: 'PII' is not a data class; use security_telemetry, asset_inventory",
        ),
        (json!({"purpose": "   "}), "purpose: is required"),
        (
            json!({"purpose": "x".repeat(2001)}),
            "purpose: is 2001 characters, at most 2000",
        ),
        (
            json!({"purpose": "ok\u{1b}[31m"}),
            "purpose: contains the control character U+001B",
        ),
        (
            json!({"model": long_model}),
            "model: is 201 characters, at most 200",
        ),
    ] {
        let e = refusal(edit.clone());
        assert!(e.contains(says), "{edit}: {e}");
    }
    let too_many: BTreeMap<String, Vec<String>> = (0..101)
        .map(|i| (format!("c{i}"), vec!["*".to_string()]))
        .collect();
    let e = refusal(json!({ "connectors": too_many }));
    assert!(e.contains("declares more than 100 connectors"), "{e}");
    // The bounds themselves are accepted, and so is a manifest that declares nothing.
    for ok in [
        json!({"rate_per_minute": 1}),
        json!({"rate_per_minute": 10000000}),
        json!({"model": ""}),
        json!({"purpose": "line one\n\tline two"}),
        json!({"connectors": {}, "environments": [], "data_classes": []}),
        json!({"environments": ["unknown", "dev", "staging", "prod"]}),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        for (k, val) in ok.as_object().unwrap() {
            v[k] = val.clone();
        }
        assert!(Manifest::parse(&v.to_string()).is_ok(), "{ok}");
    }
}

#[test]
fn allows_declares_and_covers() {
    let m = with_ops(&["detections:read", "hosts:*"]);
    assert!(m.allows("crowdstrike", "detections:read"));
    assert!(m.allows("crowdstrike", "hosts:write"));
    assert!(!m.allows("crowdstrike", "detections:write"));
    assert!(!m.allows("okta", "users:read"));
    assert!(m.declares_connector("crowdstrike") && !m.declares_connector("okta"));
    assert!(m.declares_environment(Environment::Prod));
    assert!(!m.declares_environment(Environment::Staging));
    assert!(!m.declares_environment(Environment::Unknown));
    assert!(m.declares_class("security_telemetry") && !m.declares_class("pii"));
    for (pattern, covered) in [
        ("hosts:read", true),
        ("hosts:*", true),
        ("hosts:re*", true),
        ("detections:read", true),
        ("detections:*", false),
        ("*", false),
        ("*:read", false),
        ("hosts*", false),
    ] {
        assert_eq!(m.covers("crowdstrike", pattern), covered, "{pattern}");
    }
    assert!(with_ops(&["*"]).covers("crowdstrike", "*"));
    assert!(!m.covers("okta", "users:read"));
}

#[test]
fn narrower_or_equal_manifests_do_not_widen() {
    let current = with_ops(&["detections:*", "hosts:*"]);
    let mut narrower = with_ops(&["detections:read", "hosts:get", "hosts:write"]);
    narrower.rate_per_minute = 30;
    narrower.environments = vec![];
    narrower.data_classes = vec![];
    narrower.purpose = "Something else entirely".into();
    narrower.model = "another-model".into();
    assert_eq!(narrower.widens(&current), vec![]);
    assert_eq!(current.widens(&current), vec![]);
    let mut fewer_connectors = current.clone();
    fewer_connectors.connectors.clear();
    assert_eq!(fewer_connectors.widens(&current), vec![]);
}

#[test]
fn each_kind_of_widening_is_named() {
    let current = with_ops(&["detections:read", "hosts:*"]);
    let mut wider = with_ops(&["detections:*", "hosts:write", "*:read"]);
    wider
        .connectors
        .insert("okta".into(), vec!["users:read".into()]);
    wider.environments = vec!["dev".into(), "prod".into()];
    wider.data_classes = vec!["pii".into(), "security_telemetry".into()];
    wider.rate_per_minute = 61;
    let w = wider.widens(&current);
    let op = |o: &str| {
        Widening::Operation(DeclaredOp {
            connector: "crowdstrike".into(),
            operation: o.into(),
        })
    };
    assert_eq!(
        w,
        vec![
            op("*:read"),
            op("detections:*"),
            Widening::Connector {
                connector: "okta".into()
            },
            Widening::Environment {
                environment: "dev".into()
            },
            Widening::DataClass {
                class: "pii".into()
            },
            Widening::Rate { from: 60, to: 61 },
        ]
    );
    let said: Vec<String> = w.iter().map(ToString::to_string).collect();
    assert_eq!(said[0], "new operation crowdstrike:*:read");
    assert_eq!(said[2], "new connector okta");
    assert_eq!(said[5], "rate 60 → 61 per minute");
    let json = serde_json::to_value(&w[2]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "connector", "connector": "okta"})
    );
    let json = serde_json::to_value(&w[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "operation", "connector": "crowdstrike", "operation": "*:read"})
    );
}

#[test]
fn a_diff_names_what_was_added_removed_and_changed() {
    let old = example();
    let mut new = with_ops(&["detections:read", "hosts:read"]);
    new.connectors.insert("okta".into(), vec!["users:*".into()]);
    new.environments = vec!["staging".into()];
    new.data_classes = vec!["identity".into(), "security_telemetry".into()];
    new.rate_per_minute = 120;
    new.model = String::new();
    let d = ManifestDiff::between(&old, &new);
    let op = |c: &str, o: &str| DeclaredOp {
        connector: c.into(),
        operation: o.into(),
    };
    assert_eq!(d.added_connectors, vec!["okta".to_string()]);
    assert!(d.removed_connectors.is_empty());
    assert_eq!(
        d.added_operations,
        vec![op("crowdstrike", "hosts:read"), op("okta", "users:*")]
    );
    assert_eq!(d.removed_operations, vec![op("crowdstrike", "hosts:*")]);
    assert_eq!(d.added_environments, vec!["staging".to_string()]);
    assert_eq!(d.removed_environments, vec!["prod".to_string()]);
    assert_eq!(d.added_data_classes, vec!["identity".to_string()]);
    assert!(d.removed_data_classes.is_empty());
    assert_eq!(d.rate, Some(RateChange { from: 60, to: 120 }));
    assert_eq!(d.purpose, None);
    assert_eq!(
        d.model,
        Some(TextChange {
            from: "claude-sonnet-4".into(),
            to: String::new()
        })
    );
    assert_eq!(
        d.summary(),
        "+connectors okta; +operations crowdstrike:hosts:read, okta:users:*; \
         -operations crowdstrike:hosts:*; +environments staging; -environments prod; \
         +data classes identity; rate 60 → 120 per minute; model claude-sonnet-4 → (none)"
    );
    assert!(!d.is_empty());
    let back = ManifestDiff::between(&new, &old);
    assert_eq!(back.removed_connectors, vec!["okta".to_string()]);
    assert_eq!(back.added_operations, d.removed_operations);
    let same = ManifestDiff::between(&old, &Manifest::parse(EXAMPLE_YAML).unwrap());
    assert!(same.is_empty(), "{same:?}");
    assert_eq!(same.summary(), "no change");
}

#[test]
fn the_catalog_check_names_unknown_connectors_and_operations() {
    let catalog = Catalog::builtin().unwrap();
    example().check_catalog(&catalog).unwrap();
    with_ops(&["*", "rtr:*"]).check_catalog(&catalog).unwrap();
    let e = with_ops(&["hosts:read", "hosts:destroy"])
        .check_catalog(&catalog)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("connectors.crowdstrike[1]: 'hosts:destroy' names no operation of crowdstrike; its operations are"),
        "{e}"
    );
    assert!(e.contains("hosts:write"), "{e}");
    let e = with_ops(&["nothing:*"])
        .check_catalog(&catalog)
        .unwrap_err()
        .to_string();
    assert!(e.contains("'nothing:*' names no operation"), "{e}");
    let mut m = example();
    m.connectors.insert("falcon".into(), vec!["*".into()]);
    let e = m.check_catalog(&catalog).unwrap_err().to_string();
    assert!(
        e.contains("connectors.falcon: 'falcon' is not a connector of the catalog; use one of"),
        "{e}"
    );
    assert!(e.contains("crowdstrike"), "{e}");
}

#[test]
fn a_generated_manifest_declares_exactly_what_was_called() {
    let (tel, ids) = (
        vec!["security_telemetry".to_string()],
        vec!["identity".to_string(), "pii".to_string()],
    );
    let calls = [
        ("crowdstrike", "hosts:read", Environment::Prod, &[][..]),
        (
            "crowdstrike",
            "detections:read",
            Environment::Prod,
            &tel[..],
        ),
        (
            "crowdstrike",
            "detections:read",
            Environment::Staging,
            &tel[..],
        ),
        ("okta", "users:read", Environment::Prod, &ids[..]),
    ];
    let m = Manifest::generated(0, calls).unwrap();
    assert_eq!(m.rate_per_minute, 1, "a rate of 0 is brought into range");
    assert_eq!(
        m.connectors,
        BTreeMap::from([
            (
                "crowdstrike".to_string(),
                vec!["detections:read".to_string(), "hosts:read".to_string()]
            ),
            ("okta".to_string(), vec!["users:read".to_string()]),
        ])
    );
    assert_eq!(
        m.environments,
        vec!["prod".to_string(), "staging".to_string()]
    );
    assert_eq!(
        m.data_classes,
        vec!["identity", "pii", "security_telemetry"]
    );
    for (c, o, env, classes) in calls {
        let call = super::drift::ObservedCall {
            connector: c,
            operation: o,
            tier: crate::catalog::RiskTier::Low,
            writes: false,
            data_classes: classes,
            environment: env,
            calls_last_minute: 1,
            granted: false,
        };
        assert_eq!(super::drift::check(&m, &call), vec![], "{c}:{o}");
    }
    assert!(!m.allows("okta", "users:suspend"));
    let none = Manifest::generated(50_000_000, []).unwrap();
    assert!(none.connectors.is_empty());
    assert_eq!(none.rate_per_minute, MAX_RATE_PER_MINUTE);
}

#[test]
fn the_schema_carries_the_issue_example() {
    use utoipa::PartialSchema;
    let schema = serde_json::to_value(Manifest::schema()).unwrap();
    let example = &schema["example"];
    assert_eq!(example["rate_per_minute"], 60, "{schema}");
    // The documented example is itself a valid manifest.
    Manifest::parse(&example.to_string()).unwrap();
}

/// Every string over `a`, `b`, `c`, `:` up to `len` characters.
fn strings(len: usize) -> Vec<String> {
    let mut all = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..len {
        last = last
            .iter()
            .flat_map(|s| ['a', 'b', 'c', ':'].map(|c| format!("{s}{c}")))
            .collect();
        all.extend(last.iter().cloned());
    }
    all
}

proptest! {
    /// `covers` is glob inclusion: checked against every string up to the pattern's length
    /// over an alphabet with one letter (`c`) the globs never use, which stands for the
    /// letters a `*` may stand for that the declared glob does not name.
    #[test]
    fn covers_is_exactly_glob_inclusion(declared in "[ab:*]{1,4}", proposed in "[ab:*]{1,4}") {
        let m = Manifest {
            connectors: BTreeMap::from([("x".to_string(), vec![declared.clone()])]),
            ..example()
        };
        let d = crate::policy::Glob::parse(&declared).unwrap();
        let p = crate::policy::Glob::parse(&proposed).unwrap();
        let included = strings(proposed.len() + 1)
            .iter()
            .all(|s| !p.matches(s) || d.matches(s));
        prop_assert_eq!(m.covers("x", &proposed), included, "{} covers {}", declared, proposed);
    }
}
