//! People and how they prove who they are: users (their groups, their Slack links),
//! admin API tokens, and console sessions, stored so they survive restarts and are
//! shared by replicas. Every query on org data filters by `org_id`.

use arx_core::ids::{OrgId, TokenId, UserId};
use std::collections::HashMap;

use arx_core::model::{ApiToken, GroupMapping, Membership, Role, Source, User};
use arx_core::store::{
    Deactivated, IdentityStore, SessionInfo, SessionRow, SessionSettings, SessionWrite, StoreResult,
};
use async_trait::async_trait;

use crate::{SqlStore, Table, db_err, in_org, rows, to_json};

const TOKEN_COLS: &str = "t.id, t.org_id, t.user_id, u.email AS user_email, t.name, t.prefix, \
     t.created_ms, t.expires_ms, t.last_used_ms, t.revoked_ms";
pub(crate) const USER_COLS: &str = "id, org_id, email, name, role, password_hash, active, groups, \
     slack_user_id, created_ms, source, last_login_ms, break_glass";
const USERS: Table = Table {
    name: "users",
    cols: USER_COLS,
};

#[async_trait]
impl IdentityStore for SqlStore {
    async fn create_user(&self, u: &User) -> StoreResult<()> {
        self.exec(insert_user(u)?, "create user").await?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let u = self
            .fetch_opt(
                sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE email = $1")).bind(email),
                "user by email",
                rows::user,
            )
            .await?;
        self.with_member_of(u).await
    }

    async fn list_users(&self, org: OrgId) -> StoreResult<Vec<User>> {
        let mut users = self
            .all_in_org(USERS, org, "ORDER BY email", "list users", rows::user)
            .await?;
        let mut of = self.memberships(org, None).await?;
        for u in &mut users {
            u.member_of = of.remove(&u.id.to_string()).unwrap_or_default();
        }
        Ok(users)
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
        let u = self
            .fetch_opt(
                in_org(
                    &format!(
                        "SELECT {USER_COLS} FROM users WHERE org_id = $1 AND slack_user_id = $2"
                    ),
                    org,
                )
                .bind(slack_user_id),
                "user by Slack id",
                rows::user,
            )
            .await?;
        self.with_member_of(u).await
    }

    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        let u = self.by_id(USERS, org, id, "user", rows::user).await?;
        self.with_member_of(u).await
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
        // The user's columns beside the token's, each as `u_<column>`.
        let user_cols = USER_COLS
            .split(", ")
            .map(|c| format!("u.{c} AS u_{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let found: Option<StoreResult<(ApiToken, User)>> = sqlx::query(&format!(
            "SELECT {TOKEN_COLS}, {user_cols} \
             FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.org_id = t.org_id \
             WHERE t.hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("token by hash"))?
        .map(|r| Ok((rows::api_token(&r)?, rows::user_prefixed(&r, "u_")?)));
        match found.transpose()? {
            Some((t, u)) => Ok(self.with_member_of(Some(u)).await?.map(|u| (t, u))),
            None => Ok(None),
        }
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

    async fn set_member_of(
        &self,
        org: OrgId,
        user: UserId,
        source: Source,
        groups: &[String],
    ) -> StoreResult<bool> {
        let ctx = "set group memberships";
        let mut tx = self.pool.begin().await.map_err(db_err(ctx))?;
        let found = in_org("SELECT id FROM users WHERE org_id = $1 AND id = $2", org)
            .bind(user.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err(ctx))?;
        if found.is_none() {
            return Ok(false);
        }
        in_org(
            "DELETE FROM user_groups WHERE org_id = $1 AND user_id = $2 AND source = $3",
            org,
        )
        .bind(user.to_string())
        .bind(source.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err(ctx))?;
        for g in groups {
            in_org(
                "INSERT INTO user_groups (org_id, user_id, source, group_name) VALUES ($1, $2, $3, $4)",
                org,
            )
            .bind(user.to_string())
            .bind(source.as_str())
            .bind(g)
            .execute(&mut *tx)
            .await
            .map_err(db_err(ctx))?;
        }
        tx.commit().await.map_err(db_err(ctx))?;
        Ok(true)
    }

    async fn group_mappings(&self, org: OrgId) -> StoreResult<Vec<GroupMapping>> {
        self.fetch_all(
            in_org(
                "SELECT group_name, role, approver_groups, updated_ms FROM group_mappings \
                 WHERE org_id = $1 ORDER BY group_name",
                org,
            ),
            "group mappings",
            rows::group_mapping,
        )
        .await
    }

    async fn put_group_mapping(&self, org: OrgId, m: &GroupMapping) -> StoreResult<()> {
        self.exec(
            in_org(
                "INSERT INTO group_mappings (org_id, group_name, role, approver_groups, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, group_name) DO UPDATE SET \
                 role = excluded.role, approver_groups = excluded.approver_groups, \
                 updated_ms = excluded.updated_ms",
                org,
            )
            .bind(&m.group)
            .bind(m.role.map(|r| r.as_str()))
            .bind(to_json(&m.approver_groups)?)
            .bind(m.updated_ms),
            "put group mapping",
        )
        .await?;
        Ok(())
    }

    async fn delete_group_mapping(&self, org: OrgId, group: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                in_org(
                    "DELETE FROM group_mappings WHERE org_id = $1 AND group_name = $2",
                    org,
                )
                .bind(group),
                "delete group mapping",
            )
            .await?;
        Ok(n == 1)
    }

    async fn user_signed_in(&self, org: OrgId, user: UserId, now_ms: i64) -> StoreResult<()> {
        self.set_by_id("users", "last_login_ms", org, user, now_ms, "note sign-in")
            .await?;
        Ok(())
    }

    async fn deactivate_user(
        &self,
        org: OrgId,
        user: UserId,
        now_ms: i64,
    ) -> StoreResult<Option<Deactivated>> {
        let ctx = "deactivate user";
        let uid = user.to_string();
        let mut tx = self.pool.begin().await.map_err(db_err(ctx))?;
        // The approver groups the user held directly; the UPDATE below moves the row only
        // if it is still active, so a concurrent deactivation reports nothing twice.
        let Some(row) = in_org(
            "SELECT groups FROM users WHERE org_id = $1 AND id = $2 AND active = 1",
            org,
        )
        .bind(&uid)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err(ctx))?
        else {
            return Ok(None);
        };
        let mut groups: Vec<String> = rows::json(&row, "groups")?;
        let moved = in_org(
            "UPDATE users SET active = 0, groups = '[]' WHERE org_id = $1 AND id = $2 AND active = 1",
            org,
        )
        .bind(&uid)
        .execute(&mut *tx)
        .await
        .map_err(db_err(ctx))?
        .rows_affected();
        if moved != 1 {
            return Ok(None);
        }
        for r in in_org(
            "SELECT group_name FROM user_groups WHERE org_id = $1 AND user_id = $2",
            org,
        )
        .bind(&uid)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err(ctx))?
        {
            groups.push(rows::get(&r, "group_name")?);
        }
        groups.sort();
        groups.dedup();
        in_org(
            "DELETE FROM user_groups WHERE org_id = $1 AND user_id = $2",
            org,
        )
        .bind(&uid)
        .execute(&mut *tx)
        .await
        .map_err(db_err(ctx))?;
        let sessions_ended = in_org(
            "DELETE FROM sessions WHERE org_id = $1 AND user_id = $2",
            org,
        )
        .bind(&uid)
        .execute(&mut *tx)
        .await
        .map_err(db_err(ctx))?
        .rows_affected();
        let tokens_revoked = in_org(
            "UPDATE api_tokens SET revoked_ms = $3 \
             WHERE org_id = $1 AND user_id = $2 AND revoked_ms IS NULL",
            org,
        )
        .bind(&uid)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err(ctx))?
        .rows_affected();
        tx.commit().await.map_err(db_err(ctx))?;
        Ok(Some(Deactivated {
            sessions_ended,
            tokens_revoked,
            groups_removed: groups,
        }))
    }

    async fn reactivate_user(&self, org: OrgId, user: UserId) -> StoreResult<bool> {
        let n = self
            .exec(
                in_org(
                    "UPDATE users SET active = 1 WHERE org_id = $1 AND id = $2 AND active = 0",
                    org,
                )
                .bind(user.to_string()),
                "reactivate user",
            )
            .await?;
        Ok(n == 1)
    }

    async fn session_create(&self, key: &str, s: &SessionWrite<'_>) -> StoreResult<bool> {
        let insert = "INSERT INTO sessions \
             (id, data, expires_ms, org_id, user_id, client, created_ms, last_seen_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING";
        let r = self
            .exec(session_query(insert, key, s), "session create")
            .await?;
        Ok(r == 1)
    }

    async fn session_load(&self, key: &str, now_ms: i64) -> StoreResult<Option<SessionRow>> {
        self.fetch_opt(
            sqlx::query(
                "SELECT data, org_id, created_ms, last_seen_ms FROM sessions \
                 WHERE id = $1 AND expires_ms > $2",
            )
            .bind(key)
            .bind(now_ms),
            "session load",
            rows::session_row,
        )
        .await
    }

    async fn session_save(&self, key: &str, s: &SessionWrite<'_>) -> StoreResult<()> {
        let update = "UPDATE sessions SET data = $2, expires_ms = $3, org_id = $4, user_id = $5, \
             client = COALESCE($6, client), last_seen_ms = $7 WHERE id = $1";
        self.exec(session_query(update, key, s), "session save")
            .await?;
        Ok(())
    }

    async fn session_touch(&self, key: &str, now_ms: i64, expires_ms: i64) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE sessions SET last_seen_ms = $2, expires_ms = $3 WHERE id = $1")
                .bind(key)
                .bind(now_ms)
                .bind(expires_ms),
            "session touch",
        )
        .await?;
        Ok(())
    }

    async fn session_delete(&self, key: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query("DELETE FROM sessions WHERE id = $1").bind(key),
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

    async fn sessions_of(
        &self,
        org: OrgId,
        user: UserId,
        now_ms: i64,
    ) -> StoreResult<Vec<SessionInfo>> {
        self.fetch_all(
            in_org(
                "SELECT id, user_id, created_ms, last_seen_ms, expires_ms, client FROM sessions \
                 WHERE org_id = $1 AND user_id = $2 AND expires_ms > $3 \
                 ORDER BY last_seen_ms DESC, id",
                org,
            )
            .bind(user.to_string())
            .bind(now_ms),
            "sessions of user",
            rows::session_info,
        )
        .await
    }

    async fn session_counts(&self, org: OrgId, now_ms: i64) -> StoreResult<Vec<(UserId, i64)>> {
        self.fetch_all(
            in_org(
                "SELECT user_id, COUNT(*) AS n FROM sessions \
                 WHERE org_id = $1 AND user_id IS NOT NULL AND expires_ms > $2 GROUP BY user_id",
                org,
            )
            .bind(now_ms),
            "session counts",
            |r| Ok((rows::id(r, "user_id")?, rows::get(r, "n")?)),
        )
        .await
    }

    async fn end_session(
        &self,
        org: OrgId,
        key: &str,
        user: Option<UserId>,
    ) -> StoreResult<Option<UserId>> {
        let row = sqlx::query(
            "DELETE FROM sessions WHERE org_id = $1 AND id = $2 \
             AND ($3 IS NULL OR user_id = $3) RETURNING user_id",
        )
        .bind(org.to_string())
        .bind(key)
        .bind(user.map(|u| u.to_string()))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err("end session"))?;
        row.map(|r| rows::id(&r, "user_id")).transpose()
    }

    async fn session_settings(&self, org: OrgId) -> StoreResult<Option<SessionSettings>> {
        self.fetch_opt(
            in_org(
                "SELECT idle_minutes, absolute_minutes FROM session_settings WHERE org_id = $1",
                org,
            ),
            "session settings",
            |r| {
                Ok(SessionSettings {
                    idle_minutes: rows::get(r, "idle_minutes")?,
                    absolute_minutes: rows::get(r, "absolute_minutes")?,
                })
            },
        )
        .await
    }

    async fn put_session_settings(
        &self,
        org: OrgId,
        s: SessionSettings,
        now_ms: i64,
    ) -> StoreResult<()> {
        self.exec(
            in_org(
                "INSERT INTO session_settings (org_id, idle_minutes, absolute_minutes, updated_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE SET \
                 idle_minutes = excluded.idle_minutes, \
                 absolute_minutes = excluded.absolute_minutes, updated_ms = excluded.updated_ms",
                org,
            )
            .bind(s.idle_minutes)
            .bind(s.absolute_minutes)
            .bind(now_ms),
            "store session settings",
        )
        .await?;
        Ok(())
    }
}

/// The insert of a new account.
pub(crate) fn insert_user(u: &User) -> StoreResult<crate::Query<'static>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "INSERT INTO users ({USER_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )
    });
    Ok(sqlx::query(SQL.as_str())
        .bind(u.id.to_string())
        .bind(u.org_id.to_string())
        .bind(u.email.clone())
        .bind(u.name.clone())
        .bind(u.role.map_or("", Role::as_str))
        .bind(u.password_hash.clone())
        .bind(i64::from(u.active))
        .bind(to_json(&u.groups)?)
        .bind(u.slack_user_id.clone())
        .bind(u.created_ms)
        .bind(u.source.as_str())
        .bind(u.last_login_ms)
        .bind(i64::from(u.break_glass)))
}

/// `sql` with a session's values bound: `$1` the key, then its data, expiry, org and
/// user (null until someone signs in), client and the time of writing.
fn session_query<'q>(sql: &'q str, key: &'q str, s: &SessionWrite<'_>) -> crate::Query<'q> {
    let (org, user) = s.owner.map(|(o, u)| (o.to_string(), u.to_string())).unzip();
    sqlx::query(sql)
        .bind(key)
        .bind(s.data.to_vec())
        .bind(s.expires_ms)
        .bind(org)
        .bind(user)
        .bind(s.client.clone())
        .bind(s.now_ms)
}

impl SqlStore {
    /// Every membership of the org's users (of `user` only, when given), with what the
    /// mapping gives each group, by user id.
    pub(crate) async fn memberships(
        &self,
        org: OrgId,
        user: Option<UserId>,
    ) -> StoreResult<HashMap<String, Vec<Membership>>> {
        let found = self
            .fetch_all(
                in_org(
                    "SELECT ug.user_id, ug.group_name, ug.source, gm.role, gm.approver_groups \
                     FROM user_groups ug LEFT JOIN group_mappings gm \
                     ON gm.org_id = ug.org_id AND gm.group_name = ug.group_name \
                     WHERE ug.org_id = $1 AND ($2 IS NULL OR ug.user_id = $2) \
                     ORDER BY ug.group_name, ug.source",
                    org,
                )
                .bind(user.map(|u| u.to_string())),
                "group memberships",
                rows::membership,
            )
            .await?;
        let mut by_user: HashMap<String, Vec<Membership>> = HashMap::new();
        for (u, m) in found {
            by_user.entry(u).or_default().push(m);
        }
        Ok(by_user)
    }

    /// The user with their memberships.
    async fn with_member_of(&self, user: Option<User>) -> StoreResult<Option<User>> {
        let Some(mut u) = user else { return Ok(None) };
        u.member_of = self
            .memberships(u.org_id, Some(u.id))
            .await?
            .remove(&u.id.to_string())
            .unwrap_or_default();
        Ok(Some(u))
    }
}
