//! Users and groups on the wire: what a directory may send (validated into inputs the
//! engine stores), what ARX answers, and the discovery documents (service provider
//! configuration, resource types, schemas) that describe exactly that.
//!
//! A user's `userName` is their ARX email (compared without case, kept as sent); the
//! attributes kept beside it are `name`, `displayName`, `title` and `emails`. Others a
//! directory sends (an enterprise extension, phone numbers) are accepted and not kept.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{GROUP_SCHEMA, ScimError, USER_SCHEMA, get_ci};
use crate::audit::format_ts;
use crate::ids::{GroupId, UserId};
use crate::store::{ScimGroup, ScimUser};

/// The longest string attribute kept.
const MAX_STRING: usize = 256;
/// The most emails one user may have.
const MAX_EMAILS: usize = 20;
/// The most members one group may have in one request.
pub const MAX_MEMBERS: usize = 10_000;
const NAME_PARTS: [&str; 6] = [
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
];

/// A user as a directory sent it, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct UserInput {
    /// `userName` lower-cased: the ARX email.
    pub email: String,
    /// The name ARX shows: `displayName`, else `name.formatted`, else given and family
    /// names, else `userName`.
    pub name: String,
    /// `None` when the body did not say (a replace then keeps the account as it is).
    pub active: Option<bool>,
    pub external_id: Option<String>,
    /// What is kept as sent.
    pub attrs: Value,
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad("invalidValue", detail)
}

/// A string attribute: `None` when absent or null; refused when not a string, longer
/// than [`MAX_STRING`] or holding control characters.
fn string(v: &Value, name: &str, path: &str) -> Result<Option<String>, ScimError> {
    match get_ci(v, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if s.chars().count() > MAX_STRING || s.chars().any(char::is_control) {
                Err(invalid(format!(
                    "{path} is at most {MAX_STRING} characters without control characters"
                )))
            } else {
                Ok(Some(s.clone()))
            }
        }
        Some(_) => Err(invalid(format!("{path} is a string"))),
    }
}

/// A boolean attribute, also as the strings `"true"` / `"false"` in any case (Entra ID
/// sends `"False"`).
fn boolean(v: &Value, name: &str, path: &str) -> Result<Option<bool>, ScimError> {
    match get_ci(v, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(invalid(format!("{path} is true or false"))),
    }
}

pub fn user_input(v: &Value) -> Result<UserInput, ScimError> {
    if !v.is_object() {
        return Err(ScimError::bad("invalidSyntax", "a user is a JSON object"));
    }
    let user_name = string(v, "userName", "userName")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("userName is required"))?;
    let mut attrs = Map::new();
    attrs.insert("userName".into(), user_name.clone().into());
    let mut parts = Map::new();
    if let Some(n) = get_ci(v, "name").filter(|n| !n.is_null()) {
        if !n.is_object() {
            return Err(invalid(
                "name is an object (givenName, familyName, formatted...)",
            ));
        }
        for p in NAME_PARTS {
            if let Some(s) = string(n, p, &format!("name.{p}"))? {
                parts.insert(p.into(), s.into());
            }
        }
    }
    let display = string(v, "displayName", "displayName")?;
    let title = string(v, "title", "title")?;
    let emails = emails(v)?;
    let shown = display
        .clone()
        .or_else(|| {
            parts
                .get("formatted")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .or_else(|| {
            let given_family: Vec<&str> = ["givenName", "familyName"]
                .iter()
                .filter_map(|k| parts.get(*k).and_then(Value::as_str))
                .collect();
            (!given_family.is_empty()).then(|| given_family.join(" "))
        })
        .unwrap_or_else(|| user_name.clone());
    if !parts.is_empty() {
        attrs.insert("name".into(), Value::Object(parts));
    }
    for (k, s) in [("displayName", display), ("title", title)] {
        if let Some(s) = s {
            attrs.insert(k.into(), s.into());
        }
    }
    if !emails.is_empty() {
        attrs.insert("emails".into(), Value::Array(emails));
    }
    Ok(UserInput {
        email: user_name.to_lowercase(),
        name: shown
            .chars()
            .take(200)
            .collect::<String>()
            .trim()
            .to_string(),
        active: boolean(v, "active", "active")?,
        external_id: string(v, "externalId", "externalId")?,
        attrs: Value::Object(attrs),
    })
}

fn emails(v: &Value) -> Result<Vec<Value>, ScimError> {
    let list = match get_ci(v, "emails") {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid("emails is a list of {value, type, primary}")),
    };
    if list.len() > MAX_EMAILS {
        return Err(invalid(format!("at most {MAX_EMAILS} emails")));
    }
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            if !e.is_object() {
                return Err(invalid(format!("emails[{i}] is an object")));
            }
            let mut out = Map::new();
            for k in ["value", "type", "display"] {
                if let Some(s) = string(e, k, &format!("emails[{i}].{k}"))? {
                    out.insert(k.into(), s.into());
                }
            }
            if let Some(b) = boolean(e, "primary", &format!("emails[{i}].primary"))? {
                out.insert("primary".into(), b.into());
            }
            Ok(Value::Object(out))
        })
        .collect()
}

/// A group as a directory sent it, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInput {
    pub display_name: String,
    pub external_id: Option<String>,
    /// Member ids, without repeats, in the order sent.
    pub members: Vec<UserId>,
}

pub fn group_input(v: &Value) -> Result<GroupInput, ScimError> {
    if !v.is_object() {
        return Err(ScimError::bad("invalidSyntax", "a group is a JSON object"));
    }
    let display_name = string(v, "displayName", "displayName")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("displayName is required"))?;
    let list = match get_ci(v, "members") {
        None | Some(Value::Null) => &vec![],
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid("members is a list of {value: user id}")),
    };
    if list.len() > MAX_MEMBERS {
        return Err(ScimError::bad(
            "tooMany",
            format!("at most {MAX_MEMBERS} members in one request"),
        ));
    }
    let mut members = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let id = get_ci(m, "value")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<UserId>().ok())
            .ok_or_else(|| invalid(format!("members[{i}].value is the id of a user")))?;
        if !members.contains(&id) {
            members.push(id);
        }
    }
    Ok(GroupInput {
        display_name,
        external_id: string(v, "externalId", "externalId")?,
        members,
    })
}

/// `W/"…"`: a weak version that changes whenever anything in the resource does.
pub fn version(resource: &Value) -> String {
    let mut r = resource.clone();
    if let Some(o) = r.as_object_mut() {
        o.remove("meta");
    }
    let digest = Sha256::digest(r.to_string().as_bytes());
    format!("W/\"{}\"", &hex::encode(digest)[..16])
}

fn with_meta(
    mut r: Value,
    kind: &str,
    created_ms: i64,
    updated_ms: i64,
    location: String,
) -> Value {
    let v = version(&r);
    r["meta"] = json!({
        "resourceType": kind,
        "created": format_ts(created_ms),
        "lastModified": format_ts(updated_ms.max(created_ms)),
        "location": location,
        "version": v,
    });
    r
}

/// A user as ARX answers it, with the SCIM groups they are a member of.
pub fn user_json(u: &ScimUser, groups: &[(GroupId, String)], base: &str) -> Value {
    let mut r = Map::new();
    r.insert("schemas".into(), json!([USER_SCHEMA]));
    r.insert("id".into(), u.user.id.to_string().into());
    if let Some(x) = &u.external_id {
        r.insert("externalId".into(), x.clone().into());
    }
    r.insert("userName".into(), u.user.email.clone().into());
    if let Value::Object(attrs) = &u.attrs {
        for (k, v) in attrs {
            r.insert(k.clone(), v.clone());
        }
    }
    // A user made in ARX, that no directory wrote yet, shows its ARX name.
    if u.attrs.as_object().is_none_or(Map::is_empty) {
        r.insert("displayName".into(), u.user.name.clone().into());
    }
    r.insert("active".into(), u.user.active.into());
    if !groups.is_empty() {
        let gs: Vec<Value> = groups
            .iter()
            .map(|(id, name)| json!({"value": id.to_string(), "display": name, "$ref": format!("{base}/Groups/{id}")}))
            .collect();
        r.insert("groups".into(), gs.into());
    }
    let location = format!("{base}/Users/{}", u.user.id);
    with_meta(
        Value::Object(r),
        "User",
        u.user.created_ms,
        u.updated_ms,
        location,
    )
}

pub fn group_json(g: &ScimGroup, base: &str) -> Value {
    let mut r = json!({
        "schemas": [GROUP_SCHEMA],
        "id": g.id.to_string(),
        "displayName": g.display_name,
        "members": g.members.iter().map(|m| json!({
            "value": m.user_id.to_string(),
            "$ref": format!("{base}/Users/{}", m.user_id),
        })).collect::<Vec<_>>(),
    });
    if let Some(x) = &g.external_id {
        r["externalId"] = x.clone().into();
    }
    let location = format!("{base}/Groups/{}", g.id);
    with_meta(r, "Group", g.created_ms, g.updated_ms, location)
}

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/arx/arx/blob/main/docs/identity.md",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": super::MAX_PAGE},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token an admin creates on the console's SSO & SCIM page",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

pub fn resource_types(base: &str) -> Vec<Value> {
    [("User", "/Users", USER_SCHEMA), ("Group", "/Groups", GROUP_SCHEMA)]
        .into_iter()
        .map(|(name, endpoint, schema)| {
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": name,
                "name": name,
                "endpoint": endpoint,
                "description": format!("{name}s of the org"),
                "schema": schema,
                "schemaExtensions": [],
                "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{name}")},
            })
        })
        .collect()
}

/// An attribute's definition in a schema document.
fn attr(name: &str, kind: &str, multi: bool, required: bool, mutability: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": multi,
        "description": name,
        "required": required,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none",
    })
}

fn complex(name: &str, multi: bool, mutability: &str, subs: Vec<Value>) -> Value {
    let mut a = attr(name, "complex", multi, false, mutability);
    a["subAttributes"] = subs.into();
    a
}

fn reference(name: &str, types: &[&str], mutability: &str) -> Value {
    let mut a = attr(name, "reference", false, false, mutability);
    a["referenceTypes"] = json!(types);
    a
}

pub fn schemas(base: &str) -> Vec<Value> {
    let rw = "readWrite";
    let mut user_name = attr("userName", "string", false, true, rw);
    user_name["uniqueness"] = "server".into();
    let user = vec![
        user_name,
        complex(
            "name",
            false,
            rw,
            NAME_PARTS
                .iter()
                .map(|p| attr(p, "string", false, false, rw))
                .collect(),
        ),
        attr("displayName", "string", false, false, rw),
        attr("title", "string", false, false, rw),
        complex(
            "emails",
            true,
            rw,
            vec![
                attr("value", "string", false, false, rw),
                attr("type", "string", false, false, rw),
                attr("display", "string", false, false, rw),
                attr("primary", "boolean", false, false, rw),
            ],
        ),
        // Every account is active or not: a directory cannot leave it unsaid.
        attr("active", "boolean", false, true, rw),
        complex(
            "groups",
            true,
            "readOnly",
            vec![
                attr("value", "string", false, false, "readOnly"),
                reference("$ref", &["Group"], "readOnly"),
                attr("display", "string", false, false, "readOnly"),
            ],
        ),
    ];
    let mut display = attr("displayName", "string", false, true, rw);
    display["uniqueness"] = "server".into();
    let group = vec![
        display,
        complex(
            "members",
            true,
            rw,
            vec![
                attr("value", "string", false, false, "immutable"),
                reference("$ref", &["User"], "immutable"),
            ],
        ),
    ];
    [(USER_SCHEMA, "User", user), (GROUP_SCHEMA, "Group", group)]
        .into_iter()
        .map(|(id, name, attributes)| {
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
                "id": id,
                "name": name,
                "description": format!("{name} as ARX keeps it"),
                "attributes": attributes,
                "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_read_with_what_directories_send() {
        let u = user_input(
            &json!({"schemas": [USER_SCHEMA], "userName": "Alice@Example.com",
            "name": {"givenName": "Alice", "familyName": "Liddell", "middle": "ignored"},
            "emails": [{"value": "alice@example.com", "type": "work", "primary": "True"}],
            "active": "False", "externalId": "00u1",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "SOC"},
            "phoneNumbers": [{"value": "1"}]}),
        )
        .unwrap();
        assert_eq!(u.email, "alice@example.com");
        assert_eq!(u.name, "Alice Liddell");
        assert_eq!(u.active, Some(false));
        assert_eq!(u.external_id.as_deref(), Some("00u1"));
        assert_eq!(
            u.attrs,
            json!({"userName": "Alice@Example.com",
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "emails": [{"value": "alice@example.com", "type": "work", "primary": true}]})
        );
    }

    #[test]
    fn bad_users_and_groups_name_the_attribute() {
        let e = |v: Value| user_input(&v).unwrap_err().detail;
        assert!(e(json!({})).contains("userName"));
        assert!(e(json!({"userName": 5})).contains("userName"));
        assert!(e(json!({"userName": "a", "active": "maybe"})).contains("active"));
        assert!(e(json!({"userName": "a", "name": {"givenName": 1}})).contains("name.givenName"));
        assert!(
            e(json!({"userName": "a", "emails": [{"primary": 3}]})).contains("emails[0].primary")
        );
        assert!(e(json!({"userName": "a\u{0}b"})).contains("control"));
        let g = |v: Value| group_input(&v).unwrap_err().detail;
        assert!(g(json!({"members": []})).contains("displayName"));
        assert!(
            g(json!({"displayName": "g", "members": [{"value": "../x"}]}))
                .contains("members[0].value")
        );
    }

    #[test]
    fn a_version_follows_the_content_not_the_meta() {
        let a = json!({"id": "1", "userName": "a", "meta": {"x": 1}});
        let b = json!({"id": "1", "userName": "a", "meta": {"x": 2}});
        let c = json!({"id": "1", "userName": "b"});
        assert_eq!(version(&a), version(&b));
        assert_ne!(version(&a), version(&c));
    }
}
