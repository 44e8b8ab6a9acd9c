//! Decoding of compact JOSE values (RFC 7515 JWS, RFC 7516 JWE, RFC 7519 JWT) and
//! signing from raw JSON.
//!
//! Nothing here trusts a library's typed header: the header and payload are parsed
//! as JSON values, so unknown algorithms, extra members and fractional NumericDates
//! (RFC 7519 §2) survive exactly as sent. Decoding does not verify anything; see
//! [`crate::jose::verify`] for signatures and [`crate::checks`] for findings.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// What kind of compact serialization a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JoseKind {
    /// Three segments with a signature (RFC 7515).
    Jws,
    /// Three segments with `alg: none` (RFC 7519 §6): nothing protects it.
    Unsecured,
    /// Five segments (RFC 7516): the payload is encrypted.
    Jwe,
}

/// The payload of a decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// A JSON payload (claims), numbers exactly as sent.
    Json(Value),
    /// A payload that is UTF-8 text but not JSON.
    Text(String),
    /// A payload that is neither JSON nor UTF-8.
    Binary(Vec<u8>),
    /// A JWE payload that has not been decrypted.
    Encrypted,
}

/// Which part of a compact value a decode error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// The value as a whole (segment count, empty input).
    Whole,
    /// The protected header (segment 1).
    Header,
    /// The JWS payload (segment 2).
    Payload,
    /// The JWS signature (segment 3).
    Signature,
    /// The JWE encrypted key (segment 2).
    EncryptedKey,
    /// The JWE initialization vector (segment 3).
    Iv,
    /// The JWE ciphertext (segment 4).
    Ciphertext,
    /// The JWE authentication tag (segment 5).
    Tag,
}

impl Segment {
    /// A human name such as "header (segment 1)".
    pub fn describe(self) -> &'static str {
        match self {
            Segment::Whole => "token",
            Segment::Header => "header (segment 1)",
            Segment::Payload => "payload (segment 2)",
            Segment::Signature => "signature (segment 3)",
            Segment::EncryptedKey => "encrypted key (segment 2)",
            Segment::Iv => "initialization vector (segment 3)",
            Segment::Ciphertext => "ciphertext (segment 4)",
            Segment::Tag => "authentication tag (segment 5)",
        }
    }
}

/// A malformed compact value: which segment, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{}: {problem}", segment.describe())]
pub struct DecodeError {
    /// The segment at fault.
    pub segment: Segment,
    /// A sentence a user can act on.
    pub problem: String,
}

impl DecodeError {
    pub(crate) fn new(segment: Segment, problem: impl Into<String>) -> Self {
        Self {
            segment,
            problem: problem.into(),
        }
    }
}

/// A decoded, unverified compact JOSE value.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedJose {
    /// JWS, unsecured JWT or JWE.
    pub kind: JoseKind,
    /// The token as decoded (surrounding whitespace removed).
    pub raw: String,
    /// The protected header, members in the order sent.
    pub header: Map<String, Value>,
    /// The payload.
    pub payload: Payload,
    /// The raw decoded bytes of the segments after the header (JWS: payload, signature;
    /// JWE: encrypted key, iv, ciphertext, tag).
    pub parts: Vec<Vec<u8>>,
}

impl DecodedJose {
    /// The `alg` header parameter.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// The `kid` header parameter.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The `typ` header parameter.
    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// The claims when the payload is a JSON object. Unverified: the name says so.
    pub fn unverified_claims(&self) -> Option<&Map<String, Value>> {
        match &self.payload {
            Payload::Json(Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// The payload as JSON (any JSON value), unverified.
    pub fn payload_json(&self) -> Option<&Value> {
        match &self.payload {
            Payload::Json(v) => Some(v),
            _ => None,
        }
    }

    /// One claim, unverified.
    pub fn unverified_claim(&self, name: &str) -> Option<&Value> {
        self.unverified_claims().and_then(|c| c.get(name))
    }

    /// The JWS signing input (`BASE64URL(header) '.' BASE64URL(payload)`), RFC 7515 §5.1.
    pub fn signing_input(&self) -> Option<&str> {
        if self.kind == JoseKind::Jwe {
            return None;
        }
        let mut dots = self.raw.match_indices('.');
        dots.next();
        let (second, _) = dots.next()?;
        Some(&self.raw[..second])
    }

    /// The JWS signature bytes.
    pub fn signature(&self) -> Option<&[u8]> {
        match self.kind {
            JoseKind::Jwe => None,
            _ => self.parts.get(1).map(Vec::as_slice),
        }
    }

    /// The base64url header segment as sent (JWE AAD, RFC 7516 §5.1 step 14).
    pub fn header_segment(&self) -> &str {
        self.raw.split('.').next().unwrap_or_default()
    }
}

/// Decodes one base64url segment (RFC 7515 §2: URL-safe alphabet, no padding).
pub fn decode_segment(segment: Segment, text: &str) -> Result<Vec<u8>, DecodeError> {
    if text.contains('=') {
        return Err(DecodeError::new(
            segment,
            "has '=' padding; compact serialization uses unpadded base64url (RFC 7515 §2)",
        ));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        let hint = match bad {
            '+' | '/' => " (standard base64; JOSE uses the URL-safe alphabet '-' and '_')",
            c if c.is_whitespace() => " (whitespace inside the token: was it wrapped or cut?)",
            _ => "",
        };
        return Err(DecodeError::new(
            segment,
            format!("has the character {bad:?}, which is not base64url{hint}"),
        ));
    }
    if text.len() % 4 == 1 {
        return Err(DecodeError::new(
            segment,
            format!(
                "is {} characters long, which no base64url value can be (truncated?)",
                text.len()
            ),
        ));
    }
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| DecodeError::new(segment, format!("is not valid base64url: {e}")))
}

/// Encodes bytes as unpadded base64url.
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes any compact JOSE value: a JWS, an unsecured JWT or a JWE.
///
/// Whitespace around the token is ignored; anything else malformed is an error that
/// names the segment.
pub fn decode(token: &str) -> Result<DecodedJose, DecodeError> {
    let raw = token.trim();
    if raw.is_empty() {
        return Err(DecodeError::new(Segment::Whole, "is empty"));
    }
    let segments: Vec<&str> = raw.split('.').collect();
    let header_bytes = match segments.len() {
        3 | 5 => decode_segment(Segment::Header, segments[0])?,
        n => {
            return Err(DecodeError::new(
                Segment::Whole,
                format!(
                    "has {n} segment{} separated by '.'; a JWS or JWT has 3 and a JWE has 5",
                    if n == 1 { "" } else { "s" }
                ),
            ));
        }
    };
    if segments[0].is_empty() {
        return Err(DecodeError::new(Segment::Header, "is empty"));
    }
    let header_value: Value = serde_json::from_slice(&header_bytes).map_err(|e| {
        DecodeError::new(
            Segment::Header,
            format!(
                "is not JSON ({e}); decoded text: {}",
                preview(&header_bytes)
            ),
        )
    })?;
    let Value::Object(header) = header_value else {
        return Err(DecodeError::new(
            Segment::Header,
            format!(
                "is JSON but not an object (it is {}); a JOSE header is a JSON object",
                json_type_name(&header_value)
            ),
        ));
    };
    let alg = match header.get("alg") {
        None => {
            return Err(DecodeError::new(
                Segment::Header,
                "has no \"alg\" member (RFC 7515 §4.1.1 requires it)",
            ));
        }
        Some(Value::String(alg)) => alg.clone(),
        Some(other) => {
            return Err(DecodeError::new(
                Segment::Header,
                format!("\"alg\" is {}, not a string", json_type_name(other)),
            ));
        }
    };

    if segments.len() == 5 {
        match header.get("enc") {
            Some(Value::String(_)) => {}
            None => {
                return Err(DecodeError::new(
                    Segment::Header,
                    "has 5 segments (a JWE) but no \"enc\" member (RFC 7516 §4.1.2 requires it)",
                ));
            }
            Some(other) => {
                return Err(DecodeError::new(
                    Segment::Header,
                    format!("\"enc\" is {}, not a string", json_type_name(other)),
                ));
            }
        }
        let order = [
            Segment::EncryptedKey,
            Segment::Iv,
            Segment::Ciphertext,
            Segment::Tag,
        ];
        let mut parts = Vec::with_capacity(4);
        for (seg, text) in order.iter().zip(&segments[1..]) {
            parts.push(decode_segment(*seg, text)?);
        }
        if segments[3].is_empty() {
            return Err(DecodeError::new(Segment::Ciphertext, "is empty"));
        }
        return Ok(DecodedJose {
            kind: JoseKind::Jwe,
            raw: raw.to_owned(),
            header,
            payload: Payload::Encrypted,
            parts,
        });
    }

    let payload_bytes = decode_segment(Segment::Payload, segments[1])?;
    let signature = decode_segment(Segment::Signature, segments[2])?;
    // An empty signature under a real alg still decodes: the header and claims are shown
    // and verification reports the signature as invalid (empty).
    let kind = if alg.eq_ignore_ascii_case("none") {
        JoseKind::Unsecured
    } else {
        JoseKind::Jws
    };
    Ok(DecodedJose {
        kind,
        raw: raw.to_owned(),
        header,
        payload: parse_payload(&payload_bytes),
        parts: vec![payload_bytes, signature],
    })
}

/// Classifies payload bytes: JSON, text, or binary.
pub fn parse_payload(bytes: &[u8]) -> Payload {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        return Payload::Json(value);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Payload::Text(text.to_owned()),
        Err(_) => Payload::Binary(bytes.to_vec()),
    }
}

/// True when the text looks like a compact JWS/JWE (used to find tokens in responses).
pub fn looks_like_jose(text: &str) -> bool {
    let dots = text.bytes().filter(|b| *b == b'.').count();
    (dots == 2 || dots == 4)
        && text.starts_with("eyJ")
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Builds and signs a compact JWS from a raw JSON header and payload, so claims keep
/// exactly the numbers given (fractional NumericDates included).
///
/// The header must already contain `alg`; `alg` names the jsonwebtoken algorithm used.
pub fn sign_compact(
    header: &Map<String, Value>,
    claims: &Value,
    key: &jsonwebtoken::EncodingKey,
    alg: jsonwebtoken::Algorithm,
) -> Result<String, jsonwebtoken::errors::Error> {
    let header_json = serde_json::to_vec(header).map_err(jsonwebtoken::errors::Error::from)?;
    let claims_json = serde_json::to_vec(claims).map_err(jsonwebtoken::errors::Error::from)?;
    let signing_input = format!("{}.{}", b64url(header_json), b64url(claims_json));
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, alg)?;
    Ok(format!("{signing_input}.{signature}"))
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn preview(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    format!("{out:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, payload: &str, sig: &str) -> String {
        format!("{}.{}.{}", b64url(header), b64url(payload), sig)
    }

    #[test]
    fn keeps_fractional_numeric_dates_exactly() {
        let t = token(
            r#"{"alg":"PS256","kid":"CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI"}"#,
            r#"{"aud":"https://auth1.sandbox.mya.ozoneapi.io","exp":1769767012.739,"iat":1769766702.739}"#,
            "c2ln",
        );
        let d = decode(&format!("  {t}\n")).unwrap();
        assert_eq!(d.kind, JoseKind::Jws);
        assert_eq!(d.alg(), Some("PS256"));
        let exp = d.unverified_claim("exp").unwrap();
        assert_eq!(exp.to_string(), "1769767012.739");
        assert_eq!(d.signing_input().unwrap(), t.rsplit_once('.').unwrap().0);
    }

    #[test]
    fn unknown_alg_is_shown_not_rejected() {
        let d = decode(&token(r#"{"alg":"ES512"}"#, "{}", "c2ln")).unwrap();
        assert_eq!(d.alg(), Some("ES512"));
        let d = decode(&token(r#"{"alg":"Ed25519"}"#, "{}", "c2ln")).unwrap();
        assert_eq!(d.alg(), Some("Ed25519"));
    }

    #[test]
    fn alg_none_is_unsecured() {
        let d = decode(&token(r#"{"alg":"none"}"#, r#"{"sub":"x"}"#, "")).unwrap();
        assert_eq!(d.kind, JoseKind::Unsecured);
    }

    #[test]
    fn jwe_has_five_parts_and_encrypted_payload() {
        let t = format!(
            "{}.{}.{}.{}.{}",
            b64url(r#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#),
            b64url("key"),
            b64url("iv"),
            b64url("ct"),
            b64url("tag")
        );
        let d = decode(&t).unwrap();
        assert_eq!(d.kind, JoseKind::Jwe);
        assert_eq!(d.payload, Payload::Encrypted);
        assert_eq!(d.parts.len(), 4);
    }

    #[test]
    fn errors_name_the_segment() {
        let e = decode("abc.def").unwrap_err();
        assert_eq!(e.segment, Segment::Whole);
        assert!(e.problem.contains("2 segments"), "{e}");

        let e = decode(&format!("{}=.e30.c2ln", b64url(r#"{"alg":"HS256"}"#))).unwrap_err();
        assert_eq!(e.segment, Segment::Header);
        assert!(e.problem.contains("padding"));

        let e = decode(&format!("{}.e3+.c2ln", b64url(r#"{"alg":"HS256"}"#))).unwrap_err();
        assert_eq!(e.segment, Segment::Payload);
        assert!(e.problem.contains("URL-safe"));

        let e = decode(&token("[1,2]", "{}", "c2ln")).unwrap_err();
        assert_eq!(e.segment, Segment::Header);
        assert!(e.problem.contains("not an object"));

        let e = decode(&token(r#"{"typ":"JWT"}"#, "{}", "c2ln")).unwrap_err();
        assert!(e.problem.contains("alg"));

        let e = decode(&token("not json", "{}", "c2ln")).unwrap_err();
        assert_eq!(e.segment, Segment::Header);
        assert!(e.problem.contains("not JSON"));
    }

    #[test]
    fn jwe_needs_enc() {
        let t = format!("{}.AA.AA.AA.AA", b64url(r#"{"alg":"dir"}"#));
        let e = decode(&t).unwrap_err();
        assert_eq!(e.segment, Segment::Header);
        assert!(e.problem.contains("enc"), "{e}");
    }

    #[test]
    fn huge_negative_and_unicode_claims_survive() {
        let claims = r#"{"exp":18446744073709551616,"nbf":-5,"iat":1e300,"name":"Mitsu 平戸 ✓","authorization_details":[{"consent":{"accounts":[{"id":"1"}]}}]}"#;
        let d = decode(&token(r#"{"alg":"PS256"}"#, claims, "c2ln")).unwrap();
        assert_eq!(
            d.unverified_claim("exp").unwrap().to_string(),
            "18446744073709551616"
        );
        assert_eq!(d.unverified_claim("nbf").unwrap().to_string(), "-5");
        // serde_json (arbitrary_precision) keeps the digits but writes the exponent sign.
        assert_eq!(d.unverified_claim("iat").unwrap().to_string(), "1e+300");
        assert_eq!(d.unverified_claim("name").unwrap(), "Mitsu 平戸 ✓");
        assert_eq!(
            serde_json::to_string(&d.payload_json().unwrap()).unwrap(),
            claims.replace("1e300", "1e+300")
        );
    }

    #[test]
    fn binary_payload_and_truncated_segments() {
        let t = format!(
            "{}.{}.c2ln",
            b64url(r#"{"alg":"PS256"}"#),
            b64url([0xff, 0xfe, 0x00])
        );
        assert_eq!(
            decode(&t).unwrap().payload,
            Payload::Binary(vec![0xff, 0xfe, 0x00])
        );
        let e = decode(&format!("{}.e30.c", b64url(r#"{"alg":"PS256"}"#))).unwrap_err();
        assert_eq!(e.segment, Segment::Signature);
        assert!(e.problem.contains("truncated"));
        // An empty signature decodes (verification reports it).
        let d = decode(&format!("{}.e30.", b64url(r#"{"alg":"PS256"}"#))).unwrap();
        assert_eq!(d.kind, JoseKind::Jws);
        assert_eq!(d.signature(), Some(&[][..]));
        let e = decode(" \n ").unwrap_err();
        assert_eq!(e.segment, Segment::Whole);
        let e = decode(&format!("{}.e30.c2 ln", b64url(r#"{"alg":"PS256"}"#))).unwrap_err();
        assert!(e.problem.contains("whitespace"));
    }

    #[test]
    fn non_json_payload_is_text() {
        let d = decode(&token(r#"{"alg":"HS256"}"#, "hello world", "c2ln")).unwrap();
        assert_eq!(d.payload, Payload::Text("hello world".into()));
    }

    #[test]
    fn recognises_tokens_in_responses() {
        assert!(looks_like_jose("eyJhbGciOiJQUzI1NiJ9.e30.c2ln"));
        assert!(!looks_like_jose("26e0bf38-9fab-48e5-8be6-4a906905f959"));
    }
}
