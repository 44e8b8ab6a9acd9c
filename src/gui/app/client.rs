//! The Client panel: the secret store, keys (signing, mTLS, decryption, DPoP), the client
//! secret, discovery and the embedded sandbox; and the worker's answers about them.

use super::{Action, App, public_jwks_text};
use crate::gui::state::{KeyState, LoadedKey, Notice, SandboxStatus, StoreStatus, Tab};
use crate::gui::worker::{Command, Event, PemKeyUse};

impl App {
    /// What a panel asked of this feature.
    pub(super) fn apply_client(&mut self, action: Action) {
        match action {
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
            Action::SetUpDataCalls => {
                if let Some(p) = self.state.profile().filter(|p| p.local_sandbox).cloned() {
                    self.state.status = "Setting up signed data calls with the sandbox…".into();
                    self.worker.send(Command::SetUpDataCalls { profile: p });
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
            _ => {}
        }
    }

    /// What the worker reported for this feature.
    pub(super) fn on_client_event(&mut self, event: Event) {
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
            Event::SandboxReady { profile, issuer } => self.sandbox_ready(profile, issuer),
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
                if self.after_sandbox.take().is_some() {
                    self.state.status = "Sandbox failed: the request was not sent".into();
                }
            }
            Event::HeaderValues { profile, headers }
                if st.profile().is_some_and(|p| p.name == profile) =>
            {
                st.header_values = Some((profile, headers));
            }
            Event::DpopKey { profile, result }
                if st.profile().is_some_and(|p| p.name == profile) =>
            {
                st.dpop_key = result.transpose().map(|r| (profile, r));
            }
            Event::ClientSecret {
                profile,
                entry,
                result,
            } => self.client_secret_loaded(profile, entry, result),
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
            _ => {}
        }
    }

    /// A request to the Local sandbox while it is not running (it starts on demand after
    /// the first launch): start it, and keep the action until it runs, when the profile
    /// names its address, its CA and the registered key. True when the action waits.
    pub(super) fn sandbox_first(&mut self, action: &Action) -> bool {
        let needs_server = matches!(
            action,
            Action::Authorize
                | Action::Send
                | Action::CallApi
                | Action::Discover
                | Action::RunFlow(..)
                | Action::FetchJwks
        );
        let st = &mut self.state;
        let Some(profile) = st.profile().filter(|p| p.local_sandbox) else {
            return false;
        };
        if !needs_server || matches!(st.sandbox, SandboxStatus::Running { .. }) {
            return false;
        }
        if !matches!(st.sandbox, SandboxStatus::Starting) {
            self.worker.send(Command::StartSandbox {
                profile: profile.clone(),
            });
            st.sandbox = SandboxStatus::Starting;
        }
        st.status = "Starting the Local sandbox first…".into();
        self.after_sandbox = Some(action.clone());
        true
    }

    /// The sandbox runs: the profile points at it; on first launch, the Request panel says what to press.
    fn sandbox_ready(&mut self, profile: Box<crate::storage::profile::Profile>, issuer: String) {
        let st = &mut self.state;
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
        // What was asked of it while it started.
        if let Some(action) = self.after_sandbox.take() {
            self.actions.push(action);
        }
        let st = &mut self.state;
        if st.profile().is_some_and(|p| p.name == profile.name) && st.loaded_key().is_none() {
            st.key = KeyState::Loading;
            self.worker.send(Command::LoadKey { profile });
        }
    }

    /// The client secret was loaded or kept: the profile remembers where.
    fn client_secret_loaded(
        &mut self,
        profile: String,
        entry: String,
        result: Result<Option<crate::secret::Secret>, String>,
    ) {
        let st = &mut self.state;
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
}
