//! Checks one parsed connector file and reports every problem it has, each with the file,
//! the operation and the field, so an author fixes a file in one pass instead of one
//! error per start.

use std::fmt;

use super::classes::{data_class_names, is_data_class};
use super::model::{
    AuthScheme, Connector, Operation, ParamLocation, ParamType, VariableKind, template_names,
};

/// One problem of a connector file: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// The connector's name, once the file parsed far enough to have one.
    pub connector: Option<String>,
    /// The operation at fault; `None` for a connector-wide field.
    pub operation: Option<String>,
    /// The field at fault (`path`, `base_url`, `params.ids`, `state.read`...); empty when
    /// the file could not be parsed.
    pub field: String,
    pub problem: String,
}

impl Problem {
    pub(super) fn new(
        file: &str,
        connector: &str,
        operation: Option<&str>,
        field: &str,
        problem: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.into(),
            connector: Some(connector.into()),
            operation: operation.map(Into::into),
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// A file that is not a connector at all (bad YAML, unknown field, bad pattern).
    pub(super) fn unparsed(file: &str, problem: String) -> Problem {
        Problem {
            file: file.into(),
            connector: None,
            operation: None,
            field: String::new(),
            problem,
        }
    }

    /// All problems, one per line, in the order found.
    pub(super) fn join(problems: &[Problem]) -> String {
        let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
        match lines.len() {
            1 => lines.join(""),
            n => format!("{n} problems\n{}", lines.join("\n")),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(c) = &self.connector {
            write!(f, " ({c})")?;
        }
        f.write_str(":")?;
        if let Some(op) = &self.operation {
            write!(f, " operation '{op}':")?;
        }
        if !self.field.is_empty() {
            write!(f, " {}:", self.field)?;
        }
        write!(f, " {}", self.problem)
    }
}

/// Collects the problems of one connector file.
struct Report<'a> {
    file: &'a str,
    connector: &'a str,
    problems: Vec<Problem>,
}

impl Report<'_> {
    fn add(&mut self, operation: Option<&str>, field: &str, problem: impl Into<String>) {
        self.problems.push(Problem::new(
            self.file,
            self.connector,
            operation,
            field,
            problem,
        ));
    }
}

/// Every problem of connector `c`, read from `file`; empty when it is valid.
pub(super) fn check(file: &str, c: &Connector) -> Vec<Problem> {
    let mut r = Report {
        file,
        connector: &c.name,
        problems: Vec::new(),
    };
    let name_ok = !c.name.is_empty()
        && c.name
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
    if !name_ok {
        r.add(None, "name", "must be lowercase letters, digits and '_'");
    }
    if c.operations.is_empty() {
        r.add(None, "operations", "declares no operations");
    }
    for (id, op) in &c.operations {
        check_operation(&mut r, c, id, op);
    }
    let mut templates = vec![(None, "base_url", c.base_url.as_str())];
    if let AuthScheme::Oauth2ClientCredentials { token_url, .. } = &c.auth {
        templates.push((None, "auth.token_url", token_url));
    }
    for (id, op) in &c.operations {
        if let Some(b) = &op.base_url {
            templates.push((Some(id.as_str()), "base_url", b));
        }
    }
    for (op, field, t) in templates {
        check_url_template(&mut r, c, op, field, t);
        for name in template_names(t) {
            let allowed =
                c.variables.contains_key(name) || (field == "auth.token_url" && name == "base_url");
            if !allowed {
                r.add(op, field, format!("uses undeclared variable {{{name}}}"));
            }
        }
    }
    r.problems
}

fn check_operation(r: &mut Report<'_>, c: &Connector, id: &str, op: &Operation) {
    let at = Some(id);
    let well_formed = id
        .split_once(':')
        .is_some_and(|(resource, action)| !resource.is_empty() && !action.is_empty());
    if !well_formed {
        r.add(at, "id", "is not of the form resource:action");
    }
    for name in template_names(&op.path) {
        let is_param = op
            .params
            .get(name)
            .is_some_and(|p| p.location == ParamLocation::Path)
            || op
                .each_param()
                .is_some_and(|(_, p)| p.wire.as_deref() == Some(name));
        if !is_param && !c.variables.contains_key(name) {
            r.add(
                at,
                "path",
                format!("uses {{{name}}}, which is neither a path param nor a variable"),
            );
        }
    }
    let each: Vec<_> = op
        .params
        .iter()
        .filter(|(_, p)| p.location == ParamLocation::Each)
        .collect();
    if let Some((pname, p)) = each.first() {
        let fills_path = p
            .wire
            .as_deref()
            .is_some_and(|w| op.path.contains(&format!("{{{w}}}")));
        if each.len() > 1 || p.kind != ParamType::Array || !fills_path {
            r.add(
                at,
                &format!("params.{pname}"),
                "an 'in: each' param must be the only one, of type array, with a wire naming a path placeholder",
            );
        }
    }
    if let Some(st) = &op.state {
        let read = c.operations.get(&st.read);
        if read.is_none_or(|rd| rd.writes) {
            r.add(
                at,
                "state.read",
                format!("'{}' is not a reading operation of {}", st.read, c.name),
            );
        }
        let call_params = st
            .params
            .values()
            .chain(st.sets_from.values())
            .chain(st.each.as_ref().map(|e| &e.param))
            .chain(st.sets_by.as_ref().map(|b| &b.param));
        for p in call_params {
            if !op.params.contains_key(p) {
                r.add(
                    at,
                    "state",
                    format!("names param '{p}', which the operation does not have"),
                );
            }
        }
    }
    check_data_classes(r, id, &op.data_classes);
    if let Err(e) = crate::projection::check(&op.projection) {
        r.add(at, "projection", e);
    }
    for (pname, p) in &op.params {
        if p.location == ParamLocation::Path && !op.path.contains(&format!("{{{pname}}}")) {
            r.add(
                at,
                &format!("params.{pname}"),
                "a path param that does not appear in the path",
            );
        }
    }
}

/// An operation declares at least one data class, each known and named once.
fn check_data_classes(r: &mut Report<'_>, id: &str, classes: &[String]) {
    let at = Some(id);
    if classes.is_empty() {
        r.add(
            at,
            "data_classes",
            format!(
                "declares no data classes; list what the operation reads or writes, from {}",
                data_class_names()
            ),
        );
    }
    for (i, class) in classes.iter().enumerate() {
        if !is_data_class(class) {
            r.add(
                at,
                "data_classes",
                format!("'{class}' is not a data class; use {}", data_class_names()),
            );
        } else if classes[..i].contains(class) {
            r.add(at, "data_classes", format!("'{class}' is listed twice"));
        }
    }
}

/// A URL template starts with `https://`, or `{v}://` where `v` is a scheme variable,
/// and its authority is filled only from host variables (or `{base_url}` whole).
fn check_url_template(r: &mut Report<'_>, c: &Connector, op: Option<&str>, field: &str, t: &str) {
    if t.starts_with("{base_url}") {
        return;
    }
    let Some((scheme, rest)) = t.split_once("://") else {
        r.add(op, field, format!("'{t}' is not an absolute URL template"));
        return;
    };
    let kind = |name: &str| c.variables.get(name).map(|v| v.kind);
    let scheme_ok = scheme == "https"
        || scheme
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .is_some_and(|n| kind(n) == Some(VariableKind::Scheme));
    if !scheme_ok {
        r.add(
            op,
            field,
            format!("'{t}' must start with https:// or {{v}}:// where v is of type scheme"),
        );
    }
    let authority = rest.split('/').next().unwrap_or("");
    for name in template_names(authority) {
        if kind(name) != Some(VariableKind::Host) {
            r.add(
                op,
                field,
                format!("'{t}': variable {{{name}}} fills the host, so it must be of type host"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Catalog;

    /// Three different problems in one file (a path placeholder without a source, a
    /// host filled by an untyped variable, a state read that writes) are all reported,
    /// each naming the file, the operation and the field.
    #[test]
    fn a_file_with_three_problems_reports_all_three() {
        let bad = super::super::tests::connector_x(
            false,
            "  items:read:\n    method: GET\n    path: /items/{item_id}\n    scope: read\n    risk: low\n    data_classes: [tickets]\n    description: d\n\
             \x20 items:write:\n    method: POST\n    path: /items\n    scope: write\n    risk: medium\n    data_classes: [tickets]\n    description: d\n    writes: true\n    state: { read: \"items:write\", records: items, key: id, fields: [id] }\n",
        );
        let err = Catalog::from_sources([("x.yaml", bad.as_str())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("3 problems"), "{err}");
        for expected in [
            "x.yaml (x): operation 'items:read': path: uses {item_id}",
            "x.yaml (x): base_url: 'https://{host}': variable {host} fills the host, so it must be of type host",
            "x.yaml (x): operation 'items:write': state.read: 'items:write' is not a reading operation",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in {err}");
        }
    }

    /// Every file is read before failing: a broken file does not hide another's problem.
    #[test]
    fn every_files_problems_are_reported() {
        let good = r#"
name: y
display_name: Y
category: siem
vendor_docs: https://example.com
base_url: "https://api.example.com"
auth: { scheme: bearer }
operations:
  items:read: { method: GET, path: /items, scope: read, risk: low, data_classes: [tickets], description: d }
"#;
        let no_ops = good.replace("name: y", "name: z").replace(
            "operations:\n  items:read: { method: GET, path: /items, scope: read, risk: low, data_classes: [tickets], description: d }\n",
            "operations: {}\n",
        );
        let err = Catalog::from_sources([
            ("a.yaml", "name: [unclosed"),
            ("y.yaml", good),
            ("z.yaml", no_ops.as_str()),
            ("y2.yaml", good),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("3 problems"), "{err}");
        assert!(err.contains("a.yaml:"), "{err}");
        assert!(
            err.contains("z.yaml (z): operations: declares no operations"),
            "{err}"
        );
        assert!(
            err.contains("y2.yaml (y): name: duplicate connector 'y'"),
            "{err}"
        );
        assert!(Catalog::from_sources([("y.yaml", good)]).is_ok());
    }
}
