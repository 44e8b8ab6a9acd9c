//! One call that does everything for a pasted token: decode, decrypt a JWE (and follow a
//! nested JWS), verify, guess the kind, run the checks and describe the NumericDates.
//! Used by `token-inspector decode`, the GUI inspector and the exchange output.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::checks::{CheckContext, Finding, Severity, TokenKind, check_jwt, guess_kind};
use crate::jose::jwe::{JweKey, decrypt};
use crate::jose::jwt::{DecodeError, JoseKind, Payload, b64url, decode, looks_like_jose};
use crate::jose::numeric_date::{NUMERIC_DATE_CLAIMS, NumericDateView, describe_numeric_date};
use crate::jose::verify::{SignatureStatus, VerificationKey, verify};

/// How deep nested JWE → JWS → … tokens are followed.
const MAX_NESTING: usize = 4;

/// Everything found about one token; the `decode --json` output.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `jws`, `jwe` or `unsecured`.
    pub kind: JoseKind,
    /// What the token is taken to be, and whether that was guessed.
    pub token_kind: TokenKind,
    /// True when `token_kind` was guessed (`--kind auto`).
    pub token_kind_guessed: bool,
    /// The protected header, members in the order sent.
    pub header: Map<String, Value>,
    /// The claims (a JSON payload), numbers exactly as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    /// A payload that is text but not JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_text: Option<String>,
    /// A payload that is neither JSON nor text, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_base64url: Option<String>,
    /// NumericDate claims made readable.
    pub times: Map<String, Value>,
    /// The signature check.
    pub signature: SignatureStatus,
    /// Why a JWE could not be decrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decryption_error: Option<String>,
    /// The findings, errors first.
    pub findings: Vec<Finding>,
    /// A token nested in this one (a JWS inside a decrypted JWE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nested: Option<Box<Report>>,
}

impl Report {
    /// True when this report or a nested one has an invalid signature or failed decryption.
    pub fn failed(&self) -> bool {
        matches!(self.signature, SignatureStatus::Invalid { .. })
            || self.decryption_error.is_some()
            || self.nested.as_ref().is_some_and(|n| n.failed())
    }
}

/// What to check a token with.
#[derive(Debug, Default)]
pub struct Inspection {
    /// The verification key, if any.
    pub key: Option<VerificationKey>,
    /// The JWE decryption key, if any.
    pub jwe_key: Option<JweKey>,
    /// A fixed kind, or `None` to guess.
    pub kind: Option<TokenKind>,
}

/// Decodes, verifies, decrypts and checks one token.
pub fn inspect(token: &str, how: &Inspection, ctx: &CheckContext) -> Result<Report, DecodeError> {
    inspect_at(token, how, ctx, 0)
}

fn inspect_at(
    token: &str,
    how: &Inspection,
    ctx: &CheckContext,
    depth: usize,
) -> Result<Report, DecodeError> {
    let mut decoded = decode(token)?;
    let mut decryption_error = None;
    let mut nested = None;
    if decoded.kind == JoseKind::Jwe
        && let Some(jwe_key) = &how.jwe_key
    {
        match decrypt(&decoded, jwe_key) {
            Ok(payload) => {
                if let Payload::Text(text) = &payload
                    && depth < MAX_NESTING
                    && looks_like_jose(text.trim())
                {
                    // A nested token that does not decode stays shown as text.
                    nested = inspect_at(text, how, ctx, depth + 1).ok().map(Box::new);
                }
                decoded.payload = payload;
            }
            Err(e) => decryption_error = Some(e.to_string()),
        }
    }
    let (token_kind, guessed) = match how.kind {
        Some(k) => (k, false),
        None => (guess_kind(&decoded), true),
    };
    // A DPoP proof is verified with the public key in its own header (RFC 9449 §4.3).
    let own_jwk = (token_kind == TokenKind::DpopProof && how.key.is_none())
        .then(|| decoded.header.get("jwk").filter(|j| j.is_object()).cloned())
        .flatten();
    let signature = match (&how.key, decoded.kind) {
        (None, JoseKind::Jws) if token_kind == TokenKind::DpopProof => match &own_jwk {
            Some(jwk) => verify(&decoded, &VerificationKey::Jwk(jwk.clone())),
            None => SignatureStatus::Invalid {
                reason: "a DPoP proof carries its public key in its header's jwk (RFC 9449 §4.2), and this one has none".into(),
            },
        },
        (_, JoseKind::Jwe) => SignatureStatus::NotVerifiable {
            reason: if nested.is_some() {
                "a JWE is encrypted, not signed; the nested token's signature is checked below"
                    .into()
            } else {
                "a JWE is encrypted, not signed".into()
            },
        },
        (Some(key), _) => verify(&decoded, key),
        (None, JoseKind::Unsecured) => verify(&decoded, &VerificationKey::Secret(Vec::new())),
        (None, _) => SignatureStatus::NotVerifiable {
            reason: "no key given (--jwks, --key, --secret)".into(),
        },
    };
    let checked = match (&how.key, decoded.kind) {
        (None, JoseKind::Jws) if token_kind != TokenKind::DpopProof => None,
        _ => Some(&signature),
    };
    let mut findings = check_jwt(&decoded, token_kind, ctx, checked);
    if let (Some(jwk), SignatureStatus::Valid { .. }) = (&own_jwk, &signature) {
        let thumbprint = crate::jose::keys::jwk_thumbprint(jwk).unwrap_or_default();
        findings.push(Finding::new(
            Severity::Info,
            "dpop_proof.verified_with_own_jwk",
            format!(
                "the signature verifies with the jwk in the proof's own header (RFC 7638 thumbprint {thumbprint}): the sender holds that key; whether a token is bound to it is the token's cnf.jkt"
            ),
            "RFC 9449 §4.3",
        ));
    }
    if let Some(e) = &decryption_error {
        findings.insert(
            0,
            Finding::new(
                Severity::Error,
                "jwe.decryption_failed",
                e.clone(),
                "RFC 7516 §5.2",
            ),
        );
    }
    let mut times = Map::new();
    if let Some(claims) = decoded.unverified_claims() {
        for name in NUMERIC_DATE_CLAIMS {
            if let Some(view) = claims
                .get(*name)
                .and_then(|v| describe_numeric_date(v, ctx.now))
            {
                times.insert((*name).to_owned(), time_json(name, &view, ctx.now));
            }
        }
    }
    let (claims, payload_text, payload_base64url) = match &decoded.payload {
        Payload::Json(v) => (Some(v.clone()), None, None),
        Payload::Text(t) => (None, Some(t.clone()), None),
        Payload::Binary(b) => (None, None, Some(b64url(b))),
        Payload::Encrypted => (None, None, None),
    };
    Ok(Report {
        kind: decoded.kind,
        token_kind,
        token_kind_guessed: guessed,
        header: decoded.header.clone(),
        claims,
        payload_text,
        payload_base64url,
        times,
        signature,
        decryption_error,
        findings,
        nested,
    })
}

fn time_json(name: &str, view: &NumericDateView, now: f64) -> Value {
    serde_json::json!({
        "utc": view.utc,
        "relative": view.relative,
        "description": view.for_claim(name, now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn report_json_shape() {
        let k = crate::jose::verify::test_keys::p256();
        let t = k.sign(Some("k1"), &json!({"sub": "1", "exp": 2e9}));
        let how = Inspection {
            key: Some(VerificationKey::Jwk(k.jwk.clone())),
            ..Inspection::default()
        };
        let ctx = CheckContext {
            now: 1.9e9,
            ..CheckContext::default()
        };
        let r = inspect(&t, &how, &ctx).unwrap();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kind"], "jws");
        assert_eq!(v["signature"]["status"], "valid");
        assert_eq!(v["claims"]["exp"].to_string(), "2000000000.0");
        assert_eq!(v["times"]["exp"]["utc"], "2033-05-18T03:33:20.000Z");
        assert!(!r.failed());
    }

    #[test]
    fn nested_jws_in_jwe_is_inspected() {
        let inner = crate::jose::verify::test_keys::ed25519().sign(None, &json!({"nonce": "n"}));
        let cek = [5u8; 32];
        let t = crate::jose::jwe::tests::encrypt_gcm(
            r#"{"alg":"dir","enc":"A256GCM","cty":"JWT"}"#,
            &[],
            &cek,
            inner.as_bytes(),
        );
        let how = Inspection {
            jwe_key: Some(JweKey::Direct(cek.to_vec())),
            key: Some(VerificationKey::Jwk(
                crate::jose::verify::test_keys::ed25519().jwk.clone(),
            )),
            kind: None,
        };
        let r = inspect(&t, &how, &CheckContext::default()).unwrap();
        assert_eq!(r.kind, JoseKind::Jwe);
        let nested = r.nested.as_ref().unwrap();
        assert!(nested.signature.is_valid());
        assert_eq!(nested.token_kind, TokenKind::IdToken);
        assert!(!r.findings.iter().any(|f| f.code == "jwe.decryption_failed"));
        assert!(!r.failed());
        // A wrong key: decryption error, report failed.
        let how = Inspection {
            jwe_key: Some(JweKey::Direct(vec![6u8; 32])),
            ..Inspection::default()
        };
        let r = inspect(&t, &how, &CheckContext::default()).unwrap();
        assert!(r.failed());
        assert_eq!(r.findings[0].code, "jwe.decryption_failed");
    }

    /// A DPoP proof is verified with the jwk in its own header (RFC 9449 §4.3), which
    /// the report names; a proof whose jwk did not sign it is invalid.
    #[test]
    fn a_dpop_proof_is_verified_with_its_own_jwk() {
        use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
        use crate::oauth::dpop::{DpopKey, proof};
        let key = DpopKey {
            key: PrivateKey::generate(KeyType::EC_P256).unwrap(),
            alg: SigningAlg::ES256,
        };
        let p = proof(
            &key,
            "POST",
            "https://as.example/token",
            None,
            None,
            1_800_000_000,
        )
        .unwrap();
        let report = inspect(&p.jwt, &Inspection::default(), &CheckContext::default()).unwrap();
        assert_eq!(report.token_kind, TokenKind::DpopProof);
        assert_eq!(report.signature.status(), "valid", "{:?}", report.signature);
        let named = report
            .findings
            .iter()
            .find(|f| f.code == "dpop_proof.verified_with_own_jwk")
            .expect("the key is named");
        assert!(named.message.contains(&key.jkt()), "{}", named.message);
        assert!(!report.failed());
        // The same claims signed by another key, with the first key's jwk in the header.
        let other = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let forged = crate::jose::jwt::sign_compact(
            &p.header,
            &p.claims,
            other.encoding_key(),
            SigningAlg::ES256.jsonwebtoken(),
        )
        .unwrap();
        let report = inspect(&forged, &Inspection::default(), &CheckContext::default()).unwrap();
        assert_eq!(report.signature.status(), "invalid");
        assert!(report.failed());
        assert!(
            !report
                .findings
                .iter()
                .any(|f| f.code == "dpop_proof.verified_with_own_jwk")
        );
    }
}
