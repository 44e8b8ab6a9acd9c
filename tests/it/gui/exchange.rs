//! The app's exchanges: paste, authorize, send, curl, refresh, a slow server, PAR over mTLS, DPoP.

use super::*;

#[test]
fn paste_a_redirect_url_fills_code_and_state() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    s.clipboard
        .set_text("https://client.example/cb?code=abc123&state=xyz789&iss=https%3A%2F%2Fas.example")
        .unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Request");
    click(&mut h, "Paste redirect");
    assert_eq!(h.state().state.request.code, "abc123");
    assert_eq!(
        h.state().state.request.received_state.as_deref(),
        Some("xyz789")
    );
    assert_eq!(h.get_by_label("code").value().as_deref(), Some("abc123"));
    h.get_by_label("xyz789");
    assert!(h.state().state.request.authorization.findings.is_empty());

    // Typed into the box, a redirect from another issuer is flagged (RFC 9207) and its
    // code is shown, not used: nothing can send it.
    type_into(
        &mut h,
        "Code or redirect URL",
        "https://client.example/cb?code=def456&state=s2&iss=https%3A%2F%2Fevil.example",
    );
    assert_eq!(h.state().state.request.code, "", "the code is not taken");
    let said = h
        .state()
        .state
        .request
        .paste_error
        .clone()
        .unwrap_or_default();
    assert!(
        said.contains("not sent") && said.contains("evil.example"),
        "{said}"
    );
    let codes: Vec<&str> = h
        .state()
        .state
        .request
        .authorization
        .findings
        .iter()
        .map(|f| f.code)
        .collect();
    assert!(codes.iter().any(|c| c.contains("iss")), "{codes:?}");
}

#[test]
fn authorize_and_send_against_the_embedded_sandbox() {
    // An empty profile folder: the first launch creates the Local sandbox profile.
    let s = Setup::new();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    let profile = h.state().state.profile().unwrap().clone();
    assert!(profile.local_sandbox);
    assert!(
        profile.endpoints.par.is_some(),
        "discovery filled the endpoints"
    );
    assert!(profile.redirect_uri.ends_with("/callback"));
    // The Local sandbox plays Open Finance Malaysia strictly: HTTPS with its local CA,
    // signed request objects, and the app's transport certificate on the back channel.
    assert!(profile.issuer.starts_with("https://"), "{}", profile.issuer);
    assert!(profile.request_object.signed);
    assert!(profile.tls.client_cert.is_some() && profile.tls.ca_file.is_some());

    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for_code(&mut h);
    assert!(h.state().state.request.authorization.findings.is_empty());
    h.get_by_label_contains("matches the state sent");

    click(&mut h, "Send");
    wait_for(&mut h, "the answer", |a| !a.state.history.is_empty());
    let entry = h.state().state.history.last().unwrap();
    let response = entry.exchange.response().expect("an HTTP answer");
    assert_eq!(response.http.status, 200, "{}", response.body_text);
    h.get_by_label("HTTP 200 OK");
    h.get_by_label("Consent");
    assert!(h.query_all_by_label("Greenbank Current Account").count() >= 1);
    assert!(h.query_all_by_label("Greenbank Savings Account").count() >= 1);
    h.get_by_label_contains("Access token expires in");
    h.get_by_label_contains("id_token (id_token)");

    // The id_token, copied and verified in the JWT panel against the sandbox's JWKS.
    click(&mut h, "Copy id_token");
    let id_token = s.clipboard.text();
    assert_eq!(id_token.matches('.').count(), 2, "{id_token}");
    click(&mut h, "JWT");
    click(&mut h, "Paste token");
    assert_eq!(h.state().state.jwt.input, id_token);
    click(&mut h, "profile JWKS");
    click(&mut h, "Fetch profile JWKS");
    wait_for(&mut h, "the JWKS", |a| a.state.jwt.jwks.is_some());
    h.get_by_label_contains("Signature valid");

    // The refresh token came back; the refresh_token grant uses it at once.
    click(&mut h, "Request");
    click(&mut h, "Grant type");
    click(&mut h, "refresh_token");
    assert_eq!(
        h.state().state.request.grant,
        token_inspector::oauth::request::GrantType::RefreshToken
    );
    click(&mut h, "Send");
    wait_for(&mut h, "the refresh answer", |a| a.state.history.len() == 2);
    let refreshed = h.state().state.history.last().unwrap();
    let r = refreshed.exchange.response().expect("an HTTP answer");
    assert_eq!(r.http.status, 200, "{}", r.body_text);
    assert_eq!(
        h.query_all_by_label_contains("200 refresh_token").count(),
        1
    );

    // The curl of the request just sent.
    click(&mut h, "Request");
    click(&mut h, "Copy curl");
    let curl = s.clipboard.text();
    assert!(curl.starts_with("curl"), "{curl}");
    assert!(curl.contains("--data-urlencode"), "{curl}");
    assert!(curl.contains("client_assertion="), "{curl}");
}

#[test]
fn copy_curl_with_button_and_shortcut() {
    let mut p = bank_profile("Public client");
    p.auth.method = AuthMethod::None;
    let s = Setup::new().with_profile(&p);
    s.clipboard.set_text("the-code").unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Request");
    click(&mut h, "Paste redirect");
    click(&mut h, "Copy curl");
    let curl = s.clipboard.text();
    assert!(curl.starts_with("curl"), "{curl}");
    assert!(curl.contains("--data-urlencode"), "{curl}");
    assert!(curl.contains("code=the-code"), "{curl}");

    s.clipboard.set_text("").unwrap();
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::C);
    h.run_ok();
    assert!(
        s.clipboard.text().starts_with("curl"),
        "Ctrl+Shift+C copies curl"
    );

    click(&mut h, "Copy redacted curl");
    assert!(s.clipboard.text().contains("https://as.example/token"));
}

#[test]
fn decode_a_pasted_token_and_verify_it() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": "alice", "iss": "https://as.example", "exp": 4102444800u64}),
        &jsonwebtoken::EncodingKey::from_secret(b"s3cret-s3cret-s3cret-s3cret-s3cret"),
    )
    .unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "JWT");
    type_into(&mut h, "Token", &token);
    click(&mut h, "Decode");
    assert!(matches!(h.state().state.jwt.report, Some(Ok(_))));
    assert!(shows_text(&h, "\"alice\""), "the claims are shown");
    h.get_by_label_contains("Signature not verified");

    click(&mut h, "HMAC secret");
    type_into(
        &mut h,
        "Shared secret (HS256/384/512)",
        "s3cret-s3cret-s3cret-s3cret-s3cret",
    );
    h.get_by_label_contains("Signature valid");

    // An ES256 token, verified with a JWKS file picked in the file dialog.
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let jwks_path = s.dir.path().join("jwks.json");
    let jwks = key.public_jwks(Some("ec-1"), token_inspector::jose::keys::SigningAlg::ES256);
    std::fs::write(&jwks_path, jwks.to_string()).unwrap();
    s.files.push_pick(&jwks_path);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("ec-1".into());
    let es_token = jsonwebtoken::encode(
        &header,
        &serde_json::json!({"sub": "bob", "exp": 4102444800u64}),
        &jsonwebtoken::EncodingKey::from_ec_pem(key.to_pkcs8_pem().expose().as_bytes()).unwrap(),
    )
    .unwrap();
    type_into(&mut h, "Token", &es_token);
    click(&mut h, "key file");
    click(&mut h, "Pick key file…");
    wait_for(&mut h, "the key file", |a| a.state.jwt.key_file.is_some());
    h.get_by_label_contains("Signature valid (key ec-1)");
    assert!(shows_text(&h, "\"bob\""));

    type_into(&mut h, "Token", "not-a-token");
    assert!(matches!(h.state().state.jwt.report, Some(Err(_))));
}

#[test]
fn slow_server_keeps_the_ui_responsive_and_cancel_works() {
    let s = Setup::new();
    // A server that accepts, reads, and answers only after 30 s.
    let listener =
        s.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
    let port = listener.local_addr().unwrap().port();
    s.rt.spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                    .await;
            });
        }
    });
    let mut p = bank_profile("Slow bank");
    p.auth.method = AuthMethod::None;
    p.endpoints.token = Some(format!("http://127.0.0.1:{port}/token"));
    p.tls.timeout_secs = 120;
    let s = s.with_profile(&p);
    s.clipboard.set_text("slow-code").unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Request");
    click(&mut h, "Paste redirect");
    // Ctrl+Enter sends.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    h.step();
    assert!(h.state().state.send.is_running());

    // Frames keep coming while the server sits on the request.
    let ctx = h.ctx.clone();
    let before = ctx.cumulative_pass_nr();
    for _ in 0..30 {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ctx.cumulative_pass_nr() >= before + 30);
    assert!(
        h.state().state.send.is_running(),
        "still waiting for the server"
    );
    assert!(h.query_all_by_label("Sending…").count() >= 1);
    // The rest of the UI still works: switch tabs and back.
    click(&mut h, "JWT");
    click(&mut h, "Request");

    click(&mut h, "Cancel send");
    assert!(!h.state().state.send.is_running());
    h.get_by_label_contains("Request cancelled");
    h.get_by_label_contains("Send cancelled");
    assert!(h.state().state.history.is_empty(), "no answer recorded");
}

/// The request is rebuilt when a secret input changes, even to one of the same length:
/// the second refresh token pasted is the one the server receives.
#[test]
fn a_new_refresh_token_of_the_same_length_is_the_one_sent() {
    let s = Setup::new();
    let (port, bodies) = recording_token_server(&s);
    let mut p = bank_profile("Refreshing bank");
    p.auth.method = AuthMethod::None;
    p.endpoints.token = Some(format!("http://127.0.0.1:{port}/token"));
    let s = s.with_profile(&p);
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Request");
    click(&mut h, "Grant type");
    click(&mut h, "refresh_token");

    // The preview is built from the first token; the second, of the same length, is
    // typed before the first Send (within the 30 s a preview is reused).
    type_secret(&mut h, "Refresh token", "rt-first-AAAAAAAA");
    h.run_ok();
    assert!(
        h.state().state.preview.model.is_some(),
        "a preview was built"
    );
    type_secret(&mut h, "Refresh token", "rt-other-BBBBBBBB");
    click(&mut h, "Send");
    wait_for(&mut h, "the first answer", |a| a.state.history.len() == 1);

    // Again after a Send: a third token, same length.
    click(&mut h, "Request");
    type_secret(&mut h, "Refresh token", "rt-third-CCCCCCCC");
    h.run_ok();
    click(&mut h, "Send");
    wait_for(&mut h, "the second answer", |a| a.state.history.len() == 2);

    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(
        bodies[0].contains("refresh_token=rt-other-BBBBBBBB"),
        "{bodies:?}"
    );
    assert!(
        bodies[1].contains("refresh_token=rt-third-CCCCCCCC"),
        "{bodies:?}"
    );
}

/// The whole front channel in the app against the sandbox playing Open Finance Malaysia
/// strictly (HTTPS, JAR required, mTLS back channel): a profile from the Malaysia preset,
/// Authorize pushes a signed request object over mTLS, the browser (played by the test)
/// approves at the bank, the redirect is caught on the loopback redirect_uri, and the
/// code is exchanged at once; the token is bound to the transport certificate.
#[test]
fn preset_jar_par_browser_loopback_and_exchange_over_mtls() {
    use token_inspector::gui::platform::FakeBrowser;
    use token_inspector::jose::keys::SigningAlg;
    use token_inspector::oauth::transport::{Transport, TransportConfig};
    use token_inspector::sandbox::{ClientRegistration, Sandbox, SandboxConfig, TlsOptions};
    let s = Setup::new();
    let key = PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap();
    let sandbox =
        s.rt.block_on(Sandbox::start(SandboxConfig {
            malaysia: true,
            tls: Some(TlsOptions::default()),
            clients: vec![ClientRegistration {
                client_id: "app-client".into(),
                jwks: key.public_jwks(None, SigningAlg::PS256),
                redirect_uris: Vec::new(),
            }],
            ..SandboxConfig::default()
        }))
        .unwrap();
    let ca = sandbox.ca_pem().unwrap();
    let ca_file = s.dir.path().join("sandbox-ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    // A self-signed transport certificate; its key in the secret store.
    let cert_key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["tpp.example".to_owned()])
        .unwrap()
        .self_signed(&cert_key)
        .unwrap();
    let cert_file = s.dir.path().join("transport.pem");
    std::fs::write(&cert_file, cert.pem()).unwrap();

    let mut profile = token_inspector::storage::presets::find("ofm-paynet-sandbox")
        .unwrap()
        .to_profile("PayNet (local strict sandbox)");
    profile.issuer = sandbox.issuer().to_owned();
    profile.client_id = "app-client".into();
    let port = token_inspector::oauth::loopback::free_port().unwrap();
    profile.redirect_uri = format!("http://127.0.0.1:{port}/callback");
    profile.tls.ca_file = Some(ca_file);
    profile.tls.client_cert = Some(cert_file);
    // The mTLS key in the profile's own keychain entry.
    let mtls_entry = profile.own_entry(token_inspector::storage::profile::MTLS_KEY);
    profile.tls.client_key = Some(mtls_entry.clone());
    profile.endpoints = Default::default();
    let transport = Transport::new(TransportConfig {
        ca_pem: Some(ca.clone()),
        ..TransportConfig::default()
    })
    .unwrap();
    let found =
        s.rt.block_on(token_inspector::oauth::discovery::discover(
            &transport,
            &profile.issuer,
            false,
        ))
        .unwrap();
    token_inspector::oauth::discovery::apply_to_profile(&found, &mut profile);
    s.store
        .set(&profile.key_entry(), key.to_pkcs8_pem())
        .unwrap();
    s.store
        .set(&mtls_entry, &Secret::new(cert_key.serialize_pem()))
        .unwrap();
    let s = s.with_profile(&profile);

    // The browser: approves at the bank (auto_approve, the sandbox's demo user) and
    // follows the redirect to the loopback address.
    let handle = s.rt.handle().clone();
    let ca_for_browser = ca.clone();
    let browser = Arc::new(FakeBrowser::visiting(move |url| {
        let ca = ca_for_browser.clone();
        handle.spawn(async move {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()])
                .build()
                .unwrap();
            let consent = client
                .get(format!("{url}&auto_approve=true"))
                .send()
                .await
                .unwrap();
            let location = consent.headers()["location"].to_str().unwrap().to_owned();
            client.get(location).send().await.unwrap();
        });
    }));
    let app = App::new_for_test_with_browser(
        s.store.clone(),
        s.clipboard.clone(),
        s.files.clone(),
        browser.clone(),
        s.profile_dir(),
        s.rt.handle().clone(),
    );
    let mut h = Harness::builder()
        .with_size(Vec2::new(1400.0, 1000.0))
        .with_max_steps(50)
        .build_ui_state(|ui, app: &mut App| app.frame(ui), app);
    wait_for(&mut h, "the key", |a| a.state.loaded_key().is_some());
    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for(&mut h, "the exchange", |a| !a.state.history.is_empty());
    assert_eq!(browser.opened().len(), 1);
    let entry = h.state().state.history.last().unwrap();
    let response = entry.exchange.response().expect("an HTTP answer");
    assert_eq!(response.http.status, 200, "{}", response.body_text);
    let session = h.state().state.session.as_ref().unwrap();
    let par = session.par.as_ref().unwrap();
    assert!(par.request.request_object.is_some(), "PAR carried a JAR");
    assert_eq!(par.request.form[1].name, "request");
    h.get_by_label("HTTP 200 OK");
    // The PAR is shown as sent, and the certificate the token is bound to.
    click(&mut h, "Request");
    click(&mut h, "Authorization request (PAR)");
    h.get_by_label("Signed request object (decoded)");
    click(&mut h, "Client");
    h.get_by_label("x5t#S256 (RFC 8705)");
}

/// DPoP in the app: the Client panel's checkbox binds the code, the token and the API
/// call to the profile's DPoP key; "Call API" sends the token as `DPoP` with a proof
/// whose `ath` is the token's hash, and the sandbox's accounts API answers.
#[test]
fn dpop_checkbox_binds_the_token_and_call_api_uses_it() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    click(&mut h, "Client");
    click(&mut h, "DPoP (RFC 9449)");
    assert!(h.state().state.profile().unwrap().dpop);
    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for_code(&mut h);
    // What the preview shows (and curl copies) is what Send sends: the DPoP proof too.
    wait_for(
        &mut h,
        "a preview with its proof",
        |a| matches!(&a.state.preview.model, Some(Ok(m)) if m.header("DPoP").is_some()),
    );
    let preview = match &h.state().state.preview.model {
        Some(Ok(m)) => m.clone(),
        other => panic!("no preview: {other:?}"),
    };
    click(&mut h, "Copy curl");
    let curl = s.clipboard.text();
    assert!(curl.contains("--header 'DPoP: ey"), "{curl}");
    click(&mut h, "Send");
    wait_for(&mut h, "the answer", |a| !a.state.history.is_empty());
    let entry = h.state().state.history.last().unwrap();
    assert!(entry.exchange.first_attempt.is_none(), "no nonce was asked");
    assert_eq!(entry.exchange.request, preview, "sent as previewed");
    let response = entry.exchange.response().expect("an HTTP answer");
    assert_eq!(response.http.status, 200, "{}", response.body_text);
    let body = response.body.json().unwrap();
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let proof = entry.exchange.request.dpop.as_ref().expect("a DPoP proof");
    assert_eq!(proof.header["typ"], "dpop+jwt");
    assert!(
        !entry
            .exchange
            .findings
            .iter()
            .any(|f| f.severity == token_inspector::checks::Severity::Error),
        "{:?}",
        entry.exchange.findings
    );
    h.get_by_label("DPoP proof sent");

    // The API URL starts as the sandbox's accounts API.
    click(&mut h, "Call API");
    wait_for(&mut h, "the API answer", |a| {
        a.state.api.result.is_some() && !a.state.api.work.is_running()
    });
    let app = h.state();
    let call = app.state.api.result.as_ref().unwrap().as_ref().unwrap();
    assert!(
        app.state.api.url.ends_with("/accounts"),
        "{}",
        app.state.api.url
    );
    let r = call.response().expect("an HTTP answer");
    assert_eq!(r.http.status, 200, "{}", r.body_text);
    let auth = call
        .request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("authorization"))
        .unwrap();
    assert!(auth.value.expose().starts_with("DPoP "), "sent as DPoP");
    let proof = call.request.dpop.as_ref().expect("a proof on the call");
    assert!(proof.claims["ath"].is_string(), "{}", proof.claims);
    assert_eq!(proof.claims["htm"], "GET");
    assert!(shows_text(&h, "API: HTTP 200 OK"));
}

/// A server that requires DPoP nonces: Send answers the `use_dpop_nonce` refusal by
/// building the request again (fresh proof with the nonce, fresh assertion); the panel
/// shows the first attempt and the proof that carried the nonce.
#[test]
fn send_answers_a_dpop_nonce_request_and_shows_the_first_attempt() {
    use token_inspector::jose::keys::SigningAlg;
    use token_inspector::oauth::transport::{Transport, TransportConfig};
    use token_inspector::sandbox::{ClientRegistration, Sandbox, SandboxConfig};
    let s = Setup::new();
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let sandbox =
        s.rt.block_on(Sandbox::start(SandboxConfig {
            dpop_nonce: true,
            clients: vec![ClientRegistration {
                client_id: "app-client".into(),
                jwks: key.public_jwks(None, SigningAlg::ES256),
                redirect_uris: Vec::new(),
            }],
            ..SandboxConfig::default()
        }))
        .unwrap();
    let mut profile = Profile::new("Nonces", sandbox.issuer());
    profile.client_id = "app-client".into();
    profile.scope = "accounts".into();
    profile.auth.alg = SigningAlg::ES256;
    profile.dpop = true;
    let transport = Transport::new(TransportConfig::default()).unwrap();
    let found =
        s.rt.block_on(token_inspector::oauth::discovery::discover(
            &transport,
            &profile.issuer,
            false,
        ))
        .unwrap();
    token_inspector::oauth::discovery::apply_to_profile(&found, &mut profile);
    s.store
        .set(&profile.key_entry(), key.to_pkcs8_pem())
        .unwrap();
    let s = s.with_profile(&profile);
    let mut h = s.harness();
    wait_for(&mut h, "the key", |a| a.state.loaded_key().is_some());
    click(&mut h, "Request");
    click(&mut h, "Grant type");
    click(&mut h, "client_credentials");
    click(&mut h, "Send");
    wait_for(&mut h, "the answer", |a| !a.state.history.is_empty());
    let entry = h.state().state.history.last().unwrap();
    let r = entry.exchange.response().expect("an HTTP answer");
    assert_eq!(r.http.status, 200, "{}", r.body_text);
    assert_eq!(r.body.json().unwrap()["token_type"], "DPoP");
    let first = entry
        .exchange
        .first_attempt
        .as_ref()
        .expect("the refused attempt");
    let refused = first.response().unwrap();
    assert_eq!(refused.http.status, 400);
    assert!(
        refused.body_text.contains("use_dpop_nonce"),
        "{}",
        refused.body_text
    );
    assert!(
        first
            .request
            .dpop
            .as_ref()
            .unwrap()
            .claims
            .get("nonce")
            .is_none()
    );
    let proof = entry.exchange.request.dpop.as_ref().unwrap();
    assert!(proof.claims["nonce"].is_string(), "{}", proof.claims);
    // A fresh client assertion: the first one's jti is not reused.
    let jti = |ex: &token_inspector::oauth::exchange::Exchange| {
        ex.request.client_assertion.as_ref().unwrap().claims["jti"].clone()
    };
    assert_ne!(jti(first), jti(&entry.exchange));
    h.get_by_label("First attempt (refused for a nonce)");
    assert!(shows_text(&h, "asking for a DPoP nonce"));
}

/// A calm first launch: before Authorize, the Request panel says how the request will be
/// built, and nothing there is an error.
#[test]
fn nothing_is_red_before_the_user_has_done_anything() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    click(&mut h, "Request");
    assert!(!shows_text(&h, "Cannot build the request"));
    assert!(shows_text(
        &h,
        "The token request is built once there is a code"
    ));
}

/// The sidebar's switch chooses light or dark, or the system's again (the app's default:
/// egui's `ThemePreference::System`; the test harness starts in dark).
#[test]
fn the_theme_switch_chooses_light_or_dark() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for(&mut h, "the profiles", ready);
    click(&mut h, "☀ Light");
    assert_eq!(h.ctx.theme(), egui::Theme::Light);
    click(&mut h, "🌙 Dark");
    assert_eq!(h.ctx.theme(), egui::Theme::Dark);
    click(&mut h, "💻 System");
    assert_eq!(
        h.ctx.options(|o| o.theme_preference),
        egui::ThemePreference::System
    );
}
