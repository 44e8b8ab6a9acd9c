//! Criterion benchmarks of the JWT inspector: decode + verify throughput for PS256, ES256
//! and EdDSA tokens shaped like the seed's client assertion, and decode time for a 100 KB
//! token.
//!
//! Run: `cargo bench --bench jwt -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench code: a failed unwrap is a failed run

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value, json};
use token_inspector::checks::{CheckContext, TokenKind, check_jwt};
use token_inspector::jose::jwt::{b64url, decode, sign_compact};
use token_inspector::jose::verify::{VerificationKey, verify};

const SEED_CLAIMS: &str = r#"{"aud":"https://auth1.sandbox.mya.ozoneapi.io","exp":1769767012.739,"iss":"55aa605c-89ef-4473-aa88-47709f0ff383","sub":"55aa605c-89ef-4473-aa88-47709f0ff383","jti":"633bfebd-b960-4330-80c7-0f163a52c4e3","iat":1769766702.739}"#;

struct Case {
    name: &'static str,
    token: String,
    key: VerificationKey,
}

fn header(alg: &str) -> Map<String, Value> {
    let Value::Object(h) =
        json!({"alg": alg, "kid": "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI"})
    else {
        unreachable!()
    };
    h
}

fn cases() -> Vec<Case> {
    use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPrivateKey};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::traits::PublicKeyParts;
    let claims: Value = serde_json::from_str(SEED_CLAIMS).expect("seed claims");
    let mut out = Vec::new();

    let rsa_kp =
        rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            .expect("rsa keygen");
    let pkcs1 = rsa::PrivateKey::from_pkcs8_der(&rsa_kp.serialize_der())
        .expect("pkcs8")
        .to_pkcs1_der()
        .expect("pkcs1");
    let public = rsa::PublicKey::from_pkcs1_der(rsa_kp.public_key_raw()).expect("public");
    out.push(Case {
        name: "PS256",
        token: sign_compact(
            &header("PS256"),
            &claims,
            &EncodingKey::from_rsa_der(pkcs1.as_bytes()),
            Algorithm::PS256,
        )
        .expect("sign"),
        key: VerificationKey::Jwks(
            json!({"keys": [{"kty": "RSA", "kid": "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI",
            "n": b64url(public.n_bytes()), "e": b64url(public.e_bytes())}]}),
        ),
    });

    let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("ec keygen");
    let raw = ec.public_key_raw();
    out.push(Case {
        name: "ES256",
        token: sign_compact(&header("ES256"), &claims, &EncodingKey::from_ec_der(&ec.serialize_der()), Algorithm::ES256)
            .expect("sign"),
        key: VerificationKey::Jwks(json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI",
            "x": b64url(&raw[1..33]), "y": b64url(&raw[33..])}]})),
    });

    let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("ed keygen");
    out.push(Case {
        name: "EdDSA",
        token: sign_compact(&header("EdDSA"), &claims, &EncodingKey::from_ed_der(&ed.serialize_der()), Algorithm::EdDSA)
            .expect("sign"),
        key: VerificationKey::Jwks(json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI",
            "x": b64url(ed.public_key_raw())}]})),
    });
    out
}

/// A token of about 100 KB: authorization_details with many accounts.
fn big_token() -> String {
    let accounts: Vec<Value> = (0..660)
        .map(|i| json!({"account_id": format!("1000040000000000000{i:05}"), "account_number": format!("{i:08}"),
                         "account_name": "Greenbank Current Account"}))
        .collect();
    let claims = json!({"sub": "202", "exp": 1769768907.5, "authorization_details": [{"type": "urn:openfinance-ml:account-access-consent:v1.2",
        "consent": {"status": "authorized", "accounts": accounts}}]});
    sign_compact(
        &header("HS256"),
        &claims,
        &EncodingKey::from_secret(b"bench-secret"),
        Algorithm::HS256,
    )
    .expect("sign")
}

fn bench(c: &mut Criterion) {
    let cases = cases();
    let mut group = c.benchmark_group("decode_verify");
    group.throughput(Throughput::Elements(1));
    for case in &cases {
        assert!(verify(&decode(&case.token).expect("decode"), &case.key).is_valid());
        group.bench_function(case.name, |b| {
            b.iter(|| {
                let d = decode(black_box(&case.token)).expect("decode");
                black_box(verify(&d, &case.key))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("decode");
    let seed = &cases[0].token;
    group.bench_function("seed_assertion", |b| {
        b.iter(|| black_box(decode(black_box(seed))))
    });
    let big = big_token();
    group.throughput(Throughput::Bytes(big.len() as u64));
    group.bench_function(format!("100KB_token ({} bytes)", big.len()), |b| {
        b.iter(|| black_box(decode(black_box(&big))))
    });
    group.finish();

    let mut group = c.benchmark_group("checks");
    let decoded = decode(seed).expect("decode");
    let ctx = CheckContext {
        issuer: Some("https://auth1.sandbox.mya.ozoneapi.io".into()),
        client_id: Some("55aa605c-89ef-4473-aa88-47709f0ff383".into()),
        now: 1_769_766_800.0,
        ..CheckContext::default()
    };
    group.bench_function("client_assertion", |b| {
        b.iter(|| black_box(check_jwt(&decoded, TokenKind::ClientAssertion, &ctx, None)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
