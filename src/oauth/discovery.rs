//! OIDC Discovery 1.0 (`/.well-known/openid-configuration`) and JWKS retrieval: fill a
//! profile's endpoints from the issuer, and warn where the document disagrees with the
//! issuer asked for (OIDC Discovery §4.3, RFC 8414 §3.3).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::checks::{Finding, Severity};
use crate::oauth::http::{HttpClient, SendError};
use crate::storage::profile::{Endpoints, Profile};

/// Discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The issuer is not a URL.
    #[error("the issuer {0:?} is not an https URL")]
    BadIssuer(String),
    /// Transport failure.
    #[error(transparent)]
    Send(#[from] SendError),
    /// Not 200.
    #[error("{url} answered HTTP {status}: {snippet}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// The start of the body.
        snippet: String,
    },
    /// The answer is larger than the transport's body cap.
    #[error("{url} answered more than {limit} bytes; refusing to read more")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// The document names another issuer than the one asked for: it must not be used
    /// (RFC 8414 §3.3, OIDC Discovery §4.3), or a server could speak for another.
    #[error(
        "the discovery document at {url} names the issuer {document:?}, not {asked:?}: it is not used (RFC 8414 §3.3)"
    )]
    IssuerMismatch {
        /// Where it was fetched.
        url: String,
        /// The issuer asked for.
        asked: String,
        /// What the document says (`(none)` when it says nothing).
        document: String,
    },
    /// Not a JSON object.
    #[error("{url} did not answer a JSON object: {reason}")]
    NotJson {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
}

/// A discovery document and what it means for a profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Discovery {
    /// Where it was fetched.
    pub url: String,
    /// The document as received.
    pub document: Map<String, Value>,
    /// The endpoints it names.
    pub endpoints: Endpoints,
    /// mTLS endpoint aliases (RFC 8705 §5), when present.
    pub mtls_endpoints: Endpoints,
    /// Problems found.
    pub findings: Vec<Finding>,
}

/// The discovery URL for an issuer (OIDC Discovery §4.1).
pub fn discovery_url(issuer: &str) -> Result<String, DiscoveryError> {
    let trimmed = issuer.trim();
    let url =
        url::Url::parse(trimmed).map_err(|_| DiscoveryError::BadIssuer(trimmed.to_owned()))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(DiscoveryError::BadIssuer(trimmed.to_owned()));
    }
    Ok(format!(
        "{}/.well-known/openid-configuration",
        trimmed.trim_end_matches('/')
    ))
}

fn endpoints_from(doc: &Map<String, Value>) -> Endpoints {
    let s = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_owned);
    Endpoints {
        token: s("token_endpoint"),
        par: s("pushed_authorization_request_endpoint"),
        authorization: s("authorization_endpoint"),
        jwks: s("jwks_uri"),
        revocation: s("revocation_endpoint"),
        introspection: s("introspection_endpoint"),
        userinfo: s("userinfo_endpoint"),
        consent: None,
    }
}

/// Whether a URL from outside (a discovery document, a profile) may be used as an
/// endpoint or handed to the browser: `https`, or `http` on a loopback host (a local
/// test server); plain `http` elsewhere only when the user allows it. Never another
/// scheme (`smb:`, `file:`), and never a link-local host (`169.254.0.0/16`, `fe80::/10`:
/// cloud metadata services).
pub fn endpoint_allowed(url: &str, allow_http: bool) -> Result<(), String> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    let link_local = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_link_local(),
        Some(url::Host::Ipv6(ip)) => (ip.segments()[0] & 0xffc0) == 0xfe80,
        _ => false,
    };
    if link_local {
        return Err(format!(
            "{url:?} points at a link-local address (where cloud metadata services answer)"
        ));
    }
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback || allow_http => Ok(()),
        "http" => Err(format!(
            "{url:?} is plain http to a host that is not this machine: anyone on the way can read it (give --allow-http to use it anyway)"
        )),
        other => Err(format!("{url:?} uses {other}:, not https")),
    }
}

/// The endpoints of a document that pass [`endpoint_allowed`]; each refused one is a
/// finding.
fn safe_endpoints(
    mut endpoints: Endpoints,
    allow_http: bool,
    findings: &mut Vec<Finding>,
) -> Endpoints {
    for (name, slot) in [
        ("token_endpoint", &mut endpoints.token),
        ("pushed_authorization_request_endpoint", &mut endpoints.par),
        ("authorization_endpoint", &mut endpoints.authorization),
        ("jwks_uri", &mut endpoints.jwks),
        ("revocation_endpoint", &mut endpoints.revocation),
        ("introspection_endpoint", &mut endpoints.introspection),
        ("userinfo_endpoint", &mut endpoints.userinfo),
    ] {
        if let Some(url) = slot.as_deref()
            && let Err(why) = endpoint_allowed(url, allow_http)
        {
            findings.push(Finding::new(
                Severity::Error,
                "discovery.endpoint_refused",
                format!("{name} is not used: {why}"),
                "FAPI 2.0 SP §5.2.2; RFC 8414 §2",
            ));
            *slot = None;
        }
    }
    endpoints
}

/// Reads a discovery document (already fetched) for an issuer: refused when it names
/// another issuer; endpoints that are not `https` (or `http` on loopback, or with
/// `allow_http`) are dropped with a finding.
pub fn read_document(
    issuer: &str,
    url: &str,
    document: Map<String, Value>,
    allow_http: bool,
) -> Result<Discovery, DiscoveryError> {
    let named = document.get("issuer").and_then(Value::as_str);
    if named != Some(issuer.trim()) {
        return Err(DiscoveryError::IssuerMismatch {
            url: url.to_owned(),
            asked: issuer.trim().to_owned(),
            document: named.unwrap_or("(none)").to_owned(),
        });
    }
    let mut findings = Vec::new();
    let endpoints = safe_endpoints(endpoints_from(&document), allow_http, &mut findings);
    if endpoints.token.is_none() {
        findings.push(Finding::new(
            Severity::Error,
            "discovery.no_token_endpoint",
            "the document names no usable token_endpoint",
            "OIDC Discovery 1.0 §3",
        ));
    }
    let mtls_endpoints = document
        .get("mtls_endpoint_aliases")
        .and_then(Value::as_object)
        .map(endpoints_from)
        .map(|e| safe_endpoints(e, allow_http, &mut findings))
        .unwrap_or_default();
    Ok(Discovery {
        url: url.to_owned(),
        document,
        endpoints,
        mtls_endpoints,
        findings,
    })
}

/// Fetches and reads the discovery document of an issuer (see [`read_document`]).
pub async fn discover(
    transport: &impl HttpClient,
    issuer: &str,
    allow_http: bool,
) -> Result<Discovery, DiscoveryError> {
    let url = discovery_url(issuer)?;
    let document = fetch_object(transport, &url).await?;
    read_document(issuer, &url, document, allow_http)
}

/// What a profile's ecosystem expects of a server, for [`crate::checks::discovery`].
pub fn expectations(
    profile: &Profile,
    mtls: bool,
    dpop: bool,
) -> crate::checks::discovery::Expectations {
    let preset = crate::storage::presets::for_profile(profile);
    crate::checks::discovery::Expectations {
        fapi2: preset.is_none_or(|p| p.fapi == crate::storage::presets::FapiProfile::Fapi2),
        mtls,
        dpop,
        auth_method: Some(profile.auth.method.as_str().to_owned()),
        consent_type: preset
            .map(|p| p.consent.consent_type.clone())
            .filter(|t| !t.is_empty()),
        response_type: Some(profile.front_channel.response_type.clone())
            .filter(|t| !t.trim().is_empty()),
        response_mode: profile
            .front_channel
            .response_mode
            .clone()
            .filter(|m| !m.trim().is_empty()),
        source: preset.map_or_else(
            || "this client (FAPI 2.0)".to_owned(),
            |p| format!("the {} preset", p.name),
        ),
    }
}

/// Fetches a JSON object (a discovery document or a JWKS).
pub async fn fetch_object(
    transport: &impl HttpClient,
    url: &str,
) -> Result<Map<String, Value>, DiscoveryError> {
    let response = transport.get_json(url).await?;
    read_object(url, response)
}

/// Reads a fetched answer as a JSON object.
fn read_object(
    url: &str,
    response: crate::oauth::http::HttpResponse,
) -> Result<Map<String, Value>, DiscoveryError> {
    if response.status != 200 {
        let snippet: String = String::from_utf8_lossy(&response.body)
            .chars()
            .take(200)
            .collect();
        return Err(DiscoveryError::Status {
            url: url.to_owned(),
            status: response.status,
            snippet,
        });
    }
    if response.truncated {
        return Err(DiscoveryError::TooLarge {
            url: url.to_owned(),
            limit: response.max_body,
        });
    }
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(DiscoveryError::NotJson {
            url: url.to_owned(),
            reason: "JSON, but not an object".into(),
        }),
        Err(e) => Err(DiscoveryError::NotJson {
            url: url.to_owned(),
            reason: e.to_string(),
        }),
    }
}

/// The most a fetched JWKS may weigh.
pub const JWKS_SIZE_LIMIT: usize = 1024 * 1024;

/// Fetches a JWKS (`{"keys": [...]}`) through the caller's transport (its CA, client
/// certificate and limits).
pub async fn fetch_jwks(transport: &impl HttpClient, url: &str) -> Result<Value, DiscoveryError> {
    let map = fetch_object(transport, url).await?;
    if !map.get("keys").is_some_and(Value::is_array) {
        return Err(DiscoveryError::NotJson {
            url: url.to_owned(),
            reason: "no \"keys\" array: not a JWKS".into(),
        });
    }
    Ok(Value::Object(map))
}

/// The client's registered JWK Set from where the profile says (`client_jwks`): a URL
/// fetched through the caller's transport, or a file. The message says which failed.
pub async fn registered_jwks(transport: &impl HttpClient, source: &str) -> Result<Value, String> {
    let source = source.trim();
    if source.starts_with("https://") || source.starts_with("http://") {
        return fetch_jwks(transport, source)
            .await
            .map_err(|e| format!("the client JWKS {source}: {e}"));
    }
    let text = tokio::fs::read_to_string(source)
        .await
        .map_err(|e| format!("the client JWKS {source}: {e}"))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("the client JWKS {source}: not JSON: {e}"))?;
    // A single JWK is taken as a set of one.
    Ok(if value.get("keys").is_some() {
        value
    } else {
        serde_json::json!({ "keys": [value] })
    })
}

/// A member of a discovery document that lists strings (`*_supported`), when present
/// (RFC 8414 §2); members that are not strings are skipped.
pub fn string_list(document: &Value, member: &str) -> Option<Vec<String>> {
    let list = document.get(member)?.as_array()?;
    Some(
        list.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    )
}

/// Copies the discovered endpoints into a profile (only those the document names). A
/// profile with a client certificate takes the `mtls_endpoint_aliases` where the server
/// names them (RFC 8705 §5); a server that says `require_signed_request_object` turns
/// signed request objects on (RFC 9101 §10.5).
pub fn apply_to_profile(discovery: &Discovery, profile: &mut Profile) {
    let mtls = profile.tls.client_cert.is_some();
    let e = &discovery.endpoints;
    let m = &discovery.mtls_endpoints;
    let p = &mut profile.endpoints;
    for (target, value, alias) in [
        (&mut p.token, &e.token, &m.token),
        (&mut p.par, &e.par, &m.par),
        (&mut p.authorization, &e.authorization, &None),
        (&mut p.jwks, &e.jwks, &None),
        (&mut p.revocation, &e.revocation, &m.revocation),
        (&mut p.introspection, &e.introspection, &m.introspection),
        (&mut p.userinfo, &e.userinfo, &m.userinfo),
    ] {
        let chosen = if mtls && alias.is_some() {
            alias
        } else {
            value
        };
        if chosen.is_some() {
            target.clone_from(chosen);
        }
    }
    if discovery
        .document
        .get("require_signed_request_object")
        .and_then(Value::as_bool)
        == Some(true)
    {
        profile.request_object.signed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::transport::{Transport, TransportConfig};
    use serde_json::json;

    #[test]
    fn mtls_aliases_and_required_request_objects_reach_the_profile() {
        let doc = json!({
            "issuer": "https://as.example",
            "token_endpoint": "https://as.example/token",
            "pushed_authorization_request_endpoint": "https://as.example/par",
            "require_signed_request_object": true,
            "mtls_endpoint_aliases": {
                "token_endpoint": "https://mtls.as.example/token",
                "pushed_authorization_request_endpoint": "https://mtls.as.example/par"
            }
        });
        let Value::Object(map) = doc else { panic!() };
        let d = read_document("https://as.example", "u", map, false).unwrap();
        let mut plain = Profile::new("p", "https://as.example");
        apply_to_profile(&d, &mut plain);
        assert_eq!(
            plain.endpoints.token.as_deref(),
            Some("https://as.example/token")
        );
        assert!(plain.request_object.signed);
        let mut with_cert = Profile::new("m", "https://as.example");
        with_cert.tls.client_cert = Some("cert.pem".into());
        apply_to_profile(&d, &mut with_cert);
        assert_eq!(
            with_cert.endpoints.token.as_deref(),
            Some("https://mtls.as.example/token")
        );
        assert_eq!(
            with_cert.endpoints.par.as_deref(),
            Some("https://mtls.as.example/par")
        );
    }

    #[test]
    fn a_document_for_another_issuer_is_refused() {
        let doc = json!({
            "issuer": "https://auth1.sandbox.mya.ozoneapi.io/",
            "token_endpoint": "https://as1.sandbox.mya.ozoneapi.io/token",
        });
        let Value::Object(map) = doc else { panic!() };
        let e = read_document(
            "https://auth1.sandbox.mya.ozoneapi.io",
            "u",
            map.clone(),
            false,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, DiscoveryError::IssuerMismatch { .. }), "{text}");
        assert!(
            text.contains("https://auth1.sandbox.mya.ozoneapi.io/\""),
            "both shown: {text}"
        );
        let mut none = map;
        none.remove("issuer");
        assert!(matches!(
            read_document("https://a.example", "u", none, false),
            Err(DiscoveryError::IssuerMismatch { .. })
        ));
    }

    /// Endpoints from a document are used only when https (or http on this machine):
    /// another scheme, plain http elsewhere and a link-local jwks_uri are dropped, each
    /// with a finding; `allow_http` lets plain http through, never the rest.
    #[test]
    fn only_safe_endpoints_are_taken() {
        let doc = json!({
            "issuer": "https://as.example",
            "token_endpoint": "https://as.example/token",
            "authorization_endpoint": "smb://evil.example/share",
            "pushed_authorization_request_endpoint": "http://as.example/par",
            "userinfo_endpoint": "http://127.0.0.1:8080/userinfo",
            "jwks_uri": "http://169.254.169.254/latest/meta-data",
            "revocation_endpoint": "https://[fe80::1]/revoke",
            "mtls_endpoint_aliases": {"token_endpoint": "http://mtls.as.example/token"}
        });
        let Value::Object(map) = doc else { panic!() };
        let d = read_document("https://as.example", "u", map.clone(), false).unwrap();
        assert_eq!(
            d.endpoints.token.as_deref(),
            Some("https://as.example/token")
        );
        assert_eq!(d.endpoints.authorization, None);
        assert_eq!(d.endpoints.par, None);
        assert_eq!(d.endpoints.jwks, None);
        assert_eq!(d.endpoints.revocation, None);
        assert_eq!(d.mtls_endpoints.token, None);
        assert_eq!(
            d.endpoints.userinfo.as_deref(),
            Some("http://127.0.0.1:8080/userinfo")
        );
        let refused = d
            .findings
            .iter()
            .filter(|f| f.code == "discovery.endpoint_refused")
            .count();
        assert_eq!(refused, 5, "{:?}", d.findings);
        let allowed = read_document("https://as.example", "u", map, true).unwrap();
        assert_eq!(
            allowed.endpoints.par.as_deref(),
            Some("http://as.example/par")
        );
        assert_eq!(
            allowed.endpoints.authorization, None,
            "never another scheme"
        );
        assert_eq!(allowed.endpoints.jwks, None, "never link-local");
    }

    #[test]
    fn discovery_url_shapes() {
        assert_eq!(
            discovery_url("https://a.example/").unwrap(),
            "https://a.example/.well-known/openid-configuration"
        );
        assert!(discovery_url("a.example").is_err());
    }

    #[tokio::test]
    async fn fetch_jwks_from_loopback() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let big = format!(
                r#"{{"keys":[],"pad":"{}"}}"#,
                "a".repeat(2 * JWKS_SIZE_LIMIT)
            );
            for (status, body) in [
                ("200 OK", r#"{"keys":[{"kty":"oct","k":"AA"}]}"#),
                ("200 OK", r#"{"nope":1}"#),
                ("404 Not Found", "{}"),
                ("200 OK", big.as_str()),
            ] {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 2048];
                let _ = sock.read(&mut buf).await.unwrap();
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                // The client stops reading at the size cap; a broken pipe is expected then.
                let _ = sock.write_all(resp.as_bytes()).await;
            }
        });
        let url = format!("http://{addr}/jwks");
        let transport = Transport::new(TransportConfig {
            max_body: JWKS_SIZE_LIMIT,
            ..TransportConfig::default()
        })
        .unwrap();
        let set = fetch_jwks(&transport, &url).await.unwrap();
        assert_eq!(set["keys"][0]["kty"], "oct");
        assert!(matches!(
            fetch_jwks(&transport, &url).await,
            Err(DiscoveryError::NotJson { .. })
        ));
        assert!(matches!(
            fetch_jwks(&transport, &url).await,
            Err(DiscoveryError::Status { status: 404, .. })
        ));
        assert!(matches!(
            fetch_jwks(&transport, &url).await,
            Err(DiscoveryError::TooLarge {
                limit: JWKS_SIZE_LIMIT,
                ..
            })
        ));
        server.await.unwrap();
    }
}
