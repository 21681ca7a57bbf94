//! A typed client for the requests the tests repeat: an agent's execute and poll, a
//! reviewer's approve and deny, and any other call as the holder of a token. Answers are
//! `(status, JSON body)`, the body null when there is none.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::TestServer;

/// Requests to a test server as the holder of one token (an agent key or a user token).
pub struct Client<'a> {
    s: &'a TestServer,
    token: String,
}

impl TestServer {
    /// Requests as the holder of `token`.
    pub fn client(&self, token: &str) -> Client<'_> {
        Client {
            s: self,
            token: token.to_string(),
        }
    }

    /// Requests as the demo org's admin.
    pub fn admin(&self) -> Client<'_> {
        self.client(&self.admin_token())
    }
}

/// A reviewer's decision on an approval request.
#[derive(Clone, Copy, Debug)]
pub enum Decision {
    Approve,
    Deny,
}

impl Decision {
    fn verb(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
        }
    }
}

impl Client<'_> {
    /// `method path` with `body` as JSON.
    pub async fn send(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        crate::harness::send(self.s, &self.token, method, path, body).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, Value::Null).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, Value::Null).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::PUT, path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::PATCH, path, body).await
    }

    /// `POST /v1/admin/approvals/{id}/approve|deny`, with `{"comment": …}` or `{}`.
    pub async fn decide(&self, id: &str, d: Decision, comment: Option<&str>) -> (u16, Value) {
        let body = comment.map_or_else(|| json!({}), |c| json!({ "comment": c }));
        let path = format!("/v1/admin/approvals/{id}/{}", d.verb());
        self.send(Method::POST, &path, body).await
    }

    pub async fn approve(&self, id: &str, comment: Option<&str>) -> (u16, Value) {
        self.decide(id, Decision::Approve, comment).await
    }

    pub async fn deny(&self, id: &str, comment: Option<&str>) -> (u16, Value) {
        self.decide(id, Decision::Deny, comment).await
    }

    /// `POST /v1/admin/agents/{agent}/suspend` with `reason`.
    pub async fn suspend_agent(&self, agent: impl std::fmt::Display, reason: &str) -> (u16, Value) {
        let path = format!("/v1/admin/agents/{agent}/suspend");
        self.post(&path, json!({ "reason": reason })).await
    }

    /// Revokes the first key listed for `agent`: `DELETE /v1/admin/agents/{agent}/keys/{key}`;
    /// the status and the key's id.
    pub async fn revoke_first_key(&self, agent: &str) -> (u16, String) {
        let (_, keys) = self.get(&format!("/v1/admin/agents/{agent}/keys")).await;
        let key = keys["keys"][0]["id"].as_str().unwrap().to_string();
        let path = format!("/v1/admin/agents/{agent}/keys/{key}");
        (self.send(Method::DELETE, &path, json!({})).await.0, key)
    }

    /// `POST /v1/admin/tokens`: a token called `name`, of `lifetime_days` or the default.
    pub async fn new_token(&self, name: &str, lifetime_days: Option<u32>) -> (u16, Value) {
        let mut body = json!({ "name": name });
        if let Some(days) = lifetime_days {
            body["lifetime_days"] = json!(days);
        }
        self.post("/v1/admin/tokens", body).await
    }

    /// `GET /v1/admin/approvals/{id}`: a request as a reviewer sees it.
    pub async fn approval(&self, id: impl std::fmt::Display) -> (u16, Value) {
        self.get(&format!("/v1/admin/approvals/{id}")).await
    }

    /// An agent's `GET /v1/sdk/approvals/{id}`, waiting up to `wait` seconds.
    pub async fn poll(&self, id: &str, wait: u32) -> (u16, Value) {
        let path = format!("/v1/sdk/approvals/{id}?wait_seconds={wait}");
        self.send(Method::GET, &path, Value::Null).await
    }
}
