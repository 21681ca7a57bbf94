//! Establishing who is asking: console logins (argon2), admin API tokens, and the
//! bootstrap of an org with its first admin.

use aes_gcm::aead::{OsRng, rand_core::RngCore};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Engine;
use crate::access::Principal;
use crate::audit::Actor;
use crate::error::CoreError;
use crate::ids::{OrgId, UserId};
use crate::model::{Org, Role, User};

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

fn hash_password(password: &str) -> Result<String, CoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::internal("argon2", e))
}

fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

impl Engine {
    /// The principal of an active user (for sign-ins that map an outside identity, e.g. Slack).
    pub async fn principal_for(&self, user: &User) -> Result<Principal, CoreError> {
        let org = self.store.org(user.org_id).await?.ok_or_else(|| {
            CoreError::Unauthenticated("this account's org no longer exists".into())
        })?;
        Ok(Principal {
            org_id: org.id,
            org_slug: org.slug,
            user_id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
        })
    }

    /// Creates an org with its own data key; recorded as the first record of its chain.
    pub async fn create_org(&self, slug: &str, name: &str) -> Result<Org, CoreError> {
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
            "org.created",
            Actor::system(),
            json!({"slug": org.slug, "name": org.name}),
        )
        .await?;
        Ok(org)
    }

    /// Creates a local user (the bootstrap admin, or one made by an admin later).
    pub async fn create_local_user(
        &self,
        org: OrgId,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        by: Actor,
    ) -> Result<User, CoreError> {
        let email = normalize_email(email);
        if !email.contains('@') {
            return Err(CoreError::InvalidRequest(
                "an email address is needed".into(),
            ));
        }
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
        let user = User {
            id: UserId::new(),
            org_id: org,
            email,
            name: name.trim().to_string(),
            role,
            password_hash: Some(hash),
            active: true,
            groups: vec![],
            slack_user_id: None,
            created_ms: self.now_ms(),
        };
        self.store.create_user(&user).await?;
        self.record(
            org,
            "user.created",
            by,
            json!({"user_id": user.id, "email": user.email, "role": user.role.as_str()}),
        )
        .await?;
        Ok(user)
    }

    /// Issues an admin-API token for a user; the token is returned once and stored hashed.
    pub async fn issue_user_token(&self, user: &User, name: &str) -> Result<String, CoreError> {
        let token = new_secret_token("arxu_");
        self.store
            .create_api_token(
                user.org_id,
                user.id,
                name,
                &token_hash(&token),
                self.now_ms(),
            )
            .await?;
        self.record(
            user.org_id,
            "user.token_issued",
            Actor::user(user.id, &user.email),
            json!({"user_id": user.id, "name": name}),
        )
        .await?;
        Ok(token)
    }

    /// Checks an email and password; records the login or the failed attempt.
    pub async fn login(&self, email: &str, password: &str) -> Result<Principal, CoreError> {
        let wrong = || CoreError::Unauthenticated("the email or password is wrong".into());
        let Some(user) = self.store.user_by_email(&normalize_email(email)).await? else {
            return Err(wrong());
        };
        let ok = match (&user.password_hash, user.active) {
            (Some(hash), true) => {
                let (hash, password) = (hash.clone(), password.to_string());
                tokio::task::spawn_blocking(move || {
                    PasswordHash::new(&hash)
                        .map(|h| {
                            Argon2::default()
                                .verify_password(password.as_bytes(), &h)
                                .is_ok()
                        })
                        .unwrap_or(false)
                })
                .await
                .unwrap_or(false)
            }
            _ => false,
        };
        let actor = Actor::user(user.id, &user.email);
        if !ok {
            self.record(
                user.org_id,
                "user.login_failed",
                actor,
                json!({"method": "password"}),
            )
            .await?;
            return Err(wrong());
        }
        self.record(
            user.org_id,
            "user.login",
            actor,
            json!({"method": "password"}),
        )
        .await?;
        self.principal_for(&user).await
    }

    pub async fn logout(&self, p: &Principal) -> Result<(), CoreError> {
        self.record(
            p.org_id,
            "user.logout",
            Actor::user(p.user_id, &p.email),
            json!({}),
        )
        .await?;
        Ok(())
    }

    /// The principal behind an admin-API bearer token.
    pub async fn principal_from_token(&self, bearer: Option<&str>) -> Result<Principal, CoreError> {
        let token = bearer.ok_or_else(|| {
            CoreError::Unauthenticated(
                "send an admin token as 'Authorization: Bearer <token>'".into(),
            )
        })?;
        let user = self
            .store
            .user_by_api_token(&token_hash(token))
            .await?
            .filter(|u| u.active)
            .ok_or_else(|| CoreError::Unauthenticated("the token is unknown or revoked".into()))?;
        self.principal_for(&user).await
    }

    /// Re-reads a session's principal so a deactivated user or changed role takes effect.
    pub async fn refresh_principal(&self, p: &Principal) -> Result<Option<Principal>, CoreError> {
        match self.store.user(p.org_id, p.user_id).await? {
            Some(u) if u.active => Ok(Some(self.principal_for(&u).await?)),
            _ => Ok(None),
        }
    }
}
