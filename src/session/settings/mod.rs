//! Resolution: a saved profile plus what the user typed for this run (CLI flags or the
//! app's fields) plus the keychain become the settings an exchange runs with.
//!
//! The CLI and the app's worker both call this module, so a rule about where a secret
//! comes from, how a certificate and its key are joined, or which empty field counts as
//! "not set" lives in one place. Two steps, as ripgrep separates the flags it parses
//! from the settings it runs with:
//! 1. [`Overrides::apply`] (pure): lays the user's values over the profile;
//! 2. [`resolve`] (blocking I/O: files and the keychain): loads the secrets and the TLS
//!    identity. Keychain calls are synchronous and safe from any thread
//!    ([`crate::storage::secret_store::off_runtime`]); async callers that must not block
//!    run it on `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::jose::keys::{PrivateKey, SigningAlg};
use crate::jose::numeric_date::NumericDateStyle;
use crate::oauth::exchange::ExchangeContext;
use crate::oauth::request::ClientSecrets;
use crate::oauth::transport::TransportConfig;
use crate::secret::Secret;
use crate::storage::profile::{AudienceChoice, AuthMethod, ExtraHeader, Profile};
use crate::storage::secret_store::{self, SecretStore, SecretStoreError};

/// Why the settings could not be resolved. Each message names the input and what to do.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value the user gave is wrong or missing.
    #[error("{0}")]
    Input(String),
    /// A file named in the profile or the flags could not be read.
    #[error("{what} {path}: {reason}")]
    File {
        /// What the file is for ("--key", "the mTLS certificate").
        what: String,
        /// The path.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// A secret is in the keychain, but the keychain did not give it.
    #[error("{what} is in the keychain, but {source}")]
    Keychain {
        /// What was being read.
        what: String,
        /// The store's error (it says what to do).
        source: SecretStoreError,
    },
    /// The keychain answered, but the entry is empty.
    #[error("{0}")]
    MissingSecret(String),
}

/// What the user sets for one run on top of a profile. Every field is optional: `None`
/// (or an empty list) keeps the profile's value. The CLI fills it from its flags; the app
/// from its fields.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Issuer identifier.
    pub issuer: Option<String>,
    /// Token endpoint URL.
    pub token_endpoint: Option<String>,
    /// The client_id.
    pub client_id: Option<String>,
    /// A signing key file (PEM or JWK) instead of the keychain's key.
    pub key_file: Option<PathBuf>,
    /// The assertion's kid.
    pub kid: Option<String>,
    /// The signing algorithm.
    pub alg: Option<SigningAlg>,
    /// The assertion audience (`issuer`, `token_endpoint` or a value).
    pub aud: Option<String>,
    /// Client authentication method.
    pub auth_method: Option<AuthMethod>,
    /// A client secret given directly (flag or environment), not from the keychain.
    pub client_secret: Option<Secret>,
    /// Assertion lifetime in seconds.
    pub lifetime_secs: Option<u32>,
    /// Signed request object lifetime (`exp` − `nbf`) in seconds.
    pub request_object_lifetime_secs: Option<u32>,
    /// How the assertion writes iat/exp.
    pub numeric_date: Option<NumericDateStyle>,
    /// The redirect_uri.
    pub redirect_uri: Option<String>,
    /// The scope.
    pub scope: Option<String>,
    /// The `response_type` (`code`, `code id_token`).
    pub response_type: Option<String>,
    /// The `response_mode` (`jwt`, `query.jwt`, `fragment.jwt`, `form_post.jwt`…).
    pub response_mode: Option<String>,
    /// Extra headers, `Name: value`, added after the profile's.
    pub headers: Vec<String>,
    /// Turn certificate verification off.
    pub insecure: bool,
    /// Extra trusted CA file.
    pub ca_file: Option<PathBuf>,
    /// mTLS certificate file.
    pub client_cert: Option<PathBuf>,
    /// mTLS private key file (instead of the keychain entry).
    pub client_cert_key: Option<PathBuf>,
    /// Connect timeout in seconds.
    pub connect_timeout_secs: Option<u64>,
    /// Total timeout in seconds.
    pub timeout_secs: Option<u64>,
    /// Sender-constrain with DPoP (RFC 9449): the profile's DPoP key from the keychain,
    /// made on first use.
    pub dpop: bool,
    /// A DPoP key file instead (implies `dpop`).
    pub dpop_key_file: Option<PathBuf>,
    /// The DPoP proof algorithm: ES256 (default), EdDSA or PS256.
    pub dpop_alg: Option<SigningAlg>,
    /// The client's decryption key file (RSA private key PEM) for encrypted answers.
    pub decrypt_key_file: Option<PathBuf>,
}

impl Overrides {
    /// Lays these values over `profile` (step 1, no I/O). `saved` is true when the
    /// profile came from disk: only then may the keychain hold its secrets, and only then
    /// does a key file keep the profile's algorithm.
    pub fn apply(&self, profile: &mut Profile, saved: bool) -> Result<(), SettingsError> {
        if let Some(v) = &self.issuer {
            profile.issuer = v.clone();
        }
        if let Some(v) = &self.token_endpoint {
            profile.endpoints.token = Some(v.clone());
        }
        if let Some(v) = &self.client_id {
            profile.client_id = v.clone();
        }
        if let Some(v) = &self.kid {
            profile.auth.kid = Some(v.clone());
        }
        if let Some(v) = self.alg {
            profile.auth.alg = v;
        }
        if let Some(v) = &self.aud {
            profile.auth.aud = AudienceChoice::from(v.as_str());
        }
        if let Some(v) = self.auth_method {
            profile.auth.method = v;
        } else if self.client_secret.is_some() && self.key_file.is_none() && !saved {
            profile.auth.method = AuthMethod::ClientSecretBasic;
        }
        if let Some(v) = self.lifetime_secs {
            profile.auth.lifetime_secs = v;
        }
        if let Some(v) = self.request_object_lifetime_secs {
            profile.request_object.lifetime_secs = v;
        }
        if let Some(v) = self.numeric_date {
            profile.auth.numeric_date = v;
        }
        if let Some(v) = &self.redirect_uri {
            profile.redirect_uri = v.clone();
        }
        if let Some(v) = &self.scope {
            profile.scope = v.clone();
        }
        if let Some(v) = &self.response_type {
            profile.front_channel.response_type = v.trim().to_owned();
        }
        if let Some(v) = &self.response_mode {
            profile.front_channel.response_mode =
                Some(v.trim().to_owned()).filter(|m| !m.is_empty());
        }
        for h in &self.headers {
            let (name, value) = h.split_once(':').ok_or_else(|| {
                SettingsError::Input(format!("--header {h:?}: write it as 'Name: value'"))
            })?;
            profile.headers.push(ExtraHeader {
                name: name.trim().to_owned(),
                value: value.trim().to_owned(),
                ..Default::default()
            });
        }
        if self.insecure {
            profile.tls.insecure_skip_verify = true;
        }
        if let Some(v) = &self.ca_file {
            profile.tls.ca_file = Some(v.clone());
        }
        if let Some(v) = &self.client_cert {
            profile.tls.client_cert = Some(v.clone());
        }
        if let Some(v) = self.connect_timeout_secs {
            profile.tls.connect_timeout_secs = v;
        }
        if let Some(v) = self.timeout_secs {
            profile.tls.timeout_secs = v;
        }
        Ok(())
    }
}

/// The secret store, opened the first time a secret is needed (a run that needs none
/// never touches the keychain).
pub struct Keychain {
    given: Option<Arc<dyn SecretStore>>,
    opened: OnceLock<Result<Arc<dyn SecretStore>, SecretStoreError>>,
}

impl Keychain {
    /// The platform's default store, opened on first use.
    pub fn default_store() -> Self {
        Self {
            given: None,
            opened: OnceLock::new(),
        }
    }

    /// A store that is already open (the app's, or a test's).
    pub fn given(store: Arc<dyn SecretStore>) -> Self {
        Self {
            given: Some(store),
            opened: OnceLock::new(),
        }
    }

    /// The store, or why there is none.
    pub fn store(&self) -> Result<Arc<dyn SecretStore>, SecretStoreError> {
        if let Some(store) = &self.given {
            return Ok(store.clone());
        }
        self.opened
            .get_or_init(secret_store::open_default_store)
            .clone()
    }

    /// Reads one entry; `what` names it in errors ("the profile's signing key").
    pub fn read(&self, entry: &str, what: &str) -> Result<Option<Secret>, SettingsError> {
        let keychain = |source| SettingsError::Keychain {
            what: what.to_owned(),
            source,
        };
        self.store().map_err(keychain)?.get(entry).map_err(keychain)
    }
}

/// Everything an exchange needs, resolved.
#[derive(Debug)]
pub struct Settings {
    /// The profile with the overrides applied.
    pub profile: Profile,
    /// The signing key and client secret.
    pub secrets: ClientSecrets,
    /// How to connect (CA, mTLS identity, timeouts).
    pub transport: TransportConfig,
    /// The mTLS key file, when it came from a file (curl names it).
    pub client_key_file: Option<PathBuf>,
    /// The DPoP key, when DPoP is used.
    pub dpop: Option<crate::oauth::dpop::DpopKey>,
    /// The client's decryption key for encrypted (JWE) answers, when one is given.
    pub decryption_key: Option<crate::jose::jwe::JweKey>,
}

impl Settings {
    /// What requests are built and signed with.
    pub fn credentials(&self) -> crate::session::Credentials<'_> {
        crate::session::Credentials {
            profile: &self.profile,
            secrets: &self.secrets,
            dpop: self.dpop.as_ref(),
            client_key_file: self.client_key_file.as_deref(),
        }
    }
}

/// Reads the values of the profile's secret headers that are kept in the keychain
/// (`keychain = true`) into the profile in memory.
pub fn header_values(profile: &mut Profile, keychain: &Keychain) -> Result<(), SettingsError> {
    let wanted: Vec<(usize, String, String)> = profile
        .headers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.keychain)
        .map(|(i, h)| (i, h.name.clone(), profile.header_entry(&h.name)))
        .collect();
    for (i, name, entry) in wanted {
        let value = keychain
            .read(&entry, &format!("the value of the header {name}"))?
            .ok_or_else(|| {
                SettingsError::MissingSecret(format!(
                    "the profile keeps the header {name}'s value in the keychain entry {entry:?}, but the keychain has nothing there: set it again"
                ))
            })?;
        if let Some(h) = profile.headers.get_mut(i) {
            h.value = value.expose().to_owned();
        }
    }
    Ok(())
}

/// What a profile may make this client do before anything is read from the keychain:
/// only its own keychain entries, and short-lived assertions unless the user asked for
/// a longer one for this run (`explicit_lifetime`).
pub fn trusted(profile: &Profile, explicit_lifetime: bool) -> Result<(), SettingsError> {
    own_references_only(profile)?;
    match profile.lifetime_refused(explicit_lifetime) {
        Some(why) => Err(SettingsError::Input(why)),
        None => Ok(()),
    }
}

/// Refuses a profile that refers to another profile's keychain entries (a shared
/// profile must never borrow another's key or secret).
fn own_references_only(profile: &Profile) -> Result<(), SettingsError> {
    let foreign = profile.foreign_references();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(SettingsError::Input(format!(
        "profile {:?}: {}. Import the key or secret into this profile (token-inspector profile import-key), or fix the entry",
        profile.name,
        foreign.join("; ")
    )))
}

/// Settings for a profile whose signing key and client secret the caller has loaded
/// already (the app keeps them in memory): the transport (CA file, the mTLS key from the
/// keychain), the DPoP key (made on first use) and the decryption key. Blocking I/O, as
/// [`resolve`].
pub fn resolve_with_secrets(
    profile: Profile,
    secrets: ClientSecrets,
    keychain: &Keychain,
) -> Result<Settings, SettingsError> {
    trusted(&profile, false)?;
    let mut profile = profile;
    header_values(&mut profile, keychain)?;
    let transport = transport_config(&profile, None, keychain)?;
    let dpop = dpop_key(&profile, &Overrides::default(), true, keychain)?;
    let decryption_key = decryption_key(&profile, None, keychain)?;
    Ok(Settings {
        profile,
        secrets,
        transport,
        client_key_file: None,
        dpop,
        decryption_key,
    })
}

/// Settings that only connect (discovery, a JWKS): the profile's transport, no keys.
pub fn resolve_transport(profile: Profile, keychain: &Keychain) -> Result<Settings, SettingsError> {
    own_references_only(&profile)?;
    let transport = transport_config(&profile, None, keychain)?;
    Ok(Settings {
        profile,
        secrets: ClientSecrets::default(),
        transport,
        client_key_file: None,
        dpop: None,
        decryption_key: None,
    })
}

/// Step 2: loads what `profile` (with the overrides already applied) refers to: the
/// signing key, the client secret, the CA file and the mTLS identity. `saved` as for
/// [`Overrides::apply`].
pub fn resolve(
    profile: Profile,
    overrides: &Overrides,
    saved: bool,
    keychain: &Keychain,
) -> Result<Settings, SettingsError> {
    let mut profile = profile;
    trusted(&profile, overrides.lifetime_secs.is_some())?;
    if saved {
        header_values(&mut profile, keychain)?;
    }
    let transport = transport_config(&profile, overrides.client_cert_key.as_deref(), keychain)?;
    let mut secrets = ClientSecrets::default();
    if let Some(path) = &overrides.key_file {
        let key = PrivateKey::load(&read_file("--key", path)?)
            .map_err(|e| SettingsError::Input(format!("--key {}: {e}", path.display())))?;
        if overrides.alg.is_none() && !saved {
            profile.auth.alg = SigningAlg::default_for(key.key_type());
        }
        secrets.signing_key = Some(key);
    } else if profile.auth.method == AuthMethod::PrivateKeyJwt && saved {
        secrets.signing_key = Some(signing_key(&profile, keychain)?.ok_or_else(|| {
            SettingsError::MissingSecret(format!(
                "no signing key in the keychain entry {:?}: run `token-inspector keygen --profile {:?}` or pass --key FILE",
                profile.key_entry(),
                profile.name
            ))
        })?);
    }
    secrets.client_secret = match &overrides.client_secret {
        Some(s) => Some(s.clone()),
        None if saved
            && matches!(
                profile.auth.method,
                AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
            ) =>
        {
            keychain.read(&profile.client_secret_entry(), "the client secret")?
        }
        None => None,
    };
    let dpop = dpop_key(&profile, overrides, saved, keychain)?;
    let decryption_key = decryption_key(&profile, overrides.decrypt_key_file.as_deref(), keychain)?;
    Ok(Settings {
        profile,
        secrets,
        transport,
        client_key_file: overrides.client_cert_key.clone(),
        dpop,
        decryption_key,
    })
}

/// The client's decryption key (RFC 7516, `RSA-OAEP-256`): a file, else the profile's
/// keychain entry when it names one.
pub fn decryption_key(
    profile: &Profile,
    file: Option<&Path>,
    keychain: &Keychain,
) -> Result<Option<crate::jose::jwe::JweKey>, SettingsError> {
    let pem = match (file, &profile.encryption_key) {
        (Some(path), _) => Secret::new(read_file("--decrypt-key", path)?),
        (None, Some(entry)) if !entry.trim().is_empty() => {
            match keychain.read(entry, "the client's decryption key")? {
                Some(pem) => pem,
                None => {
                    return Err(SettingsError::MissingSecret(format!(
                        "the profile names the decryption key entry {entry:?}, but the keychain has nothing there: store the key with `token-inspector profile import-key` or remove encryption_key"
                    )));
                }
            }
        }
        _ => return Ok(None),
    };
    if !pem.expose().contains("PRIVATE KEY") {
        return Err(SettingsError::Input(
            "the decryption key is not a PEM private key (RSA, for RSA-OAEP-256)".into(),
        ));
    }
    Ok(Some(crate::jose::jwe::JweKey::RsaPrivatePem(pem)))
}

/// The DPoP key (RFC 9449): a file, else the saved profile's keychain entry (made on
/// first use and kept there), else a key for this run only.
pub fn dpop_key(
    profile: &Profile,
    overrides: &Overrides,
    saved: bool,
    keychain: &Keychain,
) -> Result<Option<crate::oauth::dpop::DpopKey>, SettingsError> {
    use crate::jose::keys::KeyType;
    if !overrides.dpop && !profile.dpop && overrides.dpop_key_file.is_none() {
        return Ok(None);
    }
    let alg = overrides.dpop_alg.unwrap_or(SigningAlg::ES256);
    let key_type = match alg {
        SigningAlg::ES256 => KeyType::EC_P256,
        SigningAlg::EdDSA => KeyType::ED25519,
        _ => KeyType::Rsa { bits: 2048 },
    };
    let generate = || {
        PrivateKey::generate(key_type)
            .map_err(|e| SettingsError::Input(format!("the DPoP key could not be made: {e}")))
    };
    let key = if let Some(path) = &overrides.dpop_key_file {
        let key = PrivateKey::load(&read_file("--dpop-key", path)?)
            .map_err(|e| SettingsError::Input(format!("--dpop-key {}: {e}", path.display())))?;
        let alg = overrides
            .dpop_alg
            .unwrap_or_else(|| SigningAlg::default_for(key.key_type()));
        return Ok(Some(crate::oauth::dpop::DpopKey { key, alg }));
    } else if saved {
        let entry = crate::storage::secret_store::entry_name(&profile.name, "dpop-key");
        match keychain.read(&entry, "the profile's DPoP key")? {
            Some(pem) => PrivateKey::load(pem.expose()).map_err(|e| {
                SettingsError::Input(format!("the DPoP key in the keychain does not load: {e}"))
            })?,
            None => {
                let key = generate()?;
                let keychain_error = |source| SettingsError::Keychain {
                    what: "the new DPoP key".into(),
                    source,
                };
                keychain
                    .store()
                    .map_err(keychain_error)?
                    .set(&entry, key.to_pkcs8_pem())
                    .map_err(keychain_error)?;
                key
            }
        }
    } else {
        generate()?
    };
    // A kept key signs with its own algorithm unless --dpop-alg asks for another.
    let alg = overrides
        .dpop_alg
        .unwrap_or_else(|| SigningAlg::default_for(key.key_type()));
    if !alg.fits(key.key_type()) {
        return Err(SettingsError::Input(format!(
            "the DPoP key is {} and cannot sign {alg}",
            key.key_type()
        )));
    }
    Ok(Some(crate::oauth::dpop::DpopKey { key, alg }))
}

/// The profile's signing key from the keychain; `Ok(None)` when the entry is empty.
pub fn signing_key(
    profile: &Profile,
    keychain: &Keychain,
) -> Result<Option<PrivateKey>, SettingsError> {
    own_references_only(profile)?;
    match keychain.read(&profile.key_entry(), "the profile's signing key")? {
        None => Ok(None),
        Some(pem) => PrivateKey::load(pem.expose()).map(Some).map_err(|e| {
            SettingsError::Input(format!(
                "the signing key in the keychain does not load: {e}; import it again"
            ))
        }),
    }
}

/// The transport a profile describes: its CA file, its mTLS identity (certificate file
/// plus the key from `key_file` or the profile's keychain entry, joined into one PEM),
/// timeouts and the verification switch.
pub fn transport_config(
    profile: &Profile,
    key_file: Option<&Path>,
    keychain: &Keychain,
) -> Result<TransportConfig, SettingsError> {
    let tls = &profile.tls;
    let ca_pem = match &tls.ca_file {
        Some(path) => Some(read_file("the CA file", path)?),
        None => None,
    };
    let identity_pem = match (&tls.client_cert, key_file, &tls.client_key) {
        (None, Some(_), _) => {
            return Err(SettingsError::Input(
                "an mTLS key is given without its certificate: add --cert FILE".into(),
            ));
        }
        (None, None, _) => None,
        (Some(cert), Some(key), _) => {
            let cert = read_file("the mTLS certificate", cert)?;
            let key = Secret::new(read_file("the mTLS key", key)?);
            Some(identity(&cert, &key))
        }
        (Some(cert), None, Some(entry)) => {
            let cert = read_file("the mTLS certificate", cert)?;
            let key = keychain.read(entry, "the mTLS key")?.ok_or_else(|| {
                SettingsError::MissingSecret(format!(
                    "the keychain entry {entry:?} for the mTLS key is empty: import the key again"
                ))
            })?;
            Some(identity(&cert, &key))
        }
        (Some(_), None, None) => {
            return Err(SettingsError::Input(
                "an mTLS certificate is set but not its key: give --cert-key FILE, or import the key into the profile".into(),
            ));
        }
    };
    Ok(TransportConfig::for_profile(tls, ca_pem, identity_pem))
}

/// One PEM holding the certificate chain and its private key, as rustls reads an
/// identity.
fn identity(cert_pem: &str, key_pem: &Secret) -> Secret {
    Secret::new(format!("{cert_pem}\n{}", key_pem.expose()))
}

fn read_file(what: &str, path: &Path) -> Result<String, SettingsError> {
    std::fs::read_to_string(path).map_err(|e| SettingsError::File {
        what: what.to_owned(),
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// What the checks compare an answer against, from a profile; empty fields count as
/// not set.
pub fn exchange_context(
    profile: &Profile,
    expected_state: Option<String>,
    expected_nonce: Option<String>,
) -> ExchangeContext {
    let set = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    ExchangeContext {
        issuer: set(&profile.issuer),
        client_id: set(&profile.client_id),
        token_endpoint: profile.endpoints.token.as_deref().and_then(set),
        expected_nonce,
        expected_state,
        jwks_uri: profile.endpoints.jwks.as_deref().and_then(set),
        jwks: None,
        binding: crate::checks::binding::Binding {
            certificate_x5t: None,
            dpop_jkt: None,
            fapi2: crate::storage::presets::for_profile(profile)
                .is_some_and(|p| p.fapi == crate::storage::presets::FapiProfile::Fapi2),
        },
        requested_consent: None,
        consent_authorized: crate::storage::presets::for_profile(profile)
            .map(|p| p.consent.authorized.clone())
            .filter(|w| !w.is_empty())
            .or_else(|| profile.local_sandbox.then(|| "authorized".to_owned())),
        decrypt_with: None,
    }
}

/// The `x5t#S256` of the client certificate a transport presents (RFC 8705 §3.1), read
/// from its mTLS identity.
pub fn certificate_x5t(transport: &TransportConfig) -> Option<String> {
    let identity = transport.identity_pem.as_ref()?;
    crate::jose::public_key::certificate_info(identity.expose())
        .ok()
        .map(|info| info.x5t_s256)
}

#[cfg(test)]
mod tests;
