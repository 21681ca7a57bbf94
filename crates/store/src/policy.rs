//! Policy versions: immutable rows, and the org's pointer to the one in force, moved by
//! compare-and-set in the same transaction as the insert.

use arx_core::CoreError;
use arx_core::ids::OrgId;
use arx_core::model::PolicyVersion;
use arx_core::store::{PolicyStore, StoreResult};
use async_trait::async_trait;

use crate::{SqlStore, Table, db_err, in_org, rows};

const COLS: &str = "org_id, version, doc, author_id, author, message, summary, created_ms";

#[async_trait]
impl PolicyStore for SqlStore {
    async fn create_policy_version(&self, v: &PolicyVersion) -> StoreResult<bool> {
        let doc = serde_json::to_string(&v.doc).map_err(|e| CoreError::internal("encode", e))?;
        let mut tx = self.pool.begin().await.map_err(db_err("policy version"))?;
        let moved = sqlx::query(
            "UPDATE orgs SET policy_version = $2 WHERE id = $1 AND policy_version = $3",
        )
        .bind(v.org_id.to_string())
        .bind(v.version)
        .bind(v.version - 1)
        .execute(&mut *tx)
        .await
        .map_err(db_err("policy version"))?
        .rows_affected();
        if moved != 1 {
            return Ok(false); // dropping the transaction rolls it back
        }
        sqlx::query(&format!(
            "INSERT INTO policy_versions ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(v.org_id.to_string())
        .bind(v.version)
        .bind(doc)
        .bind(v.author_id.map(|a| a.to_string()))
        .bind(&v.author)
        .bind(&v.message)
        .bind(&v.summary)
        .bind(v.created_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err("policy version"))?;
        tx.commit().await.map_err(db_err("policy version"))?;
        Ok(true)
    }

    async fn policy_version(&self, org: OrgId, version: i64) -> StoreResult<Option<PolicyVersion>> {
        self.fetch_opt(
            in_org(
                &format!("SELECT {COLS} FROM policy_versions WHERE org_id = $1 AND version = $2"),
                org,
            )
            .bind(version),
            "policy version",
            rows::policy_version,
        )
        .await
    }

    async fn list_policy_versions(&self, org: OrgId) -> StoreResult<Vec<PolicyVersion>> {
        self.all_in_org(
            Table {
                name: "policy_versions",
                cols: COLS,
            },
            org,
            "ORDER BY version DESC",
            "policy versions",
            rows::policy_version,
        )
        .await
    }
}
