//! Dynamic client registration (RFC 7591).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::par::check_redirect_uri;
use super::{finish, unix_now};
use crate::sandbox::ClientRegistration;
use crate::sandbox::state::{OAuthError, Shared, json_response, validate_jwks};

pub(super) async fn register(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    finish(register_inner(&shared, &body))
}

fn register_inner(shared: &Shared, body: &[u8]) -> Result<Response, OAuthError> {
    let meta_err = |msg: String| OAuthError::new("invalid_client_metadata", msg);
    let metadata: Value = serde_json::from_slice(body).map_err(|e| {
        OAuthError::invalid_request(format!(
            "the registration request must be a JSON object (RFC 7591 §3.1): {e}"
        ))
    })?;
    let Some(metadata) = metadata.as_object() else {
        return Err(OAuthError::invalid_request(
            "the registration request must be a JSON object (RFC 7591 §3.1)",
        ));
    };
    let client_id = match metadata.get("client_id") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
        Some(_) => return Err(meta_err("client_id must be a non-empty string".into())),
    };
    let jwks = match (metadata.get("jwks"), metadata.get("jwks_uri")) {
        (Some(jwks), _) => jwks.clone(),
        (None, Some(_)) => {
            return Err(meta_err(
                "jwks_uri is not supported by this sandbox; send the public keys inline in jwks"
                    .into(),
            ));
        }
        (None, None) => {
            return Err(meta_err(
                "missing metadata: jwks (the public keys that verify your client assertions)"
                    .into(),
            ));
        }
    };
    validate_jwks(&jwks).map_err(meta_err)?;
    let mut allowed = vec!["private_key_jwt"];
    if shared.tls {
        allowed.extend(["tls_client_auth", "self_signed_tls_client_auth"]);
    }
    let method = match metadata.get("token_endpoint_auth_method") {
        None => "private_key_jwt".to_owned(),
        Some(Value::String(m)) if allowed.contains(&m.as_str()) => m.clone(),
        Some(other) => {
            return Err(meta_err(format!(
                "token_endpoint_auth_method {other} is not supported (supported: {})",
                allowed.join(", ")
            )));
        }
    };
    let redirect_uris: Vec<String> = match metadata.get("redirect_uris") {
        None => Vec::new(),
        Some(Value::Array(list)) => {
            let mut out = Vec::new();
            for v in list {
                let Some(uri) = v.as_str() else {
                    return Err(OAuthError::new(
                        "invalid_redirect_uri",
                        "redirect_uris must be an array of strings",
                    ));
                };
                check_redirect_uri(uri).map_err(|e| OAuthError::new("invalid_redirect_uri", e))?;
                out.push(uri.to_owned());
            }
            out
        }
        Some(_) => {
            return Err(OAuthError::new(
                "invalid_redirect_uri",
                "redirect_uris must be an array of strings",
            ));
        }
    };
    {
        let mut inner = shared.lock();
        if inner.clients.contains_key(&client_id) {
            return Err(meta_err(format!(
                "client_id {client_id:?} is already registered; choose another or leave client_id out"
            )));
        }
        inner.clients.insert(
            client_id.clone(),
            ClientRegistration {
                client_id: client_id.clone(),
                jwks: jwks.clone(),
                redirect_uris: redirect_uris.clone(),
            },
        );
    }
    let body = json!({
        "client_id": client_id,
        "client_id_issued_at": unix_now(),
        "token_endpoint_auth_method": method,
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types": ["code"],
        "redirect_uris": redirect_uris,
        "jwks": jwks,
    });
    Ok(json_response(StatusCode::CREATED, body, Some(&client_id)))
}
