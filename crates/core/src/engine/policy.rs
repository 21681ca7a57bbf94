//! Policy versions: the one in force per org (compiled once, cached by version number,
//! so every replica follows a change on its next call), applying a new version (with a
//! reason, refused when based on a version no longer in force), editing one rule, diffs
//! between any two, and rollback (a new version with an old one's content).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Engine;
use super::admin::{AdminOps, ReadOps};
use crate::audit::Actor;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::ids::OrgId;
use crate::model::{Org, PolicyVersion};
use crate::policy::{CompiledPolicy, PolicyDiff, PolicyDoc, RuleEdit, Verdict};

/// A version ready for decisions.
#[derive(Debug)]
pub struct ActivePolicy {
    pub version: i64,
    pub doc: PolicyDoc,
    pub compiled: CompiledPolicy,
}

impl ActivePolicy {
    pub fn defaults() -> ActivePolicy {
        ActivePolicy {
            version: 0,
            doc: PolicyDoc::default(),
            compiled: CompiledPolicy::default(),
        }
    }
}

/// What applying a policy did, or would do with `dry_run`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApplyOutcome {
    /// The new version; `None` for a dry run or when nothing changed.
    pub version: Option<i64>,
    /// The version it was compared with.
    pub previous: i64,
    pub dry_run: bool,
    pub diff: PolicyDiff,
    /// Rules that can be saved but never met (see `unmeetable_rules`).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// How a new version comes about.
#[derive(Debug, Clone, Default)]
pub struct PolicyChange {
    /// What changed, shown in the version list (`add rule x`, or the admin's words).
    pub message: String,
    /// Why: required unless `dry_run`; kept in the `policy.version_created` record.
    pub reason: String,
    /// The version the change was made from: refused if another is in force by then.
    pub based_on: Option<i64>,
    pub dry_run: bool,
}

/// Who saved a version.
#[derive(Debug, Clone)]
pub struct Author {
    pub actor: Actor,
    pub user_id: Option<crate::ids::UserId>,
}

fn doc_hash(doc: &PolicyDoc) -> String {
    let canonical = serde_json::to_value(doc)
        .ok()
        .and_then(|v| serde_json_canonicalizer::to_string(&v).ok())
        .unwrap_or_default();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Version 0: no rules, the built-in thresholds and defaults.
fn version_zero(org: &Org) -> PolicyVersion {
    PolicyVersion {
        org_id: org.id,
        version: 0,
        doc: PolicyDoc::default(),
        author_id: None,
        author: "ARX".into(),
        message: "built-in defaults".into(),
        summary: "no rules; review 60, deny 90".into(),
        created_ms: org.created_ms,
    }
}

impl Engine {
    /// The org's policy in force, compiled.
    pub(crate) async fn active_policy(&self, org: &Org) -> Result<Arc<ActivePolicy>, CoreError> {
        if org.policy_version == 0 {
            return Ok(self.default_policy.clone());
        }
        if let Some(p) = self
            .policies
            .read()
            .ok()
            .and_then(|m| m.get(&org.id).cloned())
            && p.version == org.policy_version
        {
            return Ok(p);
        }
        let v = self.policy_version_of(org, org.policy_version).await?;
        let compiled = v.doc.compile().map_err(|e| {
            CoreError::Internal(format!(
                "stored policy v{} does not compile: {e}",
                v.version
            ))
        })?;
        let p = Arc::new(ActivePolicy {
            version: v.version,
            doc: v.doc,
            compiled,
        });
        if let Ok(mut m) = self.policies.write() {
            let newer = m.get(&org.id).is_none_or(|c| c.version < p.version);
            if newer {
                m.insert(org.id, p.clone());
            }
        }
        Ok(p)
    }

    /// The version in force, as saved.
    pub(crate) async fn policy_in_force(&self, org: &Org) -> Result<PolicyVersion, CoreError> {
        self.policy_version_of(org, org.policy_version).await
    }

    async fn policy_version_of(&self, org: &Org, version: i64) -> Result<PolicyVersion, CoreError> {
        if version == 0 {
            return Ok(version_zero(org));
        }
        self.store
            .policy_version(org.id, version)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("policy version {version} does not exist")))
    }

    /// Validates `doc` and, unless `change.dry_run` or nothing changed, saves it as the
    /// org's next version and records it, with its reason, in the audit chain. With
    /// `based_on`, refuses when another version came into force since.
    pub(crate) async fn apply_policy(
        &self,
        org: &Org,
        author: &Author,
        doc: PolicyDoc,
        change: PolicyChange,
    ) -> Result<ApplyOutcome, CoreError> {
        let reason = match change.dry_run {
            true => String::new(),
            false => require_reason(&change.reason)?,
        };
        doc.compile().map_err(CoreError::InvalidPolicy)?;
        let org = self
            .store
            .org(org.id)
            .await?
            .ok_or_else(|| CoreError::NotFound("org not found".into()))?;
        let current = self.policy_version_of(&org, org.policy_version).await?;
        if let Some(edited) = change.based_on
            && edited != current.version
        {
            return Err(CoreError::StalePolicy {
                edited,
                in_force: current.version,
            });
        }
        let diff = PolicyDiff::between(&current.doc, &doc);
        let mut out = ApplyOutcome {
            version: None,
            previous: current.version,
            dry_run: change.dry_run,
            diff,
            warnings: self.unmeetable_rules(org.id, &doc).await?,
        };
        if change.dry_run || out.diff.is_empty() {
            return Ok(out);
        }
        let v = PolicyVersion {
            org_id: org.id,
            version: current.version + 1,
            doc,
            author_id: author.user_id,
            author: author.actor.name.clone(),
            message: change.message.trim().chars().take(500).collect(),
            summary: out.diff.summary(),
            created_ms: self.now_ms(),
        };
        if !self.store.create_policy_version(&v).await? {
            // Another version was saved between our read and our write.
            let in_force = match self.store.org(org.id).await? {
                Some(o) => o.policy_version,
                None => v.version,
            };
            return Err(CoreError::StalePolicy {
                edited: change.based_on.unwrap_or(current.version),
                in_force,
            });
        }
        self.record(
            org.id,
            author.actor.clone(),
            ev::PolicyVersionCreated {
                version: v.version,
                previous: current.version,
                message: v.message.clone(),
                summary: v.summary.clone(),
                rules: v.doc.rules.len(),
                doc_sha256: doc_hash(&v.doc),
                added: out.diff.added.clone(),
                changed: out.diff.changed.clone(),
                removed: out.diff.removed.clone(),
                settings: out.diff.settings.clone(),
                reason: Some(reason.to_string()),
            },
        )
        .await?;
        out.version = Some(v.version);
        Ok(out)
    }

    /// Warnings for ESCALATE rules that can never be approved: fewer active reviewers
    /// and admins in their approver groups than the approvals they need. A warning, not
    /// a refusal: the admin may be about to add the members.
    async fn unmeetable_rules(
        &self,
        org: OrgId,
        doc: &PolicyDoc,
    ) -> Result<Vec<String>, CoreError> {
        let escalating: Vec<_> = doc
            .rules
            .iter()
            .filter(|r| r.verdict == Verdict::Escalate)
            .collect();
        if escalating.is_empty() {
            return Ok(Vec::new());
        }
        let deciders: Vec<_> = self
            .store
            .list_users(org)
            .await?
            .into_iter()
            .filter(|u| u.active && u.roles().decides())
            .collect();
        Ok(escalating
            .into_iter()
            .filter_map(|r| {
                // The same test a vote passes to be counted (see `counted_votes`).
                let need = r.escalation(0);
                let can = deciders
                    .iter()
                    .filter(|u| need.admits(&u.approver_groups()))
                    .count();
                let who = match r.approvers.is_empty() {
                    true => "any reviewer".to_string(),
                    false => format!("members of {}", r.approvers.join(" or ")),
                };
                (can < usize::from(r.min_approvals)).then(|| {
                    format!(
                        "rule '{}' can never be approved: it needs {} approvals from {who}, and {can} active reviewer(s) or admin(s) can give one",
                        r.id, r.min_approvals
                    )
                })
            })
            .collect())
    }
}

/// The reason an admin gives for a new version: required, at most 500 characters.
fn require_reason(reason: &str) -> Result<String, CoreError> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(CoreError::InvalidRequest(
            "reason is required: say why the policy changes (it goes into the audit trail)".into(),
        ));
    }
    if r.chars().count() > 500 {
        return Err(CoreError::InvalidRequest(
            "reason must be at most 500 characters".into(),
        ));
    }
    Ok(r.to_string())
}

impl ReadOps<'_> {
    /// The version in force.
    pub async fn policy(&self) -> Result<PolicyVersion, CoreError> {
        let org = self.org().await?;
        self.engine
            .policy_version_of(&org, org.policy_version)
            .await
    }

    pub async fn policy_at(&self, version: i64) -> Result<PolicyVersion, CoreError> {
        let org = self.org().await?;
        self.engine.policy_version_of(&org, version).await
    }

    /// Every version, newest first, down to version 0 (the built-in defaults).
    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersion>, CoreError> {
        let org = self.org().await?;
        let mut all = self.engine.store.list_policy_versions(org.id).await?;
        all.push(version_zero(&org));
        Ok(all)
    }

    pub async fn policy_diff(&self, from: i64, to: i64) -> Result<PolicyDiff, CoreError> {
        let (a, b) = (self.policy_at(from).await?, self.policy_at(to).await?);
        Ok(PolicyDiff::between(&a.doc, &b.doc))
    }
}

impl AdminOps<'_> {
    fn author(&self) -> Author {
        Author {
            actor: Actor::user(self.who.user_id, &self.who.email),
            user_id: Some(self.who.user_id),
        }
    }

    pub async fn apply_policy(
        &self,
        doc: PolicyDoc,
        change: PolicyChange,
    ) -> Result<ApplyOutcome, CoreError> {
        let org = self.engine.reader(self.who).org().await?;
        self.engine
            .apply_policy(&org, &self.author(), doc, change)
            .await
    }

    /// A new version with the content of `version`.
    pub async fn rollback_policy(
        &self,
        version: i64,
        reason: &str,
    ) -> Result<ApplyOutcome, CoreError> {
        let reader = self.engine.reader(self.who);
        let org = reader.org().await?;
        let old = reader.policy_at(version).await?;
        let change = PolicyChange {
            message: format!("roll back to version {version}"),
            reason: reason.to_string(),
            based_on: None,
            dry_run: false,
        };
        self.engine
            .apply_policy(&org, &self.author(), old.doc, change)
            .await
    }

    /// Adds, changes, moves or deletes one rule of the version in force, which must be
    /// `based_on`: an admin who edited an older version is told to reload, so two admins
    /// editing at once never silently overwrite each other.
    pub async fn edit_rules(
        &self,
        based_on: i64,
        edit: RuleEdit,
        reason: &str,
    ) -> Result<ApplyOutcome, CoreError> {
        require_reason(reason)?;
        let org = self.engine.reader(self.who).org().await?;
        let current = self
            .engine
            .policy_version_of(&org, org.policy_version)
            .await?;
        if current.version != based_on {
            return Err(CoreError::StalePolicy {
                edited: based_on,
                in_force: current.version,
            });
        }
        let mut doc = current.doc;
        let message = edit.apply_to(&mut doc)?;
        let change = PolicyChange {
            message,
            reason: reason.to_string(),
            based_on: Some(based_on),
            dry_run: false,
        };
        self.engine
            .apply_policy(&org, &self.author(), doc, change)
            .await
    }
}
