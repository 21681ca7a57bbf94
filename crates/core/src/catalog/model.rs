//! The connector model: what one YAML file of `connectors/` declares, as types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The ten connector categories of the product documents; each carries a default
/// connector sensitivity (the 0–25 input of the risk score).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Edr,
    Siem,
    Cloud,
    Identity,
    Appsec,
    NetworkEmail,
    ThreatIntel,
    Itsm,
    Grc,
    Secrets,
}

impl Category {
    /// Default sensitivity of a connector of this category (docs/architecture.md §5).
    pub fn default_sensitivity(self) -> u8 {
        match self {
            Category::Secrets => 25,
            Category::Identity | Category::Edr => 20,
            Category::Cloud => 18,
            Category::NetworkEmail => 15,
            Category::Siem | Category::Appsec => 10,
            Category::Itsm | Category::Grc => 8,
            Category::ThreatIntel => 5,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Edr => "EDR / XDR",
            Category::Siem => "SIEM / Log management",
            Category::Cloud => "Cloud security",
            Category::Identity => "Identity / PAM",
            Category::Appsec => "AppSec / Vulnerability",
            Category::NetworkEmail => "Network / Email security",
            Category::ThreatIntel => "Threat intelligence",
            Category::Itsm => "ITSM / SOAR / Comms",
            Category::Grc => "GRC / Compliance",
            Category::Secrets => "Secrets / Vaults",
        }
    }
}

/// Risk tier of an operation; its weight is the 0–40 operation input of the score.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskTier {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskTier {
    pub fn weight(self) -> u8 {
        match self {
            RiskTier::Low => 5,
            RiskTier::Medium => 15,
            RiskTier::High => 30,
            RiskTier::Critical => 40,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RiskTier::Low => "low",
            RiskTier::Medium => "medium",
            RiskTier::High => "high",
            RiskTier::Critical => "critical",
        }
    }
}

/// How the executor authenticates to the vendor. Field names of the secret material
/// are fixed per scheme; the vault stores them as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "scheme", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthScheme {
    /// OAuth 2.0 client credentials grant. Secrets: `client_id`, `client_secret`.
    Oauth2ClientCredentials {
        /// URL template of the token endpoint (may use `{base_url}` and variables).
        token_url: String,
        #[serde(default)]
        scopes: Vec<String>,
        /// Extra form fields sent with the token request (e.g. Wiz's `audience`).
        #[serde(default)]
        extra_params: BTreeMap<String, String>,
        /// Where the client credentials go: HTTP basic auth or the request body.
        #[serde(default)]
        client_auth: ClientAuth,
    },
    /// A static key in a header, e.g. Okta's `Authorization: SSWS <key>`. Secret: `api_key`.
    ApiKeyHeader {
        header: String,
        #[serde(default)]
        prefix: String,
    },
    /// `Authorization: Bearer <token>`. Secret: `token`.
    Bearer,
    /// HTTP basic auth. Secrets: `username`, `password`.
    Basic,
}

impl AuthScheme {
    /// The secret fields an instance of this scheme must be given.
    pub fn secret_fields(&self) -> &'static [&'static str] {
        match self {
            AuthScheme::Oauth2ClientCredentials { .. } => &["client_id", "client_secret"],
            AuthScheme::ApiKeyHeader { .. } => &["api_key"],
            AuthScheme::Bearer => &["token"],
            AuthScheme::Basic => &["username", "password"],
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    #[default]
    Basic,
    RequestBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// Where a parameter is placed in the outgoing request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamLocation {
    Path,
    Query,
    Body,
    Header,
    /// A list: the request is sent once per item, the item filling the path placeholder
    /// named by `wire` (closing several ServiceNow changes, one PATCH each).
    Each,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

impl ParamType {
    pub fn matches(self, v: &serde_json::Value) -> bool {
        use serde_json::Value as V;
        match self {
            ParamType::String => v.is_string(),
            ParamType::Integer => v.is_i64() || v.is_u64(),
            ParamType::Number => v.is_number(),
            ParamType::Boolean => v.is_boolean(),
            ParamType::Array => matches!(v, V::Array(_)),
            ParamType::Object => matches!(v, V::Object(_)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
            ParamType::Array => "array",
            ParamType::Object => "object",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    #[serde(rename = "in")]
    pub location: ParamLocation,
    #[serde(rename = "type")]
    pub kind: ParamType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: String,
    /// Name of the field on the wire when it differs from the ARX param name
    /// (e.g. `api-version`). For `in: body`, a dotted path into the JSON body
    /// (e.g. `fields.project.key` for Jira).
    #[serde(default)]
    pub wire: Option<String>,
    /// Allowed values, when the vendor API has a closed set.
    #[serde(default, rename = "enum")]
    pub allowed: Vec<serde_json::Value>,
    /// Patterns no string in the value may match (a query language's commands that
    /// write or reach other endpoints): the call is refused, naming the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refuse: Vec<Refusal>,
}

/// One refused pattern of a param, with the reason the agent is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// A regular expression.
    #[schema(value_type = String)]
    pub pattern: Pattern,
    pub why: String,
}

/// A regular expression compiled when the catalog is read, so a bad one fails the load.
#[derive(Debug, Clone)]
pub struct Pattern(regex::Regex);

impl Pattern {
    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        regex::Regex::new(&text)
            .map(Pattern)
            .map_err(|e| serde::de::Error::custom(format!("refuse pattern '{text}': {e}")))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    #[default]
    Json,
    Form,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub method: HttpMethod,
    /// Path template appended to the base URL; `{name}` is filled from a path param
    /// or, failing that, from an instance variable.
    pub path: String,
    /// Overrides the connector's base URL template for this operation (PagerDuty's events API).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The vendor's own scope or permission that the operation needs.
    pub scope: String,
    pub risk: RiskTier,
    /// The data classes the operation reads or writes, from [`super::DATA_CLASSES`]; at
    /// least one (a missing list is reported by the catalog check, naming the operation).
    /// Drift compares them with the agent's manifest; graphs mark PII-touching operations.
    #[serde(default)]
    pub data_classes: Vec<String>,
    pub description: String,
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
    /// Query fields always sent (e.g. Azure's `api-version`).
    #[serde(default)]
    pub fixed_query: BTreeMap<String, String>,
    /// A JSON body every call starts from (e.g. a GraphQL query); body params are placed into it.
    #[serde(default)]
    pub fixed_body: Option<serde_json::Value>,
    #[serde(default)]
    pub body_encoding: BodyEncoding,
    /// `false` for endpoints that take no vendor credentials (PagerDuty events carry a routing key).
    #[serde(default = "yes")]
    pub authenticated: bool,
    /// Whether the operation changes state on the target (drives read/write in graphs).
    #[serde(default)]
    pub writes: bool,
    /// How to read the target's current state, so a reviewer sees what the call changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<StateRead>,
    /// Non-sensitive fields of the answer kept in the audit chain next to its hash
    /// (ids, statuses; never names, emails or free text). See [`crate::projection`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projection: Vec<String>,
}

/// How a write's target state is read for the reviewer's diff: another operation of the
/// connector, the records in its answer, and what the write sets on each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateRead {
    /// The reading operation (low risk, no writes).
    pub read: String,
    /// Read params taken from this call's params: `{read_param: call_param}`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Read once per item of a list param of the call, the item as a read param.
    #[serde(default)]
    pub each: Option<EachItem>,
    /// Dotted path of the record, or list of records, in the read's answer.
    pub records: String,
    /// The field that names a record.
    pub key: String,
    /// The fields the reviewer sees.
    pub fields: Vec<String>,
    /// Fields the call sets to fixed values.
    #[serde(default)]
    pub sets: BTreeMap<String, serde_json::Value>,
    /// Fields the call sets from its params: `{field: param}`.
    #[serde(default)]
    pub sets_from: BTreeMap<String, String>,
    /// Fields set according to the value of one param (`contain` → `status: contained`).
    #[serde(default)]
    pub sets_by: Option<SetsBy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EachItem {
    pub param: String,
    #[serde(rename = "as")]
    pub as_param: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetsBy {
    pub param: String,
    pub values: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
}

fn yes() -> bool {
    true
}

impl Operation {
    /// The `in: each` param, if the operation runs once per item of a list.
    pub fn each_param(&self) -> Option<(&str, &Param)> {
        self.params
            .iter()
            .find(|(_, p)| p.location == ParamLocation::Each)
            .map(|(n, p)| (n.as_str(), p))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub description: String,
    /// What the value is, which decides how it is checked (see [`crate::target`]).
    #[serde(default, rename = "type")]
    pub kind: VariableKind,
}

/// The type of an instance variable: a value can only be what its place in a URL allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VariableKind {
    /// A URL scheme: `https` (or `http` when local targets are allowed).
    Scheme,
    /// A hostname or IP address with an optional port, nothing else.
    Host,
    /// One path segment (a tenant or workspace id): no `/ ? # @ %`, not `.` or `..`.
    #[default]
    Segment,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Connector {
    pub name: String,
    pub display_name: String,
    pub category: Category,
    /// Overrides the category's default sensitivity (0–25).
    #[serde(default)]
    pub sensitivity: Option<u8>,
    pub vendor_docs: String,
    /// URL template, e.g. `https://{host}`; filled from instance variables.
    pub base_url: String,
    /// Instance variables the URL templates use, with defaults.
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    pub auth: AuthScheme,
    pub operations: BTreeMap<String, Operation>,
}

impl Connector {
    pub fn sensitivity(&self) -> u8 {
        self.sensitivity
            .unwrap_or_else(|| self.category.default_sensitivity())
            .min(25)
    }

    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.get(id)
    }
}

/// The `{name}` placeholders of a URL template, in order.
pub fn template_names(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(n, _)| n))
}
