//! Client assertion rules (`private_key_jwt`): RFC 7523 §3, OIDC Core §9, FAPI 2.0 SP
//! §5.3.2.1 with the 2025 audience-injection fix (the `aud` is exactly the issuer).

use serde_json::Value;

use super::{CheckContext, Finding, Severity, audiences, seconds_claim, str_claim};
use crate::jose::jwt::DecodedJose;

/// Source for the audience rules.
const AUD_SOURCE: &str = "FAPI 2.0 SP §5.3.2.1; RFC 7523 §3 (audience-injection update, 2025)";

/// The client assertion checks.
pub fn check(decoded: &DecodedJose, ctx: &CheckContext) -> Vec<Finding> {
    let mut out = Vec::new();
    let iss = str_claim(decoded, "iss");
    let sub = str_claim(decoded, "sub");
    if iss.is_none() {
        out.push(Finding::new(
            Severity::Error,
            "assertion.iss_missing",
            "iss is missing: it must be the client_id.",
            "RFC 7523 §3 item 1",
        ));
    }
    if sub.is_none() {
        out.push(Finding::new(
            Severity::Error,
            "assertion.sub_missing",
            "sub is missing: for client authentication it must be the client_id.",
            "RFC 7523 §3 item 2",
        ));
    }
    if let (Some(iss), Some(sub)) = (iss, sub)
        && iss != sub
    {
        out.push(Finding::new(
            Severity::Error,
            "assertion.iss_not_sub",
            format!("iss ({iss:?}) and sub ({sub:?}) differ; both must be the client_id."),
            "RFC 7523 §3; OIDC Core §9",
        ));
    }
    if let (Some(client_id), Some(iss)) = (ctx.client_id.as_deref(), iss)
        && iss != client_id
    {
        out.push(Finding::new(
            Severity::Error,
            "assertion.iss_not_client_id",
            format!("iss is {iss:?} but the client_id is {client_id:?}."),
            "RFC 7523 §3 item 1; OIDC Core §9",
        ));
    }
    audience_checks(decoded, ctx, &mut out);
    if decoded.unverified_claim("jti").is_none() {
        out.push(Finding::new(
            Severity::Error,
            "assertion.jti_missing",
            "jti is missing: servers need a unique jti per assertion to refuse replays.",
            "OIDC Core §9; RFC 7523 §3 item 7",
        ));
    }
    let exp = seconds_claim(decoded, "exp");
    if decoded.unverified_claim("exp").is_none() {
        out.push(Finding::new(
            Severity::Error,
            "assertion.exp_missing",
            "exp is missing: a client assertion must expire.",
            "RFC 7523 §3 item 4",
        ));
    }
    let iat = seconds_claim(decoded, "iat");
    if decoded.unverified_claim("iat").is_none() {
        out.push(Finding::new(
            Severity::Info,
            "assertion.iat_missing",
            "iat is missing; it is optional, but servers use it to judge the assertion's age.",
            "RFC 7523 §3 item 6",
        ));
    }
    if let Some(exp) = exp {
        let start = iat
            .or_else(|| seconds_claim(decoded, "nbf"))
            .unwrap_or(ctx.now);
        let lifetime = exp - start;
        if lifetime > ctx.max_assertion_lifetime {
            out.push(Finding::new(
                Severity::Warning,
                "assertion.lifetime_too_long",
                format!(
                    "The assertion lives {} (exp − iat = {lifetime:.0} s), over the {} s limit: servers commonly refuse assertions \
                     that live longer than 5–10 minutes. Use a short exp (the seed uses 310 s).",
                    crate::jose::numeric_date::format_duration(lifetime),
                    ctx.max_assertion_lifetime
                ),
                "RFC 7523 §3 item 4; FAPI 2.0 SP §5.3.2.1",
            ));
        }
    }
    out
}

fn audience_checks(decoded: &DecodedJose, ctx: &CheckContext, out: &mut Vec<Finding>) {
    let Some(aud_value) = decoded.unverified_claim("aud") else {
        out.push(Finding::new(
            Severity::Error,
            "assertion.aud_missing",
            "aud is missing: it must identify the authorization server (its issuer identifier).",
            "RFC 7523 §3 item 3",
        ));
        return;
    };
    let auds = audiences(aud_value);
    if let Value::Array(items) = aud_value {
        out.push(Finding::new(
            Severity::Warning,
            "assertion.aud_array",
            format!(
                "aud is an array of {} value(s); FAPI 2.0 (after the 2025 audience-injection fix) wants the issuer \
                 identifier as a single string, and strict servers refuse arrays.",
                items.len()
            ),
            AUD_SOURCE,
        ));
    }
    let looks_like_token_endpoint = |a: &str| {
        ctx.token_endpoint.as_deref() == Some(a)
            || (ctx.issuer.as_deref() != Some(a)
                && url::Url::parse(a)
                    .is_ok_and(|u| u.path().trim_end_matches('/').ends_with("/token")))
    };
    if let Some(endpoint) = auds.iter().find(|a| looks_like_token_endpoint(a)) {
        out.push(Finding::new(
            Severity::Warning,
            "assertion.aud_token_endpoint",
            format!(
                "aud is the token endpoint URL ({endpoint}). Older servers expected that, but since the 2025 audience-injection \
                 attack (an assertion made for one endpoint replayed at another) FAPI 2.0 and the RFC 7523 update require \
                 aud to be exactly the issuer identifier{}.",
                ctx.issuer
                    .as_deref()
                    .map(|i| format!(" ({i})"))
                    .unwrap_or_default()
            ),
            AUD_SOURCE,
        ));
    }
    if let Some(issuer) = ctx.issuer.as_deref() {
        let exact = aud_value.as_str() == Some(issuer);
        let contains = auds.contains(&issuer);
        let only_token_endpoint =
            !auds.is_empty() && auds.iter().all(|a| looks_like_token_endpoint(a));
        if !exact && !contains && !only_token_endpoint {
            out.push(Finding::new(
                Severity::Error,
                "assertion.aud_not_issuer",
                format!(
                    "aud is {aud_value} but the authorization server's issuer is {issuer:?}; the server will refuse the assertion. \
                     aud must be exactly the issuer string (no trailing slash, same scheme and host)."
                ),
                AUD_SOURCE,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_has, assert_lacks, token, with};
    use super::super::{CheckContext, TokenKind, check_jwt};
    use super::*;
    use crate::jose::verify::SignatureStatus;
    use serde_json::json;

    const ISSUER: &str = "https://auth1.sandbox.mya.ozoneapi.io";
    const CLIENT: &str = "55aa605c-89ef-4473-aa88-47709f0ff383";

    fn ctx() -> CheckContext {
        CheckContext {
            issuer: Some(ISSUER.into()),
            client_id: Some(CLIENT.into()),
            token_endpoint: Some("https://as1.sandbox.mya.ozoneapi.io/token".into()),
            now: 1_769_766_800.0,
            ..CheckContext::default()
        }
    }

    /// The seed's client assertion claims, exactly.
    fn seed() -> Value {
        serde_json::from_str(
            r#"{"aud":"https://auth1.sandbox.mya.ozoneapi.io","exp":1769767012.739,
                "iss":"55aa605c-89ef-4473-aa88-47709f0ff383","sub":"55aa605c-89ef-4473-aa88-47709f0ff383",
                "jti":"633bfebd-b960-4330-80c7-0f163a52c4e3","iat":1769766702.739}"#,
        )
        .unwrap()
    }

    fn run(claims: Value) -> Vec<Finding> {
        let header = json!({"alg": "PS256", "kid": "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI"});
        let ok = SignatureStatus::Valid { kid: None };
        check_jwt(
            &token(header, claims),
            TokenKind::ClientAssertion,
            &ctx(),
            Some(&ok),
        )
    }

    #[test]
    fn the_seed_assertion_is_clean() {
        let f = run(seed());
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn each_finding_both_ways() {
        let s = seed();
        let cases: Vec<(&str, Value)> = vec![
            ("assertion.iss_missing", with(s.clone(), "iss", Value::Null)),
            ("assertion.sub_missing", with(s.clone(), "sub", Value::Null)),
            (
                "assertion.iss_not_sub",
                with(s.clone(), "sub", json!("someone-else")),
            ),
            (
                "assertion.iss_not_client_id",
                with(
                    with(s.clone(), "iss", json!("other")),
                    "sub",
                    json!("other"),
                ),
            ),
            ("assertion.aud_missing", with(s.clone(), "aud", Value::Null)),
            (
                "assertion.aud_array",
                with(s.clone(), "aud", json!([ISSUER])),
            ),
            (
                "assertion.aud_token_endpoint",
                with(
                    s.clone(),
                    "aud",
                    json!("https://as1.sandbox.mya.ozoneapi.io/token"),
                ),
            ),
            (
                "assertion.aud_not_issuer",
                with(s.clone(), "aud", json!(format!("{ISSUER}/"))),
            ),
            ("assertion.jti_missing", with(s.clone(), "jti", Value::Null)),
            ("assertion.exp_missing", with(s.clone(), "exp", Value::Null)),
            ("assertion.iat_missing", with(s.clone(), "iat", Value::Null)),
            (
                "assertion.lifetime_too_long",
                with(s.clone(), "exp", json!(1_769_766_702.739 + 7200.0)),
            ),
        ];
        let clean = run(s.clone());
        for (code, claims) in cases {
            assert_lacks(&clean, code);
            assert_has(&run(claims), code);
        }
    }

    #[test]
    fn token_endpoint_aud_is_a_warning_not_an_error() {
        let f = run(with(
            seed(),
            "aud",
            json!("https://as1.sandbox.mya.ozoneapi.io/token"),
        ));
        assert_lacks(&f, "assertion.aud_not_issuer");
        let msg = &f
            .iter()
            .find(|x| x.code == "assertion.aud_token_endpoint")
            .unwrap()
            .message;
        assert!(msg.contains("audience-injection"), "{msg}");
    }

    #[test]
    fn lifetime_limit_is_configurable() {
        let mut c = ctx();
        c.max_assertion_lifetime = 300.0;
        let header = json!({"alg": "PS256"});
        let f = check_jwt(&token(header, seed()), TokenKind::ClientAssertion, &c, None);
        assert_has(&f, "assertion.lifetime_too_long");
    }
}
