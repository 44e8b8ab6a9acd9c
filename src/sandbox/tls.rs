//! Optional HTTPS and mutual TLS (RFC 8705) for the sandbox: a generated local CA and
//! server certificate (or the caller's), client certificates accepted (any, self-signed
//! included, or only those chaining to a given CA), and the peer certificate handed to
//! the handlers as a per-connection request extension so tokens can be bound to it.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use tokio_rustls::TlsAcceptor;

use super::SandboxError;
use crate::secret::Secret;

/// TLS settings.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// Refuse TLS connections without a client certificate (mutual TLS).
    pub require_client_cert: bool,
    /// The server certificate chain PEM; `None` generates a local CA and a certificate
    /// for `127.0.0.1` and `localhost` (the CA is then in
    /// [`super::SandboxHandle::ca_pem`]).
    pub cert_pem: Option<String>,
    /// The server private key PEM (with `cert_pem`).
    pub key_pem: Option<Secret>,
    /// CA certificates that client certificates must chain to; `None` accepts any
    /// client certificate, self-signed included (`self_signed_tls_client_auth`).
    pub client_ca_pem: Option<String>,
}

/// The client certificate (DER) of the connection a request came on.
#[derive(Clone, Debug, Default)]
pub(crate) struct PeerCert(pub Option<Arc<Vec<u8>>>);

/// A ready TLS configuration.
pub(crate) struct TlsSetup {
    pub ca_pem: Option<String>,
    pub(crate) acceptor: TlsAcceptor,
}

fn tls_err(what: &str) -> impl Fn(String) -> SandboxError + '_ {
    move |e| SandboxError::Tls(format!("{what}: {e}"))
}

impl TlsSetup {
    pub fn new(options: &TlsOptions) -> Result<Self, SandboxError> {
        let (chain, key, ca_pem) = match (&options.cert_pem, &options.key_pem) {
            (Some(cert), Some(key)) => {
                let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| tls_err("the server certificate PEM")(e.to_string()))?;
                if chain.is_empty() {
                    return Err(SandboxError::Tls(
                        "the server certificate PEM holds no certificate".into(),
                    ));
                }
                let key = PrivateKeyDer::from_pem_slice(key.expose().as_bytes())
                    .map_err(|e| tls_err("the server key PEM")(e.to_string()))?;
                (chain, key, None)
            }
            (None, None) => generate()?,
            _ => {
                return Err(SandboxError::Tls(
                    "give both the server certificate and its key, or neither".into(),
                ));
            }
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier: Arc<dyn ClientCertVerifier> = match &options.client_ca_pem {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                    let cert = cert.map_err(|e| tls_err("the client CA PEM")(e.to_string()))?;
                    roots
                        .add(cert)
                        .map_err(|e| tls_err("the client CA certificate")(e.to_string()))?;
                }
                let builder =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                let builder = if options.require_client_cert {
                    builder
                } else {
                    builder.allow_unauthenticated()
                };
                builder
                    .build()
                    .map_err(|e| tls_err("the client CA")(e.to_string()))?
            }
            None => Arc::new(AnyClientCert {
                provider: provider.clone(),
                mandatory: options.require_client_cert,
            }),
        };
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_err("TLS versions")(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| tls_err("the server certificate and key")(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

type Generated = (
    Vec<CertificateDer<'static>>,
    PrivateKeyDer<'static>,
    Option<String>,
);

/// A local CA and a server certificate for 127.0.0.1 and localhost, signed by it.
fn generate() -> Result<Generated, SandboxError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let e = |e: rcgen::Error| SandboxError::Tls(format!("certificate generation: {e}"));
    let ca_key = KeyPair::generate().map_err(e)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Token Inspector sandbox local CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(e)?;
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let server_key = KeyPair::generate().map_err(e)?;
    let mut params = CertificateParams::new(vec![
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
        "::1".to_owned(),
    ])
    .map_err(e)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "Token Inspector sandbox");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = params.signed_by(&server_key, &issuer).map_err(e)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    Ok((vec![server_cert.der().clone()], key, Some(ca_cert.pem())))
}

/// Accepts any client certificate (self-signed included) but still checks the
/// handshake signature, so the client holds the certificate's private key.
#[derive(Debug)]
struct AnyClientCert {
    provider: Arc<CryptoProvider>,
    mandatory: bool,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
