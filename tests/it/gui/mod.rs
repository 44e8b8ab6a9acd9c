//! UI tests of the desktop app, driven by label through egui_kittest (no display, no GPU):
//! profiles, key import, pasting a redirect URL, the whole Authorize → Send flow against
//! the embedded sandbox, copying curl, the JWT panel, the keychain fallback, and a slow
//! server that must leave the UI responsive and cancellable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Key, Modifiers, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{By, NodeT, Queryable};

use token_inspector::diagnosis::Status;
use token_inspector::gui::App;
use token_inspector::gui::platform::{Clipboard, FakeClipboard, FakeFileDialog};
use token_inspector::gui::state::{KeyState, SandboxStatus, StoreStatus};
use token_inspector::jose::keys::{KeyType, PrivateKey};
use token_inspector::secret::Secret;
use token_inspector::storage::profile::{AuthMethod, Profile, ProfileStore};
use token_inspector::storage::secret_store::{MemoryStore, SecretStore, SecretStoreError};

mod access;
mod data_calls;
mod exchange;
mod flows;
mod hybrid;
mod keychain;
mod launch;
mod payments;
mod profiles;
mod uk_preset;
mod why;

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

/// Waits until the Local sandbox runs and its key is loaded.
fn wait_for_sandbox_and_key(h: &mut Harness<'_, App>) {
    wait_for(h, "the sandbox and key", |a| {
        matches!(a.state.sandbox, SandboxStatus::Running { .. }) && a.state.loaded_key().is_some()
    });
}

/// Waits for the Local sandbox and the key, then Authorize and Send: a token.
fn token_from_the_local_sandbox(h: &mut Harness<'_, App>) {
    wait_for_sandbox_and_key(h);
    click(h, "Request");
    click(h, "Authorize");
    wait_for_code(h);
    click(h, "Send");
    wait_for(h, "the token", |a| !a.state.history.is_empty());
}

/// Opens a combo box and picks `option`. After an option was picked through AccessKit,
/// egui 0.36 still counts that combo's popup as open, so the next click closes it: a
/// second click opens it again, as a user would click again.
fn choose(h: &mut Harness<'_, App>, combo: &str, option: &str) {
    // The option may also be shown elsewhere (a consent card): pick the popup's one.
    let elsewhere: Vec<egui::Rect> = h.query_all_by_label(option).map(|n| n.rect()).collect();
    for _ in 0..2 {
        click(h, combo);
        let in_popup = h
            .query_all_by_label(option)
            .find(|n| !elsewhere.contains(&n.rect()));
        if let Some(node) = in_popup {
            node.click_accesskit();
            h.run_ok();
            return;
        }
    }
    panic!("the {combo} popup does not show {option:?}");
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

/// Every control in the accessibility tree (whatever AccessKit can click or focus) has a
/// name: a screen reader says that name when it lands on it. Fails listing the unnamed
/// ones with their role and place; returns how many controls were checked.
fn assert_every_control_named(h: &Harness<'_, App>, view: &str) -> usize {
    use egui::accesskit::{Action, Role};
    let mut controls = 0;
    let mut unnamed = Vec::new();
    for n in h.query_all(By::new().predicate(|_| true)) {
        let node = n.accesskit_node();
        let data = node.data();
        // Text (a label's name is its text) and scroll bars (a screen reader names them
        // by their role) are not controls to name.
        let text_or_scrolling = matches!(node.role(), Role::Label | Role::ScrollBar);
        if text_or_scrolling
            || !(data.supports_action(Action::Click) || data.supports_action(Action::Focus))
        {
            continue;
        }
        controls += 1;
        if node.label().is_none_or(|l| l.trim().is_empty()) {
            let parent = node.parent();
            let siblings: Vec<String> = parent
                .iter()
                .flat_map(|p| p.children())
                .filter_map(|c| c.label().or_else(|| c.value()))
                .take(6)
                .collect();
            unnamed.push(format!(
                "{:?} at {:?} (beside {siblings:?})",
                node.role(),
                n.rect()
            ));
        }
    }
    assert!(
        unnamed.is_empty(),
        "{view}: {} of {controls} controls have no accessible name: {unnamed:?}",
        unnamed.len()
    );
    assert!(controls > 0, "{view}: no controls in the tree");
    controls
}
