//! "Why did it fail?" through the command line, against the sandbox run as its own
//! process (`token-inspector mock-server`): each refusal provoked for real, the
//! diagnosis in `--json` judged `likely` where the evidence points and `ruled_out`
//! where it is clean, and the human output's "Why?" section.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::bank::{MockServer, approve_blocking};
use crate::support::cli::{code_and_json as json_of, keypair as keygen, run_in as run};

mod client;
mod server;

/// A P-256 key and its JWKS (kid: the RFC 7638 thumbprint), made by `keygen`.
fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    keygen(dir, name, "p256")
}

fn exchange(dir: &Path, bank: &MockServer, key: &Path, extra: &[&str]) -> (i32, Value) {
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
    json_of(&run(dir, &args))
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

/// The sandbox's consent page approved without a browser: the redirect it answers.
fn approve(authorization_url: &str) -> String {
    let url = approve_blocking(authorization_url, None);
    assert!(url.contains("code="), "{url:?}");
    url
}

/// As [`sandbox`], with its local CA (with --tls) written to a file in `dir`.
fn sandbox_json(dir: &Path, args: &[&str]) -> (MockServer, Option<PathBuf>) {
    let bank = MockServer::start(args);
    let ca = bank.ca_pem.as_ref().map(|pem| {
        let path = dir.join(format!("ca-{}.pem", bank.child.id()));
        std::fs::write(&path, pem).unwrap();
        path
    });
    (bank, ca)
}

/// The client's flags for `authorize`/`exchange --auto-approve` against `bank`.
fn client_flags<'a>(bank: &'a MockServer, key: &'a Path, redirect_uri: &'a str) -> Vec<&'a str> {
    vec![
        "--issuer",
        &bank.issuer,
        "--client-id",
        "tpp",
        "--key",
        key.to_str().unwrap(),
        "--alg",
        "ES256",
        "--redirect-uri",
        redirect_uri,
        "--scope",
        "openid accounts",
    ]
}

fn with<'a>(mut args: Vec<&'a str>, more: &[&'a str]) -> Vec<&'a str> {
    args.extend_from_slice(more);
    args
}
