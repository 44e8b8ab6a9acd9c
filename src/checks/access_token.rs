//! JWT access token rules (RFC 9068) and sender constraint (FAPI 2.0 SP §5.3.2.2 with
//! RFC 8705 mTLS or RFC 9449 DPoP `cnf`).

use super::{CheckContext, Finding, Severity, str_claim};
use crate::jose::jwt::DecodedJose;

/// The claims RFC 9068 §2.2 requires.
pub const REQUIRED_CLAIMS: &[&str] = &["iss", "exp", "aud", "sub", "client_id", "iat", "jti"];

/// The JWT access token checks.
pub fn check(decoded: &DecodedJose, ctx: &CheckContext) -> Vec<Finding> {
    let mut out = Vec::new();
    let typ = decoded.typ().map(str::to_ascii_lowercase);
    if !matches!(typ.as_deref(), Some("at+jwt" | "application/at+jwt")) {
        out.push(Finding::new(
            Severity::Warning,
            "access_token.typ_not_at_jwt",
            format!(
                "typ is {}, not \"at+jwt\": RFC 9068 access tokens are typed so they cannot be confused with ID Tokens.",
                decoded
                    .typ()
                    .map(|t| format!("{t:?}"))
                    .unwrap_or_else(|| "missing".into())
            ),
            "RFC 9068 §2.1",
        ));
    }
    let missing: Vec<&str> = REQUIRED_CLAIMS
        .iter()
        .copied()
        .filter(|c| decoded.unverified_claim(c).is_none())
        .collect();
    if !missing.is_empty() {
        out.push(Finding::new(
            Severity::Error,
            "access_token.claims_missing",
            format!(
                "Required claim(s) missing: {}. A resource server following RFC 9068 rejects the token.",
                missing.join(", ")
            ),
            "RFC 9068 §2.2",
        ));
    }
    if let (Some(iss), Some(issuer)) = (str_claim(decoded, "iss"), ctx.issuer.as_deref())
        && iss != issuer
    {
        out.push(Finding::new(
            Severity::Error,
            "access_token.iss_mismatch",
            format!("iss is {iss:?} but the issuer is {issuer:?}."),
            "RFC 9068 §4",
        ));
    }
    match decoded.unverified_claim("cnf") {
        None => out.push(Finding::new(
            Severity::Warning,
            "access_token.not_sender_constrained",
            "There is no cnf claim: the token is a plain bearer token. FAPI 2.0 requires sender-constrained access tokens \
             (mTLS cnf x5t#S256, or DPoP cnf jkt).",
            "FAPI 2.0 SP §5.3.2.2; RFC 8705 §3.1; RFC 9449 §6.1",
        )),
        Some(cnf) => {
            let known = cnf
                .as_object()
                .is_some_and(|o| o.contains_key("x5t#S256") || o.contains_key("jkt"));
            if !known {
                out.push(Finding::new(
                    Severity::Warning,
                    "access_token.cnf_unknown",
                    format!(
                        "cnf is {cnf}, with neither x5t#S256 (mTLS) nor jkt (DPoP): nothing known binds the token."
                    ),
                    "RFC 7800 §3.1; RFC 8705 §3.1; RFC 9449 §6.1",
                ));
            }
        }
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
        json!({"alg": "PS256", "typ": "at+jwt", "kid": "k"})
    }

    fn claims() -> Value {
        json!({"iss": "https://as.example", "exp": NOW + 600.0, "aud": "https://rs.example", "sub": "202",
               "client_id": "c1", "iat": NOW - 5.0, "jti": "j1", "scope": "accounts",
               "cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}})
    }

    fn run(header: Value, claims: Value) -> Vec<Finding> {
        let ctx = CheckContext {
            issuer: Some("https://as.example".into()),
            now: NOW,
            ..CheckContext::default()
        };
        let ok = SignatureStatus::Valid { kid: None };
        check_jwt(
            &token(header, claims),
            TokenKind::AccessToken,
            &ctx,
            Some(&ok),
        )
    }

    #[test]
    fn clean_token_and_guess() {
        assert!(run(header(), claims()).is_empty());
        assert_eq!(
            guess_kind(&token(header(), claims())),
            TokenKind::AccessToken
        );
    }

    #[test]
    fn each_finding_both_ways() {
        let cases: Vec<(&str, Value, Value)> = vec![
            (
                "access_token.typ_not_at_jwt",
                with(header(), "typ", json!("JWT")),
                claims(),
            ),
            (
                "access_token.claims_missing",
                header(),
                with(claims(), "client_id", Value::Null),
            ),
            (
                "access_token.iss_mismatch",
                header(),
                with(claims(), "iss", json!("https://other.example")),
            ),
            (
                "access_token.not_sender_constrained",
                header(),
                with(claims(), "cnf", Value::Null),
            ),
            (
                "access_token.cnf_unknown",
                header(),
                with(claims(), "cnf", json!({"x5t": "abc"})),
            ),
        ];
        let baseline = run(header(), claims());
        for (code, h, c) in cases {
            assert_lacks(&baseline, code);
            assert_has(&run(h, c), code);
        }
    }
}
