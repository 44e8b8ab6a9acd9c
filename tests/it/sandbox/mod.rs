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

mod flow;
mod refusals;
mod transport;

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

// ------------------------------------------------------------------ refusals

// ------------------------------------------------------------------ mutual TLS
