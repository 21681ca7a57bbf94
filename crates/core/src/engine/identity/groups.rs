//! Users of an org and their approver groups.

use super::super::{AdminOps, ReadOps};
use crate::audit::Actor;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::model::User;

impl ReadOps<'_> {
    pub async fn users(&self) -> Result<Vec<User>, CoreError> {
        self.engine.store.list_users(self.who.org_id).await
    }
}

impl AdminOps<'_> {
    /// Sets the approver groups of a user of the org.
    pub async fn set_user_groups(
        &self,
        id: crate::ids::UserId,
        groups: Vec<String>,
    ) -> Result<User, CoreError> {
        let mut groups: Vec<String> = groups
            .into_iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        groups.sort();
        groups.dedup();
        if let Some(bad) = groups.iter().find(|g| {
            g.len() > 64
                || !g
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        }) {
            return Err(CoreError::InvalidRequest(format!(
                "group '{bad}' must be 1 to 64 letters, digits, '-', '_' or '.'"
            )));
        }
        let e = self.engine;
        if !e
            .store
            .set_user_groups(self.who.org_id, id, &groups)
            .await?
        {
            return Err(CoreError::NotFound("no such user".into()));
        }
        let user = e
            .store
            .user(self.who.org_id, id)
            .await?
            .ok_or_else(|| CoreError::NotFound("no such user".into()))?;
        e.record(
            self.who.org_id,
            Actor::user(self.who.user_id, &self.who.email),
            ev::UserGroupsSet {
                user_id: id,
                email: user.email.clone(),
                groups: groups.to_vec(),
            },
        )
        .await?;
        Ok(user)
    }
}
