//! How keys are written down: PEM blocks (RFC 7468), JWK members (RFC 7517, RFC 7518
//! §6) and the JWK thumbprint (RFC 7638).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

use crate::jose::keys::KeyError;

/// RFC 7638 §3 thumbprint (SHA-256, base64url) of a public JWK's required members.
pub fn jwk_thumbprint(jwk: &Value) -> Option<String> {
    let kty = jwk.get("kty")?.as_str()?;
    let names: &[&str] = match kty {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "oct" => &["k", "kty"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (i, name) in names.iter().enumerate() {
        let value = jwk.get(*name)?.as_str()?;
        if i > 0 {
            canonical.push(',');
        }
        canonical.push_str(&serde_json::to_string(name).ok()?);
        canonical.push(':');
        canonical.push_str(&serde_json::to_string(value).ok()?);
    }
    canonical.push('}');
    Some(crate::jose::hash::s256(canonical.as_bytes()))
}

/// Parses every PEM block in the text into (label, DER) (RFC 7468). The armour is found
/// by its markers, so a PEM pasted onto one line (line breaks turned into spaces) reads
/// too; RFC 1421 header lines are skipped, and an encrypted key is named as such.
pub fn parse_pem(text: &str) -> Result<Vec<(String, Vec<u8>)>, KeyError> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| KeyError::BadPem("a BEGIN line is not closed by -----".into()))?;
        let label = &after[..label_end];
        let body_and_more = &after[label_end + "-----".len()..];
        let end = format!("-----END {label}-----");
        let body_end = body_and_more.find(&end).ok_or_else(|| {
            KeyError::BadPem(format!(
                "the block {label:?} has no matching END line (was the file cut?)"
            ))
        })?;
        let mut body = String::new();
        for line in body_and_more[..body_end].lines().map(str::trim) {
            if line.contains(':') {
                if line.starts_with("Proc-Type") && line.contains("ENCRYPTED") {
                    return Err(KeyError::Encrypted);
                }
                continue; // RFC 1421 headers
            }
            body.extend(line.chars().filter(|c| !c.is_whitespace()));
        }
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| KeyError::BadPem(format!("the block {label:?} is not base64: {e}")))?;
        blocks.push((label.to_owned(), der));
        rest = &body_and_more[body_end + end.len()..];
    }
    if blocks.is_empty() {
        return Err(KeyError::BadPem("no BEGIN/END block found".into()));
    }
    Ok(blocks)
}

/// Wraps DER in PEM armour (64-character lines).
pub fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

pub(super) fn b64_uint(bytes: &[u8]) -> String {
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    URL_SAFE_NO_PAD.encode(&bytes[start..])
}

pub(super) fn jwk_str<'a>(value: &'a Value, name: &str) -> Result<&'a str, KeyError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| KeyError::Invalid {
            kind: "JWK",
            reason: format!("missing string member {name:?}"),
        })
}

pub(super) fn jwk_bytes(value: &Value, name: &str) -> Result<Vec<u8>, KeyError> {
    URL_SAFE_NO_PAD
        .decode(jwk_str(value, name)?.trim_end_matches('='))
        .map_err(|e| KeyError::Invalid {
            kind: "JWK",
            reason: format!("member {name:?} is not base64url: {e}"),
        })
}

pub(super) fn jwk_uint(value: &Value, name: &str) -> Result<rsa::BoxedUint, KeyError> {
    let bytes = jwk_bytes(value, name)?;
    Ok(rsa::BoxedUint::from_be_slice_vartime(&bytes))
}
