//! Token revocation (RFC 7009) and introspection (RFC 7662, with `cnf.x5t#S256`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{ClientRequest, finish, unix_now};
use crate::sandbox::demo::user;
use crate::sandbox::log::LogInfo;
use crate::sandbox::state::{OAuthError, Shared, TokenKind, json_response};

/// RFC 7009 §2: revokes a token of the calling client; revoking a refresh token also
/// revokes the access tokens of the same grant. Unknown tokens answer 200 (§2.2).
pub(super) async fn revoke(State(shared): State<Arc<Shared>>, request: ClientRequest) -> Response {
    finish(revoke_token(&shared, &request))
}

fn revoke_token(shared: &Shared, request: &ClientRequest) -> Result<Response, OAuthError> {
    let client_id = request.client_id();
    let params = &request.params;
    let token = params
        .require("token")
        .map_err(|e| e.for_client(client_id))?;
    let mut inner = shared.lock();
    if let Some(record) = inner.tokens.get(token).cloned() {
        if record.client_id != client_id {
            return Err(OAuthError::new(
                "unauthorized_client",
                "the token was issued to another client (RFC 7009 §2.1)",
            )
            .for_client(client_id));
        }
        if let Some(t) = inner.tokens.get_mut(token) {
            t.active = false;
        }
        if record.kind == TokenKind::Refresh
            && let Some(grant) = &record.grant_id
        {
            for t in inner.tokens.values_mut() {
                if t.grant_id.as_ref() == Some(grant) && t.client_id == client_id {
                    t.active = false;
                }
            }
        }
    }
    drop(inner);
    let mut response = StatusCode::OK.into_response();
    response.extensions_mut().insert(LogInfo {
        client_id: Some(client_id.to_owned()),
        ..LogInfo::default()
    });
    Ok(response)
}

/// RFC 7662 §2.2, with `cnf.x5t#S256` (RFC 8705 §3.2) for certificate-bound tokens.
pub(super) async fn introspect(
    State(shared): State<Arc<Shared>>,
    request: ClientRequest,
) -> Response {
    finish(introspect_token(&shared, &request))
}

fn introspect_token(shared: &Shared, request: &ClientRequest) -> Result<Response, OAuthError> {
    let client_id = request.client_id();
    let params = &request.params;
    let token = params
        .require("token")
        .map_err(|e| e.for_client(client_id))?;
    let record = shared.lock().tokens.get(token).cloned();
    let now = unix_now();
    let body = match record {
        Some(r) if r.is_active(now) => {
            let mut m = Map::new();
            m.insert("active".into(), json!(true));
            m.insert("scope".into(), json!(r.scope));
            m.insert("client_id".into(), json!(r.client_id));
            if r.kind == TokenKind::Access {
                m.insert("token_type".into(), json!(r.token_type()));
            } else {
                m.insert("token_type".into(), json!("refresh_token"));
            }
            if let Some(exp) = r.expires_at {
                m.insert("exp".into(), json!(exp));
            }
            m.insert("iat".into(), json!(r.issued_at));
            if let Some(sub) = &r.sub {
                m.insert("sub".into(), json!(sub));
                if let Some(u) = user(sub) {
                    m.insert("username".into(), json!(u.preferred_username));
                }
            }
            m.insert("aud".into(), json!(r.client_id));
            m.insert("iss".into(), json!(shared.issuer));
            if let Some(grant) = &r.grant_id {
                m.insert("grant_id".into(), json!(grant));
            }
            if let Some(details) = &r.authorization_details {
                m.insert("authorization_details".into(), details.clone());
            }
            let mut cnf = serde_json::Map::new();
            if let Some(x5t) = &r.cnf_x5t {
                cnf.insert("x5t#S256".into(), json!(x5t));
            }
            if let Some(jkt) = &r.cnf_jkt {
                cnf.insert("jkt".into(), json!(jkt));
            }
            if !cnf.is_empty() {
                m.insert("cnf".into(), Value::Object(cnf));
            }
            Value::Object(m)
        }
        _ => json!({ "active": false }),
    };
    Ok(json_response(StatusCode::OK, body, Some(client_id)))
}
