//! The sandbox's own id_token signing key: an RSA key used with PS256, published at
//! `/jwks` with its RFC 7638 thumbprint as `kid`. The key handling itself is
//! [`crate::jose::keys::PrivateKey`]'s.

use jsonwebtoken::EncodingKey;
use serde_json::Value;

use super::SandboxError;
use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
use crate::secret::Secret;

/// The signing key with its public JWK.
pub(crate) struct SigningKey {
    /// PKCS#8 PEM.
    pub pem: Secret,
    /// The jsonwebtoken signing key.
    pub encoding: EncodingKey,
    /// RFC 7638 thumbprint, used as `kid`.
    pub kid: String,
    /// The public JWK with `kid`, `use` and `alg`.
    pub public_jwk: Value,
}

impl SigningKey {
    /// Generates a fresh 2048-bit RSA key (slow in debug builds: call off the runtime).
    pub fn generate() -> Result<Self, SandboxError> {
        PrivateKey::generate(KeyType::Rsa { bits: 2048 })
            .map_err(|e| SandboxError::Key(format!("RSA key generation failed: {e}")))
            .and_then(Self::from_key)
    }

    /// Loads a PKCS#8 (or PKCS#1) RSA private key PEM.
    pub fn from_pem(pem: &str) -> Result<Self, SandboxError> {
        PrivateKey::from_pem(pem)
            .map_err(|e| {
                SandboxError::Key(format!(
                    "not an unencrypted RSA private key PEM (PKCS#8 or PKCS#1): {e}"
                ))
            })
            .and_then(Self::from_key)
    }

    fn from_key(key: PrivateKey) -> Result<Self, SandboxError> {
        if !matches!(key.key_type(), KeyType::Rsa { .. }) {
            return Err(SandboxError::Key(format!(
                "the id_token key must be RSA (PS256), not {}",
                key.key_type()
            )));
        }
        let kid = key.thumbprint();
        Ok(Self {
            pem: key.to_pkcs8_pem().clone(),
            encoding: key.encoding_key().clone(),
            public_jwk: key.public_jwk(Some(&kid), SigningAlg::PS256),
            kid,
        })
    }
}
