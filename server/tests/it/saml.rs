//! SAML 2.0 sign-in (issue 12, point 3) against a real identity provider run locally
//! (pysaml2 signing through xmlsec1, `end2end/peers/saml-idp.py`): the SP metadata before
//! any IdP; settings that refuse metadata without a signing certificate; a test sign-in;
//! a first sign-in with the mapped groups' rights; and every refusal of the issue's list,
//! each a 403 page, a `sso.refused` record and nobody signed in: unsigned, SHA-1, another
//! key, another SP, another recipient, a replay, an IdP-initiated response while those are
//! off, an expired assertion (from the IdP run under libfaketime), signature wrapping
//! (XSW1–8, crafted from the IdP's real signed responses), a comment in the NameID and an
//! unsigned assertion inside a signed response.

use std::path::{Path, PathBuf};

use arx_testkit::{Backend, backend_tests};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::harness::{TestServer, free_port, repo, start};
use crate::oidc::Browser;

/// The IdP peer. `None`, with a note, where its Python packages are missing; under CI
/// that is a failure.
pub struct Idp {
    child: std::process::Child,
    pub base: String,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Idp {
    /// Starts the IdP for ARX's `demo` org, its keys in `dir`. `late`: `(faketime, idp)`
    /// runs it under libfaketime (e.g. `-10m`) as the same IdP as `idp`, so it signs
    /// assertions from another time.
    pub async fn start(s: &TestServer, dir: &Path, late: Option<(&str, &Idp)>) -> Option<Idp> {
        let python = repo().join("target/peers-venv/bin/python");
        let has_pysaml2 = python.exists()
            && std::process::Command::new(&python)
                .args(["-c", "import saml2"])
                .status()
                .is_ok_and(|s| s.success());
        if !has_pysaml2 {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs pysaml2 in target/peers-venv (scripts/setup.sh --e2e)"
            );
            eprintln!("SKIPPED: no pysaml2 in target/peers-venv (run scripts/setup.sh --e2e)");
            return None;
        }
        let md = dir.join("sp.xml");
        if !md.exists() {
            let r = reqwest::get(s.url("/saml/metadata?org=demo"))
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            std::fs::write(&md, r.text().await.unwrap()).unwrap();
        }
        let port = free_port();
        let mut cmd = std::process::Command::new(&python);
        cmd.arg(repo().join("end2end/peers/saml-idp.py"))
            .arg(port.to_string())
            .arg(&md)
            .arg(dir.join("keys"))
            .env("PYTHONWARNINGS", "ignore")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some((f, first)) = late {
            cmd.arg(&first.base);
            let lib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
            assert!(
                Path::new(lib).exists(),
                "libfaketime is installed (scripts/setup.sh --e2e)"
            );
            cmd.env("LD_PRELOAD", lib).env("FAKETIME", f);
        }
        let idp = Idp {
            child: cmd.spawn().expect("python runs"),
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..150 {
            if reqwest::get(format!("{}/metadata", idp.base))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Some(idp);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the SAML IdP did not start");
    }

    pub async fn metadata(&self) -> String {
        reqwest::get(format!("{}/metadata", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn mode(&self, m: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}/__test/mode", self.base))
            .form(&[("mode", m)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// Signs `user` in at the IdP for the AuthnRequest URL `to` (on this IdP's address,
    /// whatever address the URL names): the decoded response XML it would post.
    pub async fn answer(&self, b: &mut Browser, to: &str, user: &str) -> String {
        let path = to
            .split_once("/sso/redirect")
            .expect("an IdP sign-in URL")
            .1;
        let page = b
            .get(&format!("{}/sso/redirect{path}", self.base))
            .await
            .text()
            .await
            .unwrap();
        let key = field(&page, "key");
        let r = b
            .post(
                &format!("{}/sso/login", self.base),
                &[("key", &key), ("user", user)],
            )
            .await;
        let page = r.text().await.unwrap();
        unb64(&field(&page, "SAMLResponse"))
    }

    /// An IdP-initiated response for `user` to ARX's demo org.
    pub async fn initiate(&self, s: &TestServer, user: &str) -> String {
        let sp = s.url("/saml/metadata?org=demo");
        let page = reqwest::Client::new()
            .get(format!("{}/sso/initiate", self.base))
            .query(&[("user", user), ("sp", sp.as_str())])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        unb64(&field(&page, "SAMLResponse"))
    }
}

/// A hidden field's value in a page.
fn field(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no {name} in {page}"));
    let v = &page[at..];
    let v = &v[v.find("value=\"").unwrap() + 7..];
    let v = &v[..v.find('"').unwrap()];
    v.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn unb64(s: &str) -> String {
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Starts a sign-in at ARX: the IdP URL it sends the browser to.
async fn begin(s: &TestServer, b: &mut Browser) -> String {
    let r = b.get(&s.url("/saml/login?org=demo")).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    r.headers()["location"].to_str().unwrap().to_string()
}

/// Posts a response to the ACS as the IdP's page would: the status and the page.
async fn post_acs(s: &TestServer, b: &mut Browser, xml: &str) -> (u16, String) {
    let r = b
        .post(
            &s.url("/saml/acs"),
            &[("SAMLResponse", &b64(xml)), ("RelayState", "")],
        )
        .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A whole SP-initiated sign-in as `user`, the IdP's response changed by `tamper`.
async fn sign_in_with(
    s: &TestServer,
    idp: &Idp,
    b: &mut Browser,
    user: &str,
    tamper: impl FnOnce(String) -> String,
) -> (u16, String) {
    let to = begin(s, b).await;
    let xml = idp.answer(b, &to, user).await;
    post_acs(s, b, &tamper(xml)).await
}

/// The reason a refusal page gives (`data-reason`).
fn reason_of(page: &str) -> &str {
    let at = page
        .find("data-reason=\"")
        .map(|i| i + 13)
        .unwrap_or_else(|| panic!("not a refusal: {page}"));
    &page[at..at + page[at..].find('"').unwrap()]
}

/// The reasons of `sso.refused` records (the first of a burst of one reason is written
/// at once; the rest come as a summary later).
async fn reasons(s: &TestServer) -> Vec<String> {
    s.audit_of("sso.refused")
        .await
        .iter()
        .filter(|r| r["fields"]["protocol"] == "saml")
        .map(|r| r["fields"]["reason"].as_str().unwrap().to_string())
        .collect()
}

async fn logins(s: &TestServer) -> usize {
    s.audit_of("user.login")
        .await
        .iter()
        .filter(|r| r["fields"]["method"] == "saml")
        .count()
}

// What the wrapping tests cut and paste: spans of the IdP's real XML.

/// The first element with this local name (any prefix): `(start, end)` byte offsets.
fn span(xml: &str, local: &str) -> (usize, usize) {
    let mut from = 0;
    loop {
        let at = from + xml[from..].find('<').expect("the element");
        let rest = &xml[at + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        if name.rsplit(':').next() == Some(local) {
            let close = format!("</{name}>");
            let end = at + xml[at..].find(&close).expect("its end") + close.len();
            return (at, end);
        }
        from = at + 1;
    }
}

fn cut<'a>(xml: &'a str, local: &str) -> &'a str {
    let (a, b) = span(xml, local);
    &xml[a..b]
}

/// `fragment` with its first `ID="…"` replaced.
fn with_id(fragment: &str, id: &str) -> String {
    let at = fragment.find(" ID=\"").unwrap() + 5;
    let end = at + fragment[at..].find('"').unwrap();
    format!("{}{id}{}", &fragment[..at], &fragment[end..])
}

/// The response's prefix for an element (`ns1:`), from its first occurrence.
fn prefix(xml: &str, local: &str) -> String {
    let (a, _) = span(xml, local);
    let name: String = xml[a + 1..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>')
        .collect();
    name.strip_suffix(local).unwrap().to_string()
}

/// The assertion, claiming alice instead of its subject (an unsigned forgery), its
/// signature dropped.
fn evil_assertion(xml: &str, id: &str) -> String {
    let a = cut(xml, "Assertion");
    let unsigned = match a.find("Signature ") {
        Some(_) => a.replace(cut(a, "Signature"), ""),
        None => a.to_string(),
    };
    let forged = unsigned
        .replace("mallory@example.com", "alice@example.com")
        .replace(">Mallory<", ">Alice<");
    with_id(&forged, id)
}

/// XSW1–8, after SAMLRaider's list: each wraps the IdP's signed content so that a reader
/// who looks in the wrong place sees alice. `xml` is mallory's real response (both the
/// Response and the Assertion signed, or one of them, as the variant needs).
fn wrap(variant: u8, xml: &str) -> String {
    let (a0, a1) = span(xml, "Assertion");
    let assertion = &xml[a0..a1];
    let ds = prefix(xml, "Signature");
    let p = prefix(xml, "Status");
    match variant {
        // A forged Response at the root; the signed original inside its Signature.
        1 | 2 => {
            let root_end = xml.find("<?xml").map_or(0, |_| xml.find("?>").unwrap() + 2);
            let original = &xml[root_end..];
            let (s0, s1) = span(original, "Signature");
            let sig = &original[s0..s1];
            let forged_response = with_id(
                &original.replace(assertion, &evil_assertion(xml, "_evil-a")),
                "_evil-r",
            );
            let forged_response = forged_response.replacen(sig, "", 1);
            let (fs0, _) = span(&forged_response, "Status");
            let inner = if variant == 1 {
                // The original Response in the forged one's Signature, as an Object.
                let close = format!("</{ds}Signature>");
                sig.replace(
                    &close,
                    &format!("<{ds}Object>{original}</{ds}Object>{close}"),
                )
            } else {
                // The original Response beside a detached copy of its signature.
                format!("{sig}{original}")
            };
            format!(
                "{}{inner}{}",
                &forged_response[..fs0],
                &forged_response[fs0..]
            )
        }
        // The forged assertion before the signed one.
        3 => format!(
            "{}{}{}",
            &xml[..a0],
            evil_assertion(xml, "_evil-a"),
            &xml[a0..]
        ),
        // The signed assertion inside the forged one.
        4 => {
            let evil = evil_assertion(xml, "_evil-a");
            let close = evil.rfind("</").unwrap();
            format!(
                "{}{}{assertion}{}{}",
                &xml[..a0],
                &evil[..close],
                &evil[close..],
                &xml[a1..]
            )
        }
        // The forged assertion carries the original's signature (same ID); the original
        // follows it.
        5 => {
            let sig = cut(assertion, "Signature");
            let evil = evil_assertion(xml, &id_of(assertion));
            let issuer_end = evil.find("</").unwrap();
            let issuer_end = issuer_end + evil[issuer_end..].find('>').unwrap() + 1;
            let evil = format!("{}{sig}{}", &evil[..issuer_end], &evil[issuer_end..]);
            format!("{}{evil}{assertion}{}", &xml[..a0], &xml[a1..])
        }
        // The forged assertion carries the signature; the original is inside it.
        6 | 8 => {
            let sig = cut(assertion, "Signature");
            let close = format!("</{ds}Signature>");
            let original = if variant == 8 {
                assertion.replace(sig, "")
            } else {
                assertion.to_string()
            };
            let sig = sig.replace(
                &close,
                &format!("<{ds}Object>{original}</{ds}Object>{close}"),
            );
            let evil = evil_assertion(xml, &id_of(assertion));
            let issuer_end = evil.find("</").unwrap();
            let issuer_end = issuer_end + evil[issuer_end..].find('>').unwrap() + 1;
            let evil = format!("{}{sig}{}", &evil[..issuer_end], &evil[issuer_end..]);
            format!("{}{evil}{}", &xml[..a0], &xml[a1..])
        }
        // The signed assertion hidden in Extensions; the forged one in its place.
        7 => {
            let (s0, _) = span(xml, "Status");
            let with_ext = format!(
                "{}<{p}Extensions>{assertion}</{p}Extensions>{}",
                &xml[..s0],
                &xml[s0..]
            );
            let (b0, b1) = {
                let after = with_ext.rfind(assertion).unwrap();
                (after, after + assertion.len())
            };
            format!(
                "{}{}{}",
                &with_ext[..b0],
                evil_assertion(xml, &id_of(assertion)),
                &with_ext[b1..]
            )
        }
        _ => unreachable!(),
    }
}

fn id_of(fragment: &str) -> String {
    let at = fragment.find(" ID=\"").unwrap() + 5;
    fragment[at..at + fragment[at..].find('"').unwrap()].to_string()
}

backend_tests! {
    async fn saml_signs_in_with_mapped_groups_and_refuses_every_bad_response(b: Backend) {
        let s = start(b).await;
        let b = s.backend;
        let admin = s.admin_token();

        // ARX's SP metadata is there before any IdP; an unknown org is a 404.
        let r = reqwest::get(s.url("/saml/metadata?org=demo")).await.unwrap();
        assert_eq!(r.status(), 200, "{b}");
        let sp_md = r.text().await.unwrap();
        assert!(sp_md.contains(&format!("entityID=\"{}\"", s.url("/saml/metadata?org=demo"))), "{b}: {sp_md}");
        assert!(sp_md.contains(&format!("Location=\"{}\"", s.url("/saml/acs"))), "{b}: {sp_md}");
        assert!(sp_md.contains("WantAssertionsSigned=\"true\""), "{b}");
        assert_eq!(reqwest::get(s.url("/saml/metadata?org=nope")).await.unwrap().status(), 404, "{b}");
        let mut browser = Browser::new();
        let r = browser.get(&s.url("/saml/login?org=demo")).await;
        assert_eq!(r.status(), 404, "{b}");
        assert!(r.text().await.unwrap().contains("not set up"), "{b}");

        let dir = std::env::temp_dir().join(format!("arx-saml-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        struct Gone(PathBuf);
        impl Drop for Gone {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
        let _gone = Gone(dir.clone());
        let Some(idp) = Idp::start(&s, &dir, None).await else { return };

        // Settings: metadata without a signing certificate, both sources at once, and a
        // reviewer are refused; the certificate's fingerprint is shown.
        let md = idp.metadata().await;
        let (k0, k1) = span(&md, "KeyDescriptor");
        let unsigned_md = format!("{}{}", &md[..k0], &md[k1..]);
        let (code, out) = s.client(&admin).put("/v1/admin/sso/saml", json!({"enabled": true, "metadata_xml": unsigned_md})).await;
        assert_eq!((code, out["error"]["field"].as_str()), (400, Some("metadata_xml")), "{b}: {out}");
        assert!(out["error"]["message"].as_str().unwrap().contains("no signing certificate"), "{b}: {out}");
        let (code, _) = s.client(&admin).put("/v1/admin/sso/saml", json!({"enabled": true, "metadata_xml": md, "metadata_url": format!("{}/metadata", idp.base)})).await;
        assert_eq!(code, 400, "{b}");
        let huge = format!("{}{}", &md[..md.len() - 30], " ".repeat(1_100_000));
        let (code, out) = s.client(&admin).put("/v1/admin/sso/saml", json!({"enabled": true, "metadata_xml": huge})).await;
        assert!(code == 400 || code == 413, "{b}: oversized metadata: {code} {out}");
        let (code, out) = s.client(&admin).put("/v1/admin/sso/saml", json!({"enabled": true, "metadata_xml": "<not-xml"})).await;
        assert_eq!((code, out["error"]["field"].as_str()), (400, Some("metadata_xml")), "{b}: {out}");
        let reviewer = s.user_token("saml-rev@demo.arx.local", arx_core::model::Role::Reviewer).await;
        assert_eq!(s.client(&reviewer).get("/v1/admin/sso/saml").await.0, 403, "{b}");
        assert_eq!(s.client(&reviewer).put("/v1/admin/sso/saml", json!({"enabled": false, "metadata_xml": md})).await.0, 403, "{b}");
        let settings = json!({"enabled": true, "metadata_url": format!("{}/metadata", idp.base)});
        let (code, out) = s.client(&admin).put("/v1/admin/sso/saml", settings.clone()).await;
        assert_eq!(code, 200, "{b}: {out}");
        assert_eq!(out["settings"]["idp_entity_id"], "https://idp.arx.test/saml", "{b}");
        assert_eq!(out["settings"]["signing_certs"].as_array().unwrap().len(), 1, "{b}: {out}");
        assert_eq!(out["acs_url"], s.url("/saml/acs"), "{b}");
        let changed = s.audit_of("settings.saml_changed").await;
        assert_eq!(changed.last().unwrap()["fields"]["signing_certs"], out["settings"]["signing_certs"], "{b}");
        let mapping = json!({"group": "arx-reviewers", "role": "reviewer", "approver_groups": ["secops-leads"]});
        assert_eq!(s.client(&admin).put("/v1/admin/group-mappings", mapping).await.0, 200, "{b}");

        // A test sign-in is an admin's: it reports, and makes nobody.
        let r = Browser::new().get(&s.url("/saml/login?org=demo&test=1")).await;
        assert_eq!(r.status(), 403, "{b}: without a session");
        let mut as_admin = Browser::new();
        let demo = s.demo();
        as_admin.set_cookie(&s.console_session(&demo.admin_email, &demo.admin_password).await);
        let r = as_admin.get(&s.url("/saml/login?org=demo&test=1")).await;
        assert_eq!(r.status(), 303, "{b}");
        let to = r.headers()["location"].to_str().unwrap().to_string();
        let xml = idp.answer(&mut as_admin, &to, "bob").await;
        let (code, report) = post_acs(&s, &mut as_admin, &xml).await;
        assert_eq!(code, 200, "{b}: {report}");
        assert!(report.contains("Test sign-in passed") && report.contains("InResponseTo"), "{b}: {report}");
        assert!(report.contains("arx-reviewers → reviewer, approves for secops-leads"), "{b}: {report}");
        let (_, users) = s.admin_get("/v1/admin/users").await;
        assert!(!users.to_string().contains("bob@example.com"), "{b}: a test makes no account");

        // Bob's first sign-in makes his account, with his groups and their rights.
        let to = begin(&s, &mut browser).await;
        let bob_response = idp.answer(&mut browser, &to, "bob").await;
        let (code, page) = post_acs(&s, &mut browser, &bob_response).await;
        assert_eq!(code, 200, "{b}: {page}");
        let cookie = browser.cookie("arx_session").expect("signed in");
        assert_eq!(s.page("/approvals", &cookie).await.status(), 200, "{b}");
        let (_, users) = s.admin_get("/v1/admin/users").await;
        let bob = users["users"].as_array().unwrap().iter().find(|u| u["email"] == "bob@example.com").cloned().unwrap();
        assert_eq!((bob["source"].as_str(), bob["roles"].clone(), bob["name"].as_str()), (Some("saml"), json!(["reviewer"]), Some("Bob Reviewer")), "{b}: {bob}");
        let groups: Vec<&str> = bob["member_of"].as_array().unwrap().iter().map(|m| m["group"].as_str().unwrap()).collect();
        assert_eq!(groups, ["arx-reviewers", "staff"], "{b}: {bob}");
        assert_eq!(logins(&s).await, 1, "{b}");

        // The same response again: its request was answered already.
        let (code, page) = post_acs(&s, &mut Browser::new(), &bob_response).await;
        assert_eq!((code, reason_of(&page)), (403, "unknown_request"), "{b}: {page}");

        // Responses the IdP makes wrong, one way each; the positive controls first (only
        // the Assertion, or only the Response, signed: both are taken).
        for (mode, reason) in [
            ("assertion_only", None), ("response_only", None),
            ("unsigned", Some("bad_signature")), ("sha1", Some("bad_signature")),
            ("wrong_key", Some("bad_signature")), ("wrong_audience", Some("wrong_audience")),
            ("wrong_recipient", Some("wrong_recipient")), ("status_denied", Some("idp_error")),
        ] {
            idp.mode(mode).await;
            let before = logins(&s).await;
            let mut fresh = Browser::new();
            let (code, page) = sign_in_with(&s, &idp, &mut fresh, "bob", |x| x).await;
            match reason {
                None => {
                    assert_eq!(code, 200, "{b}: {mode}: {page}");
                    assert_eq!(logins(&s).await, before + 1, "{b}: {mode}");
                }
                Some(reason) => {
                    assert_eq!(code, 403, "{b}: {mode}: {page}");
                    assert!(page.contains("Sign-in refused"), "{b}: {mode}: {page}");
                    assert!(fresh.cookie("arx_session").is_none(), "{b}: {mode}");
                    assert_eq!(reason_of(&page), reason, "{b}: {mode}");
                    assert_eq!(logins(&s).await, before, "{b}: {mode}");
                }
            }
        }

        // The email from an attribute instead of the NameID: taken; absent, refused.
        let by_attribute = json!({"enabled": true, "email_attribute": "mail"});
        assert_eq!(s.client(&admin).put("/v1/admin/sso/saml", by_attribute).await.0, 200, "{b}");
        idp.mode("normal").await;
        let (code, page) = sign_in_with(&s, &idp, &mut Browser::new(), "bob", |x| {
            x.replace(">bob@example.com</", ">someone-else@example.com</")
        }).await;
        assert_eq!((code, reason_of(&page)), (403, "bad_signature"), "{b}: the NameID is signed too: {page}");
        let before = logins(&s).await;
        let (code, page) = sign_in_with(&s, &idp, &mut Browser::new(), "bob", |x| x).await;
        assert_eq!((code, logins(&s).await), (200, before + 1), "{b}: the email from the mail attribute: {page}");
        idp.mode("no_email").await;
        let (code, page) = sign_in_with(&s, &idp, &mut Browser::new(), "bob", |x| x).await;
        assert_eq!((code, reason_of(&page)), (403, "no_email"), "{b}: {page}");
        assert!(page.contains("no mail attribute"), "{b}: {page}");
        assert_eq!(s.client(&admin).put("/v1/admin/sso/saml", json!({"enabled": true})).await.0, 200, "{b}");

        // Mallory's real responses, rewritten to claim alice (an admin): signature
        // wrapping XSW1–8, an unsigned assertion inside a signed response, a comment in
        // the NameID. None signs anybody in.
        let alice_sessions = |users: &Value| users.to_string().contains("alice@example.com");
        for variant in 1..=8u8 {
            // XSW1–2 wrap a signed Response; XSW3–8 a signed Assertion.
            idp.mode(if variant <= 2 { "response_only" } else { "assertion_only" }).await;
            let before = logins(&s).await;
            let mut fresh = Browser::new();
            let (code, page) = sign_in_with(&s, &idp, &mut fresh, "mallory", |x| wrap(variant, &x)).await;
            assert_eq!(code, 403, "{b}: XSW{variant}: {page}");
            assert!(fresh.cookie("arx_session").is_none(), "{b}: XSW{variant}");
            assert_eq!(logins(&s).await, before, "{b}: XSW{variant}");
            assert!(["wrapped", "bad_signature"].contains(&reason_of(&page)), "{b}: XSW{variant}: {page}");
        }
        idp.mode("normal").await;
        let (code, page) = sign_in_with(&s, &idp, &mut Browser::new(), "mallory", |x| {
            let (a0, a1) = span(&x, "Assertion");
            format!("{}{}{}", &x[..a0], evil_assertion(&x, &id_of(&x[a0..a1])), &x[a1..])
        }).await;
        assert_eq!((code, reason_of(&page)), (403, "bad_signature"), "{b}: an unsigned assertion in a signed response: {page}");
        let (code, page) = sign_in_with(&s, &idp, &mut Browser::new(), "eve", |x| {
            x.replace(">alice@example.com.evil.test<", ">alice@example.com<!---->.evil.test<")
        }).await;
        assert_eq!(code, 403, "{b}: a comment in the NameID: {page}");
        assert_eq!(reason_of(&page), "malformed", "{b}: {page}");
        let (_, users) = s.admin_get("/v1/admin/users").await;
        assert!(!alice_sessions(&users), "{b}: nobody signed in as alice");

        // An expired assertion: the same IdP, ten minutes behind.
        let late = Idp::start(&s, &dir, Some(("-10m", &idp))).await.unwrap();
        let mut fresh = Browser::new();
        let to = begin(&s, &mut fresh).await;
        let xml = late.answer(&mut fresh, &to, "bob").await;
        let (code, page) = post_acs(&s, &mut fresh, &xml).await;
        assert_eq!((code, reason_of(&page)), (403, "expired"), "{b}: {page}");
        drop(late);
        // One not valid yet: the same IdP, ten minutes ahead.
        let early = Idp::start(&s, &dir, Some(("+10m", &idp))).await.unwrap();
        let mut fresh = Browser::new();
        let to = begin(&s, &mut fresh).await;
        let xml = early.answer(&mut fresh, &to, "bob").await;
        let (code, page) = post_acs(&s, &mut fresh, &xml).await;
        assert_eq!((code, reason_of(&page)), (403, "not_yet_valid"), "{b}: {page}");
        drop(early);

        // IdP-initiated: refused while off; taken once when on (a replay is refused).
        let unasked = idp.initiate(&s, "bob").await;
        let (code, page) = post_acs(&s, &mut Browser::new(), &unasked).await;
        assert_eq!((code, reason_of(&page)), (403, "idp_initiated_off"), "{b}: {page}");
        let mut on = settings.clone();
        on["allow_idp_initiated"] = json!(true);
        on.as_object_mut().unwrap().remove("metadata_url");
        let (code, out) = s.client(&admin).put("/v1/admin/sso/saml", on).await;
        assert_eq!((code, out["settings"]["allow_idp_initiated"].as_bool()), (200, Some(true)), "{b}: the stored metadata is kept: {out}");
        let unasked = idp.initiate(&s, "bob").await;
        let (code, page) = post_acs(&s, &mut Browser::new(), &unasked).await;
        assert_eq!(code, 200, "{b}: IdP-initiated, allowed: {page}");
        let (code, page) = post_acs(&s, &mut Browser::new(), &unasked).await;
        assert_eq!((code, reason_of(&page)), (403, "replayed"), "{b}: {page}");
        // Each kind of refusal is on the record.
        let seen = reasons(&s).await;
        for reason in ["unknown_request", "bad_signature", "wrapped", "malformed", "no_email", "not_yet_valid", "wrong_audience", "wrong_recipient", "idp_error", "expired", "idp_initiated_off", "replayed"] {
            assert!(seen.iter().any(|r| r == reason), "{b}: {reason} recorded: {seen:?}");
        }

        // Garbage at the ACS: a clear refusal, never a 500.
        for body in [vec![], vec![("SAMLResponse", "%%%")], vec![("SAMLResponse", "PGEvPg==")]] {
            let r = Browser::new().post(&s.url("/saml/acs"), &body).await;
            assert_eq!(r.status(), 403, "{b}: {body:?}");
        }

        // Deactivated: refused. Only provisioned users: a newcomer is refused.
        let bob_id = bob["id"].as_str().unwrap();
        assert_eq!(s.client(&admin).post(&format!("/v1/admin/users/{bob_id}/deactivate"), Value::Null).await.0, 200, "{b}");
        let (code, page) = sign_in_with(&s, &idp, &mut Browser::new(), "bob", |x| x).await;
        assert_eq!(code, 403, "{b}");
        assert!(page.contains("deactivated"), "{b}: {page}");
        let only = json!({"enabled": true, "create_users": false});
        assert_eq!(s.client(&admin).put("/v1/admin/sso/saml", only).await.0, 200, "{b}");
        let (code, page) = sign_in_with(&s, &idp, &mut Browser::new(), "alice", |x| x).await;
        assert_eq!(code, 403, "{b}");
        assert!(page.contains("provisioned"), "{b}: {page}");
    }
}
