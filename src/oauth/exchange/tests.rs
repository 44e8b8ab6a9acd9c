//! Tests of `exchange`.

use std::sync::Mutex;

use super::*;
use crate::oauth::http::{Call, FnClient};
use crate::oauth::request::{ClientSecrets, Grant, RequestOptions, build_token_request};
use crate::storage::profile::{AuthMethod, Profile};

fn public_client() -> Profile {
    let mut p = Profile::new("p", "https://as.example");
    p.client_id = "c1".into();
    p.endpoints.token = Some("https://as.example/token".into());
    p.auth.method = AuthMethod::None;
    p
}

/// The pipeline runs against the transport seam: no server, and the fake sees
/// exactly the model that was built.
#[tokio::test]
async fn an_exchange_runs_against_a_fake_client() {
    let seen = Mutex::new(Vec::new());
    let client = FnClient(|call: Call<'_>| match call {
        Call::Send(model) => {
            seen.lock().unwrap().push(model.body());
            let id = model.interaction_id.clone().unwrap_or_default();
            Ok(HttpResponse::with(
                200,
                &[
                    ("content-type", "application/json"),
                    ("x-fapi-interaction-id", &id),
                ],
                r#"{"access_token":"at","token_type":"Bearer","expires_in":600}"#,
            ))
        }
        Call::Get(url) => Err(SendError::Refused(url.to_owned())),
    });
    let model = build_token_request(
        &public_client(),
        &ClientSecrets::default(),
        &Grant::ClientCredentials,
        &RequestOptions::default(),
    )
    .unwrap();
    let body = model.body();
    let exchange = run(&client, model, &ExchangeContext::default()).await;
    assert!(exchange.is_success());
    let response = exchange.response().unwrap();
    assert_eq!(response.interaction_id, InteractionEcho::Echoed);
    assert!(matches!(response.body, ResponseBody::Token(_)));
    assert_eq!(*seen.lock().unwrap(), vec![body]);
}

/// `Debug` of a whole exchange (request and answer) prints no credential: not the
/// refresh token sent, not the tokens received.
#[tokio::test]
async fn debug_of_an_exchange_holds_no_token() {
    let client = FnClient(|_: Call<'_>| {
        Ok(HttpResponse::with(
            200,
            &[("content-type", "application/json")],
            r#"{"access_token":"canary-at-1","refresh_token":"canary-rt-2","token_type":"Bearer"}"#,
        ))
    });
    let model = build_token_request(
        &public_client(),
        &ClientSecrets::default(),
        &Grant::RefreshToken {
            refresh_token: crate::secret::Secret::new("canary-rt-sent-3"),
        },
        &RequestOptions::default(),
    )
    .unwrap();
    let exchange = run(&client, model, &ExchangeContext::default()).await;
    assert!(exchange.is_success());
    let debug = format!("{exchange:?}");
    for canary in ["canary-at-1", "canary-rt-2", "canary-rt-sent-3"] {
        assert!(!debug.contains(canary), "{debug}");
    }
    assert!(debug.contains("access_token"), "member names stay: {debug}");
}

/// A server whose `Date` is a minute ahead: the exchange says the clock is off.
#[tokio::test]
async fn a_server_clock_a_minute_off_is_a_warning() {
    let ahead =
        httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(60));
    let client = FnClient(move |_: Call<'_>| {
        Ok(HttpResponse::with(
            400,
            &[("content-type", "application/json"), ("date", &ahead)],
            r#"{"error":"invalid_client","error_description":"iat is in the future"}"#,
        ))
    });
    let model = build_token_request(
        &public_client(),
        &ClientSecrets::default(),
        &Grant::ClientCredentials,
        &RequestOptions::default(),
    )
    .unwrap();
    let exchange = run(&client, model, &ExchangeContext::default()).await;
    let skew = exchange
        .findings
        .iter()
        .find(|f| f.code == "clock.skew")
        .expect("a clock finding");
    assert!(skew.message.contains("ahead of"), "{}", skew.message);
    // A server on time: no finding.
    let now = httpdate::fmt_http_date(std::time::SystemTime::now());
    let client = FnClient(move |_: Call<'_>| Ok(HttpResponse::with(200, &[("date", &now)], "{}")));
    let model = build_token_request(
        &public_client(),
        &ClientSecrets::default(),
        &Grant::ClientCredentials,
        &RequestOptions::default(),
    )
    .unwrap();
    let exchange = run(&client, model, &ExchangeContext::default()).await;
    assert!(!exchange.findings.iter().any(|f| f.code == "clock.skew"));
}

/// The DPoP nonce dance against the seam, no server: the first answer asks for a
/// nonce; the request is rebuilt with it (fresh proof, fresh client assertion) and
/// sent once more; both attempts are kept; the nonce is remembered.
#[tokio::test]
async fn a_dpop_nonce_request_is_answered_once_with_a_fresh_assertion() {
    use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
    use crate::oauth::dpop::{DpopKey, NonceStore};
    let seen = Mutex::new(Vec::<(Option<String>, String)>::new());
    let client = FnClient(|call: Call<'_>| {
        let Call::Send(model) = call else {
            return Err(SendError::Refused("get".into()));
        };
        let nonce = model
            .dpop
            .as_ref()
            .and_then(|p| p.claims.get("nonce"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let assertion = model
            .param("client_assertion")
            .unwrap_or_default()
            .to_owned();
        seen.lock().unwrap().push((nonce.clone(), assertion));
        Ok(match nonce.as_deref() {
            Some("n1") => HttpResponse::with(
                200,
                &[("content-type", "application/json"), ("dpop-nonce", "n2")],
                r#"{"access_token":"at","token_type":"DPoP","expires_in":60}"#,
            ),
            _ => HttpResponse::with(
                400,
                &[("content-type", "application/json"), ("dpop-nonce", "n1")],
                r#"{"error":"use_dpop_nonce","error_description":"nonce required"}"#,
            ),
        })
    });
    let mut profile = public_client();
    profile.auth.method = AuthMethod::PrivateKeyJwt;
    profile.auth.alg = SigningAlg::ES256;
    let secrets = ClientSecrets {
        signing_key: Some(PrivateKey::generate(KeyType::EC_P256).unwrap()),
        client_secret: None,
    };
    let dpop = DpopKey {
        key: PrivateKey::generate(KeyType::EC_P256).unwrap(),
        alg: SigningAlg::ES256,
    };
    let nonces = NonceStore::default();
    let proof = Proof {
        key: &dpop,
        access_token: None,
    };
    let exchange = send_with_dpop(
        &client,
        &ExchangeContext::default(),
        &nonces,
        Some(proof),
        None,
        || {
            build_token_request(
                &profile,
                &secrets,
                &Grant::ClientCredentials,
                &RequestOptions::default(),
            )
        },
    )
    .await
    .unwrap();
    assert!(exchange.is_success());
    let first = exchange
        .first_attempt
        .as_ref()
        .expect("the first attempt is kept");
    assert_eq!(first.response().unwrap().http.status, 400);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, None);
    assert_eq!(seen[1].0.as_deref(), Some("n1"));
    assert_ne!(seen[0].1, seen[1].1, "a fresh client assertion");
    assert_eq!(nonces.get("http://as.example/other").as_deref(), None);
    assert_eq!(nonces.get("https://as.example/par").as_deref(), Some("n2"));
}

#[tokio::test]
async fn a_transport_error_is_recorded_not_raised() {
    let client = FnClient(|_: Call<'_>| Err(SendError::Refused("as.example:443".into())));
    let model = build_token_request(
        &public_client(),
        &ClientSecrets::default(),
        &Grant::ClientCredentials,
        &RequestOptions::default(),
    )
    .unwrap();
    let exchange = run(&client, model, &ExchangeContext::default()).await;
    assert!(matches!(exchange.outcome, Err(SendError::Refused(_))));
    assert!(!exchange.is_success());
}
