//! What directories provisioned over SCIM: the attributes they sent for users, their
//! groups (whose members are `user_groups` rows with source `scim`, so rights follow them
//! through the org's group mapping), and their tokens. Every query filters by `org_id`.

use std::collections::HashMap;
use std::sync::LazyLock;

use arx_core::ids::{GroupId, OrgId, TokenId, UserId};
use arx_core::store::{
    ScimGroup, ScimMember, ScimStore, ScimToken, ScimUser, ScimUserWrite, StoreResult,
};
use async_trait::async_trait;
use sqlx::any::AnyRow;

use crate::identity::{USER_COLS, insert_user};
use crate::{SqlStore, db_err, in_org, rows, to_json};

const TOKEN_COLS: &str =
    "id, org_id, name, prefix, created_by, created_ms, last_used_ms, revoked_ms";
const GROUP_COLS: &str = "id, org_id, display_name, external_id, created_ms, updated_ms";

/// Users SCIM sees: the account (columns prefixed `u_`) with what a directory sent.
static USERS_SQL: LazyLock<String> = LazyLock::new(|| {
    let cols: Vec<String> = USER_COLS
        .split(", ")
        .map(|c| format!("u.{c} AS u_{c}"))
        .collect();
    format!(
        "SELECT {}, s.external_id, s.attrs, s.updated_ms AS scim_updated_ms \
         FROM users u LEFT JOIN scim_users s ON s.user_id = u.id \
         WHERE u.org_id = $1 AND u.break_glass = 0 AND s.deleted_ms IS NULL",
        cols.join(", ")
    )
});

fn scim_user(r: &AnyRow) -> StoreResult<ScimUser> {
    let user = rows::user_prefixed(r, "u_")?;
    let attrs: Option<String> = rows::get(r, "attrs")?;
    Ok(ScimUser {
        external_id: rows::get(r, "external_id")?,
        attrs: match attrs {
            Some(a) => serde_json::from_str(&a)
                .map_err(|e| arx_core::CoreError::internal("SCIM attributes", e))?,
            None => serde_json::json!({}),
        },
        updated_ms: rows::get::<Option<i64>>(r, "scim_updated_ms")?.unwrap_or(user.created_ms),
        user,
    })
}

fn token(r: &AnyRow) -> StoreResult<ScimToken> {
    Ok(ScimToken {
        id: rows::id(r, "id")?,
        org_id: rows::id(r, "org_id")?,
        name: rows::get(r, "name")?,
        prefix: rows::get(r, "prefix")?,
        created_by: rows::get(r, "created_by")?,
        created_ms: rows::get(r, "created_ms")?,
        last_used_ms: rows::get(r, "last_used_ms")?,
        revoked_ms: rows::get(r, "revoked_ms")?,
    })
}

fn group(r: &AnyRow) -> StoreResult<ScimGroup> {
    Ok(ScimGroup {
        id: rows::id(r, "id")?,
        org_id: rows::id(r, "org_id")?,
        display_name: rows::get(r, "display_name")?,
        external_id: rows::get(r, "external_id")?,
        created_ms: rows::get(r, "created_ms")?,
        updated_ms: rows::get(r, "updated_ms")?,
        members: vec![],
    })
}

#[async_trait]
impl ScimStore for SqlStore {
    async fn scim_token_create(&self, t: &ScimToken, hash: &str) -> StoreResult<()> {
        self.exec(
            sqlx::query(
                "INSERT INTO scim_tokens (id, org_id, hash, prefix, name, created_by, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(t.id.to_string())
            .bind(t.org_id.to_string())
            .bind(hash)
            .bind(&t.prefix)
            .bind(&t.name)
            .bind(&t.created_by)
            .bind(t.created_ms),
            "create SCIM token",
        )
        .await?;
        Ok(())
    }

    async fn scim_tokens(&self, org: OrgId) -> StoreResult<Vec<ScimToken>> {
        self.fetch_all(
            in_org(
                &format!("SELECT {TOKEN_COLS} FROM scim_tokens WHERE org_id = $1 ORDER BY created_ms DESC, id"),
                org,
            ),
            "SCIM tokens",
            token,
        )
        .await
    }

    async fn scim_token_revoke(&self, org: OrgId, id: TokenId, now_ms: i64) -> StoreResult<bool> {
        let n = self
            .exec(
                in_org(
                    "UPDATE scim_tokens SET revoked_ms = $3 \
                     WHERE org_id = $1 AND id = $2 AND revoked_ms IS NULL",
                    org,
                )
                .bind(id.to_string())
                .bind(now_ms),
                "revoke SCIM token",
            )
            .await?;
        Ok(n == 1)
    }

    async fn scim_token_by_hash(&self, hash: &str) -> StoreResult<Option<ScimToken>> {
        self.fetch_opt(
            sqlx::query(&format!(
                "SELECT {TOKEN_COLS} FROM scim_tokens WHERE hash = $1"
            ))
            .bind(hash),
            "SCIM token",
            token,
        )
        .await
    }

    async fn scim_token_touch(&self, id: TokenId, now_ms: i64) -> StoreResult<()> {
        self.exec(
            sqlx::query("UPDATE scim_tokens SET last_used_ms = $2 WHERE id = $1")
                .bind(id.to_string())
                .bind(now_ms),
            "note SCIM token use",
        )
        .await?;
        Ok(())
    }

    async fn scim_users(&self, org: OrgId, email: Option<&str>) -> StoreResult<Vec<ScimUser>> {
        let sql = format!(
            "{} AND ($2 IS NULL OR u.email = $2) ORDER BY u.email",
            USERS_SQL.as_str()
        );
        let mut users = self
            .fetch_all(
                in_org(&sql, org).bind(email.map(str::to_owned)),
                "SCIM users",
                scim_user,
            )
            .await?;
        let mut of = self.memberships(org, None).await?;
        for u in &mut users {
            u.user.member_of = of.remove(&u.user.id.to_string()).unwrap_or_default();
        }
        Ok(users)
    }

    async fn scim_user(&self, org: OrgId, id: UserId) -> StoreResult<Option<ScimUser>> {
        let sql = format!("{} AND u.id = $2", USERS_SQL.as_str());
        let Some(mut u) = self
            .fetch_opt(
                in_org(&sql, org).bind(id.to_string()),
                "SCIM user",
                scim_user,
            )
            .await?
        else {
            return Ok(None);
        };
        u.user.member_of = self
            .memberships(org, Some(id))
            .await?
            .remove(&id.to_string())
            .unwrap_or_default();
        Ok(Some(u))
    }

    async fn scim_deleted_user(&self, org: OrgId, email: &str) -> StoreResult<Option<UserId>> {
        self.fetch_opt(
            in_org(
                "SELECT u.id FROM users u JOIN scim_users s ON s.user_id = u.id \
                 WHERE u.org_id = $1 AND u.email = $2 AND s.deleted_ms IS NOT NULL",
                org,
            )
            .bind(email),
            "deleted SCIM user",
            |r| rows::id(r, "id"),
        )
        .await
    }

    async fn scim_user_write(&self, w: &ScimUserWrite<'_>) -> StoreResult<()> {
        let ctx = "write SCIM user";
        let u = w.user;
        let mut tx = self.pool.begin().await.map_err(db_err(ctx))?;
        if w.create {
            insert_user(u)?
                .execute(&mut *tx)
                .await
                .map_err(db_err(ctx))?;
        } else {
            let n = in_org(
                "UPDATE users SET email = $3, name = $4 WHERE org_id = $1 AND id = $2",
                u.org_id,
            )
            .bind(u.id.to_string())
            .bind(&u.email)
            .bind(&u.name)
            .execute(&mut *tx)
            .await
            .map_err(db_err(ctx))?
            .rows_affected();
            if n != 1 {
                return Err(arx_core::CoreError::NotFound("no such user".into()));
            }
        }
        sqlx::query(
            "INSERT INTO scim_users (user_id, org_id, external_id, attrs, updated_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET \
             external_id = excluded.external_id, attrs = excluded.attrs, \
             updated_ms = excluded.updated_ms, deleted_ms = NULL",
        )
        .bind(u.id.to_string())
        .bind(u.org_id.to_string())
        .bind(w.external_id.map(str::to_owned))
        .bind(to_json(w.attrs)?)
        .bind(w.now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err(ctx))?;
        tx.commit().await.map_err(db_err(ctx))?;
        Ok(())
    }

    async fn scim_user_delete(&self, org: OrgId, id: UserId, now_ms: i64) -> StoreResult<bool> {
        let n = self
            .exec(
                in_org(
                    "INSERT INTO scim_users (user_id, org_id, attrs, updated_ms, deleted_ms) \
                     SELECT id, org_id, '{}', $3, $3 FROM users \
                     WHERE org_id = $1 AND id = $2 AND break_glass = 0 \
                     ON CONFLICT (user_id) DO UPDATE SET deleted_ms = excluded.deleted_ms, \
                     updated_ms = excluded.updated_ms WHERE scim_users.deleted_ms IS NULL",
                    org,
                )
                .bind(id.to_string())
                .bind(now_ms),
                "delete SCIM user",
            )
            .await?;
        Ok(n == 1)
    }

    async fn scim_groups(&self, org: OrgId) -> StoreResult<Vec<ScimGroup>> {
        let mut groups = self
            .fetch_all(
                in_org(
                    &format!("SELECT {GROUP_COLS} FROM scim_groups WHERE org_id = $1 ORDER BY display_name"),
                    org,
                ),
                "SCIM groups",
                group,
            )
            .await?;
        let mut members = self.scim_members(org, None).await?;
        for g in &mut groups {
            g.members = members.remove(&g.display_name).unwrap_or_default();
        }
        Ok(groups)
    }

    async fn scim_group(&self, org: OrgId, id: GroupId) -> StoreResult<Option<ScimGroup>> {
        let Some(mut g) = self
            .fetch_opt(
                in_org(
                    &format!("SELECT {GROUP_COLS} FROM scim_groups WHERE org_id = $1 AND id = $2"),
                    org,
                )
                .bind(id.to_string()),
                "SCIM group",
                group,
            )
            .await?
        else {
            return Ok(None);
        };
        g.members = self
            .scim_members(org, Some(&g.display_name))
            .await?
            .remove(&g.display_name)
            .unwrap_or_default();
        Ok(Some(g))
    }

    async fn scim_group_write(
        &self,
        g: &ScimGroup,
        previous: Option<&ScimGroup>,
    ) -> StoreResult<()> {
        let ctx = "write SCIM group";
        let org = g.org_id;
        let mut tx = self.pool.begin().await.map_err(db_err(ctx))?;
        match previous {
            None => {
                in_org(
                    "INSERT INTO scim_groups (org_id, id, display_name, external_id, created_ms, updated_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    org,
                )
                .bind(g.id.to_string())
                .bind(&g.display_name)
                .bind(g.external_id.clone())
                .bind(g.created_ms)
                .bind(g.updated_ms)
                .execute(&mut *tx)
                .await
                .map_err(db_err(ctx))?;
            }
            Some(p) => {
                let n = in_org(
                    "UPDATE scim_groups SET display_name = $3, external_id = $4, updated_ms = $5 \
                     WHERE org_id = $1 AND id = $2 AND updated_ms = $6",
                    org,
                )
                .bind(g.id.to_string())
                .bind(&g.display_name)
                .bind(g.external_id.clone())
                .bind(g.updated_ms)
                .bind(p.updated_ms)
                .execute(&mut *tx)
                .await
                .map_err(db_err(ctx))?
                .rows_affected();
                if n != 1 {
                    return Err(arx_core::CoreError::Conflict(
                        "the group changed while this request ran".into(),
                    ));
                }
                in_org(
                    "DELETE FROM user_groups WHERE org_id = $1 AND source = 'scim' AND group_name = $2",
                    org,
                )
                .bind(&p.display_name)
                .execute(&mut *tx)
                .await
                .map_err(db_err(ctx))?;
            }
        }
        for m in &g.members {
            in_org(
                "INSERT INTO user_groups (org_id, user_id, group_name, source) \
                 SELECT org_id, id, $3, 'scim' FROM users WHERE org_id = $1 AND id = $2",
                org,
            )
            .bind(m.user_id.to_string())
            .bind(&g.display_name)
            .execute(&mut *tx)
            .await
            .map_err(db_err(ctx))?;
        }
        tx.commit().await.map_err(db_err(ctx))?;
        Ok(())
    }

    async fn scim_group_delete(&self, org: OrgId, id: GroupId) -> StoreResult<bool> {
        let ctx = "delete SCIM group";
        let mut tx = self.pool.begin().await.map_err(db_err(ctx))?;
        in_org(
            "DELETE FROM user_groups WHERE org_id = $1 AND source = 'scim' AND group_name IN \
             (SELECT display_name FROM scim_groups WHERE org_id = $1 AND id = $2)",
            org,
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err(ctx))?;
        let n = in_org("DELETE FROM scim_groups WHERE org_id = $1 AND id = $2", org)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err(ctx))?
            .rows_affected();
        tx.commit().await.map_err(db_err(ctx))?;
        Ok(n == 1)
    }
}

impl SqlStore {
    /// The members of the org's SCIM groups (of the one named `name`, when given), by
    /// group name.
    async fn scim_members(
        &self,
        org: OrgId,
        name: Option<&str>,
    ) -> StoreResult<HashMap<String, Vec<ScimMember>>> {
        let found = self
            .fetch_all(
                in_org(
                    "SELECT ug.group_name, ug.user_id, u.email FROM user_groups ug \
                     JOIN users u ON u.id = ug.user_id \
                     WHERE ug.org_id = $1 AND ug.source = 'scim' AND ($2 IS NULL OR ug.group_name = $2) \
                     ORDER BY u.email",
                    org,
                )
                .bind(name.map(str::to_owned)),
                "SCIM group members",
                |r| {
                    Ok((
                        rows::get::<String>(r, "group_name")?,
                        ScimMember {
                            user_id: rows::id(r, "user_id")?,
                            email: rows::get(r, "email")?,
                        },
                    ))
                },
            )
            .await?;
        let mut by_group: HashMap<String, Vec<ScimMember>> = HashMap::new();
        for (g, m) in found {
            by_group.entry(g).or_default().push(m);
        }
        Ok(by_group)
    }
}
