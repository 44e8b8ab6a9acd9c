//! Fuzz target: `jwt::decode` on arbitrary input, then every token kind's checks, NumericDate
//! display and signature verification on whatever decodes. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use token_inspector::checks::{CheckContext, TokenKind, check_jwt, guess_kind};
use token_inspector::jose::jwt::decode;
use token_inspector::jose::numeric_date::describe_numeric_date;
use token_inspector::jose::verify::{VerificationKey, verify};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(decoded) = decode(text) else {
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
});
