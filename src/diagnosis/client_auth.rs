//! Client authentication: the client assertion (aud, clock, key, jti, lifetime) and
//! the method the server offers (E1–E4).

use serde_json::Value;

use crate::diagnosis::cause::{Rule, now, number, sent_time, server_time};
use crate::diagnosis::{Cause, Evidence, Refusal, Status};
use crate::oauth::exchange::Exchange;

pub(super) fn assertion_claims(exchange: &Exchange) -> Option<&Value> {
    exchange
        .request
        .client_assertion
        .as_ref()
        .map(|a| &a.claims)
}

/// E1: the assertion's `aud` is not the issuer as a string.
pub(super) fn assertion_aud(
    exchange: &Exchange,
    evidence: &Evidence,
    _: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.assertion_aud",
        what: "the client assertion's aud is not what the server expects",
        source: "FAPI 2.0 SP §5.3.2.1; RFC 7523 §3",
    };
    let claims = assertion_claims(exchange)?;
    let aud = claims.get("aud");
    let issuer = evidence.issuer.as_deref().map(|s| s.trim_end_matches('/'));
    match (aud, issuer) {
        (Some(Value::Array(items)), _) => RULE.likely(format!(
                "aud is an array ({} items); FAPI 2.0 wants the issuer as a single string",
                items.len()
            )),
        (Some(Value::String(a)), Some(iss)) if a.trim_end_matches('/') == iss => RULE.ruled_out(format!("aud is the issuer {a:?}, as FAPI 2.0 requires")),
        (Some(Value::String(a)), _) if evidence.token_endpoint.as_deref() == Some(a.as_str()) => {
            RULE.likely(format!(
                    "aud is the token endpoint {a:?}, not the issuer {:?}: FAPI 2.0 servers want the issuer (older ones the token endpoint; PayNet's guide and sample disagree)",
                    issuer.unwrap_or("?")
                ))
        }
        (Some(Value::String(a)), Some(iss)) => RULE.likely(format!("aud {a:?} is neither the issuer {iss:?} nor the token endpoint")),
        (None, _) => RULE.likely("the assertion has no aud"),
        _ => RULE.unknown("the issuer is not known to compare aud with"),
    }
}

/// E2: the local clock is ahead of the server's, so `iat` (or `nbf`) is in its future.
pub(super) fn clock_skew(exchange: &Exchange, _: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.clock_skew",
        what: "this machine's clock is off from the server's (iat in its future)",
        source: "FAPI 2.0 SP §5.3.3 Note 1; RFC 7523 §3",
    };
    let Some(server) = server_time(exchange) else {
        return RULE.unknown("the answer has no Date header to compare clocks with");
    };
    let signed = exchange
        .request
        .client_assertion
        .as_ref()
        .and_then(|a| number(a.claims.get("iat")))
        .or_else(|| {
            exchange
                .request
                .dpop
                .as_ref()
                .and_then(|p| number(p.claims.get("iat")))
        })
        .map(|t| t.floor() as i64)
        .or_else(|| sent_time(exchange));
    let Some(iat) = signed else {
        return RULE.unknown("nothing sent carries a time");
    };
    // `Date` has whole seconds and the answer took some time: allow two.
    let ahead = iat - server;
    let date = exchange
        .response()
        .and_then(|r| r.http.header("date"))
        .unwrap_or_default();
    if ahead > 2 {
        RULE.likely(format!(
                "iat {iat} is {ahead} s after the server's clock (Date: {date}); servers refuse an iat in the future. Synchronise the clock (timedatectl, NTP)"
            ))
    } else if ahead < -300 {
        RULE.likely(format!(
                "iat {iat} is {} s before the server's clock (Date: {date}): the server may take it as stale",
                -ahead
            ))
    } else {
        RULE.ruled_out(format!(
            "iat {iat} and the server's Date ({date}) agree within {} s",
            ahead.abs()
        ))
    }
}

/// E3: the key the assertion was signed with is not in the client's registered JWKS
/// (or is there under another `kid`; or the server still caches an old JWKS).
pub(super) fn unregistered_key(
    exchange: &Exchange,
    evidence: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.unregistered_key",
        what: "the signing key (kid) is not in the client's registered JWKS",
        source: "RFC 7523 §3; RFC 7517 §4.5; FAPI 2.0 SP §5.4",
    };
    let header = if refusal.error() == "invalid_request_object" {
        exchange.request.request_object.as_ref().map(|r| &r.header)
    } else {
        exchange
            .request
            .client_assertion
            .as_ref()
            .map(|a| &a.header)
    }?;
    let kid = header.get("kid").and_then(Value::as_str);
    let Some(jwks) = &evidence.registered_jwks else {
        return RULE.unknown(format!(
            "kid {}; the client's registered JWKS is not known here (give it with --client-jwks)",
            kid.map_or("(none)".to_owned(), |k| format!("{k:?}"))
        ));
    };
    let keys: Vec<&Value> = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|k| k.iter().collect())
        .unwrap_or_else(|| vec![jwks]);
    let Some(kid) = kid else {
        return if keys.len() > 1 {
            RULE.likely(format!(
                    "the assertion has no kid and the registered JWKS holds {} keys: the server cannot tell which to use",
                    keys.len()
                ))
        } else {
            RULE.unknown("the assertion has no kid; some servers require one")
        };
    };
    let registered = keys
        .iter()
        .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid));
    let Some(registered) = registered else {
        let kids: Vec<&str> = keys
            .iter()
            .filter_map(|k| k.get("kid").and_then(Value::as_str))
            .collect();
        return RULE.likely(format!(
                "kid {kid:?} is not in the registered JWKS (kids: {}); register the key, then allow for the server's JWKS cache (Malaysia: up to 15 min, UAE: 20 min)",
                if kids.is_empty() {
                    "none".to_owned()
                } else {
                    kids.join(", ")
                }
            ));
    };
    let same_key = evidence.signing_jwk.as_ref().map(|ours| {
        ["n", "e", "x", "y", "crv"]
            .iter()
            .all(|m| ours.get(m) == registered.get(m))
    });
    match same_key {
        Some(true) => RULE.ruled_out(format!(
            "kid {kid:?} is registered and its public key is the signing key's"
        )),
        Some(false) => RULE.likely(format!(
            "kid {kid:?} is registered, but for another public key than the one that signed"
        )),
        None => RULE.ruled_out(format!("kid {kid:?} is in the registered JWKS")),
    }
}

/// E4: the assertion's `jti` was used before (a replay).
pub(super) fn jti_reused(exchange: &Exchange, evidence: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.jti_reused",
        what: "the client assertion's jti was used before (a replay)",
        source: "RFC 7523 §3 item 7; FAPI 2.0 SP §5.3.2.1",
    };
    let jti = assertion_claims(exchange)?
        .get("jti")
        .and_then(Value::as_str);
    let Some(jti) = jti else {
        return RULE.likely("the assertion has no jti");
    };
    match &evidence.earlier_jtis {
        Some(earlier) if earlier.iter().any(|j| j == jti) => RULE.likely(format!(
                "jti {jti:?} was sent before (it is in this client's history): sign a fresh assertion for every request"
            )),
        Some(earlier) => RULE.ruled_out(format!(
                "jti {jti:?} was minted for this request and is not among the {} earlier ones in the history",
                earlier.len()
            )),
        None => RULE.unknown(format!(
            "jti {jti:?}: no history of earlier assertions to compare it with"
        )),
    }
}

/// The assertion had expired (or was not yet valid) by the server's clock.
pub(super) fn assertion_expired(
    exchange: &Exchange,
    evidence: &Evidence,
    _: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.assertion_expired",
        what: "the client assertion was expired when it arrived",
        source: "RFC 7523 §3 item 4",
    };
    let claims = assertion_claims(exchange)?;
    let Some(exp) = number(claims.get("exp")) else {
        return RULE.likely("the assertion has no exp");
    };
    let at = server_time(exchange).unwrap_or_else(|| now(evidence));
    if (exp as i64) < at {
        RULE.likely(format!(
            "exp {exp} is {} s before the server's time {at}",
            at - exp as i64
        ))
    } else {
        RULE.ruled_out(format!(
            "exp {exp} is {} s after the server's time {at}",
            exp as i64 - at
        ))
    }
}

/// The client authentication method is not one the server offers.
pub(super) fn auth_method_unsupported(
    exchange: &Exchange,
    evidence: &Evidence,
    _: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.auth_method_unsupported",
        what: "the client authentication method is not one the server offers",
        source: "RFC 8414 §2; FAPI 2.0 SP §5.3.2.1",
    };
    let request = &exchange.request;
    let used = if request.param("client_assertion").is_some() {
        "private_key_jwt"
    } else if request.param("client_secret").is_some() {
        "client_secret_post"
    } else if request
        .header("authorization")
        .is_some_and(|h| h.starts_with("Basic "))
    {
        "client_secret_basic"
    } else if request.transport.mtls {
        "tls_client_auth"
    } else {
        "none"
    };
    let Some(supported) = &evidence.auth_methods_supported else {
        return RULE.unknown(format!(
                "{used} was used; the server's token_endpoint_auth_methods_supported is not known (no discovery)"
            ));
    };
    let ok = supported
        .iter()
        .any(|m| m == used || (used == "tls_client_auth" && m == "self_signed_tls_client_auth"));
    RULE.judge(
        if ok { Status::RuledOut } else { Status::Likely },
        format!(
            "{used} was used; the server offers {}",
            supported.join(", ")
        ),
    )
}
