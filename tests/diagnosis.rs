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
