//! Single sign-on: OIDC and SAML settings per org, sign-ins in progress and consumed SAML
//! assertions. Every query on org data
//! filters by `org_id`; a sign-in in progress is found by its state's hash alone (the
//! callback names no org) and carries its org.

use arx_core::ids::OrgId;
use arx_core::store::{SsoLogin, SsoStore, StoreResult, StoredOidc, StoredSaml};
use async_trait::async_trait;

use crate::{SqlStore, db_err, in_org, rows, to_json};

#[async_trait]
impl SsoStore for SqlStore {
    async fn oidc_settings(&self, org: OrgId) -> StoreResult<Option<StoredOidc>> {
        self.fetch_opt(
            in_org(
                "SELECT settings, sealed_secret FROM oidc_settings WHERE org_id = $1",
                org,
            ),
            "OIDC settings",
            |r| {
                Ok(StoredOidc {
                    settings: rows::json(r, "settings")?,
                    sealed_secret: rows::get(r, "sealed_secret")?,
                })
            },
        )
        .await
    }

    async fn put_oidc_settings(&self, org: OrgId, s: &StoredOidc) -> StoreResult<()> {
        self.exec(
            in_org(
                "INSERT INTO oidc_settings (org_id, settings, sealed_secret, updated_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE SET \
                 settings = excluded.settings, sealed_secret = excluded.sealed_secret, \
                 updated_ms = excluded.updated_ms",
                org,
            )
            .bind(to_json(&s.settings)?)
            .bind(s.sealed_secret.clone())
            .bind(s.settings.updated_ms),
            "store OIDC settings",
        )
        .await?;
        Ok(())
    }

    async fn oidc_orgs(&self) -> StoreResult<Vec<(OrgId, arx_core::model::OidcSettings)>> {
        self.fetch_all(
            sqlx::query("SELECT org_id, settings FROM oidc_settings ORDER BY org_id"),
            "orgs with OIDC",
            |r| Ok((rows::id(r, "org_id")?, rows::json(r, "settings")?)),
        )
        .await
    }

    async fn saml_settings(&self, org: OrgId) -> StoreResult<Option<StoredSaml>> {
        self.fetch_opt(
            in_org(
                "SELECT settings, idp_metadata FROM saml_settings WHERE org_id = $1",
                org,
            ),
            "SAML settings",
            |r| {
                Ok(StoredSaml {
                    settings: rows::json(r, "settings")?,
                    idp_metadata: rows::get(r, "idp_metadata")?,
                })
            },
        )
        .await
    }

    async fn put_saml_settings(&self, org: OrgId, s: &StoredSaml) -> StoreResult<()> {
        self.exec(
            in_org(
                "INSERT INTO saml_settings (org_id, settings, idp_metadata, updated_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE SET \
                 settings = excluded.settings, idp_metadata = excluded.idp_metadata, \
                 updated_ms = excluded.updated_ms",
                org,
            )
            .bind(to_json(&s.settings)?)
            .bind(&s.idp_metadata)
            .bind(s.settings.updated_ms),
            "store SAML settings",
        )
        .await?;
        Ok(())
    }

    async fn saml_orgs(&self) -> StoreResult<Vec<(OrgId, arx_core::model::SamlSettings)>> {
        self.fetch_all(
            sqlx::query("SELECT org_id, settings FROM saml_settings ORDER BY org_id"),
            "orgs with SAML",
            |r| Ok((rows::id(r, "org_id")?, rows::json(r, "settings")?)),
        )
        .await
    }

    async fn saml_assertion_once(
        &self,
        org: OrgId,
        assertion_id: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let ctx = "mark a SAML assertion consumed";
        let mut tx = self.pool.begin().await.map_err(db_err(ctx))?;
        sqlx::query("DELETE FROM saml_assertions WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err(ctx))?;
        let added = in_org(
            "INSERT INTO saml_assertions (org_id, assertion_id, expires_ms) \
             VALUES ($1, $2, $3) ON CONFLICT (org_id, assertion_id) DO NOTHING",
            org,
        )
        .bind(assertion_id)
        .bind(expires_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err(ctx))?
        .rows_affected();
        tx.commit().await.map_err(db_err(ctx))?;
        Ok(added == 1)
    }

    async fn sso_login_put(
        &self,
        l: &SsoLogin,
        now_ms: i64,
        max_pending: i64,
    ) -> StoreResult<bool> {
        let ctx = "store a sign-in in progress";
        let mut tx = self.pool.begin().await.map_err(db_err(ctx))?;
        sqlx::query("DELETE FROM sso_logins WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err(ctx))?;
        let row = in_org(
            "SELECT COUNT(*) AS n FROM sso_logins WHERE org_id = $1",
            l.org_id,
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err(ctx))?;
        if rows::get::<i64>(&row, "n")? >= max_pending {
            return Ok(false);
        }
        in_org(
            "INSERT INTO sso_logins (org_id, state_hash, protocol, data, expires_ms) \
             VALUES ($1, $2, $3, $4, $5)",
            l.org_id,
        )
        .bind(&l.state_hash)
        .bind(&l.protocol)
        .bind(to_json(&l.data)?)
        .bind(l.expires_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err(ctx))?;
        tx.commit().await.map_err(db_err(ctx))?;
        Ok(true)
    }

    async fn sso_login_take(&self, state_hash: &str) -> StoreResult<Option<SsoLogin>> {
        self.fetch_opt(
            sqlx::query(
                "DELETE FROM sso_logins WHERE state_hash = $1 \
                 RETURNING state_hash, org_id, protocol, data, expires_ms",
            )
            .bind(state_hash),
            "take a sign-in in progress",
            |r| {
                Ok(SsoLogin {
                    state_hash: rows::get(r, "state_hash")?,
                    org_id: rows::id(r, "org_id")?,
                    protocol: rows::get(r, "protocol")?,
                    data: rows::json(r, "data")?,
                    expires_ms: rows::get(r, "expires_ms")?,
                })
            },
        )
        .await
    }
}
