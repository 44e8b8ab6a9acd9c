//! The flags that say which client talks to which server, shared by `exchange` and
//! `authorize`: parsed here, turned into the core's [`Overrides`], and resolved by the
//! core (`oauth::settings`) with the profile and the keychain, exactly as the app's
//! worker resolves its profile.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use token_inspector::jose::keys::SigningAlg;
use token_inspector::jose::numeric_date::NumericDateStyle;
use token_inspector::oauth::discovery;
use token_inspector::oauth::settings::{self, Keychain, Overrides, Settings};
use token_inspector::oauth::transport::Transport;
use token_inspector::secret::Secret;
use token_inspector::storage::profile::{AuthMethod, Profile, ProfileStore};

use super::InputError;

/// What the client flags resolve to.
pub struct Resolved {
    /// The settings.
    pub settings: Settings,
    /// The HTTP client (the profile's TLS identity, CA and timeouts).
    pub transport: Transport,
    /// Warnings found on the way (the server's clock, the preset's requirements), for the
    /// findings of what follows.
    pub notes: Vec<token_inspector::checks::Finding>,
    /// The `authorization_details` types the server takes (discovery), when discovered.
    pub authorization_details_types: Vec<String>,
    /// The server's discovery document, when discovery ran (for the diagnosis).
    pub discovery: Option<serde_json::Value>,
}

/// NumericDate styles for the assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NumericDateArg {
    /// Whole seconds.
    Seconds,
    /// Seconds with milliseconds (the seed's style).
    Milliseconds,
}

/// The client and server flags.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// A saved profile to start from (flags override its fields).
    #[arg(long)]
    pub profile: Option<String>,
    /// Issuer identifier; with no --token-endpoint, the endpoints come from discovery.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Token endpoint URL.
    #[arg(long)]
    pub token_endpoint: Option<String>,
    /// The client_id.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Signing key file for private_key_jwt (PEM: PKCS#1, PKCS#8, SEC1; or JWK).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The assertion's kid (default: the profile's, else the key's RFC 7638 thumbprint).
    #[arg(long)]
    pub kid: Option<String>,
    /// Signing algorithm: PS256 (default), ES256, EdDSA, RS256.
    #[arg(long)]
    pub alg: Option<SigningAlg>,
    /// Assertion aud: `issuer` (default), `token_endpoint`, or any other value.
    #[arg(long)]
    pub aud: Option<String>,
    /// Client authentication method (private_key_jwt, client_secret_basic,
    /// client_secret_post, tls_client_auth, self_signed_tls_client_auth, none).
    #[arg(long)]
    pub auth_method: Option<AuthMethod>,
    /// Client secret for client_secret_basic/post (prefer the env variable).
    #[arg(long, env = "TOKEN_INSPECTOR_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Assertion lifetime in seconds.
    #[arg(long, value_name = "SECS")]
    pub lifetime: Option<u32>,
    /// Signed request object lifetime (exp − nbf) in seconds (FAPI: at most 3600;
    /// UAE: 600).
    #[arg(long, value_name = "SECS")]
    pub request_object_lifetime: Option<u32>,
    /// How the assertion writes iat/exp.
    #[arg(long, value_enum)]
    pub numeric_date: Option<NumericDateArg>,
    /// The redirect_uri sent to the authorization endpoint.
    #[arg(long)]
    pub redirect_uri: Option<String>,
    /// Scope to send (`""` sends none).
    #[arg(long)]
    pub scope: Option<String>,
    /// Extra header `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// mTLS client certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// mTLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub cert_key: Option<PathBuf>,
    /// Extra trusted CA certificates (PEM).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify the server's certificate (dangerous; says so).
    #[arg(long)]
    pub insecure: bool,
    /// Connect timeout in seconds.
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<u64>,
    /// Total timeout in seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Sender-constrain the tokens with DPoP (RFC 9449): proofs on PAR, token and API
    /// calls, with the profile's DPoP key (kept in the keychain, made on first use; a key
    /// for this run only without a profile).
    #[arg(long)]
    pub dpop: bool,
    /// A DPoP key file (PEM or JWK) instead (implies --dpop).
    #[arg(long, value_name = "FILE")]
    pub dpop_key: Option<PathBuf>,
    /// The DPoP proof algorithm: ES256 (default), EdDSA or PS256.
    #[arg(long)]
    pub dpop_alg: Option<SigningAlg>,
    /// The client's decryption key (RSA private key PEM) to read encrypted (JWE) API
    /// answers (RSA-OAEP-256).
    #[arg(long, value_name = "FILE")]
    pub decrypt_key: Option<PathBuf>,
    /// The client's registered JWK Set (file or URL): when a server refuses the client,
    /// the diagnosis says whether the signing key's kid is registered.
    #[arg(long, value_name = "FILE|URL")]
    pub client_jwks: Option<String>,
}

impl ClientArgs {
    /// The client's registered JWK Set from `--client-jwks` (a file, or a URL fetched
    /// with the client's transport), for the diagnosis.
    pub async fn registered_jwks(
        &self,
        profile: &Profile,
        transport: &Transport,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let Some(source) = self
            .client_jwks
            .clone()
            .or_else(|| profile.client_jwks.clone())
            .filter(|s| !s.trim().is_empty())
        else {
            return Ok(None);
        };
        token_inspector::oauth::discovery::registered_jwks(transport, &source)
            .await
            .map(Some)
            .map_err(|e| InputError::new(e).into())
    }

    /// The flags as the core's overrides.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            issuer: self.issuer.clone(),
            token_endpoint: self.token_endpoint.clone(),
            client_id: self.client_id.clone(),
            key_file: self.key.clone(),
            kid: self.kid.clone(),
            alg: self.alg,
            aud: self.aud.clone(),
            auth_method: self.auth_method,
            client_secret: self.client_secret.clone().map(Secret::new),
            lifetime_secs: self.lifetime,
            request_object_lifetime_secs: self.request_object_lifetime,
            numeric_date: self.numeric_date.map(|v| match v {
                NumericDateArg::Seconds => NumericDateStyle::Seconds,
                NumericDateArg::Milliseconds => NumericDateStyle::Milliseconds,
            }),
            redirect_uri: self.redirect_uri.clone(),
            scope: self.scope.clone(),
            headers: self.headers.clone(),
            insecure: self.insecure,
            ca_file: self.cacert.clone(),
            client_cert: self.cert.clone(),
            client_cert_key: self.cert_key.clone(),
            connect_timeout_secs: self.connect_timeout,
            timeout_secs: self.timeout,
            dpop: self.dpop,
            dpop_key_file: self.dpop_key.clone(),
            dpop_alg: self.dpop_alg,
            decrypt_key_file: self.decrypt_key.clone(),
        }
    }

    /// As [`ClientArgs::resolve`] for a call that needs no authorization server (an API
    /// call): no issuer needed, no discovery.
    pub async fn resolve_without_server(&self, _quiet: bool) -> anyhow::Result<Resolved> {
        let saved = self.profile.is_some();
        let mut profile = match &self.profile {
            Some(name) => ProfileStore::default_location()
                .and_then(|s| s.load(name))
                .map_err(|e| InputError::new(e.to_string()))?,
            None => Profile::new("command line", ""),
        };
        let overrides = self.overrides();
        overrides
            .apply(&mut profile, saved)
            .map_err(|e| InputError::new(e.to_string()))?;
        // A token is given: no signing key or client secret is needed.
        profile.auth.method = AuthMethod::None;
        let settings = tokio::task::spawn_blocking(move || {
            settings::resolve(profile, &overrides, saved, &Keychain::default_store())
        })
        .await
        .context("resolving the profile")?
        .map_err(|e| InputError::new(e.to_string()))?;
        let transport = Transport::new(settings.transport.clone())?;
        Ok(Resolved {
            settings,
            transport,
            notes: Vec::new(),
            authorization_details_types: Vec::new(),
            discovery: None,
        })
    }

    /// Loads the profile (if any), applies the flags, loads the secrets (files and the
    /// keychain), builds the HTTP client and, when the token endpoint is unknown, runs
    /// discovery. `quiet` keeps discovery's notes off stderr (`--json`).
    pub async fn resolve(&self, quiet: bool) -> anyhow::Result<Resolved> {
        let saved = self.profile.is_some();
        let mut profile = match &self.profile {
            Some(name) => ProfileStore::default_location()
                .and_then(|s| s.load(name))
                .map_err(|e| InputError::new(e.to_string()))?,
            None => Profile::new("command line", self.issuer.as_deref().unwrap_or_default()),
        };
        let overrides = self.overrides();
        overrides
            .apply(&mut profile, saved)
            .map_err(|e| InputError::new(e.to_string()))?;
        if profile.issuer.trim().is_empty() && profile.endpoints.token.is_none() {
            return Err(InputError::new(
                "give --issuer (discovery fills the endpoints) or --token-endpoint, or --profile NAME",
            )
            .into());
        }
        // Files and the keychain are blocking I/O: off the async threads.
        let mut settings = tokio::task::spawn_blocking(move || {
            settings::resolve(profile, &overrides, saved, &Keychain::default_store())
        })
        .await
        .context("resolving the profile")?
        .map_err(|e| InputError::new(e.to_string()))?;
        let transport = Transport::new(settings.transport.clone())?;
        let profile = &mut settings.profile;
        let mut notes = Vec::new();
        let mut authorization_details_types = Vec::new();
        let mut discovered = None;
        if profile.endpoints.token.is_none() && !profile.issuer.is_empty() {
            let found = match discovery::discover(&transport, &profile.issuer).await {
                Ok(found) => found,
                Err(discovery::DiscoveryError::Send(e)) => {
                    let url = discovery::discovery_url(&profile.issuer).unwrap_or_default();
                    let evidence =
                        token_inspector::diagnosis::Evidence::for_settings(&settings, None);
                    let causes = token_inspector::diagnosis::diagnose_connection(
                        &settings.profile,
                        &url,
                        &e,
                        &evidence,
                    );
                    return Err(anyhow::Error::new(e).context(super::Diagnosed {
                        message: "discovery failed (give --token-endpoint to skip it)".into(),
                        causes,
                    }));
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context("discovery failed (give --token-endpoint to skip it)"));
                }
            };
            for f in &found.findings {
                let clock = f.code == "clock.skew";
                if !quiet && (clock || f.severity == token_inspector::checks::Severity::Error) {
                    eprintln!(
                        "{}: {}",
                        if clock { "warning" } else { "discovery" },
                        f.message
                    );
                }
                if clock {
                    notes.push(f.clone());
                }
            }
            authorization_details_types = found
                .document
                .get("authorization_details_types_supported")
                .and_then(serde_json::Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(serde_json::Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            discovery::apply_to_profile(&found, profile);
            discovered = Some(serde_json::Value::Object(found.document.clone()));
        }
        notes.extend(token_inspector::storage::presets::profile_findings(profile));
        if !quiet {
            for f in notes.iter().filter(|f| f.code.starts_with("preset.")) {
                eprintln!("warning: {}", f.message);
            }
        }
        Ok(Resolved {
            settings,
            transport,
            notes,
            authorization_details_types,
            discovery: discovered,
        })
    }
}
