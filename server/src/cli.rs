//! The offline subcommands: `arx audit verify`, `arx audit export`, `arx policy export`
//! and `arx policy apply`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arx_core::audit::checkpoint::PublicKey;
use arx_core::engine::{ExportCheck, ExportRange, time_ms};
use arx_core::ids::OrgId;
use arx_core::witness::{Witness, witnessed};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::config::Config;

/// `arx audit verify --export FILE [--witness DIR|URL] [--public-key FILE] [--partial]`:
/// no database. Checks every hash and link, and with a witness that the export holds
/// each witnessed record unchanged and reaches the newest checkpoint; with the public
/// key, every checkpoint's signature.
pub async fn verify_export(
    path: &Path,
    witness: Option<&str>,
    public_key: Option<PathBuf>,
    partial: bool,
) -> Result<ExitCode, String> {
    let key = match &public_key {
        Some(p) => Some(
            PublicKey::parse(
                &std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?,
            )
            .map_err(|e| format!("{}: {e}", p.display()))?,
        ),
        None => None,
    };
    let mut check = ExportCheck {
        partial,
        ..Default::default()
    };
    let mut witness_note = String::new();
    if let Some(location) = witness {
        let org = export_org(path)?;
        let w = Witness::open(location).map_err(|e| format!("witness {location}: {e}"))?;
        check.witnessed = match witnessed(&w, org, key.as_ref())
            .await
            .map_err(|e| format!("reading the witness {location}: {e}"))?
        {
            Ok(w) => w,
            Err(b) => {
                println!("FAILED: {b}");
                return Ok(ExitCode::FAILURE);
            }
        };
        witness_note = match (check.witnessed.last_key_value(), &key) {
            (None, _) => format!("; the witness holds no checkpoint of org {org}"),
            (Some((seq, _)), Some(k)) => format!(
                "; {} witnessed checkpoints, signatures valid (key {}), the newest at seq {seq}",
                check.witnessed.len(),
                k.key_id()
            ),
            (Some((seq, _)), None) => format!(
                "; {} witnessed checkpoints, the newest at seq {seq}; signatures NOT checked (give --public-key)",
                check.witnessed.len()
            ),
        };
    }
    Ok(
        match arx_core::engine::verify_export(open_export(path)?, check) {
            Ok(r) => {
                println!(
                    "OK: {} records (seq {} to {}), chain intact, head hash {}{}{witness_note}",
                    r.records,
                    r.first_seq,
                    r.head.seq,
                    r.head.hash,
                    if witness.is_some() {
                        format!("; {} checkpoints matched", r.witnessed)
                    } else {
                        String::new()
                    },
                );
                ExitCode::SUCCESS
            }
            Err(b) => {
                println!("FAILED: {b}");
                if b.seq == 1 && b.problem.contains("records missing") {
                    println!("(an export of part of the chain verifies with --partial)");
                }
                ExitCode::FAILURE
            }
        },
    )
}

/// An export to read: gzipped or not (by its first bytes).
fn open_export(path: &Path) -> Result<Box<dyn BufRead + Send>, String> {
    let mut f = BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?,
    );
    let gz = f
        .fill_buf()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(f)))
    } else {
        Box::new(f)
    })
}

/// The org an export's first record belongs to.
fn export_org(path: &Path) -> Result<OrgId, String> {
    #[derive(serde::Deserialize)]
    struct First {
        org_id: OrgId,
    }
    let mut line = String::new();
    let mut input = open_export(path)?;
    while line.trim().is_empty() {
        line.clear();
        if input
            .read_line(&mut line)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            == 0
        {
            return Err(format!("{} holds no record", path.display()));
        }
    }
    serde_json::from_str::<First>(&line)
        .map(|f| f.org_id)
        .map_err(|e| {
            format!(
                "{}: the first line is not an audit record: {e}",
                path.display()
            )
        })
}

/// `arx audit verify [--org SLUG]`: the chains as the database holds them.
pub async fn verify(cfg: &Config, org: Option<String>) -> Result<ExitCode, String> {
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

/// The part of the chain `arx audit export` writes, from its flags.
pub fn export_range(
    from_seq: Option<i64>,
    to_seq: Option<i64>,
    from: Option<String>,
    to: Option<String>,
) -> Result<ExportRange, String> {
    let from_ms = time_ms("from", from.as_ref()).map_err(|e| format!("--{e}"))?;
    let to_ms = time_ms("to", to.as_ref()).map_err(|e| format!("--{e}"))?;
    if let (Some(a), Some(b)) = (from_seq, to_seq)
        && a > b
    {
        return Err(format!("--from-seq {a} is after --to-seq {b}"));
    }
    Ok(ExportRange {
        first_seq: from_seq.unwrap_or(1),
        last_seq: to_seq,
        from_ms,
        to_ms,
    })
}

pub async fn export(
    cfg: &Config,
    slug: &str,
    out: Option<PathBuf>,
    range: ExportRange,
) -> Result<ExitCode, String> {
    let store = crate::open_store(cfg).await?;
    let engine = crate::engine(cfg, &store)?;
    let org = store_org(&engine, slug).await?;
    let system = engine.system();
    async fn write(
        system: arx_core::engine::SystemOps<'_>,
        org: OrgId,
        range: ExportRange,
        out: &mut dyn Write,
    ) -> Result<u64, String> {
        system
            .export_org(org, range, out)
            .await
            .map_err(|e| e.to_string())
    }
    let create = |p: &PathBuf| {
        std::fs::File::create(p)
            .map(std::io::BufWriter::new)
            .map_err(|e| format!("cannot create {}: {e}", p.display()))
    };
    let done = |e: std::io::Error| format!("writing the export failed: {e}");
    let n = match &out {
        Some(p) if p.extension().is_some_and(|e| e == "gz") => {
            let mut gz = GzEncoder::new(create(p)?, flate2::Compression::default());
            let n = write(system, org.id, range, &mut gz).await?;
            gz.finish().and_then(|mut f| f.flush()).map_err(done)?;
            n
        }
        Some(p) => {
            let mut f = create(p)?;
            let n = write(system, org.id, range, &mut f).await?;
            f.flush().map_err(done)?;
            n
        }
        None => {
            let mut f = std::io::BufWriter::new(std::io::stdout().lock());
            let n = write(system, org.id, range, &mut f).await?;
            f.flush().map_err(done)?;
            n
        }
    };
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
