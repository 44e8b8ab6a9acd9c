//! The exchange path without the network: building a token request (a fresh PS256 or
//! ES256 client assertion each time), rendering it as raw HTTP and curl, and parsing the
//! seed's response body. Run: `cargo bench --bench request`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test and bench code: a failed unwrap is a failed run

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use token_inspector::jose::keys::{KeyType, PrivateKey, SigningAlg};
use token_inspector::oauth::render::{self, Redaction};
use token_inspector::oauth::request::{self, ClientSecrets, Grant, RequestOptions};
use token_inspector::oauth::response::ResponseBody;

const SEED_BODY: &str = r#"{"access_token":"26e0bf38-9fab-48e5-8be6-4a906905f959","expires_in":600,"token_type":"Bearer","scope":"accounts profile","state":"d0ba6086-ca86-43f9-9ec3-92326bceb490","authorization_details":[{"type":"urn:openfinance-ml:account-access-consent:v1.2","consent":{"consent_id":"a7cb03ff-4c70-4eaa-87f4-f2a4c4c87b0d","dc_id":"16f87e367071230059bff09a","dp_id":"DP9876543210","consent_type":"urn:openfinance-ml:account-access-consent:v1.2","consent_purpose":"pfm","permissions":["read_accounts","read_transactions","read_balances"],"expiration_datetime":"2026-11-30T23:59:59Z","status":"authorized","created_at":"2026-01-30T10:12:42.671Z","updated_at":"2026-01-30T10:13:26.588Z","updated_by":"data_provider_user","accounts":[{"account_id":"100004000000000000000004","account_number":"10000004","account_name":"Greenbank Current Account"},{"account_id":"100004000000000000000002","account_number":"10000002","account_name":"Greenbank Savings Account"}]}}],"grant_id":"a7cb03ff-4c70-4eaa-87f4-f2a4c4c87b0d","refresh_token":"2885e6a3-1486-4aa5-839f-ff879ba8a79a","id_token":"eyJhbGciOiJQUzI1NiIs"}"#;

fn grant() -> Grant {
    Grant::AuthorizationCode {
        code: "160ed384-bb0d-439e-85e8-68d2b681e45d".into(),
        redirect_uri: "https://www.auth-app.ozoneapi.co.uk/redirect-url".into(),
        code_verifier: Some(
            "7ff8feab-c016-46f5-98e3-921e9c4556c4b25fedb6-f448-4f7a-9fde-cce1282f0626".into(),
        ),
    }
}

fn bench(c: &mut Criterion) {
    let mut profile = token_inspector::storage::presets::seed_client();
    for (name, key_type, alg) in [
        (
            "build_token_request_ps256",
            KeyType::Rsa { bits: 2048 },
            SigningAlg::PS256,
        ),
        (
            "build_token_request_es256",
            KeyType::EC_P256,
            SigningAlg::ES256,
        ),
    ] {
        let secrets = ClientSecrets {
            signing_key: Some(PrivateKey::generate(key_type).expect("key")),
            client_secret: None,
        };
        profile.auth.alg = alg;
        c.bench_function(name, |b| {
            b.iter(|| {
                request::build_token_request(
                    black_box(&profile),
                    &secrets,
                    &grant(),
                    &RequestOptions::default(),
                )
                .expect("model")
            })
        });
    }
    profile.auth.alg = SigningAlg::PS256;
    let secrets = ClientSecrets {
        signing_key: Some(PrivateKey::generate(KeyType::Rsa { bits: 2048 }).expect("key")),
        client_secret: None,
    };
    let model =
        request::build_token_request(&profile, &secrets, &grant(), &RequestOptions::default())
            .expect("model");
    let pem = secrets
        .signing_key
        .as_ref()
        .expect("key")
        .to_pkcs8_pem()
        .expose()
        .to_owned();
    c.bench_function("load_rsa_2048_pkcs8_pem", |b| {
        b.iter(|| PrivateKey::load(black_box(&pem)).expect("loads"))
    });
    c.bench_function("render_curl", |b| {
        b.iter(|| render::curl(black_box(&model), Redaction::None))
    });
    c.bench_function("render_raw_http", |b| {
        b.iter(|| render::raw_http(black_box(&model), Redaction::None))
    });
    c.bench_function("parse_seed_response", |b| {
        b.iter(|| ResponseBody::classify(200, black_box(SEED_BODY.as_bytes())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
