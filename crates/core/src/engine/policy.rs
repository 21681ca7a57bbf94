//! Policy versions: the one in force per org (compiled once, cached by version number,
//! so every replica follows a change on its next call), applying a new version, diffs
//! between any two, and rollback (a new version with an old one's content).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Engine;
use super::admin::{AdminOps, ReadOps};
use crate::audit::Actor;
use crate::error::CoreError;
use crate::model::{Org, PolicyVersion};
use crate::policy::{CompiledPolicy, PolicyDiff, PolicyDoc};

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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyOutcome {
    /// The new version; `None` for a dry run or when nothing changed.
    pub version: Option<i64>,
    /// The version it was compared with.
    pub previous: i64,
    pub dry_run: bool,
    pub diff: PolicyDiff,
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

    /// Validates `doc` and, unless `dry_run` or nothing changed, saves it as the org's next
    /// version and records it in the audit chain.
    pub(crate) async fn apply_policy(
        &self,
        org: &Org,
        author: &Author,
        doc: PolicyDoc,
        message: &str,
        dry_run: bool,
    ) -> Result<ApplyOutcome, CoreError> {
        doc.compile().map_err(CoreError::InvalidPolicy)?;
        let org = self
            .store
            .org(org.id)
            .await?
            .ok_or_else(|| CoreError::NotFound("org not found".into()))?;
        let current = self.policy_version_of(&org, org.policy_version).await?;
        let diff = PolicyDiff::between(&current.doc, &doc);
        let mut out = ApplyOutcome {
            version: None,
            previous: current.version,
            dry_run,
            diff,
        };
        if dry_run || out.diff.is_empty() {
            return Ok(out);
        }
        let v = PolicyVersion {
            org_id: org.id,
            version: current.version + 1,
            doc,
            author_id: author.user_id,
            author: author.actor.name.clone(),
            message: message.trim().chars().take(500).collect(),
            summary: out.diff.summary(),
            created_ms: self.now_ms(),
        };
        if !self.store.create_policy_version(&v).await? {
            return Err(CoreError::Conflict(
                "the policy changed while you were editing it; reload and apply again".into(),
            ));
        }
        self.record(
            org.id,
            "policy.version_created",
            author.actor.clone(),
            json!({
                "version": v.version, "previous": current.version, "message": v.message,
                "summary": v.summary, "rules": v.doc.rules.len(), "doc_sha256": doc_hash(&v.doc),
                "added": out.diff.added, "changed": out.diff.changed, "removed": out.diff.removed,
                "settings": out.diff.settings,
            }),
        )
        .await?;
        out.version = Some(v.version);
        Ok(out)
    }
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
        message: &str,
        dry_run: bool,
    ) -> Result<ApplyOutcome, CoreError> {
        let org = self.engine.reader(self.who).org().await?;
        self.engine
            .apply_policy(&org, &self.author(), doc, message, dry_run)
            .await
    }

    /// A new version with the content of `version`.
    pub async fn rollback_policy(&self, version: i64) -> Result<ApplyOutcome, CoreError> {
        let reader = self.engine.reader(self.who);
        let org = reader.org().await?;
        let old = reader.policy_at(version).await?;
        self.engine
            .apply_policy(
                &org,
                &self.author(),
                old.doc,
                &format!("roll back to version {version}"),
                false,
            )
            .await
    }
}
