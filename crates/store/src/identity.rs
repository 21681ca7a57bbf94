//! People and how they prove who they are: users (their groups, their Slack links),
//! admin API tokens, and console sessions, stored so they survive restarts and are
//! shared by replicas. Every query on org data filters by `org_id`.

use arx_core::ids::{OrgId, TokenId, UserId};
use arx_core::model::{ApiToken, User};
use arx_core::store::{IdentityStore, StoreResult};
use async_trait::async_trait;

use crate::{SqlStore, Table, db_err, in_org, rows, to_json};

const TOKEN_COLS: &str = "t.id, t.org_id, t.user_id, u.email AS user_email, t.name, t.prefix, \
     t.created_ms, t.expires_ms, t.last_used_ms, t.revoked_ms";
const USER_COLS: &str =
    "id, org_id, email, name, role, password_hash, active, groups, slack_user_id, created_ms";
const USERS: Table = Table {
    name: "users",
    cols: USER_COLS,
};

#[async_trait]
impl IdentityStore for SqlStore {
    async fn create_user(&self, u: &User) -> StoreResult<()> {
        self.exec(
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
            .bind(u.created_ms),
            "create user",
        )
        .await?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.fetch_opt(
            sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE email = $1")).bind(email),
            "user by email",
            rows::user,
        )
        .await
    }

    async fn list_users(&self, org: OrgId) -> StoreResult<Vec<User>> {
        self.all_in_org(USERS, org, "ORDER BY email", "list users", rows::user)
            .await
    }

    async fn set_user_groups(
        &self,
        org: OrgId,
        id: UserId,
        groups: &[String],
    ) -> StoreResult<bool> {
        self.set_by_id("users", "groups", org, id, to_json(groups)?, "user groups")
            .await
    }

    async fn set_user_slack(
        &self,
        org: OrgId,
        id: UserId,
        slack_user_id: Option<&str>,
    ) -> StoreResult<bool> {
        let slack = slack_user_id.map(str::to_owned);
        self.set_by_id(
            "users",
            "slack_user_id",
            org,
            id,
            slack,
            "user's Slack link",
        )
        .await
    }

    async fn user_by_slack(&self, org: OrgId, slack_user_id: &str) -> StoreResult<Option<User>> {
        self.fetch_opt(
            in_org(
                &format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 AND slack_user_id = $2"),
                org,
            )
            .bind(slack_user_id),
            "user by Slack id",
            rows::user,
        )
        .await
    }

    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        self.by_id(USERS, org, id, "user", rows::user).await
    }

    #[tracing::instrument(skip_all, fields(org = %t.org_id, token = %t.id))]
    async fn create_api_token(&self, t: &ApiToken, hash: &str) -> StoreResult<()> {
        self.exec(
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
        .bind(t.expires_ms), "create token")
.await?;
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
        self.fetch_all(
in_org(&format!(
            "SELECT {TOKEN_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.org_id = t.org_id \
             WHERE t.org_id = $1 AND ($2 = '' OR t.user_id = $2) ORDER BY t.created_ms DESC, t.id"
        ), org)
        .bind(user.map(|u| u.to_string()).unwrap_or_default()), "list tokens", rows::api_token)
.await
    }

    #[tracing::instrument(skip_all, fields(%org, token = %id))]
    async fn revoke_api_token(
        &self,
        org: OrgId,
        id: TokenId,
        user: Option<UserId>,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let done = self
            .exec(
                sqlx::query(
                    "UPDATE api_tokens SET revoked_ms = $1 WHERE org_id = $2 AND id = $3 \
             AND ($4 = '' OR user_id = $4) AND revoked_ms IS NULL",
                )
                .bind(now_ms)
                .bind(org.to_string())
                .bind(id.to_string())
                .bind(user.map(|u| u.to_string()).unwrap_or_default()),
                "revoke token",
            )
            .await?;
        Ok(done == 1)
    }

    async fn touch_api_token(&self, id: TokenId, now_ms: i64, every_ms: i64) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2 \
             AND (last_used_ms IS NULL OR last_used_ms < $3)",
            )
            .bind(now_ms)
            .bind(id.to_string())
            .bind(now_ms - every_ms),
            "touch token",
        )
        .await?;
        Ok(())
    }

    async fn session_load(&self, id: &str, now_ms: i64) -> StoreResult<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT data FROM sessions WHERE id = $1 AND expires_ms > $2")
            .bind(id)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err("session load"))?;
        row.map(|r| rows::get::<Vec<u8>>(&r, "data")).transpose()
    }

    async fn session_create(&self, id: &str, data: &[u8], expires_ms: i64) -> StoreResult<bool> {
        let r = self.exec(
sqlx::query("INSERT INTO sessions (id, data, expires_ms) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(data.to_vec())
            .bind(expires_ms), "session create")
.await?;
        Ok(r == 1)
    }

    async fn session_save(&self, id: &str, data: &[u8], expires_ms: i64) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO sessions (id, data, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_ms = excluded.expires_ms",
            )
            .bind(id)
            .bind(data.to_vec())
            .bind(expires_ms),
            "session save",
        )
        .await?;
        Ok(())
    }

    async fn session_delete(&self, id: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id),
            "session delete",
        )
        .await?;
        Ok(())
    }

    async fn session_delete_expired(&self, now_ms: i64) -> StoreResult<u64> {
        let r = self
            .exec(
                sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1").bind(now_ms),
                "session sweep",
            )
            .await?;
        Ok(r)
    }
}
