//! The fuzz targets' bodies: what each does with one input. The cargo-fuzz targets in
//! `fuzz_targets/` call them under libFuzzer; `tests/it/fuzz.rs` calls the same
//! functions for a bounded time on mutated seeds (what `.ci/run` runs). Nothing here may
//! panic, whatever the input.

use serde_json::Value;
use token_inspector::checks::discovery::{Expectations, lint};
use token_inspector::checks::{CheckContext, TokenKind, check_jwt, guess_kind};
use token_inspector::jose::jwt::decode as decode_jwt;
use token_inspector::jose::numeric_date::describe_numeric_date;
use token_inspector::jose::verify::{VerificationKey, verify};
use token_inspector::oauth::discovery::{endpoint_allowed, read_document, string_list};
use token_inspector::oauth::loopback::{answer_request, loopback_target};
use token_inspector::oauth::redirect::{
    check_authorization_response, parse_authorization_response,
};

/// The issuer the discovery and redirect targets expect.
const ISSUER: &str = "https://as.example";

/// Any bytes as a JWT: decoded, checked as every token kind, its dates described, its
/// signature verified against a shared secret and a JWKS.
pub fn decode(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(decoded) = decode_jwt(text) else {
        return;
    };
    let ctx = CheckContext {
        issuer: Some("https://auth1.sandbox.mya.ozoneapi.io".into()),
        client_id: Some("55aa605c-89ef-4473-aa88-47709f0ff383".into()),
        expected_nonce: Some("n".into()),
        access_token: Some("at".into()),
        code: Some("c".into()),
        state: Some("s".into()),
        now: 1_769_766_800.0,
        ..CheckContext::default()
    };
    let _ = guess_kind(&decoded);
    for kind in [
        TokenKind::ClientAssertion,
        TokenKind::IdToken,
        TokenKind::AccessToken,
        TokenKind::RequestObject,
        TokenKind::Unknown,
    ] {
        let _ = check_jwt(&decoded, kind, &ctx, None);
    }
    if let Some(claims) = decoded.unverified_claims() {
        for value in claims.values() {
            let _ = describe_numeric_date(value, ctx.now);
        }
    }
    let _ = verify(&decoded, &VerificationKey::Secret(b"fuzz".to_vec()));
    let _ = verify(
        &decoded,
        &VerificationKey::Jwks(
            serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}),
        ),
    );
}

/// Any bytes as a discovery document fetched for [`ISSUER`]: read (issuer check,
/// endpoints judged), linted against FAPI 2.0 and FAPI 1 expectations with and without
/// mTLS and DPoP, every string judged as an endpoint.
pub fn discovery(data: &[u8]) {
    let Ok(Value::Object(document)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let url = format!("{ISSUER}/.well-known/openid-configuration");
    for allow_http in [false, true] {
        if let Ok(found) = read_document(ISSUER, &url, document.clone(), allow_http) {
            let _ = found
                .endpoints
                .token
                .as_deref()
                .map(|t| endpoint_allowed(t, false));
            let _ = found.findings.len();
        }
    }
    for (fapi2, mtls, dpop) in [(true, true, true), (false, false, false)] {
        let expect = Expectations {
            fapi2,
            mtls,
            dpop,
            auth_method: Some("private_key_jwt".into()),
            consent_type: Some("urn:openfinance-ml:account-access-consent:v1.2".into()),
            // Both kinds: the hybrid flow with JARM, and the plain code flow.
            response_type: Some(if fapi2 { "code" } else { "code id_token" }.into()),
            response_mode: (!fapi2).then(|| "fragment.jwt".into()),
            source: "fuzz".into(),
        };
        let _ = lint(&document, &expect);
    }
    for (name, value) in &document {
        if let Some(text) = value.as_str() {
            let _ = endpoint_allowed(text, false);
            let _ = endpoint_allowed(text, true);
        }
        let _ = string_list(&Value::Object(document.clone()), name);
    }
}

/// Any bytes as a redirect: pasted (a URL, a query, a bare code) and checked against the
/// state and issuer sent; as a request arriving at the loopback catcher; as a
/// redirect_uri.
pub fn redirect(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(response) = parse_authorization_response(text) {
        let _ = check_authorization_response(
            &response,
            Some("state-1"),
            Some(ISSUER),
            Some("http://127.0.0.1:8123/cb"),
        );
        let _ = check_authorization_response(&response, None, None, None);
    }
    let _ = answer_request("/cb", Some("state-1"), text);
    let _ = answer_request("/cb", None, text);
    let _ = loopback_target(text);
    let _ = endpoint_allowed(text, false);
}
