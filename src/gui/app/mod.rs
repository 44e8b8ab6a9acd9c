//! The [`App`]: owns the state and the worker, drains the worker's events once per
//! frame, paints the panels, and applies what the panels asked for ([`Action`]s) at the
//! end of the frame. The request model is built here, once per change of the inputs, and
//! the very value shown in the preview is the one sent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Key, KeyboardShortcut, Modifiers};

mod action;
mod client;
mod flows;
mod history;
mod jwt;
mod preview;
mod profiles;
mod request;

pub use action::Action;

use super::panels;
use super::platform::{Browser, Clipboard, FakeBrowser, FileDialog, SystemBrowser};
use super::state::{AppState, KeyState, LoadedKey, Persisted, StoreStatus, Tab};
use super::worker::{Area, Command, Event, Worker};
use crate::history::HistoryStore;
use crate::oauth::pkce::PkceVerifier;
use crate::oauth::render::Redaction;
use crate::oauth::request::ClientSecrets;
use crate::storage::profile::{Profile, ProfileStore};
use crate::storage::secret_store::SecretStore;

/// How old a built request may get before Send builds a fresh one (the client
/// assertion's `iat`/`exp` and `jti` are made when the model is built).
pub(super) const MAX_PREVIEW_AGE: Duration = Duration::from_secs(30);

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
    header_values_requested_for: Option<String>,
    focus_ring: Option<egui::Rect>,
    /// A request asked of the Local sandbox while it was stopped: applied once it runs.
    after_sandbox: Option<Action>,
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
            header_values_requested_for: None,
            focus_ring: None,
            after_sandbox: None,
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
        // The theme follows the system's until the sidebar's switch chooses one; egui
        // remembers that choice with the window (its default is the system's). Ctrl +/−
        // scale the text (egui's keyboard zoom, on by default).
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
        self.load_header_values();
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

    /// Asks for the selected profile's secret header values when it keeps some in the
    /// keychain (the preview waits for them).
    fn load_header_values(&mut self) {
        let Some(profile) = self
            .state
            .profile()
            .filter(|p| p.headers.iter().any(|h| h.keychain))
            .cloned()
        else {
            return;
        };
        let loaded = matches!(&self.state.header_values, Some((name, _)) if *name == profile.name);
        if !self.ready_done
            || loaded
            || self.header_values_requested_for.as_deref() == Some(profile.name.as_str())
        {
            return;
        }
        self.header_values_requested_for = Some(profile.name.clone());
        self.worker.send(Command::LoadKey { profile });
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
        // The sidebar's resize handle, which egui leaves without a role or a name.
        ui.ctx()
            .accesskit_node_builder(egui::Id::new("sidebar").with("__resize"), |node| {
                node.set_role(egui::accesskit::Role::Splitter);
                node.set_label("Resize the sidebar");
            });
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
                Tab::Flows => panels::flows::ui(ui, state, actions),
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
        self.focus_ring = panels::focus_ring::paint(ui.ctx());
    }

    /// Where the keyboard focus ring was drawn in the last frame (none without a focus).
    pub fn focus_ring(&self) -> Option<egui::Rect> {
        self.focus_ring
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

    pub(super) fn new_id(&mut self) -> u64 {
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

    pub(super) fn after_select(&mut self) {
        let Some(profile) = self.state.profile().cloned() else {
            return;
        };
        self.state.persisted.selected_profile = Some(profile.name.clone());
        if !self.ready_done {
            return;
        }
        // The Local sandbox is not started here: it starts with the first request that
        // needs it (`sandbox_first`), so a launch, and an idle window, do not carry it.
        if self.state.loaded_key().is_none() {
            self.state.key = KeyState::Loading;
            self.worker.send(Command::LoadKey { profile });
        }
    }

    fn handle_event(&mut self, event: Event) {
        match event {
            Event::ImportConflict(shared) => self.state.pending_import = Some(*shared),
            Event::Notice(area, notice) => match area {
                Area::Sidebar => self.state.sidebar_notice = Some(notice),
                Area::Client => self.state.client_notice = Some(notice),
                Area::Request => self.state.request_notice = Some(notice),
                Area::Jwt => self.state.jwt.message = Some(notice.text),
            },
            Event::Profiles { .. } | Event::ProfileSaved { .. } | Event::ProfileDeleted { .. } => {
                self.on_profiles_event(event)
            }
            Event::Store(..)
            | Event::HeaderValues { .. }
            | Event::Key { .. }
            | Event::DpopKey { .. }
            | Event::Discovered { .. }
            | Event::SandboxStarting
            | Event::SandboxReady { .. }
            | Event::SandboxFailed(..)
            | Event::ClientSecret { .. }
            | Event::Certificate { .. }
            | Event::MtlsCert(..)
            | Event::PemKey { .. } => self.on_client_event(event),
            Event::SavedHistory { .. } => self.on_history_event(event),
            Event::Exchanged { .. }
            | Event::Called { .. }
            | Event::SendFailed { .. }
            | Event::AuthorizeWaiting { .. }
            | Event::ParRefused { .. }
            | Event::Authorized { .. }
            | Event::Redirected(..) => self.on_request_event(event),
            Event::Jwks(..) | Event::JwtKeyFile(..) => self.on_jwt_event(event),
            Event::Flows(..)
            | Event::FlowSaved(..)
            | Event::FlowStep { .. }
            | Event::FlowDone { .. } => {
                self.on_flows_event(event);
            }
        }
    }

    fn apply(&mut self, action: Action) {
        if self.sandbox_first(&action) {
            return;
        }
        match action {
            Action::SetTab(tab) => {
                if tab == Tab::Flows {
                    self.worker.send(crate::gui::worker::Command::ListFlows);
                }
                self.state.persisted.tab = tab;
            }
            Action::Copy { what, text } => self.copy(&what, &text),
            Action::SelectProfile(..)
            | Action::NewProfile
            | Action::NewFromPreset(..)
            | Action::SetConsent(..)
            | Action::DuplicateProfile
            | Action::StartRename
            | Action::CancelRename
            | Action::ConfirmRename
            | Action::DeleteProfile
            | Action::ImportProfile
            | Action::ReplaceWithImport
            | Action::KeepExisting
            | Action::ExportProfile
            | Action::SaveProfile
            | Action::RevertProfile => self.apply_profiles(action),
            Action::UseSessionStore
            | Action::Discover
            | Action::GenerateKey(..)
            | Action::StoreClientSecret
            | Action::ImportKey
            | Action::SaveJwks
            | Action::PickMtlsCert
            | Action::ImportMtlsKey
            | Action::ImportDecryptionKey
            | Action::ClearDecryptionKey
            | Action::ClearMtls
            | Action::StartSandbox
            | Action::SetUpDataCalls => self.apply_client(action),
            Action::ShowHistory(..)
            | Action::ShowSaved(..)
            | Action::CompareSaved(..)
            | Action::CompareSavedWith(..)
            | Action::CopyBundle(..)
            | Action::SaveBundle(..) => self.apply_history(action),
            Action::CopyCurl(..)
            | Action::PasteCode
            | Action::ApplyPaste
            | Action::GeneratePkce
            | Action::RegenerateInteractionId
            | Action::Rebuild
            | Action::Send
            | Action::CallApi
            | Action::Cancel
            | Action::Authorize => self.apply_request(action),
            Action::DecodeJwt | Action::PasteJwt | Action::FetchJwks | Action::PickJwtKey => {
                self.apply_jwt(action)
            }
            Action::RefreshFlows
            | Action::SaveAsFlow
            | Action::RunFlow(..)
            | Action::CancelFlow
            | Action::OpenFlowStep(..) => self.apply_flows(action),
        }
    }

    pub(super) fn copy(&mut self, what: &str, text: &str) {
        self.state.status = match self.clipboard.set_text(text) {
            Ok(()) => format!("Copied the {what}"),
            Err(e) => format!("Could not copy the {what}: {e}"),
        };
    }

    pub(super) fn secrets(&self) -> ClientSecrets {
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
