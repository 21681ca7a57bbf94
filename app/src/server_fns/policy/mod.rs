//! The Policy area: the rule list, the rule editor with live validation, thresholds and
//! defaults, YAML, versions with diffs and rollback, and simulations. Every change is a
//! new policy version made by the engine (rule edits by `AdminOps::edit_rules`), based
//! on the version the page showed and with the admin's reason; these functions
//! translate forms.

mod apply_yaml;
mod delete_rule;
mod move_rule;
mod overview;
mod rule_form;
mod save_rule;
mod save_settings;
mod simulation;
mod versions;

pub use apply_yaml::*;
pub use delete_rule::*;
pub use move_rule::*;
pub use overview::*;
pub use rule_form::*;
pub use save_rule::*;
pub use save_settings::*;
pub use simulation::*;
pub use versions::*;

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Forms ↔ policy, and applying a changed policy as the signed-in admin.
    use arx_core::catalog::RiskTier;
    use arx_core::engine::ApplyOutcome;
    use arx_core::model::PolicyVersion;
    use arx_core::policy::{PolicySettings, Rule, RuleEdit, RuleError, Verdict, duration};
    use leptos::prelude::*;

    use crate::server_fns::ssr::comma_list;

    use crate::server_fns::ssr::{engine, flash_outcome, principal, to_error};
    use crate::types::{RuleForm, RuleRow, SettingsForm};

    /// A form field that may be left empty: `None` then, else its parsed value.
    fn optional<T: std::str::FromStr>(s: &str) -> Result<Option<T>, T::Err> {
        match s.trim() {
            "" => Ok(None),
            t => t.parse().map(Some),
        }
    }

    /// Reads the editor's fields into a rule and checks it; the error names the field.
    pub fn rule_from_form(f: &RuleForm) -> Result<Rule, RuleError> {
        let id = f.id.trim();
        let err = |field: &str, problem: String| RuleError {
            rule: if id.is_empty() {
                "(new)".into()
            } else {
                id.into()
            },
            field: field.into(),
            problem,
        };
        let verdict = Verdict::parse(&f.verdict)
            .ok_or_else(|| err("then", "must be PERMIT, ESCALATE or DENY".into()))?;
        let mut r = Rule::new(id, verdict);
        r.name = f.name.trim().to_string();
        if let Some(priority) =
            optional(&f.priority).map_err(|_| err("priority", "must be a whole number".into()))?
        {
            r.priority = priority;
        }
        r.when.connectors = comma_list(&f.connectors);
        r.when.operations = comma_list(&f.operations);
        r.when.agents = comma_list(&f.agents);
        r.when.labels = crate::server_fns::agents::parse_labels(&f.labels)
            .map_err(|e| err("when.labels", e))?;
        let selector = f.selector.trim();
        r.when.selector = (!selector.is_empty()).then(|| selector.to_string());
        for (on, tier) in [
            (&f.tier_low, RiskTier::Low),
            (&f.tier_medium, RiskTier::Medium),
            (&f.tier_high, RiskTier::High),
            (&f.tier_critical, RiskTier::Critical),
        ] {
            if on.is_some() {
                r.when.tiers.push(tier);
            }
        }
        let score = |field: &str, s: &str| -> Result<Option<u8>, RuleError> {
            optional::<u8>(s)
                .ok()
                .filter(|n| n.is_none_or(|n| n <= 100))
                .ok_or_else(|| err(field, "must be a number from 0 to 100".into()))
        };
        r.when.min_score = score("when.min_score", &f.min_score)?;
        r.when.max_score = score("when.max_score", &f.max_score)?;
        let cond = f.condition.trim();
        r.condition = (!cond.is_empty()).then(|| cond.to_string());
        r.approvers = comma_list(&f.approvers);
        if let Some(n) = optional(&f.min_approvals)
            .map_err(|_| err("min_approvals", "must be a number from 1 to 5".into()))?
        {
            r.min_approvals = n;
        }
        if !f.timeout.trim().is_empty() {
            r.timeout_secs = Some(duration::parse(&f.timeout).map_err(|e| err("timeout", e))?);
        }
        r.show_diff = f.show_diff.is_some();
        r.forbid_owner_approval = f.forbid_owner.is_some();
        r.require_reason = f.require_reason.is_some();
        r.exempt_from_thresholds = f.exempt.is_some();
        r.grantable = f.not_grantable.is_none();
        arx_core::policy::check_rule(&r)?;
        Ok(r)
    }

    pub fn form_from_rule(r: &Rule) -> RuleForm {
        let has = |t: RiskTier| r.when.tiers.contains(&t).then(|| "on".to_string());
        RuleForm {
            original_id: r.id.clone(),
            id: r.id.clone(),
            name: r.name.clone(),
            priority: r.priority.to_string(),
            connectors: r.when.connectors.join(", "),
            operations: r.when.operations.join(", "),
            agents: r.when.agents.join(", "),
            labels: r
                .when
                .labels
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(", "),
            selector: r.when.selector.clone().unwrap_or_default(),
            tier_low: has(RiskTier::Low),
            tier_medium: has(RiskTier::Medium),
            tier_high: has(RiskTier::High),
            tier_critical: has(RiskTier::Critical),
            min_score: r.when.min_score.map(|s| s.to_string()).unwrap_or_default(),
            max_score: r.when.max_score.map(|s| s.to_string()).unwrap_or_default(),
            condition: r.condition.clone().unwrap_or_default(),
            verdict: r.verdict.as_str().to_string(),
            approvers: r.approvers.join(", "),
            min_approvals: r.min_approvals.to_string(),
            timeout: r.timeout_secs.map(duration::format).unwrap_or_default(),
            show_diff: r.show_diff.then(|| "on".into()),
            forbid_owner: r.forbid_owner_approval.then(|| "on".into()),
            require_reason: r.require_reason.then(|| "on".into()),
            exempt: r.exempt_from_thresholds.then(|| "on".into()),
            not_grantable: (!r.grantable).then(|| "on".into()),
            ..Default::default()
        }
    }

    pub fn rule_row(r: &Rule) -> RuleRow {
        let mut when = vec![];
        let or_any = |v: &[String]| {
            if v.is_empty() {
                "*".to_string()
            } else {
                v.join("|")
            }
        };
        when.push(format!(
            "{}.{}",
            or_any(&r.when.connectors),
            or_any(&r.when.operations)
        ));
        if !r.when.agents.is_empty() {
            when.push(format!("agent {}", r.when.agents.join("|")));
        }
        for (k, v) in &r.when.labels {
            when.push(format!("{k}:{v}"));
        }
        if let Some(sel) = &r.when.selector {
            when.push(format!("labels {sel}"));
        }
        if !r.when.tiers.is_empty() {
            let t: Vec<&str> = r.when.tiers.iter().map(|t| t.as_str()).collect();
            when.push(format!("tier {}", t.join("|")));
        }
        match (r.when.min_score, r.when.max_score) {
            (None, None) => {}
            (lo, hi) => when.push(format!("score {}–{}", lo.unwrap_or(0), hi.unwrap_or(100))),
        }
        let escalation = (r.verdict == Verdict::Escalate).then(|| {
            let who = if r.approvers.is_empty() {
                "any reviewer".to_string()
            } else {
                r.approvers.join(", ")
            };
            let mut s = format!("{who}, {} approval(s)", r.min_approvals);
            if let Some(t) = r.timeout_secs {
                s.push_str(&format!(", within {}", duration::format(t)));
            }
            if r.show_diff {
                s.push_str(", diff shown");
            }
            if r.forbid_owner_approval {
                s.push_str(", not the owner");
            }
            if r.require_reason {
                s.push_str(", reason required");
            }
            s
        });
        RuleRow {
            id: r.id.clone(),
            name: r.name.clone(),
            priority: r.priority,
            when: when.join(" · "),
            condition: r.condition.clone(),
            verdict: r.verdict.as_str().into(),
            escalation,
            exempt: r.exempt_from_thresholds,
        }
    }

    pub fn settings_form(s: &PolicySettings) -> SettingsForm {
        SettingsForm {
            review_threshold: s.review_threshold.to_string(),
            deny_threshold: s.deny_threshold.to_string(),
            default_low: s.defaults.low.as_str().into(),
            default_medium: s.defaults.medium.as_str().into(),
            default_high: s.defaults.high.as_str().into(),
            default_critical: s.defaults.critical.as_str().into(),
            approval_timeout: duration::format(s.approval_ttl_secs),
            max_grant_ttl: duration::format(s.max_grant_ttl_secs),
        }
    }

    /// The editor's field (`form[x]`) that a rule error's `field` (`when.connectors[0] 'x'`,
    /// `then`, `if`...) is about; none for one the editor shows no input for.
    pub fn form_field(field: &str) -> Option<String> {
        let key = field.strip_prefix("when.").unwrap_or(field);
        let key = key.split(['[', ' ', '/']).next().unwrap_or(key);
        let name = match key {
            "then" => "verdict",
            "if" => "condition",
            "id" | "name" | "priority" | "connectors" | "operations" | "agents" | "labels"
            | "selector" | "min_score" | "max_score" | "approvers" | "min_approvals"
            | "timeout" => key,
            _ => return None,
        };
        Some(format!("form[{name}]"))
    }

    /// The settings the form posts, or which of its fields (as the form names it,
    /// `settings[x]`) is wrong and why.
    pub fn settings_from_form(f: &SettingsForm) -> Result<PolicySettings, (String, String)> {
        let at = |field: &str, message: String| (format!("settings[{field}]"), message);
        let threshold = |field: &str, what: &str, v: &str| {
            v.trim()
                .parse::<u8>()
                .map_err(|_| at(field, format!("{what} must be a number from 1 to 100")))
        };
        let verdict = |tier: &str, v: &str| {
            Verdict::parse(v).ok_or_else(|| {
                let message = format!("the default for {tier} must be PERMIT, ESCALATE or DENY");
                at(&format!("default_{tier}"), message)
            })
        };
        let ttl = |field: &str, v: &str| duration::parse(v).map_err(|e| at(field, e));
        let s = PolicySettings {
            review_threshold: threshold(
                "review_threshold",
                "the review threshold",
                &f.review_threshold,
            )?,
            deny_threshold: threshold("deny_threshold", "the deny threshold", &f.deny_threshold)?,
            defaults: arx_core::policy::TierDefaults {
                low: verdict("low", &f.default_low)?,
                medium: verdict("medium", &f.default_medium)?,
                high: verdict("high", &f.default_high)?,
                critical: verdict("critical", &f.default_critical)?,
            },
            approval_ttl_secs: ttl("approval_timeout", &f.approval_timeout)?,
            max_grant_ttl_secs: ttl("max_grant_ttl", &f.max_grant_ttl)?,
            // Not on this form: the caller keeps what the policy in force says.
            ..PolicySettings::default()
        };
        s.check().map_err(|e| match &e {
            arx_core::policy::PolicyError::Settings { field, problem } => {
                at(field, format!("{field} {problem}"))
            }
            _ => (String::new(), e.to_string()),
        })?;
        Ok(s)
    }

    /// The settings form's fields as it names them, with what was typed.
    pub fn settings_values(f: &SettingsForm) -> Vec<(String, String)> {
        [
            ("review_threshold", &f.review_threshold),
            ("deny_threshold", &f.deny_threshold),
            ("default_low", &f.default_low),
            ("default_medium", &f.default_medium),
            ("default_high", &f.default_high),
            ("default_critical", &f.default_critical),
            ("approval_timeout", &f.approval_timeout),
            ("max_grant_ttl", &f.max_grant_ttl),
        ]
        .into_iter()
        .map(|(k, v)| (format!("settings[{k}]"), v.clone()))
        .collect()
    }

    /// The policy in force, with its version number.
    pub async fn current() -> Result<PolicyVersion, ServerFnError> {
        let p = principal().await?;
        engine().reader(&p).policy().await.map_err(to_error)
    }

    /// What a saved change says: the version, what changed, and any rule that can never
    /// be met.
    pub fn saved_message(o: &ApplyOutcome) -> String {
        let mut m = match o.version {
            Some(v) => format!("Saved as policy version {v}: {}.", o.diff.summary()),
            None => "Nothing changed; no new version.".into(),
        };
        for w in &o.warnings {
            m.push_str(&format!(" Warning: {w}."));
        }
        m
    }

    /// Edits one rule of version `based_on` and leaves the outcome in the flash.
    pub async fn edit_with_flash(
        based_on: i64,
        edit: RuleEdit,
        reason: &str,
    ) -> Result<(), ServerFnError> {
        let p = principal().await?;
        let engine = engine();
        let r = match engine.admin(&p) {
            Ok(admin) => admin.edit_rules(based_on, edit, reason).await,
            Err(e) => Err(e),
        };
        flash_outcome(r, |o| (saved_message(&o), None)).await
    }

    #[cfg(test)]
    mod tests {
        //! The editor's number fields: empty keeps the rule's default, a bad one names its
        //! field.
        use arx_core::policy::{Rule, Verdict};

        use super::rule_from_form;
        use crate::types::RuleForm;

        fn form(edit: impl FnOnce(&mut RuleForm)) -> RuleForm {
            let mut f = RuleForm {
                id: "r1".into(),
                verdict: "DENY".into(),
                ..Default::default()
            };
            edit(&mut f);
            f
        }

        fn refused(edit: impl FnOnce(&mut RuleForm)) -> (String, String) {
            let e = rule_from_form(&form(edit)).expect_err("the form should be refused");
            (e.field, e.problem)
        }

        #[test]
        fn empty_number_fields_keep_the_rule_defaults() {
            let r = rule_from_form(&form(|_| {})).expect("an empty form with an id and a verdict");
            let default = Rule::new("r1", Verdict::Deny);
            assert_eq!(r.priority, default.priority);
            assert_eq!(r.min_approvals, default.min_approvals);
            assert_eq!((r.when.min_score, r.when.max_score), (None, None));
        }

        #[test]
        fn number_fields_are_read_trimmed() {
            let r = rule_from_form(&form(|f| {
                f.verdict = "ESCALATE".into();
                f.approvers = "secops-leads".into();
                f.priority = " 7 ".into();
                f.min_score = "0".into();
                f.max_score = "100".into();
                f.min_approvals = "2".into();
            }))
            .expect("valid numbers");
            assert_eq!(r.priority, 7);
            assert_eq!((r.when.min_score, r.when.max_score), (Some(0), Some(100)));
            assert_eq!(r.min_approvals, 2);
        }

        #[test]
        fn a_bad_number_names_its_field() {
            let priority = ("priority".to_string(), "must be a whole number".to_string());
            assert_eq!(refused(|f| f.priority = "first".into()), priority);
            let score = "must be a number from 0 to 100".to_string();
            assert_eq!(
                refused(|f| f.min_score = "101".into()),
                ("when.min_score".to_string(), score.clone())
            );
            assert_eq!(
                refused(|f| f.max_score = "-1".into()),
                ("when.max_score".to_string(), score)
            );
            assert_eq!(
                refused(|f| f.min_approvals = "two".into()),
                (
                    "min_approvals".to_string(),
                    "must be a number from 1 to 5".to_string()
                )
            );
        }
    }
}
