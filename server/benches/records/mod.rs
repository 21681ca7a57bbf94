//! Realistic audit records for the audit benchmarks: real records of a permitted read, an
//! approved containment and a denied command, made variable (agent, host, risk, verdict)
//! by a deterministic generator.

use std::time::Duration;

use arx_core::audit::{Actor, AuditDraft};
use arx_core::ids::RecordId;
use arx_core::store::AuditStore;
use serde_json::{Value, json};

pub const HOSTS: u64 = 50_000;

/// A small deterministic generator (xorshift64*), so two runs write the same records.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn host(k: u64) -> String {
    format!("ws-{k:05}.corp.example")
}

/// The records of one executed call, by kind, as templates.
pub struct Templates {
    permit: Value,
    escalate: Value,
    deny: Value,
    result: Value,
    requested: Value,
    approved: Value,
    agents: Vec<(String, String, Value)>,
}

/// One call's records: its intercept, then (by verdict) its approval and result.
pub fn call(
    rng: &mut Rng,
    t: &Templates,
    org: arx_core::ids::OrgId,
    ts_ms: i64,
    out: &mut Vec<AuditDraft>,
) {
    let (agent_id, agent, labels) = &t.agents[rng.below(t.agents.len() as u64) as usize];
    let roll = rng.below(100);
    let (template, verdict) = match roll {
        0..80 => (&t.permit, "PERMIT"),
        80..92 => (&t.escalate, "ESCALATE"),
        _ => (&t.deny, "DENY"),
    };
    let h = host(rng.below(HOSTS));
    let mut intercept = template.clone();
    intercept["agent"] = json!(agent);
    intercept["agent_id"] = json!(agent_id);
    intercept["agent_labels"] = labels.clone();
    intercept["verdict"] = json!(verdict);
    intercept["risk"]["score"] = json!(match verdict {
        "PERMIT" => 5 + rng.below(40),
        "ESCALATE" => 50 + rng.below(35),
        _ => 70 + rng.below(30),
    });
    if let Some(p) = intercept.get_mut("params").and_then(Value::as_object_mut) {
        for v in p.values_mut() {
            if v.is_array() {
                *v = json!([h]);
            }
        }
        p.insert("hostname".into(), json!(h));
    }
    let iid = RecordId::new();
    let actor = Actor::agent(agent_id, agent.clone());
    let draft = |kind: &str, actor: Actor, fields: Value, id: RecordId| AuditDraft {
        org_id: org,
        id,
        ts_ms,
        kind: kind.into(),
        actor,
        fields,
        guard_epoch: None,
    };
    out.push(draft("execute.intercept", actor.clone(), intercept, iid));
    let mut result = t.result.clone();
    result["intercept_id"] = json!(iid);
    result["agent_id"] = json!(agent_id);
    match verdict {
        "PERMIT" => out.push(draft(
            "execute.result",
            Actor::system(),
            result,
            RecordId::new(),
        )),
        "ESCALATE" => {
            let approval = arx_core::ids::ApprovalId::new();
            let mut req = t.requested.clone();
            req["approval_id"] = json!(approval);
            req["intercept_id"] = json!(iid);
            req["agent_id"] = json!(agent_id);
            out.push(draft(
                "approval.requested",
                Actor::system(),
                req,
                RecordId::new(),
            ));
            let mut ok = t.approved.clone();
            ok["approval_id"] = json!(approval);
            ok["comment"] = json!(format!("contain per IR-{}", 1000 + rng.below(9000)));
            out.push(draft(
                "approval.approved",
                Actor::user(arx_core::ids::UserId::new(), "ir-lead@demo.arx.local"),
                ok,
                RecordId::new(),
            ));
            result["approval_id"] = json!(approval);
            out.push(draft(
                "execute.result",
                Actor::system(),
                result,
                RecordId::new(),
            ));
        }
        _ => {}
    }
}

/// Real records to vary: a permitted read, an approved containment and a denied command.
pub async fn templates(
    running: &arx_server::Running,
    org: arx_core::ids::OrgId,
    http: &reqwest::Client,
    base: &str,
    demo: &arx_server::demo::DemoFile,
) -> Templates {
    let key = |name: &str| {
        demo.agents
            .iter()
            .find(|a| a.name == name)
            .expect("agent")
            .api_key
            .clone()
    };
    let exec = |agent: &str, body: Value| {
        let (http, key) = (http.clone(), key(agent));
        let url = format!("{base}/v1/sdk/execute");
        async move {
            let r = http
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .expect("execute");
            r.json::<Value>().await.expect("json")
        }
    };
    let reasoning = json!({"reasoning": "beaconing to a known C2 domain"});
    exec("triage-agent", json!({"connector": "crowdstrike", "operation": "detections:read",
        "params": {"limit": 10, "filter": "hostname:'ws-00000.corp.example'"}, "session_context": reasoning})).await;
    let escalated = exec("remediation-agent", json!({"connector": "crowdstrike", "operation": "hosts:write",
        "params": {"action_name": "contain", "ids": ["ws-00000.corp.example"]}, "session_context": reasoning, "wait_seconds": 0})).await;
    let approval = escalated["approval_id"]
        .as_str()
        .expect("an escalation")
        .to_string();
    let ok = http
        .post(format!("{base}/v1/admin/approvals/{approval}/approve"))
        .bearer_auth(&demo.admin_token)
        .json(&json!({"comment": "contain per IR-1000"}))
        .send()
        .await
        .expect("approve");
    assert!(ok.status().is_success(), "approved");
    exec("triage-agent", json!({"connector": "crowdstrike", "operation": "rtr:command_admin",
        "params": {"session_id": "s1", "base_command": "runscript", "command_string": "runscript -Raw=```whoami```"}})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let all = running
        .store
        .audit_after(org, 0, 10_000)
        .await
        .expect("records");
    let find = |kind: &str, pick: &dyn Fn(&Value) -> bool| {
        all.iter()
            .rev()
            .find(|r| r.kind == kind && pick(&r.fields))
            .map(|r| r.fields.clone())
            .unwrap_or_else(|| panic!("no {kind} record to copy"))
    };
    let verdict = |v: &'static str| move |f: &Value| f["verdict"] == v;
    let agents = demo
        .agents
        .iter()
        .map(|a| {
            let labels = all
                .iter()
                .find(|r| r.kind == "execute.intercept" && r.fields["agent"] == a.name.as_str())
                .map(|r| r.fields["agent_labels"].clone())
                .unwrap_or(json!({}));
            (a.id.clone(), a.name.clone(), labels)
        })
        .collect();
    Templates {
        permit: find("execute.intercept", &verdict("PERMIT")),
        escalate: find("execute.intercept", &verdict("ESCALATE")),
        deny: find("execute.intercept", &verdict("DENY")),
        result: find("execute.result", &|f| f["status"] == "ok"),
        requested: find("approval.requested", &|_| true),
        approved: find("approval.approved", &|_| true),
        agents,
    }
}
