//! Signing keys for `private_key_jwt`: load from PEM (PKCS#1, PKCS#8, SEC1) or JWK,
//! generate (RSA 2048/3072, P-256, Ed25519), RFC 7638 thumbprints, public JWKS export.
//!
//! A [`PrivateKey`] keeps its material as a PKCS#8 PEM [`Secret`] (the form stored in
//! the keychain) plus the ready-to-use jsonwebtoken signing key.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::secret::Secret;

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

/// An elliptic curve, by its JWK `crv` name (RFC 7518 §6.2.1.1, RFC 8037 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Curve {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
    /// NIST P-521.
    P521,
    /// Ed25519 (an OKP curve).
    Ed25519,
    /// A curve this tool does not use.
    Other,
}

impl Curve {
    /// The curve for a JWK `crv` value.
    pub fn from_name(name: &str) -> Self {
        match name {
            "P-256" => Curve::P256,
            "P-384" => Curve::P384,
            "P-521" => Curve::P521,
            "Ed25519" => Curve::Ed25519,
            _ => Curve::Other,
        }
    }

    /// The JWK `crv` value.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
            Curve::Ed25519 => "Ed25519",
            Curve::Other => "an unsupported curve",
        }
    }
}

/// The kind of a key, as a JWK says it (`kty` and `crv`), with an RSA key's size where it
/// is known (0 when it is not). One vocabulary for signing keys and verification keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    /// RSA with a modulus of `bits` bits.
    Rsa {
        /// Modulus size (0: not known).
        bits: usize,
    },
    /// An EC key on a curve (kty `EC`).
    Ec(Curve),
    /// An octet key pair (kty `OKP`).
    Okp(Curve),
    /// A shared secret (kty `oct`).
    Oct,
}

impl KeyType {
    /// ECDSA on NIST P-256, the one EC curve this tool signs with.
    pub const EC_P256: KeyType = KeyType::Ec(Curve::P256);
    /// EdDSA on Ed25519.
    pub const ED25519: KeyType = KeyType::Okp(Curve::Ed25519);

    /// True for the same kty and curve (an RSA key of any size matches any RSA key).
    pub fn same_kind(self, other: KeyType) -> bool {
        match (self, other) {
            (KeyType::Rsa { .. }, KeyType::Rsa { .. }) => true,
            _ => self == other,
        }
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyType::Rsa { bits: 0 } => f.write_str("RSA"),
            KeyType::Rsa { bits } => write!(f, "RSA {bits}"),
            KeyType::Ec(c) => write!(f, "EC {}", c.name()),
            KeyType::Okp(Curve::Ed25519) => f.write_str("Ed25519"),
            KeyType::Okp(c) => write!(f, "OKP {}", c.name()),
            KeyType::Oct => f.write_str("oct (shared secret)"),
        }
    }
}

/// A client assertion signing algorithm (FAPI 2.0 SP §5.4: PS256, ES256, EdDSA; RS256
/// allowed here for older servers but flagged).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    /// RSASSA-PSS with SHA-256 (the seed's).
    #[default]
    PS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (not allowed by FAPI 2.0).
    RS256,
}

impl SigningAlg {
    /// All values, for pickers.
    pub const ALL: [SigningAlg; 4] = [
        SigningAlg::PS256,
        SigningAlg::ES256,
        SigningAlg::EdDSA,
        SigningAlg::RS256,
    ];

    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::PS256 => "PS256",
            SigningAlg::ES256 => "ES256",
            SigningAlg::EdDSA => "EdDSA",
            SigningAlg::RS256 => "RS256",
        }
    }

    /// The jsonwebtoken algorithm.
    pub fn jsonwebtoken(self) -> Algorithm {
        match self {
            SigningAlg::PS256 => Algorithm::PS256,
            SigningAlg::ES256 => Algorithm::ES256,
            SigningAlg::EdDSA => Algorithm::EdDSA,
            SigningAlg::RS256 => Algorithm::RS256,
        }
    }

    /// True when FAPI 2.0 allows it.
    pub fn fapi_allowed(self) -> bool {
        !matches!(self, SigningAlg::RS256)
    }

    /// The algorithm that fits a key type by default.
    pub fn default_for(key_type: KeyType) -> SigningAlg {
        match key_type {
            KeyType::EC_P256 => SigningAlg::ES256,
            KeyType::ED25519 => SigningAlg::EdDSA,
            _ => SigningAlg::PS256,
        }
    }

    /// True when this algorithm signs with this key type.
    pub fn fits(self, key_type: KeyType) -> bool {
        matches!(
            (self, key_type),
            (SigningAlg::PS256 | SigningAlg::RS256, KeyType::Rsa { .. })
                | (SigningAlg::ES256, KeyType::EC_P256)
                | (SigningAlg::EdDSA, KeyType::ED25519)
        )
    }
}

impl std::fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SigningAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "PS256" => Ok(SigningAlg::PS256),
            "ES256" => Ok(SigningAlg::ES256),
            "EdDSA" | "Ed25519" => Ok(SigningAlg::EdDSA),
            "RS256" => Ok(SigningAlg::RS256),
            other => Err(format!(
                "unsupported signing alg {other:?}: use PS256, ES256, EdDSA or RS256"
            )),
        }
    }
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

fn b64_uint(bytes: &[u8]) -> String {
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    URL_SAFE_NO_PAD.encode(&bytes[start..])
}

fn jwk_str<'a>(value: &'a Value, name: &str) -> Result<&'a str, KeyError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| KeyError::Invalid {
            kind: "JWK",
            reason: format!("missing string member {name:?}"),
        })
}

fn jwk_bytes(value: &Value, name: &str) -> Result<Vec<u8>, KeyError> {
    URL_SAFE_NO_PAD
        .decode(jwk_str(value, name)?.trim_end_matches('='))
        .map_err(|e| KeyError::Invalid {
            kind: "JWK",
            reason: format!("member {name:?} is not base64url: {e}"),
        })
}

fn jwk_uint(value: &Value, name: &str) -> Result<rsa::BoxedUint, KeyError> {
    let bytes = jwk_bytes(value, name)?;
    Ok(rsa::BoxedUint::from_be_slice_vartime(&bytes))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aws_lc_rs::encoding::{AsBigEndian, AsDer};
    use std::sync::OnceLock;

    /// One RSA-2048 key shared by the tests (generation is slow in debug builds).
    pub(crate) fn rsa_key() -> &'static PrivateKey {
        static KEY: OnceLock<PrivateKey> = OnceLock::new();
        KEY.get_or_init(|| PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap())
    }

    #[test]
    fn rsa_round_trips_through_pkcs8_pkcs1_and_jwk() {
        let key = rsa_key();
        assert_eq!(key.key_type(), KeyType::Rsa { bits: 2048 });
        let again = PrivateKey::load(key.to_pkcs8_pem().expose()).unwrap();
        assert_eq!(again.thumbprint(), key.thumbprint());

        let der = parse_pem(key.to_pkcs8_pem().expose()).unwrap().remove(0).1;
        let rsa_key = rsa::PrivateKey::from_pkcs8_der(&der).unwrap();
        let pkcs1 = rsa_key.to_pkcs1_pem(LineEnding::LF).unwrap();
        let from_pkcs1 = PrivateKey::load(pkcs1.as_str()).unwrap();
        assert_eq!(from_pkcs1.thumbprint(), key.thumbprint());
        assert_eq!(key.thumbprint().len(), 43);
    }

    #[test]
    fn thumbprint_matches_jsonwebtoken() {
        for key in [
            rsa_key().clone(),
            PrivateKey::generate(KeyType::EC_P256).unwrap(),
            PrivateKey::generate(KeyType::ED25519).unwrap(),
        ] {
            let alg = SigningAlg::default_for(key.key_type());
            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(key.public_jwk(None, alg)).unwrap();
            let theirs = jwk
                .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .unwrap();
            assert_eq!(theirs, key.thumbprint(), "{:?}", key.key_type());
        }
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1 example key.
        let jwk = json!({"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        assert_eq!(
            jwk_thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn ec_sec1_pkcs8_and_jwk_load() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let der = parse_pem(key.to_pkcs8_pem().expose()).unwrap().remove(0).1;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).unwrap();
        let sec1 = pair.private_key().as_der().unwrap();
        let sec1_pem = to_pem("EC PRIVATE KEY", sec1.as_ref());
        assert_eq!(
            PrivateKey::load(&sec1_pem).unwrap().thumbprint(),
            key.thumbprint()
        );
        // JWK with d
        let d = pair.private_key().as_be_bytes().unwrap();
        let mut jwk = key.public_jwk(None, SigningAlg::ES256);
        jwk["d"] = json!(URL_SAFE_NO_PAD.encode(d.as_ref()));
        let from_jwk = PrivateKey::load(&jwk.to_string()).unwrap();
        assert_eq!(from_jwk.thumbprint(), key.thumbprint());
    }

    #[test]
    fn ed25519_from_jwk() {
        let key = PrivateKey::generate(KeyType::ED25519).unwrap();
        let der = parse_pem(key.to_pkcs8_pem().expose()).unwrap().remove(0).1;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).unwrap();
        let seed = pair.seed().unwrap();
        let mut jwk = key.public_jwk(None, SigningAlg::EdDSA);
        jwk["d"] = json!(URL_SAFE_NO_PAD.encode(seed.as_be_bytes().unwrap().as_ref()));
        let from_jwk = PrivateKey::load(&jwk.to_string()).unwrap();
        assert_eq!(from_jwk.thumbprint(), key.thumbprint());
    }

    #[test]
    fn clear_errors_for_wrong_material() {
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(matches!(PrivateKey::load(enc), Err(KeyError::Encrypted)));
        let public = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            PrivateKey::load(public),
            Err(KeyError::NotPrivate(_))
        ));
        let cut = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
        let err = PrivateKey::load(cut).unwrap_err().to_string();
        assert!(err.contains("END"), "{err}");
        assert!(matches!(
            PrivateKey::load("hello"),
            Err(KeyError::UnknownFormat)
        ));
        let public_jwk = rsa_key().public_jwk(None, SigningAlg::PS256).to_string();
        assert!(matches!(
            PrivateKey::load(&public_jwk),
            Err(KeyError::NotPrivate(_))
        ));
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(PrivateKey::load(garbage).is_err());
    }

    #[test]
    fn pem_pasted_on_one_line_reads() {
        let pem = rsa_key().to_pkcs8_pem().expose().replace('\n', " ");
        assert_eq!(
            PrivateKey::load(&pem).unwrap().thumbprint(),
            rsa_key().thumbprint()
        );
    }

    #[test]
    fn alg_must_fit_the_key() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        assert!(key.check_alg(SigningAlg::ES256).is_ok());
        let err = key.check_alg(SigningAlg::PS256).unwrap_err().to_string();
        assert!(err.contains("ES256"), "{err}");
        assert!(!SigningAlg::RS256.fapi_allowed());
    }

    #[test]
    fn small_rsa_refused() {
        assert!(PrivateKey::generate(KeyType::Rsa { bits: 1024 }).is_err());
    }

    #[test]
    fn debug_does_not_print_key_material() {
        let s = format!("{:?}", rsa_key());
        assert!(!s.contains("PRIVATE"), "{s}");
    }
}
