//! PayNet's `x-signature` on Open Finance Malaysia data calls. Two published documents
//! describe it differently, so both are built, chosen by the profile or a flag:
//!
//! - *compact* (the Ozone sandbox guide, "09 Accessing account data"): a compact JWS,
//!   header `{alg: PS256, kid}`, claims `iss` = dc_id, `sub` (the guide: dc_id; its
//!   samples: the consent id), `aud` = [dp_id, "Paynet OFP"], `iat`, `nbf` = `iat`,
//!   `exp` = `iat` + 300, `jti`, `qpm` (the query parameters as a map of strings) and
//!   `url` (the URL without its query);
//! - *detached* (PayNet's DC/DP specification v1.2): a JWS with a detached payload over
//!   the raw body bytes (RFC 7515 Appendix F), protected headers `alg`, `kid`, `iss`,
//!   `jti`, `iat`, `crit`.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::checks::{Finding, Severity};
use crate::jose::keys::{PrivateKey, SigningAlg};
pub use crate::storage::profile::{XSignatureFormat, XSignatureSettings};

/// The guide's audience beside the data provider.
pub const PAYNET_AUDIENCE: &str = "Paynet OFP";
/// How long a compact `x-signature` is valid (the guide: `exp` = `iat` + 300).
pub const LIFETIME_SECS: i64 = 300;
/// Where the compact format is published.
pub const COMPACT_SOURCE: &str =
    "PayNet OFP sandbox guide, developers-guide/09-accessing-account-data";
/// Where the detached format is published.
pub const DETACHED_SOURCE: &str =
    "PayNet OFP DC/DP specification v1.2.x (docs.openfinance.dev.inet.paynet.my/dp)";

/// Both documents, for a finding about the choice between them.
pub const BOTH_SOURCES: &str = "PayNet OFP sandbox guide, developers-guide/09-accessing-account-data; PayNet OFP DC/DP specification v1.2.x (docs.openfinance.dev.inet.paynet.my/dp)";

/// A signature made: the header value and what it holds, decoded for display.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct XSignature {
    /// The format.
    pub format: XSignatureFormat,
    /// The header's value.
    pub value: String,
    /// The protected header.
    pub header: Map<String, Value>,
    /// The claims (compact), or `null` (detached: the body is the payload).
    pub claims: Value,
}

/// Why no signature could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XSignatureError {
    /// Something it needs is not given.
    #[error("x-signature: {0}")]
    Missing(String),
    /// The URL is not one.
    #[error("x-signature: the URL {0:?} is not valid")]
    BadUrl(String),
    /// Signing failed.
    #[error("x-signature: signing failed: {0}")]
    Signing(String),
}

/// The key that signs, its algorithm and `kid`.
#[derive(Clone, Copy, Debug)]
pub struct Signer<'a> {
    /// The data consumer's signing key.
    pub key: &'a PrivateKey,
    /// Its algorithm (PS256 in Malaysia).
    pub alg: SigningAlg,
    /// Its `kid`, as registered with PayNet.
    pub kid: &'a str,
}

/// The call signed: `url` with its query, `body` as sent (empty for a GET), at `now`
/// (Unix seconds), with `jti` (the samples reuse the interaction id).
#[derive(Clone, Copy, Debug)]
pub struct SignedCall<'a> {
    /// The URL with its query.
    pub url: &'a str,
    /// The body bytes as sent.
    pub body: &'a [u8],
    /// Unix seconds.
    pub now: i64,
    /// The `jti`.
    pub jti: &'a str,
}

/// Signs a data call in the settings' format.
pub fn sign(
    settings: &XSignatureSettings,
    signer: Signer<'_>,
    call: SignedCall<'_>,
) -> Result<XSignature, XSignatureError> {
    let Signer { key, alg, kid } = signer;
    let SignedCall {
        url,
        body,
        now,
        jti,
    } = call;
    if settings.dc_id.trim().is_empty() {
        return Err(XSignatureError::Missing(
            "no dc_id (the data consumer id PayNet issued): set it in the profile or give --dc-id"
                .into(),
        ));
    }
    let mut header = Map::new();
    header.insert("alg".into(), alg.as_str().into());
    header.insert("kid".into(), kid.into());
    let signing = |header: &Map<String, Value>, claims: Option<&Value>| match claims {
        Some(claims) => {
            crate::jose::jwt::sign_compact(header, claims, key.encoding_key(), alg.jsonwebtoken())
        }
        None => crate::jose::detached::sign_detached(
            header,
            body,
            key.encoding_key(),
            alg.jsonwebtoken(),
        ),
    };
    match settings.format {
        XSignatureFormat::Compact => {
            if settings.dp_id.trim().is_empty() {
                return Err(XSignatureError::Missing(
                    "no dp_id (the data provider's id, from the token response or the providers list): set it in the profile or give --dp-id".into(),
                ));
            }
            let claims = compact_claims(settings, url, now, jti)?;
            let value = signing(&header, Some(&claims))
                .map_err(|e| XSignatureError::Signing(e.to_string()))?;
            Ok(XSignature {
                format: settings.format,
                value,
                header,
                claims,
            })
        }
        XSignatureFormat::Detached => {
            header.insert("iss".into(), settings.dc_id.clone().into());
            header.insert("jti".into(), jti.into());
            header.insert("iat".into(), now.into());
            header.insert("crit".into(), json!(["iss", "jti", "iat"]));
            let value =
                signing(&header, None).map_err(|e| XSignatureError::Signing(e.to_string()))?;
            Ok(XSignature {
                format: settings.format,
                value,
                header,
                claims: Value::Null,
            })
        }
    }
}

/// The compact format's claims for `url` at `now`.
pub fn compact_claims(
    settings: &XSignatureSettings,
    url: &str,
    now: i64,
    jti: &str,
) -> Result<Value, XSignatureError> {
    let parsed = url::Url::parse(url).map_err(|_| XSignatureError::BadUrl(url.to_owned()))?;
    let qpm: Map<String, Value> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    let mut without_query = parsed.clone();
    without_query.set_query(None);
    without_query.set_fragment(None);
    let sub = settings
        .sub
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(&settings.dc_id);
    Ok(json!({
        "iss": settings.dc_id,
        "sub": sub,
        "aud": [settings.dp_id, PAYNET_AUDIENCE],
        "iat": now,
        "nbf": now,
        "exp": now.saturating_add(LIFETIME_SECS),
        "jti": jti,
        "qpm": qpm,
        "url": without_query.as_str(),
    }))
}

/// The finding every signed call carries: which document the format follows, and that
/// the other one says otherwise.
pub fn format_finding(format: XSignatureFormat) -> Finding {
    let (chosen, other) = match format {
        XSignatureFormat::Compact => (COMPACT_SOURCE, DETACHED_SOURCE),
        XSignatureFormat::Detached => (DETACHED_SOURCE, COMPACT_SOURCE),
    };
    Finding::new(
        Severity::Info,
        "x_signature.format",
        format!(
            "x-signature is {} as in the {chosen}; the {other} describes the other format (--x-signature {}): if the bank refuses the signature, try it",
            format.as_str(),
            match format {
                XSignatureFormat::Compact => "detached",
                XSignatureFormat::Detached => "compact",
            }
        ),
        BOTH_SOURCES,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::keys::KeyType;
    use crate::jose::verify::VerificationKey;

    fn signer(key: &PrivateKey) -> Signer<'_> {
        Signer {
            key,
            alg: SigningAlg::ES256,
            kid: "k1",
        }
    }

    fn settings(format: XSignatureFormat) -> XSignatureSettings {
        XSignatureSettings {
            format,
            dc_id: "dc-42".into(),
            dp_id: "dp-7".into(),
            sub: None,
        }
    }

    /// The guide's claims: iss and sub the dc_id, aud the provider and PayNet, nbf = iat,
    /// exp = iat + 300, qpm the query as strings, url without the query.
    #[test]
    fn compact_carries_the_guides_claims() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let sig = sign(
            &settings(XSignatureFormat::Compact),
            signer(&key),
            SignedCall {
                url: "https://rs.example/v1/accounts?page_size=5&next_page_params=a%20b",
                body: b"",
                now: 1_800_000_000,
                jti: "jti-1",
            },
        )
        .unwrap();
        let decoded = crate::jose::jwt::decode(&sig.value).unwrap();
        let claims = decoded.unverified_claims().unwrap();
        assert_eq!(claims["iss"], "dc-42");
        assert_eq!(claims["sub"], "dc-42");
        assert_eq!(claims["aud"], json!(["dp-7", "Paynet OFP"]));
        assert_eq!(claims["nbf"], claims["iat"]);
        assert_eq!(claims["exp"], 1_800_000_300);
        assert_eq!(
            claims["qpm"],
            json!({"page_size": "5", "next_page_params": "a b"})
        );
        assert_eq!(claims["url"], "https://rs.example/v1/accounts");
        assert_eq!(decoded.kid(), Some("k1"));
        let jwks = VerificationKey::Jwks(key.public_jwks(Some("k1"), SigningAlg::ES256));
        assert!(crate::jose::verify::verify(&decoded, &jwks).is_valid());
    }

    /// The specification's: a detached JWS over the body with iss, jti, iat in the
    /// protected header and named critical.
    #[test]
    fn detached_signs_the_body() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let body = br#"{"x":1}"#;
        let sig = sign(
            &settings(XSignatureFormat::Detached),
            signer(&key),
            SignedCall {
                url: "https://rs.example/v1/consents/c1/revoke",
                body,
                now: 1_800_000_000,
                jti: "jti-2",
            },
        )
        .unwrap();
        assert!(sig.value.contains(".."));
        let parsed = crate::jose::detached::parse_detached(&sig.value).unwrap();
        assert_eq!(parsed.header["iss"], "dc-42");
        let jwks = VerificationKey::Jwks(key.public_jwks(Some("k1"), SigningAlg::ES256));
        assert!(
            parsed
                .verify(body, &jwks, &["iss", "jti", "iat"])
                .is_valid()
        );
        assert!(
            !parsed
                .verify(b"{}", &jwks, &["iss", "jti", "iat"])
                .is_valid()
        );
    }

    #[test]
    fn missing_ids_are_named() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let mut s = settings(XSignatureFormat::Compact);
        s.dp_id.clear();
        let call = SignedCall {
            url: "https://a/b",
            body: b"",
            now: 0,
            jti: "j",
        };
        let err = sign(&s, signer(&key), call).unwrap_err();
        assert!(err.to_string().contains("dp_id"), "{err}");
        s.dc_id.clear();
        let err = sign(&s, signer(&key), call).unwrap_err();
        assert!(err.to_string().contains("dc_id"), "{err}");
        assert!("Detached".parse::<XSignatureFormat>().is_ok());
        assert!("jws".parse::<XSignatureFormat>().is_err());
    }
}
