//! Response projections (docs/architecture.md §7): the few non-sensitive fields of a vendor's
//! answer that an operation declares (`projection:` in its connector file) and that the
//! chain keeps next to the answer's hash. Everything else of the answer stays out of the
//! append-only chain, in the purgeable `response_bodies` table.
//!
//! A path is dotted field names; `*` stands for every element of an array
//! (`resources.*.id`, `meta.query_time`, `*.status` for an answer that is an array).

use serde_json::{Map, Value};

/// Most paths one operation may declare, and most segments in a path.
const MAX_PATHS: usize = 32;
const MAX_SEGMENTS: usize = 8;

/// Why a declared path is not one; `None` when it is fine.
pub fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("is empty");
    }
    let segments: Vec<&str> = path.split('.').collect();
    if segments.len() > MAX_SEGMENTS {
        return Some("has more than 8 segments");
    }
    for s in segments {
        if s.is_empty() {
            return Some("has an empty segment (two dots, or a dot at an end)");
        }
        if s != "*"
            && !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '@' | '$'))
        {
            return Some(
                "has a segment that is neither '*' nor a field name (letters, digits, _ - @ $)",
            );
        }
    }
    None
}

/// Checks an operation's declared paths: each well formed, none twice, not too many.
pub fn check(paths: &[String]) -> Result<(), String> {
    if paths.len() > MAX_PATHS {
        return Err(format!("projection declares more than {MAX_PATHS} paths"));
    }
    for (i, p) in paths.iter().enumerate() {
        if let Some(why) = path_problem(p) {
            return Err(format!("projection path '{p}' {why}"));
        }
        if paths[..i].contains(p) {
            return Err(format!("projection path '{p}' is declared twice"));
        }
    }
    Ok(())
}

/// The declared fields of `body`, keyed by path: the value at a path without `*`
/// (`null` when absent), the list of values found at a path with `*`.
pub fn project(paths: &[String], body: &Value) -> Value {
    let mut out = Map::new();
    for p in paths {
        let segments: Vec<&str> = p.split('.').collect();
        let v = if segments.contains(&"*") {
            let mut found = Vec::new();
            collect(body, &segments, &mut found);
            Value::Array(found)
        } else {
            segments
                .iter()
                .try_fold(body, |v, s| v.get(*s))
                .cloned()
                .unwrap_or(Value::Null)
        };
        out.insert(p.clone(), v);
    }
    Value::Object(out)
}

fn collect(v: &Value, segments: &[&str], found: &mut Vec<Value>) {
    let Some((first, rest)) = segments.split_first() else {
        found.push(v.clone());
        return;
    };
    match (*first, v) {
        ("*", Value::Array(items)) => items.iter().for_each(|i| collect(i, rest, found)),
        ("*", _) => {}
        (name, _) => {
            if let Some(next) = v.get(name) {
                collect(next, rest, found);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn projects_only_the_declared_fields() {
        let body = json!({
            "meta": {"query_time": 0.004, "trace_id": "t"},
            "resources": [{"id": "a", "status": "new", "name": "Alice"}, {"id": "b", "name": "Bob"}],
        });
        let p = project(
            &paths(&[
                "resources.*.id",
                "resources.*.status",
                "meta.query_time",
                "meta.nope",
            ]),
            &body,
        );
        assert_eq!(
            p,
            json!({"resources.*.id": ["a", "b"], "resources.*.status": ["new"],
                   "meta.query_time": 0.004, "meta.nope": null})
        );
        let top = project(&paths(&["*.id"]), &json!([{"id": 1, "email": "x@y"}]));
        assert_eq!(top, json!({"*.id": [1]}));
        assert_eq!(project(&[], &body), json!({}));
    }

    #[test]
    fn bad_paths_are_refused_with_the_reason() {
        for bad in ["", "a..b", ".a", "a.", "a.b c", "a/b", "a.b.c.d.e.f.g.h.i"] {
            assert!(path_problem(bad).is_some(), "{bad:?} accepted");
        }
        for good in [
            "id",
            "resources.*.id",
            "*.status",
            "value.@odata-id",
            "meta.$count",
        ] {
            assert_eq!(path_problem(good), None, "{good}");
        }
        assert!(check(&paths(&["id", "id"])).unwrap_err().contains("twice"));
    }
}
