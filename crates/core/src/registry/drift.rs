//! Drift: what a call does beyond the agent's declared manifest, never beyond its own
//! history (a slow widening of habits is still drift). [`check`] lists the signals of one
//! call; the org's [`DriftPolicy`] gives each a [`Severity`], and each severity an
//! [`DriftAction`] the engine carries out.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::manifest::Manifest;
use crate::catalog::{Operation, RiskTier};
use crate::model::Environment;

/// How bad a drift signal is. Ordered from least to most severe.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the engine does about a signal. Ordered from mildest to strongest, so the action
/// for several signals of one call is the greatest.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DriftAction {
    /// Record an open drift alert; the agent keeps working.
    Alert,
    /// Alert, and the agent's calls beyond its declared rate get `429 rate_limited` with
    /// `Retry-After` (status `throttled`).
    Throttle,
    /// Alert, and status `suspended`: every later call is denied at the gate with risk
    /// 100 until an admin reactivates the agent with a reason.
    Suspend,
    /// Suspend, and fire `drift.detected` to the org's webhooks, Slack and Teams.
    SuspendAndNotify,
}

impl DriftAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftAction::Alert => "alert",
            DriftAction::Throttle => "throttle",
            DriftAction::Suspend => "suspend",
            DriftAction::SuspendAndNotify => "suspend_and_notify",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DriftAction::Alert,
            DriftAction::Throttle,
            DriftAction::Suspend,
            DriftAction::SuspendAndNotify,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// Whether the agent ends up `suspended`.
    pub fn suspends(self) -> bool {
        self >= DriftAction::Suspend
    }
}

impl fmt::Display for DriftAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One way a call departs from the manifest in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DriftSignal {
    /// An operation of a declared connector that no declared id or glob matches.
    UndeclaredOperation {
        connector: String,
        operation: String,
        /// The operation changes state on the target.
        writes: bool,
        /// The operation's catalog risk tier is `critical`.
        critical: bool,
    },
    /// A connector the manifest does not declare at all, with the operation attempted.
    UndeclaredConnector {
        connector: String,
        operation: String,
        writes: bool,
        critical: bool,
    },
    /// The connector instance's environment is not one the manifest declares.
    UndeclaredEnvironment { environment: String },
    /// More calls in the last 60 s than the declared rate per minute.
    RateAboveDeclared { observed: u32, declared: u32 },
    /// The operation carries a data class the manifest does not declare.
    UndeclaredDataClass { class: String },
}

impl DriftSignal {
    /// The signal's kind, as its serde tag spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            DriftSignal::UndeclaredOperation { .. } => "undeclared_operation",
            DriftSignal::UndeclaredConnector { .. } => "undeclared_connector",
            DriftSignal::UndeclaredEnvironment { .. } => "undeclared_environment",
            DriftSignal::RateAboveDeclared { .. } => "rate_above_declared",
            DriftSignal::UndeclaredDataClass { .. } => "undeclared_data_class",
        }
    }

    /// Whether the manifest gate denies the call that raised it (§5 step 1: an undeclared
    /// operation, connector or environment). Rate and data-class drift are acted on by
    /// severity only.
    pub fn gates(&self) -> bool {
        matches!(
            self,
            DriftSignal::UndeclaredOperation { .. }
                | DriftSignal::UndeclaredConnector { .. }
                | DriftSignal::UndeclaredEnvironment { .. }
        )
    }
}

impl fmt::Display for DriftSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = |writes: bool, critical: bool| match (critical, writes) {
            (true, _) => "critical operation",
            (false, true) => "write",
            (false, false) => "read",
        };
        match self {
            DriftSignal::UndeclaredOperation {
                connector,
                operation,
                writes,
                critical,
            } => write!(
                f,
                "undeclared {} {connector}:{operation}",
                kind(*writes, *critical)
            ),
            DriftSignal::UndeclaredConnector {
                connector,
                operation,
                writes,
                critical,
            } => write!(
                f,
                "undeclared connector {connector} ({} {operation})",
                kind(*writes, *critical)
            ),
            DriftSignal::UndeclaredEnvironment { environment } => {
                write!(f, "undeclared environment {environment}")
            }
            DriftSignal::RateAboveDeclared { observed, declared } => write!(
                f,
                "{observed} calls in the last 60 s, {declared} per minute declared"
            ),
            DriftSignal::UndeclaredDataClass { class } => {
                write!(f, "undeclared data class {class}")
            }
        }
    }
}

/// The action an org takes at each severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SeverityActions {
    pub low: DriftAction,
    pub medium: DriftAction,
    pub high: DriftAction,
    pub critical: DriftAction,
}

impl Default for SeverityActions {
    fn default() -> Self {
        SeverityActions {
            low: DriftAction::Alert,
            medium: DriftAction::Throttle,
            high: DriftAction::Suspend,
            critical: DriftAction::SuspendAndNotify,
        }
    }
}

/// An org's drift settings: the severity of each kind of signal and the action at each
/// severity. Every field has the documented default, so `{}` is the default policy and an
/// org overrides only what it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({"undeclared_read": "low", "undeclared_write": "high",
    "undeclared_critical": "critical", "undeclared_connector": "high",
    "undeclared_environment": "high", "undeclared_data_class": "medium",
    "rate_above_declared": "medium", "rate_far_above_declared": "high", "rate_far_factor": 3,
    "actions": {"low": "alert", "medium": "throttle", "high": "suspend",
    "critical": "suspend_and_notify"}}))]
pub struct DriftPolicy {
    /// An undeclared operation that only reads.
    pub undeclared_read: Severity,
    /// An undeclared operation that writes.
    pub undeclared_write: Severity,
    /// An undeclared operation of catalog tier `critical` (whether or not it writes).
    pub undeclared_critical: Severity,
    /// A connector the manifest does not declare (at least as severe as the operation
    /// attempted would be on a declared connector).
    pub undeclared_connector: Severity,
    pub undeclared_environment: Severity,
    pub undeclared_data_class: Severity,
    /// More calls in the last 60 s than declared per minute.
    pub rate_above_declared: Severity,
    /// More than `rate_far_factor` times the declared rate.
    pub rate_far_above_declared: Severity,
    #[schema(minimum = 2, maximum = 1000)]
    pub rate_far_factor: u32,
    pub actions: SeverityActions,
}

impl Default for DriftPolicy {
    fn default() -> Self {
        DriftPolicy {
            undeclared_read: Severity::Low,
            undeclared_write: Severity::High,
            undeclared_critical: Severity::Critical,
            undeclared_connector: Severity::High,
            undeclared_environment: Severity::High,
            undeclared_data_class: Severity::Medium,
            rate_above_declared: Severity::Medium,
            rate_far_above_declared: Severity::High,
            rate_far_factor: 3,
            actions: SeverityActions::default(),
        }
    }
}

impl DriftPolicy {
    /// Checks the settings serde cannot: the far-above factor is 2 to 1000.
    pub fn check(&self) -> Result<(), String> {
        if !(2..=1000).contains(&self.rate_far_factor) {
            return Err(format!(
                "rate_far_factor must be 2 to 1000, not {}",
                self.rate_far_factor
            ));
        }
        Ok(())
    }

    fn operation_severity(&self, writes: bool, critical: bool) -> Severity {
        match (critical, writes) {
            (true, _) => self.undeclared_critical,
            (false, true) => self.undeclared_write,
            (false, false) => self.undeclared_read,
        }
    }

    pub fn severity(&self, signal: &DriftSignal) -> Severity {
        match signal {
            DriftSignal::UndeclaredOperation {
                writes, critical, ..
            } => self.operation_severity(*writes, *critical),
            // A critical operation is no less severe for arriving on an undeclared connector.
            DriftSignal::UndeclaredConnector {
                writes, critical, ..
            } => self
                .undeclared_connector
                .max(self.operation_severity(*writes, *critical)),
            DriftSignal::UndeclaredEnvironment { .. } => self.undeclared_environment,
            DriftSignal::UndeclaredDataClass { .. } => self.undeclared_data_class,
            DriftSignal::RateAboveDeclared { observed, declared } => {
                let far = u64::from(*declared) * u64::from(self.rate_far_factor);
                if u64::from(*observed) > far {
                    self.rate_far_above_declared
                } else {
                    self.rate_above_declared
                }
            }
        }
    }

    pub fn action(&self, severity: Severity) -> DriftAction {
        match severity {
            Severity::Low => self.actions.low,
            Severity::Medium => self.actions.medium,
            Severity::High => self.actions.high,
            Severity::Critical => self.actions.critical,
        }
    }

    /// The highest severity among `signals` and the strongest action of any of them
    /// (an org may map a lower severity to a stronger action); `None` without signals.
    pub fn strongest(&self, signals: &[DriftSignal]) -> Option<(Severity, DriftAction)> {
        let severities = signals.iter().map(|s| self.severity(s));
        let severity = severities.clone().max()?;
        let action = severities.map(|s| self.action(s)).max()?;
        Some((severity, action))
    }
}

/// What drift needs to know of one call: the operation as the catalog describes it, where
/// it goes, and how busy the agent is.
#[derive(Debug, Clone, Copy)]
pub struct ObservedCall<'a> {
    pub connector: &'a str,
    pub operation: &'a str,
    pub tier: RiskTier,
    pub writes: bool,
    pub data_classes: &'a [String],
    /// The environment of the connector instance the call goes to.
    pub environment: Environment,
    /// The agent's calls in the last 60 s, this one included.
    pub calls_last_minute: u32,
    /// An active grant covers this operation: a reviewer approved it, so the operation,
    /// connector, environment and data classes are not drift (the rate still is).
    pub granted: bool,
}

impl<'a> ObservedCall<'a> {
    /// A call of catalog operation `op` (id `operation`) of `connector`.
    pub fn of(
        connector: &'a str,
        operation: &'a str,
        op: &'a Operation,
        environment: Environment,
        calls_last_minute: u32,
    ) -> Self {
        ObservedCall {
            connector,
            operation,
            tier: op.risk,
            writes: op.writes,
            data_classes: &op.data_classes,
            environment,
            calls_last_minute,
            granted: false,
        }
    }
}

/// Every way `call` departs from `manifest`, in a fixed order: operation or connector,
/// environment, data classes (sorted), rate. Empty when the call is within it.
pub fn check(manifest: &Manifest, call: &ObservedCall<'_>) -> Vec<DriftSignal> {
    let mut out = Vec::new();
    if !call.granted {
        let (connector, operation) = (call.connector.to_string(), call.operation.to_string());
        let critical = call.tier == RiskTier::Critical;
        if !manifest.declares_connector(call.connector) {
            out.push(DriftSignal::UndeclaredConnector {
                connector,
                operation,
                writes: call.writes,
                critical,
            });
        } else if !manifest.allows(call.connector, call.operation) {
            out.push(DriftSignal::UndeclaredOperation {
                connector,
                operation,
                writes: call.writes,
                critical,
            });
        }
        if !manifest.declares_environment(call.environment) {
            out.push(DriftSignal::UndeclaredEnvironment {
                environment: call.environment.as_str().into(),
            });
        }
        let mut classes: Vec<&String> = call
            .data_classes
            .iter()
            .filter(|c| !manifest.declares_class(c))
            .collect();
        classes.sort();
        classes.dedup();
        out.extend(
            classes
                .into_iter()
                .map(|c| DriftSignal::UndeclaredDataClass { class: c.clone() }),
        );
    }
    if call.calls_last_minute > manifest.rate_per_minute {
        out.push(DriftSignal::RateAboveDeclared {
            observed: call.calls_last_minute,
            declared: manifest.rate_per_minute,
        });
    }
    out
}
