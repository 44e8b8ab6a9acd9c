//! Headers and DPoP: the interaction id, the nonce, a proof that does not describe the
//! request (E17, RFC 9449).

use serde_json::Value;

use crate::diagnosis::cause::Rule;
use crate::diagnosis::{Cause, Evidence, Refusal};
use crate::oauth::exchange::Exchange;

/// E17: no `x-fapi-interaction-id` was sent.
pub(super) fn interaction_id_missing(
    exchange: &Exchange,
    _: &Evidence,
    _: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.interaction_id_missing",
        what: "no x-fapi-interaction-id was sent (Brazil refuses such requests)",
        source: "FAPI 1 Baseline §6.2.2-4; Open Finance Brazil FAPI item 23",
    };
    match exchange.request.header("x-fapi-interaction-id") {
        Some(id) => RULE.ruled_out(format!("x-fapi-interaction-id {id} was sent")),
        None => RULE.likely("the request carried no x-fapi-interaction-id"),
    }
}

/// The server wants a DPoP nonce (or the one sent is stale).
pub(super) fn dpop_nonce_required(exchange: &Exchange, _: &Evidence, _: &Refusal) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.dpop_nonce",
        what: "the server wants a (fresh) DPoP nonce",
        source: "RFC 9449 §8, §9",
    };
    let response = exchange.response()?;
    let offered = response.http.header("dpop-nonce");
    let Some(proof) = &exchange.request.dpop else {
        return RULE.unknown("no DPoP proof was sent");
    };
    let sent = proof.claims.get("nonce").and_then(Value::as_str);
    match (sent, offered) {
        (None, Some(n)) => RULE.likely(format!(
            "the proof carried no nonce; the server offers DPoP-Nonce {n}"
        )),
        (Some(s), Some(n)) if s != n => RULE.likely(format!(
            "the proof carried nonce {s}; the server now offers {n} (it rotated)"
        )),
        (None, None) => RULE.unknown("the proof carried no nonce and the server offered none"),
        (Some(s), _) => RULE.ruled_out(format!("the proof carried the server's nonce {s}")),
    }
}

/// The DPoP proof does not describe this request (`htm`, `htu`, `ath`).
pub(super) fn dpop_proof_mismatch(
    exchange: &Exchange,
    _: &Evidence,
    refusal: &Refusal,
) -> Option<Cause> {
    const RULE: Rule = Rule {
        code: "diagnosis.dpop_proof_mismatch",
        what: "the DPoP proof does not match this request (htm, htu, ath)",
        source: "RFC 9449 §4.3",
    };
    let request = &exchange.request;
    let Some(proof) = &request.dpop else {
        return if refusal.error() == "invalid_dpop_proof"
            || request
                .header("authorization")
                .is_some_and(|h| h.starts_with("DPoP "))
        {
            RULE.likely("no DPoP proof was sent")
        } else {
            None
        };
    };
    let mut wrong = Vec::new();
    let htm = proof.claims.get("htm").and_then(Value::as_str);
    if htm != Some(request.method.as_str()) {
        wrong.push(format!("htm {htm:?} is not the method {}", request.method));
    }
    let htu = proof.claims.get("htu").and_then(Value::as_str);
    let expected = crate::oauth::dpop::htu(&request.url);
    if htu != Some(expected.as_str()) {
        wrong.push(format!("htu {htu:?} is not {expected:?}"));
    }
    if let Some(token) = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("DPoP "))
    {
        let ath = proof.claims.get("ath").and_then(Value::as_str);
        let want = crate::jose::hash::ath(token);
        if ath != Some(want.as_str()) {
            wrong.push(format!(
                "ath {ath:?} is not the hash of the token sent ({want})"
            ));
        }
    }
    if wrong.is_empty() {
        RULE.ruled_out(format!(
            "htm {}, htu {expected}{} match the request",
            request.method,
            if request.kind == crate::oauth::request::RequestKind::Resource {
                " and ath"
            } else {
                ""
            }
        ))
    } else {
        RULE.likely(wrong.join("; "))
    }
}
