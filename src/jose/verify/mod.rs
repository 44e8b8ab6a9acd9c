//! JWS signature verification (RFC 7515 §5.2, RFC 7518 §3) against a JWKS, a JWK, a PEM
//! public key or certificate, or a shared secret.
//!
//! Verification runs on the raw signing input with `jsonwebtoken::crypto::verify` (and
//! aws-lc-rs directly for ES512, which jsonwebtoken lacks), never through a typed header.
//! Algorithm confusion (RFC 8725 §2.1, §3.1) is refused before any key is tried: an HMAC
//! token is never checked against a public key, an asymmetric token never against a
//! shared secret, and the `alg` must fit the key type and curve.

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use serde_json::Value;

use crate::jose::jwt::{DecodedJose, JoseKind};
use crate::jose::keys::{Curve, KeyError, KeyType};
use crate::jose::public_key::{Candidate, Material, jwk_candidate, pem_candidate};
pub use crate::jose::public_key::{VerificationKey, parse_key_text};

/// The outcome of checking a signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureStatus {
    /// The signature verifies; `kid` names the key that verified it, when known.
    Valid {
        /// The `kid` of the key used.
        kid: Option<String>,
    },
    /// The signature does not verify, or the key/alg combination is refused.
    Invalid {
        /// Why.
        reason: String,
    },
    /// Nothing could be checked (no key, unsupported alg, kid not found, JWE).
    NotVerifiable {
        /// Why.
        reason: String,
    },
}

impl SignatureStatus {
    /// `valid`, `invalid` or `not_verifiable`.
    pub fn status(&self) -> &'static str {
        match self {
            SignatureStatus::Valid { .. } => "valid",
            SignatureStatus::Invalid { .. } => "invalid",
            SignatureStatus::NotVerifiable { .. } => "not_verifiable",
        }
    }

    /// The reason, for invalid and not verifiable.
    pub fn reason(&self) -> Option<&str> {
        match self {
            SignatureStatus::Valid { .. } => None,
            SignatureStatus::Invalid { reason } | SignatureStatus::NotVerifiable { reason } => {
                Some(reason)
            }
        }
    }

    /// True for [`SignatureStatus::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, SignatureStatus::Valid { .. })
    }

    fn invalid(reason: impl Into<String>) -> Self {
        SignatureStatus::Invalid {
            reason: reason.into(),
        }
    }

    fn not_verifiable(reason: impl Into<String>) -> Self {
        SignatureStatus::NotVerifiable {
            reason: reason.into(),
        }
    }
}

/// Serialized as `{"status": "valid"|"invalid"|"not_verifiable", "kid": …, "reason": …}`
/// (absent values are `null`), the shape `decode --json` prints.
impl Serialize for SignatureStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("SignatureStatus", 3)?;
        s.serialize_field("status", self.status())?;
        let kid = match self {
            SignatureStatus::Valid { kid } => kid.as_deref(),
            _ => None,
        };
        s.serialize_field("kid", &kid)?;
        s.serialize_field("reason", &self.reason())?;
        s.end()
    }
}

/// The JWS algorithms this module knows (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alg {
    Hs(u16),
    Rs(u16),
    Ps(u16),
    Es256,
    Es384,
    Es512,
    EdDsa,
}

impl Alg {
    /// A JWS `alg`, including the fully-specified names of RFC 9864 (`Ed25519`,
    /// `ESP256`, `ESP384`, `ESP512`), which name the same computations with the curve fixed.
    fn parse(alg: &str) -> Option<Self> {
        Some(match alg {
            "ESP256" => Alg::Es256,
            "ESP384" => Alg::Es384,
            "ESP512" => Alg::Es512,
            "Ed25519" => Alg::EdDsa,
            "HS256" => Alg::Hs(256),
            "HS384" => Alg::Hs(384),
            "HS512" => Alg::Hs(512),
            "RS256" => Alg::Rs(256),
            "RS384" => Alg::Rs(384),
            "RS512" => Alg::Rs(512),
            "PS256" => Alg::Ps(256),
            "PS384" => Alg::Ps(384),
            "PS512" => Alg::Ps(512),
            "ES256" => Alg::Es256,
            "ES384" => Alg::Es384,
            "ES512" => Alg::Es512,
            "EdDSA" => Alg::EdDsa,
            _ => return None,
        })
    }

    fn jsonwebtoken(self) -> Option<Algorithm> {
        Some(match self {
            Alg::Hs(256) => Algorithm::HS256,
            Alg::Hs(384) => Algorithm::HS384,
            Alg::Hs(_) => Algorithm::HS512,
            Alg::Rs(256) => Algorithm::RS256,
            Alg::Rs(384) => Algorithm::RS384,
            Alg::Rs(_) => Algorithm::RS512,
            Alg::Ps(256) => Algorithm::PS256,
            Alg::Ps(384) => Algorithm::PS384,
            Alg::Ps(_) => Algorithm::PS512,
            Alg::Es256 => Algorithm::ES256,
            Alg::Es384 => Algorithm::ES384,
            Alg::Es512 => return None,
            Alg::EdDsa => Algorithm::EdDSA,
        })
    }

    fn is_hmac(self) -> bool {
        matches!(self, Alg::Hs(_))
    }

    /// The key type (and curve) this alg needs, as a JWK would say it.
    fn wanted(self) -> KeyType {
        match self {
            Alg::Hs(_) => KeyType::Oct,
            Alg::Rs(_) | Alg::Ps(_) => KeyType::Rsa { bits: 0 },
            Alg::Es256 => KeyType::Ec(Curve::P256),
            Alg::Es384 => KeyType::Ec(Curve::P384),
            Alg::Es512 => KeyType::Ec(Curve::P521),
            Alg::EdDsa => KeyType::Okp(Curve::Ed25519),
        }
    }
}

/// Verifies a JWS signature (RFC 7515 §5.2) with the given key.
///
/// The key is picked by `kid` in a JWKS; without a `kid` every key of a fitting type is
/// tried. Algorithm confusion is refused up front (RFC 8725 §3.1).
pub fn verify(decoded: &DecodedJose, key: &VerificationKey) -> SignatureStatus {
    let (Some(signing_input), Some(signature_b64)) =
        (decoded.signing_input(), decoded.raw.rsplit('.').next())
    else {
        return match decoded.kind {
            JoseKind::Jwe => SignatureStatus::not_verifiable(
                "a JWE is encrypted, not signed: decrypt it first (a nested JWS is verified then)",
            ),
            _ => SignatureStatus::not_verifiable("the token has no signing input"),
        };
    };
    verify_signing_input(decoded, signing_input.as_bytes(), signature_b64, key, &[])
}

/// Verifies a JWS whose signing input is given (a detached payload, RFC 7515 Appendix F;
/// an unencoded one, RFC 7797): `decoded` supplies the header, `understood` the `crit`
/// extensions the caller has checked itself (`b64`, a profile's own header parameters).
pub fn verify_signing_input(
    decoded: &DecodedJose,
    signing_input: &[u8],
    signature_b64: &str,
    key: &VerificationKey,
    understood: &[&str],
) -> SignatureStatus {
    match decoded.kind {
        JoseKind::Jwe => {
            return SignatureStatus::not_verifiable(
                "a JWE is encrypted, not signed: decrypt it first (a nested JWS is verified then)",
            );
        }
        JoseKind::Unsecured => {
            return SignatureStatus::invalid(
                "alg \"none\": the token is unsecured and carries no signature (RFC 8725 §3.1)",
            );
        }
        JoseKind::Jws => {}
    }
    let alg_name = decoded.alg().unwrap_or_default();
    let Some(alg) = Alg::parse(alg_name) else {
        return SignatureStatus::not_verifiable(format!(
            "unsupported alg {alg_name:?} (supported: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA; RFC 9864's Ed25519, ESP256/384/512)"
        ));
    };
    if let Some(refusal) = critical_extensions(decoded, understood) {
        return refusal;
    }
    if decoded.signature().is_some_and(<[u8]>::is_empty) {
        return SignatureStatus::invalid(format!(
            "the signature segment is empty, but the header says alg {alg_name}: the token is unsigned or the signature was cut off"
        ));
    }
    // Algorithm confusion, before anything is tried.
    let is_secret = matches!(key, VerificationKey::Secret(_));
    let is_oct_jwk = matches!(key, VerificationKey::Jwk(v) if v.get("kty").and_then(Value::as_str) == Some("oct"));
    if alg.is_hmac() && !(is_secret || is_oct_jwk) {
        return SignatureStatus::invalid(format!(
            "algorithm confusion refused: the token says {alg_name} (a shared-secret MAC) but the key given is a public key; \
             an HMAC token is never checked against a public key (RFC 8725 §2.1, §3.1)"
        ));
    }
    if !alg.is_hmac() && (is_secret || is_oct_jwk) {
        return SignatureStatus::invalid(format!(
            "algorithm confusion refused: the token says {alg_name} (a public-key signature) but the key given is a shared secret (RFC 8725 §3.1)"
        ));
    }

    let candidates = match collect_candidates(decoded, key, alg, alg_name) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let mut last_failure = String::new();
    for cand in &candidates {
        match verify_one(alg, signing_input, signature_b64, &cand.material) {
            Ok(true) => {
                return SignatureStatus::Valid {
                    kid: cand
                        .kid
                        .clone()
                        .or_else(|| decoded.kid().map(str::to_owned)),
                };
            }
            Ok(false) => {
                last_failure = "the signature does not match".to_owned();
            }
            Err(e) => last_failure = e,
        }
    }
    let hint = signature_size_hint(alg, decoded.signature().map_or(0, <[u8]>::len));
    let which = match (
        candidates.len(),
        candidates.first().and_then(|c| c.kid.as_deref()),
    ) {
        (1, Some(kid)) => format!("the key with kid {kid:?}"),
        (1, None) => "the key given".to_owned(),
        (n, _) => format!("any of the {n} candidate keys"),
    };
    SignatureStatus::invalid(format!(
        "{alg_name} signature does not verify with {which}: {last_failure}{hint}"
    ))
}

/// Header parameters this verifier understands when a token marks them critical: none
/// beyond the registered ones, which RFC 7515 §4.1.11 forbids listing.
const UNDERSTOOD_EXTENSIONS: &[&str] = &[];

/// RFC 7515 §4.1.11: a `crit` extension the recipient does not understand makes the
/// JWS invalid; so does a malformed `crit` (not a non-empty array of strings, or listing a
/// parameter the header does not carry).
fn critical_extensions(decoded: &DecodedJose, understood: &[&str]) -> Option<SignatureStatus> {
    let crit = decoded.header.get("crit")?;
    let names: Option<Vec<&str>> = crit
        .as_array()
        .filter(|a| !a.is_empty())
        .and_then(|a| a.iter().map(Value::as_str).collect());
    let Some(names) = names else {
        return Some(SignatureStatus::invalid(
            "the header's crit is not a non-empty array of names (RFC 7515 §4.1.11)",
        ));
    };
    if let Some(absent) = names.iter().find(|n| !decoded.header.contains_key(**n)) {
        return Some(SignatureStatus::invalid(format!(
            "the header marks {absent:?} critical but does not carry it (RFC 7515 §4.1.11)"
        )));
    }
    let unknown: Vec<&str> = names
        .into_iter()
        .filter(|n| !UNDERSTOOD_EXTENSIONS.contains(n) && !understood.contains(n))
        .collect();
    (!unknown.is_empty()).then(|| {
        SignatureStatus::invalid(format!(
            "the header marks {} critical, an extension this verifier does not understand, so the token must be rejected (RFC 7515 §4.1.11)",
            unknown
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// True when two `alg` names ask for the same computation (`ES256` and `ESP256`;
/// `EdDSA` and `Ed25519` with an Ed25519 key).
fn same_alg(a: &str, b: &str) -> bool {
    a == b || Alg::parse(a).is_some_and(|x| Alg::parse(b) == Some(x))
}

fn signature_size_hint(alg: Alg, len: usize) -> String {
    let want = match alg {
        Alg::Es256 => 64,
        Alg::Es384 => 96,
        Alg::Es512 => 132,
        Alg::EdDsa => 64,
        _ => return String::new(),
    };
    if len == want {
        String::new()
    } else {
        format!(
            " (the signature is {len} bytes; JWS wants {want} bytes of raw R||S (RFC 7518 §3.4); a DER-encoded signature?)"
        )
    }
}

fn collect_candidates(
    decoded: &DecodedJose,
    key: &VerificationKey,
    alg: Alg,
    alg_name: &str,
) -> Result<Vec<Candidate>, SignatureStatus> {
    let wanted = alg.wanted();
    match key {
        VerificationKey::Secret(bytes) => Ok(vec![Candidate {
            kid: None,
            kty: KeyType::Oct,
            alg: None,
            material: Material::Secret(bytes.clone()),
        }]),
        VerificationKey::Pem(text) => {
            let cand =
                pem_candidate(text).map_err(|e| SignatureStatus::not_verifiable(e.to_string()))?;
            check_fit(&cand, wanted, alg_name)?;
            Ok(vec![cand])
        }
        VerificationKey::Jwk(jwk) => {
            let cand =
                jwk_candidate(jwk).map_err(|e| SignatureStatus::not_verifiable(e.to_string()))?;
            check_fit(&cand, wanted, alg_name)?;
            Ok(vec![cand])
        }
        VerificationKey::Jwks(set) => {
            let Some(keys) = set.get("keys").and_then(Value::as_array) else {
                return Err(SignatureStatus::not_verifiable(
                    KeyError::NotAJwks.to_string(),
                ));
            };
            let kids: Vec<&str> = keys
                .iter()
                .filter_map(|k| k.get("kid").and_then(Value::as_str))
                .collect();
            let kid_list = if kids.is_empty() {
                "none have a kid".to_owned()
            } else {
                format!("kids: {}", kids.join(", "))
            };
            if let Some(kid) = decoded.kid() {
                let matching: Vec<&Value> = keys
                    .iter()
                    .filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
                    .collect();
                if matching.is_empty() {
                    return Err(SignatureStatus::not_verifiable(format!(
                        "kid {kid} not found in the JWKS ({kid_list})"
                    )));
                }
                let mut out = Vec::new();
                let mut refusal = None;
                for jwk in matching {
                    match jwk_candidate(jwk) {
                        Ok(c) => match check_fit(&c, wanted, alg_name) {
                            Ok(()) => out.push(c),
                            Err(status) => refusal = Some(status),
                        },
                        Err(e) => {
                            refusal = Some(SignatureStatus::not_verifiable(format!(
                                "the JWKS key with kid {kid}: {e}"
                            )));
                        }
                    }
                }
                match (out.is_empty(), refusal) {
                    (true, Some(status)) => Err(status),
                    _ => Ok(out),
                }
            } else {
                let out: Vec<Candidate> = keys
                    .iter()
                    .filter(|k| k.get("use").and_then(Value::as_str) != Some("enc"))
                    .filter_map(|k| jwk_candidate(k).ok())
                    .filter(|c| c.kty.same_kind(wanted))
                    .filter(|c| c.alg.as_deref().is_none_or(|a| same_alg(a, alg_name)))
                    .collect();
                if out.is_empty() {
                    Err(SignatureStatus::not_verifiable(format!(
                        "the token has no kid and no key in the JWKS fits {alg_name} ({wanted}); {kid_list}"
                    )))
                } else {
                    Ok(out)
                }
            }
        }
    }
}

/// RFC 8725 §3.1: the alg must fit the key type (and curve), and a JWK's own `alg`.
fn check_fit(cand: &Candidate, wanted: KeyType, alg_name: &str) -> Result<(), SignatureStatus> {
    if !cand.kty.same_kind(wanted) {
        return Err(SignatureStatus::invalid(format!(
            "alg {alg_name} does not fit the key ({}); {alg_name} needs {wanted} (RFC 8725 §3.1)",
            cand.kty
        )));
    }
    if let Some(key_alg) = cand.alg.as_deref()
        && !same_alg(key_alg, alg_name)
    {
        return Err(SignatureStatus::invalid(format!(
            "the key is registered for alg {key_alg} but the token says {alg_name} (RFC 7517 §4.4)"
        )));
    }
    Ok(())
}

fn verify_one(
    alg: Alg,
    signing_input: &[u8],
    signature_b64: &str,
    material: &Material,
) -> Result<bool, String> {
    if alg == Alg::Es512 {
        let Material::Raw(point) = material else {
            return Err("ES512 needs an EC P-521 point".to_owned());
        };
        let signature =
            crate::jose::jwt::decode_segment(crate::jose::jwt::Segment::Signature, signature_b64)
                .map_err(|e| e.to_string())?;
        let key = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P521_SHA512_FIXED,
            point,
        );
        return Ok(key.verify(signing_input, &signature).is_ok());
    }
    let Some(algorithm) = alg.jsonwebtoken() else {
        return Err("unsupported alg".to_owned());
    };
    let decoding_key = match material {
        Material::RsaComponents { n, e } => DecodingKey::from_rsa_raw_components(n, e),
        Material::RsaPkcs1(der) => DecodingKey::from_rsa_der(der),
        Material::Raw(bytes) => match alg {
            Alg::EdDsa => DecodingKey::from_ed_der(bytes),
            _ => DecodingKey::from_ec_der(bytes),
        },
        Material::Secret(bytes) => DecodingKey::from_secret(bytes),
    };
    jsonwebtoken::crypto::verify(signature_b64, signing_input, &decoding_key, algorithm)
        .map_err(|e| format!("the key could not be used: {e}"))
}

/// Keys and signing helpers shared by the unit tests of `verify`, `checks` and `jwe`.
#[cfg(test)]
pub(crate) mod test_keys;

/// Valid with the first JWK Set that `check` verifies with; otherwise what the sets
/// said, an invalid signature before a key not found. No set: not verifiable, saying
/// where sets come from.
pub fn with_any_set(
    jwks: &[Value],
    check: impl Fn(&VerificationKey) -> SignatureStatus,
) -> SignatureStatus {
    if jwks.is_empty() {
        return SignatureStatus::NotVerifiable {
            reason: "no JWK Set was given to verify it (--response-jwks, or the profile's)".into(),
        };
    }
    let mut outcome = None;
    for set in jwks {
        let status = check(&VerificationKey::Jwks(set.clone()));
        match status {
            SignatureStatus::Valid { .. } => return status,
            SignatureStatus::Invalid { .. } => outcome = Some(status),
            SignatureStatus::NotVerifiable { .. } if outcome.is_none() => outcome = Some(status),
            SignatureStatus::NotVerifiable { .. } => {}
        }
    }
    outcome.unwrap_or(SignatureStatus::NotVerifiable {
        reason: "no key".into(),
    })
}

#[cfg(test)]
mod tests;
