//! The storage of ARX on SQLite (embedded default) and PostgreSQL (production).
//!
//! One implementation serves both: every query is written once with `$N` placeholders,
//! which both drivers accept, over sqlx's `Any` driver. What differs between the two
//! databases is named in [`Dialect`] and in the two migration folders, nothing else.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// One module per aggregate, each implementing its trait of `arx_core::store`.
mod agents;
mod approvals;
mod audit;
mod audit_index;
mod grants;
mod identity;
mod integrations;
mod leases;
mod policy;
mod registry;
mod responses;
mod rows;
mod scim;
mod simulations;
mod sso;
mod stats;
mod witness;

use std::str::FromStr;
use std::time::Duration;

use arx_core::CoreError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

/// The few places where SQLite and PostgreSQL need different words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
    url: String,
    /// Names this process's notifications, so its own listener skips what it already knows.
    instance: uuid::Uuid,
    /// The last known head of each org's chain (a hint: the database's keys are the truth).
    heads: std::sync::Arc<
        std::sync::Mutex<
            std::collections::HashMap<arx_core::ids::OrgId, arx_core::audit::ChainHead>,
        >,
    >,
    /// SQLite: the database file as opened (see [`DbFile`]).
    file: Option<DbFile>,
    /// The connection audit appends go through, kept out of the pool between appends: no
    /// acquire and no health check per append. One that fails is dropped (closed), and the
    /// next append takes another.
    writer: std::sync::Arc<tokio::sync::Mutex<Option<sqlx::pool::PoolConnection<sqlx::Any>>>>,
    /// SQLite: the WAL checkpoints, run off the writer ([`Checkpointer`]).
    _checkpointer: Option<std::sync::Arc<Checkpointer>>,
}

/// How often the SQLite checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// The WAL size (in pages) at which a committing connection checkpoints by itself: a
/// backstop, reached only if the [`Checkpointer`] falls behind (SQLite's default is 1,000).
const BACKSTOP_PAGES: u32 = 10_000;

/// SQLite's WAL checkpoints, off the audit writer. By default the commit that takes the
/// WAL past 1,000 pages copies it into the database file and syncs that file before its
/// caller is answered: the slowest appends. Here a passive checkpoint runs every
/// [`CHECKPOINT_EVERY`] on another connection, so the writer never waits for one, and
/// once a checkpoint has copied everything the writer starts the WAL again from its
/// beginning: each commit then overwrites blocks the file already has, and syncing an
/// overwrite costs less than syncing a file that grew. The task ends with the store.
#[derive(Debug)]
struct Checkpointer(tokio::task::AbortHandle);

impl Checkpointer {
    fn start(pool: AnyPool) -> Self {
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !pool.is_closed() {
                tick.tick().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed; commits checkpoint by themselves past the backstop");
                }
            }
        });
        Checkpointer(task.abort_handle())
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A SQLite database file and the identity (device, inode) it had when opened. A file
/// removed or moved while open is still written through the connections' open
/// descriptors, silently (SQLite in WAL mode does not check), and whatever was written
/// there is gone at the next start. So every append first checks that the path still
/// names that file, and fails (closed: audit unavailable) while it does not; moved
/// back, it is written again.
#[derive(Debug, Clone)]
struct DbFile {
    path: std::path::PathBuf,
    id: (u64, u64),
}

impl DbFile {
    /// The file of a `sqlite://` URL, once it exists; none for an in-memory database.
    fn of(url: &str) -> Option<DbFile> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest
            .split('?')
            .next()
            .filter(|p| !p.is_empty() && !p.contains(":memory:"))?;
        let path = std::path::PathBuf::from(path);
        let id = Self::identity(&path).ok()?;
        Some(DbFile { path, id })
    }

    fn identity(path: &std::path::Path) -> std::io::Result<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path)?;
        Ok((m.dev(), m.ino()))
    }

    /// Whether the path still names the file that was opened.
    fn check(&self) -> Result<(), CoreError> {
        match Self::identity(&self.path) {
            Ok(id) if id == self.id => Ok(()),
            Ok(_) => Err(CoreError::DatabaseUnavailable(format!(
                "the database file {} was replaced while ARX had it open; restart ARX",
                self.path.display()
            ))),
            Err(e) => Err(CoreError::DatabaseUnavailable(format!(
                "the database file {} is gone ({e}): nothing is written until it is back",
                self.path.display()
            ))),
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// `$first, $first+1, …`: the placeholders of an `IN (…)` list of `n` values.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs a compare-and-set `UPDATE … AND status IN (…)` after binding the statuses it
/// accepts; `true` when it moved exactly one row.
pub(crate) async fn compare_and_set<'q>(
    pool: &AnyPool,
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    from: impl IntoIterator<Item = &'static str>,
    context: &'static str,
) -> Result<bool, CoreError> {
    for s in from {
        q = q.bind(s);
    }
    Ok(write(pool, q)
        .await
        .map_err(db_err(context))?
        .rows_affected()
        == 1)
}

/// Runs the write `q` on a connection of `pool`. A connection whose write failed is
/// closed, not pooled again: on SQLite, one that had just failed a constraint was seen
/// to serve a read from before a later commit (about one run in twenty of the store
/// suite under load), and a stale read of the chain or an approval is worse than a
/// reconnect.
pub(crate) async fn write(
    pool: &AnyPool,
    q: Query<'_>,
) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let done = q.execute(&mut *conn).await;
    if done.is_err() {
        conn.close_on_drop();
    }
    done
}

/// A statement with its binds, ready to run.
pub(crate) type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// A statement on one org's data: `$1` is the org, as in every query on org data.
pub(crate) fn in_org(sql: &str, org: arx_core::ids::OrgId) -> Query<'_> {
    sqlx::query(sql).bind(org.to_string())
}

/// A value bound to a built statement's placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// The values a built statement binds after the org (`$1`), in placeholder order: SQL is
/// assembled from fixed pieces and these placeholders, never from the values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Args(Vec<Bind>);

impl Args {
    /// Binds the text `v`; its placeholder.
    pub(crate) fn push(&mut self, v: String) -> String {
        self.bind(Bind::Text(v))
    }

    /// Binds the integer `v`; its placeholder.
    pub(crate) fn int(&mut self, v: i64) -> String {
        self.bind(Bind::Int(v))
    }

    fn bind(&mut self, b: Bind) -> String {
        self.0.push(b);
        format!("${}", self.0.len() + 1)
    }

    /// `sql` with the org and these values bound.
    pub(crate) fn bound<'q>(&'q self, sql: &'q str, org: arx_core::ids::OrgId) -> Query<'q> {
        self.0.iter().fold(in_org(sql, org), |q, b| match b {
            Bind::Text(t) => q.bind(t.as_str()),
            Bind::Int(i) => q.bind(*i),
        })
    }
}

/// How a row becomes a value (see `rows`).
pub(crate) type Decode<T> = fn(&sqlx::any::AnyRow) -> Result<T, CoreError>;

impl SqlStore {
    /// The row `q` finds, if any, decoded; `context` names the query in errors.
    pub(crate) async fn fetch_opt<T>(
        &self,
        q: Query<'_>,
        context: &'static str,
        decode: Decode<T>,
    ) -> Result<Option<T>, CoreError> {
        q.fetch_optional(&self.pool)
            .await
            .map_err(db_err(context))?
            .map(|r| decode(&r))
            .transpose()
    }

    /// Runs `q`; how many rows it changed.
    pub(crate) async fn exec(&self, q: Query<'_>, context: &'static str) -> Result<u64, CoreError> {
        Ok(write(&self.pool, q)
            .await
            .map_err(db_err(context))?
            .rows_affected())
    }

    /// Every row `q` finds, decoded, in the order the query gives.
    pub(crate) async fn fetch_all<T>(
        &self,
        q: Query<'_>,
        context: &'static str,
        decode: Decode<T>,
    ) -> Result<Vec<T>, CoreError> {
        q.fetch_all(&self.pool)
            .await
            .map_err(db_err(context))?
            .iter()
            .map(decode)
            .collect()
    }
}

/// The JSON text a column stores for `v`.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, CoreError> {
    serde_json::to_string(v).map_err(|e| CoreError::internal("encode", e))
}

/// A table of org data and the columns its decoder reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub name: &'static str,
    pub cols: &'static str,
}

/// The reads and writes of org data by org and id: a row is always looked up within its
/// org (`$1`), never by id alone.
impl SqlStore {
    /// `SELECT {cols} FROM {table} WHERE org_id = $1 AND id = $2`, decoded.
    pub(crate) async fn by_id<T>(
        &self,
        Table { name, cols }: Table,
        org: arx_core::ids::OrgId,
        id: impl std::fmt::Display,
        context: &'static str,
        decode: Decode<T>,
    ) -> Result<Option<T>, CoreError> {
        let sql = format!("SELECT {cols} FROM {name} WHERE org_id = $1 AND id = $2");
        let q = sqlx::query(&sql).bind(org.to_string()).bind(id.to_string());
        self.fetch_opt(q, context, decode).await
    }

    /// `SELECT {cols} FROM {table} WHERE org_id = $1 {order}`: every row of one org, decoded.
    pub(crate) async fn all_in_org<T>(
        &self,
        Table { name, cols }: Table,
        org: arx_core::ids::OrgId,
        order: &str,
        context: &'static str,
        decode: Decode<T>,
    ) -> Result<Vec<T>, CoreError> {
        let sql = format!("SELECT {cols} FROM {name} WHERE org_id = $1 {order}");
        let q = in_org(&sql, org);
        self.fetch_all(q, context, decode).await
    }

    /// `UPDATE {table} SET {column} = $3 WHERE org_id = $1 AND id = $2`; `true` when the
    /// row was there. `value` is owned (a `String`, not a `&str`): the statement is built here.
    pub(crate) async fn set_by_id<V>(
        &self,
        table: &str,
        column: &str,
        org: arx_core::ids::OrgId,
        id: impl std::fmt::Display,
        value: V,
        context: &'static str,
    ) -> Result<bool, CoreError>
    where
        V: Send + for<'e> sqlx::Encode<'e, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        let sql = format!("UPDATE {table} SET {column} = $3 WHERE org_id = $1 AND id = $2");
        let q = in_org(&sql, org).bind(id.to_string()).bind(value);
        Ok(self.exec(q, context).await? == 1)
    }
}

/// Maps a database error to the engine's: unique violations become a conflict, a
/// database out of reach (its connections refused or lost, the pool waited out) is
/// unavailable, the rest is internal (each logged with `context`, never shown to a client).
/// A connection closed during its handshake reads as a protocol error (an empty answer
/// to PostgreSQL's SSL request), so that counts as out of reach too.
pub(crate) fn db_err(context: &'static str) -> impl Fn(sqlx::Error) -> CoreError {
    move |e| match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => CoreError::DatabaseUnavailable(format!("{context}: {e}")),
        _ => match e.as_database_error() {
            Some(d) if d.is_unique_violation() => {
                CoreError::Conflict(format!("{context}: that already exists"))
            }
            // PostgreSQL: a connection exception (08…) or a server shutting down or
            // starting (57P01–57P03). SQLite: the file cannot be opened (14) or read or
            // written (10 and its extended codes, 13: the disk is full).
            Some(d)
                if d.code().is_some_and(|c| match c.len() {
                    // SQLSTATEs are five characters; SQLite's codes are at most four digits.
                    5 => c.starts_with("08") || c.starts_with("57P0"),
                    _ => c
                        .parse::<u32>()
                        .is_ok_and(|n| matches!(n & 0xff, 10 | 13 | 14)),
                }) =>
            {
                CoreError::DatabaseUnavailable(format!("{context}: {e}"))
            }
            _ => CoreError::Internal(format!("{context}: {e}")),
        },
    }
}

impl SqlStore {
    /// Connects to `sqlite://…` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, CoreError> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(CoreError::InvalidRequest(
                "ARX_DATABASE_URL must start with sqlite:// or postgres://".into(),
            ));
        };
        let url = match dialect {
            Dialect::Sqlite if !url.contains("mode=") => {
                let mode =
                    |m: &str| format!("{url}{}mode={m}", if url.contains('?') { '&' } else { '?' });
                if url.contains(":memory:") {
                    mode("rwc")
                } else {
                    // Created here if missing, by one connection; the pool's connections
                    // open it read-write only, so a file removed while ARX runs is never
                    // silently created again, empty, under a new connection.
                    let create = AnyConnectOptions::from_str(&mode("rwc")).map_err(|e| {
                        CoreError::InvalidRequest(format!(
                            "ARX_DATABASE_URL is not a valid URL: {e}"
                        ))
                    })?;
                    use sqlx::Connection;
                    let failed = |e: sqlx::Error| {
                        CoreError::Internal(format!("cannot create the database: {e}"))
                    };
                    create
                        .connect()
                        .await
                        .map_err(failed)?
                        .close()
                        .await
                        .map_err(failed)?;
                    mode("rw")
                }
            }
            _ => url.to_string(),
        };
        let opts = AnyConnectOptions::from_str(&url)
            .map_err(|e| {
                CoreError::InvalidRequest(format!("ARX_DATABASE_URL is not a valid URL: {e}"))
            })?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        let pool = AnyPoolOptions::new()
            .max_connections(match dialect {
                Dialect::Sqlite => 8,
                Dialect::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    match dialect {
                        // FULL: an audit record reported durable survives power loss.
                        Dialect::Sqlite => {
                            conn.execute(&*format!(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                                 PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; \
                                 PRAGMA wal_autocheckpoint={BACKSTOP_PAGES};"
                            ))
                            .await?;
                        }
                        Dialect::Postgres => {
                            conn.execute("SET synchronous_commit = on").await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| CoreError::Internal(format!("cannot open the database: {e}")))?;
        // The pool opened a first connection, so a new file exists by now.
        let file = match dialect {
            Dialect::Sqlite => DbFile::of(&url),
            Dialect::Postgres => None,
        };
        let checkpointer = file
            .as_ref()
            .map(|_| std::sync::Arc::new(Checkpointer::start(pool.clone())));
        Ok(SqlStore {
            pool,
            dialect,
            url,
            instance: uuid::Uuid::new_v4(),
            heads: Default::default(),
            file,
            writer: Default::default(),
            _checkpointer: checkpointer,
        })
    }

    /// The database URL this store was opened with (it may carry a password: do not log it).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Rows per multi-row INSERT of `binds_per_row` values each. PostgreSQL: up to 1,024
    /// rows (under its 65,535 binds). SQLite: under 4,000 binds, because binding costs
    /// quadratically in the statement's parameters there (each `$N` is found by name in
    /// a list walked from the start: 14,336 binds made 71% of a bulk append's time), yet
    /// enough that a group commit's batch (hundreds of records) stays one statement: a
    /// multi-statement transaction of one replica can be refused outright (busy) when
    /// another replica committed first, where a single statement waits its turn.
    pub(crate) fn rows_per_insert(&self, binds_per_row: usize) -> usize {
        let rows = self.max_binds() / binds_per_row;
        match self.dialect {
            Dialect::Sqlite => rows.max(1),
            Dialect::Postgres => 1024.min(rows),
        }
    }

    /// The most values one query binds (see [`SqlStore::rows_per_insert`]).
    pub(crate) fn max_binds(&self) -> usize {
        match self.dialect {
            Dialect::Sqlite => 3999,
            Dialect::Postgres => 65_535,
        }
    }

    /// Applies the migrations of this backend.
    pub async fn migrate(&self) -> Result<(), CoreError> {
        let m = match self.dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        m.run(&self.pool)
            .await
            .map_err(|e| CoreError::Internal(format!("migrations failed: {e}")))
    }

    /// Applies the migrations of this backend up to version `last`: for tests that
    /// prove an upgrade keeps what an older version wrote.
    pub async fn migrate_until(&self, last: i64) -> Result<(), CoreError> {
        let all = match self.dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        let older = sqlx::migrate::Migrator {
            migrations: all.iter().filter(|m| m.version <= last).cloned().collect(),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        older
            .run(&self.pool)
            .await
            .map_err(|e| CoreError::Internal(format!("migrations failed: {e}")))
    }

    /// What other processes sharing this database notify on `channel` (PostgreSQL
    /// LISTEN), parsed, from a dedicated connection that reconnects by itself; `None` on
    /// SQLite, which one process owns. A payload is `<sender>:<value>` or a bare value;
    /// what this process sent itself is skipped.
    pub(crate) async fn listen<T>(
        &self,
        channel: &'static str,
    ) -> Result<Option<tokio::sync::mpsc::UnboundedReceiver<T>>, CoreError>
    where
        T: FromStr + Send + 'static,
    {
        if self.dialect != Dialect::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url)
            .await
            .map_err(db_err("listen"))?;
        listener.listen(channel).await.map_err(db_err("listen"))?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let own = self.instance.to_string();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => {
                        let (from, value) =
                            n.payload().split_once(':').unwrap_or(("", n.payload()));
                        if from != own
                            && let Ok(v) = value.parse()
                            && tx.send(v).is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, channel, "notifications interrupted; reconnecting");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(Some(rx))
    }

    /// Raw access for tests and operational commands (e.g. proving the triggers hold).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.writer.lock().await.take();
        self.pool.close().await;
    }
}
