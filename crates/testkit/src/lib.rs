//! Test-only helpers shared by the store and server integration suites: the backends a
//! test runs on, a [`backend_tests!`] macro that makes one test per backend (so the
//! runner names the backend that failed), and throwaway databases ([`TestDb`]) and
//! directories ([`TempDir`]) that are removed when the test ends, passed or failed.
//!
//! PostgreSQL comes from `ARX_TEST_POSTGRES_URL` (`scripts/with-postgres.sh` sets it).
//! Without it the PostgreSQL tests say SKIPPED and pass, except under `CI=true`, where
//! they fail: CI must test both databases.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod db;
mod macros;

use std::fmt;
use std::future::Future;

pub use db::{TempDir, TestDb};

/// The environment variable naming a PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "ARX_TEST_POSTGRES_URL";

/// A database backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `"sqlite"` or `"postgres"`, as test names and messages spell it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Whether tests can run on this backend here. PostgreSQL without
    /// `ARX_TEST_POSTGRES_URL` prints SKIPPED and answers false, or fails the test under
    /// `CI=true`.
    pub fn available(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => postgres_base_url().is_some(),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The server URL from `ARX_TEST_POSTGRES_URL`; see [`Backend::available`].
pub fn postgres_base_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !ci,
                "CI=true but {POSTGRES_URL_VAR} is not set: the PostgreSQL suite must run in CI"
            );
            eprintln!(
                "SKIPPED: the PostgreSQL variant of this test (set {POSTGRES_URL_VAR}, or run scripts/with-postgres.sh)"
            );
            None
        }
    }
}

/// What a test made with [`backend_tests!`] receives: built fresh on one backend for
/// each test. [`Backend`] itself is a fixture, for tests that start their own servers.
pub trait Fixture: Sized {
    fn start(backend: Backend) -> impl Future<Output = Self>;
}

impl Fixture for Backend {
    async fn start(backend: Backend) -> Self {
        backend
    }
}
