//! `arx serve --demo`: on first start, an org `demo` with an admin, connector instances
//! on the built-in target simulator and two agents, described in `<data dir>/demo.json`.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use arx_core::audit::Actor;
use arx_core::engine::{NewAgent, NewInstance, new_secret_token};
use arx_core::model::Role;
use arx_core::registry::Manifest;
use arx_core::{CoreError, Engine};
use arx_simulator::{Simulator, demo_credentials};
use serde::Serialize;

use crate::config::Config;

#[derive(Debug, Serialize)]
pub struct DemoAgent {
    pub name: String,
    pub id: String,
    pub api_key: String,
}

#[derive(Debug, Serialize)]
pub struct DemoFile {
    pub org: String,
    pub console_url: String,
    pub admin_email: String,
    pub admin_password: String,
    pub admin_token: String,
    /// A reviewer in the approver groups the example policy names.
    pub reviewer_email: String,
    pub reviewer_password: String,
    /// An auditor (the CISO's view): reads everything, changes nothing.
    pub auditor_email: String,
    pub auditor_password: String,
    pub simulator_url: String,
    pub agents: Vec<DemoAgent>,
}

/// Where each demo connector's instance runs (its environment drives the risk score).
const ENVIRONMENTS: &[(&str, &str)] = &[
    ("azure", "prod"),
    ("crowdstrike", "prod"),
    ("sentinelone", "prod"),
    ("okta", "prod"),
    ("splunk", "prod"),
    ("sentinel", "prod"),
    ("wiz", "prod"),
    ("servicenow", "prod"),
    ("jira", "staging"),
    ("pagerduty", "prod"),
    ("slack", "dev"),
];

/// Seeds the demo org unless it exists; returns the demo file written, if any.
pub async fn seed(
    engine: &Engine,
    cfg: &Config,
    sim: &Simulator,
) -> Result<Option<DemoFile>, CoreError> {
    if engine.system().org_by_slug("demo").await?.is_some() {
        return Ok(None);
    }
    let org = engine
        .system()
        .create_org("demo", "Demo Security Org")
        .await?;
    let password = new_secret_token("").chars().take(20).collect::<String>();
    let email = "admin@demo.arx.local";
    let admin = engine
        .system()
        .create_local_user(
            org.id,
            email,
            "Demo Admin",
            Role::Admin,
            &password,
            Actor::system(),
        )
        .await?;
    let token = engine
        .system()
        .issue_user_token(&admin, "demo automation")
        .await?;
    let p = engine.principal_from_token(Some(&token)).await?;
    let ops = engine.admin(&p)?;
    let reviewer_email = "reviewer@demo.arx.local";
    let reviewer_password = new_secret_token("").chars().take(20).collect::<String>();
    let reviewer = engine
        .system()
        .create_local_user(
            org.id,
            reviewer_email,
            "Demo Reviewer",
            Role::Reviewer,
            &reviewer_password,
            Actor::system(),
        )
        .await?;
    ops.set_user_groups(reviewer.id, vec!["secops-leads".into(), "ir-leads".into()])
        .await?;
    let auditor_email = "ciso@demo.arx.local";
    let auditor_password = new_secret_token("").chars().take(20).collect::<String>();
    engine
        .system()
        .create_local_user(
            org.id,
            auditor_email,
            "Demo CISO",
            Role::Auditor,
            &auditor_password,
            Actor::system(),
        )
        .await?;
    for c in engine.catalog().iter() {
        let env = ENVIRONMENTS
            .iter()
            .find(|(n, _)| *n == c.name)
            .map_or("unknown", |(_, e)| e);
        let creds = demo_credentials(&c.name).as_object().map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        });
        ops.create_instance(NewInstance {
            connector: c.name.clone(),
            name: "main".into(),
            environment: env.into(),
            variables: sim.variables_for(&c.name),
            sensitivity: None,
            credentials: creds,
        })
        .await?;
    }
    // Each agent's owner is an accountable person with an account: the SecOps and IR
    // leads review too, the threat intel lead only owns an agent. Their passwords are
    // not kept anywhere (the demo signs in as the admin, reviewer and auditor).
    for (owner, who, role) in [
        ("secops-lead@demo.arx.local", "SecOps Lead", Role::Reviewer),
        (
            "ir-lead@demo.arx.local",
            "Incident Response Lead",
            Role::Reviewer,
        ),
        ("ti-lead@demo.arx.local", "Threat Intel Lead", Role::Owner),
    ] {
        let unused = new_secret_token("");
        engine
            .system()
            .create_local_user(org.id, owner, who, role, &unused, Actor::system())
            .await?;
    }
    let mut agents = Vec::new();
    for (name, desc, owner, labels) in [
        (
            "triage-agent",
            "Reads detections and opens tickets",
            "secops-lead@demo.arx.local",
            [("env", "prod"), ("team", "soc")],
        ),
        (
            "remediation-agent",
            "Contains hosts and suspends users",
            "ir-lead@demo.arx.local",
            [("env", "prod"), ("team", "ir")],
        ),
        (
            "enrichment-agent",
            "Looks up who is behind an alert in Okta",
            "ti-lead@demo.arx.local",
            [("env", "prod"), ("team", "ti")],
        ),
    ] {
        let agent = ops
            .create_agent(NewAgent {
                name: name.into(),
                description: desc.into(),
                owner: owner.into(),
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                declared_rate: Some(60),
                replaces: None,
            })
            .await?;
        let (manifest, why) = match name {
            "enrichment-agent" => (narrow_manifest(desc), "it only reads Okta identities"),
            _ => (
                demo_manifest(engine, desc),
                "the demo's agents may call every connector",
            ),
        };
        ops.publish_manifest(agent.id, manifest, why, Some(1))
            .await?;
        let (_, key) = ops.issue_agent_key(agent.id).await?;
        agents.push(DemoAgent {
            name: agent.name,
            id: agent.id.to_string(),
            api_key: key,
        });
    }
    let demo = DemoFile {
        org: org.slug,
        console_url: cfg.public_url.clone(),
        admin_email: email.into(),
        admin_password: password,
        admin_token: token,
        reviewer_email: reviewer_email.into(),
        auditor_email: auditor_email.into(),
        auditor_password,
        reviewer_password,
        simulator_url: sim.base_url(),
        agents,
    };
    write_demo_file(cfg, &demo)
        .map_err(|e| CoreError::Internal(format!("writing demo.json: {e}")))?;
    Ok(Some(demo))
}

/// The demo agents' manifests: every connector of the catalog, every environment and data
/// class, so the walkthroughs and the tests may call anything; drift is shown with an
/// agent of a narrower manifest.
fn demo_manifest(engine: &Engine, purpose: &str) -> Manifest {
    Manifest {
        connectors: engine
            .catalog()
            .names()
            .map(|c| (c.to_string(), vec!["*".to_string()]))
            .collect(),
        rate_per_minute: 6000,
        environments: ["prod", "staging", "dev", "unknown"]
            .map(String::from)
            .to_vec(),
        data_classes: arx_core::catalog::DATA_CLASSES
            .iter()
            .map(|(c, _)| c.to_string())
            .collect(),
        purpose: purpose.to_string(),
        model: "demo".into(),
    }
}

/// The manifest of the demo's narrow agent, which `examples/drift-demo.sh` takes outside
/// it: Okta identity reads in prod.
fn narrow_manifest(purpose: &str) -> Manifest {
    Manifest {
        connectors: [(
            "okta".to_string(),
            vec!["users:read".to_string(), "groups:read".to_string()],
        )]
        .into(),
        rate_per_minute: 30,
        environments: vec!["prod".into()],
        data_classes: vec!["identity".into(), "pii".into()],
        purpose: purpose.to_string(),
        model: "claude-haiku-4".into(),
    }
}

fn write_demo_file(cfg: &Config, demo: &DemoFile) -> std::io::Result<()> {
    let path = cfg.data_dir.join("demo.json");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    f.write_all(
        serde_json::to_string_pretty(demo)
            .map_err(std::io::Error::other)?
            .as_bytes(),
    )?;
    f.sync_all()
}
