//! Who is asking. A [`Principal`] is established once (session or API token) and every
//! engine operation on org data goes through a handle that checked its role.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::ids::{OrgId, UserId};
use crate::model::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub org_id: OrgId,
    pub org_slug: String,
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub(crate) fn require_admin(&self) -> Result<(), CoreError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!(
                "this needs the admin role; {} is {}",
                self.email,
                self.role.as_str()
            )))
        }
    }
}
