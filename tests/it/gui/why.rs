//! The app's "Why?": refusals diagnosed, with the history.

use super::*;

#[test]
fn a_refused_connection_is_explained_in_the_response_panel() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut p = bank_profile("Down bank");
    p.auth.method = AuthMethod::None;
    p.endpoints.token = Some(format!("http://127.0.0.1:{port}/token"));
    let s = Setup::new().with_profile(&p);
    s.clipboard.set_text("code-1").unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Request");
    click(&mut h, "Paste redirect");
    click(&mut h, "Send");
    wait_for(&mut h, "the failure", |a| !a.state.history.is_empty());
    h.get_by_label("No answer");
    // In place in the Response panel, and in the status bar.
    let explained = "connection refused: nothing is listening";
    assert_eq!(h.query_all_by_label_contains(explained).count(), 2);
    assert!(
        h.query_all_by_label_contains("check the host and port")
            .count()
            >= 1
    );
}

/// "Why?" and the history that remembers: the same code sent twice is refused, and
/// the second refusal says the code was used before (from the history, which holds
/// only its fingerprint). After a restart the app lists both saved exchanges; the
/// newest opens with its diagnosis, and its support bundle is copied without the code.
#[test]
fn why_a_reused_code_failed_and_the_history_after_a_restart() {
    const CODE: &str = "canary-reused-code-5e21";
    let s = Setup::new();
    let (port, _bodies) = recording_token_server(&s);
    let mut p = bank_profile("Reuse bank");
    p.auth.method = AuthMethod::None;
    p.endpoints.token = Some(format!("http://127.0.0.1:{port}/token"));
    let s = s.with_profile(&p);
    s.clipboard.set_text(CODE).unwrap();
    {
        let mut h = s.harness();
        wait_for(&mut h, "profiles", ready);
        click(&mut h, "Request");
        click(&mut h, "Paste redirect");
        click(&mut h, "Send");
        wait_for(&mut h, "the first refusal", |a| a.state.history.len() == 1);
        let first = &h.state().state.history[0].exchange;
        let reused = first
            .diagnosis
            .iter()
            .find(|c| c.code == "diagnosis.code_reused");
        assert_eq!(
            reused.map(|c| c.status),
            Some(Status::RuledOut),
            "{:#?}",
            first.diagnosis
        );
        click(&mut h, "Request");
        click(&mut h, "Send");
        wait_for(&mut h, "the second refusal", |a| a.state.history.len() == 2);
        wait_for(&mut h, "the saved history", |a| {
            a.state.saved_history.len() == 2
        });
        let second = &h.state().state.history[1].exchange;
        let reused = second
            .diagnosis
            .iter()
            .find(|c| c.code == "diagnosis.code_reused");
        assert_eq!(
            reused.map(|c| c.status),
            Some(Status::Likely),
            "{:#?}",
            second.diagnosis
        );
        assert_eq!(
            second.diagnosis[0].code, "diagnosis.code_reused",
            "likely first"
        );
        h.get_by_label("Why?");
        assert!(
            h.query_all_by_label_contains("the authorization code was already used")
                .count()
                >= 1
        );
    }
    // A new app on the same folders: the history is still there.
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    wait_for(&mut h, "the saved history", |a| {
        a.state.saved_history.len() == 2
    });
    assert!(
        h.state().state.history.is_empty(),
        "nothing live after a restart"
    );
    h.query_all_by_label_contains("400 invalid_grant token:authorization_code")
        .next()
        .expect("a saved entry in the sidebar")
        .click_accesskit();
    h.run_ok();
    h.get_by_label("Why?");
    assert!(h.query_all_by_label_contains("was sent before").count() >= 1);
    click(&mut h, "Compare with the last success");
    assert!(
        h.query_all_by_label_contains("No earlier success of this kind")
            .count()
            >= 1,
        "both entries are refusals"
    );
    // Any two entries: the first refusal against the second.
    h.query_all_by_label("Compare with")
        .last()
        .expect("the Compare with list")
        .click_accesskit();
    h.run_ok();
    h.query_all_by_label_contains("#2: ")
        .next()
        .expect("the other entry in the list")
        .click_accesskit();
    h.run_ok();
    let (heading, _) = h.state().state.saved_compare.clone().expect("a comparison");
    assert!(heading.starts_with("From "), "{heading}");
    h.get_by_label(&heading);
    // The search box filters the saved list.
    let saved_rows = |h: &Harness<'_, App>| {
        h.query_all_by_label_contains("400 invalid_grant token:authorization_code")
            .count()
    };
    assert_eq!(saved_rows(&h), 2);
    type_into(&mut h, "Search saved", "200");
    assert_eq!(saved_rows(&h), 0, "no entry answered 200");
    type_into(&mut h, "Search saved", "4xx invalid_grant");
    assert_eq!(saved_rows(&h), 2);
    click(&mut h, "Copy support bundle");
    let bundle = s.clipboard.get_text().unwrap();
    assert!(bundle.contains("# Support bundle: POST"), "{bundle}");
    assert!(bundle.contains("diagnosis.code_reused"), "{bundle}");
    assert!(!bundle.contains(CODE), "the code is not in the bundle");
}

/// The cause of an exchange's diagnosis with this code.
fn cause<'a>(
    exchange: &'a token_inspector::oauth::exchange::Exchange,
    code: &str,
) -> &'a token_inspector::diagnosis::Cause {
    exchange
        .diagnosis
        .iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:#?}", exchange.diagnosis))
}

/// A PAR the bank refuses shows in the Response panel with its Why?, judged against
/// the client JWKS the profile names (as registered at the bank): the key that signed
/// is not in it.
#[test]
fn a_refused_par_says_why_with_the_registered_jwks() {
    use token_inspector::jose::keys::SigningAlg;
    use token_inspector::sandbox::{ClientRegistration, Sandbox, SandboxConfig};
    let s = Setup::new();
    let registered = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let stray = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let jwks = registered.public_jwks(None, SigningAlg::ES256);
    let sandbox =
        s.rt.block_on(Sandbox::start(SandboxConfig {
            clients: vec![ClientRegistration {
                client_id: "app-client".into(),
                jwks: jwks.clone(),
                redirect_uris: Vec::new(),
            }],
            ..SandboxConfig::default()
        }))
        .unwrap();
    let jwks_file = s.dir.path().join("registered.jwks.json");
    std::fs::write(&jwks_file, jwks.to_string()).unwrap();
    let mut profile = bank_profile("Stray key bank");
    profile.issuer = sandbox.issuer().to_owned();
    profile.client_id = "app-client".into();
    profile.scope = "openid accounts".into();
    profile.auth.alg = SigningAlg::ES256;
    profile.endpoints.token = Some(format!("{}/token", sandbox.issuer()));
    profile.endpoints.par = Some(format!("{}/par", sandbox.issuer()));
    profile.endpoints.authorization = Some(format!("{}/authorize", sandbox.issuer()));
    profile.client_jwks = Some(jwks_file.to_str().unwrap().to_owned());
    s.store
        .set(&profile.key_entry(), stray.to_pkcs8_pem())
        .unwrap();
    let s = s.with_profile(&profile);
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for(&mut h, "the refused PAR", |a| {
        a.state.history.len() == 1 || a.state.request_notice.is_some()
    });
    let st = &h.state().state;
    assert_eq!(
        st.history.len(),
        1,
        "{:?} {:?}",
        st.status,
        st.request_notice
    );
    let par = &h.state().state.history[0].exchange;
    assert_eq!(par.response().map(|r| r.http.status), Some(401));
    let unregistered = cause(par, "diagnosis.unregistered_key");
    assert_eq!(unregistered.status, Status::Likely, "{unregistered:#?}");
    assert!(
        unregistered
            .evidence
            .contains("is not in the registered JWKS")
    );
    // The refusal fetched the server's discovery: the method used is one it offers.
    let method = cause(par, "diagnosis.auth_method_unsupported");
    assert_eq!(method.status, Status::RuledOut, "{method:#?}");
    h.get_by_label("Why?");
    wait_for(&mut h, "the saved PAR", |a| {
        a.state.saved_history.len() == 1
    });
    assert_eq!(h.state().state.saved_history[0].kind, "par");
    s.rt.block_on(sandbox.shutdown());
}

/// Fetch discovery from a bank whose certificate this profile does not trust: the
/// notice says why (the CA file), as the command line does.
#[test]
fn a_discovery_without_the_bank_ca_says_why() {
    use token_inspector::sandbox::{Sandbox, SandboxConfig, TlsOptions};
    let s = Setup::new();
    let sandbox =
        s.rt.block_on(Sandbox::start(SandboxConfig {
            tls: Some(TlsOptions::default()),
            ..SandboxConfig::default()
        }))
        .unwrap();
    let mut profile = bank_profile("Untrusted bank");
    profile.issuer = sandbox.issuer().to_owned();
    let s = s.with_profile(&profile);
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Client");
    click(&mut h, "Fetch discovery");
    wait_for(&mut h, "the discovery's answer", |a| {
        a.state.client_notice.is_some()
    });
    let notice = h.state().state.client_notice.clone().unwrap();
    assert!(notice.error, "{notice:?}");
    assert!(
        notice.text.contains("diagnosis.tls_server_untrusted"),
        "{}",
        notice.text
    );
    s.rt.block_on(sandbox.shutdown());
}

/// An error in the bank's redirect, pasted after Authorize, is diagnosed against the PAR
/// it answers (as the command line does) and shown with its Why? in the Response panel.
#[test]
fn an_error_in_the_redirect_is_diagnosed() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for_sandbox_and_key(&mut h);
    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for_code(&mut h);
    let state = h.state().state.session.as_ref().unwrap().state.clone();
    let issuer = h.state().state.profile().unwrap().issuer.clone();
    type_into(
        &mut h,
        "Code or redirect URL",
        &format!(
            "{issuer}/callback?error=access_denied&error_description=the+user+said+no&state={state}"
        ),
    );
    wait_for(&mut h, "the redirect's diagnosis", |a| {
        a.state
            .shown_entry()
            .is_some_and(|e| !e.exchange.diagnosis.is_empty())
    });
    let app = h.state();
    let entry = app.state.shown_entry().unwrap();
    assert_eq!(
        entry.exchange.request.kind,
        token_inspector::oauth::request::RequestKind::Par
    );
    let denied = entry
        .exchange
        .diagnosis
        .iter()
        .find(|c| c.code == "diagnosis.user_denied")
        .expect("the user's refusal is a cause");
    assert_eq!(denied.status, token_inspector::diagnosis::Status::Likely);
    assert!(
        app.state
            .request
            .paste_error
            .as_deref()
            .is_some_and(|e| e.contains("access_denied"))
    );
}
