//! The `arx` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use arx_server::config::Config;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "arx",
    version,
    about = "ARX: the governance layer between AI agents and security tools"
)]
struct Cli {
    /// A TOML config file (same keys as the ARX_* environment variables, lowercase, without the prefix).
    #[arg(long, global = true, env = "ARX_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (API and console).
    Serve {
        /// Seed a demo org, connector instances on the built-in simulator, and agents
        /// (implies --allow-local-targets).
        #[arg(long)]
        demo: bool,
        /// Allow calls and notices to plain http and to loopback, private and link-local
        /// addresses (ARX_ALLOW_LOCAL_TARGETS); for local tests only, never in production.
        #[arg(long)]
        allow_local_targets: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Audit trail commands.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Policy as code: export an org's policy as YAML, apply a YAML file as a new version.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print the policy in force as YAML.
    Export {
        #[arg(long)]
        org: String,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Validate a YAML policy and apply it as the org's next version.
    Apply {
        #[arg(long)]
        org: String,
        /// The policy file (YAML or JSON).
        file: PathBuf,
        /// Print what would change, apply nothing.
        #[arg(long)]
        dry_run: bool,
        /// A note kept with the version (default: the file name).
        #[arg(long, short)]
        message: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify a chain in the database, or an export with no database at all; exits 1 at
    /// the first problem, naming its seq (docs/audit.md).
    Verify {
        /// The org's slug (every org when omitted).
        #[arg(long)]
        org: Option<String>,
        /// Verify this export file (.ndjson or .ndjson.gz) instead of the database.
        #[arg(long)]
        export: Option<PathBuf>,
        /// Check the export against the checkpoints a witness holds: a directory, or
        /// s3://bucket[/prefix] (credentials and endpoint from the AWS_* variables).
        #[arg(long, requires = "export")]
        witness: Option<String>,
        /// The org's public key (PEM, from the console or
        /// /v1/admin/audit/public-key.pem): every witnessed checkpoint's signature is
        /// checked with it.
        #[arg(long, requires = "witness")]
        public_key: Option<PathBuf>,
        /// Accept an export that starts after seq 1 (made with --from-seq or --from).
        #[arg(long, requires = "export")]
        partial: bool,
    },
    /// Export an org's chain, or a contiguous part of it, as NDJSON, oldest first.
    Export {
        #[arg(long)]
        org: String,
        /// Write here instead of standard output; a name ending in .gz is gzipped.
        #[arg(long)]
        out: Option<PathBuf>,
        /// From this seq on.
        #[arg(long, conflicts_with = "from")]
        from_seq: Option<i64>,
        /// Up to and including this seq.
        #[arg(long, conflicts_with = "to")]
        to_seq: Option<i64>,
        /// From the first record at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
        #[arg(long)]
        from: Option<String>,
        /// Up to the first record at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
        #[arg(long)]
        to: Option<String>,
    },
}

fn init_logs(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ARX_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn,rmcp=warn"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs(cfg.log_json);
    let result = match cli.command {
        Command::Serve {
            demo,
            allow_local_targets,
        } => {
            let mut cfg = cfg;
            cfg.allow_local_targets |= allow_local_targets;
            serve(cfg, demo).await
        }
        Command::Migrate => arx_server::open_store(&cfg).await.map(|_| {
            println!("migrations applied to {}", redact_url(&cfg.database_url));
            ExitCode::SUCCESS
        }),
        Command::Audit {
            command:
                AuditCommand::Verify {
                    org: _,
                    export: Some(export),
                    witness,
                    public_key,
                    partial,
                },
        } => arx_server::cli::verify_export(&export, witness.as_deref(), public_key, partial).await,
        Command::Audit {
            command: AuditCommand::Verify { org, .. },
        } => arx_server::cli::verify(&cfg, org).await,
        Command::Audit {
            command:
                AuditCommand::Export {
                    org,
                    out,
                    from_seq,
                    to_seq,
                    from,
                    to,
                },
        } => {
            let range = arx_server::cli::export_range(from_seq, to_seq, from, to);
            match range {
                Ok(range) => arx_server::cli::export(&cfg, &org, out, range).await,
                Err(e) => Err(e),
            }
        }
        Command::Policy {
            command: PolicyCommand::Export { org, out },
        } => arx_server::cli::policy_export(&cfg, &org, out).await,
        Command::Policy {
            command:
                PolicyCommand::Apply {
                    org,
                    file,
                    dry_run,
                    message,
                },
        } => arx_server::cli::policy_apply(&cfg, &org, file, dry_run, message).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_string(),
    }
}

async fn serve(cfg: Config, demo: bool) -> Result<ExitCode, String> {
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| format!("cannot listen on {} ({e}); set ARX_LISTEN", cfg.listen))?;
    let data_dir = cfg.data_dir.clone();
    let running = arx_server::launch(cfg, listener, demo).await?;
    if let Some(sim) = &running.simulator {
        tracing::info!(url = %sim.base_url(), "target simulator running");
    }
    if let Some(b) = &running.bootstrap {
        println!(
            "First start: created org '{}' and its admin. Sign in as {} with the password",
            b.org, b.email
        );
        println!("    {}", b.password);
        println!("It is shown only this once: keep it in your password manager.");
    }
    if running.demo.is_some() {
        println!(
            "Demo org seeded. Sign-in details and agent keys: {}",
            data_dir.join("demo.json").display()
        );
    }
    println!("ARX is running at http://{}", running.addr);
    let mut running = running;
    tokio::select! {
        r = &mut running.server => r.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?,
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("shutting down");
            // Other replicas take this one's jobs over at once rather than after the lease.
            running.jobs.shutdown().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
