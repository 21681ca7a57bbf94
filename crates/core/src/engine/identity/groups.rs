//! Users of an org: their approver groups, the groups they are members of and what the
//! org's mapping gives each group, deactivation (which ends everything the account held),
//! and console sessions as their users and admins see them.

use super::super::{AdminOps, Engine, ReadOps};
use super::accounts::normalize_email;
use crate::audit::Actor;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::ids::UserId;
use crate::model::{BreakGlassUse, GroupMapping, Role, Source, User, UserView};
use crate::store::{SessionInfo, SessionSettings};

/// The most characters a directory group's name may have (Entra ID's limit is 256).
const MAX_GROUP_NAME: usize = 256;
/// The most groups one user may be given at once.
const MAX_GROUPS: usize = 500;

/// Approver groups as rules name them: sorted, without repeats, each 1 to 64 letters,
/// digits, '-', '_' or '.'.
fn approver_groups(groups: Vec<String>) -> Result<Vec<String>, CoreError> {
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
            "approver group '{bad}' must be 1 to 64 letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(groups)
}

/// A directory group's name as an IdP sends it (`Okta-SecOps-Leads`, `/arx/admins`, a
/// name with spaces): trimmed, 1 to 256 characters, no control characters.
fn group_name(name: &str) -> Result<String, CoreError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_GROUP_NAME
        || name.chars().any(char::is_control)
    {
        return Err(CoreError::InvalidRequest(format!(
            "a group name is 1 to {MAX_GROUP_NAME} characters without control characters"
        )));
    }
    Ok(name.to_string())
}

/// Directory group names, sorted, without repeats.
pub(crate) fn group_names(groups: &[String]) -> Result<Vec<String>, CoreError> {
    if groups.len() > MAX_GROUPS {
        return Err(CoreError::InvalidRequest(format!(
            "at most {MAX_GROUPS} groups at once; got {}",
            groups.len()
        )));
    }
    let mut names = groups
        .iter()
        .map(|g| group_name(g))
        .collect::<Result<Vec<_>, _>>()?;
    names.sort();
    names.dedup();
    Ok(names)
}

/// A session's key as shown in lists and records: the first characters of its hash.
fn short(key: &str) -> String {
    key.chars().take(12).collect()
}

impl Engine {
    /// Deactivates an account: it can no longer sign in, and in the same transaction its
    /// sessions end, its tokens are revoked and its group memberships and approver groups
    /// are removed (so votes it cast on open requests stop counting). Recorded as `by`'s.
    /// `false` when it was not active.
    pub(crate) async fn end_account(&self, user: &User, by: Actor) -> Result<bool, CoreError> {
        let Some(done) = self
            .store
            .deactivate_user(user.org_id, user.id, self.now_ms())
            .await?
        else {
            return Ok(false);
        };
        self.record(
            user.org_id,
            by,
            ev::UserDeactivated {
                user_id: user.id,
                email: user.email.clone(),
                sessions_ended: done.sessions_ended,
                tokens_revoked: done.tokens_revoked,
                groups_removed: done.groups_removed,
            },
        )
        .await?;
        Ok(true)
    }

    /// Lets a deactivated account sign in again (with no groups and no tokens: those
    /// were removed when it was deactivated). `false` when it was active.
    pub(crate) async fn restore_account(&self, user: &User, by: Actor) -> Result<bool, CoreError> {
        if !self.store.reactivate_user(user.org_id, user.id).await? {
            return Ok(false);
        }
        self.record(
            user.org_id,
            by,
            ev::UserReactivated {
                user_id: user.id,
                email: user.email.clone(),
            },
        )
        .await?;
        Ok(true)
    }
}

impl ReadOps<'_> {
    pub async fn users(&self) -> Result<Vec<User>, CoreError> {
        self.engine.store.list_users(self.who.org_id).await
    }

    /// The org's user with this email (emails are unique across orgs; another org's
    /// user is no user of this one).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, CoreError> {
        let found = self
            .engine
            .store
            .user_by_email(&normalize_email(email))
            .await?;
        Ok(found.filter(|u| u.org_id == self.who.org_id))
    }

    /// The org's users with the rights each holds now and their live sessions.
    pub async fn user_views(&self) -> Result<Vec<UserView>, CoreError> {
        let sessions: std::collections::HashMap<UserId, i64> =
            self.session_counts().await?.into_iter().collect();
        Ok(self
            .users()
            .await?
            .into_iter()
            .map(|u| {
                let n = sessions.get(&u.id).copied().unwrap_or(0);
                UserView::new(u, n)
            })
            .collect())
    }

    pub async fn group_mappings(&self) -> Result<Vec<GroupMapping>, CoreError> {
        self.engine.store.group_mappings(self.who.org_id).await
    }

    /// The signed-in user's own live sessions.
    pub async fn my_sessions(&self) -> Result<Vec<SessionInfo>, CoreError> {
        let e = self.engine;
        e.store
            .sessions_of(self.who.org_id, self.who.user_id, e.now_ms())
            .await
    }

    /// Ends one of the signed-in user's own sessions.
    pub async fn end_my_session(&self, key: &str) -> Result<(), CoreError> {
        self.end_session_of(key, Some(self.who.user_id)).await
    }

    /// Ends a session of the org (of `only` when given), recorded.
    pub(crate) async fn end_session_of(
        &self,
        key: &str,
        only: Option<UserId>,
    ) -> Result<(), CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let owner = e
            .store
            .end_session(org, key, only)
            .await?
            .ok_or_else(|| CoreError::NotFound("no such session".into()))?;
        let email = e
            .store
            .user(org, owner)
            .await?
            .map(|u| u.email)
            .unwrap_or_default();
        e.record(
            org,
            Actor::user(self.who.user_id, &self.who.email),
            ev::SessionEnded {
                user_id: owner,
                email,
                session: short(key),
            },
        )
        .await?;
        Ok(())
    }

    /// The break-glass account's sign-ins in the last 30 days, and its last.
    pub async fn break_glass_use(&self) -> Result<BreakGlassUse, CoreError> {
        const DAYS_30_MS: i64 = 30 * 24 * 60 * 60 * 1000;
        let e = self.engine;
        let now = e.now_ms();
        let Some(account) = self.users().await?.into_iter().find(|u| u.break_glass) else {
            return Ok(BreakGlassUse::default());
        };
        let sign_ins_30d = e
            .store
            .audit_count_in_range(
                self.who.org_id,
                "user.break_glass_login",
                (now - DAYS_30_MS, now),
            )
            .await?;
        Ok(BreakGlassUse {
            email: Some(account.email),
            sign_ins_30d,
            last_ms: account.last_login_ms,
        })
    }

    pub async fn session_settings(&self) -> Result<SessionSettings, CoreError> {
        Ok(self
            .engine
            .store
            .session_settings(self.who.org_id)
            .await?
            .unwrap_or_default())
    }

    /// How many live sessions each user of the org has.
    pub async fn session_counts(&self) -> Result<Vec<(UserId, i64)>, CoreError> {
        let e = self.engine;
        e.store.session_counts(self.who.org_id, e.now_ms()).await
    }
}

impl AdminOps<'_> {
    async fn user_of_org(&self, id: UserId) -> Result<User, CoreError> {
        self.engine
            .store
            .user(self.who.org_id, id)
            .await?
            .ok_or_else(|| CoreError::NotFound("no such user".into()))
    }

    /// Sets the approver groups of a user of the org.
    pub async fn set_user_groups(
        &self,
        id: UserId,
        groups: Vec<String>,
    ) -> Result<User, CoreError> {
        let groups = approver_groups(groups)?;
        let e = self.engine;
        if !e
            .store
            .set_user_groups(self.who.org_id, id, &groups)
            .await?
        {
            return Err(CoreError::NotFound("no such user".into()));
        }
        let user = self.user_of_org(id).await?;
        e.record(
            self.who.org_id,
            self.actor(),
            ev::UserGroupsSet {
                user_id: id,
                email: user.email.clone(),
                groups,
            },
        )
        .await?;
        Ok(user)
    }

    /// Replaces the groups a user is a member of in ARX itself (`local`; memberships from
    /// an IdP or SCIM are theirs to change). Rights follow at the user's next request.
    pub async fn set_member_of(&self, id: UserId, groups: &[String]) -> Result<User, CoreError> {
        let groups = group_names(groups)?;
        let e = self.engine;
        if !e
            .store
            .set_member_of(self.who.org_id, id, Source::Local, &groups)
            .await?
        {
            return Err(CoreError::NotFound("no such user".into()));
        }
        let user = self.user_of_org(id).await?;
        e.record(
            self.who.org_id,
            self.actor(),
            ev::MemberOfSet {
                user_id: id,
                email: user.email.clone(),
                source: Source::Local.as_str().into(),
                groups,
            },
        )
        .await?;
        Ok(user)
    }

    /// Maps a group to a role, approver groups or both (replacing its mapping). Every
    /// member's rights change at their next request.
    pub async fn set_group_mapping(
        &self,
        group: &str,
        role: Option<Role>,
        approvers: Vec<String>,
    ) -> Result<GroupMapping, CoreError> {
        let group = group_name(group)?;
        let approvers = approver_groups(approvers)?;
        if role.is_none() && approvers.is_empty() {
            return Err(CoreError::InvalidRequest(format!(
                "a mapping gives '{group}' a role, approver groups or both; \
                 to give it nothing, delete its mapping"
            )));
        }
        let e = self.engine;
        let m = GroupMapping {
            group,
            role,
            approver_groups: approvers,
            updated_ms: e.now_ms(),
        };
        e.store.put_group_mapping(self.who.org_id, &m).await?;
        e.record(
            self.who.org_id,
            self.actor(),
            ev::GroupMappingSet {
                group: m.group.clone(),
                role: m.role,
                approver_groups: m.approver_groups.clone(),
                deleted: false,
            },
        )
        .await?;
        Ok(m)
    }

    pub async fn delete_group_mapping(&self, group: &str) -> Result<(), CoreError> {
        let group = group_name(group)?;
        let e = self.engine;
        if !e
            .store
            .delete_group_mapping(self.who.org_id, &group)
            .await?
        {
            return Err(CoreError::NotFound(format!(
                "the group '{group}' has no mapping"
            )));
        }
        e.record(
            self.who.org_id,
            self.actor(),
            ev::GroupMappingSet {
                group,
                role: None,
                approver_groups: vec![],
                deleted: true,
            },
        )
        .await?;
        Ok(())
    }

    /// Deactivates a user: they can no longer sign in, and in the same transaction their
    /// sessions end, their tokens are revoked and their group memberships and approver
    /// groups are removed (so votes they cast on open requests stop counting). Recorded.
    pub async fn deactivate_user(&self, id: UserId) -> Result<User, CoreError> {
        if id == self.who.user_id {
            return Err(CoreError::InvalidRequest(
                "you cannot deactivate your own account; another admin can".into(),
            ));
        }
        let user = self.user_of_org(id).await?;
        if !self.engine.end_account(&user, self.actor()).await? {
            return Err(CoreError::Conflict(format!(
                "{} is already deactivated",
                user.email
            )));
        }
        self.user_of_org(id).await
    }

    /// Lets a deactivated user sign in again (with no groups and no tokens: those were
    /// removed when they were deactivated).
    pub async fn reactivate_user(&self, id: UserId) -> Result<User, CoreError> {
        let user = self.user_of_org(id).await?;
        if !self.engine.restore_account(&user, self.actor()).await? {
            return Err(CoreError::Conflict(format!("{} is active", user.email)));
        }
        self.user_of_org(id).await
    }

    /// The live sessions of a user of the org.
    pub async fn sessions_of(&self, id: UserId) -> Result<Vec<SessionInfo>, CoreError> {
        let e = self.engine;
        self.user_of_org(id).await?;
        e.store.sessions_of(self.who.org_id, id, e.now_ms()).await
    }

    /// Ends any session of the org.
    pub async fn end_session(&self, key: &str) -> Result<(), CoreError> {
        self.engine.reader(self.who).end_session_of(key, None).await
    }

    /// Sets how long the org's console sessions last.
    pub async fn set_session_settings(
        &self,
        s: SessionSettings,
    ) -> Result<SessionSettings, CoreError> {
        if !(5..=24 * 60).contains(&s.idle_minutes) {
            return Err(CoreError::InvalidRequest(
                "idle_minutes is 5 to 1440 (a day)".into(),
            ));
        }
        if !(s.idle_minutes..=30 * 24 * 60).contains(&s.absolute_minutes) {
            return Err(CoreError::InvalidRequest(
                "absolute_minutes is at least idle_minutes and at most 43200 (30 days)".into(),
            ));
        }
        let e = self.engine;
        e.store
            .put_session_settings(self.who.org_id, s, e.now_ms())
            .await?;
        e.record(
            self.who.org_id,
            self.actor(),
            ev::SessionSettingsChanged {
                idle_minutes: s.idle_minutes,
                absolute_minutes: s.absolute_minutes,
            },
        )
        .await?;
        Ok(s)
    }
}
