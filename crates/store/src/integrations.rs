//! Integration settings (plain JSON and a sealed blob; the vault in core seals and opens
//! it) and the notices sent about approval requests, claimed by compare-and-set. Upserts
//! use `ON CONFLICT`, which both databases accept in the same words.

use arx_core::ids::{ApprovalId, OrgId};
use arx_core::integration::{ApprovalNotice, IntegrationKind, StoredIntegration};
use arx_core::model::ApprovalStatus;
use arx_core::store::{IntegrationStore, StoreResult};
use async_trait::async_trait;
use sqlx::any::AnyRow;

use crate::{SqlStore, in_org, rows, to_json};

fn kind(row: &AnyRow) -> StoreResult<IntegrationKind> {
    rows::named(row, "kind", IntegrationKind::parse)
}

fn integration(row: &AnyRow) -> StoreResult<StoredIntegration> {
    Ok(StoredIntegration {
        org_id: rows::id(row, "org_id")?,
        kind: kind(row)?,
        config: rows::json(row, "config")?,
        sealed_secrets: rows::get(row, "sealed_secrets")?,
        secret_fields: rows::json(row, "secret_fields")?,
        updated_ms: rows::get(row, "updated_ms")?,
        updated_by: rows::get(row, "updated_by")?,
    })
}

fn notice(row: &AnyRow) -> StoreResult<ApprovalNotice> {
    Ok(ApprovalNotice {
        org_id: rows::id(row, "org_id")?,
        approval_id: rows::id(row, "approval_id")?,
        kind: kind(row)?,
        channel: rows::get(row, "channel")?,
        message_ts: rows::get(row, "message_ts")?,
        status: ApprovalStatus::parse(&rows::get::<String>(row, "status")?)
            .ok_or_else(|| rows::bad("notice status"))?,
        votes: u32::try_from(rows::get::<i64>(row, "votes")?)
            .map_err(|_| rows::bad("notice votes"))?,
        updated_ms: rows::get(row, "updated_ms")?,
    })
}

#[async_trait]
impl IntegrationStore for SqlStore {
    #[tracing::instrument(skip_all, fields(%org, kind = k.as_str()))]
    async fn integration(
        &self,
        org: OrgId,
        k: IntegrationKind,
    ) -> StoreResult<Option<StoredIntegration>> {
        self.fetch_opt(
in_org("SELECT org_id, kind, config, sealed_secrets, secret_fields, updated_ms, updated_by \
             FROM integrations WHERE org_id = $1 AND kind = $2", org)
        .bind(k.as_str()), "integration", integration)
.await
    }

    #[tracing::instrument(skip_all, fields(org = %i.org_id, kind = i.kind.as_str()))]
    async fn put_integration(&self, i: &StoredIntegration) -> StoreResult<()> {
        self.exec(
sqlx::query(
            "INSERT INTO integrations (org_id, kind, config, sealed_secrets, secret_fields, updated_ms, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (org_id, kind) DO UPDATE SET config = excluded.config, \
             sealed_secrets = excluded.sealed_secrets, secret_fields = excluded.secret_fields, \
             updated_ms = excluded.updated_ms, updated_by = excluded.updated_by",
        )
        .bind(i.org_id.to_string())
        .bind(i.kind.as_str())
        .bind(to_json(&i.config)?)
        .bind(&i.sealed_secrets)
        .bind(to_json(&i.secret_fields)?)
        .bind(i.updated_ms)
        .bind(&i.updated_by), "put integration")
.await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%org, kind = k.as_str()))]
    async fn delete_integration(&self, org: OrgId, k: IntegrationKind) -> StoreResult<bool> {
        let r = self
            .exec(
                in_org(
                    "DELETE FROM integrations WHERE org_id = $1 AND kind = $2",
                    org,
                )
                .bind(k.as_str()),
                "delete integration",
            )
            .await?;
        Ok(r == 1)
    }

    #[tracing::instrument(skip_all, fields(%org, approval = %id, kind = k.as_str()))]
    async fn approval_notice(
        &self,
        org: OrgId,
        id: ApprovalId,
        k: IntegrationKind,
    ) -> StoreResult<Option<ApprovalNotice>> {
        self.fetch_opt(
            in_org(
                "SELECT approval_id, org_id, kind, channel, message_ts, status, votes, updated_ms \
             FROM approval_notices WHERE org_id = $1 AND approval_id = $2 AND kind = $3",
                org,
            )
            .bind(id.to_string())
            .bind(k.as_str()),
            "approval notice",
            notice,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %n.org_id, approval = %n.approval_id, kind = n.kind.as_str()))]
    async fn claim_approval_notice(
        &self,
        n: &ApprovalNotice,
        from: Option<(ApprovalStatus, u32)>,
    ) -> StoreResult<bool> {
        let r = self.exec(
            match from {
            None => sqlx::query(
                "INSERT INTO approval_notices (approval_id, org_id, kind, channel, message_ts, status, votes, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (approval_id, kind) DO NOTHING",
            )
            .bind(n.approval_id.to_string())
            .bind(n.org_id.to_string())
            .bind(n.kind.as_str())
            .bind(&n.channel)
            .bind(&n.message_ts)
            .bind(n.status.as_str())
            .bind(i64::from(n.votes))
            .bind(n.updated_ms),
            Some((status, votes)) => sqlx::query(
                "UPDATE approval_notices SET status = $4, votes = $5, updated_ms = $6 \
                 WHERE org_id = $1 AND approval_id = $2 AND kind = $3 AND status = $7 AND votes = $8",
            )
            .bind(n.org_id.to_string())
            .bind(n.approval_id.to_string())
            .bind(n.kind.as_str())
            .bind(n.status.as_str())
            .bind(i64::from(n.votes))
            .bind(n.updated_ms)
            .bind(status.as_str())
            .bind(i64::from(votes)),
        }, "claim approval notice")
.await?;
        Ok(r == 1)
    }

    #[tracing::instrument(skip_all, fields(%org, %approval, kind = k.as_str()))]
    async fn release_approval_notice(
        &self,
        org: OrgId,
        approval: ApprovalId,
        k: IntegrationKind,
    ) -> StoreResult<()> {
        self.exec(
            in_org(
                "DELETE FROM approval_notices \
             WHERE org_id = $1 AND approval_id = $2 AND kind = $3 AND message_ts = ''",
                org,
            )
            .bind(approval.to_string())
            .bind(k.as_str()),
            "release approval notice",
        )
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(%org, %approval, kind = k.as_str()))]
    async fn set_approval_notice_message(
        &self,
        org: OrgId,
        approval: ApprovalId,
        k: IntegrationKind,
        channel: &str,
        message_ts: &str,
    ) -> StoreResult<()> {
        self.exec(
            in_org(
                "UPDATE approval_notices SET channel = $4, message_ts = $5 \
             WHERE org_id = $1 AND approval_id = $2 AND kind = $3",
                org,
            )
            .bind(approval.to_string())
            .bind(k.as_str())
            .bind(channel)
            .bind(message_ts),
            "set approval notice message",
        )
        .await?;
        Ok(())
    }
}
