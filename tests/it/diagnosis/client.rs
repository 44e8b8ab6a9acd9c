//! Refusals of the client's own making, diagnosed: aud, keys, clocks, redirect_uri, methods, replays, DPoP proofs.

use super::*;

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
