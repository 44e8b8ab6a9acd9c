//! Key types, curves and the signing algorithms each can use (RFC 7518 §3).

use serde::{Deserialize, Serialize};

use jsonwebtoken::Algorithm;

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
