//! Job leases: one holder at a time, taken over only when the lease ran out or was
//! released, on every backend.

use arx_core::store::prelude::*;
use arx_store::SqlStore;
use sqlx::Row;

use arx_testkit::backend_tests;

use crate::backends::Db;

/// The stored (holder, acquired_ms, renewed_ms, expires_ms) of `job`.
async fn row(s: &SqlStore, job: &str) -> Option<(String, i64, i64, i64)> {
    sqlx::query("SELECT holder, acquired_ms, renewed_ms, expires_ms FROM job_leases WHERE job = $1")
        .bind(job)
        .fetch_optional(s.pool())
        .await
        .unwrap()
        .map(|r| {
            (
                r.get("holder"),
                r.get("acquired_ms"),
                r.get("renewed_ms"),
                r.get("expires_ms"),
            )
        })
}

backend_tests! {
    async fn two_holders_contend_and_one_wins_until_expiry_or_release(s: Db) {
        let name = s.backend;
        let (a, b) = ("replica-a", "replica-b");
        // `holder` tries to take or renew the sweep's lease for 500 ms at `now_ms`.
        let sweep = |holder: &'static str, now_ms: i64| s.try_lease("sweep", holder, now_ms, 500);
        assert!(sweep(a, 1_000).await.unwrap(), "{name}: free");
        assert!(!sweep(b, 1_100).await.unwrap(), "{name}: A holds it");
        assert!(sweep(a, 1_200).await.unwrap(), "{name}: the holder renews");
        assert_eq!(
            row(&s, "sweep").await,
            Some((a.to_string(), 1_000, 1_200, 1_700)),
            "{name}: renewed, still acquired at the first take"
        );
        assert!(
            !sweep(b, 1_699).await.unwrap(),
            "{name}: not before the renewed lease runs out"
        );
        assert_eq!(
            row(&s, "sweep").await.unwrap().0,
            a,
            "{name}: a refused take changes nothing"
        );
        assert!(
            sweep(b, 1_700).await.unwrap(),
            "{name}: A stopped renewing; B takes over"
        );
        assert_eq!(
            row(&s, "sweep").await,
            Some((b.to_string(), 1_700, 1_700, 2_200)),
            "{name}"
        );
        assert!(
            !sweep(a, 1_800).await.unwrap(),
            "{name}: A, back, does not take it back while B holds it"
        );

        // Another job's lease is its own.
        assert!(s.try_lease("purge", a, 1_800, 500).await.unwrap(), "{name}");

        // Only the holder can release; a release lets another take it at once.
        s.release_lease("sweep", a).await.unwrap();
        assert!(
            !sweep(a, 1_900).await.unwrap(),
            "{name}: A cannot release B's lease"
        );
        s.release_lease("sweep", b).await.unwrap();
        assert_eq!(row(&s, "sweep").await, None, "{name}");
        assert!(
            sweep(a, 1_900).await.unwrap(),
            "{name}: released, taken before it would have run out"
        );
    }
}

backend_tests! {
    async fn of_many_racing_takers_exactly_one_wins(s: Db) {
        let name = s.backend;
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    s.try_lease("race", &format!("replica-{i}"), 5_000, 10_000)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            won += usize::from(t.await.unwrap());
        }
        assert_eq!(won, 1, "{name}: one holder at a time");
    }
}
