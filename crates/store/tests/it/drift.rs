//! Drift alerts page newest first by a (created, id) cursor: alerts raised in the same
//! millisecond are neither skipped nor repeated, and another org's never appear.

use std::collections::BTreeMap;

use arx_core::ids::{AgentId, DriftId, OrgId};
use arx_core::model::registry::{DriftAlert, DriftStatus};
use arx_core::model::{Agent, AgentStatus, Org};
use arx_core::registry::{DriftAction, DriftSignal, Severity};
use arx_core::store::prelude::*;
use arx_core::store::{DriftCursor, DriftQuery};
use arx_testkit::backend_tests;

use crate::backends::Db;

async fn org_with_agent(s: &Db, slug: &str) -> (OrgId, AgentId) {
    let org = Org {
        id: OrgId::new(),
        slug: slug.into(),
        name: slug.into(),
        policy_version: 0,
        created_ms: 1,
    };
    s.create_org(&org, "v1:wrapped").await.unwrap();
    let agent = Agent {
        id: AgentId::new(),
        org_id: org.id,
        name: "a".into(),
        description: String::new(),
        owner: "o@example.com".into(),
        labels: BTreeMap::new(),
        status: AgentStatus::Active,
        declared_rate: 60,
        created_ms: 1,
        manifest_version: None,
    };
    s.create_agent(&agent).await.unwrap();
    (org.id, agent.id)
}

fn alert(org: OrgId, agent: AgentId, n: u32, created_ms: i64) -> DriftAlert {
    let signal = DriftSignal::UndeclaredEnvironment {
        environment: format!("env{n}"),
    };
    DriftAlert {
        id: DriftId::new(),
        org_id: org,
        agent_id: agent,
        agent: "a".into(),
        signal_key: format!("undeclared_environment:env{n}"),
        signal,
        severity: Severity::Low,
        action: DriftAction::Alert,
        message: format!("alert {n}"),
        manifest_version: None,
        audit_id: None,
        status: DriftStatus::Open,
        occurrences: 1,
        created_ms,
        last_ms: created_ms,
        updated_ms: None,
        created: String::new(),
        last: String::new(),
        updated: None,
        updated_by: None,
        note: None,
    }
}

backend_tests! {
    async fn drift_alerts_page_by_cursor_without_gaps_or_repeats(s: Db) {
        let (org, agent) = org_with_agent(&s, "paged").await;
        let (other, stranger) = org_with_agent(&s, "other").await;
        // Seven alerts, five of them in the same millisecond.
        for (n, ms) in [(0, 1_000), (1, 2_000), (2, 2_000), (3, 2_000), (4, 2_000), (5, 2_000), (6, 3_000)] {
            assert!(s.raise_drift_alert(&alert(org, agent, n, ms)).await.unwrap());
        }
        assert!(s.raise_drift_alert(&alert(other, stranger, 9, 2_000)).await.unwrap());
        let high = DriftAlert { severity: Severity::High, status: DriftStatus::Acknowledged, ..alert(org, agent, 8, 4_000) };
        assert!(s.raise_drift_alert(&high).await.unwrap());
        // Open alerts counted per severity in the database, this org's only.
        assert_eq!(s.open_drift_counts(org).await.unwrap(), vec![(Severity::Low, 7)], "{}", s.backend);
        assert_eq!(s.open_drift_counts(other).await.unwrap(), vec![(Severity::Low, 1)]);

        // Newest first, then oldest first: every alert once, in order, across pages.
        for oldest_first in [false, true] {
            let mut seen = Vec::new();
            let mut after: Option<DriftCursor> = None;
            for _ in 0..10 {
                let q = DriftQuery { after, limit: 2, oldest_first, ..Default::default() };
                let page = s.drift_alerts(org, &q).await.unwrap();
                seen.extend(page.iter().map(|a| (a.created_ms, a.message.clone())));
                match page.last() {
                    Some(last) if page.len() == 2 => {
                        // The cursor goes through its text form, as the API passes it.
                        after = Some(DriftCursor::of(last).to_string().parse().unwrap());
                    }
                    _ => break,
                }
            }
            assert_eq!(seen.len(), 8, "{}: {seen:?}", s.backend);
            let mut messages: Vec<&str> = seen.iter().map(|(_, m)| m.as_str()).collect();
            let ordered = if oldest_first {
                seen.windows(2).all(|w| w[0].0 <= w[1].0)
            } else {
                seen.windows(2).all(|w| w[0].0 >= w[1].0)
            };
            assert!(ordered, "oldest first {oldest_first}: {seen:?}");
            messages.sort();
            messages.dedup();
            assert_eq!(messages.len(), 8, "no repeats: {seen:?}");
            assert!(!messages.contains(&"alert 9"), "another org's alert never appears");
        }
        assert!("12.not-an-id".parse::<DriftCursor>().is_err());
        assert!("no-dot".parse::<DriftCursor>().is_err());
    }
}
