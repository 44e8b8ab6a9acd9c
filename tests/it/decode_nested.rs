//! `decode` on what comes after the token: layered answers (a JWS holding a JWE holding a
//! JWT) and detached signatures over an HTTP body.

use serde_json::{Value, json};

use crate::jwt::{json_out, run};

/// `decode` opens a layered answer (a JWS whose `data` is a JWE, RSA-OAEP here, holding a
/// JWT) with `--jwks` given twice and `--decrypt-key` (or its old name `--jwe-key`); a
/// provider key left out leaves that layer unchecked, not skipped. A detached JWS is
/// verified over `--payload`, unencoded (RFC 7797) too, and a changed payload exits 1.
#[test]
fn decode_opens_layers_and_verifies_detached_payloads() {
    use token_inspector::jose::encrypt::{JweRecipient, encrypt};
    use token_inspector::jose::jwe::KeyManagement;
    use token_inspector::jose::keys::{KeyType, PrivateKey, SigningAlg};
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let hub = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let provider = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let enc = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
    let sign = |key: &PrivateKey, kid: &str, claims: Value| {
        let header = json!({"alg": "ES256", "kid": kid});
        token_inspector::jose::jwt::sign_compact(
            header.as_object().unwrap(),
            &claims,
            key.encoding_key(),
            jsonwebtoken::Algorithm::ES256,
        )
        .unwrap()
    };
    let inner = sign(
        &provider,
        "dp",
        json!({"iss": "dp", "data": {"balance": "1.00"}}),
    );
    let to = JweRecipient::from_private_pem(enc.to_pkcs8_pem().expose(), Some("enc-1")).unwrap();
    let cty = json!({"cty": "JWT"});
    let jwe = encrypt(
        inner.as_bytes(),
        cty.as_object().unwrap(),
        &to,
        KeyManagement::RsaOaep,
    )
    .unwrap();
    let outer = sign(&hub, "hub", json!({"iss": "Paynet OFP", "data": jwe}));
    std::fs::write(
        path("hub.jwks"),
        hub.public_jwks(Some("hub"), SigningAlg::ES256).to_string(),
    )
    .unwrap();
    std::fs::write(
        path("dp.jwks"),
        provider
            .public_jwks(Some("dp"), SigningAlg::ES256)
            .to_string(),
    )
    .unwrap();
    std::fs::write(path("enc.pem"), enc.to_pkcs8_pem().expose()).unwrap();

    for name in ["--decrypt-key", "--jwe-key"] {
        let r = run(
            &[
                &outer,
                "--jwks",
                &path("hub.jwks"),
                "--jwks",
                &path("dp.jwks"),
                name,
                &path("enc.pem"),
                "--json",
            ],
            None,
            &[],
        );
        assert_eq!(r.code, 0, "{name}: {}{}", r.stdout, r.stderr);
        let v = json_out(&r);
        assert_eq!(v["kind"], "layered");
        assert_eq!(v["verified"], true, "{v}");
        assert_eq!(v["data"]["balance"], "1.00");
        assert_eq!(v["layers"][1]["header"]["alg"], "RSA-OAEP");
    }
    let r = run(
        &[
            &outer,
            "--jwks",
            &path("hub.jwks"),
            "--decrypt-key",
            &path("enc.pem"),
            "--json",
        ],
        None,
        &[],
    );
    let v = json_out(&r);
    assert_eq!(r.code, 0, "{v}");
    assert_eq!(v["verified"], false);
    assert_eq!(v["layers"][2]["verdict"], "not_checked", "{v}");

    let body = br#"{"Data":{"Initiation":{"InstructedAmount":{"Amount":"10.00"}}}}"#;
    std::fs::write(path("body.json"), body).unwrap();
    std::fs::write(path("other.json"), b"{}").unwrap();
    let header = json!({"alg": "ES256", "kid": "hub", "b64": false, "crit": ["b64"]});
    let detached = token_inspector::jose::detached::sign_detached(
        header.as_object().unwrap(),
        body,
        hub.encoding_key(),
        jsonwebtoken::Algorithm::ES256,
    )
    .unwrap();
    let r = run(
        &[
            &detached,
            "--payload",
            &path("body.json"),
            "--jwks",
            &path("hub.jwks"),
            "--json",
        ],
        None,
        &[],
    );
    let v = json_out(&r);
    assert_eq!(r.code, 0, "{v}");
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(v["b64"], false);
    let r = run(
        &[
            &detached,
            "--payload",
            &path("other.json"),
            "--jwks",
            &path("hub.jwks"),
        ],
        None,
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("INVALID"), "{}", r.stdout);
}
