//! Sign-in through an org's OpenID Connect provider (Okta, Entra ID, Keycloak...): the
//! authorization code flow with PKCE (S256), `state` and `nonce`.
//!
//! - **Begin** (`/auth/oidc/login?org=`): a pending sign-in is stored under the SHA-256
//!   of its `state`, with the nonce, the PKCE verifier and the hash of a random value the
//!   browser keeps in a short-lived cookie (the binding), for ten minutes.
//! - **Finish** (`/auth/oidc/callback`): the pending sign-in is taken (deleted: a state
//!   works once), the browser's binding and the `iss` parameter are checked, the code is
//!   exchanged at the token endpoint with the verifier, and the ID token is verified by the
//!   `openidconnect` crate with the algorithms pinned (RS256/384/512, PS256/384/512,
//!   ES256/384: never `none`, never HMAC with the client secret), the issuer, the
//!   audience (no other audiences), the expiry and the nonce. A token signed with a key the
//!   cached key set lacks makes ARX fetch the provider's keys once more (at most once a
//!   minute), so a rotation is followed without a fetch at every sign-in.
//! - **Who**: the email must be present (and verified, when the org requires it); the
//!   account is the org's user with that email, created on first sign-in unless the org
//!   takes only provisioned users; the groups claim replaces the user's `oidc`
//!   memberships, so rights follow the mapping.
//!
//! Every refusal is a clear message for the browser and a `sso.refused` record,
//! coalesced per reason and client like other refusals.

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use openidconnect::core::{
    CoreGenderClaim, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AdditionalClaims, ClaimsVerificationError, ClientId, ClientSecret, IdToken, IssuerUrl, Nonce,
    PkceCodeChallenge, SignatureVerificationError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::super::{AdminOps, Engine};
use super::accounts::{new_secret_token, token_hash};
use super::sso::{self, SsoOutcome, SsoRefusal, refuse};
use crate::access::Principal;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::ids::OrgId;
use crate::model::{OidcSettings, Source};
use crate::store::{SsoLogin, StoredOidc};
use crate::vault::SecretsOf;

/// The provider's keys are fetched again, on a token signed with an unknown key, at most
/// this often.
const JWKS_REFETCH_MS: i64 = 60_000;
/// Discovery is read again after this long.
const DISCOVERY_TTL_MS: i64 = 60 * 60 * 1000;

/// The name of the cookie that binds a sign-in to the browser that started it.
pub const SSO_COOKIE: &str = "arx_sso";

fn allowed_algs() -> Vec<CoreJwsSigningAlgorithm> {
    use CoreJwsSigningAlgorithm as A;
    vec![
        A::RsaSsaPkcs1V15Sha256,
        A::RsaSsaPkcs1V15Sha384,
        A::RsaSsaPkcs1V15Sha512,
        A::RsaSsaPssSha256,
        A::RsaSsaPssSha384,
        A::RsaSsaPssSha512,
        A::EcdsaP256Sha256,
        A::EcdsaP384Sha384,
    ]
}

/// Every claim beyond the standard ones (the groups claim among them).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Extra {
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl AdditionalClaims for Extra {}

type Token =
    IdToken<Extra, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// What an admin sends to set the org's OIDC sign-in. The client secret is write-only:
/// omitted, the stored one is kept.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "issuer": "https://example.okta.com", "client_id": "0oa1b2c3", "client_secret": "…", "groups_claim": "groups"}))]
pub struct OidcInput {
    pub enabled: bool,
    /// The issuer exactly as the provider names it (discovery is read from
    /// `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes asked for; `openid` is always among them. Default `openid email profile`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The ID token claim that lists the user's groups. Default `groups`.
    #[serde(default)]
    pub groups_claim: Option<String>,
    /// Refuse an email the provider has not verified. Default true.
    #[serde(default)]
    pub require_verified_email: Option<bool>,
    /// Create an account on first sign-in; false: only users provisioned already (by
    /// SCIM, or made in ARX) may sign in. Default true.
    #[serde(default)]
    pub create_users: Option<bool>,
}

/// Where to send the browser, and the cookie value that binds the sign-in to it.
#[derive(Debug, Clone)]
pub struct SsoStart {
    pub url: String,
    pub cookie: String,
}

/// The callback's query parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OidcCallback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A provider's discovery document and keys, as last read.
#[derive(Debug, Clone)]
struct Provider {
    metadata: CoreProviderMetadata,
    /// The settings' `updated_ms` it was read for (a change of settings reads it again).
    for_settings: i64,
    read_ms: i64,
    keys_read_ms: i64,
}

/// Providers by org.
#[derive(Debug, Default)]
pub(crate) struct Providers(Mutex<HashMap<OrgId, Arc<Provider>>>);

impl Providers {
    fn get(&self, org: OrgId) -> Option<Arc<Provider>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&org)
            .cloned()
    }

    fn put(&self, org: OrgId, p: Provider) -> Arc<Provider> {
        let p = Arc::new(p);
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(org, p.clone());
        p
    }
}

/// What the pending sign-in keeps.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    nonce: String,
    verifier: String,
    binding: String,
    /// A test sign-in: every check runs, nobody is signed in or created.
    #[serde(default)]
    test: bool,
}

fn scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
}

impl AdminOps<'_> {
    /// The org's OIDC settings (the client secret never), with where the provider must
    /// send browsers back.
    pub async fn oidc_settings(&self) -> Result<Option<OidcSettings>, CoreError> {
        Ok(self
            .engine
            .store
            .oidc_settings(self.who.org_id)
            .await?
            .map(|s| s.settings))
    }

    /// Sets the org's OIDC sign-in; the provider is read again at the next sign-in.
    pub async fn set_oidc_settings(&self, input: OidcInput) -> Result<OidcSettings, CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let bad = |field: &'static str, message: String| CoreError::InvalidField { field, message };
        let issuer = input.issuer.trim().to_string();
        let url = url::Url::parse(&issuer).map_err(|_| {
            bad(
                "issuer",
                "issuer is the provider's URL, e.g. https://example.okta.com".into(),
            )
        })?;
        let http_ok = e.local_targets_allowed() && url.scheme() == "http";
        if (url.scheme() != "https" && !http_ok)
            || url.query().is_some()
            || url.fragment().is_some()
            || url.host_str().is_none()
        {
            return Err(bad(
                "issuer",
                "issuer is an https URL without query or fragment".into(),
            ));
        }
        let client_id = input.client_id.trim().to_string();
        if client_id.is_empty() || client_id.len() > 256 || client_id.chars().any(char::is_control)
        {
            return Err(bad("client_id", "client_id is 1 to 256 characters".into()));
        }
        let mut scopes = input
            .scopes
            .unwrap_or_else(|| vec!["email".into(), "profile".into()]);
        scopes.retain(|s| s != "openid");
        scopes.insert(0, "openid".into());
        scopes.dedup();
        if scopes.len() > 20 || !scopes.iter().all(|s| scope_token(s)) {
            return Err(bad(
                "scopes",
                "scopes are at most 20 words of printable characters".into(),
            ));
        }
        let groups_claim = input
            .groups_claim
            .unwrap_or_else(|| "groups".into())
            .trim()
            .to_string();
        if groups_claim.is_empty()
            || groups_claim.len() > 100
            || !groups_claim.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(bad(
                "groups_claim",
                "groups_claim is the claim's name, e.g. groups".into(),
            ));
        }
        let stored = e.store.oidc_settings(org).await?;
        let secret = input
            .client_secret
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if secret.as_ref().is_some_and(|s| s.len() > 4096) {
            return Err(bad(
                "client_secret",
                "client_secret is at most 4096 characters".into(),
            ));
        }
        let sealed = match &secret {
            Some(s) => {
                let dek = e.store.wrapped_data_key(org).await?;
                let map =
                    std::collections::BTreeMap::from([("client_secret".to_string(), s.clone())]);
                Some(e.vault.seal(org, &dek, SecretsOf::Sso, &map)?)
            }
            None => stored.as_ref().and_then(|s| s.sealed_secret.clone()),
        };
        if input.enabled && sealed.is_none() {
            return Err(bad(
                "client_secret",
                "a client_secret is needed to turn sign-in on".into(),
            ));
        }
        let settings = OidcSettings {
            enabled: input.enabled,
            issuer,
            client_id,
            scopes,
            groups_claim,
            require_verified_email: input.require_verified_email.unwrap_or(true),
            create_users: input.create_users.unwrap_or(true),
            client_secret_set: sealed.is_some(),
            updated_ms: e.now_ms(),
        };
        e.store
            .put_oidc_settings(
                org,
                &StoredOidc {
                    settings: settings.clone(),
                    sealed_secret: sealed,
                },
            )
            .await?;
        e.record(
            org,
            self.actor(),
            ev::OidcSettingsChanged {
                settings: settings.clone(),
                secret_changed: secret.is_some(),
            },
        )
        .await?;
        Ok(settings)
    }
}

/// The HTTP client for identity providers: no redirects, short timeouts, and the
/// address rules of connector targets (`--allow-local-targets` also lets in plain http and
/// loopback or private addresses).
pub(crate) fn idp_client(allow_local: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .dns_resolver(crate::target::resolver(allow_local))
        .build()
        .unwrap_or_default()
}

impl Engine {
    /// The HTTP client for identity providers: no redirects, short timeouts, and the same
    /// address rules as connector targets.
    fn idp_http(&self) -> &reqwest::Client {
        &self.idp_http
    }

    /// The org's provider as discovered (cached; read again after an hour or a change of
    /// settings).
    async fn provider(&self, org: OrgId, s: &OidcSettings) -> Result<Arc<Provider>, SsoRefusal> {
        let now = self.now_ms();
        if let Some(p) = self.providers.get(org)
            && p.for_settings == s.updated_ms
            && now - p.read_ms < DISCOVERY_TTL_MS
        {
            return Ok(p);
        }
        let issuer = IssuerUrl::new(s.issuer.clone()).map_err(|e| {
            refuse(
                "idp_unreachable",
                format!("the issuer URL is not valid: {e}"),
            )
        })?;
        let metadata = CoreProviderMetadata::discover_async(issuer, self.idp_http())
            .await
            .map_err(|e| {
                refuse(
                    "idp_unreachable",
                    format!("the identity provider's discovery failed: {e}"),
                )
            })?;
        Ok(self.providers.put(
            org,
            Provider {
                metadata,
                for_settings: s.updated_ms,
                read_ms: now,
                keys_read_ms: now,
            },
        ))
    }

    /// The provider's keys read again (after a token signed with a key they lacked), at
    /// most once a minute; `None` when read too recently.
    async fn provider_keys_again(
        &self,
        org: OrgId,
        p: &Provider,
    ) -> Result<Option<Arc<Provider>>, SsoRefusal> {
        let now = self.now_ms();
        if now - p.keys_read_ms < JWKS_REFETCH_MS {
            return Ok(None);
        }
        let keys = CoreJsonWebKeySet::fetch_async(p.metadata.jwks_uri(), self.idp_http())
            .await
            .map_err(|e| {
                refuse(
                    "idp_unreachable",
                    format!("the identity provider's keys could not be read: {e}"),
                )
            })?;
        let mut fresh = p.clone();
        fresh.metadata = fresh.metadata.set_jwks(keys);
        fresh.keys_read_ms = now;
        Ok(Some(self.providers.put(org, fresh)))
    }

    /// Starts a sign-in for the org `slug`: the URL to send the browser to, and the cookie
    /// to set.
    /// `tester`: a test sign-in, which only the org's admins start (it shows what the
    /// mapping gives).
    pub async fn oidc_begin(
        &self,
        slug: &str,
        redirect_uri: &str,
        tester: Option<Option<&Principal>>,
    ) -> Result<SsoStart, SsoRefusal> {
        let (org, test) = self.sso_start_org(slug, tester).await?;
        let settings = self
            .store
            .oidc_settings(org.id)
            .await?
            .map(|s| s.settings)
            .filter(|s| s.enabled)
            .ok_or_else(|| refuse("sso_off", "single sign-on is not set up for this organisation; sign in with your password"))?;
        let p = match self.provider(org.id, &settings).await {
            Ok(p) => p,
            Err(r) => {
                self.sso_refused(org.id, "oidc", &r, None, None).await;
                return Err(r);
            }
        };
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = new_secret_token("");
        let nonce = new_secret_token("");
        let binding = new_secret_token("");
        let pending = Pending {
            nonce: nonce.clone(),
            verifier: verifier.secret().clone(),
            binding: token_hash(&binding),
            test,
        };
        self.sso_pending(org.id, "oidc", &state, &pending).await?;
        let mut url =
            url::Url::parse(p.metadata.authorization_endpoint().as_str()).map_err(|e| {
                refuse(
                    "idp_unreachable",
                    format!("the provider's authorization endpoint is not a URL: {e}"),
                )
            })?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &settings.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &settings.scopes.join(" "))
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        Ok(SsoStart {
            url: url.to_string(),
            cookie: format!("{}.{binding}", org.slug),
        })
    }

    /// Finishes a sign-in: the signed-in principal (or a test's report), or why not
    /// (recorded).
    pub async fn oidc_finish(
        &self,
        cb: &OidcCallback,
        cookie: Option<&str>,
        redirect_uri: &str,
        client: Option<IpAddr>,
    ) -> Result<SsoOutcome, SsoRefusal> {
        let (cookie_org, binding) = match cookie.and_then(|c| c.split_once('.')) {
            Some((slug, b)) => (self.store.org_by_slug(slug).await?.map(|o| o.id), Some(b)),
            None => (None, None),
        };
        let taken = match &cb.state {
            Some(state) => self.store.sso_login_take(&token_hash(state)).await?,
            None => None,
        };
        let Some(login) = taken.filter(|l| l.protocol == "oidc") else {
            let r = if cb.error.is_some() {
                idp_error(cb)
            } else {
                refuse(
                    "state_mismatch",
                    "this sign-in is unknown, was used already or has expired; start again",
                )
            };
            if let Some(org) = cookie_org {
                self.sso_refused(org, "oidc", &r, None, client).await;
            } else {
                tracing::warn!(
                    reason = r.reason,
                    "an OIDC callback no org can be named for was refused"
                );
            }
            return Err(r);
        };
        let org = login.org_id;
        match self.finish(&login, cb, binding, redirect_uri, client).await {
            Ok(p) => Ok(p),
            Err((r, email)) => {
                self.sso_refused(org, "oidc", &r, email, client).await;
                Err(r)
            }
        }
    }

    async fn finish(
        &self,
        login: &SsoLogin,
        cb: &OidcCallback,
        binding: Option<&str>,
        redirect_uri: &str,
        client: Option<IpAddr>,
    ) -> Result<SsoOutcome, (SsoRefusal, Option<String>)> {
        let plain = |r: SsoRefusal| (r, None);
        let org = login.org_id;
        let now = self.now_ms();
        if login.expires_ms <= now {
            return Err(plain(refuse(
                "expired",
                "this sign-in took too long; start again",
            )));
        }
        let pending: Pending = serde_json::from_value(login.data.clone())
            .map_err(|e| plain(CoreError::internal("pending sign-in", e).into()))?;
        let same_browser = binding.is_some_and(|b| {
            bool::from(token_hash(b).as_bytes().ct_eq(pending.binding.as_bytes()))
        });
        if !same_browser {
            return Err(plain(refuse(
                "state_mismatch",
                "this sign-in was started in another browser; start again here",
            )));
        }
        if cb.error.is_some() {
            return Err(plain(idp_error(cb)));
        }
        let stored = self
            .store
            .oidc_settings(org)
            .await
            .map_err(|e| plain(e.into()))?
            .filter(|s| s.settings.enabled)
            .ok_or_else(|| {
                plain(refuse(
                    "sso_off",
                    "single sign-on was turned off for this organisation",
                ))
            })?;
        let s = &stored.settings;
        if cb.iss.as_deref().is_some_and(|iss| iss != s.issuer) {
            return Err(plain(refuse(
                "wrong_issuer",
                "the answer came from another identity provider than this organisation's",
            )));
        }
        let code = cb
            .code
            .as_deref()
            .ok_or_else(|| plain(refuse("no_code", "the identity provider sent no code")))?;
        let secret = self
            .client_secret(org, &stored)
            .await
            .map_err(|e| plain(e.into()))?;
        let p = self.provider(org, s).await.map_err(plain)?;
        let raw = self
            .exchange(&p, s, &secret, code, &pending.verifier, redirect_uri)
            .await
            .map_err(plain)?;
        let token = Token::from_str(&raw).map_err(|e| {
            plain(refuse(
                "invalid_token",
                format!("the ID token is not a signed JWT: {e}"),
            ))
        })?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match self.verify(&token, &p, s, &secret, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => match self.provider_keys_again(org, &p).await.map_err(plain)? {
                Some(fresh) => self.verify(&token, &fresh, s, &secret, &nonce),
                None => Err(ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                )),
            },
            other => other,
        }
        .map_err(|e| plain(verification_refusal(&e)))?;
        let email = sso::provider_email(
            claims.email().map(|e| e.as_str()),
            "the identity provider sent no email for this account (ask for the email scope)",
        )
        .map_err(plain)?;
        if s.require_verified_email && claims.email_verified() != Some(true) {
            return Err((
                refuse(
                    "email_unverified",
                    format!(
                        "the identity provider has not verified {email}; this organisation requires a verified email"
                    ),
                ),
                Some(email),
            ));
        }
        let groups = groups_of(&claims.additional_claims().rest, &s.groups_claim)
            .map_err(|r| (r, Some(email.clone())))?;
        let name = sso::display_name(
            claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
            &email,
        );
        self.complete_sign_in(
            sso::Vouched {
                org,
                source: Source::Oidc,
                email,
                name,
                groups,
                create_users: s.create_users,
                test: pending.test,
            },
            client,
        )
        .await
    }

    async fn client_secret(&self, org: OrgId, stored: &StoredOidc) -> Result<String, CoreError> {
        let sealed = stored
            .sealed_secret
            .as_deref()
            .ok_or_else(|| CoreError::Internal("OIDC is on without a client secret".into()))?;
        let dek = self.store.wrapped_data_key(org).await?;
        let creds = self.vault.open(org, Some(&dek), SecretsOf::Sso, sealed)?;
        Ok(creds.get("client_secret").unwrap_or_default().to_string())
    }

    /// The code exchanged at the token endpoint (client_secret_basic, with the PKCE
    /// verifier); the raw ID token.
    async fn exchange(
        &self,
        p: &Provider,
        s: &OidcSettings,
        secret: &str,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, SsoRefusal> {
        let endpoint = p.metadata.token_endpoint().ok_or_else(|| {
            refuse(
                "idp_unreachable",
                "the identity provider has no token endpoint",
            )
        })?;
        let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let r = self
            .idp_http()
            .post(endpoint.as_str())
            .basic_auth(enc(&s.client_id), Some(enc(secret)))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .map_err(|e| {
                refuse(
                    "idp_unreachable",
                    format!("the identity provider's token endpoint could not be reached: {e}"),
                )
            })?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let error = body["error"].as_str().unwrap_or("error");
            let why = body["error_description"].as_str().unwrap_or("");
            return Err(refuse(
                "code_refused",
                format!(
                    "the identity provider refused the code ({error}{}{why}): a code works once, for a short time, with this sign-in's verifier",
                    if why.is_empty() { "" } else { ": " }
                ),
            ));
        }
        body["id_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                refuse(
                    "invalid_token",
                    "the identity provider sent no ID token (is the openid scope on?)",
                )
            })
    }

    fn verify<'t>(
        &self,
        token: &'t Token,
        p: &Provider,
        s: &OidcSettings,
        secret: &str,
        nonce: &Nonce,
    ) -> Result<&'t openidconnect::IdTokenClaims<Extra, CoreGenderClaim>, ClaimsVerificationError>
    {
        let clock = self.clock.clone();
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(s.client_id.clone()),
            ClientSecret::new(secret.to_string()),
            p.metadata.issuer().clone(),
            p.metadata.jwks().clone(),
        )
        .set_allowed_algs(allowed_algs())
        .set_time_fn(move || {
            chrono::DateTime::from_timestamp_millis(clock.now_ms()).unwrap_or_default()
        });
        token.claims(&verifier, nonce)
    }
}

fn idp_error(cb: &OidcCallback) -> SsoRefusal {
    let error = cb.error.as_deref().unwrap_or("error");
    let why = cb.error_description.as_deref().unwrap_or("");
    let why: String = why.chars().filter(|c| !c.is_control()).take(300).collect();
    refuse(
        "idp_error",
        format!(
            "the identity provider answered {error}{}{why}",
            if why.is_empty() { "" } else { ": " }
        ),
    )
}

/// What a failed check of the ID token is called, for the person and the record.
fn verification_refusal(e: &ClaimsVerificationError) -> SsoRefusal {
    use ClaimsVerificationError as C;
    use SignatureVerificationError as S;
    match e {
        C::InvalidIssuer(_) => refuse(
            "wrong_issuer",
            "the ID token was issued by another identity provider",
        ),
        C::InvalidAudience(_) => refuse(
            "wrong_audience",
            "the ID token was issued for another application (audience)",
        ),
        C::Expired(_) => refuse(
            "token_expired",
            "the ID token has expired (is this server's clock right?)",
        ),
        C::InvalidNonce(_) => refuse(
            "nonce_mismatch",
            "the ID token does not belong to this sign-in (nonce)",
        ),
        C::SignatureVerification(S::NoSignature) => refuse(
            "unsigned_token",
            "the ID token is not signed (alg none is refused)",
        ),
        C::SignatureVerification(S::DisallowedAlg(a) | S::UnsupportedAlg(a)) => refuse(
            "disallowed_alg",
            format!("the ID token is signed with {a}, which ARX does not accept"),
        ),
        C::SignatureVerification(S::NoMatchingKey) => refuse(
            "unknown_key",
            "the ID token is signed with a key the identity provider does not publish",
        ),
        C::SignatureVerification(_) => {
            refuse("bad_signature", "the ID token's signature does not verify")
        }
        other => refuse(
            "invalid_token",
            format!("the ID token is not valid: {other}"),
        ),
    }
}

/// The groups claim: a list of strings (or one string). Absent: no groups.
fn groups_of(claims: &Map<String, Value>, claim: &str) -> Result<Vec<String>, SsoRefusal> {
    match claims.get(claim) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::String(g)) => Ok(vec![g.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|g| {
                g.as_str().map(str::to_string).ok_or_else(|| {
                    refuse(
                        "bad_groups",
                        format!("the {claim} claim lists something that is not a group name"),
                    )
                })
            })
            .collect(),
        Some(_) => Err(refuse(
            "bad_groups",
            format!("the {claim} claim is not a list of group names"),
        )),
    }
}
