//! Token response rules (RFC 6749 §5.1, RFC 9449 `DPoP`, FAPI 1 Baseline §6.2.1 interaction
//! id echo, RFC 9396 `authorization_details` with the Ozone `consent` shape).

use serde_json::Value;

use super::{Finding, Severity};

/// Consent expiring within this many seconds is flagged as "soon".
pub const CONSENT_SOON: f64 = 86_400.0;

/// An `expires_in` above this many seconds is flagged as long.
pub const LONG_EXPIRES_IN: f64 = 86_400.0;

/// Checks a successful token response body (RFC 6749 §5.1) and the interaction id echo.
///
/// `requested_scope` is the `scope` sent (if any); `sent_interaction_id` the
/// `x-fapi-interaction-id` request header; `echoed_interaction_id` the response header;
/// `now` unix seconds (for consent expiry).
pub fn check_token_response(
    body: &Value,
    requested_scope: Option<&str>,
    sent_interaction_id: Option<&str>,
    echoed_interaction_id: Option<&str>,
    now: f64,
) -> Vec<Finding> {
    let mut out = Vec::new();
    interaction_id(sent_interaction_id, echoed_interaction_id, &mut out);
    let Some(obj) = body.as_object() else {
        out.push(Finding::new(
            Severity::Error,
            "token_response.not_object",
            "The response body is not a JSON object.",
            "RFC 6749 §5.1",
        ));
        return out;
    };
    if let Some(error) = obj.get("error") {
        out.push(Finding::new(
            Severity::Error,
            "token_response.error",
            format!(
                "The server answered with error {error}{}.",
                obj.get("error_description")
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
            "RFC 6749 §5.2",
        ));
        return out;
    }
    if !obj.get("access_token").is_some_and(Value::is_string) {
        out.push(Finding::new(
            Severity::Error,
            "token_response.access_token_missing",
            "access_token is missing or not a string.",
            "RFC 6749 §5.1",
        ));
    }
    match obj.get("token_type") {
        None => out.push(Finding::new(
            Severity::Error,
            "token_response.token_type_missing",
            "token_type is missing; it is REQUIRED (Bearer or DPoP).",
            "RFC 6749 §5.1",
        )),
        Some(t) => {
            let ok = t.as_str().is_some_and(|t| {
                t.eq_ignore_ascii_case("bearer") || t.eq_ignore_ascii_case("dpop")
            });
            if !ok {
                out.push(Finding::new(
                    Severity::Warning,
                    "token_response.token_type_unexpected",
                    format!("token_type is {t}; FAPI clients expect Bearer or DPoP."),
                    "RFC 6749 §7.1; RFC 9449 §5",
                ));
            }
        }
    }
    match obj.get("expires_in") {
        None => out.push(Finding::new(
            Severity::Warning,
            "token_response.expires_in_missing",
            "expires_in is missing (RECOMMENDED): the client cannot tell when the access token expires.",
            "RFC 6749 §5.1",
        )),
        Some(v) => match v.as_number().and_then(|n| n.to_string().parse::<f64>().ok()) {
            Some(secs) if secs.is_finite() && secs > 0.0 => {
                if secs > LONG_EXPIRES_IN {
                    out.push(Finding::new(
                        Severity::Info,
                        "token_response.expires_in_long",
                        format!(
                            "expires_in is {v} s ({}): a long-lived access token.",
                            crate::jose::numeric_date::format_duration(secs)
                        ),
                        "RFC 6749 §5.1; RFC 6819 §5.1.5.3",
                    ));
                }
            }
            _ => out.push(Finding::new(
                Severity::Warning,
                "token_response.expires_in_invalid",
                format!("expires_in is {v}; it must be a positive number of seconds."),
                "RFC 6749 §5.1",
            )),
        },
    }
    scope(requested_scope, obj.get("scope"), &mut out);
    authorization_details(obj.get("authorization_details"), now, &mut out);
    out.sort_by_key(|f| f.severity);
    out
}

/// The `x-fapi-interaction-id` echo (FAPI 1 Baseline §6.2.1 item 11), for any answer of
/// the token endpoint: a token response, an OAuth error, or anything else.
pub fn interaction_id(sent: Option<&str>, echoed: Option<&str>, out: &mut Vec<Finding>) {
    const SOURCE: &str = "FAPI 1 Baseline §6.2.1 item 11";
    match (sent, echoed) {
        (Some(sent), None) => out.push(Finding::new(
            Severity::Warning,
            "token_response.interaction_id_missing",
            format!("x-fapi-interaction-id {sent} was sent but the response does not echo it."),
            SOURCE,
        )),
        (Some(sent), Some(echoed)) if !sent.trim().eq_ignore_ascii_case(echoed.trim()) => {
            out.push(Finding::new(
                Severity::Warning,
                "token_response.interaction_id_mismatch",
                format!(
                    "x-fapi-interaction-id {sent} was sent but the response carries {echoed}: the server must echo the client's value."
                ),
                SOURCE,
            ));
        }
        _ => {}
    }
}

fn scope(requested: Option<&str>, granted: Option<&Value>, out: &mut Vec<Finding>) {
    let (Some(requested), Some(granted)) = (requested, granted) else {
        // No scope in the response means "as requested" (RFC 6749 §5.1).
        return;
    };
    let Some(granted) = granted.as_str() else {
        out.push(Finding::new(
            Severity::Warning,
            "token_response.scope_invalid",
            format!("scope is {granted}, not a space-separated string."),
            "RFC 6749 §3.3",
        ));
        return;
    };
    let asked: Vec<&str> = requested.split_whitespace().collect();
    let got: Vec<&str> = granted.split_whitespace().collect();
    let extra: Vec<&str> = got.iter().copied().filter(|s| !asked.contains(s)).collect();
    let missing: Vec<&str> = asked.iter().copied().filter(|s| !got.contains(s)).collect();
    if !missing.is_empty() {
        out.push(Finding::new(
            Severity::Warning,
            "token_response.scope_reduced",
            format!(
                "Asked for scope {requested:?}, granted {granted:?}: not granted {}.",
                missing.join(" ")
            ),
            "RFC 6749 §3.3",
        ));
    }
    if !extra.is_empty() {
        out.push(Finding::new(
            Severity::Info,
            "token_response.scope_extra",
            format!(
                "Asked for scope {requested:?}, granted {granted:?}: the server added {}.",
                extra.join(" ")
            ),
            "RFC 6749 §3.3",
        ));
    }
}

fn authorization_details(details: Option<&Value>, now: f64, out: &mut Vec<Finding>) {
    let Some(details) = details else { return };
    let Some(items) = details.as_array() else {
        out.push(Finding::new(
            Severity::Warning,
            "token_response.authorization_details_invalid",
            format!(
                "authorization_details is {}, not a JSON array of objects.",
                short(details)
            ),
            "RFC 9396 §7",
        ));
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let Some(consent) = item.get("consent") else {
            continue;
        };
        let id = consent
            .get("consent_id")
            .and_then(Value::as_str)
            .map(|c| format!("consent {c}"))
            .unwrap_or_else(|| format!("authorization_details[{i}].consent"));
        match consent.get("status").and_then(Value::as_str) {
            Some(s) if s.eq_ignore_ascii_case("authorized") || s.eq_ignore_ascii_case("authorised") => {}
            status => out.push(Finding::new(
                Severity::Warning,
                "token_response.consent_not_authorized",
                format!(
                    "{id} has status {}, not \"authorized\": data calls with this token will be refused.",
                    status.map(|s| format!("{s:?}")).unwrap_or_else(|| "missing".into())
                ),
                "RFC 9396 §7; Open Finance consent lifecycle",
            )),
        }
        let Some(expiry) = consent.get("expiration_datetime") else {
            continue;
        };
        let parsed = expiry.as_str().and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        });
        match parsed {
            None => out.push(Finding::new(
                Severity::Warning,
                "token_response.consent_expiration_invalid",
                format!(
                    "{id} has expiration_datetime {expiry}, which is not an RFC 3339 date-time."
                ),
                "RFC 3339 §5.6",
            )),
            Some(t) => {
                let secs = t.unix_timestamp() as f64 + f64::from(t.millisecond()) / 1000.0;
                if secs <= now {
                    out.push(Finding::new(
                        Severity::Warning,
                        "token_response.consent_expired",
                        format!(
                            "{id} expired {} ({}).",
                            crate::jose::numeric_date::format_relative(secs - now),
                            crate::jose::numeric_date::format_utc(secs)
                        ),
                        "RFC 9396 §7; Open Finance consent lifecycle",
                    ));
                } else if secs - now < CONSENT_SOON {
                    out.push(Finding::new(
                        Severity::Info,
                        "token_response.consent_expires_soon",
                        format!(
                            "{id} expires {} ({}).",
                            crate::jose::numeric_date::format_relative(secs - now),
                            crate::jose::numeric_date::format_utc(secs)
                        ),
                        "RFC 9396 §7; Open Finance consent lifecycle",
                    ));
                }
            }
        }
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{assert_has, assert_lacks};
    use super::*;
    use serde_json::json;

    const SENT: &str = "968bed68-6694-44a8-8daa-b955bb4d1283";
    /// 2026-01-30T10:13:30Z, just after the seed's exchange.
    const NOW: f64 = 1_769_768_010.0;

    /// The seed's token response body, exactly.
    fn seed() -> Value {
        serde_json::from_str(
            r#"{"access_token":"26e0bf38-9fab-48e5-8be6-4a906905f959","expires_in":600,"token_type":"Bearer",
            "scope":"accounts profile","state":"d0ba6086-ca86-43f9-9ec3-92326bceb490",
            "authorization_details":[{"type":"urn:openfinance-ml:account-access-consent:v1.2",
              "consent":{"consent_id":"a7cb03ff-4c70-4eaa-87f4-f2a4c4c87b0d","dc_id":"16f87e367071230059bff09a",
              "dp_id":"DP9876543210","consent_type":"urn:openfinance-ml:account-access-consent:v1.2",
              "consent_purpose":"pfm","permissions":["read_accounts","read_transactions","read_balances"],
              "expiration_datetime":"2026-11-30T23:59:59Z","status":"authorized",
              "created_at":"2026-01-30T10:12:42.671Z","updated_at":"2026-01-30T10:13:26.588Z",
              "updated_by":"data_provider_user","accounts":[{"account_id":"100004000000000000000004",
              "account_number":"10000004","account_name":"Greenbank Current Account"}]}}],
            "grant_id":"a7cb03ff-4c70-4eaa-87f4-f2a4c4c87b0d","refresh_token":"2885e6a3-1486-4aa5-839f-ff879ba8a79a",
            "id_token":"eyJhbGciOiJQUzI1NiIs"}"#,
        )
        .unwrap()
    }

    fn run(body: &Value) -> Vec<Finding> {
        check_token_response(body, Some("accounts profile"), Some(SENT), Some(SENT), NOW)
    }

    fn set(mut body: Value, pointer: &str, value: Value) -> Value {
        if value.is_null() {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            body.pointer_mut(parent)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(key);
        } else {
            *body.pointer_mut(pointer).unwrap() = value;
        }
        body
    }

    #[test]
    fn the_seed_reports_the_extra_scope_only() {
        let f = check_token_response(&seed(), Some("accounts"), Some(SENT), Some(SENT), NOW);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].code, "token_response.scope_extra");
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].message.contains("profile"));
    }

    #[test]
    fn each_body_finding_both_ways() {
        let s = seed();
        let consent = "/authorization_details/0/consent";
        let cases: Vec<(&str, Value)> = vec![
            ("token_response.not_object", json!([1])),
            (
                "token_response.error",
                json!({"error": "invalid_grant", "error_description": "code used"}),
            ),
            (
                "token_response.access_token_missing",
                set(s.clone(), "/access_token", Value::Null),
            ),
            (
                "token_response.token_type_missing",
                set(s.clone(), "/token_type", Value::Null),
            ),
            (
                "token_response.token_type_unexpected",
                set(s.clone(), "/token_type", json!("mac")),
            ),
            (
                "token_response.expires_in_missing",
                set(s.clone(), "/expires_in", Value::Null),
            ),
            (
                "token_response.expires_in_invalid",
                set(s.clone(), "/expires_in", json!("600")),
            ),
            (
                "token_response.expires_in_long",
                set(s.clone(), "/expires_in", json!(604_800)),
            ),
            (
                "token_response.scope_invalid",
                set(s.clone(), "/scope", json!(["accounts"])),
            ),
            (
                "token_response.scope_reduced",
                set(s.clone(), "/scope", json!("profile")),
            ),
            (
                "token_response.scope_extra",
                set(s.clone(), "/scope", json!("accounts profile openid")),
            ),
            (
                "token_response.authorization_details_invalid",
                set(s.clone(), "/authorization_details", json!({})),
            ),
            (
                "token_response.consent_not_authorized",
                set(s.clone(), &format!("{consent}/status"), json!("revoked")),
            ),
            (
                "token_response.consent_expiration_invalid",
                set(
                    s.clone(),
                    &format!("{consent}/expiration_datetime"),
                    json!("30/11/2026"),
                ),
            ),
            (
                "token_response.consent_expired",
                set(
                    s.clone(),
                    &format!("{consent}/expiration_datetime"),
                    json!("2026-01-01T00:00:00Z"),
                ),
            ),
            (
                "token_response.consent_expires_soon",
                set(
                    s.clone(),
                    &format!("{consent}/expiration_datetime"),
                    json!("2026-01-30T20:00:00.000Z"),
                ),
            ),
        ];
        let baseline = run(&s);
        assert!(baseline.is_empty(), "{baseline:#?}");
        for (code, body) in cases {
            assert_lacks(&baseline, code);
            assert_has(&run(&body), code);
        }
    }

    #[test]
    fn lowercase_bearer_and_uk_spelling_are_fine() {
        let s = set(seed(), "/token_type", json!("bearer"));
        let s = set(
            s,
            "/authorization_details/0/consent/status",
            json!("Authorised"),
        );
        assert!(run(&s).is_empty());
    }

    #[test]
    fn interaction_id_both_ways() {
        let s = seed();
        let f = check_token_response(&s, None, Some(SENT), None, NOW);
        assert_has(&f, "token_response.interaction_id_missing");
        let f = check_token_response(&s, None, Some(SENT), Some("another"), NOW);
        assert_has(&f, "token_response.interaction_id_mismatch");
        let f = check_token_response(&s, None, Some(SENT), Some(&SENT.to_uppercase()), NOW);
        assert_lacks(&f, "token_response.interaction_id_mismatch");
        assert_lacks(&f, "token_response.interaction_id_missing");
        // Nothing sent, nothing echoed: fine (the server may also create one).
        let f = check_token_response(&s, None, None, Some("server-made"), NOW);
        assert!(f.is_empty(), "{f:#?}");
    }
}
