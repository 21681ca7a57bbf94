//! Who is asking. A [`Principal`] is established by the engine on every request (from an
//! API token, a console session's [`SessionClaim`], or an identity Slack vouched for) and
//! every engine operation on org data goes through a handle that checked its role.
//!
//! Only the engine builds a `Principal`: its fields are private to this crate, it has no
//! public constructor and it cannot be deserialized, so an adapter cannot forge one or
//! keep a stale one across requests.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::ids::{OrgId, UserId};
use crate::model::Roles;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub(crate) org_id: OrgId,
    pub(crate) org_slug: String,
    pub(crate) user_id: UserId,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) roles: Roles,
}

impl Principal {
    pub fn org_id(&self) -> OrgId {
        self.org_id
    }

    pub fn org_slug(&self) -> &str {
        &self.org_slug
    }

    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The roles held at this request: the user's own and their groups' mapped ones.
    pub fn roles(&self) -> Roles {
        self.roles
    }

    pub fn is_admin(&self) -> bool {
        self.roles.is_admin()
    }

    /// What a console session keeps of this principal: who, never what they may do, so
    /// a role change or a deactivation counts at the next request
    /// ([`crate::Engine::principal_for_session`]).
    pub fn session_claim(&self) -> SessionClaim {
        SessionClaim {
            org_id: self.org_id,
            user_id: self.user_id,
        }
    }

    pub(crate) fn require_admin(&self) -> Result<(), CoreError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!(
                "this needs the admin role; {} has {}",
                self.email,
                self.roles.describe()
            )))
        }
    }
}

/// The signed-in user as a console session stores it (server-side, in the database):
/// the user and their org. The engine turns it back into a [`Principal`] on every
/// request, re-reading the user's role and whether they are still active.
///
/// The field names are those of the `Principal` that sessions stored before, so a
/// session written by an older version still reads as a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaim {
    org_id: OrgId,
    user_id: UserId,
}

impl SessionClaim {
    pub(crate) fn org_id(&self) -> OrgId {
        self.org_id
    }

    pub(crate) fn user_id(&self) -> UserId {
        self.user_id
    }
}
