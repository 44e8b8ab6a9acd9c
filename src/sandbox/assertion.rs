//! Client authentication: `private_key_jwt` client assertions (RFC 7523 §3, OIDC Core
//! §9, FAPI 2.0 SP §5.3.2.1) checked strictly, signed request objects (RFC 9101), and
//! `tls_client_auth` when a client certificate was presented (RFC 8705 §2).
//!
//! The signatures are checked here with jsonwebtoken directly, not with the client's
//! verification code (`jose::verify`), on purpose: the sandbox is the test bank the
//! client is tested against, and a client and a test bank that share the code deciding
//! whether a signature is valid would agree on the same mistake. The same holds for
//! DPoP proofs ([`verify_with_jwk`]).

use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::state::{OAuthError, Params, Shared, now};
use super::{CLOCK_SKEW_SECS, JWT_BEARER_ASSERTION_TYPE, MAX_ASSERTION_LIFETIME_SECS};
use crate::jose::jwt::{JoseKind, decode};

/// A client that proved who it is.
#[derive(Clone, Debug)]
pub(crate) struct AuthenticatedClient {
    pub client_id: String,
}

/// Authenticates the client of a token, PAR, revocation or introspection request.
///
/// `endpoint_path` is the path called (its URL is accepted as `aud` in lenient mode,
/// besides the token endpoint's); `peer_cert` is the TLS client certificate, if any.
pub(crate) fn authenticate(
    shared: &Shared,
    params: &Params,
    endpoint_path: &str,
    peer_cert: Option<&[u8]>,
) -> Result<AuthenticatedClient, OAuthError> {
    let assertion = params.get("client_assertion")?;
    let assertion_type = params.get("client_assertion_type")?;
    let form_client_id = params.get("client_id")?;
    let Some(assertion) = assertion else {
        if let (Some(cert), Some(client_id)) = (peer_cert, form_client_id)
            && shared.tls
        {
            return tls_client_auth(shared, client_id, cert);
        }
        if assertion_type.is_some() {
            return Err(OAuthError::invalid_request(
                "missing parameter: client_assertion",
            ));
        }
        return Err(OAuthError::invalid_client(
            "no client authentication: missing parameter: client_assertion (this server requires private_key_jwt, RFC 7523)",
        )
        .for_client_opt(form_client_id));
    };
    let Some(assertion_type) = assertion_type else {
        return Err(OAuthError::invalid_request(
            "missing parameter: client_assertion_type",
        ));
    };
    if assertion_type != JWT_BEARER_ASSERTION_TYPE {
        return Err(OAuthError::invalid_client(format!(
            "client_assertion_type must be {JWT_BEARER_ASSERTION_TYPE}, got {assertion_type:?}"
        ))
        .for_client_opt(form_client_id));
    }

    let signed = verify_client_jws(shared, assertion, "client_assertion", Kind::Assertion)?;
    let client_id = signed.client_id;
    let claims = signed.claims;
    let fail = |msg: String| OAuthError::invalid_client(msg).for_client(client_id.clone());

    if let Some(form) = form_client_id
        && form != client_id
    {
        return Err(fail(format!(
            "the client_id parameter ({form}) differs from the client_assertion iss/sub ({client_id})"
        )));
    }

    check_aud(shared, &claims, endpoint_path, &fail)?;
    let now = now();
    let exp = check_window(&claims, now, &fail)?;
    remember_jti(shared, &claims, &client_id, exp, now, &fail)?;
    Ok(AuthenticatedClient { client_id })
}

/// `aud`: exactly the issuer, as a single string (FAPI 2.0 SP §5.3.2.1, RFC 7523bis);
/// the endpoint URL in lenient mode.
fn check_aud(
    shared: &Shared,
    claims: &Map<String, Value>,
    endpoint_path: &str,
    fail: &dyn Fn(String) -> OAuthError,
) -> Result<(), OAuthError> {
    let issuer = &shared.issuer;
    match claims.get("aud") {
        None => {
            return Err(fail(format!(
                "client_assertion has no aud claim; it must be the issuer {issuer}"
            )));
        }
        Some(Value::String(aud)) if aud == issuer => {}
        Some(Value::String(aud)) => {
            let endpoint = shared.url(endpoint_path);
            let is_endpoint = *aud == shared.url("/token") || *aud == endpoint;
            if is_endpoint && shared.lenient_aud {
                // Accepted in lenient mode (older servers want the endpoint URL).
            } else if is_endpoint {
                return Err(fail(format!(
                    "client_assertion aud is the endpoint URL {aud}; this server wants the issuer {issuer} (FAPI 2.0); start the sandbox with --lenient-aud to accept endpoint URLs"
                )));
            } else if aud.trim_end_matches('/') == issuer {
                return Err(fail(format!(
                    "client_assertion aud {aud:?} has a trailing slash; it must be exactly the issuer {issuer}"
                )));
            } else {
                return Err(fail(format!(
                    "client_assertion aud {aud:?} is not the issuer {issuer}"
                )));
            }
        }
        Some(Value::Array(_)) => {
            return Err(fail(format!(
                "client_assertion aud is an array; FAPI 2.0 wants a single string equal to the issuer {issuer}"
            )));
        }
        Some(_) => {
            return Err(fail(format!(
                "client_assertion aud is not a string; it must be the issuer {issuer}"
            )));
        }
    }

    Ok(())
}

/// `exp` (required), `iat` (not in the future; a lifetime of at most an hour) and `nbf`
/// (RFC 7523 §3); the assertion's `exp`.
fn check_window(
    claims: &Map<String, Value>,
    now: f64,
    fail: &dyn Fn(String) -> OAuthError,
) -> Result<f64, OAuthError> {
    let exp = match claims.get("exp") {
        None => {
            return Err(fail(
                "client_assertion has no exp claim (RFC 7523 §3 requires it)".into(),
            ));
        }
        Some(v) => numeric_date(v, "exp").map_err(fail)?,
    };
    if now > exp + CLOCK_SKEW_SECS {
        return Err(fail(format!(
            "client_assertion expired: exp {} is {:.0} s in the past",
            number_text(claims, "exp"),
            now - exp
        )));
    }
    match claims.get("iat") {
        Some(v) => {
            let iat = numeric_date(v, "iat").map_err(fail)?;
            if iat > now + CLOCK_SKEW_SECS {
                return Err(fail(format!(
                    "client_assertion iat {} is {:.0} s in the future (check the clock)",
                    number_text(claims, "iat"),
                    iat - now
                )));
            }
            if exp - iat > MAX_ASSERTION_LIFETIME_SECS {
                return Err(fail(format!(
                    "client_assertion lifetime too long: exp is {:.0} s after iat; at most {MAX_ASSERTION_LIFETIME_SECS:.0} s (60 min) is accepted",
                    exp - iat
                )));
            }
        }
        None => {
            if exp - now > MAX_ASSERTION_LIFETIME_SECS + CLOCK_SKEW_SECS {
                return Err(fail(format!(
                    "client_assertion lifetime too long: exp is {:.0} s from now (and no iat); at most {MAX_ASSERTION_LIFETIME_SECS:.0} s (60 min) is accepted",
                    exp - now
                )));
            }
        }
    }
    if let Some(v) = claims.get("nbf") {
        let nbf = numeric_date(v, "nbf").map_err(fail)?;
        if nbf > now + CLOCK_SKEW_SECS {
            return Err(fail(format!(
                "client_assertion is not valid yet: nbf is {:.0} s in the future",
                nbf - now
            )));
        }
    }
    Ok(exp)
}

/// `jti`: present, and never seen before from this client (a replay, RFC 7523 §3);
/// remembered until the assertion expires.
fn remember_jti(
    shared: &Shared,
    claims: &Map<String, Value>,
    client_id: &str,
    exp: f64,
    now: f64,
    fail: &dyn Fn(String) -> OAuthError,
) -> Result<(), OAuthError> {
    let jti = match claims.get("jti") {
        Some(Value::String(jti)) if !jti.is_empty() => jti.clone(),
        Some(_) => {
            return Err(fail(
                "client_assertion jti is not a non-empty string".into(),
            ));
        }
        None => {
            return Err(fail(
                "client_assertion has no jti claim (needed to detect replays, RFC 7523 §3)".into(),
            ));
        }
    };
    {
        let mut inner = shared.lock();
        let key = format!("{client_id}\n{jti}");
        if inner.jtis.contains_key(&key) {
            return Err(fail(format!(
                "client_assertion jti {jti:?} was already used (replay); make a new assertion with a fresh jti for every request"
            )));
        }
        inner
            .jtis
            .insert(key, exp.max(now) + CLOCK_SKEW_SECS + 60.0, (), now);
    }
    Ok(())
}

/// RFC 8705 §2: a client authenticated by its TLS certificate. With a client CA
/// configured the handshake already checked the chain (PKI `tls_client_auth`);
/// otherwise the certificate must be registered in the client's `jwks` as the first
/// `x5c` element of one of its keys (`self_signed_tls_client_auth`, §2.2).
fn tls_client_auth(
    shared: &Shared,
    client_id: &str,
    cert: &[u8],
) -> Result<AuthenticatedClient, OAuthError> {
    use base64::Engine as _;
    let inner = shared.lock();
    let Some(client) = inner.clients.get(client_id) else {
        drop(inner);
        return Err(unknown_client(client_id));
    };
    let registered = client
        .jwks
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|k| k.get("x5c")?.get(0)?.as_str())
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .any(|der| der == cert);
    if shared.client_ca || registered {
        Ok(AuthenticatedClient {
            client_id: client_id.to_owned(),
        })
    } else {
        Err(OAuthError::invalid_client(format!(
            "the TLS client certificate is not registered for client {client_id}: put it in the client's jwks as x5c (self_signed_tls_client_auth, RFC 8705 §2.2), or send a client_assertion"
        ))
        .for_client(client_id))
    }
}

/// What a client-signed JWS is, for wording and error codes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A client assertion: errors are `invalid_client`.
    Assertion,
    /// A request object (RFC 9101): errors are `invalid_request_object`.
    RequestObject,
}

/// A JWS whose signature verified with the client's registered key.
pub(crate) struct SignedByClient {
    pub client_id: String,
    pub claims: Map<String, Value>,
}

/// Decodes a JWS signed by a client, picks the client from `iss` (and for an
/// assertion checks `iss` = `sub`), and verifies the signature with the registered key
/// picked by `kid`.
pub(crate) fn verify_client_jws(
    shared: &Shared,
    token: &str,
    what: &str,
    kind: Kind,
) -> Result<SignedByClient, OAuthError> {
    let err = |msg: String| match kind {
        Kind::Assertion => OAuthError::invalid_client(msg),
        Kind::RequestObject => OAuthError::new("invalid_request_object", msg),
    };
    let decoded = decode(token).map_err(|e| err(format!("{what} is not a compact JWS: {e}")))?;
    let alg_name = decoded.alg().unwrap_or_default().to_owned();
    let alg = match (decoded.kind, alg_name.as_str()) {
        (JoseKind::Jwe, _) => {
            return Err(err(format!("{what} is encrypted (JWE); send a signed JWT")));
        }
        (JoseKind::Unsecured, _) => {
            return Err(err(format!(
                "{what} alg \"none\" is refused: it must be signed (RFC 8725 §3.1)"
            )));
        }
        (_, "PS256") => Algorithm::PS256,
        (_, "ES256") => Algorithm::ES256,
        (_, "EdDSA") => Algorithm::EdDSA,
        (_, "RS256") => {
            return Err(err(format!(
                "{what} alg RS256 is not allowed: FAPI 2.0 accepts PS256, ES256 or EdDSA"
            )));
        }
        (_, other) => {
            return Err(err(format!(
                "{what} alg {other:?} is not supported: use PS256, ES256 or EdDSA"
            )));
        }
    };
    let Some(claims) = decoded.unverified_claims().cloned() else {
        return Err(err(format!("{what} payload is not a JSON object")));
    };
    let claim_str = |name: &str| match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(err(format!("{what} {name} is not a non-empty string"))),
        None => Err(err(format!("{what} has no {name} claim"))),
    };
    let iss = claim_str("iss")?;
    if kind == Kind::Assertion {
        let sub = claim_str("sub")?;
        if iss != sub {
            return Err(err(format!(
                "{what} iss ({iss}) and sub ({sub}) differ; both must be the client_id (RFC 7523 §3)"
            ))
            .for_client(iss));
        }
    }
    let keys: Vec<Value> = {
        let inner = shared.lock();
        let Some(client) = inner.clients.get(&iss) else {
            drop(inner);
            return Err(match kind {
                Kind::Assertion => unknown_client(&iss),
                Kind::RequestObject => {
                    err(format!("{what} iss {iss:?} is not a registered client"))
                }
            });
        };
        client
            .jwks
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let fail = |msg: String| err(msg).for_client(iss.clone());
    let kid = decoded.kid().map(str::to_owned);
    let candidates: Vec<&Value> = match &kid {
        Some(kid) => {
            let found: Vec<&Value> = keys
                .iter()
                .filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str()))
                .collect();
            if found.is_empty() {
                return Err(fail(format!(
                    "no key with kid {kid:?} in the JWKS registered for client {iss}"
                )));
            }
            found
        }
        None => keys.iter().filter(|k| key_fits(k, alg)).collect(),
    };
    let signature = decoded.raw.rsplit('.').next().unwrap_or_default();
    let Some(signing_input) = decoded.signing_input() else {
        return Err(fail(format!("{what} has no signing input")));
    };
    let mut last_problem = format!("no registered key of client {iss} fits alg {alg_name}");
    for jwk_value in candidates {
        let kid_text = jwk_value
            .get("kid")
            .and_then(Value::as_str)
            .unwrap_or("(no kid)");
        if !key_fits(jwk_value, alg) {
            last_problem = format!(
                "alg {alg_name} does not fit the registered key {kid_text} (kty {})",
                jwk_value.get("kty").and_then(Value::as_str).unwrap_or("?")
            );
            continue;
        }
        if let Some(key_alg) = jwk_value.get("alg").and_then(Value::as_str)
            && key_alg != alg_name
        {
            last_problem = format!(
                "the registered key {kid_text} is for alg {key_alg}, but {what} says {alg_name}"
            );
            continue;
        }
        let key = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(jwk_value.clone())
            .ok()
            .and_then(|jwk| DecodingKey::from_jwk(&jwk).ok());
        let Some(key) = key else {
            last_problem = format!("the registered key {kid_text} of client {iss} is unusable");
            continue;
        };
        match jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &key, alg) {
            Ok(true) => {
                return Ok(SignedByClient {
                    client_id: iss.clone(),
                    claims,
                });
            }
            _ => {
                last_problem = format!(
                    "{what} signature does not verify with the key {kid_text} registered for client {iss}"
                );
            }
        }
    }
    Err(fail(last_problem))
}

/// Verifies a JWS with one public JWK (a DPoP proof's own `jwk`, RFC 9449 §4.3), with
/// the sandbox's own reading of the key, independent of the client's `jose::verify`.
pub(crate) fn verify_with_jwk(
    decoded: &crate::jose::jwt::DecodedJose,
    jwk: &Value,
) -> Result<(), String> {
    let alg = match decoded.alg().unwrap_or_default() {
        "PS256" => Algorithm::PS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" | "Ed25519" => Algorithm::EdDSA,
        other => return Err(format!("alg {other:?} is not accepted")),
    };
    if !key_fits(jwk, alg) {
        return Err(format!(
            "the jwk (kty {}) does not fit alg {alg:?}",
            jwk.get("kty").and_then(Value::as_str).unwrap_or("?")
        ));
    }
    let key = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(jwk.clone())
        .ok()
        .and_then(|jwk| DecodingKey::from_jwk(&jwk).ok())
        .ok_or("the jwk is not a usable public key")?;
    let signature = decoded.raw.rsplit('.').next().unwrap_or_default();
    let input = decoded
        .signing_input()
        .ok_or("the JWS has no signing input")?;
    match jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, alg) {
        Ok(true) => Ok(()),
        _ => Err("the signature does not verify".into()),
    }
}

fn key_fits(jwk: &Value, alg: Algorithm) -> bool {
    let kty = jwk.get("kty").and_then(Value::as_str);
    let crv = jwk.get("crv").and_then(Value::as_str);
    match alg {
        Algorithm::PS256 => kty == Some("RSA"),
        Algorithm::ES256 => kty == Some("EC") && crv == Some("P-256"),
        Algorithm::EdDSA => kty == Some("OKP") && crv == Some("Ed25519"),
        _ => false,
    }
}

fn unknown_client(client_id: &str) -> OAuthError {
    OAuthError::invalid_client(format!(
        "unknown client: {client_id:?} is not registered (register it with POST /register or mock-server --client ID=JWKS_FILE)"
    ))
    .for_client(client_id)
}

/// A NumericDate (RFC 7519 §2): any JSON number, fractional allowed.
pub(crate) fn numeric_date(value: &Value, name: &str) -> Result<f64, String> {
    value
        .as_f64()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{name} is not a NumericDate (a JSON number of seconds)"))
}

fn number_text(claims: &Map<String, Value>, name: &str) -> String {
    claims.get(name).map(Value::to_string).unwrap_or_default()
}

impl OAuthError {
    /// Names the client in the log when it is known.
    pub(crate) fn for_client_opt(self, client_id: Option<&str>) -> Self {
        match client_id {
            Some(c) => self.for_client(c),
            None => self,
        }
    }
}
