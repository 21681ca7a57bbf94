//! The store each test gets: a fresh database on one backend (a temp SQLite file, or a
//! new PostgreSQL database on the server named by `ARX_TEST_POSTGRES_URL`), dropped
//! when the test ends.

use std::ops::Deref;

use arx_store::SqlStore;
use arx_testkit::{Backend, Fixture, TestDb};

/// A migrated store on its own database; derefs to the [`SqlStore`].
pub struct Db {
    pub store: SqlStore,
    /// `"sqlite"` or `"postgres"`, for assertion messages.
    pub backend: &'static str,
    /// Declared last so the pool is dropped before the database.
    _db: TestDb,
}

impl Fixture for Db {
    async fn start(backend: Backend) -> Self {
        let db = TestDb::create(backend).await.unwrap();
        let store = SqlStore::connect(db.url()).await.unwrap();
        store.migrate().await.unwrap();
        Db {
            store,
            backend: backend.name(),
            _db: db,
        }
    }
}

impl Deref for Db {
    type Target = SqlStore;
    fn deref(&self) -> &SqlStore {
        &self.store
    }
}
