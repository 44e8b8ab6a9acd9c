//! Discovery (OpenID Connect Discovery 1.0 §3) and the JWKS of the sandbox's id_token key.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::{ACR, paynet};

use crate::sandbox::state::{Shared, json_response};
use crate::storage::presets::MALAYSIA_ACCOUNT_ACCESS_CONSENT;

pub(super) async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    let url = |p: &str| shared.url(p);
    let mut auth_methods = vec!["private_key_jwt"];
    if shared.tls {
        auth_methods.extend(["tls_client_auth", "self_signed_tls_client_auth"]);
    }
    let signing_algs = json!(["PS256", "ES256", "EdDSA"]);
    let mut doc = json!({
        "issuer": shared.issuer,
        "authorization_endpoint": url("/authorize"),
        "token_endpoint": url("/token"),
        "pushed_authorization_request_endpoint": url("/par"),
        "jwks_uri": url("/jwks"),
        "revocation_endpoint": url("/revoke"),
        "introspection_endpoint": url("/introspect"),
        "userinfo_endpoint": url("/userinfo"),
        "registration_endpoint": url("/register"),
        "scopes_supported": ["openid", "accounts", "profile"],
        "response_types_supported": ["code", "code id_token"],
        "response_modes_supported": ["query", "fragment", "jwt", "query.jwt", "fragment.jwt"],
        "authorization_signing_alg_values_supported": ["PS256"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": signing_algs,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "request_object_signing_alg_values_supported": signing_algs,
        "id_token_signing_alg_values_supported": ["PS256"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_details_types_supported": [MALAYSIA_ACCOUNT_ACCESS_CONSENT],
        "authorization_response_iss_parameter_supported": true,
        "require_pushed_authorization_requests": true,
        "request_parameter_supported": true,
        "dpop_signing_alg_values_supported": ["ES256", "PS256", "EdDSA"],
        "acr_values_supported": [ACR],
        "claims_supported": [
            "sub", "acr", "amr", "name", "given_name", "family_name", "preferred_username",
            "email", "email_verified", "id_type", "hashed_id_number", "auth_time", "nonce",
            "at_hash", "c_hash"
        ],
    });
    if shared.encrypt_id_tokens
        && let Some(map) = doc.as_object_mut()
    {
        map.insert(
            "id_token_encryption_alg_values_supported".into(),
            json!(["RSA-OAEP"]),
        );
        map.insert(
            "id_token_encryption_enc_values_supported".into(),
            json!(["A256GCM"]),
        );
    }
    if shared.malaysia
        && let Some(map) = doc.as_object_mut()
    {
        map.insert("require_signed_request_object".into(), json!(true));
    }
    if shared.tls
        && let Some(map) = doc.as_object_mut()
    {
        map.insert(
            "tls_client_certificate_bound_access_tokens".into(),
            json!(true),
        );
        map.insert(
            "mtls_endpoint_aliases".into(),
            json!({
                "token_endpoint": url("/token"),
                "pushed_authorization_request_endpoint": url("/par"),
                "revocation_endpoint": url("/revoke"),
                "introspection_endpoint": url("/introspect"),
                "userinfo_endpoint": url("/userinfo"),
            }),
        );
    }
    json_response(StatusCode::OK, doc, None)
}

pub(super) async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    // The provider's key (id_tokens, the inner layer of /v1 answers), the hub's, and the
    // key UAE personal data is encrypted to.
    let keys: Vec<serde_json::Value> = [
        Some(shared.key.public_jwk.clone()),
        paynet::hub_jwk(&shared),
        super::payments::encryption_jwk(&shared).await,
    ]
    .into_iter()
    .flatten()
    .collect();
    json_response(StatusCode::OK, json!({ "keys": keys }), None)
}
