//! Refusals that need the server's side of the story: the history across runs, consents, interaction ids, certificates, codes and request-object windows.

use super::*;

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
