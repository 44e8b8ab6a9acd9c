//! JWT inspector: property tests of the decoder (never panics; encode-then-decode keeps
//! header and claims exactly, numbers included) and end-to-end tests of
//! `token-inspector decode` run as a real process.

use jsonwebtoken::{Algorithm, EncodingKey};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use token_inspector::checks::{CheckContext, TokenKind, check_jwt, guess_kind};
use token_inspector::jose::jwt::{JoseKind, Payload, b64url, decode, sign_compact};

const SECRET: &[u8] = b"integration-test-shared-secret-0123456789";

fn hs256(header: &Map<String, Value>, claims: &Value) -> String {
    sign_compact(
        header,
        claims,
        &EncodingKey::from_secret(SECRET),
        Algorithm::HS256,
    )
    .unwrap()
}

// ---------------------------------------------------------------- properties

fn b64url_text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{0,40}"
}

/// A JSON number as text: optional minus, digits, optional fraction (no exponent, which
/// serde_json re-writes with a sign).
fn number_text() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        "(0|[1-9][0-9]{0,25})",
        proptest::option::of("[0-9]{1,12}"),
    )
        .prop_map(|(neg, int, frac)| {
            let mut s = String::new();
            if neg {
                s.push('-');
            }
            s.push_str(&int);
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&f);
            }
            s
        })
}

fn json_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        number_text(),
        any::<String>().prop_map(|s| Value::String(s).to_string()),
        Just("true".to_owned()),
        Just("null".to_owned()),
    ]
}

/// A JSON object text with unique keys (`k0`, `k1`, …) in a fixed order.
fn object_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(json_leaf(), 0..8).prop_map(|leaves| {
        let members: Vec<String> = leaves
            .iter()
            .enumerate()
            .map(|(i, v)| format!("\"k{i}\":{v}"))
            .collect();
        format!("{{{}}}", members.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_never_panics_on_any_string(s in any::<String>()) {
        let _ = decode(&s);
    }

    #[test]
    fn decode_never_panics_on_three_segments(a in b64url_text(), b in b64url_text(), c in b64url_text()) {
        let _ = decode(&format!("{a}.{b}.{c}"));
    }

    #[test]
    fn decode_never_panics_on_five_segments(
        a in b64url_text(), b in b64url_text(), c in b64url_text(), d in b64url_text(), e in b64url_text()
    ) {
        let _ = decode(&format!("{a}.{b}.{c}.{d}.{e}"));
    }

    #[test]
    fn decode_and_checks_never_panic_on_encoded_bytes(
        header in proptest::collection::vec(any::<u8>(), 0..64),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        alg in prop_oneof![Just("PS256"), Just("none"), Just("HS256"), Just("RSA-OAEP-256")],
        claims in object_text(),
    ) {
        let _ = decode(&format!("{}.{}.c2ln", b64url(&header), b64url(&payload)));
        let h = format!("{{\"alg\":\"{alg}\",\"enc\":\"A256GCM\",\"crit\":[1]}}");
        for token in [
            format!("{}.{}.c2ln", b64url(&h), b64url(&claims)),
            format!("{}.{}.", b64url(&h), b64url(&claims)),
            format!("{}.AA.AA.AA.AA", b64url(&h)),
        ] {
            if let Ok(d) = decode(&token) {
                for kind in [TokenKind::ClientAssertion, TokenKind::IdToken, TokenKind::AccessToken,
                             TokenKind::RequestObject, TokenKind::Unknown] {
                    let _ = check_jwt(&d, kind, &CheckContext::default(), None);
                }
                let _ = guess_kind(&d);
            }
        }
    }

    #[test]
    fn encode_then_decode_round_trips_exactly(
        header_extra in object_text(),
        claims in object_text(),
        exp in number_text(),
    ) {
        // Header: alg first, then the generated members.
        let header_text = if header_extra == "{}" {
            r#"{"alg":"HS256"}"#.to_owned()
        } else {
            format!("{{\"alg\":\"HS256\",{}", &header_extra[1..])
        };
        let claims_text = if claims == "{}" {
            format!("{{\"exp\":{exp}}}")
        } else {
            format!("{{\"exp\":{exp},{}", &claims[1..])
        };
        let header: Map<String, Value> = serde_json::from_str(&header_text).unwrap();
        let claims_value: Value = serde_json::from_str(&claims_text).unwrap();
        let token = hs256(&header, &claims_value);
        let d = decode(&token).unwrap();
        prop_assert_eq!(d.kind, JoseKind::Jws);
        prop_assert_eq!(serde_json::to_string(&d.header).unwrap(), header_text);
        let Payload::Json(got) = &d.payload else { panic!("payload not JSON") };
        prop_assert_eq!(serde_json::to_string(got).unwrap(), claims_text);
        prop_assert_eq!(got["exp"].to_string(), exp);
    }
}

// ---------------------------------------------------------------- the binary

use crate::support::cli::Run;

/// `token-inspector decode ARGS` with `stdin` piped in and `env` set.
pub(crate) fn run(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<&str> = std::iter::once("decode")
        .chain(args.iter().copied())
        .collect();
    crate::support::cli::run_with(dir.path(), &args, stdin, env)
}

pub(crate) fn json_out(r: &Run) -> Value {
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr))
}

fn codes(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// An EC P-256 key: (pkcs8 DER for signing, SPKI PEM for verifying).
fn p256() -> (Vec<u8>, String) {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    (kp.serialize_der(), kp.public_key_pem())
}

fn es256(pkcs8: &[u8], header: Value, claims: &Value) -> String {
    let Value::Object(header) = header else {
        unreachable!()
    };
    sign_compact(
        &header,
        claims,
        &EncodingKey::from_ec_der(pkcs8),
        Algorithm::ES256,
    )
    .unwrap()
}

const SEED_ASSERTION: &str = r#"{"aud":"https://auth1.sandbox.mya.ozoneapi.io","exp":1769767012.739,"iss":"55aa605c-89ef-4473-aa88-47709f0ff383","sub":"55aa605c-89ef-4473-aa88-47709f0ff383","jti":"633bfebd-b960-4330-80c7-0f163a52c4e3","iat":1769766702.739}"#;

const SEED_ID_TOKEN: &str = r#"{"sub":"202","acr":"acr:paynet-sandbox","amr":"mock","name":"Mr. Mitsu Hirato","given_name":"Mitsu","family_name":"Hirato","preferred_username":"mits","email":"mits@m2.com","email_verified":"true","id_type":"passport","hashed_id_number":"c17edaae86e4016a583e098582f6dbf3eccade8ef83747df9ba617ded9d31309","iss":"https://auth1.sandbox.mya.ozoneapi.io","aud":"55aa605c-89ef-4473-aa88-47709f0ff383","iat":1769768007,"exp":1769768907,"nonce":"d578b737-53ec-465d-898d-d5c0323a6ae3","auth_time":1769768007,"azp":"55aa605c-89ef-4473-aa88-47709f0ff383"}"#;

#[test]
fn good_token_verifies_with_a_pem_and_tampered_one_fails() {
    let (pkcs8, pem) = p256();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    std::fs::write(&key_path, &pem).unwrap();
    let token = es256(
        &pkcs8,
        json!({"alg": "ES256", "kid": "k1"}),
        &json!({"sub": "1", "exp": 4102444800u64}),
    );
    let key = key_path.to_str().unwrap();

    let r = run(&["--json", "--key", key, &token], None, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = json_out(&r);
    assert_eq!(v["kind"], "jws");
    assert_eq!(v["header"]["kid"], "k1");
    assert_eq!(v["signature"]["status"], "valid");
    assert_eq!(v["times"]["exp"]["utc"], "2100-01-01T00:00:00.000Z");

    let (input, sig) = token.rsplit_once('.').unwrap();
    let tampered = format!(
        "{}.{sig}",
        input.replace(input.split('.').nth(1).unwrap(), &b64url(r#"{"sub":"2"}"#))
    );
    let r = run(&["--json", "--key", key, &tampered], None, &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let v = json_out(&r);
    assert_eq!(v["signature"]["status"], "invalid");
    assert!(codes(&v).contains(&"jose.signature_invalid".to_owned()));
}

#[test]
fn malformed_token_exits_2_with_the_segment() {
    let token = format!("{}=.e30.c2ln", b64url(r#"{"alg":"PS256"}"#));
    let r = run(&["--json", &token], None, &[]);
    assert_eq!(r.code, 2);
    let v = json_out(&r);
    assert_eq!(v["error"]["kind"], "malformed");
    assert_eq!(v["error"]["segment"], "header");
    assert!(v["error"]["message"].as_str().unwrap().contains("padding"));

    let r = run(&["--json", "only.two"], None, &[]);
    assert_eq!(r.code, 2);
    assert_eq!(json_out(&r)["error"]["segment"], "whole");

    // Human mode: the message goes to stderr.
    let r = run(&["abc"], None, &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("malformed token"), "{}", r.stderr);
}

#[test]
fn seed_shaped_client_assertion_from_stdin() {
    let (pkcs8, _) = p256();
    let claims: Value = serde_json::from_str(SEED_ASSERTION).unwrap();
    // The seed is PS256; ES256 keeps this test fast and equally FAPI-allowed.
    let token = es256(
        &pkcs8,
        json!({"alg": "ES256", "kid": "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI"}),
        &claims,
    );
    let r = run(
        &[
            "--json",
            "-",
            "--now",
            "1769766800",
            "--issuer",
            "https://auth1.sandbox.mya.ozoneapi.io",
            "--client-id",
            "55aa605c-89ef-4473-aa88-47709f0ff383",
        ],
        Some(&format!("{token}\n")),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The fractional NumericDate is printed exactly as sent.
    assert!(r.stdout.contains("\"exp\": 1769767012.739"), "{}", r.stdout);
    let v = json_out(&r);
    assert_eq!(v["token_kind"], "client_assertion");
    assert_eq!(v["claims"]["iat"].to_string(), "1769766702.739");
    assert_eq!(v["times"]["exp"]["utc"], "2026-01-30T09:56:52.739Z");
    assert_eq!(v["signature"]["status"], "not_verifiable");
    // Only "signature not checked": the seed assertion is otherwise clean.
    assert_eq!(codes(&v), ["jose.signature_not_checked"]);

    // With a token-endpoint aud and a 2 h lifetime, both are reported.
    let mut bad = claims.clone();
    bad["aud"] = json!("https://as1.sandbox.mya.ozoneapi.io/token");
    bad["exp"] = json!(1_769_766_702.739 + 7200.0);
    let token = es256(&pkcs8, json!({"alg": "ES256"}), &bad);
    let r = run(
        &[
            "--json",
            "--kind",
            "assertion",
            "--now",
            "1769766800",
            &token,
        ],
        None,
        &[],
    );
    let c = codes(&json_out(&r));
    assert!(
        c.contains(&"assertion.aud_token_endpoint".to_owned()),
        "{c:?}"
    );
    assert!(
        c.contains(&"assertion.lifetime_too_long".to_owned()),
        "{c:?}"
    );
}

#[test]
fn seed_shaped_id_token_with_a_jwks() {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "U7hq", "x": b64url(kp.public_key_raw())}]});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwks.to_string()).unwrap();
    let claims: Value = serde_json::from_str(SEED_ID_TOKEN).unwrap();
    let Value::Object(header) = json!({"alg": "EdDSA", "kid": "U7hq"}) else {
        unreachable!()
    };
    let token = sign_compact(
        &header,
        &claims,
        &EncodingKey::from_ed_der(&kp.serialize_der()),
        Algorithm::EdDSA,
    )
    .unwrap();
    let r = run(
        &[
            "--json",
            "--jwks",
            path.to_str().unwrap(),
            "--now",
            "1769768100",
            "--issuer",
            "https://auth1.sandbox.mya.ozoneapi.io",
            "--client-id",
            "55aa605c-89ef-4473-aa88-47709f0ff383",
            "--nonce",
            "d578b737-53ec-465d-898d-d5c0323a6ae3",
            &token,
        ],
        None,
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json_out(&r);
    assert_eq!(v["token_kind"], "id_token");
    assert_eq!(
        v["signature"],
        json!({"status": "valid", "kid": "U7hq", "reason": null})
    );
    assert_eq!(
        codes(&v),
        [
            "id_token.amr_not_array",
            "id_token.email_verified_not_boolean"
        ]
    );

    // Human output: NumericDates annotated, findings grouped.
    let r = run(&["--now", "1769768100", &token], None, &[]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("\"exp\": 1769768907,  // 2026-01-30T10:28:27.000Z, expires in 13 min"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Warnings (2)"), "{}", r.stdout);
}

#[test]
fn secret_from_the_environment_is_used_and_never_printed() {
    let Value::Object(header) = json!({"alg": "HS256"}) else {
        unreachable!()
    };
    let token = hs256(&header, &json!({"sub": "x"}));
    let secret = std::str::from_utf8(SECRET).unwrap();
    let r = run(
        &["--json", &token],
        None,
        &[("TOKEN_INSPECTOR_SECRET", secret)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json_out(&r);
    assert_eq!(v["signature"]["status"], "valid");
    assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret));
    // The wrong secret: exit 1.
    let r = run(&["--json", "--secret", "wrong", &token], None, &[]);
    assert_eq!(r.code, 1);
    // An HS256 token against a public key: refused as algorithm confusion.
    let (_, pem) = p256();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.pem");
    std::fs::write(&key_path, pem).unwrap();
    let r = run(
        &["--json", "--key", key_path.to_str().unwrap(), &token],
        None,
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(
        json_out(&r)["signature"]["reason"]
            .as_str()
            .unwrap()
            .contains("algorithm confusion")
    );
}

#[test]
fn unsecured_and_unknown_alg_decode() {
    let token = format!(
        "{}.{}.",
        b64url(r#"{"alg":"none"}"#),
        b64url(r#"{"sub":"x"}"#)
    );
    let r = run(&["--json", &token], None, &[]);
    let v = json_out(&r);
    assert_eq!(v["kind"], "unsecured");
    assert_eq!(codes(&v)[0], "jose.alg_none");
    assert_eq!(r.code, 1, "an unsecured token never passes as verified");

    let token = format!(
        "{}.{}.c2ln",
        b64url(r#"{"alg":"ES256K"}"#),
        b64url("plain text")
    );
    let r = run(&["--json", &token], None, &[]);
    assert_eq!(r.code, 0);
    let v = json_out(&r);
    assert_eq!(v["payload_text"], "plain text");
    assert_eq!(v["header"]["alg"], "ES256K");
}

#[test]
fn unreachable_jwks_url_exits_3_and_bad_key_file_exits_2() {
    let Value::Object(header) = json!({"alg": "HS256"}) else {
        unreachable!()
    };
    let token = hs256(&header, &json!({"sub": "x"}));
    // Port 1 on loopback: connection refused at once.
    let r = run(
        &["--json", "--jwks", "http://127.0.0.1:1/jwks", &token],
        None,
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(json_out(&r)["error"]["kind"], "network");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.txt");
    std::fs::write(&path, "not a key").unwrap();
    let r = run(
        &["--json", "--key", path.to_str().unwrap(), &token],
        None,
        &[],
    );
    assert_eq!(r.code, 2);
    assert_eq!(json_out(&r)["error"]["kind"], "input");
}

// ---------------------------------------------------------------- tokens from other implementations

mod other_implementations {
    use super::*;
    use token_inspector::jose::keys::{KeyType, PrivateKey, SigningAlg};
    use token_inspector::jose::verify::{SignatureStatus, VerificationKey, verify};

    fn signed(alg_header: &str, alg: Algorithm, key: &PrivateKey, extra: Value) -> String {
        let mut header = Map::new();
        header.insert("alg".into(), json!(alg_header));
        header.insert("kid".into(), json!("k1"));
        if let Value::Object(more) = extra {
            header.extend(more);
        }
        sign_compact(&header, &json!({"sub": "alice"}), key.encoding_key(), alg).unwrap()
    }

    fn jwks(key: &PrivateKey, alg: SigningAlg) -> VerificationKey {
        VerificationKey::Jwks(key.public_jwks(Some("k1"), alg))
    }

    /// RFC 9864's fully-specified names verify: `Ed25519` and `ESP256`, also against a
    /// JWK registered under the polymorphic name.
    #[test]
    fn fully_specified_algorithm_names_verify() {
        let ed = PrivateKey::generate(KeyType::ED25519).unwrap();
        let token = signed("Ed25519", Algorithm::EdDSA, &ed, json!({}));
        let status = verify(&decode(&token).unwrap(), &jwks(&ed, SigningAlg::EdDSA));
        assert!(
            matches!(status, SignatureStatus::Valid { .. }),
            "{status:?}"
        );

        let ec = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let token = signed("ESP256", Algorithm::ES256, &ec, json!({}));
        let status = verify(&decode(&token).unwrap(), &jwks(&ec, SigningAlg::ES256));
        assert!(
            matches!(status, SignatureStatus::Valid { .. }),
            "{status:?}"
        );
        // A wrong key still fails.
        let other = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let status = verify(&decode(&token).unwrap(), &jwks(&other, SigningAlg::ES256));
        assert!(
            matches!(status, SignatureStatus::Invalid { .. }),
            "{status:?}"
        );
    }

    /// An empty signature segment under alg RS256: header and claims are shown, the
    /// signature is invalid (empty).
    #[test]
    fn an_empty_signature_shows_the_token_and_is_invalid() {
        let token = format!(
            "{}.{}.",
            b64url(r#"{"alg":"RS256","kid":"k1"}"#),
            b64url(r#"{"sub":"alice"}"#)
        );
        let decoded = decode(&token).expect("header and claims decode");
        assert_eq!(decoded.header["alg"], "RS256");
        assert_eq!(decoded.payload, Payload::Json(json!({"sub": "alice"})));
        let key = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
        let status = verify(&decoded, &jwks(&key, SigningAlg::RS256));
        match status {
            SignatureStatus::Invalid { reason } => assert!(reason.contains("empty"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    /// A `crit` extension this verifier does not understand makes the token invalid,
    /// even with a correct signature, and the extension is named (RFC 7515 §4.1.11).
    #[test]
    fn an_unknown_critical_extension_is_rejected() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let token = signed(
            "ES256",
            Algorithm::ES256,
            &key,
            json!({"crit": ["urn:example:exp-ext"], "urn:example:exp-ext": 1}),
        );
        let status = verify(&decode(&token).unwrap(), &jwks(&key, SigningAlg::ES256));
        match status {
            SignatureStatus::Invalid { reason } => {
                assert!(reason.contains("urn:example:exp-ext"), "{reason}");
                assert!(reason.contains("RFC 7515"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let token = signed("ES256", Algorithm::ES256, &key, json!({"crit": []}));
        let status = verify(&decode(&token).unwrap(), &jwks(&key, SigningAlg::ES256));
        assert!(
            matches!(status, SignatureStatus::Invalid { .. }),
            "{status:?}"
        );
    }

    /// Kept as they are: a kid missing from the JWKS is named, and a key a token carries
    /// about itself (`jwk`, `jku`, `x5c`) is never trusted.
    #[test]
    fn a_missing_kid_is_named_and_embedded_keys_are_not_trusted() {
        let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let token = signed("ES256", Algorithm::ES256, &key, json!({"kid": "other"}));
        let status = verify(&decode(&token).unwrap(), &jwks(&key, SigningAlg::ES256));
        match status {
            SignatureStatus::NotVerifiable { reason } => {
                assert!(reason.contains("other"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        let attacker = PrivateKey::generate(KeyType::EC_P256).unwrap();
        let jwk = attacker.public_jwk(Some("k1"), SigningAlg::ES256);
        let token = signed("ES256", Algorithm::ES256, &attacker, json!({"jwk": jwk}));
        let status = verify(&decode(&token).unwrap(), &jwks(&key, SigningAlg::ES256));
        assert!(
            matches!(status, SignatureStatus::Invalid { .. }),
            "{status:?}"
        );
    }
}
