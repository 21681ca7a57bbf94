//! SCIM 2.0 provisioning: a directory (Okta, Entra ID...) creates, changes and removes
//! the org's users and groups with its own bearer token. Rights follow: a group's
//! members hold what the org's mapping gives that group, from their next request; a user
//! the directory deactivates or deletes loses every session, token and membership at once.
//!
//! A PATCH is applied to the resource's JSON ([`crate::scim::patch`]) and then written
//! exactly as a PUT of the result, so both take one path. Group writes compare and set
//! (directories send member changes concurrently), retrying on a lost race.

use serde_json::Value;

use super::super::{AdminOps, Engine};
use super::accounts::{new_secret_token, token_hash};
use crate::audit::Actor;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::ids::{GroupId, OrgId, TokenId, UserId};
use crate::model::{Source, User};
use crate::scim::resource::{self, GroupInput, UserInput};
use crate::scim::{ListQuery, ScimError, filter, list_response, patch};
use crate::store::{ScimGroup, ScimMember, ScimToken, ScimUser, ScimUserWrite};

/// A use of a token is noted at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;
/// Characters of a SCIM token's secret kept to recognise it (`arxs_` and 6 more).
const PREFIX_CHARS: usize = 11;
/// How often a group write is tried when other writes to the group keep winning.
const GROUP_WRITE_TRIES: usize = 8;

/// A directory calling `/scim/v2`, known by its token.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimCaller {
    org_id: OrgId,
    token_id: TokenId,
    token_name: String,
}

impl ScimCaller {
    pub fn org_id(&self) -> OrgId {
        self.org_id
    }

    /// The directory as audit records name it.
    fn actor(&self) -> Actor {
        Actor {
            kind: "scim".into(),
            id: Some(self.token_id.to_string()),
            name: self.token_name.clone(),
        }
    }
}

/// What a directory may do, for one caller.
pub struct ScimOps<'a> {
    engine: &'a Engine,
    who: &'a ScimCaller,
    /// Where resources live: `https://arx.example.com/scim/v2`.
    base: &'a str,
}

/// A resource's version must be the one the client names in `If-Match` (`*` is any).
fn check_version(current: &Value, if_match: Option<&str>) -> Result<(), ScimError> {
    match if_match.map(str::trim) {
        None | Some("*") => Ok(()),
        Some(want) if want == resource::version(current) => Ok(()),
        Some(_) => Err(ScimError::precondition()),
    }
}

/// An id from a URL: one that cannot be a resource's is simply not found.
fn path_id<T: std::str::FromStr>(id: &str, what: &str) -> Result<T, ScimError> {
    id.parse()
        .map_err(|_| ScimError::not_found(format!("no such {what}")))
}

impl Engine {
    /// The directory behind a SCIM bearer token. An admin API token is not one.
    pub async fn scim_auth(&self, bearer: Option<&str>) -> Result<ScimCaller, ScimError> {
        let refused = || {
            ScimError::unauthorized("a valid SCIM token is required (Authorization: Bearer arxs_…)")
        };
        let secret = bearer
            .filter(|b| b.starts_with("arxs_"))
            .ok_or_else(refused)?;
        let t = self
            .store
            .scim_token_by_hash(&token_hash(secret))
            .await?
            .filter(|t| t.revoked_ms.is_none())
            .ok_or_else(refused)?;
        let now = self.now_ms();
        if t.last_used_ms.is_none_or(|u| now - u >= TOUCH_EVERY_MS) {
            self.store.scim_token_touch(t.id, now).await?;
        }
        Ok(ScimCaller {
            org_id: t.org_id,
            token_id: t.id,
            token_name: t.name,
        })
    }

    pub fn scim<'a>(&'a self, who: &'a ScimCaller, base: &'a str) -> ScimOps<'a> {
        ScimOps {
            engine: self,
            who,
            base,
        }
    }
}

impl ScimOps<'_> {
    fn org(&self) -> OrgId {
        self.who.org_id
    }

    async fn record(&self, event: impl Into<crate::audit::AuditEvent>) -> Result<(), ScimError> {
        self.engine
            .record(self.org(), self.who.actor(), event)
            .await?;
        Ok(())
    }

    // ---- users ----

    /// The SCIM groups each user is a member of (id and name), by group name.
    async fn group_ids(&self) -> Result<std::collections::HashMap<String, GroupId>, ScimError> {
        let groups = self.engine.store.scim_groups(self.org()).await?;
        Ok(groups.into_iter().map(|g| (g.display_name, g.id)).collect())
    }

    async fn render_users(&self, users: &[ScimUser]) -> Result<Vec<Value>, ScimError> {
        let ids = self.group_ids().await?;
        Ok(users
            .iter()
            .map(|u| {
                let groups: Vec<(GroupId, String)> = u
                    .user
                    .member_of
                    .iter()
                    .filter(|m| m.source == Source::Scim)
                    .filter_map(|m| ids.get(&m.group).map(|id| (*id, m.group.clone())))
                    .collect();
                resource::user_json(u, &groups, self.base)
            })
            .collect())
    }

    async fn find_user(&self, id: &str) -> Result<ScimUser, ScimError> {
        let id: UserId = path_id(id, "user")?;
        self.engine
            .store
            .scim_user(self.org(), id)
            .await?
            .ok_or_else(|| ScimError::not_found("no such user"))
    }

    async fn render_user(&self, u: &ScimUser) -> Result<Value, ScimError> {
        let mut one = self.render_users(std::slice::from_ref(u)).await?;
        one.pop()
            .ok_or_else(|| ScimError::not_found("no such user"))
    }

    pub async fn list_users(&self, q: &ListQuery) -> Result<Value, ScimError> {
        let by_name = q
            .filter
            .as_ref()
            .and_then(filter::user_name_eq)
            .map(str::to_lowercase);
        let users = self
            .engine
            .store
            .scim_users(self.org(), by_name.as_deref())
            .await?;
        let all = self.render_users(&users).await?;
        Ok(self.page(all, q))
    }

    /// Users and groups at once (`POST /.search`): users first.
    pub async fn search_all(&self, q: &ListQuery) -> Result<Value, ScimError> {
        let users = self.engine.store.scim_users(self.org(), None).await?;
        let mut all = self.render_users(&users).await?;
        let groups = self.engine.store.scim_groups(self.org()).await?;
        all.extend(groups.iter().map(|g| resource::group_json(g, self.base)));
        Ok(self.page(all, q))
    }

    fn page(&self, all: Vec<Value>, q: &ListQuery) -> Value {
        let hits: Vec<Value> = match &q.filter {
            Some(f) => all.into_iter().filter(|r| filter::matches(f, r)).collect(),
            None => all,
        };
        let total = hits.len();
        let page = hits
            .into_iter()
            .skip(q.start_index - 1)
            .take(q.count)
            .map(|r| q.project(r))
            .collect();
        list_response(total, q.start_index, page)
    }

    pub async fn get_user(&self, id: &str) -> Result<Value, ScimError> {
        let u = self.find_user(id).await?;
        self.render_user(&u).await
    }

    pub async fn create_user(&self, body: &Value) -> Result<Value, ScimError> {
        let input = resource::user_input(body)?;
        let e = self.engine;
        let org = self.org();
        // A user the directory deleted comes back on a create with their userName.
        if let Some(id) = e.store.scim_deleted_user(org, &input.email).await? {
            let user = e
                .store
                .user(org, id)
                .await?
                .ok_or_else(|| ScimError::not_found("no such user"))?;
            self.write_user(user, input, false).await?;
            return self.get_user(&id.to_string()).await;
        }
        if e.store.user_by_email(&input.email).await?.is_some() {
            return Err(taken(&input.email));
        }
        let user = User {
            id: UserId::new(),
            org_id: org,
            email: input.email.clone(),
            name: input.name.clone(),
            role: None,
            password_hash: None,
            active: input.active.unwrap_or(true),
            groups: vec![],
            slack_user_id: None,
            created_ms: e.now_ms(),
            source: Source::Scim,
            last_login_ms: None,
            break_glass: false,
            member_of: vec![],
        };
        let id = user.id;
        self.write_user(user, input, true).await?;
        self.get_user(&id.to_string()).await
    }

    pub async fn replace_user(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Value, ScimError> {
        let u = self.find_user(id).await?;
        check_version(&self.render_user(&u).await?, if_match)?;
        let input = resource::user_input(body)?;
        self.write_user(u.user, input, false).await?;
        self.get_user(id).await
    }

    pub async fn patch_user(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Value, ScimError> {
        let u = self.find_user(id).await?;
        let mut current = self.render_user(&u).await?;
        check_version(&current, if_match)?;
        patch::apply(&mut current, body)?;
        let input = resource::user_input(&current)?;
        self.write_user(u.user, input, false).await?;
        self.get_user(id).await
    }

    /// Writes a user's new values. Deactivation comes first, in its own transaction (so
    /// if anything after fails, the account is already closed, never left open);
    /// reactivation comes last.
    async fn write_user(
        &self,
        mut user: User,
        input: UserInput,
        create: bool,
    ) -> Result<(), ScimError> {
        let e = self.engine;
        let by = self.who.actor();
        if !create && input.active == Some(false) && user.active {
            e.end_account(&user, by.clone()).await?;
        }
        if input.email != user.email && e.store.user_by_email(&input.email).await?.is_some() {
            return Err(taken(&input.email));
        }
        user.email = input.email.clone();
        user.name = input.name.clone();
        let write = ScimUserWrite {
            user: &user,
            create,
            external_id: input.external_id.as_deref(),
            attrs: &input.attrs,
            now_ms: e.now_ms(),
        };
        e.store
            .scim_user_write(&write)
            .await
            .map_err(|err| match err {
                CoreError::Conflict(_) => taken(&input.email),
                other => other.into(),
            })?;
        self.record(ev::ScimUserWritten {
            user_id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            created: create,
            external_id: input.external_id.clone(),
        })
        .await?;
        if !create && input.active == Some(true) && !user.active {
            e.restore_account(&user, by).await?;
        }
        Ok(())
    }

    /// Deactivates the user (ending their sessions, tokens and memberships) and hides
    /// them from SCIM; the account stays, so the audit chain keeps naming it.
    pub async fn delete_user(&self, id: &str, if_match: Option<&str>) -> Result<(), ScimError> {
        let u = self.find_user(id).await?;
        check_version(&self.render_user(&u).await?, if_match)?;
        let e = self.engine;
        if u.user.active {
            e.end_account(&u.user, self.who.actor()).await?;
        }
        if !e
            .store
            .scim_user_delete(self.org(), u.user.id, e.now_ms())
            .await?
        {
            return Err(ScimError::not_found("no such user"));
        }
        self.record(ev::ScimUserDeleted {
            user_id: u.user.id,
            email: u.user.email,
        })
        .await
    }

    // ---- groups ----

    async fn find_group(&self, id: &str) -> Result<ScimGroup, ScimError> {
        let id: GroupId = path_id(id, "group")?;
        self.engine
            .store
            .scim_group(self.org(), id)
            .await?
            .ok_or_else(|| ScimError::not_found("no such group"))
    }

    pub async fn list_groups(&self, q: &ListQuery) -> Result<Value, ScimError> {
        let groups = self.engine.store.scim_groups(self.org()).await?;
        let all = groups
            .iter()
            .map(|g| resource::group_json(g, self.base))
            .collect();
        Ok(self.page(all, q))
    }

    pub async fn get_group(&self, id: &str) -> Result<Value, ScimError> {
        Ok(resource::group_json(&self.find_group(id).await?, self.base))
    }

    pub async fn create_group(&self, body: &Value) -> Result<Value, ScimError> {
        let input = resource::group_input(body)?;
        let now = self.engine.now_ms();
        let g = ScimGroup {
            id: GroupId::new(),
            org_id: self.org(),
            display_name: String::new(),
            external_id: None,
            created_ms: now,
            updated_ms: now,
            members: vec![],
        };
        let g = self.write_group(g, input, None).await?;
        Ok(resource::group_json(&g, self.base))
    }

    pub async fn replace_group(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Value, ScimError> {
        let input = resource::group_input(body)?;
        let g = self.find_group(id).await?;
        check_version(&resource::group_json(&g, self.base), if_match)?;
        let g = self.write_group(g.clone(), input, Some(g)).await?;
        Ok(resource::group_json(&g, self.base))
    }

    /// Applies the PATCH to the group as it is now; when another write to the group wins
    /// the race, reads it again and reapplies.
    pub async fn patch_group(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Value, ScimError> {
        for _ in 0..GROUP_WRITE_TRIES {
            let g = self.find_group(id).await?;
            let mut current = resource::group_json(&g, self.base);
            check_version(&current, if_match)?;
            patch::apply(&mut current, body)?;
            let input = resource::group_input(&current)?;
            match self.write_group(g.clone(), input, Some(g)).await {
                Err(e) if e.detail == RACE => continue,
                other => return other.map(|g| resource::group_json(&g, self.base)),
            }
        }
        Err(ScimError {
            status: 409,
            scim_type: None,
            detail: "the group kept changing while this request ran; send it again".into(),
        })
    }

    /// Writes a group's new name, external id and members; records who joined and left.
    async fn write_group(
        &self,
        mut g: ScimGroup,
        input: GroupInput,
        previous: Option<ScimGroup>,
    ) -> Result<ScimGroup, ScimError> {
        let e = self.engine;
        let name = super::groups::group_names(std::slice::from_ref(&input.display_name))?
            .pop()
            .ok_or_else(|| ScimError::bad("invalidValue", "displayName is required"))?;
        let users = e.store.scim_users(self.org(), None).await?;
        let members = input
            .members
            .iter()
            .enumerate()
            .map(|(i, id)| {
                users
                    .iter()
                    .find(|u| u.user.id == *id)
                    .map(|u| ScimMember {
                        user_id: *id,
                        email: u.user.email.clone(),
                    })
                    .ok_or_else(|| {
                        ScimError::bad(
                            "invalidValue",
                            format!("members[{i}].value: no such user ({id})"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        g.display_name = name;
        g.external_id = input.external_id;
        g.members = members;
        g.updated_ms = previous
            .as_ref()
            .map_or(g.created_ms, |p| e.now_ms().max(p.updated_ms + 1));
        e.store
            .scim_group_write(&g, previous.as_ref())
            .await
            .map_err(|err| match err {
                CoreError::Conflict(m) if m.contains("changed") => ScimError::uniqueness(RACE),
                CoreError::Conflict(_) => {
                    ScimError::uniqueness(format!("a group named {:?} exists", g.display_name))
                }
                other => other.into(),
            })?;
        let before: Vec<&str> = previous
            .iter()
            .flat_map(|p| p.members.iter().map(|m| m.email.as_str()))
            .collect();
        let after: Vec<&str> = g.members.iter().map(|m| m.email.as_str()).collect();
        self.record(ev::ScimGroupWritten {
            group_id: g.id,
            name: g.display_name.clone(),
            created: previous.is_none(),
            renamed_from: previous
                .as_ref()
                .filter(|p| p.display_name != g.display_name)
                .map(|p| p.display_name.clone()),
            added: after
                .iter()
                .filter(|m| !before.contains(m))
                .map(|m| m.to_string())
                .collect(),
            removed: before
                .iter()
                .filter(|m| !after.contains(m))
                .map(|m| m.to_string())
                .collect(),
            members: g.members.len(),
        })
        .await?;
        Ok(g)
    }

    pub async fn delete_group(&self, id: &str, if_match: Option<&str>) -> Result<(), ScimError> {
        let g = self.find_group(id).await?;
        check_version(&resource::group_json(&g, self.base), if_match)?;
        if !self
            .engine
            .store
            .scim_group_delete(self.org(), g.id)
            .await?
        {
            return Err(ScimError::not_found("no such group"));
        }
        self.record(ev::ScimGroupDeleted {
            group_id: g.id,
            name: g.display_name,
            removed: g.members.into_iter().map(|m| m.email).collect(),
        })
        .await
    }
}

/// The message of a lost compare-and-set on a group (retried, never shown).
const RACE: &str = "the group changed while this request ran";

/// A userName another account holds (in this org or another: emails are unique across
/// orgs, and the message does not say which).
fn taken(email: &str) -> ScimError {
    ScimError::uniqueness(format!("userName {email:?} is taken"))
}

impl AdminOps<'_> {
    /// Creates a SCIM token for a directory; the secret is returned once.
    pub async fn create_scim_token(&self, name: &str) -> Result<(ScimToken, String), CoreError> {
        let name = crate::valid::name("name", "the token's name", name)?;
        let e = self.engine;
        let secret = new_secret_token("arxs_");
        let t = ScimToken {
            id: TokenId::new(),
            org_id: self.who.org_id,
            name,
            prefix: secret.chars().take(PREFIX_CHARS).collect(),
            created_by: self.who.email.clone(),
            created_ms: e.now_ms(),
            last_used_ms: None,
            revoked_ms: None,
        };
        e.store.scim_token_create(&t, &token_hash(&secret)).await?;
        e.record(
            t.org_id,
            self.actor(),
            crate::audit::AuditEvent::ScimTokenCreated(ev::ScimTokenChanged {
                token_id: t.id,
                name: t.name.clone(),
            }),
        )
        .await?;
        Ok((t, secret))
    }

    pub async fn scim_tokens(&self) -> Result<Vec<ScimToken>, CoreError> {
        self.engine.store.scim_tokens(self.who.org_id).await
    }

    /// Revokes a SCIM token at once: the directory's next request is refused.
    pub async fn revoke_scim_token(&self, id: TokenId) -> Result<(), CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let t = e
            .store
            .scim_tokens(org)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| CoreError::NotFound("no such SCIM token".into()))?;
        if !e.store.scim_token_revoke(org, id, e.now_ms()).await? {
            return Err(CoreError::Conflict(format!(
                "the SCIM token {:?} is already revoked",
                t.name
            )));
        }
        e.record(
            org,
            self.actor(),
            crate::audit::AuditEvent::ScimTokenRevoked(ev::ScimTokenChanged {
                token_id: id,
                name: t.name,
            }),
        )
        .await?;
        Ok(())
    }
}
