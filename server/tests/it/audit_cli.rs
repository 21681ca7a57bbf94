//! The `arx` binary as a user runs it: `audit export` and `audit verify` against
//! tampering, and a whole `serve --demo` run whose logs must hold no secret.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use arx_testkit::backend_tests;
use serde_json::{Value, json};

use crate::harness::{TestServer, okta_users};

pub(crate) fn arx(s: &TestServer, args: &[&str]) -> (i32, String) {
    let db = &s.db_url;
    let out = Command::new(env!("CARGO_BIN_EXE_arx"))
        .args(args)
        .env("ARX_DATA_DIR", &s.dir)
        .env("ARX_DATABASE_URL", db)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn rewrite(path: &std::path::Path, f: impl FnOnce(&mut Vec<String>)) -> std::path::PathBuf {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    f(&mut lines);
    let out = path.with_extension(format!("{}.ndjson", uuid::Uuid::new_v4().simple()));
    std::fs::write(&out, lines.join("\n") + "\n").unwrap();
    out
}

backend_tests! {
    async fn export_and_verify_catch_every_kind_of_tampering(s: TestServer) {
        for call in [
            json!({"connector": "crowdstrike", "operation": "detections:read", "params": {}}),
            json!({"connector": "crowdstrike", "operation": "hosts:read", "params": {}}),
        ] {
            assert_eq!(s.execute(&s.agent_key("triage-agent"), call).await.0, 200);
        }
        let (code, out) = arx(&s, &["audit", "verify", "--org", "demo"]);
        assert_eq!(code, 0, "{}: {out}", s.backend);
        assert!(out.contains("chain intact"), "{out}");

        let file = s.dir.join("demo.ndjson");
        let (code, out) = arx(
            &s,
            &[
                "audit",
                "export",
                "--org",
                "demo",
                "--out",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(code, 0, "{out}");
        let (code, out) = arx(&s, &["audit", "verify", "--export", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {out}", s.backend);
        let n = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(n >= 10, "{n} records");

        let cases: Vec<(&str, std::path::PathBuf, &str)> = vec![
            (
                "edited",
                rewrite(&file, |l| {
                    let mut r: Value = serde_json::from_str(&l[4]).unwrap();
                    r["fields"]["tampered"] = json!(true);
                    l[4] = r.to_string();
                }),
                "seq 5",
            ),
            (
                "deleted",
                rewrite(&file, |l| {
                    l.remove(6);
                }),
                "seq 7",
            ),
            ("reordered", rewrite(&file, |l| l.swap(2, 3)), "seq 3"),
            (
                "inserted",
                rewrite(&file, |l| {
                    let dup = l[7].clone();
                    l.insert(8, dup);
                }),
                "seq 9",
            ),
        ];
        for (what, path, at) in cases {
            let (code, out) = arx(&s, &["audit", "verify", "--export", path.to_str().unwrap()]);
            assert_eq!(code, 1, "{}: {what} export passed: {out}", s.backend);
            assert!(
                out.contains(at),
                "{}: {what}: expected the break at {at}: {out}",
                s.backend
            );
        }

        // Tampering in the database itself (an attacker who dropped the trigger) is caught too.
        if s.backend == "sqlite" {
            let pool = s.running.store.pool();
            sqlx::query("DROP TRIGGER audit_records_no_update")
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("UPDATE audit_records SET record = replace(record, '\"kind\":\"agent.created\"', '\"kind\":\"agent.crated\"') WHERE seq = (SELECT MIN(seq) FROM audit_records WHERE kind = 'agent.created')").execute(pool).await.unwrap();
            let (code, out) = arx(&s, &["audit", "verify", "--org", "demo"]);
            assert_eq!(code, 1, "{out}");
            assert!(out.contains("FAILED") && out.contains("edited"), "{out}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_run_never_logs_a_secret() {
    let tmp = arx_testkit::TempDir::new("arx-logs").unwrap();
    let dir = tmp.path();
    let mut child = Command::new(env!("CARGO_BIN_EXE_arx"))
        .args(["serve", "--demo"])
        .env("ARX_DATA_DIR", dir)
        .env("ARX_LISTEN", "127.0.0.1:0")
        .env("ARX_SIMULATOR_LISTEN", "127.0.0.1:0")
        .env("ARX_LOG", "trace")
        .env_remove("ARX_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain stderr all along: a full pipe would block the server's logging.
    let mut err_pipe = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    let addr = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "server exited: {seen}"
        );
        seen.push_str(&line);
        if let Some(a) = line.trim().strip_prefix("ARX is running at ") {
            break a.to_string();
        }
    };
    let demo: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("demo.json")).unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let key = demo["agents"][0]["api_key"].as_str().unwrap();
    let crowdstrike = |op: &str| json!({"connector": "crowdstrike", "operation": op, "params": {}});
    for call in [
        crowdstrike("detections:read"),
        crowdstrike("hosts:read"),
        okta_users(),
    ] {
        let r = http
            .post(format!("{addr}/v1/sdk/execute"))
            .bearer_auth(key)
            .json(&call)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = http
        .post(format!("{addr}/auth/login"))
        .header("origin", &addr)
        .form(&[
            ("email", demo["admin_email"].as_str().unwrap()),
            ("password", demo["admin_password"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
    http.get(format!("{addr}/v1/admin/instances"))
        .bearer_auth(demo["admin_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    child.kill().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let _ = child.wait();
    let stderr = stderr_reader.join().unwrap();
    let logs = format!("{seen}{rest}{stderr}");
    assert!(
        logs.len() > 1000,
        "the run logged something to check: {logs}"
    );

    let master = std::fs::read_to_string(dir.join("master.key")).unwrap();
    let secrets = [
        "demo-crowdstrike-client-secret",
        "demo-okta-api-key",
        key,
        demo["admin_password"].as_str().unwrap(),
        demo["admin_token"].as_str().unwrap(),
        master.trim(),
    ];
    for secret in secrets {
        assert!(
            !logs.contains(secret),
            "a secret appears in the logs: {}…",
            &secret[..8]
        );
    }
    use std::os::unix::fs::PermissionsExt;
    for f in ["master.key", "demo.json"] {
        let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f} mode {mode:o}");
    }
}
