//! The embedded Open Finance sandbox authorization server (issue 3).
//!
//! A strict, in-memory FAPI 2.0 style authorization server shaped like the Ozone
//! sandbox of the seed (`shared/reference/ozone-token-exchange.txt`): OIDC discovery,
//! JWKS, pushed authorization requests (RFC 9126), an HTML consent page at
//! `/authorize` (with `auto_approve=true` for tests and scripts), the token endpoint
//! (RFC 6749 `authorization_code`, `refresh_token`, `client_credentials`), revocation
//! (RFC 7009), introspection (RFC 7662), userinfo (OIDC Core §5.3), dynamic client
//! registration (RFC 7591) and a `/callback` page for humans.
//!
//! Clients authenticate with `private_key_jwt` (RFC 7523, OIDC Core §9); every refusal
//! is an RFC 6749 §5.2 error with a specific `error_description`, and is kept in the
//! request log ([`SandboxHandle::log`]) so a user sees why the server said no.
//!
//! The server runs on the caller's tokio runtime, binds its own port (0 = a free one),
//! keeps all state in memory and stops when the [`SandboxHandle`] is shut down or dropped.
//!
//! # Demo users and accounts
//!
//! [`DEMO_USERS`] holds two fixed users; `auto_approve=true` consents as the first one
//! with all of that user's accounts:
//!
//! | sub | name | accounts |
//! |---|---|---|
//! | `202` | Mr. Mitsu Hirato (the seed's user) | Greenbank Current Account `10000004`, Greenbank Savings Account `10000002`, Greenbank Credit Card `10000007` |
//! | `203` | Ms. Nur Aisyah Rahman | Bluebank Current Account `20000001`, Bluebank Fixed Deposit `20000003` |

mod assertion;
mod consent;
mod demo;
mod dpop;
mod expiring;
mod keys;
mod log;
mod routes;
mod serve;
mod state;
mod tls;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::secret::Secret;

pub use demo::{DEMO_USERS, DemoAccount, DemoUser};
pub use log::LogEntry;
pub use state::set_clock_offset;
pub use tls::TlsOptions;

/// A client id the app may use when it registers its local profile key with
/// [`SandboxHandle::register_client`].
pub const DEMO_CLIENT_ID: &str = "token-inspector-local";

/// The data provider id the sandbox plays (in consents, and the `dp_id` an
/// `x-signature` must name).
pub const DATA_PROVIDER_ID: &str = "DP9876543210";

/// The only `client_assertion_type` accepted (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a pushed authorization request lives (RFC 9126 §2.2 `expires_in`).
pub const PAR_LIFETIME_SECS: u64 = 90;

/// How long an access token lives (`expires_in`, the seed's 600).
pub const ACCESS_TOKEN_LIFETIME_SECS: u64 = 600;

/// The longest client assertion lifetime accepted: `exp` at most 60 minutes after `iat`.
pub const MAX_ASSERTION_LIFETIME_SECS: f64 = 3600.0;

/// Clock skew allowed on `exp`, `nbf` and `iat`.
pub const CLOCK_SKEW_SECS: f64 = 10.0;

/// How the sandbox is started.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The address to bind (default 127.0.0.1).
    pub bind: IpAddr,
    /// The port (0 = a free port).
    pub port: u16,
    /// The id_token signing key, a PKCS#8 RSA PEM; `None` generates an ephemeral
    /// 2048-bit key (read it back with [`SandboxHandle::signing_key_pem`] to keep it).
    pub signing_key_pem: Option<Secret>,
    /// Accept the token endpoint URL (or the URL of the endpoint called) as the client
    /// assertion `aud`, as older servers want; by default only the issuer is accepted
    /// (FAPI 2.0 SP §5.3.2.1).
    pub lenient_aud: bool,
    /// Rotate refresh tokens: a used refresh token is refused afterwards (FAPI 2.0
    /// advises against rotation, so it is off by default).
    pub rotate_refresh_tokens: bool,
    /// Serve HTTPS (and optionally mutual TLS, RFC 8705).
    pub tls: Option<TlsOptions>,
    /// Clients registered from the start.
    pub clients: Vec<ClientRegistration>,
    /// How long an authorization code stays valid (default 60 s).
    pub code_lifetime: Duration,
    /// Play Open Finance Malaysia strictly: PAR must carry a signed request object (with
    /// `nbf` and `exp` at most 60 min apart, `nbf` at most 60 min old, `aud` the issuer),
    /// and the back channel (PAR, token, revoke, introspect, userinfo) needs a client
    /// certificate, which binds the tokens, while the browser-facing authorize stays
    /// open (as on Ozone's auth1/as1 hosts). Needs `tls`.
    pub malaysia: bool,
    /// Require a DPoP nonce in proofs (RFC 9449 §8): the first proof without it is
    /// answered `use_dpop_nonce` with the nonce in `DPoP-Nonce`.
    pub dpop_nonce: bool,
    /// Open Finance Brasil: the hybrid flow's front-channel id_token is encrypted to the
    /// client's `use: enc` key (RSA-OAEP, A256GCM).
    pub encrypt_id_tokens: bool,
    /// Failures played on request, each as real servers answer it.
    pub failures: Failures,
    /// How long a request's headers may take to arrive before the connection is closed
    /// (a half-sent request does not hold it forever).
    pub header_read_timeout: Duration,
}

/// Failures the sandbox plays on request, so each cause of a refusal can be shown and
/// tested (all off by default). The others come from the client (a wrong `aud`, an
/// unregistered key, a reused code or `jti`), from the clock
/// ([`set_clock_offset`]), from [`SandboxConfig::code_lifetime`] or from TLS
/// ([`TlsOptions`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    /// Refuse back-channel requests (PAR, token, revoke, introspect, userinfo, the
    /// resources) that carry no `x-fapi-interaction-id`, with `invalid_request`, as
    /// Open Finance Brazil's servers do.
    pub require_interaction_id: bool,
    /// Every DPoP nonce is stale by the time it comes back (a cluster whose nodes do
    /// not share nonces): each proof is answered `use_dpop_nonce` with a fresh one.
    pub stale_dpop_nonce: bool,
    /// The consent page's automatic approval denies instead, as a user who refuses:
    /// the redirect carries `error=access_denied`.
    pub deny_consent: bool,
    /// The user revokes the consent at the bank as soon as its tokens are issued: the
    /// resources answer `invalid_token` for its access tokens.
    pub revoke_consent: bool,
    /// PayNet-style answers come with the hub's signature changed (a tampered layer).
    pub tamper_layer: bool,
    /// PayNet-style answers are encrypted to another key than the client's.
    pub other_encryption_key: bool,
    /// Every `x-signature` is judged ten minutes after it came: stale, refused naming
    /// `exp`/`iat`, as a bank does when the request sat in a queue or the clocks differ.
    pub stale_x_signature: bool,
    /// The hybrid flow's id_token carries the `c_hash` of another code.
    pub wrong_c_hash: bool,
    /// The hybrid flow's id_token carries the `s_hash` of another state.
    pub wrong_s_hash: bool,
    /// The hybrid flow's id_token is for another client (`aud`).
    pub id_token_other_audience: bool,
    /// JARM responses are signed with another key than the one in `/jwks`.
    pub jarm_other_key: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            signing_key_pem: None,
            lenient_aud: false,
            rotate_refresh_tokens: false,
            tls: None,
            clients: Vec::new(),
            code_lifetime: Duration::from_secs(60),
            malaysia: false,
            dpop_nonce: false,
            encrypt_id_tokens: false,
            failures: Failures::default(),
            header_read_timeout: serve::HEADER_READ_TIMEOUT,
        }
    }
}

/// A registered client (RFC 7591 metadata subset).
#[derive(Clone, Debug, PartialEq)]
pub struct ClientRegistration {
    /// The client identifier (the assertion's `iss` and `sub`).
    pub client_id: String,
    /// The client's public keys as a JWK Set (`{"keys":[...]}`, RFC 7517 §5).
    pub jwks: serde_json::Value,
    /// The allowed redirect URIs; empty accepts any absolute URI.
    pub redirect_uris: Vec<String>,
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source} (is the port in use? use port 0 for a free one)")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The signing key is unusable.
    #[error("the sandbox signing key is unusable: {0}")]
    Key(String),
    /// A configured client is unusable.
    #[error("client {client_id}: {reason}")]
    Client {
        /// The client.
        client_id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// TLS setup failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// The sandbox server.
pub struct Sandbox;

impl Sandbox {
    /// Binds, spawns the server on the current tokio runtime and returns its handle.
    ///
    /// Call it inside a tokio runtime; the server lives until the handle is shut down
    /// or dropped. Generating the signing key (when none is given) takes about 0.3 s
    /// in a debug build and runs on the blocking pool.
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        if config.malaysia && config.tls.is_none() {
            return Err(SandboxError::Tls(
                "the strict Malaysia mode needs TLS (the back channel is mTLS): add --tls".into(),
            ));
        }
        for client in &config.clients {
            state::validate_jwks(&client.jwks).map_err(|reason| SandboxError::Client {
                client_id: client.client_id.clone(),
                reason,
            })?;
        }
        let key = match &config.signing_key_pem {
            Some(pem) => keys::SigningKey::from_pem(pem.expose()),
            None => tokio::task::spawn_blocking(keys::SigningKey::generate)
                .await
                .map_err(|e| SandboxError::Key(e.to_string()))
                .and_then(|r| r),
        }?;
        let tls_setup = match &config.tls {
            Some(options) => Some(tls::TlsSetup::new(options)?),
            None => None,
        };
        let wanted = SocketAddr::new(config.bind, config.port);
        let listener = tokio::net::TcpListener::bind(wanted)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: wanted,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: wanted,
            source,
        })?;
        let host = if addr.ip().is_unspecified() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        } else {
            addr
        };
        let scheme = if tls_setup.is_some() { "https" } else { "http" };
        let issuer = format!("{scheme}://{host}");
        let shared = Arc::new(state::Shared::new(
            issuer.clone(),
            key,
            &config,
            tls_setup.is_some(),
        ));
        let router = routes::router(shared.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let ca_pem = tls_setup.as_ref().and_then(|t| t.ca_pem.clone());
        let limits = serve::Limits {
            header_read_timeout: config.header_read_timeout,
        };
        let task = tokio::spawn(serve::serve(listener, tls_setup, router, limits, stop_rx));
        Ok(SandboxHandle {
            issuer,
            addr,
            shared,
            ca_pem,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct SandboxHandle {
    issuer: String,
    addr: SocketAddr,
    shared: Arc<state::Shared>,
    ca_pem: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// The issuer identifier, e.g. `http://127.0.0.1:PORT` (no trailing slash;
    /// `https://` with TLS). The client assertion `aud` must equal it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Registers (or replaces) a client. Keys that cannot be used are reported when an
    /// assertion is checked.
    pub fn register_client(&self, registration: ClientRegistration) {
        self.shared.register(registration);
    }

    /// The JWK Set a client is registered with, if it is.
    pub fn registered_jwks(&self, client_id: &str) -> Option<serde_json::Value> {
        self.shared
            .lock()
            .clients
            .get(client_id)
            .map(|c| c.jwks.clone())
    }

    /// The request log, oldest first (the last 1000 requests).
    pub fn log(&self) -> Vec<LogEntry> {
        self.shared.log_entries()
    }

    /// A live feed of log entries as requests complete.
    pub fn subscribe_log(&self) -> broadcast::Receiver<LogEntry> {
        self.shared.subscribe()
    }

    /// The id_token signing key as PKCS#8 PEM, so a caller can keep it in the keychain
    /// and pass it back in [`SandboxConfig::signing_key_pem`].
    pub fn signing_key_pem(&self) -> Secret {
        self.shared.key.pem.clone()
    }

    /// The PEM of the local CA that signed the server certificate (TLS mode with a
    /// generated certificate); clients trust it to reach the sandbox over HTTPS.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            // Connections that did not close in time are cut.
            task.abort();
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn starts_with_a_generated_key_and_stops() {
        let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
        assert!(sandbox.issuer().starts_with("http://127.0.0.1:"));
        assert!(!sandbox.issuer().ends_with('/'));
        assert_eq!(
            sandbox.addr().port(),
            sandbox
                .issuer()
                .rsplit(':')
                .next()
                .unwrap()
                .parse::<u16>()
                .unwrap()
        );
        let pem = sandbox.signing_key_pem();
        assert!(pem.expose().starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(sandbox.ca_pem().is_none());
        // The key can be given back: same kid at /jwks.
        let kid = sandbox.shared.key.kid.clone();
        let addr = sandbox.addr();
        sandbox.shutdown().await;
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
        let again = Sandbox::start(SandboxConfig {
            signing_key_pem: Some(pem),
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        assert_eq!(again.shared.key.kid, kid);
        assert_eq!(kid.len(), 43);
    }

    #[tokio::test]
    async fn refuses_unusable_configuration() {
        let bad_key = Sandbox::start(SandboxConfig {
            signing_key_pem: Some(Secret::new("not a pem")),
            ..SandboxConfig::default()
        })
        .await
        .unwrap_err();
        assert!(matches!(bad_key, SandboxError::Key(_)), "{bad_key}");
        let bad_client = Sandbox::start(SandboxConfig {
            clients: vec![ClientRegistration {
                client_id: "c".into(),
                jwks: serde_json::json!({"keys": "nope"}),
                redirect_uris: vec![],
            }],
            ..SandboxConfig::default()
        })
        .await
        .unwrap_err();
        assert!(
            bad_client.to_string().starts_with("client c:"),
            "{bad_client}"
        );
    }
}
