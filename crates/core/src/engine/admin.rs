//! Registry operations behind role checks: [`Engine::admin`] hands out [`AdminOps`] only
//! to admins, [`Engine::reader`] hands out [`ReadOps`] to any signed-in user of the org.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Engine;
use super::identity::accounts::{new_secret_token, token_hash};
use crate::access::Principal;
use crate::audit::event as ev;
use crate::audit::{Actor, AuditEvent, AuditRecord};
use crate::error::CoreError;
use crate::ids::{AgentId, InstanceId, KeyId, OrgId};
use crate::model::{
    Agent, AgentKey, AgentStatus, ApprovalRequest, ApprovalStatus, Environment, Grant, Instance,
    Org,
};
use crate::store::AuditQuery;
use crate::valid;
use crate::vault::SecretsOf;

/// Input of "create agent".
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "example-triage-agent", "owner": "secops-lead@demo.arx.local",
    "description": "Reads detections and opens tickets", "labels": {"team": "soc"}, "declared_rate": 30}))]
pub struct NewAgent {
    /// Letters, digits, spaces, `-`, `_` and `.`, starting with a letter or digit.
    #[schema(pattern = r"^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The accountable human: an email.
    #[schema(format = Email)]
    pub owner: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Calls per minute; defaults to 60.
    #[serde(default)]
    pub declared_rate: Option<u32>,
    /// The decommissioned agent whose work this one takes over (its lineage), when that
    /// agent was retired without naming a successor.
    #[serde(default)]
    pub replaces: Option<AgentId>,
}

/// Input of "update agent": the fields given are set, the others kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"owner": "secops-lead@demo.arx.local", "labels": {"env": "prod", "team": "soc"}}))]
pub struct AgentUpdate {
    /// The accountable human: an active user of the org, by email.
    #[serde(default)]
    #[schema(format = Email)]
    pub owner: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The whole new set of labels (not merged with the old one).
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Input of "create connector instance".
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"connector": "okta", "name": "okta-example", "environment": "staging",
    "variables": {"host": "example.okta.com"}}))]
pub struct NewInstance {
    /// The connector, by name (`GET /v1/admin/connectors` lists them).
    pub connector: String,
    /// Letters, digits, spaces, `-`, `_` and `.`, starting with a letter or digit.
    #[schema(pattern = r"^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$")]
    pub name: String,
    #[schema(value_type = Environment)]
    pub environment: String,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    #[serde(default)]
    #[schema(maximum = 25)]
    pub sensitivity: Option<u8>,
    /// Secret fields for the connector's auth scheme; stored encrypted, never returned.
    #[serde(default)]
    pub credentials: Option<BTreeMap<String, String>>,
}

pub struct AdminOps<'a> {
    pub(super) engine: &'a Engine,
    pub(super) who: &'a Principal,
}

pub struct ReadOps<'a> {
    pub(super) engine: &'a Engine,
    pub(super) who: &'a Principal,
}

/// The most records one page of the audit trail holds.
pub const MAX_AUDIT_PAGE: u32 = 500;

impl Engine {
    pub fn admin<'a>(&'a self, who: &'a Principal) -> Result<AdminOps<'a>, CoreError> {
        who.require_admin()?;
        Ok(AdminOps { engine: self, who })
    }

    /// Every role may read the registry and the audit trail of its own org.
    pub fn reader<'a>(&'a self, who: &'a Principal) -> ReadOps<'a> {
        ReadOps { engine: self, who }
    }
}

/// Labels as the registry's rules accept them.
fn checked_labels(labels: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, CoreError> {
    crate::registry::check_labels(&labels).map_err(|e| CoreError::InvalidField {
        field: "labels",
        message: e.message,
    })?;
    Ok(labels)
}

/// A description, trimmed, at most 1,000 characters.
fn checked_description(d: &str) -> Result<String, CoreError> {
    let d = d.trim();
    if d.chars().count() > 1000 || d.chars().any(|c| c.is_control() && c != '\n') {
        return Err(CoreError::InvalidField {
            field: "description",
            message: "description is at most 1000 characters, without control characters".into(),
        });
    }
    Ok(d.to_string())
}

fn actor(p: &Principal) -> Actor {
    Actor::user(p.user_id, &p.email)
}

impl AdminOps<'_> {
    pub(super) async fn agent(&self, id: AgentId) -> Result<Agent, CoreError> {
        self.engine.reader(self.who).agent(id).await
    }

    /// The admin, as audit records name them.
    pub(super) fn actor(&self) -> Actor {
        actor(self.who)
    }

    pub async fn create_agent(&self, input: NewAgent) -> Result<Agent, CoreError> {
        let e = self.engine;
        let name = valid::name("name", "the agent name", &input.name)?;
        let owner = self.owner(&input.owner).await?;
        let labels = checked_labels(input.labels)?;
        if let Some(old) = input.replaces {
            self.retired_without_successor(old).await?;
        }
        let agent = Agent {
            id: AgentId::new(),
            org_id: self.who.org_id,
            name,
            description: checked_description(&input.description)?,
            owner,
            labels,
            status: AgentStatus::Active,
            declared_rate: input.declared_rate.unwrap_or(60).max(1),
            created_ms: e.now_ms(),
            manifest_version: None,
        };
        // Names are unique in the org by the database's constraint (no read of the fleet).
        match e.store.create_successor(&agent, input.replaces).await {
            Err(CoreError::Conflict(_)) => {
                return Err(CoreError::Conflict(format!(
                    "an agent named '{}' exists",
                    agent.name
                )));
            }
            done => done?,
        }
        e.record(
            agent.org_id,
            actor(self.who),
            ev::AgentCreated {
                agent_id: agent.id,
                name: agent.name.clone(),
                owner: agent.owner.clone(),
                labels: agent.labels.clone(),
                declared_rate: agent.declared_rate,
                replaces: input.replaces,
            },
        )
        .await?;
        Ok(agent)
    }

    /// Sets an agent's owner, description or labels (those given), recorded with what
    /// each was. A decommissioned agent's record no longer changes.
    pub async fn update_agent(&self, id: AgentId, input: AgentUpdate) -> Result<Agent, CoreError> {
        let e = self.engine;
        let old = self.agent(id).await?;
        if old.status == AgentStatus::Decommissioned {
            return Err(CoreError::Conflict(
                "the agent is decommissioned: its record is kept as it was retired".into(),
            ));
        }
        let mut new = old.clone();
        if let Some(owner) = &input.owner {
            new.owner = self.owner(owner).await?;
        }
        if let Some(d) = &input.description {
            new.description = checked_description(d)?;
        }
        if let Some(labels) = input.labels {
            new.labels = checked_labels(labels)?;
        }
        let event = ev::AgentUpdated {
            agent_id: id,
            owner: ev::Changed::of(&old.owner, &new.owner),
            description: ev::Changed::of(&old.description, &new.description),
            labels: ev::Changed::of(&old.labels, &new.labels),
        };
        if event.owner.is_none() && event.description.is_none() && event.labels.is_none() {
            return Ok(old);
        }
        if !e.store.update_agent(&new).await? {
            return Err(CoreError::NotFound(format!("no agent {id} in this org")));
        }
        e.record(new.org_id, self.actor(), event).await?;
        Ok(new)
    }

    /// `owner` if it is an active user of the org (the accountable person).
    async fn owner(&self, owner: &str) -> Result<String, CoreError> {
        let owner = valid::email("owner", "owner (the accountable person)", owner)?;
        let is_user = self
            .engine
            .store
            .user_by_email(&owner)
            .await?
            .is_some_and(|u| u.org_id == self.who.org_id && u.active);
        if !is_user {
            return Err(CoreError::InvalidField {
                field: "owner",
                message: format!(
                    "{owner} is not an active user of this org: the owner is the accountable person, with an account here (see Users)"
                ),
            });
        }
        Ok(owner)
    }

    /// Checks that `old` is a retired agent of the org that no agent replaces yet.
    async fn retired_without_successor(&self, old: AgentId) -> Result<(), CoreError> {
        let bad = |message: String| CoreError::InvalidField {
            field: "replaces",
            message,
        };
        let e = self.engine;
        let org = self.who.org_id;
        let a = e
            .store
            .agent(org, old)
            .await?
            .ok_or_else(|| bad(format!("replaces names no agent of this org ({old})")))?;
        match e.store.retirement(org, old).await? {
            None => Err(bad(format!(
                "{} is still {}: decommission it first, or name the new agent as its replaced_by when you decommission it",
                a.name,
                a.status.as_str()
            ))),
            Some(r) if r.replaced_by.is_some() => Err(bad(format!(
                "{} already has a successor (its lineage names one agent that replaced it)",
                a.name
            ))),
            Some(_) => Ok(()),
        }
    }

    /// Issues a new API key for an agent. The key is returned here once; only its hash is kept.
    pub async fn issue_agent_key(&self, agent: AgentId) -> Result<(AgentKey, String), CoreError> {
        let e = self.engine;
        let a = self.agent(agent).await?;
        if a.status == AgentStatus::Decommissioned {
            return Err(CoreError::Conflict(
                "a decommissioned agent gets no new keys".into(),
            ));
        }
        let secret = new_secret_token("arx_");
        let key = AgentKey {
            id: KeyId::new(),
            org_id: a.org_id,
            agent_id: a.id,
            prefix: secret.chars().take(10).collect(),
            hash: token_hash(&secret),
            created_ms: e.now_ms(),
            revoked_ms: None,
            last_used_ms: None,
        };
        e.store.create_agent_key(&key).await?;
        e.record(
            a.org_id,
            actor(self.who),
            ev::AgentKeyIssued {
                agent_id: a.id,
                key_id: key.id,
                prefix: key.prefix.clone(),
            },
        )
        .await?;
        Ok((key, secret))
    }

    /// Revokes a live key of the agent; a key of another agent is not found.
    pub async fn revoke_agent_key(&self, agent: AgentId, key: KeyId) -> Result<(), CoreError> {
        let e = self.engine;
        let keys = e.store.list_agent_keys(self.who.org_id, agent).await?;
        if !keys.iter().any(|k| k.id == key) {
            return Err(CoreError::NotFound(format!(
                "agent {agent} has no key {key}"
            )));
        }
        if !e
            .store
            .revoke_agent_key(self.who.org_id, key, e.now_ms())
            .await?
        {
            return Err(CoreError::NotFound("no such active key".into()));
        }
        e.record(
            self.who.org_id,
            actor(self.who),
            ev::AgentKeyRevoked { key_id: key },
        )
        .await?;
        Ok(())
    }

    pub async fn set_agent_status(
        &self,
        agent: AgentId,
        status: AgentStatus,
        reason: &str,
    ) -> Result<(), CoreError> {
        let e = self.engine;
        let a = self.agent(agent).await?;
        if a.status == AgentStatus::Decommissioned {
            return Err(CoreError::Conflict(
                "a decommissioned agent stays decommissioned".into(),
            ));
        }
        if reason.trim().is_empty() {
            return Err(CoreError::InvalidRequest("say why (reason)".into()));
        }
        e.store.set_agent_status(a.org_id, a.id, status).await?;
        e.record(
            a.org_id,
            actor(self.who),
            AuditEvent::AgentStatusChanged(ev::AgentStatusChanged {
                agent_id: a.id,
                from: a.status,
                to: status,
                reason: reason.trim().to_string(),
            }),
        )
        .await?;
        if status != AgentStatus::Active {
            let why = format!("the agent was {}", status.as_str());
            e.end_agent_grants(a.org_id, a.id, &why, actor(self.who))
                .await?;
        }
        Ok(())
    }

    pub async fn create_instance(&self, input: NewInstance) -> Result<Instance, CoreError> {
        let e = self.engine;
        let connector =
            e.catalog
                .get(&input.connector)
                .ok_or_else(|| CoreError::InvalidOperation {
                    message: format!("unknown connector '{}'", input.connector),
                    valid: e.catalog.names().map(String::from).collect(),
                })?;
        let name = valid::name("name", "the instance name", &input.name)?;
        let environment = Environment::parse(&input.environment).ok_or_else(|| {
            CoreError::InvalidRequest("environment must be prod, staging, dev or unknown".into())
        })?;
        if let Some(unknown) = input
            .variables
            .keys()
            .find(|k| !connector.variables.contains_key(*k))
        {
            let known: Vec<&str> = connector.variables.keys().map(String::as_str).collect();
            return Err(CoreError::InvalidRequest(format!(
                "'{unknown}' is not a variable of {} (it has: {})",
                connector.name,
                known.join(", ")
            )));
        }
        if let Some(missing) = connector
            .variables
            .iter()
            .find(|(k, v)| v.default.is_none() && !input.variables.contains_key(*k))
        {
            return Err(CoreError::InvalidRequest(format!(
                "variable '{}' is required",
                missing.0
            )));
        }
        // Each value is what its place in the URL allows: a host is a host, nothing more.
        crate::target::check_variables(connector, &input.variables, e.local_targets_allowed())
            .map_err(CoreError::InvalidRequest)?;
        if input.sensitivity.is_some_and(|s| s > 25) {
            return Err(CoreError::InvalidRequest("sensitivity is 0 to 25".into()));
        }
        if e.store
            .instances_of(self.who.org_id, &connector.name)
            .await?
            .value
            .iter()
            .any(|i| i.name == name)
        {
            return Err(CoreError::Conflict(format!(
                "{} already has an instance named '{name}'",
                connector.name
            )));
        }
        let inst = Instance {
            id: InstanceId::new(),
            org_id: self.who.org_id,
            connector: connector.name.clone(),
            name,
            environment,
            variables: input.variables,
            sensitivity: input.sensitivity,
            sealed_credentials: None,
            credentials_set: false,
            created_ms: e.now_ms(),
        };
        e.store.create_instance(&inst).await?;
        e.record(
            inst.org_id,
            actor(self.who),
            ev::InstanceCreated {
                instance_id: inst.id,
                connector: inst.connector.clone(),
                name: inst.name.clone(),
                environment,
                variables: inst.variables.clone(),
            },
        )
        .await?;
        if let Some(creds) = input.credentials {
            self.set_credentials(inst.id, creds).await?;
            return e.instance_in(inst.org_id, inst.id).await;
        }
        Ok(inst)
    }

    /// Sets or rotates an instance's credentials. Recorded with field names only.
    pub async fn set_credentials(
        &self,
        id: InstanceId,
        creds: BTreeMap<String, String>,
    ) -> Result<(), CoreError> {
        let e = self.engine;
        let inst = e.instance_in(self.who.org_id, id).await?;
        let connector = e.catalog.get(&inst.connector).ok_or_else(|| {
            CoreError::Internal(format!("instance of unknown connector {}", inst.connector))
        })?;
        let fields = connector.auth.secret_fields();
        let missing: Vec<&&str> = fields
            .iter()
            .filter(|f| creds.get(**f).is_none_or(|v| v.is_empty()))
            .collect();
        if !missing.is_empty() {
            return Err(CoreError::InvalidRequest(format!(
                "{} credentials need: {}",
                connector.name,
                fields.join(", ")
            )));
        }
        if let Some(extra) = creds.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(CoreError::InvalidRequest(format!(
                "'{extra}' is not a credential field of {} (it takes: {})",
                connector.name,
                fields.join(", ")
            )));
        }
        let dek = e.store.wrapped_data_key(inst.org_id).await?;
        let sealed = e
            .vault
            .seal(inst.org_id, &dek, SecretsOf::Instance(inst.id), &creds)?;
        let rotated = inst.credentials_set;
        e.store
            .set_instance_credentials(inst.org_id, inst.id, &sealed)
            .await?;
        let changed = ev::CredentialsChanged {
            instance_id: inst.id,
            connector: inst.connector.clone(),
            fields: creds.keys().cloned().collect(),
        };
        e.record(
            inst.org_id,
            actor(self.who),
            match rotated {
                true => AuditEvent::CredentialsRotated(changed),
                false => AuditEvent::CredentialsSet(changed),
            },
        )
        .await?;
        Ok(())
    }
}

impl Engine {
    /// The org's instance `id`, or 404.
    async fn instance_in(&self, org: OrgId, id: InstanceId) -> Result<Instance, CoreError> {
        self.store
            .instance(org, id)
            .await?
            .ok_or_else(|| CoreError::NotFound("no such instance".into()))
    }
}

impl ReadOps<'_> {
    pub async fn org(&self) -> Result<Org, CoreError> {
        self.engine
            .store
            .org(self.who.org_id)
            .await?
            .ok_or_else(|| CoreError::NotFound("org not found".into()))
    }

    pub async fn agents(&self) -> Result<Vec<Agent>, CoreError> {
        self.engine.store.list_agents(self.who.org_id).await
    }

    /// The names of the org's agents among `ids`, by id (another org's id is not there).
    pub async fn agent_names(
        &self,
        ids: impl IntoIterator<Item = AgentId>,
    ) -> Result<std::collections::BTreeMap<AgentId, String>, CoreError> {
        let ids: std::collections::BTreeSet<AgentId> = ids.into_iter().collect();
        let ids: Vec<AgentId> = ids.into_iter().collect();
        let found = self.engine.store.agent_names(self.who.org_id, &ids).await?;
        Ok(found.into_iter().collect())
    }

    /// The org's agent named `name`, if any.
    pub async fn agent_named(&self, name: &str) -> Result<Option<Agent>, CoreError> {
        self.engine.store.agent_by_name(self.who.org_id, name).await
    }

    /// How many of the org's agents are in each status, every status listed.
    pub async fn agents_by_status(&self) -> Result<Vec<(AgentStatus, usize)>, CoreError> {
        let found = self.engine.store.agents_by_status(self.who.org_id).await?;
        Ok(AgentStatus::ALL
            .map(|s| {
                let n = found.iter().find(|(f, _)| *f == s).map_or(0, |(_, n)| *n);
                (s, n)
            })
            .to_vec())
    }

    pub async fn agent(&self, id: AgentId) -> Result<Agent, CoreError> {
        self.engine
            .store
            .agent(self.who.org_id, id)
            .await?
            .ok_or_else(|| CoreError::NotFound("no such agent".into()))
    }

    pub async fn agent_keys(&self, id: AgentId) -> Result<Vec<AgentKey>, CoreError> {
        self.engine.store.list_agent_keys(self.who.org_id, id).await
    }

    pub async fn instances(&self) -> Result<Vec<Instance>, CoreError> {
        self.engine.store.list_instances(self.who.org_id).await
    }

    /// The org's approval requests, only those in `status` when given.
    pub async fn approvals(
        &self,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<ApprovalRequest>, CoreError> {
        self.engine
            .store
            .list_approvals(self.who.org_id, status.map(ApprovalStatus::as_str))
            .await
    }

    /// A page of the audit trail, newest first: `limit` records (1 to
    /// [`MAX_AUDIT_PAGE`]) before `before_seq`.
    pub async fn audit_page(
        &self,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, CoreError> {
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(CoreError::InvalidRequest(format!(
                "limit must be between 1 and {MAX_AUDIT_PAGE}, not {limit}"
            )));
        }
        let q = AuditQuery {
            cursor: before_seq,
            ..AuditQuery::newest(Default::default(), limit)
        };
        self.engine.store.audit_page(self.who.org_id, &q).await
    }

    /// The agent's newest `limit` records (1 to [`MAX_AUDIT_PAGE`]).
    pub async fn agent_records(
        &self,
        agent: AgentId,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, CoreError> {
        let a = self.agent(agent).await?;
        let q = AuditQuery::newest(
            crate::store::AuditFilter {
                agent: Some(a.id),
                ..Default::default()
            },
            limit.clamp(1, MAX_AUDIT_PAGE),
        );
        self.engine.store.audit_page(a.org_id, &q).await
    }

    /// The agent's requested and active grants.
    pub async fn agent_grants(&self, agent: AgentId) -> Result<Vec<Grant>, CoreError> {
        let a = self.agent(agent).await?;
        self.engine.store.open_grants_of_agent(a.org_id, a.id).await
    }

    pub async fn audit_count(&self) -> Result<i64, CoreError> {
        self.engine.store.audit_count(self.who.org_id).await
    }
}
