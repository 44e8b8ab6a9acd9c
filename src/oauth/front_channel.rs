//! What the bank's redirect carries beyond a code, judged before the code is redeemed:
//!
//! - the front-channel id_token of the hybrid flow (`response_type=code id_token`, OIDC
//!   Core §3.3.2.11, FAPI 1 Advanced §5.2.2.1): its signature with the issuer's keys,
//!   `iss`, `aud`, `nonce`, `exp`/`iat`, `c_hash` over the code and, under FAPI 1
//!   Advanced, `s_hash` over the state; encrypted to the client in Open Finance Brasil
//!   (opened with the client's key; `x5u`, `x5c` and `jku` headers refused);
//! - a JARM response (`response_mode=jwt`, JARM §4.4): one JWT whose signature, `iss`,
//!   `aud` (the client) and `exp` are checked, and whose claims are the response.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::checks::{CheckContext, Finding, Severity, TokenKind};
use crate::inspector::{self, Inspection, Report};
use crate::jose::jwe::JweKey;
use crate::jose::verify::{SignatureStatus, VerificationKey};
use crate::oauth::redirect::AuthorizationResponse;

/// Where the hybrid flow's rules are.
pub const HYBRID_SOURCE: &str = "OIDC Core §3.3.2.11, §3.3.2.12; FAPI 1 Advanced §5.2.2.1";
/// Where JARM's rules are.
pub const JARM_SOURCE: &str = "JARM (FAPI JWT Secured Authorization Response Mode) §4.4";
/// Where Brazil's rule on key-fetching headers is.
pub const BRAZIL_SOURCE: &str = "Open Finance Brasil security profile (FAPI 1 Advanced, id_token encryption; x5u, x5c, jku prohibited)";

/// The findings that stop the code from being redeemed: an id_token or JARM response
/// that does not verify, was not issued with this code and state, is for another client
/// or issuer, replays another request's nonce, or has expired (OIDC Core §3.3.2.12: the
/// id_token is validated before the code is used). Sending the code would trust a forged
/// or swapped response; `--force-redeem` sends it anyway.
pub const REDEMPTION_BLOCKERS: &[&str] = &[
    "front_channel.id_token_signature",
    "front_channel.id_token_unreadable",
    "front_channel.c_hash_missing",
    "front_channel.s_hash_missing",
    "front_channel.key_fetching_header",
    "front_channel.jarm_signature",
    "front_channel.jarm_invalid",
    "id_token.c_hash_mismatch",
    "id_token.s_hash_mismatch",
    "id_token.iss_mismatch",
    "id_token.aud_mismatch",
    "id_token.aud_missing",
    "id_token.nonce_mismatch",
    "id_token.nonce_missing",
    "jose.expired",
    "jose.alg_none",
];

/// One JWT the front channel carried, judged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FrontToken {
    /// The JWS header (the inner one, when it came encrypted).
    pub header: Map<String, Value>,
    /// The JWE header, when it came encrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Map<String, Value>>,
    /// Its claims.
    pub claims: Option<Value>,
    /// The signature's verdict.
    pub signature: SignatureStatus,
    /// Every check's finding.
    pub findings: Vec<Finding>,
}

/// What the front channel carried, judged.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FrontChannel {
    /// The hybrid flow's id_token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<FrontToken>,
    /// The JARM response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jarm: Option<FrontToken>,
}

impl FrontChannel {
    /// Every finding, the JARM response's first.
    pub fn findings(&self) -> Vec<Finding> {
        self.jarm
            .iter()
            .chain(&self.id_token)
            .flat_map(|t| t.findings.clone())
            .collect()
    }
}

/// What the front channel is checked against.
#[derive(Clone, Debug, Default)]
pub struct Expected<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// The client.
    pub client_id: &'a str,
    /// The `nonce` sent.
    pub nonce: Option<&'a str>,
    /// The `state` sent.
    pub state: Option<&'a str>,
    /// FAPI 1 Advanced: `s_hash` required.
    pub fapi1: bool,
    /// The issuer's JWK Set.
    pub jwks: Option<&'a Value>,
    /// The client's decryption key (an encrypted id_token or JARM response).
    pub decrypt: Option<&'a JweKey>,
    /// Unix seconds.
    pub now: f64,
}

impl Expected<'_> {
    fn context(&self, code: Option<&str>) -> CheckContext {
        CheckContext {
            issuer: Some(self.issuer.to_owned()).filter(|s| !s.is_empty()),
            client_id: Some(self.client_id.to_owned()).filter(|s| !s.is_empty()),
            expected_nonce: self.nonce.map(str::to_owned),
            code: code.map(str::to_owned),
            state: self.state.map(str::to_owned),
            now: self.now,
            ..CheckContext::default()
        }
    }

    fn inspection(&self, kind: TokenKind) -> Inspection {
        Inspection {
            key: self.jwks.cloned().map(VerificationKey::Jwks),
            jwe_key: self.decrypt.cloned(),
            kind: Some(kind),
        }
    }
}

/// Judges what `response` carries (a JARM `response`, an `id_token`), and for JARM gives
/// the response its claims hold.
pub fn judge(
    response: &AuthorizationResponse,
    expected: &Expected<'_>,
) -> (FrontChannel, Option<AuthorizationResponse>) {
    let mut out = FrontChannel::default();
    let mut opened = None;
    if let Some(jwt) = response.param("response") {
        let (token, inner) = open_jarm(jwt, expected);
        out.jarm = Some(token);
        opened = inner;
    }
    let carried = opened.as_ref().unwrap_or(response);
    if let Some(id_token) = carried.param("id_token") {
        out.id_token = Some(check_id_token(id_token, carried.code.as_deref(), expected));
    }
    (out, opened)
}

/// The token `text` inspected as `kind`: the inner JWS's report when it came encrypted
/// (with the JWE header beside), and Brazil's rule on key-fetching headers.
fn inspect(
    text: &str,
    kind: TokenKind,
    expected: &Expected<'_>,
    code: Option<&str>,
) -> Result<FrontToken, String> {
    let report = inspector::inspect(
        text.trim(),
        &expected.inspection(kind),
        &expected.context(code),
    )
    .map_err(|e| e.to_string())?;
    let (encryption, inner) = match (report.kind, report.nested) {
        (crate::jose::jwt::JoseKind::Jwe, Some(nested)) => (Some(report.header.clone()), *nested),
        (crate::jose::jwt::JoseKind::Jwe, None) => {
            return Err(report.decryption_error.unwrap_or_else(|| {
                "it is encrypted (JWE): give the client's decryption key (--decrypt-key, or the profile's encryption key)".into()
            }));
        }
        _ => (
            None,
            Report {
                nested: None,
                ..report
            },
        ),
    };
    let mut findings = inner.findings.clone();
    for header in [Some(&inner.header), encryption.as_ref()]
        .into_iter()
        .flatten()
    {
        for name in ["x5u", "x5c", "jku"] {
            if header.contains_key(name) {
                findings.push(Finding::new(
                    Severity::Error,
                    "front_channel.key_fetching_header",
                    format!("the header carries {name}: keys are taken from the issuer's registered JWK Set only, never from a URL or chain the token names"),
                    BRAZIL_SOURCE,
                ));
            }
        }
    }
    Ok(FrontToken {
        header: inner.header,
        encryption,
        claims: inner.claims,
        signature: inner.signature,
        findings,
    })
}

fn unreadable(code: &'static str, what: &str, why: String, source: &'static str) -> FrontToken {
    FrontToken {
        header: Map::new(),
        encryption: None,
        claims: None,
        signature: SignatureStatus::NotVerifiable {
            reason: why.clone(),
        },
        findings: vec![Finding::new(
            Severity::Error,
            code,
            format!("the {what} cannot be read: {why}"),
            source,
        )],
    }
}

/// The hybrid flow's id_token, checked before `code` is redeemed.
pub fn check_id_token(text: &str, code: Option<&str>, expected: &Expected<'_>) -> FrontToken {
    let mut token = match inspect(text, TokenKind::IdToken, expected, code) {
        Ok(t) => t,
        Err(why) => {
            return unreadable(
                "front_channel.id_token_unreadable",
                "front-channel id_token",
                why,
                HYBRID_SOURCE,
            );
        }
    };
    token.findings.push(signature_finding(
        &token.signature,
        "front_channel.id_token_signature",
        "front-channel id_token",
        HYBRID_SOURCE,
    ));
    let has = |name: &str| token.claims.as_ref().is_some_and(|c| c.get(name).is_some());
    if code.is_some() && !has("c_hash") {
        token.findings.push(Finding::new(
            Severity::Error,
            "front_channel.c_hash_missing",
            "the front-channel id_token has no c_hash, so nothing ties it to this code (required with response_type code id_token)",
            "OIDC Core §3.3.2.11",
        ));
    }
    if expected.fapi1 && expected.state.is_some() && !has("s_hash") {
        token.findings.push(Finding::new(
            Severity::Error,
            "front_channel.s_hash_missing",
            "the front-channel id_token has no s_hash, so nothing ties it to this request's state (FAPI 1 Advanced requires it)",
            "FAPI 1 Advanced §5.2.2.1",
        ));
    }
    token
}

fn signature_finding(
    status: &SignatureStatus,
    code: &'static str,
    what: &str,
    source: &'static str,
) -> Finding {
    match status {
        SignatureStatus::Valid { kid } => Finding::new(
            Severity::Info,
            "front_channel.signature_valid",
            format!(
                "the {what}'s signature verifies with the issuer's key (kid {})",
                kid.as_deref().unwrap_or("?")
            ),
            source,
        ),
        SignatureStatus::Invalid { reason } => Finding::new(
            Severity::Error,
            code,
            format!(
                "the {what}'s signature does not verify: {reason}; its code is not redeemed (--force-redeem sends it anyway)"
            ),
            source,
        ),
        SignatureStatus::NotVerifiable { reason } => Finding::new(
            Severity::Error,
            code,
            format!(
                "the {what}'s signature could not be checked: {reason}; its code is not redeemed (--force-redeem sends it anyway)"
            ),
            source,
        ),
    }
}

/// A JARM response: verified, its `iss`, `aud` and `exp` checked, and its claims read as
/// the authorization response (`code`, `state`, `error`…).
pub fn open_jarm(
    text: &str,
    expected: &Expected<'_>,
) -> (FrontToken, Option<AuthorizationResponse>) {
    let mut token = match inspect(text, TokenKind::Unknown, expected, None) {
        Ok(t) => t,
        Err(why) => {
            return (
                unreadable(
                    "front_channel.jarm_invalid",
                    "JARM response",
                    why,
                    JARM_SOURCE,
                ),
                None,
            );
        }
    };
    // The generic JWT checks know nothing of JARM's aud and iss: JARM's own below.
    token
        .findings
        .retain(|f| f.severity != Severity::Error || f.code.starts_with("jose."));
    token.findings.push(signature_finding(
        &token.signature,
        "front_channel.jarm_signature",
        "JARM response",
        JARM_SOURCE,
    ));
    let claims = token.claims.clone().unwrap_or(Value::Null);
    let text_claim = |name: &str| claims.get(name).and_then(Value::as_str);
    let mut wrong = |what: String| {
        token.findings.push(Finding::new(
            Severity::Error,
            "front_channel.jarm_invalid",
            what,
            JARM_SOURCE,
        ));
    };
    if text_claim("iss") != Some(expected.issuer) {
        wrong(format!(
            "the JARM response's iss is {:?}, not the issuer {:?}",
            text_claim("iss"),
            expected.issuer
        ));
    }
    let aud_fits = match claims.get("aud") {
        Some(Value::String(a)) => a == expected.client_id,
        Some(Value::Array(a)) => a.iter().any(|v| v == expected.client_id),
        _ => false,
    };
    if !aud_fits {
        wrong(format!(
            "the JARM response's aud {} is not this client ({})",
            claims.get("aud").unwrap_or(&Value::Null),
            expected.client_id
        ));
    }
    match claims.get("exp").and_then(Value::as_f64) {
        Some(exp) if exp + 60.0 >= expected.now => {}
        Some(_) => wrong("the JARM response has expired (exp)".into()),
        None => wrong("the JARM response has no exp".into()),
    }
    let params: Vec<(String, String)> = claims
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !matches!(k.as_str(), "aud" | "exp" | "iat"))
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
        .collect();
    let opened = AuthorizationResponse::from_params(params, None);
    (token, Some(opened))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
    use serde_json::json;

    const ISSUER: &str = "https://bank.example";

    fn sign(key: &PrivateKey, claims: &Value) -> String {
        let mut header = Map::new();
        header.insert("alg".into(), "ES256".into());
        header.insert("kid".into(), "k1".into());
        crate::jose::jwt::sign_compact(
            &header,
            claims,
            key.encoding_key(),
            jsonwebtoken::Algorithm::ES256,
        )
        .unwrap()
    }

    fn id_token(key: &PrivateKey, code: &str, state: &str, now: f64) -> String {
        sign(
            key,
            &json!({
                "iss": ISSUER, "sub": "u1", "aud": "c1", "nonce": "n1",
                "iat": now as i64, "exp": now as i64 + 300,
                "c_hash": crate::jose::hash::half_hash("ES256", code).unwrap(),
                "s_hash": crate::jose::hash::half_hash("ES256", state).unwrap(),
            }),
        )
    }

    fn expected<'a>(jwks: &'a Value, now: f64) -> Expected<'a> {
        Expected {
            issuer: ISSUER,
            client_id: "c1",
            nonce: Some("n1"),
            state: Some("s1"),
            fapi1: true,
            jwks: Some(jwks),
            decrypt: None,
            now,
        }
    }

    fn blockers(t: &FrontToken) -> Vec<&'static str> {
        t.findings
            .iter()
            .map(|f| f.code)
            .filter(|c| REDEMPTION_BLOCKERS.contains(c))
            .collect()
    }

    /// A hybrid response's id_token: valid with its code and state; another code is
    /// refused by c_hash; another key by the signature.
    #[test]
    fn the_front_channel_id_token_binds_the_code() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let jwks = key.public_jwks(Some("k1"), SigningAlg::ES256);
        let now = crate::jose::numeric_date::now_unix();
        let text = id_token(&key, "code-1", "s1", now);
        let good = check_id_token(&text, Some("code-1"), &expected(&jwks, now));
        assert!(good.signature.is_valid(), "{good:?}");
        assert!(blockers(&good).is_empty(), "{:?}", good.findings);
        let swapped = check_id_token(&text, Some("code-2"), &expected(&jwks, now));
        assert_eq!(blockers(&swapped), ["id_token.c_hash_mismatch"]);
        let other = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let forged = check_id_token(
            &id_token(&other, "code-1", "s1", now),
            Some("code-1"),
            &expected(&jwks, now),
        );
        assert_eq!(blockers(&forged), ["front_channel.id_token_signature"]);
        let mut e = expected(&jwks, now);
        e.state = Some("s2");
        let codes: Vec<&str> = check_id_token(&text, Some("code-1"), &e)
            .findings
            .iter()
            .map(|f| f.code)
            .collect();
        assert!(codes.contains(&"id_token.s_hash_mismatch"), "{codes:?}");
    }

    /// JARM: the response JWT gives the code and state; another audience or an expired
    /// one is refused; the parameters come out as the response.
    #[test]
    fn a_jarm_response_is_verified_and_read() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let jwks = key.public_jwks(Some("k1"), SigningAlg::ES256);
        let now = crate::jose::numeric_date::now_unix();
        let jarm = sign(
            &key,
            &json!({"iss": ISSUER, "aud": "c1", "exp": now as i64 + 60, "code": "code-1", "state": "s1"}),
        );
        let response = AuthorizationResponse::from_params(vec![("response".into(), jarm)], None);
        let (judged, opened) = judge(&response, &expected(&jwks, now));
        let opened = opened.unwrap();
        assert_eq!(opened.code.as_deref(), Some("code-1"));
        assert_eq!(opened.state.as_deref(), Some("s1"));
        assert!(
            blockers(judged.jarm.as_ref().unwrap()).is_empty(),
            "{judged:?}"
        );
        let other = sign(
            &key,
            &json!({"iss": ISSUER, "aud": "c2", "exp": now as i64 - 600, "error": "access_denied"}),
        );
        let (token, opened) = open_jarm(&other, &expected(&jwks, now));
        assert_eq!(opened.unwrap().error.as_deref(), Some("access_denied"));
        let wrong: Vec<&str> = token
            .findings
            .iter()
            .filter(|f| f.code == "front_channel.jarm_invalid")
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(wrong.len(), 2, "{wrong:?}");
    }
}
