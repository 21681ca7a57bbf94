//! Slack identities: an admin links a user to a Slack member id, and a Slack press
//! becomes an ARX principal through that link or the profile's email.

use super::super::{AdminOps, Engine};
use crate::access::Principal;
use crate::audit::Actor;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::ids::{OrgId, UserId};
use crate::model::User;

impl AdminOps<'_> {
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
            return Err(CoreError::InvalidField {
                field: "slack_user_id",
                message: format!(
                    "'{s}' is not a Slack member id: it starts with U or W and has 2 to 31 more capital letters or digits (Slack: profile, ⋮, Copy member ID)"
                ),
            });
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
}
