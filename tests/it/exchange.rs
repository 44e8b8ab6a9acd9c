//! Real exchanges over loopback: a token server started inside each test checks the
//! client assertion's signature with the client's public key, PKCE and the form; failure
//! servers are slow, refusing, non-JSON and oversized; and the curl export, pasted into
//! bash, sends the same request as the direct send.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use token_inspector::jose::jwt;
use token_inspector::jose::keys::{KeyType, PrivateKey, SigningAlg};
use token_inspector::oauth::exchange::{self, ExchangeContext, InteractionEcho};
use token_inspector::oauth::http::SendError;
use token_inspector::oauth::pkce::PkceVerifier;
use token_inspector::oauth::render::{self, Redaction};
use token_inspector::oauth::request::{self, ClientSecrets, Grant, RequestOptions};
use token_inspector::oauth::response::ResponseBody;
use token_inspector::oauth::transport::{Transport, TransportConfig};
use token_inspector::secret::Secret;
use token_inspector::storage::profile::Profile;

const CLIENT_ID: &str = "55aa605c-89ef-4473-aa88-47709f0ff383";

fn client_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap())
}

fn server_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeyType::EC_P256).unwrap())
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    verdict: Result<(), String>,
}

#[derive(Clone)]
struct TokenServer {
    issuer: Arc<OnceLock<String>>,
    client_jwk: Value,
    expected_challenge: Arc<Mutex<Option<String>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

impl TokenServer {
    /// The checks a strict token endpoint makes on the seed's request shape.
    fn check(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
        let issuer = self.issuer.get().cloned().unwrap_or_default();
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if ct != "application/x-www-form-urlencoded" {
            return Err(format!("content-type {ct}"));
        }
        let params = form(body);
        let get = |n: &str| {
            params
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("missing {n}"))
        };
        if get("grant_type")? != "authorization_code" {
            return Err("grant_type".into());
        }
        get("code")?;
        get("redirect_uri")?;
        if get("client_assertion_type")? != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        {
            return Err("client_assertion_type".into());
        }
        let verifier = get("code_verifier")?;
        if let Some(challenge) = self.expected_challenge.lock().unwrap().clone()
            && token_inspector::jose::hash::s256(&verifier) != challenge
        {
            return Err("PKCE verifier does not match the challenge".into());
        }
        // Verify the assertion with jsonwebtoken directly against the public JWK.
        let assertion = get("client_assertion")?;
        let (input, sig) = assertion.rsplit_once('.').ok_or("assertion shape")?;
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(self.client_jwk.clone()).map_err(|e| e.to_string())?;
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
        let ok = jsonwebtoken::crypto::verify(
            sig,
            input.as_bytes(),
            &key,
            jsonwebtoken::Algorithm::PS256,
        )
        .map_err(|e| e.to_string())?;
        if !ok {
            return Err("assertion signature invalid".into());
        }
        let d = jwt::decode(&assertion).map_err(|e| e.to_string())?;
        let c = d.unverified_claims().ok_or("claims")?;
        if c["iss"] != CLIENT_ID || c["sub"] != CLIENT_ID {
            return Err("iss/sub".into());
        }
        if c["aud"] != issuer.as_str() {
            return Err(format!("aud {} is not the issuer {issuer}", c["aud"]));
        }
        let exp = c["exp"].as_f64().ok_or("exp")?;
        let iat = c["iat"].as_f64().ok_or("iat")?;
        if exp <= iat || exp - iat > 600.0 {
            return Err("lifetime".into());
        }
        Ok(())
    }

    fn id_token(&self, access_token: &str, nonce: &str) -> String {
        let issuer = self.issuer.get().cloned().unwrap_or_default();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let at_hash = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(access_token.as_bytes());
            jwt::b64url(&digest[..16])
        };
        let mut header = serde_json::Map::new();
        header.insert("alg".into(), json!("ES256"));
        header.insert("kid".into(), json!(server_key().thumbprint()));
        let claims = json!({
            "sub": "202", "acr": "acr:paynet-sandbox", "amr": "mock",
            "name": "Mr. Mitsu Hirato", "email_verified": "true",
            "iss": issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 900,
            "nonce": nonce, "auth_time": now, "azp": CLIENT_ID, "at_hash": at_hash,
        });
        jwt::sign_compact(
            &header,
            &claims,
            server_key().encoding_key(),
            jsonwebtoken::Algorithm::ES256,
        )
        .unwrap()
    }
}

async fn token(State(s): State<TokenServer>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let verdict = s.check(&headers, &body);
    s.seen.lock().unwrap().push(Seen {
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
        verdict: verdict.clone(),
    });
    let interaction = headers
        .get("x-fapi-interaction-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    match verdict {
        Ok(()) => {
            let access_token = uuid::Uuid::new_v4().to_string();
            let body = json!({
                "access_token": access_token,
                "expires_in": 600,
                "token_type": "Bearer",
                "scope": "accounts profile",
                "state": "d0ba6086-ca86-43f9-9ec3-92326bceb490",
                "authorization_details": [{
                    "type": "urn:openfinance-ml:account-access-consent:v1.2",
                    "consent": {"consent_id": "c1", "status": "authorized",
                        "expiration_datetime": "2099-11-30T23:59:59Z",
                        "permissions": ["read_accounts"],
                        "accounts": [{"account_id": "1", "account_number": "10000004",
                                      "account_name": "Greenbank Current Account"}]}
                }],
                "grant_id": "c1",
                "refresh_token": uuid::Uuid::new_v4().to_string(),
                "id_token": s.id_token(&access_token, "n-0S6_WzA2Mj"),
            });
            (
                StatusCode::OK,
                [("x-fapi-interaction-id", interaction)],
                axum::Json(body),
            )
                .into_response()
        }
        Err(reason) => (
            StatusCode::BAD_REQUEST,
            [("x-fapi-interaction-id", interaction)],
            axum::Json(json!({"error": "invalid_request", "error_description": reason})),
        )
            .into_response(),
    }
}

async fn start(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

async fn start_token_server() -> (TokenServer, String) {
    let state = TokenServer {
        issuer: Arc::new(OnceLock::new()),
        client_jwk: client_key().public_jwk(None, SigningAlg::PS256),
        expected_challenge: Arc::new(Mutex::new(None)),
        seen: Arc::new(Mutex::new(Vec::new())),
    };
    let jwks = server_key().public_jwks(None, SigningAlg::ES256);
    let issuer_cell = state.issuer.clone();
    let router = Router::new()
        .route("/token", post(token))
        .route(
            "/jwks",
            get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        )
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let issuer = issuer_cell.get().cloned().unwrap_or_default();
                async move {
                    axum::Json(json!({
                        "issuer": issuer,
                        "token_endpoint": format!("{issuer}/token"),
                        "jwks_uri": format!("{issuer}/jwks"),
                        "code_challenge_methods_supported": ["S256"],
                    }))
                }
            }),
        )
        .with_state(state.clone());
    let addr = start(router).await;
    let issuer = format!("http://{addr}");
    state.issuer.set(issuer.clone()).unwrap();
    (state, issuer)
}

fn profile(issuer: &str) -> Profile {
    let mut p = Profile::new("test", issuer);
    p.client_id = CLIENT_ID.into();
    p.redirect_uri = "https://www.auth-app.ozoneapi.co.uk/redirect-url".into();
    p.scope = "accounts".into();
    p.endpoints.token = Some(format!("{issuer}/token"));
    p.endpoints.jwks = Some(format!("{issuer}/jwks"));
    p
}

/// A client_credentials request from a public client (no client authentication) to
/// `{base}/token`: for the failure servers, which never look at the body.
fn public_client_request(base: &str) -> token_inspector::oauth::request::RequestModel {
    let mut p = profile(base);
    p.auth.method = token_inspector::storage::profile::AuthMethod::None;
    request::build_token_request(
        &p,
        &ClientSecrets::default(),
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

fn code_grant(verifier: &PkceVerifier) -> Grant {
    Grant::AuthorizationCode {
        code: "160ed384-bb0d-439e-85e8-68d2b681e45d".into(),
        redirect_uri: "https://www.auth-app.ozoneapi.co.uk/redirect-url".into(),
        code_verifier: Some(verifier.as_str().into()),
    }
}

/// The seed's authorization_code request to the test server.
fn code_request(
    issuer: &str,
    verifier: &PkceVerifier,
) -> token_inspector::oauth::request::RequestModel {
    request::build_token_request(
        &profile(issuer),
        &secrets(),
        &code_grant(verifier),
        &RequestOptions::default(),
    )
    .unwrap()
}

fn transport() -> Transport {
    Transport::new(TransportConfig {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        ..TransportConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn seed_shaped_exchange_is_accepted_and_explained() {
    let (server, issuer) = start_token_server().await;
    let verifier = PkceVerifier::generate();
    *server.expected_challenge.lock().unwrap() = Some(verifier.challenge_s256());
    let model = code_request(&issuer, &verifier);
    let sent_interaction = model.interaction_id.clone().unwrap();
    let ctx = ExchangeContext {
        issuer: Some(issuer.clone()),
        client_id: Some(CLIENT_ID.into()),
        expected_nonce: Some("n-0S6_WzA2Mj".into()),
        jwks_uri: Some(format!("{issuer}/jwks")),
        ..Default::default()
    };
    let ex = exchange::run(&transport(), model, &ctx).await;
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].verdict, Ok(()));
    // The server received exactly the body the model shows.
    assert_eq!(seen[0].body, ex.request.body().into_bytes());

    let r = ex.response().expect("a response");
    assert_eq!(r.http.status, 200);
    assert_eq!(r.interaction_id, InteractionEcho::Echoed);
    assert_eq!(
        r.http.header("x-fapi-interaction-id"),
        Some(sent_interaction.as_str())
    );
    let ResponseBody::Token(t) = &r.body else {
        panic!("not a token response: {:?}", r.body)
    };
    assert_eq!(t.expires_in(), Some(600.0));
    let consent = t.authorization_details()[0].consent.clone().unwrap();
    assert_eq!(
        consent.accounts[0].account_name.as_deref(),
        Some("Greenbank Current Account")
    );
    // The id_token was decoded and its signature verified with the issuer's JWKS.
    let id = r.tokens.iter().find(|t| t.path == "id_token").unwrap();
    assert!(
        id.signature.as_ref().unwrap().is_valid(),
        "{:?}",
        id.signature
    );
    assert_eq!(id.claims.as_ref().unwrap()["sub"], "202");
    // The seed's interop quirks are flagged, not fatal.
    let codes: Vec<&str> = ex.findings.iter().map(|f| f.code).collect();
    assert!(
        codes.iter().any(|c| c.contains("amr")),
        "findings: {codes:?}"
    );
    assert!(
        codes.iter().any(|c| c.contains("email_verified")),
        "findings: {codes:?}"
    );
    assert!(ex.is_success());
}

#[tokio::test]
async fn server_refusal_is_an_oauth_error() {
    let (server, issuer) = start_token_server().await;
    let verifier = PkceVerifier::generate();
    *server.expected_challenge.lock().unwrap() = Some("not-the-challenge".into());
    let model = code_request(&issuer, &verifier);
    let ex = exchange::run(&transport(), model, &ExchangeContext::default()).await;
    let r = ex.response().unwrap();
    assert_eq!(r.http.status, 400);
    let ResponseBody::Error(e) = &r.body else {
        panic!()
    };
    assert_eq!(e.error, "invalid_request");
    assert!(e.error_description.as_deref().unwrap().contains("PKCE"));
    assert!(ex.findings.iter().any(|f| f.code == "response.oauth_error"));
    assert!(!ex.is_success());
}

#[tokio::test]
async fn wrong_audience_is_refused_by_the_server() {
    let (server, issuer) = start_token_server().await;
    let mut p = profile(&issuer);
    p.auth.aud = token_inspector::storage::profile::AudienceChoice::TokenEndpoint;
    let verifier = PkceVerifier::generate();
    let model = request::build_token_request(
        &p,
        &secrets(),
        &code_grant(&verifier),
        &RequestOptions::default(),
    )
    .unwrap();
    let ex = exchange::run(&transport(), model, &ExchangeContext::default()).await;
    assert_eq!(ex.response().unwrap().http.status, 400);
    let seen = server.seen.lock().unwrap();
    assert!(seen[0].verdict.as_ref().unwrap_err().contains("aud"));
}

#[tokio::test]
async fn refused_connection_has_its_own_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let model = public_client_request(&format!("http://{addr}"));
    let ex = exchange::run(&transport(), model, &ExchangeContext::default()).await;
    match ex.outcome {
        Err(SendError::Refused(a)) => assert_eq!(a, addr.to_string()),
        other => panic!("expected refused, got {other:?}"),
    }
}

#[tokio::test]
async fn slow_server_times_out_with_a_plain_message() {
    let router = Router::new().route(
        "/token",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }),
    );
    let addr = start(router).await;
    let model = public_client_request(&format!("http://{addr}"));
    let t = Transport::new(TransportConfig {
        timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_millis(500),
        ..TransportConfig::default()
    })
    .unwrap();
    let ex = exchange::run(&t, model, &ExchangeContext::default()).await;
    match &ex.outcome {
        Err(e @ SendError::Timeout(1, _)) => assert!(e.to_string().contains("slow")),
        other => panic!("expected a total timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn non_json_and_oversized_bodies_are_kept_and_cut() {
    let router = Router::new()
        .route(
            "/html",
            post(|| async { (StatusCode::BAD_GATEWAY, "<html>upstream down</html>") }),
        )
        .route(
            "/big",
            post(|| async {
                let body = vec![b'a'; 11 * 1024 * 1024];
                (StatusCode::OK, body)
            }),
        );
    let addr = start(router).await;
    let mut p = profile(&format!("http://{addr}"));
    p.auth.method = token_inspector::storage::profile::AuthMethod::None;
    p.endpoints.token = Some(format!("http://{addr}/html"));
    let build = |p: &Profile| {
        request::build_token_request(
            p,
            &ClientSecrets::default(),
            &Grant::ClientCredentials,
            &RequestOptions::default(),
        )
        .unwrap()
    };
    let ex = exchange::run(&transport(), build(&p), &ExchangeContext::default()).await;
    let r = ex.response().unwrap();
    assert_eq!(r.http.status, 502);
    assert_eq!(
        r.body,
        ResponseBody::Text("<html>upstream down</html>".into())
    );
    assert!(ex.findings.iter().any(|f| f.code == "response.not_json"));

    p.endpoints.token = Some(format!("http://{addr}/big"));
    let ex = exchange::run(&transport(), build(&p), &ExchangeContext::default()).await;
    let r = ex.response().unwrap();
    assert!(r.http.truncated);
    assert_eq!(r.http.body.len(), 10 * 1024 * 1024);
    assert!(ex.findings.iter().any(|f| f.code == "response.truncated"));
}

/// Header names and values as a server saw them, without the ones each client derives
/// from the URL and body (host, content-length).
fn comparable_headers(seen: &Seen) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = seen
        .headers
        .iter()
        .filter(|(n, _)| n != "host" && n != "content-length")
        .cloned()
        .collect();
    h.sort();
    h
}

#[tokio::test]
async fn curl_export_sends_the_same_request_as_the_direct_send() {
    let (server, issuer) = start_token_server().await;
    let verifier = PkceVerifier::generate();
    *server.expected_challenge.lock().unwrap() = Some(verifier.challenge_s256());
    let mut p = profile(&issuer);
    // A value that needs shell quoting and percent-encoding.
    p.headers
        .push(token_inspector::storage::profile::ExtraHeader {
            name: "x-note".into(),
            value: "it's $HOME & \"quoted\"".into(),
            ..Default::default()
        });
    let model = request::build_token_request(
        &p,
        &secrets(),
        &code_grant(&verifier),
        &RequestOptions {
            scope: Some("accounts openid ü+/=&".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let command = render::curl(&model, Redaction::None);
    let ex = exchange::run(&transport(), model.clone(), &ExchangeContext::default()).await;
    assert_eq!(ex.response().unwrap().http.status, 200);

    let output = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&command)
        .output()
        .await
        .expect("bash runs");
    assert!(output.status.success(), "curl failed: {output:?}");
    let printed: Value =
        serde_json::from_slice(&output.stdout).expect("curl printed the JSON body");
    assert!(printed["access_token"].is_string());

    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].verdict, Ok(()), "curl's request was refused");
    assert_eq!(seen[0].body, seen[1].body, "bodies differ");
    assert_eq!(comparable_headers(&seen[0]), comparable_headers(&seen[1]));
}

#[tokio::test]
async fn redacted_curl_runs_once_the_variables_are_set() {
    let (server, issuer) = start_token_server().await;
    let verifier = PkceVerifier::generate();
    let model = code_request(&issuer, &verifier);
    let command = render::curl(&model, Redaction::Redacted);
    assert!(!command.contains(model.param("client_assertion").unwrap()));
    assert!(!command.contains(verifier.as_str()));
    assert!(!command.contains(model.param("code").unwrap()));
    let output = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&command)
        .env("CLIENT_ASSERTION", model.param("client_assertion").unwrap())
        .env("CODE_VERIFIER", verifier.as_str())
        .env("CODE", model.param("code").unwrap())
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen[0].body, model.body().into_bytes());
}

#[tokio::test]
async fn refresh_token_grant_marks_the_token_secret() {
    let (_server, issuer) = start_token_server().await;
    let model = request::build_token_request(
        &profile(&issuer),
        &secrets(),
        &Grant::RefreshToken {
            refresh_token: Secret::new("2885e6a3-1486-4aa5-839f-ff879ba8a79a"),
        },
        &RequestOptions::default(),
    )
    .unwrap();
    let redacted = render::curl(&model, Redaction::Redacted);
    assert!(!redacted.contains("2885e6a3"));
    assert!(redacted.contains("${REFRESH_TOKEN}"));
}

#[tokio::test]
async fn unresolvable_host_is_a_dns_error() {
    let model = public_client_request("https://token-inspector-test.invalid");
    let ex = exchange::run(&transport(), model, &ExchangeContext::default()).await;
    match &ex.outcome {
        Err(e @ SendError::Dns(host)) => {
            assert_eq!(host, "token-inspector-test.invalid");
            assert!(e.to_string().contains("DNS"));
        }
        other => panic!("expected a DNS error, got {other:?}"),
    }
}

/// A loopback listener that never accepts, with its backlog filled: the next connection
/// attempt gets no SYN-ACK, so the connect timeout fires (no traffic leaves the machine).
#[tokio::test]
async fn unanswered_connect_is_a_connect_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let _listener = socket.listen(0).unwrap();
    // Fill the accept queue (never accepted) so further SYNs are dropped.
    let mut held = Vec::new();
    for _ in 0..8 {
        match tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => held.push(s),
            _ => break,
        }
    }
    let model = public_client_request(&format!("http://{addr}"));
    let t = Transport::new(TransportConfig {
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_secs(5),
        ..TransportConfig::default()
    })
    .unwrap();
    let ex = exchange::run(&t, model, &ExchangeContext::default()).await;
    match &ex.outcome {
        Err(e @ SendError::ConnectTimeout(..)) => {
            assert!(e.to_string().contains("could not connect"))
        }
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    drop(held);
}
