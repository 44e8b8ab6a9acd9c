//! The background worker: receives [`Command`]s from the UI thread over a channel, runs
//! each on the tokio runtime handed to the app (blocking work such as the keychain, file
//! dialogs and key generation on `spawn_blocking`), and sends [`Event`]s back, asking
//! egui for a repaint after each. The exchange in flight can be cancelled through its
//! `AbortHandle`. The UI thread never awaits, blocks or sleeps.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, anyhow};
use serde_json::Value;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;

use super::platform::{Browser, FileDialog};
use super::state::Notice;
use crate::history::{HistoryEntry as SavedExchange, HistoryStore};
use crate::jose::keys::{KeyType, PrivateKey};
use crate::oauth::authorize::{self, AuthorizationSession};
use crate::oauth::discovery::{self, Discovery};
use crate::oauth::exchange::{self, Exchange, ExchangeContext};
use crate::oauth::loopback;
use crate::oauth::redirect::AuthorizationResponse;
use crate::oauth::request::{ClientSecrets, RequestModel, RequestOptions};
use crate::oauth::settings::{self, Keychain};
use crate::oauth::transport::{Transport, TransportConfig};
use crate::sandbox::{ClientRegistration, DEMO_CLIENT_ID, Sandbox, SandboxConfig, SandboxHandle};
use crate::secret::Secret;
use crate::storage::profile::{LOCAL_SANDBOX, Profile, ProfileStore};
use crate::storage::secret_store::{self, MemoryStore, SecretStore};

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
    /// Delete a profile file and its signing key entry.
    DeleteProfile {
        /// The profile.
        profile: Profile,
    },
    /// Pick a TOML file and read a profile from it.
    ImportProfile,
    /// Pick a place and write the profile as TOML.
    ExportProfile {
        /// The profile.
        profile: Profile,
    },
    /// Load the profile's signing key from the secret store.
    LoadKey {
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
    /// Start (or reuse) the embedded sandbox for a local profile and register its key.
    StartSandbox {
        /// The profile.
        profile: Profile,
    },
    /// Send this exact request.
    Send {
        /// Job id.
        id: u64,
        /// The profile (transport settings).
        profile: Profile,
        /// The model shown in the preview.
        model: Box<RequestModel>,
        /// What the checks compare against.
        context: Box<ExchangeContext>,
        /// What the request is built from, to build it again for a DPoP nonce.
        rebuild: Option<Box<Rebuild>>,
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
    fn title(self) -> &'static str {
        match self {
            PemKeyUse::Mtls => "mTLS client private key (PEM)",
            PemKeyUse::Decryption => "decryption private key (RSA PEM)",
        }
    }

    fn entry(self) -> &'static str {
        match self {
            PemKeyUse::Mtls => "mtls-key",
            PemKeyUse::Decryption => "enc-key",
        }
    }
}

/// What a token request is built from, so the worker can build it again with a DPoP
/// nonce (a fresh proof and a fresh client assertion).
#[derive(Clone, Debug)]
pub struct Rebuild {
    /// The signing key and client secret.
    pub secrets: ClientSecrets,
    /// The grant.
    pub grant: crate::oauth::request::Grant,
    /// The options.
    pub options: RequestOptions,
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
    /// An authorization finished: the session and, for in-app approval, the redirect.
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
    Authorized {
        /// Job id.
        id: u64,
        /// The outcome.
        result: Result<(Box<AuthorizationSession>, Option<AuthorizationResponse>), String>,
    },
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

/// The UI's end: sends commands, receives events.
pub struct Worker {
    commands: UnboundedSender<Command>,
    events: std::sync::mpsc::Receiver<Event>,
    ctx: Arc<Mutex<Option<egui::Context>>>,
}

impl Worker {
    /// Starts the worker on `handle`. `store`: a store to use instead of the OS keychain
    /// (tests).
    pub fn start(
        handle: tokio::runtime::Handle,
        profiles: ProfileStore,
        files: Arc<dyn FileDialog>,
        browser: Arc<dyn Browser>,
        store: Option<Arc<dyn SecretStore>>,
        history: HistoryStore,
    ) -> Self {
        let (commands, rx) = unbounded_channel();
        let (events_tx, events) = std::sync::mpsc::channel();
        let ctx = Arc::new(Mutex::new(None));
        let inner = Arc::new(Inner {
            handle: handle.clone(),
            events: Mutex::new(events_tx),
            ctx: ctx.clone(),
            injected_store: store,
            store: Mutex::new(None),
            files,
            browser,
            profiles,
            history,
            sandbox: tokio::sync::Mutex::new(None),
            sandbox_start: tokio::sync::Mutex::new(()),
            nonces: Arc::default(),
        });
        handle.spawn(command_loop(inner, rx));
        Self {
            commands,
            events,
            ctx,
        }
    }

    /// Gives the worker the egui context to wake the UI with.
    pub fn set_context(&self, ctx: &egui::Context) {
        if let Ok(mut slot) = self.ctx.lock()
            && slot.is_none()
        {
            *slot = Some(ctx.clone());
        }
    }

    /// Queues a command (never blocks).
    pub fn send(&self, command: Command) {
        // The loop only stops with the runtime, when the app is closing.
        let _ = self.commands.send(command);
    }

    /// The next event, if one is waiting (never blocks).
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }
}

struct Inner {
    handle: tokio::runtime::Handle,
    events: Mutex<std::sync::mpsc::Sender<Event>>,
    ctx: Arc<Mutex<Option<egui::Context>>>,
    injected_store: Option<Arc<dyn SecretStore>>,
    store: Mutex<Option<Arc<dyn SecretStore>>>,
    files: Arc<dyn FileDialog>,
    browser: Arc<dyn Browser>,
    profiles: ProfileStore,
    /// The exchange history on disk (no secrets).
    history: HistoryStore,
    sandbox: tokio::sync::Mutex<Option<SandboxHandle>>,
    /// Held for a whole sandbox start, so two starts (first launch and a selection)
    /// cannot each generate and register a different key.
    sandbox_start: tokio::sync::Mutex<()>,
    /// The latest DPoP nonce of each server (RFC 9449 §8.2).
    nonces: Arc<crate::oauth::dpop::NonceStore>,
}

impl Inner {
    /// Diagnoses an exchange with what the profile's history adds (earlier jtis and
    /// codes, the authorization's PKCE challenge), keeps it in the history, and returns
    /// it with the profile's history: file work, so off the async threads.
    /// Only a refusal gathers evidence (the registered JWKS, discovery): a success
    /// costs no extra request.
    async fn diagnose_and_keep(
        &self,
        profile: &Profile,
        transport: &Transport,
        signing_key: Option<&crate::jose::keys::PrivateKey>,
        state: Option<String>,
        mut exchange: Exchange,
    ) -> (Exchange, Vec<SavedExchange>) {
        let refused = crate::diagnosis::Refusal::of(&exchange).is_some();
        let mut evidence = if refused {
            self.evidence(profile, transport, signing_key).await
        } else {
            crate::diagnosis::Evidence::default()
        };
        let history = self.history.clone();
        let name = profile.name.clone();
        let fallback = exchange.clone();
        let done = tokio::task::spawn_blocking(move || {
            if refused {
                history.enrich(&name, state.as_deref(), &mut evidence);
                exchange.diagnosis = crate::diagnosis::diagnose(&exchange, &evidence);
            }
            if let Err(e) = history.append(&SavedExchange::of(&name, &exchange)) {
                tracing::warn!("the exchange was not kept in the history: {e}");
            }
            let saved = history.list(&name).unwrap_or_default();
            (exchange, saved)
        })
        .await;
        done.unwrap_or((fallback, Vec::new()))
    }

    /// What the profile tells the diagnosis, with the client's registered JWK Set: the
    /// embedded sandbox's registration, or the profile's client JWKS (a URL fetched
    /// with the profile's transport, or a file).
    async fn evidence(
        &self,
        profile: &Profile,
        transport: &Transport,
        signing_key: Option<&crate::jose::keys::PrivateKey>,
    ) -> crate::diagnosis::Evidence {
        // The server's discovery document: the auth methods and consent types it offers.
        let discovered = if profile.issuer.trim().is_empty() {
            None
        } else {
            discovery::discover(transport, &profile.issuer)
                .await
                .ok()
                .map(|d| Value::Object(d.document))
        };
        let mut evidence = crate::diagnosis::Evidence::for_profile(
            profile,
            transport.config(),
            signing_key,
            discovered.as_ref(),
        );
        let source = profile
            .client_jwks
            .as_deref()
            .filter(|s| !s.trim().is_empty());
        evidence.registered_jwks = if profile.local_sandbox {
            self.sandbox
                .lock()
                .await
                .as_ref()
                .and_then(|s| s.registered_jwks(&profile.client_id))
        } else if let Some(source) = source {
            discovery::registered_jwks(transport, source)
                .await
                .map_err(|e| tracing::warn!("{e}"))
                .ok()
        } else {
            None
        };
        evidence
    }

    fn emit(&self, event: Event) {
        if let Ok(tx) = self.events.lock() {
            let _ = tx.send(event);
        }
        if let Ok(ctx) = self.ctx.lock()
            && let Some(ctx) = ctx.as_ref()
        {
            ctx.request_repaint();
        }
    }

    fn notice(&self, area: Area, notice: Notice) {
        self.emit(Event::Notice(area, notice));
    }

    fn store(&self) -> anyhow::Result<Arc<dyn SecretStore>> {
        self.store
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| {
                anyhow!(
                    "no secret store is open: unlock or start the OS keychain, or choose \"Keep secrets for this session only\" in the Client panel"
                )
            })
    }

    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> anyhow::Result<R> {
        self.handle
            .spawn_blocking(f)
            .await
            .map_err(|e| anyhow!("background task failed: {e}"))
    }

    async fn secret_get(&self, entry: String) -> anyhow::Result<Option<Secret>> {
        let store = self.store()?;
        Ok(self.blocking(move || store.get(&entry)).await??)
    }

    async fn secret_set(&self, entry: String, value: Secret) -> anyhow::Result<()> {
        let store = self.store()?;
        Ok(self.blocking(move || store.set(&entry, &value)).await??)
    }

    async fn pick_file(&self, title: &'static str) -> anyhow::Result<Option<PathBuf>> {
        let files = self.files.clone();
        self.blocking(move || files.pick_file(title)).await
    }

    async fn read_picked(&self, title: &'static str) -> anyhow::Result<Option<(PathBuf, String)>> {
        let Some(path) = self.pick_file(title).await? else {
            return Ok(None);
        };
        let text = tokio::fs::read_to_string(&path)
            .await
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Some((path, text)))
    }

    /// The transport for a profile, resolved by the core as the CLI resolves it (CA
    /// file, mTLS identity with its key from the store, timeouts, verification switch).
    async fn transport(&self, profile: &Profile) -> anyhow::Result<Transport> {
        let keychain = Keychain::given(self.store()?);
        let profile = profile.clone();
        let config = self
            .blocking(move || settings::transport_config(&profile, None, &keychain))
            .await??;
        Transport::new(config).map_err(|e| anyhow!("{e}"))
    }

    fn list_profiles(&self) {
        let (mut profiles, errors) = self.profiles.list();
        profiles.sort_by_key(|p| p.name.to_lowercase());
        self.emit(Event::Profiles {
            profiles,
            errors: errors.iter().map(ToString::to_string).collect(),
        });
    }

    async fn open_store(&self) {
        let result = match &self.injected_store {
            // Probe it as the keychain is probed: a locked store answers with an error.
            Some(store) => {
                let probe = store.clone();
                match self
                    .blocking(move || probe.get("probe-entry-that-does-not-exist"))
                    .await
                {
                    Ok(Ok(_)) => Ok(store.clone()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
            None => match self.blocking(secret_store::open_default_store).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
        };
        match result {
            Ok(store) => {
                let info = (store.describe(), store.is_persistent());
                if let Ok(mut slot) = self.store.lock() {
                    *slot = Some(store);
                }
                self.emit(Event::Store(Ok(info)));
            }
            Err(e) => self.emit(Event::Store(Err(e))),
        }
    }

    fn use_session_store(&self) {
        let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
        let info = (store.describe(), store.is_persistent());
        if let Ok(mut slot) = self.store.lock() {
            *slot = Some(store);
        }
        self.emit(Event::Store(Ok(info)));
    }

    /// The Local sandbox profile's TLS: trust the sandbox's local CA (written next to the
    /// profiles: it changes at every start) and present a transport certificate (made once,
    /// self-signed, as PayNet's sandbox accepts; its key in the secret store).
    async fn prepare_local_mtls(
        &self,
        profile: &mut Profile,
        ca_pem: Option<&str>,
    ) -> anyhow::Result<()> {
        let dir = self
            .profiles
            .dir()
            .parent()
            .map(|d| d.join("sandbox"))
            .ok_or_else(|| anyhow!("no folder for the sandbox's certificates"))?;
        tokio::fs::create_dir_all(&dir)
            .await
            .with_context(|| format!("cannot create {}", dir.display()))?;
        if let Some(ca) = ca_pem {
            let ca_file = dir.join("local-ca.pem");
            write_replacing(&ca_file, ca).await?;
            profile.tls.ca_file = Some(ca_file);
        }
        let entry = crate::storage::secret_store::entry_name(&profile.name, "mtls-key");
        let cert_file = dir.join("local-transport.pem");
        // A certificate made for another key (another profile folder, another store)
        // is made again with this one.
        let key = self.secret_get(entry.clone()).await.ok().flatten();
        let matches = match (key, tokio::fs::read_to_string(&cert_file).await) {
            (Some(key), Ok(cert)) => !crate::jose::public_key::identity_key_mismatch(&format!(
                "{cert}\n{}",
                key.expose()
            )),
            _ => false,
        };
        if !matches {
            let (cert_pem, key_pem) = self
                .blocking(|| -> anyhow::Result<(String, String)> {
                    let key = rcgen::KeyPair::generate()?;
                    let mut params =
                        rcgen::CertificateParams::new(vec!["token-inspector.local".to_owned()])?;
                    params
                        .distinguished_name
                        .push(rcgen::DnType::CommonName, "Token Inspector local TPP");
                    let cert = params.self_signed(&key)?;
                    Ok((cert.pem(), key.serialize_pem()))
                })
                .await??;
            if let Err(e) = self
                .secret_set(entry.clone(), Secret::new(key_pem.clone()))
                .await
            {
                self.fall_back_to_session_store(&format!("{e:#}"));
                self.secret_set(entry.clone(), Secret::new(key_pem)).await?;
            }
            write_replacing(&cert_file, &cert_pem).await?;
        }
        profile.tls.client_cert = Some(cert_file);
        profile.tls.client_key = Some(entry);
        Ok(())
    }

    /// Reads a client certificate file and says what it holds (RFC 8705 §3.1 `x5t#S256`).
    async fn read_certificate(&self, path: PathBuf) {
        let result = match tokio::fs::read_to_string(&path).await {
            Ok(text) => crate::jose::public_key::certificate_info(&text).map_err(|e| e.to_string()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        };
        self.emit(Event::Certificate { path, result });
    }

    /// The profile's DPoP key when it uses DPoP: from the keychain, made on first use.
    async fn dpop_key(
        &self,
        profile: &Profile,
    ) -> anyhow::Result<Option<crate::oauth::dpop::DpopKey>> {
        if !profile.dpop {
            return Ok(None);
        }
        let keychain = Keychain::given(self.store()?);
        let profile = profile.clone();
        Ok(self
            .blocking(move || {
                settings::dpop_key(&profile, &settings::Overrides::default(), true, &keychain)
            })
            .await??)
    }

    /// Switches to the in-memory store after the keychain refused, and says so.
    fn fall_back_to_session_store(&self, why: &str) {
        if self.store().is_ok_and(|s| !s.is_persistent()) {
            return;
        }
        self.use_session_store();
        self.notice(
            Area::Client,
            Notice::info(format!(
                "The OS keychain could not keep the Local sandbox key ({why}); it is kept for this session only. Start a keychain (gnome-keyring, KeePassXC) to keep keys across restarts."
            )),
        );
    }

    async fn load_key(&self, profile: &Profile) -> Result<Option<PrivateKey>, String> {
        let keychain = Keychain::given(self.store().map_err(|e| format!("{e:#}"))?);
        let profile = profile.clone();
        self.blocking(move || settings::signing_key(&profile, &keychain))
            .await
            .map_err(|e| format!("{e:#}"))?
            .map_err(|e| e.to_string())
    }

    async fn store_key(&self, profile: &Profile, key: &PrivateKey) -> anyhow::Result<()> {
        self.secret_set(profile.key_entry(), key.to_pkcs8_pem().clone())
            .await
    }

    async fn generate_key(&self, key_type: KeyType) -> anyhow::Result<PrivateKey> {
        self.blocking(move || PrivateKey::generate(key_type))
            .await?
            .map_err(|e| anyhow!("{e}"))
    }

    async fn run(self: Arc<Self>, command: Command) {
        match command {
            Command::OpenStore => self.open_store().await,
            Command::UseSessionStore => self.use_session_store(),
            Command::ListProfiles => self.list_profiles(),
            Command::CreateLocalSandbox => {
                let mut profile = Profile::new(LOCAL_SANDBOX, "http://127.0.0.1");
                profile.local_sandbox = true;
                profile.client_id = DEMO_CLIENT_ID.to_owned();
                profile.scope = "accounts openid".to_owned();
                match self.profiles.save(&profile) {
                    Ok(_) => self.emit(Event::ProfileSaved {
                        profile: Box::new(profile.clone()),
                        previous_name: None,
                        select: true,
                    }),
                    Err(e) => self.notice(Area::Sidebar, Notice::error(e.to_string())),
                }
                self.start_sandbox(profile).await;
            }
            Command::SaveProfile {
                profile,
                previous_name,
                select,
            } => self.save_profile(profile, previous_name, select),
            Command::DeleteProfile { profile } => {
                match self.profiles.delete(&profile.name) {
                    Ok(()) => {
                        // The key goes with the profile; the keychain may be unavailable.
                        if profile.auth.key.is_none()
                            && let Ok(store) = self.store()
                        {
                            let entry = profile.key_entry();
                            let _ = self.blocking(move || store.delete(&entry)).await;
                        }
                        self.emit(Event::ProfileDeleted { name: profile.name });
                    }
                    Err(e) => self.notice(Area::Sidebar, Notice::error(e.to_string())),
                }
            }
            Command::ImportProfile => match self.read_picked("Import a profile (TOML)").await {
                Ok(None) => {}
                Ok(Some((path, text))) => match Profile::from_toml(&text, &path) {
                    Ok(profile) => self.save_profile(profile, None, true),
                    Err(e) => self.notice(Area::Sidebar, Notice::error(e.to_string())),
                },
                Err(e) => self.notice(Area::Sidebar, Notice::error(format!("{e:#}"))),
            },
            Command::ExportProfile { profile } => {
                let name = format!("{}.toml", crate::storage::profile::file_stem(&profile.name));
                self.save_text("Export the profile", name, profile.to_toml(), Area::Sidebar)
                    .await;
            }
            Command::LoadKey { profile } => {
                if let Some(path) = profile.tls.client_cert.clone() {
                    self.read_certificate(path).await;
                }
                let result = self.load_key(&profile).await;
                self.emit(Event::Key {
                    profile: profile.name.clone(),
                    result,
                });
                if let Some(entry) = profile.auth.client_secret.clone() {
                    let result = self
                        .secret_get(entry.clone())
                        .await
                        .map_err(|e| format!("{e:#}"));
                    self.emit(Event::ClientSecret {
                        profile: profile.name,
                        entry,
                        result,
                    });
                }
            }
            Command::StoreClientSecret { profile, secret } => {
                let entry = profile.client_secret_entry();
                let result = self
                    .secret_set(entry.clone(), secret.clone())
                    .await
                    .map(|()| Some(secret))
                    .map_err(|e| format!("{e:#}"));
                self.emit(Event::ClientSecret {
                    profile: profile.name,
                    entry,
                    result,
                });
            }
            Command::GenerateKey { profile, key_type } => {
                let result = async {
                    let key = self.generate_key(key_type).await?;
                    self.store_key(&profile, &key).await?;
                    anyhow::Ok(key)
                }
                .await;
                self.key_result(&profile, result, "generated").await;
            }
            Command::ImportKey { profile } => {
                let result = async {
                    let Some((path, text)) = self.read_picked("Import a signing key").await? else {
                        return Ok(None);
                    };
                    let key =
                        PrivateKey::load(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
                    self.store_key(&profile, &key).await?;
                    anyhow::Ok(Some(key))
                }
                .await;
                match result {
                    Ok(None) => {}
                    Ok(Some(key)) => self.key_result(&profile, Ok(key), "imported").await,
                    Err(e) => self.key_result(&profile, Err(e), "imported").await,
                }
            }
            Command::SaveText {
                title,
                file_name,
                text,
            } => self.save_text(&title, file_name, text, Area::Client).await,
            Command::PickMtlsCert => match self.pick_file("mTLS client certificate (PEM)").await {
                Ok(Some(path)) => {
                    self.emit(Event::MtlsCert(path.clone()));
                    self.read_certificate(path).await;
                }
                Ok(None) => {}
                Err(e) => self.notice(Area::Client, Notice::error(format!("{e:#}"))),
            },
            Command::ImportPemKey { profile, used_for } => {
                let result = async {
                    let Some((path, text)) = self.read_picked(used_for.title()).await? else {
                        return Ok(None);
                    };
                    if !text.contains("PRIVATE KEY") {
                        return Err(anyhow!(
                            "{} holds no PEM private key (-----BEGIN … PRIVATE KEY-----)",
                            path.display()
                        ));
                    }
                    let entry = secret_store::entry_name(&profile.name, used_for.entry());
                    self.secret_set(entry.clone(), Secret::new(text)).await?;
                    anyhow::Ok(Some(entry))
                }
                .await;
                match result {
                    Ok(Some(entry)) => self.emit(Event::PemKey {
                        profile: profile.name,
                        used_for,
                        entry,
                    }),
                    Ok(None) => {}
                    Err(e) => self.notice(Area::Client, Notice::error(format!("{e:#}"))),
                }
            }
            Command::Discover { profile } => {
                let result = async {
                    let transport = self.transport(&profile).await?;
                    match discovery::discover(&transport, &profile.issuer).await {
                        Ok(found) => Ok(found),
                        // No answer: say why, as the command line does.
                        Err(discovery::DiscoveryError::Send(e)) => {
                            let url = discovery::discovery_url(&profile.issuer).unwrap_or_default();
                            let evidence = crate::diagnosis::Evidence::for_profile(
                                &profile,
                                transport.config(),
                                None,
                                None,
                            );
                            let causes = crate::diagnosis::diagnose_connection(
                                &profile, &url, &e, &evidence,
                            );
                            let likely: Vec<String> = causes
                                .iter()
                                .filter(|c| c.status == crate::diagnosis::Status::Likely)
                                .map(|c| {
                                    format!("Why? likely {} ({}): {}", c.cause, c.code, c.evidence)
                                })
                                .collect();
                            if likely.is_empty() {
                                Err(anyhow!("{e}"))
                            } else {
                                Err(anyhow!("{e}\n{}", likely.join("\n")))
                            }
                        }
                        Err(e) => Err(anyhow!("{e}")),
                    }
                }
                .await;
                self.emit(Event::Discovered {
                    profile: profile.name,
                    result: result
                        .map(Box::new)
                        .map_err(|e| format!("discovery failed: {e:#}")),
                });
            }
            Command::StartSandbox { profile } => self.start_sandbox(profile).await,
            Command::Send { .. } | Command::Cancel { .. } => {}
            Command::CallApi {
                id,
                profile,
                token,
                token_type,
                mut call,
            } => {
                let result = async {
                    let transport = self.transport(&profile).await?;
                    if profile.encryption_key.is_some() {
                        let keychain = Keychain::given(self.store()?);
                        let p = profile.clone();
                        call.decrypt_with = self
                            .blocking(move || settings::decryption_key(&p, None, &keychain))
                            .await??;
                    }
                    let dpop = if token_type.eq_ignore_ascii_case("DPoP") {
                        self.dpop_key(&profile).await?
                    } else {
                        None
                    };
                    crate::oauth::resource::call(
                        &transport,
                        &profile,
                        &token,
                        dpop.as_ref(),
                        &self.nonces,
                        &call,
                    )
                    .await
                    .map_err(|e| anyhow!("{e}"))
                }
                .await;
                self.emit(Event::Called {
                    id,
                    result: result.map(Box::new).map_err(|e| format!("{e:#}")),
                });
            }
            Command::Authorize {
                id,
                profile,
                secrets,
                in_app,
            } => {
                let result = async {
                    let transport = self.transport(&profile).await?;
                    // A loopback redirect_uri is listened on before the browser goes to
                    // the bank (RFC 8252 §7.3); any other is pasted back by the user.
                    let catcher = if in_app
                        || loopback::loopback_target(&profile.redirect_uri).is_none()
                    {
                        None
                    } else {
                        Some(loopback::RedirectCatcher::bind(&profile.redirect_uri).await?)
                    };
                    let input = authorize::AuthorizationInput {
                        authorization_details: authorize::consent_or_default(&profile, None, &[]),
                        dpop: self.dpop_key(&profile).await?,
                        nonces: self.nonces.clone(),
                        ..authorize::AuthorizationInput::default()
                    };
                    let session = match authorize::start(
                        &transport,
                        &profile,
                        &secrets,
                        input,
                        &RequestOptions::default(),
                    )
                    .await
                    {
                        Ok(session) => session,
                        // A refused PAR is shown like an exchange, with its diagnosis.
                        Err(error) => {
                            let message = error.to_string();
                            let authorize::AuthorizeError::ParRefused {
                                exchange: Some(par),
                                ..
                            } = error
                            else {
                                return Err(error.into());
                            };
                            let (par, saved) = self
                                .diagnose_and_keep(
                                    &profile,
                                    &transport,
                                    secrets.signing_key.as_ref(),
                                    None,
                                    *par,
                                )
                                .await;
                            self.emit(Event::ParRefused {
                                id,
                                exchange: Box::new(par),
                            });
                            self.emit(Event::SavedHistory {
                                profile: profile.name.clone(),
                                entries: saved,
                            });
                            return Err(anyhow!("{message} (see Why? in the Response panel)"));
                        }
                    };
                    // The consent steps and the PAR go into the history: a later refusal
                    // of the code is judged against this PAR's challenge and redirect_uri.
                    let kept: Vec<SavedExchange> = session
                        .consent_steps
                        .iter()
                        .chain(session.par.as_deref())
                        .map(|e| SavedExchange::of(&profile.name, e))
                        .collect();
                    let history = self.history.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        for entry in &kept {
                            if let Err(e) = history.append(entry) {
                                tracing::warn!("the PAR was not kept in the history: {e}");
                            }
                        }
                    })
                    .await;
                    let answer = if in_app {
                        Some(authorize::auto_approve(&transport, &session).await?)
                    } else {
                        let opened = self.browser.open(&session.authorization_url);
                        match catcher {
                            Some(catcher) => {
                                self.emit(Event::AuthorizeWaiting {
                                    id,
                                    url: session.authorization_url.clone(),
                                    redirect_uri: profile.redirect_uri.clone(),
                                    browser_opened: opened.is_ok(),
                                });
                                let caught = catcher
                                    .wait(std::time::Duration::from_secs(600))
                                    .await?;
                                Some(caught.response)
                            }
                            None => {
                                opened.map_err(|e| {
                                    anyhow!(
                                        "cannot open the browser ({e}): copy the authorization URL from the Request panel"
                                    )
                                })?;
                                None
                            }
                        }
                    };
                    anyhow::Ok((Box::new(session), answer))
                }
                .await;
                self.emit(Event::Authorized {
                    id,
                    result: result.map_err(|e| format!("{e:#}")),
                });
            }
            Command::LoadHistory { profile } => {
                let history = self.history.clone();
                let name = profile.clone();
                let entries = tokio::task::spawn_blocking(move || history.list(&name))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                self.emit(Event::SavedHistory { profile, entries });
            }
            Command::FetchJwks { profile } => {
                let result = async {
                    let url = profile
                        .endpoints
                        .jwks
                        .clone()
                        .filter(|u| !u.is_empty())
                        .ok_or_else(|| {
                            anyhow!("the profile has no JWKS URI: run \"Fetch discovery\" in the Client panel")
                        })?;
                    let transport = self.transport(&profile).await?;
                    discovery::fetch_jwks(&transport, &url)
                        .await
                        .map_err(|e| anyhow!("{e}"))
                }
                .await;
                self.emit(Event::Jwks(result.map_err(|e| format!("{e:#}"))));
            }
            Command::PickJwtKey => {
                match self.read_picked("Verification key (PEM, JWK, JWKS)").await {
                    Ok(Some((path, text))) => {
                        self.emit(Event::JwtKeyFile(Ok((path.display().to_string(), text))))
                    }
                    Ok(None) => {}
                    Err(e) => self.emit(Event::JwtKeyFile(Err(format!("{e:#}")))),
                }
            }
        }
    }

    fn save_profile(&self, profile: Profile, previous_name: Option<String>, select: bool) {
        match self.profiles.save(&profile) {
            Ok(_) => {
                if let Some(old) = previous_name.as_deref().filter(|o| *o != profile.name) {
                    let _ = self.profiles.delete(old);
                }
                self.emit(Event::ProfileSaved {
                    profile: Box::new(profile),
                    previous_name,
                    select,
                });
            }
            Err(e) => self.notice(Area::Sidebar, Notice::error(e.to_string())),
        }
    }

    async fn save_text(&self, title: &str, file_name: String, text: String, area: Area) {
        let files = self.files.clone();
        let title = title.to_owned();
        let picked = self
            .blocking(move || files.save_file(&title, &file_name))
            .await;
        match picked {
            Ok(Some(path)) => match tokio::fs::write(&path, text).await {
                Ok(()) => self.notice(area, Notice::info(format!("saved {}", path.display()))),
                Err(e) => self.notice(
                    area,
                    Notice::error(format!("cannot write {}: {e}", path.display())),
                ),
            },
            Ok(None) => {}
            Err(e) => self.notice(area, Notice::error(format!("{e:#}"))),
        }
    }

    async fn key_result(&self, profile: &Profile, result: anyhow::Result<PrivateKey>, how: &str) {
        match result {
            Ok(key) => {
                let thumbprint = key.thumbprint();
                let key_type = key.key_type();
                self.emit(Event::Key {
                    profile: profile.name.clone(),
                    result: Ok(Some(key)),
                });
                self.notice(
                    Area::Client,
                    Notice::info(format!(
                        "key {how} and kept in the secret store (thumbprint {thumbprint}); register its public JWKS with the server"
                    )),
                );
                if profile.local_sandbox {
                    // The sandbox must know the new public key (with an alg that fits it).
                    let mut profile = profile.clone();
                    if !profile.auth.alg.fits(key_type) {
                        profile.auth.alg = crate::jose::keys::SigningAlg::default_for(key_type);
                    }
                    self.start_sandbox(profile).await;
                }
            }
            Err(e) => self.notice(Area::Client, Notice::error(format!("{e:#}"))),
        }
    }

    /// Starts the sandbox (or reuses the running one), makes sure the profile has a key,
    /// registers its public JWKS, and points the profile at the sandbox (discovery).
    async fn start_sandbox(&self, mut profile: Profile) {
        let _one_at_a_time = self.sandbox_start.lock().await;
        self.emit(Event::SandboxStarting);
        let result = async {
            // A keychain that cannot be read here is no reason for the demo to fail: the
            // key is then made for this session only.
            let loaded = match self.load_key(&profile).await {
                Ok(loaded) => loaded,
                Err(e) => {
                    self.fall_back_to_session_store(&e);
                    None
                }
            };
            let key = match loaded {
                Some(key) => key,
                None => {
                    let key = self.generate_key(KeyType::Rsa { bits: 2048 }).await?;
                    if let Err(e) = self.store_key(&profile, &key).await {
                        self.fall_back_to_session_store(&format!("{e:#}"));
                        self.store_key(&profile, &key).await?;
                    }
                    self.emit(Event::Key {
                        profile: profile.name.clone(),
                        result: Ok(Some(key.clone())),
                    });
                    key
                }
            };
            let mut slot = self.sandbox.lock().await;
            if slot.is_none() {
                let port = url::Url::parse(&profile.issuer)
                    .ok()
                    .and_then(|u| u.port())
                    .unwrap_or(0);
                // The strict Open Finance Malaysia mode: the demo walks the real bank's
                // path (HTTPS, JAR in PAR, mTLS on the back channel).
                let strict = |port| SandboxConfig {
                    port,
                    malaysia: true,
                    tls: Some(crate::sandbox::TlsOptions::default()),
                    ..SandboxConfig::default()
                };
                let started = match Sandbox::start(strict(port)).await {
                    Ok(h) => h,
                    Err(_) if port != 0 => Sandbox::start(strict(0))
                        .await
                        .map_err(|e| anyhow!("{e}"))?,
                    Err(e) => return Err(anyhow!("{e}")),
                };
                *slot = Some(started);
            }
            let sandbox = slot
                .as_ref()
                .ok_or_else(|| anyhow!("the sandbox stopped while starting"))?;
            let issuer = sandbox.issuer().to_owned();
            let ca_pem = sandbox.ca_pem();
            if profile.client_id.trim().is_empty() {
                profile.client_id = DEMO_CLIENT_ID.to_owned();
            }
            let kid = profile.auth.kid.clone().filter(|k| !k.is_empty());
            sandbox.register_client(ClientRegistration {
                client_id: profile.client_id.clone(),
                jwks: key.public_jwks(kid.as_deref(), profile.auth.alg),
                redirect_uris: Vec::new(),
            });
            drop(slot);
            let old_issuer = std::mem::replace(&mut profile.issuer, issuer.clone());
            if profile.redirect_uri.is_empty() || profile.redirect_uri.starts_with(&old_issuer) {
                profile.redirect_uri = format!("{issuer}/callback");
            }
            self.prepare_local_mtls(&mut profile, ca_pem.as_deref())
                .await?;
            let transport = Transport::new(TransportConfig {
                ca_pem: ca_pem.clone(),
                ..TransportConfig::default()
            })
            .map_err(|e| anyhow!("{e}"))?;
            let found = discovery::discover(&transport, &issuer)
                .await
                .map_err(|e| anyhow!("discovery at the sandbox failed: {e}"))?;
            discovery::apply_to_profile(&found, &mut profile);
            self.profiles.save(&profile).map_err(|e| anyhow!("{e}"))?;
            anyhow::Ok(issuer)
        }
        .await;
        match result {
            Ok(issuer) => self.emit(Event::SandboxReady {
                profile: Box::new(profile),
                issuer,
            }),
            Err(e) => self.emit(Event::SandboxFailed(format!("{e:#}"))),
        }
    }
}

/// Writes a file another job may be reading (a transport being built reads the CA and
/// certificate files): unchanged content is left alone, new content replaces the file
/// in one rename, so a reader never sees it empty or half written.
async fn write_replacing(path: &std::path::Path, content: &str) -> anyhow::Result<()> {
    if tokio::fs::read_to_string(path)
        .await
        .is_ok_and(|old| old == content)
    {
        return Ok(());
    }
    let partial = path.with_extension("pem.partial");
    tokio::fs::write(&partial, content)
        .await
        .with_context(|| format!("cannot write {}", partial.display()))?;
    tokio::fs::rename(&partial, path)
        .await
        .with_context(|| format!("cannot replace {}", path.display()))
}

async fn command_loop(inner: Arc<Inner>, mut rx: UnboundedReceiver<Command>) {
    let mut in_flight: HashMap<u64, AbortHandle> = HashMap::new();
    while let Some(command) = rx.recv().await {
        in_flight.retain(|_, h| !h.is_finished());
        match command {
            Command::Send {
                id,
                profile,
                model,
                context,
                rebuild,
            } => {
                let inner2 = inner.clone();
                let task = inner.handle.spawn(async move {
                    let prepared = async {
                        let transport = inner2.transport(&profile).await?;
                        let dpop = inner2.dpop_key(&profile).await?;
                        anyhow::Ok((transport, dpop))
                    }
                    .await;
                    match prepared {
                        Ok((transport, dpop)) => {
                            let mut context = *context;
                            context.binding.certificate_x5t =
                                settings::certificate_x5t(transport.config());
                            context.binding.dpop_jkt = dpop.as_ref().map(|k| k.jkt());
                            let signing_key =
                                rebuild.as_ref().and_then(|r| r.secrets.signing_key.clone());
                            let state = context.expected_state.clone();
                            let exchange = match (dpop, rebuild) {
                                // The previewed request with a proof; for a nonce, the
                                // same inputs built again (fresh proof and assertion).
                                (Some(key), Some(rebuild)) => {
                                    let mut first = Some(*model);
                                    let result = exchange::run_with_nonce_retry(
                                        &transport,
                                        &context,
                                        &inner2.nonces,
                                        |nonce| {
                                            let mut m = match (nonce, first.take()) {
                                                (None, Some(m)) => m,
                                                _ => crate::oauth::request::build_token_request(
                                                    &profile,
                                                    &rebuild.secrets,
                                                    &rebuild.grant,
                                                    &rebuild.options,
                                                )?,
                                            };
                                            let now =
                                                time::OffsetDateTime::now_utc().unix_timestamp();
                                            crate::oauth::request::attach_dpop(
                                                &mut m, &key, nonce, None, now,
                                            )?;
                                            Ok::<_, crate::oauth::request::BuildError>(m)
                                        },
                                    )
                                    .await;
                                    match result {
                                        Ok(exchange) => exchange,
                                        Err(e) => {
                                            inner2.emit(Event::SendFailed {
                                                id,
                                                message: e.to_string(),
                                            });
                                            return;
                                        }
                                    }
                                }
                                _ => exchange::run(&transport, *model, &context).await,
                            };
                            let (exchange, saved) = inner2
                                .diagnose_and_keep(
                                    &profile,
                                    &transport,
                                    signing_key.as_ref(),
                                    state,
                                    exchange,
                                )
                                .await;
                            inner2.emit(Event::Exchanged {
                                id,
                                exchange: Box::new(exchange),
                            });
                            inner2.emit(Event::SavedHistory {
                                profile: profile.name.clone(),
                                entries: saved,
                            });
                        }
                        Err(e) => inner2.emit(Event::SendFailed {
                            id,
                            message: format!("{e:#}"),
                        }),
                    }
                });
                in_flight.insert(id, task.abort_handle());
            }
            Command::Cancel { id } => {
                if let Some(h) = in_flight.remove(&id) {
                    h.abort();
                }
            }
            Command::Authorize {
                id,
                profile,
                secrets,
                in_app,
            } => {
                let task = inner.handle.spawn(inner.clone().run(Command::Authorize {
                    id,
                    profile,
                    secrets,
                    in_app,
                }));
                in_flight.insert(id, task.abort_handle());
            }
            other => {
                inner.handle.spawn(inner.clone().run(other));
            }
        }
    }
}
