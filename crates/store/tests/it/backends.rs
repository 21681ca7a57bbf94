//! Fresh databases for each test: a temp SQLite file, and a new PostgreSQL database on
//! the server named by `ARX_TEST_POSTGRES_URL` (required when `CI=true`).

use arx_store::SqlStore;

pub async fn sqlite() -> SqlStore {
    let dir = std::env::temp_dir().join(format!("arx-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let s = SqlStore::connect(&format!("sqlite://{}/arx.db", dir.display()))
        .await
        .unwrap();
    s.migrate().await.unwrap();
    s
}

pub async fn postgres() -> Option<SqlStore> {
    let Ok(base) = std::env::var("ARX_TEST_POSTGRES_URL") else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but ARX_TEST_POSTGRES_URL is not set: the PostgreSQL suite must run in CI"
            );
        }
        eprintln!("SKIPPED: PostgreSQL suite (set ARX_TEST_POSTGRES_URL, or run scripts/test.sh)");
        return None;
    };
    let admin = SqlStore::connect(&base).await.unwrap();
    let db = format!("arx_t_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(admin.pool())
        .await
        .unwrap();
    admin.close().await;
    let (prefix, _) = base.rsplit_once('/').unwrap();
    let s = SqlStore::connect(&format!("{prefix}/{db}")).await.unwrap();
    s.migrate().await.unwrap();
    Some(s)
}

/// Every backend available here, named.
pub async fn all() -> Vec<(&'static str, SqlStore)> {
    let mut v = vec![("sqlite", sqlite().await)];
    if let Some(pg) = postgres().await {
        v.push(("postgres", pg));
    }
    v
}
