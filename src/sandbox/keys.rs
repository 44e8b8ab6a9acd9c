//! The sandbox's own id_token signing key: an RSA key used with PS256, published at
//! `/jwks` with its RFC 7638 thumbprint as `kid`.

use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

use super::SandboxError;
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
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048)
            .map_err(|e| SandboxError::Key(format!("RSA key generation failed: {e}")))?;
        Self::from_rsa(&key)
    }

    /// Loads a PKCS#8 (or PKCS#1) RSA private key PEM.
    pub fn from_pem(pem: &str) -> Result<Self, SandboxError> {
        let key = rsa::PrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| rsa::PrivateKey::from_pkcs1_pem(pem))
            .map_err(|e| {
                SandboxError::Key(format!(
                    "not an unencrypted RSA private key PEM (PKCS#8 or PKCS#1): {e}"
                ))
            })?;
        Self::from_rsa(&key)
    }

    fn from_rsa(key: &rsa::PrivateKey) -> Result<Self, SandboxError> {
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| SandboxError::Key(e.to_string()))?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| SandboxError::Key(e.to_string()))?;
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::PS256)
            .map_err(|e| SandboxError::Key(e.to_string()))?;
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| SandboxError::Key(e.to_string()))?;
        let full = serde_json::to_value(&jwk).map_err(|e| SandboxError::Key(e.to_string()))?;
        let member = |name: &str| full.get(name).cloned().unwrap_or(Value::Null);
        let public_jwk = json!({
            "kty": "RSA",
            "kid": kid,
            "use": "sig",
            "alg": "PS256",
            "n": member("n"),
            "e": member("e"),
        });
        Ok(Self {
            pem: Secret::new(pem.as_str()),
            encoding,
            kid,
            public_jwk,
        })
    }
}
