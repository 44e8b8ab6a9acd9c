//! The [`App`]: owns the state and the worker, drains the worker's events once per
//! frame, paints the panels, and applies what the panels asked for ([`Action`]s) at the
//! end of the frame. The request model is built here, once per change of the inputs, and
//! the very value shown in the preview is the one sent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Key, KeyboardShortcut, Modifiers};

use super::panels;
use super::platform::{Browser, Clipboard, FakeBrowser, FileDialog, SystemBrowser};
use super::state::{
    AppState, HistoryEntry, JwtKeySource, KeyState, LoadedKey, Notice, Persisted, PreviewInputs,
    SandboxStatus, StoreStatus, Tab, Work,
};
use super::worker::{Area, Command, Event, PemKeyUse, Worker};
use crate::checks::CheckContext;
use crate::history::HistoryStore;
use crate::inspector::Inspection;
use crate::jose::keys::KeyType;
use crate::jose::verify::{self, VerificationKey};
use crate::oauth::authorize::AuthorizationSession;
use crate::oauth::exchange::{self, ExchangeContext};
use crate::oauth::pkce::PkceVerifier;
use crate::oauth::redirect::{self, AuthorizationResponse};
use crate::oauth::render::{self, Redaction};
use crate::oauth::request::{ClientSecrets, Grant, GrantType, RequestOptions};
use crate::oauth::response::ResponseBody;
use crate::secret::Secret;
use crate::session::build::{self, Credentials};
use crate::session::settings;
use crate::session::{AuthorizationContext, Redirect, TokenRequest};
use crate::storage::profile::{Profile, ProfileStore};
use crate::storage::secret_store::SecretStore;

/// How old a built request may get before Send builds a fresh one (the client
/// assertion's `iat`/`exp` and `jti` are made when the model is built).
const MAX_PREVIEW_AGE: Duration = Duration::from_secs(30);

/// What a panel asks the app to do (applied after the panels are painted).
#[derive(Clone, Debug)]
pub enum Action {
    /// Show another tab.
    SetTab(Tab),
    /// Select a profile by index.
    SelectProfile(usize),
    /// Create an empty profile.
    NewProfile,
    /// Create a profile from an ecosystem preset (its id).
    NewFromPreset(String),
    /// Replace the selected profile's consent JSON (the consent editor).
    SetConsent(String),
    /// Copy the selected profile under a new name (same key).
    DuplicateProfile,
    /// Open the rename box.
    StartRename,
    /// Apply the rename box.
    ConfirmRename,
    /// Close the rename box.
    CancelRename,
    /// Delete the selected profile (after confirmation).
    DeleteProfile,
    /// Import a TOML profile.
    ImportProfile,
    /// Export the selected profile as TOML.
    ExportProfile,
    /// Save the selected profile.
    SaveProfile,
    /// Drop unsaved edits.
    RevertProfile,
    /// Show a history entry in the Response panel.
    ShowHistory(usize),
    /// Show a saved (on-disk) history entry in the Response panel.
    ShowSaved(usize),
    /// Compare the shown saved entry with the newest success of its kind before it.
    CompareSaved(usize),
    /// Compare saved entry `.0` with saved entry `.1` (the earlier one first).
    CompareSavedWith(usize, usize),
    /// Copy a saved entry's support bundle (Markdown).
    CopyBundle(usize),
    /// Save a saved entry's support bundle (Markdown and JSON) to a file.
    SaveBundle(usize),
    /// Keep secrets in memory for this session only.
    UseSessionStore,
    /// OIDC discovery.
    Discover,
    /// Keep the typed client secret in the secret store.
    StoreClientSecret,
    /// Generate a signing key.
    GenerateKey(KeyType),
    /// Import a signing key file.
    ImportKey,
    /// Save the public JWKS to a file.
    SaveJwks,
    /// Pick the mTLS certificate.
    PickMtlsCert,
    /// Import the mTLS key.
    ImportMtlsKey,
    /// Forget the mTLS settings.
    ClearMtls,
    /// Import the client's decryption key (encrypted API answers).
    ImportDecryptionKey,
    /// Forget the decryption key reference.
    ClearDecryptionKey,
    /// Start the embedded sandbox for the local profile.
    StartSandbox,
    /// Copy text to the clipboard.
    Copy {
        /// What it is (for the status line).
        what: String,
        /// The text.
        text: String,
    },
    /// Copy the curl command of the preview.
    CopyCurl(Redaction),
    /// Paste the clipboard into the code box.
    PasteCode,
    /// Read the code box (code, state, iss).
    ApplyPaste,
    /// New PKCE verifier.
    GeneratePkce,
    /// New interaction id.
    RegenerateInteractionId,
    /// Rebuild the request (fresh assertion).
    Rebuild,
    /// Send the previewed request.
    Send,
    /// Call the API URL with the shown access token.
    CallApi,
    /// Cancel the request in flight.
    Cancel,
    /// PAR + authorize (in-app approval for the local sandbox).
    Authorize,
    /// Inspect the pasted token.
    DecodeJwt,
    /// Paste the clipboard into the JWT panel.
    PasteJwt,
    /// Fetch the profile's JWKS for the JWT panel.
    FetchJwks,
    /// Pick a key file for the JWT panel.
    PickJwtKey,
}

/// The desktop app.
pub struct App {
    /// Everything shown.
    pub state: AppState,
    worker: Worker,
    clipboard: Arc<dyn Clipboard>,
    next_id: u64,
    actions: Vec<Action>,
    first_frame: Option<Instant>,
    first_launch_started: bool,
    ready_done: bool,
    last_jwt_input: String,
    history_requested_for: Option<String>,
    dpop_requested_for: Option<String>,
}

impl App {
    fn build(
        handle: tokio::runtime::Handle,
        (profiles, history): (ProfileStore, HistoryStore),
        clipboard: Arc<dyn Clipboard>,
        files: Arc<dyn FileDialog>,
        browser: Arc<dyn Browser>,
        store: Option<Arc<dyn SecretStore>>,
        persisted: Persisted,
    ) -> Self {
        let worker = Worker::start(handle, profiles, files, browser, store, history);
        worker.send(Command::OpenStore);
        worker.send(Command::ListProfiles);
        let mut state = AppState {
            persisted,
            ..AppState::default()
        };
        state.request.grant = state.persisted.grant;
        state.request.interaction_id = uuid::Uuid::new_v4().to_string();
        state.request.code_verifier = PkceVerifier::generate().as_str().to_owned();
        state.status = "Starting…".into();
        Self {
            state,
            worker,
            clipboard,
            next_id: 1,
            actions: Vec::new(),
            first_frame: None,
            first_launch_started: false,
            ready_done: false,
            last_jwt_input: String::new(),
            history_requested_for: None,
            dpop_requested_for: None,
        }
    }

    /// The app as eframe starts it: the OS keychain, the real clipboard and dialogs.
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        handle: tokio::runtime::Handle,
        profiles: ProfileStore,
        clipboard: Arc<dyn Clipboard>,
        files: Arc<dyn FileDialog>,
        started: Instant,
    ) -> Self {
        let persisted = cc
            .storage
            .and_then(|s| eframe::get_value::<Persisted>(s, eframe::APP_KEY))
            .unwrap_or_default();
        cc.egui_ctx
            .options_mut(|o| o.theme_preference = egui::ThemePreference::System);
        // The OS data directory; without one, beside the profiles.
        let history = HistoryStore::default_location()
            .unwrap_or_else(|_| HistoryStore::at(profiles.dir().with_file_name("history")));
        let mut app = Self::build(
            handle,
            (profiles, history),
            clipboard,
            files,
            Arc::new(SystemBrowser),
            None,
            persisted,
        );
        app.worker.set_context(&cc.egui_ctx);
        app.first_frame = Some(started);
        app
    }

    /// An app for UI tests: an injected secret store, clipboard, file dialog and
    /// profile directory, and the test's runtime.
    pub fn new_for_test(
        store: Arc<dyn SecretStore>,
        clipboard: Arc<dyn Clipboard>,
        files: Arc<dyn FileDialog>,
        profile_dir: PathBuf,
        handle: tokio::runtime::Handle,
    ) -> Self {
        // Tests never open a real browser.
        Self::new_for_test_with_browser(
            store,
            clipboard,
            files,
            Arc::new(FakeBrowser::default()),
            profile_dir,
            handle,
        )
    }

    /// As [`App::new_for_test`], with a browser that plays the user.
    pub fn new_for_test_with_browser(
        store: Arc<dyn SecretStore>,
        clipboard: Arc<dyn Clipboard>,
        files: Arc<dyn FileDialog>,
        browser: Arc<dyn Browser>,
        profile_dir: PathBuf,
        handle: tokio::runtime::Handle,
    ) -> Self {
        // Tests keep the history beside their profiles, in their own folder.
        let history = HistoryStore::at(profile_dir.with_file_name("history"));
        Self::build(
            handle,
            (ProfileStore::at(profile_dir), history),
            clipboard,
            files,
            browser,
            Some(store),
            Persisted::default(),
        )
    }

    /// One whole frame: drain events, paint, apply actions (what tests drive).
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        self.drain(ui.ctx());
        self.paint(ui);
    }

    /// Drains the worker's events (once per frame).
    pub fn drain(&mut self, ctx: &egui::Context) {
        self.worker.set_context(ctx);
        while let Some(event) = self.worker.try_recv() {
            self.handle_event(event);
        }
        self.maybe_ready();
        self.load_saved_history();
        self.load_dpop_key();
        self.refresh_preview(false);
    }

    /// Asks for the selected profile's saved history when the selection changed.
    fn load_saved_history(&mut self) {
        let Some(name) = self.state.profile().map(|p| p.name.clone()) else {
            return;
        };
        if self.history_requested_for.as_deref() != Some(name.as_str()) {
            self.history_requested_for = Some(name.clone());
            self.worker.send(Command::LoadHistory { profile: name });
        }
    }

    /// Asks for the selected profile's DPoP key once its DPoP box is ticked (the preview
    /// waits for it: what it shows is what Send sends).
    fn load_dpop_key(&mut self) {
        let Some(profile) = self.state.profile().filter(|p| p.dpop).cloned() else {
            return;
        };
        let loaded = matches!(&self.state.dpop_key, Some((name, _)) if *name == profile.name);
        if !self.ready_done
            || loaded
            || self.dpop_requested_for.as_deref() == Some(profile.name.as_str())
        {
            return;
        }
        self.dpop_requested_for = Some(profile.name.clone());
        self.worker.send(Command::LoadDpopKey { profile });
    }

    /// Paints the panels and applies what they asked for.
    pub fn paint(&mut self, ui: &mut egui::Ui) {
        if let Some(started) = self.first_frame.take()
            && std::env::var_os("TOKEN_INSPECTOR_FIRST_FRAME_LOG").is_some()
        {
            eprintln!("first frame after {} ms", started.elapsed().as_millis());
        }
        self.shortcuts(ui.ctx());
        let actions = &mut self.actions;
        let state = &mut self.state;
        egui::Panel::bottom("status_bar").show(ui, |ui| panels::status_bar::ui(ui, state, actions));
        egui::Panel::left("sidebar")
            .default_size(230.0)
            .show(ui, |ui| panels::sidebar::ui(ui, state, actions));
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                for tab in Tab::ALL {
                    if ui
                        .selectable_label(state.persisted.tab == tab, tab.label())
                        .clicked()
                    {
                        actions.push(Action::SetTab(tab));
                    }
                }
            });
            ui.separator();
            match state.persisted.tab {
                Tab::Client => panels::client::ui(ui, state, actions),
                Tab::Request => panels::request::ui(ui, state, actions),
                Tab::Response => panels::response::ui(ui, state, actions),
                Tab::Jwt => panels::jwt::ui(ui, state, actions),
            }
        });
        let actions = std::mem::take(&mut self.actions);
        for action in actions {
            self.apply(action);
        }
        if !self.state.jwt.input.is_empty() && self.state.jwt.input != self.last_jwt_input {
            self.last_jwt_input = self.state.jwt.input.clone();
            self.decode_jwt();
        }
        self.refresh_preview(false);
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let (send, copy_curl) = ctx.input_mut(|i| {
            let send = i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter));
            let copy_key = i.consume_shortcut(&KeyboardShortcut::new(
                Modifiers::COMMAND | Modifiers::SHIFT,
                Key::C,
            ));
            // egui-winit turns Ctrl+C (with or without Shift) into a Copy event.
            let copy_event = i.modifiers.shift
                && i.modifiers.command
                && i.events.iter().any(|e| matches!(e, egui::Event::Copy));
            (send, copy_key || copy_event)
        });
        if send {
            self.actions.push(Action::Send);
        }
        if copy_curl {
            self.actions.push(Action::CopyCurl(Redaction::None));
        }
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Once the store answered and the profiles are listed: first launch, or load the
    /// selected profile's key.
    fn maybe_ready(&mut self) {
        if self.ready_done
            || !self.state.profiles_loaded
            || self.state.store == StoreStatus::Opening
        {
            return;
        }
        self.ready_done = true;
        if self.state.profiles.is_empty() && self.state.profile_errors.is_empty() {
            self.first_launch_started = true;
            self.state.status = "First launch: creating the Local sandbox profile…".into();
            self.worker.send(Command::CreateLocalSandbox);
        } else {
            self.after_select();
        }
    }

    fn after_select(&mut self) {
        let Some(profile) = self.state.profile().cloned() else {
            return;
        };
        self.state.persisted.selected_profile = Some(profile.name.clone());
        if !self.ready_done {
            return;
        }
        if profile.local_sandbox
            && matches!(
                self.state.sandbox,
                SandboxStatus::Stopped | SandboxStatus::Failed(_)
            )
        {
            self.worker.send(Command::StartSandbox { profile });
        } else if self.state.loaded_key().is_none() {
            self.state.key = KeyState::Loading;
            self.worker.send(Command::LoadKey { profile });
        }
    }

    fn handle_event(&mut self, event: Event) {
        let st = &mut self.state;
        match event {
            Event::Store(Ok((describe, persistent))) => {
                let was_failed = matches!(st.store, StoreStatus::Failed(_));
                st.store = StoreStatus::Ready {
                    describe,
                    persistent,
                };
                if was_failed {
                    st.client_notice = None;
                    self.after_select();
                }
            }
            Event::Store(Err(e)) => {
                if matches!(st.key, KeyState::Loading) {
                    st.key = KeyState::Failed(format!("the secret store is not available: {e}"));
                }
                st.store = StoreStatus::Failed(e);
            }
            Event::SavedHistory { profile, entries } => {
                if st.profile().is_some_and(|p| p.name == profile) {
                    st.saved_history = entries;
                    st.saved_history_of = Some(profile);
                    st.saved_shown = None;
                    st.saved_compare = None;
                }
            }
            Event::Profiles { profiles, errors } => {
                st.profiles = profiles;
                st.profile_errors = errors;
                st.profiles_loaded = true;
                let wanted = st.persisted.selected_profile.clone();
                st.selected = wanted
                    .and_then(|w| st.profiles.iter().position(|p| p.name == w))
                    .or(if st.profiles.is_empty() {
                        None
                    } else {
                        Some(0)
                    });
                st.disk = st.profiles.clone();
                st.status = format!("{} profile(s) loaded", st.profiles.len());
                if st.selected.is_some() {
                    self.after_select();
                }
            }
            Event::ProfileSaved {
                profile,
                previous_name,
                select,
            } => {
                let profile = *profile;
                let key = previous_name.as_deref().unwrap_or(&profile.name).to_owned();
                let selected_name = st.profile().map(|p| p.name.clone());
                match st.profiles.iter().position(|p| p.name == key) {
                    Some(i) => st.profiles[i] = profile.clone(),
                    None => st.profiles.push(profile.clone()),
                }
                st.profiles.sort_by_key(|p| p.name.to_lowercase());
                let keep =
                    if select || selected_name.is_none() || selected_name.as_ref() == Some(&key) {
                        Some(profile.name.clone())
                    } else {
                        selected_name
                    };
                st.selected = keep.and_then(|n| st.profiles.iter().position(|p| p.name == n));
                let verb = if st.disk.iter().any(|d| d.name == key) {
                    "saved"
                } else {
                    "created"
                };
                st.record_saved(&profile, previous_name.as_deref());
                st.sidebar_notice = Some(Notice::info(format!("{verb} \"{}\"", profile.name)));
                if select {
                    self.after_select();
                }
            }
            Event::ProfileDeleted { name } => {
                st.profiles.retain(|p| p.name != name);
                st.selected = if st.profiles.is_empty() {
                    None
                } else {
                    Some(0)
                };
                st.disk.retain(|p| p.name != name);
                st.key = KeyState::Unknown;
                st.sidebar_notice = Some(Notice::info(format!("deleted \"{name}\"")));
                self.after_select();
            }
            Event::Notice(area, notice) => match area {
                Area::Sidebar => st.sidebar_notice = Some(notice),
                Area::Client => st.client_notice = Some(notice),
                Area::Request => st.request_notice = Some(notice),
                Area::Jwt => st.jwt.message = Some(notice.text),
            },
            Event::Key { profile, result } => {
                if let Ok(Some(key)) = &result
                    && let Some(p) = st.profile_mut().filter(|p| p.name == profile)
                    && !p.auth.alg.fits(key.key_type())
                {
                    let alg = crate::jose::keys::SigningAlg::default_for(key.key_type());
                    p.auth.alg = alg;
                    st.client_notice = Some(Notice::info(format!(
                        "the signing alg is now {alg} to match the {} key; press Save profile to keep it",
                        key.key_type()
                    )));
                }
                if st.profile().is_some_and(|p| p.name == profile) {
                    st.key = match result {
                        Ok(Some(key)) => KeyState::Loaded(LoadedKey {
                            profile,
                            thumbprint: key.thumbprint(),
                            key_type: key.key_type(),
                            key,
                        }),
                        Ok(None) => KeyState::Missing,
                        Err(e) => KeyState::Failed(e),
                    };
                }
            }
            Event::Discovered { profile, result } => {
                st.busy = None;
                match result {
                    Ok(found) => {
                        if let Some(p) = st.profile_mut().filter(|p| p.name == profile) {
                            crate::oauth::discovery::apply_to_profile(&found, p);
                        }
                        st.client_notice = Some(Notice::info(format!(
                            "discovery read {}: endpoints filled in; press Save to keep them",
                            found.url
                        )));
                        st.discovery = Some(*found);
                    }
                    Err(e) => st.client_notice = Some(Notice::error(e)),
                }
            }
            Event::SandboxStarting => st.sandbox = SandboxStatus::Starting,
            Event::SandboxReady { profile, issuer } => {
                st.sandbox = SandboxStatus::Running { issuer };
                let profile = *profile;
                if let Some(i) = st.profiles.iter().position(|p| p.name == profile.name) {
                    st.profiles[i] = profile.clone();
                }
                st.record_saved(&profile, None);
                if self.first_launch_started {
                    self.first_launch_started = false;
                    st.persisted.tab = Tab::Request;
                    st.request_notice = Some(Notice::info(
                        "The Local sandbox is ready: press Authorize, then Send.",
                    ));
                }
                st.status = "Sandbox running".into();
                if st.profile().is_some_and(|p| p.name == profile.name) && st.loaded_key().is_none()
                {
                    st.key = KeyState::Loading;
                    self.worker.send(Command::LoadKey { profile });
                }
            }
            Event::SandboxFailed(e) => {
                st.sandbox = SandboxStatus::Failed(e.clone());
                let text = format!("the embedded sandbox could not start: {e}");
                st.client_notice = Some(Notice::error(text.clone()));
                // One state everywhere: no "ready" left in the Request panel, no stale
                // status line, no key waiting forever.
                st.request_notice = Some(Notice::error(format!(
                    "{text}. Retry from the status bar, or pick another profile."
                )));
                st.status = "Sandbox failed".into();
                if matches!(st.key, KeyState::Loading | KeyState::Unknown) {
                    st.key = KeyState::Failed(format!("the key could not be prepared: {e}"));
                }
                self.first_launch_started = false;
            }
            Event::Exchanged { id, exchange } => {
                if matches!(st.send, Work::Running { id: run, .. } if run == id) {
                    st.send = Work::Idle;
                    let exchange = *exchange;
                    st.status = match &exchange.outcome {
                        Ok(r) => format!(
                            "HTTP {} {} in {:.0} ms",
                            r.http.status, r.http.reason, exchange.elapsed_ms
                        ),
                        Err(e) => format!("failed: {e}"),
                    };
                    if let Some(ResponseBody::Token(t)) = exchange.response().map(|r| &r.body)
                        && let Some(refresh) = t.refresh_token()
                    {
                        st.request.refresh_token = crate::secret::Secret::new(refresh);
                    }
                    st.request_notice = None;
                    st.show_new_exchange(exchange);
                }
            }
            Event::Called { id, result } => {
                if matches!(st.api.work, Work::Running { id: run, .. } if run == id) {
                    st.api.work = Work::Idle;
                    st.status = match &result {
                        Ok(ex) => match &ex.outcome {
                            Ok(r) => format!("API: HTTP {} {}", r.http.status, r.http.reason),
                            Err(e) => format!("API call failed: {e}"),
                        },
                        Err(e) => format!("API call not made: {e}"),
                    };
                    st.api.result = Some(result);
                }
            }
            Event::SendFailed { id, message } => {
                if matches!(st.send, Work::Running { id: run, .. } if run == id) {
                    st.send = Work::Idle;
                    st.status = "not sent".into();
                    st.request_notice = Some(Notice::error(message));
                }
            }
            Event::AuthorizeWaiting {
                id,
                url,
                redirect_uri,
                browser_opened,
            } => {
                if matches!(st.authorize, Work::Running { id: run, .. } if run == id) {
                    st.authorize = Work::Running {
                        id,
                        what: format!("Waiting for the bank's redirect on {redirect_uri}…"),
                    };
                    st.request_notice = Some(Notice::info(if browser_opened {
                        format!(
                            "The bank's page opened in your browser; log in and approve. Waiting for the redirect on {redirect_uri} (Cancel stops waiting)."
                        )
                    } else {
                        format!(
                            "Open this URL in a browser, log in and approve: {url}. Waiting for the redirect on {redirect_uri}."
                        )
                    }));
                    st.status = format!("Waiting for the bank's redirect on {redirect_uri}");
                }
            }
            Event::ParRefused { id, exchange } => {
                if matches!(st.authorize, Work::Running { id: run, .. } if run == id) {
                    let exchange = *exchange;
                    st.status = match exchange.response() {
                        Some(r) => format!("PAR refused: HTTP {} {}", r.http.status, r.http.reason),
                        None => "PAR failed".into(),
                    };
                    st.show_new_exchange(exchange);
                }
            }
            Event::Authorized { id, result } => {
                if matches!(st.authorize, Work::Running { id: run, .. } if run == id) {
                    st.authorize = Work::Idle;
                    match result {
                        Ok((session, redirect)) => self.authorized(*session, redirect.map(|r| *r)),
                        Err(e) => {
                            st.request_notice =
                                Some(Notice::error(format!("Authorize failed: {e}")));
                            st.status = "authorize failed".into();
                        }
                    }
                }
            }
            Event::Redirected(redirect) => self.redirected(*redirect, false),
            Event::DpopKey { profile, result } => {
                if st.profile().is_some_and(|p| p.name == profile) {
                    st.dpop_key = result.transpose().map(|r| (profile, r));
                }
            }
            Event::ClientSecret {
                profile,
                entry,
                result,
            } => {
                if st.profile().is_some_and(|p| p.name == profile) {
                    match result {
                        Ok(Some(secret)) => {
                            if let Some(p) = st.profile_mut()
                                && p.auth.client_secret.as_deref() != Some(entry.as_str())
                            {
                                p.auth.client_secret = Some(entry.clone());
                                st.client_notice = Some(Notice::info(
                                    "client secret kept in the secret store; press Save profile to remember where",
                                ));
                            }
                            st.client_secret = Some((profile, secret));
                            st.client_secret_input = crate::secret::Secret::new("");
                        }
                        Ok(None) => {
                            st.client_secret = None;
                            st.client_notice = Some(Notice::error(format!(
                                "the secret store has no entry {entry:?}: type the client secret and keep it again"
                            )));
                        }
                        Err(e) => st.client_notice = Some(Notice::error(e)),
                    }
                }
            }
            Event::Certificate { path, result } => {
                st.certificate = Some((path, result));
            }
            Event::MtlsCert(path) => {
                if let Some(p) = st.profile_mut() {
                    p.tls.client_cert = Some(path);
                }
                st.client_notice = Some(Notice::info(
                    "certificate set; import its private key too, then Save",
                ));
            }
            Event::PemKey {
                profile,
                used_for,
                entry,
            } => {
                if let Some(p) = st.profile_mut().filter(|p| p.name == profile) {
                    match used_for {
                        PemKeyUse::Mtls => p.tls.client_key = Some(entry),
                        PemKeyUse::Decryption => p.encryption_key = Some(entry),
                    }
                }
                st.client_notice = Some(Notice::info(match used_for {
                    PemKeyUse::Mtls => {
                        "mTLS key kept in the secret store; press Save to keep the profile"
                    }
                    PemKeyUse::Decryption => {
                        "decryption key kept in the secret store; press Save to keep the profile"
                    }
                }));
            }
            Event::Jwks(result) => match result {
                Ok(jwks) => {
                    st.jwt.jwks = Some(jwks);
                    st.jwt.message = Some("JWKS fetched".into());
                    self.decode_jwt();
                }
                Err(e) => st.jwt.message = Some(e),
            },
            Event::JwtKeyFile(result) => match result {
                Ok((path, text)) => {
                    st.jwt.key_text = text;
                    st.jwt.key_file = Some(path);
                    st.jwt.key_source = JwtKeySource::File;
                    st.jwt.message = None;
                    self.decode_jwt();
                }
                Err(e) => st.jwt.message = Some(e),
            },
        }
    }

    /// An authorization started: its state, nonce and verifier are kept for the token
    /// request; the redirect, when it came back already, is read.
    fn authorized(&mut self, session: AuthorizationSession, redirect: Option<Redirect>) {
        let st = &mut self.state;
        // A consent created first shows like any other exchange.
        let profile_name = st.profile().map(|p| p.name.clone()).unwrap_or_default();
        for step in &session.consent_steps {
            st.history.push(HistoryEntry {
                profile: profile_name.clone(),
                exchange: step.clone(),
                received: Instant::now(),
            });
        }
        st.request.authorization = AuthorizationContext {
            state: Some(session.state.clone()),
            nonce: Some(session.nonce.clone()),
            requested_consent: session.requested_consent(),
            pkce_challenge: Some(session.verifier.challenge_s256()),
            redirect_uri: Some(session.redirect_uri.clone()),
            ..AuthorizationContext::default()
        };
        st.request.code_verifier = session.verifier.as_str().to_owned();
        st.request.grant = GrantType::AuthorizationCode;
        st.session = Some(session);
        match redirect {
            Some(redirect) => {
                self.state.request.paste.clear();
                self.redirected(redirect, true);
            }
            None => {
                self.state.request_notice = Some(Notice::info(
                    "The consent page opened in your browser. Approve, then paste the redirect URL (or the code) here.",
                ));
                self.state.status = "Waiting for the redirect URL".into();
            }
        }
    }

    /// The bank's redirect, read by the session: a code fills the Request panel (caught
    /// from a real bank, it is exchanged at once: a code lives seconds); an error is
    /// shown with its diagnosis, on the authorization request (PAR) it answers.
    fn redirected(&mut self, redirect: Redirect, just_authorized: bool) {
        let st = &mut self.state;
        match redirect {
            Redirect::Code {
                request,
                authorization,
            } => {
                if let Grant::AuthorizationCode { code, .. } = &request.grant {
                    st.request.code = code.expose().to_owned();
                }
                st.request.received_state = authorization.state.clone();
                st.request.authorization = authorization;
                st.request.paste_error = None;
                let from_the_bank = st.profile().is_some_and(|p| !p.local_sandbox);
                if just_authorized && from_the_bank && !st.request.code.is_empty() {
                    st.status = "Redirect received: exchanging the code".into();
                    self.send();
                    return;
                }
                st.status = "Authorized in the app: code received; press Send".into();
            }
            Redirect::Refused {
                error,
                description,
                findings,
                causes,
            } => {
                let said = if description.is_empty() {
                    String::new()
                } else {
                    format!(" ({description})")
                };
                st.request.paste_error = Some(format!(
                    "the server answered error={error}{said}: there is no code; start again with Authorize"
                ));
                st.request.authorization.findings = findings;
                st.status = format!("the bank answered error={error}");
                // Why? on the authorization request this error answers.
                if let Some(mut par) = st.session.as_ref().and_then(|s| s.par.clone()) {
                    par.diagnosis = causes;
                    st.show_new_exchange(*par);
                }
            }
        }
    }

    /// The paste box: a code, or the whole redirect URL (code, state and iss checked
    /// against the last authorization; an error is diagnosed by the session).
    fn read_pasted(&mut self, answer: AuthorizationResponse) {
        let profile = self.state.profile().cloned();
        let secrets = self.secrets();
        let st = &mut self.state;
        st.request.authorization.findings = redirect::check_authorization_response(
            &answer,
            st.request.authorization.state.as_deref(),
            profile.as_ref().map(|p| p.issuer.as_str()),
            profile.as_ref().map(|p| p.redirect_uri.as_str()),
        );
        st.request.received_state = answer.state.clone();
        if let Some(error) = &answer.error {
            st.request.paste_error = Some(format!(
                "the server answered error={error}{}: there is no code; start again with Authorize",
                answer
                    .error_description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ));
            if let (Some(started), Some(profile)) = (st.session.clone(), profile) {
                self.worker.send(Command::Redirect {
                    profile,
                    secrets,
                    started: Box::new(started),
                    response: answer,
                });
            }
            return;
        }
        st.request.paste_error = None;
        if let Some(code) = answer.code {
            st.request.code = code;
            st.request.authorization.code_received_at =
                Some(crate::jose::numeric_date::now_unix() as i64);
        }
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::SetTab(tab) => self.state.persisted.tab = tab,
            Action::SelectProfile(i) => {
                if self.state.selected != Some(i) && i < self.state.profiles.len() {
                    // Unsaved edits of the previous profile stay in memory (marked).
                    self.state.selected = Some(i);
                    self.state.key = KeyState::Unknown;
                    self.state.dpop_key = None;
                    self.dpop_requested_for = None;
                    self.state.session = None;
                    self.state.discovery = None;
                    self.state.client_notice = None;
                    self.state.rename = None;
                    self.after_select();
                }
            }
            Action::NewProfile => {
                let mut n = 1;
                let name = loop {
                    let candidate = if n == 1 {
                        "New profile".to_owned()
                    } else {
                        format!("New profile {n}")
                    };
                    if !self.state.profiles.iter().any(|p| p.name == candidate) {
                        break candidate;
                    }
                    n += 1;
                };
                let profile = Profile::new(&name, "https://");
                self.worker.send(Command::SaveProfile {
                    profile,
                    previous_name: None,
                    select: true,
                });
                self.state.persisted.selected_profile = Some(name);
                self.state.persisted.tab = Tab::Client;
            }
            Action::NewFromPreset(id) => {
                if let Some(preset) = crate::storage::presets::find(&id) {
                    let mut name = preset.name.clone();
                    let mut n = 2;
                    while self.state.profiles.iter().any(|p| p.name == name) {
                        name = format!("{} {n}", preset.name);
                        n += 1;
                    }
                    let profile = preset.to_profile(&name);
                    self.state.client_notice = Some(Notice::info(format!(
                        "Created from the {} preset (v{}). Fill in your client_id and redirect_uri, import the signing key and the transport certificate. Assertion aud: {}.",
                        preset.name, preset.version, preset.aud_note
                    )));
                    self.worker.send(Command::SaveProfile {
                        profile,
                        previous_name: None,
                        select: true,
                    });
                    self.state.persisted.selected_profile = Some(name);
                    self.state.persisted.tab = Tab::Client;
                }
            }
            Action::SetConsent(text) => {
                if let Some(i) = self.state.selected {
                    let mut profile = self.state.profiles[i].clone();
                    profile.consent = Some(text);
                    self.state.profiles[i] = profile.clone();
                    self.worker.send(Command::SaveProfile {
                        profile,
                        previous_name: None,
                        select: false,
                    });
                }
            }
            Action::DuplicateProfile => {
                if let Some(p) = self.state.profile() {
                    let mut copy = p.clone();
                    let mut name = format!("{} copy", p.name);
                    while self.state.profiles.iter().any(|q| q.name == name) {
                        name.push_str(" copy");
                    }
                    copy.auth.key = Some(p.key_entry());
                    copy.name = name;
                    copy.local_sandbox = false;
                    self.worker.send(Command::SaveProfile {
                        profile: copy,
                        previous_name: None,
                        select: true,
                    });
                }
            }
            Action::StartRename => {
                self.state.rename = self.state.profile().map(|p| p.name.clone());
            }
            Action::CancelRename => self.state.rename = None,
            Action::ConfirmRename => {
                let Some(new_name) = self.state.rename.take().map(|n| n.trim().to_owned()) else {
                    return;
                };
                let Some(p) = self.state.profile().cloned() else {
                    return;
                };
                if new_name.is_empty() {
                    self.state.sidebar_notice =
                        Some(Notice::error("a profile needs a name: type one"));
                } else if new_name != p.name
                    && self.state.profiles.iter().any(|q| q.name == new_name)
                {
                    self.state.sidebar_notice = Some(Notice::error(format!(
                        "a profile named \"{new_name}\" exists: pick another name"
                    )));
                } else if new_name != p.name {
                    let mut renamed = p.clone();
                    // The key stays where it is.
                    renamed.auth.key = Some(p.key_entry());
                    renamed.name = new_name;
                    if let Some(l) = self.state.loaded_key().cloned() {
                        self.state.key = KeyState::Loaded(LoadedKey {
                            profile: renamed.name.clone(),
                            ..l
                        });
                    }
                    self.worker.send(Command::SaveProfile {
                        profile: renamed,
                        previous_name: Some(p.name),
                        select: true,
                    });
                }
            }
            Action::DeleteProfile => {
                if let Some(p) = self.state.profile().cloned() {
                    self.worker.send(Command::DeleteProfile { profile: p });
                }
            }
            Action::ImportProfile => self.worker.send(Command::ImportProfile),
            Action::ExportProfile => {
                if let Some(p) = self.state.profile().cloned() {
                    self.worker.send(Command::ExportProfile { profile: p });
                }
            }
            Action::SaveProfile => {
                if let Some(p) = self.state.profile().cloned() {
                    let problems = p.validate();
                    if problems.is_empty() {
                        self.worker.send(Command::SaveProfile {
                            profile: p,
                            previous_name: None,
                            select: false,
                        });
                        self.state.client_notice = Some(Notice::info("saved"));
                    } else {
                        self.state.client_notice = Some(Notice::error(format!(
                            "not saved; fix: {}",
                            problems.join("; ")
                        )));
                    }
                }
            }
            Action::RevertProfile => {
                if let (Some(i), Some(saved)) = (self.state.selected, self.state.saved().cloned())
                    && let Some(p) = self.state.profiles.get_mut(i)
                {
                    *p = saved;
                }
            }
            Action::ShowHistory(i) => {
                if i < self.state.history.len() {
                    self.state.shown = Some(i);
                    self.state.saved_shown = None;
                    self.state.persisted.tab = Tab::Response;
                }
            }
            Action::ShowSaved(i) => {
                if i < self.state.saved_history.len() {
                    self.state.saved_shown = Some(i);
                    self.state.saved_compare = None;
                    self.state.persisted.tab = Tab::Response;
                }
            }
            Action::CompareSaved(i) => {
                let saved = &self.state.saved_history;
                if let Some(entry) = saved.get(i) {
                    // Older entries come after it (newest first).
                    let success = saved
                        .iter()
                        .skip(i + 1)
                        .find(|e| e.is_success() && e.kind == entry.kind);
                    self.state.saved_compare = Some(match success {
                        Some(s) => (
                            format!("Changed since the last success ({} UTC)", s.sent_at),
                            crate::history::compare(s, entry),
                        ),
                        None => (
                            "No earlier success of this kind to compare with".to_owned(),
                            Vec::new(),
                        ),
                    });
                }
            }
            Action::CompareSavedWith(i, j) => {
                let saved = &self.state.saved_history;
                if let (Some(shown), Some(other)) = (saved.get(i), saved.get(j)) {
                    // Newest first: the higher index is the earlier entry.
                    let (before, after) = if j > i {
                        (other, shown)
                    } else {
                        (shown, other)
                    };
                    self.state.saved_compare = Some((
                        // A summary starts with its time.
                        format!("From {} to {}", before.summary(), after.summary()),
                        crate::history::compare(before, after),
                    ));
                }
            }
            Action::CopyBundle(i) => {
                if let Some(entry) = self.state.saved_history.get(i) {
                    let text = crate::support_bundle::markdown(entry);
                    self.copy("support bundle", &text);
                }
            }
            Action::SaveBundle(i) => {
                if let Some(entry) = self.state.saved_history.get(i) {
                    let text = format!(
                        "{}\n## Bundle as JSON\n\n```json\n{}\n```\n",
                        crate::support_bundle::markdown(entry),
                        serde_json::to_string_pretty(&crate::support_bundle::json(entry))
                            .unwrap_or_default()
                    );
                    self.worker.send(Command::SaveText {
                        title: "Save the support bundle".into(),
                        file_name: format!(
                            "support-bundle-{}.md",
                            entry.interaction_id.as_deref().unwrap_or(&entry.id)
                        ),
                        text,
                    });
                }
            }
            Action::UseSessionStore => self.worker.send(Command::UseSessionStore),
            Action::Discover => {
                if let Some(p) = self.state.profile().cloned() {
                    self.state.busy = Some("Fetching discovery…".into());
                    self.worker.send(Command::Discover { profile: p });
                }
            }
            Action::GenerateKey(key_type) => {
                if let Some(pm) = self.state.profile_mut() {
                    // The algorithm follows the key type (PS256 cannot sign with EC).
                    if !pm.auth.alg.fits(key_type) {
                        pm.auth.alg = crate::jose::keys::SigningAlg::default_for(key_type);
                    }
                    let profile = pm.clone();
                    self.state.key = KeyState::Loading;
                    self.state.client_notice =
                        Some(Notice::info(format!("generating a {key_type} key…")));
                    self.worker.send(Command::GenerateKey { profile, key_type });
                }
            }
            Action::StoreClientSecret => {
                let secret = self.state.client_secret_input.clone();
                if secret.expose().trim().is_empty() {
                    self.state.client_notice = Some(Notice::error("type the client secret first"));
                } else if let Some(p) = self.state.profile().cloned() {
                    self.worker
                        .send(Command::StoreClientSecret { profile: p, secret });
                }
            }
            Action::ImportKey => {
                if let Some(p) = self.state.profile().cloned() {
                    self.worker.send(Command::ImportKey { profile: p });
                }
            }
            Action::SaveJwks => {
                if let (Some(k), Some(p)) = (self.state.loaded_key(), self.state.profile()) {
                    let text = public_jwks_text(k, p);
                    self.worker.send(Command::SaveText {
                        title: "Save the public JWKS".into(),
                        file_name: "jwks.json".into(),
                        text,
                    });
                }
            }
            Action::PickMtlsCert => self.worker.send(Command::PickMtlsCert),
            Action::ImportMtlsKey => {
                if let Some(p) = self.state.profile().cloned() {
                    self.worker.send(Command::ImportPemKey {
                        profile: p,
                        used_for: PemKeyUse::Mtls,
                    });
                }
            }
            Action::ImportDecryptionKey => {
                if let Some(p) = self.state.profile().cloned() {
                    self.worker.send(Command::ImportPemKey {
                        profile: p,
                        used_for: PemKeyUse::Decryption,
                    });
                }
            }
            Action::ClearDecryptionKey => {
                if let Some(p) = self.state.profile_mut() {
                    p.encryption_key = None;
                }
            }
            Action::ClearMtls => {
                if let Some(p) = self.state.profile_mut() {
                    p.tls.client_cert = None;
                    p.tls.client_key = None;
                }
            }
            Action::StartSandbox => {
                // The selected profile when it is the Local sandbox, else the Local
                // sandbox profile (the status bar's Retry).
                let profile = self
                    .state
                    .profile()
                    .filter(|p| p.local_sandbox)
                    .or_else(|| self.state.profiles.iter().find(|p| p.local_sandbox))
                    .cloned();
                if let Some(p) = profile {
                    self.worker.send(Command::StartSandbox { profile: p });
                }
            }
            Action::Copy { what, text } => self.copy(&what, &text),
            Action::CopyCurl(redaction) => {
                self.refresh_preview(false);
                match &self.state.preview.model {
                    Some(Ok(model)) => {
                        let text = render::curl(model, redaction);
                        let what = match redaction {
                            Redaction::None => "curl command",
                            Redaction::Redacted => "redacted curl command",
                        };
                        self.copy(what, &text);
                    }
                    _ => {
                        self.state.request_notice = Some(Notice::error(
                            "no request to copy yet: fix the inputs shown in red",
                        ))
                    }
                }
            }
            Action::PasteCode => match self.clipboard.get_text() {
                Ok(text) => {
                    self.state.request.paste = text.trim().to_owned();
                    self.apply(Action::ApplyPaste);
                }
                Err(e) => self.state.request_notice = Some(Notice::error(e)),
            },
            Action::ApplyPaste => {
                let text = self.state.request.paste.clone();
                if text.trim().is_empty() {
                    self.state.request.paste_error = None;
                    return;
                }
                match redirect::parse_authorization_response(&text) {
                    Ok(answer) => self.read_pasted(answer),
                    Err(e) => self.state.request.paste_error = Some(e.to_string()),
                }
            }
            Action::GeneratePkce => {
                self.state.request.code_verifier = PkceVerifier::generate().as_str().to_owned();
            }
            Action::RegenerateInteractionId => {
                self.state.request.interaction_id = uuid::Uuid::new_v4().to_string();
            }
            Action::Rebuild => self.refresh_preview(true),
            Action::Send => self.send(),
            Action::CallApi => self.call_api(),
            Action::Cancel => {
                if let Work::Running { id, .. } = self.state.send {
                    self.worker.send(Command::Cancel { id });
                    self.state.send = Work::Idle;
                    self.state.status = "Send cancelled".into();
                    self.state.request_notice = Some(Notice::info(
                        "Request cancelled: no answer will be shown (the server may still have received it).",
                    ));
                }
                if let Work::Running { id, .. } = self.state.authorize {
                    self.worker.send(Command::Cancel { id });
                    self.state.authorize = Work::Idle;
                    self.state.status = "Authorize cancelled".into();
                    self.state.request_notice = Some(Notice::info(
                        "Authorize cancelled: press Authorize to start again.",
                    ));
                }
            }
            Action::Authorize => self.authorize(),
            Action::DecodeJwt => self.decode_jwt(),
            Action::PasteJwt => match self.clipboard.get_text() {
                Ok(text) => {
                    self.state.jwt.input = text.trim().to_owned();
                    self.decode_jwt();
                }
                Err(e) => self.state.jwt.message = Some(e),
            },
            Action::FetchJwks => {
                if let Some(p) = self.state.profile().cloned() {
                    self.state.jwt.key_source = JwtKeySource::ProfileJwks;
                    self.state.jwt.message = Some("fetching the JWKS…".into());
                    self.worker.send(Command::FetchJwks { profile: p });
                }
            }
            Action::PickJwtKey => self.worker.send(Command::PickJwtKey),
        }
    }

    fn copy(&mut self, what: &str, text: &str) {
        self.state.status = match self.clipboard.set_text(text) {
            Ok(()) => format!("Copied the {what}"),
            Err(e) => format!("Could not copy the {what}: {e}"),
        };
    }

    fn secrets(&self) -> ClientSecrets {
        let name = self.state.profile().map(|p| p.name.as_str());
        ClientSecrets {
            signing_key: self.state.loaded_key().map(|k| k.key.clone()),
            client_secret: self
                .state
                .client_secret
                .as_ref()
                .filter(|(p, _)| Some(p.as_str()) == name)
                .map(|(_, s)| s.clone()),
        }
    }

    /// The token request the Request panel's inputs describe, and what the last
    /// authorization left for it.
    fn token_request(&self) -> (TokenRequest, AuthorizationContext) {
        let r = &self.state.request;
        let redirect_uri = self
            .state
            .profile()
            .map(|p| p.redirect_uri.clone())
            .unwrap_or_default();
        let grant = match r.grant {
            GrantType::AuthorizationCode => Grant::AuthorizationCode {
                code: Secret::new(r.code.clone()),
                redirect_uri,
                code_verifier: Some(r.code_verifier.clone())
                    .filter(|v| !v.trim().is_empty())
                    .map(Secret::new),
            },
            GrantType::RefreshToken => Grant::RefreshToken {
                refresh_token: r.refresh_token.clone(),
            },
            GrantType::ClientCredentials => Grant::ClientCredentials,
        };
        let options = RequestOptions {
            scope: Some(r.scope.trim().to_owned()).filter(|s| !s.is_empty()),
            interaction_id: Some(r.interaction_id.trim().to_owned()).filter(|s| !s.is_empty()),
            ..RequestOptions::default()
        };
        let authorization = if r.grant == GrantType::AuthorizationCode {
            r.authorization.clone()
        } else {
            // A refresh or client-credentials request redeems no code.
            AuthorizationContext::default()
        };
        (TokenRequest { grant, options }, authorization)
    }

    /// Calls the API box's URL with the shown entry's access token.
    fn call_api(&mut self) {
        if self.state.api.work.is_running() {
            return;
        }
        let Some(profile) = self.state.profile().cloned() else {
            return;
        };
        let token = self
            .state
            .shown_entry()
            .and_then(|e| e.exchange.response())
            .and_then(|r| r.body.json())
            .and_then(|body| crate::oauth::resource::token_of(&body));
        let Some((token, token_type)) = token else {
            self.state.api.result = Some(Err(
                "the shown answer has no access_token: get a token first".into(),
            ));
            return;
        };
        if self.state.api.url.trim().is_empty() && profile.local_sandbox {
            // The embedded sandbox's accounts API, as an example to start from.
            self.state.api.url = format!("{}/accounts", profile.issuer.trim_end_matches('/'));
        }
        let url = self.state.api.url.trim().to_owned();
        if url.is_empty() {
            self.state.api.result = Some(Err("type the API URL to call".into()));
            return;
        }
        let mut headers = Vec::new();
        for line in self
            .state
            .api
            .headers
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            match line.split_once(':') {
                Some((name, value)) if !name.trim().is_empty() => {
                    headers.push((name.trim().to_owned(), value.trim().to_owned()));
                }
                _ => {
                    self.state.api.result = Some(Err(format!(
                        "the header line {line:?} is not `Name: value`"
                    )));
                    return;
                }
            }
        }
        let method = match self.state.api.method.trim() {
            "" => "GET".to_owned(),
            m => m.to_ascii_uppercase(),
        };
        let id = self.new_id();
        self.state.api.work = Work::Running {
            id,
            what: "Calling…".into(),
        };
        self.state.status = format!("Calling {url}…");
        self.worker.send(Command::CallApi {
            id,
            profile,
            token,
            token_type,
            call: crate::oauth::resource::ResourceCall {
                method,
                url,
                headers,
                // The worker reads the profile's decryption key, when it names one.
                decrypt_with: None,
            },
        });
    }

    /// Rebuilds the request model when the inputs changed (or `force`): built by the
    /// core as Send sends it, the DPoP proof (with the server's last nonce) included.
    fn refresh_preview(&mut self, force: bool) {
        let st = &self.state;
        let Some(profile) = st.profile() else {
            self.state.preview = Default::default();
            return;
        };
        let (request, authorization) = self.token_request();
        let nonces = self.worker.nonces().clone();
        let dpop = st.loaded_dpop_key();
        let nonce = profile
            .endpoints
            .token
            .as_deref()
            .and_then(|url| nonces.get(url));
        let r = &st.request;
        let inputs = PreviewInputs {
            profile: profile.clone(),
            grant: r.grant,
            code: r.code.clone(),
            code_verifier: r.code_verifier.clone(),
            scope: r.scope.clone(),
            interaction_id: r.interaction_id.clone(),
            refresh_token: r.refresh_token.clone(),
            key: match &st.key {
                KeyState::Loaded(k) => k.thumbprint.clone(),
                other => format!("{other:?}"),
            },
            client_secret: st.client_secret.clone(),
            dpop_jkt: dpop.map(|k| k.jkt()),
            dpop_nonce: nonce,
        };
        if !force && st.preview.inputs.as_ref() == Some(&inputs) {
            return;
        }
        let model = self.build_preview(profile, &request, &nonces);
        let context = self.check_context(&authorization);
        let findings = match &model {
            Ok(m) => exchange::request_findings(m, &context),
            Err(_) => Vec::new(),
        };
        let preview = &mut self.state.preview;
        preview.inputs = Some(inputs);
        preview.model = Some(model);
        preview.built = Some(Instant::now());
        preview.sent = false;
        preview.findings = findings;
    }

    /// The model the core builds for Send, or why it cannot be built yet.
    fn build_preview(
        &self,
        profile: &Profile,
        request: &TokenRequest,
        nonces: &crate::oauth::dpop::NonceStore,
    ) -> Result<crate::oauth::request::RequestModel, String> {
        let st = &self.state;
        let needs_key = profile.auth.method == crate::storage::profile::AuthMethod::PrivateKeyJwt;
        if needs_key && st.loaded_key().is_none() {
            return Err(match &st.key {
                KeyState::Loading | KeyState::Unknown => {
                    "loading the signing key from the secret store…".to_owned()
                }
                KeyState::Failed(e) => format!("the signing key could not be loaded: {e}"),
                _ => "this profile has no signing key: import one or press \"Generate key\" in the Client panel".to_owned(),
            });
        }
        let dpop = st.loaded_dpop_key();
        if profile.dpop && dpop.is_none() {
            return Err(match &st.dpop_key {
                Some((name, Err(e))) if *name == profile.name => {
                    format!("the DPoP key could not be loaded: {e}")
                }
                _ => "loading the DPoP key from the secret store…".to_owned(),
            });
        }
        let secrets = self.secrets();
        let credentials = Credentials {
            profile,
            secrets: &secrets,
            dpop,
            client_key_file: None,
        };
        build::token_request(&credentials, request, nonces).map_err(|e| e.to_string())
    }

    /// What the request findings compare against (the profile, the authorization).
    fn check_context(&self, authorization: &AuthorizationContext) -> ExchangeContext {
        match self.state.profile() {
            Some(p) => {
                let mut ctx = settings::exchange_context(
                    p,
                    authorization.state.clone(),
                    authorization.nonce.clone(),
                );
                ctx.requested_consent
                    .clone_from(&authorization.requested_consent);
                ctx
            }
            None => ExchangeContext::default(),
        }
    }

    fn send(&mut self) {
        if self.state.send.is_running() {
            return;
        }
        let stale = self.state.preview.sent
            || self
                .state
                .preview
                .built
                .is_none_or(|b| b.elapsed() > MAX_PREVIEW_AGE);
        self.refresh_preview(stale);
        let Some(profile) = self.state.profile().cloned() else {
            self.state.request_notice = Some(Notice::error(
                "no profile selected: pick or create one in the sidebar",
            ));
            return;
        };
        let model = match &self.state.preview.model {
            Some(Ok(model)) => model.clone(),
            Some(Err(e)) => {
                self.state.request_notice = Some(Notice::error(format!("cannot send: {e}")));
                return;
            }
            None => return,
        };
        let id = self.new_id();
        self.state.send = Work::Running {
            id,
            what: "Sending…".into(),
        };
        self.state.preview.sent = true;
        self.state.request_notice = None;
        self.state.status = format!("Sending to {}…", model.url);
        let (request, authorization) = self.token_request();
        self.worker.send(Command::Send {
            id,
            profile,
            secrets: self.secrets(),
            request: Box::new(request),
            authorization: Box::new(authorization),
            model: Box::new(model),
        });
    }

    fn authorize(&mut self) {
        if self.state.authorize.is_running() {
            return;
        }
        let Some(profile) = self.state.profile().cloned() else {
            return;
        };
        if profile.auth.method == crate::storage::profile::AuthMethod::PrivateKeyJwt
            && self.state.loaded_key().is_none()
        {
            self.state.request_notice = Some(Notice::error(
                "Authorize needs the signing key (PAR is authenticated): wait for it to load, or import/generate one in the Client panel",
            ));
            return;
        }
        let id = self.new_id();
        self.state.authorize = Work::Running {
            id,
            what: "Authorizing…".into(),
        };
        self.state.request_notice = None;
        self.state.status = "Authorizing…".into();
        self.worker.send(Command::Authorize {
            id,
            in_app: profile.local_sandbox,
            secrets: self.secrets(),
            profile,
        });
    }

    fn decode_jwt(&mut self) {
        let jwt = &self.state.jwt;
        let token = jwt.input.trim().to_owned();
        if token.is_empty() {
            self.state.jwt.report = None;
            return;
        }
        let key = match jwt.key_source {
            JwtKeySource::None => Ok(None),
            JwtKeySource::ProfileJwks => match &jwt.jwks {
                Some(jwks) => Ok(Some(VerificationKey::Jwks(jwks.clone()))),
                None => Err("no JWKS fetched yet: press \"Fetch profile JWKS\"".to_owned()),
            },
            JwtKeySource::File | JwtKeySource::Pasted => {
                if jwt.key_text.trim().is_empty() {
                    Err("no key given: pick a key file or paste a PEM/JWK".to_owned())
                } else {
                    verify::parse_key_text(&jwt.key_text)
                        .map(Some)
                        .map_err(|e| e.to_string())
                }
            }
            JwtKeySource::Secret => Ok(Some(VerificationKey::Secret(
                jwt.secret.expose().as_bytes().to_vec(),
            ))),
        };
        let key = match key {
            Ok(k) => k,
            Err(e) => {
                self.state.jwt.message = Some(e);
                None
            }
        };
        let p = self.state.profile();
        let ctx = CheckContext {
            issuer: p.map(|p| p.issuer.clone()),
            client_id: p.map(|p| p.client_id.clone()),
            token_endpoint: p.and_then(|p| p.endpoints.token.clone()),
            ..CheckContext::default()
        };
        let how = Inspection {
            key,
            ..Inspection::default()
        };
        self.state.jwt.report =
            Some(crate::inspector::inspect(&token, &how, &ctx).map_err(|e| {
                format!("{e}: paste a whole token (three or five dot-separated parts)")
            }));
    }

    /// Remembers the non-secret UI state.
    pub fn persisted(&self) -> &Persisted {
        &self.state.persisted
    }
}

/// The public JWKS text for a profile's key (kid from the profile or the thumbprint).
pub fn public_jwks_text(key: &LoadedKey, profile: &Profile) -> String {
    let kid = profile.auth.kid.clone().filter(|k| !k.is_empty());
    serde_json::to_string_pretty(&key.key.public_jwks(kid.as_deref(), profile.auth.alg))
        .unwrap_or_default()
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.paint(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, self.persisted());
    }
}
