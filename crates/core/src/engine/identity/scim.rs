//! SCIM 2.0 provisioning: a directory (Okta, Entra ID...) creates, changes and removes
//! the org's users and groups with its own bearer token. Rights follow: a group's
//! members hold what the org's mapping gives that group, from their next request; a user
//! the directory deactivates or deletes loses every session, token and membership at once.
//!
//! A PATCH is applied to the resource's JSON ([`crate::scim::patch`]) and then written
//! exactly as a PUT of the result, so both take one path. Group writes compare and set
//! (directories send member changes concurrently), retrying on a lost race.

use std::collections::HashMap;

use serde_json::Value;

use super::super::{AdminOps, Engine};
use super::accounts::{new_secret_token, token_hash};
use crate::audit::Actor;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::ids::{GroupId, OrgId, TokenId, UserId};
use crate::model::{Source, User};
use crate::scim::resource::{self, GroupInput, UserInput};
use crate::scim::{Kind, ListQuery, ScimError, filter, list_response, patch};
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

/// A resource as loaded: its row, and its JSON as served (what versions and PATCHes see).
enum Loaded {
    User(Box<ScimUser>, Value),
    Group(ScimGroup, Value),
}

impl Loaded {
    fn json(&self) -> &Value {
        match self {
            Loaded::User(_, v) | Loaded::Group(_, v) => v,
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

    /// Users as served, each with the SCIM groups they are a member of.
    async fn render_users(&self, users: &[ScimUser]) -> Result<Vec<Value>, ScimError> {
        let ids: HashMap<String, GroupId> = self
            .engine
            .store
            .scim_groups(self.org())
            .await?
            .into_iter()
            .map(|g| (g.display_name, g.id))
            .collect();
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

    async fn load(&self, kind: Kind, id: &str) -> Result<Loaded, ScimError> {
        let store = &self.engine.store;
        let gone = || ScimError::not_found(format!("no such {}", kind.one()));
        match kind {
            Kind::User => {
                let id: UserId = id.parse().map_err(|_| gone())?;
                let u = store.scim_user(self.org(), id).await?.ok_or_else(gone)?;
                let json = self
                    .render_users(std::slice::from_ref(&u))
                    .await?
                    .pop()
                    .ok_or_else(gone)?;
                Ok(Loaded::User(Box::new(u), json))
            }
            Kind::Group => {
                let id: GroupId = id.parse().map_err(|_| gone())?;
                let g = store.scim_group(self.org(), id).await?.ok_or_else(gone)?;
                let json = resource::group_json(&g, self.base);
                Ok(Loaded::Group(g, json))
            }
        }
    }

    /// A page of users, groups, or (`None`, `POST /.search`) both, users first.
    pub async fn list(&self, kind: Option<Kind>, q: &ListQuery) -> Result<Value, ScimError> {
        let store = &self.engine.store;
        let mut all = vec![];
        if kind != Some(Kind::Group) {
            // `userName eq "x"`, which a directory sends for each user it matches, is a
            // lookup rather than a scan.
            let by_name = q
                .filter
                .as_ref()
                .and_then(filter::user_name_eq)
                .map(str::to_lowercase);
            let users = store.scim_users(self.org(), by_name.as_deref()).await?;
            all = self.render_users(&users).await?;
        }
        if kind != Some(Kind::User) {
            let groups = store.scim_groups(self.org()).await?;
            all.extend(groups.iter().map(|g| resource::group_json(g, self.base)));
        }
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
        Ok(list_response(total, q.start_index, page))
    }

    pub async fn get(&self, kind: Kind, id: &str) -> Result<Value, ScimError> {
        Ok(self.load(kind, id).await?.json().clone())
    }

    pub async fn create(&self, kind: Kind, body: &Value) -> Result<Value, ScimError> {
        match kind {
            Kind::User => self.create_user(body).await,
            Kind::Group => {
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
        }
    }

    /// PUT: the body replaces the resource.
    pub async fn replace(
        &self,
        kind: Kind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Value, ScimError> {
        self.change(kind, id, if_match, |current| {
            *current = body.clone();
            Ok(())
        })
        .await
    }

    /// PATCH: the operations apply to the resource's JSON, and the result is written as
    /// a PUT of it would be.
    pub async fn patch(
        &self,
        kind: Kind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Value, ScimError> {
        self.change(kind, id, if_match, |current| patch::apply(current, body))
            .await
    }

    /// Loads the resource, checks `If-Match`, edits its JSON and writes the result. When
    /// another write to a group wins the race, reads it again and edits again.
    async fn change(
        &self,
        kind: Kind,
        id: &str,
        if_match: Option<&str>,
        edit: impl Fn(&mut Value) -> Result<(), ScimError>,
    ) -> Result<Value, ScimError> {
        for _ in 0..GROUP_WRITE_TRIES {
            let loaded = self.load(kind, id).await?;
            check_version(loaded.json(), if_match)?;
            let mut json = loaded.json().clone();
            edit(&mut json)?;
            match loaded {
                Loaded::User(u, _) => {
                    self.write_user(u.user, resource::user_input(&json)?, false)
                        .await?;
                    return self.get(kind, id).await;
                }
                Loaded::Group(g, _) => {
                    let input = resource::group_input(&json)?;
                    match self.write_group(g.clone(), input, Some(g)).await {
                        Err(e) if e.detail == RACE => continue,
                        other => return other.map(|g| resource::group_json(&g, self.base)),
                    }
                }
            }
        }
        Err(ScimError {
            status: 409,
            scim_type: None,
            detail: "the group kept changing while this request ran; send it again".into(),
        })
    }

    /// A user is deactivated (their sessions, tokens and memberships end) and hidden from
    /// SCIM; the account stays, so the audit chain keeps naming it. A group and its
    /// memberships go.
    pub async fn delete(
        &self,
        kind: Kind,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        let loaded = self.load(kind, id).await?;
        check_version(loaded.json(), if_match)?;
        let e = self.engine;
        let org = self.org();
        match loaded {
            Loaded::User(u, _) => {
                let user = u.user;
                if user.active {
                    e.end_account(&user, self.who.actor()).await?;
                }
                if !e.store.scim_user_delete(org, user.id, e.now_ms()).await? {
                    return Err(ScimError::not_found("no such user"));
                }
                self.record(ev::ScimUserDeleted {
                    user_id: user.id,
                    email: user.email,
                })
                .await
            }
            Loaded::Group(g, _) => {
                if !e.store.scim_group_delete(org, g.id).await? {
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
    }

    async fn create_user(&self, body: &Value) -> Result<Value, ScimError> {
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
            return self.get(Kind::User, &id.to_string()).await;
        }
        if e.store.user_by_email(&input.email).await?.is_some() {
            return Err(taken(&input.email));
        }
        let active = input.active.unwrap_or(true);
        let user = User::from_directory(
            org,
            &input.email,
            &input.name,
            Source::Scim,
            active,
            e.now_ms(),
        );
        let id = user.id;
        self.write_user(user, input, true).await?;
        self.get(Kind::User, &id.to_string()).await
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
