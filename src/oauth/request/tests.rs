//! The builders, against the seed exchange and the RFCs.

use base64::Engine as _;

use super::*;
use crate::jose::keys::tests::rsa_key;
use crate::jose::numeric_date::NumericDateStyle;
use crate::oauth::assertion::JWT_BEARER;
use crate::secret::Secret;
use crate::storage::profile::{AuthMethod, Profile};

pub(crate) fn seed_profile() -> Profile {
    crate::storage::presets::seed_client()
}

fn seed_grant() -> Grant {
    Grant::AuthorizationCode {
        code: "160ed384-bb0d-439e-85e8-68d2b681e45d".into(),
        redirect_uri: "https://www.auth-app.ozoneapi.co.uk/redirect-url".into(),
        code_verifier: Some(
            "7ff8feab-c016-46f5-98e3-921e9c4556c4b25fedb6-f448-4f7a-9fde-cce1282f0626".into(),
        ),
    }
}

fn secrets() -> ClientSecrets {
    ClientSecrets {
        signing_key: Some(rsa_key().clone()),
        client_secret: None,
    }
}

#[test]
fn builds_the_seed_request() {
    let options = RequestOptions {
        interaction_id: Some("968bed68-6694-44a8-8daa-b955bb4d1283".into()),
        now_millis: Some(1_769_766_702_739),
        ..Default::default()
    };
    let m = build_token_request(&seed_profile(), &secrets(), &seed_grant(), &options).unwrap();
    assert_eq!(m.url, "https://as1.sandbox.mya.ozoneapi.io/token");
    assert_eq!(m.host(), "as1.sandbox.mya.ozoneapi.io");
    assert_eq!(m.header("content-type"), Some(FORM_CONTENT_TYPE));
    assert_eq!(
        m.header("x-fapi-interaction-id"),
        Some("968bed68-6694-44a8-8daa-b955bb4d1283")
    );
    let names: Vec<&str> = m.form.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "grant_type",
            "scope",
            "code",
            "redirect_uri",
            "code_verifier",
            "client_assertion_type",
            "client_assertion"
        ]
    );
    assert_eq!(m.param("grant_type"), Some("authorization_code"));
    assert_eq!(m.param("scope"), Some("accounts"));
    assert_eq!(m.param("client_assertion_type"), Some(JWT_BEARER));
    let a = m.client_assertion.as_ref().unwrap();
    assert_eq!(m.param("client_assertion"), Some(a.jwt.expose()));
    assert_eq!(a.claims["aud"], "https://auth1.sandbox.mya.ozoneapi.io");
    assert_eq!(a.claims["exp"].to_string(), "1769767012.739");
    assert_eq!(
        a.header["kid"],
        "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI"
    );
    let body = m.body();
    assert!(body.starts_with(
        "grant_type=authorization_code&scope=accounts&code=160ed384-bb0d-439e-85e8-68d2b681e45d&redirect_uri=https%3A%2F%2Fwww.auth-app.ozoneapi.co.uk%2Fredirect-url&code_verifier=7ff8feab-"
    ), "{body}");
    assert!(body.contains(
        "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJ"
    ));
}

#[test]
fn debug_and_json_of_a_model_hold_no_secret() {
    let m = build_token_request(
        &seed_profile(),
        &secrets(),
        &seed_grant(),
        &RequestOptions::default(),
    )
    .unwrap();
    let assertion = m.param("client_assertion").unwrap().to_owned();
    let verifier = m.param("code_verifier").unwrap().to_owned();
    let debug = format!("{m:?} {:?}", seed_grant());
    let json = serde_json::to_string(&m).unwrap();
    for (what, text) in [("Debug", &debug), ("JSON", &json)] {
        assert!(
            !text.contains(&assertion),
            "{what} shows the assertion: {text}"
        );
        assert!(
            !text.contains(&verifier),
            "{what} shows the verifier: {text}"
        );
        assert!(text.contains("client_assertion_type"), "{what}: {text}");
    }
    let refresh = Grant::RefreshToken {
        refresh_token: Secret::new("rt-canary-123"),
    };
    let m =
        build_token_request(&seed_profile(), &secrets(), &refresh, &Default::default()).unwrap();
    assert!(!format!("{m:?}{refresh:?}").contains("rt-canary-123"));
    assert!(!serde_json::to_string(&m).unwrap().contains("rt-canary-123"));
}

#[test]
fn fresh_values_once_per_model() {
    let a = build_token_request(
        &seed_profile(),
        &secrets(),
        &seed_grant(),
        &RequestOptions::default(),
    )
    .unwrap();
    let b = build_token_request(
        &seed_profile(),
        &secrets(),
        &seed_grant(),
        &RequestOptions::default(),
    )
    .unwrap();
    assert_ne!(a.interaction_id, b.interaction_id);
    assert_ne!(
        a.client_assertion.as_ref().unwrap().jti(),
        b.client_assertion.as_ref().unwrap().jti()
    );
    let id = a.interaction_id.clone().unwrap();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    // The model is a value: cloning it does not mint new ones.
    assert_eq!(a.clone().body(), a.body());
}

#[test]
fn refresh_and_client_credentials() {
    let m = build_token_request(
        &seed_profile(),
        &secrets(),
        &Grant::RefreshToken {
            refresh_token: Secret::new("2885e6a3-1486-4aa5-839f-ff879ba8a79a"),
        },
        &RequestOptions::default(),
    )
    .unwrap();
    assert_eq!(m.param("grant_type"), Some("refresh_token"));
    assert!(
        m.form
            .iter()
            .any(|p| p.name == "refresh_token" && p.value.is_secret())
    );
    assert_eq!(m.param("scope"), None);

    let m = build_token_request(
        &seed_profile(),
        &secrets(),
        &Grant::ClientCredentials,
        &RequestOptions {
            scope: Some("accounts payments".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(m.param("scope"), Some("accounts payments"));
    assert!(m.body().contains("scope=accounts+payments"));
}

#[test]
fn client_secret_methods() {
    let mut p = seed_profile();
    p.auth.method = AuthMethod::ClientSecretBasic;
    let s = ClientSecrets {
        signing_key: None,
        client_secret: Some(Secret::new("s e/cret")),
    };
    let m = build_token_request(&p, &s, &Grant::ClientCredentials, &Default::default()).unwrap();
    let auth = m
        .headers
        .iter()
        .find(|h| h.name == "Authorization")
        .unwrap();
    assert!(auth.value.is_secret());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.value.expose().trim_start_matches("Basic "))
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        "55aa605c-89ef-4473-aa88-47709f0ff383:s+e%2Fcret"
    );
    p.auth.method = AuthMethod::ClientSecretPost;
    let m = build_token_request(&p, &s, &Grant::ClientCredentials, &Default::default()).unwrap();
    assert_eq!(m.param("client_secret"), Some("s e/cret"));
    p.auth.method = AuthMethod::None;
    let m = build_token_request(&p, &s, &Grant::ClientCredentials, &Default::default()).unwrap();
    assert_eq!(m.param("client_id"), Some(p.client_id.as_str()));
}

#[test]
fn missing_values_are_named() {
    let mut p = seed_profile();
    let err = build_token_request(
        &p,
        &ClientSecrets::default(),
        &seed_grant(),
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("signing key"), "{err}");
    p.endpoints.token = None;
    let err = build_token_request(&p, &secrets(), &seed_grant(), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("token endpoint"), "{err}");
    let bad = Grant::AuthorizationCode {
        code: "x".into(),
        redirect_uri: "https://r".into(),
        code_verifier: Some("short".into()),
    };
    let err = build_token_request(&seed_profile(), &secrets(), &bad, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("43 to 128"), "{err}");
}

#[test]
fn milliseconds_style_and_extra_headers() {
    let mut p = seed_profile();
    p.auth.numeric_date = NumericDateStyle::Seconds;
    p.headers.push(crate::storage::profile::ExtraHeader {
        name: "x-custom".into(),
        value: "1".into(),
        ..Default::default()
    });
    let m = build_token_request(
        &p,
        &secrets(),
        &seed_grant(),
        &RequestOptions {
            now_millis: Some(1_769_766_702_739),
            auth_date: Some("Tue, 11 Sep 2026 19:43:31 GMT".into()),
            customer_ip: Some("203.0.113.7".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        m.client_assertion.as_ref().unwrap().claims["iat"].to_string(),
        "1769766702"
    );
    assert_eq!(m.header("x-custom"), Some("1"));
    assert_eq!(m.header("x-fapi-customer-ip-address"), Some("203.0.113.7"));
    assert!(m.header("x-fapi-auth-date").is_some());
}

/// An extra header replaces a built-in one, an empty one removes it (even all of
/// them), and a new one goes before Accept, or last without it.
#[test]
fn extra_headers_replace_remove_and_add() {
    let mut p = seed_profile();
    let mut extra = |name: &str, value: &str| {
        p.headers.push(crate::storage::profile::ExtraHeader {
            name: name.into(),
            value: value.into(),
            ..Default::default()
        })
    };
    extra("x-fapi-interaction-id", "");
    extra("user-agent", "bank-tester/1");
    extra("x-custom", "1");
    let m = build_token_request(&p, &secrets(), &seed_grant(), &RequestOptions::default()).unwrap();
    assert_eq!(m.header("x-fapi-interaction-id"), None);
    assert_eq!(m.interaction_id, None);
    assert_eq!(m.header("User-Agent"), Some("bank-tester/1"));
    let names: Vec<&str> = m.headers.iter().map(|h| h.name.as_str()).collect();
    let at = |n: &str| names.iter().position(|h| *h == n).unwrap();
    assert!(at("x-custom") < at("Accept"), "{names:?}");
    for name in ["Content-Type", "Accept", "User-Agent"] {
        p.headers.push(crate::storage::profile::ExtraHeader {
            name: name.into(),
            value: String::new(),
            ..Default::default()
        });
    }
    p.headers.push(crate::storage::profile::ExtraHeader {
        name: "x-last".into(),
        value: "2".into(),
        ..Default::default()
    });
    let m = build_token_request(&p, &secrets(), &seed_grant(), &RequestOptions::default()).unwrap();
    assert_eq!(m.header("Accept"), None);
    assert_eq!(m.header("x-last"), Some("2"));
}

#[test]
fn par_request_carries_pkce_and_details() {
    let mut p = seed_profile();
    p.endpoints.par = Some("https://as1.sandbox.mya.ozoneapi.io/par".into());
    // Plain PAR form parameters first.
    p.request_object.signed = false;
    let params = AuthorizationParams {
        state: "st".into(),
        nonce: "no".into(),
        code_challenge: "ch".into(),
        authorization_details: Some(r#"[{"type":"x"}]"#.into()),
        ..AuthorizationParams::default()
    };
    let m = build_par_request(&p, &secrets(), &params, &Default::default()).unwrap();
    assert_eq!(m.param("code_challenge_method"), Some("S256"));
    assert_eq!(m.param("response_type"), Some("code"));
    assert_eq!(m.form.iter().filter(|f| f.name == "client_id").count(), 1);
    assert!(m.param("client_assertion").is_some());

    // With a signed request object: client_id, request and client auth only.
    p.request_object.signed = true;
    let m = build_par_request(&p, &secrets(), &params, &Default::default()).unwrap();
    let names: Vec<&str> = m.form.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "client_id",
            "request",
            "client_assertion_type",
            "client_assertion"
        ]
    );
    let object = m.request_object.as_ref().unwrap();
    assert_eq!(m.param("request"), Some(object.jwt.as_str()));
    assert_eq!(object.claims["state"], "st");
    assert_eq!(object.claims["authorization_details"][0]["type"], "x");
}

#[test]
fn percent_encoding_matches_curl() {
    assert_eq!(percent_encode("a b+c/~._-"), "a+b%2Bc%2F~._-");
    assert_eq!(percent_encode("ü"), "%C3%BC");
    assert_eq!(percent_encode("100% *"), "100%25+%2A");
}

proptest::proptest! {
    /// Only unreserved characters, `+` and `%XX` come out, and decoding gives the
    /// value back (the form-urlencoded reading: `+` is a space).
    #[test]
    fn percent_encoding_round_trips(value in ".*") {
        let encoded = percent_encode(&value);
        proptest::prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric()
            || b"-._~+%".contains(&b)));
        let decoded: String = url::form_urlencoded::parse(format!("v={encoded}").as_bytes())
            .map(|(_, v)| v.into_owned())
            .collect();
        proptest::prop_assert_eq!(decoded, value);
    }
}

/// Extra headers that carry credentials are secrets by their names (the redacted curl,
/// the history and the bundles never show them); the profile can say otherwise per
/// header.
#[test]
fn credential_headers_are_secret_by_default() {
    use crate::oauth::render::{Redaction, curl};
    use crate::storage::profile::{ExtraHeader, header_is_secret};
    for name in [
        "Authorization",
        "cookie",
        "Proxy-Authorization",
        "x-api-key",
        "X-Auth-Token",
        "client-secret",
        "x-jws-signature",
    ] {
        assert!(header_is_secret(name), "{name}");
    }
    for name in ["x-fapi-interaction-id", "Accept", "x-customer-user-agent"] {
        assert!(!header_is_secret(name), "{name}");
    }
    let mut p = seed_profile();
    p.headers
        .push(ExtraHeader::new("x-api-key", "canary-api-key-81f2"));
    p.headers.push(ExtraHeader {
        secret: Some(false),
        ..ExtraHeader::new("x-session-note", "visible-note")
    });
    let m = build_token_request(&p, &secrets(), &seed_grant(), &RequestOptions::default()).unwrap();
    assert_eq!(
        m.header("x-api-key"),
        Some("canary-api-key-81f2"),
        "sent as is"
    );
    let shown = curl(&m, Redaction::Redacted);
    assert!(!shown.contains("canary-api-key-81f2"), "{shown}");
    assert!(shown.contains("visible-note"), "{shown}");
    let kept = crate::history::redacted_request(&m).to_string();
    assert!(!kept.contains("canary-api-key-81f2"), "{kept}");
    // Taken out of the profile for the keychain; the file keeps only a mark.
    let taken = p.take_secret_header_values();
    assert_eq!(taken.len(), 1);
    assert_eq!(
        taken[0].0,
        "profile/Ozone Open Finance Malaysia sandbox/header/x-api-key"
    );
    assert!(!p.to_toml().contains("canary-api-key-81f2"));
    assert!(p.to_toml().contains("keychain = true"));
}
