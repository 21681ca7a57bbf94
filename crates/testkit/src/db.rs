//! Throwaway databases and directories, removed on drop so a run leaves nothing behind:
//! a SQLite file in its own temp directory, or a new PostgreSQL database (`arx_t_…`) on
//! the test server, dropped with `WITH (FORCE)` so connections still open (a server
//! under test, a pool) do not keep it alive.

use std::path::{Path, PathBuf};

use sqlx::{Connection, Executor, PgConnection};

use crate::{Backend, postgres_base_url};

/// A directory under the system temp dir, removed with its contents on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory named `<prefix>-<uuid>`.
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a test that failed already said why; a leftover dir is not worse.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh database for one test with a directory beside it; both go on drop.
#[derive(Debug)]
pub struct TestDb {
    backend: Backend,
    url: String,
    /// The PostgreSQL server URL and the database to drop.
    postgres: Option<(String, String)>,
    dir: TempDir,
}

/// Why a throwaway database could not be made.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

impl TestDb {
    /// A new database on `backend`. PostgreSQL needs `ARX_TEST_POSTGRES_URL` (check
    /// [`Backend::available`] first; the macro does).
    pub async fn create(backend: Backend) -> Result<Self, Error> {
        let dir = TempDir::new("arx-test")?;
        match backend {
            Backend::Sqlite => Ok(TestDb {
                backend,
                url: format!("sqlite://{}", dir.path().join("arx.db").display()),
                postgres: None,
                dir,
            }),
            Backend::Postgres => {
                let base = postgres_base_url().ok_or("ARX_TEST_POSTGRES_URL is not set")?;
                let name = format!("arx_t_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&base).await?;
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await?;
                admin.close().await?;
                let (server, _) = base
                    .rsplit_once('/')
                    .ok_or("ARX_TEST_POSTGRES_URL must end in /<database>")?;
                Ok(TestDb {
                    backend,
                    url: format!("{server}/{name}"),
                    postgres: Some((base, name)),
                    dir,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL, for `SqlStore::connect` or a server's config.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A directory for the test's other files (a data dir, exports); removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of
        // its own with a runtime of its own drops the database, and the test waits for it.
        let dropped = std::thread::spawn(move || -> Result<(), Error> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut admin = PgConnection::connect(&base).await?;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await?;
                admin.close().await?;
                Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop a test database: {e}"),
            Err(_) => eprintln!("warning: dropping a test database panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exists(base: &str, name: &str) -> bool {
        let mut c = PgConnection::connect(base).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&mut c)
            .await
            .unwrap();
        n == 1
    }

    #[tokio::test]
    async fn a_sqlite_database_goes_with_its_directory() {
        let db = TestDb::create(Backend::Sqlite).await.unwrap();
        let dir = db.dir().to_path_buf();
        assert!(dir.is_dir());
        assert!(db.url().starts_with("sqlite://"));
        drop(db);
        assert!(!dir.exists(), "{} is left behind", dir.display());
    }

    #[tokio::test]
    async fn a_postgres_database_is_dropped_even_with_a_connection_open() {
        if !Backend::Postgres.available() {
            return;
        }
        let db = TestDb::create(Backend::Postgres).await.unwrap();
        let (base, name) = db.postgres.clone().unwrap();
        assert!(name.starts_with("arx_t_"));
        assert!(exists(&base, &name).await, "{name} was not created");
        // A connection still open, as a server under test holds: FORCE ends it.
        let _open = PgConnection::connect(db.url()).await.unwrap();
        drop(db);
        assert!(!exists(&base, &name).await, "{name} is left behind");
    }
}
