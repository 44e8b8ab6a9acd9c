//! Integration tests of the embedded sandbox (issue 3), over loopback only.
//!
//! The client here is written independently of the crate's own client: raw reqwest
//! form posts, client assertions built from JSON and signed with
//! `jsonwebtoken::crypto::sign`, PKCE computed with sha2. So passing tests show the
//! sandbox follows the RFCs, not merely our client.
//!
//! The load test is a separate client process: `examples/sandbox_load.rs`.

use std::sync::OnceLock;
use std::time::Duration;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use token_inspector::sandbox::{ClientRegistration, Sandbox, SandboxConfig, SandboxHandle};
use token_inspector::secret::Secret;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const CONSENT_TYPE: &str = "urn:openfinance-ml:account-access-consent:v1.2";
const REDIRECT_URI: &str = "https://tpp.example/cb";

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// One RSA key for the whole test process (2048-bit generation is slow in debug).
fn rsa_pem(slot: usize) -> &'static str {
    static KEYS: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    KEYS[slot].get_or_init(|| {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA keygen");
        key.to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 PEM")
            .as_str()
            .to_owned()
    })
}

/// A client with its own signing key, independent of the crate's key handling.
struct TestClient {
    id: String,
    kid: String,
    alg: Algorithm,
    alg_name: &'static str,
    key: EncodingKey,
    jwks: Value,
}

impl TestClient {
    fn ed25519(id: &str) -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8v1(&rng).expect("Ed25519 keygen");
        let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).expect("Ed25519 parse");
        let x = b64(pair.public_key().as_ref());
        let kid = format!("ed-{}", &x[..8]);
        Self {
            id: id.into(),
            jwks: json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig"}]}),
            kid,
            alg: Algorithm::EdDSA,
            alg_name: "EdDSA",
            key: EncodingKey::from_ed_der(doc.as_ref()),
        }
    }

    fn es256(id: &str) -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("keygen");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
            .expect("EC parse");
        let point = pair.public_key().as_ref().to_vec();
        assert_eq!(point.len(), 65, "uncompressed P-256 point");
        let kid = format!("ec-{}", b64(&point[1..7]));
        Self {
            id: id.into(),
            jwks: json!({"keys": [{"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]),
                "y": b64(&point[33..]), "kid": kid, "use": "sig", "alg": "ES256"}]}),
            kid,
            alg: Algorithm::ES256,
            alg_name: "ES256",
            key: EncodingKey::from_ec_der(doc.as_ref()),
        }
    }

    /// An RSA client signing with `alg` (PS256, or RS256 to test the refusal).
    fn rsa(id: &str, alg: Algorithm, alg_name: &'static str) -> Self {
        let key = EncodingKey::from_rsa_pem(rsa_pem(1).as_bytes()).expect("RSA PEM");
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::PS256).expect("jwk");
        let full = serde_json::to_value(&jwk).expect("jwk json");
        let kid = "rsa-test-key".to_owned();
        Self {
            id: id.into(),
            jwks: json!({"keys": [{"kty": "RSA", "n": full["n"], "e": full["e"], "kid": kid, "use": "sig"}]}),
            kid,
            alg,
            alg_name,
            key,
        }
    }

    fn registration(&self) -> ClientRegistration {
        ClientRegistration {
            client_id: self.id.clone(),
            jwks: self.jwks.clone(),
            redirect_uris: vec![REDIRECT_URI.into()],
        }
    }

    /// Signs any header and claims exactly as given.
    fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(serde_json::to_vec(header).expect("header")),
            b64(serde_json::to_vec(claims).expect("claims"))
        );
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &self.key, self.alg).expect("sign");
        format!("{input}.{sig}")
    }

    fn claims(&self, aud: &str) -> Value {
        let t = now().floor();
        json!({
            "iss": self.id, "sub": self.id, "aud": aud,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": t, "exp": t + 300.0,
        })
    }

    fn assertion_with(&self, claims: &Value) -> String {
        self.sign_raw(&json!({"alg": self.alg_name, "kid": self.kid}), claims)
    }

    fn assertion(&self, aud: &str) -> String {
        self.assertion_with(&self.claims(aud))
    }
}

struct Env {
    sandbox: SandboxHandle,
    http: reqwest::Client,
    client: TestClient,
}

async fn start(mut config: SandboxConfig, client: TestClient) -> Env {
    config.signing_key_pem = Some(Secret::new(rsa_pem(0)));
    config.clients.push(client.registration());
    let sandbox = Sandbox::start(config).await.expect("sandbox starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    Env {
        sandbox,
        http,
        client,
    }
}

async fn env() -> Env {
    start(SandboxConfig::default(), TestClient::ed25519("tpp-ed")).await
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

impl Answer {
    fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or_default()
    }
    fn description(&self) -> &str {
        self.json["error_description"].as_str().unwrap_or_default()
    }
    /// Asserts a refusal: status, error code and a word of the description.
    fn refused(&self, status: u16, error: &str, word: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.json);
        assert_eq!(self.error(), error, "{:?}", self.json);
        assert!(
            self.description().contains(word),
            "description {:?} lacks {word:?}",
            self.description()
        );
    }
}

impl Env {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.issuer())
    }

    fn authorize_url(&self, pairs: &[(&str, &str)]) -> String {
        let mut url = url::Url::parse(&self.url("/authorize")).expect("url");
        url.query_pairs_mut().extend_pairs(pairs);
        url.to_string()
    }

    async fn post_form(&self, path: &str, form: &[(&str, String)]) -> Answer {
        let response = self
            .http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            json,
        }
    }

    /// Form fields of private_key_jwt client authentication with this assertion.
    fn auth(&self, assertion: String) -> Vec<(&'static str, String)> {
        vec![
            ("client_assertion_type", JWT_BEARER.into()),
            ("client_assertion", assertion),
        ]
    }

    async fn client_credentials(&self, assertion: String) -> Answer {
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("scope", "accounts".into()),
        ];
        form.extend(self.auth(assertion));
        self.post_form("/token", &form).await
    }

    /// PAR with the given PKCE method; returns the answer.
    async fn par(&self, challenge: &str, method: &str, state: &str) -> Answer {
        let details = json!([{
            "type": CONSENT_TYPE,
            "consent": {
                "permissions": ["read_accounts", "read_balances"],
                "consent_purpose": "pfm",
                "expiration_datetime": "2030-11-30T23:59:59Z"
            }
        }]);
        let mut form = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client.id.clone()),
            ("redirect_uri", REDIRECT_URI.into()),
            ("scope", "openid accounts".into()),
            ("state", state.into()),
            ("nonce", "n-0S6_WzA2Mj".into()),
            ("code_challenge", challenge.into()),
            ("code_challenge_method", method.into()),
            ("authorization_details", details.to_string()),
        ];
        form.extend(self.auth(self.client.assertion(self.sandbox.issuer())));
        self.post_form("/par", &form).await
    }

    /// PAR + auto-approved authorize: returns (code, code_verifier, redirect query).
    async fn code(&self) -> (String, String, Vec<(String, String)>) {
        let verifier = format!("{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let challenge = b64(Sha256::digest(verifier.as_bytes()));
        let par = self.par(&challenge, "S256", "st-123").await;
        assert_eq!(par.status, StatusCode::CREATED, "{:?}", par.json);
        let request_uri = par.json["request_uri"].as_str().expect("request_uri");
        let response = self
            .http
            .get(self.authorize_url(&[
                ("client_id", self.client.id.as_str()),
                ("request_uri", request_uri),
                ("auto_approve", "true"),
            ]))
            .send()
            .await
            .expect("authorize");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let query = redirect_query(response.headers());
        let code = find(&query, "code").expect("code in redirect");
        (code, verifier, query)
    }

    async fn exchange_code(&self, code: &str, redirect_uri: &str, verifier: &str) -> Answer {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.into()),
            ("redirect_uri", redirect_uri.into()),
            ("code_verifier", verifier.into()),
            ("scope", "accounts".into()),
        ];
        form.extend(self.auth(self.client.assertion(self.sandbox.issuer())));
        self.post_form("/token", &form).await
    }

    async fn refresh(&self, refresh_token: &str) -> Answer {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.into()),
        ];
        form.extend(self.auth(self.client.assertion(self.sandbox.issuer())));
        self.post_form("/token", &form).await
    }

    async fn introspect(&self, token: &str) -> Answer {
        let mut form = vec![("token", token.to_owned())];
        form.extend(self.auth(self.client.assertion(self.sandbox.issuer())));
        self.post_form("/introspect", &form).await
    }
}

fn redirect_query(headers: &HeaderMap) -> Vec<(String, String)> {
    let location = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location header");
    let url = url::Url::parse(location).expect("absolute Location");
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn find(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

fn half_hash(value: &str) -> String {
    b64(&Sha256::digest(value.as_bytes())[..16])
}

// ------------------------------------------------------------------ the whole flow

#[tokio::test]
async fn whole_flow_with_an_independent_client() {
    let env = start(
        SandboxConfig::default(),
        TestClient::rsa("tpp-ps", Algorithm::PS256, "PS256"),
    )
    .await;
    let issuer = env.sandbox.issuer().to_owned();
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");

    // Discovery.
    let doc: Value = env
        .http
        .get(env.url("/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["issuer"], json!(issuer));
    assert_eq!(doc["token_endpoint"], json!(format!("{issuer}/token")));
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        json!(format!("{issuer}/par"))
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    assert_eq!(
        doc["authorization_response_iss_parameter_supported"],
        json!(true)
    );
    assert_eq!(doc["require_pushed_authorization_requests"], json!(true));

    // JWKS of the sandbox.
    let jwks: Value = env
        .http
        .get(env.url("/jwks"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    let server_jwk = jwks["keys"][0].clone();
    assert_eq!(server_jwk["kty"], json!("RSA"));

    // PAR, authorize (auto-approve), token.
    let (code, verifier, query) = env.code().await;
    assert_eq!(find(&query, "state").as_deref(), Some("st-123"));
    assert_eq!(find(&query, "iss").as_deref(), Some(issuer.as_str()));
    let answer = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    assert!(answer.headers.get("x-fapi-interaction-id").is_some());
    let body = &answer.json;
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "token_type",
            "scope",
            "state",
            "authorization_details",
            "grant_id",
            "refresh_token",
            "id_token"
        ]
    );
    assert_eq!(body["expires_in"], json!(600));
    assert_eq!(body["token_type"], json!("Bearer"));
    assert_eq!(body["state"], json!("st-123"));
    assert_eq!(body["scope"], json!("openid accounts profile"));
    let detail = &body["authorization_details"][0];
    assert_eq!(detail["type"], json!(CONSENT_TYPE));
    let consent = &detail["consent"];
    assert_eq!(consent["status"], json!("authorized"));
    assert_eq!(consent["consent_type"], json!(CONSENT_TYPE));
    assert_eq!(
        consent["permissions"],
        json!(["read_accounts", "read_balances"])
    );
    assert_eq!(
        consent["expiration_datetime"],
        json!("2030-11-30T23:59:59Z")
    );
    assert_eq!(consent["updated_by"], json!("data_provider_user"));
    assert_eq!(consent["consent_id"], body["grant_id"]);
    assert_eq!(
        consent["accounts"][0]["account_name"],
        json!("Greenbank Current Account")
    );
    assert_eq!(consent["accounts"].as_array().map(Vec::len), Some(3));

    // id_token: PS256 with the sandbox key, the seed's claims and the OIDC hashes.
    let access_token = body["access_token"].as_str().expect("access_token");
    let id_token = body["id_token"].as_str().expect("id_token");
    let header = decode_part(id_token, 0);
    assert_eq!(header["alg"], json!("PS256"));
    assert_eq!(header["kid"], server_jwk["kid"]);
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(server_jwk).expect("jwk");
    let (input, sig) = id_token.rsplit_once('.').expect("jws");
    assert!(
        jsonwebtoken::crypto::verify(
            sig,
            input.as_bytes(),
            &jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("key"),
            Algorithm::PS256
        )
        .expect("verify")
    );
    let claims = decode_part(id_token, 1);
    assert_eq!(claims["sub"], json!("202"));
    assert_eq!(claims["name"], json!("Mr. Mitsu Hirato"));
    assert_eq!(claims["amr"], json!("mock"));
    assert_eq!(claims["email_verified"], json!("true"));
    assert_eq!(claims["iss"], json!(issuer));
    assert_eq!(claims["aud"], json!("tpp-ps"));
    assert_eq!(claims["azp"], json!("tpp-ps"));
    assert_eq!(claims["nonce"], json!("n-0S6_WzA2Mj"));
    assert_eq!(claims["at_hash"], json!(half_hash(access_token)));
    assert_eq!(claims["c_hash"], json!(half_hash(&code)));
    assert!(claims["exp"].as_i64() > claims["iat"].as_i64());

    // userinfo.
    let info: Value = env
        .http
        .get(env.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(info["sub"], json!("202"));
    assert_eq!(info["email"], json!("mits@m2.com"));

    // introspect.
    let intro = env.introspect(access_token).await;
    assert_eq!(intro.json["active"], json!(true));
    assert_eq!(intro.json["client_id"], json!("tpp-ps"));
    assert_eq!(intro.json["sub"], json!("202"));

    // refresh: not rotated by default, the same refresh token comes back.
    let refresh_token = body["refresh_token"].as_str().expect("refresh_token");
    let refreshed = env.refresh(refresh_token).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{:?}", refreshed.json);
    assert_eq!(refreshed.json["refresh_token"], json!(refresh_token));
    assert_ne!(refreshed.json["access_token"], json!(access_token));
    assert_eq!(refreshed.json["grant_id"], body["grant_id"]);

    // revoke the refresh token: it and the grant's access tokens become inactive.
    let mut form = vec![
        ("token", refresh_token.to_owned()),
        ("token_type_hint", "refresh_token".into()),
    ];
    form.extend(env.auth(env.client.assertion(&issuer)));
    let revoked = env.post_form("/revoke", &form).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        env.introspect(refresh_token).await.json,
        json!({"active": false})
    );
    assert_eq!(
        env.introspect(access_token).await.json,
        json!({"active": false})
    );
    let again = env.refresh(refresh_token).await;
    again.refused(400, "invalid_grant", "revoked");

    // The log names every request, the client and no secrets.
    let log = env.sandbox.log();
    assert!(log.iter().any(|e| e.path == "/par" && e.status == 201));
    assert!(log.iter().any(|e| e.path == "/token"
        && e.status == 200
        && e.client_id.as_deref() == Some("tpp-ps")));
    assert!(log.iter().all(|e| e.interaction_id.is_some()));
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn dynamic_registration_then_token() {
    let env = env().await;
    let newcomer = TestClient::es256("ignored");
    let response = env
        .http
        .post(env.url("/register"))
        .json(&json!({"jwks": newcomer.jwks, "redirect_uris": ["https://new.example/cb"]}))
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    let client_id = body["client_id"].as_str().expect("client_id").to_owned();
    assert_eq!(body["token_endpoint_auth_method"], json!("private_key_jwt"));
    let registered = TestClient {
        id: client_id.clone(),
        ..newcomer
    };
    let answer = env
        .client_credentials(registered.assertion(env.sandbox.issuer()))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    assert_eq!(answer.json["token_type"], json!("Bearer"));

    // The same client_id again, and a private key in jwks, are refused.
    let again = env
        .http
        .post(env.url("/register"))
        .json(&json!({"client_id": client_id, "jwks": registered.jwks}))
        .send()
        .await
        .expect("register");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["error"], json!("invalid_client_metadata"));
    let private = env
        .http
        .post(env.url("/register"))
        .json(&json!({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}))
        .send()
        .await
        .expect("register");
    let private: Value = private.json().await.expect("json");
    assert_eq!(private["error"], json!("invalid_client_metadata"));
}

#[tokio::test]
async fn consent_page_approve_with_one_account_and_deny() {
    let env = env().await;
    let verifier = "a".repeat(43);
    let challenge = b64(Sha256::digest(verifier.as_bytes()));
    let par = env.par(&challenge, "S256", "s1").await;
    let request_uri = par.json["request_uri"]
        .as_str()
        .expect("request_uri")
        .to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(par.json["expires_in"], json!(90));
    let page = env
        .http
        .get(env.authorize_url(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", &request_uri),
        ]))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("Approve") && html.contains("Greenbank Savings Account"));

    let approve = env
        .http
        .post(env.url("/authorize"))
        .form(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", &request_uri),
            ("user", "202"),
            ("account", "100004000000000000000002"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .expect("approve");
    assert_eq!(approve.status(), StatusCode::SEE_OTHER);
    let query = redirect_query(approve.headers());
    let code = find(&query, "code").expect("code");
    let answer = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    let accounts = &answer.json["authorization_details"][0]["consent"]["accounts"];
    assert_eq!(
        accounts,
        &json!([{"account_id": "100004000000000000000002", "account_number": "10000002",
            "account_name": "Greenbank Savings Account"}])
    );

    // Deny: access_denied with state and iss on the redirect.
    let par = env.par(&challenge, "S256", "s2").await;
    let request_uri = par.json["request_uri"]
        .as_str()
        .expect("request_uri")
        .to_owned();
    let deny = env
        .http
        .post(env.url("/authorize"))
        .form(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", &request_uri),
            ("decision", "deny"),
        ])
        .send()
        .await
        .expect("deny");
    let query = redirect_query(deny.headers());
    assert_eq!(find(&query, "error").as_deref(), Some("access_denied"));
    assert_eq!(find(&query, "state").as_deref(), Some("s2"));
    assert_eq!(find(&query, "iss").as_deref(), Some(env.sandbox.issuer()));
    // The request_uri is single-use.
    let reuse = env
        .http
        .get(env.authorize_url(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", &request_uri),
        ]))
        .send()
        .await
        .expect("page");
    assert_eq!(reuse.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn es256_and_fractional_numeric_dates_are_accepted() {
    let env = start(SandboxConfig::default(), TestClient::es256("tpp-ec")).await;
    let t = now().floor();
    // The seed's shape: fractional NumericDates, 310 s apart.
    let claims = json!({
        "aud": env.sandbox.issuer(), "exp": t + 300.739, "iss": "tpp-ec", "sub": "tpp-ec",
        "jti": uuid::Uuid::new_v4().to_string(), "iat": t - 9.261
    });
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    assert_eq!(answer.json["expires_in"], json!(600));
    // client_credentials tokens have no user: userinfo says so.
    let token = answer.json["access_token"].as_str().expect("token");
    let info = env
        .http
        .get(env.url("/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .expect("userinfo");
    assert_eq!(info.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn par_accepts_a_signed_request_object() {
    let env = env().await;
    let issuer = env.sandbox.issuer().to_owned();
    let verifier = "d".repeat(64);
    let t = now().floor();
    let request_claims = json!({
        "iss": env.client.id, "aud": issuer, "client_id": env.client.id,
        "response_type": "code", "redirect_uri": REDIRECT_URI, "scope": "openid accounts",
        "state": "ro-state", "nonce": "ro-nonce",
        "code_challenge": b64(Sha256::digest(verifier.as_bytes())),
        "code_challenge_method": "S256",
        "authorization_details": [{"type": CONSENT_TYPE, "consent": {"permissions": ["read_balances"]}}],
        "nbf": t, "exp": t + 300.0, "jti": uuid::Uuid::new_v4().to_string(),
    });
    let request = env.client.sign_raw(
        &json!({"alg": env.client.alg_name, "kid": env.client.kid, "typ": "oauth-authz-req+jwt"}),
        &request_claims,
    );
    let mut form = vec![("client_id", env.client.id.clone()), ("request", request)];
    form.extend(env.auth(env.client.assertion(&issuer)));
    let par = env.post_form("/par", &form).await;
    assert_eq!(par.status, StatusCode::CREATED, "{:?}", par.json);
    let request_uri = par.json["request_uri"].as_str().expect("request_uri");
    let response = env
        .http
        .get(env.authorize_url(&[
            ("client_id", env.client.id.as_str()),
            ("request_uri", request_uri),
            ("auto_approve", "true"),
        ]))
        .send()
        .await
        .expect("authorize");
    let query = redirect_query(response.headers());
    assert_eq!(find(&query, "state").as_deref(), Some("ro-state"));
    let code = find(&query, "code").expect("code");
    let answer = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
    assert_eq!(
        answer.json["authorization_details"][0]["consent"]["permissions"],
        json!(["read_balances"])
    );

    // A request object with a lifetime over 60 minutes is refused.
    let mut long = request_claims.clone();
    long["exp"] = json!(t + 4000.0);
    let request = env.client.assertion_with(&long);
    let mut form = vec![("client_id", env.client.id.clone()), ("request", request)];
    form.extend(env.auth(env.client.assertion(&issuer)));
    env.post_form("/par", &form)
        .await
        .refused(400, "invalid_request_object", "60 min");
}

#[tokio::test]
async fn userinfo_and_revoke_refuse_what_they_should() {
    let env = env().await;
    let info = env
        .http
        .get(env.url("/userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("userinfo");
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    let challenge = info
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\""),
        "{challenge}"
    );

    // Another client cannot revoke this client's token.
    let token = env
        .client_credentials(env.client.assertion(env.sandbox.issuer()))
        .await;
    let access_token = token.json["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let other = TestClient::es256("other");
    env.sandbox.register_client(other.registration());
    let mut form = vec![("token", access_token.clone())];
    form.extend(env.auth(other.assertion(env.sandbox.issuer())));
    env.post_form("/revoke", &form)
        .await
        .refused(400, "unauthorized_client", "another client");
    assert_eq!(
        env.introspect(&access_token).await.json["active"],
        json!(true)
    );
}

// ------------------------------------------------------------------ refusals

#[tokio::test]
async fn refuses_a_bad_signature() {
    let env = env().await;
    let good = env.client.assertion(env.sandbox.issuer());
    let other = TestClient::ed25519("tpp-ed");
    let forged = TestClient {
        kid: env.client.kid.clone(),
        ..other
    };
    let answer = env
        .client_credentials(forged.assertion(env.sandbox.issuer()))
        .await;
    answer.refused(401, "invalid_client", "signature does not verify");
    // A tampered payload with the original signature fails too.
    let mut parts: Vec<&str> = good.split('.').collect();
    let tampered_claims = b64(br#"{"iss":"tpp-ed","sub":"tpp-ed"}"#);
    parts[1] = &tampered_claims;
    let answer = env.client_credentials(parts.join(".")).await;
    answer.refused(401, "invalid_client", "signature");
    let entry = env.sandbox.log().into_iter().last().expect("log entry");
    assert_eq!(entry.error.as_deref(), Some("invalid_client"));
    assert!(entry.reason.unwrap_or_default().contains("signature"));
}

#[tokio::test]
async fn refuses_rs256() {
    let client = TestClient::rsa("tpp-rs", Algorithm::RS256, "RS256");
    let env = start(SandboxConfig::default(), client).await;
    let answer = env
        .client_credentials(env.client.assertion(env.sandbox.issuer()))
        .await;
    answer.refused(401, "invalid_client", "RS256");
}

#[tokio::test]
async fn refuses_alg_none() {
    let env = env().await;
    let claims = env.client.claims(env.sandbox.issuer());
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(serde_json::to_vec(&claims).expect("json"))
    );
    let answer = env.client_credentials(unsigned).await;
    answer.refused(401, "invalid_client", "none");
}

#[tokio::test]
async fn refuses_iss_different_from_sub() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["sub"] = json!("someone-else");
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "differ");
}

#[tokio::test]
async fn refuses_a_wrong_aud() {
    let env = env().await;
    let answer = env
        .client_credentials(
            env.client
                .assertion("https://auth1.sandbox.mya.ozoneapi.io"),
        )
        .await;
    answer.refused(401, "invalid_client", "not the issuer");
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["aud"] = json!([env.sandbox.issuer()]);
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "array");
    let slash = format!("{}/", env.sandbox.issuer());
    let answer = env.client_credentials(env.client.assertion(&slash)).await;
    answer.refused(401, "invalid_client", "trailing slash");
}

#[tokio::test]
async fn token_endpoint_aud_is_refused_unless_lenient() {
    let env = env().await;
    let token_url = env.url("/token");
    let answer = env
        .client_credentials(env.client.assertion(&token_url))
        .await;
    answer.refused(401, "invalid_client", "lenient-aud");

    let lenient = start(
        SandboxConfig {
            lenient_aud: true,
            ..SandboxConfig::default()
        },
        TestClient::ed25519("tpp-ed"),
    )
    .await;
    let token_url = lenient.url("/token");
    let answer = lenient
        .client_credentials(lenient.client.assertion(&token_url))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
}

#[tokio::test]
async fn refuses_a_missing_exp() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims.as_object_mut().expect("object").remove("exp");
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "no exp");
}

#[tokio::test]
async fn refuses_an_exp_too_far_after_iat() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["exp"] = json!(now().floor() + 3700.0);
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "too long");
}

#[tokio::test]
async fn refuses_an_expired_assertion() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["iat"] = json!(now() - 400.0);
    claims["exp"] = json!(now() - 100.5);
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "expired");
}

#[tokio::test]
async fn refuses_an_assertion_not_yet_valid() {
    let env = env().await;
    let mut claims = env.client.claims(env.sandbox.issuer());
    claims["nbf"] = json!(now() + 120.0);
    let answer = env
        .client_credentials(env.client.assertion_with(&claims))
        .await;
    answer.refused(401, "invalid_client", "nbf");
}

#[tokio::test]
async fn refuses_a_replayed_jti() {
    let env = env().await;
    let assertion = env.client.assertion(env.sandbox.issuer());
    let first = env.client_credentials(assertion.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    let replay = env.client_credentials(assertion).await;
    replay.refused(401, "invalid_client", "replay");
}

#[tokio::test]
async fn refuses_an_unknown_client() {
    let env = env().await;
    let stranger = TestClient::ed25519("nobody");
    let answer = env
        .client_credentials(stranger.assertion(env.sandbox.issuer()))
        .await;
    answer.refused(401, "invalid_client", "unknown client");
    // No client authentication at all.
    let answer = env
        .post_form("/token", &[("grant_type", "client_credentials".into())])
        .await;
    answer.refused(401, "invalid_client", "client_assertion");
}

#[tokio::test]
async fn refuses_pkce_plain() {
    let env = env().await;
    let verifier = "b".repeat(43);
    let answer = env.par(&verifier, "plain", "s").await;
    answer.refused(400, "invalid_request", "plain");
}

#[tokio::test]
async fn refuses_a_wrong_code_verifier() {
    let env = env().await;
    let (code, _verifier, _) = env.code().await;
    let wrong = "c".repeat(50);
    let answer = env.exchange_code(&code, REDIRECT_URI, &wrong).await;
    answer.refused(400, "invalid_grant", "code_verifier");
}

#[tokio::test]
async fn code_reuse_is_refused_and_revokes_the_tokens() {
    let env = env().await;
    let (code, verifier, _) = env.code().await;
    let first = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    let access_token = first.json["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(
        env.introspect(&access_token).await.json["active"],
        json!(true)
    );
    let second = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    second.refused(400, "invalid_grant", "already used");
    assert_eq!(
        env.introspect(&access_token).await.json,
        json!({"active": false})
    );
    let refresh_token = first.json["refresh_token"].as_str().expect("refresh");
    env.refresh(refresh_token)
        .await
        .refused(400, "invalid_grant", "revoked");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let env = start(
        SandboxConfig {
            code_lifetime: Duration::ZERO,
            ..SandboxConfig::default()
        },
        TestClient::ed25519("tpp-ed"),
    )
    .await;
    let (code, verifier, _) = env.code().await;
    let answer = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    answer.refused(400, "invalid_grant", "expired");
}

#[tokio::test]
async fn refuses_a_redirect_uri_mismatch() {
    let env = env().await;
    let (code, verifier, _) = env.code().await;
    let answer = env
        .exchange_code(&code, "https://tpp.example/other", &verifier)
        .await;
    answer.refused(400, "invalid_grant", "redirect_uri");
}

#[tokio::test]
async fn refuses_an_unknown_grant_type() {
    let env = env().await;
    let mut form = vec![("grant_type", "password".to_owned())];
    form.extend(env.auth(env.client.assertion(env.sandbox.issuer())));
    let answer = env.post_form("/token", &form).await;
    answer.refused(400, "unsupported_grant_type", "password");
}

#[tokio::test]
async fn names_a_missing_parameter() {
    let env = env().await;
    let (code, _, _) = env.code().await;
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code),
        ("redirect_uri", REDIRECT_URI.into()),
    ];
    form.extend(env.auth(env.client.assertion(env.sandbox.issuer())));
    let answer = env.post_form("/token", &form).await;
    answer.refused(400, "invalid_request", "missing parameter: code_verifier");

    let mut form = vec![("scope", "accounts".to_owned())];
    form.extend(env.auth(env.client.assertion(env.sandbox.issuer())));
    let answer = env.post_form("/token", &form).await;
    answer.refused(400, "invalid_request", "missing parameter: grant_type");
}

#[tokio::test]
async fn refresh_tokens_are_not_rotated_by_default() {
    let env = env().await;
    let (code, verifier, _) = env.code().await;
    let first = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    let refresh_token = first.json["refresh_token"].as_str().expect("refresh");
    for _ in 0..2 {
        let answer = env.refresh(refresh_token).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
        assert_eq!(answer.json["refresh_token"], json!(refresh_token));
    }
}

#[tokio::test]
async fn rotated_refresh_tokens_are_refused_after_use() {
    let env = start(
        SandboxConfig {
            rotate_refresh_tokens: true,
            ..SandboxConfig::default()
        },
        TestClient::ed25519("tpp-ed"),
    )
    .await;
    let (code, verifier, _) = env.code().await;
    let first = env.exchange_code(&code, REDIRECT_URI, &verifier).await;
    let old = first.json["refresh_token"].as_str().expect("refresh");
    let rotated = env.refresh(old).await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.json);
    let new = rotated.json["refresh_token"].as_str().expect("new refresh");
    assert_ne!(new, old);
    env.refresh(old)
        .await
        .refused(400, "invalid_grant", "already used");
    let newest = env.refresh(new).await;
    assert_eq!(newest.status, StatusCode::OK, "{:?}", newest.json);
}

#[tokio::test]
async fn interaction_id_is_echoed_or_created() {
    let env = env().await;
    let sent = "968bed68-6694-44a8-8daa-b955bb4d1283";
    let response = env
        .http
        .get(env.url("/.well-known/openid-configuration"))
        .header("x-fapi-interaction-id", sent)
        .send()
        .await
        .expect("discovery");
    assert_eq!(
        response
            .headers()
            .get("x-fapi-interaction-id")
            .map(|v| v.as_bytes()),
        Some(sent.as_bytes())
    );
    // An error answer echoes it too.
    let refused = env
        .http
        .post(env.url("/token"))
        .header("x-fapi-interaction-id", sent)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused
            .headers()
            .get("x-fapi-interaction-id")
            .map(|v| v.as_bytes()),
        Some(sent.as_bytes())
    );
    let created = env.http.get(env.url("/jwks")).send().await.expect("jwks");
    let id = created
        .headers()
        .get("x-fapi-interaction-id")
        .and_then(|v| v.to_str().ok())
        .expect("created id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_ne!(id, sent);
    let logged = env.sandbox.log();
    assert!(
        logged
            .iter()
            .any(|e| e.interaction_id.as_deref() == Some(id))
    );
}

#[tokio::test]
async fn parallel_sandboxes_are_independent() {
    let (a, b) = tokio::join!(env(), env());
    assert_ne!(a.sandbox.addr(), b.sandbox.addr());
    // a's key is unknown to b (b registered another key under the same client id).
    let answer = b
        .client_credentials(a.client.assertion(b.sandbox.issuer()))
        .await;
    answer.refused(401, "invalid_client", "no key with kid");
    let ok = a
        .client_credentials(a.client.assertion(a.sandbox.issuer()))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

// ------------------------------------------------------------------ mutual TLS

#[tokio::test]
async fn mutual_tls_binds_tokens_to_the_client_certificate() {
    let client = TestClient::ed25519("tpp-mtls");
    let config = SandboxConfig {
        signing_key_pem: Some(Secret::new(rsa_pem(0))),
        clients: vec![client.registration()],
        tls: Some(token_inspector::sandbox::TlsOptions {
            require_client_cert: true,
            ..Default::default()
        }),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.expect("TLS sandbox starts");
    let issuer = sandbox.issuer().to_owned();
    assert!(issuer.starts_with("https://127.0.0.1:"), "{issuer}");
    let ca = sandbox.ca_pem().expect("generated CA");

    // A self-signed client certificate (self_signed_tls_client_auth).
    let cert_key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["tpp.example".to_owned()])
        .expect("params")
        .self_signed(&cert_key)
        .expect("cert");
    let identity = format!("{}{}", cert.pem(), cert_key.serialize_pem());
    let expected_x5t = b64(Sha256::digest(cert.der().as_ref()));
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA")])
        .identity(reqwest::Identity::from_pem(identity.as_bytes()).expect("identity"))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");

    let doc: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery over mTLS")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["issuer"], json!(issuer));
    assert_eq!(
        doc["tls_client_certificate_bound_access_tokens"],
        json!(true)
    );
    assert_eq!(
        doc["mtls_endpoint_aliases"]["token_endpoint"],
        json!(format!("{issuer}/token"))
    );

    let token: Value = http
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &client.assertion(&issuer)),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let access_token = token["access_token"].as_str().expect("access_token");
    let intro: Value = http
        .post(format!("{issuer}/introspect"))
        .form(&[
            ("token", access_token),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &client.assertion(&issuer)),
        ])
        .send()
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json");
    assert_eq!(intro["active"], json!(true));
    assert_eq!(intro["cnf"]["x5t#S256"], json!(expected_x5t));

    // self_signed_tls_client_auth: the certificate alone authenticates the client once
    // it is registered in the client's jwks as x5c (RFC 8705 §2.2).
    let by_cert = || {
        http.post(format!("{issuer}/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "tpp-mtls"),
            ])
            .send()
    };
    let refused = by_cert().await.expect("token");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let point = cert_key.public_key_raw().to_vec();
    assert_eq!(point.len(), 65, "P-256 uncompressed point");
    let mut jwks = client.jwks.clone();
    jwks["keys"].as_array_mut().expect("keys").push(
        json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]),
            "kid": "mtls", "x5c": [base64::engine::general_purpose::STANDARD.encode(cert.der())]}),
    );
    sandbox.register_client(ClientRegistration {
        jwks,
        ..client.registration()
    });
    let accepted = by_cert().await.expect("token");
    assert_eq!(accepted.status(), StatusCode::OK);

    // Without a client certificate the handshake is refused.
    let anonymous = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA")])
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    assert!(
        anonymous
            .get(format!("{issuer}/jwks"))
            .send()
            .await
            .is_err()
    );
    sandbox.shutdown().await;
}

/// DNS rebinding: a request whose Host is another name (a web page's domain resolved to
/// 127.0.0.1) is refused with 421; the issuer's own host and localhost are answered.
#[tokio::test]
async fn only_requests_addressed_to_the_sandbox_are_answered() {
    let env = env().await;
    let issuer = env.sandbox.issuer().to_owned();
    let port = url::Url::parse(&issuer).unwrap().port().unwrap();
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    for (host, status) in [
        (format!("127.0.0.1:{port}"), 200),
        (format!("localhost:{port}"), 200),
        (format!("evil.example:{port}"), 421),
        (format!("127.0.0.1.nip.io:{port}"), 421),
    ] {
        let r = env
            .http
            .get(&discovery)
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{host}");
    }
}

/// A half-sent request does not hold its connection forever: when its headers do not
/// arrive within the header-read timeout, the sandbox closes the connection; a whole
/// request on another connection is answered meanwhile.
#[tokio::test]
async fn a_half_sent_request_is_closed() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let config = SandboxConfig {
        header_read_timeout: Duration::from_millis(500),
        ..SandboxConfig::default()
    };
    let env = start(config, TestClient::ed25519("tpp-ed")).await;
    let addr = env
        .sandbox
        .issuer()
        .trim_start_matches("http://")
        .to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /jwks HTTP/1.1\r\nHost: ")
        .await
        .unwrap();
    let answered = env
        .http
        .get(format!("{}/jwks", env.sandbox.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status().as_u16(), 200);
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection was not closed in time");
}
