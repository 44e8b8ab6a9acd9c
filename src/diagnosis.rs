//! Why did it fail? From a refused exchange (an OAuth error, a resource server's
//! `WWW-Authenticate`, a TLS failure) to the causes developers hit, each judged against
//! what this client knows: **likely**, **ruled out** or **cannot tell**, with the
//! evidence and the rule it comes from. Pure functions: the exchange as sent and
//! received, plus [`Evidence`] gathered by the caller (the authorization it ran, the
//! client's registered keys, earlier requests), so the command line and the app judge
//! alike. The codes are stable, like the findings' codes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jose::jwt;
use crate::oauth::exchange::Exchange;
use crate::oauth::http::SendError;
use crate::oauth::response::ResponseBody;

/// How a cause is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The evidence points at it.
    Likely,
    /// Nothing here can decide it.
    Unknown,
    /// The evidence clears it.
    RuledOut,
}

impl Status {
    /// The word the command line prints.
    pub fn label(self) -> &'static str {
        match self {
            Status::Likely => "likely",
            Status::Unknown => "cannot tell",
            Status::RuledOut => "ruled out",
        }
    }
}

/// One possible cause of a refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// What might be wrong, in a few words.
    pub cause: String,
    /// A stable code such as `diagnosis.assertion_aud`.
    pub code: String,
    /// The judgement.
    pub status: Status,
    /// What the judgement rests on (values compared, what is missing).
    pub evidence: String,
    /// The rule it comes from.
    pub source: String,
}

/// What the caller knows beyond the exchange itself. Every field is optional: what is
/// not known makes a cause "cannot tell", never "ruled out".
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// The issuer identifier.
    pub issuer: Option<String>,
    /// The token endpoint URL.
    pub token_endpoint: Option<String>,
    /// The client's registered JWK Set (its `jwks_uri`, a file, the sandbox's record).
    pub registered_jwks: Option<Value>,
    /// The public JWK of the key the client assertion was signed with.
    pub signing_jwk: Option<Value>,
    /// The client certificate sent (mTLS), read.
    pub client_certificate: Option<crate::jose::public_key::CertificateInfo>,
    /// The client is expected to present a certificate (tls_client_auth, an mTLS
    /// ecosystem, certificate-bound tokens).
    pub certificate_expected: bool,
    /// For an API call: the x5t#S256 of the certificate its access token was issued
    /// over (`Some(None)`: issued without one), from the history.
    pub token_certificate_x5t: Option<Option<String>>,
    /// The PKCE `code_challenge` sent with the authorization request (PAR).
    pub pkce_challenge: Option<String>,
    /// The `redirect_uri` of the authorization request (PAR form or request object).
    pub authorization_redirect_uri: Option<String>,
    /// When the authorization code reached this client (Unix seconds).
    pub code_received_at: Option<i64>,
    /// When the authorization request (PAR) of this code was sent (Unix seconds): the
    /// code cannot be older than that.
    pub authorization_started_at: Option<i64>,
    /// How long the server keeps a code (FAPI 2.0: at most 60 s).
    pub code_lifetime_secs: Option<i64>,
    /// `jti`s of client assertions sent before this one (the history).
    pub earlier_jtis: Option<Vec<String>>,
    /// Fingerprints ([`fingerprint`]) of codes sent before this one (the history).
    pub earlier_codes: Option<Vec<String>>,
    /// The consent's status and expiry as last seen, and the ecosystem's word for an
    /// authorised one.
    pub consent: Option<ConsentState>,
    /// The server's `authorization_details_types_supported` (discovery).
    pub authorization_details_types_supported: Option<Vec<String>>,
    /// The server's `token_endpoint_auth_methods_supported` (discovery).
    pub auth_methods_supported: Option<Vec<String>>,
    /// The server's `Date` at the failure was read from the exchange; this is "now"
    /// for the checks of windows (Unix seconds); 0 means the system clock.
    pub now: i64,
}

impl Evidence {
    /// What resolved settings tell: the issuer and token endpoint, the signing key's
    /// public JWK, the client certificate, whether mTLS is expected (the auth method or
    /// the ecosystem preset), and what the server's discovery document offers.
    pub fn for_settings(
        settings: &crate::oauth::settings::Settings,
        discovery: Option<&Value>,
    ) -> Evidence {
        Evidence::for_profile(
            &settings.profile,
            &settings.transport,
            settings.secrets.signing_key.as_ref(),
            discovery,
        )
    }

    /// As [`Evidence::for_settings`], from the parts (the app's worker has these).
    pub fn for_profile(
        profile: &crate::storage::profile::Profile,
        transport: &crate::oauth::transport::TransportConfig,
        signing_key: Option<&crate::jose::keys::PrivateKey>,
        discovery: Option<&Value>,
    ) -> Evidence {
        use crate::storage::profile::AuthMethod;
        let set = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let list = |name: &str| {
            discovery
                .and_then(|d| d.get(name))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
        };
        Evidence {
            issuer: set(&profile.issuer),
            token_endpoint: profile.endpoints.token.as_deref().and_then(set),
            signing_jwk: signing_key
                .map(|k| k.public_jwk(profile.auth.kid.as_deref(), profile.auth.alg)),
            client_certificate: transport
                .identity_pem
                .as_ref()
                .and_then(|pem| crate::jose::public_key::certificate_info(pem.expose()).ok()),
            certificate_expected: matches!(
                profile.auth.method,
                AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth
            ) || crate::storage::presets::for_profile(profile)
                .is_some_and(|p| p.mtls_required),
            auth_methods_supported: list("token_endpoint_auth_methods_supported"),
            authorization_details_types_supported: list("authorization_details_types_supported"),
            ..Evidence::default()
        }
    }
}

/// A consent as last seen.
#[derive(Clone, Debug, Default)]
pub struct ConsentState {
    /// Its status (`authorized`, `Authorised`, `AUTHORISED`, `Revoked`…).
    pub status: Option<String>,
    /// The ecosystem's word for an authorised consent.
    pub authorized_word: Option<String>,
    /// Its expiry (Unix seconds).
    pub expires_at: Option<i64>,
}

/// The refusal an exchange ended in, when it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// An OAuth error code (RFC 6749 §5.2, RFC 9449, RFC 9126…) with its description.
    OAuth {
        /// The HTTP status.
        status: u16,
        /// `error`.
        error: String,
        /// `error_description`.
        description: String,
    },
    /// The bank's redirect back to the client carried an error (RFC 6749 §4.1.2.1).
    Redirect {
        /// `error`.
        error: String,
        /// `error_description`.
        description: String,
    },
    /// A non-2xx answer with no OAuth error.
    Http(u16),
    /// The TLS handshake failed.
    Tls(String),
    /// No answer at all (refused, timeout, DNS).
    Network(String),
}

impl Refusal {
    /// What the exchange ended in; `None` for a success.
    pub fn of(exchange: &Exchange) -> Option<Refusal> {
        let response = match &exchange.outcome {
            Err(SendError::Tls(m)) => return Some(Refusal::Tls(m.clone())),
            Err(e) => return Some(Refusal::Network(e.to_string())),
            Ok(r) => r,
        };
        let status = response.http.status;
        if let ResponseBody::Error(e) = &response.body {
            return Some(Refusal::OAuth {
                status,
                error: e.error.clone(),
                description: e.error_description.clone().unwrap_or_default(),
            });
        }
        if let Some(challenge) = response.http.www_authenticate()
            && let Some(error) = challenge.error()
        {
            return Some(Refusal::OAuth {
                status,
                error: error.to_owned(),
                description: challenge.error_description().unwrap_or_default().to_owned(),
            });
        }
        (!(200..300).contains(&status)).then_some(Refusal::Http(status))
    }

    fn error(&self) -> &str {
        match self {
            Refusal::OAuth { error, .. } | Refusal::Redirect { error, .. } => error,
            _ => "",
        }
    }

    fn description(&self) -> &str {
        match self {
            Refusal::OAuth { description, .. } | Refusal::Redirect { description, .. } => {
                description
            }
            Refusal::Tls(m) | Refusal::Network(m) => m,
            Refusal::Http(_) => "",
        }
    }
}

type Check = fn(&Exchange, &Evidence, &Refusal) -> Option<Cause>;

/// The causes worth checking for a refusal, most specific first.
fn checks_for(refusal: &Refusal, exchange: &Exchange) -> Vec<Check> {
    let at_resource = exchange.request.kind == crate::oauth::request::RequestKind::Resource;
    match refusal {
        Refusal::Tls(_) => vec![
            tls_server_untrusted,
            client_certificate_missing,
            client_certificate_expired,
        ],
        // TLS 1.3 reports a refused client certificate after the handshake: the
        // connection closes without an answer.
        Refusal::Network(_) if closed_after_handshake(refusal, exchange) => {
            vec![
                client_certificate_missing,
                client_certificate_expired,
                tls_server_untrusted,
            ]
        }
        Refusal::Network(_) => Vec::new(),
        Refusal::Redirect { error, .. } => match error.as_str() {
            "access_denied" => vec![user_denied, consent_not_authorised],
            "invalid_request_object" => vec![request_object_window, clock_skew],
            "invalid_authorization_details" | "invalid_request" => {
                vec![authorization_details_type, request_object_window]
            }
            _ => vec![user_denied, authorization_details_type],
        },
        Refusal::OAuth { error, .. } => match error.as_str() {
            "invalid_client" => vec![
                assertion_aud,
                clock_skew,
                unregistered_key,
                jti_reused,
                assertion_expired,
                client_certificate_missing,
                client_certificate_expired,
                auth_method_unsupported,
            ],
            "invalid_grant" => vec![
                pkce_mismatch,
                redirect_uri_mismatch,
                code_reused,
                code_expired,
                consent_not_authorised,
            ],
            "invalid_request" => vec![
                interaction_id_missing,
                client_certificate_missing,
                client_certificate_expired,
                pkce_mismatch,
                request_object_window,
                authorization_details_type,
            ],
            "invalid_request_object" => vec![request_object_window, clock_skew, unregistered_key],
            "unauthorized_client" => vec![auth_method_unsupported, client_certificate_missing],
            "access_denied" => vec![user_denied, consent_not_authorised],
            "use_dpop_nonce" => vec![dpop_nonce_required],
            "invalid_dpop_proof" => vec![dpop_proof_mismatch, clock_skew, dpop_nonce_required],
            "invalid_authorization_details" => {
                vec![authorization_details_type, request_object_window]
            }
            "invalid_token" if at_resource => vec![
                certificate_binding,
                dpop_proof_mismatch,
                consent_not_authorised,
            ],
            "insufficient_scope" => vec![consent_not_authorised],
            // A non-standard code: the back channel's usual suspects.
            _ => vec![
                assertion_aud,
                clock_skew,
                unregistered_key,
                client_certificate_missing,
                client_certificate_expired,
                interaction_id_missing,
            ],
        },
        Refusal::Http(401 | 403) if at_resource => {
            vec![
                certificate_binding,
                consent_not_authorised,
                client_certificate_missing,
            ]
        }
        Refusal::Http(_) => vec![
            client_certificate_missing,
            client_certificate_expired,
            interaction_id_missing,
            clock_skew,
        ],
    }
}

/// The likely causes of a refusal, then those that cannot be told, then those ruled
/// out. Empty for a success.
pub fn diagnose(exchange: &Exchange, evidence: &Evidence) -> Vec<Cause> {
    match Refusal::of(exchange) {
        Some(refusal) => diagnose_refusal(exchange, evidence, &refusal),
        None => Vec::new(),
    }
}

/// The causes of a request that got no answer (a TLS failure, a closed connection)
/// outside an exchange, such as discovery: judged as if `url` had been called with the
/// profile's transport (its client certificate, its CA file).
pub fn diagnose_connection(
    profile: &crate::storage::profile::Profile,
    url: &str,
    error: &SendError,
    evidence: &Evidence,
) -> Vec<Cause> {
    let Ok(mut request) = crate::oauth::request::build_resource_request(
        profile,
        "GET",
        url,
        // A placeholder: the header it makes is removed below.
        &crate::secret::Secret::new("no-token"),
        &crate::oauth::request::RequestOptions::default(),
    ) else {
        return Vec::new();
    };
    request
        .headers
        .retain(|h| !h.name.eq_ignore_ascii_case("authorization"));
    let exchange = Exchange {
        request,
        sent_at: String::new(),
        elapsed_ms: 0.0,
        outcome: Err(error.clone()),
        findings: Vec::new(),
        diagnosis: Vec::new(),
        first_attempt: None,
    };
    diagnose(&exchange, evidence)
}

/// An HTTPS connection that closed with no answer (what a server that wants a client
/// certificate does under TLS 1.3 when it is missing, expired or untrusted).
fn closed_after_handshake(refusal: &Refusal, exchange: &Exchange) -> bool {
    let m = refusal.description().to_ascii_lowercase();
    exchange.request.url.starts_with("https://")
        && [
            "connection closed",
            "connection reset",
            "channel closed",
            "stream closed",
            "canceled",
            "broken pipe",
        ]
        .iter()
        .any(|w| m.contains(w))
}

/// The causes of an error the bank's redirect carried (the user denied, the request
/// object or the consent refused), judged against the authorization request (the PAR
/// exchange) that started it.
pub fn diagnose_redirect(
    authorization: &Exchange,
    error: &str,
    description: &str,
    evidence: &Evidence,
) -> Vec<Cause> {
    let refusal = Refusal::Redirect {
        error: error.to_owned(),
        description: description.to_owned(),
    };
    diagnose_refusal(authorization, evidence, &refusal)
}

fn diagnose_refusal(exchange: &Exchange, evidence: &Evidence, refusal: &Refusal) -> Vec<Cause> {
    let mut out: Vec<Cause> = checks_for(refusal, exchange)
        .into_iter()
        .filter_map(|check| check(exchange, evidence, refusal))
        .collect();
    out.sort_by_key(|c| c.status);
    out
}

/// One cause the diagnosis knows: its code, what it says and the rule it comes from.
struct Rule {
    code: &'static str,
    what: &'static str,
    source: &'static str,
}

impl Rule {
    fn judge(&self, status: Status, evidence: impl Into<String>) -> Option<Cause> {
        Some(Cause {
            cause: self.what.to_owned(),
            code: self.code.to_owned(),
            status,
            evidence: evidence.into(),
            source: self.source.to_owned(),
        })
    }

    fn likely(&self, evidence: impl Into<String>) -> Option<Cause> {
        self.judge(Status::Likely, evidence)
    }

    fn unknown(&self, evidence: impl Into<String>) -> Option<Cause> {
        self.judge(Status::Unknown, evidence)
    }

    fn ruled_out(&self, evidence: impl Into<String>) -> Option<Cause> {
        self.judge(Status::RuledOut, evidence)
    }
}

fn now(evidence: &Evidence) -> i64 {
    if evidence.now != 0 {
        evidence.now
    } else {
        crate::jose::numeric_date::now_unix() as i64
    }
}

fn number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

/// The server's clock when it answered (its `Date`), Unix seconds.
fn server_time(exchange: &Exchange) -> Option<i64> {
    exchange.response()?.http.server_time()
}

/// Our clock when the request left (`sent_at`), Unix seconds.
fn sent_time(exchange: &Exchange) -> Option<i64> {
    crate::jose::numeric_date::parse_rfc3339(&exchange.sent_at)
}

// ------------------------------------------------------------------ client assertion

fn assertion_claims(exchange: &Exchange) -> Option<&Value> {
    exchange
        .request
        .client_assertion
        .as_ref()
        .map(|a| &a.claims)
}

/// E1: the assertion's `aud` is not the issuer as a string.
fn assertion_aud(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.assertion_aud",
        what: "the client assertion's aud is not what the server expects",
        source: "FAPI 2.0 SP §5.3.2.1; RFC 7523 §3",
    };
    let claims = assertion_claims(exchange)?;
    let aud = claims.get("aud");
    let issuer = evidence.issuer.as_deref().map(|s| s.trim_end_matches('/'));
    match (aud, issuer) {
        (Some(Value::Array(items)), _) => RULE.likely(format!(
                "aud is an array ({} items); FAPI 2.0 wants the issuer as a single string",
                items.len()
            )),
        (Some(Value::String(a)), Some(iss)) if a.trim_end_matches('/') == iss => RULE.ruled_out(format!("aud is the issuer {a:?}, as FAPI 2.0 requires")),
        (Some(Value::String(a)), _) if evidence.token_endpoint.as_deref() == Some(a.as_str()) => {
            RULE.likely(format!(
                    "aud is the token endpoint {a:?}, not the issuer {:?}: FAPI 2.0 servers want the issuer (older ones the token endpoint; PayNet's guide and sample disagree)",
                    issuer.unwrap_or("?")
                ))
        }
        (Some(Value::String(a)), Some(iss)) => RULE.likely(format!("aud {a:?} is neither the issuer {iss:?} nor the token endpoint")),
        (None, _) => RULE.likely("the assertion has no aud"),
        _ => RULE.unknown("the issuer is not known to compare aud with"),
    }
}

/// E2: the local clock is ahead of the server's, so `iat` (or `nbf`) is in its future.
fn clock_skew(exchange: &Exchange, _: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.clock_skew",
        what: "this machine's clock is off from the server's (iat in its future)",
        source: "FAPI 2.0 SP §5.3.3 Note 1; RFC 7523 §3",
    };
    let Some(server) = server_time(exchange) else {
        return RULE.unknown("the answer has no Date header to compare clocks with");
    };
    let signed = exchange
        .request
        .client_assertion
        .as_ref()
        .and_then(|a| number(a.claims.get("iat")))
        .or_else(|| {
            exchange
                .request
                .dpop
                .as_ref()
                .and_then(|p| number(p.claims.get("iat")))
        })
        .map(|t| t.floor() as i64)
        .or_else(|| sent_time(exchange));
    let Some(iat) = signed else {
        return RULE.unknown("nothing sent carries a time");
    };
    // `Date` has whole seconds and the answer took some time: allow two.
    let ahead = iat - server;
    let date = exchange
        .response()
        .and_then(|r| r.http.header("date"))
        .unwrap_or_default();
    if ahead > 2 {
        RULE.likely(format!(
                "iat {iat} is {ahead} s after the server's clock (Date: {date}); servers refuse an iat in the future. Synchronise the clock (timedatectl, NTP)"
            ))
    } else if ahead < -300 {
        RULE.likely(format!(
                "iat {iat} is {} s before the server's clock (Date: {date}): the server may take it as stale",
                -ahead
            ))
    } else {
        RULE.ruled_out(format!(
            "iat {iat} and the server's Date ({date}) agree within {} s",
            ahead.abs()
        ))
    }
}

/// E3: the key the assertion was signed with is not in the client's registered JWKS
/// (or is there under another `kid`; or the server still caches an old JWKS).
fn unregistered_key(exchange: &Exchange, evidence: &Evidence, refusal: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.unregistered_key",
        what: "the signing key (kid) is not in the client's registered JWKS",
        source: "RFC 7523 §3; RFC 7517 §4.5; FAPI 2.0 SP §5.4",
    };
    let header = if refusal.error() == "invalid_request_object" {
        exchange.request.request_object.as_ref().map(|r| &r.header)
    } else {
        exchange
            .request
            .client_assertion
            .as_ref()
            .map(|a| &a.header)
    }?;
    let kid = header.get("kid").and_then(Value::as_str);
    let Some(jwks) = &evidence.registered_jwks else {
        return RULE.unknown(format!(
            "kid {}; the client's registered JWKS is not known here (give it with --client-jwks)",
            kid.map_or("(none)".to_owned(), |k| format!("{k:?}"))
        ));
    };
    let keys: Vec<&Value> = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|k| k.iter().collect())
        .unwrap_or_else(|| vec![jwks]);
    let Some(kid) = kid else {
        return if keys.len() > 1 {
            RULE.likely(format!(
                    "the assertion has no kid and the registered JWKS holds {} keys: the server cannot tell which to use",
                    keys.len()
                ))
        } else {
            RULE.unknown("the assertion has no kid; some servers require one")
        };
    };
    let registered = keys
        .iter()
        .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid));
    let Some(registered) = registered else {
        let kids: Vec<&str> = keys
            .iter()
            .filter_map(|k| k.get("kid").and_then(Value::as_str))
            .collect();
        return RULE.likely(format!(
                "kid {kid:?} is not in the registered JWKS (kids: {}); register the key, then allow for the server's JWKS cache (Malaysia: up to 15 min, UAE: 20 min)",
                if kids.is_empty() {
                    "none".to_owned()
                } else {
                    kids.join(", ")
                }
            ));
    };
    let same_key = evidence.signing_jwk.as_ref().map(|ours| {
        ["n", "e", "x", "y", "crv"]
            .iter()
            .all(|m| ours.get(m) == registered.get(m))
    });
    match same_key {
        Some(true) => RULE.ruled_out(format!(
            "kid {kid:?} is registered and its public key is the signing key's"
        )),
        Some(false) => RULE.likely(format!(
            "kid {kid:?} is registered, but for another public key than the one that signed"
        )),
        None => RULE.ruled_out(format!("kid {kid:?} is in the registered JWKS")),
    }
}

/// E4: the assertion's `jti` was used before (a replay).
fn jti_reused(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.jti_reused",
        what: "the client assertion's jti was used before (a replay)",
        source: "RFC 7523 §3 item 7; FAPI 2.0 SP §5.3.2.1",
    };
    let jti = assertion_claims(exchange)?
        .get("jti")
        .and_then(Value::as_str);
    let Some(jti) = jti else {
        return RULE.likely("the assertion has no jti");
    };
    match &evidence.earlier_jtis {
        Some(earlier) if earlier.iter().any(|j| j == jti) => RULE.likely(format!(
                "jti {jti:?} was sent before (it is in this client's history): sign a fresh assertion for every request"
            )),
        Some(earlier) => RULE.ruled_out(format!(
                "jti {jti:?} was minted for this request and is not among the {} earlier ones in the history",
                earlier.len()
            )),
        None => RULE.unknown(format!(
            "jti {jti:?}: no history of earlier assertions to compare it with"
        )),
    }
}

/// The assertion had expired (or was not yet valid) by the server's clock.
fn assertion_expired(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.assertion_expired",
        what: "the client assertion was expired when it arrived",
        source: "RFC 7523 §3 item 4",
    };
    let claims = assertion_claims(exchange)?;
    let Some(exp) = number(claims.get("exp")) else {
        return RULE.likely("the assertion has no exp");
    };
    let at = server_time(exchange).unwrap_or_else(|| now(evidence));
    if (exp as i64) < at {
        RULE.likely(format!(
            "exp {exp} is {} s before the server's time {at}",
            at - exp as i64
        ))
    } else {
        RULE.ruled_out(format!(
            "exp {exp} is {} s after the server's time {at}",
            exp as i64 - at
        ))
    }
}

/// The client authentication method is not one the server offers.
fn auth_method_unsupported(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.auth_method_unsupported",
        what: "the client authentication method is not one the server offers",
        source: "RFC 8414 §2; FAPI 2.0 SP §5.3.2.1",
    };
    let request = &exchange.request;
    let used = if request.param("client_assertion").is_some() {
        "private_key_jwt"
    } else if request.param("client_secret").is_some() {
        "client_secret_post"
    } else if request
        .header("authorization")
        .is_some_and(|h| h.starts_with("Basic "))
    {
        "client_secret_basic"
    } else if request.transport.mtls {
        "tls_client_auth"
    } else {
        "none"
    };
    let Some(supported) = &evidence.auth_methods_supported else {
        return RULE.unknown(format!(
                "{used} was used; the server's token_endpoint_auth_methods_supported is not known (no discovery)"
            ));
    };
    let ok = supported
        .iter()
        .any(|m| m == used || (used == "tls_client_auth" && m == "self_signed_tls_client_auth"));
    RULE.judge(
        if ok { Status::RuledOut } else { Status::Likely },
        format!(
            "{used} was used; the server offers {}",
            supported.join(", ")
        ),
    )
}

// ------------------------------------------------------------------ transport (mTLS)

fn says_certificate(refusal: &Refusal) -> bool {
    let d = refusal.description().to_ascii_lowercase();
    d.contains("certificate") || d.contains("cert ") || d.contains("mtls") || d.contains("tls")
}

/// E5: no client certificate was presented where one is needed.
fn client_certificate_missing(
    exchange: &Exchange,
    evidence: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.client_certificate_missing",
        what: "no client certificate was presented (mTLS)",
        source: "RFC 8705 §2, §3; FAPI 2.0 SP §5.3.2.1",
    };
    let sent = exchange.request.transport.mtls;
    if sent {
        let what = evidence
            .client_certificate
            .as_ref()
            .map(|c| {
                format!(
                    "the certificate {} (x5t#S256 {}) was presented",
                    c.subject, c.x5t_s256
                )
            })
            .unwrap_or_else(|| "a client certificate was presented".to_owned());
        return RULE.ruled_out(what);
    }
    let tls =
        |word: &str| matches!(refusal, Refusal::Tls(m) if m.to_ascii_lowercase().contains(word));
    if tls("invalid peer certificate") {
        return RULE.unknown(
            "the handshake failed on the server's certificate, before the server could ask for one",
        );
    }
    // The server's alert (CertificateRequired, HandshakeFailure…) ends a handshake
    // that lacked one; a server's words about a certificate, at the HTTP level.
    let tls_alert = tls("fatal alert")
        || matches!(refusal, Refusal::Network(_)) && closed_after_handshake(refusal, exchange);
    let said = !matches!(refusal, Refusal::Tls(_)) && says_certificate(refusal);
    if evidence.certificate_expected || said || tls_alert {
        let why = if matches!(refusal, Refusal::Network(_)) {
            format!(
                "none was sent, and the server closed the connection without an answer right after the handshake, as a server that requires mTLS does ({})",
                refusal.description()
            )
        } else if said || tls_alert {
            format!(
                "none was sent, and the server speaks of one ({})",
                refusal.description()
            )
        } else {
            "none was sent, and this client's profile expects mTLS (tls_client_auth, or certificate-bound tokens)".to_owned()
        };
        return RULE.likely(why);
    }
    RULE.unknown("none was sent; nothing says this server wants one")
}

/// E5: the client certificate presented is outside its validity window.
fn client_certificate_expired(
    exchange: &Exchange,
    evidence: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.client_certificate_expired",
        what: "the client certificate is expired or not yet valid",
        source: "RFC 5280 §4.1.2.5; RFC 8705 §2",
    };
    if !exchange.request.transport.mtls {
        return None;
    }
    let alert = refusal.description().to_ascii_lowercase();
    let Some(cert) = &evidence.client_certificate else {
        if alert.contains("certificateexpired") || alert.contains("certificate expired") {
            return RULE.likely(format!(
                "the server says so ({}); the certificate sent could not be read here",
                refusal.description()
            ));
        }
        return RULE.unknown("the certificate sent could not be read");
    };
    let at = now(evidence);
    let fmt = |t: i64| crate::jose::numeric_date::format_utc(t as f64);
    if at > cert.not_after {
        RULE.likely(format!(
            "{} expired at {}",
            cert.subject,
            fmt(cert.not_after)
        ))
    } else if at < cert.not_before {
        RULE.likely(format!(
            "{} is valid only from {}",
            cert.subject,
            fmt(cert.not_before)
        ))
    } else {
        RULE.ruled_out(format!(
                "{} is valid from {} to {} (whether it chains to the ecosystem's CA only the server can tell)",
                cert.subject,
                fmt(cert.not_before),
                fmt(cert.not_after)
            ))
    }
}

/// The server's certificate is not trusted by this client.
fn tls_server_untrusted(exchange: &Exchange, _: &Evidence, refusal: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.tls_server_untrusted",
        what: "the server's certificate is not trusted by this client",
        source: "RFC 8446 §4.4.2; RFC 5280 §6",
    };
    let message = refusal.description().to_ascii_lowercase();
    if matches!(refusal, Refusal::Network(_)) {
        return RULE.ruled_out(
            "the handshake got as far as this client accepting the server's certificate; the server then closed the connection",
        );
    }
    if message.contains("received fatal alert") {
        // The client checks the server's certificate before it sends its own; an
        // alert from the server means ours was the one refused.
        return RULE.ruled_out(format!(
            "this client accepted the server's certificate; the server then ended the handshake ({})",
            refusal.description()
        ));
    }
    let about_server = [
        "unknownissuer",
        "unknown issuer",
        "self-signed",
        "self signed",
        "not valid for name",
        "notvalidforname",
        "expired",
        "invalid peer certificate",
    ]
    .iter()
    .any(|w| message.contains(w));
    let ca = exchange.request.transport.ca_file.as_ref();
    if about_server {
        RULE.likely(match ca {
                Some(ca) => format!(
                    "the handshake failed on the server's certificate ({}); it does not chain to {}",
                    refusal.description(),
                    ca.display()
                ),
                None => format!(
                    "the handshake failed on the server's certificate ({}); give the ecosystem's CA with --cacert",
                    refusal.description()
                ),
            })
    } else {
        RULE.unknown(format!(
            "the handshake failed ({}) without naming the server's certificate",
            refusal.description()
        ))
    }
}

/// E6: the token is bound to another certificate than the one presented.
fn certificate_binding(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.certificate_binding",
        what: "the token is bound to another client certificate (cnf.x5t#S256)",
        source: "RFC 8705 §3, §6.3",
    };
    let codes: Vec<&str> = exchange.findings.iter().map(|f| f.code).collect();
    let mtls = exchange.request.transport.mtls;
    let presented = evidence
        .client_certificate
        .as_ref()
        .filter(|_| mtls)
        .map(|c| c.x5t_s256.clone());
    if codes.contains(&"binding.x5t_mismatch") {
        return RULE.likely("the token's cnf.x5t#S256 is not the certificate presented (a rotated certificate?): get a new token with this certificate");
    }
    if codes.contains(&"binding.x5t_match") {
        return RULE.ruled_out("the token's cnf.x5t#S256 is the certificate presented");
    }
    match (&evidence.token_certificate_x5t, presented) {
        (Some(Some(issued)), None) => RULE.likely(format!(
            "the token was issued over mTLS with the certificate x5t#S256 {issued}; this call presented {}",
            if mtls { "one that could not be read" } else { "none" }
        )),
        (Some(Some(issued)), Some(now)) if *issued != now => RULE.likely(format!(
            "the token was issued over mTLS with the certificate x5t#S256 {issued}; this call presented {now}"
        )),
        (Some(Some(issued)), Some(_)) => RULE.ruled_out(format!(
            "this call presented the certificate the token was issued over (x5t#S256 {issued})"
        )),
        (Some(None), _) => RULE.ruled_out(
            "the token was issued without a client certificate, so it cannot be bound to one",
        ),
        (None, _) if !mtls => RULE.unknown("no client certificate was presented with the call; a certificate-bound token needs the one it was issued to"),
        (None, _) => RULE.unknown(
            "the token's binding cannot be read here (an opaque token not in this history: introspect it to see cnf)",
        ),
    }
}

// ------------------------------------------------------------------ authorization code

fn is_code_grant(exchange: &Exchange) -> bool {
    exchange.request.param("grant_type") == Some("authorization_code")
}

/// E7: the PKCE verifier is not the one of this authorization's challenge.
fn pkce_mismatch(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.pkce_mismatch",
        what: "the code_verifier does not match the code_challenge sent at PAR",
        source: "RFC 7636 §4.6; FAPI 2.0 SP §5.3.2.1",
    };
    if !is_code_grant(exchange) {
        return None;
    }
    let Some(verifier) = exchange.request.param("code_verifier") else {
        return RULE.likely("no code_verifier was sent; a PKCE code needs it");
    };
    let computed = crate::jose::hash::s256(verifier);
    match &evidence.pkce_challenge {
        Some(sent) if *sent == computed => RULE.ruled_out(format!("S256(code_verifier) = {computed}, the code_challenge sent")),
        Some(sent) => RULE.likely(format!(
                "S256(code_verifier) = {computed}, but the code_challenge sent was {sent}: the verifier is not this authorization's"
            )),
        None => RULE.unknown(format!(
                "S256(code_verifier) = {computed}; the challenge of the authorization is not known here"
            )),
    }
}

/// E8: the token request's `redirect_uri` differs from the authorization's.
fn redirect_uri_mismatch(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.redirect_uri_mismatch",
        what: "redirect_uri differs from the one in the authorization request",
        source: "RFC 6749 §4.1.3; RFC 9126 §2.1",
    };
    if !is_code_grant(exchange) {
        return None;
    }
    let sent = exchange.request.param("redirect_uri");
    match (sent, evidence.authorization_redirect_uri.as_deref()) {
        (Some(s), Some(a)) if s == a => RULE.ruled_out(format!("both are {s:?}")),
        (Some(s), Some(a)) => RULE.likely(format!(
                "the token request sent {s:?}, the authorization request {a:?}: they must be equal to the character"
            )),
        (None, Some(a)) => RULE.likely(format!("the token request sent no redirect_uri; the authorization request had {a:?}")),
        (s, None) => RULE.unknown(format!(
                "the token request sent {}; the authorization request's is not known here",
                s.map_or("none".to_owned(), |s| format!("{s:?}"))
            )),
    }
}

/// E9: the code was exchanged before (codes are single use).
fn code_reused(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.code_reused",
        what: "the authorization code was already used",
        source: "RFC 6749 §4.1.2; FAPI 2.0 SP §5.3.2.1",
    };
    if !is_code_grant(exchange) {
        return None;
    }
    let code = exchange.request.param("code")?;
    let print = crate::jose::hash::fingerprint(code);
    match &evidence.earlier_codes {
        Some(earlier) if earlier.contains(&print) => RULE.likely(format!(
                "this code ({print}) was sent before; a code is single use, and a reused one revokes what it gave"
            )),
        Some(earlier) => RULE.ruled_out(format!(
                "this code ({print}) is not among the {} codes sent before",
                earlier.len()
            )),
        None => RULE.unknown(format!("no history of earlier codes to compare this one ({print}) with")),
    }
}

/// E9: the code was older than the server keeps codes.
fn code_expired(exchange: &Exchange, evidence: &Evidence, refusal: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.code_expired",
        what: "the authorization code had expired",
        source: "FAPI 2.0 SP §5.3.2.1 (codes live at most 60 s); RFC 6749 §4.1.2",
    };
    if !is_code_grant(exchange) {
        return None;
    }
    let lifetime = evidence.code_lifetime_secs.unwrap_or(60);
    let says_expired = refusal
        .description()
        .to_ascii_lowercase()
        .contains("expired");
    let sent = sent_time(exchange);
    // Its age: exact when the redirect's arrival is known; at most the time since the
    // authorization request otherwise.
    let (age, bound) = match (
        evidence.code_received_at,
        evidence.authorization_started_at,
        sent,
    ) {
        (Some(received), _, Some(sent)) => (Some(sent - received), false),
        (None, Some(started), Some(sent)) => (Some(sent - started), true),
        _ => (None, false),
    };
    let age_text = |age: i64| {
        if bound {
            format!(
                "the authorization started {age} s before this exchange, so the code was at most {age} s old"
            )
        } else {
            format!("the code was sent {age} s after it arrived")
        }
    };
    match age {
        Some(age) if says_expired => RULE.likely(format!(
            "the server says so ({}); {}: this server keeps codes {}",
            refusal.description(),
            age_text(age),
            if age <= lifetime {
                format!("shorter than {lifetime} s")
            } else {
                format!("{lifetime} s or less")
            }
        )),
        Some(age) if age > lifetime && !bound => RULE.likely(format!(
            "{}; servers keep codes {lifetime} s or less",
            age_text(age)
        )),
        Some(age) if age <= lifetime => RULE.ruled_out(format!(
            "{}; codes live up to {lifetime} s, and the server does not say expired",
            age_text(age)
        )),
        _ if says_expired => RULE.likely(format!(
            "the server says so ({}); when the code arrived is not known here",
            refusal.description()
        )),
        _ => RULE.unknown(format!(
            "when the code arrived is not known here (servers keep codes {lifetime} s or less)"
        )),
    }
}

// ------------------------------------------------------------------ request object

/// E10: the signed request object's window (`nbf`, `exp`) or `aud` is refused.
fn request_object_window(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.request_object_window",
        what: "the request object's nbf/exp window or aud is refused",
        source: "FAPI 2.0 Message Signing §5.3.1; FAPI 1 Advanced §5.2.2-13, -15, -17; RFC 9101 §6.3",
    };
    let object = exchange.request.request_object.as_ref()?;
    let claims = &object.claims;
    let at = server_time(exchange).unwrap_or_else(|| now(evidence));
    let nbf = number(claims.get("nbf")).map(|v| v as i64);
    let exp = number(claims.get("exp")).map(|v| v as i64);
    let mut wrong = Vec::new();
    match (nbf, exp) {
        (None, _) => wrong.push("it has no nbf".to_owned()),
        (_, None) => wrong.push("it has no exp".to_owned()),
        (Some(nbf), Some(exp)) => {
            if exp - nbf > 3600 {
                wrong.push(format!(
                    "exp − nbf is {} s, more than 60 min (UAE: 10 min)",
                    exp - nbf
                ));
            }
            if at - nbf > 3600 {
                wrong.push(format!("nbf is {} s old, more than 60 min", at - nbf));
            }
            if nbf > at + 10 {
                wrong.push(format!("nbf is {} s in the server's future", nbf - at));
            }
            if exp < at {
                wrong.push(format!(
                    "it expired {} s before the server's time",
                    at - exp
                ));
            }
        }
    }
    if let (Some(aud), Some(iss)) = (claims.get("aud"), evidence.issuer.as_deref()) {
        let ok = match aud {
            Value::String(a) => a.trim_end_matches('/') == iss.trim_end_matches('/'),
            Value::Array(items) => items.iter().any(|a| a.as_str() == Some(iss)),
            _ => false,
        };
        if !ok {
            wrong.push(format!("aud {aud} is not the issuer {iss:?}"));
        }
    }
    if wrong.is_empty() {
        RULE.ruled_out(format!(
                "nbf {}, exp {} (a window of {} s) and aud are within the rules at the server's time {at}",
                nbf.unwrap_or_default(),
                exp.unwrap_or_default(),
                exp.unwrap_or_default() - nbf.unwrap_or_default()
            ))
    } else {
        RULE.likely(wrong.join("; "))
    }
}

/// E18: the consent's `authorization_details` type is not one the server takes.
fn authorization_details_type(
    exchange: &Exchange,
    evidence: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.authorization_details_type",
        what: "the consent's authorization_details type is not one the server accepts",
        source: "RFC 9396 §5, §10",
    };
    let details = exchange
        .request
        .request_object
        .as_ref()
        .and_then(|o| o.claims.get("authorization_details").cloned())
        .or_else(|| {
            exchange
                .request
                .param("authorization_details")
                .and_then(|t| serde_json::from_str(t).ok())
        });
    let types: Vec<String> = details
        .as_ref()
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| d.get("type").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if types.is_empty() {
        // Only worth a line when the refusal is about them.
        return (refusal.error() == "invalid_authorization_details")
            .then(|| RULE.unknown("no authorization_details were found in what was sent"))
            .flatten();
    }
    let Some(supported) = &evidence.authorization_details_types_supported else {
        return RULE.unknown(format!(
            "sent {}; the server's authorization_details_types_supported is not known",
            types.join(", ")
        ));
    };
    let unknown: Vec<&String> = types.iter().filter(|t| !supported.contains(t)).collect();
    if unknown.is_empty() {
        RULE.ruled_out(format!("sent {}, which the server lists", types.join(", ")))
    } else {
        RULE.likely(format!(
            "sent {}, which the server does not list (it lists {})",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if supported.is_empty() {
                "none".to_owned()
            } else {
                supported.join(", ")
            }
        ))
    }
}

// ------------------------------------------------------------------ consent, user

/// E12: the user refused or cancelled at the bank.
fn user_denied(exchange: &Exchange, _: &Evidence, refusal: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.user_denied",
        what: "the user refused or cancelled the consent at the bank",
        source: "RFC 6749 §4.1.2.1",
    };
    let described = if refusal.description().is_empty() {
        String::new()
    } else {
        format!(" ({})", refusal.description())
    };
    match refusal {
        Refusal::Redirect { error, .. } if error == "access_denied" => RULE.likely(format!(
            "the bank's redirect carried access_denied{described}; in Brazil also when the logged-in user is not the consent's loggedUser"
        )),
        Refusal::Redirect { error, .. } => RULE.ruled_out(format!(
            "the bank's redirect carried {error}{described}, not access_denied: the request was refused, not the user"
        )),
        _ if is_code_grant(exchange) => RULE.ruled_out(format!(
            "a code came back, so the user approved; the token endpoint's access_denied{described} is about the client or the consent"
        )),
        _ if exchange.request.param("grant_type").is_some() => RULE.ruled_out(format!(
            "no user takes part in a {} grant",
            exchange.request.param("grant_type").unwrap_or_default()
        )),
        _ => RULE.likely(format!("the server answered access_denied{described}")),
    }
}

/// E15: the consent is not (or no longer) authorised.
fn consent_not_authorised(_: &Exchange, evidence: &Evidence, refusal: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.consent_not_authorised",
        what: "the consent is not authorised, or has expired or been revoked",
        source: "RFC 9396 §7; Open Finance Brazil FAPI §5.2.2; PayNet consent lifecycle",
    };
    // The server's own words outrank what was last seen here.
    let said = refusal.description().to_ascii_lowercase();
    if said.contains("consent")
        && ["revoked", "expired", "rejected", "not authori", "consumed"]
            .iter()
            .any(|w| said.contains(w))
    {
        let seen = evidence
            .consent
            .as_ref()
            .and_then(|c| c.status.as_deref())
            .map(|s| format!("; it was last seen {s} here"))
            .unwrap_or_default();
        return RULE.likely(format!(
            "the server says so ({}){seen}",
            refusal.description()
        ));
    }
    let Some(consent) = &evidence.consent else {
        return RULE.unknown(
            "the consent's status is not known here (read it at the bank's consent endpoint)",
        );
    };
    let at = now(evidence);
    if let Some(exp) = consent.expires_at
        && exp < at
    {
        return RULE.likely(format!(
            "the consent expired at {}",
            crate::jose::numeric_date::format_utc(exp as f64)
        ));
    }
    // Without the ecosystem's word, either spelling of "authorised" will do.
    let word = consent.authorized_word.clone().or_else(|| {
        consent.status.as_ref().and_then(|st| {
            ["authorized", "authorised"]
                .iter()
                .find(|w| st.eq_ignore_ascii_case(w))
                .map(|w| (*w).to_owned())
        })
    });
    match (&consent.status, &word) {
        (Some(status), Some(word)) if status.eq_ignore_ascii_case(word) => {
            RULE.ruled_out(format!("the consent was last seen {status}, not expired"))
        }
        (Some(status), Some(word)) => {
            RULE.likely(format!("the consent was last seen {status}, not {word}"))
        }
        (Some(status), None) => RULE.likely(format!(
            "the consent was last seen {status}, not authorised"
        )),
        _ => RULE.unknown("the consent's status is not known here"),
    }
}

// ------------------------------------------------------------------ headers, DPoP

/// E17: no `x-fapi-interaction-id` was sent.
fn interaction_id_missing(exchange: &Exchange, _: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.interaction_id_missing",
        what: "no x-fapi-interaction-id was sent (Brazil refuses such requests)",
        source: "FAPI 1 Baseline §6.2.2-4; Open Finance Brazil FAPI item 23",
    };
    match exchange.request.header("x-fapi-interaction-id") {
        Some(id) => RULE.ruled_out(format!("x-fapi-interaction-id {id} was sent")),
        None => RULE.likely("the request carried no x-fapi-interaction-id"),
    }
}

/// The server wants a DPoP nonce (or the one sent is stale).
fn dpop_nonce_required(exchange: &Exchange, _: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.dpop_nonce",
        what: "the server wants a (fresh) DPoP nonce",
        source: "RFC 9449 §8, §9",
    };
    let response = exchange.response()?;
    let offered = response.http.header("dpop-nonce");
    let Some(proof) = &exchange.request.dpop else {
        return RULE.unknown("no DPoP proof was sent");
    };
    let sent = proof.claims.get("nonce").and_then(Value::as_str);
    match (sent, offered) {
        (None, Some(n)) => RULE.likely(format!(
            "the proof carried no nonce; the server offers DPoP-Nonce {n}"
        )),
        (Some(s), Some(n)) if s != n => RULE.likely(format!(
            "the proof carried nonce {s}; the server now offers {n} (it rotated)"
        )),
        (None, None) => RULE.unknown("the proof carried no nonce and the server offered none"),
        (Some(s), _) => RULE.ruled_out(format!("the proof carried the server's nonce {s}")),
    }
}

/// The DPoP proof does not describe this request (`htm`, `htu`, `ath`).
fn dpop_proof_mismatch(exchange: &Exchange, _: &Evidence, refusal: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.dpop_proof_mismatch",
        what: "the DPoP proof does not match this request (htm, htu, ath)",
        source: "RFC 9449 §4.3",
    };
    let request = &exchange.request;
    let Some(proof) = &request.dpop else {
        return if refusal.error() == "invalid_dpop_proof"
            || request
                .header("authorization")
                .is_some_and(|h| h.starts_with("DPoP "))
        {
            RULE.likely("no DPoP proof was sent")
        } else {
            None
        };
    };
    let mut wrong = Vec::new();
    let htm = proof.claims.get("htm").and_then(Value::as_str);
    if htm != Some(request.method.as_str()) {
        wrong.push(format!("htm {htm:?} is not the method {}", request.method));
    }
    let htu = proof.claims.get("htu").and_then(Value::as_str);
    let expected = crate::oauth::dpop::htu(&request.url);
    if htu != Some(expected.as_str()) {
        wrong.push(format!("htu {htu:?} is not {expected:?}"));
    }
    if let Some(token) = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("DPoP "))
    {
        let ath = proof.claims.get("ath").and_then(Value::as_str);
        let want = crate::jose::hash::ath(token);
        if ath != Some(want.as_str()) {
            wrong.push(format!(
                "ath {ath:?} is not the hash of the token sent ({want})"
            ));
        }
    }
    if wrong.is_empty() {
        RULE.ruled_out(format!(
            "htm {}, htu {expected}{} match the request",
            request.method,
            if request.kind == crate::oauth::request::RequestKind::Resource {
                " and ath"
            } else {
                ""
            }
        ))
    } else {
        RULE.likely(wrong.join("; "))
    }
}

/// The decoded claims of a JWT given as text, when it decodes.
pub fn claims_of(token: &str) -> Option<Value> {
    match jwt::decode(token).ok()?.payload {
        jwt::Payload::Json(v) => Some(v),
        _ => None,
    }
}

/// Renders causes for a reader, likely first, one per line with its evidence.
pub fn render(causes: &[Cause]) -> String {
    if causes.is_empty() {
        return String::new();
    }
    let mut out = String::from("Why? (each cause judged against what this client knows)\n");
    for c in causes {
        out.push_str(&format!(
            "  [{}] {} ({})\n      {}\n      ({})\n",
            c.status.label(),
            c.cause,
            c.code,
            c.evidence,
            c.source
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jose::hash::fingerprint;
    use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
    use crate::oauth::exchange::{self, ExchangeContext};
    use crate::oauth::http::{Call, FnClient, HttpResponse};
    use crate::oauth::request::{ClientSecrets, Grant, RequestOptions, build_token_request};
    use crate::secret::Secret;
    use crate::storage::profile::{AudienceChoice, AuthMethod, Profile};

    const ISSUER: &str = "https://as.example";
    const TOKEN: &str = "https://as.example/token";

    fn profile(aud: AudienceChoice) -> Profile {
        let mut p = Profile::new("p", ISSUER);
        p.client_id = "c1".into();
        p.endpoints.token = Some(TOKEN.into());
        p.auth.method = AuthMethod::PrivateKeyJwt;
        p.auth.alg = SigningAlg::ES256;
        p.auth.kid = Some("k1".into());
        p.auth.aud = aud;
        p
    }

    fn key() -> PrivateKey {
        PrivateKey::generate(KeyType::EC_P256).unwrap()
    }

    /// One exchange against a fake server answering `status` with `body` and `date`.
    async fn refused(
        profile: &Profile,
        key: &PrivateKey,
        grant: Grant,
        status: u16,
        body: &'static str,
        date: std::time::SystemTime,
    ) -> Exchange {
        let date = httpdate::fmt_http_date(date);
        let client = FnClient(move |_: Call<'_>| {
            Ok(HttpResponse::with(
                status,
                &[("content-type", "application/json"), ("date", &date)],
                body,
            ))
        });
        let secrets = ClientSecrets {
            signing_key: Some(key.clone()),
            client_secret: None,
        };
        let model =
            build_token_request(profile, &secrets, &grant, &RequestOptions::default()).unwrap();
        exchange::run(&client, model, &ExchangeContext::default()).await
    }

    fn evidence(p: &Profile, key: &PrivateKey) -> Evidence {
        Evidence {
            issuer: Some(ISSUER.into()),
            token_endpoint: Some(TOKEN.into()),
            signing_jwk: Some(key.public_jwk(p.auth.kid.as_deref(), p.auth.alg)),
            ..Evidence::default()
        }
    }

    fn status_of(causes: &[Cause], code: &str) -> Status {
        causes
            .iter()
            .find(|c| c.code == code)
            .unwrap_or_else(|| panic!("no {code} in {causes:#?}"))
            .status
    }

    const INVALID_CLIENT: &str = r#"{"error":"invalid_client","error_description":"refused"}"#;
    const INVALID_GRANT: &str = r#"{"error":"invalid_grant","error_description":"refused"}"#;

    #[tokio::test]
    async fn a_success_has_no_diagnosis() {
        let p = profile(AudienceChoice::Issuer);
        let k = key();
        let ok = refused(
            &p,
            &k,
            Grant::ClientCredentials,
            200,
            r#"{"access_token":"a","token_type":"Bearer"}"#,
            std::time::SystemTime::now(),
        )
        .await;
        assert!(diagnose(&ok, &evidence(&p, &k)).is_empty());
    }

    /// E1: aud = the token endpoint is likely; aud = the issuer is ruled out. Likely
    /// causes come first.
    #[tokio::test]
    async fn the_assertion_aud_is_judged_against_the_issuer() {
        let k = key();
        let p = profile(AudienceChoice::TokenEndpoint);
        let now = std::time::SystemTime::now();
        let ex = refused(&p, &k, Grant::ClientCredentials, 401, INVALID_CLIENT, now).await;
        let causes = diagnose(&ex, &evidence(&p, &k));
        assert_eq!(
            status_of(&causes, "diagnosis.assertion_aud"),
            Status::Likely
        );
        assert_eq!(causes[0].code, "diagnosis.assertion_aud", "likely first");
        assert!(causes[0].evidence.contains(TOKEN), "{}", causes[0].evidence);

        let p = profile(AudienceChoice::Issuer);
        let ex = refused(&p, &k, Grant::ClientCredentials, 401, INVALID_CLIENT, now).await;
        let causes = diagnose(&ex, &evidence(&p, &k));
        assert_eq!(
            status_of(&causes, "diagnosis.assertion_aud"),
            Status::RuledOut
        );
        assert_eq!(
            status_of(&causes, "diagnosis.jti_reused"),
            Status::Unknown,
            "no history given"
        );
        assert_eq!(status_of(&causes, "diagnosis.clock_skew"), Status::RuledOut);
        assert_eq!(
            status_of(&causes, "diagnosis.unregistered_key"),
            Status::Unknown,
            "no registered JWKS given"
        );
        // The context alone (issuer) already judges aud.
        assert!(
            ex.diagnosis
                .iter()
                .any(|c| c.code == "diagnosis.assertion_aud")
        );
    }

    /// E2: a server whose Date is two minutes behind sees our iat in its future.
    #[tokio::test]
    async fn a_server_clock_behind_ours_is_the_likely_cause() {
        let k = key();
        let p = profile(AudienceChoice::Issuer);
        let behind = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
        let ex = refused(
            &p,
            &k,
            Grant::ClientCredentials,
            401,
            INVALID_CLIENT,
            behind,
        )
        .await;
        let causes = diagnose(&ex, &evidence(&p, &k));
        assert_eq!(status_of(&causes, "diagnosis.clock_skew"), Status::Likely);
        let c = causes
            .iter()
            .find(|c| c.code == "diagnosis.clock_skew")
            .unwrap();
        assert!(
            c.evidence.contains("after the server's clock"),
            "{}",
            c.evidence
        );
    }

    /// E3: the kid against the registered JWKS: absent is likely, present with the
    /// same public key is ruled out, present with another key is likely.
    #[tokio::test]
    async fn the_signing_kid_is_judged_against_the_registered_jwks() {
        let k = key();
        let p = profile(AudienceChoice::Issuer);
        let now = std::time::SystemTime::now();
        let ex = refused(&p, &k, Grant::ClientCredentials, 401, INVALID_CLIENT, now).await;
        let mut ev = evidence(&p, &k);
        ev.registered_jwks =
            Some(json!({"keys": [key().public_jwk(Some("other"), SigningAlg::ES256)]}));
        assert_eq!(
            status_of(&diagnose(&ex, &ev), "diagnosis.unregistered_key"),
            Status::Likely
        );
        ev.registered_jwks = Some(k.public_jwks(Some("k1"), SigningAlg::ES256));
        assert_eq!(
            status_of(&diagnose(&ex, &ev), "diagnosis.unregistered_key"),
            Status::RuledOut
        );
        ev.registered_jwks =
            Some(json!({"keys": [key().public_jwk(Some("k1"), SigningAlg::ES256)]}));
        assert_eq!(
            status_of(&diagnose(&ex, &ev), "diagnosis.unregistered_key"),
            Status::Likely,
            "the kid is registered for another key"
        );
    }

    fn code_grant(verifier: &str, redirect_uri: &str) -> Grant {
        Grant::AuthorizationCode {
            code: Secret::new("code-1"),
            redirect_uri: redirect_uri.into(),
            code_verifier: Some(Secret::new(verifier)),
        }
    }

    /// E7, E8, E9 on an invalid_grant.
    #[tokio::test]
    async fn an_invalid_grant_is_judged_on_pkce_redirect_uri_and_the_code() {
        let k = key();
        let p = profile(AudienceChoice::Issuer);
        let now = std::time::SystemTime::now();
        let verifier = crate::oauth::pkce::PkceVerifier::generate();
        let grant = code_grant(verifier.as_str(), "https://tpp.example/cb");
        let ex = refused(&p, &k, grant, 400, INVALID_GRANT, now).await;
        let mut ev = evidence(&p, &k);
        // Nothing known about the authorization: cannot tell.
        let causes = diagnose(&ex, &ev);
        assert_eq!(
            status_of(&causes, "diagnosis.pkce_mismatch"),
            Status::Unknown
        );
        assert_eq!(status_of(&causes, "diagnosis.code_reused"), Status::Unknown);
        assert_eq!(
            status_of(&causes, "diagnosis.code_expired"),
            Status::Unknown
        );
        // The authorization as it was: all clean.
        ev.pkce_challenge = Some(verifier.challenge_s256());
        ev.authorization_redirect_uri = Some("https://tpp.example/cb".into());
        ev.code_received_at = Some(crate::jose::numeric_date::now_unix() as i64 - 5);
        ev.earlier_codes = Some(vec![fingerprint("another-code")]);
        let causes = diagnose(&ex, &ev);
        for code in [
            "diagnosis.pkce_mismatch",
            "diagnosis.redirect_uri_mismatch",
            "diagnosis.code_reused",
            "diagnosis.code_expired",
        ] {
            assert_eq!(status_of(&causes, code), Status::RuledOut, "{code}");
        }
        // Another authorization's challenge, another redirect_uri, an old, used code.
        ev.pkce_challenge = Some(crate::oauth::pkce::PkceVerifier::generate().challenge_s256());
        ev.authorization_redirect_uri = Some("https://tpp.example/other".into());
        ev.code_received_at = Some(crate::jose::numeric_date::now_unix() as i64 - 300);
        ev.earlier_codes = Some(vec![fingerprint("code-1")]);
        let causes = diagnose(&ex, &ev);
        for code in [
            "diagnosis.pkce_mismatch",
            "diagnosis.redirect_uri_mismatch",
            "diagnosis.code_reused",
            "diagnosis.code_expired",
        ] {
            assert_eq!(status_of(&causes, code), Status::Likely, "{code}");
        }
    }

    /// E5: no certificate where the profile expects mTLS; E15: the consent's status.
    #[tokio::test]
    async fn certificates_and_consents_are_judged() {
        let k = key();
        let p = profile(AudienceChoice::Issuer);
        let now = std::time::SystemTime::now();
        let ex = refused(&p, &k, Grant::ClientCredentials, 401, INVALID_CLIENT, now).await;
        let mut ev = evidence(&p, &k);
        assert_eq!(
            status_of(&diagnose(&ex, &ev), "diagnosis.client_certificate_missing"),
            Status::Unknown
        );
        ev.certificate_expected = true;
        assert_eq!(
            status_of(&diagnose(&ex, &ev), "diagnosis.client_certificate_missing"),
            Status::Likely
        );
        let body = r#"{"error":"invalid_grant","error_description":"refresh token not valid"}"#;
        let refresh = || Grant::RefreshToken {
            refresh_token: Secret::new("rt"),
        };
        let ex = refused(&p, &k, refresh(), 400, body, now).await;
        ev.consent = Some(ConsentState {
            status: Some("Revoked".into()),
            authorized_word: Some("Authorised".into()),
            expires_at: None,
        });
        assert_eq!(
            status_of(&diagnose(&ex, &ev), "diagnosis.consent_not_authorised"),
            Status::Likely
        );
        ev.consent = Some(ConsentState {
            status: Some("REVOKED".into()),
            authorized_word: None,
            expires_at: None,
        });
        assert_eq!(
            status_of(&diagnose(&ex, &ev), "diagnosis.consent_not_authorised"),
            Status::Likely,
            "without the ecosystem's word"
        );
        ev.consent = Some(ConsentState {
            status: Some("Authorised".into()),
            authorized_word: Some("Authorised".into()),
            expires_at: Some(crate::jose::numeric_date::now_unix() as i64 + 3600),
        });
        assert_eq!(
            status_of(&diagnose(&ex, &ev), "diagnosis.consent_not_authorised"),
            Status::RuledOut
        );
        // The server's own words outrank what was last seen.
        let body = r#"{"error":"invalid_grant","error_description":"the consent was revoked"}"#;
        let ex = refused(&p, &k, refresh(), 400, body, now).await;
        assert_eq!(
            status_of(&diagnose(&ex, &ev), "diagnosis.consent_not_authorised"),
            Status::Likely
        );
    }
}
