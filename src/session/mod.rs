//! One resolved session and its steps: the only place a workflow is assembled.
//!
//! A [`Session`] is built once from resolved [`settings::Settings`] (the profile with the
//! user's overrides, the secrets, the DPoP key) and owns what every step shares: the HTTP
//! client (the profile's transport, or any [`HttpClient`] in tests), the DPoP nonces
//! servers gave, the history, and the evidence a refusal is judged with. Its steps are
//! what both front ends call:
//!
//! - [`Session::discover`]: the server's discovery document, diagnosed when there is no
//!   answer;
//! - [`Session::authorize`]: consent steps, PAR with its request object, the URL; a
//!   refused PAR judged and kept; [`Session::redirect`] reads what the bank sent back
//!   (an error diagnosed against the PAR);
//! - [`Session::preview`] and [`build::token_request`]: the exact model Send sends, every
//!   header (the DPoP proof) included;
//! - [`Session::send_token`]: binding, DPoP with its nonce retry and a fresh assertion,
//!   one diagnosis with all the evidence, kept in the history;
//! - [`Session::call`], [`Session::call_with`], [`Session::manage_token`]: an API call,
//!   introspection and revocation, judged and kept alike.
//!
//! The command line and the app translate flags and clicks into these calls and render
//! what comes back; neither assembles a request, a proof, a retry or a diagnosis.

mod authorize;
pub mod build;
mod call;
pub mod data;
mod discover;
mod front_channel;
mod judge;
pub mod settings;
#[cfg(test)]
mod tests;
mod token;

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::checks::Finding;
use crate::history::HistoryStore;
use crate::oauth::dpop::NonceStore;
use crate::oauth::http::{HttpClient, SendError};
use crate::oauth::transport::Transport;

pub use authorize::{AuthorizeFailure, Consent, Redirect};
pub use build::{Credentials, TokenRequest};
pub use discover::DiscoverFailure;
pub use settings::Settings;
pub use token::AuthorizationContext;

/// Where the client's registered JWK Set comes from, for the diagnosis of a refusal
/// (whether the signing key's `kid` is registered).
#[derive(Clone, Debug, Default)]
pub enum RegisteredJwks {
    /// Not known.
    #[default]
    Unknown,
    /// Known already (a file read, the embedded sandbox's registration).
    Known(Value),
    /// A URL or a file, read when a refusal needs it (a success costs no request).
    Source(String),
}

/// Where the issuer's JWKS (to verify an id_token) comes from when not from the profile.
#[derive(Clone, Debug)]
pub enum IssuerJwks {
    /// A JWKS given directly (a file).
    Known(Value),
    /// A URL to fetch.
    Url(String),
}

/// The history a session keeps its exchanges in, and under which name.
#[derive(Clone, Debug)]
pub struct HistoryLog {
    /// The store.
    pub store: HistoryStore,
    /// The profile's name (runs without a profile share one name).
    pub key: String,
}

/// One resolved client talking to one server, and the state its steps share.
pub struct Session<C: HttpClient = Transport> {
    settings: Settings,
    client: C,
    nonces: Arc<NonceStore>,
    history: Option<HistoryLog>,
    discovery: Mutex<Option<Value>>,
    registered_jwks: Mutex<RegisteredJwks>,
    issuer_jwks: Option<IssuerJwks>,
    notes: Vec<Finding>,
    warnings: Mutex<Vec<String>>,
    force_redeem: bool,
    allow_http: bool,
}

impl Session<Transport> {
    /// A session over the transport the settings describe (CA, mTLS identity,
    /// timeouts, the verification switch).
    pub fn new(settings: Settings) -> Result<Self, SendError> {
        let transport = Transport::new(settings.transport.clone())?;
        Ok(Self::with_client(settings, transport))
    }
}

impl<C: HttpClient> Session<C> {
    /// A session over any client (tests answer with [`crate::oauth::http::FnClient`]).
    pub fn with_client(settings: Settings, client: C) -> Self {
        let notes = crate::storage::presets::profile_findings(&settings.profile);
        Self {
            settings,
            client,
            nonces: Arc::default(),
            history: None,
            discovery: Mutex::new(None),
            registered_jwks: Mutex::new(RegisteredJwks::Unknown),
            issuer_jwks: None,
            notes,
            warnings: Mutex::new(Vec::new()),
            force_redeem: false,
            allow_http: false,
        }
    }

    /// Shares the DPoP nonces with other sessions (the app keeps one store for its
    /// whole run, so a preview carries the nonce Send will send).
    pub fn with_nonces(mut self, nonces: Arc<NonceStore>) -> Self {
        self.nonces = nonces;
        self
    }

    /// Keeps every exchange in this history under `key`.
    pub fn with_history(mut self, store: HistoryStore, key: impl Into<String>) -> Self {
        self.history = Some(HistoryLog {
            store,
            key: key.into(),
        });
        self
    }

    /// Where the client's registered JWK Set comes from.
    pub fn with_registered_jwks(self, source: RegisteredJwks) -> Self {
        if let Ok(mut slot) = self.registered_jwks.lock() {
            *slot = source;
        }
        self
    }

    /// Verifies id_tokens with this JWKS instead of the profile's `jwks_uri`.
    pub fn with_issuer_jwks(mut self, jwks: IssuerJwks) -> Self {
        self.issuer_jwks = Some(jwks);
        self
    }

    /// Redeems a code even when its redirect's `state` or `iss` is wrong (for testing a
    /// bank's own checks: `--force-redeem`).
    pub fn with_force_redeem(mut self, force: bool) -> Self {
        self.force_redeem = force;
        self
    }

    /// Takes plain-http endpoints from a discovery document even on a host that is not
    /// this machine (`--allow-http`).
    pub fn with_allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// The server's discovery document, when the caller has it already.
    pub fn with_discovery(self, document: Value) -> Self {
        if let Ok(mut slot) = self.discovery.lock() {
            *slot = Some(document);
        }
        self
    }

    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The settings, to change before the next step (a flag that turns JAR on).
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    /// The HTTP client.
    pub fn client(&self) -> &C {
        &self.client
    }

    /// The DPoP nonces servers gave.
    pub fn nonces(&self) -> &Arc<NonceStore> {
        &self.nonces
    }

    /// The history this session keeps, when it keeps one.
    pub fn history(&self) -> Option<&HistoryLog> {
        self.history.as_ref()
    }

    /// Findings the session's setup found (the preset's requirements, the server's
    /// clock): they join the findings of every token exchange.
    pub fn notes(&self) -> &[Finding] {
        &self.notes
    }

    /// Adds a finding to the session's notes.
    pub fn add_note(&mut self, finding: Finding) {
        self.notes.push(finding);
    }

    /// What went wrong on the side (a history that could not be written), for the front
    /// end to say once; taken, so each is said once.
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    fn warn(&self, text: String) {
        tracing::warn!("{text}");
        if let Ok(mut w) = self.warnings.lock() {
            w.push(text);
        }
    }

    /// The credentials requests are built and signed with.
    pub fn credentials(&self) -> Credentials<'_> {
        self.settings.credentials()
    }
}
