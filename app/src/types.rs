//! What pages receive from server functions: plain, serializable view data.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
    pub name: String,
    pub role: String,
    pub org_slug: String,
    pub is_admin: bool,
    /// The server lets calls go to plain http and local addresses (demo, tests): the
    /// console says so on every page.
    pub local_targets: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    /// The owner is no longer an active user of the org.
    #[serde(default)]
    pub owner_inactive: bool,
    pub labels: Vec<(String, String)>,
    pub status: String,
    pub declared_rate: u32,
    pub created: String,
    pub active_keys: usize,
    /// The manifest version in force (none: the agent has none), and whether ARX
    /// generated it from the agent's calls.
    pub manifest: Option<(i64, bool)>,
    pub open_drift: usize,
    /// Its latest call (UTC), if it ever called.
    #[serde(default)]
    pub last_call: Option<String>,
    /// Its calls of the last 24 hours: (permit, escalate, deny).
    #[serde(default)]
    pub verdicts_24h: (u64, u64, u64),
    /// The highest risk score of those calls.
    #[serde(default)]
    pub max_risk_24h: Option<u8>,
    /// No call ever recorded and no key ever used.
    #[serde(default)]
    pub never_used: bool,
}

/// How a list is sorted: a column's key and `asc` or `desc`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sorted {
    pub key: String,
    pub order: String,
}

/// The Agents page: the agents a selector matched, and their count by the grouped key's
/// value (none: without the label).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentsView {
    pub rows: Vec<AgentRow>,
    pub groups: Vec<(Option<String>, usize)>,
    /// How many agents matched, this page's number (from 0) and its size.
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    /// The order of the rows.
    pub sorted: Sorted,
}

/// The fleet graph page: the SVG of a page of agents, and what it covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetGraphView {
    pub svg: String,
    /// The connector it is filtered to (empty: all).
    pub connector: String,
    /// Every connector of the catalog, for the filter.
    pub connectors: Vec<String>,
    pub window_days: i64,
    pub from: String,
    pub to: String,
    /// How many agents the graph holds in all, this page's number (from 0) and its size.
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub ts: String,
    pub kind: String,
    pub actor: String,
    pub agent: Option<String>,
    pub connector: Option<String>,
    pub operation: Option<String>,
    pub verdict: Option<String>,
    pub risk: Option<u8>,
    pub tier: Option<String>,
    pub hash: String,
    pub prev_hash: String,
    /// The record's fields, pretty-printed.
    pub details: String,
    pub id: String,
    /// For a call's result with a response: the hash the chain holds for it.
    pub response_sha256: Option<String>,
}

/// A page of an audit search, with the counts of the whole filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditSearchView {
    pub rows: Vec<AuditRow>,
    /// Records per verdict and per connector, most first.
    pub verdicts: Vec<(String, i64)>,
    pub connectors: Vec<(String, i64)>,
    /// When the search keeps more records than its counts count: how many of its newest
    /// they are of.
    pub facets_limited: Option<usize>,
    /// The next page's `cursor`.
    pub next_cursor: Option<String>,
    /// Records in the org's chain.
    pub total: i64,
    /// Whether the viewer may open response bodies (admins and auditors).
    pub can_read_responses: bool,
}

/// One audit record on its own page, with what it links to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecordPage {
    pub row: AuditRow,
    /// The actor: its kind (`agent`, `user`, `system`) and id.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    /// The call's intercept record (for a result or an approval request).
    pub intercept: Option<String>,
    /// The records that say how the call ended (for an intercept).
    pub results: Vec<String>,
    pub approval: Option<String>,
    pub agent_id: Option<String>,
    pub can_read_responses: bool,
}

/// A vendor response body as the console shows it, checked against the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseBodyView {
    pub record_id: String,
    pub sha256: String,
    pub bytes: u64,
    /// The body, pretty-printed.
    pub body: String,
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRow {
    pub connector: String,
    pub display_name: String,
    pub category: String,
    pub name: String,
    pub environment: String,
    pub sensitivity: u8,
    pub credentials_set: bool,
    pub operations: Vec<OperationRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationRow {
    pub id: String,
    pub method: String,
    pub tier: String,
    pub description: String,
    pub writes: bool,
}

/// One approval request in the queue or the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRow {
    pub id: String,
    pub agent: String,
    pub connector: String,
    pub operation: String,
    pub risk: u8,
    pub rule: String,
    pub status: String,
    pub created: String,
    /// Seconds until it expires (0 once due), as of the server's reading.
    pub remaining_secs: i64,
    pub decided_by: String,
}

/// Everything a reviewer sees before deciding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub row: ApprovalRow,
    /// `call`, `grant` or `manifest`.
    pub kind: String,
    pub owner: String,
    pub labels: Vec<(String, String)>,
    pub instance: String,
    pub environment: String,
    pub description: String,
    pub tier: String,
    /// Score, then operation, connector, frequency and target inputs.
    pub risk_inputs: (u8, u8, u8, u8, u8),
    pub reason: String,
    pub policy_version: i64,
    pub reasoning: Option<String>,
    pub session_context: String,
    pub params: String,
    pub requirements: String,
    /// The rule asks approvers to write why.
    pub require_reason: bool,
    /// A grant's whole scope, one line each (empty for a call).
    pub scope: Vec<String>,
    /// How the request stands or ended, in words.
    pub summary: String,
    pub expires: String,
    pub comment: String,
    pub votes: Vec<(String, String)>,
    pub outcome: Option<String>,
    pub can_decide: bool,
    pub diff: Option<StateDiffView>,
}

/// The target's current state next to what the call would make of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDiffView {
    /// Where the current state came from (an operation of the connector).
    pub source: String,
    /// `(field, current, proposed, changed)`.
    pub rows: Vec<(String, String, String, bool)>,
    /// Set when the current state could not be read.
    pub error: Option<String>,
    /// How many records it covers and could not read, or that nothing would change.
    pub note: Option<String>,
    /// The earlier request that already made the change, when the call would change nothing.
    pub earlier: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub agents: usize,
    pub active_agents: usize,
    pub instances: usize,
    pub records: i64,
    pub pending_approvals: usize,
    /// The oldest pending requests, for reviewers.
    pub queue: Vec<ApprovalRow>,
    /// Verdicts of the most recent intercepts: (permit, escalate, deny).
    pub verdicts: (u32, u32, u32),
    pub recent: Vec<AuditRow>,
    /// Agents by status (active, throttled, suspended, decommissioned).
    pub fleet: Vec<(String, usize)>,
    /// Open drift alerts by severity, most severe first.
    pub open_drift: Vec<(String, usize)>,
    /// The charts' window, as their captions say it.
    #[serde(default)]
    pub chart_window: String,
    /// Calls per day by verdict, and risk per day: SVG drawn on the server (numbers
    /// and dates only).
    #[serde(default)]
    pub calls_chart: String,
    #[serde(default)]
    pub risk_chart: String,
    /// The same figures, one row a day, oldest first (the charts' table).
    #[serde(default)]
    pub days: Vec<DayRow>,
    /// The break-glass account: (email, sign-ins in 30 days, last sign-in).
    #[serde(default)]
    pub break_glass: Option<(String, u64, Option<String>)>,
}

/// One UTC day of the overview's charts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DayRow {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub permit: u64,
    pub escalate: u64,
    pub deny: u64,
    pub max_risk: Option<u8>,
    pub p95_risk: Option<u8>,
    pub median_risk: Option<u8>,
}

/// A one-shot message after a form post; `secret` is shown once (a new API key). A form
/// that was refused or only previewed (`form` names it) gets back what was typed in it
/// (`values`, never a secret) and, when one field is at fault, its name (`field`), so the
/// message stands by the form, next to that field, rather than on top of the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    pub ok: bool,
    pub message: String,
    pub secret: Option<String>,
    #[serde(default)]
    pub form: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub values: Vec<(String, String)>,
}

impl Flash {
    /// What was typed in `name`, when the form was refused.
    pub fn value(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// The message, when it is about the field `name`.
    pub fn error_for(&self, name: &str) -> Option<String> {
        (!self.ok && self.field.as_deref() == Some(name)).then(|| self.message.clone())
    }

    /// Whether the message belongs by a form rather than on top of the page.
    pub fn is_inline(&self) -> bool {
        self.form.is_some()
    }

    /// Whether this is the outcome of the form `form`, which keeps what was typed.
    pub fn of_form(&self, form: &str) -> bool {
        self.form.as_deref() == Some(form)
    }
}

/// One rule as the console lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRow {
    pub id: String,
    pub name: String,
    pub priority: i32,
    /// The match criteria in one line.
    pub when: String,
    pub condition: Option<String>,
    pub verdict: String,
    /// ESCALATE's requirements in one line.
    pub escalation: Option<String>,
    pub exempt: bool,
}

/// The policy in force, as the Policy page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyView {
    pub version: i64,
    pub author: String,
    pub created: String,
    pub message: String,
    pub settings: SettingsForm,
    pub rules: Vec<RuleRow>,
    pub yaml: String,
    pub can_edit: bool,
}

/// The org's thresholds and defaults as a form posts them (numbers as typed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SettingsForm {
    pub review_threshold: String,
    pub deny_threshold: String,
    pub default_low: String,
    pub default_medium: String,
    pub default_high: String,
    pub default_critical: String,
    pub approval_timeout: String,
    pub max_grant_ttl: String,
}

/// A rule as the editor posts it; lists are comma-separated, checkboxes present or not
/// (a field the form leaves out is empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleForm {
    /// The id being edited; empty for a new rule.
    pub original_id: String,
    pub id: String,
    pub name: String,
    pub priority: String,
    pub connectors: String,
    pub operations: String,
    pub agents: String,
    pub labels: String,
    /// A label selector (`env in (prod,staging)`).
    pub selector: String,
    pub tier_low: Option<String>,
    pub tier_medium: Option<String>,
    pub tier_high: Option<String>,
    pub tier_critical: Option<String>,
    pub min_score: String,
    pub max_score: String,
    pub condition: String,
    pub verdict: String,
    pub approvers: String,
    pub min_approvals: String,
    pub timeout: String,
    pub show_diff: Option<String>,
    pub forbid_owner: Option<String>,
    pub require_reason: Option<String>,
    pub exempt: Option<String>,
    /// Checked: no grant stands in for this rule.
    pub not_grantable: Option<String>,
    /// The policy version the form was loaded from; saving over a newer one is refused.
    pub based_on: String,
    /// Why the rule changes; required to save, kept in the audit trail.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    pub version: i64,
    pub author: String,
    pub created: String,
    pub message: String,
    pub summary: String,
    pub rules: usize,
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffView {
    pub from: i64,
    pub to: i64,
    pub summary: String,
    /// `(tag, line)`: `+` added, `-` removed, ` ` unchanged.
    pub lines: Vec<(char, String)>,
}

/// What applying a YAML policy did or would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyView {
    pub ok: bool,
    pub message: String,
    pub diff: Option<DiffView>,
}

/// Verdict counts: (permit, escalate, deny).
pub type Counts = (u64, u64, u64);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimRuleView {
    pub policy_id: String,
    pub was: Counts,
    pub would: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimChangeView {
    pub seq: i64,
    pub ts: String,
    pub agent: String,
    pub connector: String,
    pub operation: String,
    pub risk: u8,
    pub was: String,
    pub was_policy: String,
    pub would: String,
    pub would_policy: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimView {
    pub id: String,
    pub status: String,
    pub percent: u8,
    pub scanned: u64,
    pub total: u64,
    pub replayed: u64,
    pub range: String,
    pub proposal: String,
    pub was: Counts,
    pub would: Counts,
    pub rules: Vec<SimRuleView>,
    pub changed_total: u64,
    pub changed: Vec<SimChangeView>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantRow {
    pub id: String,
    pub agent: String,
    pub connector: String,
    /// The instance it covers, with its environment (`—` for grants from before instances).
    pub instance: String,
    pub operations: Vec<String>,
    /// `param = value` when the grant is limited to one resource.
    pub resource: Option<String>,
    pub reason: String,
    pub status: String,
    pub ttl: String,
    /// Seconds left while active.
    pub remaining_secs: Option<i64>,
    pub created: String,
    /// When (UTC) and why it ended.
    pub ended: Option<(String, String)>,
}

/// An integration's settings as the console shows them: never a secret, only whether it is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationRow {
    pub kind: String,
    pub configured: bool,
    pub config: Vec<(String, String)>,
    pub secrets_set: Vec<(String, bool)>,
    /// When (UTC, `YYYY-MM-DD HH:MM`) and by whom the settings last changed.
    pub updated: Option<(String, String)>,
}

/// A user of the org and the Slack member linked to them (Slack decisions by that member
/// are the user's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlackLinkRow {
    pub user_id: String,
    pub email: String,
    pub role: String,
    pub groups: Vec<String>,
    pub slack_user_id: Option<String>,
}

/// An admin API token as the console lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    /// The email of the user it acts as.
    pub user: String,
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub expires: String,
    /// `active`, `expired` or `revoked`.
    pub status: String,
}

/// The Drift page: the alerts as filtered, and the open ones counted by severity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriftView {
    /// (severity, open alerts), most severe first.
    pub open_by_severity: Vec<(String, usize)>,
    pub rows: Vec<DriftRow>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<String>,
    /// The order of the rows: by when raised, newest (`desc`) or oldest first.
    pub sorted: Sorted,
}

/// One drift alert as the console lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftRow {
    pub id: String,
    pub agent: String,
    pub severity: String,
    pub action: String,
    pub message: String,
    pub manifest_version: Option<i64>,
    pub status: String,
    pub occurrences: i64,
    pub first: String,
    pub last: String,
    /// Who acknowledged or resolved it, and their note.
    pub by: Option<String>,
    pub note: Option<String>,
}

/// One agent's registry page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentView {
    /// Its newest drift alerts, whatever their status.
    #[serde(default)]
    pub drift: Vec<DriftRow>,
    /// Its requested and active grants: (status, what, until).
    #[serde(default)]
    pub open_grants: Vec<(String, String, Option<String>)>,
    /// Its newest audit records.
    #[serde(default)]
    pub records: Vec<AuditRow>,
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    /// The owner is no longer an active user of the org.
    #[serde(default)]
    pub owner_inactive: bool,
    pub status: String,
    pub labels: Vec<(String, String)>,
    /// A page of them, in the order of `versions_sorted`.
    pub versions: Vec<ManifestRow>,
    /// How many versions the agent has, this page's number (from 0) and its size.
    pub versions_total: usize,
    pub versions_page: usize,
    pub versions_per_page: usize,
    /// By version: `desc` (newest first) or `asc`.
    pub versions_sorted: Sorted,
    /// The version in force.
    pub in_force: Option<i64>,
    /// The manifest in force, as JSON.
    pub manifest: Option<String>,
    /// Drawn on the server; its text is escaped there.
    pub graph_svg: String,
    pub retired: Option<LineageRow>,
    pub predecessors: Vec<LineageRow>,
    /// What decommissioning it would end now: key prefixes, open grants, pending approvals.
    pub keys: Vec<String>,
    pub grants: usize,
    pub pending_approvals: usize,
    /// Every key it was issued, newest first.
    pub all_keys: Vec<KeyRow>,
    /// Its latest call (UTC), if it ever called.
    #[serde(default)]
    pub last_call: Option<String>,
    /// No call ever recorded and no key ever used.
    #[serde(default)]
    pub never_used: bool,
}

/// One of an agent's keys as its page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: String,
    pub prefix: String,
    pub created: String,
    pub revoked: Option<String>,
    /// When it last authenticated a call, to the hour.
    pub last_used: Option<String>,
    /// A live key not used for 30 days (or issued 30 days ago and never used).
    pub unused_30d: bool,
}

/// One manifest version as the agent page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRow {
    pub version: i64,
    pub created: String,
    pub by: String,
    pub reason: String,
    pub generated: bool,
    pub rollback_of: Option<i64>,
    /// The first characters of its SHA-256.
    pub hash: String,
    /// What changed against the version before.
    pub changes: String,
}

/// A retired agent in a lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageRow {
    pub agent: String,
    pub reason: String,
    pub retention_class: String,
    pub retired: String,
}

/// A user as the Users page lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `local`, `oidc`, `saml` or `scim`.
    pub source: String,
    /// Every role held now ("reviewer, owner").
    pub roles: String,
    /// The user's own role.
    pub own_role: String,
    /// Each group the user is a member of: "name (source) → what it gives".
    pub groups: Vec<String>,
    pub approver_groups: Vec<String>,
    pub last_login: Option<String>,
    pub sessions: i64,
    pub active: bool,
    pub break_glass: bool,
}

/// A group's mapping as the SSO & SCIM page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingRow {
    pub group: String,
    pub role: Option<String>,
    pub approver_groups: Vec<String>,
    pub updated: String,
}

/// A directory's SCIM token as the SSO & SCIM page lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScimTokenRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

/// The org's OIDC sign-in as the SSO & SCIM page shows it (never the client secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcRow {
    pub enabled: bool,
    pub issuer: String,
    pub client_id: String,
    /// Space-separated.
    pub scopes: String,
    pub groups_claim: String,
    pub require_verified_email: bool,
    pub create_users: bool,
    pub client_secret_set: bool,
    /// To register with the provider.
    pub redirect_uri: String,
    /// Where a browser starts signing in (`…&test=1` for a test sign-in).
    pub login_url: String,
}

/// SAML sign-in for admins: what to give the IdP (ARX's names) and the settings read from
/// the IdP's metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SamlRow {
    /// An IdP's metadata is stored.
    pub configured: bool,
    pub enabled: bool,
    pub metadata_url: String,
    pub idp_entity_id: String,
    pub idp_sso_url: String,
    /// SHA-256 fingerprints of the IdP's signing certificates.
    pub signing_certs: Vec<String>,
    pub allow_idp_initiated: bool,
    pub create_users: bool,
    pub email_attribute: String,
    pub name_attribute: String,
    pub groups_attribute: String,
    /// ARX's entity id, which is also where its SP metadata is served.
    pub sp_entity_id: String,
    pub acs_url: String,
    /// Where a browser starts signing in (`…&test=1` for a test sign-in).
    pub login_url: String,
}

/// The sign-in page's SSO buttons: `(href, label)` of each, or `ask_org` when several orgs
/// have SSO and the address names none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SsoOffer {
    pub buttons: Vec<(String, String)>,
    pub ask_org: bool,
}

/// One of the signed-in user's sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    pub key: String,
    pub created: String,
    pub last_seen: String,
    pub client: Option<String>,
    /// The session of the browser looking at the list.
    pub current: bool,
}

/// The SSO & SCIM page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentitySettings {
    pub mappings: Vec<MappingRow>,
    /// Where a directory sends SCIM requests (`https://arx.example.com/scim/v2`).
    pub scim_base_url: String,
    /// The org's SCIM tokens; `None` for those who may not see them (non-admins).
    pub scim_tokens: Option<Vec<ScimTokenRow>>,
    /// The org's OIDC sign-in; `None` for non-admins.
    pub oidc: Option<OidcRow>,
    pub saml: Option<SamlRow>,
    pub idle_minutes: i64,
    pub absolute_minutes: i64,
    pub my_sessions: Vec<SessionRow>,
}

/// The org's signing key, checkpoints and witnesses (the Audit → Witness page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WitnessView {
    pub key_id: String,
    pub public_key_pem: String,
    /// `YYYY-MM-DD HH:MM`, UTC.
    pub key_created: String,
    pub interval_seconds: u64,
    pub head_seq: i64,
    /// Newest first.
    pub checkpoints: Vec<CheckpointRow>,
    pub sinks: Vec<WitnessSinkRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointRow {
    pub seq: i64,
    pub hash: String,
    /// `YYYY-MM-DD HH:MM`, UTC.
    pub signed: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WitnessSinkRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// Where it writes, as people read it.
    pub place: String,
    /// The last checkpoint seq written there.
    pub cursor_seq: i64,
    pub pending: i64,
    /// `YYYY-MM-DD HH:MM`, UTC.
    pub last_ok: Option<String>,
    pub last_error: Option<(String, String)>,
}

/// A SIEM stream of the org's audit trail (Audit → Streams).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// Where it sends, as people read it.
    pub place: String,
    /// Filters and redactions, as people read them.
    pub shaping: String,
    pub cursor_seq: i64,
    pub lag_records: i64,
    pub lag_seconds: i64,
    /// `YYYY-MM-DD HH:MM`, UTC.
    pub last_ok: Option<String>,
    pub last_error: Option<(String, String)>,
}
