//! DPoP at the sandbox (RFC 9449): proofs are checked on the back channel (`typ`,
//! `alg`, a public `jwk` that verifies the signature, `htm`, `htu`, `iat` window, `jti`
//! replay, `ath` on resource calls), and with `dpop_nonce` the server asks for a nonce
//! (`use_dpop_nonce` with a `DPoP-Nonce` header) before it accepts a proof (§8).

use axum::http::HeaderMap;
use serde_json::Value;

use super::state::{OAuthError, Shared};
use crate::jose::jwt;

/// How far `iat` may be from now, seconds.
const IAT_WINDOW: f64 = 60.0;

fn refuse(description: String) -> OAuthError {
    OAuthError::new("invalid_dpop_proof", description)
}

/// Checks the request's `DPoP` header, if any; returns the key's thumbprint (`jkt`).
pub(crate) fn check_proof(
    shared: &Shared,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    access_token: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    let mut values = headers.get_all("dpop").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(refuse("more than one DPoP header (RFC 9449 §4.3)".into()));
    }
    let text = value
        .to_str()
        .map_err(|_| refuse("the DPoP header is not text".into()))?;
    let decoded =
        jwt::decode(text).map_err(|e| refuse(format!("the DPoP proof does not decode: {e}")))?;
    if decoded.header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(refuse(
            "the DPoP proof's typ is not dpop+jwt (RFC 9449 §4.2)".into(),
        ));
    }
    let alg = decoded.alg().unwrap_or_default();
    if !["ES256", "PS256", "EdDSA", "Ed25519", "ESP256"].contains(&alg) {
        return Err(refuse(format!(
            "DPoP alg {alg:?} is not accepted (ES256, PS256, EdDSA)"
        )));
    }
    let jwk = decoded
        .header
        .get("jwk")
        .cloned()
        .ok_or_else(|| refuse("the DPoP proof carries no jwk (RFC 9449 §4.2)".into()))?;
    if jwk.get("d").is_some() || jwk.get("k").is_some() {
        return Err(refuse("the DPoP proof's jwk holds a private key".into()));
    }
    if let Err(why) = super::assertion::verify_with_jwk(&decoded, &jwk) {
        return Err(refuse(format!(
            "the DPoP proof's signature does not verify with its jwk: {why}"
        )));
    }
    let jwt::Payload::Json(Value::Object(claims)) = &decoded.payload else {
        return Err(refuse(
            "the DPoP proof's payload is not a JSON object".into(),
        ));
    };
    let text_claim = |name: &str| claims.get(name).and_then(Value::as_str);
    if text_claim("htm") != Some(method) {
        return Err(refuse(format!(
            "htm is {:?}, the request is {method}",
            text_claim("htm")
        )));
    }
    let htu = format!("{}{path}", shared.issuer);
    if text_claim("htu") != Some(htu.as_str()) {
        return Err(refuse(format!(
            "htu is {:?}, the request is to {htu}",
            text_claim("htu")
        )));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .ok_or_else(|| refuse("the DPoP proof has no iat".into()))?;
    if (iat - now).abs() > IAT_WINDOW {
        return Err(refuse(format!(
            "the DPoP proof's iat is {:.0} s from now",
            iat - now
        )));
    }
    let jti = text_claim("jti").ok_or_else(|| refuse("the DPoP proof has no jti".into()))?;
    if let Some(token) = access_token
        && text_claim("ath") != Some(crate::jose::hash::ath(token).as_str())
    {
        return Err(refuse(
            "ath does not match the access token (RFC 9449 §4.3)".into(),
        ));
    }
    if shared.failures.stale_dpop_nonce {
        let sent = text_claim("nonce").unwrap_or("none");
        let mut e = OAuthError::new(
            "use_dpop_nonce",
            format!(
                "the DPoP nonce {sent} is not (or no longer) valid: use the DPoP-Nonce header's value (RFC 9449 §8)"
            ),
        );
        e.dpop_nonce = Some(uuid::Uuid::new_v4().simple().to_string());
        return Err(e);
    }
    if let Some(expected) = shared.dpop_nonce.as_deref()
        && text_claim("nonce") != Some(expected)
    {
        let mut e = OAuthError::new(
            "use_dpop_nonce",
            "this server requires a DPoP nonce: use the DPoP-Nonce header's value (RFC 9449 §8)",
        );
        e.dpop_nonce = Some(expected.to_owned());
        return Err(e);
    }
    let mut inner = shared.lock();
    let key = format!("dpop:{jti}");
    if inner.jtis.contains_key(&key) {
        return Err(refuse(format!(
            "the DPoP proof jti {jti} was already used (replay)"
        )));
    }
    inner.jtis.insert(key, now + 2.0 * IAT_WINDOW, (), now);
    drop(inner);
    Ok(crate::jose::keys::jwk_thumbprint(&jwk))
}
