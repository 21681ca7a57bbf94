//! Who may do what: roles held directly and through groups, where an account or a
//! membership came from, and what a group gives its members.
//!
//! A user's rights are computed, never stored: their own role and approver groups (set by
//! an admin) joined with what the org's mapping gives each group they are a member of.
//! The store loads memberships with the user, so rights are as fresh as the request.

use serde::{Deserialize, Serialize};

use super::Role;

/// Where an account, or a group membership, came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Set in ARX by an admin (or the bootstrap).
    Local,
    Oidc,
    Saml,
    Scim,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Local => "local",
            Source::Oidc => "oidc",
            Source::Saml => "saml",
            Source::Scim => "scim",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "local" => Some(Source::Local),
            "oidc" => Some(Source::Oidc),
            "saml" => Some(Source::Saml),
            "scim" => Some(Source::Scim),
            _ => None,
        }
    }
}

/// A set of roles. Rights add up: a reviewer who is also an auditor decides approvals and
/// reads vendor answers; nothing in a set takes a right away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    const ALL: [Role; 4] = [Role::Admin, Role::Reviewer, Role::Auditor, Role::Owner];

    fn bit(r: Role) -> u8 {
        match r {
            Role::Admin => 1,
            Role::Reviewer => 2,
            Role::Auditor => 4,
            Role::Owner => 8,
        }
    }

    pub fn of(roles: impl IntoIterator<Item = Role>) -> Self {
        Roles(roles.into_iter().fold(0, |b, r| b | Self::bit(r)))
    }

    pub fn has(self, r: Role) -> bool {
        self.0 & Self::bit(r) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Self::ALL.into_iter().filter(move |r| self.has(*r))
    }

    /// Changes configuration: policy, connectors, users, mappings.
    pub fn is_admin(self) -> bool {
        self.has(Role::Admin)
    }

    /// Decides approvals.
    pub fn decides(self) -> bool {
        self.has(Role::Admin) || self.has(Role::Reviewer)
    }

    /// Reads what vendors answered (response bodies): admins and auditors.
    pub fn reads_answers(self) -> bool {
        self.has(Role::Admin) || self.has(Role::Auditor)
    }

    /// "admin, reviewer", or "no role".
    pub fn describe(self) -> String {
        if self.is_empty() {
            return "no role".into();
        }
        self.iter().map(Role::as_str).collect::<Vec<_>>().join(", ")
    }
}

impl Serialize for Roles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Roles::of(Vec::<Role>::deserialize(d)?))
    }
}

/// What membership of a group gives: a role, approver groups, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupMapping {
    /// The group's name as the directory sends it (`Okta-SecOps-Leads`, `/arx/admins`).
    pub group: String,
    pub role: Option<Role>,
    /// Approver groups an ESCALATE rule can name (`secops-leads`).
    #[serde(default)]
    pub approver_groups: Vec<String>,
    #[serde(default)]
    pub updated_ms: i64,
}

/// A user's membership of a group, with what the org's mapping gives that group today
/// (nothing when the group is not mapped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Membership {
    pub group: String,
    pub source: Source,
    pub role: Option<Role>,
    #[serde(default)]
    pub approver_groups: Vec<String>,
}

/// A user as lists show them: the account, the rights it holds at this moment, and its
/// live console sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserView {
    #[serde(flatten)]
    pub user: super::User,
    /// Every role held now: the user's own and their groups' mapped ones.
    #[schema(value_type = Vec<Role>)]
    pub roles: Roles,
    /// Every approver group the user decides for now, own and mapped.
    pub approver_groups: Vec<String>,
    /// Live console sessions.
    pub sessions: i64,
}

impl UserView {
    pub fn new(user: super::User, sessions: i64) -> Self {
        UserView {
            roles: user.roles(),
            approver_groups: user.approver_groups(),
            sessions,
            user,
        }
    }
}

/// An org's sign-in through its OpenID Connect provider, as admins see it (the client
/// secret is sealed in the vault and never shown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OidcSettings {
    pub enabled: bool,
    /// The issuer exactly as the provider names it.
    pub issuer: String,
    pub client_id: String,
    /// Always starts with `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim that lists the user's groups.
    pub groups_claim: String,
    /// An email the provider has not verified is refused.
    pub require_verified_email: bool,
    /// A first sign-in creates the account; otherwise only provisioned users sign in.
    pub create_users: bool,
    /// Whether a client secret is stored.
    pub client_secret_set: bool,
    pub updated_ms: i64,
}

/// An org's sign-in through its SAML 2.0 identity provider, as admins see it. The IdP's
/// metadata document is stored beside it; these are what was read from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SamlSettings {
    pub enabled: bool,
    /// Where the IdP's metadata was read from; `None` when it was uploaded.
    pub metadata_url: Option<String>,
    /// The IdP's entity id (every response and assertion must be issued by it).
    pub idp_entity_id: String,
    /// Where browsers are sent to sign in (the IdP's HTTP-Redirect endpoint).
    pub idp_sso_url: String,
    /// SHA-256 fingerprints of the IdP's signing certificates, `AB:CD:…`.
    pub signing_certs: Vec<String>,
    /// Sign-ins the IdP starts (no request of ARX's to answer) are taken.
    pub allow_idp_initiated: bool,
    /// A first sign-in creates the account; otherwise only provisioned users sign in.
    pub create_users: bool,
    /// The attribute with the email; empty: the assertion's NameID.
    pub email_attribute: String,
    /// The attribute with the person's name.
    pub name_attribute: String,
    /// The attribute whose values are the person's groups.
    pub groups_attribute: String,
    pub updated_ms: i64,
}

/// How the org's break-glass account was used: shown on the Overview, so a sign-in that
/// bypassed single sign-on is seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BreakGlassUse {
    /// The account's email; `None` when the org has none.
    pub email: Option<String>,
    /// Its sign-ins in the last 30 days.
    pub sign_ins_30d: u64,
    pub last_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_add_up_and_read_back() {
        let r = Roles::of([Role::Reviewer, Role::Auditor]);
        assert!(r.decides() && r.reads_answers() && !r.is_admin());
        assert_eq!(r.describe(), "reviewer, auditor");
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"["reviewer","auditor"]"#
        );
        let back: Roles = serde_json::from_str(r#"["auditor","reviewer"]"#).unwrap();
        assert_eq!(back, r);
        assert!(!Roles::of([Role::Owner]).decides());
        assert_eq!(Roles::default().describe(), "no role");
    }
}
