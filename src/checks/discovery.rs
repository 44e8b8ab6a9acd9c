//! A discovery document linted against what the client's ecosystem needs (FAPI 2.0
//! Security Profile, FAPI 1 Advanced, and the preset's own choices): PAR, signing
//! algorithms, response types, the `iss` parameter, mTLS aliases, client
//! authentication, PKCE, the consent type, DPoP. Each gap is a finding with its rule.

use serde_json::{Map, Value};

use crate::checks::{Finding, Severity};

/// What the client will do with this server, as far as the lint needs to know.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// FAPI 2.0 (PAR required, no RS256); FAPI 1 Advanced otherwise.
    pub fapi2: bool,
    /// The client presents a certificate (RFC 8705).
    pub mtls: bool,
    /// The client sender-constrains with DPoP (RFC 9449).
    pub dpop: bool,
    /// The client authentication method it will use.
    pub auth_method: Option<String>,
    /// The `authorization_details` type it will send (RFC 9396).
    pub consent_type: Option<String>,
    /// The `response_type` it will ask for (`code`, `code id_token`).
    pub response_type: Option<String>,
    /// The `response_mode` it will ask for, if any (`jwt`, `fragment.jwt`, `form_post`…).
    pub response_mode: Option<String>,
    /// Where the expectations come from ("the Open Finance Malaysia preset"), for the
    /// messages.
    pub source: String,
}

/// The algorithms FAPI 2.0 SP §5.4.1 allows for signatures.
const FAPI2_ALGS: &[&str] = &["PS256", "ES256", "EdDSA", "Ed25519"];
/// FAPI 1 Advanced §8.6 adds nothing weaker: PS256 and ES256.
const FAPI1_ALGS: &[&str] = &["PS256", "ES256"];

fn strings<'a>(document: &'a Map<String, Value>, member: &str) -> Option<Vec<&'a str>> {
    Some(
        document
            .get(member)?
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect(),
    )
}

/// The findings of a discovery document against `expect`.
pub fn lint(document: &Map<String, Value>, expect: &Expectations) -> Vec<Finding> {
    let mut out = Vec::new();
    let who = if expect.source.is_empty() {
        "this client"
    } else {
        expect.source.as_str()
    };
    par(document, expect, who, &mut out);
    algorithms(document, expect, &mut out);
    response_types(document, expect, &mut out);
    response_mode(document, expect, &mut out);
    if document
        .get("authorization_response_iss_parameter_supported")
        .and_then(Value::as_bool)
        != Some(true)
    {
        out.push(Finding::new(
            Severity::Warning,
            "discovery.no_iss_parameter",
            "authorization_response_iss_parameter_supported is not true: the redirect will not carry iss, so a mix-up attack cannot be told from the redirect alone",
            "RFC 9207 §3; FAPI 2.0 SP §5.3.2.2",
        ));
    }
    if expect.mtls && document.get("mtls_endpoint_aliases").is_none() {
        out.push(Finding::new(
            Severity::Info,
            "discovery.no_mtls_aliases",
            "the client presents a certificate, but the document has no mtls_endpoint_aliases: the plain endpoints must ask for the certificate themselves",
            "RFC 8705 §5",
        ));
    }
    lists(document, expect, who, &mut out);
    out
}

fn par(document: &Map<String, Value>, expect: &Expectations, who: &str, out: &mut Vec<Finding>) {
    if document
        .get("pushed_authorization_request_endpoint")
        .and_then(Value::as_str)
        .is_none()
    {
        out.push(Finding::new(
            if expect.fapi2 {
                Severity::Error
            } else {
                Severity::Warning
            },
            "discovery.no_par",
            format!(
                "no pushed_authorization_request_endpoint: {who} pushes its authorization requests (PAR)"
            ),
            "FAPI 2.0 SP §5.3.2.2; RFC 9126 §5",
        ));
    } else if expect.fapi2
        && document
            .get("require_pushed_authorization_requests")
            .and_then(Value::as_bool)
            != Some(true)
    {
        out.push(Finding::new(
            Severity::Warning,
            "discovery.par_not_required",
            "require_pushed_authorization_requests is not true: FAPI 2.0 servers accept authorization requests only through PAR",
            "FAPI 2.0 SP §5.3.2.2; RFC 9126 §5",
        ));
    }
}

fn algorithms(document: &Map<String, Value>, expect: &Expectations, out: &mut Vec<Finding>) {
    let allowed = if expect.fapi2 { FAPI2_ALGS } else { FAPI1_ALGS };
    let rule = if expect.fapi2 {
        "FAPI 2.0 SP §5.4.1"
    } else {
        "FAPI 1 Advanced §8.6"
    };
    for member in [
        "id_token_signing_alg_values_supported",
        "request_object_signing_alg_values_supported",
        "token_endpoint_auth_signing_alg_values_supported",
    ] {
        let Some(algs) = strings(document, member) else {
            continue;
        };
        let weak: Vec<&str> = algs
            .iter()
            .copied()
            .filter(|a| !allowed.contains(a))
            .collect();
        if weak.contains(&"none") {
            out.push(Finding::new(
                Severity::Error,
                "discovery.alg_none",
                format!("{member} lists none: unsigned tokens would be accepted"),
                "RFC 8725 §3.1",
            ));
        }
        if !weak.is_empty() {
            out.push(Finding::new(
                Severity::Warning,
                "discovery.weak_algs",
                format!(
                    "{member} lists {} besides the allowed {}",
                    weak.join(", "),
                    allowed.join(", ")
                ),
                rule,
            ));
        }
        if !algs.iter().any(|a| allowed.contains(a)) {
            out.push(Finding::new(
                Severity::Error,
                "discovery.no_fapi_alg",
                format!("{member} lists none of {}", allowed.join(", ")),
                rule,
            ));
        }
    }
}

fn response_types(document: &Map<String, Value>, expect: &Expectations, out: &mut Vec<Finding>) {
    let Some(types) = strings(document, "response_types_supported") else {
        return;
    };
    let wanted = if expect.fapi2 {
        "code"
    } else {
        "code id_token"
    };
    if !types.contains(&wanted) && !types.contains(&"code") {
        out.push(Finding::new(
            Severity::Error,
            "discovery.response_type",
            format!(
                "response_types_supported ({}) has no {wanted:?}",
                types.join(", ")
            ),
            if expect.fapi2 {
                "FAPI 2.0 SP §5.3.2.2"
            } else {
                "FAPI 1 Advanced §5.2.2"
            },
        ));
        return;
    }
    // The profile's own response type (the hybrid flow's `code id_token` at a server
    // that lists only `code`), once the ecosystem's check above has nothing to say.
    if let Some(own) = expect.response_type.as_deref()
        && !types.contains(&own)
    {
        out.push(Finding::new(
            Severity::Error,
            "discovery.profile_response_type",
            format!(
                "response_types_supported ({}) does not list {own:?}, the profile's response_type: the authorization request will be refused (unsupported_response_type)",
                types.join(", ")
            ),
            "RFC 8414 §2; RFC 6749 §4.1.2.1",
        ));
    }
}

/// The profile's response mode against `response_modes_supported`, whose default when
/// absent is `["query", "fragment"]` (RFC 8414 §2).
fn response_mode(document: &Map<String, Value>, expect: &Expectations, out: &mut Vec<Finding>) {
    let Some(mode) = expect.response_mode.as_deref() else {
        return;
    };
    match strings(document, "response_modes_supported") {
        Some(modes) if !modes.contains(&mode) => out.push(Finding::new(
            Severity::Error,
            "discovery.response_mode",
            format!(
                "response_modes_supported ({}) does not list {mode:?}, the profile's response_mode",
                modes.join(", ")
            ),
            "RFC 8414 §2; JARM §3",
        )),
        None if !matches!(mode, "query" | "fragment") => out.push(Finding::new(
            Severity::Warning,
            "discovery.response_mode",
            format!(
                "the document has no response_modes_supported, which then means only query and fragment: it does not say whether {mode:?}, the profile's response_mode, is taken"
            ),
            "RFC 8414 §2; JARM §3",
        )),
        _ => {}
    }
}

/// The members that must list what this client will use.
fn lists(document: &Map<String, Value>, expect: &Expectations, who: &str, out: &mut Vec<Finding>) {
    let mut wants = vec![(
        "code_challenge_methods_supported",
        Some("S256".to_owned()),
        Severity::Error,
        "discovery.no_s256",
        "FAPI 2.0 SP §5.3.2.2; RFC 7636 §4.2",
    )];
    wants.push((
        "token_endpoint_auth_methods_supported",
        expect.auth_method.clone(),
        Severity::Error,
        "discovery.auth_method",
        "RFC 8414 §2; FAPI 2.0 SP §5.3.2.1",
    ));
    wants.push((
        "authorization_details_types_supported",
        expect.consent_type.clone(),
        Severity::Error,
        "discovery.consent_type",
        "RFC 9396 §10",
    ));
    if expect.dpop {
        wants.push((
            "dpop_signing_alg_values_supported",
            None,
            Severity::Error,
            "discovery.no_dpop",
            "RFC 9449 §5.1",
        ));
    }
    for (member, value, severity, code, source) in wants {
        match (strings(document, member), value) {
            (None, Some(value)) => out.push(Finding::new(
                Severity::Warning,
                code,
                format!("the document has no {member}: it does not say whether {value:?}, which {who} uses, is taken"),
                source,
            )),
            (None, None) => out.push(Finding::new(
                severity,
                code,
                format!("the document has no {member}, which {who} needs"),
                source,
            )),
            (Some(list), Some(value)) if !list.contains(&value.as_str()) => {
                out.push(Finding::new(
                    severity,
                    code,
                    format!(
                        "{member} ({}) does not list {value:?}, which {who} uses",
                        list.join(", ")
                    ),
                    source,
                ))
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fapi2() -> Expectations {
        Expectations {
            fapi2: true,
            mtls: true,
            dpop: true,
            auth_method: Some("private_key_jwt".into()),
            consent_type: Some("urn:openfinance-ml:account-access-consent:v1.2".into()),
            response_type: Some("code".into()),
            response_mode: None,
            source: "the test preset".into(),
        }
    }

    fn codes(document: Value, expect: &Expectations) -> Vec<&'static str> {
        lint(document.as_object().unwrap(), expect)
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn a_fapi2_document_is_clean() {
        let good = json!({
            "pushed_authorization_request_endpoint": "https://as.example/par",
            "require_pushed_authorization_requests": true,
            "id_token_signing_alg_values_supported": ["PS256", "ES256"],
            "response_types_supported": ["code"],
            "authorization_response_iss_parameter_supported": true,
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.as.example/token"},
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "tls_client_auth"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_details_types_supported": ["urn:openfinance-ml:account-access-consent:v1.2"],
            "dpop_signing_alg_values_supported": ["ES256"],
        });
        assert_eq!(codes(good, &fapi2()), Vec::<&str>::new());
    }

    #[test]
    fn each_gap_is_named() {
        let bad = json!({
            "id_token_signing_alg_values_supported": ["RS256", "none"],
            "response_types_supported": ["token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["plain"],
            "authorization_details_types_supported": ["other"],
        });
        let found = codes(bad, &fapi2());
        for code in [
            "discovery.no_par",
            "discovery.alg_none",
            "discovery.weak_algs",
            "discovery.no_fapi_alg",
            "discovery.response_type",
            "discovery.no_iss_parameter",
            "discovery.no_mtls_aliases",
            "discovery.no_s256",
            "discovery.auth_method",
            "discovery.consent_type",
            "discovery.no_dpop",
        ] {
            assert!(found.contains(&code), "{code}: {found:?}");
        }
        // PAR advertised but not required.
        let optional = json!({"pushed_authorization_request_endpoint": "https://as.example/par"});
        assert!(codes(optional, &fapi2()).contains(&"discovery.par_not_required"));
    }

    /// The profile's own response type and mode: the hybrid flow and JARM at a server that
    /// lists only `code` and the default modes.
    #[test]
    fn the_profiles_response_type_and_mode_are_checked() {
        let document = |types: Value, modes: Option<Value>| {
            let mut d = json!({"response_types_supported": types});
            if let Some(m) = modes {
                d["response_modes_supported"] = m;
            }
            d
        };
        let hybrid_jarm = Expectations {
            response_type: Some("code id_token".into()),
            response_mode: Some("fragment.jwt".into()),
            ..fapi2()
        };
        let found = codes(document(json!(["code"]), None), &hybrid_jarm);
        assert!(
            found.contains(&"discovery.profile_response_type"),
            "{found:?}"
        );
        assert!(found.contains(&"discovery.response_mode"), "{found:?}");
        let refused = lint(
            document(json!(["code"]), Some(json!(["query", "fragment"])))
                .as_object()
                .unwrap(),
            &hybrid_jarm,
        );
        let mode = refused
            .iter()
            .find(|f| f.code == "discovery.response_mode")
            .unwrap();
        assert_eq!(mode.severity, Severity::Error, "{mode:?}");
        // Listed: nothing to say; the default modes need no list.
        let listed = codes(
            document(
                json!(["code", "code id_token"]),
                Some(json!(["fragment.jwt"])),
            ),
            &hybrid_jarm,
        );
        assert!(!listed.iter().any(|c| c.contains("response")), "{listed:?}");
        let query = Expectations {
            response_mode: Some("query".into()),
            ..fapi2()
        };
        let plain = codes(document(json!(["code"]), None), &query);
        assert!(!plain.iter().any(|c| c.contains("response")), "{plain:?}");
    }
}
