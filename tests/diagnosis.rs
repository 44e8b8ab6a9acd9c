//! "Why did it fail?" through the command line, against the sandbox run as its own
//! process (`token-inspector mock-server`): each refusal provoked for real, the
//! diagnosis in `--json` judged `likely` where the evidence points and `ruled_out`
//! where it is clean, and the human output's "Why?" section.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_token-inspector");

struct Sandbox {
    child: Child,
    issuer: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mock-server` on a free port with these flags; the issuer from its first line.
fn sandbox(args: &[&str]) -> Sandbox {
    let mut child = Command::new(BIN)
        .arg("mock-server")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let issuer = loop {
        let line = lines.next().expect("an issuer line").unwrap();
        if let Some(rest) = line.strip_prefix("issuer: ") {
            break rest.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Sandbox { child, issuer }
}

/// A P-256 key and its JWKS (kid: the RFC 7638 thumbprint), made by `keygen`.
fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.pem"));
    let jwks = dir.join(format!("{name}.jwks.json"));
    let out = run(
        dir,
        &[
            "keygen",
            "--type",
            "p256",
            "--out",
            key.to_str().unwrap(),
            "--jwks-out",
            jwks.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    (key, jwks)
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("TOKEN_INSPECTOR_CONFIG_DIR", dir)
        .env_remove("TOKEN_INSPECTOR_CLIENT_SECRET")
        .output()
        .unwrap()
}

fn exchange(dir: &Path, bank: &Sandbox, key: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "exchange",
        "--grant",
        "client_credentials",
        "--issuer",
        &bank.issuer,
        "--client-id",
        "tpp",
        "--key",
        key.to_str().unwrap(),
        "--alg",
        "ES256",
        "--scope",
        "accounts",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), json)
}

fn status<'a>(json: &'a Value, code: &str) -> &'a str {
    json["diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {:#}", json["diagnosis"]))["status"]
        .as_str()
        .unwrap()
}

/// E1 and E3 for real: the sandbox refuses aud = the token endpoint and a key it does
/// not know; the diagnosis names each, and clears them when they are right.
#[test]
fn aud_and_an_unregistered_key_are_diagnosed_against_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let (stray, _) = keypair(dir.path(), "stray");
    let client = format!("tpp={}", jwks.display());
    let bank = sandbox(&["--client", &client]);
    let jwks_arg = jwks.to_str().unwrap();

    // A good request: 200, no diagnosis.
    let (code, ok) = exchange(dir.path(), &bank, &key, &["--client-jwks", jwks_arg]);
    assert_eq!(code, 0, "{ok:#}");
    assert!(ok["diagnosis"].as_array().unwrap().is_empty(), "{ok:#}");

    // aud = the token endpoint: refused, and the diagnosis says why.
    let token_endpoint = format!("{}/token", bank.issuer);
    let (code, bad) = exchange(
        dir.path(),
        &bank,
        &key,
        &["--aud", &token_endpoint, "--client-jwks", jwks_arg],
    );
    assert_eq!(code, 1);
    assert_eq!(bad["response"]["body"]["error"], "invalid_client");
    assert_eq!(status(&bad, "diagnosis.assertion_aud"), "likely");
    assert_eq!(status(&bad, "diagnosis.unregistered_key"), "ruled_out");
    assert_eq!(status(&bad, "diagnosis.jti_reused"), "ruled_out");
    assert_eq!(status(&bad, "diagnosis.clock_skew"), "ruled_out");
    assert_eq!(
        bad["diagnosis"][0]["code"], "diagnosis.assertion_aud",
        "likely first"
    );
    for cause in bad["diagnosis"].as_array().unwrap() {
        for field in ["cause", "code", "status", "evidence", "source"] {
            assert!(cause[field].is_string(), "{field} in {cause:#}");
        }
    }

    // Signed with a key the sandbox does not know.
    let (code, bad) = exchange(dir.path(), &bank, &stray, &["--client-jwks", jwks_arg]);
    assert_eq!(code, 1);
    assert_eq!(status(&bad, "diagnosis.unregistered_key"), "likely");
    assert_eq!(status(&bad, "diagnosis.assertion_aud"), "ruled_out");
    let evidence = bad["diagnosis"][0]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("is not in the registered JWKS"),
        "{evidence}"
    );
}

/// E2 for real: the sandbox's clock two minutes behind ours refuses the iat as in its
/// future, and its Date header shows why.
#[test]
fn a_bank_clock_behind_ours_is_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let client = format!("tpp={}", jwks.display());
    let bank = sandbox(&["--client", &client, "--clock-offset", "-120"]);
    let (code, bad) = exchange(dir.path(), &bank, &key, &[]);
    assert_eq!(code, 1, "{bad:#}");
    let description = bad["response"]["body"]["error_description"]
        .as_str()
        .unwrap();
    assert!(description.contains("future"), "{description}");
    assert_eq!(status(&bad, "diagnosis.clock_skew"), "likely");
    assert_eq!(status(&bad, "diagnosis.assertion_aud"), "ruled_out");

    // The human output puts the likely cause first under "Why?".
    let out = run(
        dir.path(),
        &[
            "exchange",
            "--grant",
            "client_credentials",
            "--issuer",
            &bank.issuer,
            "--client-id",
            "tpp",
            "--key",
            key.to_str().unwrap(),
            "--alg",
            "ES256",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let why = text
        .split("Why?")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    let first = why.lines().find(|l| l.contains('[')).unwrap();
    assert!(
        first.contains("[likely]") && first.contains("diagnosis.clock_skew"),
        "{why}"
    );
}

/// The sandbox's consent page approved without a browser: the redirect it answers.
fn approve(authorization_url: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{redirect_url}"])
        .arg(format!("{authorization_url}&auto_approve=true"))
        .output()
        .unwrap();
    let url = String::from_utf8(out.stdout).unwrap();
    assert!(url.contains("code="), "{url:?}");
    url
}

/// The history remembers across runs: a PAR, then a code exchanged with the wrong
/// verifier (PKCE likely, from the challenge the history kept), then the same code
/// again (reuse likely, from the fingerprint the history kept); `history` lists,
/// filters, compares and bundles them, and no secret reaches its files or the bundle.
#[test]
fn the_history_remembers_codes_and_challenges_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let client = format!("tpp={}", jwks.display());
    let bank = sandbox(&["--client", &client]);
    let redirect_uri = format!("{}/callback", bank.issuer);
    let client_flags = [
        "--issuer",
        &bank.issuer,
        "--client-id",
        "tpp",
        "--key",
        key.to_str().unwrap(),
        "--alg",
        "ES256",
        "--redirect-uri",
        &redirect_uri,
        "--scope",
        "openid accounts",
    ];
    let mut args = vec!["authorize", "--json"];
    args.extend_from_slice(&client_flags);
    let out = run(dir.path(), &args);
    assert!(out.status.success(), "{out:?}");
    let session: Value = serde_json::from_slice(&out.stdout).unwrap();
    let redirect = approve(session["authorization_url"].as_str().unwrap());
    let state = session["state"].as_str().unwrap();
    let verifier = session["code_verifier"].as_str().unwrap();

    let exchange_code = |verifier: &str| -> Value {
        let mut args = vec![
            "exchange",
            "--json",
            "--redirect-url",
            &redirect,
            "--state",
            state,
            "--code-verifier",
            verifier,
        ];
        args.extend_from_slice(&client_flags);
        let out = run(dir.path(), &args);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let wrong = exchange_code("wrong-verifier-0000000000000000000000000000000000000");
    assert_eq!(
        wrong["response"]["body"]["error"], "invalid_grant",
        "{wrong:#}"
    );
    assert_eq!(status(&wrong, "diagnosis.pkce_mismatch"), "likely");
    assert_eq!(
        status(&wrong, "diagnosis.redirect_uri_mismatch"),
        "ruled_out"
    );
    assert_eq!(status(&wrong, "diagnosis.code_reused"), "ruled_out");

    // The sandbox keeps a code a wrong verifier was refused for: this one succeeds...
    let ok = exchange_code(verifier);
    assert_eq!(ok["response"]["status"], 200, "{ok:#}");
    // ...and the same code again is refused.
    let again = exchange_code(verifier);
    assert_eq!(
        again["response"]["body"]["error"], "invalid_grant",
        "{again:#}"
    );
    assert_eq!(status(&again, "diagnosis.code_reused"), "likely");
    assert_eq!(status(&again, "diagnosis.pkce_mismatch"), "ruled_out");

    // history: PAR, then the two refusals, newest first.
    let list = run(dir.path(), &["history", "--json"]);
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "token:authorization_code",
            "token:authorization_code",
            "token:authorization_code",
            "par"
        ]
    );
    let failures = run(
        dir.path(),
        &["history", "--json", "--error", "invalid_grant"],
    );
    let failures: Value = serde_json::from_slice(&failures.stdout).unwrap();
    assert_eq!(failures.as_array().unwrap().len(), 2);
    let id = again["request"]["interaction_id"].as_str().unwrap();
    let by_id = run(
        dir.path(),
        &["history", "--json", "--interaction-id", &id[..8]],
    );
    let by_id: Value = serde_json::from_slice(&by_id.stdout).unwrap();
    assert_eq!(by_id.as_array().unwrap().len(), 1);

    // The refused and the good exchange differ in their verifier (a secret:
    // fingerprints only).
    let diff = run(dir.path(), &["history", "diff", "3", "2", "--json"]);
    let diff: Value = serde_json::from_slice(&diff.stdout).unwrap();
    let verifier_change = diff["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["what"] == "form code_verifier")
        .unwrap_or_else(|| panic!("{diff:#}"));
    assert!(
        verifier_change["after"]
            .as_str()
            .unwrap()
            .starts_with("<redacted sha256:")
    );

    // The bundle of the newest: its interaction id, its times, no secret.
    let bundle = run(dir.path(), &["history", "bundle", "--format", "json"]);
    let text = String::from_utf8(bundle.stdout).unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(bundle["x_fapi_interaction_id"], id);
    assert!(bundle["sent_at_utc"].is_string() && bundle["answered_at_utc"].is_string());
    let code = redirect
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let md = String::from_utf8(run(dir.path(), &["history", "bundle"]).stdout).unwrap();
    let mut files = String::new();
    for entry in std::fs::read_dir(dir.path().join("data/history")).unwrap() {
        files.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    for secret in [code, verifier] {
        for (what, text) in [
            ("json bundle", &text),
            ("markdown bundle", &md),
            ("history files", &files),
        ] {
            assert!(!text.contains(secret), "{secret} in the {what}");
        }
    }
}
