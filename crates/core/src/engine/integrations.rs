//! An org's Slack, Teams and webhook settings behind role checks: admins set, show and
//! remove them, secrets sealed by the vault and never shown. Delivery jobs and the Slack
//! interaction endpoint (in the server) read them unsealed through
//! [`Engine::integration_settings`], map a Slack user to an ARX user, keep track of the
//! notices they sent, and record what they refused.

use serde_json::Value;

use super::{AdminOps, Engine};
use crate::access::Principal;
use crate::audit::event as ev;
use crate::audit::{Actor, format_ts};
use crate::error::CoreError;
use crate::ids::{ApprovalId, OrgId, UserId};
use crate::integration::{
    ApprovalNotice, IntegrationKind, IntegrationSettings, IntegrationView, StoredIntegration,
    parse_input,
};
use crate::model::{ApprovalStatus, User};

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
            sealed_secrets: e.vault.seal_integration(org, &dek, kind, &secrets)?,
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

    /// Links user `id` to a Slack user id (`U…` or `W…`, as Slack's profile menu "Copy
    /// member ID" gives it), or unlinks with `None`. A linked Slack user decides as this
    /// user; otherwise Slack decisions map by the profile's email.
    pub async fn link_slack_user(
        &self,
        id: UserId,
        slack_user_id: Option<&str>,
    ) -> Result<User, CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let slack = slack_user_id.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = slack
            && !valid_slack_user_id(s)
        {
            return Err(CoreError::InvalidRequest(format!(
                "'{s}' is not a Slack member id: it starts with U or W and has 2 to 31 more capital letters or digits (Slack: profile, ⋮, Copy member ID)"
            )));
        }
        let linked = e.store.set_user_slack(org, id, slack).await.map_err(|err| match err {
            CoreError::Conflict(_) => CoreError::Conflict(format!(
                "Slack member {} is already linked to another user of this org; unlink it there first",
                slack.unwrap_or_default()
            )),
            other => other,
        })?;
        let user = match linked {
            true => e.store.user(org, id).await?,
            false => None,
        }
        .ok_or_else(|| CoreError::NotFound("no such user".into()))?;
        e.record(
            org,
            Actor::user(self.who.user_id, &self.who.email),
            ev::SlackLinked {
                user_id: id,
                email: user.email.clone(),
                slack_user_id: slack.map(str::to_string),
            },
        )
        .await?;
        Ok(user)
    }
}

/// Slack member ids: `U` (or `W` on Enterprise Grid) and capital letters or digits.
fn valid_slack_user_id(s: &str) -> bool {
    (3..=32).contains(&s.len())
        && s.starts_with(['U', 'W'])
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
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
        let secrets =
            self.vault
                .open_integration(org, dek.as_deref(), kind, &stored.sealed_secrets)?;
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

    /// The principal of the active user of `org` linked to this Slack user id, if any.
    pub(crate) async fn principal_by_slack(
        &self,
        org: OrgId,
        slack_user_id: &str,
    ) -> Result<Option<Principal>, CoreError> {
        match self.store.user_by_slack(org, slack_user_id).await? {
            Some(u) if u.active => self.principal_for(&u).await.map(Some),
            Some(_) => Err(CoreError::Unauthenticated(format!(
                "Slack member {slack_user_id} is linked to an ARX account that is deactivated"
            ))),
            None => Ok(None),
        }
    }

    /// The principal of the active user of `org` with the email on Slack member
    /// `slack_user_id`'s profile: how an identity vouched for by Slack becomes an ARX
    /// user, whose rights then decide as anywhere else. A user linked to another Slack
    /// member is not reachable by email.
    pub(crate) async fn principal_by_slack_email(
        &self,
        org: OrgId,
        email: &str,
        slack_user_id: &str,
    ) -> Result<Principal, CoreError> {
        let email = email.trim().to_ascii_lowercase();
        let user = self
            .store
            .user_by_email(&email)
            .await?
            .filter(|u| u.org_id == org && u.active)
            .ok_or_else(|| {
                CoreError::Unauthenticated(format!(
                    "no active ARX user of this org has the email {email}"
                ))
            })?;
        if user
            .slack_user_id
            .as_deref()
            .is_some_and(|linked| linked != slack_user_id)
        {
            return Err(CoreError::Unauthenticated(format!(
                "the ARX user with the email {email} is linked to another Slack member; an admin can change the link on the Integrations page"
            )));
        }
        self.principal_for(&user).await
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
