//! The UserInfo endpoint (OpenID Connect Core §5.3).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::Peer;
use crate::sandbox::demo::user;
use crate::sandbox::state::{Shared, json_response};

pub(super) async fn userinfo(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    let record =
        match super::resource::authorize(&shared, &peer, &headers, method.as_str(), "/userinfo") {
            Ok(r) => r,
            Err(response) => return *response,
        };
    let bearer_error = |status: StatusCode, error: &'static str, desc: String| {
        super::resource::challenge("Bearer", status, error, desc, None)
    };
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
