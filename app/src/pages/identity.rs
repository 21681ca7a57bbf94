//! SSO & SCIM: sign-in through the org's OpenID Connect provider or SAML 2.0 identity
//! provider (each with a test sign-in), the tokens directories provision users and groups
//! with (SCIM 2.0), what each directory group gives its members (the group → role
//! mapping), how long console sessions last, and the signed-in user's own sessions.

use leptos::prelude::*;

use crate::components::form::{Field, Refilled, RowAction, SubmitRow, TextField};
use crate::components::me::{OnlyFor, is_admin, signed_in};
use crate::components::messages::{ShownFlash, posted};
use crate::components::page::Page;
use crate::components::table::{Loaded, headers, rows_table};
use crate::components::when::When;
use crate::server_fns::identity::{
    CreateScimToken, DeleteGroupMapping, EndMySession, RevokeScimToken, SetGroupMapping, SetOidc,
    SetSaml, SetSessionSettings, identity_view,
};
use crate::types::{OidcRow, SamlRow, ScimTokenRow};

#[component]
pub fn IdentityPage() -> impl IntoView {
    let mapping = ServerAction::<SetGroupMapping>::new();
    let unmap = ServerAction::<DeleteGroupMapping>::new();
    let timeouts = ServerAction::<SetSessionSettings>::new();
    let end = ServerAction::<EndMySession>::new();
    let new_token = ServerAction::<CreateScimToken>::new();
    let revoke = ServerAction::<RevokeScimToken>::new();
    let oidc = ServerAction::<SetOidc>::new();
    let saml = ServerAction::<SetSaml>::new();
    let version = Signal::derive(move || {
        mapping.version().get()
            + unmap.version().get()
            + timeouts.version().get()
            + end.version().get()
            + new_token.version().get()
            + revoke.version().get()
            + oidc.version().get()
            + saml.version().get()
    });
    let data = Resource::new(move || version.get(), |_| identity_view());
    let flash = posted(version);
    let me = signed_in();
    view! {
        <Page
            title="SSO & SCIM"
            intro="Who gets which rights. Users hold their own role plus what each of their groups is mapped to here; a change applies at each member's next click."
        >
            <ShownFlash flash />
            <div class="card" data-testid="sso-status">
                <h2>"Single sign-on and provisioning"</h2>
                <p>
                    "Sign-in through an OpenID Connect provider or a SAML 2.0 identity provider, and provisioning over SCIM 2.0, are set below: the users a directory pushes or that sign in appear on the "
                    <a href="/settings/users">"Users"</a>
                    " page with the rights the mapping gives their groups. The local admin account stays as break-glass; its use shows on the Overview."
                </p>
            </div>
            <Loaded data let:v>
                {v.oidc.clone().map(|o| view! { <OidcCard o action=oidc flash /> })}
                {v.saml.clone().map(|row| view! { <SamlCard row action=saml flash /> })}
                {v
                    .scim_tokens
                    .clone()
                    .map(|tokens| {
                        view! {
                            <ScimCard
                                base_url=v.scim_base_url.clone()
                                tokens
                                new_token
                                revoke
                                flash
                            />
                        }
                    })}
                <div class="card">
                    <h2>"Group → role mapping"</h2>
                    <OnlyFor me who=|m| m.is_admin>
                        <ActionForm action=mapping attr:class="form-grid">
                            <Refilled flash form="mapping">
                                <Field
                                    label="Group (exactly as the directory names it)"
                                    name="group"
                                    required=true
                                    maxlength=256
                                    placeholder="Okta-SecOps-Leads"
                                />
                                <div class="field">
                                    <label>
                                        "Role" <select name="role">
                                            <option value="">"none"</option>
                                            <option value="admin">"admin"</option>
                                            <option value="reviewer">"reviewer"</option>
                                            <option value="auditor">"auditor (read-only)"</option>
                                            <option value="owner">"agent owner"</option>
                                        </select>
                                    </label>
                                </div>
                                <Field
                                    label="Approver groups (comma-separated)"
                                    name="approver_groups"
                                    maxlength=2000
                                    placeholder="secops-leads"
                                />
                            </Refilled>
                            <SubmitRow label="Save mapping" />
                        </ActionForm>
                    </OnlyFor>
                    <MappingTable rows=v.mappings.clone() me unmap />
                </div>
                <div class="card">
                    <h2>"Session timeouts"</h2>
                    <OnlyFor me who=|m| m.is_admin>
                        <ActionForm action=timeouts attr:class="form-grid">
                            <Refilled flash form="sessions">
                                <Field
                                    label="Idle (minutes, 5 to 1440)"
                                    name="idle_minutes"
                                    kind="number"
                                    min=5
                                    max=1440
                                    required=true
                                    value=v.idle_minutes.to_string()
                                />
                                <Field
                                    label="Absolute (minutes after sign-in)"
                                    name="absolute_minutes"
                                    kind="number"
                                    min=5
                                    max=43200
                                    required=true
                                    value=v.absolute_minutes.to_string()
                                />
                            </Refilled>
                            <SubmitRow label="Save timeouts" />
                        </ActionForm>
                    </OnlyFor>
                    <p class="muted">
                        {format!(
                            "A console session ends after {} minutes without a click, and {} minutes after sign-in however busy.",
                            v.idle_minutes,
                            v.absolute_minutes,
                        )}
                    </p>
                </div>
                <div class="card flush">
                    <h2 class="pad">"Your sessions"</h2>
                    {rows_table(
                        "table",
                        Some("my-sessions"),
                        view! {
                            {headers(&["Session", "Signed in", "Last used", "From"])}
                            <th></th>
                        },
                        v.my_sessions.clone(),
                        move |s| {
                            let short: String = s.key.chars().take(12).collect();
                            view! {
                                <tr data-session=short.clone() data-current=s.current.to_string()>
                                    <td class="mono small">
                                        {format!("{short}…")}
                                        {s
                                            .current
                                            .then(|| {
                                                view! {
                                                    " "
                                                    <span class="badge ok">"this browser"</span>
                                                }
                                            })}
                                    </td>
                                    <td class="nowrap">
                                        <When utc=s.created.clone() />
                                    </td>
                                    <td class="nowrap">
                                        <When utc=s.last_seen.clone() />
                                    </td>
                                    <td class="mono small">
                                        {s.client.clone().unwrap_or_default()}
                                    </td>
                                    <td>
                                        // This browser's own session ends with Sign out.
                                        {(!s.current)
                                            .then(|| {
                                                view! {
                                                    <RowAction
                                                        action=end
                                                        hidden=vec![("key", s.key.clone())]
                                                        label="End"
                                                        button="btn small danger"
                                                        aria_label=format!("End session {short}")
                                                    />
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        },
                    )}
                </div>
            </Loaded>
        </Page>
    }
}

/// OIDC sign-in for admins: what to register with the provider, the settings (the
/// secret write-only), the sign-in link and a test sign-in.
#[component]
fn OidcCard(
    o: OidcRow,
    action: ServerAction<SetOidc>,
    flash: crate::components::messages::Posted,
) -> impl IntoView {
    let test_url = format!("{}&test=1", o.login_url);
    let state = if o.enabled { "on" } else { "off" };
    view! {
        <div class="card" data-testid="oidc">
            <h2>"Sign-in with OpenID Connect " <span class="badge">{state}</span></h2>
            <p>
                "Register ARX with your provider (Okta, Entra ID, Keycloak) as a web application with the redirect URI "
                <code data-testid="oidc-redirect">{o.redirect_uri.clone()}</code>
                ", then fill in what it gives you. The client secret is stored encrypted and never shown again."
            </p>
            <ActionForm action attr:class="form-grid">
                <Refilled flash form="oidc">
                    <Field
                        label="Issuer"
                        name="issuer"
                        required=true
                        maxlength=500
                        placeholder="https://example.okta.com"
                        value=o.issuer.clone()
                    />
                    <Field
                        label="Client id"
                        name="client_id"
                        required=true
                        maxlength=256
                        value=o.client_id.clone()
                    />
                    <Field
                        label=if o.client_secret_set {
                            "Client secret (stored; leave empty to keep it)"
                        } else {
                            "Client secret"
                        }
                        name="client_secret"
                        kind="password"
                        maxlength=4096
                        autocomplete="off"
                    />
                    <Field
                        label="Scopes (space-separated)"
                        name="scopes"
                        maxlength=1000
                        value=o.scopes.clone()
                    />
                    <Field
                        label="Groups claim"
                        name="groups_claim"
                        maxlength=100
                        value=o.groups_claim.clone()
                    />
                    <div class="field wide">
                        <label class="check">
                            <input
                                type="checkbox"
                                name="require_verified_email"
                                checked=o.require_verified_email
                            />
                            "Refuse an email the provider has not verified"
                        </label>
                        <label class="check">
                            <input type="checkbox" name="create_users" checked=o.create_users />
                            "Create an account at a first sign-in (off: only users provisioned by SCIM or made here)"
                        </label>
                        <label class="check">
                            <input type="checkbox" name="enabled" checked=o.enabled />
                            "Sign-in through this provider is on"
                        </label>
                    </div>
                </Refilled>
                <SubmitRow label="Save OIDC settings" />
            </ActionForm>
            <p>
                "Sign-in link: " <code data-testid="oidc-login">{o.login_url.clone()}</code> " "
                <a class="btn small" href=test_url rel="external" data-testid="oidc-test">
                    "Test sign-in"
                </a>
                <span class="muted small">
                    " runs every check with your provider and reports what failed, or who would sign in with which rights; nobody is signed in."
                </span>
            </p>
        </div>
    }
}

/// SAML sign-in for admins: ARX's names to give the IdP (its metadata first), the IdP's
/// metadata by URL or upload, what was read from it, the options, and a test sign-in.
#[component]
fn SamlCard(
    row: SamlRow,
    action: ServerAction<SetSaml>,
    flash: crate::components::messages::Posted,
) -> impl IntoView {
    let test_url = format!("{}&test=1", row.login_url);
    let state = match (row.configured, row.enabled) {
        (false, _) => "not set",
        (true, true) => "on",
        (true, false) => "off",
    };
    let read = row.configured.then(|| {
        let certs = row
            .signing_certs
            .iter()
            .map(|c| {
                view! {
                    <li>
                        <code class="small">{c.clone()}</code>
                    </li>
                }
            })
            .collect_view();
        view! {
            <dl class="facts" data-testid="saml-idp">
                <dt>"IdP entity id"</dt>
                <dd>
                    <code>{row.idp_entity_id.clone()}</code>
                </dd>
                <dt>"Sign-in URL (HTTP-Redirect)"</dt>
                <dd>
                    <code>{row.idp_sso_url.clone()}</code>
                </dd>
                <dt>"Signing certificates (SHA-256)"</dt>
                <dd>
                    <ul class="plain">{certs}</ul>
                </dd>
            </dl>
        }
    });
    view! {
        <div class="card" data-testid="saml">
            <h2>"Sign-in with SAML 2.0 " <span class="badge">{state}</span></h2>
            <p>
                "Give your IdP (Okta, Entra ID, Keycloak, ADFS) ARX's metadata: "
                <a href=row.sp_entity_id.clone() rel="external" data-testid="saml-sp-metadata">
                    <code>{row.sp_entity_id.clone()}</code>
                </a> ", or enter by hand the entity id (the same URL) and the ACS URL "
                <code data-testid="saml-acs">{row.acs_url.clone()}</code>
                " (HTTP-POST). Send the email as the NameID (format emailAddress) or as an attribute, and the groups as an attribute. Then give ARX the IdP's metadata here."
            </p>
            {read}
            <ActionForm action attr:class="form-grid">
                <Refilled flash form="saml">
                    <Field
                        label="IdP metadata URL (https)"
                        name="metadata_url"
                        maxlength=2000
                        placeholder="https://example.okta.com/app/…/sso/saml/metadata"
                        value=row.metadata_url.clone()
                    />
                    <TextField
                        label="…or the IdP metadata XML"
                        name="metadata_xml"
                        value=""
                        rows=4
                        code=true
                        hint="Leave both empty to keep the metadata read before. Metadata without a signing certificate is refused: ARX takes only signed assertions."
                    />
                    <Field
                        label="Email attribute (empty: the NameID)"
                        name="email_attribute"
                        maxlength=200
                        value=row.email_attribute.clone()
                    />
                    <Field
                        label="Name attribute"
                        name="name_attribute"
                        maxlength=200
                        value=row.name_attribute.clone()
                    />
                    <Field
                        label="Groups attribute"
                        name="groups_attribute"
                        maxlength=200
                        value=row.groups_attribute.clone()
                    />
                    <div class="field wide">
                        <label class="check">
                            <input type="checkbox" name="create_users" checked=row.create_users />
                            "Create an account at a first sign-in (off: only users provisioned by SCIM or made here)"
                        </label>
                        <label class="check">
                            <input
                                type="checkbox"
                                name="allow_idp_initiated"
                                checked=row.allow_idp_initiated
                            />
                            "Take sign-ins started at the IdP (its app dashboard); off: only those started at ARX, each answered once"
                        </label>
                        <label class="check">
                            <input type="checkbox" name="enabled" checked=row.enabled />
                            "Sign-in through this IdP is on"
                        </label>
                    </div>
                </Refilled>
                <SubmitRow label="Save SAML settings" />
            </ActionForm>
            <p>
                "Sign-in link: " <code data-testid="saml-login">{row.login_url.clone()}</code> " "
                {row
                    .configured
                    .then(|| {
                        view! {
                            <a
                                class="btn small"
                                href=test_url.clone()
                                rel="external"
                                data-testid="saml-test"
                            >
                                "Test sign-in"
                            </a>
                            <span class="muted small">
                                " checks a real answer of your IdP (signature, issuer, audience, recipient, validity) and shows who would sign in with which rights; nobody is signed in."
                            </span>
                        }
                    })}
            </p>
        </div>
    }
}

/// SCIM provisioning for admins: the base URL, a new token (shown once), the tokens.
#[component]
fn ScimCard(
    base_url: String,
    tokens: Vec<ScimTokenRow>,
    new_token: ServerAction<CreateScimToken>,
    revoke: ServerAction<RevokeScimToken>,
    flash: crate::components::messages::Posted,
) -> impl IntoView {
    view! {
        <div class="card" data-testid="scim">
            <h2>"SCIM provisioning"</h2>
            <p>
                "Base URL: " <code data-testid="scim-base">{base_url}</code>
                " · authentication: Bearer token (the directory's \"API token\" or \"Secret token\")."
            </p>
            <ActionForm action=new_token attr:class="form-grid">
                <Refilled flash form="scim">
                    <Field
                        label="New token for (the directory that will hold it)"
                        name="name"
                        required=true
                        maxlength=100
                        placeholder="Okta provisioning"
                    />
                </Refilled>
                <SubmitRow label="Create SCIM token" />
            </ActionForm>
            {if tokens.is_empty() {
                view! { <p class="muted">"No SCIM token yet."</p> }.into_any()
            } else {
                rows_table(
                        "table",
                        Some("scim-tokens"),
                        view! {
                            {headers(&["Token", "For", "Created", "Last used", "State"])}
                            <th></th>
                        },
                        tokens,
                        move |t| {
                            let state = t
                                .revoked
                                .clone()
                                .map_or_else(
                                    || view! { <span class="badge ok">"active"</span> }.into_any(),
                                    |_| view! { <span class="badge">"revoked"</span> }.into_any(),
                                );
                            view! {
                                <tr data-scim-token=t.name.clone()>
                                    <td class="mono small">{format!("{}…", t.prefix)}</td>
                                    <td>
                                        {t.name.clone()} <br />
                                        <span class="muted small">
                                            {format!("by {}", t.created_by)}
                                        </span>
                                    </td>
                                    <td class="nowrap">
                                        <When utc=t.created.clone() />
                                    </td>
                                    <td class="nowrap">
                                        {t
                                            .last_used
                                            .clone()
                                            .map_or_else(
                                                || view! { <span class="muted">"never"</span> }.into_any(),
                                                |u| view! { <When utc=u /> }.into_any(),
                                            )}
                                    </td>
                                    <td>{state}</td>
                                    <td>
                                        {t
                                            .revoked
                                            .is_none()
                                            .then(|| {
                                                view! {
                                                    <RowAction
                                                        action=revoke
                                                        hidden=vec![("id", t.id.clone())]
                                                        label="Revoke"
                                                        button="btn small danger"
                                                        aria_label=format!("Revoke the SCIM token {}", t.name)
                                                    />
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        },
                    )
                    .into_any()
            }}
        </div>
    }
}

#[component]
fn MappingTable(
    rows: Vec<crate::types::MappingRow>,
    me: crate::components::me::MeResource,
    unmap: ServerAction<DeleteGroupMapping>,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No group is mapped yet."</p> }.into_any();
    }
    view! {
        <Suspense>
            {move || {
                let rows = rows.clone();
                Suspend::new(async move {
                    let admin = is_admin(me).await;
                    rows_table(
                        "table",
                        Some("mappings"),
                        view! {
                            {headers(&["Group", "Role", "Approver groups", "Changed"])}
                            <th></th>
                        },
                        rows,
                        move |m| {
                            view! {
                                <tr data-group=m.group.clone()>
                                    <td class="mono">{m.group.clone()}</td>
                                    <td>{m.role.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>{m.approver_groups.join(", ")}</td>
                                    <td class="nowrap">
                                        <When utc=m.updated.clone() />
                                    </td>
                                    <td>
                                        {admin
                                            .then(|| {
                                                view! {
                                                    <RowAction
                                                        action=unmap
                                                        hidden=vec![("group", m.group.clone())]
                                                        label="Remove"
                                                        button="btn small danger"
                                                        aria_label=format!("Remove the mapping of {}", m.group)
                                                    />
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        },
                    )
                })
            }}
        </Suspense>
    }
    .into_any()
}
