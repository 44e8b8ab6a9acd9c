//! In-memory state of one sandbox: clients, pushed requests, codes, tokens, seen
//! `jti`s, and the request log. Held in `Arc<Shared>`; the std mutexes are never held
//! across an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::expiring::Expiring;
use super::keys::SigningKey;
use super::log::{LogEntry, LogInfo};
use super::{ClientRegistration, SandboxConfig};

/// How many log entries are kept.
pub(crate) const LOG_CAPACITY: usize = 1000;

/// How far the sandbox's clock is set off the system's, in seconds (negative: behind).
/// One value for the process: `mock-server --clock-offset` sets it to play a bank
/// whose clock differs from the client's (the `iat` in the future refusal, E2).
static CLOCK_OFFSET_SECS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Sets the sandbox clock's offset from the system clock (process-wide).
pub fn set_clock_offset(secs: i64) {
    CLOCK_OFFSET_SECS.store(secs, std::sync::atomic::Ordering::Relaxed);
}

/// The sandbox clock's offset from the system clock, in seconds.
pub(crate) fn clock_offset() -> i64 {
    CLOCK_OFFSET_SECS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Seconds since the Unix epoch by the sandbox's clock, fractional.
pub(crate) fn now() -> f64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as f64 / 1e9 + clock_offset() as f64
}

/// Everything a request handler needs.
pub(crate) struct Shared {
    pub issuer: String,
    pub key: SigningKey,
    /// The hub's key that signs the outer layer of PayNet-style answers (P-256; none if
    /// it could not be made, and such answers then fail).
    pub hub_key: Option<crate::jose::keys::PrivateKey>,
    pub lenient_aud: bool,
    pub rotate_refresh_tokens: bool,
    pub code_lifetime: Duration,
    pub tls: bool,
    /// Client certificates are checked against a configured CA (PKI mTLS).
    pub client_ca: bool,
    /// The strict Open Finance Malaysia mode (JAR in PAR, mTLS back channel).
    pub malaysia: bool,
    /// Front-channel id_tokens encrypted to the client (Open Finance Brasil).
    pub encrypt_id_tokens: bool,
    /// The DPoP nonce proofs must carry, when the server asks for one.
    pub dpop_nonce: Option<String>,
    /// The failures played on request.
    pub failures: super::Failures,
    inner: Mutex<Inner>,
    log: Mutex<VecDeque<LogEntry>>,
    log_tx: broadcast::Sender<LogEntry>,
}

/// The mutable state. The stores of what requests leave behind expire, and are capped,
/// so the cost of a request does not grow with the requests before it.
pub(crate) struct Inner {
    pub clients: HashMap<String, ClientRegistration>,
    /// `jti`s seen, until their assertion or proof expires.
    pub jtis: Expiring<()>,
    pub pars: Expiring<ParRecord>,
    pub codes: Expiring<CodeRecord>,
    pub tokens: Expiring<TokenRecord>,
    /// UAE payments by client and idempotency key, for a day: a retry is the same payment.
    pub payments: Expiring<String>,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            clients: HashMap::new(),
            jtis: Expiring::new(MAX_JTIS),
            pars: Expiring::new(MAX_PARS),
            codes: Expiring::new(MAX_CODES),
            tokens: Expiring::new(MAX_TOKENS),
            payments: Expiring::new(MAX_PARS),
        }
    }
}

impl Inner {
    /// The payment an idempotency key names for a client: the one made before, or a new
    /// one (kept a day).
    pub fn payment_id(&mut self, client_id: &str, key: &str) -> String {
        let entry = format!("{client_id} {key}");
        if let Some(id) = self.payments.get(&entry) {
            return id.clone();
        }
        let id = uuid::Uuid::new_v4().to_string();
        let at = now();
        self.payments.insert(entry, at + 86_400.0, id.clone(), at);
        id
    }
}

/// Seen `jti`s kept at most (the oldest go first past it).
const MAX_JTIS: usize = 200_000;
/// Pushed requests kept at most.
const MAX_PARS: usize = 20_000;
/// Codes kept at most.
const MAX_CODES: usize = 50_000;
/// Tokens kept at most.
const MAX_TOKENS: usize = 200_000;
/// How long a token without an expiry (a refresh token) is kept: 30 days.
const TOKEN_WITHOUT_EXPIRY_SECS: i64 = 30 * 24 * 3600;

/// A pushed authorization request (RFC 9126), waiting for `/authorize`.
#[derive(Clone, Debug)]
pub(crate) struct ParRecord {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// `code`, or `code id_token` (the hybrid flow).
    pub response_type: String,
    /// `query`, `fragment`, `jwt`, `query.jwt`, `fragment.jwt`, or none.
    pub response_mode: Option<String>,
    pub code_challenge: String,
    /// What the client asked for in `authorization_details` (account access consent).
    pub consent_request: ConsentRequest,
    pub created_at: time::OffsetDateTime,
    pub expires_at: f64,
}

/// The consent asked for in the PAR `authorization_details`.
#[derive(Clone, Debug)]
pub(crate) struct ConsentRequest {
    pub permissions: Vec<Value>,
    pub purpose: String,
    pub expiration_datetime: String,
}

/// An authorization code (RFC 6749 §4.1.2).
#[derive(Clone, Debug)]
pub(crate) struct CodeRecord {
    pub par: ParRecord,
    pub sub: String,
    pub authorization_details: Value,
    pub grant_id: String,
    pub auth_time: i64,
    pub expires_at: f64,
    pub used: bool,
}

/// What kind of token a [`TokenRecord`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Access,
    Refresh,
}

/// An issued access or refresh token.
#[derive(Clone, Debug)]
pub(crate) struct TokenRecord {
    pub kind: TokenKind,
    pub client_id: String,
    pub scope: String,
    pub sub: Option<String>,
    pub grant_id: Option<String>,
    pub authorization_details: Option<Value>,
    pub state: Option<String>,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    pub active: bool,
    /// RFC 8705 §3.1 `x5t#S256` of the client certificate the token is bound to.
    pub cnf_x5t: Option<String>,
    /// RFC 9449 §6 `jkt` of the DPoP key the token is bound to.
    pub cnf_jkt: Option<String>,
    /// The authorization code the token descends from (revoked if the code is reused).
    pub code: Option<String>,
}

impl Inner {
    /// Keeps a token until an hour after it expires (introspection still answers
    /// `active: false` for it meanwhile).
    pub fn insert_token(&mut self, token: String, record: TokenRecord) {
        let keep_until = record.expires_at.map_or(
            record.issued_at.saturating_add(TOKEN_WITHOUT_EXPIRY_SECS),
            |exp| exp.saturating_add(3600),
        );
        self.tokens.insert(token, keep_until as f64, record, now());
    }
}

impl TokenRecord {
    /// True when the token can be used now.
    pub fn is_active(&self, now: i64) -> bool {
        self.active && self.expires_at.is_none_or(|exp| now < exp)
    }

    /// How the token is presented: `DPoP` when bound to a DPoP key (RFC 9449 §5), else
    /// `Bearer`.
    pub fn token_type(&self) -> &'static str {
        if self.cnf_jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }
}

impl Shared {
    pub fn new(issuer: String, key: SigningKey, config: &SandboxConfig, tls: bool) -> Self {
        let mut inner = Inner::default();
        for client in &config.clients {
            inner
                .clients
                .insert(client.client_id.clone(), client.clone());
        }
        let (log_tx, _) = broadcast::channel(256);
        Self {
            issuer,
            key,
            hub_key: crate::jose::keys::PrivateKey::generate(crate::jose::keys::KeyType::EC_P256)
                .ok(),
            lenient_aud: config.lenient_aud,
            rotate_refresh_tokens: config.rotate_refresh_tokens,
            code_lifetime: config.code_lifetime,
            tls,
            client_ca: config
                .tls
                .as_ref()
                .is_some_and(|t| t.client_ca_pem.is_some()),
            malaysia: config.malaysia,
            encrypt_id_tokens: config.encrypt_id_tokens,
            dpop_nonce: config
                .dpop_nonce
                .then(|| uuid::Uuid::new_v4().simple().to_string()),
            failures: config.failures,
            inner: Mutex::new(inner),
            log: Mutex::new(VecDeque::with_capacity(64)),
            log_tx,
        }
    }

    /// Locks the state (a poisoned lock is recovered: the data stays consistent per
    /// request).
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(&self, registration: ClientRegistration) {
        self.lock()
            .clients
            .insert(registration.client_id.clone(), registration);
    }

    pub fn record(&self, entry: LogEntry) {
        let _ = self.log_tx.send(entry.clone());
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }

    pub fn log_entries(&self) -> Vec<LogEntry> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().cloned().collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LogEntry> {
        self.log_tx.subscribe()
    }

    /// An endpoint URL under the issuer.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// Checks a JWK Set for registration: an object with a non-empty `keys` array of
/// public keys jsonwebtoken can use.
pub(crate) fn validate_jwks(jwks: &Value) -> Result<(), String> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("jwks must be a JSON object with a \"keys\" array (RFC 7517 §5)")?;
    if keys.is_empty() {
        return Err("jwks has no keys".into());
    }
    for (i, key) in keys.iter().enumerate() {
        if key.get("d").is_some() || key.get("p").is_some() || key.get("k").is_some() {
            return Err(format!(
                "jwks key {i} holds private or symmetric key material (d/p/k); register the public key only"
            ));
        }
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone())
            .map_err(|e| format!("jwks key {i} is not a usable JWK: {e}"))?;
        jsonwebtoken::DecodingKey::from_jwk(&jwk)
            .map_err(|e| format!("jwks key {i} cannot verify signatures: {e}"))?;
    }
    Ok(())
}

/// An RFC 6749 §5.2 error answer, carrying the reason to the log.
#[derive(Clone, Debug)]
pub(crate) struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub client_id: Option<String>,
    /// The nonce to send back in `DPoP-Nonce` (RFC 9449 §8).
    pub dpop_nonce: Option<String>,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        Self {
            status,
            error,
            description: description.into(),
            client_id: None,
            dpop_nonce: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new("invalid_client", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn for_client(mut self, client_id: impl Into<String>) -> Self {
        if self.client_id.is_none() {
            self.client_id = Some(client_id.into());
        }
        self
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("private_key_jwt"),
            );
        }
        if let Some(nonce) = self.dpop_nonce.as_deref()
            && let Ok(value) = HeaderValue::from_str(nonce)
        {
            headers.insert("dpop-nonce", value);
        }
        response.extensions_mut().insert(LogInfo {
            client_id: self.client_id,
            error: Some(self.error.to_owned()),
            reason: Some(self.description),
        });
        response
    }
}

/// A JSON success answer with `Cache-Control: no-store` and the client for the log.
pub(crate) fn json_response(status: StatusCode, body: Value, client_id: Option<&str>) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(LogInfo {
        client_id: client_id.map(str::to_owned),
        ..LogInfo::default()
    });
    response
}

/// Form parameters (`application/x-www-form-urlencoded`), in order, repeats kept.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses a form body.
    pub fn parse(body: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// One parameter; an empty value counts as absent (RFC 6749 §3.1), a repeated one
    /// is refused (RFC 6749 §3.1: "MUST NOT be included more than once").
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} sent more than once (RFC 6749 §3.1)"
            )));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// A required parameter: "missing parameter: NAME" when absent.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter: {name}")))
    }

    /// Every value of a parameter that may repeat (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_name_missing_and_repeated_parameters() {
        let p = Params::parse(b"grant_type=client_credentials&scope=&a=1&a=2");
        assert_eq!(p.get("grant_type").unwrap(), Some("client_credentials"));
        // RFC 6749 §3.1: an empty value counts as absent.
        let e = p.require("scope").unwrap_err();
        assert_eq!(e.error, "invalid_request");
        assert_eq!(e.description, "missing parameter: scope");
        let e = p.get("a").unwrap_err();
        assert!(
            e.description.contains("more than once"),
            "{}",
            e.description
        );
        assert_eq!(p.all("a"), ["1", "2"]);
    }

    #[test]
    fn invalid_client_is_401_and_the_rest_400() {
        assert_eq!(
            OAuthError::invalid_client("x").status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            OAuthError::invalid_grant("x").status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn jwks_validation_refuses_private_and_malformed_keys() {
        assert!(validate_jwks(&json!({"keys": []})).is_err());
        assert!(validate_jwks(&json!([])).is_err());
        let e = validate_jwks(&json!({"keys": [{"kty": "OKP", "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}))
        .unwrap_err();
        assert!(e.contains("private"), "{e}");
        // RFC 8037 §A.2 public key.
        assert!(
            validate_jwks(&json!({"keys": [{"kty": "OKP", "crv": "Ed25519",
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}))
            .is_ok()
        );
    }
}
