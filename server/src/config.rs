//! Configuration: defaults, then an optional TOML file (`--config` or `ARX_CONFIG`),
//! then `ARX_`-prefixed environment variables. Secrets never print through `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use arx_core::secret::Secret;
use serde::Deserialize;

/// `Debug` is written by hand below: the database and Redis URLs can hold passwords.
#[derive(Clone)]
pub struct Config {
    /// `sqlite://…` (default `<data dir>/arx.db`) or `postgres://…`.
    pub database_url: String,
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// Holds the SQLite database, the master key file and `demo.json`.
    pub data_dir: PathBuf,
    /// 32-byte key (hex or base64) wrapping the org data keys; else `<data dir>/master.key`.
    pub master_key: Option<Secret>,
    /// Shared state for replicas (LLM router health); optional.
    pub redis_url: Option<String>,
    /// The URL people reach the console at, for links.
    pub public_url: String,
    /// The built console assets (`target/site` from cargo-leptos).
    pub site_root: PathBuf,
    /// Where `--demo` runs the target simulator.
    pub simulator_listen: SocketAddr,
    /// Emit JSON log lines instead of text.
    pub log_json: bool,
    /// Let calls and notices go to plain http and to loopback, private and link-local
    /// addresses (`ARX_ALLOW_LOCAL_TARGETS`, `--allow-local-targets`; `--demo` sets it).
    /// Off, a target must be https on a public address.
    pub allow_local_targets: bool,
    /// Default and longest lifetime of a new admin API token, in days (default 90).
    pub token_lifetime_days: u32,
    /// Take the client address of sign-ins from `X-Forwarded-For` (its last entry, the one
    /// the proxy in front of ARX added). Only when such a proxy is the only way in:
    /// otherwise a client picks its own address and escapes per-address throttling.
    pub trust_forwarded_for: bool,
    /// How long a replica holds a periodic job's lease without renewing it, in
    /// milliseconds (`ARX_JOB_LEASE_MS`, default 15000; at least three of the job's
    /// periods are used). When a replica dies, another takes its jobs over within this.
    pub job_lease_ms: u64,
    /// The witness directory every org's checkpoints are written to, create-only
    /// (`ARX_WITNESS_DIR`, default `<data dir>/witness`).
    pub witness_dir: PathBuf,
    /// How often each chain that moved is signed, in seconds (`ARX_CHECKPOINT_INTERVAL`,
    /// default 300, 1 to 86400).
    pub checkpoint_interval_secs: u64,
}

/// The default of [`Config::job_lease_ms`].
pub const DEFAULT_JOB_LEASE_MS: u64 = 15_000;
/// The accepted range of [`Config::job_lease_ms`]: one second to one hour.
const JOB_LEASE_MS: std::ops::RangeInclusive<u64> = 1_000..=3_600_000;

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field listed so a new one is not forgotten: destructuring fails to
        // compile when a field is added without deciding whether it is a secret.
        let Config {
            database_url,
            listen,
            data_dir,
            master_key,
            redis_url,
            public_url,
            site_root,
            simulator_listen,
            log_json,
            allow_local_targets,
            token_lifetime_days,
            trust_forwarded_for,
            job_lease_ms,
            witness_dir,
            checkpoint_interval_secs,
        } = self;
        f.debug_struct("Config")
            .field("database_url", &redact_url(database_url))
            .field("listen", listen)
            .field("data_dir", data_dir)
            .field("master_key", master_key)
            .field("redis_url", &redis_url.as_deref().map(redact_url))
            .field("public_url", &redact_url(public_url))
            .field("site_root", site_root)
            .field("simulator_listen", simulator_listen)
            .field("log_json", log_json)
            .field("allow_local_targets", allow_local_targets)
            .field("token_lifetime_days", token_lifetime_days)
            .field("trust_forwarded_for", trust_forwarded_for)
            .field("job_lease_ms", job_lease_ms)
            .field("witness_dir", witness_dir)
            .field("checkpoint_interval_secs", checkpoint_interval_secs)
            .finish()
    }
}

/// `url` with the password of its user info and the values of password-like query
/// parameters (libpq reads `?password=`) replaced by `***`; the rest stays readable so
/// the printed config still says which host and database it points at. When in doubt
/// it hides too much: the user info ends at the last '@' (a password may hold '@', '?'
/// or '/' unencoded), so an '@' later in the URL hides the host as well.
fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.rsplit_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        out = format!("{scheme}://{user}:***@{host}");
    }
    if let Some((base, query)) = out.split_once('?') {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret_param(k) => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{base}?{}", pairs.join("&"));
    }
    out
}

fn is_secret_param(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "secret", "token", "key"]
        .iter()
        .any(|s| k.contains(s))
}

/// The keys a config file may hold; all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    master_key: Option<String>,
    redis_url: Option<String>,
    public_url: Option<String>,
    site_root: Option<PathBuf>,
    simulator_listen: Option<String>,
    log_json: Option<bool>,
    allow_local_targets: Option<bool>,
    token_lifetime_days: Option<u32>,
    trust_forwarded_for: Option<bool>,
    job_lease_ms: Option<u64>,
    witness_dir: Option<PathBuf>,
    checkpoint_interval: Option<u64>,
}

fn parse_addr(what: &str, v: &str) -> Result<SocketAddr, String> {
    v.parse()
        .map_err(|_| format!("{what} must be host:port, like 127.0.0.1:3000 (got '{v}')"))
}

/// A whole number from its variable (`var`), else the file (`key`), else `default`,
/// within `range`; the error names where the bad value came from.
fn number(
    var: &str,
    from_env: Option<String>,
    key: &str,
    from_file: Option<u64>,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
    default: u64,
) -> Result<u64, String> {
    let (lo, hi) = (range.start(), range.end());
    match from_env {
        Some(v) => {
            v.parse().ok().filter(|n| range.contains(n)).ok_or_else(|| {
                format!("{var} must be a number of {unit}, {lo} to {hi} (got '{v}')")
            })
        }
        None => match from_file {
            Some(n) if !range.contains(&n) => Err(format!("{key} must be {lo} to {hi} (got {n})")),
            Some(n) => Ok(n),
            None => Ok(default),
        },
    }
}

impl Config {
    /// Loads the layers; `file` is the `--config` path, if any.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env("ARX_CONFIG").map(PathBuf::from));
        let f: FileConfig = match &file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read config file {}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| format!("config file {}: {e}", p.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = env("ARX_DATA_DIR")
            .map(PathBuf::from)
            .or(f.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = env("ARX_DATABASE_URL")
            .or(f.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("arx.db").display()));
        // An address from its variable, else the file, else `default`.
        let addr = |var: &str, from_file: Option<String>, default: &str| {
            parse_addr(
                var,
                &env(var).or(from_file).unwrap_or_else(|| default.into()),
            )
        };
        let listen = addr("ARX_LISTEN", f.listen, "127.0.0.1:3000")?;
        let simulator_listen = addr("ARX_SIMULATOR_LISTEN", f.simulator_listen, "127.0.0.1:3100")?;
        let public_url = env("ARX_PUBLIC_URL")
            .or(f.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let token_lifetime_days = number(
            "ARX_TOKEN_LIFETIME_DAYS",
            env("ARX_TOKEN_LIFETIME_DAYS"),
            "token_lifetime_days",
            f.token_lifetime_days.map(u64::from),
            1..=3650,
            "days",
            u64::from(arx_core::engine::DEFAULT_TOKEN_LIFETIME_DAYS),
        )
        .map(|d| u32::try_from(d).unwrap_or(u32::MAX))?;
        let job_lease_ms = number(
            "ARX_JOB_LEASE_MS",
            env("ARX_JOB_LEASE_MS"),
            "job_lease_ms",
            f.job_lease_ms,
            JOB_LEASE_MS,
            "milliseconds",
            DEFAULT_JOB_LEASE_MS,
        )?;
        let checkpoint_interval_secs = number(
            "ARX_CHECKPOINT_INTERVAL",
            env("ARX_CHECKPOINT_INTERVAL"),
            "checkpoint_interval",
            f.checkpoint_interval,
            1..=86_400,
            "seconds",
            arx_core::engine::DEFAULT_CHECKPOINT_INTERVAL_SECS,
        )?;
        let witness_dir = env("ARX_WITNESS_DIR")
            .map(PathBuf::from)
            .or(f.witness_dir)
            .unwrap_or_else(|| data_dir.join("witness"));
        Ok(Config {
            token_lifetime_days,
            job_lease_ms,
            witness_dir,
            checkpoint_interval_secs,
            trust_forwarded_for: env("ARX_TRUST_FORWARDED_FOR")
                .map(|v| v == "1" || v == "true")
                .or(f.trust_forwarded_for)
                .unwrap_or(false),
            database_url,
            listen,
            master_key: env("ARX_MASTER_KEY").or(f.master_key).map(Secret::new),
            redis_url: env("ARX_REDIS_URL").or(f.redis_url),
            public_url: public_url.trim_end_matches('/').to_string(),
            site_root: env("LEPTOS_SITE_ROOT")
                .map(PathBuf::from)
                .or(f.site_root)
                .unwrap_or_else(|| PathBuf::from("target/site")),
            simulator_listen,
            log_json: env("ARX_LOG_JSON")
                .map(|v| v == "1" || v == "true")
                .or(f.log_json)
                .unwrap_or(false),
            allow_local_targets: env("ARX_ALLOW_LOCAL_TARGETS")
                .map(|v| v == "1" || v == "true")
                .or(f.allow_local_targets)
                .unwrap_or(false),
            data_dir,
        })
    }

    /// A configuration for tests: everything under `dir`, ports chosen by the OS.
    pub fn for_tests(dir: &Path, database_url: Option<String>) -> Self {
        Config {
            database_url: database_url
                .unwrap_or_else(|| format!("sqlite://{}", dir.join("arx.db").display())),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.to_path_buf(),
            master_key: None,
            redis_url: None,
            public_url: "http://127.0.0.1".into(),
            site_root: PathBuf::from("target/site"),
            simulator_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            log_json: false,
            // The tests' targets (the simulator, local stubs) are on this machine.
            allow_local_targets: true,
            token_lifetime_days: arx_core::engine::DEFAULT_TOKEN_LIFETIME_DAYS,
            trust_forwarded_for: false,
            // Short, so a test sees another replica take a job over within seconds.
            job_lease_ms: 5_000,
            witness_dir: dir.join("witness"),
            checkpoint_interval_secs: arx_core::engine::DEFAULT_CHECKPOINT_INTERVAL_SECS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(database_url: &str, redis_url: Option<&str>) -> String {
        let mut c = Config::for_tests(Path::new("/tmp/arx"), Some(database_url.into()));
        c.redis_url = redis_url.map(str::to_string);
        c.master_key = Some(Secret::new("master-key-material"));
        format!("{c:?}")
    }

    #[test]
    fn debug_hides_the_database_password_but_names_user_host_and_database() {
        let out = printed("postgres://user:secret@host/db", None);
        assert!(out.contains("postgres://user:***@host/db"), "{out}");
        assert!(!out.contains("secret"), "{out}");
        assert!(!out.contains("master-key-material"), "{out}");
    }

    #[test]
    fn debug_hides_every_secret_bearing_field() {
        for (url, secret) in [
            ("postgres://u:p%40ss@w@db.example:5432/arx", "p%40ss@w"),
            (
                "postgres://u@db.example/arx?sslmode=require&password=hunter2",
                "hunter2",
            ),
            ("postgresql://u:hunter2@db.example", "hunter2"),
            ("postgres://u:a?b/c@db.example/arx", "a?b/c"),
            ("postgres://db.example/arx?password=x@y", "x@y"),
        ] {
            let out = printed(url, Some("redis://:redispw@cache:6379/0"));
            assert!(!out.contains(secret), "{url}: {out}");
            assert!(!out.contains("redispw"), "{out}");
            assert!(out.contains("redis://:***@cache:6379/0"), "{out}");
            assert!(out.contains("db.example"), "the host still shows: {out}");
        }
        let out = printed("sqlite:///var/lib/arx/arx.db", None);
        assert!(out.contains("sqlite:///var/lib/arx/arx.db"), "{out}");
    }
}
