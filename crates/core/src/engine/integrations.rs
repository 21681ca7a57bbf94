//! An org's Slack, Teams and webhook settings behind role checks: admins set, show and
//! remove them, secrets sealed by the vault and never shown. Delivery jobs and the Slack
//! interaction endpoint (in the server) read them unsealed through
//! [`Engine::integration_settings`] and keep track of the notices they sent. Which ARX
//! user a Slack member is, is identity's (`identity::slack`).

use serde_json::Value;

use super::{AdminOps, Engine};
use crate::audit::event as ev;
use crate::audit::{Actor, format_ts};
use crate::error::CoreError;
use crate::ids::{ApprovalId, OrgId};
use crate::integration::{
    ApprovalNotice, IntegrationKind, IntegrationSettings, IntegrationView, StoredIntegration,
    parse_input,
};
use crate::model::ApprovalStatus;
use crate::vault::SecretsOf;

fn view(kind: IntegrationKind, stored: Option<&StoredIntegration>) -> IntegrationView {
    IntegrationView {
        kind,
        configured: stored.is_some(),
        config: stored.map(|s| s.config.clone()).unwrap_or_default(),
        secrets_set: kind
            .secret_fields()
            .iter()
            .map(|f| {
                let set = stored.is_some_and(|s| s.secret_fields.iter().any(|x| x == f));
                (f.to_string(), set)
            })
            .collect(),
        updated_at: stored.map(|s| format_ts(s.updated_ms)),
        updated_by: stored.map(|s| s.updated_by.clone()),
    }
}

impl AdminOps<'_> {
    /// The org's settings of `kind`: plain fields and which secrets are set.
    pub async fn integration(&self, kind: IntegrationKind) -> Result<IntegrationView, CoreError> {
        let stored = self.engine.store.integration(self.who.org_id, kind).await?;
        Ok(view(kind, stored.as_ref()))
    }

    /// Sets or replaces the org's settings of `kind` from the admin API's JSON body.
    /// Recorded with the plain settings and the names of the secret fields only.
    pub async fn set_integration(
        &self,
        kind: IntegrationKind,
        body: Value,
    ) -> Result<IntegrationView, CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let (config, secrets) = parse_input(kind, body, e.local_targets_allowed())?;
        let dek = e.store.wrapped_data_key(org).await?;
        let stored = StoredIntegration {
            org_id: org,
            kind,
            config,
            sealed_secrets: e
                .vault
                .seal(org, &dek, SecretsOf::Integration(kind), &secrets)?,
            secret_fields: secrets.keys().cloned().collect(),
            updated_ms: e.now_ms(),
            updated_by: self.who.email.clone(),
        };
        let replaced = e.store.integration(org, kind).await?.is_some();
        e.store.put_integration(&stored).await?;
        e.record(
            org,
            Actor::user(self.who.user_id, &self.who.email),
            ev::IntegrationSet {
                kind,
                config: stored.config.clone(),
                secret_fields: stored.secret_fields.clone(),
                replaced,
            },
        )
        .await?;
        Ok(view(kind, Some(&stored)))
    }

    /// Removes the org's settings of `kind`; `false` if there were none.
    pub async fn delete_integration(&self, kind: IntegrationKind) -> Result<bool, CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        if !e.store.delete_integration(org, kind).await? {
            return Ok(false);
        }
        e.record(
            org,
            Actor::user(self.who.user_id, &self.who.email),
            ev::IntegrationDeleted { kind },
        )
        .await?;
        Ok(true)
    }
}

impl Engine {
    /// The org's settings of `kind` with the secrets unsealed, for delivering notices and
    /// verifying inbound requests. Never answer an API call with them.
    pub(crate) async fn integration_settings(
        &self,
        org: OrgId,
        kind: IntegrationKind,
    ) -> Result<Option<IntegrationSettings>, CoreError> {
        let Some(stored) = self.store.integration(org, kind).await? else {
            return Ok(None);
        };
        let dek = if self.vault.has_data_key(org) {
            None
        } else {
            Some(self.store.wrapped_data_key(org).await?)
        };
        let of = SecretsOf::Integration(kind);
        let secrets = self
            .vault
            .open(org, dek.as_deref(), of, &stored.sealed_secrets)?;
        Ok(Some(IntegrationSettings {
            kind,
            config: stored.config,
            secrets,
        }))
    }

    /// The org a request belongs to, for routing a Slack button or a signed link before
    /// the org's own keys verify it.
    pub(crate) async fn approval_org(&self, id: ApprovalId) -> Result<Option<OrgId>, CoreError> {
        self.store.approval_org(id).await
    }

    /// What was last sent about a request on a channel.
    pub(crate) async fn approval_notice(
        &self,
        org: OrgId,
        id: ApprovalId,
        kind: IntegrationKind,
    ) -> Result<Option<ApprovalNotice>, CoreError> {
        self.store.approval_notice(org, id, kind).await
    }

    /// Claims the sending of notice `n`; see [`crate::store::IntegrationStore::claim_approval_notice`].
    pub(crate) async fn claim_approval_notice(
        &self,
        n: &ApprovalNotice,
        from: Option<(ApprovalStatus, u32)>,
    ) -> Result<bool, CoreError> {
        self.store.claim_approval_notice(n, from).await
    }

    /// Gives up a claimed Slack notice that could not be posted; see
    /// [`crate::store::IntegrationStore::release_approval_notice`].
    pub(crate) async fn release_approval_notice(
        &self,
        n: &ApprovalNotice,
    ) -> Result<(), CoreError> {
        self.store
            .release_approval_notice(n.org_id, n.approval_id, n.kind)
            .await
    }

    /// Remembers the Slack message of a claimed notice.
    pub(crate) async fn set_approval_notice_message(
        &self,
        n: &ApprovalNotice,
        channel: &str,
        message_ts: &str,
    ) -> Result<(), CoreError> {
        self.store
            .set_approval_notice_message(n.org_id, n.approval_id, n.kind, channel, message_ts)
            .await
    }

    /// The tag that signs a console link to a request (see [`crate::vault::Vault::approval_link_tag`]).
    pub(crate) fn approval_link_tag(&self, org: OrgId, id: ApprovalId) -> String {
        self.vault.approval_link_tag(org, id)
    }

    /// Whether `tag` is the signature ARX put on a link to request `id`.
    pub async fn verify_approval_link(&self, id: ApprovalId, tag: &str) -> Result<bool, CoreError> {
        let Some(org) = self.store.approval_org(id).await? else {
            return Ok(false);
        };
        let expected = self.vault.approval_link_tag(org, id);
        Ok(crate::signing::constant_time_eq(
            expected.as_bytes(),
            tag.trim().as_bytes(),
        ))
    }
}
