//! Tests of `verify`.

use super::test_keys::{self, TestKey};
use super::*;
use crate::jose::jwt::decode;
use jsonwebtoken::Algorithm;
use serde_json::json;

fn claims() -> Value {
    json!({"iss": "https://auth1.sandbox.mya.ozoneapi.io", "exp": 1769767012.739, "sub": "202"})
}

fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = crate::jose::jwt::b64url(r#"{"sub":"someone else"}"#);
    parts.join(".")
}

fn jwks(keys: &[(&TestKey, &str)]) -> VerificationKey {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(k, kid)| {
            let mut j = k.jwk.clone();
            j["kid"] = json!(kid);
            j
        })
        .collect();
    VerificationKey::Jwks(json!({ "keys": keys }))
}

fn check(token: &str, key: &VerificationKey) -> SignatureStatus {
    verify(&decode(token).unwrap(), key)
}

/// Every asymmetric key verifies both ways through every key form.
fn both_ways(k: &TestKey) {
    let good = k.sign(Some("k1"), &claims());
    let bad = tamper(&good);
    let forms = [
        jwks(&[(k, "k1")]),
        VerificationKey::Jwk(k.jwk.clone()),
        VerificationKey::Pem(k.public_pem.clone()),
        VerificationKey::Pem(k.cert_pem.clone()),
    ];
    for form in &forms {
        let status = check(&good, form);
        assert!(status.is_valid(), "{} {form:?}: {status:?}", k.alg);
        let status = check(&bad, form);
        assert_eq!(status.status(), "invalid", "{} {form:?}: {status:?}", k.alg);
    }
    assert_eq!(
        check(&good, &jwks(&[(k, "k1")])),
        SignatureStatus::Valid {
            kid: Some("k1".into())
        }
    );
}

#[test]
fn ps256_both_ways() {
    both_ways(test_keys::rsa());
}

#[test]
fn es256_both_ways() {
    both_ways(test_keys::p256());
}

#[test]
fn es384_both_ways() {
    both_ways(test_keys::p384());
}

#[test]
fn es512_both_ways() {
    both_ways(test_keys::p521());
}

#[test]
fn eddsa_both_ways() {
    both_ways(test_keys::ed25519());
}

#[test]
fn every_rsa_alg_both_ways() {
    let k = test_keys::rsa();
    for (alg, name) in [
        (Algorithm::RS256, "RS256"),
        (Algorithm::RS384, "RS384"),
        (Algorithm::RS512, "RS512"),
        (Algorithm::PS256, "PS256"),
        (Algorithm::PS384, "PS384"),
        (Algorithm::PS512, "PS512"),
    ] {
        let good = k.sign_rsa_as(alg, name, &claims());
        let key = VerificationKey::Pem(k.public_pem.clone());
        assert!(check(&good, &key).is_valid(), "{name}");
        assert_eq!(check(&tamper(&good), &key).status(), "invalid", "{name}");
        // The other RSA key does not verify it.
        let other = VerificationKey::Jwk(test_keys::rsa2().jwk.clone());
        assert_eq!(check(&good, &other).status(), "invalid", "{name}");
    }
}

#[test]
fn every_hmac_alg_both_ways() {
    let secret = b"a-shared-secret-of-at-least-32-bytes!!";
    for (alg, name) in [
        (Algorithm::HS256, "HS256"),
        (Algorithm::HS384, "HS384"),
        (Algorithm::HS512, "HS512"),
    ] {
        let good = test_keys::sign_hs(alg, name, secret, &claims());
        let key = VerificationKey::Secret(secret.to_vec());
        assert!(check(&good, &key).is_valid(), "{name}");
        assert_eq!(check(&tamper(&good), &key).status(), "invalid");
        let wrong = VerificationKey::Secret(b"another secret".to_vec());
        assert_eq!(check(&good, &wrong).status(), "invalid");
        let oct =
            VerificationKey::Jwk(json!({"kty": "oct", "k": crate::jose::jwt::b64url(secret)}));
        assert!(check(&good, &oct).is_valid(), "{name} oct jwk");
    }
}

#[test]
fn hmac_token_against_a_public_key_is_refused() {
    // The classic confusion: the RSA public key PEM used as the HMAC secret.
    let k = test_keys::rsa();
    let forged = test_keys::sign_hs(
        Algorithm::HS256,
        "HS256",
        k.public_pem.as_bytes(),
        &claims(),
    );
    for key in [
        VerificationKey::Pem(k.public_pem.clone()),
        VerificationKey::Jwk(k.jwk.clone()),
        jwks(&[(k, "k1")]),
    ] {
        let status = check(&forged, &key);
        assert_eq!(status.status(), "invalid");
        assert!(
            status.reason().unwrap().contains("algorithm confusion"),
            "{status:?}"
        );
    }
}

#[test]
fn asymmetric_token_against_a_secret_is_refused() {
    let token = test_keys::p256().sign(None, &claims());
    let status = check(&token, &VerificationKey::Secret(b"secret".to_vec()));
    assert_eq!(status.status(), "invalid");
    assert!(status.reason().unwrap().contains("algorithm confusion"));
}

#[test]
fn alg_must_fit_the_key_type() {
    // An ES256 token checked with an RSA key, and with a P-384 key.
    let token = test_keys::p256().sign(None, &claims());
    let status = check(
        &token,
        &VerificationKey::Pem(test_keys::rsa().public_pem.clone()),
    );
    assert_eq!(status.status(), "invalid");
    assert!(
        status.reason().unwrap().contains("does not fit"),
        "{status:?}"
    );
    let status = check(&token, &VerificationKey::Jwk(test_keys::p384().jwk.clone()));
    assert_eq!(status.status(), "invalid");
    // A JWK registered for another alg.
    let mut jwk = test_keys::p256().jwk.clone();
    jwk["alg"] = json!("ES384");
    let status = check(&token, &VerificationKey::Jwk(jwk));
    assert!(
        status
            .reason()
            .unwrap()
            .contains("registered for alg ES384")
    );
}

#[test]
fn kid_not_found_lists_the_kids() {
    let token = test_keys::p256().sign(Some("missing"), &claims());
    let set = jwks(&[(test_keys::p256(), "a"), (test_keys::ed25519(), "b")]);
    assert_eq!(
        check(&token, &set),
        SignatureStatus::NotVerifiable {
            reason: "kid missing not found in the JWKS (kids: a, b)".into()
        }
    );
}

#[test]
fn without_kid_each_fitting_key_is_tried() {
    let token = test_keys::ed25519().sign(None, &claims());
    let set = jwks(&[
        (test_keys::rsa(), "rsa"),
        (test_keys::p256(), "ec"),
        (test_keys::ed25519(), "ed"),
    ]);
    assert_eq!(
        check(&token, &set),
        SignatureStatus::Valid {
            kid: Some("ed".into())
        }
    );
    // No fitting key at all.
    let set = jwks(&[(test_keys::rsa(), "rsa")]);
    assert_eq!(check(&token, &set).status(), "not_verifiable");
}

#[test]
fn unsupported_unsecured_and_jwe() {
    let t = format!(
        "{}.{}.c2ln",
        crate::jose::jwt::b64url(r#"{"alg":"ES256K"}"#),
        crate::jose::jwt::b64url("{}")
    );
    let status = check(&t, &VerificationKey::Secret(vec![1]));
    assert_eq!(status.status(), "not_verifiable");
    assert!(status.reason().unwrap().contains("unsupported alg"));

    let t = format!(
        "{}.{}.",
        crate::jose::jwt::b64url(r#"{"alg":"none"}"#),
        crate::jose::jwt::b64url("{}")
    );
    assert_eq!(
        check(&t, &VerificationKey::Secret(vec![1])).status(),
        "invalid"
    );

    let t = format!(
        "{}.AA.AA.AA.AA",
        crate::jose::jwt::b64url(r#"{"alg":"dir","enc":"A256GCM"}"#)
    );
    assert_eq!(
        check(&t, &VerificationKey::Secret(vec![1])).status(),
        "not_verifiable"
    );
}

#[test]
fn der_encoded_ecdsa_signature_gets_a_hint() {
    let token = test_keys::p256().sign(None, &claims());
    let (input, _) = token.rsplit_once('.').unwrap();
    let t = format!("{input}.{}", crate::jose::jwt::b64url([0x30u8; 70]));
    let status = check(&t, &VerificationKey::Jwk(test_keys::p256().jwk.clone()));
    assert!(
        status.reason().unwrap().contains("DER-encoded"),
        "{status:?}"
    );
}

#[test]
fn status_serializes_with_all_three_members() {
    let v = serde_json::to_value(SignatureStatus::Valid {
        kid: Some("k".into()),
    })
    .unwrap();
    assert_eq!(v, json!({"status": "valid", "kid": "k", "reason": null}));
    let v = serde_json::to_value(SignatureStatus::NotVerifiable { reason: "r".into() }).unwrap();
    assert_eq!(
        v,
        json!({"status": "not_verifiable", "kid": null, "reason": "r"})
    );
}

#[test]
fn key_text_is_recognised() {
    let k = test_keys::p256();
    assert!(matches!(
        parse_key_text(&k.public_pem),
        Ok(VerificationKey::Pem(_))
    ));
    assert!(matches!(
        parse_key_text(&k.cert_pem),
        Ok(VerificationKey::Pem(_))
    ));
    assert!(matches!(
        parse_key_text(&k.jwk.to_string()),
        Ok(VerificationKey::Jwk(_))
    ));
    assert!(matches!(
        parse_key_text(r#"{"keys": []}"#),
        Ok(VerificationKey::Jwks(_))
    ));
    assert_eq!(parse_key_text("hello").unwrap_err(), KeyError::Unrecognised);
    let private = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert!(
        parse_key_text(private)
            .unwrap_err()
            .to_string()
            .contains("private key")
    );
}

#[test]
fn secret_is_redacted_in_debug() {
    let k = VerificationKey::Secret(b"hunter2".to_vec());
    assert_eq!(format!("{k:?}"), "Secret([redacted])");
}
