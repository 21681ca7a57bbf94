//! One policy decision with 10, 100 and 1,000 rules (budget: ≤ 10 µs at 1,000).
//! Rules spread over 50 connectors plus a share of wildcard rules, as an org's would;
//! the decided call matches only late. `cargo bench -p arx-core --bench policy`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use arx_core::catalog::RiskTier;
use arx_core::model::Environment;
use arx_core::policy::{
    CallFacts, CompiledPolicy, Match, PolicyInput, PolicySettings, Rule, Verdict, evaluate,
};
use arx_core::risk::{RiskInputs, score};

fn rules(n: usize) -> Vec<Rule> {
    (0..n)
        .map(|i| {
            let connectors = if i % 10 == 0 {
                vec!["*".to_string()]
            } else {
                vec![format!("vendor{}", i % 50)]
            };
            let mut r = Rule::new(&format!("r{i}"), Verdict::Deny);
            r.priority = i as i32;
            r.when = Match {
                connectors,
                operations: vec![format!("res{}:*", i % 7)],
                labels: BTreeMap::from([("team".to_string(), format!("t{}", i % 5))]),
                tiers: vec![RiskTier::High],
                ..Default::default()
            };
            // One rule in four has a CEL condition, as rules on payloads do.
            if i % 4 == 1 {
                r.condition = Some(format!("size(params.ids) > {}", i % 9));
            }
            r
        })
        .collect()
}

fn main() {
    let labels = BTreeMap::from([("team".to_string(), "nomatch".to_string())]);
    let params = serde_json::json!({"ids": ["a", "b", "c"]})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let input = PolicyInput {
        connector: "vendor7",
        operation: "res3:write",
        agent_id: "a1",
        agent_name: "agent",
        agent_labels: &labels,
        tier: RiskTier::High,
        risk: score(RiskInputs {
            tier: RiskTier::High,
            sensitivity: 20,
            calls_last_60s: 3,
            declared_rate: 60,
            environment: Environment::Staging,
        }),
        call: CallFacts {
            params: &params,
            ..CallFacts::default()
        },
        grant_id: None,
    };
    let settings = PolicySettings::default();
    println!("policy decision (no rule matches, so every candidate is checked):");
    for n in [10, 100, 1000] {
        let p = CompiledPolicy::compile(rules(n)).expect("rules compile");
        let iters = 200_000;
        for _ in 0..10_000 {
            black_box(evaluate(&settings, &p, black_box(&input)));
        }
        let t = Instant::now();
        for _ in 0..iters {
            black_box(evaluate(&settings, &p, black_box(&input)));
        }
        let per = t.elapsed().as_secs_f64() * 1e9 / iters as f64;
        println!("  {n:>5} rules: {per:>8.0} ns per decision");
    }
    // The agent's labels match a share of the rules, so their CEL conditions run.
    let team = BTreeMap::from([("team".to_string(), "t2".to_string())]);
    let with_cel = PolicyInput {
        agent_labels: &team,
        ..input.clone()
    };
    println!("policy decision (labels match, CEL conditions evaluated until one holds):");
    for n in [10, 100, 1000] {
        let p = CompiledPolicy::compile(rules(n)).expect("rules compile");
        let d = evaluate(&settings, &p, &with_cel);
        let iters = 50_000;
        let t = Instant::now();
        for _ in 0..iters {
            black_box(evaluate(&settings, &p, black_box(&with_cel)));
        }
        let per = t.elapsed().as_secs_f64() * 1e9 / iters as f64;
        println!(
            "  {n:>5} rules: {per:>8.0} ns per decision (decided by {})",
            d.policy_id
        );
    }
}
