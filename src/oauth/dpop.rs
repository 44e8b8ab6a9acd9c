//! DPoP (RFC 9449): proofs of possession for every request of a sender-constrained
//! client, and the nonce a server may ask for.
//!
//! A proof is a JWT typed `dpop+jwt`, signed with the client's DPoP key and carrying its
//! public `jwk`, with a fresh `jti`, the request's `htm` and `htu` (no query or fragment,
//! §4.2), `iat`, the server's `nonce` when it gave one (§8, §9), and `ath` (the access
//! token's hash, §4.2) on resource calls.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::jose::jwt;
use crate::jose::keys::{PrivateKey, SigningAlg};
use crate::oauth::http::HttpResponse;

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const DPOP_TYP: &str = "dpop+jwt";

/// A DPoP key and the algorithm it signs proofs with.
#[derive(Clone, Debug)]
pub struct DpopKey {
    /// The private key.
    pub key: PrivateKey,
    /// ES256 by default; EdDSA and PS256 on request.
    pub alg: SigningAlg,
}

impl DpopKey {
    /// The RFC 7638 thumbprint of the public key: the `cnf.jkt` a bound token carries
    /// (RFC 9449 §6.1) and the `dpop_jkt` of an authorization request (§10).
    pub fn jkt(&self) -> String {
        self.key.thumbprint()
    }
}

/// A signed proof and what went into it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DpopProof {
    /// The compact JWS sent in the `DPoP` header.
    #[serde(skip)]
    pub jwt: String,
    /// The header as signed.
    pub header: Map<String, Value>,
    /// The claims as signed.
    pub claims: Value,
}

/// Why a proof could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the DPoP proof could not be made: {0}")]
pub struct DpopError(String);

/// The `htu` of a request URL: without query and fragment (RFC 9449 §4.2).
pub fn htu(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or(url).to_owned(),
    }
}

/// Makes a proof for one request.
pub fn proof(
    key: &DpopKey,
    method: &str,
    url: &str,
    nonce: Option<&str>,
    access_token: Option<&str>,
    now_secs: i64,
) -> Result<DpopProof, DpopError> {
    key.key
        .check_alg(key.alg)
        .map_err(|e| DpopError(e.to_string()))?;
    let mut header = Map::new();
    header.insert("typ".into(), json!(DPOP_TYP));
    header.insert("alg".into(), json!(key.alg.as_str()));
    header.insert("jwk".into(), key.key.public_jwk(None, key.alg));
    let mut claims = Map::new();
    claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    claims.insert("htm".into(), json!(method.to_ascii_uppercase()));
    claims.insert("htu".into(), json!(htu(url)));
    claims.insert("iat".into(), json!(now_secs));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    if let Some(token) = access_token {
        claims.insert("ath".into(), json!(crate::jose::hash::ath(token)));
    }
    let claims = Value::Object(claims);
    let jwt = jwt::sign_compact(
        &header,
        &claims,
        key.key.encoding_key(),
        key.alg.jsonwebtoken(),
    )
    .map_err(|e| DpopError(e.to_string()))?;
    Ok(DpopProof {
        jwt,
        header,
        claims,
    })
}

/// Whether an answer asks for a DPoP nonce and which: a `400 use_dpop_nonce` from the
/// authorization server (§8) or a `401` with `WWW-Authenticate: DPoP
/// error="use_dpop_nonce"` from a resource server (§9), with the `DPoP-Nonce` header.
pub fn nonce_requested(response: &HttpResponse) -> Option<String> {
    let nonce = response.header("dpop-nonce")?.trim().to_owned();
    let asked = match response.status {
        400 => serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .is_some_and(|e| e == "use_dpop_nonce"),
        401 => response
            .www_authenticate()
            .is_some_and(|w| w.error() == Some("use_dpop_nonce")),
        _ => false,
    };
    (asked && !nonce.is_empty()).then_some(nonce)
}

/// The latest nonce each server gave (by origin), for the next request (§8.2).
#[derive(Debug, Default)]
pub struct NonceStore(Mutex<HashMap<String, String>>);

impl NonceStore {
    fn origin(url: &str) -> String {
        url::Url::parse(url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| url.to_owned())
    }

    /// The nonce to send to this URL's server, if one is known.
    pub fn get(&self, url: &str) -> Option<String> {
        self.0.lock().ok()?.get(&Self::origin(url)).cloned()
    }

    /// Remembers a nonce a server gave in any answer (`DPoP-Nonce`).
    pub fn remember(&self, url: &str, response: &HttpResponse) {
        if let Some(nonce) = response.header("dpop-nonce").map(str::trim)
            && !nonce.is_empty()
            && let Ok(mut map) = self.0.lock()
        {
            map.insert(Self::origin(url), nonce.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::keys::KeyType;

    fn key() -> DpopKey {
        DpopKey {
            key: PrivateKey::generate(KeyType::EC_P256).unwrap(),
            alg: SigningAlg::ES256,
        }
    }

    #[test]
    fn a_proof_has_what_rfc_9449_asks() {
        let k = key();
        let p = proof(
            &k,
            "post",
            "https://as.example/token?x=1#f",
            Some("n1"),
            Some("at"),
            1_800_000_000,
        )
        .unwrap();
        assert_eq!(p.header["typ"], DPOP_TYP);
        assert!(p.header["jwk"].get("d").is_none(), "public only");
        assert_eq!(p.claims["htm"], "POST");
        assert_eq!(p.claims["htu"], "https://as.example/token");
        assert_eq!(p.claims["nonce"], "n1");
        // RFC 9449 §7.1 example: ath of "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".
        assert_eq!(
            crate::jose::hash::ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
        let decoded = jwt::decode(&p.jwt).unwrap();
        assert_eq!(decoded.header["alg"], "ES256");
        assert_eq!(
            k.jkt(),
            crate::jose::keys::jwk_thumbprint(&p.header["jwk"]).unwrap()
        );
    }

    #[test]
    fn nonce_requests_are_recognised() {
        let r = HttpResponse::with(
            400,
            &[("dpop-nonce", "abc")],
            r#"{"error":"use_dpop_nonce","error_description":"nonce"}"#,
        );
        assert_eq!(nonce_requested(&r).as_deref(), Some("abc"));
        let r = HttpResponse::with(
            401,
            &[
                ("dpop-nonce", "n2"),
                ("www-authenticate", r#"DPoP error="use_dpop_nonce""#),
            ],
            "",
        );
        assert_eq!(nonce_requested(&r).as_deref(), Some("n2"));
        let r = HttpResponse::with(400, &[("dpop-nonce", "x")], r#"{"error":"invalid_grant"}"#);
        assert_eq!(nonce_requested(&r), None);
        let store = NonceStore::default();
        store.remember(
            "https://as.example/token",
            &HttpResponse::with(200, &[("DPoP-Nonce", "z")], ""),
        );
        assert_eq!(store.get("https://as.example/par").as_deref(), Some("z"));
        assert_eq!(store.get("https://rs.example/accounts"), None);
    }
}
