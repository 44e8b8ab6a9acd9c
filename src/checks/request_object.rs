//! Request object rules (RFC 9101 JAR; FAPI 2.0 Message Signing §5.3 and FAPI 1 Advanced
//! §5.2.2: `exp` and `nbf` present, lifetime at most 60 minutes, `aud` the issuer).

use super::{CheckContext, Finding, Severity, audiences, seconds_claim, str_claim};
use crate::jose::jwt::DecodedJose;

/// The longest lifetime (`exp` − `nbf`) FAPI allows for a request object, seconds.
pub const MAX_REQUEST_OBJECT_LIFETIME: f64 = 3600.0;

/// The request object checks.
pub fn check(decoded: &DecodedJose, ctx: &CheckContext) -> Vec<Finding> {
    let mut out = Vec::new();
    let typ = decoded.typ().map(str::to_ascii_lowercase);
    if !matches!(
        typ.as_deref(),
        Some("oauth-authz-req+jwt" | "application/oauth-authz-req+jwt")
    ) {
        out.push(Finding::new(
            Severity::Warning,
            "request_object.typ",
            "typ is not \"oauth-authz-req+jwt\": explicit typing keeps a request object from being mistaken for another JWT.",
            "RFC 9101 §10.8; RFC 8725 §3.11",
        ));
    }
    let iss = str_claim(decoded, "iss");
    let client_id = ctx
        .client_id
        .as_deref()
        .or_else(|| str_claim(decoded, "client_id"));
    if let Some(client_id) = client_id
        && iss != Some(client_id)
    {
        out.push(Finding::new(
            Severity::Error,
            "request_object.iss_not_client_id",
            format!(
                "iss is {} but the client_id is {client_id:?}; a signed request object's iss is the client_id.",
                iss.map(|i| format!("{i:?}")).unwrap_or_else(|| "missing".into())
            ),
            "RFC 9101 §4; FAPI 1 Advanced §5.2.2",
        ));
    }
    match decoded.unverified_claim("aud") {
        None => out.push(Finding::new(
            Severity::Error,
            "request_object.aud_missing",
            "aud is missing: it must be the authorization server's issuer identifier.",
            "RFC 9101 §4; FAPI 1 Advanced §5.2.2",
        )),
        Some(aud) => {
            if let Some(issuer) = ctx.issuer.as_deref()
                && !audiences(aud).contains(&issuer)
            {
                out.push(Finding::new(
                    Severity::Error,
                    "request_object.aud_not_issuer",
                    format!("aud is {aud} but the issuer is {issuer:?}."),
                    "RFC 9101 §4; FAPI 1 Advanced §5.2.2",
                ));
            }
        }
    }
    let exp = seconds_claim(decoded, "exp");
    let nbf = seconds_claim(decoded, "nbf");
    for (name, present) in [
        ("exp", decoded.unverified_claim("exp").is_some()),
        ("nbf", decoded.unverified_claim("nbf").is_some()),
    ] {
        if !present {
            out.push(Finding::new(
                Severity::Error,
                if name == "exp" {
                    "request_object.exp_missing"
                } else {
                    "request_object.nbf_missing"
                },
                format!("{name} is missing; FAPI requires both exp and nbf in a request object."),
                "FAPI 1 Advanced §5.2.2 items 13, 17",
            ));
        }
    }
    if let (Some(exp), Some(nbf)) = (exp, nbf)
        && exp - nbf > MAX_REQUEST_OBJECT_LIFETIME
    {
        out.push(Finding::new(
            Severity::Error,
            "request_object.lifetime_too_long",
            format!(
                "exp − nbf is {}: FAPI allows at most 60 minutes.",
                crate::jose::numeric_date::format_duration(exp - nbf)
            ),
            "FAPI 1 Advanced §5.2.2 item 17",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_has, assert_lacks, token, with};
    use super::super::{CheckContext, TokenKind, check_jwt, guess_kind};
    use super::*;
    use crate::jose::verify::SignatureStatus;
    use serde_json::{Value, json};

    const NOW: f64 = 1_769_768_100.0;

    fn header() -> Value {
        json!({"alg": "PS256", "typ": "oauth-authz-req+jwt"})
    }

    fn claims() -> Value {
        json!({"iss": "c1", "aud": "https://as.example", "client_id": "c1", "response_type": "code",
               "nbf": NOW - 5.0, "exp": NOW + 300.0, "iat": NOW - 5.0, "jti": "j"})
    }

    fn run(header: Value, claims: Value) -> Vec<Finding> {
        let ctx = CheckContext {
            issuer: Some("https://as.example".into()),
            client_id: Some("c1".into()),
            now: NOW,
            ..CheckContext::default()
        };
        let ok = SignatureStatus::Valid { kid: None };
        check_jwt(
            &token(header, claims),
            TokenKind::RequestObject,
            &ctx,
            Some(&ok),
        )
    }

    #[test]
    fn clean_and_guess() {
        assert!(run(header(), claims()).is_empty());
        assert_eq!(
            guess_kind(&token(header(), claims())),
            TokenKind::RequestObject
        );
        let untyped = with(header(), "typ", Value::Null);
        assert_eq!(
            guess_kind(&token(untyped, claims())),
            TokenKind::RequestObject
        );
    }

    #[test]
    fn each_finding_both_ways() {
        let cases: Vec<(&str, Value, Value)> = vec![
            (
                "request_object.typ",
                with(header(), "typ", json!("JWT")),
                claims(),
            ),
            (
                "request_object.iss_not_client_id",
                header(),
                with(claims(), "iss", json!("c2")),
            ),
            (
                "request_object.aud_missing",
                header(),
                with(claims(), "aud", Value::Null),
            ),
            (
                "request_object.aud_not_issuer",
                header(),
                with(claims(), "aud", json!("https://as.example/token")),
            ),
            (
                "request_object.exp_missing",
                header(),
                with(claims(), "exp", Value::Null),
            ),
            (
                "request_object.nbf_missing",
                header(),
                with(claims(), "nbf", Value::Null),
            ),
            (
                "request_object.lifetime_too_long",
                header(),
                with(claims(), "exp", json!(NOW + 7200.0)),
            ),
        ];
        let baseline = run(header(), claims());
        for (code, h, c) in cases {
            assert_lacks(&baseline, code);
            assert_has(&run(h, c), code);
        }
    }
}
