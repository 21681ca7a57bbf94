//! The contract fuzzer: every operation `/openapi.json` documents is called with
//! requests the document says are valid and with requests it says are not, and every
//! answer must be one the document describes for that operation: a documented status
//! and content type, a body that validates against the documented schema, never a
//! server error. A valid request refused as malformed (400, 415) and an invalid one
//! accepted (2xx) are mismatches too. The test fails listing every mismatch.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Map, Value, json};

use arx_testkit::backend_tests;

use crate::harness::TestServer;

backend_tests! {
    async fn every_documented_operation_answers_as_the_document_says(s: TestServer) {
        let b = s.backend;
        let doc = Doc(
            s.http
                .get(s.url("/openapi.json"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap(),
        );
        let mut fuzz = Fuzzer::new(&s, &doc).await;
        let ops = doc.operations();
        assert!(ops.len() >= 58, "{b}: only {} operations documented", ops.len());
        for op in &ops {
            fuzz.unauthenticated(op).await;
            fuzz.invalid(op).await;
        }
        // An auditor reads everything and changes nothing: every admin operation that
        // changes something, sent as the valid request it is, answers 403.
        let auditor = s
            .user_token("sweep-auditor@demo.arx.local", arx_core::model::Role::Auditor)
            .await;
        for op in ops.iter().filter(|o| o.path.starts_with("/v1/admin/") && o.method != Method::GET) {
            fuzz.refused_to_auditor(op, &auditor).await;
        }
        for op in ops.iter().filter(|o| o.method == Method::GET) {
            fuzz.valid(op).await;
        }
        for op in ops.iter().filter(|o| ![Method::GET, Method::DELETE].contains(&o.method)) {
            fuzz.valid(op).await;
        }
        for op in ops.iter().filter(|o| o.method == Method::DELETE) {
            fuzz.valid(op).await;
        }
        fuzz.unrouted(&ops).await;
        assert!(
            fuzz.mismatches.is_empty(),
            "{b}: {} mismatches between /openapi.json and the server ({} requests):\n{}",
            fuzz.mismatches.len(),
            fuzz.requests,
            fuzz.mismatches.iter().cloned().collect::<Vec<_>>().join("\n")
        );
        assert!(fuzz.requests > 300, "{b}: only {} requests", fuzz.requests);
    }
}

/// The OpenAPI document, with `$ref`s resolved on demand.
struct Doc(Value);

impl Doc {
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => self.resolve(
                self.0
                    .pointer(r.trim_start_matches('#'))
                    .unwrap_or(&Value::Null),
            ),
            None => v,
        }
    }

    fn operations(&self) -> Vec<Op> {
        let mut ops = Vec::new();
        for (path, item) in self.0["paths"].as_object().into_iter().flatten() {
            let shared: Vec<Value> = item["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| self.resolve(p).clone())
                .collect();
            for (method, op) in item.as_object().into_iter().flatten() {
                let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                    continue;
                };
                if method == "parameters" {
                    continue;
                }
                let mut params = shared.clone();
                params.extend(
                    op["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| self.resolve(p).clone()),
                );
                let body = op.get("requestBody").map(|rb| self.resolve(rb).clone());
                let responses = op["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), self.resolve(v).clone()))
                    .collect();
                let scheme = op["security"]
                    .as_array()
                    .or(self.0["security"].as_array())
                    .and_then(|s| s.first())
                    .and_then(Value::as_object)
                    .and_then(|s| s.keys().next().cloned());
                ops.push(Op {
                    method: m,
                    path: path.clone(),
                    params,
                    body,
                    responses,
                    scheme,
                });
            }
        }
        ops
    }

    /// A value the schema says is valid: its example, default or first enum value,
    /// else one built from its type.
    fn valid(&self, schema: &Value) -> Value {
        if let Some(example) = schema.get("example") {
            return example.clone();
        }
        let s = self.resolve(schema);
        for key in ["example", "default", "const"] {
            if let Some(v) = s.get(key) {
                return v.clone();
            }
        }
        for key in ["examples", "enum", "oneOf", "anyOf", "allOf"] {
            if let Some(first) = s.get(key).and_then(|v| v.get(0)) {
                return if key.ends_with("Of") {
                    self.valid(first)
                } else {
                    first.clone()
                };
            }
        }
        match type_of(s) {
            Some("string") => match s["format"].as_str() {
                Some("uuid") => json!(uuid::Uuid::new_v4()),
                Some("date-time") => json!("2026-01-01T00:00:00Z"),
                Some("email") => json!("fuzz@example.com"),
                _ => json!("f".repeat(s["minLength"].as_u64().unwrap_or(4).max(1) as usize)),
            },
            Some("integer" | "number") => {
                let min = s["minimum"].as_i64().unwrap_or(1);
                let max = s["maximum"].as_i64().unwrap_or(i64::MAX);
                json!(1.clamp(min, max))
            }
            Some("boolean") => json!(true),
            Some("array") => json!([self.valid(&s["items"])]),
            Some("null") => Value::Null,
            Some("object") => {
                let mut m = Map::new();
                for name in s["required"].as_array().into_iter().flatten() {
                    let name = name.as_str().unwrap_or_default();
                    m.insert(name.into(), self.valid(&s["properties"][name]));
                }
                Value::Object(m)
            }
            _ => json!({}),
        }
    }

    /// Values the schema says are not valid, each with why.
    fn invalid(&self, schema: &Value) -> Vec<(String, Value)> {
        let s = self.resolve(schema);
        let mut out = Vec::new();
        if s.get("enum").is_some() {
            out.push((
                "not a member of the enum".into(),
                json!("fuzz-not-a-member"),
            ));
        }
        match type_of(s) {
            Some("string") => {
                if s["format"] == "uuid" {
                    out.push(("not a uuid".into(), json!("0")));
                }
                if let Some(max) = s["maxLength"].as_u64() {
                    out.push(("too long".into(), json!("x".repeat(max as usize + 1))));
                }
                if s["minLength"].as_u64().unwrap_or(0) > 0 {
                    out.push(("empty".into(), json!("")));
                }
                if s.get("pattern").is_some() {
                    out.push(("not matching its pattern".into(), json!("<fuzz>!")));
                }
            }
            Some("integer") => {
                out.push(("not an integer".into(), json!("x")));
                if let Some(min) = s["minimum"].as_i64() {
                    out.push(("below the minimum".into(), json!(min - 1)));
                }
                if let Some(max) = s["maximum"].as_i64() {
                    out.push(("above the maximum".into(), json!(max + 1)));
                }
            }
            Some("boolean") => out.push(("not a boolean".into(), json!("maybe"))),
            Some("array") => out.push(("not an array".into(), json!("x"))),
            Some("object") => {
                let valid = self.valid(s);
                for name in s["required"].as_array().into_iter().flatten() {
                    let mut v = valid.clone();
                    if let Some(m) = v.as_object_mut() {
                        m.remove(name.as_str().unwrap_or_default());
                    }
                    out.push((format!("without the required {name}"), v));
                }
                for (name, prop) in s["properties"].as_object().into_iter().flatten() {
                    let wrong = match type_of(self.resolve(prop)) {
                        Some("string") => json!(12345),
                        Some("integer" | "number" | "boolean") => json!("x"),
                        Some("array" | "object") => json!(7),
                        _ => continue,
                    };
                    let mut v = valid.clone();
                    v[name] = wrong;
                    out.push((format!("{name} of the wrong type"), v));
                }
                if s["additionalProperties"] == json!(false) {
                    let mut v = valid.clone();
                    v["fuzz_unknown_field"] = json!(1);
                    out.push(("with an unknown field".into(), v));
                }
                out.push(("not an object".into(), json!([1])));
            }
            _ => {}
        }
        out
    }

    /// The answer's mismatches with what `op` documents, if any.
    fn check(&self, op: &Op, what: &str, a: &Answer) -> Vec<String> {
        let at = format!("{} {} ({what}) -> {}", op.method, op.path, a.status);
        let Some(doc) = op
            .responses
            .get(&a.status.to_string())
            .or(op.responses.get("default"))
        else {
            return vec![format!("{at}: status not documented; body {}", a.text())];
        };
        let mut out = Vec::new();
        if a.status >= 500 {
            out.push(format!("{at}: a server error: {}", a.text()));
        }
        let media = a.content_type.split(';').next().unwrap_or("").trim();
        match doc.get("content").and_then(Value::as_object) {
            None if !a.body.is_empty() => {
                out.push(format!("{at}: a {media} body where none is documented"));
            }
            None => {}
            Some(content) => match content.get(media) {
                None => out.push(format!(
                    "{at}: content type {media:?} not documented ({:?})",
                    content.keys().collect::<Vec<_>>()
                )),
                Some(c) if media.ends_with("json") => {
                    // NDJSON: the schema is each line's.
                    let bodies: Vec<Value> = if media.ends_with("ndjson") {
                        let lines = String::from_utf8_lossy(&a.body);
                        match lines.lines().map(serde_json::from_str).collect() {
                            Ok(v) => v,
                            Err(e) => {
                                return vec![format!(
                                    "{at}: a line is not JSON ({e}): {}",
                                    a.text()
                                )];
                            }
                        }
                    } else {
                        match serde_json::from_slice(&a.body) {
                            Ok(v) => vec![v],
                            Err(e) => return vec![format!("{at}: not JSON ({e}): {}", a.text())],
                        }
                    };
                    let mut schema = c.get("schema").cloned().unwrap_or(json!({}));
                    schema["components"] = self.0["components"].clone();
                    match jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .build(&schema)
                    {
                        Err(e) => out.push(format!("{at}: the documented schema is broken: {e}")),
                        Ok(v) => {
                            for body in &bodies {
                                for e in v.iter_errors(body) {
                                    out.push(format!(
                                        "{at}: body at {} does not match: {e}",
                                        e.instance_path()
                                    ));
                                }
                            }
                        }
                    }
                }
                Some(_) => {}
            },
        }
        out
    }
}

fn type_of(s: &Value) -> Option<&str> {
    match &s["type"] {
        Value::String(t) => Some(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

struct Op {
    method: Method,
    path: String,
    params: Vec<Value>,
    body: Option<Value>,
    responses: BTreeMap<String, Value>,
    /// The security scheme the operation takes, if any.
    scheme: Option<String>,
}

impl Op {
    fn params_in<'a>(&'a self, place: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.params.iter().filter(move |p| p["in"] == place)
    }

    /// The body's documented media types and schemas; an example given beside a
    /// schema goes into it, as the schema's own.
    fn media(&self) -> Vec<(String, Value)> {
        self.body
            .as_ref()
            .and_then(|b| b["content"].as_object())
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let mut schema = v["schema"].clone();
                if let (Some(example), Some(m)) = (v.get("example"), schema.as_object_mut()) {
                    m.insert("example".into(), example.clone());
                }
                (k.clone(), schema)
            })
            .collect()
    }
}

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(300)
            .collect()
    }
}

/// One request to make: path values, query pairs, body with its media type, credential.
#[derive(Clone, Default)]
struct Request {
    path: BTreeMap<String, String>,
    query: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
    auth: Option<String>,
}

struct Fuzzer<'a> {
    s: &'a TestServer,
    doc: &'a Doc,
    admin: String,
    /// Ids the fuzzer must not delete (its own token).
    keep: BTreeSet<String>,
    /// The id of what a valid POST made, by the path it was posted to: later requests
    /// below that path act on it (and DELETEs remove it, not the demo's things).
    created: BTreeMap<String, String>,
    mismatches: BTreeSet<String>,
    requests: usize,
}

impl<'a> Fuzzer<'a> {
    async fn new(s: &'a TestServer, doc: &'a Doc) -> Fuzzer<'a> {
        let r: Value = s
            .http
            .post(s.url("/v1/admin/tokens"))
            .bearer_auth(s.admin_token())
            .json(&json!({"name": "contract fuzzer"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let admin = r["secret"].as_str().unwrap().to_string();
        // Its own token, and its own account (an admin cannot deactivate themself).
        let keep = ["id", "user_id"]
            .map(|k| r["token"][k].as_str().unwrap().to_string())
            .into();
        Fuzzer {
            s,
            doc,
            admin,
            keep,
            created: BTreeMap::new(),
            mismatches: BTreeSet::new(),
            requests: 0,
        }
    }

    fn credential(&self, op: &Op) -> Option<String> {
        match op.scheme.as_deref()? {
            "agentKey" => Some(self.s.agent_key(&self.s.demo().agents[0].name)),
            _ => Some(self.admin.clone()),
        }
    }

    async fn send(&mut self, op: &Op, r: &Request) -> Answer {
        let mut path = op.path.clone();
        for (k, v) in &r.path {
            path = path.replace(&format!("{{{k}}}"), &segment(v));
        }
        // As a browser on this site sends it: the console's form posts need it.
        let origin = self.s.url("");
        let mut req = self
            .s
            .http
            .request(op.method.clone(), self.s.url(&path))
            .header("origin", origin.trim_end_matches('/'))
            .query(&r.query);
        if let Some(t) = &r.auth {
            req = req.bearer_auth(t);
        }
        if let Some((media, bytes)) = &r.body {
            req = req.header("content-type", media).body(bytes.clone());
        }
        self.requests += 1;
        let res = req.send().await.unwrap();
        Answer {
            status: res.status().as_u16(),
            content_type: res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            body: res.bytes().await.unwrap().to_vec(),
        }
    }

    /// A request the document says is valid, with ids of things that exist where it can
    /// find them.
    async fn valid_request(&mut self, op: &Op) -> Request {
        let mut r = Request {
            auth: self.credential(op),
            ..Request::default()
        };
        for p in op.params_in("path") {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            let value = match self.existing(op, &name, &r).await {
                Some(v) => v,
                None => scalar(&self.doc.valid(&p["schema"])),
            };
            r.path.insert(name, value);
        }
        // The required parameters, and those the document gives an example of.
        for p in op.params_in("query") {
            let example = p.get("example").or(p["schema"].get("example"));
            if p["required"] != json!(true) && example.is_none() {
                continue;
            }
            let name = p["name"].as_str().unwrap_or_default().to_string();
            let value = example
                .cloned()
                .unwrap_or_else(|| self.doc.valid(&p["schema"]));
            r.query.push((name, scalar(&value)));
        }
        if let Some((media, schema)) = op.media().into_iter().next() {
            r.body = Some((media.clone(), encode(&media, &self.doc.valid(&schema))));
        }
        r
    }

    /// An id of something that exists for the path parameter `name`, from the listing
    /// the path is below (for example `/v1/admin/agents` for `/v1/admin/agents/{id}`).
    async fn existing(&mut self, op: &Op, name: &str, r: &Request) -> Option<String> {
        let schema = op.params_in("path").find(|p| p["name"] == name)?["schema"].clone();
        let schema = self.doc.resolve(&schema);
        if schema.get("enum").is_some() || schema.get("example").is_some() {
            return None;
        }
        let mut listing = op.path.split(&format!("/{{{name}}}")).next()?.to_string();
        for (k, v) in &r.path {
            listing = listing.replace(&format!("{{{k}}}"), v);
        }
        let listing = listing.replace("/v1/sdk/", "/v1/admin/");
        if let Some(id) = self.created.get(&listing) {
            return Some(id.clone());
        }
        let res = self
            .s
            .http
            .get(self.s.url(&listing))
            .bearer_auth(&self.admin)
            .send()
            .await
            .ok()?;
        let body: Value = res.json().await.ok()?;
        let items = body.as_object()?.values().find_map(Value::as_array)?;
        let field = if name == "version" { "version" } else { "id" };
        items
            .iter()
            .filter_map(|i| i.get(field))
            .map(scalar)
            .find(|id| !self.keep.contains(id))
    }

    async fn record(&mut self, op: &Op, what: &str, r: &Request) -> Answer {
        let a = self.send(op, r).await;
        self.mismatches.extend(self.doc.check(op, what, &a));
        a
    }

    async fn unauthenticated(&mut self, op: &Op) {
        if op.scheme.is_none() {
            return;
        }
        let mut r = self.valid_request(op).await;
        r.auth = None;
        let a = self.record(op, "no credential", &r).await;
        if a.status != 401 {
            self.mismatches.insert(format!(
                "{} {} (no credential) -> {}: expected 401",
                op.method, op.path, a.status
            ));
        }
    }

    /// `op`'s valid request as an auditor: 403, except for the operations on the
    /// auditor's own admin tokens.
    async fn refused_to_auditor(&mut self, op: &Op, token: &str) {
        if op.path.starts_with("/v1/admin/tokens") {
            return;
        }
        let mut r = self.valid_request(op).await;
        r.auth = Some(token.to_string());
        let a = self.record(op, "as an auditor", &r).await;
        if a.status != 403 {
            self.mismatches.insert(format!(
                "{} {} (as an auditor) -> {}: an auditor changes nothing, expected 403",
                op.method, op.path, a.status
            ));
        }
    }

    async fn valid(&mut self, op: &Op) {
        let r = self.valid_request(op).await;
        let a = self.record(op, "valid", &r).await;
        if op.method == Method::POST && a.status == 201 {
            let body: Value = serde_json::from_slice(&a.body).unwrap_or_default();
            let id = body
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .find_map(|v| v.get("id"))
                .map(scalar);
            if let Some(id) = id {
                self.created.insert(op.path.clone(), id);
            }
        }
        if [400, 415, 422].contains(&a.status) {
            self.mismatches.insert(format!(
                "{} {} (valid) -> {}: a request the document allows was refused: {}",
                op.method,
                op.path,
                a.status,
                a.text()
            ));
        }
    }

    async fn invalid(&mut self, op: &Op) {
        let base = self.valid_request(op).await;
        let mut cases: Vec<(String, Request)> = Vec::new();
        for p in &op.params {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            let place = p["in"].as_str().unwrap_or_default();
            for (why, v) in self.doc.invalid(&p["schema"]) {
                let mut r = base.clone();
                match place {
                    "path" => {
                        r.path.insert(name.clone(), scalar(&v));
                    }
                    "query" => {
                        r.query.retain(|(k, _)| *k != name);
                        r.query.push((name.clone(), scalar(&v)));
                    }
                    _ => continue,
                }
                cases.push((format!("{place} {name} {why}"), r));
            }
            if place == "query" && p["required"] == json!(true) {
                let mut r = base.clone();
                r.query.retain(|(k, _)| *k != name);
                cases.push((format!("without the required query {name}"), r));
            }
        }
        let media = op.media();
        if let Some((m, schema)) = media.first() {
            for (why, v) in self.doc.invalid(schema) {
                // A form carries only text: a number put in a text field is the text of a
                // number, a valid string.
                let field = why.strip_suffix(" of the wrong type");
                if m == "application/x-www-form-urlencoded"
                    && field.is_some_and(|f| v[f].is_number())
                {
                    continue;
                }
                let mut r = base.clone();
                r.body = Some((m.clone(), encode(m, &v)));
                cases.push((format!("body {why}"), r));
            }
            if !media.iter().any(|(m, _)| m.starts_with("text/plain")) {
                let mut r = base.clone();
                r.body = Some(("text/plain".into(), b"fuzz".to_vec()));
                cases.push(("a text/plain body".into(), r));
            }
            if op
                .body
                .as_ref()
                .is_some_and(|b| b["required"] == json!(true))
            {
                let mut r = base.clone();
                r.body = None;
                cases.push(("without the required body".into(), r));
            }
        }
        for (what, r) in cases {
            let a = self.record(op, &what, &r).await;
            if a.status < 400 {
                self.mismatches.insert(format!(
                    "{} {} ({what}) -> {}: a request the document forbids was accepted",
                    op.method, op.path, a.status
                ));
            }
        }
    }

    /// Below each documented path, a path that names nothing is a JSON 404.
    async fn unrouted(&mut self, ops: &[Op]) {
        let mut seen = BTreeSet::new();
        for op in ops.iter().filter(|o| o.path.starts_with("/v1/")) {
            if !seen.insert(op.path.clone()) {
                continue;
            }
            let r = self.valid_request(op).await;
            let mut path = format!("{}/fuzz-nothing/here", op.path);
            for (k, v) in &r.path {
                path = path.replace(&format!("{{{k}}}"), &segment(v));
            }
            let res = self
                .s
                .http
                .get(self.s.url(&path))
                .bearer_auth(&self.admin)
                .send()
                .await
                .unwrap();
            self.requests += 1;
            let status = res.status().as_u16();
            let body: Option<Value> = res.json().await.ok();
            let code = body.as_ref().map(|b| b["error"]["code"].clone());
            if status != 404 || code != Some(json!("not_found")) {
                self.mismatches.insert(format!(
                    "GET {path} -> {status} {body:?}: expected a JSON 404 not_found"
                ));
            }
        }
    }
}

/// A scalar as it goes into a path or query string.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn encode(media: &str, v: &Value) -> Vec<u8> {
    if media == "application/x-www-form-urlencoded" {
        let pairs: Vec<(String, String)> = v
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), scalar(v)))
            .collect();
        return serde_urlencoded::to_string(pairs)
            .unwrap_or_default()
            .into_bytes();
    }
    if media.contains("yaml") {
        return serde_norway::to_string(v).unwrap_or_default().into_bytes();
    }
    serde_json::to_vec(v).unwrap()
}

/// A value percent-encoded to stay inside its path segment.
fn segment(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
