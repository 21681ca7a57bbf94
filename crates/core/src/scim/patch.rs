//! SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON. The result is validated
//! as a PUT body would be, so a PATCH can do nothing a PUT cannot.
//!
//! Accepted beyond the RFC, because Entra ID and Okta send it: an `op` in any case
//! (`Replace`, `ADD`); an op without a path whose value's keys are paths themselves
//! (`{"name.givenName": "A"}`); removal of members given as a value array
//! (`{"op": "remove", "path": "members", "value": [{"value": "id"}]}`); and, for an
//! `add`/`replace` on `emails[type eq "work"].value` when no email matches, a new email
//! built from the filter. Booleans sent as strings (`"False"`) are read by the resource
//! validation.

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, PatchPath, ValFilter};
use serde_json::{Map, Value};

use super::filter::val_matches;
use super::{GROUP_SCHEMA, PATCH_SCHEMA, ScimError, USER_SCHEMA, get_ci};

/// The most operations one PATCH request may carry.
const MAX_OPERATIONS: usize = 1000;

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Applies a PATCH request body to `resource`.
pub fn apply(resource: &mut Value, body: &Value) -> Result<(), ScimError> {
    let schemas = get_ci(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|u| u.as_str() == Some(PATCH_SCHEMA))) {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("a PATCH body names the schema {PATCH_SCHEMA}"),
        ));
    }
    let ops = get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "a PATCH body has an Operations array"))?;
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            "tooMany",
            format!("at most {MAX_OPERATIONS} operations in one PATCH"),
        ));
    }
    for (i, o) in ops.iter().enumerate() {
        let op = match get_ci(o, "op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
        {
            Some(s) if s == "add" => Op::Add,
            Some(s) if s == "replace" => Op::Replace,
            Some(s) if s == "remove" => Op::Remove,
            _ => {
                return Err(ScimError::bad(
                    "invalidSyntax",
                    format!("Operations[{i}].op is add, replace or remove"),
                ));
            }
        };
        let value = get_ci(o, "value").cloned();
        match get_ci(o, "path").and_then(Value::as_str) {
            Some(p) => at_path(resource, op, p, value)?,
            None => without_path(resource, op, value, i)?,
        }
    }
    Ok(())
}

/// An op with no path: its value is an object of attributes (or of paths) to set.
fn without_path(
    resource: &mut Value,
    op: Op,
    value: Option<Value>,
    i: usize,
) -> Result<(), ScimError> {
    let Some(Value::Object(attrs)) = value.filter(|_| op != Op::Remove) else {
        return Err(ScimError::bad(
            "noTarget",
            format!(
                "Operations[{i}]: a remove names a path; an add or replace without a path has an object value"
            ),
        ));
    };
    for (k, v) in attrs {
        if k.eq_ignore_ascii_case("schemas") {
            continue;
        }
        at_path(resource, op, &k, Some(v))?;
    }
    Ok(())
}

fn at_path(
    resource: &mut Value,
    op: Op,
    path: &str,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let parsed: PatchPath = path
        .parse()
        .map_err(|e| ScimError::bad("invalidPath", format!("path {path:?}: {e}")))?;
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::bad(
            "invalidValue",
            format!("an add or replace of {path:?} has a value"),
        ));
    }
    match parsed {
        PatchPath::Attr(a) => {
            let target = container(resource, &a, op)?;
            let Some(target) = target else { return Ok(()) };
            match &a.sub_attr {
                None => set(target, &a.name, op, value),
                Some(sub) => {
                    let Some(parent) = child(target, &a.name, op != Op::Remove) else {
                        return Ok(());
                    };
                    if parent.is_array() {
                        return Err(ScimError::bad(
                            "invalidPath",
                            format!(
                                "{path:?}: name an element of {} with a filter, as {}[type eq \"work\"].{sub}",
                                a.name, a.name
                            ),
                        ));
                    }
                    set(parent, sub, op, value)
                }
            }
        }
        PatchPath::Value(vp) => {
            let Some(target) = container(resource, &vp.attr, op)? else {
                return Ok(());
            };
            let Some(list) = child(target, &vp.attr.name, op != Op::Remove) else {
                return Ok(());
            };
            if list.is_null() || list.as_object().is_some_and(Map::is_empty) {
                *list = Value::Array(vec![]);
            }
            let Value::Array(items) = list else {
                return Err(ScimError::bad(
                    "invalidPath",
                    format!("{path:?}: {} is not multi-valued", vp.attr.name),
                ));
            };
            filtered(items, &vp.filter, vp.sub_attr.as_deref(), op, value, path)
        }
    }
}

/// The object an attribute lives in: the resource itself, or its extension's object for
/// a path prefixed with an extension schema's URN. `None` when removing from an absent
/// extension.
fn container<'a>(
    resource: &'a mut Value,
    a: &AttrPath,
    op: Op,
) -> Result<Option<&'a mut Value>, ScimError> {
    match a.uri.as_deref() {
        None => Ok(Some(resource)),
        Some(u) if u.eq_ignore_ascii_case(USER_SCHEMA) || u.eq_ignore_ascii_case(GROUP_SCHEMA) => {
            Ok(Some(resource))
        }
        Some(u) => Ok(child(resource, u, op != Op::Remove)),
    }
}

/// The member named `name` (any case) of an object, created as `{}` when `create`.
fn child<'a>(obj: &'a mut Value, name: &str, create: bool) -> Option<&'a mut Value> {
    let map = obj.as_object_mut()?;
    let key = map
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .or_else(|| create.then(|| name.to_string()))?;
    Some(map.entry(key).or_insert_with(|| Value::Object(Map::new())))
}

/// Adds, replaces or removes the member `name` of `obj`.
fn set(obj: &mut Value, name: &str, op: Op, value: Option<Value>) -> Result<(), ScimError> {
    let Some(map) = obj.as_object_mut() else {
        return Err(ScimError::bad(
            "invalidPath",
            format!("{name} is inside a value that is not an object"),
        ));
    };
    let key = map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned();
    match (op, value) {
        (Op::Remove, Some(Value::Array(gone)))
            if key.as_ref().is_some_and(|k| map[k].is_array()) =>
        {
            // Entra ID: {"op":"Remove","path":"members","value":[{"value":"id"}]}
            if let Some(Value::Array(items)) = key.and_then(|k| map.get_mut(&k)) {
                items.retain(|it| !gone.iter().any(|g| same_value(it, g)));
            }
        }
        (Op::Remove, _) => {
            if let Some(k) = key {
                map.remove(&k);
            }
        }
        (op, Some(v)) => {
            let k = key.unwrap_or_else(|| name.to_string());
            let slot = map.entry(k).or_insert(Value::Null);
            match (op, slot, v) {
                (Op::Add, Value::Array(items), Value::Array(new)) => {
                    for n in new {
                        if !items.iter().any(|it| same_value(it, &n)) {
                            items.push(n);
                        }
                    }
                }
                (Op::Add, Value::Array(items), n) => {
                    if !items.iter().any(|it| same_value(it, &n)) {
                        items.push(n);
                    }
                }
                (_, Value::Object(old), Value::Object(new)) => {
                    for (k, v) in new {
                        let existing = old.keys().find(|o| o.eq_ignore_ascii_case(&k)).cloned();
                        old.insert(existing.unwrap_or(k), v);
                    }
                }
                (_, slot, v) => *slot = v,
            }
        }
        (_, None) => {}
    }
    Ok(())
}

/// Two elements of a multi-valued attribute are the same when their `value`s are (or,
/// for plain values, when they are equal).
fn same_value(a: &Value, b: &Value) -> bool {
    match (get_ci(a, "value"), get_ci(b, "value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// An op on the elements of a multi-valued attribute a filter selects.
fn filtered(
    items: &mut Vec<Value>,
    filter: &ValFilter,
    sub: Option<&str>,
    op: Op,
    value: Option<Value>,
    path: &str,
) -> Result<(), ScimError> {
    let hits: Vec<usize> = (0..items.len())
        .filter(|&i| val_matches(filter, &items[i]))
        .collect();
    if op == Op::Remove {
        match sub {
            None => {
                let mut i = 0;
                items.retain(|_| {
                    i += 1;
                    !hits.contains(&(i - 1))
                });
            }
            Some(s) => {
                for &i in &hits {
                    set(&mut items[i], s, Op::Remove, None)?;
                }
            }
        }
        return Ok(());
    }
    if hits.is_empty() {
        // Entra ID replaces `emails[type eq "work"].value` on a user with no work email.
        let Some(mut fresh) = element_from(filter) else {
            return Err(ScimError::bad(
                "noTarget",
                format!("{path:?} selects no value"),
            ));
        };
        match sub {
            Some(s) => set(&mut fresh, s, Op::Replace, value)?,
            None => set_whole(&mut fresh, value),
        }
        items.push(fresh);
        return Ok(());
    }
    for i in hits {
        match sub {
            Some(s) => set(&mut items[i], s, Op::Replace, value.clone())?,
            None => set_whole(&mut items[i], value.clone()),
        }
    }
    Ok(())
}

fn set_whole(item: &mut Value, value: Option<Value>) {
    match (item, value) {
        (Value::Object(old), Some(Value::Object(new))) => old.extend(new),
        (item, Some(v)) => *item = v,
        (_, None) => {}
    }
}

/// `type eq "work"` (or several joined by `and`) as the element `{"type": "work"}`.
fn element_from(f: &ValFilter) -> Option<Value> {
    let mut out = Map::new();
    fn walk(f: &ValFilter, out: &mut Map<String, Value>) -> bool {
        match f {
            ValFilter::Attr(AttrExp::Comparison(p, CompareOp::Eq, v)) if p.sub_attr.is_none() => {
                let v = match v {
                    CompValue::Str(s) => Value::String(s.clone()),
                    CompValue::True => Value::Bool(true),
                    CompValue::False => Value::Bool(false),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::Null => return false,
                };
                out.insert(p.name.clone(), v);
                true
            }
            ValFilter::And(ops) => ops.as_slice().iter().all(|f| walk(f, out)),
            _ => false,
        }
    }
    walk(f, &mut out).then_some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(mut r: Value, ops: Value) -> Result<Value, ScimError> {
        apply(
            &mut r,
            &json!({"schemas": [PATCH_SCHEMA], "Operations": ops}),
        )?;
        Ok(r)
    }

    #[test]
    fn entra_shapes_apply() {
        let user = json!({"userName": "a@x.com", "active": true});
        // `active` toggled without a path, op capitalised, value a string
        let r = patch(
            user.clone(),
            json!([{"op": "Replace", "value": {"active": "False"}}]),
        )
        .unwrap();
        assert_eq!(r["active"], "False");
        // dotted keys in a pathless value
        let r = patch(
            user.clone(),
            json!([{"op": "Add", "value": {"name.givenName": "Al", "displayName": "Al L"}}]),
        )
        .unwrap();
        assert_eq!(r["name"]["givenName"], "Al");
        assert_eq!(r["displayName"], "Al L");
        // an email selected by a filter that matches none is created from the filter
        let r = patch(user, json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@x.com"}])).unwrap();
        assert_eq!(r["emails"], json!([{"type": "work", "value": "a@x.com"}]));
        // member removal as a value array, and by filter
        let group = json!({"displayName": "g", "members": [{"value": "1"}, {"value": "2"}, {"value": "3"}]});
        let r = patch(
            group.clone(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "2"}]}]),
        )
        .unwrap();
        assert_eq!(r["members"], json!([{"value": "1"}, {"value": "3"}]));
        let r = patch(
            group,
            json!([{"op": "remove", "path": "members[value eq \"3\"]"}]),
        )
        .unwrap();
        assert_eq!(r["members"], json!([{"value": "1"}, {"value": "2"}]));
    }

    #[test]
    fn okta_shapes_apply() {
        let user = json!({"userName": "a@x.com", "active": true, "name": {"givenName": "A", "familyName": "B"}});
        let r = patch(
            user,
            json!([{"op": "replace", "value": {"active": false}},
            {"op": "replace", "value": {"name": {"givenName": "Ann"}}}]),
        )
        .unwrap();
        assert_eq!(r["active"], false);
        assert_eq!(r["name"], json!({"givenName": "Ann", "familyName": "B"}));
        let group = json!({"displayName": "g", "members": [{"value": "1"}]});
        let r = patch(group, json!([{"op": "add", "path": "members", "value": [{"value": "2", "display": "b"}, {"value": "1"}]},
            {"op": "replace", "path": "displayName", "value": "h"}])).unwrap();
        assert_eq!(
            r["members"],
            json!([{"value": "1"}, {"value": "2", "display": "b"}])
        );
        assert_eq!(r["displayName"], "h");
    }

    #[test]
    fn rfc_paths_add_replace_and_remove() {
        let user = json!({"userName": "a", "emails": [{"value": "a@w.com", "type": "work"}, {"value": "a@h.com", "type": "home"}]});
        let r = patch(
            user.clone(),
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        )
        .unwrap();
        assert_eq!(r["emails"], json!([{"value": "a@w.com", "type": "work"}]));
        let r = patch(user.clone(), json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "b@w.com"}])).unwrap();
        assert_eq!(r["emails"][0]["value"], "b@w.com");
        let r = patch(user.clone(), json!([{"op": "remove", "path": "emails"}, {"op": "add", "path": "title", "value": "SOC"}])).unwrap();
        assert_eq!(r, json!({"userName": "a", "title": "SOC"}));
        let r = patch(user, json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:core:2.0:User:userName"}])).unwrap();
        assert!(r.get("userName").is_none());
    }

    #[test]
    fn malformed_patches_say_what_is_wrong() {
        let r = json!({"userName": "a"});
        let bad = |ops: Value| patch(r.clone(), ops).unwrap_err().scim_type;
        assert_eq!(
            bad(json!([{"op": "move", "path": "a"}])),
            Some("invalidSyntax")
        );
        assert_eq!(bad(json!([{"op": "remove"}])), Some("noTarget"));
        assert_eq!(
            bad(json!([{"op": "add", "path": "emails[type eq"}])),
            Some("invalidPath")
        );
        assert_eq!(
            bad(json!([{"op": "add", "path": "title"}])),
            Some("invalidValue")
        );
        let mut x = r.clone();
        let e = apply(&mut x, &json!({"Operations": []})).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
    }
}
