//! Rules for every JWT (RFC 8725 JWT BCP, RFC 7515, RFC 7519): algorithm, dangerous
//! header parameters, `crit`, explicit typing, time claims with clock skew, signature.

use serde_json::Value;

use super::{CheckContext, Finding, Severity, TokenKind, seconds_claim, when};
use crate::jose::jwt::{DecodedJose, JoseKind};
use crate::jose::verify::SignatureStatus;

/// The JWS algorithms FAPI 2.0 allows (FAPI 2.0 SP §5.4.1; `Ed25519` is the fully specified
/// name of EdDSA with Ed25519, RFC 9864).
pub const FAPI_ALGS: &[&str] = &["PS256", "ES256", "EdDSA", "Ed25519", "ESP256"];

/// JWS algorithms registered with IANA (RFC 7518 §3.1, RFC 8037, RFC 8812, RFC 9864).
const REGISTERED_JWS_ALGS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256",
    "PS384", "PS512", "EdDSA", "ES256K", "Ed25519", "Ed448", "ESP256", "ESP384", "ESP512", "none",
];

/// The generic checks (see the module doc).
pub fn check(
    decoded: &DecodedJose,
    kind: TokenKind,
    ctx: &CheckContext,
    signature: Option<&SignatureStatus>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    header_checks(decoded, kind, ctx, &mut out);
    if decoded.payload == crate::jose::jwt::Payload::Encrypted {
        out.push(Finding::new(
            Severity::Info,
            "jose.encrypted",
            "This is a JWE: the payload is encrypted, so only the protected header is checked. \
             Give the decryption key (--jwe-key) to inspect the content.",
            "RFC 7516 §5.2",
        ));
        return out;
    }
    signature_checks(decoded, signature, &mut out);
    if decoded.unverified_claims().is_none() {
        out.push(Finding::new(
            Severity::Warning,
            "jose.payload_not_claims",
            "The payload is not a JSON object, so it is not a JWT Claims Set; no claim checks were run.",
            "RFC 7519 §7.2",
        ));
        return out;
    }
    time_checks(decoded, kind, ctx, &mut out);
    out
}

fn header_checks(
    decoded: &DecodedJose,
    kind: TokenKind,
    ctx: &CheckContext,
    out: &mut Vec<Finding>,
) {
    let alg = decoded.alg().unwrap_or_default();
    let is_jws = decoded.kind != JoseKind::Jwe;
    let fapi_kind = matches!(
        kind,
        TokenKind::ClientAssertion | TokenKind::IdToken | TokenKind::RequestObject
    );
    if decoded.kind == JoseKind::Unsecured {
        out.push(Finding::new(
            Severity::Error,
            "jose.alg_none",
            format!(
                "alg is {alg:?}: the token is unsecured, anyone can forge it. Never accept it outside of inspection."
            ),
            "RFC 8725 §3.1; RFC 7519 §6",
        ));
    } else if is_jws && alg.starts_with("HS") {
        let (severity, why) = if fapi_kind {
            (
                Severity::Error,
                "FAPI 2.0 requires asymmetric signatures (PS256, ES256 or EdDSA)",
            )
        } else {
            (
                Severity::Warning,
                "anyone who can verify it can also mint it",
            )
        };
        out.push(Finding::new(
            severity,
            "jose.alg_symmetric",
            format!("alg {alg} is a shared-secret MAC: {why}."),
            "FAPI 2.0 SP §5.4.1; RFC 8725 §3.2",
        ));
    } else if is_jws && !REGISTERED_JWS_ALGS.contains(&alg) {
        out.push(Finding::new(
            Severity::Warning,
            "jose.alg_unknown",
            format!(
                "alg {alg:?} is not a registered JWS algorithm; most servers will refuse it (algorithm names are case-sensitive)."
            ),
            "RFC 7518 §3.1; RFC 8725 §3.2",
        ));
    } else if is_jws && !FAPI_ALGS.contains(&alg) {
        // FAPI's alg rules cover what the client and the AS sign for each other; an access
        // token's format is the AS's own business (RFC 9068 leaves the alg open).
        let severity = if matches!(kind, TokenKind::Unknown | TokenKind::AccessToken) {
            Severity::Info
        } else {
            Severity::Warning
        };
        let extra = if alg.starts_with("RS") {
            " RS* uses RSASSA-PKCS1-v1_5, which FAPI 2.0 does not allow; use PS256."
        } else {
            ""
        };
        out.push(Finding::new(
            severity,
            "jose.alg_not_fapi",
            format!("alg {alg} is not one FAPI 2.0 allows (PS256, ES256, EdDSA).{extra}"),
            "FAPI 2.0 SP §5.4.1",
        ));
    }
    if let Some(expected) = ctx.expected_alg.as_deref()
        && is_jws
        && expected != alg
    {
        out.push(Finding::new(
            Severity::Error,
            "jose.alg_mismatch",
            format!("alg is {alg:?} but {expected:?} is the one registered for this token."),
            "RFC 8725 §3.1; OIDC Core §3.1.3.7",
        ));
    }
    for (name, code, what) in [
        (
            "jku",
            "jose.jku_present",
            "a URL to fetch the verification keys from",
        ),
        (
            "x5u",
            "jose.x5u_present",
            "a URL to fetch the signing certificate from",
        ),
    ] {
        if let Some(v) = decoded.header.get(name) {
            out.push(Finding::new(
                Severity::Warning,
                code,
                format!(
                    "The header carries {name} ({what}): {v}. Never fetch it automatically (SSRF) or trust keys from it; \
                     use the issuer's registered JWKS."
                ),
                "RFC 8725 §3.10; RFC 7515 §4.1.2",
            ));
        }
    }
    embedded_key_crit_and_typ(decoded, kind, out);
}

/// An embedded `jwk`, `crit` members, and a `typ` that says another kind of token
/// (RFC 8725 §3.10, §3.11; RFC 7515 §4.1.11).
fn embedded_key_crit_and_typ(decoded: &DecodedJose, kind: TokenKind, out: &mut Vec<Finding>) {
    // A DPoP proof carries its public key by design (RFC 9449 §4.2).
    if decoded.header.contains_key("jwk") && kind != TokenKind::DpopProof {
        out.push(Finding::new(
            Severity::Warning,
            "jose.jwk_present",
            "The header embeds its own verification key (jwk). A token that brings its own key proves nothing: \
             verify only with keys you already trust.",
            "RFC 8725 §3.10; RFC 7515 §4.1.3",
        ));
    }
    if let Some(crit) = decoded.header.get("crit") {
        match crit.as_array() {
            Some(names) if !names.is_empty() && names.iter().all(Value::is_string) => {
                let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
                out.push(Finding::new(
                    Severity::Error,
                    "jose.crit_unsupported",
                    format!(
                        "The header marks {} as critical; a recipient that does not understand them must reject the token, \
                         and this tool (like most servers) understands none.",
                        names.join(", ")
                    ),
                    "RFC 7515 §4.1.11",
                ));
            }
            _ => out.push(Finding::new(
                Severity::Error,
                "jose.crit_invalid",
                format!("crit must be a non-empty array of header parameter names; it is {crit}."),
                "RFC 7515 §4.1.11",
            )),
        }
    }
    let typ = decoded.typ().map(str::to_ascii_lowercase);
    let typ_kind = match typ.as_deref() {
        Some("at+jwt" | "application/at+jwt") => Some(TokenKind::AccessToken),
        Some("oauth-authz-req+jwt" | "application/oauth-authz-req+jwt") => {
            Some(TokenKind::RequestObject)
        }
        _ => None,
    };
    if let Some(typ_kind) = typ_kind
        && kind != TokenKind::Unknown
        && typ_kind != kind
    {
        out.push(Finding::new(
            Severity::Error,
            "jose.typ_mismatch",
            format!(
                "typ {:?} says this is a {}, but it is being checked as a {}: explicit typing exists to stop one kind of token being used as another.",
                decoded.typ().unwrap_or_default(),
                typ_kind.as_str(),
                kind.as_str()
            ),
            "RFC 8725 §3.11",
        ));
    }
}

fn signature_checks(
    decoded: &DecodedJose,
    signature: Option<&SignatureStatus>,
    out: &mut Vec<Finding>,
) {
    if decoded.kind != JoseKind::Jws {
        return;
    }
    match signature {
        Some(SignatureStatus::Valid { .. }) => {}
        Some(SignatureStatus::Invalid { reason }) => out.push(Finding::new(
            Severity::Error,
            "jose.signature_invalid",
            format!("The signature is invalid: {reason}. Nothing in this token can be trusted."),
            "RFC 7515 §5.2; RFC 8725 §3.3",
        )),
        Some(SignatureStatus::NotVerifiable { reason }) => out.push(Finding::new(
            Severity::Warning,
            "jose.signature_not_verified",
            format!("The signature could not be checked: {reason}."),
            "RFC 7515 §5.2",
        )),
        None => out.push(Finding::new(
            Severity::Info,
            "jose.signature_not_checked",
            "The signature was not checked (no key given); the claims shown are unverified.",
            "RFC 7515 §5.2",
        )),
    }
}

fn time_checks(decoded: &DecodedJose, kind: TokenKind, ctx: &CheckContext, out: &mut Vec<Finding>) {
    for name in ["exp", "nbf", "iat"] {
        if let Some(v) = decoded.unverified_claim(name)
            && seconds_claim(decoded, name).is_none()
        {
            let what = if v.is_number() {
                format!("{name} is {v}, a number too large to be a date")
            } else {
                format!(
                    "{name} is {v}, not a NumericDate (a JSON number of seconds since 1970; fractions are allowed)"
                )
            };
            out.push(Finding::new(
                Severity::Error,
                "jose.numeric_date_invalid",
                format!("{what}."),
                "RFC 7519 §2, §4.1.4",
            ));
        }
    }
    let now = ctx.now;
    let skew = ctx.clock_skew;
    let exp = seconds_claim(decoded, "exp");
    let nbf = seconds_claim(decoded, "nbf");
    let iat = seconds_claim(decoded, "iat");
    if let Some(exp) = exp
        && exp + skew < now
    {
        out.push(Finding::new(
            Severity::Error,
            "jose.expired",
            format!(
                "The token expired: exp {} (allowing {skew} s of clock skew).",
                when(exp, now)
            ),
            "RFC 7519 §4.1.4",
        ));
    }
    if let Some(nbf) = nbf
        && nbf - skew > now
    {
        out.push(Finding::new(
            Severity::Error,
            "jose.not_yet_valid",
            format!(
                "The token is not valid yet: nbf {} (allowing {skew} s of clock skew). Check the clocks.",
                when(nbf, now)
            ),
            "RFC 7519 §4.1.5",
        ));
    }
    if let Some(iat) = iat
        && iat - skew > now
    {
        out.push(Finding::new(
            Severity::Warning,
            "jose.iat_in_future",
            format!(
                "iat is in the future: {} (allowing {skew} s of clock skew). The issuer's clock is ahead, or ours is behind.",
                when(iat, now)
            ),
            "RFC 7519 §4.1.6",
        ));
    }
    if let (Some(exp), Some(start)) = (exp, iat.or(nbf)) {
        if exp <= start {
            out.push(Finding::new(
                Severity::Error,
                "jose.exp_before_iat",
                format!(
                    "exp ({}) is not after iat/nbf ({}): the token was never valid.",
                    crate::jose::numeric_date::format_utc(exp),
                    crate::jose::numeric_date::format_utc(start)
                ),
                "RFC 7519 §4.1.4",
            ));
        } else if exp - start > 86_400.0
            && !matches!(kind, TokenKind::ClientAssertion | TokenKind::RequestObject)
        {
            out.push(Finding::new(
                Severity::Warning,
                "jose.long_lifetime",
                format!(
                    "The token lives {} (exp − iat): a leaked token stays usable that long. Short lifetimes are the norm.",
                    crate::jose::numeric_date::format_duration(exp - start)
                ),
                "RFC 8725 §3.10; FAPI 2.0 SP §5.3.2.1",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_has, assert_lacks, token, with};
    use super::super::{CheckContext, TokenKind, check_jwt};
    use super::*;
    use serde_json::json;

    const NOW: f64 = 1_769_766_800.0;

    fn ctx() -> CheckContext {
        CheckContext {
            now: NOW,
            ..CheckContext::default()
        }
    }

    fn header() -> Value {
        json!({"alg": "PS256", "kid": "k1", "typ": "JWT"})
    }

    fn claims() -> Value {
        json!({"iss": "a", "sub": "b", "iat": NOW - 10.0, "exp": NOW + 300.0})
    }

    fn run(header: Value, claims: Value, kind: TokenKind) -> Vec<Finding> {
        let ok = SignatureStatus::Valid { kid: None };
        check_jwt(&token(header, claims), kind, &ctx(), Some(&ok))
    }

    /// Each (code, header, claims, kind) triggers the code; the baseline does not.
    #[test]
    fn each_finding_both_ways() {
        let h = header();
        let c = claims();
        let cases: Vec<(&str, Value, Value, TokenKind)> = vec![
            (
                "jose.alg_symmetric",
                with(h.clone(), "alg", json!("HS256")),
                c.clone(),
                TokenKind::IdToken,
            ),
            (
                "jose.alg_unknown",
                with(h.clone(), "alg", json!("ps256")),
                c.clone(),
                TokenKind::IdToken,
            ),
            (
                "jose.alg_not_fapi",
                with(h.clone(), "alg", json!("RS256")),
                c.clone(),
                TokenKind::ClientAssertion,
            ),
            (
                "jose.jku_present",
                with(h.clone(), "jku", json!("https://evil.example/jwks")),
                c.clone(),
                TokenKind::Unknown,
            ),
            (
                "jose.x5u_present",
                with(h.clone(), "x5u", json!("https://evil.example/cert")),
                c.clone(),
                TokenKind::Unknown,
            ),
            (
                "jose.jwk_present",
                with(h.clone(), "jwk", json!({"kty": "oct"})),
                c.clone(),
                TokenKind::Unknown,
            ),
            (
                "jose.crit_unsupported",
                with(h.clone(), "crit", json!(["exp"])),
                c.clone(),
                TokenKind::Unknown,
            ),
            (
                "jose.crit_invalid",
                with(h.clone(), "crit", json!([])),
                c.clone(),
                TokenKind::Unknown,
            ),
            (
                "jose.typ_mismatch",
                with(h.clone(), "typ", json!("at+jwt")),
                c.clone(),
                TokenKind::IdToken,
            ),
            (
                "jose.numeric_date_invalid",
                h.clone(),
                with(c.clone(), "exp", json!("1769767012")),
                TokenKind::Unknown,
            ),
            (
                "jose.expired",
                h.clone(),
                with(c.clone(), "exp", json!(NOW - 61.0)),
                TokenKind::Unknown,
            ),
            (
                "jose.not_yet_valid",
                h.clone(),
                with(c.clone(), "nbf", json!(NOW + 61.0)),
                TokenKind::Unknown,
            ),
            (
                "jose.iat_in_future",
                h.clone(),
                with(c.clone(), "iat", json!(NOW + 61.0)),
                TokenKind::Unknown,
            ),
            (
                "jose.exp_before_iat",
                h.clone(),
                with(c.clone(), "iat", json!(NOW + 400.0)),
                TokenKind::Unknown,
            ),
            (
                "jose.long_lifetime",
                h.clone(),
                with(c.clone(), "exp", json!(NOW + 2.0 * 86_400.0)),
                TokenKind::Unknown,
            ),
        ];
        let baseline = run(h.clone(), c.clone(), TokenKind::Unknown);
        assert!(baseline.is_empty(), "{baseline:?}");
        for (code, header, claims, kind) in cases {
            assert_lacks(&run(h.clone(), c.clone(), kind), code);
            assert_has(&run(header, claims, kind), code);
        }
    }

    #[test]
    fn skew_is_allowed_either_way() {
        let f = run(
            header(),
            with(claims(), "exp", json!(NOW - 59.0)),
            TokenKind::Unknown,
        );
        assert_lacks(&f, "jose.expired");
        let f = run(
            header(),
            with(claims(), "nbf", json!(NOW + 59.5)),
            TokenKind::Unknown,
        );
        assert_lacks(&f, "jose.not_yet_valid");
    }

    #[test]
    fn alg_none_is_loud() {
        let d = crate::jose::jwt::decode(&format!(
            "{}.{}.",
            crate::jose::jwt::b64url(r#"{"alg":"none"}"#),
            crate::jose::jwt::b64url(claims().to_string())
        ))
        .unwrap();
        let f = check_jwt(&d, TokenKind::Unknown, &ctx(), None);
        assert_eq!(f[0].code, "jose.alg_none");
        assert_eq!(f[0].severity, Severity::Error);
        assert_lacks(
            &run(header(), claims(), TokenKind::Unknown),
            "jose.alg_none",
        );
    }

    #[test]
    fn alg_mismatch_with_expected() {
        let mut c = ctx();
        c.expected_alg = Some("PS256".into());
        let ok = SignatureStatus::Valid { kid: None };
        let f = check_jwt(
            &token(header(), claims()),
            TokenKind::IdToken,
            &c,
            Some(&ok),
        );
        assert_lacks(&f, "jose.alg_mismatch");
        let f = check_jwt(
            &token(with(header(), "alg", json!("ES256")), claims()),
            TokenKind::IdToken,
            &c,
            Some(&ok),
        );
        assert_has(&f, "jose.alg_mismatch");
    }

    #[test]
    fn signature_findings() {
        let d = token(header(), claims());
        let c = ctx();
        let valid = SignatureStatus::Valid { kid: None };
        let invalid = SignatureStatus::Invalid {
            reason: "bad".into(),
        };
        let nv = SignatureStatus::NotVerifiable {
            reason: "kid x not found".into(),
        };
        for code in [
            "jose.signature_invalid",
            "jose.signature_not_verified",
            "jose.signature_not_checked",
        ] {
            assert_lacks(&check_jwt(&d, TokenKind::Unknown, &c, Some(&valid)), code);
        }
        assert_has(
            &check_jwt(&d, TokenKind::Unknown, &c, Some(&invalid)),
            "jose.signature_invalid",
        );
        assert_has(
            &check_jwt(&d, TokenKind::Unknown, &c, Some(&nv)),
            "jose.signature_not_verified",
        );
        assert_has(
            &check_jwt(&d, TokenKind::Unknown, &c, None),
            "jose.signature_not_checked",
        );
    }

    #[test]
    fn payload_not_claims_and_jwe() {
        let d = crate::jose::jwt::decode(&format!(
            "{}.{}.c2ln",
            crate::jose::jwt::b64url(r#"{"alg":"PS256"}"#),
            crate::jose::jwt::b64url("hello")
        ))
        .unwrap();
        assert_has(
            &check_jwt(&d, TokenKind::Unknown, &ctx(), None),
            "jose.payload_not_claims",
        );
        assert_lacks(
            &run(header(), claims(), TokenKind::Unknown),
            "jose.payload_not_claims",
        );
        let jwe = crate::jose::jwt::decode(&format!(
            "{}.AA.AA.AA.AA",
            crate::jose::jwt::b64url(r#"{"alg":"dir","enc":"A256GCM"}"#)
        ))
        .unwrap();
        let f = check_jwt(&jwe, TokenKind::Unknown, &ctx(), None);
        assert_has(&f, "jose.encrypted");
        assert_lacks(
            &run(header(), claims(), TokenKind::Unknown),
            "jose.encrypted",
        );
    }

    #[test]
    fn huge_numbers_do_not_panic() {
        for v in ["1e300", "-5", "18446744073709551616", "1e400", "-1e400"] {
            let n: Value = serde_json::from_str(v).unwrap();
            let c = json!({"exp": n, "iat": n, "nbf": n});
            let _ = run(header(), c, TokenKind::IdToken);
        }
    }
}
