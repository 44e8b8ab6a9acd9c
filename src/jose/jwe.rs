//! JWE decryption (RFC 7516 §5.2) with a key the user supplies.
//!
//! Key management: `RSA-OAEP-256` and `RSA-OAEP` (RFC 7518 §4.3, §4.2, RSA private key
//! PEM) and `dir`
//! (RFC 7518 §4.5, the raw content encryption key). Content encryption: `A128GCM`,
//! `A192GCM`, `A256GCM` (RFC 7518 §5.3) and `A128CBC-HS256`, `A256CBC-HS512` (RFC 7518
//! §5.2). The AAD is the ASCII of the protected header segment. A nested JWS (RFC 7519
//! §5.2 `cty: JWT`) comes back as a text payload the caller decodes again.

use std::fmt;

use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::jose::jwt::{DecodedJose, JoseKind, Payload, parse_payload};

/// The key a JWE is decrypted with.
#[derive(Clone)]
pub enum JweKey {
    /// An RSA private key PEM (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`) for
    /// `RSA-OAEP-256`.
    RsaPrivatePem(crate::secret::Secret),
    /// The content encryption key itself, for `alg: dir`.
    Direct(Vec<u8>),
}

impl fmt::Debug for JweKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JweKey::RsaPrivatePem(_) => f.write_str("RsaPrivatePem([redacted])"),
            JweKey::Direct(_) => f.write_str("Direct([redacted])"),
        }
    }
}

/// Why a JWE could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    /// The value is not a JWE.
    #[error("not a JWE (a JWE has 5 segments)")]
    NotJwe,
    /// The `alg` (key management) is not supported.
    #[error(
        "unsupported JWE key management alg {0:?} (supported: RSA-OAEP-256 and RSA-OAEP with an RSA private key, dir with the raw key)"
    )]
    UnsupportedAlg(String),
    /// The `enc` (content encryption) is not supported.
    #[error(
        "unsupported JWE content encryption enc {0:?} (supported: A128GCM, A192GCM, A256GCM, A128CBC-HS256, A256CBC-HS512)"
    )]
    UnsupportedEnc(String),
    /// Compressed payloads are not supported.
    #[error("the JWE payload is compressed (zip {0:?}); decompression is not supported")]
    Compressed(String),
    /// The key given does not suit the header's alg.
    #[error("the key does not suit this JWE: {0}")]
    WrongKeyKind(String),
    /// The key could not be read.
    #[error("the decryption key could not be read: {0}")]
    BadKey(String),
    /// Decryption or authentication failed: wrong key, or the token was altered.
    #[error("decryption failed: {0}")]
    Failed(String),
}

/// Decrypts a JWE (RFC 7516 §5.2) and returns its plaintext as a [`Payload`]: JSON claims,
/// or text (a nested JWS is text the caller can [`crate::jose::jwt::decode`] again).
pub fn decrypt(decoded: &DecodedJose, key: &JweKey) -> Result<Payload, JweError> {
    Ok(parse_payload(&decrypt_bytes(decoded, key)?))
}

/// Decrypts a JWE to its plaintext bytes.
pub fn decrypt_bytes(decoded: &DecodedJose, key: &JweKey) -> Result<Vec<u8>, JweError> {
    if decoded.kind != JoseKind::Jwe || decoded.parts.len() != 4 {
        return Err(JweError::NotJwe);
    }
    let alg = decoded.alg().unwrap_or_default().to_owned();
    let enc = decoded
        .header
        .get("enc")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(zip) = decoded.header.get("zip") {
        return Err(JweError::Compressed(zip.to_string()));
    }
    let cek_len = match enc.as_str() {
        "A128GCM" => 16,
        "A192GCM" => 24,
        "A256GCM" => 32,
        "A128CBC-HS256" => 32,
        "A256CBC-HS512" => 64,
        _ => return Err(JweError::UnsupportedEnc(enc)),
    };
    let [encrypted_key, iv, ciphertext, tag] = [
        &decoded.parts[0],
        &decoded.parts[1],
        &decoded.parts[2],
        &decoded.parts[3],
    ];
    let cek: Vec<u8> = match (alg.as_str(), key) {
        ("dir", JweKey::Direct(k)) => {
            if !encrypted_key.is_empty() {
                return Err(JweError::Failed(
                    "alg dir requires an empty encrypted key segment (RFC 7518 §4.5)".into(),
                ));
            }
            k.clone()
        }
        ("RSA-OAEP-256", JweKey::RsaPrivatePem(pem)) => {
            rsa_oaep_unwrap(pem.expose(), encrypted_key, KeyManagement::RsaOaep256)?
        }
        ("RSA-OAEP", JweKey::RsaPrivatePem(pem)) => {
            rsa_oaep_unwrap(pem.expose(), encrypted_key, KeyManagement::RsaOaep)?
        }
        ("dir", JweKey::RsaPrivatePem(_)) => {
            return Err(JweError::WrongKeyKind(
                "alg dir needs the symmetric key itself, not an RSA private key".into(),
            ));
        }
        ("RSA-OAEP-256" | "RSA-OAEP", JweKey::Direct(_)) => {
            return Err(JweError::WrongKeyKind(format!(
                "alg {alg} needs an RSA private key PEM"
            )));
        }
        _ => return Err(JweError::UnsupportedAlg(alg)),
    };
    if cek.len() != cek_len {
        return Err(JweError::WrongKeyKind(format!(
            "enc {enc} needs a {cek_len}-byte key, the key is {} bytes",
            cek.len()
        )));
    }
    let aad = decoded.header_segment().as_bytes();
    match enc.as_str() {
        "A128GCM" | "A192GCM" | "A256GCM" => aes_gcm(&cek, iv, aad, ciphertext, tag),
        _ => aes_cbc_hmac(&enc, &cek, iv, aad, ciphertext, tag),
    }
}

/// RSA key management for a JWE (RFC 7518 §4.2, §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyManagement {
    /// `RSA-OAEP-256`: OAEP with SHA-256 and MGF1 with SHA-256.
    RsaOaep256,
    /// `RSA-OAEP`: OAEP with SHA-1 and MGF1 with SHA-1 (older, still required by some
    /// ecosystems).
    RsaOaep,
}

impl KeyManagement {
    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyManagement::RsaOaep256 => "RSA-OAEP-256",
            KeyManagement::RsaOaep => "RSA-OAEP",
        }
    }

    /// The `alg` named, when it is one of these.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RSA-OAEP-256" => Some(KeyManagement::RsaOaep256),
            "RSA-OAEP" => Some(KeyManagement::RsaOaep),
            _ => None,
        }
    }

    pub(crate) fn oaep(self) -> &'static aws_lc_rs::rsa::OaepAlgorithm {
        match self {
            KeyManagement::RsaOaep256 => &aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256,
            KeyManagement::RsaOaep => &aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1,
        }
    }
}

/// An RSA private key PEM (PKCS#1 or PKCS#8) as PKCS#8 DER, for aws-lc.
pub(crate) fn rsa_private_pkcs8(pem: &str) -> Result<Vec<u8>, JweError> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    let (label, der) =
        crate::jose::public_key::pem_block(pem).map_err(|e| JweError::BadKey(e.to_string()))?;
    let private = match label.as_str() {
        "RSA PRIVATE KEY" => rsa::PrivateKey::from_pkcs1_der(&der)
            .map_err(|e| JweError::BadKey(format!("PKCS#1: {e}")))?,
        "PRIVATE KEY" => rsa::PrivateKey::from_pkcs8_der(&der)
            .map_err(|e| JweError::BadKey(format!("PKCS#8: {e}")))?,
        other => {
            return Err(JweError::BadKey(format!(
                "expected an RSA private key PEM, got {other:?}"
            )));
        }
    };
    private
        .to_pkcs8_der()
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|e| JweError::BadKey(format!("PKCS#8: {e}")))
}

fn rsa_oaep_unwrap(
    pem: &str,
    encrypted_key: &[u8],
    how: KeyManagement,
) -> Result<Vec<u8>, JweError> {
    use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, PrivateDecryptingKey};
    let der = rsa_private_pkcs8(pem)?;
    let key = PrivateDecryptingKey::from_pkcs8(&der)
        .ok()
        .and_then(|k| OaepPrivateDecryptingKey::new(k).ok())
        .ok_or_else(|| JweError::BadKey("the RSA key was refused for decryption".into()))?;
    let mut out = vec![0u8; key.min_output_size()];
    let failed = || {
        JweError::Failed(format!(
            "{} could not unwrap the content key (wrong private key?)",
            how.as_str()
        ))
    };
    let plain = key
        .decrypt(how.oaep(), encrypted_key, &mut out, None)
        .map_err(|_| failed())?;
    Ok(plain.to_vec())
}

fn aes_gcm(
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Vec<u8>, JweError> {
    let algorithm = match cek.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        _ => &AES_256_GCM,
    };
    let key = LessSafeKey::new(
        UnboundKey::new(algorithm, cek).map_err(|_| JweError::BadKey("bad AES key".into()))?,
    );
    let nonce = Nonce::try_assume_unique_for_key(iv)
        .map_err(|_| JweError::Failed(format!("the IV is {} bytes; AES-GCM needs 12", iv.len())))?;
    if tag.len() != 16 {
        return Err(JweError::Failed(format!(
            "the authentication tag is {} bytes; AES-GCM needs 16",
            tag.len()
        )));
    }
    let mut in_out = ciphertext.to_vec();
    in_out.extend_from_slice(tag);
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut in_out)
        .map_err(|_| {
            JweError::Failed(
                "AES-GCM authentication failed (wrong key, or the token was altered)".into(),
            )
        })?;
    Ok(plain.to_vec())
}

/// AES_CBC_HMAC_SHA2 (RFC 7518 §5.2.2.2).
fn aes_cbc_hmac(
    enc: &str,
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Vec<u8>, JweError> {
    use aws_lc_rs::cipher::{
        AES_128, AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey,
    };
    use aws_lc_rs::hmac;
    use aws_lc_rs::iv::FixedLength;
    let half = cek.len() / 2;
    let (mac_key, enc_key) = cek.split_at(half);
    let (hmac_alg, cipher) = if enc == "A128CBC-HS256" {
        (hmac::HMAC_SHA256, &AES_128)
    } else {
        (hmac::HMAC_SHA512, &AES_256)
    };
    let al = ((aad.len() as u64) * 8).to_be_bytes();
    let mut mac_input = Vec::with_capacity(aad.len() + iv.len() + ciphertext.len() + 8);
    mac_input.extend_from_slice(aad);
    mac_input.extend_from_slice(iv);
    mac_input.extend_from_slice(ciphertext);
    mac_input.extend_from_slice(&al);
    let full = hmac::sign(&hmac::Key::new(hmac_alg, mac_key), &mac_input);
    let expected = &full.as_ref()[..half];
    if tag.len() != half || !constant_time_eq(expected, tag) {
        return Err(JweError::Failed(format!(
            "{enc} authentication tag mismatch (wrong key, or the token was altered)"
        )));
    }
    let iv: [u8; 16] = iv
        .try_into()
        .map_err(|_| JweError::Failed(format!("the IV is {} bytes; AES-CBC needs 16", iv.len())))?;
    let key = PaddedBlockDecryptingKey::cbc_pkcs7(
        UnboundCipherKey::new(cipher, enc_key)
            .map_err(|_| JweError::BadKey("bad AES key".into()))?,
    )
    .map_err(|_| JweError::BadKey("bad AES key".into()))?;
    let mut in_out = ciphertext.to_vec();
    let plain = key
        .decrypt(&mut in_out, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| JweError::Failed("AES-CBC padding is invalid".into()))?;
    Ok(plain.to_vec())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::jose::jwt::{b64url, decode};
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};

    /// Builds a compact JWE with AES-GCM for tests (RFC 7516 §5.1).
    pub(crate) fn encrypt_gcm(
        header: &str,
        encrypted_key: &[u8],
        cek: &[u8],
        plaintext: &[u8],
    ) -> String {
        let header_b64 = b64url(header);
        let mut iv = [0u8; 12];
        SystemRandom::new().fill(&mut iv).unwrap();
        let alg = match cek.len() {
            16 => &AES_128_GCM,
            24 => &AES_192_GCM,
            _ => &AES_256_GCM,
        };
        let key = LessSafeKey::new(UnboundKey::new(alg, cek).unwrap());
        let mut in_out = plaintext.to_vec();
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(iv),
                Aad::from(header_b64.as_bytes()),
                &mut in_out,
            )
            .unwrap();
        format!(
            "{header_b64}.{}.{}.{}.{}",
            b64url(encrypted_key),
            b64url(iv),
            b64url(&in_out),
            b64url(tag.as_ref())
        )
    }

    fn rsa_pem_and_public() -> (String, rsa::PublicKey) {
        use rsa::pkcs8::DecodePrivateKey;
        let k = crate::jose::verify::test_keys::rsa();
        let private = rsa::PrivateKey::from_pkcs8_der(&k.pkcs8).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &k.pkcs8)
        );
        (pem, private.to_public_key())
    }

    #[test]
    fn dir_a256gcm_round_trip_and_wrong_key() {
        let cek = [7u8; 32];
        let t = encrypt_gcm(
            r#"{"alg":"dir","enc":"A256GCM"}"#,
            &[],
            &cek,
            br#"{"sub":"x","exp":1769767012.739}"#,
        );
        let d = decode(&t).unwrap();
        let Payload::Json(v) = decrypt(&d, &JweKey::Direct(cek.to_vec())).unwrap() else {
            panic!("not json")
        };
        assert_eq!(v["exp"].to_string(), "1769767012.739");
        let err = decrypt(&d, &JweKey::Direct(vec![8u8; 32])).unwrap_err();
        assert!(matches!(err, JweError::Failed(_)), "{err}");
        let err = decrypt(&d, &JweKey::Direct(vec![8u8; 16])).unwrap_err();
        assert!(matches!(err, JweError::WrongKeyKind(_)), "{err}");
    }

    #[test]
    fn dir_a128gcm_and_altered_header_fails() {
        let cek = [1u8; 16];
        let t = encrypt_gcm(r#"{"alg":"dir","enc":"A128GCM"}"#, &[], &cek, b"hello");
        let d = decode(&t).unwrap();
        assert_eq!(
            decrypt(&d, &JweKey::Direct(cek.to_vec())).unwrap(),
            Payload::Text("hello".into())
        );
        // Changing the header changes the AAD: authentication fails.
        let (_, rest) = t.split_once('.').unwrap();
        let altered = format!(
            "{}.{rest}",
            b64url(r#"{"alg":"dir","enc":"A128GCM","x":1}"#)
        );
        let d = decode(&altered).unwrap();
        assert!(decrypt(&d, &JweKey::Direct(cek.to_vec())).is_err());
    }

    #[test]
    fn rsa_oaep_256_with_nested_jws() {
        let (pem, public) = rsa_pem_and_public();
        let cek = [9u8; 32];
        let wrapped = public
            .encrypt(
                &mut getrandom::SysRng,
                rsa::Oaep::<rsa::sha2::Sha256>::new(),
                &cek,
            )
            .unwrap();
        let inner = crate::jose::verify::test_keys::p256()
            .sign(Some("k"), &serde_json::json!({"sub": "202"}));
        let t = encrypt_gcm(
            r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","cty":"JWT"}"#,
            &wrapped,
            &cek,
            inner.as_bytes(),
        );
        let d = decode(&t).unwrap();
        let payload = decrypt(&d, &JweKey::RsaPrivatePem(pem.into())).unwrap();
        assert_eq!(payload, Payload::Text(inner.clone()));
        let nested = decode(&inner).unwrap();
        assert_eq!(nested.unverified_claim("sub").unwrap(), "202");
        // A symmetric key for an RSA JWE is refused clearly.
        let err = decrypt(&d, &JweKey::Direct(cek.to_vec())).unwrap_err();
        assert!(matches!(err, JweError::WrongKeyKind(_)));
    }

    /// A `dir` JWE with AES-CBC + HMAC (RFC 7518 §5.2): the CEK's first half is the MAC
    /// key, the second half the AES key; the tag is the first half of the HMAC.
    fn cbc_hs_token(enc: &str, cek: &[u8], iv: [u8; 16], plaintext: &[u8], tamper: bool) -> String {
        use aws_lc_rs::cipher::{
            AES_128, AES_256, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey,
        };
        use aws_lc_rs::hmac;
        let (aes, mac_alg) = match enc {
            "A128CBC-HS256" => (&AES_128, hmac::HMAC_SHA256),
            "A256CBC-HS512" => (&AES_256, hmac::HMAC_SHA512),
            other => panic!("test helper does not know {other}"),
        };
        let half = cek.len() / 2;
        let header_b64 = b64url(format!(r#"{{"alg":"dir","enc":"{enc}"}}"#));
        let key =
            PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(aes, &cek[half..]).unwrap())
                .unwrap();
        let mut ct = plaintext.to_vec();
        key.less_safe_encrypt(&mut ct, EncryptionContext::Iv128(iv.into()))
            .unwrap();
        let mut mac_in = header_b64.as_bytes().to_vec();
        mac_in.extend_from_slice(&iv);
        mac_in.extend_from_slice(&ct);
        mac_in.extend_from_slice(&((header_b64.len() as u64) * 8).to_be_bytes());
        let tag = hmac::sign(&hmac::Key::new(mac_alg, &cek[..half]), &mac_in);
        if tamper {
            ct[0] ^= 1;
        }
        format!(
            "{header_b64}..{}.{}.{}",
            b64url(iv),
            b64url(&ct),
            b64url(&tag.as_ref()[..half])
        )
    }

    #[test]
    fn a256cbc_hs512_round_trip() {
        let cek: Vec<u8> = (0u8..64).collect();
        let t = cbc_hs_token("A256CBC-HS512", &cek, [4u8; 16], b"text payload", false);
        let d = decode(&t).unwrap();
        assert_eq!(
            decrypt(&d, &JweKey::Direct(cek.clone())).unwrap(),
            Payload::Text("text payload".into())
        );
        let t = cbc_hs_token("A256CBC-HS512", &cek, [4u8; 16], b"text payload", true);
        assert!(decrypt(&decode(&t).unwrap(), &JweKey::Direct(cek)).is_err());
    }

    #[test]
    fn a128cbc_hs256_round_trip() {
        let cek: Vec<u8> = (0u8..32).collect();
        let t = cbc_hs_token("A128CBC-HS256", &cek, [3u8; 16], b"{\"a\":1}", false);
        let d = decode(&t).unwrap();
        assert_eq!(
            decrypt(&d, &JweKey::Direct(cek.clone())).unwrap(),
            Payload::Json(serde_json::json!({"a": 1}))
        );
        let mut wrong = cek.clone();
        wrong[0] ^= 1;
        assert!(decrypt(&d, &JweKey::Direct(wrong)).is_err());
    }

    #[test]
    fn unsupported_alg_and_enc_are_named() {
        let t = format!(
            "{}.AA.AA.AA.AA",
            b64url(r#"{"alg":"ECDH-ES","enc":"A256GCM"}"#)
        );
        let d = decode(&t).unwrap();
        let err = decrypt(&d, &JweKey::Direct(vec![0; 32])).unwrap_err();
        assert_eq!(err, JweError::UnsupportedAlg("ECDH-ES".into()));
        let t = format!("{}.AA.AA.AA.AA", b64url(r#"{"alg":"dir","enc":"XC20P"}"#));
        let err = decrypt(&decode(&t).unwrap(), &JweKey::Direct(vec![0; 32])).unwrap_err();
        assert_eq!(err, JweError::UnsupportedEnc("XC20P".into()));
        let jws = crate::jose::verify::test_keys::p256().sign(None, &serde_json::json!({}));
        assert_eq!(
            decrypt(&decode(&jws).unwrap(), &JweKey::Direct(vec![])).unwrap_err(),
            JweError::NotJwe
        );
    }
}
