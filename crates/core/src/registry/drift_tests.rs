//! Tests of [`super::drift`]: each signal, its default severity and action, the rate
//! thresholds, grants, and the org's overrides.

use super::drift::*;
use super::manifest::Manifest;
use crate::catalog::RiskTier;
use crate::model::Environment;

/// Declares crowdstrike `detections:*` and `hosts:read`, prod, security telemetry and
/// asset inventory, 60 calls per minute.
fn manifest() -> Manifest {
    Manifest::parse(
        r#"{"connectors": {"crowdstrike": ["detections:*", "hosts:read"]},
            "rate_per_minute": 60, "environments": ["prod"],
            "data_classes": ["security_telemetry", "asset_inventory"],
            "purpose": "Triage detections", "model": "m"}"#,
    )
    .unwrap()
}

const NO_CLASSES: &[String] = &[];

/// A declared, in-rate call of `crowdstrike:detections:read` on prod; tests change one
/// thing at a time.
fn call<'a>(classes: &'a [String]) -> ObservedCall<'a> {
    ObservedCall {
        connector: "crowdstrike",
        operation: "detections:read",
        tier: RiskTier::Low,
        writes: false,
        data_classes: classes,
        environment: Environment::Prod,
        calls_last_minute: 1,
        granted: false,
    }
}

/// The one signal of `c`, with its default severity and action.
fn only(c: &ObservedCall<'_>) -> (DriftSignal, Severity, DriftAction) {
    let signals = check(&manifest(), c);
    assert_eq!(signals.len(), 1, "{signals:?}");
    let p = DriftPolicy::default();
    let s = p.severity(&signals[0]);
    (signals[0].clone(), s, p.action(s))
}

#[test]
fn a_call_within_the_manifest_raises_nothing() {
    let classes = vec!["security_telemetry".to_string()];
    assert_eq!(check(&manifest(), &call(&classes)), vec![]);
    let mut c = call(NO_CLASSES);
    c.calls_last_minute = 60;
    assert_eq!(check(&manifest(), &c), vec![], "exactly the declared rate");
    assert_eq!(DriftPolicy::default().strongest(&[]), None);
}

#[test]
fn an_undeclared_read_is_low_and_alerts() {
    let mut c = call(NO_CLASSES);
    c.operation = "hosts:get";
    let (signal, severity, action) = only(&c);
    assert_eq!(
        signal,
        DriftSignal::UndeclaredOperation {
            connector: "crowdstrike".into(),
            operation: "hosts:get".into(),
            writes: false,
            critical: false
        }
    );
    assert!(signal.gates());
    assert_eq!(signal.to_string(), "undeclared read crowdstrike:hosts:get");
    assert_eq!((severity, action), (Severity::Low, DriftAction::Alert));
}

#[test]
fn an_undeclared_write_is_high_and_suspends() {
    let mut c = call(NO_CLASSES);
    (c.operation, c.writes, c.tier) = ("hosts:write", true, RiskTier::High);
    let (signal, severity, action) = only(&c);
    assert!(matches!(
        signal,
        DriftSignal::UndeclaredOperation {
            writes: true,
            critical: false,
            ..
        }
    ));
    assert_eq!((severity, action), (Severity::High, DriftAction::Suspend));
    assert!(action.suspends());
}

#[test]
fn an_undeclared_critical_operation_is_critical_and_notifies() {
    let mut c = call(NO_CLASSES);
    (c.operation, c.writes, c.tier) = ("rtr:command_admin", true, RiskTier::Critical);
    let (signal, severity, action) = only(&c);
    assert!(matches!(
        signal,
        DriftSignal::UndeclaredOperation { critical: true, .. }
    ));
    assert_eq!(
        signal.to_string(),
        "undeclared critical operation crowdstrike:rtr:command_admin"
    );
    assert_eq!(
        (severity, action),
        (Severity::Critical, DriftAction::SuspendAndNotify)
    );
    // A critical read is critical too: the tier decides, not the writes flag.
    c.writes = false;
    assert_eq!(only(&c).1, Severity::Critical);
}

#[test]
fn an_undeclared_connector_is_high_or_the_operation_s_severity_if_worse() {
    let mut c = call(NO_CLASSES);
    (c.connector, c.operation) = ("okta", "users:read");
    let (signal, severity, action) = only(&c);
    assert_eq!(
        signal,
        DriftSignal::UndeclaredConnector {
            connector: "okta".into(),
            operation: "users:read".into(),
            writes: false,
            critical: false
        }
    );
    assert!(signal.gates());
    assert_eq!((severity, action), (Severity::High, DriftAction::Suspend));
    (c.operation, c.writes, c.tier) = ("users:deactivate", true, RiskTier::Critical);
    assert_eq!(
        only(&c).1,
        Severity::Critical,
        "a critical operation on an undeclared connector"
    );
}

#[test]
fn an_undeclared_environment_is_high_and_suspends() {
    for env in [Environment::Staging, Environment::Dev, Environment::Unknown] {
        let mut c = call(NO_CLASSES);
        c.environment = env;
        let (signal, severity, action) = only(&c);
        assert_eq!(
            signal,
            DriftSignal::UndeclaredEnvironment {
                environment: env.as_str().into()
            }
        );
        assert!(signal.gates());
        assert_eq!((severity, action), (Severity::High, DriftAction::Suspend));
    }
}

#[test]
fn an_undeclared_data_class_is_medium_and_throttles_once_per_class() {
    let classes: Vec<String> = ["pii", "security_telemetry", "identity", "pii"]
        .map(String::from)
        .into();
    let signals = check(&manifest(), &call(&classes));
    assert_eq!(
        signals,
        vec![
            DriftSignal::UndeclaredDataClass {
                class: "identity".into()
            },
            DriftSignal::UndeclaredDataClass {
                class: "pii".into()
            },
        ]
    );
    let p = DriftPolicy::default();
    for s in &signals {
        assert!(!s.gates());
        assert_eq!(p.severity(s), Severity::Medium);
        assert_eq!(p.action(p.severity(s)), DriftAction::Throttle);
    }
}

#[test]
fn the_rate_is_medium_above_the_declared_rate_and_high_above_three_times_it() {
    let p = DriftPolicy::default();
    for (observed, want) in [
        (61, Some(Severity::Medium)),
        (180, Some(Severity::Medium)),
        (181, Some(Severity::High)),
        (u32::MAX, Some(Severity::High)),
    ] {
        let mut c = call(NO_CLASSES);
        c.calls_last_minute = observed;
        let signals = check(&manifest(), &c);
        assert_eq!(
            signals,
            vec![DriftSignal::RateAboveDeclared {
                observed,
                declared: 60
            }]
        );
        assert!(!signals[0].gates());
        assert_eq!(Some(p.severity(&signals[0])), want, "{observed}");
    }
    let rate = DriftSignal::RateAboveDeclared {
        observed: 61,
        declared: 60,
    };
    assert_eq!(p.action(p.severity(&rate)), DriftAction::Throttle);
    assert_eq!(
        rate.to_string(),
        "61 calls in the last 60 s, 60 per minute declared"
    );
    // The factor cannot overflow on the highest declarable rate.
    let fast = DriftSignal::RateAboveDeclared {
        observed: u32::MAX,
        declared: 100_000,
    };
    assert_eq!(p.severity(&fast), Severity::High);
}

#[test]
fn several_signals_come_in_a_fixed_order_and_the_strongest_wins() {
    let classes = vec!["pii".to_string()];
    let mut c = call(&classes);
    (c.operation, c.environment, c.calls_last_minute) = ("hosts:get", Environment::Dev, 61);
    let signals = check(&manifest(), &c);
    let kinds: Vec<&str> = signals.iter().map(DriftSignal::kind).collect();
    assert_eq!(
        kinds,
        [
            "undeclared_operation",
            "undeclared_environment",
            "undeclared_data_class",
            "rate_above_declared"
        ]
    );
    assert_eq!(
        DriftPolicy::default().strongest(&signals),
        Some((Severity::High, DriftAction::Suspend))
    );
}

#[test]
fn a_granted_call_is_drift_only_by_its_rate() {
    let classes = vec!["credentials".to_string()];
    let mut c = call(&classes);
    (c.connector, c.operation, c.environment, c.granted) =
        ("okta", "sessions:revoke", Environment::Staging, true);
    assert_eq!(check(&manifest(), &c), vec![]);
    c.calls_last_minute = 61;
    let kinds: Vec<&str> = check(&manifest(), &c)
        .iter()
        .map(DriftSignal::kind)
        .collect();
    assert_eq!(kinds, ["rate_above_declared"]);
}

#[test]
fn the_policy_reads_from_partial_settings_and_refuses_unknown_ones() {
    assert_eq!(
        serde_json::from_str::<DriftPolicy>("{}").unwrap(),
        DriftPolicy::default()
    );
    let p: DriftPolicy = serde_norway::from_str(
        "undeclared_read: medium\nrate_far_factor: 5\nactions: { high: alert }\n",
    )
    .unwrap();
    assert_eq!(p.undeclared_read, Severity::Medium);
    assert_eq!(p.undeclared_write, Severity::High, "untouched default");
    assert_eq!(p.actions.high, DriftAction::Alert);
    assert_eq!(p.actions.critical, DriftAction::SuspendAndNotify);
    let at = |observed| {
        p.severity(&DriftSignal::RateAboveDeclared {
            observed,
            declared: 10,
        })
    };
    assert_eq!((at(50), at(51)), (Severity::Medium, Severity::High));
    // An org mapping a lower severity to a stronger action gets the stronger action.
    let mut odd = DriftPolicy::default();
    odd.actions.low = DriftAction::Suspend;
    odd.actions.high = DriftAction::Alert;
    let read = DriftSignal::UndeclaredOperation {
        connector: "c".into(),
        operation: "o:r".into(),
        writes: false,
        critical: false,
    };
    let env = DriftSignal::UndeclaredEnvironment {
        environment: "dev".into(),
    };
    assert_eq!(
        odd.strongest(&[read, env]),
        Some((Severity::High, DriftAction::Suspend))
    );
    for bad in [
        r#"{"undeclared_reads": "low"}"#,
        r#"{"actions": {"severe": "alert"}}"#,
        r#"{"undeclared_read": "urgent"}"#,
        r#"{"actions": {"low": "explode"}}"#,
    ] {
        assert!(serde_json::from_str::<DriftPolicy>(bad).is_err(), "{bad}");
    }
    let e = serde_json::from_str::<DriftPolicy>(r#"{"undeclared_reads": "low"}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `undeclared_reads`"), "{e}");
    DriftPolicy::default().check().unwrap();
    for factor in [0, 1, 1001] {
        let p = DriftPolicy {
            rate_far_factor: factor,
            ..DriftPolicy::default()
        };
        assert!(
            p.check()
                .unwrap_err()
                .contains("rate_far_factor must be 2 to 1000")
        );
    }
}

#[test]
fn names_are_the_documented_snake_case() {
    let json = serde_json::to_value(DriftPolicy::default()).unwrap();
    assert_eq!(json["undeclared_read"], "low");
    assert_eq!(json["actions"]["critical"], "suspend_and_notify");
    let signal = DriftSignal::RateAboveDeclared {
        observed: 7,
        declared: 5,
    };
    assert_eq!(
        serde_json::to_value(&signal).unwrap(),
        serde_json::json!({"kind": "rate_above_declared", "observed": 7, "declared": 5})
    );
    for s in Severity::ALL {
        assert_eq!(Severity::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    assert_eq!(
        DriftAction::SuspendAndNotify.to_string(),
        "suspend_and_notify"
    );
    assert!(!DriftAction::Throttle.suspends());
}

#[test]
fn a_catalog_operation_brings_its_tier_writes_and_classes() {
    let cat = crate::catalog::Catalog::builtin().unwrap();
    let okta = cat.get("okta").unwrap();
    let op = okta.operation("users:deactivate").unwrap();
    let c = ObservedCall::of("okta", "users:deactivate", op, Environment::Prod, 3);
    assert_eq!(
        (c.tier, c.writes, c.granted),
        (RiskTier::Critical, true, false)
    );
    let signals = check(&manifest(), &c);
    assert_eq!(
        signals,
        vec![
            DriftSignal::UndeclaredConnector {
                connector: "okta".into(),
                operation: "users:deactivate".into(),
                writes: true,
                critical: true
            },
            DriftSignal::UndeclaredDataClass {
                class: "identity".into()
            },
        ]
    );
    assert_eq!(
        DriftPolicy::default().strongest(&signals),
        Some((Severity::Critical, DriftAction::SuspendAndNotify))
    );
    // The same read of hosts the manifest declares, on prod, is no drift.
    let cs = cat.get("crowdstrike").unwrap();
    let read = cs.operation("hosts:read").unwrap();
    let c = ObservedCall::of("crowdstrike", "hosts:read", read, Environment::Prod, 1);
    assert_eq!(check(&manifest(), &c), vec![]);
}
