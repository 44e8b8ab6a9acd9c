//! UK Open Banking's `x-jws-signature`: a detached JWS (RFC 7515 Appendix F) over the raw
//! HTTP body, with the three critical header parameters `http://openbanking.org.uk/iat`,
//! `…/iss` (`{org-id}/{software-statement-id}`) and `…/tan` (the trust anchor). Versions
//! 3.0 to 3.1.3 sign the payload unencoded (`b64: false`, RFC 7797); from 3.1.4 `b64` must
//! be absent. The bank signs its answers the same way; that signature is verified here.

use serde_json::{Map, Value, json};

use super::{AnswerSignature, JwsSignatureSettings, MessageSigningError, SignedMessage};
use crate::checks::{Finding, Severity};
use crate::jose::detached::{parse_detached, sign_detached};
use crate::jose::verify::{self, SignatureStatus};
use crate::oauth::x_signature::Signer;

/// The header's name.
pub const HEADER: &str = "x-jws-signature";
/// `http://openbanking.org.uk/iat`: when it was signed (Unix seconds).
pub const IAT: &str = "http://openbanking.org.uk/iat";
/// `http://openbanking.org.uk/iss`: `{org-id}/{software-statement-id}`.
pub const ISS: &str = "http://openbanking.org.uk/iss";
/// `http://openbanking.org.uk/tan`: the trust anchor.
pub const TAN: &str = "http://openbanking.org.uk/tan";
/// The trust anchor of the Open Banking directory, when the profile names none.
pub const DEFAULT_TAN: &str = "openbanking.org.uk";
/// Where the rules are published.
pub const SOURCE: &str = "OBIE Read/Write API Specification, Message Signing (knowledge-base-pub docs/standards/general/message-sign.md); RFC 7797";

/// Signs `body` (the bytes sent) for `settings` at `now`.
pub fn sign(
    settings: &JwsSignatureSettings,
    signer: Signer<'_>,
    body: &[u8],
    now: i64,
) -> Result<SignedMessage, MessageSigningError> {
    let iss = settings.iss.trim();
    if iss.is_empty() {
        return Err(MessageSigningError::Missing(
            "x-jws-signature needs http://openbanking.org.uk/iss, {org-id}/{software-statement-id}: set jws_signature.iss in the profile or give --jws-iss".into(),
        ));
    }
    let tan = match settings.tan.trim() {
        "" => DEFAULT_TAN,
        tan => tan,
    };
    let unencoded = settings.unencoded_payload();
    let mut header = Map::new();
    header.insert("alg".into(), signer.alg.as_str().into());
    header.insert("kid".into(), signer.kid.into());
    header.insert("typ".into(), "JOSE".into());
    header.insert("cty".into(), "application/json".into());
    let mut crit = Vec::new();
    if unencoded {
        header.insert("b64".into(), Value::Bool(false));
        crit.push("b64");
    }
    header.insert(IAT.into(), now.into());
    header.insert(ISS.into(), iss.into());
    header.insert(TAN.into(), tan.into());
    crit.extend([IAT, ISS, TAN]);
    header.insert("crit".into(), json!(crit));
    let value = sign_detached(
        &header,
        body,
        signer.key.encoding_key(),
        signer.alg.jsonwebtoken(),
    )
    .map_err(|e| MessageSigningError::Signing(e.to_string()))?;
    Ok(SignedMessage {
        scheme: HEADER,
        value,
        header,
        claims: Value::Null,
    })
}

/// Which payload encoding the version asks for, as a finding.
pub fn version_finding(settings: &JwsSignatureSettings) -> Finding {
    let version = match settings.version.trim() {
        "" => "(none set: 3.1.4 and later assumed)",
        v => v,
    };
    let text = if settings.unencoded_payload() {
        format!(
            "x-jws-signature for version {version}: the payload is signed unencoded (b64 false, named in crit), as versions 3.0 to 3.1.3 require; from 3.1.4 b64 must be absent"
        )
    } else {
        format!(
            "x-jws-signature for version {version}: b64 is absent (the payload base64url-encoded), as 3.1.4 and later require; versions up to 3.1.3 sign it unencoded (b64 false)"
        )
    };
    Finding::new(Severity::Info, "uk.jws_signature.version", text, SOURCE)
}

/// Checks the bank's `x-jws-signature` on its answer: a detached JWS over `body`,
/// verified with the JWK Sets given, its three critical parameters present.
pub fn check_answer(
    value: Option<&str>,
    body: &[u8],
    jwks: &[Value],
) -> (Option<AnswerSignature>, Vec<Finding>) {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        let finding = Finding::new(
            Severity::Warning,
            "uk.jws_signature.absent",
            "the answer carries no x-jws-signature: an ASPSP signs its answers to signed requests, so nothing proves this body came from the bank",
            SOURCE,
        );
        return (None, vec![finding]);
    };
    let parsed = match parse_detached(value) {
        Ok(parsed) => parsed,
        Err(e) => {
            let finding = Finding::new(
                Severity::Error,
                "uk.jws_signature.malformed",
                format!("the answer's x-jws-signature is not a detached JWS: {e}"),
                SOURCE,
            );
            return (None, vec![finding]);
        }
    };
    let mut findings = Vec::new();
    let named = |name: &str| {
        parsed
            .header
            .get("crit")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|n| n == name))
    };
    let missing: Vec<&str> = [IAT, ISS, TAN]
        .into_iter()
        .filter(|n| !parsed.header.contains_key(*n) || !named(n))
        .collect();
    if !missing.is_empty() {
        findings.push(Finding::new(
            Severity::Error,
            "uk.jws_signature.claims_missing",
            format!(
                "the answer's x-jws-signature lacks, or does not name in crit: {}",
                missing.join(", ")
            ),
            SOURCE,
        ));
    }
    let signature = verify::with_any_set(jwks, |key| parsed.verify(body, key, &[IAT, ISS, TAN]));
    findings.push(verdict_finding(&signature, &parsed.header));
    let answer = AnswerSignature {
        scheme: HEADER,
        header: parsed.header.clone(),
        claims: Value::Null,
        signature,
    };
    (Some(answer), findings)
}

fn verdict_finding(signature: &SignatureStatus, header: &Map<String, Value>) -> Finding {
    let iss = header.get(ISS).and_then(Value::as_str).unwrap_or("?");
    match signature {
        SignatureStatus::Valid { kid } => Finding::new(
            Severity::Info,
            "uk.jws_signature.valid",
            format!(
                "the answer's x-jws-signature verifies over the body (kid {}, signed by {iss})",
                kid.as_deref().unwrap_or("?")
            ),
            SOURCE,
        ),
        SignatureStatus::Invalid { reason } => Finding::new(
            Severity::Error,
            "uk.jws_signature.invalid",
            format!(
                "the answer's x-jws-signature does not verify over the body: {reason}; the body may have been altered"
            ),
            SOURCE,
        ),
        SignatureStatus::NotVerifiable { reason } => Finding::new(
            Severity::Warning,
            "uk.jws_signature.not_checked",
            format!("the answer's x-jws-signature was not checked: {reason}"),
            SOURCE,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};

    fn settings(version: &str) -> JwsSignatureSettings {
        JwsSignatureSettings {
            version: version.into(),
            iss: "0015800001041REAAY/abc".into(),
            tan: String::new(),
        }
    }

    fn signer(key: &PrivateKey) -> Signer<'_> {
        Signer {
            key,
            alg: SigningAlg::PS256,
            kid: "k1",
        }
    }

    /// Up to 3.1.3: b64 false, named critical with the three OB parameters; the
    /// signature covers the raw body bytes.
    #[test]
    fn old_versions_sign_unencoded() {
        let key = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
        let body = br#"{"Data":{"Initiation":{"InstructedAmount":{"Amount":"10.00"}}}}"#;
        let signed = sign(&settings("v3.1.2"), signer(&key), body, 1_800_000_000).unwrap();
        assert_eq!(signed.header["b64"], false);
        assert_eq!(signed.header["crit"], json!(["b64", IAT, ISS, TAN]));
        assert_eq!(signed.header[TAN], DEFAULT_TAN);
        assert_eq!(signed.header[IAT], 1_800_000_000);
        let jwks = vec![key.public_jwks(Some("k1"), SigningAlg::PS256)];
        let (answer, findings) = check_answer(Some(&signed.value), body, &jwks);
        assert!(!answer.unwrap().failed(), "{findings:?}");
        assert_eq!(findings[0].code, "uk.jws_signature.valid");
        let (answer, findings) = check_answer(Some(&signed.value), b"{}", &jwks);
        assert!(answer.unwrap().failed());
        assert_eq!(findings[0].code, "uk.jws_signature.invalid");
    }

    /// From 3.1.4: no b64 at all; crit names only the three.
    #[test]
    fn new_versions_leave_b64_out() {
        let key = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
        for version in ["3.1.4", "3.1.10", "4.0", ""] {
            let signed = sign(&settings(version), signer(&key), b"{}", 1).unwrap();
            assert!(!signed.header.contains_key("b64"), "{version}");
            assert_eq!(signed.header["crit"], json!([IAT, ISS, TAN]));
        }
        assert!(settings("3.1.3").unencoded_payload());
        assert!(settings("3.0").unencoded_payload());
    }

    #[test]
    fn no_iss_is_named_and_no_signature_is_a_warning() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let mut s = settings("3.1.10");
        s.iss.clear();
        let err = sign(&s, signer(&key), b"{}", 1).unwrap_err();
        assert!(err.to_string().contains("openbanking.org.uk/iss"), "{err}");
        let (answer, findings) = check_answer(None, b"{}", &[]);
        assert!(answer.is_none());
        assert_eq!(findings[0].code, "uk.jws_signature.absent");
        let (_, findings) = check_answer(Some("a.b.c"), b"{}", &[]);
        assert_eq!(findings[0].code, "uk.jws_signature.malformed");
    }
}
