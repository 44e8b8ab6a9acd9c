//! Optional HTTPS and mutual TLS (RFC 8705) for the sandbox.

use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::SandboxError;
use crate::secret::Secret;

/// TLS settings.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Refuse TLS connections without a client certificate.
    pub require_client_cert: bool,
    /// The server certificate chain PEM; `None` generates a local CA and a certificate
    /// for `127.0.0.1` and `localhost`.
    pub cert_pem: Option<String>,
    /// The server private key PEM (with `cert_pem`).
    pub key_pem: Option<Secret>,
    /// CA certificates that client certificates must chain to; `None` accepts any
    /// client certificate, self-signed included (`self_signed_tls_client_auth`).
    pub client_ca_pem: Option<String>,
}

/// The client certificate of the connection a request came on (DER).
#[derive(Clone, Debug, Default)]
pub(crate) struct PeerCert(pub Option<Arc<Vec<u8>>>);

/// A ready TLS configuration.
pub(crate) struct TlsSetup {
    pub ca_pem: Option<String>,
}

impl TlsSetup {
    pub fn new(_options: &TlsOptions) -> Result<Self, SandboxError> {
        Err(SandboxError::Tls("TLS is not built yet".into()))
    }
}

/// Serves HTTPS until `stop` fires.
pub(crate) async fn serve(
    _listener: TcpListener,
    _setup: TlsSetup,
    _router: Router,
    _stop: oneshot::Receiver<()>,
) {
}
