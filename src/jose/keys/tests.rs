//! Tests of `keys`.

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
    let enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
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
