//! Integration tests of the target simulator over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use arx_core::catalog::{AuthScheme, Catalog};
use arx_simulator::{Simulator, demo_credentials};
use serde_json::{Value, json};

async fn sim() -> Simulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start(listener, Catalog::builtin().unwrap())
        .await
        .unwrap()
}

/// Fills `{name}` placeholders as the executor does.
fn render(template: &str, vars: &BTreeMap<String, String>, base_url: &str) -> String {
    let mut out = template.replace("{base_url}", base_url);
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// The API base URL and token URL of `connector` pointed at the simulator.
fn urls(sim: &Simulator, connector: &str) -> (String, Option<String>) {
    let catalog = Catalog::builtin().unwrap();
    let c = catalog.get(connector).unwrap();
    let vars = sim.variables_for(connector);
    let base = render(&c.base_url, &vars, "");
    let token = match &c.auth {
        AuthScheme::Oauth2ClientCredentials { token_url, .. } => {
            Some(render(token_url, &vars, &base))
        }
        _ => None,
    };
    (base, token)
}

fn secret(connector: &str, field: &str) -> String {
    demo_credentials(connector)[field]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A form POST, as a token endpoint expects it.
fn post_form(url: &str, form: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
}

/// Sends `req` and expects `status`.
async fn expect_status(req: reqwest::RequestBuilder, status: u16) {
    assert_eq!(req.send().await.unwrap().status(), status);
}

/// Sends `req`, expects `status` and returns the JSON body.
async fn expect_json(req: reqwest::RequestBuilder, status: u16) -> Value {
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), status);
    res.json().await.unwrap()
}

/// The `authorization` value of the demo Okta key.
fn okta_key() -> String {
    format!("SSWS {}", secret("okta", "api_key"))
}

/// The `client_credentials` form of `connector`'s demo client, with `secret` as its secret.
fn client_credentials(connector: &str, secret_: &str) -> String {
    let id = secret(connector, "client_id");
    format!("grant_type=client_credentials&client_id={id}&client_secret={secret_}")
}

#[tokio::test]
async fn variables_point_every_template_at_the_simulator() {
    let sim = sim().await;
    let vars = sim.variables_for("crowdstrike");
    assert_eq!(vars["scheme"], "http");
    // A host variable is a host and port, nothing else: each host has its own address.
    for c in [
        "crowdstrike",
        "sentinel",
        "azure",
        "wiz",
        "pagerduty",
        "splunk",
    ] {
        let vars = sim.variables_for(c);
        for (name, v) in vars.iter().filter(|(n, _)| n.ends_with("host")) {
            let addr: std::net::SocketAddr = v
                .parse()
                .unwrap_or_else(|_| panic!("{c}.{name} = {v} is not host:port"));
            assert!(addr.ip().is_loopback(), "{c}.{name}");
        }
    }
    let (base, token) = urls(&sim, "crowdstrike");
    assert_eq!(base, format!("http://{}", vars["host"]));
    assert_eq!(token.unwrap(), format!("{base}/oauth2/token"));
    let (_, sentinel_token) = urls(&sim, "sentinel");
    let login = sim.variables_for("sentinel")["login_host"].clone();
    assert!(
        sentinel_token
            .unwrap()
            .starts_with(&format!("http://{login}/"))
    );
    assert!(sim.variables_for("nope").is_empty());
}

#[test]
fn demo_credentials_follow_the_secret_fields_of_each_scheme() {
    assert_eq!(
        demo_credentials("crowdstrike"),
        json!({ "client_id": "demo-crowdstrike-client-id", "client_secret": "demo-crowdstrike-client-secret" })
    );
    assert_eq!(
        demo_credentials("okta"),
        json!({ "api_key": "demo-okta-api-key" })
    );
    assert_eq!(
        demo_credentials("slack"),
        json!({ "token": "demo-slack-token" })
    );
    let jira = demo_credentials("jira");
    assert!(jira.get("username").is_some() && jira.get("password").is_some());
}

#[tokio::test]
async fn crowdstrike_token_flow_and_api_calls() {
    let sim = sim().await;
    let (base, token_url) = urls(&sim, "crowdstrike");
    let token_url = token_url.unwrap();
    let (id, secret_) = (
        secret("crowdstrike", "client_id"),
        secret("crowdstrike", "client_secret"),
    );

    let wrong = client_credentials("crowdstrike", "nope");
    let body = expect_json(post_form(&token_url, &wrong), 401).await;
    assert_eq!(body["errors"][0]["code"], 401);

    let bad_grant = format!("grant_type=password&client_id={id}&client_secret={secret_}");
    expect_status(post_form(&token_url, &bad_grant), 400).await;

    let ok = client_credentials("crowdstrike", &secret_);
    let tok = expect_json(post_form(&token_url, &ok), 200).await;
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["expires_in"], 1799);
    let access = tok["access_token"].as_str().unwrap().to_owned();

    let client = reqwest::Client::new();
    let url = format!("{base}/detects/queries/detects/v1?limit=2&filter=status%3A%27new%27");
    let v = expect_json(client.get(&url).bearer_auth(&access), 200).await;
    assert_eq!(v["resources"].as_array().unwrap().len(), 2);
    assert!(v["meta"]["trace_id"].is_string());
    assert_eq!(v["errors"], json!([]));

    expect_status(client.get(&url).bearer_auth("forged"), 401).await;

    let contain = client
        .post(format!(
            "{base}/devices/entities/devices-actions/v2?action_name=contain"
        ))
        .bearer_auth(&access)
        .json(&json!({ "ids": ["abc123"] }));
    let v = expect_json(contain, 202).await;
    assert_eq!(v["resources"][0]["id"], "abc123");
}

#[tokio::test]
async fn api_key_connector_checks_its_header() {
    let sim = sim().await;
    let (base, _) = urls(&sim, "okta");
    let client = reqwest::Client::new();
    let good = okta_key();

    let list = client
        .get(format!("{base}/api/v1/users?limit=2"))
        .header("authorization", &good);
    let users = expect_json(list, 200).await;
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert_eq!(users[0]["status"], "ACTIVE");

    let wrong = client
        .get(format!("{base}/api/v1/users"))
        .header("authorization", "SSWS wrong");
    let err = expect_json(wrong, 401).await;
    assert_eq!(err["errorCode"], "E0000011");

    let suspend = client
        .post(format!("{base}/api/v1/users/00uabc/lifecycle/suspend"))
        .header("authorization", &good);
    expect_status(suspend, 200).await;
}

#[tokio::test]
async fn basic_connector_checks_its_credentials() {
    let sim = sim().await;
    let (base, _) = urls(&sim, "servicenow");
    let client = reqwest::Client::new();
    let url = format!("{base}/api/now/table/incident");
    let body = json!({ "short_description": "Automated: critical vulnerability", "urgency": 1 });

    let good = client
        .post(&url)
        .basic_auth(
            secret("servicenow", "username"),
            Some(secret("servicenow", "password")),
        )
        .json(&body);
    let v = expect_json(good, 201).await;
    assert!(v["result"]["number"].as_str().unwrap().starts_with("INC"));
    assert_eq!(
        v["result"]["short_description"],
        "Automated: critical vulnerability"
    );
    assert_eq!(v["result"]["urgency"], "1");

    let wrong = client
        .post(&url)
        .basic_auth("admin", Some("admin"))
        .json(&body);
    let v = expect_json(wrong, 401).await;
    assert_eq!(v["status"], "failure");
}

#[tokio::test]
async fn the_request_log_records_everything() {
    let sim = sim().await;
    assert_eq!(sim.request_count(), 0);
    let (base, _) = urls(&sim, "slack");
    let client = reqwest::Client::new();
    client
        .post(format!("{base}/api/chat.postMessage"))
        .bearer_auth(secret("slack", "token"))
        .json(&json!({ "channel": "C123", "text": "hello" }))
        .send()
        .await
        .unwrap();
    client
        .post(format!("{base}/api/chat.postMessage"))
        .send()
        .await
        .unwrap();
    let missing = client.get(format!("{}/nowhere/at/all", sim.base_url()));
    expect_status(missing, 404).await;
    let unknown = client.get(format!("{base}/api/unknown.method"));
    expect_status(unknown, 404).await;

    let log = sim.requests();
    assert_eq!(sim.request_count(), 4);
    assert_eq!(log[0].connector, "slack");
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, "/slack/api/chat.postMessage");
    assert!(log[0].body.contains("hello"));
    assert!(log[0].authorized);
    assert!(!log[1].authorized);
    assert_eq!(log[2].connector, "nowhere");
}

#[tokio::test]
async fn x_sim_fail_answers_the_asked_status() {
    let sim = sim().await;
    let (base, _) = urls(&sim, "okta");
    let client = reqwest::Client::new();
    let key = okta_key();
    let users = || {
        client
            .get(format!("{base}/api/v1/users"))
            .header("authorization", &key)
    };
    let v = expect_json(users().header("x-sim-fail", "503"), 503).await;
    assert_eq!(v["errorCode"], "E0000009");

    sim.fail_connector("okta", Some(500));
    expect_status(users(), 500).await;
    sim.fail_connector("okta", None);
    expect_status(users(), 200).await;
}

#[tokio::test]
async fn sentinel_and_wiz_token_endpoints_check_scope_and_audience() {
    let sim = sim().await;
    let (base, token_url) = urls(&sim, "sentinel");
    let token_url = token_url.unwrap();
    let creds = client_credentials("sentinel", &secret("sentinel", "client_secret"));
    let res = post_form(&token_url, &creds).send().await.unwrap();
    assert_eq!(res.status(), 400, "the .default scope is required");
    let scoped = format!("{creds}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
    let token = expect_json(post_form(&token_url, &scoped), 200).await;
    let vars = sim.variables_for("sentinel");
    let incidents = render(
        "/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.OperationalInsights/workspaces/{workspace_name}/providers/Microsoft.SecurityInsights/incidents?api-version=2024-03-01&%24top=2",
        &vars,
        "",
    );
    let list = reqwest::Client::new()
        .get(format!("{base}{incidents}"))
        .bearer_auth(token["access_token"].as_str().unwrap());
    let v = expect_json(list, 200).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 2);

    let (wiz_base, wiz_token) = urls(&sim, "wiz");
    let wiz_token = wiz_token.unwrap();
    let creds = client_credentials("wiz", &secret("wiz", "client_secret"));
    expect_status(post_form(&wiz_token, &creds), 400).await;
    let with_audience = format!("{creds}&audience=wiz-api");
    let token = expect_json(post_form(&wiz_token, &with_audience), 200).await;
    let catalog = Catalog::builtin().unwrap();
    let mut body = catalog
        .get("wiz")
        .unwrap()
        .operation("issues:read")
        .unwrap()
        .fixed_body
        .clone()
        .unwrap();
    body["variables"]["first"] = json!(2);
    let issues = reqwest::Client::new()
        .post(format!("{wiz_base}/graphql"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&body);
    let v = expect_json(issues, 200).await;
    assert_eq!(v["data"]["issuesV2"]["nodes"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn pagerduty_events_need_no_credentials_and_splunk_takes_forms() {
    let sim = sim().await;
    let vars = sim.variables_for("pagerduty");
    let events = render("{scheme}://{events_host}/v2/enqueue", &vars, "");
    let event = json!({ "routing_key": "R0UT1NGKEY", "event_action": "trigger", "payload": { "summary": "x", "source": "arx", "severity": "critical" } });
    let v = expect_json(reqwest::Client::new().post(&events).json(&event), 202).await;
    assert_eq!(v["status"], "success");
    assert_eq!(v["message"], "Event processed");

    let (base, _) = urls(&sim, "splunk");
    let search = post_form(
        &format!("{base}/services/search/jobs?output_mode=json"),
        "search=search+index%3Dmain&earliest_time=-4h",
    )
    .header(
        "authorization",
        format!("Splunk {}", secret("splunk", "api_key")),
    );
    let v = expect_json(search, 201).await;
    assert!(v["sid"].is_string());
}

/// A sample value of a parameter (first enum value, else by type).
fn sample(p: &arx_core::catalog::Param) -> Value {
    use arx_core::catalog::ParamType as T;
    if let Some(v) = p.allowed.first() {
        return v.clone();
    }
    match p.kind {
        T::String => json!("sample@example.com"),
        T::Integer | T::Number => json!(2),
        T::Boolean => json!(true),
        T::Array => json!(["id1", "id2"]),
        T::Object => json!({ "summary": "s", "source": "arx", "severity": "info" }),
    }
}

fn set_at(body: &mut Value, dotted: &str, v: Value) {
    let mut cur = body;
    let parts: Vec<&str> = dotted.split('.').collect();
    for (i, k) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let m = cur.as_object_mut().unwrap();
        if i + 1 == parts.len() {
            m.insert((*k).to_owned(), v);
            return;
        }
        cur = m.entry((*k).to_owned()).or_insert_with(|| json!({}));
    }
}

/// Calls every operation of every built-in connector as the executor would and expects a 2xx.
#[tokio::test]
async fn every_operation_of_the_catalog_is_served() {
    use arx_core::catalog::{BodyEncoding, ParamLocation};
    let sim = sim().await;
    let catalog = Catalog::builtin().unwrap();
    let client = reqwest::Client::new();
    for c in catalog.iter() {
        let vars = sim.variables_for(&c.name);
        let (base, token_url) = urls(&sim, &c.name);
        let auth_header = match &c.auth {
            AuthScheme::Oauth2ClientCredentials {
                scopes,
                extra_params,
                ..
            } => {
                let mut form = format!(
                    "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
                    secret(&c.name, "client_id"),
                    secret(&c.name, "client_secret"),
                    scopes.join("+").replace(':', "%3A").replace('/', "%2F"),
                );
                for (k, v) in extra_params {
                    form.push_str(&format!("&{k}={v}"));
                }
                let res = post_form(token_url.as_deref().unwrap(), &form)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200, "{} token", c.name);
                let t: Value = res.json().await.unwrap();
                format!("Bearer {}", t["access_token"].as_str().unwrap())
            }
            AuthScheme::ApiKeyHeader { prefix, .. } => {
                format!("{prefix}{}", secret(&c.name, "api_key"))
            }
            AuthScheme::Bearer => format!("Bearer {}", secret(&c.name, "token")),
            AuthScheme::Basic => {
                use base64::Engine;
                let raw = format!(
                    "{}:{}",
                    secret(&c.name, "username"),
                    secret(&c.name, "password")
                );
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )
            }
        };
        let header_name = match &c.auth {
            AuthScheme::ApiKeyHeader { header, .. } => header.clone(),
            _ => "authorization".to_owned(),
        };
        for (id, op) in &c.operations {
            let mut path_vars = vars.clone();
            let mut query: Vec<(String, String)> = op.fixed_query.clone().into_iter().collect();
            let mut body = op.fixed_body.clone().unwrap_or(json!({}));
            let mut headers = Vec::new();
            for (name, p) in &op.params {
                let wire = p.wire.clone().unwrap_or_else(|| name.clone());
                let v = sample(p);
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                match p.location {
                    ParamLocation::Path => {
                        path_vars.insert(name.clone(), text);
                    }
                    ParamLocation::Query => query.push((wire, text)),
                    ParamLocation::Header => headers.push((wire, text)),
                    ParamLocation::Body => set_at(&mut body, &wire, v),
                    // One request per item; the first stands for them all here.
                    ParamLocation::Each => {
                        path_vars.insert(wire, v[0].as_str().unwrap_or_default().to_owned());
                    }
                }
            }
            let root = op
                .base_url
                .as_deref()
                .map_or_else(|| base.clone(), |t| render(t, &vars, &base));
            let url = format!("{root}{}", render(&op.path, &path_vars, &base));
            let mut req = client
                .request(
                    reqwest::Method::from_bytes(op.method.as_str().as_bytes()).unwrap(),
                    &url,
                )
                .query(&query);
            if op.authenticated {
                req = req.header(header_name.as_str(), &auth_header);
            }
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let has_body = op.fixed_body.is_some()
                || op
                    .params
                    .values()
                    .any(|p| p.location == ParamLocation::Body);
            if has_body {
                req = match op.body_encoding {
                    BodyEncoding::Json => req.json(&body),
                    BodyEncoding::Form => {
                        let form: Vec<String> = body
                            .as_object()
                            .unwrap()
                            .iter()
                            .map(|(k, v)| {
                                format!(
                                    "{k}={}",
                                    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                                )
                            })
                            .collect();
                        req.header("content-type", "application/x-www-form-urlencoded")
                            .body(form.join("&"))
                    }
                };
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            assert!(
                status.is_success(),
                "{}/{id} {url}: {status} {text}",
                c.name
            );
            let last = sim.requests().pop().unwrap();
            assert!(last.authorized, "{}/{id}", c.name);
        }
    }
}
