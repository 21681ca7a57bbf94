//! The `Store` implementation: registry queries here, audit and sessions delegated to
//! their modules. Every query on org data filters by `org_id`.

use arx_core::CoreError;
use arx_core::audit::{AuditDraft, AuditRecord, ChainHead};
use arx_core::engine::{SimulationReport, StoredSimulation};
use arx_core::ids::{
    AgentId, ApprovalId, GrantId, InstanceId, KeyId, OrgId, RecordId, SimId, TokenId, UserId,
};
use arx_core::integration::{ApprovalNotice, IntegrationKind, StoredIntegration};
use arx_core::model::{
    Agent, AgentKey, AgentStatus, ApiToken, ApprovalChange, ApprovalRequest, ApprovalStatus,
    ApprovalVote, Grant, GrantChange, GrantStatus, Instance, Org, PolicyVersion, User,
};
use arx_core::store::{AuditQuery, ResponseBody, Store, StoreResult};
use async_trait::async_trait;

use crate::{SqlStore, db_err, rows};

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| CoreError::internal("encode", e))
}

const AGENT_COLS: &str =
    "id, org_id, name, description, owner, labels, status, declared_rate, created_ms";
const INSTANCE_COLS: &str = "id, org_id, connector, name, environment, variables, sensitivity, sealed_credentials, created_ms";
const TOKEN_COLS: &str = "t.id, t.org_id, t.user_id, u.email AS user_email, t.name, t.prefix, \
     t.created_ms, t.expires_ms, t.last_used_ms, t.revoked_ms";
const USER_COLS: &str =
    "id, org_id, email, name, role, password_hash, active, groups, slack_user_id, created_ms";

#[async_trait]
impl Store for SqlStore {
    #[tracing::instrument(skip_all, fields(org = %org.id))]
    async fn create_org(&self, org: &Org, wrapped_data_key: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO orgs (id, slug, name, policy_version, wrapped_dek, created_ms) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(org.id.to_string())
            .bind(&org.slug)
            .bind(&org.name)
            .bind(org.policy_version)
            .bind(wrapped_data_key)
            .bind(org.created_ms)
            .execute(&self.pool)
            .await
            .map_err(db_err("create org"))?;
        Ok(())
    }

    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Org>> {
        sqlx::query("SELECT id, slug, name, policy_version, created_ms FROM orgs WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("org by slug"))?
            .map(|r| rows::org(&r))
            .transpose()
    }

    async fn org(&self, id: OrgId) -> StoreResult<Option<Org>> {
        sqlx::query("SELECT id, slug, name, policy_version, created_ms FROM orgs WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("org"))?
            .map(|r| rows::org(&r))
            .transpose()
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        sqlx::query("SELECT id, slug, name, policy_version, created_ms FROM orgs ORDER BY slug")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err("list orgs"))?
            .iter()
            .map(rows::org)
            .collect()
    }

    async fn create_policy_version(&self, v: &PolicyVersion) -> StoreResult<bool> {
        self.create_policy_version_q(v).await
    }

    async fn policy_version(&self, org: OrgId, version: i64) -> StoreResult<Option<PolicyVersion>> {
        self.policy_version_q(org, version).await
    }

    async fn list_policy_versions(&self, org: OrgId) -> StoreResult<Vec<PolicyVersion>> {
        self.list_policy_versions_q(org).await
    }

    async fn wrapped_data_key(&self, org: OrgId) -> StoreResult<String> {
        let row = sqlx::query("SELECT wrapped_dek FROM orgs WHERE id = $1")
            .bind(org.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(db_err("data key"))?;
        rows::get(&row, "wrapped_dek")
    }

    async fn create_user(&self, u: &User) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO users ({USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(u.id.to_string())
        .bind(u.org_id.to_string())
        .bind(&u.email)
        .bind(&u.name)
        .bind(u.role.as_str())
        .bind(u.password_hash.clone())
        .bind(i64::from(u.active))
        .bind(to_json(&u.groups)?)
        .bind(u.slack_user_id.clone())
        .bind(u.created_ms)
        .execute(&self.pool)
        .await
        .map_err(db_err("create user"))?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE email = $1"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("user by email"))?
            .map(|r| rows::user(&r))
            .transpose()
    }

    async fn list_users(&self, org: OrgId) -> StoreResult<Vec<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE org_id = $1 ORDER BY email"
        ))
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("list users"))?
        .iter()
        .map(rows::user)
        .collect()
    }

    async fn set_user_groups(
        &self,
        org: OrgId,
        id: UserId,
        groups: &[String],
    ) -> StoreResult<bool> {
        let n = sqlx::query("UPDATE users SET groups = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .bind(to_json(groups)?)
            .execute(&self.pool)
            .await
            .map_err(db_err("user groups"))?
            .rows_affected();
        Ok(n == 1)
    }

    async fn set_user_slack(
        &self,
        org: OrgId,
        id: UserId,
        slack_user_id: Option<&str>,
    ) -> StoreResult<bool> {
        let n = sqlx::query("UPDATE users SET slack_user_id = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .bind(slack_user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err("user's Slack link"))?
            .rows_affected();
        Ok(n == 1)
    }

    async fn user_by_slack(&self, org: OrgId, slack_user_id: &str) -> StoreResult<Option<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE org_id = $1 AND slack_user_id = $2"
        ))
        .bind(org.to_string())
        .bind(slack_user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("user by Slack id"))?
        .map(|r| rows::user(&r))
        .transpose()
    }

    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("user"))?
        .map(|r| rows::user(&r))
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(org = %t.org_id, token = %t.id))]
    async fn create_api_token(&self, t: &ApiToken, hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (hash, id, org_id, user_id, name, prefix, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(hash)
        .bind(t.id.to_string())
        .bind(t.org_id.to_string())
        .bind(t.user_id.to_string())
        .bind(&t.name)
        .bind(&t.prefix)
        .bind(t.created_ms)
        .bind(t.expires_ms)
        .execute(&self.pool)
        .await
        .map_err(db_err("create token"))?;
        Ok(())
    }

    async fn api_token_by_hash(&self, hash: &str) -> StoreResult<Option<(ApiToken, User)>> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLS}, u.id AS u_id, u.org_id AS u_org_id, u.email AS u_email, u.name AS u_name, \
             u.role AS u_role, u.password_hash AS u_password_hash, u.active AS u_active, u.groups AS u_groups, \
             u.slack_user_id AS u_slack_user_id, u.created_ms AS u_created_ms \
             FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.org_id = t.org_id \
             WHERE t.hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("token by hash"))?
        .map(|r| Ok((rows::api_token(&r)?, rows::user_prefixed(&r, "u_")?)))
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(%org))]
    async fn list_api_tokens(
        &self,
        org: OrgId,
        user: Option<UserId>,
    ) -> StoreResult<Vec<ApiToken>> {
        sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.org_id = t.org_id \
             WHERE t.org_id = $1 AND ($2 = '' OR t.user_id = $2) ORDER BY t.created_ms DESC, t.id"
        ))
        .bind(org.to_string())
        .bind(user.map(|u| u.to_string()).unwrap_or_default())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("list tokens"))?
        .iter()
        .map(rows::api_token)
        .collect()
    }

    #[tracing::instrument(skip_all, fields(%org, token = %id))]
    async fn revoke_api_token(
        &self,
        org: OrgId,
        id: TokenId,
        user: Option<UserId>,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_ms = $1 WHERE org_id = $2 AND id = $3 \
             AND ($4 = '' OR user_id = $4) AND revoked_ms IS NULL",
        )
        .bind(now_ms)
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(user.map(|u| u.to_string()).unwrap_or_default())
        .execute(&self.pool)
        .await
        .map_err(db_err("revoke token"))?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch_api_token(&self, id: TokenId, now_ms: i64, every_ms: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2 \
             AND (last_used_ms IS NULL OR last_used_ms < $3)",
        )
        .bind(now_ms)
        .bind(id.to_string())
        .bind(now_ms - every_ms)
        .execute(&self.pool)
        .await
        .map_err(db_err("touch token"))?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(org = %a.org_id, agent = %a.id))]
    async fn create_agent(&self, a: &Agent) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO agents ({AGENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(a.id.to_string())
        .bind(a.org_id.to_string())
        .bind(&a.name)
        .bind(&a.description)
        .bind(&a.owner)
        .bind(to_json(&a.labels)?)
        .bind(a.status.as_str())
        .bind(i64::from(a.declared_rate))
        .bind(a.created_ms)
        .execute(&self.pool)
        .await
        .map_err(db_err("create agent"))?;
        Ok(())
    }

    async fn agent(&self, org: OrgId, id: AgentId) -> StoreResult<Option<Agent>> {
        sqlx::query(&format!(
            "SELECT {AGENT_COLS} FROM agents WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("agent"))?
        .map(|r| rows::agent(&r))
        .transpose()
    }

    async fn list_agents(&self, org: OrgId) -> StoreResult<Vec<Agent>> {
        sqlx::query(&format!(
            "SELECT {AGENT_COLS} FROM agents WHERE org_id = $1 ORDER BY name"
        ))
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("list agents"))?
        .iter()
        .map(rows::agent)
        .collect()
    }

    async fn set_agent_status(
        &self,
        org: OrgId,
        id: AgentId,
        status: AgentStatus,
    ) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE agents SET status = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .bind(status.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_err("agent status"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn create_agent_key(&self, k: &AgentKey) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO agent_keys (id, org_id, agent_id, prefix, hash, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(k.id.to_string())
        .bind(k.org_id.to_string())
        .bind(k.agent_id.to_string())
        .bind(&k.prefix)
        .bind(&k.hash)
        .bind(k.created_ms)
        .execute(&self.pool)
        .await
        .map_err(db_err("create key"))?;
        Ok(())
    }

    async fn list_agent_keys(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<AgentKey>> {
        sqlx::query(
            "SELECT id, org_id, agent_id, prefix, hash, created_ms, revoked_ms FROM agent_keys \
             WHERE org_id = $1 AND agent_id = $2 ORDER BY created_ms DESC",
        )
        .bind(org.to_string())
        .bind(agent.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("list keys"))?
        .iter()
        .map(|r| rows::agent_key(r, ""))
        .collect()
    }

    async fn agent_by_key_hash(&self, hash: &str) -> StoreResult<Option<(AgentKey, Agent, Org)>> {
        let row = sqlx::query(
            "SELECT k.id AS k_id, k.org_id AS k_org_id, k.agent_id AS k_agent_id, k.prefix AS k_prefix, \
             k.hash AS k_hash, k.created_ms AS k_created_ms, k.revoked_ms AS k_revoked_ms, \
             a.id, a.org_id, a.name, a.description, a.owner, a.labels, a.status, a.declared_rate, a.created_ms, \
             o.id AS o_id, o.slug AS o_slug, o.name AS o_name, o.policy_version AS o_policy_version, o.created_ms AS o_created_ms \
             FROM agent_keys k JOIN agents a ON a.id = k.agent_id AND a.org_id = k.org_id \
             JOIN orgs o ON o.id = a.org_id WHERE k.hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("agent by key"))?;
        row.map(|r| {
            Ok((
                rows::agent_key(&r, "k_")?,
                rows::agent(&r)?,
                rows::org_prefixed(&r, "o_")?,
            ))
        })
        .transpose()
    }

    async fn revoke_agent_key(&self, org: OrgId, key: KeyId, now_ms: i64) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE agent_keys SET revoked_ms = $3 WHERE org_id = $1 AND id = $2 AND revoked_ms IS NULL",
        )
        .bind(org.to_string())
        .bind(key.to_string())
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(db_err("revoke key"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn create_instance(&self, i: &Instance) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO instances ({INSTANCE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(i.id.to_string())
        .bind(i.org_id.to_string())
        .bind(&i.connector)
        .bind(&i.name)
        .bind(i.environment.as_str())
        .bind(to_json(&i.variables)?)
        .bind(i.sensitivity.map(i64::from))
        .bind(i.sealed_credentials.clone())
        .bind(i.created_ms)
        .execute(&self.pool)
        .await
        .map_err(db_err("create instance"))?;
        Ok(())
    }

    async fn list_instances(&self, org: OrgId) -> StoreResult<Vec<Instance>> {
        sqlx::query(&format!(
            "SELECT {INSTANCE_COLS} FROM instances WHERE org_id = $1 ORDER BY connector, name"
        ))
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("list instances"))?
        .iter()
        .map(rows::instance)
        .collect()
    }

    async fn instance(&self, org: OrgId, id: InstanceId) -> StoreResult<Option<Instance>> {
        sqlx::query(&format!(
            "SELECT {INSTANCE_COLS} FROM instances WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("instance"))?
        .map(|r| rows::instance(&r))
        .transpose()
    }

    async fn instances_of(&self, org: OrgId, connector: &str) -> StoreResult<Vec<Instance>> {
        sqlx::query(&format!(
            "SELECT {INSTANCE_COLS} FROM instances WHERE org_id = $1 AND connector = $2 ORDER BY name"
        ))
        .bind(org.to_string())
        .bind(connector)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err("instances of"))?
        .iter()
        .map(rows::instance)
        .collect()
    }

    async fn set_instance_credentials(
        &self,
        org: OrgId,
        id: InstanceId,
        sealed: &str,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE instances SET sealed_credentials = $3 WHERE org_id = $1 AND id = $2",
        )
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(sealed)
        .execute(&self.pool)
        .await
        .map_err(db_err("set credentials"))?;
        Ok(r.rows_affected() == 1)
    }

    async fn append_audit_with_bodies(
        &self,
        drafts: &[AuditDraft],
        bodies: &[ResponseBody],
    ) -> StoreResult<Vec<AuditRecord>> {
        self.append_audit_tx(drafts, bodies).await
    }

    async fn audit_page(&self, org: OrgId, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        self.audit_page_q(org, q).await
    }

    async fn put_simulation(
        &self,
        org: OrgId,
        r: &SimulationReport,
        now_ms: i64,
    ) -> StoreResult<()> {
        self.put_simulation_q(org, r, now_ms).await
    }

    async fn simulation(&self, org: OrgId, id: SimId) -> StoreResult<Option<StoredSimulation>> {
        self.simulation_q(org, id).await
    }

    async fn simulations(&self, org: OrgId, limit: u32) -> StoreResult<Vec<StoredSimulation>> {
        self.simulations_q(org, limit).await
    }

    async fn cancel_simulation(&self, org: OrgId, id: SimId) -> StoreResult<bool> {
        self.cancel_simulation_q(org, id).await
    }

    async fn simulation_cancel_requested(&self, org: OrgId, id: SimId) -> StoreResult<bool> {
        self.simulation_cancel_requested_q(org, id).await
    }

    async fn prune_simulations(
        &self,
        org: OrgId,
        keep: u32,
        stale_before_ms: i64,
    ) -> StoreResult<()> {
        self.prune_simulations_q(org, keep, stale_before_ms).await
    }

    async fn audit_in_range(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.audit_in_range_q(org, kind, range, after, limit).await
    }

    async fn audit_count_in_range(
        &self,
        org: OrgId,
        kind: &str,
        range: (i64, i64),
    ) -> StoreResult<u64> {
        self.audit_count_in_range_q(org, kind, range).await
    }

    async fn audit_after(
        &self,
        org: OrgId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        self.audit_after_q(org, after_seq, limit).await
    }

    async fn chain_head(&self, org: OrgId) -> StoreResult<ChainHead> {
        self.chain_head_q(org).await
    }

    async fn audit_count(&self, org: OrgId) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_records WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(db_err("audit count"))?;
        rows::get(&row, "n")
    }

    async fn create_approval(&self, a: &ApprovalRequest) -> StoreResult<()> {
        self.create_approval_q(a).await
    }

    async fn approval(&self, org: OrgId, id: ApprovalId) -> StoreResult<Option<ApprovalRequest>> {
        self.approval_q(org, id).await
    }

    async fn list_approvals(
        &self,
        org: OrgId,
        status: Option<&str>,
    ) -> StoreResult<Vec<ApprovalRequest>> {
        self.list_approvals_q(org, status).await
    }

    async fn change_approval(
        &self,
        org: OrgId,
        id: ApprovalId,
        change: &ApprovalChange,
    ) -> StoreResult<bool> {
        self.change_approval_q(org, id, change).await
    }

    async fn beat_approval(&self, org: OrgId, id: ApprovalId, now_ms: i64) -> StoreResult<bool> {
        self.beat_approval_q(org, id, now_ms).await
    }

    async fn add_approval_vote(&self, org: OrgId, vote: &ApprovalVote) -> StoreResult<bool> {
        self.add_approval_vote_q(org, vote).await
    }

    async fn approval_votes(&self, org: OrgId, id: ApprovalId) -> StoreResult<Vec<ApprovalVote>> {
        self.approval_votes_q(org, id).await
    }

    async fn approvals_in_status(
        &self,
        status: ApprovalStatus,
        due_before_ms: Option<i64>,
    ) -> StoreResult<Vec<ApprovalRequest>> {
        self.approvals_in_status_q(status, due_before_ms).await
    }

    async fn audit_record(&self, org: OrgId, id: RecordId) -> StoreResult<Option<AuditRecord>> {
        self.audit_record_q(org, id).await
    }

    fn shared(&self) -> bool {
        self.dialect() == crate::Dialect::Postgres
    }

    async fn listen_approvals(
        &self,
    ) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<ApprovalId>>> {
        self.listen_approvals_q().await
    }

    async fn create_grant(&self, g: &Grant) -> StoreResult<()> {
        self.create_grant_q(g).await
    }

    async fn grant(&self, org: OrgId, id: GrantId) -> StoreResult<Option<Grant>> {
        self.grant_q(org, id).await
    }

    async fn list_grants(&self, org: OrgId) -> StoreResult<Vec<Grant>> {
        self.list_grants_q(org).await
    }

    async fn open_grants_of_agent(&self, org: OrgId, agent: AgentId) -> StoreResult<Vec<Grant>> {
        self.open_grants_of_agent_q(org, agent).await
    }

    async fn active_grants(
        &self,
        org: OrgId,
        agent: AgentId,
        connector: &str,
    ) -> StoreResult<Vec<Grant>> {
        self.active_grants_q(org, agent, connector).await
    }

    async fn change_grant(
        &self,
        org: OrgId,
        id: GrantId,
        change: &GrantChange,
    ) -> StoreResult<bool> {
        self.change_grant_q(org, id, change).await
    }

    async fn grants_due(&self, status: GrantStatus, due_before_ms: i64) -> StoreResult<Vec<Grant>> {
        self.grants_due_q(status, due_before_ms).await
    }

    async fn put_response_body(&self, b: &ResponseBody) -> StoreResult<()> {
        self.put_response_body_q(b).await
    }

    async fn response_body(
        &self,
        org: OrgId,
        record: RecordId,
    ) -> StoreResult<Option<ResponseBody>> {
        self.response_body_q(org, record).await
    }

    async fn response_bodies_due(&self, org: OrgId, before_ms: i64) -> StoreResult<u64> {
        self.response_bodies_due_q(org, before_ms).await
    }

    async fn purge_response_bodies(
        &self,
        org: OrgId,
        before_ms: i64,
        now_ms: i64,
    ) -> StoreResult<u64> {
        self.purge_response_bodies_q(org, before_ms, now_ms).await
    }

    async fn response_retention_days(&self, org: OrgId) -> StoreResult<Option<u32>> {
        self.response_retention_days_q(org).await
    }

    async fn set_response_retention_days(
        &self,
        org: OrgId,
        days: u32,
        now_ms: i64,
    ) -> StoreResult<()> {
        self.set_response_retention_days_q(org, days, now_ms).await
    }

    async fn session_create(&self, id: &str, data: &[u8], expires_ms: i64) -> StoreResult<bool> {
        self.session_create_q(id, data, expires_ms).await
    }

    async fn session_load(&self, id: &str, now_ms: i64) -> StoreResult<Option<Vec<u8>>> {
        self.session_load_q(id, now_ms).await
    }

    async fn session_save(&self, id: &str, data: &[u8], expires_ms: i64) -> StoreResult<()> {
        self.session_save_q(id, data, expires_ms).await
    }

    async fn session_delete(&self, id: &str) -> StoreResult<()> {
        self.session_delete_q(id).await
    }

    async fn session_delete_expired(&self, now_ms: i64) -> StoreResult<u64> {
        self.session_delete_expired_q(now_ms).await
    }

    async fn approval_org(&self, id: ApprovalId) -> StoreResult<Option<OrgId>> {
        self.approval_org_q(id).await
    }

    async fn integration(
        &self,
        org: OrgId,
        kind: IntegrationKind,
    ) -> StoreResult<Option<StoredIntegration>> {
        self.integration_q(org, kind).await
    }

    async fn put_integration(&self, i: &StoredIntegration) -> StoreResult<()> {
        self.put_integration_q(i).await
    }

    async fn delete_integration(&self, org: OrgId, kind: IntegrationKind) -> StoreResult<bool> {
        self.delete_integration_q(org, kind).await
    }

    async fn approval_notice(
        &self,
        org: OrgId,
        approval: ApprovalId,
        kind: IntegrationKind,
    ) -> StoreResult<Option<ApprovalNotice>> {
        self.approval_notice_q(org, approval, kind).await
    }

    async fn claim_approval_notice(
        &self,
        n: &ApprovalNotice,
        from: Option<(ApprovalStatus, u32)>,
    ) -> StoreResult<bool> {
        self.claim_approval_notice_q(n, from).await
    }

    async fn release_approval_notice(
        &self,
        org: OrgId,
        approval: ApprovalId,
        kind: IntegrationKind,
    ) -> StoreResult<()> {
        self.release_approval_notice_q(org, approval, kind).await
    }

    async fn set_approval_notice_message(
        &self,
        org: OrgId,
        approval: ApprovalId,
        kind: IntegrationKind,
        channel: &str,
        message_ts: &str,
    ) -> StoreResult<()> {
        self.set_approval_notice_message_q(org, approval, kind, channel, message_ts)
            .await
    }
}
