//! The authorization response a user pastes: the whole redirect URL (or its query, or a
//! bare code). Takes out `code`, `state`, `iss` and errors (RFC 6749 §4.1.2, §4.1.2.1),
//! and checks `state` and `iss` (RFC 9207 §2.4) against what was expected.

use serde::Serialize;

use crate::checks::{Finding, Severity};

/// The parameters of an authorization response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuthorizationResponse {
    /// `code`.
    pub code: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `iss` (RFC 9207).
    pub iss: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// The URL up to the query, when a URL was pasted (to compare with redirect_uri).
    pub redirect_base: Option<String>,
    /// Every parameter, in order.
    pub params: Vec<(String, String)>,
}

/// The pasted text could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// Nothing pasted.
    #[error("nothing to read: paste the code or the whole redirect URL")]
    Empty,
    /// Neither a code nor a URL with parameters.
    #[error("{0}")]
    Unreadable(String),
}

/// Reads a pasted redirect URL, query string, fragment, or bare code.
pub fn parse_authorization_response(input: &str) -> Result<AuthorizationResponse, RedirectError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(RedirectError::Empty);
    }
    let (base, query) = if text.contains("://") {
        let url = url::Url::parse(text)
            .map_err(|e| RedirectError::Unreadable(format!("the pasted URL is not valid: {e}")))?;
        // Hybrid and implicit flows answer in the fragment; the code flow in the query.
        let query = match (url.query(), url.fragment()) {
            (Some(q), _) if !q.is_empty() => q.to_owned(),
            (_, Some(f)) if f.contains('=') => f.to_owned(),
            _ => {
                return Err(RedirectError::Unreadable(
                    "the pasted URL has no query parameters: copy the whole address from the browser after the bank redirects".into(),
                ));
            }
        };
        let mut base = url.clone();
        base.set_query(None);
        base.set_fragment(None);
        (Some(base.to_string()), query)
    } else if let Some(q) = text.strip_prefix('?').or_else(|| text.strip_prefix('#')) {
        (None, q.to_owned())
    } else if text.contains('=') && (text.contains("code=") || text.contains("error=")) {
        (None, text.to_owned())
    } else if text.chars().any(char::is_whitespace) {
        return Err(RedirectError::Unreadable(
            "the pasted text has spaces; a code has none: paste the code or the whole redirect URL"
                .into(),
        ));
    } else {
        return Ok(AuthorizationResponse {
            code: Some(text.to_owned()),
            params: vec![("code".into(), text.to_owned())],
            ..Default::default()
        });
    };
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let response = AuthorizationResponse::from_params(params, base);
    if response.code.is_none() && response.error.is_none() && response.param("response").is_none() {
        return Err(RedirectError::Unreadable(
            "the pasted URL has neither a code, an error nor a JARM response parameter".into(),
        ));
    }
    Ok(response)
}

impl AuthorizationResponse {
    /// A response from its parameters (a query, a fragment, a form, a JARM JWT's claims).
    pub fn from_params(params: Vec<(String, String)>, redirect_base: Option<String>) -> Self {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Self {
            code: get("code"),
            state: get("state"),
            iss: get("iss"),
            error: get("error"),
            error_description: get("error_description"),
            redirect_base,
            params,
        }
    }

    /// A parameter's value (`id_token`, `response`…).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The findings that stop a code from being redeemed: a `state` that is not the one sent
/// (or none), an `iss` that is not the issuer's (RFC 6749 §10.12, RFC 9207 §2.4). Such a
/// code was forged or belongs to another request; sending it would spend the client's
/// verifier and assertion on it.
pub const REDEMPTION_BLOCKERS: &[&str] = &[
    "redirect.state_mismatch",
    "redirect.state_missing",
    "redirect.iss_mismatch",
];

/// The findings among `findings` that stop a code from being redeemed (the front
/// channel's too: an id_token or JARM response that fails).
pub fn redemption_blockers(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| {
            REDEMPTION_BLOCKERS.contains(&f.code)
                || crate::oauth::front_channel::REDEMPTION_BLOCKERS.contains(&f.code)
        })
        .collect()
}

/// Checks a parsed response against what the client sent and expects.
pub fn check_authorization_response(
    response: &AuthorizationResponse,
    expected_state: Option<&str>,
    expected_issuer: Option<&str>,
    redirect_uri: Option<&str>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(error) = &response.error {
        findings.push(Finding::new(
            Severity::Error,
            "redirect.error",
            format!(
                "the authorization server answered error={error}{}",
                response
                    .error_description
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
            "RFC 6749 §4.1.2.1",
        ));
    }
    if let Some(expected) = expected_state.filter(|s| !s.is_empty()) {
        match response.state.as_deref() {
            Some(state) if state == expected => {}
            Some(state) => findings.push(Finding::new(
                Severity::Error,
                "redirect.state_mismatch",
                format!("state {state:?} is not the one sent ({expected:?}): this response belongs to another request, or was forged (CSRF)"),
                "RFC 6749 §10.12",
            )),
            // A signed answer names its issuer itself (the hybrid flow's id_token, a JARM
            // response): that iss is what is checked (OIDC Core §3.3.2.12, JARM §4.4).
            None if response.param("id_token").is_some() || response.param("response").is_some() => {}
            None if response.params.len() > 1 => findings.push(Finding::new(
                Severity::Error,
                "redirect.state_missing",
                "the redirect has no state, but one was sent",
                "RFC 6749 §4.1.2",
            )),
            None => {}
        }
    }
    if let Some(expected) = expected_issuer.filter(|s| !s.is_empty()) {
        match response.iss.as_deref() {
            Some(iss) if iss == expected => {}
            Some(iss) => findings.push(Finding::new(
                Severity::Error,
                "redirect.iss_mismatch",
                format!("iss {iss:?} is not the expected issuer {expected:?}: do not redeem this code (mix-up attack)"),
                "RFC 9207 §2.4",
            )),
            // A signed answer names its issuer itself (the hybrid flow's id_token, a JARM
            // response): that iss is what is checked (OIDC Core §3.3.2.12, JARM §4.4).
            None if response.param("id_token").is_some() || response.param("response").is_some() => {}
            None if response.params.len() > 1 => findings.push(Finding::new(
                Severity::Warning,
                "redirect.iss_missing",
                "the redirect carries no iss; FAPI 2.0 servers send it so the client can detect mix-up attacks",
                "RFC 9207 §2; FAPI 2.0 SP §5.3.2.2",
            )),
            None => {}
        }
    }
    if let (Some(base), Some(uri)) = (response.redirect_base.as_deref(), redirect_uri)
        && !uri.is_empty()
        && base.trim_end_matches('/') != uri.trim_end_matches('/')
    {
        findings.push(Finding::new(
            Severity::Warning,
            "redirect.uri_mismatch",
            format!("the pasted URL starts with {base:?} but the profile's redirect_uri is {uri:?}; the token request must send the redirect_uri used at the authorization endpoint"),
            "RFC 6749 §4.1.3",
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://www.auth-app.ozoneapi.co.uk/redirect-url?code=160ed384-bb0d-439e-85e8-68d2b681e45d&state=d0ba6086-ca86-43f9-9ec3-92326bceb490&iss=https%3A%2F%2Fauth1.sandbox.mya.ozoneapi.io";

    #[test]
    fn reads_a_whole_redirect_url() {
        let r = parse_authorization_response(URL).unwrap();
        assert_eq!(
            r.code.as_deref(),
            Some("160ed384-bb0d-439e-85e8-68d2b681e45d")
        );
        assert_eq!(
            r.state.as_deref(),
            Some("d0ba6086-ca86-43f9-9ec3-92326bceb490")
        );
        assert_eq!(
            r.iss.as_deref(),
            Some("https://auth1.sandbox.mya.ozoneapi.io")
        );
        assert_eq!(
            r.redirect_base.as_deref(),
            Some("https://www.auth-app.ozoneapi.co.uk/redirect-url")
        );
        let f = check_authorization_response(
            &r,
            Some("d0ba6086-ca86-43f9-9ec3-92326bceb490"),
            Some("https://auth1.sandbox.mya.ozoneapi.io"),
            Some("https://www.auth-app.ozoneapi.co.uk/redirect-url"),
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn flags_wrong_state_and_iss() {
        let r = parse_authorization_response(URL).unwrap();
        let f = check_authorization_response(&r, Some("other"), Some("https://evil"), None);
        let codes: Vec<&str> = f.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["redirect.state_mismatch", "redirect.iss_mismatch"]);
    }

    #[test]
    fn bare_code_query_and_fragment() {
        let r = parse_authorization_response("  160ed384-bb0d  ").unwrap();
        assert_eq!(r.code.as_deref(), Some("160ed384-bb0d"));
        assert!(check_authorization_response(&r, Some("s"), Some("i"), None).is_empty());
        let r = parse_authorization_response("?code=a&state=b").unwrap();
        assert_eq!(r.state.as_deref(), Some("b"));
        let r = parse_authorization_response("https://app/cb#code=x&state=y").unwrap();
        assert_eq!(r.code.as_deref(), Some("x"));
    }

    #[test]
    fn error_redirects_and_garbage() {
        let r = parse_authorization_response(
            "https://app/cb?error=access_denied&error_description=user+said+no&state=s",
        )
        .unwrap();
        assert_eq!(r.error.as_deref(), Some("access_denied"));
        let f = check_authorization_response(&r, Some("s"), None, None);
        assert_eq!(f[0].code, "redirect.error");
        assert!(f[0].message.contains("user said no"));
        assert_eq!(parse_authorization_response(" "), Err(RedirectError::Empty));
        assert!(parse_authorization_response("https://app/cb").is_err());
        assert!(parse_authorization_response("two words").is_err());
        assert!(parse_authorization_response("https://app/cb?foo=1").is_err());
    }
}
