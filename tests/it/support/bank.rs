//! Test banks: the embedded sandbox started in this process with one registered client,
//! or `mock-server` run as its own process (as a user runs it); and the browser's part,
//! approving the sandbox's consent page and reading where it redirects.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};

use serde_json::Value;
use token_inspector::jose::keys::{PrivateKey, SigningAlg};
use token_inspector::sandbox::{ClientRegistration, Sandbox, SandboxConfig, SandboxHandle};

/// The embedded sandbox with `client_id` registered with `key`'s public JWK (signing
/// `alg`).
pub async fn embedded(
    config: SandboxConfig,
    client_id: &str,
    key: &PrivateKey,
    alg: SigningAlg,
) -> SandboxHandle {
    let mut config = config;
    config.clients.push(ClientRegistration {
        client_id: client_id.into(),
        jwks: key.public_jwks(None, alg),
        redirect_uris: Vec::new(),
    });
    Sandbox::start(config).await.unwrap()
}

/// `token-inspector mock-server` as its own process, stopped when dropped.
pub struct MockServer {
    /// The process.
    pub child: Child,
    /// Its issuer (`http://127.0.0.1:PORT`, or https with `--tls`).
    pub issuer: String,
    /// Its local CA, with `--tls`.
    pub ca_pem: Option<String>,
}

impl MockServer {
    /// Starts `mock-server --json` with `args` on a free port; returns once it listens
    /// (its first line says so).
    pub fn start(args: &[&str]) -> Self {
        let mut child = super::cli::command(std::path::Path::new("."))
            .arg("mock-server")
            .arg("--json")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready: Value =
            serde_json::from_str(&lines.next().expect("a ready line").unwrap()).unwrap();
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            issuer: ready["issuer"].as_str().unwrap().to_owned(),
            ca_pem: ready["ca_pem"].as_str().map(str::to_owned),
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser that trusts `ca_pem` (the sandbox's local CA) and follows no redirect.
pub fn browser(ca_pem: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = ca_pem {
        builder = builder.tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()]);
    }
    builder.build().unwrap()
}

/// Approves the sandbox's consent page for `authorization_url` (`auto_approve=true`,
/// the first demo user) and returns where it redirects (the redirect_uri with the code).
pub async fn approve(authorization_url: &str, ca_pem: Option<&str>) -> String {
    let consent = browser(ca_pem)
        .get(format!("{authorization_url}&auto_approve=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status().as_u16(), 303, "the sandbox redirects");
    consent.headers()["location"].to_str().unwrap().to_owned()
}

/// [`approve`] from a test that has no runtime of its own.
pub fn approve_blocking(authorization_url: &str, ca_pem: Option<&str>) -> String {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(approve(authorization_url, ca_pem))
}
