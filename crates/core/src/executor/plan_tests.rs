//! Request plans of every connector in `connectors/`, without a network: for each one,
//! a representative read and write checked by hand (method, URL, where each param went,
//! the auth header's shape), then every operation checked against its declaration.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::ExecError;
use super::plan::{Body, Call, HeaderValue, Plan, RequestPlan};
use crate::catalog::{
    AuthScheme, BodyEncoding, Catalog, Connector, Operation, ParamLocation, ParamType, VariableKind,
};
use crate::ids::{InstanceId, OrgId};
use crate::model::{Environment, Instance};
use crate::secret::{Credentials, Secret};

const SECRETS: [(&str, &str); 6] = [
    ("token", "tok-SECRET-1"),
    ("username", "user-SECRET-2"),
    ("password", "pw-SECRET-3"),
    ("api_key", "key-SECRET-4"),
    ("client_id", "cid-SECRET-5"),
    ("client_secret", "cs-SECRET-6"),
];

fn creds() -> Credentials {
    Credentials(
        SECRETS
            .iter()
            .map(|(k, v)| (k.to_string(), Secret::new(*v)))
            .collect(),
    )
}

/// An instance giving every variable without a default a plausible value (and a public
/// host where the default is the vendor's on-premises `localhost`).
fn instance(c: &Connector) -> Instance {
    let public = format!("{}.example.com", c.name);
    let variables = c
        .variables
        .iter()
        .filter_map(|(k, v)| {
            let value = match (v.kind, v.default.as_deref()) {
                (VariableKind::Host, Some(d)) if d.starts_with("localhost") => {
                    d.replace("localhost", &public)
                }
                (_, Some(_)) => return None,
                (VariableKind::Scheme, None) => "https".to_string(),
                (VariableKind::Host, None) => public.clone(),
                (VariableKind::Segment, None) => format!("{k}-1"),
            };
            Some((k.clone(), value))
        })
        .collect();
    Instance {
        id: InstanceId::new(),
        org_id: OrgId::new(),
        connector: c.name.clone(),
        name: "test".into(),
        environment: Environment::Prod,
        variables,
        sensitivity: None,
        sealed_credentials: None,
        credentials_set: true,
        created_ms: 0,
    }
}

/// Plans a call of `op` of `c` on `inst` with `creds` and `params`.
fn try_plan(
    (c, op): (&Connector, &Operation),
    inst: &Instance,
    creds: &Credentials,
    params: &Map<String, Value>,
    allow_local: bool,
) -> Result<Plan, ExecError> {
    let call = Call {
        connector: c,
        op,
        instance: inst,
        creds,
        params,
    };
    call.plan(allow_local)
}

fn plan(c: &Connector, op: &Operation, params: &Value) -> Plan {
    let Value::Object(params) = params else {
        panic!("params must be an object")
    };
    try_plan((c, op), &instance(c), &creds(), params, false)
        .unwrap_or_else(|e| panic!("{}: plan failed: {e}", c.name))
}

fn one(p: Plan) -> RequestPlan {
    match p {
        Plan::One(r) => r,
        Plan::Each { .. } => panic!("expected one request"),
    }
}

fn query<'a>(r: &'a RequestPlan, k: &str) -> Vec<&'a str> {
    r.query
        .iter()
        .filter(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn json_at<'a>(r: &'a RequestPlan, dotted: &str) -> Option<&'a Value> {
    let Body::Json(b) = &r.body else { return None };
    dotted.split('.').try_fold(b, |v, k| v.get(k))
}

fn form(r: &RequestPlan, k: &str) -> Option<String> {
    let Body::Form(f) = &r.body else { return None };
    f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

/// The auth a connector's requests carry: the header's exact value (or the token URL for
/// OAuth2), and never a secret in `Debug`.
fn assert_auth(c: &Connector, op: &Operation, r: &RequestPlan) {
    let dbg = format!("{r:?}");
    for (_, s) in SECRETS {
        assert!(!dbg.contains(s), "{}: Debug shows a secret: {dbg}", c.name);
    }
    if !op.authenticated {
        assert!(r.token.is_none() && r.header("authorization").is_none());
        return;
    }
    let secret_header = |name: &str| match r.header(name) {
        Some(HeaderValue::Secret(s)) => s.expose().to_string(),
        other => panic!("{}: header {name} is not a secret: {other:?}", c.name),
    };
    match &c.auth {
        AuthScheme::Bearer => assert_eq!(secret_header("Authorization"), "Bearer tok-SECRET-1"),
        AuthScheme::Basic => {
            let pair =
                base64::engine::general_purpose::STANDARD.encode("user-SECRET-2:pw-SECRET-3");
            assert_eq!(secret_header("Authorization"), format!("Basic {pair}"));
        }
        AuthScheme::ApiKeyHeader { header, prefix } => {
            assert_eq!(secret_header(header), format!("{prefix}key-SECRET-4"))
        }
        AuthScheme::Oauth2ClientCredentials { .. } => {
            let t = r
                .token
                .as_ref()
                .unwrap_or_else(|| panic!("{}: no token", c.name));
            assert_eq!(t.client_id.expose(), "cid-SECRET-5");
            assert_eq!(t.client_secret.expose(), "cs-SECRET-6");
            assert!(t.url.starts_with("https://"), "{}", t.url);
            assert!(r.header("authorization").is_none());
        }
    }
}

/// One representative read and one write per connector, the expected request by hand.
#[test]
fn each_connector_plans_a_read_and_a_write() {
    let cat = Catalog::builtin().unwrap();
    struct Case {
        connector: &'static str,
        op: &'static str,
        params: Value,
        method: &'static str,
        url: &'static str,
        query: &'static [(&'static str, &'static str)],
        headers: &'static [(&'static str, &'static str)],
        token_url: Option<&'static str>,
    }
    // A case names what is its own: the call, the request line, then any query, headers
    // and token URL it expects (none by default).
    impl Case {
        fn new((connector, op): (&'static str, &'static str), params: Value) -> Case {
            Case {
                connector,
                op,
                params,
                method: "",
                url: "",
                query: &[],
                headers: &[],
                token_url: None,
            }
        }
        fn sends(self, method: &'static str, url: &'static str) -> Case {
            Case {
                method,
                url,
                ..self
            }
        }
        fn query(self, query: &'static [(&'static str, &'static str)]) -> Case {
            Case { query, ..self }
        }
        fn headers(self, headers: &'static [(&'static str, &'static str)]) -> Case {
            Case { headers, ..self }
        }
        fn token(self, url: &'static str) -> Case {
            Case {
                token_url: Some(url),
                ..self
            }
        }
    }
    let sub = "https://management.azure.com/subscriptions/subscription_id-1";
    let sentinel = "/resourceGroups/resource_group-1/providers/Microsoft.OperationalInsights/workspaces/workspace_name-1/providers/Microsoft.SecurityInsights";
    let ms_token = "https://login.microsoftonline.com/tenant_id-1/oauth2/v2.0/token";
    let cases = vec![
        Case::new(
            ("azure", "storage_accounts:read"),
            json!({"resource_group": "rg 1", "account": "acct"}),
        )
        .sends(
            "GET",
            "/resourceGroups/rg%201/providers/Microsoft.Storage/storageAccounts/acct",
        )
        .token(ms_token),
        Case::new(
            ("azure", "storage_accounts:update"),
            json!({"resource_group": "rg", "account": "acct", "allow_blob_public_access": false}),
        )
        .sends(
            "PATCH",
            "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
        )
        .token(ms_token),
        Case::new(
            ("crowdstrike", "hosts:read"),
            json!({"filter": "hostname:'web-1'", "limit": 5}),
        )
        .sends(
            "GET",
            "https://api.crowdstrike.com/devices/queries/devices-scroll/v1",
        )
        .query(&[("filter", "hostname:'web-1'"), ("limit", "5")])
        .token("https://api.crowdstrike.com/oauth2/token"),
        Case::new(
            ("crowdstrike", "hosts:write"),
            json!({"action_name": "contain", "ids": ["d1", "d2"]}),
        )
        .sends(
            "POST",
            "https://api.crowdstrike.com/devices/entities/devices-actions/v2",
        )
        .query(&[("action_name", "contain")])
        .token("https://api.crowdstrike.com/oauth2/token"),
        Case::new(
            ("jira", "issues:get"),
            json!({"issue_key": "SEC-1", "fields": "summary"}),
        )
        .sends("GET", "https://jira.example.com/rest/api/3/issue/SEC-1")
        .query(&[("fields", "summary")]),
        Case::new(
            ("jira", "issues:write"),
            json!({"project": "SEC", "summary": "s", "issue_type": "Task"}),
        )
        .sends("POST", "https://jira.example.com/rest/api/3/issue"),
        Case::new(("okta", "users:get"), json!({"user_id": "00u/1"}))
            .sends("GET", "https://okta.example.com/api/v1/users/00u%2F1"),
        Case::new(("okta", "users:suspend"), json!({"user_id": "00u1"})).sends(
            "POST",
            "https://okta.example.com/api/v1/users/00u1/lifecycle/suspend",
        ),
        Case::new(
            ("pagerduty", "incidents:read"),
            json!({"statuses": "triggered"}),
        )
        .sends("GET", "https://api.pagerduty.com/incidents")
        .query(&[("statuses[]", "triggered")]),
        Case::new(
            ("pagerduty", "incidents:write"),
            json!({"from": "a@b.c", "title": "t", "service_id": "P1"}),
        )
        .sends("POST", "https://api.pagerduty.com/incidents")
        .headers(&[("From", "a@b.c")]),
        Case::new(("sentinel", "incidents:get"), json!({"incident_id": "i-1"}))
            .sends("GET", "/incidents/i-1")
            .token(ms_token),
        Case::new(
            ("sentinel", "incidents:write"),
            json!({"incident_id": "i-1", "title": "t", "severity": "High", "status": "Closed"}),
        )
        .sends("PUT", "/incidents/i-1")
        .token(ms_token),
        Case::new(
            ("sentinelone", "threats:read"),
            json!({"computer_name": "web", "limit": 10}),
        )
        .sends(
            "GET",
            "https://sentinelone.example.com/web/api/v2.1/threats",
        )
        .query(&[("computerName__contains", "web"), ("limit", "10")]),
        Case::new(("sentinelone", "agents:disconnect"), json!({"ids": ["a1"]})).sends(
            "POST",
            "https://sentinelone.example.com/web/api/v2.1/agents/actions/disconnect",
        ),
        Case::new(
            ("servicenow", "incidents:read"),
            json!({"query": "active=true", "limit": 3}),
        )
        .sends(
            "GET",
            "https://servicenow.example.com/api/now/table/incident",
        )
        .query(&[("sysparm_query", "active=true"), ("sysparm_limit", "3")]),
        Case::new(
            ("servicenow", "incidents:update"),
            json!({"sys_id": "abc", "state": "6"}),
        )
        .sends(
            "PATCH",
            "https://servicenow.example.com/api/now/table/incident/abc",
        ),
        Case::new(
            ("slack", "messages:read"),
            json!({"channel": "C1", "limit": 2}),
        )
        .sends("GET", "https://slack.com/api/conversations.history")
        .query(&[("channel", "C1"), ("limit", "2")]),
        Case::new(
            ("slack", "messages:write"),
            json!({"channel": "C1", "text": "hi"}),
        )
        .sends("POST", "https://slack.com/api/chat.postMessage"),
        Case::new(("splunk", "search:status"), json!({"sid": "1700.1"})).sends(
            "GET",
            "https://splunk.example.com:8089/services/search/jobs/1700.1",
        ),
        Case::new(
            ("splunk", "saved_searches:write"),
            json!({"name": "n", "search": "index=main"}),
        )
        .sends(
            "POST",
            "https://splunk.example.com:8089/services/saved/searches",
        ),
        Case::new(("wiz", "issues:read"), json!({"first": 5}))
            .sends("POST", "https://api.us1.app.wiz.io/graphql")
            .token("https://auth.app.wiz.io/oauth/token"),
        Case::new(
            ("wiz", "issues:note"),
            json!({"issue_id": "w1", "text": "t"}),
        )
        .sends("POST", "https://api.us1.app.wiz.io/graphql")
        .token("https://auth.app.wiz.io/oauth/token"),
    ];
    // Where body params went: `(dotted path, value)` in the JSON body.
    let bodies: BTreeMap<(&str, &str), Vec<(&str, Value)>> = BTreeMap::from([
        (
            ("azure", "storage_accounts:update"),
            vec![("properties.allowBlobPublicAccess", json!(false))],
        ),
        (
            ("crowdstrike", "hosts:write"),
            vec![("ids", json!(["d1", "d2"]))],
        ),
        (
            ("jira", "issues:write"),
            vec![
                ("fields.project.key", json!("SEC")),
                ("fields.summary", json!("s")),
                ("fields.issuetype.name", json!("Task")),
            ],
        ),
        (
            ("pagerduty", "incidents:write"),
            vec![
                ("incident.title", json!("t")),
                ("incident.service.id", json!("P1")),
            ],
        ),
        (
            ("sentinel", "incidents:write"),
            vec![
                ("properties.title", json!("t")),
                ("properties.severity", json!("High")),
            ],
        ),
        (
            ("sentinelone", "agents:disconnect"),
            vec![("filter.ids", json!(["a1"]))],
        ),
        (
            ("servicenow", "incidents:update"),
            vec![("state", json!("6"))],
        ),
        (
            ("slack", "messages:write"),
            vec![("channel", json!("C1")), ("text", json!("hi"))],
        ),
        (("wiz", "issues:read"), vec![("variables.first", json!(5))]),
        (
            ("wiz", "issues:note"),
            vec![
                ("variables.input.issueId", json!("w1")),
                ("variables.input.text", json!("t")),
            ],
        ),
    ]);
    let mut seen = std::collections::BTreeSet::new();
    for case in &cases {
        let c = cat.get(case.connector).unwrap();
        let op = c.operation(case.op).unwrap();
        let r = one(plan(c, op, &case.params));
        let what = format!("{}.{}", case.connector, case.op);
        assert_eq!(r.method.as_str(), case.method, "{what}");
        let url = match case.connector {
            "azure" => format!("{sub}{}", case.url),
            "sentinel" => format!("{sub}{sentinel}{}", case.url),
            _ => case.url.to_string(),
        };
        assert_eq!(r.url, url, "{what}");
        for (k, v) in case.query {
            assert_eq!(query(&r, k), vec![*v], "{what}: query {k}");
        }
        for (k, v) in bodies.get(&(case.connector, case.op)).into_iter().flatten() {
            assert_eq!(json_at(&r, k), Some(v), "{what}: body {k}");
        }
        for (k, v) in case.headers {
            assert!(
                matches!(r.header(k), Some(HeaderValue::Plain(h)) if h == v),
                "{what}: header {k}"
            );
        }
        if case.op == "saved_searches:write" {
            assert_eq!(form(&r, "name").as_deref(), Some("n"), "{what}");
            assert_eq!(form(&r, "search").as_deref(), Some("index=main"), "{what}");
        }
        assert_eq!(
            r.token.as_ref().map(|t| t.url.as_str()),
            case.token_url,
            "{what}"
        );
        assert_auth(c, op, &r);
        seen.insert((case.connector, op.writes));
    }
    // Every connector of the catalog has a read and a write case above.
    for name in cat.names() {
        for writes in [false, true] {
            assert!(
                seen.contains(&(name, writes)),
                "{name} has no {} case",
                if writes { "write" } else { "read" }
            );
        }
    }
}

/// A distinctive value for a param, of its type (or its first allowed value).
fn sample(name: &str, kind: ParamType, allowed: &[Value]) -> Value {
    if let Some(v) = allowed.first() {
        return v.clone();
    }
    match kind {
        ParamType::String => json!(format!("v {name}/x")),
        ParamType::Integer | ParamType::Number => json!(7),
        ParamType::Boolean => json!(true),
        ParamType::Array => json!([format!("a-{name}"), format!("b-{name}")]),
        ParamType::Object => json!({ "k": name }),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every operation of every connector: each param lands where its declaration says,
/// under its wire name, and the auth header has its scheme's shape.
#[test]
fn every_operation_places_every_param_where_declared() {
    let cat = Catalog::builtin().unwrap();
    for c in cat.iter() {
        for (id, op) in &c.operations {
            let what = format!("{}.{id}", c.name);
            let params: Map<String, Value> = op
                .params
                .iter()
                .map(|(n, p)| (n.clone(), sample(n, p.kind, &p.allowed)))
                .collect();
            let requests = match plan(c, op, &Value::Object(params.clone())) {
                Plan::One(r) => vec![r],
                Plan::Each { wire, items } => {
                    assert_eq!(items.len(), 2, "{what}");
                    for (item, r) in &items {
                        let enc = super::plan::percent_encode(&text(item));
                        assert!(r.url.contains(&enc), "{what}: {wire} not in {}", r.url);
                    }
                    items.into_iter().map(|(_, r)| r).collect()
                }
            };
            for r in &requests {
                assert_eq!(r.method, op.method, "{what}");
                assert!(r.url.starts_with("https://"), "{what}: {}", r.url);
                for (k, v) in &op.fixed_query {
                    assert_eq!(query(r, k), vec![v.as_str()], "{what}: fixed {k}");
                }
                for (name, p) in &op.params {
                    let v = &params[name];
                    let wire = p.wire.as_deref().unwrap_or(name);
                    match p.location {
                        ParamLocation::Path => {
                            let enc = super::plan::percent_encode(&text(v));
                            assert!(r.url.contains(&format!("/{enc}")), "{what}: {name}");
                        }
                        ParamLocation::Each => {}
                        ParamLocation::Query => {
                            let want: Vec<String> = match v {
                                Value::Array(a) => a.iter().map(text).collect(),
                                v => vec![text(v)],
                            };
                            assert_eq!(query(r, wire), want, "{what}: query {name}");
                        }
                        ParamLocation::Header => assert!(
                            matches!(r.header(wire), Some(HeaderValue::Plain(h)) if *h == text(v)),
                            "{what}: header {name}"
                        ),
                        ParamLocation::Body => match op.body_encoding {
                            BodyEncoding::Json => {
                                assert_eq!(json_at(r, wire), Some(v), "{what}: body {name}")
                            }
                            BodyEncoding::Form => {
                                assert_eq!(form(r, wire), Some(text(v)), "{what}: form {name}")
                            }
                        },
                    }
                }
                assert_auth(c, op, r);
            }
        }
    }
}

/// A host variable pointing at a local address is refused while planning, before any
/// request exists.
#[test]
fn a_local_target_is_refused_when_planning() {
    let cat = Catalog::builtin().unwrap();
    let c = cat.get("okta").unwrap();
    let op = c.operation("users:read").unwrap();
    let mut inst = instance(c);
    inst.variables.insert("host".into(), "127.0.0.1".into());
    let (creds, params) = (creds(), Map::new());
    let err = try_plan((c, op), &inst, &creds, &params, false).unwrap_err();
    assert!(err.to_string().contains("local"), "{err}");
    assert!(try_plan((c, op), &inst, &creds, &params, true).is_ok());
}

/// A missing credential field is a build error naming the field, not a panic.
#[test]
fn a_missing_credential_names_the_field() {
    let cat = Catalog::builtin().unwrap();
    let c = cat.get("slack").unwrap();
    let op = c.operation("channels:read").unwrap();
    let none = Credentials(BTreeMap::new());
    let err = try_plan((c, op), &instance(c), &none, &Map::new(), false).unwrap_err();
    assert!(err.to_string().contains("'token'"), "{err}");
}
