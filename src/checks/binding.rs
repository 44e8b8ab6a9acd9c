//! Sender-constrained tokens: is the token really bound to this client? For mTLS
//! (RFC 8705 §3) the `cnf.x5t#S256` of a JWT access token or of an introspection answer
//! must be the thumbprint of the certificate the client presented; a token bound to an
//! older certificate is refused by the resource server (E6). Under FAPI 2.0 a token with
//! no binding evidence at all is a finding (F9).

use serde_json::Value;

use super::{Finding, Severity};

/// What the client used to bind the token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Binding {
    /// The `x5t#S256` of the client certificate sent (mTLS).
    pub certificate_x5t: Option<String>,
    /// The FAPI 2.0 profile is in force (sender-constrained tokens required).
    pub fapi2: bool,
    /// The thumbprint of the DPoP key the proofs were signed with (RFC 9449 §6.1).
    pub dpop_jkt: Option<String>,
}

/// Checks the `cnf` of a token's claims (JWT access token) or of an introspection answer
/// against what the client presented. `where_` names the source for the messages.
pub fn check_cnf(cnf_holder: &Value, binding: &Binding, where_: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let x5t = cnf_holder
        .get("cnf")
        .and_then(|c| c.get("x5t#S256"))
        .and_then(Value::as_str);
    match (x5t, binding.certificate_x5t.as_deref()) {
        (Some(bound), Some(sent)) if bound == sent => out.push(Finding::new(
            Severity::Info,
            "binding.x5t_match",
            format!(
                "{where_}: the token is bound to the client certificate sent (cnf.x5t#S256 {bound})"
            ),
            "RFC 8705 §3",
        )),
        (Some(bound), Some(sent)) => out.push(Finding::new(
            Severity::Error,
            "binding.x5t_mismatch",
            format!(
                "{where_}: the token is bound to another certificate (cnf.x5t#S256 {bound}, this client's is {sent}); a resource server refuses it. Was the transport certificate rotated after the token was issued?"
            ),
            "RFC 8705 §3, §6.3",
        )),
        (Some(bound), None) => out.push(Finding::new(
            Severity::Warning,
            "binding.x5t_without_certificate",
            format!(
                "{where_}: the token is bound to a certificate (cnf.x5t#S256 {bound}) but this profile sends none; calls with it will be refused"
            ),
            "RFC 8705 §3",
        )),
        (None, _) => {}
    }
    let jkt = cnf_holder
        .get("cnf")
        .and_then(|c| c.get("jkt"))
        .and_then(Value::as_str);
    match (jkt, binding.dpop_jkt.as_deref()) {
        (Some(bound), Some(ours)) if bound == ours => out.push(Finding::new(
            Severity::Info,
            "binding.jkt_match",
            format!("{where_}: the token is bound to this client's DPoP key (cnf.jkt {bound})"),
            "RFC 9449 §6",
        )),
        (Some(bound), Some(ours)) => out.push(Finding::new(
            Severity::Error,
            "binding.jkt_mismatch",
            format!(
                "{where_}: the token is bound to another DPoP key (cnf.jkt {bound}, ours is {ours}); proofs with our key will be refused"
            ),
            "RFC 9449 §6",
        )),
        (Some(bound), None) => out.push(Finding::new(
            Severity::Warning,
            "binding.jkt_without_dpop",
            format!(
                "{where_}: the token is bound to a DPoP key (cnf.jkt {bound}) but this client sent no proof; calls need the DPoP scheme and a proof"
            ),
            "RFC 9449 §6",
        )),
        (None, _) => {}
    }
    out
}

/// The F9 check on a token response: a `Bearer` token under FAPI 2.0 needs binding
/// evidence (mTLS certificate sent, or `cnf` in a JWT access token).
pub fn check_token_binding(
    token_type: Option<&str>,
    access_token_claims: Option<&Value>,
    binding: &Binding,
) -> Vec<Finding> {
    let has_cnf = access_token_claims.is_some_and(|c| c.get("cnf").is_some());
    let dpop = token_type.is_some_and(|t| t.eq_ignore_ascii_case("DPoP"));
    if binding.dpop_jkt.is_some() && !dpop {
        return vec![Finding::new(
            Severity::Error,
            "binding.dpop_not_bound",
            format!(
                "a DPoP proof was sent but the token_type is {:?}, not \"DPoP\": the server ignored the proof and issued an unbound token",
                token_type.unwrap_or("missing")
            ),
            "RFC 9449 §5",
        )];
    }
    if binding.fapi2 && !dpop && !has_cnf && binding.certificate_x5t.is_none() {
        return vec![Finding::new(
            Severity::Warning,
            "binding.unbound_bearer",
            "a Bearer token with no binding evidence (no client certificate sent, no cnf): FAPI 2.0 requires sender-constrained tokens (mTLS or DPoP)",
            "FAPI 2.0 SP §5.3.2.1 (F9)",
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cnf_is_compared_both_ways() {
        let sent = Binding {
            certificate_x5t: Some("abc".into()),
            fapi2: true,
            dpop_jkt: Some("k1".into()),
        };
        let codes = |v: Value, b: &Binding| -> Vec<&'static str> {
            check_cnf(&v, b, "introspection")
                .into_iter()
                .map(|f| f.code)
                .collect()
        };
        assert_eq!(
            codes(json!({"cnf": {"x5t#S256": "abc"}}), &sent),
            ["binding.x5t_match"]
        );
        assert_eq!(
            codes(json!({"cnf": {"x5t#S256": "old"}}), &sent),
            ["binding.x5t_mismatch"]
        );
        assert_eq!(
            codes(json!({"cnf": {"x5t#S256": "abc"}}), &Binding::default()),
            ["binding.x5t_without_certificate"]
        );
        assert!(codes(json!({"active": true}), &sent).is_empty());
        assert_eq!(
            codes(json!({"cnf": {"jkt": "k1"}}), &sent),
            ["binding.jkt_match"]
        );
        assert_eq!(
            codes(json!({"cnf": {"jkt": "k2"}}), &sent),
            ["binding.jkt_mismatch"]
        );
    }

    #[test]
    fn an_unbound_bearer_under_fapi2_is_a_finding() {
        let fapi2 = Binding {
            certificate_x5t: None,
            fapi2: true,
            dpop_jkt: None,
        };
        assert_eq!(check_token_binding(Some("Bearer"), None, &fapi2).len(), 1);
        assert!(check_token_binding(Some("DPoP"), None, &fapi2).is_empty());
        assert!(
            check_token_binding(Some("Bearer"), Some(&json!({"cnf": {"jkt": "x"}})), &fapi2)
                .is_empty()
        );
        assert!(check_token_binding(Some("Bearer"), None, &Binding::default()).is_empty());
        let dpop = Binding {
            dpop_jkt: Some("k".into()),
            ..Binding::default()
        };
        assert_eq!(
            check_token_binding(Some("Bearer"), None, &dpop)[0].code,
            "binding.dpop_not_bound"
        );
    }
}
