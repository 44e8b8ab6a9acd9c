//! JWE encryption (RFC 7516 §5.1), compact serialization: the content key wrapped with
//! RSA-OAEP-256 or RSA-OAEP to the recipient's public key, the content sealed with
//! A256GCM. What the sandbox answers PayNet-style with, and what a UAE client sends
//! personal data in.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};

use crate::jose::jwe::{JweError, KeyManagement};
use crate::jose::jwt::{Segment, b64url, decode_segment};

/// The public key a JWE is encrypted to, and its `kid`.
#[derive(Clone)]
pub struct JweRecipient {
    der: Vec<u8>,
    /// The key's `kid`, put in the JWE header.
    pub kid: Option<String>,
}

impl std::fmt::Debug for JweRecipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JweRecipient")
            .field("kid", &self.kid)
            .finish()
    }
}

impl JweRecipient {
    /// An RSA public JWK (`kty: RSA`, `n`, `e`).
    pub fn from_jwk(jwk: &Value) -> Result<Self, JweError> {
        use rsa::pkcs8::EncodePublicKey;
        if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
            return Err(JweError::WrongKeyKind(
                "RSA-OAEP encrypts to an RSA key (kty RSA)".into(),
            ));
        }
        let member = |name: &str| {
            jwk.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| JweError::BadKey(format!("the JWK has no {name:?}")))
                .and_then(|text| {
                    decode_segment(Segment::Whole, text)
                        .map_err(|e| JweError::BadKey(format!("{name:?}: {}", e.problem)))
                })
        };
        let (n, e) = (member("n")?, member("e")?);
        let bits = u32::try_from(n.len().saturating_mul(8)).unwrap_or(u32::MAX);
        let n = rsa::BoxedUint::from_be_slice(&n, bits)
            .map_err(|_| JweError::BadKey("the modulus n is not readable".into()))?;
        let e = rsa::BoxedUint::from_be_slice(&e, 64)
            .map_err(|_| JweError::BadKey("the exponent e is not readable".into()))?;
        let public = rsa::PublicKey::new(n, e)
            .map_err(|err| JweError::BadKey(format!("not an RSA public key: {err}")))?;
        let der = public
            .to_public_key_der()
            .map_err(|err| JweError::BadKey(err.to_string()))?
            .as_bytes()
            .to_vec();
        Ok(Self {
            der,
            kid: jwk.get("kid").and_then(Value::as_str).map(str::to_owned),
        })
    }

    /// The encryption key of a JWK Set: the first RSA key whose `use` is `enc` (or has no
    /// `use`), preferring `kid` when given.
    pub fn from_jwks(jwks: &Value, kid: Option<&str>) -> Result<Self, JweError> {
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JweError::BadKey("not a JWK Set (no \"keys\" array)".into()))?;
        let fits = |k: &&Value| {
            k.get("kty").and_then(Value::as_str) == Some("RSA")
                && k.get("use")
                    .and_then(Value::as_str)
                    .is_none_or(|u| u == "enc")
        };
        let chosen = keys
            .iter()
            .filter(fits)
            .find(|k| kid.is_none_or(|want| k.get("kid").and_then(Value::as_str) == Some(want)))
            .ok_or_else(|| {
                JweError::BadKey(match kid {
                    Some(want) => {
                        format!("the JWK Set has no RSA encryption key with kid {want:?}")
                    }
                    None => "the JWK Set has no RSA encryption key (use \"enc\")".into(),
                })
            })?;
        Self::from_jwk(chosen)
    }

    /// The public half of an RSA private key PEM (the key a client decrypts with).
    pub fn from_private_pem(pem: &str, kid: Option<&str>) -> Result<Self, JweError> {
        use aws_lc_rs::encoding::AsDer as _;
        let der = crate::jose::jwe::rsa_private_pkcs8(pem)?;
        let key = aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(&der)
            .map_err(|_| JweError::BadKey("the RSA key was refused".into()))?;
        let public = key
            .public_key()
            .as_der()
            .map_err(|_| JweError::BadKey("the public key could not be written".into()))?;
        Ok(Self {
            der: public.as_ref().to_vec(),
            kid: kid.map(str::to_owned),
        })
    }
}

/// Encrypts `plaintext` to `to`: header `{alg, enc: A256GCM, kid?}` plus `extra` (`cty`,
/// `typ`…), a fresh content key and IV for every call.
pub fn encrypt(
    plaintext: &[u8],
    extra: &Map<String, Value>,
    to: &JweRecipient,
    how: KeyManagement,
) -> Result<String, JweError> {
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey};
    let rng = SystemRandom::new();
    let mut cek = [0u8; 32];
    let mut iv = [0u8; 12];
    rng.fill(&mut cek)
        .and_then(|()| rng.fill(&mut iv))
        .map_err(|_| JweError::Failed("no randomness".into()))?;
    let public = PublicEncryptingKey::from_der(&to.der)
        .ok()
        .and_then(|k| OaepPublicEncryptingKey::new(k).ok())
        .ok_or_else(|| JweError::BadKey("the RSA public key was refused".into()))?;
    let mut wrapped = vec![0u8; public.ciphertext_size()];
    let wrapped = public
        .encrypt(how.oaep(), &cek, &mut wrapped, None)
        .map_err(|_| JweError::Failed("the content key could not be wrapped".into()))?
        .to_vec();
    let mut header = Map::new();
    header.insert("alg".into(), how.as_str().into());
    header.insert("enc".into(), "A256GCM".into());
    if let Some(kid) = &to.kid {
        header.insert("kid".into(), kid.clone().into());
    }
    header.extend(extra.clone());
    let header_b64 =
        b64url(serde_json::to_vec(&header).map_err(|e| JweError::Failed(e.to_string()))?);
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &cek).map_err(|_| JweError::BadKey("bad AES key".into()))?,
    );
    let mut sealed = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header_b64.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| JweError::Failed("AES-GCM sealing failed".into()))?;
    Ok(format!(
        "{header_b64}.{}.{}.{}.{}",
        b64url(&wrapped),
        b64url(iv),
        b64url(&sealed),
        b64url(tag.as_ref())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::jwe::{JweKey, decrypt};
    use crate::jose::jwt::{Payload, decode};

    fn rsa_pem() -> String {
        let k = crate::jose::verify::test_keys::rsa();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &k.pkcs8)
        )
    }

    /// Both key managements round-trip through the decrypter; another key is refused.
    #[test]
    fn encrypts_to_a_public_key_that_the_private_key_opens() {
        let pem = rsa_pem();
        let to = JweRecipient::from_private_pem(&pem, Some("enc-1")).unwrap();
        for how in [KeyManagement::RsaOaep256, KeyManagement::RsaOaep] {
            let mut extra = Map::new();
            extra.insert("cty".into(), "JWT".into());
            let jwe = encrypt(b"inner.jwt.here", &extra, &to, how).unwrap();
            let d = decode(&jwe).unwrap();
            assert_eq!(d.alg(), Some(how.as_str()));
            assert_eq!(d.kid(), Some("enc-1"));
            assert_eq!(d.header["cty"], "JWT");
            let plain = decrypt(&d, &JweKey::RsaPrivatePem(pem.clone().into())).unwrap();
            assert_eq!(plain, Payload::Text("inner.jwt.here".into()));
        }
        let other =
            crate::jose::keys::PrivateKey::generate(crate::jose::keys::KeyType::Rsa { bits: 2048 })
                .unwrap();
        let jwe = encrypt(b"x", &Map::new(), &to, KeyManagement::RsaOaep256).unwrap();
        let err = decrypt(
            &decode(&jwe).unwrap(),
            &JweKey::RsaPrivatePem(other.to_pkcs8_pem().clone()),
        )
        .unwrap_err();
        assert!(matches!(err, JweError::Failed(_)), "{err}");
    }

    /// A JWK Set's encryption key is found by use and kid; a signing-only set is refused.
    #[test]
    fn the_encryption_key_of_a_jwks() {
        let key =
            crate::jose::keys::PrivateKey::generate(crate::jose::keys::KeyType::Rsa { bits: 2048 })
                .unwrap();
        let mut jwk = key.public_jwk(Some("e1"), crate::jose::keys::SigningAlg::PS256);
        jwk["use"] = "enc".into();
        let mut sig = jwk.clone();
        sig["use"] = "sig".into();
        sig["kid"] = "s1".into();
        let jwks = serde_json::json!({"keys": [sig, jwk]});
        assert_eq!(
            JweRecipient::from_jwks(&jwks, None).unwrap().kid.as_deref(),
            Some("e1")
        );
        assert!(JweRecipient::from_jwks(&jwks, Some("s1")).is_err());
        assert!(JweRecipient::from_jwks(&serde_json::json!({"keys": [sig]}), None).is_err());
    }
}
