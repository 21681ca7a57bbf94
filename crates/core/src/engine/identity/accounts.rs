//! Establishing who is asking: console logins (argon2, throttled), and the bootstrap of an
//! org with its first admin. Admin API tokens are in [`super::tokens`].

use std::net::IpAddr;

use aes_gcm::aead::{OsRng, rand_core::RngCore};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use super::super::Engine;
use crate::access::{Principal, SessionClaim};
use crate::audit::Actor;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::ids::{OrgId, UserId};
use crate::model::{Org, Role, Source, User};

/// A new random bearer secret with a recognisable prefix (`arx_…` for agents, `arxu_…` for users).
pub fn new_secret_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(b))
}

/// Tokens are 256-bit random, so a fast hash is enough (a slow one would only cost latency).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(super) fn hash_password(password: &str) -> Result<String, CoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::internal("argon2", e))
}

pub(super) fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

impl Engine {
    /// The signed-in user's account if it is still active; 401 saying `why` otherwise.
    pub(crate) async fn active_user(&self, p: &Principal, why: &str) -> Result<User, CoreError> {
        self.store
            .user(p.org_id, p.user_id)
            .await?
            .filter(|u| u.active)
            .ok_or_else(|| CoreError::Unauthenticated(why.into()))
    }

    /// The principal of an active user (for sign-ins that map an outside identity, e.g. Slack).
    pub(crate) async fn principal_for(&self, user: &User) -> Result<Principal, CoreError> {
        let org = self.store.org(user.org_id).await?.ok_or_else(|| {
            CoreError::Unauthenticated("this account's org no longer exists".into())
        })?;
        Ok(Principal {
            org_id: org.id,
            org_slug: org.slug,
            user_id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            roles: user.roles(),
        })
    }

    /// Creates an org with its own data key; recorded as the first record of its chain.
    pub(crate) async fn create_org(&self, slug: &str, name: &str) -> Result<Org, CoreError> {
        let slug = slug.trim();
        if slug.is_empty()
            || !slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(CoreError::InvalidRequest(
                "an org slug is lowercase letters, digits and '-'".into(),
            ));
        }
        if self.store.org_by_slug(slug).await?.is_some() {
            return Err(CoreError::Conflict(format!(
                "an org with slug '{slug}' exists"
            )));
        }
        let org = Org {
            id: OrgId::new(),
            slug: slug.to_string(),
            name: name.trim().to_string(),
            policy_version: 0,
            created_ms: self.now_ms(),
        };
        let dek = self.vault.new_wrapped_data_key(org.id)?;
        self.store.create_org(&org, &dek).await?;
        self.record(
            org.id,
            Actor::system(),
            ev::OrgCreated {
                slug: org.slug.clone(),
                name: org.name.clone(),
            },
        )
        .await?;
        // A new org has no agents from before manifests: its registry is on from day one.
        self.enable_registry(org.id).await?;
        Ok(org)
    }

    /// Creates a local user (the bootstrap admin, or one made by an admin later).
    pub(crate) async fn create_local_user(
        &self,
        org: OrgId,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        by: Actor,
    ) -> Result<User, CoreError> {
        let email = crate::valid::email("email", "the email", email)?;
        if password.chars().count() < 12 {
            return Err(CoreError::InvalidRequest(
                "a password needs at least 12 characters".into(),
            ));
        }
        if self.store.user_by_email(&email).await?.is_some() {
            return Err(CoreError::Conflict(format!(
                "a user with email {email} exists"
            )));
        }
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| CoreError::internal("argon2 task", e))??;
        // The org's first local admin is its break-glass account: kept for when single
        // sign-on is down, and watched (every sign-in shows on the Overview).
        let break_glass = role == Role::Admin
            && !self
                .store
                .list_users(org)
                .await?
                .iter()
                .any(|u| u.break_glass);
        let user = User {
            id: UserId::new(),
            org_id: org,
            email,
            name: name.trim().to_string(),
            role: Some(role),
            password_hash: Some(hash),
            active: true,
            groups: vec![],
            slack_user_id: None,
            created_ms: self.now_ms(),
            source: Source::Local,
            last_login_ms: None,
            break_glass,
            member_of: vec![],
        };
        self.store.create_user(&user).await?;
        self.record(
            org,
            by,
            ev::UserCreated {
                user_id: user.id,
                email: user.email.clone(),
                role: user.role,
            },
        )
        .await?;
        Ok(user)
    }

    /// Checks an email and password from `client` (the caller's address, when known);
    /// records the login, or the refusal coalesced per account and address (see
    /// [`super::refusals`]). Repeated failures put the account and the address in backoff
    /// ([`super::throttle`]): `RateLimited` with the seconds to wait, even for the right
    /// password, and without computing a hash.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Principal, CoreError> {
        let email = normalize_email(email);
        let now = self.now_ms();
        let user = self.store.user_by_email(&email).await?;
        let attempt = match self.login_guard.begin(&email, client, now) {
            Ok(a) => a,
            Err(secs) => {
                if let Some(u) = &user {
                    self.login_refused(u, client, "throttled").await?;
                }
                return Err(CoreError::RateLimited {
                    message: format!("too many failed sign-ins; try again in {secs} s"),
                    retry_after_secs: secs,
                });
            }
        };
        let stored = user
            .as_ref()
            .filter(|u| u.active)
            .and_then(|u| u.password_hash.clone());
        let ok = match self.login_guard.verify(stored, password.to_string()).await {
            Ok(ok) => ok,
            Err(e) => {
                self.login_guard.cancel(attempt);
                return Err(e);
            }
        };
        let user = match user {
            Some(u) if ok => u,
            other => {
                match &other {
                    Some(u) => self.login_refused(u, client, "wrong_password").await?,
                    None => tracing::warn!("sign-in with an unknown email"),
                }
                return Err(CoreError::Unauthenticated(
                    "the email or password is wrong".into(),
                ));
            }
        };
        self.login_guard.succeeded(attempt);
        let p = self.principal_for(&user).await?;
        self.signed_in(&user, "password", client).await?;
        Ok(p)
    }

    /// Records a sign-in (the break-glass account's as such) and notes its time.
    pub(crate) async fn signed_in(
        &self,
        user: &User,
        method: &str,
        client: Option<IpAddr>,
    ) -> Result<(), CoreError> {
        let client = client.map(|a| a.to_string());
        let actor = Actor::user(user.id, &user.email);
        if user.break_glass && method == "password" {
            self.record(user.org_id, actor, ev::BreakGlassLogin { client })
                .await?;
        } else {
            self.record(
                user.org_id,
                actor,
                ev::UserLogin {
                    method: method.into(),
                    client,
                },
            )
            .await?;
        }
        self.store
            .user_signed_in(user.org_id, user.id, self.now_ms())
            .await
    }

    async fn login_refused(
        &self,
        user: &User,
        client: Option<IpAddr>,
        reason: &str,
    ) -> Result<(), CoreError> {
        let client = client.map(|a| a.to_string());
        self.record_refusal(
            user.org_id,
            format!("login:{}:{}", user.id, client.as_deref().unwrap_or("")),
            Actor::user(user.id, &user.email),
            ev::LoginFailed {
                method: "password".into(),
                reason: reason.into(),
                client,
                burst: Default::default(),
            },
        )
        .await
    }

    /// Password checks done since start, for unknown accounts too (tests and metrics).
    pub fn password_checks(&self) -> u64 {
        self.login_guard.checks()
    }

    /// The most password checks that ran at once since start (bounded; tests, metrics).
    pub fn password_checks_peak(&self) -> usize {
        self.login_guard.peak()
    }

    /// Forgets sign-in failures that no longer count (run periodically).
    pub fn prune_login_failures(&self) {
        self.login_guard.prune(self.now_ms());
    }

    pub async fn logout(&self, p: &Principal) -> Result<(), CoreError> {
        self.record(
            p.org_id,
            Actor::user(p.user_id, &p.email),
            ev::UserLogout {},
        )
        .await?;
        Ok(())
    }

    /// The principal of a console session, built afresh from the stored user on every
    /// request so a deactivated user or a changed role takes effect at once; `None` when
    /// the user is gone or deactivated (the session should end).
    pub async fn principal_for_session(
        &self,
        claim: &SessionClaim,
    ) -> Result<Option<Principal>, CoreError> {
        match self.store.user(claim.org_id(), claim.user_id()).await? {
            Some(u) if u.active => Ok(Some(self.principal_for(&u).await?)),
            _ => Ok(None),
        }
    }
}
