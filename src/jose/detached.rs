//! JWS with a detached payload (RFC 7515 Appendix F: `header..signature`, the payload
//! carried elsewhere, here an HTTP body) and with an unencoded payload (RFC 7797:
//! `"b64": false`, signed over the raw bytes, which `crit` must then name).

use serde_json::{Map, Value};

use crate::jose::jwt::{DecodeError, DecodedJose, JoseKind, Segment, b64url};
use crate::jose::verify::{SignatureStatus, VerificationKey, verify_signing_input};

/// A detached JWS as received: its header, read; the payload comes separately.
#[derive(Clone, Debug, PartialEq)]
pub struct DetachedJws {
    /// The protected header.
    pub header: Map<String, Value>,
    /// `b64` (RFC 7797 §3): true unless the header says `false`.
    pub b64: bool,
    header_b64: String,
    signature_b64: String,
}

/// The bytes a detached JWS signs: `BASE64URL(header) "." BASE64URL(payload)`, or with
/// `b64: false` the payload's own bytes after the dot (RFC 7797 §3).
pub fn signing_input(header_b64: &str, payload: &[u8], b64: bool) -> Vec<u8> {
    let mut input = Vec::with_capacity(header_b64.len() + 1 + payload.len() * 4 / 3 + 4);
    input.extend_from_slice(header_b64.as_bytes());
    input.push(b'.');
    if b64 {
        input.extend_from_slice(b64url(payload).as_bytes());
    } else {
        input.extend_from_slice(payload);
    }
    input
}

/// Signs `payload` detached: the header as given (with `alg`; `"b64": false` and `crit`
/// when an unencoded payload is wanted), the result `header..signature`.
pub fn sign_detached(
    header: &Map<String, Value>,
    payload: &[u8],
    key: &jsonwebtoken::EncodingKey,
    alg: jsonwebtoken::Algorithm,
) -> Result<String, jsonwebtoken::errors::Error> {
    let header_b64 = b64url(serde_json::to_vec(header).map_err(jsonwebtoken::errors::Error::from)?);
    let b64 = header.get("b64") != Some(&Value::Bool(false));
    let signature =
        jsonwebtoken::crypto::sign(&signing_input(&header_b64, payload, b64), key, alg)?;
    Ok(format!("{header_b64}..{signature}"))
}

/// Reads a detached JWS (`header..signature`). A JWS with its payload attached is not
/// detached and is refused, so a payload is never taken from the wrong place.
pub fn parse_detached(text: &str) -> Result<DetachedJws, DecodeError> {
    let text = text.trim();
    let parts: Vec<&str> = text.split('.').collect();
    let [header_b64, payload, signature_b64] = parts.as_slice() else {
        return Err(DecodeError::new(
            Segment::Whole,
            format!(
                "has {} segments; a detached JWS is header..signature (RFC 7515 Appendix F)",
                parts.len()
            ),
        ));
    };
    if !payload.is_empty() {
        return Err(DecodeError::new(
            Segment::Payload,
            "is not empty: this JWS carries its payload, it is not detached (RFC 7515 Appendix F)",
        ));
    }
    let header_bytes = crate::jose::jwt::decode_segment(Segment::Header, header_b64)?;
    let Ok(Value::Object(header)) = serde_json::from_slice::<Value>(&header_bytes) else {
        return Err(DecodeError::new(Segment::Header, "is not a JSON object"));
    };
    crate::jose::jwt::decode_segment(Segment::Signature, signature_b64)?;
    let b64 = header.get("b64") != Some(&Value::Bool(false));
    Ok(DetachedJws {
        header,
        b64,
        header_b64: (*header_b64).to_owned(),
        signature_b64: (*signature_b64).to_owned(),
    })
}

impl DetachedJws {
    /// Verifies the signature over `payload` with `key`. RFC 7797 §6: `b64` must be a
    /// boolean and, when present, named in `crit`; `understood` lists the other critical
    /// header parameters the caller checks itself.
    pub fn verify(
        &self,
        payload: &[u8],
        key: &VerificationKey,
        understood: &[&str],
    ) -> SignatureStatus {
        if let Some(b64) = self.header.get("b64") {
            if !b64.is_boolean() {
                return invalid("the header's b64 is not a boolean (RFC 7797 §3)");
            }
            let named = self
                .header
                .get("crit")
                .and_then(Value::as_array)
                .is_some_and(|c| c.iter().any(|n| n == "b64"));
            if !named {
                return invalid(
                    "the header has b64 but its crit does not name it, so a verifier that does not understand b64 would check another signing input (RFC 7797 §6)",
                );
            }
        }
        let signature = crate::jose::jwt::decode_segment(Segment::Signature, &self.signature_b64)
            .unwrap_or_default();
        let alg = self
            .header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let decoded = DecodedJose {
            kind: if alg.eq_ignore_ascii_case("none") {
                JoseKind::Unsecured
            } else {
                JoseKind::Jws
            },
            raw: format!("{}..{}", self.header_b64, self.signature_b64),
            header: self.header.clone(),
            payload: crate::jose::jwt::parse_payload(payload),
            parts: vec![payload.to_vec(), signature],
        };
        let mut known: Vec<&str> = understood.to_vec();
        known.push("b64");
        verify_signing_input(
            &decoded,
            &signing_input(&self.header_b64, payload, self.b64),
            &self.signature_b64,
            key,
            &known,
        )
    }
}

fn invalid(reason: &str) -> SignatureStatus {
    SignatureStatus::Invalid {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
    use serde_json::json;

    fn header(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn signs_and_verifies_encoded_and_unencoded_payloads() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let jwks = VerificationKey::Jwks(key.public_jwks(Some("k1"), SigningAlg::ES256));
        let body = br#"{"Data":{"Amount":"1.00"}}"#;
        for h in [
            json!({"alg": "ES256", "kid": "k1"}),
            json!({"alg": "ES256", "kid": "k1", "b64": false, "crit": ["b64"]}),
        ] {
            let jws = sign_detached(
                &header(h.clone()),
                body,
                key.encoding_key(),
                jsonwebtoken::Algorithm::ES256,
            )
            .unwrap();
            assert!(jws.contains(".."), "{jws}");
            let parsed = parse_detached(&jws).unwrap();
            assert!(parsed.verify(body, &jwks, &[]).is_valid(), "{h}");
            let other = parsed.verify(b"{\"Data\":{\"Amount\":\"9.00\"}}", &jwks, &[]);
            assert_eq!(other.status(), "invalid", "{h}: a changed body fails");
        }
    }

    /// RFC 7797 §6: b64 outside crit is refused; RFC 7515 Appendix F: an attached payload is
    /// not a detached JWS.
    #[test]
    fn b64_must_be_critical_and_a_payload_must_be_detached() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let jwks = VerificationKey::Jwks(key.public_jwks(Some("k1"), SigningAlg::ES256));
        let h = header(json!({"alg": "ES256", "kid": "k1", "b64": false}));
        let jws =
            sign_detached(&h, b"x", key.encoding_key(), jsonwebtoken::Algorithm::ES256).unwrap();
        let status = parse_detached(&jws).unwrap().verify(b"x", &jwks, &[]);
        assert!(
            status.reason().unwrap().contains("RFC 7797 §6"),
            "{status:?}"
        );
        assert!(parse_detached("eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2ln").is_err());
        assert!(parse_detached("nonsense").is_err());
    }
}
