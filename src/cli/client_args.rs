//! The flags that say which client talks to which server, shared by `exchange` and
//! `authorize`: parsed here, turned into the core's [`Overrides`], and resolved by the
//! core (`session::settings`) with the profile and the keychain, exactly as the app's
//! worker resolves its profile.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use token_inspector::history::HistoryStore;
use token_inspector::jose::keys::SigningAlg;
use token_inspector::jose::numeric_date::NumericDateStyle;
use token_inspector::secret::Secret;
use token_inspector::session::settings::{self, Keychain, Overrides};
use token_inspector::session::{RegisteredJwks, Session};
use token_inspector::storage::profile::{AuthMethod, Profile, ProfileStore};

use super::InputError;

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
    /// The response_type: code (FAPI 2.0), or "code id_token" (the hybrid flow of FAPI 1
    /// Advanced: UK, Brazil; the id_token comes in the fragment and is checked before the
    /// code is redeemed). Default: the profile's.
    #[arg(long, value_name = "TYPE")]
    pub response_type: Option<String>,
    /// The response_mode: jwt, query.jwt, fragment.jwt, form_post.jwt (JARM: one signed
    /// response JWT, verified), form_post, fragment, query. Default: the profile's.
    #[arg(long, value_name = "MODE")]
    pub response_mode: Option<String>,
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
    /// Take plain-http endpoints from discovery on a host that is not this machine (by
    /// default only https, and http on loopback, are used or opened).
    #[arg(long)]
    pub allow_http: bool,
    /// The client's registered JWK Set (file or URL): when a server refuses the client,
    /// the diagnosis says whether the signing key's kid is registered.
    #[arg(long, value_name = "FILE|URL")]
    pub client_jwks: Option<String>,
}

impl ClientArgs {
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
            response_type: self.response_type.clone(),
            response_mode: self.response_mode.clone(),
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

    /// The saved profile named by `--profile` (or a blank one), with the flags applied.
    fn profile(&self, issuer: &str) -> anyhow::Result<(Profile, Overrides)> {
        let profile = match &self.profile {
            Some(name) => ProfileStore::default_location()
                .and_then(|s| s.load(name))
                .map_err(|e| InputError::new(e.to_string()))?,
            None => Profile::new("command line", issuer),
        };
        let mut profile = profile;
        let overrides = self.overrides();
        overrides
            .apply(&mut profile, self.profile.is_some())
            .map_err(|e| InputError::new(e.to_string()))?;
        Ok((profile, overrides))
    }

    /// The session for these flags: the profile (if any) with the flags applied, its
    /// secrets (files and the keychain, off the async threads), its transport, the
    /// history it keeps, and the client's registered JWK Set for the diagnosis.
    async fn build(&self, profile: Profile, overrides: Overrides) -> anyhow::Result<Session> {
        let saved = self.profile.is_some();
        let settings = tokio::task::spawn_blocking(move || {
            settings::resolve(profile, &overrides, saved, &Keychain::default_store())
        })
        .await
        .context("resolving the profile")?
        .map_err(|e| InputError::new(e.to_string()))?;
        if settings.transport.insecure_skip_verify {
            eprintln!("WARNING: TLS certificate verification is OFF (--insecure)");
        }
        let registered = self
            .client_jwks
            .clone()
            .or_else(|| settings.profile.client_jwks.clone())
            .filter(|s| !s.trim().is_empty())
            .map_or(RegisteredJwks::Unknown, RegisteredJwks::Source);
        let mut session = Session::new(settings)?
            .with_registered_jwks(registered)
            .with_allow_http(self.allow_http);
        match HistoryStore::default_location() {
            Ok(store) => {
                let key = self
                    .profile
                    .as_deref()
                    .unwrap_or(super::history::NO_PROFILE);
                session = session.with_history(store, key);
            }
            Err(e) => eprintln!("warning: the exchanges are not kept in the history: {e}"),
        }
        Ok(session)
    }

    /// As [`ClientArgs::session`] for a call that needs no authorization server (an API
    /// call): no issuer needed, no discovery, no client authentication.
    pub async fn session_without_server(&self) -> anyhow::Result<Session> {
        let (mut profile, overrides) = self.profile("")?;
        // A token is given: no signing key or client secret is needed.
        profile.auth.method = AuthMethod::None;
        self.build(profile, overrides).await
    }

    /// The session for these flags; when the token endpoint is unknown, discovery runs
    /// first (a discovery that got no answer is diagnosed). `quiet` keeps the notes off
    /// stderr (`--json`).
    pub async fn session(&self, quiet: bool) -> anyhow::Result<Session> {
        let (profile, overrides) = self.profile(self.issuer.as_deref().unwrap_or_default())?;
        if profile.issuer.trim().is_empty() && profile.endpoints.token.is_none() {
            return Err(InputError::new(
                "give --issuer (discovery fills the endpoints) or --token-endpoint, or --profile NAME",
            )
            .into());
        }
        let mut session = self.build(profile, overrides).await?;
        let profile = &session.settings().profile;
        if profile.endpoints.token.is_none() && !profile.issuer.is_empty() {
            let found = session.discover().await.map_err(|failure| {
                let causes = failure.causes.clone();
                anyhow::Error::new(failure).context(super::Diagnosed {
                    message: "discovery failed (give --token-endpoint to skip it)".into(),
                    causes,
                })
            })?;
            for f in &found.findings {
                if !quiet && f.severity == token_inspector::checks::Severity::Error {
                    eprintln!("discovery: {}", f.message);
                }
            }
        }
        if !quiet {
            for f in session
                .notes()
                .iter()
                .filter(|f| f.code.starts_with("preset."))
            {
                eprintln!("warning: {}", f.message);
            }
        }
        Ok(session)
    }
}
