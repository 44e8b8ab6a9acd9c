//! What the UI asks the worker to do ([`Command`]) and what the worker reports back
//! ([`Event`]).

use std::path::PathBuf;

use serde_json::Value;

use crate::gui::state::Notice;
use crate::history::HistoryEntry as SavedExchange;
use crate::jose::keys::{KeyType, PrivateKey};
use crate::oauth::authorize::AuthorizationSession;
use crate::oauth::discovery::Discovery;
use crate::oauth::dpop::DpopKey;
use crate::oauth::exchange::Exchange;
use crate::oauth::redirect::AuthorizationResponse;
use crate::oauth::request::{ClientSecrets, RequestModel};
use crate::secret::Secret;
use crate::session::{AuthorizationContext, Redirect, TokenRequest};
use crate::storage::profile::{Profile, SharedProfile};

/// Which panel an in-place message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// The profiles sidebar.
    Sidebar,
    /// The Client panel.
    Client,
    /// The Request panel.
    Request,
    /// The JWT panel.
    Jwt,
}

/// What the UI asks the worker to do.
pub enum Command {
    /// Open the OS keychain (or use the store injected for tests).
    OpenStore,
    /// Keep secrets in memory for this session only (the user agreed).
    UseSessionStore,
    /// List the saved profiles.
    ListProfiles,
    /// First launch: create the "Local sandbox" profile, its key, and start the sandbox.
    CreateLocalSandbox,
    /// Save a profile (`previous_name`: the file to remove after a rename).
    SaveProfile {
        /// The profile.
        profile: Profile,
        /// Its name before a rename.
        previous_name: Option<String>,
        /// Select it once saved.
        select: bool,
    },
    /// Save a copy of a profile, its secrets copied to the copy's own keychain entries.
    DuplicateProfile {
        /// The original's name.
        from: String,
        /// The copy.
        profile: Profile,
    },
    /// Delete a profile file and its signing key entry.
    DeleteProfile {
        /// The profile.
        profile: Profile,
    },
    /// Pick a TOML file and read a profile from it.
    ImportProfile,
    /// Save an imported profile over the one of the same name (the user agreed).
    ImportReplacing(Box<SharedProfile>),
    /// Pick a place and write the profile as TOML.
    ExportProfile {
        /// The profile.
        profile: Profile,
    },
    /// Load the profile's signing key (and its DPoP key) from the secret store.
    LoadKey {
        /// The profile.
        profile: Profile,
    },
    /// Load (or make) the profile's DPoP key (the DPoP box was ticked).
    LoadDpopKey {
        /// The profile.
        profile: Profile,
    },
    /// Keep the client secret in the secret store.
    StoreClientSecret {
        /// The profile.
        profile: Profile,
        /// The secret.
        secret: Secret,
    },
    /// Generate a signing key into the secret store.
    GenerateKey {
        /// The profile.
        profile: Profile,
        /// The key type.
        key_type: KeyType,
    },
    /// Pick a PEM or JWK file and import it into the secret store.
    ImportKey {
        /// The profile.
        profile: Profile,
    },
    /// Pick a place and write text there (public JWKS).
    SaveText {
        /// The dialog's title.
        title: String,
        /// The suggested file name.
        file_name: String,
        /// The contents.
        text: String,
    },
    /// Pick the mTLS certificate file (public; the path is kept in the profile).
    PickMtlsCert,
    /// Pick a private key file (mTLS, decryption) and keep it in the secret store.
    ImportPemKey {
        /// The profile.
        profile: Profile,
        /// What the key is for.
        used_for: PemKeyUse,
    },
    /// OIDC discovery from the profile's issuer.
    Discover {
        /// The profile.
        profile: Profile,
    },
    /// Give a Local sandbox profile what PayNet-style data calls need: a decryption key
    /// (made, kept in the keychain, registered with `use: enc`), the x-signature settings
    /// and the sandbox's JWKS and resource server.
    SetUpDataCalls {
        /// The Local sandbox profile.
        profile: Profile,
    },
    /// Start (or reuse) the embedded sandbox for a local profile and register its key.
    StartSandbox {
        /// The profile.
        profile: Profile,
    },
    /// Send this exact request (the preview's model) as a token request.
    Send {
        /// Job id.
        id: u64,
        /// The profile as edited.
        profile: Profile,
        /// Its loaded secrets (signing key, client secret).
        secrets: ClientSecrets,
        /// The token request (to build it again for a DPoP nonce).
        request: Box<TokenRequest>,
        /// What the authorization left (state, nonce, consent, redirect findings).
        authorization: Box<AuthorizationContext>,
        /// The model shown in the preview: sent as it is.
        model: Box<RequestModel>,
    },
    /// Read a profile's saved history.
    LoadHistory {
        /// The profile's name.
        profile: String,
    },
    /// Call an API with a token.
    CallApi {
        /// Job id.
        id: u64,
        /// The profile (transport, DPoP).
        profile: Profile,
        /// The access token.
        token: Secret,
        /// `Bearer` or `DPoP`.
        token_type: String,
        /// What to call.
        call: crate::oauth::resource::ResourceCall,
    },
    /// List the flow files of the profiles folder (`flows/`).
    ListFlows,
    /// Write a flow saved from the history into flows/ (a new file, never over one).
    SaveFlow {
        /// The file's stem (made safe).
        stem: String,
        /// The flow's TOML.
        text: String,
    },
    /// Run a flow file with a profile, step by step.
    RunFlow {
        /// Job id.
        id: u64,
        /// The profile.
        profile: Profile,
        /// The flow file.
        path: std::path::PathBuf,
    },
    /// Abort a job.
    Cancel {
        /// Job id.
        id: u64,
    },
    /// PAR + authorization URL; for the local sandbox, approve in the app.
    Authorize {
        /// Job id.
        id: u64,
        /// The profile.
        profile: Profile,
        /// Its loaded secrets.
        secrets: ClientSecrets,
        /// Approve in the app (embedded sandbox only) instead of opening the browser.
        in_app: bool,
    },
    /// Read a redirect pasted for the last authorization (an error is diagnosed).
    Redirect {
        /// The profile.
        profile: Profile,
        /// Its loaded secrets.
        secrets: ClientSecrets,
        /// The authorization it answers.
        started: Box<AuthorizationSession>,
        /// What the bank sent back.
        response: AuthorizationResponse,
    },
    /// Fetch a JWKS (JWT panel, "profile JWKS").
    FetchJwks {
        /// The profile (its `jwks_uri` and transport).
        profile: Profile,
    },
    /// Pick a verification key file for the JWT panel.
    PickJwtKey,
}

/// What an imported private key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PemKeyUse {
    /// The mTLS client key (RFC 8705).
    Mtls,
    /// The client's decryption key for encrypted answers (RFC 7516, RSA-OAEP-256).
    Decryption,
}

impl PemKeyUse {
    pub(super) fn title(self) -> &'static str {
        match self {
            PemKeyUse::Mtls => "mTLS client private key (PEM)",
            PemKeyUse::Decryption => "decryption private key (RSA PEM)",
        }
    }

    pub(super) fn entry(self) -> &'static str {
        match self {
            PemKeyUse::Mtls => "mtls-key",
            PemKeyUse::Decryption => "enc-key",
        }
    }
}

/// What the worker reports back.
pub enum Event {
    /// The secret store is open, or why not.
    Store(Result<(String, bool), String>),
    /// The saved profiles and the files that could not be read.
    Profiles {
        /// Profiles, sorted by name.
        profiles: Vec<Profile>,
        /// Problems, one line each.
        errors: Vec<String>,
    },
    /// A profile was saved (or created, imported).
    ProfileSaved {
        /// The profile.
        profile: Box<Profile>,
        /// Its name before a rename.
        previous_name: Option<String>,
        /// Select it.
        select: bool,
    },
    /// A profile was deleted.
    ProfileDeleted {
        /// Its name.
        name: String,
    },
    /// A message for a panel.
    Notice(Area, Notice),
    /// An imported profile has the name of an existing one: the user decides.
    ImportConflict(Box<SharedProfile>),
    /// The profile's DPoP key (RFC 9449), loaded (or made) when the profile uses DPoP.
    DpopKey {
        /// The profile name.
        profile: String,
        /// The key (`None`: the profile does not use DPoP), or why it could not be read.
        result: Result<Option<DpopKey>, String>,
    },
    /// The profile's extra headers with the values kept in the keychain read (the
    /// preview shows them as Send sends them).
    HeaderValues {
        /// The profile name.
        profile: String,
        /// The headers, values filled.
        headers: Vec<crate::storage::profile::ExtraHeader>,
    },
    /// The profile's signing key (or `None`: there is none).
    Key {
        /// The profile name.
        profile: String,
        /// The key, or why it could not be read.
        result: Result<Option<PrivateKey>, String>,
    },
    /// Discovery finished.
    Discovered {
        /// The profile name.
        profile: String,
        /// The document, or why it failed.
        result: Result<Box<Discovery>, String>,
    },
    /// The sandbox is starting.
    SandboxStarting,
    /// The sandbox runs; the profile's issuer and endpoints point at it.
    SandboxReady {
        /// The updated profile.
        profile: Box<Profile>,
        /// The issuer.
        issuer: String,
    },
    /// The sandbox could not start.
    SandboxFailed(String),
    /// An exchange finished.
    Exchanged {
        /// Job id.
        id: u64,
        /// The exchange.
        exchange: Box<Exchange>,
    },
    /// A profile's saved history (newest first), after a load or a new exchange.
    SavedHistory {
        /// The profile's name.
        profile: String,
        /// Its entries.
        entries: Vec<SavedExchange>,
    },
    /// The authorization request (PAR) was refused: the exchange, diagnosed. An
    /// [`Event::Authorized`] with the error follows.
    ParRefused {
        /// Job id.
        id: u64,
        /// The refused PAR.
        exchange: Box<Exchange>,
    },
    /// An exchange could not even start (transport settings).
    SendFailed {
        /// Job id.
        id: u64,
        /// What to do.
        message: String,
    },
    /// The flow files found.
    Flows(Vec<crate::flow::FlowFile>),
    /// A flow was saved (its path), or why not.
    FlowSaved(Result<String, String>),
    /// A flow's step ended.
    FlowStep {
        /// Job id.
        id: u64,
        /// The step.
        step: Box<crate::flow::StepOutcome>,
    },
    /// A flow run ended: a summary, or why it could not run.
    FlowDone {
        /// Job id.
        id: u64,
        /// How it ended.
        result: Result<String, String>,
    },
    /// An API call's answer.
    Called {
        /// Job id.
        id: u64,
        /// The call, or why it could not be made.
        result: Result<Box<Exchange>, String>,
    },
    /// Authorize sent the browser to the bank and listens for the redirect.
    AuthorizeWaiting {
        /// Job id.
        id: u64,
        /// The authorization URL (shown in case the browser did not open).
        url: String,
        /// Where the redirect is awaited.
        redirect_uri: String,
        /// Whether the system browser opened.
        browser_opened: bool,
    },
    /// An authorization finished: the session and, when the redirect came back (in-app
    /// approval, the loopback listener), what it carried.
    Authorized {
        /// Job id.
        id: u64,
        /// The outcome.
        result: Result<(Box<AuthorizationSession>, Option<Box<Redirect>>), String>,
    },
    /// A pasted redirect, read for the last authorization.
    Redirected(Box<Redirect>),
    /// The profile's client secret (loaded or stored) and its entry.
    ClientSecret {
        /// The profile name.
        profile: String,
        /// The entry name.
        entry: String,
        /// The secret, or why it could not be read.
        result: Result<Option<Secret>, String>,
    },
    /// The mTLS certificate file picked.
    MtlsCert(PathBuf),
    /// What the profile's client certificate says (subject, validity, `x5t#S256`).
    Certificate {
        /// The file read.
        path: PathBuf,
        /// It, read.
        result: Result<crate::jose::public_key::CertificateInfo, String>,
    },
    /// A private key (mTLS, decryption) was stored under this entry.
    PemKey {
        /// The profile name.
        profile: String,
        /// What the key is for.
        used_for: PemKeyUse,
        /// The entry.
        entry: String,
    },
    /// The JWKS fetched for the JWT panel.
    Jwks(Result<Value, String>),
    /// A verification key file read for the JWT panel.
    JwtKeyFile(Result<(String, String), String>),
}
