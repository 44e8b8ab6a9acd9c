//! The sandbox's connections, HTTP and HTTPS alike, with the limits a server that
//! anyone on the machine can reach needs: at most [`MAX_CONNECTIONS`] at once (more
//! wait in the kernel's backlog), a request's headers read within
//! [`HEADER_READ_TIMEOUT`] (a half-sent request does not hold a connection forever), at
//! most [`MAX_STREAMS`] requests at once on one HTTP/2 connection, a TLS handshake
//! within ten seconds, and a pause that grows to a second when `accept` fails (out of
//! file descriptors) instead of a loop that spins a whole core.

use std::sync::Arc;
use std::time::Duration;

use axum::{Extension, Router};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot, watch};

use super::tls::{PeerCert, TlsSetup};

/// Connections served at once.
pub(crate) const MAX_CONNECTIONS: usize = 512;
/// How long a request's headers may take to arrive.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests at once on one HTTP/2 connection.
pub(crate) const MAX_STREAMS: u32 = 32;
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The limits a sandbox is started with (the rest are constants).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// How long a request's headers may take to arrive.
    pub header_read_timeout: Duration,
}

/// Serves `router` on `listener` (over TLS with `tls`) until `stop` fires; each
/// request carries its connection's client certificate as [`PeerCert`].
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsSetup>,
    router: Router,
    limits: Limits,
    mut stop: oneshot::Receiver<()>,
) {
    let (closing_tx, closing_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let tls = tls.map(Arc::new);
    let mut pause = Duration::from_millis(10);
    loop {
        let slot = tokio::select! {
            _ = &mut stop => break,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => {
                pause = Duration::from_millis(10);
                tcp
            }
            Err(e) => {
                // Out of file descriptors (EMFILE), or a connection reset before it was
                // taken: wait a little longer each time, not spin.
                tracing::warn!("the sandbox could not accept a connection: {e}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        // Small answers go out at once: without this, a response written in pieces
        // waits on the client's delayed ACK (about 40 ms).
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let tls = tls.clone();
        let closing = closing_rx.clone();
        tokio::spawn(async move {
            connection(tcp, tls, router, limits, closing).await;
            drop(slot);
        });
    }
    let _ = closing_tx.send(true);
}

/// One connection: the TLS handshake (when serving HTTPS), then HTTP/1.1 or HTTP/2.
async fn connection(
    tcp: TcpStream,
    tls: Option<Arc<TlsSetup>>,
    router: Router,
    limits: Limits,
    closing: watch::Receiver<bool>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS);
    match tls {
        Some(tls) => {
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.acceptor.accept(tcp));
            let Ok(Ok(stream)) = handshake.await else {
                return;
            };
            let cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|c| Arc::new(c.as_ref().to_vec()));
            let service = TowerToHyperService::new(router.layer(Extension(PeerCert(cert))));
            run(
                builder.serve_connection(TokioIo::new(stream), service),
                closing,
            )
            .await;
        }
        None => {
            let service = TowerToHyperService::new(router.layer(Extension(PeerCert(None))));
            run(
                builder.serve_connection(TokioIo::new(tcp), service),
                closing,
            )
            .await;
        }
    }
}

/// Drives a connection until it ends, or closes it gracefully when the sandbox stops.
async fn run<C>(connection: C, mut closing: watch::Receiver<bool>)
where
    C: std::future::Future + GracefulShutdown,
{
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = closing.changed() => {
            connection.as_mut().shutdown_gracefully();
            let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
        }
    }
}

/// A hyper connection that can be asked to finish what it is doing and stop.
trait GracefulShutdown {
    fn shutdown_gracefully(self: std::pin::Pin<&mut Self>);
}

impl<I, S, E> GracefulShutdown for hyper_util::server::conn::auto::Connection<'_, I, S, E>
where
    S: hyper::service::HttpService<hyper::body::Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: hyper::body::Body + Send + 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, S::ResBody>,
{
    fn shutdown_gracefully(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}
