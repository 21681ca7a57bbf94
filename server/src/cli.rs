//! The offline subcommands: `arx audit verify` and `arx audit export`.

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
        None => engine
            .store()
            .list_orgs()
            .await
            .map_err(|e| e.to_string())?,
    };
    let mut ok = true;
    for o in orgs {
        match engine.verify_org(o.id).await.map_err(|e| e.to_string())? {
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
        .store()
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
        .export_org(org.id, &mut *sink)
        .await
        .map_err(|e| e.to_string())?;
    sink.flush().map_err(|e| e.to_string())?;
    if let Some(p) = out {
        eprintln!("exported {n} records of org {slug} to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}
