//! The whole FAPI flow with the core client against the embedded sandbox over loopback:
//! discovery, PAR, authorize (auto-approve), token, refresh, introspect, revoke; and the
//! command line's `exchange --auto-approve` against the same server.

use std::sync::OnceLock;
use std::time::Duration;

use token_inspector::jose::keys::{KeyType, PrivateKey, SigningAlg};
use token_inspector::oauth::authorize;
use token_inspector::oauth::discovery;
use token_inspector::oauth::exchange::{self, ExchangeContext, InteractionEcho};
use token_inspector::oauth::request::{self, ClientSecrets, Grant, RequestKind, RequestOptions};
use token_inspector::oauth::response::ResponseBody;
use token_inspector::oauth::transport::{Transport, TransportConfig};
use token_inspector::sandbox::{ClientRegistration, Sandbox, SandboxConfig, SandboxHandle};
use token_inspector::secret::Secret;
use token_inspector::storage::profile::Profile;

const CLIENT_ID: &str = "flow-test-client";

fn client_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap())
}

fn transport() -> Transport {
    Transport::new(TransportConfig {
        timeout: Duration::from_secs(10),
        ..TransportConfig::default()
    })
    .unwrap()
}

async fn sandbox() -> SandboxHandle {
    crate::support::bank::embedded(
        SandboxConfig::default(),
        CLIENT_ID,
        client_key(),
        SigningAlg::PS256,
    )
    .await
}

async fn discovered_profile(handle: &SandboxHandle) -> Profile {
    let mut p = Profile::new("flow", handle.issuer());
    p.client_id = CLIENT_ID.into();
    p.redirect_uri = format!("{}/callback", handle.issuer());
    p.scope = "accounts openid".into();
    let found = discovery::discover(&transport(), handle.issuer(), false)
        .await
        .unwrap();
    assert!(found.findings.is_empty(), "{:?}", found.findings);
    discovery::apply_to_profile(&found, &mut p);
    p
}

fn client_credentials(profile: &Profile) -> request::RequestModel {
    request::build_token_request(
        profile,
        &secrets(),
        &Grant::ClientCredentials,
        &RequestOptions::default(),
    )
    .unwrap()
}

fn secrets() -> ClientSecrets {
    ClientSecrets {
        signing_key: Some(client_key().clone()),
        client_secret: None,
    }
}

#[tokio::test]
async fn full_flow_against_the_sandbox() {
    let handle = sandbox().await;
    let profile = discovered_profile(&handle).await;
    let t = transport();

    let session = authorize::start(
        &t,
        &profile,
        &secrets(),
        Some(authorize::default_authorization_details()),
        &RequestOptions::default(),
    )
    .await
    .unwrap();
    assert!(
        session
            .request_uri
            .as_deref()
            .unwrap()
            .starts_with("urn:ietf:params:oauth:request_uri:")
    );
    let answer = authorize::auto_approve(&t, &session).await.unwrap();
    assert_eq!(answer.state.as_deref(), Some(session.state.as_str()));
    assert_eq!(answer.iss.as_deref(), Some(handle.issuer()));

    let grant = Grant::AuthorizationCode {
        code: answer.code.clone().unwrap().into(),
        redirect_uri: profile.redirect_uri.clone(),
        code_verifier: Some(session.verifier.as_str().into()),
    };
    let model =
        request::build_token_request(&profile, &secrets(), &grant, &RequestOptions::default())
            .unwrap();
    let ctx = ExchangeContext {
        issuer: Some(profile.issuer.clone()),
        client_id: Some(CLIENT_ID.into()),
        token_endpoint: profile.endpoints.token.clone(),
        expected_nonce: Some(session.nonce.clone()),
        expected_state: Some(session.state.clone()),
        jwks_uri: profile.endpoints.jwks.clone(),
        ..ExchangeContext::default()
    };
    let ex = exchange::run(&t, model, &ctx).await;
    let r = ex.response().unwrap();
    assert_eq!(r.http.status, 200, "{}", r.body_text);
    assert_eq!(r.interaction_id, InteractionEcho::Echoed);
    let ResponseBody::Token(tokens) = &r.body else {
        panic!("{:?}", r.body)
    };
    assert_eq!(tokens.expires_in(), Some(600.0));
    let consent = tokens.authorization_details()[0].consent.clone().unwrap();
    assert_eq!(consent.status.as_deref(), Some("authorized"));
    assert!(!consent.accounts.is_empty());
    assert_eq!(tokens.grant_id(), consent.consent_id.as_deref());
    let id = r.tokens.iter().find(|t| t.path == "id_token").unwrap();
    assert!(
        id.signature.as_ref().unwrap().is_valid(),
        "{:?}",
        id.signature
    );
    // Nonce, at_hash and c_hash all match, so no id_token errors.
    let errors: Vec<_> = ex
        .findings
        .iter()
        .filter(|f| f.severity == token_inspector::checks::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // Refresh (not rotated by default: the same refresh token works twice).
    let refresh = Secret::new(tokens.refresh_token().unwrap());
    for _ in 0..2 {
        let model = request::build_token_request(
            &profile,
            &secrets(),
            &Grant::RefreshToken {
                refresh_token: refresh.clone(),
            },
            &RequestOptions::default(),
        )
        .unwrap();
        let ex = exchange::run(&t, model, &ctx).await;
        assert_eq!(ex.response().unwrap().http.status, 200);
    }

    // Introspect, revoke, introspect again.
    let access = Secret::new(tokens.access_token().unwrap());
    let introspect = |token: &Secret| {
        request::build_token_management_request(
            &profile,
            &secrets(),
            RequestKind::Introspect,
            token,
            Some("access_token"),
            &RequestOptions::default(),
        )
        .unwrap()
    };
    let ex = exchange::run(&t, introspect(&access), &ExchangeContext::default()).await;
    let body = ex.response().unwrap().body.json().unwrap();
    assert_eq!(body["active"], true);
    let revoke = request::build_token_management_request(
        &profile,
        &secrets(),
        RequestKind::Revoke,
        &access,
        Some("access_token"),
        &RequestOptions::default(),
    )
    .unwrap();
    let ex = exchange::run(&t, revoke, &ExchangeContext::default()).await;
    assert_eq!(ex.response().unwrap().http.status, 200);
    let ex = exchange::run(&t, introspect(&access), &ExchangeContext::default()).await;
    assert_eq!(ex.response().unwrap().body.json().unwrap()["active"], false);

    // The sandbox logged every step.
    let paths: Vec<String> = handle.log().iter().map(|e| e.path.clone()).collect();
    for p in ["/par", "/authorize", "/token", "/introspect", "/revoke"] {
        assert!(paths.iter().any(|x| x == p), "{p} not in {paths:?}");
    }
}

#[tokio::test]
async fn reusing_the_code_is_refused() {
    let handle = sandbox().await;
    let profile = discovered_profile(&handle).await;
    let t = transport();
    let session = authorize::start(&t, &profile, &secrets(), None, &Default::default())
        .await
        .unwrap();
    let answer = authorize::auto_approve(&t, &session).await.unwrap();
    let grant = Grant::AuthorizationCode {
        code: answer.code.unwrap().into(),
        redirect_uri: profile.redirect_uri.clone(),
        code_verifier: Some(session.verifier.as_str().into()),
    };
    let send = || async {
        let model = request::build_token_request(&profile, &secrets(), &grant, &Default::default())
            .unwrap();
        exchange::run(&t, model, &ExchangeContext::default()).await
    };
    assert_eq!(send().await.response().unwrap().http.status, 200);
    let second = send().await;
    let r = second.response().unwrap();
    assert_eq!(r.http.status, 400);
    let ResponseBody::Error(e) = &r.body else {
        panic!()
    };
    assert_eq!(e.error, "invalid_grant");
    assert!(
        second
            .findings
            .iter()
            .any(|f| f.code == "response.oauth_error")
    );
}

#[tokio::test]
async fn cli_exchange_with_auto_approve() {
    let handle = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    std::fs::write(&key, client_key().to_pkcs8_pem().expose()).unwrap();
    let issuer = handle.issuer().to_owned();
    let redirect = format!("{issuer}/callback");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_token-inspector"))
        .args([
            "exchange",
            "--issuer",
            &issuer,
            "--client-id",
            CLIENT_ID,
            "--key",
            key.to_str().unwrap(),
            "--redirect-uri",
            &redirect,
            "--scope",
            "accounts openid",
            "--auto-approve",
            "--json",
        ])
        .env("TOKEN_INSPECTOR_CONFIG_DIR", dir.path())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["response"]["status"], 200);
    assert_eq!(v["response"]["body_kind"], "token");
    let tokens = v["response"]["tokens"].as_array().unwrap();
    let id = tokens.iter().find(|t| t["path"] == "id_token").unwrap();
    assert_eq!(id["signature"]["status"], "valid", "{id}");
}

/// mTLS (RFC 8705): our transport presents a client certificate to the sandbox's HTTPS
/// listener, trusts its local CA, and the token it gets is bound to the certificate.
#[tokio::test]
async fn mtls_client_certificate_binds_the_token() {
    use token_inspector::sandbox::TlsOptions;
    let handle = Sandbox::start(SandboxConfig {
        clients: vec![ClientRegistration {
            client_id: CLIENT_ID.into(),
            jwks: client_key().public_jwks(None, SigningAlg::PS256),
            redirect_uris: vec![],
        }],
        tls: Some(TlsOptions {
            require_client_cert: true,
            cert_pem: None,
            key_pem: None,
            client_ca_pem: None,
        }),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    assert!(handle.issuer().starts_with("https://"));
    let cert_key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["tpp.example".to_owned()])
        .unwrap()
        .self_signed(&cert_key)
        .unwrap();
    let identity = Secret::new(format!("{}\n{}", cert.pem(), cert_key.serialize_pem()));
    let t = Transport::new(TransportConfig {
        ca_pem: handle.ca_pem(),
        identity_pem: Some(identity),
        timeout: Duration::from_secs(10),
        ..TransportConfig::default()
    })
    .unwrap();
    let mut p = Profile::new("mtls", handle.issuer());
    p.client_id = CLIENT_ID.into();
    p.scope = "accounts".into();
    let found = discovery::discover(&t, handle.issuer(), false)
        .await
        .unwrap();
    discovery::apply_to_profile(&found, &mut p);
    let model = client_credentials(&p);
    let ex = exchange::run(&t, model, &ExchangeContext::default()).await;
    let r = ex.response().unwrap();
    assert_eq!(r.http.status, 200, "{}", r.body_text);
    let access = Secret::new(r.body.json().unwrap()["access_token"].as_str().unwrap());
    let introspect = request::build_token_management_request(
        &p,
        &secrets(),
        RequestKind::Introspect,
        &access,
        None,
        &RequestOptions::default(),
    )
    .unwrap();
    let ex = exchange::run(&t, introspect, &ExchangeContext::default()).await;
    let body = ex.response().unwrap().body.json().unwrap();
    assert_eq!(body["active"], true);
    assert!(body["cnf"]["x5t#S256"].is_string(), "{body}");

    // Without the client certificate the TLS handshake is refused, with its own error.
    let bare = Transport::new(TransportConfig {
        ca_pem: handle.ca_pem(),
        ..TransportConfig::default()
    })
    .unwrap();
    let model = client_credentials(&p);
    let ex = exchange::run(&bare, model, &ExchangeContext::default()).await;
    assert!(
        matches!(
            ex.outcome,
            Err(token_inspector::oauth::http::SendError::Tls(_))
        ),
        "{:?}",
        ex.outcome
    );

    // Without trusting the local CA, the server certificate is refused.
    let untrusting = Transport::new(TransportConfig::default()).unwrap();
    let err = discovery::discover(&untrusting, handle.issuer(), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
}
