//! UI tests of the desktop app, driven by label through egui_kittest (no display, no GPU):
//! profiles, key import, pasting a redirect URL, the whole Authorize → Send flow against
//! the embedded sandbox, copying curl, the JWT panel, the keychain fallback, and a slow
//! server that must leave the UI responsive and cancellable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Key, Modifiers, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{By, Queryable};

use token_inspector::diagnosis::Status;
use token_inspector::gui::App;
use token_inspector::gui::platform::{Clipboard, FakeClipboard, FakeFileDialog};
use token_inspector::gui::state::{KeyState, SandboxStatus, StoreStatus};
use token_inspector::jose::keys::{KeyType, PrivateKey};
use token_inspector::secret::Secret;
use token_inspector::storage::profile::{AuthMethod, Profile, ProfileStore};
use token_inspector::storage::secret_store::{MemoryStore, SecretStore, SecretStoreError};

/// How long to wait for the worker (the first launch generates an RSA key in a debug
/// build).
const WAIT: Duration = Duration::from_secs(90);

struct Setup {
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    store: Arc<MemoryStore>,
    clipboard: Arc<FakeClipboard>,
    files: Arc<FakeFileDialog>,
}

impl Setup {
    fn new() -> Self {
        Self {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
            dir: tempfile::tempdir().unwrap(),
            store: Arc::new(MemoryStore::new()),
            clipboard: Arc::new(FakeClipboard::default()),
            files: Arc::new(FakeFileDialog::default()),
        }
    }

    fn profiles(&self) -> ProfileStore {
        ProfileStore::at(self.profile_dir())
    }

    /// The profiles folder: inside the test's own folder, so what the app keeps next
    /// to it (the sandbox's certificates) is this test's alone.
    fn profile_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("profiles")
    }

    fn with_profile(self, profile: &Profile) -> Self {
        self.profiles().save(profile).unwrap();
        self
    }

    fn harness_with_store(&self, store: Arc<dyn SecretStore>) -> Harness<'static, App> {
        let app = App::new_for_test(
            store,
            self.clipboard.clone(),
            self.files.clone(),
            self.profile_dir(),
            self.rt.handle().clone(),
        );
        Harness::builder()
            .with_size(Vec2::new(1400.0, 1000.0))
            .with_max_steps(50)
            .build_ui_state(|ui, app: &mut App| app.frame(ui), app)
    }

    fn harness(&self) -> Harness<'static, App> {
        self.harness_with_store(self.store.clone())
    }
}

/// A profile at an authorization server that is never called.
fn bank_profile(name: &str) -> Profile {
    let mut p = Profile::new(name, "https://as.example");
    p.client_id = "client-1".into();
    p.redirect_uri = "https://client.example/cb".into();
    p.scope = "accounts".into();
    p.endpoints.token = Some("https://as.example/token".into());
    p
}

/// Runs frames until `done` holds, sleeping a little between frames (bounded).
fn wait_for(h: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h.state()) {
            h.run_ok();
            return;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn click(h: &mut Harness<'_, App>, label: &str) {
    h.get_by_label(label).click_accesskit();
    h.run_ok();
}

fn type_into(h: &mut Harness<'_, App>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.run_ok();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label(label).type_text(text);
    h.run_ok();
}

/// Waits for Authorize to fill the code; fails at once with the app's message when
/// the authorization ended without one.
fn wait_for_code(h: &mut Harness<'_, App>) {
    wait_for(h, "the code", |a| {
        let st = &a.state;
        if !st.authorize.is_running()
            && st.request.code.is_empty()
            && let Some(n) = &st.request_notice
        {
            panic!(
                "Authorize ended without a code: {} (status: {})",
                n.text, st.status
            );
        }
        !st.request.code.is_empty()
    });
}

/// True when a label or a (read-only) text field shows `needle`.
fn shows_text(h: &Harness<'_, App>, needle: &str) -> bool {
    h.query_all(By::new().predicate(move |n| {
        n.value().is_some_and(|v| v.contains(needle))
            || n.label().is_some_and(|l| l.contains(needle))
    }))
    .count()
        > 0
}

fn ready(app: &App) -> bool {
    app.state.profiles_loaded && !matches!(app.state.store, StoreStatus::Opening)
}

#[test]
fn create_and_rename_a_profile() {
    let s = Setup::new().with_profile(&bank_profile("Existing bank"));
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    assert_eq!(h.state().state.profiles.len(), 1);

    click(&mut h, "New profile");
    wait_for(&mut h, "the new profile", |a| {
        a.state.profile().is_some_and(|p| p.name == "New profile")
    });
    assert!(s.profiles().load("New profile").is_ok());
    // The button, the new list entry and the Client panel heading.
    assert_eq!(h.query_all_by_label("New profile").count(), 3);

    click(&mut h, "Rename");
    type_into(&mut h, "New name", "My bank");
    click(&mut h, "Apply rename");
    wait_for(&mut h, "the rename", |a| {
        a.state.profile().is_some_and(|p| p.name == "My bank")
    });
    assert!(s.profiles().load("My bank").is_ok());
    assert!(
        s.profiles().load("New profile").is_err(),
        "the old file is gone"
    );
    assert_eq!(h.state().state.profiles.len(), 2);

    // An edit in the Client panel is saved with "Save profile".
    click(&mut h, "Client");
    assert!(
        h.query_all_by_label_contains("verification is OFF")
            .next()
            .is_none()
    );
    click(&mut h, "Verify TLS certificates");
    h.get_by_label_contains("TLS certificate verification is OFF");
    // Loud from every panel: the status bar and the profile list say it too.
    for tab in ["Request", "Response", "JWT", "Client"] {
        click(&mut h, tab);
        h.get_by_label_contains("TLS verification OFF for this profile");
        h.get_by_label("TLS off");
    }
    click(&mut h, "Verify TLS certificates");
    assert!(
        h.query_all_by_label_contains("TLS verification OFF")
            .next()
            .is_none()
    );
    type_into(&mut h, "Issuer", "https://bank.example");
    click(&mut h, "Save profile");
    wait_for(&mut h, "the save", |_| {
        ProfileStore::at(s.profile_dir())
            .load("My bank")
            .is_ok_and(|p| p.issuer == "https://bank.example")
    });
}

#[test]
fn export_delete_and_import_a_profile() {
    let s = Setup::new().with_profile(&bank_profile("Bank A"));
    let elsewhere = tempfile::tempdir().unwrap();
    let exported = elsewhere.path().join("exported.toml");
    s.files.push_save(&exported);
    s.files.push_pick(&exported);
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);

    click(&mut h, "Export…");
    wait_for(&mut h, "the export", |_| exported.exists());
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(
        text.contains("Bank A") && text.contains("https://as.example/token"),
        "{text}"
    );

    click(&mut h, "Delete");
    click(&mut h, "Confirm delete");
    wait_for(&mut h, "the delete", |a| a.state.profiles.is_empty());
    assert!(s.profiles().load("Bank A").is_err());

    click(&mut h, "Import…");
    wait_for(&mut h, "the import", |a| {
        a.state.profile().is_some_and(|p| p.name == "Bank A")
    });
    assert_eq!(s.profiles().load("Bank A").unwrap(), bank_profile("Bank A"));
}

#[test]
fn import_a_key_file_into_the_secret_store() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    let key = PrivateKey::generate(KeyType::EC_P256).unwrap();
    let pem_path = s.dir.path().join("client-key.pem");
    std::fs::write(&pem_path, key.to_pkcs8_pem().expose()).unwrap();
    s.files.push_pick(&pem_path);

    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Client");
    wait_for(&mut h, "the key lookup", |a| {
        matches!(a.state.key, KeyState::Missing)
    });
    h.get_by_label("No signing key yet: import a PEM or JWK file, or generate one.");

    click(&mut h, "Import key file…");
    wait_for(&mut h, "the imported key", |a| {
        a.state.loaded_key().is_some()
    });
    let thumbprint = key.thumbprint();
    assert_eq!(h.state().state.loaded_key().unwrap().thumbprint, thumbprint);
    // PS256 cannot sign with an EC key: the profile now says ES256 (not yet saved).
    let profile = h.state().state.profile().unwrap().clone();
    assert_eq!(
        profile.auth.alg,
        token_inspector::jose::keys::SigningAlg::ES256
    );
    h.get_by_label("unsaved changes");
    // kid and thumbprint are both the thumbprint here (no kid set).
    assert!(h.query_all_by_label(&thumbprint).count() >= 2);
    let stored = s
        .store
        .get(&bank_profile("Bank").key_entry())
        .unwrap()
        .unwrap();
    assert_eq!(stored.expose(), key.to_pkcs8_pem().expose());

    // The public JWKS can be copied.
    click(&mut h, "Copy public JWKS");
    let jwks: serde_json::Value = serde_json::from_str(&s.clipboard.text()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], thumbprint.as_str());
    assert!(jwks["keys"][0].get("d").is_none(), "no private member");
}

#[test]
fn paste_a_redirect_url_fills_code_and_state() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    s.clipboard
        .set_text("https://client.example/cb?code=abc123&state=xyz789&iss=https%3A%2F%2Fas.example")
        .unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Request");
    click(&mut h, "Paste");
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
    wait_for(&mut h, "the sandbox and key", |a| {
        matches!(a.state.sandbox, SandboxStatus::Running { .. }) && a.state.loaded_key().is_some()
    });
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
    click(&mut h, "Paste");
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
fn client_secret_is_kept_in_the_store_and_used() {
    let mut p = bank_profile("Basic client");
    p.auth.method = AuthMethod::ClientSecretBasic;
    let s = Setup::new().with_profile(&p);
    s.clipboard.set_text("code-9").unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Client");
    h.get_by_label("not set");
    type_into(&mut h, "Client secret", "hunter2-secret");
    click(&mut h, "Keep client secret");
    wait_for(&mut h, "the stored secret", |a| {
        a.state.client_secret.is_some()
    });
    h.get_by_label("stored");
    let entry = h
        .state()
        .state
        .profile()
        .unwrap()
        .auth
        .client_secret
        .clone();
    let entry = entry.expect("the profile names the entry");
    assert_eq!(
        s.store.get(&entry).unwrap().unwrap().expose(),
        "hunter2-secret"
    );

    click(&mut h, "Request");
    click(&mut h, "Paste");
    click(&mut h, "Copy curl");
    let curl = s.clipboard.text();
    assert!(curl.contains("Authorization: Basic"), "{curl}");
    click(&mut h, "Copy redacted curl");
    let redacted = s.clipboard.text();
    assert!(
        !redacted.contains("Authorization: Basic Y2xp"),
        "{redacted}"
    );
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

/// A keychain that is locked.
struct LockedStore;

impl SecretStore for LockedStore {
    fn get(&self, _: &str) -> Result<Option<Secret>, SecretStoreError> {
        Err(SecretStoreError::Locked("collection is locked".into()))
    }
    fn set(&self, _: &str, _: &Secret) -> Result<(), SecretStoreError> {
        Err(SecretStoreError::Locked("collection is locked".into()))
    }
    fn delete(&self, _: &str) -> Result<(), SecretStoreError> {
        Err(SecretStoreError::Locked("collection is locked".into()))
    }
    fn describe(&self) -> String {
        "locked test keychain".into()
    }
    fn is_persistent(&self) -> bool {
        true
    }
}

#[test]
fn locked_keychain_offers_the_session_store() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    let mut h = s.harness_with_store(Arc::new(LockedStore));
    wait_for(&mut h, "the store", |a| {
        matches!(a.state.store, StoreStatus::Failed(_))
    });
    click(&mut h, "Client");
    h.get_by_label_contains("Keychain unavailable");
    click(&mut h, "Keep secrets for this session only");
    wait_for(&mut h, "the session store", |a| {
        matches!(
            &a.state.store,
            StoreStatus::Ready {
                persistent: false,
                ..
            }
        )
    });
    h.get_by_label_contains("forgotten when the app closes");
    // With a store, the key can now be generated.
    click(&mut h, "Generate key");
    wait_for(&mut h, "the generated key", |a| {
        a.state.loaded_key().is_some()
    });
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
    click(&mut h, "Paste");
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

    click(&mut h, "Cancel");
    assert!(!h.state().state.send.is_running());
    h.get_by_label_contains("Request cancelled");
    h.get_by_label_contains("Send cancelled");
    assert!(h.state().state.history.is_empty(), "no answer recorded");
}

#[test]
fn remembered_state_has_defaults_and_no_secrets() {
    use token_inspector::gui::state::{Persisted, Tab};
    let old: Persisted = serde_json::from_str(r#"{"tab": "Jwt", "unknown_future_field": 1}"#)
        .expect("unknown and missing fields are tolerated");
    assert_eq!(old.tab, Tab::Jwt);
    assert_eq!(old.selected_profile, None);
    let text = serde_json::to_string(&Persisted::default()).unwrap();
    for word in ["secret", "token\"", "key", "verifier"] {
        assert!(!text.contains(word), "{text}");
    }
}

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
    click(&mut h, "Paste");
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

#[test]
fn app_icon_is_a_256_png() {
    assert_eq!(&token_inspector::gui::ICON_PNG[1..4], b"PNG");
    let icon = eframe::icon_data::from_png_bytes(token_inspector::gui::ICON_PNG).unwrap();
    assert_eq!((icon.width, icon.height), (256, 256));
}

/// A token endpoint that answers 400 `invalid_grant` to everything and keeps each form
/// body it received.
fn recording_token_server(s: &Setup) -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener =
        s.rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = bodies.clone();
    s.rt.spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as many body bytes as Content-Length says.
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (name, value) = l.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            seen.lock().unwrap().push(body.to_owned());
                            break;
                        }
                    }
                }
                let body = br#"{"error":"invalid_grant"}"#;
                let head = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body).await;
            });
        }
    });
    (port, bodies)
}

/// Replaces the text of a password field, then leaves it (Escape), as a user tabs on:
/// kittest does not find a focused field by its label.
fn type_secret(h: &mut Harness<'_, App>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.run_ok();
    // Select all, then the typed text replaces the selection in one frame, as a paste
    // does.
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.event(egui::Event::Text(text.to_owned()));
    h.run_ok();
    h.key_press(Key::Escape);
    h.run_ok();
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

/// A keychain that opens and reads (nothing is there) but refuses to keep anything, as
/// the kernel keyring did from a login session that could not reach it.
struct RefusingStore;

impl SecretStore for RefusingStore {
    fn get(&self, entry: &str) -> Result<Option<Secret>, SecretStoreError> {
        if entry.starts_with("probe") {
            Ok(None)
        } else {
            Err(SecretStoreError::Locked("AccessDenied".into()))
        }
    }
    fn set(&self, _: &str, _: &Secret) -> Result<(), SecretStoreError> {
        Err(SecretStoreError::Locked("AccessDenied".into()))
    }
    fn delete(&self, _: &str) -> Result<(), SecretStoreError> {
        Ok(())
    }
    fn describe(&self) -> String {
        "refusing test keychain".into()
    }
    fn is_persistent(&self) -> bool {
        true
    }
}

/// The first launch works even when the keychain refuses the generated key: the app
/// keeps it for this session, says so, and the sandbox runs; the status bar and the
/// panels tell the same story.
#[test]
fn first_launch_falls_back_to_session_secrets_when_the_keychain_refuses() {
    let s = Setup::new();
    let mut h = s.harness_with_store(Arc::new(RefusingStore));
    wait_for(&mut h, "the sandbox", |a| {
        matches!(
            a.state.sandbox,
            SandboxStatus::Running { .. } | SandboxStatus::Failed(_)
        )
    });
    assert!(
        matches!(h.state().state.sandbox, SandboxStatus::Running { .. }),
        "{:?}",
        h.state().state.sandbox
    );
    wait_for(&mut h, "the key", |a| a.state.loaded_key().is_some());
    assert!(matches!(
        h.state().state.store,
        StoreStatus::Ready {
            persistent: false,
            ..
        }
    ));
    h.get_by_label_contains("Sandbox: https://127.0.0.1");
    assert_eq!(h.query_all_by_label_contains("Sandbox: failed").count(), 0);
    h.get_by_label_contains("The Local sandbox is ready");
    click(&mut h, "Client");
    h.get_by_label_contains("kept for this session only");
    // And the demo works end to end.
    click(&mut h, "Request");
    click(&mut h, "Authorize");
    wait_for_code(&mut h);
    click(&mut h, "Send");
    wait_for(&mut h, "the answer", |a| !a.state.history.is_empty());
    assert!(h.state().state.history[0].exchange.is_success());
}

/// A saved profile whose key cannot be read from a refusing keychain: the key does not
/// wait forever, the reason is shown, and a button leads on to session-only secrets.
#[test]
fn an_unreadable_key_offers_the_way_on() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    let mut h = s.harness_with_store(Arc::new(RefusingStore));
    wait_for(&mut h, "the key state", |a| {
        matches!(a.state.key, KeyState::Failed(_))
    });
    click(&mut h, "Client");
    h.get_by_label_contains("AccessDenied");
    click(&mut h, "Keep secrets for this session only");
    wait_for(&mut h, "the session store", |a| {
        matches!(
            &a.state.store,
            StoreStatus::Ready {
                persistent: false,
                ..
            }
        )
    });
    click(&mut h, "Generate key");
    wait_for(&mut h, "the generated key", |a| {
        a.state.loaded_key().is_some()
    });
}

/// A canary client secret, refresh token and code typed into the app and sent: the
/// server receives them, and they appear in no file the app wrote (profiles) and not in
/// the state it remembers between runs.
#[test]
fn canaries_reach_the_server_and_no_file() {
    const SECRET: &str = "canary-app-client-secret-91ce";
    const REFRESH: &str = "canary-app-refresh-token-44af";
    const CODE: &str = "canary-app-code-0d17";
    let s = Setup::new();
    let (port, bodies) = recording_token_server(&s);
    let mut p = bank_profile("Canary bank");
    p.auth.method = AuthMethod::ClientSecretPost;
    p.endpoints.token = Some(format!("http://127.0.0.1:{port}/token"));
    let s = s.with_profile(&p);
    s.clipboard.set_text(CODE).unwrap();
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "Client");
    type_secret(&mut h, "Client secret", SECRET);
    click(&mut h, "Keep client secret");
    wait_for(&mut h, "the stored secret", |a| {
        a.state.client_secret.is_some()
    });
    click(&mut h, "Request");
    click(&mut h, "Paste");
    click(&mut h, "Send");
    wait_for(&mut h, "the code answer", |a| a.state.history.len() == 1);
    click(&mut h, "Request");
    click(&mut h, "Grant type");
    click(&mut h, "refresh_token");
    type_secret(&mut h, "Refresh token", REFRESH);
    click(&mut h, "Send");
    wait_for(&mut h, "the refresh answer", |a| a.state.history.len() == 2);

    let sent = bodies.lock().unwrap().join("\n");
    for canary in [SECRET, REFRESH, CODE] {
        assert!(sent.contains(canary), "the server got {canary}: {sent}");
    }
    let remembered = serde_json::to_string(h.state().persisted()).unwrap();
    let mut texts = vec![("persisted state".to_owned(), remembered)];
    let mut stack = vec![s.dir.path().to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned();
                texts.push((e.path().display().to_string(), text));
            }
        }
    }
    assert!(texts.len() > 1, "the profile file was read");
    for (what, text) in texts {
        for canary in [SECRET, REFRESH, CODE] {
            assert!(!text.contains(canary), "{what} holds {canary}");
        }
    }
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

/// "New from preset…" makes a profile with the preset's values, and the consent editor's
/// form and JSON edit the profile's consent.
#[test]
fn new_profile_from_preset_and_the_consent_editor() {
    let s = Setup::new().with_profile(&bank_profile("Bank"));
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);
    click(&mut h, "New from preset…");
    click(&mut h, "Open Finance Malaysia (PayNet) sandbox");
    wait_for(&mut h, "the new profile", |a| {
        a.state
            .profile()
            .is_some_and(|p| p.preset.as_deref() == Some("ofm-paynet-sandbox@1"))
    });
    let p = h.state().state.profile().unwrap().clone();
    assert_eq!(p.issuer, "https://auth1.sandbox.mya.ozoneapi.io");
    assert!(p.request_object.signed);
    h.get_by_label_contains("Created from the Open Finance Malaysia (PayNet) sandbox preset");
    // The consent editor: untick read_transactions, set the purpose.
    h.get_by_label_contains("sent as authorization_details inside PAR");
    click(&mut h, "read_transactions");
    let consent = h.state().state.profile().unwrap().consent.clone().unwrap();
    let value: serde_json::Value = serde_json::from_str(&consent).unwrap();
    assert_eq!(
        value[0]["consent"]["permissions"],
        serde_json::json!(["read_accounts", "read_balances"])
    );
    click(&mut h, "90 days");
    let consent = h.state().state.profile().unwrap().consent.clone().unwrap();
    assert!(consent.contains("{expires_in_days:90}"), "{consent}");
    // Saved to disk too.
    wait_for(&mut h, "the saved profile", |_| {
        s.profiles().load(&p.name).is_ok_and(|saved| {
            saved
                .consent
                .as_deref()
                .is_some_and(|c| c.contains("{expires_in_days:90}"))
        })
    });
}

/// DPoP in the app: the Client panel's checkbox binds the code, the token and the API
/// call to the profile's DPoP key; "Call API" sends the token as `DPoP` with a proof
/// whose `ath` is the token's hash, and the sandbox's accounts API answers.
#[test]
fn dpop_checkbox_binds_the_token_and_call_api_uses_it() {
    let s = Setup::new();
    let mut h = s.harness();
    wait_for(&mut h, "the sandbox and key", |a| {
        matches!(a.state.sandbox, SandboxStatus::Running { .. }) && a.state.loaded_key().is_some()
    });
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
        click(&mut h, "Paste");
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
    wait_for(&mut h, "the sandbox and key", |a| {
        matches!(a.state.sandbox, SandboxStatus::Running { .. }) && a.state.loaded_key().is_some()
    });
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

/// An imported profile named like an existing one is not saved over it until the user
/// says so; its references to another profile's keychain entries are dropped and said;
/// a renamed profile's secrets move to its own entries.
#[test]
fn import_asks_before_replacing_and_keeps_to_its_own_secrets() {
    let s = Setup::new().with_profile(&bank_profile("Bank A"));
    let elsewhere = tempfile::tempdir().unwrap();
    let shared = elsewhere.path().join("shared.toml");
    let mut hostile = bank_profile("Bank A");
    hostile.endpoints.token = Some("https://attacker.example/token".into());
    hostile.auth.key = Some("profile/prod/signing-key".into());
    hostile
        .headers
        .push(token_inspector::storage::profile::ExtraHeader::new(
            "x-api-key",
            "canary-shared-key-55",
        ));
    std::fs::write(&shared, hostile.to_toml()).unwrap();
    s.files.push_pick(&shared);
    s.files.push_pick(&shared);
    let mut h = s.harness();
    wait_for(&mut h, "profiles", ready);

    click(&mut h, "Import…");
    wait_for(&mut h, "the question", |a| a.state.pending_import.is_some());
    h.get_by_label_contains("exists. Replace it");
    click(&mut h, "Keep mine");
    assert_eq!(s.profiles().load("Bank A").unwrap(), bank_profile("Bank A"));

    click(&mut h, "Import…");
    wait_for(&mut h, "the question", |a| a.state.pending_import.is_some());
    click(&mut h, "Replace with the import");
    wait_for(&mut h, "the replacement", |_| {
        s.profiles()
            .load("Bank A")
            .is_ok_and(|p| p.endpoints.token.as_deref() == Some("https://attacker.example/token"))
    });
    let saved = s.profiles().load("Bank A").unwrap();
    assert_eq!(saved.auth.key, None, "the borrowed entry is dropped");
    // The secret header's value went into the keychain, out of the file.
    let file = std::fs::read_to_string(s.profiles().path_for("Bank A")).unwrap();
    assert!(!file.contains("canary-shared-key-55"), "{file}");
    assert_eq!(
        s.store
            .get("profile/Bank A/header/x-api-key")
            .unwrap()
            .map(|v| v.expose().to_owned()),
        Some("canary-shared-key-55".to_owned())
    );
    wait_for(&mut h, "what the import changed", |a| {
        a.state
            .sidebar_notice
            .as_ref()
            .is_some_and(|n| n.error && n.text.contains("dropped auth.key"))
    });

    // A rename carries the profile's key to its own entry.
    s.store
        .set(
            "profile/Bank A/signing-key",
            &Secret::new("-----BEGIN PRIVATE KEY-----"),
        )
        .unwrap();
    click(&mut h, "Rename");
    type_into(&mut h, "New name", "Bank B");
    click(&mut h, "Apply rename");
    wait_for(&mut h, "the rename", |_| {
        s.profiles().load("Bank B").is_ok()
    });
    assert!(s.store.get("profile/Bank B/signing-key").unwrap().is_some());
    assert!(s.store.get("profile/Bank A/signing-key").unwrap().is_none());
}
