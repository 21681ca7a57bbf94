//! SCIM filters (RFC 7644 §3.4.2.2): parsed by the `scim_v2` crate's grammar, evaluated
//! here against a resource's JSON, as the client sees it. Attribute names are
//! case-insensitive; string comparisons are too, except for `id` and `externalId`
//! (RFC 7643 makes those case-exact). An attribute a resource does not have matches
//! nothing (and `ne` of it matches).

use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, ValFilter};
use serde_json::Value;

use super::{GROUP_SCHEMA, ScimError, USER_SCHEMA, get_ci};

/// The longest filter accepted, in bytes.
const MAX_FILTER: usize = 4096;

pub fn parse(s: &str) -> Result<Filter, ScimError> {
    if s.len() > MAX_FILTER {
        return Err(ScimError::bad(
            "invalidFilter",
            format!("a filter has at most {MAX_FILTER} characters"),
        ));
    }
    s.parse::<Filter>()
        .map_err(|e| ScimError::bad("invalidFilter", format!("filter {s:?}: {e}")))
}

/// Whether `resource` is one the filter selects.
pub fn matches(f: &Filter, resource: &Value) -> bool {
    match f {
        Filter::Attr(e) => attr_exp(e, resource),
        Filter::ValuePath(vp) => elements(resource, &vp.attr)
            .into_iter()
            .any(|el| val_matches(&vp.filter, el)),
        Filter::Not(f) => !matches(f, resource),
        Filter::And(ops) => ops.as_slice().iter().all(|f| matches(f, resource)),
        Filter::Or(ops) => ops.as_slice().iter().any(|f| matches(f, resource)),
    }
}

/// Whether one element of a multi-valued attribute (`emails[...]`) is selected.
pub fn val_matches(f: &ValFilter, element: &Value) -> bool {
    match f {
        ValFilter::Attr(e) => attr_exp(e, element),
        ValFilter::Not(f) => !val_matches(f, element),
        ValFilter::And(ops) => ops.as_slice().iter().all(|f| val_matches(f, element)),
        ValFilter::Or(ops) => ops.as_slice().iter().any(|f| val_matches(f, element)),
    }
}

/// `userName eq "x"` (alone): the one filter a directory sends for every user it
/// matches, answered by a lookup instead of a scan.
pub fn user_name_eq(f: &Filter) -> Option<&str> {
    match f {
        Filter::Attr(AttrExp::Comparison(p, CompareOp::Eq, CompValue::Str(s)))
            if p.name.eq_ignore_ascii_case("userName") && p.sub_attr.is_none() && core(p) =>
        {
            Some(s)
        }
        _ => None,
    }
}

fn core(p: &AttrPath) -> bool {
    p.uri
        .as_deref()
        .is_none_or(|u| u.eq_ignore_ascii_case(USER_SCHEMA) || u.eq_ignore_ascii_case(GROUP_SCHEMA))
}

fn attr_exp(e: &AttrExp, on: &Value) -> bool {
    match e {
        AttrExp::Present(p) => values(on, p).into_iter().any(present),
        AttrExp::Comparison(p, CompareOp::Ne, v) => {
            let exact = case_exact(p);
            !values(on, p)
                .into_iter()
                .any(|x| compare(x, &CompareOp::Eq, v, exact))
        }
        AttrExp::Comparison(p, op, v) => {
            let exact = case_exact(p);
            values(on, p).into_iter().any(|x| compare(x, op, v, exact))
        }
    }
}

fn case_exact(p: &AttrPath) -> bool {
    p.sub_attr.is_none()
        && (p.name.eq_ignore_ascii_case("id") || p.name.eq_ignore_ascii_case("externalId"))
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

/// The attribute's top value, as the elements of a multi-valued one or a one-item list.
fn elements<'a>(on: &'a Value, p: &AttrPath) -> Vec<&'a Value> {
    let base = if core(p) {
        Some(on)
    } else {
        p.uri.as_deref().and_then(|u| get_ci(on, u))
    };
    match base.and_then(|b| get_ci(b, &p.name)) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    }
}

/// The values a path names: `name.givenName` the sub-attribute; `emails` the `value`
/// of each email (RFC 7644: a complex multi-valued attribute compares by its `value`).
fn values<'a>(on: &'a Value, p: &AttrPath) -> Vec<&'a Value> {
    let items = elements(on, p);
    match &p.sub_attr {
        Some(sub) => items.into_iter().filter_map(|i| get_ci(i, sub)).collect(),
        None => items
            .into_iter()
            .map(|i| {
                if i.is_object() {
                    get_ci(i, "value").unwrap_or(i)
                } else {
                    i
                }
            })
            .collect(),
    }
}

fn compare(x: &Value, op: &CompareOp, v: &CompValue, exact: bool) -> bool {
    use std::cmp::Ordering;
    let ordered = |o: Ordering| match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    };
    match (x, v) {
        (Value::String(a), CompValue::Str(b)) => {
            let (a, b) = if exact {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => ordered(a.cmp(&b)),
            }
        }
        (Value::Bool(a), CompValue::True | CompValue::False) => {
            let b = matches!(v, CompValue::True);
            matches!(op, CompareOp::Eq) && *a == b
        }
        (Value::Number(a), CompValue::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(ordered),
            _ => false,
        },
        (Value::Null, CompValue::Null) => matches!(op, CompareOp::Eq),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alice() -> Value {
        json!({"id": "A1", "externalId": "ext-A", "userName": "Alice@Example.com",
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "emails": [{"value": "alice@example.com", "type": "work", "primary": true},
                       {"value": "al@home.org", "type": "home"}],
            "active": true, "meta": {"lastModified": "2026-11-01T00:00:00.000Z"}})
    }

    fn hit(f: &str) -> bool {
        matches(&parse(f).unwrap(), &alice())
    }

    #[test]
    fn the_rfc_operators_match_as_specified() {
        let yes = [
            r#"userName eq "alice@example.com""#,
            r#"USERNAME Eq "ALICE@example.COM""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "alice""#,
            r#"name.familyName co "dde""#,
            r#"userName ew ".com""#,
            r#"emails co "home.org""#,
            r#"emails[type eq "work" and value ew "example.com"]"#,
            r#"emails[not (type eq "other")]"#,
            r#"title pr or name.givenName pr"#,
            r#"active eq true"#,
            r#"meta.lastModified gt "2026-10-31T00:00:00Z""#,
            r#"meta.lastModified le "2026-11-01T00:00:00.000Z""#,
            r#"not (userName eq "bob")"#,
            r#"(userName sw "a" or userName sw "b") and active eq true"#,
            r#"externalId eq "ext-A""#,
            r#"userName ne "bob""#,
            r#"title ne "x""#,
        ];
        for f in yes {
            assert!(hit(f), "{f} should match");
        }
        let no = [
            r#"externalId eq "EXT-A""#,
            r#"id eq "a1""#,
            r#"emails[type eq "home" and value ew "example.com"]"#,
            r#"title pr"#,
            r#"active eq false"#,
            r#"userName gt "b""#,
            r#"userName eq "alice@example.com" and active eq false"#,
            r#"nosuch eq "x""#,
            r#"active co "t""#,
        ];
        for f in no {
            assert!(!hit(f), "{f} should not match");
        }
    }

    #[test]
    fn bad_filters_are_invalid_filter_errors() {
        for f in [
            "userName eq",
            "userName xx \"a\"",
            "(userName eq \"a\"",
            "emails[type eq \"w\"",
        ] {
            let e = parse(f).unwrap_err();
            assert_eq!((e.status, e.scim_type), (400, Some("invalidFilter")), "{f}");
        }
        assert!(parse(&"a".repeat(5000)).is_err());
    }

    #[test]
    fn the_user_name_lookup_is_taken_only_for_that_exact_shape() {
        let f = parse(r#"userName eq "Bob""#).unwrap();
        assert_eq!(user_name_eq(&f), Some("Bob"));
        for other in [
            r#"userName eq "a" and active eq true"#,
            r#"userName sw "a""#,
            r#"name.userName eq "a""#,
        ] {
            assert_eq!(user_name_eq(&parse(other).unwrap()), None, "{other}");
        }
    }
}
