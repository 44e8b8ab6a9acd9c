//! Public keys for verification (RFC 7517 JWK/JWKS, RFC 7468 PEM public keys and X.509
//! certificates, shared secrets), read into the key material the verifiers take.
//!
//! DER structures (SubjectPublicKeyInfo, certificates) are read with RustCrypto's
//! maintained `spki` and `x509-cert` parsers, never by hand.

use std::fmt;

use const_oid::db::rfc5912::{
    ID_EC_PUBLIC_KEY, ID_RSASSA_PSS, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1, SECP_521_R_1,
};
use const_oid::db::rfc8410::ID_ED_25519;
use der::Decode as _;
use serde_json::Value;
use spki::SubjectPublicKeyInfoRef;

use crate::jose::keys::{Curve, KeyError, KeyType};

/// The key a token is verified with.
#[derive(Clone)]
pub enum VerificationKey {
    /// A JWK Set (RFC 7517 §5): the key is picked by `kid`, or each fitting key is tried.
    Jwks(Value),
    /// One JWK (RFC 7517 §4).
    Jwk(Value),
    /// A public key PEM (RSA PKCS#1 or SPKI, EC, Ed25519) or an X.509 certificate PEM.
    Pem(String),
    /// A shared secret for HS256/384/512 (RFC 7518 §3.2).
    Secret(Vec<u8>),
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerificationKey::Jwks(v) => f.debug_tuple("Jwks").field(v).finish(),
            VerificationKey::Jwk(v) => f.debug_tuple("Jwk").field(v).finish(),
            VerificationKey::Pem(p) => f.debug_tuple("Pem").field(p).finish(),
            VerificationKey::Secret(_) => f.write_str("Secret([redacted])"),
        }
    }
}

/// Key bytes in the form the verifiers take.
#[derive(Clone)]
pub(crate) enum Material {
    /// RSA modulus and exponent (big-endian).
    RsaComponents { n: Vec<u8>, e: Vec<u8> },
    /// RSA PKCS#1 `RSAPublicKey` DER.
    RsaPkcs1(Vec<u8>),
    /// An uncompressed EC point or an Ed25519 public key.
    Raw(Vec<u8>),
    /// A shared secret.
    Secret(Vec<u8>),
}

/// One key that might verify a token.
#[derive(Clone)]
pub(crate) struct Candidate {
    pub(crate) kid: Option<String>,
    pub(crate) kty: KeyType,
    pub(crate) alg: Option<String>,
    pub(crate) material: Material,
}

/// Reads key text as a file would hold it: a JWKS, a JWK or a PEM public key/certificate.
pub fn parse_key_text(text: &str) -> Result<VerificationKey, KeyError> {
    let trimmed = text.trim();
    if trimmed.starts_with("-----BEGIN") {
        // Validate now so the user hears about a bad PEM before any token is checked.
        pem_candidate(trimmed)?;
        return Ok(VerificationKey::Pem(trimmed.to_owned()));
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(v) if v.get("keys").is_some() => {
            if v.get("keys").is_some_and(Value::is_array) {
                Ok(VerificationKey::Jwks(v))
            } else {
                Err(KeyError::NotAJwks)
            }
        }
        Ok(v) if v.get("kty").is_some() => Ok(VerificationKey::Jwk(v)),
        _ => Err(KeyError::Unrecognised),
    }
}

fn b64_member(jwk: &Value, name: &str) -> Result<Vec<u8>, KeyError> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| KeyError::Jwk(format!("member {name:?} is missing or not a string")))?;
    crate::jose::jwt::decode_segment(crate::jose::jwt::Segment::Whole, text)
        .map_err(|e| KeyError::Jwk(format!("member {name:?}: {}", e.problem)))
}

pub(crate) fn jwk_candidate(jwk: &Value) -> Result<Candidate, KeyError> {
    let kty = jwk
        .get("kty")
        .and_then(Value::as_str)
        .ok_or_else(|| KeyError::Jwk("no \"kty\" member".into()))?;
    let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
    let alg = jwk.get("alg").and_then(Value::as_str).map(str::to_owned);
    let crv = || jwk.get("crv").and_then(Value::as_str).map(Curve::from_name);
    let (kty, material) = match kty {
        "RSA" => (
            KeyType::Rsa { bits: 0 },
            Material::RsaComponents {
                n: b64_member(jwk, "n")?,
                e: b64_member(jwk, "e")?,
            },
        ),
        "EC" => {
            let curve = crv().ok_or_else(|| KeyError::Jwk("EC key without \"crv\"".into()))?;
            let mut point = vec![0x04];
            point.extend(b64_member(jwk, "x")?);
            point.extend(b64_member(jwk, "y")?);
            (KeyType::Ec(curve), Material::Raw(point))
        }
        "OKP" => {
            let curve = crv().ok_or_else(|| KeyError::Jwk("OKP key without \"crv\"".into()))?;
            (KeyType::Okp(curve), Material::Raw(b64_member(jwk, "x")?))
        }
        "oct" => (KeyType::Oct, Material::Secret(b64_member(jwk, "k")?)),
        other => return Err(KeyError::Jwk(format!("unsupported kty {other:?}"))),
    };
    Ok(Candidate {
        kid,
        kty,
        alg,
        material,
    })
}

/// Decodes the first PEM block (RFC 7468): its label and DER bytes
/// ([`crate::jose::keys::parse_pem`] reads the armour).
pub fn pem_block(text: &str) -> Result<(String, Vec<u8>), KeyError> {
    crate::jose::keys::parse_pem(text)
        .map_err(|e| KeyError::BadPem(e.to_string()))?
        .into_iter()
        .next()
        .ok_or_else(|| KeyError::BadPem("no -----BEGIN line".into()))
}

pub(crate) fn pem_candidate(text: &str) -> Result<Candidate, KeyError> {
    let (label, der) = pem_block(text)?;
    let (kty, material) = match label.as_str() {
        "RSA PUBLIC KEY" => (KeyType::Rsa { bits: 0 }, Material::RsaPkcs1(der)),
        "PUBLIC KEY" => spki_key(&der)?,
        "CERTIFICATE" => {
            let cert = x509_cert::Certificate::from_der(&der)
                .map_err(|e| KeyError::BadPem(format!("the certificate could not be read: {e}")))?;
            let spki = der::Encode::to_der(cert.tbs_certificate().subject_public_key_info())
                .map_err(|e| KeyError::BadPem(format!("the certificate's public key: {e}")))?;
            spki_key(&spki)?
        }
        l if l.contains("PRIVATE KEY") => {
            return Err(KeyError::BadPem(format!(
                "this is a private key ({l}); verification needs the public key or certificate"
            )));
        }
        other => {
            return Err(KeyError::BadPem(format!(
                "unsupported PEM label {other:?} (expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)"
            )));
        }
    };
    Ok(Candidate {
        kid: None,
        kty,
        alg: None,
        material,
    })
}

/// Reads a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) into a key type and key bytes.
fn spki_key(der: &[u8]) -> Result<(KeyType, Material), KeyError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| {
        KeyError::BadPem(format!("the SubjectPublicKeyInfo could not be read: {e}"))
    })?;
    let key_bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| KeyError::BadPem("the public key has unused bits".into()))?
        .to_vec();
    let oid = spki.algorithm.oid;
    if oid == RSA_ENCRYPTION || oid == ID_RSASSA_PSS {
        Ok((KeyType::Rsa { bits: 0 }, Material::RsaPkcs1(key_bits)))
    } else if oid == ID_EC_PUBLIC_KEY {
        let curve = match spki.algorithm.parameters_oid().ok() {
            Some(SECP_256_R_1) => Curve::P256,
            Some(SECP_384_R_1) => Curve::P384,
            Some(SECP_521_R_1) => Curve::P521,
            _ => Curve::Other,
        };
        Ok((KeyType::Ec(curve), Material::Raw(key_bits)))
    } else if oid == ID_ED_25519 {
        Ok((KeyType::ED25519, Material::Raw(key_bits)))
    } else {
        Err(KeyError::BadPem(format!(
            "unsupported public key algorithm {oid} (RSA, EC P-256/384/521 and Ed25519 are read)"
        )))
    }
}

/// The public key of a certificate (PEM or DER) with what the mTLS checks compare: the
/// RFC 8705 §3.1 `x5t#S256` thumbprint (SHA-256 of the DER, base64url), the subject and
/// the validity window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    /// `x5t#S256`.
    pub x5t_s256: String,
    /// The subject, as RFC 4514 text.
    pub subject: String,
    /// The issuer, as RFC 4514 text.
    pub issuer: String,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
}

/// True when a PEM bundle's private key is not the key of its first certificate: a
/// TLS library refuses such a pair with an opaque error, so it is named first. False
/// when either part cannot be read (the TLS library then says why).
pub fn identity_key_mismatch(identity_pem: &str) -> bool {
    use rcgen::PublicKeyData as _;
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bytes = identity_pem.as_bytes();
    let (Ok(cert), Ok(key)) = (
        CertificateDer::from_pem_slice(bytes),
        PrivateKeyDer::from_pem_slice(bytes),
    ) else {
        return false;
    };
    let (Ok(pair), Ok(cert)) = (
        rcgen::KeyPair::try_from(&key),
        x509_cert::Certificate::from_der(&cert),
    ) else {
        return false;
    };
    let in_certificate = cert
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    in_certificate != pair.der_bytes()
}

/// Reads the first certificate of a PEM chain.
pub fn certificate_info(pem: &str) -> Result<CertificateInfo, KeyError> {
    let (label, der) = pem_block(pem)?;
    if label != "CERTIFICATE" {
        return Err(KeyError::BadPem(format!(
            "expected a CERTIFICATE, found {label}"
        )));
    }
    let cert = x509_cert::Certificate::from_der(&der)
        .map_err(|e| KeyError::BadPem(format!("the certificate could not be read: {e}")))?;
    let tbs = cert.tbs_certificate();
    let validity = tbs.validity();
    let unix = |t: x509_cert::time::Time| {
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    };
    Ok(CertificateInfo {
        x5t_s256: crate::jose::hash::x5t_s256(&der),
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        not_before: unix(validity.not_before),
        not_after: unix(validity.not_after),
    })
}

impl fmt::Debug for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("kid", &self.kid)
            .field("kty", &self.kty)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::verify::test_keys;

    #[test]
    fn a_key_that_is_not_the_certificates_is_named() {
        let make = || {
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec!["tpp.example".to_owned()])
                .unwrap()
                .self_signed(&key)
                .unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (cert_a, key_a) = make();
        let (_, key_b) = make();
        assert!(!identity_key_mismatch(&format!("{cert_a}{key_a}")));
        assert!(identity_key_mismatch(&format!("{cert_a}{key_b}")));
        // Unreadable parts are left to the TLS library.
        assert!(!identity_key_mismatch(&cert_a));
    }

    #[test]
    fn certificate_info_reads_subject_validity_and_thumbprint() {
        let key = test_keys::rsa();
        let info = certificate_info(&key.cert_pem).unwrap();
        let (_, der) = pem_block(&key.cert_pem).unwrap();
        // RFC 8705 §3.1: base64url(SHA-256(DER)), computed here without the helper.
        use base64::Engine as _;
        use sha2::Digest as _;
        let expected =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der));
        assert_eq!(info.x5t_s256, expected);
        assert!(info.not_before < info.not_after);
        assert!(!info.subject.is_empty());
        assert!(certificate_info(&key.public_pem).is_err());
    }

    #[test]
    fn a_certificate_reads_as_its_public_key() {
        for key in [
            test_keys::rsa(),
            test_keys::p256(),
            test_keys::p384(),
            test_keys::ed25519(),
        ] {
            let from_cert = pem_candidate(&key.cert_pem).unwrap();
            let from_spki = pem_candidate(&key.public_pem).unwrap();
            assert_eq!(from_cert.kty, from_spki.kty, "{}", key.alg);
        }
    }
}
