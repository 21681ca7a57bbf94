//! The API's OpenAPI 3.1 document, generated from the handlers and their types
//! (utoipa): each handler's `#[utoipa::path]` names its own statuses and bodies; what
//! every handler of a shape answers alike is added here once, by [`Conventions`], from
//! the operation's shape:
//!
//! - an operation with a security requirement answers 401 (the [`super::extract::Caller`]
//!   extractor, or the engine's agent-key check, runs first);
//! - one with parameters or a body answers 400 when they do not parse
//!   ([`super::extract`]), one with a JSON body 413 and 415, one with path ids 404.
//!
//! Served at `GET /openapi.json`; the contract test (`server/tests/it/contract.rs`) calls
//! every operation in it and fails on any answer it does not describe.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

use crate::error::ErrorBody;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "ARX API",
        description = "The governance layer between AI agents and security tools. Agents call \
            /v1/sdk/execute with their API key; admins automate ARX through /v1/admin with an \
            admin token. Errors are {\"error\": {\"code\", \"message\", ...}} with stable codes."
    ),
    components(schemas(ErrorBody)),
    modifiers(&Conventions)
)]
struct ApiDoc;

/// The document's frame: info, the two bearer schemes, the error schema. The router
/// adds the paths.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

/// The security scheme of the agents' calls (`/v1/sdk/...`): an agent API key.
pub const AGENT_KEY: &str = "agentKey";
/// The security scheme of the admin and reviewer API: a user's admin API token.
pub const ADMIN_TOKEN: &str = "adminToken";

struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = |what: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(what.to_string()))
                    .build(),
            )
        };
        components.add_security_scheme(AGENT_KEY, bearer("An agent API key (arx_...)."));
        components.add_security_scheme(ADMIN_TOKEN, bearer("A user's admin API token (arxu_...)."));
    }
}

/// Adds the answers every operation of a shape gives (see the module's doc). Run on the
/// whole document, once the router has added the paths.
pub fn conventions(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let shared = item.parameters.clone().unwrap_or_default();
        for op in operations(item) {
            let params: Vec<_> = shared
                .iter()
                .chain(op.parameters.iter().flatten())
                .collect();
            let mut add = |status: &str, why: &str| {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error(why));
            };
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                add(
                    "401",
                    "No valid credential: missing, unknown, revoked or expired",
                );
            }
            let in_path = params
                .iter()
                .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path));
            if !params.is_empty() || op.request_body.is_some() {
                add(
                    "400",
                    "The input does not parse: the message says what to fix",
                );
            }
            if in_path {
                add("404", "No such thing in the caller's org");
            }
            if op.request_body.is_some() {
                add("413", "The body is too large");
                add("415", "The body is not of a documented content type");
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<&mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
    .collect()
}

/// An error answer: the [`ErrorBody`] shape.
pub fn error(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_documented_with_the_pattern_the_engine_checks() {
        let doc = serde_json::to_value(super::super::document()).unwrap();
        for schema in ["NewAgent", "NewInstance"] {
            assert_eq!(
                doc["components"]["schemas"][schema]["properties"]["name"]["pattern"],
                arx_core::valid::NAME_PATTERN,
                "{schema}"
            );
        }
    }
}
