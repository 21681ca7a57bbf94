//! SCIM 2.0 (RFC 7643 and 7644) as ARX speaks it to a directory (Okta, Entra ID, any
//! SCIM client): the wire format of users and groups, filters, PATCH, list parameters and
//! errors. Pure functions over JSON; the engine ([`crate::engine::ScimOps`]) stores what
//! they produce and the server ([`/scim/v2`]) carries it.
//!
//! One rule shapes the module: a PATCH is applied to the resource's JSON and the result
//! goes through exactly the validation a PUT does, so there is one way a SCIM request can
//! change a user or a group.

pub mod filter;
pub mod patch;
pub mod resource;

use serde_json::{Map, Value};

use crate::error::CoreError;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The two resource types ARX serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    /// The endpoint's name in a URL (`Users`, `Groups`); `None` for any other.
    pub fn from_endpoint(s: &str) -> Option<Self> {
        match s {
            "Users" => Some(Kind::User),
            "Groups" => Some(Kind::Group),
            _ => None,
        }
    }

    /// `user`, `group`: as messages name one.
    pub fn one(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
        }
    }
}

/// The most resources one page returns (`count` above it is lowered to it).
pub const MAX_PAGE: usize = 200;
/// A page's size when the client names none.
pub const DEFAULT_PAGE: usize = 100;

/// A SCIM error: the HTTP status, RFC 7644's `scimType` where one applies, and a detail
/// that says what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    /// A 400 with its `scimType` (`invalidFilter`, `invalidPath`, `invalidValue`,
    /// `invalidSyntax`, `noTarget`, `mutability`, `tooMany`).
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError {
            status: 400,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError {
            status: 404,
            scim_type: None,
            detail: detail.into(),
        }
    }

    pub fn uniqueness(detail: impl Into<String>) -> Self {
        ScimError {
            status: 409,
            scim_type: Some("uniqueness"),
            detail: detail.into(),
        }
    }

    /// The resource changed since the version the client named in `If-Match`.
    pub fn precondition() -> Self {
        ScimError {
            status: 412,
            scim_type: None,
            detail: "the resource changed since that version (If-Match); read it again".into(),
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ScimError {
            status: 401,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// The body RFC 7644 §3.12 gives an error.
    pub fn body(&self) -> Value {
        let mut b = serde_json::json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            b["scimType"] = t.into();
        }
        b
    }
}

impl From<CoreError> for ScimError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound(m) => ScimError::not_found(m),
            CoreError::Conflict(m) => ScimError::uniqueness(m),
            CoreError::InvalidRequest(m) | CoreError::InvalidParams(m) => {
                ScimError::bad("invalidValue", m)
            }
            CoreError::InvalidField { message, .. } => ScimError::bad("invalidValue", message),
            CoreError::Unauthenticated(m) => ScimError::unauthorized(m),
            CoreError::Forbidden(m) => ScimError {
                status: 403,
                scim_type: None,
                detail: m,
            },
            other => {
                tracing::error!(error = %other, "SCIM request failed");
                ScimError {
                    status: 500,
                    scim_type: None,
                    detail: "the request could not be completed; the server log has the cause"
                        .into(),
                }
            }
        }
    }
}

/// The query parameters of a list request (RFC 7644 §3.4.2).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<scim_v2::filter::Filter>,
    /// 1-based, as SCIM counts.
    pub start_index: usize,
    pub count: usize,
    pub attributes: Vec<String>,
    pub excluded: Vec<String>,
}

impl ListQuery {
    /// Reads `filter`, `startIndex`, `count`, `attributes` and `excludedAttributes`
    /// (parameter names are case-insensitive; others are ignored, as sorting is not
    /// offered). A `startIndex` below 1 counts as 1; a `count` above [`MAX_PAGE`] as it.
    pub fn parse(params: &[(String, String)]) -> Result<Self, ScimError> {
        let mut q = ListQuery {
            start_index: 1,
            count: DEFAULT_PAGE,
            ..ListQuery::default()
        };
        for (k, v) in params {
            match k.to_ascii_lowercase().as_str() {
                "filter" => q.filter = Some(filter::parse(v)?),
                "startindex" => q.start_index = usize::try_from(number(k, v)?.max(1)).unwrap_or(1),
                "count" => {
                    q.count = usize::try_from(number(k, v)?.clamp(0, MAX_PAGE as i64)).unwrap_or(0)
                }
                "attributes" => q.attributes = attribute_list(v),
                "excludedattributes" => q.excluded = attribute_list(v),
                _ => {}
            }
        }
        Ok(q)
    }

    /// Projects a resource to the `attributes` / `excludedAttributes` asked for.
    pub fn project(&self, resource: Value) -> Value {
        project(resource, &self.attributes, &self.excluded)
    }
}

fn number(name: &str, v: &str) -> Result<i64, ScimError> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::bad("invalidValue", format!("{name} must be an integer")))
}

/// `userName, name.givenName` → `["username", "name.givenname"]`: lower case, the core
/// schema's URN prefix removed.
pub fn attribute_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|a| strip_core_urn(a.trim()).to_ascii_lowercase())
        .filter(|a| !a.is_empty())
        .collect()
}

/// An attribute path without the User or Group schema's URN prefix.
pub fn strip_core_urn(path: &str) -> &str {
    for urn in [USER_SCHEMA, GROUP_SCHEMA] {
        if path.len() > urn.len()
            && path[..urn.len()].eq_ignore_ascii_case(urn)
            && path.as_bytes()[urn.len()] == b':'
        {
            return &path[urn.len() + 1..];
        }
    }
    path
}

/// Keeps `id` and `schemas` always; then only `attributes` when given, and never
/// `excluded` (both lower-cased paths, `name` or `name.sub`).
fn project(resource: Value, attributes: &[String], excluded: &[String]) -> Value {
    let Value::Object(obj) = resource else {
        return resource;
    };
    let always = |k: &str| k == "id" || k == "schemas";
    let subs_of = |list: &[String], k: &str| -> Option<Vec<String>> {
        let mut subs = vec![];
        for a in list {
            match a.split_once('.') {
                None if a == k => return Some(vec![]),
                Some((top, sub)) if top == k => subs.push(sub.to_string()),
                _ => {}
            }
        }
        (!subs.is_empty()).then_some(subs)
    };
    let mut out = Map::new();
    for (k, v) in obj {
        let lk = k.to_ascii_lowercase();
        if always(&lk) {
            out.insert(k, v);
            continue;
        }
        let v = if attributes.is_empty() {
            v
        } else {
            match subs_of(attributes, &lk) {
                None => continue,
                Some(subs) if subs.is_empty() => v,
                Some(subs) => keep_subs(v, &subs, true),
            }
        };
        match subs_of(excluded, &lk) {
            Some(subs) if subs.is_empty() => {}
            Some(subs) => {
                out.insert(k, keep_subs(v, &subs, false));
            }
            None => {
                out.insert(k, v);
            }
        }
    }
    Value::Object(out)
}

/// `v` (an object, or an array of them) with only (`keep`) or without the named
/// sub-attributes.
fn keep_subs(v: Value, subs: &[String], keep: bool) -> Value {
    let filter = |o: Map<String, Value>| -> Value {
        Value::Object(
            o.into_iter()
                .filter(|(k, _)| subs.contains(&k.to_ascii_lowercase()) == keep)
                .collect(),
        )
    };
    match v {
        Value::Object(o) => filter(o),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|e| match e {
                    Value::Object(o) => filter(o),
                    e => e,
                })
                .collect(),
        ),
        v => v,
    }
}

/// The member of `obj` named `name`, whatever its case (SCIM attribute names are
/// case-insensitive).
pub fn get_ci<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A list response page.
pub fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    serde_json::json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn list_parameters_are_read_bounded_and_checked() {
        let q = ListQuery::parse(&params(&[("startIndex", "0"), ("COUNT", "5000")])).unwrap();
        assert_eq!((q.start_index, q.count), (1, MAX_PAGE));
        let e = ListQuery::parse(&params(&[("count", "ten")])).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some("invalidValue")));
        let e = ListQuery::parse(&params(&[("filter", "userName eq")])).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidFilter"));
    }

    #[test]
    fn projection_keeps_id_and_what_was_asked() {
        let r = json!({"schemas": ["s"], "id": "1", "userName": "a",
            "name": {"givenName": "A", "familyName": "B"}, "active": true});
        let only = project(
            r.clone(),
            &attribute_list("name.givenName,urn:ietf:params:scim:schemas:core:2.0:User:active"),
            &[],
        );
        assert_eq!(
            only,
            json!({"schemas": ["s"], "id": "1", "name": {"givenName": "A"}, "active": true})
        );
        let without = project(r, &[], &attribute_list("name.familyName,userName,id"));
        assert_eq!(
            without,
            json!({"schemas": ["s"], "id": "1", "name": {"givenName": "A"}, "active": true})
        );
    }

    #[test]
    fn errors_carry_the_rfc_body() {
        let b = ScimError::bad("invalidFilter", "x").body();
        assert_eq!(b["status"], "400");
        assert_eq!(b["scimType"], "invalidFilter");
        assert_eq!(b["schemas"][0], ERROR_SCHEMA);
    }
}
