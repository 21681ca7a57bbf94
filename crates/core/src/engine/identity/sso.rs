//! What single sign-on shares between OIDC and SAML: how a refusal is told and recorded,
//! the sign-in page's buttons, and what happens once a provider has vouched for someone
//! (the account found or created, the provider's groups applied, the sign-in recorded, or
//! a test sign-in's report).

use std::net::IpAddr;

use super::super::Engine;
use super::accounts::token_hash;
use crate::access::Principal;
use crate::audit::Actor;
use crate::audit::event as ev;
use crate::error::CoreError;
use crate::ids::OrgId;
use crate::model::{Source, User};
use crate::store::SsoLogin;

/// How long a started sign-in may take.
const PENDING_MS: i64 = 10 * 60 * 1000;
/// Sign-ins in progress an org may have at once (a flood of sign-in starts cannot grow
/// the table without bound).
const MAX_PENDING: i64 = 5_000;

/// Why a sign-in was refused: a stable reason and what the person is told.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SsoRefusal {
    pub reason: &'static str,
    pub message: String,
}

pub(super) fn refuse(reason: &'static str, message: impl Into<String>) -> SsoRefusal {
    SsoRefusal {
        reason,
        message: message.into(),
    }
}

impl From<CoreError> for SsoRefusal {
    fn from(e: CoreError) -> Self {
        tracing::error!(error = %e, "single sign-on failed");
        refuse(
            "unavailable",
            "sign-in is unavailable right now; try again, or sign in with your password",
        )
    }
}

/// One SSO button of the sign-in page.
#[derive(Debug, Clone, PartialEq)]
pub struct SsoChoice {
    pub slug: String,
    pub name: String,
    /// `oidc` or `saml`.
    pub protocol: &'static str,
}

impl SsoChoice {
    /// Where the button starts the sign-in.
    pub fn start_path(&self) -> String {
        let slug = url::form_urlencoded::byte_serialize(self.slug.as_bytes()).collect::<String>();
        match self.protocol {
            "saml" => format!("/saml/login?org={slug}"),
            _ => format!("/auth/oidc/login?org={slug}"),
        }
    }
}

/// The SSO buttons of the sign-in page; `many` when several orgs have SSO on and none was
/// named (the page asks for the org).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SsoChoices {
    pub orgs: Vec<SsoChoice>,
    pub many: bool,
}

/// What a finished sign-in gives: a signed-in principal, or a test's report.
#[derive(Debug)]
pub enum SsoOutcome {
    SignedIn(Box<Principal>),
    Tested(SsoTestReport),
}

/// What a test sign-in found: everything checked passed, and this is who would sign in.
#[derive(Debug, Clone, PartialEq)]
pub struct SsoTestReport {
    /// `oidc` or `saml`.
    pub protocol: &'static str,
    pub email: String,
    pub name: String,
    pub groups: Vec<String>,
    /// "exists", "would be created", with the account's rights now.
    pub account: String,
    /// What the org's mapping gives each group that is mapped.
    pub mapped: Vec<String>,
}

/// Who the provider vouched for, once every check of its answer passed.
#[derive(Debug, Clone)]
pub(super) struct Vouched {
    pub org: OrgId,
    pub source: Source,
    pub email: String,
    pub name: String,
    /// As the provider sent them (checked and sorted here).
    pub groups: Vec<String>,
    /// The org lets a first sign-in create the account.
    pub create_users: bool,
    /// A test sign-in: every check runs, nobody is signed in or created.
    pub test: bool,
}

/// A refusal, with the email it concerned when known (for the record).
pub(super) type Refused = (SsoRefusal, Option<String>);

/// The name shown for a person: control characters dropped, the email when empty.
pub(super) fn display_name(name: Option<&str>, email: &str) -> String {
    name.map(|n| n.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| email.to_string())
}

/// The email a provider sent, checked to be an address.
pub(super) fn provider_email(email: Option<&str>, missing: &str) -> Result<String, SsoRefusal> {
    let email = email
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| refuse("no_email", missing.to_string()))?;
    crate::valid::email("email", "the email the identity provider sent", email).map_err(|_| {
        refuse(
            "bad_email",
            "the identity provider sent an email that is not an address like name@example.com",
        )
    })
}

impl Engine {
    /// The org a sign-in starts for, and whether it is a test. `tester`: a test sign-in,
    /// which only the org's admins start (its report shows what the mapping gives).
    pub(super) async fn sso_start_org(
        &self,
        slug: &str,
        tester: Option<Option<&Principal>>,
    ) -> Result<(crate::model::Org, bool), SsoRefusal> {
        let org =
            self.store.org_by_slug(slug).await?.ok_or_else(|| {
                refuse("unknown_org", format!("there is no organisation '{slug}'"))
            })?;
        if let Some(p) = tester
            && !p.is_some_and(|p| p.org_id == org.id && p.roles.is_admin())
        {
            return Err(refuse(
                "not_admin",
                "a test sign-in is for the organisation's admins: start it from the SSO & SCIM page while signed in",
            ));
        }
        Ok((org, tester.is_some()))
    }

    /// Stores a sign-in in progress under the hash of `key` (its state, or its request
    /// id) for ten minutes; refused when the org has too many in progress.
    pub(super) async fn sso_pending(
        &self,
        org: OrgId,
        protocol: &str,
        key: &str,
        data: &impl serde::Serialize,
    ) -> Result<(), SsoRefusal> {
        let now = self.now_ms();
        let login = SsoLogin {
            state_hash: token_hash(key),
            org_id: org,
            protocol: protocol.into(),
            data: serde_json::to_value(data)
                .map_err(|e| CoreError::internal("pending sign-in", e))?,
            expires_ms: now + PENDING_MS,
        };
        if !self.store.sso_login_put(&login, now, MAX_PENDING).await? {
            return Err(refuse(
                "busy",
                "too many sign-ins are in progress for this organisation; try again in a few minutes",
            ));
        }
        Ok(())
    }

    /// Signs in (or, for a test, reports) whom a provider vouched for.
    pub(super) async fn complete_sign_in(
        &self,
        v: Vouched,
        client: Option<IpAddr>,
    ) -> Result<SsoOutcome, Refused> {
        let with_email = |r: SsoRefusal| (r, Some(v.email.clone()));
        let groups = super::groups::group_names(&v.groups).map_err(|e| with_email(e.into()))?;
        if v.test {
            return self
                .test_report(
                    v.org,
                    v.source,
                    v.email.clone(),
                    v.name,
                    groups,
                    v.create_users,
                )
                .await
                .map_err(with_email);
        }
        let user = self
            .idp_user(v.org, &v.email, &v.name, v.create_users, v.source)
            .await
            .map_err(with_email)?;
        let internal = |e: CoreError| with_email(e.into());
        self.set_idp_groups(&user, v.source, groups)
            .await
            .map_err(internal)?;
        self.signed_in(&user, v.source.as_str(), client)
            .await
            .map_err(internal)?;
        let user = self
            .store
            .user(v.org, user.id)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                internal(CoreError::Internal(
                    "the account went away while signing in".into(),
                ))
            })?;
        let p = self.principal_for(&user).await.map_err(internal)?;
        Ok(SsoOutcome::SignedIn(Box::new(p)))
    }

    /// A test sign-in's report: who would sign in, with which groups and rights.
    async fn test_report(
        &self,
        org: OrgId,
        source: Source,
        email: String,
        name: String,
        groups: Vec<String>,
        create_users: bool,
    ) -> Result<SsoOutcome, SsoRefusal> {
        let account = match self.account_for(org, &email, create_users).await? {
            Some(u) => format!("exists ({} now)", u.roles().describe()),
            None => "would be created at the first real sign-in".into(),
        };
        let mappings = self.store.group_mappings(org).await?;
        let mapped = mappings
            .iter()
            .filter(|m| groups.contains(&m.group))
            .map(|m| {
                let role = m.role.map(|r| r.as_str().to_string());
                let approves = (!m.approver_groups.is_empty())
                    .then(|| format!("approves for {}", m.approver_groups.join(", ")));
                format!(
                    "{} → {}",
                    m.group,
                    role.into_iter()
                        .chain(approves)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        Ok(SsoOutcome::Tested(SsoTestReport {
            protocol: source.as_str(),
            email,
            name,
            groups,
            account,
            mapped,
        }))
    }

    /// The org's account for an email from a provider: `Some` when it exists, `None` when
    /// a first sign-in may create it. Another org's account, an inactive one, or an
    /// unknown one where the org takes only provisioned users, is refused.
    async fn account_for(
        &self,
        org: OrgId,
        email: &str,
        create_users: bool,
    ) -> Result<Option<User>, SsoRefusal> {
        match self.store.user_by_email(email).await? {
            Some(u) if u.org_id != org => Err(refuse(
                "wrong_org",
                format!("{email} belongs to another organisation in ARX"),
            )),
            Some(u) if !u.active => Err(refuse(
                "inactive",
                format!("the account {email} is deactivated"),
            )),
            Some(u) => Ok(Some(u)),
            None if !create_users => Err(refuse(
                "not_provisioned",
                format!(
                    "{email} has no account here: this organisation lets in only users provisioned by its directory"
                ),
            )),
            None => Ok(None),
        }
    }

    /// The org's account for an email from a provider: found, or created when the org
    /// allows it.
    async fn idp_user(
        &self,
        org: OrgId,
        email: &str,
        name: &str,
        create_users: bool,
        source: Source,
    ) -> Result<User, SsoRefusal> {
        if let Some(u) = self.account_for(org, email, create_users).await? {
            return Ok(u);
        }
        let user = User::from_directory(org, email, name, source, true, self.now_ms());
        self.store.create_user(&user).await?;
        self.record(
            org,
            Actor::system(),
            ev::UserCreated {
                user_id: user.id,
                email: user.email.clone(),
                role: None,
            },
        )
        .await?;
        Ok(user)
    }

    /// Replaces the user's memberships from `source` when they changed (recorded).
    async fn set_idp_groups(
        &self,
        user: &User,
        source: Source,
        groups: Vec<String>,
    ) -> Result<(), CoreError> {
        let mut had: Vec<&str> = user
            .member_of
            .iter()
            .filter(|m| m.source == source)
            .map(|m| m.group.as_str())
            .collect();
        had.sort_unstable();
        if had == groups.iter().map(String::as_str).collect::<Vec<_>>() {
            return Ok(());
        }
        self.store
            .set_member_of(user.org_id, user.id, source, &groups)
            .await?;
        self.record(
            user.org_id,
            Actor::user(user.id, &user.email),
            ev::MemberOfSet {
                user_id: user.id,
                email: user.email.clone(),
                source: source.as_str().into(),
                groups,
            },
        )
        .await?;
        Ok(())
    }

    /// The sign-in page's buttons: the org named, or, when none is, the only org with
    /// single sign-on on (`many` when several are: the page then asks which). An org with
    /// both protocols on gets both buttons.
    pub async fn sso_choices(&self, slug: Option<&str>) -> Result<SsoChoices, CoreError> {
        let mut on: Vec<(OrgId, &'static str)> = vec![];
        on.extend(
            self.store
                .oidc_orgs()
                .await?
                .into_iter()
                .filter(|(_, s)| s.enabled)
                .map(|(id, _)| (id, "oidc")),
        );
        on.extend(
            self.store
                .saml_orgs()
                .await?
                .into_iter()
                .filter(|(_, s)| s.enabled)
                .map(|(id, _)| (id, "saml")),
        );
        let mut orgs = vec![];
        for (id, protocol) in on {
            if let Some(o) = self.store.org(id).await? {
                orgs.push(SsoChoice {
                    slug: o.slug,
                    name: o.name,
                    protocol,
                });
            }
        }
        orgs.sort_by(|a, b| (&a.slug, a.protocol).cmp(&(&b.slug, b.protocol)));
        let distinct = {
            let mut slugs: Vec<&str> = orgs.iter().map(|c| c.slug.as_str()).collect();
            slugs.dedup();
            slugs.len()
        };
        Ok(match slug {
            Some(slug) => SsoChoices {
                orgs: orgs.into_iter().filter(|c| c.slug == slug).collect(),
                many: false,
            },
            None if distinct > 1 => SsoChoices {
                orgs: vec![],
                many: true,
            },
            None => SsoChoices { orgs, many: false },
        })
    }

    /// Records a refused sign-in, coalesced per protocol, reason and client.
    pub(super) async fn sso_refused(
        &self,
        org: OrgId,
        protocol: &'static str,
        r: &SsoRefusal,
        email: Option<String>,
        client: Option<IpAddr>,
    ) {
        let client = client.map(|c| c.to_string());
        let key = format!(
            "sso.refused:{protocol}:{}:{}",
            r.reason,
            client.as_deref().unwrap_or("-")
        );
        let event = ev::SsoRefused {
            protocol: protocol.into(),
            reason: r.reason.into(),
            message: r.message.clone(),
            email,
            client,
            burst: Default::default(),
        };
        if let Err(e) = self.record_refusal(org, key, Actor::system(), event).await {
            tracing::error!(error = %e, "a refused sign-in could not be recorded");
        }
    }
}
