//! The sandbox's transport: mTLS-bound tokens, the Host check, limits on what a connection may hold.

use super::*;

#[tokio::test]
async fn mutual_tls_binds_tokens_to_the_client_certificate() {
    let client = TestClient::ed25519("tpp-mtls");
    let config = SandboxConfig {
        signing_key_pem: Some(Secret::new(rsa_pem(0))),
        clients: vec![client.registration()],
        tls: Some(token_inspector::sandbox::TlsOptions {
            require_client_cert: true,
            ..Default::default()
        }),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.expect("TLS sandbox starts");
    let issuer = sandbox.issuer().to_owned();
    assert!(issuer.starts_with("https://127.0.0.1:"), "{issuer}");
    let ca = sandbox.ca_pem().expect("generated CA");

    // A self-signed client certificate (self_signed_tls_client_auth).
    let cert_key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["tpp.example".to_owned()])
        .expect("params")
        .self_signed(&cert_key)
        .expect("cert");
    let identity = format!("{}{}", cert.pem(), cert_key.serialize_pem());
    let expected_x5t = b64(Sha256::digest(cert.der().as_ref()));
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA")])
        .identity(reqwest::Identity::from_pem(identity.as_bytes()).expect("identity"))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");

    let doc: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .expect("discovery over mTLS")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["issuer"], json!(issuer));
    assert_eq!(
        doc["tls_client_certificate_bound_access_tokens"],
        json!(true)
    );
    assert_eq!(
        doc["mtls_endpoint_aliases"]["token_endpoint"],
        json!(format!("{issuer}/token"))
    );

    let token: Value = http
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &client.assertion(&issuer)),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let access_token = token["access_token"].as_str().expect("access_token");
    let intro: Value = http
        .post(format!("{issuer}/introspect"))
        .form(&[
            ("token", access_token),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &client.assertion(&issuer)),
        ])
        .send()
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json");
    assert_eq!(intro["active"], json!(true));
    assert_eq!(intro["cnf"]["x5t#S256"], json!(expected_x5t));

    // self_signed_tls_client_auth: the certificate alone authenticates the client once
    // it is registered in the client's jwks as x5c (RFC 8705 §2.2).
    let by_cert = || {
        http.post(format!("{issuer}/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "tpp-mtls"),
            ])
            .send()
    };
    let refused = by_cert().await.expect("token");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let point = cert_key.public_key_raw().to_vec();
    assert_eq!(point.len(), 65, "P-256 uncompressed point");
    let mut jwks = client.jwks.clone();
    jwks["keys"].as_array_mut().expect("keys").push(
        json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]),
            "kid": "mtls", "x5c": [base64::engine::general_purpose::STANDARD.encode(cert.der())]}),
    );
    sandbox.register_client(ClientRegistration {
        jwks,
        ..client.registration()
    });
    let accepted = by_cert().await.expect("token");
    assert_eq!(accepted.status(), StatusCode::OK);

    // Without a client certificate the handshake is refused.
    let anonymous = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA")])
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    assert!(
        anonymous
            .get(format!("{issuer}/jwks"))
            .send()
            .await
            .is_err()
    );
    sandbox.shutdown().await;
}

/// DNS rebinding: a request whose Host is another name (a web page's domain resolved to
/// 127.0.0.1) is refused with 421; the issuer's own host and localhost are answered.
#[tokio::test]
async fn only_requests_addressed_to_the_sandbox_are_answered() {
    let env = env().await;
    let issuer = env.sandbox.issuer().to_owned();
    let port = url::Url::parse(&issuer).unwrap().port().unwrap();
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    for (host, status) in [
        (format!("127.0.0.1:{port}"), 200),
        (format!("localhost:{port}"), 200),
        (format!("evil.example:{port}"), 421),
        (format!("127.0.0.1.nip.io:{port}"), 421),
    ] {
        let r = env
            .http
            .get(&discovery)
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{host}");
    }
}

/// A half-sent request does not hold its connection forever: when its headers do not
/// arrive within the header-read timeout, the sandbox closes the connection; a whole
/// request on another connection is answered meanwhile.
#[tokio::test]
async fn a_half_sent_request_is_closed() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let config = SandboxConfig {
        header_read_timeout: Duration::from_millis(500),
        ..SandboxConfig::default()
    };
    let env = start(config, TestClient::ed25519("tpp-ed")).await;
    let addr = env
        .sandbox
        .issuer()
        .trim_start_matches("http://")
        .to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /jwks HTTP/1.1\r\nHost: ")
        .await
        .unwrap();
    let answered = env
        .http
        .get(format!("{}/jwks", env.sandbox.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status().as_u16(), 200);
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection was not closed in time");
}
