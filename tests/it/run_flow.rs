//! `token-inspector run FLOW.toml` against the sandbox: the repository's Malaysia flow
//! passes with its JUnit; one failing assertion fails the run with that step named (exit
//! 1, a JUnit failure); a flow holding a literal secret is refused with its line (exit 2).

use std::path::Path;

use crate::support::bank::MockServer;
use crate::support::cli::{keypair, run_with};

fn run(
    dir: &Path,
    bank: &MockServer,
    key: &Path,
    flow: &Path,
    extra: &[&str],
) -> (i32, serde_json::Value) {
    let callback = format!("{}/callback", bank.issuer);
    let mut args = vec![
        "run",
        flow.to_str().unwrap(),
        "--issuer",
        &bank.issuer,
        "--client-id",
        "my-tpp",
        "--key",
        key.to_str().unwrap(),
        "--redirect-uri",
        &callback,
        "--scope",
        "openid accounts",
    ];
    args.extend_from_slice(extra);
    let out = run_with(dir, &args, None, &[("SANDBOX", &bank.issuer)]);
    let json = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    (out.code, json)
}

#[test]
fn a_flow_runs_its_steps_and_names_the_one_that_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client", "p256");
    let client = format!("my-tpp={}", jwks.display());
    let bank = MockServer::start(&["--client", &client]);
    let flow = Path::new(env!("CARGO_MANIFEST_DIR")).join("flows/malaysia-sandbox.toml");
    let junit = dir.path().join("flow.xml");
    let (code, out) = run(
        dir.path(),
        &bank,
        &key,
        &flow,
        &["--json", "--junit", junit.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out:#}");
    let names: Vec<&str> = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "discover",
            "authorize",
            "token",
            "balances",
            "refresh",
            "introspect",
            "revoke"
        ]
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"7\" failures=\"0\""), "{xml}");
    // The report for a ticket: every exchange by the support bundle's rules.
    let report = dir.path().join("report.md");
    let (code, _) = run(
        dir.path(),
        &bank,
        &key,
        &flow,
        &["--json", "--report", report.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(
        md.starts_with("# Flow report: Open Finance Malaysia sandbox"),
        "{md}"
    );
    assert!(md.contains("| 4 | balances | call | 200 |"), "{md}");
    assert!(
        md.contains("\"access_token\": \"<sha256:"),
        "tokens by fingerprint"
    );
    assert!(
        !md.contains("eyJ"),
        "no JWT (assertion, id_token, request object) in full"
    );

    let text = std::fs::read_to_string(&flow)
        .unwrap()
        .replace("\"MYR\"", "\"SGD\"");
    let wrong = dir.path().join("wrong.toml");
    std::fs::write(&wrong, text).unwrap();
    let (code, out) = run(
        dir.path(),
        &bank,
        &key,
        &wrong,
        &["--json", "--junit", junit.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{out:#}");
    let last = out["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["name"], "balances", "{out:#}");
    assert!(
        last["failures"][0]
            .as_str()
            .unwrap()
            .contains("/data/balance/currency"),
        "{last:#}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("failures=\"1\"") && xml.contains("<failure message=\"/data/balance/currency"),
        "{xml}"
    );

    let secret = dir.path().join("secret.toml");
    std::fs::write(
        &secret,
        "name = \"leaky\"\n\n[[step]]\ndo = \"client_credentials\"\nclient_secret = \"hunter2\"\n",
    )
    .unwrap();
    let (code, out) = run(dir.path(), &bank, &key, &secret, &["--json"]);
    assert_eq!(code, 2, "{out:#}");
    let message = out["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("secret.toml:5") && message.contains("no secret"),
        "{message}"
    );
}
