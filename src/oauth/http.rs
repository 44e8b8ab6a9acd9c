//! What crosses the wire, as plain data: the answer ([`HttpResponse`] with its headers,
//! its `WWW-Authenticate` challenge and its `Date`), the transport failures
//! ([`SendError`]), and the seam between the pipeline and the network ([`HttpClient`],
//! with [`FnClient`] for tests). The reqwest adapter is [`crate::oauth::transport`].

#![deny(clippy::arithmetic_side_effects)]

use serde::Serialize;

use crate::oauth::request::RequestModel;

/// The default cap on a response body: 10 MiB.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// A transport failure, each kind with its own message and advice.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum SendError {
    /// The TCP/TLS connection was not made in time.
    #[error(
        "could not connect within {0} s: the host is unreachable or a firewall drops the packets ({1})"
    )]
    ConnectTimeout(u64, String),
    /// Connected, but the whole exchange took too long.
    #[error(
        "no complete answer within {0} s: the server is slow or stuck; raise the timeout or try again ({1})"
    )]
    Timeout(u64, String),
    /// Nothing listens on that port.
    #[error(
        "connection refused: nothing is listening at {0}; check the host and port (is the server running?)"
    )]
    Refused(String),
    /// The host name did not resolve.
    #[error("the host name {0} could not be resolved (DNS): check the spelling and your network")]
    Dns(String),
    /// The TLS handshake failed (certificate, protocol, client certificate).
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The request could not even be made (bad URL, bad header, bad identity).
    #[error("the request is invalid: {0}")]
    Invalid(String),
    /// The connection broke.
    #[error("the connection failed: {0}")]
    Connection(String),
}

/// The answer, as received.
#[derive(Clone, PartialEq, Serialize)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// HTTP version (`HTTP/1.1`, `HTTP/2.0`).
    pub version: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The body, at most the cap.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// True when the body was cut at the cap.
    pub truncated: bool,
    /// The cap that applied.
    pub max_body: usize,
}

/// The body may hold tokens: `Debug` gives its length only.
impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("truncated", &self.truncated)
            .finish_non_exhaustive()
    }
}

impl HttpResponse {
    /// A header value (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `WWW-Authenticate` challenge, read (RFC 9110 §11.6.1).
    pub fn www_authenticate(&self) -> Option<WwwAuthenticate> {
        self.header("www-authenticate").map(WwwAuthenticate::parse)
    }

    /// The server's clock when it answered (its `Date`, RFC 9110 §6.6.1), Unix seconds.
    pub fn server_time(&self) -> Option<i64> {
        let date = httpdate::parse_http_date(self.header("date")?).ok()?;
        date.duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok())
    }
}

/// How far the server's clock is ahead of ours (negative: behind), read from its `Date`
/// header (RFC 9110 §6.6.1; whole seconds) against `now`.
pub fn clock_skew_secs(response: &HttpResponse, now: std::time::SystemTime) -> Option<i64> {
    let server = response.server_time()?;
    let ours = match now.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok()?,
        Err(before) => 0i64.checked_sub(i64::try_from(before.duration().as_secs()).ok()?)?,
    };
    server.checked_sub(ours)
}

/// A `WWW-Authenticate` challenge: its scheme (`Bearer`, `DPoP`) and its auth-params
/// (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9449 §7.1). Quoted and token values are both
/// read; a value that is not closed runs to the end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WwwAuthenticate {
    /// The scheme, as sent.
    pub scheme: String,
    /// The parameters in order, names lower-cased.
    pub params: Vec<(String, String)>,
}

impl WwwAuthenticate {
    /// Reads the first challenge of a header value.
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        let (scheme, mut rest) = match value.find(char::is_whitespace) {
            Some(at) => (&value[..at], value[at..].trim_start()),
            None if value.contains('=') => ("", value),
            None => (value, ""),
        };
        let mut params = Vec::new();
        while let Some(eq) = rest.find('=') {
            let name = rest[..eq]
                .trim()
                .trim_start_matches(',')
                .trim()
                .to_ascii_lowercase();
            let after = rest
                .get(eq.saturating_add(1)..)
                .unwrap_or_default()
                .trim_start();
            let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
                let mut out = String::new();
                let mut escaped = false;
                let mut end = quoted.len();
                for (i, c) in quoted.char_indices() {
                    match (escaped, c) {
                        (true, _) => {
                            out.push(c);
                            escaped = false;
                        }
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = i.saturating_add(1);
                            break;
                        }
                        (false, _) => out.push(c),
                    }
                }
                (out, quoted.get(end..).unwrap_or_default())
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            };
            if !name.is_empty() {
                params.push((name, value));
            }
            rest = next.trim_start().trim_start_matches(',').trim_start();
        }
        Self {
            scheme: scheme.to_owned(),
            params,
        }
    }

    /// A parameter's value (case-insensitive name).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `error`, when the challenge carries one.
    pub fn error(&self) -> Option<&str> {
        self.param("error").filter(|e| !e.is_empty())
    }

    /// `error_description`.
    pub fn error_description(&self) -> Option<&str> {
        self.param("error_description")
    }
}

/// The seam between the pipeline and the network: send a request model, or GET a JSON
/// document (discovery, JWKS). [`crate::oauth::transport::Transport`] (reqwest, rustls, mTLS) is
/// the one real implementation; [`FnClient`] answers from a function, so the pipeline and its retry
/// logic are tested without a server.
pub trait HttpClient: Send + Sync {
    /// Sends the request as the model describes it.
    fn send(
        &self,
        model: &RequestModel,
    ) -> impl std::future::Future<Output = Result<HttpResponse, SendError>> + Send;
    /// GETs a URL, asking for JSON.
    fn get_json(
        &self,
        url: &str,
    ) -> impl std::future::Future<Output = Result<HttpResponse, SendError>> + Send;
}

/// What [`FnClient`] is asked: a request model, or a GET of a URL.
#[derive(Debug)]
pub enum Call<'a> {
    /// [`HttpClient::send`].
    Send(&'a RequestModel),
    /// [`HttpClient::get_json`].
    Get(&'a str),
}

/// An [`HttpClient`] that answers every call with a function (tests, dry runs).
pub struct FnClient<F>(pub F);

impl<F> HttpClient for FnClient<F>
where
    F: Fn(Call<'_>) -> Result<HttpResponse, SendError> + Send + Sync,
{
    async fn send(&self, model: &RequestModel) -> Result<HttpResponse, SendError> {
        (self.0)(Call::Send(model))
    }

    async fn get_json(&self, url: &str) -> Result<HttpResponse, SendError> {
        (self.0)(Call::Get(url))
    }
}

impl HttpResponse {
    /// An answer with a status, headers and a body (tests and [`FnClient`]s).
    pub fn with(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        Self {
            status,
            reason: http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("")
                .to_owned(),
            version: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            max_body: body.len().max(DEFAULT_MAX_BODY),
            body,
            truncated: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn www_authenticate_reads_quoted_and_token_params() {
        let w = WwwAuthenticate::parse(
            r#"DPoP algs="ES256 PS256", error="invalid_token", error_description="the \"ath\" differs""#,
        );
        assert_eq!(w.scheme, "DPoP");
        assert_eq!(w.param("algs"), Some("ES256 PS256"));
        assert_eq!(w.error(), Some("invalid_token"));
        assert_eq!(w.error_description(), Some(r#"the "ath" differs"#));
        let w = WwwAuthenticate::parse("Bearer error=insufficient_scope, scope=accounts");
        assert_eq!(w.error(), Some("insufficient_scope"));
        assert_eq!(w.param("SCOPE"), Some("accounts"));
        let w = WwwAuthenticate::parse(r#"Bearer realm="x""#);
        assert_eq!(w.error(), None);
        assert_eq!(WwwAuthenticate::parse("Bearer").scheme, "Bearer");
        // Cut short: no panic, the value runs to the end.
        assert_eq!(
            WwwAuthenticate::parse(r#"Bearer error="inv"#).error(),
            Some("inv")
        );
    }

    #[test]
    fn the_server_clock_is_read_from_date() {
        let r = HttpResponse::with(200, &[("Date", "Thu, 03 Dec 2026 08:00:00 GMT")], "");
        assert_eq!(r.server_time(), Some(1_796_284_800));
        let skew = clock_skew_secs(
            &r,
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_284_790),
        );
        assert_eq!(skew, Some(10));
        assert_eq!(
            HttpResponse::with(200, &[("date", "garbage")], "").server_time(),
            None
        );
    }
}
