//! The offline subcommands: `arx audit verify`, `arx audit export`, `arx policy export`
//! and `arx policy apply`.

use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use arx_core::engine::verify_export;

use crate::config::Config;

pub async fn verify(
    cfg: &Config,
    org: Option<String>,
    export: Option<PathBuf>,
) -> Result<ExitCode, String> {
    if let Some(path) = export {
        let f = std::fs::File::open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        return Ok(match verify_export(BufReader::new(f)) {
            Ok(r) => {
                println!(
                    "OK: {} records, chain intact, head seq {} hash {}",
                    r.records, r.head.seq, r.head.hash
                );
                ExitCode::SUCCESS
            }
            Err(b) => {
                println!("FAILED: {b}");
                ExitCode::FAILURE
            }
        });
    }
    let store = crate::open_store(cfg).await?;
    let engine = crate::engine(cfg, &store)?;
    let orgs = match org {
        Some(slug) => vec![store_org(&engine, &slug).await?],
        None => engine.system().orgs().await.map_err(|e| e.to_string())?,
    };
    let mut ok = true;
    for o in orgs {
        match engine
            .system()
            .verify_org(o.id)
            .await
            .map_err(|e| e.to_string())?
        {
            Ok(r) => println!(
                "OK: org {}: {} records, chain intact, head seq {} hash {}",
                o.slug, r.records, r.head.seq, r.head.hash
            ),
            Err(b) => {
                ok = false;
                println!("FAILED: org {}: {b}", o.slug);
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn store_org(engine: &arx_core::Engine, slug: &str) -> Result<arx_core::model::Org, String> {
    engine
        .system()
        .org_by_slug(slug)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no org with slug '{slug}'"))
}

pub async fn export(cfg: &Config, slug: &str, out: Option<PathBuf>) -> Result<ExitCode, String> {
    let store = crate::open_store(cfg).await?;
    let engine = crate::engine(cfg, &store)?;
    let org = store_org(&engine, slug).await?;
    let mut sink: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let n = engine
        .system()
        .export_org(org.id, &mut *sink)
        .await
        .map_err(|e| e.to_string())?;
    sink.flush().map_err(|e| e.to_string())?;
    if let Some(p) = out {
        eprintln!("exported {n} records of org {slug} to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `arx policy export --org SLUG [--out FILE]`: the policy in force as YAML.
pub async fn policy_export(
    cfg: &Config,
    slug: &str,
    out: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let store = crate::open_store(cfg).await?;
    let engine = crate::engine(cfg, &store)?;
    let org = store_org(&engine, slug).await?;
    let v = engine
        .system()
        .policy_in_force(&org)
        .await
        .map_err(|e| e.to_string())?;
    let text = format!(
        "# ARX policy of org '{}', version {} ({}, by {}).\n# Apply a changed copy with: arx policy apply --org {} FILE\n{}",
        org.slug,
        v.version,
        if v.message.is_empty() {
            "no message"
        } else {
            &v.message
        },
        v.author,
        org.slug,
        v.doc.to_yaml()
    );
    match out {
        Some(p) => {
            std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))?
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `arx policy apply --org SLUG FILE [--dry-run]`: validates the file and applies it as
/// the org's next version, printing what changes.
pub async fn policy_apply(
    cfg: &Config,
    slug: &str,
    file: PathBuf,
    dry_run: bool,
    message: Option<String>,
) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let doc = arx_core::policy::PolicyDoc::from_yaml(&text)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let store = crate::open_store(cfg).await?;
    let engine = crate::engine(cfg, &store)?;
    let org = store_org(&engine, slug).await?;
    let author = arx_core::engine::Author {
        actor: arx_core::audit::Actor {
            kind: "system".into(),
            id: None,
            name: "arx policy apply".into(),
        },
        user_id: None,
    };
    let message = message.unwrap_or_else(|| format!("applied from {}", file.display()));
    // The operator's message is the reason the audit record keeps.
    let change = arx_core::engine::PolicyChange {
        reason: message.clone(),
        message,
        based_on: None,
        dry_run,
    };
    let out = engine
        .system()
        .apply_policy(&org, &author, doc, change)
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    if out.diff.is_empty() {
        println!(
            "No change: the file equals version {} of org '{slug}'.",
            out.previous
        );
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", out.diff.unified());
    match out.version {
        Some(v) => println!(
            "Applied as version {v} of org '{slug}' (was {}): {}.",
            out.previous,
            out.diff.summary()
        ),
        None => println!(
            "Dry run: would change version {} of org '{slug}': {}. Nothing was applied.",
            out.previous,
            out.diff.summary()
        ),
    }
    Ok(ExitCode::SUCCESS)
}
