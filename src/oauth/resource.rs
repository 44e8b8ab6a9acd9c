//! Calling an API with the token (RFC 6750 Bearer, RFC 9449 DPoP): the request is a
//! model like every other (shown raw and as curl), with `Authorization`, the DPoP proof
//! (with `ath`), the client certificate of the transport and an `x-fapi-interaction-id`;
//! a DPoP nonce request is answered once; `WWW-Authenticate` errors are explained.

use serde_json::Value;

use crate::checks::{Finding, Severity};
use crate::oauth::dpop::{DpopKey, NonceStore};
use crate::oauth::exchange::{self, Exchange, ExchangeContext};
use crate::oauth::request::{self, BuildError, RequestOptions};
use crate::oauth::transport::HttpClient;
use crate::secret::Secret;
use crate::storage::profile::Profile;

/// What to call.
#[derive(Clone, Debug)]
pub struct ResourceCall {
    /// `GET`, `POST`...
    pub method: String,
    /// The API URL.
    pub url: String,
    /// Extra headers, `Name: value`.
    pub headers: Vec<(String, String)>,
}

/// Calls the API: Bearer, or DPoP with a proof bound to the token when `dpop` is given
/// (and the token is DPoP-bound).
pub async fn call(
    client: &impl HttpClient,
    profile: &Profile,
    access_token: &Secret,
    dpop: Option<&DpopKey>,
    nonces: &NonceStore,
    what: &ResourceCall,
) -> Result<Exchange, BuildError> {
    let options = RequestOptions::default();
    let mut exchange =
        exchange::run_with_nonce_retry(client, &ExchangeContext::default(), nonces, |nonce| {
            let mut model = request::build_resource_request(
                profile,
                &what.method,
                &what.url,
                access_token,
                &options,
            )?;
            for (name, value) in &what.headers {
                model
                    .headers
                    .push(request::header(name, value.clone(), false));
            }
            if let Some(key) = dpop {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                request::use_dpop_for_resource(&mut model, key, access_token, nonce, now)?;
            }
            Ok::<_, BuildError>(model)
        })
        .await?;
    if let Some(r) = exchange.response() {
        let findings = explain_www_authenticate(r.http.header("www-authenticate"));
        exchange.findings.extend(findings);
    }
    Ok(exchange)
}

/// Explains a resource server's `WWW-Authenticate` error (RFC 6750 §3.1, RFC 9449 §7.1).
pub fn explain_www_authenticate(value: Option<&str>) -> Vec<Finding> {
    let Some(value) = value else {
        return Vec::new();
    };
    let error = value
        .split("error=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default();
    let (code, text, source) = match error {
        "invalid_token" => (
            "resource.invalid_token",
            "the token is expired, revoked, malformed or presented without the binding it carries (client certificate or DPoP proof): get a new token, or present it as it was bound",
            "RFC 6750 §3.1",
        ),
        "insufficient_scope" => (
            "resource.insufficient_scope",
            "the token is valid but does not grant this call: ask for the scope or consent permission this API needs",
            "RFC 6750 §3.1",
        ),
        "use_dpop_nonce" => (
            "resource.use_dpop_nonce",
            "the API wants a DPoP nonce: the call is sent again with the nonce from DPoP-Nonce",
            "RFC 9449 §9",
        ),
        "invalid_dpop_proof" => (
            "resource.invalid_dpop_proof",
            "the DPoP proof was refused (htm, htu, iat, jti, ath or the key): see the description",
            "RFC 9449 §7.1",
        ),
        "invalid_request" => (
            "resource.invalid_request",
            "the call is malformed (no or a wrong Authorization header)",
            "RFC 6750 §3.1",
        ),
        _ => return Vec::new(),
    };
    let description = value
        .split("error_description=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    vec![Finding::new(
        Severity::Error,
        code,
        format!("{text}{description}"),
        source,
    )]
}

/// The token and its type from a token response body.
pub fn token_of(body: &Value) -> Option<(Secret, String)> {
    let token = body.get("access_token")?.as_str()?;
    let kind = body
        .get("token_type")
        .and_then(Value::as_str)
        .unwrap_or("Bearer");
    Some((Secret::new(token), kind.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn www_authenticate_errors_are_explained() {
        let f = explain_www_authenticate(Some(
            r#"DPoP error="invalid_token", error_description="the token is bound""#,
        ));
        assert_eq!(f[0].code, "resource.invalid_token");
        assert!(f[0].message.contains("the token is bound"));
        assert!(explain_www_authenticate(Some("Bearer realm=\"x\"")).is_empty());
        assert_eq!(
            explain_www_authenticate(Some(r#"Bearer error="insufficient_scope""#))[0].code,
            "resource.insufficient_scope"
        );
    }
}
