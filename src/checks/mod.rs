//! Findings: pure functions from what was sent and what came back to a list of
//! `{severity, code, message, source}` items (RFC 8725, RFC 7523, OIDC Core, FAPI 2.0).

use serde::Serialize;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Will be refused, or is insecure.
    Error,
    /// Legal but risky, or an interop problem.
    Warning,
    /// Worth knowing.
    Info,
}

/// One thing the app has to say about a token or an exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// A stable, machine-readable code such as `assertion.aud_not_issuer`.
    pub code: &'static str,
    /// What is wrong and what to do, in one or two sentences.
    pub message: String,
    /// The rule it comes from, such as "RFC 7523 §3" or "FAPI 2.0 SP §5.3.2.1".
    pub source: &'static str,
}

impl Finding {
    /// A new finding.
    pub fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        source: &'static str,
    ) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            source,
        }
    }
}

pub mod access_token;
pub mod assertion;
pub mod binding;
pub mod cause;
pub mod clock;
pub mod discovery;
pub mod dpop_proof;
pub mod id_token;
pub mod jose;
pub mod request_object;
pub mod token_response;

pub use token_response::check_token_response;

use serde_json::Value;

use crate::jose::jwt::DecodedJose;
use crate::jose::verify::SignatureStatus;

/// What a JWT is for; decides which rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A `private_key_jwt` client assertion (RFC 7523 §3, OIDC Core §9).
    ClientAssertion,
    /// An OpenID Connect ID Token (OIDC Core §2).
    IdToken,
    /// A JWT access token (RFC 9068).
    AccessToken,
    /// A signed authorization request object (RFC 9101).
    RequestObject,
    /// A DPoP proof (RFC 9449).
    DpopProof,
    /// Nothing says what it is: only the generic JWT rules apply.
    Unknown,
}

impl TokenKind {
    /// The name used on the command line and in JSON (`client_assertion`, `id_token`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::ClientAssertion => "client_assertion",
            TokenKind::IdToken => "id_token",
            TokenKind::AccessToken => "access_token",
            TokenKind::RequestObject => "request_object",
            TokenKind::DpopProof => "dpop_proof",
            TokenKind::Unknown => "unknown",
        }
    }

    /// Parses a command-line name (`assertion` and `client_assertion` are the same);
    /// `auto` is `None`, meaning "guess".
    pub fn parse(name: &str) -> Result<Option<Self>, String> {
        Ok(Some(match name {
            "auto" => return Ok(None),
            "assertion" | "client_assertion" => TokenKind::ClientAssertion,
            "id_token" => TokenKind::IdToken,
            "access_token" => TokenKind::AccessToken,
            "request_object" => TokenKind::RequestObject,
            "dpop" | "dpop_proof" => TokenKind::DpopProof,
            "unknown" | "jwt" => TokenKind::Unknown,
            other => {
                return Err(format!(
                    "unknown kind {other:?} (assertion, id_token, access_token, request_object, dpop_proof or auto)"
                ));
            }
        }))
    }
}

/// Guesses what a token is from its header and claims: `typ` first (RFC 9068 `at+jwt`,
/// RFC 9101 `oauth-authz-req+jwt`), then ID Token claims (`nonce`, `azp`, `auth_time`,
/// `at_hash`, `c_hash`, `s_hash`), then authorization request parameters, then the client
/// assertion shape (`iss` = `sub` with an `aud`).
pub fn guess_kind(decoded: &DecodedJose) -> TokenKind {
    let typ = decoded.typ().map(str::to_ascii_lowercase);
    match typ.as_deref() {
        Some("at+jwt" | "application/at+jwt") => return TokenKind::AccessToken,
        Some("oauth-authz-req+jwt" | "application/oauth-authz-req+jwt") => {
            return TokenKind::RequestObject;
        }
        Some("dpop+jwt") => return TokenKind::DpopProof,
        _ => {}
    }
    let Some(claims) = decoded.unverified_claims() else {
        return TokenKind::Unknown;
    };
    let has = |name: &str| claims.contains_key(name);
    if ["nonce", "azp", "auth_time", "at_hash", "c_hash", "s_hash"]
        .iter()
        .any(|c| has(c))
    {
        return TokenKind::IdToken;
    }
    if has("response_type") || (has("redirect_uri") && has("client_id")) {
        return TokenKind::RequestObject;
    }
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    if iss.is_some() && iss == sub && has("aud") {
        return TokenKind::ClientAssertion;
    }
    if has("client_id") && (has("scope") || has("cnf")) {
        return TokenKind::AccessToken;
    }
    TokenKind::Unknown
}

/// What the checks compare a token against.
#[derive(Clone, Debug)]
pub struct CheckContext {
    /// The authorization server's issuer identifier (OIDC Discovery `issuer`).
    pub issuer: Option<String>,
    /// Our `client_id`.
    pub client_id: Option<String>,
    /// The token endpoint URL (to recognise an old-style assertion `aud`).
    pub token_endpoint: Option<String>,
    /// The `nonce` sent in the authorization request.
    pub expected_nonce: Option<String>,
    /// The access token of the same response (for `at_hash`).
    pub access_token: Option<String>,
    /// The authorization code (for `c_hash`).
    pub code: Option<String>,
    /// The `state` (for `s_hash`).
    pub state: Option<String>,
    /// The `alg` registered for this token (such as `PS256`).
    pub expected_alg: Option<String>,
    /// Unix seconds to judge `exp`, `nbf` and `iat` against.
    pub now: f64,
    /// Clock skew allowed either way, seconds (default 60).
    pub clock_skew: f64,
    /// Longest acceptable client assertion lifetime (`exp` − `iat`), seconds.
    ///
    /// Default 600. RFC 7523 §3 leaves the limit to the server; assertions are meant to be
    /// short-lived and servers in the field cap them at 5–10 minutes (often with a minute of
    /// leeway). 600 s accepts the seed's 310 s (5 min plus a small margin) and the usual
    /// "5 minutes + skew" assertions, and still flags the hour-long ones that get refused.
    pub max_assertion_lifetime: f64,
}

impl Default for CheckContext {
    fn default() -> Self {
        Self {
            issuer: None,
            client_id: None,
            token_endpoint: None,
            expected_nonce: None,
            access_token: None,
            code: None,
            state: None,
            expected_alg: None,
            now: crate::jose::numeric_date::now_unix(),
            clock_skew: 60.0,
            max_assertion_lifetime: 600.0,
        }
    }
}

/// All findings for one JWT: the generic RFC 8725 / RFC 7519 rules, then the rules of its
/// kind. Sorted errors first; within a severity in the order they were found.
pub fn check_jwt(
    decoded: &DecodedJose,
    kind: TokenKind,
    ctx: &CheckContext,
    signature: Option<&SignatureStatus>,
) -> Vec<Finding> {
    let mut out = jose::check(decoded, kind, ctx, signature);
    if decoded.unverified_claims().is_some() {
        match kind {
            TokenKind::ClientAssertion => out.extend(assertion::check(decoded, ctx)),
            TokenKind::IdToken => out.extend(id_token::check(decoded, ctx)),
            TokenKind::AccessToken => out.extend(access_token::check(decoded, ctx)),
            TokenKind::RequestObject => out.extend(request_object::check(decoded, ctx)),
            TokenKind::DpopProof => out.extend(dpop_proof::check(decoded, ctx)),
            TokenKind::Unknown => {}
        }
    }
    out.sort_by_key(|f| f.severity);
    out
}

/// A claim as a string.
pub(crate) fn str_claim<'a>(decoded: &'a DecodedJose, name: &str) -> Option<&'a str> {
    decoded.unverified_claim(name).and_then(Value::as_str)
}

/// A claim as NumericDate seconds (`None` when absent or not a number).
pub(crate) fn seconds_claim(decoded: &DecodedJose, name: &str) -> Option<f64> {
    decoded
        .unverified_claim(name)
        .and_then(crate::jose::numeric_date::numeric_date_seconds)
        .filter(|s| s.is_finite())
}

/// The audiences of an `aud` value (a string or an array of strings), RFC 7519 §4.1.3.
pub(crate) fn audiences(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// "2026-01-30T09:56:52.739Z (3 h ago)".
pub(crate) fn when(seconds: f64, now: f64) -> String {
    format!(
        "{} ({})",
        crate::jose::numeric_date::format_utc(seconds),
        crate::jose::numeric_date::format_relative(seconds - now)
    )
}

/// Test helpers for the check modules.
#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use crate::jose::jwt::{b64url, decode};

    /// A token with the given header and claims and a dummy signature (checks do not
    /// verify).
    pub(crate) fn token(header: Value, claims: Value) -> DecodedJose {
        decode(&format!(
            "{}.{}.c2ln",
            b64url(header.to_string()),
            b64url(claims.to_string())
        ))
        .unwrap()
    }

    /// The codes in a list of findings.
    pub(crate) fn codes(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code).collect()
    }

    /// Asserts the code is present.
    #[track_caller]
    pub(crate) fn assert_has(findings: &[Finding], code: &str) {
        assert!(
            findings.iter().any(|f| f.code == code),
            "expected {code} in {:?}",
            codes(findings)
        );
    }

    /// Asserts the code is absent.
    #[track_caller]
    pub(crate) fn assert_lacks(findings: &[Finding], code: &str) {
        assert!(
            !findings.iter().any(|f| f.code == code),
            "did not expect {code} in {findings:#?}"
        );
    }

    /// Sets (or, with `Value::Null`, removes) one member of a JSON object.
    pub(crate) fn with(mut v: Value, name: &str, value: Value) -> Value {
        if let Some(map) = v.as_object_mut() {
            if value.is_null() {
                map.remove(name);
            } else {
                map.insert(name.to_owned(), value);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::token;
    use super::*;
    use serde_json::json;

    #[test]
    fn guess_kind_from_typ_and_claims() {
        let seed_assertion = json!({"aud": "https://auth1.sandbox.mya.ozoneapi.io", "exp": 1769767012.739,
            "iss": "c", "sub": "c", "jti": "j", "iat": 1769766702.739});
        let h = json!({"alg": "PS256"});
        assert_eq!(
            guess_kind(&token(h.clone(), seed_assertion.clone())),
            TokenKind::ClientAssertion
        );
        assert_eq!(
            guess_kind(&token(
                h.clone(),
                json!({"iss": "i", "sub": "s", "nonce": "n"})
            )),
            TokenKind::IdToken
        );
        assert_eq!(
            guess_kind(&token(json!({"alg": "PS256", "typ": "at+jwt"}), json!({}))),
            TokenKind::AccessToken
        );
        assert_eq!(
            guess_kind(&token(
                json!({"alg": "PS256", "typ": "oauth-authz-req+jwt"}),
                json!({})
            )),
            TokenKind::RequestObject
        );
        assert_eq!(
            guess_kind(&token(
                h.clone(),
                json!({"client_id": "c", "scope": "accounts"})
            )),
            TokenKind::AccessToken
        );
        assert_eq!(
            guess_kind(&token(h.clone(), json!({"iss": "i", "sub": "s"}))),
            TokenKind::Unknown
        );
        assert_eq!(guess_kind(&token(h, json!([1, 2]))), TokenKind::Unknown);
    }

    #[test]
    fn context_defaults() {
        let c = CheckContext::default();
        assert_eq!(c.clock_skew, 60.0);
        assert_eq!(c.max_assertion_lifetime, 600.0);
        assert!(c.now > 1.7e9);
    }

    #[test]
    fn findings_are_sorted_errors_first() {
        let d = token(
            json!({"alg": "RS256", "jku": "x"}),
            json!({"iss": "a", "sub": "a", "aud": "x"}),
        );
        let f = check_jwt(
            &d,
            TokenKind::ClientAssertion,
            &CheckContext::default(),
            None,
        );
        assert!(
            f.windows(2).all(|w| w[0].severity <= w[1].severity),
            "{f:#?}"
        );
        assert_eq!(f[0].severity, Severity::Error);
    }
}
