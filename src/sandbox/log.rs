//! The request log: one [`LogEntry`] per request, with the reason for every refusal,
//! and the middleware that echoes or creates `x-fapi-interaction-id`.

#![deny(clippy::arithmetic_side_effects)]

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use super::state::Shared;

/// The header carrying the FAPI interaction id (FAPI 1 Baseline §6.2.1.11).
pub(crate) const INTERACTION_ID_HEADER: &str = "x-fapi-interaction-id";

/// One request the sandbox answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// When the answer was sent.
    pub at: time::OffsetDateTime,
    /// The HTTP method.
    pub method: String,
    /// The path (no query).
    pub path: String,
    /// The HTTP status answered.
    pub status: u16,
    /// The client, once known (authenticated or named).
    pub client_id: Option<String>,
    /// The RFC 6749 §5.2 `error` code of a refusal.
    pub error: Option<String>,
    /// Why the request was refused (the `error_description`).
    pub reason: Option<String>,
    /// The `x-fapi-interaction-id` echoed or created.
    pub interaction_id: Option<String>,
}

impl std::fmt::Display for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        write!(f, "{at} {} {} {}", self.method, self.path, self.status)?;
        if let Some(client) = &self.client_id {
            write!(f, " client={client}")?;
        }
        match (&self.error, &self.reason) {
            (Some(error), Some(reason)) => write!(f, " {error}: {reason}")?,
            (Some(error), None) => write!(f, " {error}")?,
            (None, Some(reason)) => write!(f, " {reason}")?,
            (None, None) => {}
        }
        Ok(())
    }
}

/// What a handler tells the log about its answer (a response extension).
#[derive(Clone, Debug, Default)]
pub(crate) struct LogInfo {
    pub client_id: Option<String>,
    pub error: Option<String>,
    pub reason: Option<String>,
}

/// Echoes (or creates) `x-fapi-interaction-id` and records the request.
pub(crate) async fn middleware(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let interaction_id = request
        .headers()
        .get(INTERACTION_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let sent_id = request.headers().contains_key(INTERACTION_ID_HEADER);
    let mut response = if shared.failures.require_interaction_id
        && !sent_id
        && is_back_channel(request.method(), &path)
    {
        super::state::OAuthError::new(
            "invalid_request",
            "the x-fapi-interaction-id header is required (Open Finance Brazil: a request without it is refused)",
        )
        .into_response()
    } else {
        next.run(request).await
    };
    let info = response
        .extensions_mut()
        .remove::<LogInfo>()
        .unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&interaction_id) {
        response.headers_mut().insert(INTERACTION_ID_HEADER, value);
    }
    let offset = super::state::clock_offset();
    if offset != 0 {
        // The `Date` the answer carries is the sandbox's clock, as a real server's is.
        if let Some(date) = shifted_http_date(offset)
            && let Ok(value) = HeaderValue::from_str(&date)
        {
            response
                .headers_mut()
                .insert(axum::http::header::DATE, value);
        }
    }
    shared.record(LogEntry {
        at: time::OffsetDateTime::now_utc(),
        method,
        path,
        status: response.status().as_u16(),
        client_id: info.client_id,
        error: info.error,
        reason: info.reason,
        interaction_id: Some(interaction_id),
    });
    response
}

/// A request of the back channel (the client's own, not the browser's): what Brazil
/// wants an interaction id on.
fn is_back_channel(method: &axum::http::Method, path: &str) -> bool {
    let browser = ["/authorize", "/callback", "/.well-known", "/jwks"];
    method != axum::http::Method::GET && !browser.iter().any(|p| path.starts_with(p))
        || path.starts_with("/accounts")
        || path.starts_with("/userinfo")
}

/// The HTTP date `offset` seconds from now, when there is one (years 1970 to 9999).
fn shifted_http_date(offset: i64) -> Option<String> {
    let now = std::time::SystemTime::now();
    let shift = std::time::Duration::from_secs(offset.unsigned_abs());
    let at = if offset > 0 {
        now.checked_add(shift)?
    } else {
        now.checked_sub(shift)?
    };
    // httpdate writes years up to 9999 only.
    let last =
        std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(253_402_300_799))?;
    (at >= std::time::UNIX_EPOCH && at <= last).then(|| httpdate::fmt_http_date(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_prints_its_code_and_reason() {
        let entry = LogEntry {
            at: time::macros::datetime!(2026-01-30 10:12:42 UTC),
            method: "POST".into(),
            path: "/token".into(),
            status: 401,
            client_id: Some("tpp".into()),
            error: Some("invalid_client".into()),
            reason: Some("client_assertion expired".into()),
            interaction_id: None,
        };
        assert_eq!(
            entry.to_string(),
            "2026-01-30T10:12:42Z POST /token 401 client=tpp invalid_client: client_assertion expired"
        );
    }
}
