//! The app's state as plain data: profiles, the selected profile, the request inputs,
//! the request model shown and sent, the last exchange, the history, the JWT panel and
//! the status line. Panels read and edit it; only [`Persisted`] is saved by eframe, and it
//! holds no secret.

use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::checks::Finding;
use crate::inspector::Report;
use crate::jose::keys::{KeyType, PrivateKey};
use crate::oauth::authorize::AuthorizationSession;
use crate::oauth::discovery::Discovery;
use crate::oauth::dpop::DpopKey;
use crate::oauth::exchange::Exchange;
use crate::oauth::request::{GrantType, RequestModel};
use crate::secret::Secret;
use crate::session::AuthorizationContext;
use crate::storage::profile::Profile;

/// The central panels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    /// The profile's fields, keys and TLS.
    Client,
    /// Grant inputs, preview, Send. The window opens here (until another panel was shown
    /// last): the path starts with Authorize, and the first launch lands here too.
    #[default]
    Request,
    /// The last exchange.
    Response,
    /// Paste and inspect any token.
    Jwt,
    /// The profile's flow files, run step by step.
    Flows,
}

impl Tab {
    /// All tabs in display order.
    pub const ALL: [Tab; 5] = [
        Tab::Client,
        Tab::Request,
        Tab::Response,
        Tab::Jwt,
        Tab::Flows,
    ];

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Client => "Client",
            Tab::Request => "Request",
            Tab::Response => "Response",
            Tab::Jwt => "JWT",
            Tab::Flows => "Flows",
        }
    }
}

/// Non-secret UI state remembered between runs (eframe persistence).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    /// The profile selected last.
    pub selected_profile: Option<String>,
    /// The tab shown last.
    pub tab: Tab,
    /// The grant picked last.
    pub grant: GrantType,
    /// Show the curl command redacted in the preview.
    pub curl_redacted: bool,
}

/// Where secrets are kept this session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StoreStatus {
    /// Still opening the keychain.
    #[default]
    Opening,
    /// Ready; the store's description and whether it survives a restart.
    Ready {
        /// "OS keychain (Secret Service)", "this session only".
        describe: String,
        /// True for the OS keychain.
        persistent: bool,
    },
    /// The keychain could not be opened (locked or absent): the message says why.
    Failed(String),
}

/// The embedded sandbox's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SandboxStatus {
    /// Not started.
    #[default]
    Stopped,
    /// Starting (key, server, registration, discovery).
    Starting,
    /// Serving at this issuer.
    Running {
        /// `http://127.0.0.1:PORT`.
        issuer: String,
    },
    /// It could not start.
    Failed(String),
}

/// Work in flight: idle, running, finished or failed (the previous result stays shown
/// while a new one runs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Work {
    /// Nothing running.
    #[default]
    Idle,
    /// Running since this instant.
    Running {
        /// The job's id (late answers of other ids are ignored).
        id: u64,
        /// What is running, for the status line ("Sending…").
        what: String,
    },
}

impl Work {
    /// True while something runs.
    pub fn is_running(&self) -> bool {
        matches!(self, Work::Running { .. })
    }
}

/// The signing key of the selected profile, as loaded from the secret store.
#[derive(Clone, Debug, Default)]
pub enum KeyState {
    /// Not loaded yet.
    #[default]
    Unknown,
    /// Loading from the store.
    Loading,
    /// The store has no key for this profile.
    Missing,
    /// Loaded.
    Loaded(LoadedKey),
    /// It could not be read.
    Failed(String),
}

/// A loaded signing key and what the UI shows about it.
#[derive(Clone, Debug)]
pub struct LoadedKey {
    /// The profile it belongs to.
    pub profile: String,
    /// The key (kept in memory only).
    pub key: PrivateKey,
    /// RFC 7638 thumbprint.
    pub thumbprint: String,
    /// The key type.
    pub key_type: KeyType,
}

/// One remembered exchange.
#[derive(Clone, Debug)]
pub struct HistoryEntry {
    /// Profile name.
    pub profile: String,
    /// The exchange.
    pub exchange: Exchange,
    /// When it came back (for the expiry countdown).
    pub received: Instant,
}

/// The Request panel's inputs.
#[derive(Clone, Debug, Default)]
pub struct RequestInputs {
    /// The grant.
    pub grant: GrantType,
    /// The paste box: a code or the whole redirect URL.
    pub paste: String,
    /// The code to send.
    pub code: String,
    /// The state received with the code.
    pub received_state: Option<String>,
    /// What the last authorization left for the token request: the state and nonce
    /// sent, the consent asked for, the PKCE challenge, and the findings on the redirect
    /// (state, iss).
    pub authorization: AuthorizationContext,
    /// Why the paste box could not be read.
    pub paste_error: Option<String>,
    /// The PKCE code_verifier.
    pub code_verifier: String,
    /// The scope (empty: the profile's).
    pub scope: String,
    /// The x-fapi-interaction-id.
    pub interaction_id: String,
    /// The refresh token for the refresh grant (memory only).
    pub refresh_token: Secret,
}

/// The Flows view: the flow files found, the run in flight and its steps so far.
#[derive(Debug, Default)]
pub struct FlowsState {
    /// The flow files of the profiles folder (`flows/`).
    pub files: Vec<crate::flow::FlowFile>,
    /// The run in flight.
    pub work: Work,
    /// The flow run last (or running): its name.
    pub running: Option<String>,
    /// Its steps as they ended.
    pub steps: Vec<crate::flow::StepOutcome>,
    /// How the last run ended: `Ok(summary)` or why it could not run.
    pub result: Option<Result<String, String>>,
}

/// How the "Call an API" box signs a body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignAs {
    /// As the profile's data-call settings say (unsigned when they say nothing).
    #[default]
    Profile,
    /// UK Open Banking's `x-jws-signature`.
    UkJwsSignature,
    /// A UAE signed JWT body, personal data encrypted to the bank.
    UaeSignedBody,
}

/// The Response panel's "Call an API" box and its last answer.
#[derive(Debug, Default)]
pub struct ApiCall {
    /// `GET`, `POST`...
    pub method: String,
    /// The API URL.
    pub url: String,
    /// Extra headers, one `Name: value` per line.
    pub headers: String,
    /// A JSON body (a payment, a consent), sent with POST and PUT.
    pub body: String,
    /// How the body is signed.
    pub sign_as: SignAs,
    /// The consent's account the data-call buttons call for (its `account_id`).
    pub account: Option<String>,
    /// The call in flight.
    pub work: Work,
    /// The last answer, or why the call could not be made.
    pub result: Option<Result<Box<crate::oauth::exchange::Exchange>, String>>,
}

/// The request model built from the current inputs (the one shown is the one sent).
#[derive(Clone, Debug, Default)]
pub struct Preview {
    /// The inputs it was built from, compared by value (secrets included) to decide
    /// whether to rebuild.
    pub inputs: Option<PreviewInputs>,
    /// The model, or why it could not be built (with what to do).
    pub model: Option<Result<RequestModel, String>>,
    /// When it was built.
    pub built: Option<Instant>,
    /// True once it was sent (the next Send builds a fresh assertion).
    pub sent: bool,
    /// Findings on the request alone (the client assertion).
    pub findings: Vec<Finding>,
}

/// Everything a request preview is built from. Compared by value, so a new refresh token
/// or client secret of the same length rebuilds the request.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewInputs {
    /// The profile as edited.
    pub profile: Profile,
    /// The grant picked.
    pub grant: GrantType,
    /// The code.
    pub code: String,
    /// The PKCE verifier.
    pub code_verifier: String,
    /// The scope typed.
    pub scope: String,
    /// The interaction id typed.
    pub interaction_id: String,
    /// The refresh token.
    pub refresh_token: Secret,
    /// The signing key's thumbprint, or what the key state is.
    pub key: String,
    /// The client secret and the profile it belongs to.
    pub client_secret: Option<(String, Secret)>,
    /// The DPoP key's thumbprint, when the profile uses DPoP.
    pub dpop_jkt: Option<String>,
    /// The DPoP nonce the token endpoint gave last (the proof carries it).
    pub dpop_nonce: Option<String>,
}

/// Where the JWT panel's verification key comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JwtKeySource {
    /// No verification.
    #[default]
    None,
    /// The profile's issuer JWKS (fetched).
    ProfileJwks,
    /// A key file (PEM, JWK or JWKS) picked with the file dialog.
    File,
    /// A PEM public key or JWK pasted.
    Pasted,
    /// An HMAC secret.
    Secret,
}

/// The JWT panel.
#[derive(Clone, Debug, Default)]
pub struct JwtState {
    /// The pasted token.
    pub input: String,
    /// The key source.
    pub key_source: JwtKeySource,
    /// Pasted key text, or the file's contents.
    pub key_text: String,
    /// The file the key came from.
    pub key_file: Option<String>,
    /// The HMAC secret.
    pub secret: Secret,
    /// The fetched JWKS of the profile's issuer.
    pub jwks: Option<serde_json::Value>,
    /// The inspection, or why it failed.
    pub report: Option<Result<Report, String>>,
    /// A message from a fetch or file read.
    pub message: Option<String>,
}

/// One in-place message: text and whether it is an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The text (what happened and what to do next).
    pub text: String,
    /// True for errors (shown in red).
    pub error: bool,
}

impl Notice {
    /// An error.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            error: true,
        }
    }

    /// An information.
    pub fn info(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            error: false,
        }
    }
}

/// Everything the UI shows.
#[derive(Default)]
pub struct AppState {
    /// Remembered UI state.
    pub persisted: Persisted,
    /// The profiles, as loaded and edited.
    pub profiles: Vec<Profile>,
    /// Profile files that could not be read.
    pub profile_errors: Vec<String>,
    /// True once the first listing arrived.
    pub profiles_loaded: bool,
    /// The selected profile's index.
    pub selected: Option<usize>,
    /// The profiles as saved on disk (to show "unsaved changes" and to revert).
    pub disk: Vec<Profile>,
    /// The sidebar's rename box (`Some` while renaming).
    pub rename: Option<String>,
    /// Messages per area.
    pub sidebar_notice: Option<Notice>,
    /// Client panel message.
    pub client_notice: Option<Notice>,
    /// Request panel message.
    pub request_notice: Option<Notice>,
    /// The last discovery, for its findings.
    pub discovery: Option<Discovery>,
    /// The secret store.
    pub store: StoreStatus,
    /// The selected profile's signing key.
    pub key: KeyState,
    /// The selected profile's extra headers with their keychain values read: the profile
    /// they belong to, and the headers.
    pub header_values: Option<(String, Vec<crate::storage::profile::ExtraHeader>)>,
    /// The selected profile's DPoP key (RFC 9449), when it uses DPoP: the profile it
    /// belongs to and the key, or why it could not be loaded.
    pub dpop_key: Option<(String, Result<DpopKey, String>)>,
    /// The embedded sandbox.
    pub sandbox: SandboxStatus,
    /// The Request panel's inputs.
    pub request: RequestInputs,
    /// The model shown and sent.
    pub preview: Preview,
    /// The exchange in flight.
    pub send: Work,
    /// An authorization in flight.
    pub authorize: Work,
    /// The last authorization started (state, nonce, verifier, URL).
    pub session: Option<AuthorizationSession>,
    /// The exchanges, newest last.
    pub history: Vec<HistoryEntry>,
    /// The history entry the Response panel shows.
    pub shown: Option<usize>,
    /// The selected profile's saved history (from disk, no secrets), newest first.
    pub saved_history: Vec<crate::history::HistoryEntry>,
    /// The profile `saved_history` belongs to.
    pub saved_history_of: Option<String>,
    /// The saved entry the Response panel shows instead of a live one.
    pub saved_shown: Option<usize>,
    /// The comparison of the shown saved entry with another (the newest success before
    /// it, or one the user picked): what it is compared with, and the differences.
    pub saved_compare: Option<(String, Vec<crate::history::Difference>)>,
    /// The saved history's search box (status, grant, error, interaction id).
    pub saved_search: String,
    /// The JWT panel.
    pub jwt: JwtState,
    /// The status bar's last result.
    pub status: String,
    /// Busy jobs other than send/authorize (discovery, key import), for the status bar.
    pub busy: Option<String>,
    /// The selected profile's client secret, as loaded or stored (memory only).
    pub client_secret: Option<(String, Secret)>,
    /// The Client panel's client secret box (memory only).
    pub client_secret_input: Secret,
    /// The sidebar asks to confirm a delete.
    pub confirm_delete: bool,
    /// An imported profile named like an existing one, waiting for the user to replace
    /// the existing one or keep it.
    pub pending_import: Option<crate::storage::profile::SharedProfile>,
    /// The key type "Generate key" makes (index into the panel's choices).
    pub keygen_choice: usize,
    /// The selected profile's client certificate, read.
    pub certificate: Option<(
        PathBuf,
        Result<crate::jose::public_key::CertificateInfo, String>,
    )>,
    /// Calling an API with the shown token.
    pub api: ApiCall,
    /// The Flows view.
    pub flows: FlowsState,
    /// The consent editor's raw JSON as typed, and the profile it belongs to (kept while
    /// it is not valid JSON, so no keystroke is lost).
    pub consent_draft: Option<(String, String)>,
}

impl AppState {
    /// Adds an exchange of the selected profile to the session's history and shows it
    /// in the Response panel.
    pub fn show_new_exchange(&mut self, exchange: Exchange) {
        self.history.push(HistoryEntry {
            profile: self.profile().map(|p| p.name.clone()).unwrap_or_default(),
            exchange,
            received: Instant::now(),
        });
        self.shown = Some(self.history.len() - 1);
        self.persisted.tab = Tab::Response;
    }

    /// The selected profile.
    pub fn profile(&self) -> Option<&Profile> {
        self.selected.and_then(|i| self.profiles.get(i))
    }

    /// The selected profile, to edit.
    pub fn profile_mut(&mut self) -> Option<&mut Profile> {
        self.selected.and_then(|i| self.profiles.get_mut(i))
    }

    /// The exchange the Response panel shows.
    pub fn shown_entry(&self) -> Option<&HistoryEntry> {
        self.shown.and_then(|i| self.history.get(i))
    }

    /// The DPoP key of the selected profile, when it uses DPoP and the key is loaded.
    pub fn loaded_dpop_key(&self) -> Option<&DpopKey> {
        match (&self.dpop_key, self.profile()) {
            (Some((name, Ok(key))), Some(p)) if *name == p.name && p.dpop => Some(key),
            _ => None,
        }
    }

    /// The loaded key of the selected profile.
    pub fn loaded_key(&self) -> Option<&LoadedKey> {
        match (&self.key, self.profile()) {
            (KeyState::Loaded(k), Some(p)) if k.profile == p.name => Some(k),
            _ => None,
        }
    }

    /// The saved version of the selected profile.
    pub fn saved(&self) -> Option<&Profile> {
        let name = &self.profile()?.name;
        self.disk.iter().find(|p| &p.name == name)
    }

    /// True when the selected profile differs from its saved file.
    pub fn unsaved(&self) -> bool {
        match (self.profile(), self.saved()) {
            (Some(p), Some(s)) => p != s,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// Records a profile as saved on disk (replacing `previous_name` after a rename).
    pub fn record_saved(&mut self, profile: &Profile, previous_name: Option<&str>) {
        let old = previous_name.unwrap_or(&profile.name);
        self.disk
            .retain(|p| p.name != old && p.name != profile.name);
        self.disk.push(profile.clone());
    }
}
