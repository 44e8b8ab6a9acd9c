//! Authorization and consent: the request object's window, the consent type, the
//! user's refusal and the consent's status (E10, E12, E15, E18).

use serde_json::Value;

use crate::diagnosis::cause::{Rule, now, number, server_time};
use crate::diagnosis::code::is_code_grant;
use crate::diagnosis::{Cause, Evidence, Refusal};
use crate::oauth::exchange::Exchange;

/// E10: the signed request object's window (`nbf`, `exp`) or `aud` is refused.
pub(super) fn request_object_window(
    exchange: &Exchange,
    evidence: &Evidence,
    _: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.request_object_window",
        what: "the request object's nbf/exp window or aud is refused",
        source: "FAPI 2.0 Message Signing §5.3.1; FAPI 1 Advanced §5.2.2-13, -15, -17; RFC 9101 §6.3",
    };
    let object = exchange.request.request_object.as_ref()?;
    let claims = &object.claims;
    let at = server_time(exchange).unwrap_or_else(|| now(evidence));
    let nbf = number(claims.get("nbf")).map(|v| v as i64);
    let exp = number(claims.get("exp")).map(|v| v as i64);
    let mut wrong = Vec::new();
    match (nbf, exp) {
        (None, _) => wrong.push("it has no nbf".to_owned()),
        (_, None) => wrong.push("it has no exp".to_owned()),
        (Some(nbf), Some(exp)) => {
            if exp - nbf > 3600 {
                wrong.push(format!(
                    "exp − nbf is {} s, more than 60 min (UAE: 10 min)",
                    exp - nbf
                ));
            }
            if at - nbf > 3600 {
                wrong.push(format!("nbf is {} s old, more than 60 min", at - nbf));
            }
            if nbf > at + 10 {
                wrong.push(format!("nbf is {} s in the server's future", nbf - at));
            }
            if exp < at {
                wrong.push(format!(
                    "it expired {} s before the server's time",
                    at - exp
                ));
            }
        }
    }
    if let (Some(aud), Some(iss)) = (claims.get("aud"), evidence.issuer.as_deref()) {
        let ok = match aud {
            Value::String(a) => a.trim_end_matches('/') == iss.trim_end_matches('/'),
            Value::Array(items) => items.iter().any(|a| a.as_str() == Some(iss)),
            _ => false,
        };
        if !ok {
            wrong.push(format!("aud {aud} is not the issuer {iss:?}"));
        }
    }
    if wrong.is_empty() {
        RULE.ruled_out(format!(
                "nbf {}, exp {} (a window of {} s) and aud are within the rules at the server's time {at}",
                nbf.unwrap_or_default(),
                exp.unwrap_or_default(),
                exp.unwrap_or_default() - nbf.unwrap_or_default()
            ))
    } else {
        RULE.likely(wrong.join("; "))
    }
}

/// E18: the consent's `authorization_details` type is not one the server takes.
pub(super) fn authorization_details_type(
    exchange: &Exchange,
    evidence: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.authorization_details_type",
        what: "the consent's authorization_details type is not one the server accepts",
        source: "RFC 9396 §5, §10",
    };
    let details = exchange
        .request
        .request_object
        .as_ref()
        .and_then(|o| o.claims.get("authorization_details").cloned())
        .or_else(|| {
            exchange
                .request
                .param("authorization_details")
                .and_then(|t| serde_json::from_str(t).ok())
        });
    let types: Vec<String> = details
        .as_ref()
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| d.get("type").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if types.is_empty() {
        // Only worth a line when the refusal is about them.
        return (refusal.error() == "invalid_authorization_details")
            .then(|| RULE.unknown("no authorization_details were found in what was sent"))
            .flatten();
    }
    let Some(supported) = &evidence.authorization_details_types_supported else {
        return RULE.unknown(format!(
            "sent {}; the server's authorization_details_types_supported is not known",
            types.join(", ")
        ));
    };
    let unknown: Vec<&String> = types.iter().filter(|t| !supported.contains(t)).collect();
    if unknown.is_empty() {
        RULE.ruled_out(format!("sent {}, which the server lists", types.join(", ")))
    } else {
        RULE.likely(format!(
            "sent {}, which the server does not list (it lists {})",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if supported.is_empty() {
                "none".to_owned()
            } else {
                supported.join(", ")
            }
        ))
    }
}

// ------------------------------------------------------------------ consent, user

/// E12: the user refused or cancelled at the bank.
pub(super) fn user_denied(exchange: &Exchange, _: &Evidence, refusal: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.user_denied",
        what: "the user refused or cancelled the consent at the bank",
        source: "RFC 6749 §4.1.2.1",
    };
    let described = if refusal.description().is_empty() {
        String::new()
    } else {
        format!(" ({})", refusal.description())
    };
    match refusal {
        Refusal::Redirect { error, .. } if error == "access_denied" => RULE.likely(format!(
            "the bank's redirect carried access_denied{described}; in Brazil also when the logged-in user is not the consent's loggedUser"
        )),
        Refusal::Redirect { error, .. } => RULE.ruled_out(format!(
            "the bank's redirect carried {error}{described}, not access_denied: the request was refused, not the user"
        )),
        _ if is_code_grant(exchange) => RULE.ruled_out(format!(
            "a code came back, so the user approved; the token endpoint's access_denied{described} is about the client or the consent"
        )),
        _ if exchange.request.param("grant_type").is_some() => RULE.ruled_out(format!(
            "no user takes part in a {} grant",
            exchange.request.param("grant_type").unwrap_or_default()
        )),
        _ => RULE.likely(format!("the server answered access_denied{described}")),
    }
}

/// E15: the consent is not (or no longer) authorised.
pub(super) fn consent_not_authorised(
    _: &Exchange,
    evidence: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.consent_not_authorised",
        what: "the consent is not authorised, or has expired or been revoked",
        source: "RFC 9396 §7; Open Finance Brazil FAPI §5.2.2; PayNet consent lifecycle",
    };
    // The server's own words outrank what was last seen here.
    let said = refusal.description().to_ascii_lowercase();
    if said.contains("consent")
        && ["revoked", "expired", "rejected", "not authori", "consumed"]
            .iter()
            .any(|w| said.contains(w))
    {
        let seen = evidence
            .consent
            .as_ref()
            .and_then(|c| c.status.as_deref())
            .map(|s| format!("; it was last seen {s} here"))
            .unwrap_or_default();
        return RULE.likely(format!(
            "the server says so ({}){seen}",
            refusal.description()
        ));
    }
    let Some(consent) = &evidence.consent else {
        return RULE.unknown(
            "the consent's status is not known here (read it at the bank's consent endpoint)",
        );
    };
    let at = now(evidence);
    if let Some(exp) = consent.expires_at
        && exp < at
    {
        return RULE.likely(format!(
            "the consent expired at {}",
            crate::jose::numeric_date::format_utc(exp as f64)
        ));
    }
    // Without the ecosystem's word, either spelling of "authorised" will do.
    let word = consent.authorized_word.clone().or_else(|| {
        consent.status.as_ref().and_then(|st| {
            ["authorized", "authorised"]
                .iter()
                .find(|w| st.eq_ignore_ascii_case(w))
                .map(|w| (*w).to_owned())
        })
    });
    match (&consent.status, &word) {
        (Some(status), Some(word)) if status.eq_ignore_ascii_case(word) => {
            RULE.ruled_out(format!("the consent was last seen {status}, not expired"))
        }
        (Some(status), Some(word)) => {
            RULE.likely(format!("the consent was last seen {status}, not {word}"))
        }
        (Some(status), None) => RULE.likely(format!(
            "the consent was last seen {status}, not authorised"
        )),
        _ => RULE.unknown("the consent's status is not known here"),
    }
}
