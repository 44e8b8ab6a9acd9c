//! Sends a [`RequestModel`] with reqwest (rustls, optional mTLS identity), adding
//! nothing the model does not show besides the transport's `Host` and
//! `Content-Length`, reading at most a capped body, and turning transport failures into
//! plain-language errors.

use std::time::{Duration, Instant};

use crate::oauth::http::{DEFAULT_MAX_BODY, HttpClient, HttpResponse, SendError};
use crate::oauth::request::RequestModel;
use crate::secret::Secret;

/// How to connect.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// Skip certificate verification (explicit, shown in red by the app).
    pub insecure_skip_verify: bool,
    /// Extra trusted CA certificates, PEM.
    pub ca_pem: Option<String>,
    /// mTLS identity: certificate chain and private key, PEM.
    pub identity_pem: Option<Secret>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Total timeout.
    pub timeout: Duration,
    /// Body cap in bytes.
    pub max_body: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            insecure_skip_verify: false,
            ca_pem: None,
            identity_pem: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

impl TransportConfig {
    /// The configuration a profile's TLS settings describe, with the CA file and the mTLS
    /// identity already read by the caller (from files or the keychain).
    pub fn for_profile(
        tls: &crate::storage::profile::TlsSettings,
        ca_pem: Option<String>,
        identity_pem: Option<Secret>,
    ) -> Self {
        Self {
            insecure_skip_verify: tls.insecure_skip_verify,
            ca_pem,
            identity_pem,
            connect_timeout: Duration::from_secs(tls.connect_timeout_secs.max(1)),
            timeout: Duration::from_secs(tls.timeout_secs.max(1)),
            ..Self::default()
        }
    }
}

/// A configured HTTP client.
#[derive(Clone, Debug)]
pub struct Transport {
    client: reqwest::Client,
    config: TransportConfig,
}

impl Transport {
    /// Builds a client.
    pub fn new(config: TransportConfig) -> Result<Self, SendError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .tls_danger_accept_invalid_certs(config.insecure_skip_verify);
        if let Some(ca) = &config.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(ca.as_bytes())
                .map_err(|e| SendError::Invalid(format!("the CA file is not PEM: {e}")))?;
            if certs.is_empty() {
                return Err(SendError::Invalid(
                    "the CA file holds no certificate".into(),
                ));
            }
            builder = builder.tls_certs_merge(certs);
        }
        if let Some(identity) = &config.identity_pem {
            if crate::jose::public_key::identity_key_mismatch(identity.expose()) {
                return Err(SendError::Invalid(
                    "the mTLS private key is not the key of the client certificate: give the key the certificate was issued for".into(),
                ));
            }
            let id = reqwest::Identity::from_pem(identity.expose().as_bytes()).map_err(|e| {
                SendError::Invalid(format!(
                    "the mTLS certificate and key could not be used: {e}; give a PEM certificate and its PEM private key"
                ))
            })?;
            builder = builder.identity(id);
        }
        let client = builder
            .build()
            .map_err(|e| SendError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { client, config })
    }

    /// The configuration.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// GETs a URL with `Accept: application/json` (discovery, JWKS), body capped.
    pub async fn get_json(&self, url: &str) -> Result<HttpResponse, SendError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| SendError::Invalid(format!("URL {url:?}: {e}")))?;
        let request = self
            .client
            .get(parsed.clone())
            .header("Accept", "application/json")
            .header("User-Agent", crate::oauth::request::USER_AGENT)
            .build()
            .map_err(|e| SendError::Invalid(e.to_string()))?;
        self.execute(request, &parsed).await
    }

    /// Sends the model and reads the answer (body capped).
    pub async fn send(&self, model: &RequestModel) -> Result<HttpResponse, SendError> {
        let method = reqwest::Method::from_bytes(model.method.as_bytes())
            .map_err(|e| SendError::Invalid(format!("method {:?}: {e}", model.method)))?;
        let url = reqwest::Url::parse(&model.url)
            .map_err(|e| SendError::Invalid(format!("URL {:?}: {e}", model.url)))?;
        let mut request = self.client.request(method, url.clone());
        for h in &model.headers {
            request = request.header(h.name.as_str(), h.value.expose());
        }
        let request = request
            .body(model.body())
            .build()
            .map_err(|e| SendError::Invalid(e.to_string()))?;
        self.execute(request, &url).await
    }

    async fn execute(
        &self,
        request: reqwest::Request,
        url: &reqwest::Url,
    ) -> Result<HttpResponse, SendError> {
        let timeout_secs = self.config.timeout.as_secs();
        let connect_secs = self.config.connect_timeout.as_secs();
        let started = Instant::now();
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| classify(&e, url, connect_secs, timeout_secs, started))?;
        let status = response.status();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let version = format!("{:?}", response.version());
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = self.config.max_body.saturating_sub(body.len());
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(classify(&e, url, connect_secs, timeout_secs, started)),
            }
        }
        Ok(HttpResponse {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_owned(),
            version,
            headers,
            body,
            truncated,
            max_body: self.config.max_body,
        })
    }
}

impl HttpClient for Transport {
    async fn send(&self, model: &RequestModel) -> Result<HttpResponse, SendError> {
        Transport::send(self, model).await
    }

    async fn get_json(&self, url: &str) -> Result<HttpResponse, SendError> {
        Transport::get_json(self, url).await
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn classify(
    e: &reqwest::Error,
    url: &reqwest::Url,
    connect_secs: u64,
    timeout_secs: u64,
    started: Instant,
) -> SendError {
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    let host = url.host_str().unwrap_or_default().to_owned();
    let addr = format!(
        "{}:{}",
        host,
        url.port_or_known_default().unwrap_or_default()
    );
    let mut io_kind = None;
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        source = s.source();
    }
    if io_kind == Some(std::io::ErrorKind::ConnectionRefused)
        || lower.contains("connection refused")
    {
        return SendError::Refused(addr);
    }
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
        || lower.contains("no address associated")
    {
        return SendError::Dns(host);
    }
    if e.is_timeout() {
        // A connect timeout fires before the connect deadline plus a little.
        let elapsed = started.elapsed().as_secs_f64();
        if e.is_connect() || (elapsed < connect_secs as f64 + 0.5 && connect_secs < timeout_secs) {
            return SendError::ConnectTimeout(connect_secs, addr);
        }
        return SendError::Timeout(timeout_secs, addr);
    }
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("unknownissuer")
        || lower.contains("invalid peer")
        || lower.contains("alert")
    {
        let advice = if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
            " (the server's certificate is not signed by a trusted CA: add the CA file to the profile)"
        } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
            " (the certificate is for another host name)"
        } else if lower.contains("expired") {
            " (the certificate has expired)"
        } else if lower.contains("certificaterequired") || lower.contains("certificate required") {
            " (the server requires a client certificate: set the mTLS certificate and key)"
        } else {
            ""
        };
        return SendError::Tls(format!("{chain}{advice}"));
    }
    if e.is_builder() || e.is_request() && !e.is_connect() && lower.contains("builder") {
        return SendError::Invalid(chain);
    }
    SendError::Connection(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_identity_and_ca_are_reported() {
        let err = Transport::new(TransportConfig {
            identity_pem: Some(Secret::new("not a pem")),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            matches!(err, SendError::Invalid(ref m) if m.contains("mTLS")),
            "{err}"
        );
        let err = Transport::new(TransportConfig {
            ca_pem: Some("nothing".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(err, SendError::Invalid(_)), "{err}");
    }

    #[test]
    fn messages_give_advice() {
        assert!(
            SendError::Refused("127.0.0.1:9".into())
                .to_string()
                .contains("nothing is listening")
        );
        assert!(
            SendError::Dns("nohost.invalid".into())
                .to_string()
                .contains("DNS")
        );
    }
}
