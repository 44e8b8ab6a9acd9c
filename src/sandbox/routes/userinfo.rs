//! The UserInfo endpoint (OpenID Connect Core §5.3).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Peer, peer_cert, unix_now, x5t_s256};
use crate::sandbox::demo::user;
use crate::sandbox::state::{OAuthError, Shared, TokenKind, json_response};

pub(super) async fn userinfo(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    let bearer_error = |status: StatusCode, error: &'static str, desc: String| {
        let challenge = format!(
            "Bearer error=\"{error}\", error_description=\"{}\"",
            desc.replace('"', "'")
        );
        let mut response = OAuthError::new(error, desc)
            .with_status(status)
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = match auth.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            token.trim()
        }
        _ => {
            return bearer_error(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "missing Authorization: Bearer <access_token> header (RFC 6750 §2.1)".into(),
            );
        }
    };
    let record = shared.lock().tokens.get(token).cloned();
    let Some(record) = record.filter(|r| r.kind == TokenKind::Access && r.is_active(unix_now()))
    else {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is unknown, expired or revoked".into(),
        );
    };
    if let Some(bound) = &record.cnf_x5t
        && peer_cert(&peer).map(x5t_s256).as_ref() != Some(bound)
    {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is bound to a client certificate (RFC 8705 §3) that this connection did not present".into(),
        );
    }
    let Some(u) = record.sub.as_deref().and_then(user) else {
        return bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the access token has no end user (client_credentials); userinfo needs an authorization_code token".into(),
        );
    };
    let body = json!({
        "sub": u.sub,
        "name": u.name,
        "given_name": u.given_name,
        "family_name": u.family_name,
        "preferred_username": u.preferred_username,
        "email": u.email,
        "email_verified": "true",
        "id_type": u.id_type,
        "hashed_id_number": u.hashed_id_number,
    });
    json_response(StatusCode::OK, body, Some(&record.client_id))
}
