//! Sign-in through an org's SAML 2.0 identity provider (Okta, Entra ID, Keycloak, ADFS...),
//! SP-initiated over HTTP-Redirect, answered over HTTP-POST to the ACS.
//!
//! - **ARX's side** of each org is named from the public URL: the entity id is the SP
//!   metadata's address, `{base}/saml/metadata?org=<slug>` (served before an IdP is set,
//!   so it can be uploaded to the IdP first), and the ACS is `{base}/saml/acs`.
//! - **The IdP** is set from its metadata (fetched from a URL or uploaded): its entity id,
//!   its HTTP-Redirect sign-in URL and its signing certificates. Metadata without a signing
//!   certificate is refused (`samael` would then check no signature at all).
//! - **Begin** (`/saml/login?org=`): an AuthnRequest with a 128-bit id, stored as a
//!   pending sign-in under the id's SHA-256 for ten minutes.
//! - **ACS** (`POST /saml/acs`): the response's `InResponseTo` takes (deletes) the pending
//!   sign-in, so a request is answered once. The response is checked by `samael` with
//!   xmlsec: every signature must verify against the org's IdP certificates with SHA-256
//!   or stronger (SHA-1 signatures and digests are refused), and only what the signatures
//!   cover is read (the defence against signature wrapping). Then: the issuer, the
//!   destination and the bearer confirmation's recipient (the ACS), `InResponseTo`,
//!   `NotBefore`/`NotOnOrAfter` with 60 s of skew, the audience (required, and ARX's
//!   entity id), and that the assertion id was never consumed before. A response the IdP
//!   sends unasked (IdP-initiated, no `InResponseTo`) is taken only when the org allows it.
//! - **Who**: the email (the NameID, or a named attribute), the name and the groups from
//!   the signed assertion's attributes; then as for OIDC (`sso::complete_sign_in`).
//!
//! The ACS is a cross-site POST: a `SameSite=Lax` cookie does not come with it, so the
//! binding to the request is `InResponseTo`, not a cookie. Every refusal is a clear
//! message and, when the response names an org, a `sso.refused` record.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::LazyLock;

use base64::Engine as _;
use chrono::Duration;
use regex::Regex;
use samael::crypto::{AllowedSignatureAlgorithm, ReduceMode};
use samael::metadata::{
    EntityDescriptor, HTTP_POST_BINDING, HTTP_REDIRECT_BINDING, IndexedEndpoint, SpSsoDescriptor,
};
use samael::schema::Assertion;
use samael::service_provider::{Error as SpError, ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::{AdminOps, Engine};
use super::accounts::token_hash;
use super::sso::{self, Refused, SsoOutcome, SsoRefusal, refuse};
use crate::access::Principal;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::ids::OrgId;
use crate::model::{SamlSettings, Source};
use crate::store::StoredSaml;

/// The largest SAMLResponse taken (base64); real ones are a few KiB.
const MAX_RESPONSE_B64: usize = 512 * 1024;
/// The largest IdP metadata document taken.
const MAX_METADATA: usize = 1024 * 1024;
/// Clock difference tolerated with the IdP.
const CLOCK_SKEW_S: i64 = 60;
/// How long after its IssueInstant a response is taken.
const ISSUE_DELAY_S: i64 = 90;
const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

fn allowed_algs() -> Vec<AllowedSignatureAlgorithm> {
    use AllowedSignatureAlgorithm as A;
    vec![
        A::RsaSha256,
        A::RsaSha384,
        A::RsaSha512,
        A::EcdsaSha256,
        A::EcdsaSha384,
        A::EcdsaSha512,
    ]
}

/// ARX's names as a SAML service provider for one org, to register with the IdP.
#[derive(Debug, Clone, PartialEq)]
pub struct SamlSp {
    /// The SP's entity id, which is also where its metadata is served.
    pub entity_id: String,
    /// The assertion consumer service (HTTP-POST).
    pub acs_url: String,
    /// Where a browser starts signing in (`…&test=1` for a test sign-in).
    pub login_url: String,
}

impl SamlSp {
    pub fn new(base: &str, slug: &str) -> Self {
        let slug = url::form_urlencoded::byte_serialize(slug.as_bytes()).collect::<String>();
        let base = base.trim_end_matches('/');
        SamlSp {
            entity_id: format!("{base}/saml/metadata?org={slug}"),
            acs_url: format!("{base}/saml/acs"),
            login_url: format!("{base}/saml/login?org={slug}"),
        }
    }

    /// The SP metadata document: the entity id, the ACS (HTTP-POST), and that assertions
    /// must be signed.
    pub fn metadata(&self) -> Result<String, CoreError> {
        let ed = EntityDescriptor {
            entity_id: Some(self.entity_id.clone()),
            sp_sso_descriptors: Some(vec![SpSsoDescriptor {
                protocol_support_enumeration: Some(
                    "urn:oasis:names:tc:SAML:2.0:protocol".to_string(),
                ),
                authn_requests_signed: Some(false),
                want_assertions_signed: Some(true),
                name_id_formats: Some(vec![NAMEID_EMAIL.to_string()]),
                assertion_consumer_services: vec![IndexedEndpoint {
                    binding: HTTP_POST_BINDING.to_string(),
                    location: self.acs_url.clone(),
                    response_location: None,
                    index: 0,
                    is_default: Some(true),
                }],
                ..SpSsoDescriptor::default()
            }]),
            ..EntityDescriptor::default()
        };
        ed.to_string()
            .map_err(|e| CoreError::Internal(format!("SP metadata: {e}")))
    }
}

/// What an admin sends to set the org's SAML sign-in. The IdP's metadata comes from
/// `metadata_url` (fetched now) or `metadata_xml`; with neither, the stored one is kept.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
/// The example uploads the document; `"metadata_url": "https://example.okta.com/app/exk1/sso/saml/metadata"`
/// instead has ARX fetch it.
#[schema(example = json!({"enabled": true, "groups_attribute": "groups", "metadata_xml": "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"https://idp.example.com/saml\"><md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"><md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIBiTCCAS+gAwIBAgIUFfHeorAqQVTs4Xkr2Mjv0Eru3/gwCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMB4XDTI2MTEyODE1NDMxM1oXDTM2MTEyNTE1NDMxM1owGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhp13QnL9t/+AeqUNIYodnyxFBaYE0FsvHIj4DI2wjFM9r29aKL7W6z19dYcxf5JKpCCfPh54WZCpAC3A1XiJIqNTMFEwHQYDVR0OBBYEFOCAcCwpNZMEluCL8VboPOlGewrKMB8GA1UdIwQYMBaAFOCAcCwpNZMEluCL8VboPOlGewrKMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgMrB7mxvko5+L9AxdbsSa+WKN7arAxq6JRM+mMO3qdVwCIQDcNiWhLqCCGKIVbEB/sB0SrZyHYq6/ut30EpwNyHw3Mw==</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"https://idp.example.com/saml/sso\"/></md:IDPSSODescriptor></md:EntityDescriptor>"}))]
pub struct SamlInput {
    pub enabled: bool,
    /// The IdP's metadata URL (https).
    #[serde(default)]
    pub metadata_url: Option<String>,
    /// The IdP's metadata document, uploaded.
    #[serde(default)]
    pub metadata_xml: Option<String>,
    /// Take sign-ins the IdP starts (from its app dashboard). Default false.
    #[serde(default)]
    pub allow_idp_initiated: Option<bool>,
    /// Create an account on first sign-in; false: only provisioned users. Default true.
    #[serde(default)]
    pub create_users: Option<bool>,
    /// The attribute with the email; empty or absent: the NameID.
    #[serde(default)]
    pub email_attribute: Option<String>,
    /// Default `displayName`.
    #[serde(default)]
    pub name_attribute: Option<String>,
    /// Default `groups`.
    #[serde(default)]
    pub groups_attribute: Option<String>,
}

/// The ACS form, as the IdP's page posts it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SamlAcs {
    #[serde(rename = "SAMLResponse", default)]
    pub saml_response: Option<String>,
    #[serde(rename = "RelayState", default)]
    pub relay_state: Option<String>,
}

/// What the pending sign-in keeps.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    /// A test sign-in: every check runs, nobody is signed in or created.
    #[serde(default)]
    test: bool,
}

/// The IdP as its metadata describes it.
#[derive(Debug)]
struct Idp {
    descriptor: EntityDescriptor,
    entity_id: String,
    sso_url: String,
    fingerprints: Vec<String>,
}

/// Reads an IdP's metadata: one EntityDescriptor with an IDPSSODescriptor, an
/// HTTP-Redirect sign-in endpoint and at least one signing certificate.
fn read_idp(xml: &str) -> Result<Idp, String> {
    if xml.len() > MAX_METADATA {
        return Err("the metadata is larger than 1 MiB".into());
    }
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err("the metadata has a DOCTYPE; SAML metadata never needs one".into());
    }
    let descriptor = EntityDescriptor::from_str(xml).map_err(|e| {
        format!("the metadata is not one SAML EntityDescriptor ({e}); for an aggregate, give the IdP's own metadata")
    })?;
    let entity_id = descriptor
        .entity_id
        .clone()
        .filter(|e| !e.trim().is_empty())
        .ok_or("the metadata names no entityID")?;
    if descriptor
        .idp_sso_descriptors
        .as_ref()
        .is_none_or(Vec::is_empty)
    {
        return Err("the metadata describes no identity provider (no IDPSSODescriptor)".into());
    }
    let sp = ServiceProviderBuilder::default()
        .idp_metadata(descriptor.clone())
        .build()
        .map_err(|e| format!("the metadata could not be used: {e}"))?;
    let sso_url = sp
        .sso_binding_location(HTTP_REDIRECT_BINDING)
        .ok_or("the identity provider has no sign-in endpoint with the HTTP-Redirect binding")?;
    let sso = url::Url::parse(&sso_url)
        .map_err(|_| "the identity provider's sign-in endpoint is not a URL".to_string())?;
    if !matches!(sso.scheme(), "https" | "http") {
        return Err("the identity provider's sign-in endpoint is not an http(s) URL".into());
    }
    let certs = sp
        .idp_signing_certs()
        .map_err(|e| format!("a signing certificate in the metadata is not valid: {e}"))?
        .filter(|c| !c.is_empty())
        .ok_or("the metadata has no signing certificate: ARX takes only signed assertions, and needs the IdP's certificate to check them")?;
    let mut fingerprints = vec![];
    for c in &certs {
        looks_like_der(c.der_data())?;
        let d = Sha256::digest(c.der_data());
        fingerprints.push(
            d.iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":"),
        );
    }
    Ok(Idp {
        descriptor,
        entity_id,
        sso_url,
        fingerprints,
    })
}

/// A certificate must at least look like DER (a SEQUENCE); xmlsec checks the rest when a
/// response is verified against it.
fn looks_like_der(der: &[u8]) -> Result<(), String> {
    if der.len() < 64 || der[0] != 0x30 {
        return Err("a signing certificate in the metadata is not an X.509 certificate".into());
    }
    Ok(())
}

fn service_provider(
    sp: &SamlSp,
    idp: EntityDescriptor,
    idp_initiated: bool,
) -> Result<ServiceProvider, CoreError> {
    ServiceProviderBuilder::default()
        .entity_id(sp.entity_id.clone())
        .acs_url(sp.acs_url.clone())
        .idp_metadata(idp)
        .allowed_signature_algorithms(allowed_algs())
        .max_clock_skew(Duration::seconds(CLOCK_SKEW_S))
        .max_issue_delay(Duration::seconds(ISSUE_DELAY_S))
        .allow_idp_initiated(idp_initiated)
        .build()
        .map_err(|e| CoreError::Internal(format!("SAML service provider: {e}")))
}

fn attribute_name(
    v: Option<String>,
    default: &str,
    field: &'static str,
) -> Result<String, CoreError> {
    let v = v
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| default.into());
    if v.len() > 200 || v.chars().any(char::is_control) {
        return Err(CoreError::InvalidField {
            field,
            message: format!("{field} is an attribute name of at most 200 characters"),
        });
    }
    Ok(v)
}

impl AdminOps<'_> {
    /// The org's SAML settings.
    pub async fn saml_settings(&self) -> Result<Option<SamlSettings>, CoreError> {
        Ok(self
            .engine
            .store
            .saml_settings(self.who.org_id)
            .await?
            .map(|s| s.settings))
    }

    /// Sets the org's SAML sign-in; metadata from a URL is fetched now, so a wrong URL is
    /// an error here, not at the first sign-in.
    pub async fn set_saml_settings(&self, input: SamlInput) -> Result<SamlSettings, CoreError> {
        let e = self.engine;
        let org = self.who.org_id;
        let bad = |field: &'static str, message: String| CoreError::InvalidField { field, message };
        let stored = e.store.saml_settings(org).await?;
        let url = input
            .metadata_url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        let xml = input.metadata_xml.filter(|x| !x.trim().is_empty());
        let (xml, metadata_url) = match (url, xml) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "metadata_url",
                    "give the IdP's metadata as a URL or as XML, not both".into(),
                ));
            }
            (Some(u), None) => (e.fetch_idp_metadata(&u).await?, Some(u)),
            (None, Some(x)) => (x, None),
            (None, None) => match &stored {
                Some(s) => (s.idp_metadata.clone(), s.settings.metadata_url.clone()),
                None => {
                    return Err(bad(
                        "metadata_url",
                        "the IdP's metadata is needed: its URL, or the XML document".into(),
                    ));
                }
            },
        };
        let idp = read_idp(&xml).map_err(|m| bad("metadata_xml", m))?;
        let settings = SamlSettings {
            enabled: input.enabled,
            metadata_url,
            idp_entity_id: idp.entity_id,
            idp_sso_url: idp.sso_url,
            signing_certs: idp.fingerprints,
            allow_idp_initiated: input.allow_idp_initiated.unwrap_or(false),
            create_users: input.create_users.unwrap_or(true),
            email_attribute: attribute_name(input.email_attribute, "", "email_attribute")?,
            name_attribute: attribute_name(input.name_attribute, "displayName", "name_attribute")?,
            groups_attribute: attribute_name(input.groups_attribute, "groups", "groups_attribute")?,
            updated_ms: e.now_ms(),
        };
        e.store
            .put_saml_settings(
                org,
                &StoredSaml {
                    settings: settings.clone(),
                    idp_metadata: xml,
                },
            )
            .await?;
        e.record(
            org,
            self.actor(),
            ev::SamlSettingsChanged {
                settings: settings.clone(),
            },
        )
        .await?;
        Ok(settings)
    }
}

impl Engine {
    /// The IdP's metadata from its URL: https (http and local addresses only with
    /// `--allow-local-targets`), no redirects, at most 1 MiB.
    async fn fetch_idp_metadata(&self, u: &str) -> Result<String, CoreError> {
        let bad = |message: String| CoreError::InvalidField {
            field: "metadata_url",
            message,
        };
        let url = url::Url::parse(u).map_err(|_| bad("metadata_url is not a URL".into()))?;
        let http_ok = self.local_targets_allowed() && url.scheme() == "http";
        if url.scheme() != "https" && !http_ok {
            return Err(bad("metadata_url is an https URL".into()));
        }
        let r = self
            .idp_http
            .get(url)
            .send()
            .await
            .map_err(|e| bad(format!("the metadata could not be fetched: {e}")))?;
        if !r.status().is_success() {
            return Err(bad(format!(
                "the metadata URL answered {} (a redirect is not followed)",
                r.status()
            )));
        }
        let body = r
            .bytes()
            .await
            .map_err(|e| bad(format!("the metadata could not be read: {e}")))?;
        if body.len() > MAX_METADATA {
            return Err(bad("the metadata is larger than 1 MiB".into()));
        }
        String::from_utf8(body.to_vec()).map_err(|_| bad("the metadata is not UTF-8 text".into()))
    }

    /// The SP metadata for the org `slug` (whether or not an IdP is set).
    pub async fn saml_sp_metadata(&self, slug: &str, base: &str) -> Result<String, CoreError> {
        self.store
            .org_by_slug(slug)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("there is no organisation '{slug}'")))?;
        SamlSp::new(base, slug).metadata()
    }

    /// Starts a sign-in for the org `slug`: the IdP URL to send the browser to.
    /// `tester`: a test sign-in, which only the org's admins start.
    pub async fn saml_begin(
        &self,
        slug: &str,
        base: &str,
        tester: Option<Option<&Principal>>,
    ) -> Result<String, SsoRefusal> {
        let (org, test) = self.sso_start_org(slug, tester).await?;
        let stored = self
            .store
            .saml_settings(org.id)
            .await?
            .filter(|s| s.settings.enabled)
            .ok_or_else(|| {
                refuse(
                    "sso_off",
                    "SAML sign-in is not set up for this organisation; sign in with your password",
                )
            })?;
        let idp = read_idp(&stored.idp_metadata).map_err(|m| {
            CoreError::Internal(format!("stored SAML metadata no longer reads: {m}"))
        })?;
        let sp = SamlSp::new(base, &org.slug);
        let provider = service_provider(&sp, idp.descriptor, false)?;
        let mut req = provider
            .make_authentication_request(&stored.settings.idp_sso_url)
            .map_err(|e| CoreError::Internal(format!("AuthnRequest: {e}")))?;
        // samael's ids carry 32 random bits; the request id is the sign-in's only binding, so
        // it gets 256 (an NCName: `_` then base64url).
        req.id = format!("_{}", super::accounts::new_secret_token(""));
        self.sso_pending(org.id, "saml", &req.id, &Pending { test })
            .await?;
        let url = req
            .redirect("")
            .map_err(|e| CoreError::Internal(format!("AuthnRequest redirect: {e}")))?
            .ok_or_else(|| CoreError::Internal("the IdP sign-in URL is missing".into()))?;
        Ok(url.to_string())
    }

    /// The ACS: checks the IdP's response and signs in (or reports a test), or says why
    /// not (recorded when the response names an org).
    pub async fn saml_acs(
        &self,
        form: &SamlAcs,
        base: &str,
        client: Option<IpAddr>,
    ) -> Result<SsoOutcome, SsoRefusal> {
        let xml = decode(form.saml_response.as_deref())?;
        let (org, pending) = match self.route(&xml, base).await {
            Ok(found) => found,
            Err((r, org)) => {
                match org {
                    Some(org) => self.sso_refused(org, "saml", &r, None, client).await,
                    None => tracing::warn!(
                        reason = r.reason,
                        "a SAML response no org can be named for was refused"
                    ),
                }
                return Err(r);
            }
        };
        match self.consume(org, &xml, base, pending, client).await {
            Ok(o) => Ok(o),
            Err((r, email)) => {
                self.sso_refused(org, "saml", &r, email, client).await;
                Err(r)
            }
        }
    }

    /// Which org a response is for, and the pending request it answers (`None`:
    /// IdP-initiated). Read from the unverified document only to choose the org whose
    /// IdP must have signed it; everything is checked after.
    async fn route(
        &self,
        xml: &str,
        base: &str,
    ) -> Result<(OrgId, Option<(String, Pending)>), (SsoRefusal, Option<OrgId>)> {
        let audience_org = match audience_slug(xml, base) {
            Some(slug) => self
                .store
                .org_by_slug(&slug)
                .await
                .map_err(|e| (e.into(), None))?
                .map(|o| o.id),
            None => None,
        };
        let Some(irt) = in_response_to(xml) else {
            let org = audience_org.ok_or_else(|| {
                (
                    refuse(
                        "unknown_request",
                        "this SAML response answers no sign-in of ARX's and names no organisation of it",
                    ),
                    None,
                )
            })?;
            let allowed = self
                .store
                .saml_settings(org)
                .await
                .map_err(|e| (e.into(), Some(org)))?
                .is_some_and(|s| s.settings.allow_idp_initiated);
            if !allowed {
                return Err((
                    refuse(
                        "idp_initiated_off",
                        "this organisation takes only sign-ins started at ARX: use the sign-in page's SSO button",
                    ),
                    Some(org),
                ));
            }
            return Ok((org, None));
        };
        let taken = self
            .store
            .sso_login_take(&token_hash(&irt))
            .await
            .map_err(|e| (e.into(), audience_org))?
            .filter(|l| l.protocol == "saml");
        let Some(login) = taken else {
            return Err((
                refuse(
                    "unknown_request",
                    "this sign-in is unknown, was used already or has expired; start again",
                ),
                audience_org,
            ));
        };
        let org = login.org_id;
        if login.expires_ms <= self.now_ms() {
            return Err((
                refuse("expired", "this sign-in took too long; start again"),
                Some(org),
            ));
        }
        let pending: Pending = serde_json::from_value(login.data)
            .map_err(|e| (CoreError::internal("pending sign-in", e).into(), Some(org)))?;
        Ok((org, Some((irt, pending))))
    }

    async fn consume(
        &self,
        org: OrgId,
        xml: &str,
        base: &str,
        pending: Option<(String, Pending)>,
        client: Option<IpAddr>,
    ) -> Result<SsoOutcome, Refused> {
        let plain = |r: SsoRefusal| (r, None);
        let stored = self
            .store
            .saml_settings(org)
            .await
            .map_err(|e| plain(e.into()))?
            .filter(|s| s.settings.enabled)
            .ok_or_else(|| {
                plain(refuse(
                    "sso_off",
                    "SAML sign-in was turned off for this organisation",
                ))
            })?;
        let s = &stored.settings;
        let slug = self
            .store
            .org(org)
            .await
            .map_err(|e| plain(e.into()))?
            .map(|o| o.slug)
            .unwrap_or_default();
        let idp = read_idp(&stored.idp_metadata).map_err(|m| {
            plain(CoreError::Internal(format!("stored SAML metadata no longer reads: {m}")).into())
        })?;
        let sp = SamlSp::new(base, &slug);
        let provider = service_provider(&sp, idp.descriptor, pending.is_none())
            .map_err(|e| plain(e.into()))?;
        // Without certificates samael would check no signature: never parse then.
        if !provider
            .idp_signing_certs()
            .is_ok_and(|c| c.is_some_and(|c| !c.is_empty()))
        {
            return Err(plain(
                CoreError::Internal("SAML IdP without signing certificates".into()).into(),
            ));
        }
        shape(xml).map_err(plain)?;
        let ids = pending.as_ref().map(|(id, _)| [id.as_str()]);
        let assertion = provider
            .parse_xml_response_with_mode(
                xml,
                ids.as_ref().map(|i| &i[..]),
                ReduceMode::ValidateAndMarkNoAncestors,
            )
            .map_err(|e| plain(response_refusal(&e)))?;
        let audiences: Vec<&String> = assertion
            .conditions
            .iter()
            .flat_map(|c| c.audience_restrictions.iter().flatten())
            .flat_map(|r| r.audience.iter())
            .collect();
        if audiences.is_empty() {
            return Err(plain(refuse(
                "wrong_audience",
                "the assertion names no audience; ARX takes only assertions restricted to it",
            )));
        }
        if audiences.iter().any(|a| **a != sp.entity_id) {
            return Err(plain(refuse(
                "wrong_audience",
                "the assertion is also for another service provider (audience)",
            )));
        }
        let now = self.now_ms();
        let until = assertion.issue_instant.timestamp_millis().max(now)
            + (ISSUE_DELAY_S + 2 * CLOCK_SKEW_S) * 1000;
        if !self
            .store
            .saml_assertion_once(org, &assertion.id, until, now)
            .await
            .map_err(|e| plain(e.into()))?
        {
            return Err(plain(refuse(
                "replayed",
                "this SAML assertion was used already; start again",
            )));
        }
        let email = if s.email_attribute.is_empty() {
            assertion
                .subject
                .as_ref()
                .and_then(|s| s.name_id.as_ref())
                .map(|n| n.value.clone())
        } else {
            attribute_values(&assertion, &s.email_attribute)
                .into_iter()
                .next()
        };
        let email = sso::provider_email(
            email.as_deref(),
            &format!(
                "the identity provider sent no email for this account ({})",
                if s.email_attribute.is_empty() {
                    "the NameID is empty".to_string()
                } else {
                    format!("no {} attribute", s.email_attribute)
                }
            ),
        )
        .map_err(plain)?;
        let name = attribute_values(&assertion, &s.name_attribute)
            .into_iter()
            .next();
        let name = sso::display_name(name.as_deref(), &email);
        let groups = attribute_values(&assertion, &s.groups_attribute);
        self.complete_sign_in(
            sso::Vouched {
                org,
                source: Source::Saml,
                email,
                name,
                groups,
                create_users: s.create_users,
                test: pending.is_some_and(|(_, p)| p.test),
            },
            client,
        )
        .await
    }
}

/// The SAMLResponse field decoded: base64 (line breaks allowed), UTF-8, no DOCTYPE.
fn decode(b64: Option<&str>) -> Result<String, SsoRefusal> {
    let malformed = |m: &str| refuse("malformed", format!("the SAML response {m}"));
    let b64 = b64
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| malformed("is missing (no SAMLResponse field)"))?;
    if b64.len() > MAX_RESPONSE_B64 {
        return Err(malformed("is larger than 512 KiB"));
    }
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| malformed("is not base64"))?;
    let xml = String::from_utf8(bytes).map_err(|_| malformed("is not UTF-8 XML"))?;
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(malformed("has a DOCTYPE, which SAML never needs"));
    }
    Ok(xml)
}

/// Refuses what identity providers never send and signature-wrapping attacks need: more
/// than one Response or Assertion, an encrypted assertion, an enveloping signature
/// (`ds:Object`), an ID used twice, or a comment (which canonicalization ignores, so it
/// could split a signed NameID). Counted over every start tag, so a tag hidden anywhere
/// (CDATA included) counts: the check fails closed.
fn shape(xml: &str) -> Result<(), SsoRefusal> {
    static TAG: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]").ok());
    static ID: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r#"\sID\s*=\s*["']([^"']*)["']"#).ok());
    let wrapped = |what: &str| {
        refuse(
            "wrapped",
            format!(
                "the SAML response {what}, which identity providers do not send; ARX refuses it as a possible signature-wrapping attack"
            ),
        )
    };
    if xml.contains("<!--") {
        return Err(refuse(
            "malformed",
            "the SAML response has XML comments, which identity providers do not send (a comment can split a signed name without breaking the signature)",
        ));
    }
    let (Some(tag), Some(id)) = (TAG.as_ref(), ID.as_ref()) else {
        return Err(refuse(
            "malformed",
            "the SAML response could not be checked",
        ));
    };
    let mut count = std::collections::HashMap::<&str, usize>::new();
    for c in tag.captures_iter(xml) {
        if let Some(name) = c.get(1) {
            *count.entry(name.as_str()).or_default() += 1;
        }
    }
    let n = |name: &str| count.get(name).copied().unwrap_or(0);
    if n("Response") != 1 {
        return Err(wrapped(&format!("has {} Response elements", n("Response"))));
    }
    if n("EncryptedAssertion") > 0 {
        return Err(refuse(
            "encrypted_assertion",
            "the assertion is encrypted; ARX takes signed, unencrypted assertions (turn encryption off for ARX at the identity provider)",
        ));
    }
    // None is an error response (its status says why); samael refuses one without.
    if n("Assertion") > 1 {
        return Err(wrapped(&format!("has {} assertions", n("Assertion"))));
    }
    if n("Object") > 0 {
        return Err(wrapped("has an Object inside a signature"));
    }
    let mut ids: Vec<&str> = id
        .captures_iter(xml)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != all {
        return Err(wrapped("uses one ID twice"));
    }
    Ok(())
}

/// The root element's `InResponseTo`, unverified (it only picks the pending sign-in).
fn in_response_to(xml: &str) -> Option<String> {
    static ATTR: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r#"\sInResponseTo\s*=\s*["']([^"'<>]{1,200})["']"#).ok());
    // The first start tag that is not a declaration, processing instruction or comment.
    let mut rest = xml;
    let tag = loop {
        let at = rest.find('<')?;
        rest = &rest[at..];
        let end = rest.find('>')?;
        if rest[1..].starts_with(['?', '!']) {
            rest = &rest[end + 1..];
            continue;
        }
        break &rest[..=end];
    };
    ATTR.as_ref()?
        .captures(tag)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string())
}

/// The org named by an `Audience` that is one of ARX's entity ids, unverified (it only
/// picks the org whose IdP must have signed the response).
fn audience_slug(xml: &str, base: &str) -> Option<String> {
    static AUDIENCE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"<(?:[A-Za-z_][\w.-]*:)?Audience(?:\s[^>]*)?>\s*([^<\s]{1,500})\s*</").ok()
    });
    let prefix = format!("{}/saml/metadata?org=", base.trim_end_matches('/'));
    AUDIENCE
        .as_ref()?
        .captures_iter(xml)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str().replace("&amp;", "&"))
        .find_map(|a| a.strip_prefix(&prefix).map(str::to_string))
        .map(|s| {
            url::form_urlencoded::parse(format!("o={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or(s)
        })
}

/// Every value of the attribute named `name` (by Name or FriendlyName).
fn attribute_values(a: &Assertion, name: &str) -> Vec<String> {
    if name.is_empty() {
        return vec![];
    }
    a.attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| s.attributes.iter())
        .filter(|at| at.name.as_deref() == Some(name) || at.friendly_name.as_deref() == Some(name))
        .flat_map(|at| at.values.iter().filter_map(|v| v.value.clone()))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// What a failed check of the response is called, for the person and the record.
fn response_refusal(e: &SpError) -> SsoRefusal {
    use SpError as E;
    match e {
        E::FailedToValidateSignature | E::CryptoXmlError(_) | E::CryptoProviderError(_) => refuse(
            "bad_signature",
            "the SAML response is not signed by this organisation's identity provider with an accepted algorithm (SHA-256 or stronger), or carries parts its signature does not cover",
        ),
        E::DestinationValidationError { .. } | E::AssertionRecipientMismatch { .. } => refuse(
            "wrong_recipient",
            "the SAML response was sent to another address than ARX's ACS (destination or recipient)",
        ),
        E::AssertionExpired { .. }
        | E::ResponseExpired { .. }
        | E::AssertionConditionExpired { .. }
        | E::AssertionSubjectConfirmationExpired { .. } => refuse(
            "expired",
            "the SAML assertion has expired (is this server's clock right?)",
        ),
        E::AssertionConditionExpiredBefore { .. }
        | E::AssertionSubjectConfirmationExpiredBefore { .. } => refuse(
            "not_yet_valid",
            "the SAML assertion is not valid yet (is this server's clock right?)",
        ),
        E::AssertionIssuerMismatch { .. } | E::ResponseIssuerMismatch { .. } => refuse(
            "wrong_issuer",
            "the SAML response was issued by another identity provider than this organisation's",
        ),
        E::AssertionConditionAudienceRestrictionFailed { .. } => refuse(
            "wrong_audience",
            "the SAML assertion is for another service provider (audience)",
        ),
        E::AssertionInResponseToInvalid { .. } | E::ResponseInResponseToInvalid { .. } => refuse(
            "unknown_request",
            "the SAML response answers another sign-in than this one (InResponseTo)",
        ),
        E::ResponseBadStatusCode { code } => refuse(
            "idp_error",
            format!(
                "the identity provider did not sign you in ({})",
                code.rsplit(':').next().unwrap_or(code)
            ),
        ),
        E::EncryptedAssertionsNotYetSupported
        | E::MissingPrivateKeySP
        | E::MissingEncryptedKeyInfo
        | E::MissingEncryptedValueInfo
        | E::EncryptedAssertionInvalid
        | E::FailedToDecryptAssertion => refuse(
            "encrypted_assertion",
            "the assertion is encrypted; ARX takes signed, unencrypted assertions (turn encryption off for ARX at the identity provider)",
        ),
        E::AssertionBearerSubjectConfirmationMissing | E::AssertionSubjectConfirmationMissing => {
            refuse(
                "no_subject_confirmation",
                "the SAML assertion has no bearer confirmation with a recipient and an expiry",
            )
        }
        other => refuse(
            "malformed",
            format!("the SAML response could not be read: {other}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://arx.example.com";

    fn response(inner: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><ns0:Response xmlns:ns0="urn:oasis:names:tc:SAML:2.0:protocol" ID="r1" InResponseTo="_abc-123" Version="2.0">{inner}</ns0:Response>"#
        )
    }

    #[test]
    fn the_sp_names_the_org_in_its_entity_id_and_escapes_it() {
        let sp = SamlSp::new("https://arx.example.com/", "demo");
        assert_eq!(
            sp.entity_id,
            "https://arx.example.com/saml/metadata?org=demo"
        );
        assert_eq!(sp.acs_url, "https://arx.example.com/saml/acs");
        let odd = SamlSp::new(BASE, "a&b c");
        assert_eq!(
            odd.entity_id,
            "https://arx.example.com/saml/metadata?org=a%26b+c"
        );
        let md = sp.metadata().unwrap();
        assert!(
            md.contains(r#"entityID="https://arx.example.com/saml/metadata?org=demo""#),
            "{md}"
        );
        assert!(md.contains(r#"WantAssertionsSigned="true""#), "{md}");
        assert!(
            !md.contains("SingleLogoutService"),
            "no endpoint ARX does not serve: {md}"
        );
    }

    #[test]
    fn in_response_to_is_read_from_the_root_element_only() {
        assert_eq!(in_response_to(&response("")).as_deref(), Some("_abc-123"));
        let nested = r#"<Response ID="r"><Assertion><SubjectConfirmationData InResponseTo="_x"/></Assertion></Response>"#;
        assert_eq!(in_response_to(nested), None, "an IdP-initiated response");
        let commented = r#"<!-- <Response InResponseTo="_fake"> --><Response ID="r">"#;
        assert_eq!(in_response_to(commented), None);
    }

    #[test]
    fn the_audience_names_the_org_only_under_this_servers_address() {
        let xml =
            response("<ns1:Audience>https://arx.example.com/saml/metadata?org=demo</ns1:Audience>");
        assert_eq!(audience_slug(&xml, BASE).as_deref(), Some("demo"));
        assert_eq!(audience_slug(&xml, "https://other.example.com"), None);
        let escaped =
            response("<Audience>https://arx.example.com/saml/metadata?org=a%26b</Audience>");
        assert_eq!(audience_slug(&escaped, BASE).as_deref(), Some("a&b"));
    }

    #[test]
    fn shapes_that_only_wrapping_attacks_need_are_refused() {
        let one = "<ns1:Assertion ID=\"a1\"></ns1:Assertion>";
        assert_eq!(shape(&response(one)), Ok(()));
        assert_eq!(shape(&response("")), Ok(()), "an error response has none");
        let reason = |inner: &str| shape(&response(inner)).unwrap_err().reason;
        assert_eq!(
            reason(&format!("{one}<Assertion ID=\"a2\"></Assertion>")),
            "wrapped"
        );
        assert_eq!(
            reason("<Assertion ID=\"r1\"></Assertion>"),
            "wrapped",
            "an ID twice"
        );
        assert_eq!(
            reason(&format!(
                "<ds:Signature><ds:Object>{one}</ds:Object></ds:Signature>"
            )),
            "wrapped"
        );
        assert_eq!(
            reason(
                "<Extensions><![CDATA[<Assertion ID=\"z\">]]></Extensions><Assertion ID=\"y\"/>"
            ),
            "wrapped",
            "a tag in CDATA counts"
        );
        assert_eq!(reason("<NameID>a@x.com<!---->.evil</NameID>"), "malformed");
        assert_eq!(reason("<EncryptedAssertion/>"), "encrypted_assertion");
        let two = format!("{}{}", response(one), response(""));
        assert_eq!(shape(&two).unwrap_err().reason, "wrapped");
    }

    #[test]
    fn a_response_must_be_base64_utf8_xml_without_a_doctype() {
        assert_eq!(decode(None).unwrap_err().reason, "malformed");
        assert_eq!(decode(Some("%%%")).unwrap_err().reason, "malformed");
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let with_breaks = b64("<Response/>");
        let with_breaks = format!("{}\r\n{}", &with_breaks[..4], &with_breaks[4..]);
        assert_eq!(decode(Some(&with_breaks)).unwrap(), "<Response/>");
        let dtd = b64("<!DOCTYPE r [<!ENTITY a \"b\">]><Response/>");
        assert!(decode(Some(&dtd)).unwrap_err().message.contains("DOCTYPE"));
        assert_eq!(
            decode(Some(&"A".repeat(MAX_RESPONSE_B64 + 4)))
                .unwrap_err()
                .reason,
            "malformed"
        );
    }

    #[test]
    fn idp_metadata_needs_a_signing_certificate_and_a_redirect_endpoint() {
        let cert = "MIIBiTCCAS+gAwIBAgIUFfHeorAqQVTs4Xkr2Mjv0Eru3/gwCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMB4XDTI2MTEyODE1NDMxM1oXDTM2MTEyNTE1NDMxM1owGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhp13QnL9t/+AeqUNIYodnyxFBaYE0FsvHIj4DI2wjFM9r29aKL7W6z19dYcxf5JKpCCfPh54WZCpAC3A1XiJIqNTMFEwHQYDVR0OBBYEFOCAcCwpNZMEluCL8VboPOlGewrKMB8GA1UdIwQYMBaAFOCAcCwpNZMEluCL8VboPOlGewrKMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgMrB7mxvko5+L9AxdbsSa+WKN7arAxq6JRM+mMO3qdVwCIQDcNiWhLqCCGKIVbEB/sB0SrZyHYq6/ut30EpwNyHw3Mw==";
        let md = |key: &str, binding: &str| {
            format!(
                r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{key}<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:{binding}" Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
            )
        };
        let key = format!(
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        );
        let idp = read_idp(&md(&key, "HTTP-Redirect")).unwrap();
        assert_eq!(idp.entity_id, "https://idp.example.com");
        assert_eq!(idp.sso_url, "https://idp.example.com/sso");
        assert_eq!(idp.fingerprints.len(), 1);
        assert_eq!(idp.fingerprints[0].len(), 32 * 3 - 1);
        let err = read_idp(&md("", "HTTP-Redirect")).err().unwrap();
        assert!(err.contains("no signing certificate"), "{err}");
        let err = read_idp(&md(&key, "HTTP-POST")).err().unwrap();
        assert!(err.contains("HTTP-Redirect"), "{err}");
        let encryption_only = key.replace("use=\"signing\"", "use=\"encryption\"");
        assert!(read_idp(&md(&encryption_only, "HTTP-Redirect")).is_err());
        let bad_cert = key.replace(cert, "AAAA");
        assert!(read_idp(&md(&bad_cert, "HTTP-Redirect")).is_err());
        assert!(
            read_idp("<!DOCTYPE x><x/>")
                .unwrap_err()
                .contains("DOCTYPE")
        );
    }
}
