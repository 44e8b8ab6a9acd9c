//! The authorization code: PKCE, redirect_uri, reuse and age (E7–E9).

use crate::diagnosis::cause::{Rule, sent_time};
use crate::diagnosis::{Cause, Evidence, Refusal};
use crate::oauth::exchange::Exchange;

pub(super) fn is_code_grant(exchange: &Exchange) -> bool {
    exchange.request.param("grant_type") == Some("authorization_code")
}

/// E7: the PKCE verifier is not the one of this authorization's challenge.
pub(super) fn pkce_mismatch(
    exchange: &Exchange,
    evidence: &Evidence,
    _: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.pkce_mismatch",
        what: "the code_verifier does not match the code_challenge sent at PAR",
        source: "RFC 7636 §4.6; FAPI 2.0 SP §5.3.2.1",
    };
    if !is_code_grant(exchange) {
        return None;
    }
    let Some(verifier) = exchange.request.param("code_verifier") else {
        return RULE.likely("no code_verifier was sent; a PKCE code needs it");
    };
    let computed = crate::jose::hash::s256(verifier);
    match &evidence.pkce_challenge {
        Some(sent) if *sent == computed => RULE.ruled_out(format!("S256(code_verifier) = {computed}, the code_challenge sent")),
        Some(sent) => RULE.likely(format!(
                "S256(code_verifier) = {computed}, but the code_challenge sent was {sent}: the verifier is not this authorization's"
            )),
        None => RULE.unknown(format!(
                "S256(code_verifier) = {computed}; the challenge of the authorization is not known here"
            )),
    }
}

/// E8: the token request's `redirect_uri` differs from the authorization's.
pub(super) fn redirect_uri_mismatch(
    exchange: &Exchange,
    evidence: &Evidence,
    _: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.redirect_uri_mismatch",
        what: "redirect_uri differs from the one in the authorization request",
        source: "RFC 6749 §4.1.3; RFC 9126 §2.1",
    };
    if !is_code_grant(exchange) {
        return None;
    }
    let sent = exchange.request.param("redirect_uri");
    match (sent, evidence.authorization_redirect_uri.as_deref()) {
        (Some(s), Some(a)) if s == a => RULE.ruled_out(format!("both are {s:?}")),
        (Some(s), Some(a)) => RULE.likely(format!(
                "the token request sent {s:?}, the authorization request {a:?}: they must be equal to the character"
            )),
        (None, Some(a)) => RULE.likely(format!("the token request sent no redirect_uri; the authorization request had {a:?}")),
        (s, None) => RULE.unknown(format!(
                "the token request sent {}; the authorization request's is not known here",
                s.map_or("none".to_owned(), |s| format!("{s:?}"))
            )),
    }
}

/// E9: the code was exchanged before (codes are single use).
pub(super) fn code_reused(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.code_reused",
        what: "the authorization code was already used",
        source: "RFC 6749 §4.1.2; FAPI 2.0 SP §5.3.2.1",
    };
    if !is_code_grant(exchange) {
        return None;
    }
    let code = exchange.request.param("code")?;
    let print = crate::jose::hash::fingerprint(code);
    match &evidence.earlier_codes {
        Some(earlier) if earlier.contains(&print) => RULE.likely(format!(
                "this code ({print}) was sent before; a code is single use, and a reused one revokes what it gave"
            )),
        Some(earlier) => RULE.ruled_out(format!(
                "this code ({print}) is not among the {} codes sent before",
                earlier.len()
            )),
        None => RULE.unknown(format!("no history of earlier codes to compare this one ({print}) with")),
    }
}

/// E9: the code was older than the server keeps codes.
pub(super) fn code_expired(
    exchange: &Exchange,
    evidence: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.code_expired",
        what: "the authorization code had expired",
        source: "FAPI 2.0 SP §5.3.2.1 (codes live at most 60 s); RFC 6749 §4.1.2",
    };
    if !is_code_grant(exchange) {
        return None;
    }
    let lifetime = evidence.code_lifetime_secs.unwrap_or(60);
    let says_expired = refusal
        .description()
        .to_ascii_lowercase()
        .contains("expired");
    let sent = sent_time(exchange);
    // Its age: exact when the redirect's arrival is known; at most the time since the
    // authorization request otherwise.
    let (age, bound) = match (
        evidence.code_received_at,
        evidence.authorization_started_at,
        sent,
    ) {
        (Some(received), _, Some(sent)) => (Some(sent - received), false),
        (None, Some(started), Some(sent)) => (Some(sent - started), true),
        _ => (None, false),
    };
    let age_text = |age: i64| {
        if bound {
            format!(
                "the authorization started {age} s before this exchange, so the code was at most {age} s old"
            )
        } else {
            format!("the code was sent {age} s after it arrived")
        }
    };
    match age {
        Some(age) if says_expired => RULE.likely(format!(
            "the server says so ({}); {}: this server keeps codes {}",
            refusal.description(),
            age_text(age),
            if age <= lifetime {
                format!("shorter than {lifetime} s")
            } else {
                format!("{lifetime} s or less")
            }
        )),
        Some(age) if age > lifetime && !bound => RULE.likely(format!(
            "{}; servers keep codes {lifetime} s or less",
            age_text(age)
        )),
        Some(age) if age <= lifetime => RULE.ruled_out(format!(
            "{}; codes live up to {lifetime} s, and the server does not say expired",
            age_text(age)
        )),
        _ if says_expired => RULE.likely(format!(
            "the server says so ({}); when the code arrived is not known here",
            refusal.description()
        )),
        _ => RULE.unknown(format!(
            "when the code arrived is not known here (servers keep codes {lifetime} s or less)"
        )),
    }
}
