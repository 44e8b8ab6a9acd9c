//! The session steps against the transport seam: no server, and the fake sees exactly
//! the models the session sends.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::*;
use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
use crate::oauth::dpop::DpopKey;
use crate::oauth::http::{Call, FnClient, HttpResponse};
use crate::oauth::request::{ClientSecrets, Grant, RequestModel};
use crate::oauth::transport::TransportConfig;
use crate::secret::Secret;
use crate::storage::profile::{AuthMethod, Profile};

const TOKEN: &str = "https://as.example/token";

fn profile() -> Profile {
    let mut p = Profile::new("bank", "https://as.example");
    p.client_id = "c1".into();
    p.endpoints.token = Some(TOKEN.into());
    p.auth.method = AuthMethod::PrivateKeyJwt;
    p.auth.alg = SigningAlg::ES256;
    p.redirect_uri = "https://client.example/cb".into();
    p
}

fn settings(dpop: bool) -> Settings {
    Settings {
        profile: profile(),
        secrets: ClientSecrets {
            signing_key: Some(PrivateKey::generate(KeyType::EC_P256).unwrap()),
            client_secret: None,
        },
        transport: TransportConfig::default(),
        client_key_file: None,
        dpop: dpop.then(|| DpopKey {
            key: PrivateKey::generate(KeyType::EC_P256).unwrap(),
            alg: SigningAlg::ES256,
        }),
        decryption_key: None,
    }
}

/// What the fake server saw: each request's body, its DPoP proof and the proof's claims.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<RequestModel>>>);

impl Seen {
    fn all(&self) -> Vec<RequestModel> {
        self.0.lock().unwrap().clone()
    }
}

/// A token endpoint that answers `answers` in turn (the last one from then on).
fn bank(seen: &Seen, answers: Vec<(u16, &'static str, &'static str)>) -> impl HttpClient {
    let seen = seen.clone();
    FnClient(move |call: Call<'_>| match call {
        Call::Send(model) => {
            let mut all = seen.0.lock().unwrap();
            all.push(model.clone());
            let (status, nonce, body) = answers[(all.len() - 1).min(answers.len() - 1)];
            Ok(HttpResponse::with(
                status,
                &[("content-type", "application/json"), ("dpop-nonce", nonce)],
                body,
            ))
        }
        // No discovery document, no JWKS: the evidence is what the session has.
        Call::Get(url) => Ok(HttpResponse::with(404, &[], format!("no {url}"))),
    })
}

const TOKEN_OK: &str = r#"{"access_token":"at","token_type":"DPoP","expires_in":60}"#;
const NONCE_PLEASE: &str = r#"{"error":"use_dpop_nonce","error_description":"nonce"}"#;

fn proof_claim(model: &RequestModel, name: &str) -> Option<Value> {
    model
        .dpop
        .as_ref()
        .and_then(|p| p.claims.get(name).cloned())
}

/// The app's Send: the preview is built on the UI thread from the profile, the loaded
/// keys and the shared nonce store (no transport); the worker's session sends that very
/// model, the DPoP header included, and nothing else first.
#[tokio::test]
async fn the_preview_is_what_send_sends() {
    let seen = Seen::default();
    let settings = settings(true);
    let nonces = Arc::new(crate::oauth::dpop::NonceStore::default());
    let request = TokenRequest::new(Grant::ClientCredentials);
    let preview = build::token_request(&settings.credentials(), &request, &nonces).unwrap();
    assert!(
        preview.header("DPoP").is_some(),
        "the preview shows the proof"
    );
    let session = Session::with_client(settings, bank(&seen, vec![(200, "n1", TOKEN_OK)]))
        .with_nonces(nonces.clone());
    let authorization = AuthorizationContext::default();
    let exchange = session
        .send_token(&request, &authorization, Some(preview.clone()))
        .await
        .unwrap();
    assert!(exchange.is_success());
    assert_eq!(seen.all(), vec![preview.clone()], "sent as previewed");
    assert_eq!(exchange.request, preview);
    // The server's nonce is kept: the next preview carries it, as the next Send will.
    let next = session.preview(&request).unwrap();
    assert_eq!(proof_claim(&next, "nonce"), Some(json!("n1")));
}

/// A nonce request is answered once: a fresh proof with the server's nonce and a fresh
/// client assertion; the first attempt is kept; the binding is checked against the key.
#[tokio::test]
async fn a_dpop_nonce_request_is_answered_once() {
    let seen = Seen::default();
    let session = Session::with_client(
        settings(true),
        bank(
            &seen,
            vec![(400, "n1", NONCE_PLEASE), (200, "n2", TOKEN_OK)],
        ),
    );
    let request = TokenRequest::new(Grant::ClientCredentials);
    let exchange = session
        .send_token(&request, &AuthorizationContext::default(), None)
        .await
        .unwrap();
    assert!(exchange.is_success());
    let sent = seen.all();
    assert_eq!(sent.len(), 2);
    assert_eq!(proof_claim(&sent[0], "nonce"), None);
    assert_eq!(proof_claim(&sent[1], "nonce"), Some(json!("n1")));
    assert_ne!(proof_claim(&sent[0], "jti"), proof_claim(&sent[1], "jti"));
    assert_ne!(
        sent[0].param("client_assertion"),
        sent[1].param("client_assertion"),
        "a fresh client assertion"
    );
    let first = exchange.first_attempt.as_ref().expect("the first attempt");
    assert_eq!(first.response().unwrap().http.status, 400);
    assert!(exchange.diagnosis.is_empty(), "a success is not diagnosed");
}

/// A refusal is diagnosed once, with what the history adds, and every exchange is kept:
/// the same code sent twice is judged reused the second time.
#[tokio::test]
async fn a_refusal_is_judged_with_the_history_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::history::HistoryStore::at(dir.path());
    let seen = Seen::default();
    let refused = r#"{"error":"invalid_grant","error_description":"code invalid"}"#;
    let session = Session::with_client(settings(false), bank(&seen, vec![(400, "", refused)]))
        .with_history(store.clone(), "bank");
    let grant = Grant::AuthorizationCode {
        code: Secret::new("code-1"),
        redirect_uri: "https://client.example/cb".into(),
        code_verifier: None,
    };
    let request = TokenRequest::new(grant);
    let authorization = AuthorizationContext {
        findings: vec![crate::checks::Finding::new(
            crate::checks::Severity::Warning,
            "redirect.test",
            "a finding on the redirect",
            "test",
        )],
        ..AuthorizationContext::default()
    };
    let first = session
        .send_token(&request, &authorization, None)
        .await
        .unwrap();
    assert!(first.findings.iter().any(|f| f.code == "redirect.test"));
    let reused = |e: &crate::oauth::exchange::Exchange| {
        e.diagnosis
            .iter()
            .find(|c| c.code == "diagnosis.code_reused")
            .map(|c| c.status)
    };
    assert_ne!(reused(&first), Some(crate::diagnosis::Status::Likely));
    let second = session
        .send_token(&request, &AuthorizationContext::default(), None)
        .await
        .unwrap();
    assert_eq!(reused(&second), Some(crate::diagnosis::Status::Likely));
    assert_eq!(store.list("bank").unwrap().len(), 2, "both kept");
    assert!(session.take_warnings().is_empty());
}

/// A consent comes from the profile, its preset, or the user; none is invented, and
/// `none` drops the profile's.
#[test]
fn the_consent_is_never_invented() {
    let client = FnClient(|_: Call<'_>| Err(crate::oauth::http::SendError::Refused("x".into())));
    let mut s = Session::with_client(settings(false), client);
    assert_eq!(s.authorization_details(&Consent::FromProfile), None);
    assert_eq!(
        s.authorization_details(&Consent::Given("[1]".into())),
        Some("[1]".into())
    );
    s.settings_mut().profile.consent = Some(r#"[{"type":"t"}]"#.into());
    assert_eq!(
        s.authorization_details(&Consent::FromProfile),
        Some(r#"[{"type":"t"}]"#.into())
    );
    assert_eq!(s.authorization_details(&Consent::None), None);
    // A preset's template, when the profile has none of its own.
    let preset = crate::storage::presets::all()
        .iter()
        .find(|p| {
            p.consent.creation == crate::storage::presets::ConsentCreation::InPar
                && !p.consent.template.trim().is_empty()
        })
        .unwrap();
    let mut from_preset = preset.to_profile("p");
    from_preset.consent = None;
    s.settings_mut().profile = from_preset;
    let details = s.authorization_details(&Consent::FromProfile).unwrap();
    assert!(details.contains(&preset.consent.consent_type), "{details}");
    // The embedded sandbox's profile asks for its default account access consent.
    let mut local = profile();
    local.local_sandbox = true;
    s.settings_mut().profile = local;
    assert!(s.authorization_details(&Consent::FromProfile).is_some());
    assert_eq!(Consent::from_flag(Some("none".into())), Consent::None);
    assert_eq!(Consent::from_flag(None), Consent::FromProfile);
}

/// The binding the checks compare against is the session's: its DPoP key's thumbprint.
#[test]
fn the_exchange_context_carries_the_binding() {
    let client = FnClient(|_: Call<'_>| Err(crate::oauth::http::SendError::Refused("x".into())));
    let session = Session::with_client(settings(true), client);
    let jkt = session.settings().dpop.as_ref().map(|k| k.jkt());
    let context = session.exchange_context(&AuthorizationContext {
        state: Some("s".into()),
        ..AuthorizationContext::default()
    });
    assert_eq!(context.binding.dpop_jkt, jkt);
    assert_eq!(context.expected_state.as_deref(), Some("s"));
    assert_eq!(context.token_endpoint.as_deref(), Some(TOKEN));
}

/// A redirect whose `iss` is another server's (a mix-up) or whose `state` is not the one
/// sent is never turned into a token request, unless the session is told to redeem it
/// anyway (`--force-redeem`).
#[tokio::test]
async fn a_redirect_for_another_server_or_request_is_rejected() {
    use crate::oauth::redirect::parse_authorization_response;
    let started = crate::oauth::authorize::AuthorizationSession {
        state: "s1".into(),
        nonce: "n1".into(),
        verifier: crate::oauth::pkce::PkceVerifier::generate(),
        request_uri: None,
        authorization_url: "https://as.example/authorize".into(),
        par: None,
        started: None,
        consent_steps: Vec::new(),
        consent_id: None,
        redirect_uri: "https://client.example/cb".into(),
    };
    let client = || FnClient(|_: Call<'_>| Err(crate::oauth::http::SendError::Refused("x".into())));
    let session = Session::with_client(settings(false), client());
    for url in [
        "https://client.example/cb?code=c&state=s1&iss=https%3A%2F%2Fevil.example",
        "https://client.example/cb?code=c&state=s2&iss=https%3A%2F%2Fas.example",
        "https://client.example/cb?code=c&iss=https%3A%2F%2Fas.example",
    ] {
        let response = parse_authorization_response(url).unwrap();
        assert!(
            matches!(
                session.redirect(&started, &response, None).await,
                Redirect::Rejected { .. }
            ),
            "{url}"
        );
    }
    let good = parse_authorization_response(
        "https://client.example/cb?code=c&state=s1&iss=https%3A%2F%2Fas.example",
    )
    .unwrap();
    assert!(matches!(
        session.redirect(&started, &good, None).await,
        Redirect::Code { .. }
    ));
    let forced = Session::with_client(settings(false), client()).with_force_redeem(true);
    let wrong = parse_authorization_response(
        "https://client.example/cb?code=c&state=s1&iss=https%3A%2F%2Fevil.example",
    )
    .unwrap();
    assert!(matches!(
        forced.redirect(&started, &wrong, None).await,
        Redirect::Code { .. }
    ));
}

/// UAE: a consent's personal data, in clear in the profile's consent, goes to PAR signed
/// and encrypted to the bank's use:enc key from its JWK Set.
#[tokio::test]
async fn a_consents_personal_data_is_encrypted_before_par() {
    let bank_key = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
    let mut jwk = bank_key.public_jwk(Some("enc-1"), SigningAlg::PS256);
    jwk["use"] = "enc".into();
    let jwks = json!({ "keys": [jwk] }).to_string();
    let mut settings = settings(false);
    settings.profile.endpoints.par = Some("https://as.example/par".into());
    settings.profile.endpoints.authorization = Some("https://as.example/authorize".into());
    settings.profile.data_calls.signed_body = Some(Default::default());
    settings.profile.endpoints.jwks = Some("https://as.example/jwks".into());
    let seen = Seen::default();
    let client = {
        let seen = seen.clone();
        FnClient(move |call: Call<'_>| match call {
            Call::Send(model) => {
                seen.0.lock().unwrap().push(model.clone());
                Ok(HttpResponse::with(
                    201,
                    &[("content-type", "application/json")],
                    r#"{"request_uri":"urn:r:1","expires_in":60}"#,
                ))
            }
            Call::Get(_) => Ok(HttpResponse::with(
                200,
                &[("content-type", "application/json")],
                jwks.clone(),
            )),
        })
    };
    let session = Session::with_client(settings, client);
    let consent = json!([{"type": "urn:openfinanceuae:service-initiation-consent:v2.2",
        "consent": {"ConsentId": "c1", "PersonalIdentifiableInformation": {"Initiation": {"Creditor": {"Name": "Ivan"}}}}}]);
    session
        .authorize(&Consent::Given(consent.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let par = seen.all().pop().expect("a PAR");
    let sent: Value = serde_json::from_str(par.param("authorization_details").unwrap()).unwrap();
    let pii = sent[0]["consent"]["PersonalIdentifiableInformation"]
        .as_str()
        .expect("encrypted");
    let decoded = crate::jose::jwt::decode(pii).unwrap();
    assert_eq!(decoded.kid(), Some("enc-1"));
    assert_eq!(decoded.alg(), Some("RSA-OAEP-256"));
    assert_eq!(sent[0]["consent"]["ConsentId"], "c1");
}
