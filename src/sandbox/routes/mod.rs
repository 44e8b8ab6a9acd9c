//! The HTTP endpoints of the sandbox and the rules each one enforces.

mod authorize;
mod client_request;
mod discovery;
mod front_channel;
mod par;
mod payments;
mod paynet;
mod register;
mod resource;
mod revoke_introspect;
mod token;
mod uk_consent;
mod userinfo;

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use sha2::{Digest, Sha256};

use super::log::{self};
use super::state::{OAuthError, Shared};
use super::tls::PeerCert;
use crate::jose::jwt::b64url;

/// The `request_uri` prefix of RFC 9126 §2.2.
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// id_token lifetime (the seed's 900 s).
const ID_TOKEN_LIFETIME_SECS: i64 = 900;
/// The seed's `acr`.
const ACR: &str = "acr:paynet-sandbox";
/// The data provider id put in consents.
const DP_ID: &str = super::DATA_PROVIDER_ID;

use client_request::ClientRequest;

type Peer = Option<Extension<PeerCert>>;

/// Builds the router with the logging middleware.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::discovery),
        )
        .route("/jwks", get(discovery::jwks))
        .route("/par", post(par::par))
        .route(
            "/authorize",
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route("/token", post(token::token))
        .route("/revoke", post(revoke_introspect::revoke))
        .route("/introspect", post(revoke_introspect::introspect))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/register", post(register::register))
        .route("/accounts", get(resource::accounts))
        .route("/accounts/{id}/balances", get(resource::balances))
        .route("/callback", get(authorize::callback))
        .nest("/v1", paynet_routes(shared.clone()))
        .route(
            "/open-banking/{version}/pisp/domestic-payments",
            post(payments::uk_payment),
        )
        .route(
            "/open-finance/payment/v2.2/payments",
            post(payments::uae_payment),
        )
        .route(
            "/open-banking/v3.1/aisp/account-access-consents",
            post(uk_consent::create),
        )
        .route(
            "/open-banking/consents/v3/consents",
            post(uk_consent::create),
        )
        .layer(from_fn_with_state(shared.clone(), log::middleware))
        .layer(from_fn_with_state(shared.clone(), host_guard))
        .with_state(shared)
}

/// PayNet's data APIs (`/v1`): signed calls, three-layer answers.
fn paynet_routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/accounts", get(resource::accounts))
        .route("/accounts/{id}/balances", get(resource::balances))
        .route("/accounts/{id}/transactions", get(paynet::transactions))
        .route("/providers", get(paynet::providers))
        .route("/consents/{id}/revoke", post(paynet::revoke_consent))
        .layer(from_fn_with_state(shared, paynet::layers))
}

/// Answers only requests addressed to the sandbox itself: the `Host` (or HTTP/2
/// `:authority`) must be the issuer's, or `localhost`/`127.0.0.1`/`[::1]` with its port.
/// A web page on another name that resolves to this machine (DNS rebinding) gets a 421,
/// not the sandbox's tokens.
async fn host_guard(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let allowed = host
        .as_deref()
        .is_some_and(|h| host_allowed(&shared.issuer, h));
    if !allowed {
        return (
            axum::http::StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this sandbox answers only for its issuer {} (Host {:?} refused: DNS rebinding protection)",
                shared.issuer,
                host.unwrap_or_default()
            ),
        )
            .into_response();
    }
    next.run(request).await
}

/// Whether `host` (`name:port`) names the sandbox of `issuer`.
fn host_allowed(issuer: &str, host: &str) -> bool {
    let Ok(url) = url::Url::parse(issuer) else {
        return false;
    };
    let port = url.port_or_known_default().unwrap_or_default();
    let own = url.host_str().map(|h| format!("{h}:{port}"));
    let host = host.to_ascii_lowercase();
    own.as_deref() == Some(host.as_str())
        || ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .any(|name| host == format!("{name}:{port}"))
}

pub(super) fn peer_cert(peer: &Peer) -> Option<&[u8]> {
    peer.as_ref()
        .and_then(|Extension(p)| p.0.as_deref().map(Vec::as_slice))
}

/// RFC 8705 §3.1: base64url(SHA-256(certificate DER)).
pub(super) fn x5t_s256(cert: &[u8]) -> String {
    b64url(Sha256::digest(cert))
}

pub(super) fn finish(result: Result<Response, OAuthError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

pub(super) fn require_form(headers: &HeaderMap) -> Result<(), OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(())
    } else if ct.is_empty() {
        Err(OAuthError::invalid_request(
            "missing Content-Type: the body must be application/x-www-form-urlencoded",
        ))
    } else {
        Err(OAuthError::invalid_request(format!(
            "Content-Type is {ct:?}; the body must be application/x-www-form-urlencoded"
        )))
    }
}

pub(super) fn iso_millis(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub(super) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .saturating_add(super::state::clock_offset())
}

#[cfg(test)]
mod tests {
    use super::par::{check_redirect_uri, parse_authorization_details};
    use super::token::{granted_scope, half_hash, valid_verifier};
    use super::*;
    use crate::storage::presets::MALAYSIA_ACCOUNT_ACCESS_CONSENT;
    use serde_json::json;

    #[test]
    fn rfc7636_appendix_b_s256() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(valid_verifier(verifier));
        assert_eq!(
            b64url(Sha256::digest(verifier.as_bytes())),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&"a+".repeat(30)));
    }

    #[test]
    fn half_hash_is_the_left_128_bits() {
        let full = Sha256::digest(b"26e0bf38-9fab-48e5-8be6-4a906905f959");
        let h = half_hash("26e0bf38-9fab-48e5-8be6-4a906905f959");
        assert_eq!(h.len(), 22);
        assert_eq!(h, b64url(&full[..16]));
    }

    #[test]
    fn granted_scope_adds_profile_like_the_seed() {
        assert_eq!(granted_scope("accounts"), "accounts profile");
        assert_eq!(granted_scope("accounts profile"), "accounts profile");
    }

    #[test]
    fn consent_timestamps_have_milliseconds_like_the_seed() {
        let t = time::macros::datetime!(2026-01-30 10:12:42.671 UTC);
        assert_eq!(iso_millis(t), "2026-01-30T10:12:42.671Z");
    }

    #[test]
    fn authorization_details_are_read_or_refused() {
        let asked = json!([{"type": MALAYSIA_ACCOUNT_ACCESS_CONSENT,
            "consent": {"permissions": ["read_accounts"], "consent_purpose": "lending",
                "expiration_datetime": "2026-11-30T23:59:59Z"}}]);
        let r = parse_authorization_details(Some(&asked)).unwrap();
        assert_eq!(r.permissions, vec![json!("read_accounts")]);
        assert_eq!(r.purpose, "lending");
        assert_eq!(r.expiration_datetime, "2026-11-30T23:59:59Z");
        let unknown = json!([{"type": "payment_initiation"}]);
        let e = parse_authorization_details(Some(&unknown)).unwrap_err();
        assert_eq!(e.error, "invalid_authorization_details");
        assert!(e.description.contains("payment_initiation"));
        let e = parse_authorization_details(Some(&json!({"type": "x"}))).unwrap_err();
        assert!(e.description.contains("array"));
    }

    #[test]
    fn redirect_uris_must_be_absolute_without_fragment() {
        assert!(check_redirect_uri("https://tpp.example/cb").is_ok());
        assert!(check_redirect_uri("/cb").is_err());
        assert!(check_redirect_uri("https://tpp.example/cb#x").is_err());
    }
}
