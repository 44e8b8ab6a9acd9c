//! The opening every back-channel endpoint shares (PAR, token, revocation,
//! introspection): the body must be a form (RFC 6749 §3.2), it is parsed once (a repeated
//! parameter is refused when read), and the client is authenticated (RFC 6749 §2.3,
//! RFC 7523 §2.2, RFC 8705 §2) before the handler runs. A handler that takes a
//! [`ClientRequest`] reads as the RFC section it implements.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};

use super::require_form;
use crate::sandbox::assertion::{AuthenticatedClient, authenticate};
use crate::sandbox::state::{Params, Shared};
use crate::sandbox::tls::PeerCert;

/// An authenticated client's request and its form.
pub(crate) struct ClientRequest {
    /// The client that authenticated.
    pub client: AuthenticatedClient,
    /// The form parameters.
    pub params: Params,
    /// The TLS client certificate (DER), when one was presented.
    pub peer_cert: Option<Arc<Vec<u8>>>,
    /// The thumbprint of the DPoP key of a valid proof (RFC 9449), when one was sent.
    pub dpop_jkt: Option<String>,
}

impl ClientRequest {
    /// The authenticated client_id.
    pub fn client_id(&self) -> &str {
        &self.client.client_id
    }

    /// The client certificate's DER, when one was presented.
    pub fn cert(&self) -> Option<&[u8]> {
        self.peer_cert.as_deref().map(Vec::as_slice)
    }
}

impl FromRequest<Arc<Shared>> for ClientRequest {
    type Rejection = Response;

    async fn from_request(request: Request, shared: &Arc<Shared>) -> Result<Self, Response> {
        let path = request.uri().path().to_owned();
        let peer_cert = request
            .extensions()
            .get::<PeerCert>()
            .and_then(|p| p.0.clone());
        if shared.malaysia && peer_cert.is_none() {
            return Err(crate::sandbox::state::OAuthError::new(
                "invalid_client",
                format!(
                    "{path} is on the mTLS back channel: present the client's transport certificate (RFC 8705 §2; Open Finance Malaysia's as1 endpoints refuse a connection without one)"
                ),
            )
            .into_response());
        }
        require_form(request.headers()).map_err(IntoResponse::into_response)?;
        let dpop_jkt =
            crate::sandbox::dpop::check_proof(shared, request.headers(), "POST", &path, None)
                .map_err(IntoResponse::into_response)?;
        let body = Bytes::from_request(request, shared)
            .await
            .map_err(IntoResponse::into_response)?;
        let params = Params::parse(&body);
        let client = authenticate(
            shared,
            &params,
            &path,
            peer_cert.as_deref().map(Vec::as_slice),
        )
        .map_err(IntoResponse::into_response)?;
        Ok(Self {
            client,
            params,
            peer_cert,
            dpop_jkt,
        })
    }
}
