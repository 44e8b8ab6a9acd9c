//! Pushed authorization requests (RFC 9126), with signed request objects (RFC 9101) and the
//! consent asked for in `authorization_details` (RFC 9396).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{ClientRequest, REQUEST_URI_PREFIX, finish};
use crate::sandbox::assertion::{Kind, numeric_date, verify_client_jws};
use crate::sandbox::state::{
    ConsentRequest, OAuthError, ParRecord, Params, Shared, json_response, now,
};
use crate::sandbox::{CLOCK_SKEW_SECS, MAX_ASSERTION_LIFETIME_SECS, PAR_LIFETIME_SECS};
use crate::storage::presets::MALAYSIA_ACCOUNT_ACCESS_CONSENT;

/// The authorization request parameters, from the form or a request object.
struct AuthzParams {
    response_type: Option<String>,
    response_mode: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    authorization_details: Option<Value>,
}

/// RFC 9126 §2: the authenticated client pushes its authorization request.
pub(super) async fn par(State(shared): State<Arc<Shared>>, request: ClientRequest) -> Response {
    let client_id = request.client_id();
    finish(par_request(&shared, &request.params, client_id).map_err(|e| e.for_client(client_id)))
}

fn par_request(shared: &Shared, params: &Params, client_id: &str) -> Result<Response, OAuthError> {
    if params.get("request_uri")?.is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri must not be sent to the PAR endpoint (RFC 9126 §2.1)",
        ));
    }
    let authz = match params.get("request")? {
        Some(request) => request_object_params(shared, request, client_id)?,
        None if shared.malaysia => {
            return Err(OAuthError::invalid_request(
                "this server requires a signed request object inside PAR (require_signed_request_object; RFC 9101, RFC 9126 §3): send client_id and request",
            ));
        }
        None => {
            let s = |name: &str| params.get(name).map(|v| v.map(str::to_owned));
            let authorization_details = match params.get("authorization_details")? {
                None => None,
                Some(text) => Some(serde_json::from_str::<Value>(text).map_err(|e| {
                    OAuthError::new(
                        "invalid_authorization_details",
                        format!("authorization_details is not JSON: {e} (RFC 9396 §2)"),
                    )
                })?),
            };
            AuthzParams {
                response_type: s("response_type")?,
                response_mode: s("response_mode")?,
                client_id: s("client_id")?,
                redirect_uri: s("redirect_uri")?,
                scope: s("scope")?,
                state: s("state")?,
                nonce: s("nonce")?,
                code_challenge: s("code_challenge")?,
                code_challenge_method: s("code_challenge_method")?,
                authorization_details,
            }
        }
    };
    let missing = |name: &str| OAuthError::invalid_request(format!("missing parameter: {name}"));
    let response_type = authz
        .response_type
        .ok_or_else(|| missing("response_type"))?;
    super::front_channel::check_request(
        &response_type,
        authz.response_mode.as_deref(),
        authz.nonce.as_deref(),
    )?;
    let named = authz.client_id.ok_or_else(|| missing("client_id"))?;
    if named != client_id {
        return Err(OAuthError::invalid_request(format!(
            "client_id {named:?} is not the authenticated client {client_id:?}"
        )));
    }
    let redirect_uri = authz.redirect_uri.ok_or_else(|| missing("redirect_uri"))?;
    check_redirect_uri(&redirect_uri).map_err(OAuthError::invalid_request)?;
    let registered = shared
        .lock()
        .clients
        .get(client_id)
        .map(|c| c.redirect_uris.clone())
        .unwrap_or_default();
    if !registered.is_empty() && !registered.contains(&redirect_uri) {
        return Err(OAuthError::invalid_request(format!(
            "redirect_uri {redirect_uri:?} is not registered for client {client_id} (registered: {})",
            registered.join(", ")
        )));
    }
    let scope = authz.scope.ok_or_else(|| missing("scope"))?;
    let code_challenge = authz
        .code_challenge
        .ok_or_else(|| missing("code_challenge"))?;
    match authz.code_challenge_method.as_deref() {
        None => {
            return Err(OAuthError::invalid_request(
                "missing parameter: code_challenge_method (FAPI 2.0 requires S256)",
            ));
        }
        Some("S256") => {}
        Some("plain") => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method plain is refused: FAPI 2.0 requires S256 (RFC 7636 §4.2)",
            ));
        }
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "code_challenge_method {other:?} is not supported: use S256"
            )));
        }
    }
    if code_challenge.len() != 43
        || !code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(OAuthError::invalid_request(
            "code_challenge must be BASE64URL(SHA-256(code_verifier)): 43 characters of A-Z a-z 0-9 - _ (RFC 7636 §4.2)",
        ));
    }
    let consent_request = parse_authorization_details(authz.authorization_details.as_ref())?;
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", uuid::Uuid::new_v4());
    let record = ParRecord {
        client_id: client_id.to_owned(),
        redirect_uri,
        scope,
        state: authz.state,
        nonce: authz.nonce,
        response_type,
        response_mode: authz.response_mode,
        code_challenge,
        consent_request,
        created_at: time::OffsetDateTime::now_utc(),
        expires_at: now() + PAR_LIFETIME_SECS as f64,
    };
    {
        let expires_at = record.expires_at;
        shared
            .lock()
            .pars
            .insert(request_uri.clone(), expires_at, record, now());
    }
    Ok(json_response(
        StatusCode::CREATED,
        json!({ "request_uri": request_uri, "expires_in": PAR_LIFETIME_SECS }),
        Some(client_id),
    ))
}

/// RFC 9101 request object: signed by the client, `aud` the issuer, `exp` present and
/// `exp - nbf` at most 60 minutes (FAPI 2.0 Message Signing §5.3.1).
fn request_object_params(
    shared: &Shared,
    request: &str,
    client_id: &str,
) -> Result<AuthzParams, OAuthError> {
    let err = |msg: String| OAuthError::new("invalid_request_object", msg);
    let signed = verify_client_jws(shared, request, "request object", Kind::RequestObject)?;
    if signed.client_id != client_id {
        return Err(err(format!(
            "request object iss {:?} is not the authenticated client {client_id:?}",
            signed.client_id
        )));
    }
    let claims = signed.claims;
    let issuer = &shared.issuer;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == issuer,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(err(format!(
            "request object aud must be the issuer {issuer}"
        )));
    }
    let now = now();
    let exp = claims
        .get("exp")
        .ok_or_else(|| err("request object has no exp claim".into()))
        .and_then(|v| numeric_date(v, "exp").map_err(err))?;
    if now > exp + CLOCK_SKEW_SECS {
        return Err(err(format!(
            "request object expired {:.0} s ago",
            now - exp
        )));
    }
    if shared.malaysia && claims.get("nbf").is_none() {
        return Err(err(
            "request object has no nbf claim (FAPI 2.0 Message Signing: nbf is required)".into(),
        ));
    }
    if let Some(v) = claims.get("nbf") {
        let nbf = numeric_date(v, "nbf").map_err(err)?;
        if shared.malaysia && now - nbf > MAX_ASSERTION_LIFETIME_SECS {
            return Err(err(format!(
                "request object nbf is {:.0} s old; at most 3600 s (FAPI 2.0 Message Signing)",
                now - nbf
            )));
        }
        if nbf > now + CLOCK_SKEW_SECS {
            return Err(err("request object nbf is in the future".into()));
        }
        if exp - nbf > MAX_ASSERTION_LIFETIME_SECS {
            return Err(err(format!(
                "request object lifetime exp - nbf is {:.0} s; at most 3600 s (60 min, FAPI 2.0)",
                exp - nbf
            )));
        }
    }
    let s = |name: &str| match claims.get(name) {
        Some(Value::String(v)) if !v.is_empty() => Ok(Some(v.clone())),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(err(format!("request object claim {name} is not a string"))),
    };
    let authorization_details = match claims.get("authorization_details") {
        Some(Value::String(text)) => Some(serde_json::from_str::<Value>(text).map_err(|e| {
            OAuthError::new(
                "invalid_authorization_details",
                format!("authorization_details is not JSON: {e}"),
            )
        })?),
        Some(other) => Some(other.clone()),
        None => None,
    };
    Ok(AuthzParams {
        response_type: s("response_type")?,
        response_mode: s("response_mode")?,
        client_id: s("client_id")?,
        redirect_uri: s("redirect_uri")?,
        scope: s("scope")?,
        state: s("state")?,
        nonce: s("nonce")?,
        code_challenge: s("code_challenge")?,
        code_challenge_method: s("code_challenge_method")?,
        authorization_details,
    })
}

pub(super) fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri)
        .map_err(|e| format!("redirect_uri {uri:?} is not an absolute URI: {e}"))?;
    if parsed.fragment().is_some() {
        return Err(format!(
            "redirect_uri {uri:?} has a fragment (RFC 6749 §3.1.2 forbids it)"
        ));
    }
    Ok(())
}

fn default_expiration() -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(90);
    format!(
        "{:04}-{:02}-{:02}T23:59:59Z",
        t.year(),
        u8::from(t.month()),
        t.day()
    )
}

/// Reads the account access consent asked for (RFC 9396 `authorization_details`).
pub(super) fn parse_authorization_details(
    details: Option<&Value>,
) -> Result<ConsentRequest, OAuthError> {
    let err = |msg: String| OAuthError::new("invalid_authorization_details", msg);
    let mut request = ConsentRequest {
        permissions: vec![
            json!("read_accounts"),
            json!("read_transactions"),
            json!("read_balances"),
        ],
        purpose: "pfm".into(),
        expiration_datetime: default_expiration(),
    };
    let Some(details) = details else {
        return Ok(request);
    };
    let Some(list) = details.as_array() else {
        return Err(err(
            "authorization_details must be a JSON array of objects (RFC 9396 §2)".into(),
        ));
    };
    for (i, item) in list.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            return Err(err(format!(
                "authorization_details[{i}] is not a JSON object (RFC 9396 §2)"
            )));
        };
        let Some(kind) = obj.get("type").and_then(Value::as_str) else {
            return Err(err(format!(
                "authorization_details[{i}] has no type (RFC 9396 §2 requires it)"
            )));
        };
        // Malaysia's account access consent, and the UAE's (read the same way: its
        // Permissions are the permissions asked for).
        let uae = kind.starts_with("urn:openfinanceuae:");
        if kind != MALAYSIA_ACCOUNT_ACCESS_CONSENT && !uae {
            return Err(err(format!(
                "authorization_details[{i}] type {kind:?} is unknown; this sandbox supports {MALAYSIA_ACCOUNT_ACCESS_CONSENT} and the UAE's urn:openfinanceuae: consents"
            )));
        }
        let source: &Map<String, Value> =
            obj.get("consent").and_then(Value::as_object).unwrap_or(obj);
        if let Some(perms) = source
            .get("permissions")
            .or_else(|| source.get("Permissions"))
        {
            let ok = perms
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
            if !ok {
                return Err(err(format!(
                    "authorization_details[{i}] permissions must be a non-empty array of strings"
                )));
            }
            request.permissions = perms.as_array().cloned().unwrap_or_default();
        }
        if let Some(p) = source
            .get("consent_purpose")
            .or_else(|| source.get("purpose"))
            .and_then(Value::as_str)
        {
            request.purpose = p.to_owned();
        }
        if let Some(e) = source.get("expiration_datetime") {
            let text = e.as_str().unwrap_or_default();
            if time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .is_err()
            {
                return Err(err(format!(
                    "authorization_details[{i}] expiration_datetime {e} is not an RFC 3339 date-time"
                )));
            }
            request.expiration_datetime = text.to_owned();
        }
    }
    Ok(request)
}
