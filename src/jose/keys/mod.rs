//! Signing keys for `private_key_jwt`: load from PEM (PKCS#1, PKCS#8, SEC1) or JWK,
//! generate (RSA 2048/3072, P-256, Ed25519), RFC 7638 thumbprints, public JWKS export.
//!
//! A [`PrivateKey`] keeps its material as a PKCS#8 PEM [`Secret`] (the form stored in
//! the keychain) plus the ready-to-use jsonwebtoken signing key.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value, json};

use crate::secret::Secret;

mod alg;
mod encoding;

pub use alg::{Curve, KeyType, SigningAlg};
use encoding::{b64_uint, jwk_bytes, jwk_str, jwk_uint};
pub use encoding::{jwk_thumbprint, parse_pem, to_pem};

/// Problems with key material (private signing keys and public verification keys),
/// each phrased so the user knows what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Neither PEM nor JSON.
    #[error(
        "the key is neither PEM (-----BEGIN ... -----) nor a JWK (JSON object); give a private key file"
    )]
    UnknownFormat,
    /// PEM armour without a usable block.
    #[error("the PEM is malformed: {0}")]
    BadPem(String),
    /// An encrypted PKCS#8 key.
    #[error(
        "the PEM holds an encrypted private key: decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)"
    )]
    Encrypted,
    /// A public key or certificate where a private key is needed.
    #[error(
        "the file holds a {0}, not a private key; the client assertion is signed with the private key"
    )]
    NotPrivate(String),
    /// Parsing failed for the type the armour announced.
    #[error("the {kind} could not be read: {reason}")]
    Invalid {
        /// What it claimed to be.
        kind: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A key type this app does not sign with.
    #[error("unsupported key: {0} (supported: RSA, EC P-256, Ed25519)")]
    Unsupported(String),
    /// Key generation failed.
    #[error("key generation failed: {0}")]
    Generate(String),
    /// A JWK is missing a member or has a bad one.
    #[error("the JWK could not be read: {0}")]
    Jwk(String),
    /// A JWKS without a `keys` array.
    #[error("the JWKS has no \"keys\" array (RFC 7517 §5)")]
    NotAJwks,
    /// Key text that is neither a PEM, a JWK nor a JWKS (verification keys).
    #[error(
        "the key file is neither a PEM (-----BEGIN …), a JWK ({{\"kty\": …}}) nor a JWKS ({{\"keys\": […]}})"
    )]
    Unrecognised,
    /// The algorithm does not fit the key.
    #[error("the algorithm {alg} cannot be used with a {key} key (use {suggest})")]
    AlgMismatch {
        /// The algorithm asked for.
        alg: String,
        /// The key type.
        key: String,
        /// What fits.
        suggest: &'static str,
    },
}

/// A private signing key.
#[derive(Clone)]
pub struct PrivateKey {
    key_type: KeyType,
    pkcs8_pem: Secret,
    encoding_key: EncodingKey,
    /// Public members only (`kty`, `n`/`e`, `crv`/`x`/`y`).
    public_members: Map<String, Value>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("key_type", &self.key_type)
            .field("thumbprint", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Loads a private key from PEM (PKCS#1, PKCS#8, SEC1) or JWK text, detecting the form.
    pub fn load(text: &str) -> Result<Self, KeyError> {
        let trimmed = text.trim_start_matches('\u{feff}').trim();
        if trimmed.starts_with("-----BEGIN") || trimmed.contains("-----BEGIN ") {
            Self::from_pem(trimmed)
        } else if trimmed.starts_with('{') {
            Self::from_jwk_str(trimmed)
        } else {
            Err(KeyError::UnknownFormat)
        }
    }

    /// Loads a private key from PEM.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let blocks = parse_pem(text)?;
        let mut first_other = None;
        for (label, der) in &blocks {
            match label.as_str() {
                "RSA PRIVATE KEY" => {
                    let key =
                        rsa::PrivateKey::from_pkcs1_der(der).map_err(|e| KeyError::Invalid {
                            kind: "PKCS#1 RSA private key",
                            reason: e.to_string(),
                        })?;
                    return Self::from_rsa(key);
                }
                "PRIVATE KEY" => return Self::from_pkcs8_der(der),
                "EC PRIVATE KEY" => {
                    let pair =
                        EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                            .map_err(|e| KeyError::Invalid {
                            kind: "SEC1 EC private key",
                            reason: format!("{e} (only the P-256 curve is supported)"),
                        })?;
                    return Self::from_ec_pair(&pair);
                }
                "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted),
                "EC PARAMETERS" => continue,
                other => {
                    first_other.get_or_insert_with(|| other.to_owned());
                }
            }
        }
        match first_other {
            Some(label) if label.contains("PUBLIC KEY") => {
                Err(KeyError::NotPrivate("public key".into()))
            }
            Some(label) if label.contains("CERTIFICATE") => {
                Err(KeyError::NotPrivate("certificate".into()))
            }
            Some(label) => Err(KeyError::Unsupported(format!("PEM block {label:?}"))),
            None => Err(KeyError::BadPem("no PEM block found".into())),
        }
    }

    /// Loads a private key from PKCS#8 DER (RSA, P-256 or Ed25519).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(key) = rsa::PrivateKey::from_pkcs8_der(der) {
            return Self::from_rsa(key);
        }
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der) {
            return Self::from_ec_pair(&pair);
        }
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return Self::from_ed_pair(&pair);
        }
        Err(KeyError::Unsupported(
            "the PKCS#8 key is not RSA, EC P-256 or Ed25519".into(),
        ))
    }

    /// Loads a private key from a JWK (or a JWKS holding exactly one private key).
    pub fn from_jwk_str(text: &str) -> Result<Self, KeyError> {
        let value: Value = serde_json::from_str(text).map_err(|e| KeyError::Invalid {
            kind: "JWK",
            reason: format!("not JSON: {e}"),
        })?;
        Self::from_jwk(&value)
    }

    /// Loads a private key from a JWK value (RFC 7517, RFC 7518 §6).
    pub fn from_jwk(value: &Value) -> Result<Self, KeyError> {
        if let Some(keys) = value.get("keys").and_then(Value::as_array) {
            let private: Vec<&Value> = keys.iter().filter(|k| k.get("d").is_some()).collect();
            return match private.as_slice() {
                [one] => Self::from_jwk(one),
                [] => Err(KeyError::NotPrivate("JWKS of public keys".into())),
                _ => Err(KeyError::Invalid {
                    kind: "JWKS",
                    reason: format!(
                        "it holds {} private keys; give a file with one",
                        private.len()
                    ),
                }),
            };
        }
        let kty = jwk_str(value, "kty")?;
        if value.get("d").is_none() {
            return Err(KeyError::NotPrivate("public JWK (no \"d\")".into()));
        }
        match kty {
            "RSA" => {
                let n = jwk_uint(value, "n")?;
                let e = jwk_uint(value, "e")?;
                let d = jwk_uint(value, "d")?;
                let p = jwk_uint(value, "p")?;
                let q = jwk_uint(value, "q")?;
                let key = rsa::PrivateKey::from_components(n, e, d, vec![p, q]).map_err(|e| {
                    KeyError::Invalid {
                        kind: "RSA JWK",
                        reason: e.to_string(),
                    }
                })?;
                Self::from_rsa(key)
            }
            "EC" => {
                let crv = jwk_str(value, "crv")?;
                if crv != "P-256" {
                    return Err(KeyError::Unsupported(format!("EC curve {crv}")));
                }
                let d = jwk_bytes(value, "d")?;
                let mut point = vec![4u8];
                point.extend(jwk_bytes(value, "x")?);
                point.extend(jwk_bytes(value, "y")?);
                let pair = EcdsaKeyPair::from_private_key_and_public_key(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &d,
                    &point,
                )
                .map_err(|e| KeyError::Invalid {
                    kind: "EC JWK",
                    reason: e.to_string(),
                })?;
                Self::from_ec_pair(&pair)
            }
            "OKP" => {
                let crv = jwk_str(value, "crv")?;
                if crv != "Ed25519" {
                    return Err(KeyError::Unsupported(format!("OKP curve {crv}")));
                }
                let d = jwk_bytes(value, "d")?;
                let pair =
                    Ed25519KeyPair::from_seed_unchecked(&d).map_err(|e| KeyError::Invalid {
                        kind: "Ed25519 JWK",
                        reason: e.to_string(),
                    })?;
                if let Ok(x) = jwk_bytes(value, "x")
                    && x != pair.public_key().as_ref()
                {
                    return Err(KeyError::Invalid {
                        kind: "Ed25519 JWK",
                        reason: "\"x\" does not match the private key \"d\"".into(),
                    });
                }
                Self::from_ed_pair(&pair)
            }
            "oct" => Err(KeyError::Unsupported(
                "a symmetric (oct) key; private_key_jwt needs an asymmetric key".into(),
            )),
            other => Err(KeyError::Unsupported(format!("kty {other}"))),
        }
    }

    /// Generates a new key.
    pub fn generate(key_type: KeyType) -> Result<Self, KeyError> {
        match key_type {
            KeyType::Rsa { bits } => {
                if bits < 2048 {
                    return Err(KeyError::Generate(
                        "RSA keys must be at least 2048 bits (FAPI 2.0 SP §5.4)".into(),
                    ));
                }
                let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits)
                    .map_err(|e| KeyError::Generate(e.to_string()))?;
                Self::from_rsa(key)
            }
            KeyType::EC_P256 => {
                let doc = EcdsaKeyPair::generate_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &aws_lc_rs::rand::SystemRandom::new(),
                )
                .map_err(|e| KeyError::Generate(e.to_string()))?;
                Self::from_pkcs8_der(doc.as_ref())
            }
            KeyType::ED25519 => {
                let doc = Ed25519KeyPair::generate_pkcs8v1(&aws_lc_rs::rand::SystemRandom::new())
                    .map_err(|e| KeyError::Generate(e.to_string()))?;
                Self::from_pkcs8_der(doc.as_ref())
            }
            other => Err(KeyError::Generate(format!(
                "cannot generate a {other} key (RSA 2048+, EC P-256 and Ed25519 are made)"
            ))),
        }
    }

    fn from_rsa(key: rsa::PrivateKey) -> Result<Self, KeyError> {
        let bits = key.size() * 8;
        let invalid = |e: String| KeyError::Invalid {
            kind: "RSA key",
            reason: e,
        };
        let pkcs1 = key.to_pkcs1_der().map_err(|e| invalid(e.to_string()))?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| invalid(e.to_string()))?;
        let public = key.to_public_key();
        let mut members = Map::new();
        members.insert("kty".into(), json!("RSA"));
        members.insert("n".into(), json!(b64_uint(&public.n_bytes())));
        members.insert("e".into(), json!(b64_uint(&public.e_bytes())));
        Ok(Self {
            key_type: KeyType::Rsa { bits },
            pkcs8_pem: Secret::new(pem.as_str()),
            encoding_key: EncodingKey::from_rsa_der(pkcs1.as_bytes()),
            public_members: members,
        })
    }

    fn from_ec_pair(pair: &EcdsaKeyPair) -> Result<Self, KeyError> {
        let doc = pair.to_pkcs8v1().map_err(|e| KeyError::Invalid {
            kind: "EC key",
            reason: e.to_string(),
        })?;
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err(KeyError::Invalid {
                kind: "EC key",
                reason: "unexpected public point encoding".into(),
            });
        }
        let mut members = Map::new();
        members.insert("kty".into(), json!("EC"));
        members.insert("crv".into(), json!("P-256"));
        members.insert("x".into(), json!(URL_SAFE_NO_PAD.encode(&point[1..33])));
        members.insert("y".into(), json!(URL_SAFE_NO_PAD.encode(&point[33..])));
        Ok(Self {
            key_type: KeyType::EC_P256,
            pkcs8_pem: Secret::new(to_pem("PRIVATE KEY", doc.as_ref())),
            encoding_key: EncodingKey::from_ec_der(doc.as_ref()),
            public_members: members,
        })
    }

    fn from_ed_pair(pair: &Ed25519KeyPair) -> Result<Self, KeyError> {
        let doc = pair.to_pkcs8v1().map_err(|e| KeyError::Invalid {
            kind: "Ed25519 key",
            reason: e.to_string(),
        })?;
        let mut members = Map::new();
        members.insert("kty".into(), json!("OKP"));
        members.insert("crv".into(), json!("Ed25519"));
        members.insert(
            "x".into(),
            json!(URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())),
        );
        Ok(Self {
            key_type: KeyType::ED25519,
            pkcs8_pem: Secret::new(to_pem("PRIVATE KEY", doc.as_ref())),
            encoding_key: EncodingKey::from_ed_der(doc.as_ref()),
            public_members: members,
        })
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The key as PKCS#8 PEM: the form kept in the keychain.
    pub fn to_pkcs8_pem(&self) -> &Secret {
        &self.pkcs8_pem
    }

    /// The jsonwebtoken signing key.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding_key
    }

    /// The RFC 7638 JWK SHA-256 thumbprint, base64url: the default `kid` (the seed's kid
    /// has this 43-character shape).
    pub fn thumbprint(&self) -> String {
        jwk_thumbprint(&Value::Object(self.public_members.clone())).unwrap_or_default()
    }

    /// The public JWK with `kid`, `use: sig` and `alg`.
    pub fn public_jwk(&self, kid: Option<&str>, alg: SigningAlg) -> Value {
        let mut jwk = self.public_members.clone();
        jwk.insert(
            "kid".into(),
            json!(kid.map(str::to_owned).unwrap_or_else(|| self.thumbprint())),
        );
        jwk.insert("use".into(), json!("sig"));
        jwk.insert("alg".into(), json!(alg.as_str()));
        Value::Object(jwk)
    }

    /// A public JWKS holding this key (for registering the client with a directory).
    pub fn public_jwks(&self, kid: Option<&str>, alg: SigningAlg) -> Value {
        json!({ "keys": [self.public_jwk(kid, alg)] })
    }

    /// Checks that `alg` signs with this key.
    pub fn check_alg(&self, alg: SigningAlg) -> Result<(), KeyError> {
        if alg.fits(self.key_type) {
            Ok(())
        } else {
            Err(KeyError::AlgMismatch {
                alg: alg.to_string(),
                key: self.key_type.to_string(),
                suggest: SigningAlg::default_for(self.key_type).as_str(),
            })
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
