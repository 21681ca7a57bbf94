//! The route table: every operation and OAuth token endpoint of the catalog, as path
//! patterns under the simulator's address, built by rendering the connectors' URL templates.

use std::collections::{BTreeMap, BTreeSet};

use arx_core::catalog::{AuthScheme, Catalog, Connector, HttpMethod, ParamLocation};

use crate::wire;

#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Param(String),
}

/// One operation's pattern.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) connector: String,
    pub(crate) op: String,
    method: HttpMethod,
    segs: Vec<Seg>,
}

#[derive(Debug, Default)]
pub(crate) struct RouteTable {
    routes: Vec<Route>,
    /// Token endpoint path → connector name.
    tokens: BTreeMap<String, String>,
    /// Connector name → rendered API base URL.
    bases: BTreeMap<String, String>,
}

/// Fills `{name}` placeholders from `vars` (and `{base_url}` from `base_url`); unknown
/// placeholders are kept as they are.
pub(crate) fn render(
    template: &str,
    vars: &BTreeMap<String, String>,
    base_url: Option<&str>,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = &after[..j];
        match (name, base_url, vars.get(name)) {
            ("base_url", Some(b), _) => out.push_str(b),
            (_, _, Some(v)) => out.push_str(v),
            _ => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    out
}

/// The path part of an absolute URL (without query), `""` when there is none.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split_once('?').map_or(rest, |(p, _)| p);
    rest.find('/').map_or("", |i| &rest[i..])
}

/// Variables used as the host of a URL template (`…://{name}`), in order of appearance,
/// the base URL's first.
fn host_variables(c: &Connector) -> Vec<String> {
    let mut templates = vec![c.base_url.as_str()];
    if let AuthScheme::Oauth2ClientCredentials { token_url, .. } = &c.auth {
        templates.push(token_url);
    }
    templates.extend(c.operations.values().filter_map(|o| o.base_url.as_deref()));
    let mut out: Vec<String> = Vec::new();
    for t in templates {
        for (i, _) in t.match_indices("://{") {
            let after = &t[i + 4..];
            if let Some(j) = after.find('}') {
                let name = after[..j].to_owned();
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// Each host variable of a connector with the path prefix its requests are served under:
/// the base URL's host `/<connector>`, the others `/<connector>/<stem>`.
pub(crate) fn host_prefixes(c: &Connector) -> Vec<(String, String)> {
    host_variables(c)
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let prefix = if i == 0 {
                format!("/{}", c.name)
            } else {
                let stem = name.strip_suffix("_host").unwrap_or(&name);
                format!("/{}/{stem}", c.name)
            };
            (name, prefix)
        })
        .collect()
}

/// The variables with every host under one address and its path prefix: how the route
/// table is built (each host's own listener adds the prefix back).
pub(crate) fn variables_for(c: &Connector, base_url: &str) -> BTreeMap<String, String> {
    let authority = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let hosts = host_prefixes(c);
    c.variables
        .iter()
        .map(|(name, var)| {
            let value = if name == "scheme" {
                "http".to_owned()
            } else if let Some((_, prefix)) = hosts.iter().find(|(h, _)| h == name) {
                format!("{authority}{prefix}")
            } else {
                var.default
                    .clone()
                    .unwrap_or_else(|| format!("demo-{}", name.replace('_', "-")))
            };
            (name.clone(), value)
        })
        .collect()
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl RouteTable {
    pub(crate) fn build(catalog: &Catalog, base_url: &str) -> RouteTable {
        let mut table = RouteTable::default();
        for c in catalog.iter() {
            let vars = variables_for(c, base_url);
            let api_base = render(&c.base_url, &vars, None);
            if let AuthScheme::Oauth2ClientCredentials { token_url, .. } = &c.auth {
                let url = render(token_url, &vars, Some(&api_base));
                table.tokens.insert(
                    url_path(&url).trim_end_matches('/').to_owned(),
                    c.name.clone(),
                );
            }
            for (id, op) in &c.operations {
                let root = op
                    .base_url
                    .as_deref()
                    .map_or_else(|| api_base.clone(), |t| render(t, &vars, Some(&api_base)));
                let path_params: BTreeSet<&str> = op
                    .params
                    .iter()
                    .filter(|(_, p)| p.location == ParamLocation::Path)
                    .map(|(n, _)| n.as_str())
                    .collect();
                let fill: BTreeMap<String, String> = vars
                    .iter()
                    .filter(|(k, _)| !path_params.contains(k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let full = format!("{}{}", url_path(&root), render(&op.path, &fill, None));
                let segs = segments(&full)
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => Seg::Param(name.to_owned()),
                            None => Seg::Lit(s.to_owned()),
                        },
                    )
                    .collect();
                table.routes.push(Route {
                    connector: c.name.clone(),
                    op: id.clone(),
                    method: op.method,
                    segs,
                });
            }
            table.bases.insert(c.name.clone(), api_base);
        }
        table
    }

    /// The connector whose token endpoint is `path`.
    pub(crate) fn token_endpoint(&self, path: &str) -> Option<&str> {
        self.tokens
            .get(path.trim_end_matches('/'))
            .map(String::as_str)
    }

    /// The rendered API base URL of a connector.
    pub(crate) fn api_base(&self, connector: &str) -> Option<&str> {
        self.bases.get(connector).map(String::as_str)
    }

    /// Routes matching `method` and `path`, each with its decoded path parameters.
    pub(crate) fn find(&self, method: &str, path: &str) -> Vec<(&Route, BTreeMap<String, String>)> {
        let req: Vec<&str> = segments(path).collect();
        self.routes
            .iter()
            .filter(|r| r.method.as_str() == method && r.segs.len() == req.len())
            .filter_map(|r| {
                let mut params = BTreeMap::new();
                for (seg, got) in r.segs.iter().zip(&req) {
                    match seg {
                        Seg::Lit(l) if l == got || *l == wire::decode(got) => {}
                        Seg::Lit(_) => return None,
                        Seg::Param(name) => {
                            params.insert(name.clone(), wire::decode(got));
                        }
                    }
                }
                Some((r, params))
            })
            .collect()
    }
}
