//! ID Token rules: OIDC Core §3.1.3.7 (validation), §3.1.3.6 / §3.3.2.11 (`at_hash`,
//! `c_hash`), FAPI 1 Advanced §5.1 (`s_hash`), claim types of OIDC Core §2 and §5.1.

use serde_json::Value;

use super::{CheckContext, Finding, Severity, audiences, seconds_claim, str_claim, when};
use crate::jose::jwt::DecodedJose;

/// How long ago `iat` may be before it is flagged as old (beyond the clock skew).
pub const IAT_MAX_AGE: f64 = 600.0;

/// The ID Token checks (signature and times are in [`super::jose`]).
pub fn check(decoded: &DecodedJose, ctx: &CheckContext) -> Vec<Finding> {
    let mut out = Vec::new();
    claim_checks(decoded, ctx, &mut out);
    hash_checks(decoded, ctx, &mut out);
    interop_checks(decoded, &mut out);
    out
}

fn claim_checks(decoded: &DecodedJose, ctx: &CheckContext, out: &mut Vec<Finding>) {
    match (str_claim(decoded, "iss"), ctx.issuer.as_deref()) {
        (None, _) => out.push(Finding::new(
            Severity::Error,
            "id_token.iss_missing",
            "iss is missing or not a string.",
            "OIDC Core §2",
        )),
        (Some(iss), Some(issuer)) if iss != issuer => out.push(Finding::new(
            Severity::Error,
            "id_token.iss_mismatch",
            format!("iss is {iss:?} but the issuer is {issuer:?}; it must match exactly."),
            "OIDC Core §3.1.3.7 step 2",
        )),
        _ => {}
    }
    if str_claim(decoded, "sub").is_none() {
        out.push(Finding::new(
            Severity::Error,
            "id_token.sub_missing",
            "sub is missing or not a string.",
            "OIDC Core §2",
        ));
    }
    let auds = decoded
        .unverified_claim("aud")
        .map(audiences)
        .unwrap_or_default();
    if auds.is_empty() {
        out.push(Finding::new(
            Severity::Error,
            "id_token.aud_missing",
            "aud is missing (or holds no string).",
            "OIDC Core §2",
        ));
    } else if let Some(client_id) = ctx.client_id.as_deref()
        && !auds.contains(&client_id)
    {
        out.push(Finding::new(
            Severity::Error,
            "id_token.aud_mismatch",
            format!(
                "aud ({}) does not contain the client_id {client_id:?}.",
                auds.join(", ")
            ),
            "OIDC Core §3.1.3.7 step 3",
        ));
    }
    let azp = str_claim(decoded, "azp");
    if auds.len() > 1 && azp.is_none() {
        out.push(Finding::new(
            Severity::Warning,
            "id_token.azp_missing",
            format!(
                "aud has {} values but there is no azp naming the party it was issued to.",
                auds.len()
            ),
            "OIDC Core §3.1.3.7 step 4",
        ));
    }
    if let (Some(azp), Some(client_id)) = (azp, ctx.client_id.as_deref())
        && azp != client_id
    {
        out.push(Finding::new(
            Severity::Error,
            "id_token.azp_mismatch",
            format!("azp is {azp:?} but the client_id is {client_id:?}."),
            "OIDC Core §3.1.3.7 step 5",
        ));
    }
    if decoded.unverified_claim("exp").is_none() {
        out.push(Finding::new(
            Severity::Error,
            "id_token.exp_missing",
            "exp is missing; an ID Token must expire.",
            "OIDC Core §2",
        ));
    }
    match seconds_claim(decoded, "iat") {
        None if decoded.unverified_claim("iat").is_none() => out.push(Finding::new(
            Severity::Error,
            "id_token.iat_missing",
            "iat is missing.",
            "OIDC Core §2",
        )),
        Some(iat) if ctx.now - iat > IAT_MAX_AGE + ctx.clock_skew => out.push(Finding::new(
            Severity::Warning,
            "id_token.iat_old",
            format!(
                "iat is {}: the ID Token was issued more than {} min ago. Clients reject ID Tokens issued too far from now.",
                when(iat, ctx.now),
                IAT_MAX_AGE / 60.0
            ),
            "OIDC Core §3.1.3.7 step 10",
        )),
        _ => {}
    }
    if let Some(expected) = ctx.expected_nonce.as_deref() {
        match decoded.unverified_claim("nonce") {
            None => out.push(Finding::new(
                Severity::Error,
                "id_token.nonce_missing",
                format!("A nonce was sent ({expected:?}) but the ID Token has none."),
                "OIDC Core §3.1.3.7 step 11",
            )),
            Some(v) if v.as_str() != Some(expected) => out.push(Finding::new(
                Severity::Error,
                "id_token.nonce_mismatch",
                format!("nonce is {v} but {expected:?} was sent: a replayed or injected ID Token?"),
                "OIDC Core §3.1.3.7 step 11",
            )),
            _ => {}
        }
    }
    match decoded.unverified_claim("auth_time") {
        None => out.push(Finding::new(
            Severity::Info,
            "id_token.auth_time_missing",
            "auth_time is missing; it is required when max_age was requested or auth_time was asked for as an essential claim.",
            "OIDC Core §2, §3.1.3.7 step 13",
        )),
        Some(v) => {
            let auth_time = seconds_claim(decoded, "auth_time");
            let iat = seconds_claim(decoded, "iat");
            let problem = match auth_time {
                None => Some(format!("auth_time is {v}, not a NumericDate")),
                Some(t) if iat.is_some_and(|iat| t > iat + ctx.clock_skew) => Some(format!(
                    "auth_time ({}) is after iat: the user cannot have logged in after the token was issued",
                    crate::jose::numeric_date::format_utc(t)
                )),
                Some(t) if t > ctx.now + ctx.clock_skew => Some(format!(
                    "auth_time is in the future: {}",
                    when(t, ctx.now)
                )),
                _ => None,
            };
            if let Some(problem) = problem {
                out.push(Finding::new(
                    Severity::Warning,
                    "id_token.auth_time_implausible",
                    format!("{problem}."),
                    "OIDC Core §2",
                ));
            }
        }
    }
}

fn hash_checks(decoded: &DecodedJose, ctx: &CheckContext, out: &mut Vec<Finding>) {
    let alg = decoded.alg().unwrap_or_default();
    let items = [
        (
            "at_hash",
            ctx.access_token.as_deref(),
            "the access token",
            "id_token.at_hash_mismatch",
            "OIDC Core §3.1.3.8, §3.2.2.9",
        ),
        (
            "c_hash",
            ctx.code.as_deref(),
            "the authorization code",
            "id_token.c_hash_mismatch",
            "OIDC Core §3.3.2.11",
        ),
        (
            "s_hash",
            ctx.state.as_deref(),
            "the state",
            "id_token.s_hash_mismatch",
            "FAPI 1 Advanced §5.1",
        ),
    ];
    for (claim, value, what, code, source) in items {
        let (Some(sent), Some(value)) = (decoded.unverified_claim(claim), value) else {
            continue;
        };
        let Some(expected) = crate::jose::hash::half_hash(alg, value) else {
            out.push(Finding::new(
                Severity::Warning,
                "id_token.hash_alg_unknown",
                format!(
                    "{claim} cannot be checked: alg {alg:?} does not name a hash (SHA-256/384/512)."
                ),
                "OIDC Core §3.1.3.6",
            ));
            continue;
        };
        if sent.as_str() != Some(expected.as_str()) {
            out.push(Finding::new(
                Severity::Error,
                code,
                format!(
                    "{claim} is {sent} but the left half of the {alg} hash of {what} is {expected:?}: \
                     the ID Token was not issued together with this {}.",
                    what.trim_start_matches("the ")
                ),
                source,
            ));
        }
    }
    if ctx.access_token.is_some() && decoded.unverified_claim("at_hash").is_none() {
        out.push(Finding::new(
            Severity::Info,
            "id_token.at_hash_missing",
            "There is no at_hash, so the ID Token is not bound to the access token (optional in the code flow).",
            "OIDC Core §3.1.3.6",
        ));
    }
}

fn interop_checks(decoded: &DecodedJose, out: &mut Vec<Finding>) {
    if let Some(amr) = decoded.unverified_claim("amr")
        && !amr
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string))
    {
        out.push(Finding::new(
            Severity::Warning,
            "id_token.amr_not_array",
            format!(
                "amr is {amr}; OIDC says a JSON array of strings (e.g. [\"pwd\", \"otp\"]). Strict client libraries fail to parse it."
            ),
            "OIDC Core §2",
        ));
    }
    for (claim, code) in [
        ("email_verified", "id_token.email_verified_not_boolean"),
        (
            "phone_number_verified",
            "id_token.phone_number_verified_not_boolean",
        ),
    ] {
        if let Some(v) = decoded.unverified_claim(claim)
            && !v.is_boolean()
        {
            out.push(Finding::new(
                Severity::Warning,
                code,
                format!(
                    "{claim} is {v}, not a JSON boolean; typed client libraries reject it or read it as false."
                ),
                "OIDC Core §5.1",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_has, assert_lacks, token, with};
    use super::super::{CheckContext, TokenKind, check_jwt, guess_kind};
    use super::*;
    use crate::jose::hash::half_hash;
    use crate::jose::verify::SignatureStatus;
    use serde_json::json;

    const ISSUER: &str = "https://auth1.sandbox.mya.ozoneapi.io";
    const CLIENT: &str = "55aa605c-89ef-4473-aa88-47709f0ff383";
    const NOW: f64 = 1_769_768_100.0;
    const ACCESS_TOKEN: &str = "26e0bf38-9fab-48e5-8be6-4a906905f959";
    const CODE: &str = "160ed384-bb0d-439e-85e8-68d2b681e45d";
    const STATE: &str = "d0ba6086-ca86-43f9-9ec3-92326bceb490";

    fn ctx() -> CheckContext {
        CheckContext {
            issuer: Some(ISSUER.into()),
            client_id: Some(CLIENT.into()),
            expected_nonce: Some("d578b737-53ec-465d-898d-d5c0323a6ae3".into()),
            access_token: Some(ACCESS_TOKEN.into()),
            code: Some(CODE.into()),
            state: Some(STATE.into()),
            now: NOW,
            ..CheckContext::default()
        }
    }

    /// The seed's ID Token claims, exactly.
    fn seed() -> Value {
        serde_json::from_str(
            r#"{"sub":"202","acr":"acr:paynet-sandbox","amr":"mock","name":"Mr. Mitsu Hirato",
            "given_name":"Mitsu","family_name":"Hirato","preferred_username":"mits","email":"mits@m2.com",
            "email_verified":"true","id_type":"passport",
            "hashed_id_number":"c17edaae86e4016a583e098582f6dbf3eccade8ef83747df9ba617ded9d31309",
            "iss":"https://auth1.sandbox.mya.ozoneapi.io","aud":"55aa605c-89ef-4473-aa88-47709f0ff383",
            "iat":1769768007,"exp":1769768907,"nonce":"d578b737-53ec-465d-898d-d5c0323a6ae3",
            "auth_time":1769768007,"azp":"55aa605c-89ef-4473-aa88-47709f0ff383"}"#,
        )
        .unwrap()
    }

    /// The seed with standard types and the three hashes added: no findings at all.
    fn clean() -> Value {
        let c = with(seed(), "amr", json!(["mock"]));
        let c = with(c, "email_verified", json!(true));
        let c = with(
            c,
            "at_hash",
            json!(half_hash("PS256", ACCESS_TOKEN).unwrap()),
        );
        let c = with(c, "c_hash", json!(half_hash("PS256", CODE).unwrap()));
        with(c, "s_hash", json!(half_hash("PS256", STATE).unwrap()))
    }

    fn run(claims: Value) -> Vec<Finding> {
        let header = json!({"alg": "PS256", "kid": "U7hqOn8KlnoCvgkkH8o1A2w9DdHLjC25Y-_WeVhv0yE"});
        let ok = SignatureStatus::Valid { kid: None };
        check_jwt(
            &token(header, claims),
            TokenKind::IdToken,
            &ctx(),
            Some(&ok),
        )
    }

    #[test]
    fn the_seed_id_token_has_only_the_interop_warnings() {
        let mut c = ctx();
        c.access_token = None;
        c.code = None;
        c.state = None;
        let header = json!({"alg": "PS256", "kid": "U7hqOn8KlnoCvgkkH8o1A2w9DdHLjC25Y-_WeVhv0yE"});
        let d = token(header, seed());
        assert_eq!(guess_kind(&d), TokenKind::IdToken);
        let ok = SignatureStatus::Valid { kid: None };
        let f = check_jwt(&d, TokenKind::IdToken, &c, Some(&ok));
        let codes: Vec<_> = f.iter().map(|x| x.code).collect();
        assert_eq!(
            codes,
            [
                "id_token.amr_not_array",
                "id_token.email_verified_not_boolean"
            ],
            "{f:#?}"
        );
        assert!(f.iter().all(|x| x.severity == Severity::Warning));
    }

    #[test]
    fn the_clean_token_has_no_findings() {
        let f = run(clean());
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn each_finding_both_ways() {
        let s = clean();
        let cases: Vec<(&str, Value)> = vec![
            ("id_token.iss_missing", with(s.clone(), "iss", Value::Null)),
            (
                "id_token.iss_mismatch",
                with(
                    s.clone(),
                    "iss",
                    json!("https://auth1.sandbox.mya.ozoneapi.io/"),
                ),
            ),
            ("id_token.sub_missing", with(s.clone(), "sub", Value::Null)),
            ("id_token.aud_missing", with(s.clone(), "aud", Value::Null)),
            (
                "id_token.aud_mismatch",
                with(s.clone(), "aud", json!("another-client")),
            ),
            (
                "id_token.azp_missing",
                with(
                    with(s.clone(), "aud", json!([CLIENT, "x"])),
                    "azp",
                    Value::Null,
                ),
            ),
            ("id_token.azp_mismatch", with(s.clone(), "azp", json!("x"))),
            ("id_token.exp_missing", with(s.clone(), "exp", Value::Null)),
            ("id_token.iat_missing", with(s.clone(), "iat", Value::Null)),
            (
                "id_token.iat_old",
                with(s.clone(), "iat", json!(NOW - 2000.0)),
            ),
            (
                "id_token.nonce_missing",
                with(s.clone(), "nonce", Value::Null),
            ),
            (
                "id_token.nonce_mismatch",
                with(s.clone(), "nonce", json!("other")),
            ),
            (
                "id_token.auth_time_missing",
                with(s.clone(), "auth_time", Value::Null),
            ),
            (
                "id_token.auth_time_implausible",
                with(s.clone(), "auth_time", json!(1_769_768_907)),
            ),
            (
                "id_token.at_hash_mismatch",
                with(s.clone(), "at_hash", json!("AAAAAAAAAAAAAAAAAAAAAA")),
            ),
            (
                "id_token.at_hash_missing",
                with(s.clone(), "at_hash", Value::Null),
            ),
            (
                "id_token.c_hash_mismatch",
                with(s.clone(), "c_hash", json!(half_hash("PS256", "x").unwrap())),
            ),
            (
                "id_token.s_hash_mismatch",
                with(
                    s.clone(),
                    "s_hash",
                    json!(half_hash("PS384", STATE).unwrap()),
                ),
            ),
            (
                "id_token.amr_not_array",
                with(s.clone(), "amr", json!("mock")),
            ),
            (
                "id_token.email_verified_not_boolean",
                with(s.clone(), "email_verified", json!("true")),
            ),
            (
                "id_token.phone_number_verified_not_boolean",
                with(s.clone(), "phone_number_verified", json!(1)),
            ),
        ];
        let baseline = run(s.clone());
        for (code, claims) in cases {
            assert_lacks(&baseline, code);
            assert_has(&run(claims), code);
        }
    }

    #[test]
    fn hash_alg_unknown_both_ways() {
        let header = json!({"alg": "XY99"});
        let f = check_jwt(&token(header, clean()), TokenKind::IdToken, &ctx(), None);
        assert_has(&f, "id_token.hash_alg_unknown");
        assert_lacks(&run(clean()), "id_token.hash_alg_unknown");
    }
}
