//! "Why did it fail?" through the command line, against the sandbox run as its own
//! process (`token-inspector mock-server`): each refusal provoked for real, the
//! diagnosis in `--json` judged `likely` where the evidence points and `ruled_out`
//! where it is clean, and the human output's "Why?" section.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::bank::{MockServer, approve_blocking};
use crate::support::cli::{code_and_json as json_of, keypair as keygen, run_in as run};

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

/// E1 and E3 for real: the sandbox refuses aud = the token endpoint and a key it does
/// not know; the diagnosis names each, and clears them when they are right.
#[test]
fn aud_and_an_unregistered_key_are_diagnosed_against_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let (stray, _) = keypair(dir.path(), "stray");
    let client = format!("tpp={}", jwks.display());
    let bank = MockServer::start(&["--client", &client]);
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
    let bank = MockServer::start(&["--client", &client, "--clock-offset", "-120"]);
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
    let url = approve_blocking(authorization_url, None);
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
    let bank = MockServer::start(&["--client", &client]);
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
    // The PAR the history kept bounds the code's age: well within its lifetime.
    assert_eq!(status(&wrong, "diagnosis.code_expired"), "ruled_out");

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

/// E17 and E18 played by the sandbox: `--fail interaction-id` refuses a request
/// without x-fapi-interaction-id (the client removes it with `--header
/// 'x-fapi-interaction-id:'`), and PAR refuses an authorization_details type it does not
/// support; each judged likely, and ruled out where the request was right. A refused
/// PAR is diagnosed and kept in the history like an exchange.
#[test]
fn an_interaction_id_and_a_consent_type_the_sandbox_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let client = format!("tpp={}", jwks.display());
    let (bank, _) = sandbox_json(
        dir.path(),
        &["--client", &client, "--fail", "interaction-id"],
    );

    let (code, bad) = exchange(
        dir.path(),
        &bank,
        &key,
        &["--header", "x-fapi-interaction-id:"],
    );
    assert_eq!(code, 1, "{bad:#}");
    assert!(
        bad["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["name"] != "x-fapi-interaction-id"),
        "the header was removed: {bad:#}"
    );
    assert_eq!(bad["response"]["body"]["error"], "invalid_request");
    assert_eq!(status(&bad, "diagnosis.interaction_id_missing"), "likely");
    let (code, ok) = exchange(dir.path(), &bank, &key, &[]);
    assert_eq!(code, 0, "with the header the same request passes: {ok:#}");

    let redirect_uri = format!("{}/callback", bank.issuer);
    let flags = client_flags(&bank, &key, &redirect_uri);
    // A PAR refused for another reason (no scope) with the header: ruled out.
    let (code, par) = json_of(&run(
        dir.path(),
        &with(
            vec!["authorize", "--json"],
            &flags
                .iter()
                .map(|f| if f.starts_with("openid") { "" } else { *f })
                .collect::<Vec<_>>(),
        ),
    ));
    assert_eq!(code, 1, "{par:#}");
    assert_eq!(par["par"]["response"]["body"]["error"], "invalid_request");
    assert_eq!(
        status(&par, "diagnosis.interaction_id_missing"),
        "ruled_out"
    );

    // A type the server does not list: likely, with the list it gives.
    let payments = r#"[{"type":"urn:example:payment-consent","consent":{}}]"#;
    let (code, par) = json_of(&run(
        dir.path(),
        &with(
            with(vec!["authorize", "--json"], &flags),
            &["--authorization-details", payments],
        ),
    ));
    assert_eq!(code, 1, "{par:#}");
    assert_eq!(
        status(&par, "diagnosis.authorization_details_type"),
        "likely"
    );
    assert!(par["error"]["message"].as_str().unwrap().contains("PAR"));
    // The right type, refused for its expiry's format: the type is ruled out.
    let details = r#"[{"type":"urn:openfinance-ml:account-access-consent:v1.2","consent":{"permissions":["read_accounts"],"expiration_datetime":"next week"}}]"#;
    let (code, par) = json_of(&run(
        dir.path(),
        &with(
            with(vec!["authorize", "--json"], &flags),
            &["--authorization-details", details],
        ),
    ));
    assert_eq!(code, 1, "{par:#}");
    assert_eq!(
        par["par"]["response"]["body"]["error"],
        "invalid_authorization_details"
    );
    assert_eq!(
        status(&par, "diagnosis.authorization_details_type"),
        "ruled_out"
    );
    // The refused PARs are in the history with their diagnosis.
    let (_, list) = json_of(&run(
        dir.path(),
        &[
            "history",
            "--json",
            "--error",
            "invalid_authorization_details",
        ],
    ));
    assert_eq!(list.as_array().unwrap().len(), 2, "{list:#}");
    assert_eq!(list[0]["kind"], "par");
}

/// E12 and E15 played by the sandbox: `--fail deny` (the user refuses at the bank) and
/// `--fail revoke-consent` (the user revokes it once the token is issued); and E6: a
/// token issued over one certificate, called with another.
#[test]
fn a_denied_consent_a_revoked_one_and_a_token_bound_to_another_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let client = format!("tpp={}", jwks.display());
    {
        let (bank, _) = sandbox_json(dir.path(), &["--client", &client, "--fail", "deny"]);
        let redirect_uri = format!("{}/callback", bank.issuer);
        let flags = client_flags(&bank, &key, &redirect_uri);
        let (code, denied) = json_of(&run(
            dir.path(),
            &with(vec!["exchange", "--auto-approve", "--json"], &flags),
        ));
        assert_eq!(code, 1, "{denied:#}");
        assert_eq!(denied["error"]["kind"], "authorization");
        assert_eq!(status(&denied, "diagnosis.user_denied"), "likely");
    }

    let (bank, ca) = sandbox_json(
        dir.path(),
        &["--client", &client, "--tls", "--fail", "revoke-consent"],
    );
    let ca = ca.unwrap();
    let (cert_a, key_a) = issue(dir.path(), "a", None, false);
    let (cert_b, key_b) = issue(dir.path(), "b", None, false);
    let redirect_uri = format!("{}/callback", bank.issuer);
    let accounts = format!("{}/accounts", bank.issuer);
    let flags = with(
        client_flags(&bank, &key, &redirect_uri),
        &["--cacert", ca.to_str().unwrap()],
    );
    let (code, got) = json_of(&run(
        dir.path(),
        &with(
            vec!["exchange", "--auto-approve", "--json", "--call", &accounts],
            &with(flags.clone(), &["--cert", &cert_a, "--cert-key", &key_a]),
        ),
    ));
    assert_eq!(got["response"]["status"], 200, "{got:#}");
    assert_ne!(code, 0, "the call is refused");
    let call = &got["call"];
    assert_eq!(call["response"]["status"], 401, "{call:#}");
    assert_eq!(status(call, "diagnosis.consent_not_authorised"), "likely");
    assert_eq!(status(call, "diagnosis.certificate_binding"), "ruled_out");
    let token = got["response"]["body"]["access_token"].as_str().unwrap();

    // The same token with another certificate: the binding is the likely cause.
    let call_flags = [
        "call",
        &accounts,
        "--json",
        "--token",
        token,
        "--cacert",
        ca.to_str().unwrap(),
    ];
    let (code, other) = json_of(&run(
        dir.path(),
        &with(
            call_flags.to_vec(),
            &["--cert", &cert_b, "--cert-key", &key_b],
        ),
    ));
    assert_eq!(code, 1, "{other:#}");
    assert_eq!(status(&other, "diagnosis.certificate_binding"), "likely");
    // Refused for the binding before the consent: last seen authorized, cleared.
    assert_eq!(
        status(&other, "diagnosis.consent_not_authorised"),
        "ruled_out"
    );
    let evidence = other["diagnosis"][0]["evidence"].as_str().unwrap();
    assert!(evidence.contains("this call presented"), "{evidence}");
    // ...and with none.
    let (_, none) = json_of(&run(dir.path(), &call_flags));
    assert_eq!(status(&none, "diagnosis.certificate_binding"), "likely");
}

/// A client certificate and its key in files: self-signed, or issued by `ca`; valid
/// now, or expired yesterday.
fn issue(
    dir: &Path,
    name: &str,
    ca: Option<&rcgen::Issuer<'static, rcgen::KeyPair>>,
    expired: bool,
) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![format!("{name}.tpp.example")]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("tpp-{name}"));
    let now = time::OffsetDateTime::now_utc();
    if expired {
        params.not_before = now - time::Duration::days(30);
        params.not_after = now - time::Duration::days(1);
    } else {
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(30);
    }
    let cert = match ca {
        Some(ca) => params.signed_by(&key, ca).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    let cert_file = dir.join(format!("{name}.crt"));
    let key_file = dir.join(format!("{name}.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (
        cert_file.to_str().unwrap().to_owned(),
        key_file.to_str().unwrap().to_owned(),
    )
}

/// A CA for client certificates, written to `client-ca.pem`.
fn client_ca(dir: &Path) -> (PathBuf, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Ecosystem test CA");
    let cert = params.self_signed(&key).unwrap();
    let path = dir.join("client-ca.pem");
    std::fs::write(&path, cert.pem()).unwrap();
    (path, rcgen::Issuer::new(params, key))
}

/// E5 and the server's own certificate, at the TLS handshake: a server this client
/// does not trust, a client certificate the server wants but was not given, one that
/// expired; each likely, and cleared where the handshake says otherwise.
#[test]
fn certificates_refused_at_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let client = format!("tpp={}", jwks.display());
    let (ca_file, ca) = client_ca(dir.path());
    let (bank, server_ca) = sandbox_json(
        dir.path(),
        &[
            "--client",
            &client,
            "--tls",
            "--require-client-cert",
            "--client-ca",
            ca_file.to_str().unwrap(),
        ],
    );
    let server_ca = server_ca.unwrap();
    let (good, good_key) = issue(dir.path(), "good", Some(&ca), false);
    // Discovery is the first request: its failure is diagnosed too (as a JSON error).
    let (code, at_discovery) = exchange(dir.path(), &bank, &key, &[]);
    assert_eq!(code, 3, "{at_discovery:#}");
    assert_eq!(at_discovery["error"]["kind"], "tls");
    assert_eq!(
        status(&at_discovery, "diagnosis.tls_server_untrusted"),
        "likely"
    );
    let cacert = server_ca.to_str().unwrap();
    let (code, no_cert) = exchange(dir.path(), &bank, &key, &["--cacert", cacert]);
    assert_eq!(code, 3, "{no_cert:#}");
    assert_eq!(
        status(&no_cert, "diagnosis.client_certificate_missing"),
        "likely"
    );

    // The handshake fails on the token request itself: no discovery before it.
    let token_endpoint = format!("{}/token", bank.issuer);
    let exchange = |dir: &Path, bank: &MockServer, key: &Path, extra: &[&str]| {
        exchange(
            dir,
            bank,
            key,
            &with(vec!["--token-endpoint", &token_endpoint], extra),
        )
    };
    let (old, old_key) = issue(dir.path(), "old", Some(&ca), true);

    // The server's certificate is not trusted without its CA.
    let (code, untrusted) = exchange(
        dir.path(),
        &bank,
        &key,
        &["--cert", &good, "--cert-key", &good_key],
    );
    assert_eq!(code, 3, "{untrusted:#}");
    assert_eq!(
        status(&untrusted, "diagnosis.tls_server_untrusted"),
        "likely"
    );

    // No client certificate: the server ends the handshake.
    let (code, none) = exchange(dir.path(), &bank, &key, &["--cacert", cacert]);
    assert_eq!(code, 3, "{none:#}");
    assert_eq!(
        status(&none, "diagnosis.client_certificate_missing"),
        "likely"
    );
    assert_eq!(status(&none, "diagnosis.tls_server_untrusted"), "ruled_out");

    // An expired one.
    let (code, expired) = exchange(
        dir.path(),
        &bank,
        &key,
        &["--cacert", cacert, "--cert", &old, "--cert-key", &old_key],
    );
    assert_eq!(code, 3, "{expired:#}");
    assert_eq!(
        status(&expired, "diagnosis.client_certificate_expired"),
        "likely"
    );
    assert_eq!(
        status(&expired, "diagnosis.client_certificate_missing"),
        "ruled_out"
    );

    // A good one, with a wrong aud: the certificate is cleared.
    let (code, aud) = exchange(
        dir.path(),
        &bank,
        &key,
        &[
            "--cacert",
            cacert,
            "--cert",
            &good,
            "--cert-key",
            &good_key,
            "--aud",
            &token_endpoint,
        ],
    );
    assert_eq!(code, 1, "{aud:#}");
    assert_eq!(status(&aud, "diagnosis.assertion_aud"), "likely");
    assert_eq!(
        status(&aud, "diagnosis.client_certificate_expired"),
        "ruled_out"
    );
    assert_eq!(
        status(&aud, "diagnosis.client_certificate_missing"),
        "ruled_out"
    );
}

/// E9 and E10 played by the sandbox: codes that live one second (`--code-lifetime 1`)
/// and a request object whose window is longer than FAPI allows.
#[test]
fn an_expired_code_and_a_request_object_window() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let client = format!("tpp={}", jwks.display());
    let (bank, _) = sandbox_json(dir.path(), &["--client", &client, "--code-lifetime", "1"]);
    let redirect_uri = format!("{}/callback", bank.issuer);
    let flags = client_flags(&bank, &key, &redirect_uri);
    let (code, session) = json_of(&run(dir.path(), &with(vec!["authorize", "--json"], &flags)));
    assert_eq!(code, 0, "{session:#}");
    let redirect = approve(session["authorization_url"].as_str().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let (code, late) = json_of(&run(
        dir.path(),
        &with(
            vec![
                "exchange",
                "--json",
                "--redirect-url",
                &redirect,
                "--state",
                session["state"].as_str().unwrap(),
                "--code-verifier",
                session["code_verifier"].as_str().unwrap(),
            ],
            &flags,
        ),
    ));
    assert_eq!(code, 1, "{late:#}");
    assert_eq!(late["response"]["body"]["error"], "invalid_grant");
    assert_eq!(status(&late, "diagnosis.code_expired"), "likely");
    assert_eq!(status(&late, "diagnosis.pkce_mismatch"), "ruled_out");

    // A signed request object valid for two hours: refused, and the window is why.
    let (code, par) = json_of(&run(
        dir.path(),
        &with(
            vec![
                "authorize",
                "--json",
                "--jar",
                "--request-object-lifetime",
                "7200",
            ],
            &flags,
        ),
    ));
    assert_eq!(code, 1, "{par:#}");
    assert_eq!(
        par["par"]["response"]["body"]["error"],
        "invalid_request_object"
    );
    assert_eq!(status(&par, "diagnosis.request_object_window"), "likely");
    assert_eq!(status(&par, "diagnosis.clock_skew"), "ruled_out");
    // The usual window, with an unknown consent type: the window is ruled out.
    let payments = r#"[{"type":"urn:example:payment-consent","consent":{}}]"#;
    let (_, par) = json_of(&run(
        dir.path(),
        &with(
            vec![
                "authorize",
                "--json",
                "--jar",
                "--authorization-details",
                payments,
            ],
            &flags,
        ),
    ));
    assert_eq!(status(&par, "diagnosis.request_object_window"), "ruled_out");
    assert_eq!(
        status(&par, "diagnosis.authorization_details_type"),
        "likely"
    );
}

/// DPoP nonces played by the sandbox (`--fail stale-dpop-nonce`: every nonce is stale
/// when it comes back, even after the client's one retry).
#[test]
fn a_stale_dpop_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let client = format!("tpp={}", jwks.display());
    let (bank, _) = sandbox_json(
        dir.path(),
        &["--client", &client, "--fail", "stale-dpop-nonce"],
    );
    let (code, stale) = exchange(dir.path(), &bank, &key, &["--dpop"]);
    assert_eq!(code, 1, "{stale:#}");
    assert_eq!(stale["response"]["body"]["error"], "use_dpop_nonce");
    assert_eq!(status(&stale, "diagnosis.dpop_nonce"), "likely");
    let evidence = stale["diagnosis"][0]["evidence"].as_str().unwrap();
    assert!(evidence.contains("rotated"), "{evidence}");
}

/// The embedded sandbox run in this process, with client `tpp` (an ES256 key), and
/// what a request built by hand needs: a profile, its secrets, a transport and the
/// context of the checks.
struct EmbeddedBank {
    bank: token_inspector::sandbox::SandboxHandle,
    issuer: String,
    profile: token_inspector::storage::profile::Profile,
    secrets: token_inspector::oauth::request::ClientSecrets,
    transport: token_inspector::oauth::transport::Transport,
    context: token_inspector::oauth::exchange::ExchangeContext,
}

impl EmbeddedBank {
    /// A client-credentials token request of `tpp`, signed now.
    fn token_request(&self) -> token_inspector::oauth::request::RequestModel {
        token_inspector::oauth::request::build_token_request(
            &self.profile,
            &self.secrets,
            &token_inspector::oauth::request::Grant::ClientCredentials,
            &Default::default(),
        )
        .unwrap()
    }
}

async fn embedded_bank(
    name: &str,
    config: token_inspector::sandbox::SandboxConfig,
) -> EmbeddedBank {
    use token_inspector::jose::keys::{KeyType, PrivateKey, SigningAlg};
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let bank = crate::support::bank::embedded(config, "tpp", &key, SigningAlg::ES256).await;
    let issuer = bank.issuer().to_owned();
    let mut profile = token_inspector::storage::profile::Profile::new(name, &issuer);
    profile.client_id = "tpp".into();
    profile.scope = "accounts".into();
    profile.auth.alg = SigningAlg::ES256;
    profile.endpoints.token = Some(format!("{issuer}/token"));
    EmbeddedBank {
        bank,
        profile,
        secrets: token_inspector::oauth::request::ClientSecrets {
            signing_key: Some(key),
            client_secret: None,
        },
        transport: token_inspector::oauth::transport::Transport::new(Default::default()).unwrap(),
        context: token_inspector::oauth::exchange::ExchangeContext {
            issuer: Some(issuer.clone()),
            client_id: Some("tpp".into()),
            ..Default::default()
        },
        issuer,
    }
}

/// The DPoP proof itself, sent by hand to the sandbox (which wants a nonce): a proof
/// for another URL than the one it went to (htu) is the likely cause, and the nonce it
/// carried is cleared; a proof that matches its request but is ten minutes old clears
/// htm/htu and points at the clock.
#[tokio::test]
async fn dpop_proofs_judged_against_the_sandbox() {
    use token_inspector::diagnosis::{self as diag, Evidence};
    use token_inspector::jose::keys::{KeyType, PrivateKey, SigningAlg};
    use token_inspector::oauth::dpop::DpopKey;
    use token_inspector::oauth::exchange;
    use token_inspector::oauth::request;
    use token_inspector::sandbox::SandboxConfig;

    let embedded = embedded_bank(
        "dpop",
        SandboxConfig {
            dpop_nonce: true,
            ..SandboxConfig::default()
        },
    )
    .await;
    let EmbeddedBank {
        transport,
        context,
        issuer,
        ..
    } = &embedded;
    let dpop = DpopKey {
        key: PrivateKey::generate(KeyType::EC_P256).unwrap(),
        alg: SigningAlg::ES256,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let send = |nonce: Option<String>, url: Option<String>, at: i64| {
        let mut model = embedded.token_request();
        // A proof made for another URL than the request goes to.
        let to = model.url.clone();
        if let Some(url) = url {
            model.url = url;
        }
        request::attach_dpop(&mut model, &dpop, nonce.as_deref(), None, at).unwrap();
        model.url = to;
        exchange::run(transport, model, context)
    };
    let evidence = Evidence::default();
    let first = send(None, None, now).await;
    let nonce = first
        .response()
        .and_then(|r| r.http.header("dpop-nonce"))
        .expect("the sandbox asks for a nonce")
        .to_owned();
    assert_eq!(
        status_of(&diag::diagnose(&first, &evidence), "diagnosis.dpop_nonce"),
        "likely"
    );

    // Sent to 127.0.0.1 with a proof for localhost: the server refuses the htu.
    let elsewhere = issuer.replace("127.0.0.1", "localhost") + "/token";
    let mut wrong = send(Some(nonce.clone()), Some(elsewhere), now).await;
    let refusal = wrong.response().and_then(|r| r.body.json()).unwrap();
    assert_eq!(refusal["error"], "invalid_dpop_proof", "{refusal}");
    wrong.diagnosis = diag::diagnose(&wrong, &evidence);
    assert_eq!(
        status_of(&wrong.diagnosis, "diagnosis.dpop_proof_mismatch"),
        "likely"
    );
    assert_eq!(
        status_of(&wrong.diagnosis, "diagnosis.dpop_nonce"),
        "ruled_out"
    );

    // The right URL, but made ten minutes ago.
    let old = send(Some(nonce), None, now - 600).await;
    let refusal = old.response().and_then(|r| r.body.json()).unwrap();
    assert_eq!(refusal["error"], "invalid_dpop_proof", "{refusal}");
    let causes = diag::diagnose(&old, &evidence);
    assert_eq!(
        status_of(&causes, "diagnosis.dpop_proof_mismatch"),
        "ruled_out"
    );
    embedded.bank.shutdown().await;
}

/// The status as `--json` spells it.
fn status_of(causes: &[token_inspector::diagnosis::Cause], code: &str) -> String {
    causes
        .iter()
        .find(|c| c.code == code)
        .map(|c| {
            serde_json::to_value(c.status)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .unwrap_or_else(|| panic!("no {code} in {causes:#?}"))
}

/// E8, an assertion expired on arrival, and an auth method the server does not offer,
/// each refused by the sandbox and judged likely from the evidence.
#[test]
fn a_wrong_redirect_uri_an_expired_assertion_and_an_unsupported_method() {
    let dir = tempfile::tempdir().unwrap();
    let (key, jwks) = keypair(dir.path(), "client");
    let client = format!("tpp={}", jwks.display());
    let (bank, _) = sandbox_json(dir.path(), &["--client", &client]);
    let redirect_uri = format!("{}/callback", bank.issuer);
    let flags = client_flags(&bank, &key, &redirect_uri);
    let (code, session) = json_of(&run(dir.path(), &with(vec!["authorize", "--json"], &flags)));
    assert_eq!(code, 0, "{session:#}");
    let redirect = approve(session["authorization_url"].as_str().unwrap());
    let other = format!("{}/elsewhere", bank.issuer);
    let state = format!("--state={}", session["state"].as_str().unwrap());
    let verifier = format!(
        "--code-verifier={}",
        session["code_verifier"].as_str().unwrap()
    );
    let elsewhere: Vec<&str> = flags
        .iter()
        .map(|f| {
            if *f == redirect_uri {
                other.as_str()
            } else {
                *f
            }
        })
        .collect();
    let (code, wrong) = json_of(&run(
        dir.path(),
        &with(
            vec![
                "exchange",
                "--json",
                "--redirect-url",
                &redirect,
                &state,
                &verifier,
            ],
            &elsewhere,
        ),
    ));
    assert_eq!(code, 1, "{wrong:#}");
    assert_eq!(status(&wrong, "diagnosis.redirect_uri_mismatch"), "likely");
    assert_eq!(status(&wrong, "diagnosis.pkce_mismatch"), "ruled_out");

    // A client secret where the server takes only private_key_jwt.
    let (code, basic) = exchange(
        dir.path(),
        &bank,
        &key,
        &[
            "--auth-method",
            "client_secret_basic",
            "--client-secret",
            "not-a-secret-here",
        ],
    );
    assert_eq!(code, 1, "{basic:#}");
    assert_eq!(
        status(&basic, "diagnosis.auth_method_unsupported"),
        "likely"
    );

    // A bank whose clock runs 30 s ahead sees a 5-second assertion already expired.
    let (ahead, _) = sandbox_json(dir.path(), &["--client", &client, "--clock-offset", "30"]);
    let (code, late) = exchange(dir.path(), &ahead, &key, &["--lifetime", "5"]);
    assert_eq!(code, 1, "{late:#}");
    assert_eq!(status(&late, "diagnosis.assertion_expired"), "likely");
}

/// E4 against the sandbox: the same signed request sent twice (a client that caches
/// its assertion) is refused as a replay, and the history's earlier jti says why.
#[tokio::test]
async fn a_replayed_assertion_judged_with_the_history() {
    use token_inspector::diagnosis::{self as diag, Evidence};
    use token_inspector::history::{HistoryEntry, HistoryStore};
    use token_inspector::oauth::exchange;

    let embedded = embedded_bank("replay", Default::default()).await;
    let EmbeddedBank {
        transport,
        context,
        issuer,
        ..
    } = &embedded;
    let model = embedded.token_request();
    let dir = tempfile::tempdir().unwrap();
    let history = HistoryStore::at(dir.path().join("history"));
    let first = exchange::run(transport, model.clone(), context).await;
    assert_eq!(first.response().map(|r| r.http.status), Some(200));
    history.append(&HistoryEntry::of("replay", &first)).unwrap();

    let again = exchange::run(transport, model, context).await;
    let body = again.response().and_then(|r| r.body.json()).unwrap();
    assert_eq!(body["error"], "invalid_client", "{body}");
    let mut evidence = Evidence {
        issuer: Some(issuer.clone()),
        ..Evidence::default()
    };
    history.enrich("replay", None, &mut evidence);
    let causes = diag::diagnose(&again, &evidence);
    assert_eq!(status_of(&causes, "diagnosis.jti_reused"), "likely");
    assert_eq!(causes[0].code, "diagnosis.jti_reused", "likely first");
    // Without the history it cannot be told.
    let causes = diag::diagnose(&again, &Evidence::default());
    assert_eq!(status_of(&causes, "diagnosis.jti_reused"), "unknown");
    embedded.bank.shutdown().await;
}
