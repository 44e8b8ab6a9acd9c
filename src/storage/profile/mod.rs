//! Client profiles: one registered client at one authorization server, saved as TOML in
//! the OS config directory. A profile holds references to secrets (keychain entry
//! names), never key material or tokens.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::jose::keys::SigningAlg;
use crate::jose::numeric_date::NumericDateStyle;

/// The name of the profile that points at the embedded sandbox.
pub const LOCAL_SANDBOX: &str = "Local sandbox";

/// How the client authenticates at the token endpoint (RFC 6749 §2.3, OIDC Core §9,
/// RFC 8705 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A signed JWT (RFC 7523), the FAPI 2.0 default and the seed's.
    #[default]
    PrivateKeyJwt,
    /// HTTP Basic with the client secret.
    ClientSecretBasic,
    /// The client secret in the form.
    ClientSecretPost,
    /// Mutual TLS with a CA-issued certificate (RFC 8705 §2.1).
    TlsClientAuth,
    /// Mutual TLS with a self-signed certificate (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
    /// A public client (client_id only).
    None,
}

impl AuthMethod {
    /// All methods, for pickers.
    pub const ALL: [AuthMethod; 6] = [
        AuthMethod::PrivateKeyJwt,
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretPost,
        AuthMethod::TlsClientAuth,
        AuthMethod::SelfSignedTlsClientAuth,
        AuthMethod::None,
    ];

    /// The registered name (RFC 7591 `token_endpoint_auth_method`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::TlsClientAuth => "tls_client_auth",
            AuthMethod::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            AuthMethod::None => "none",
        }
    }
}

impl std::str::FromStr for AuthMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuthMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown client auth method {s:?}; use one of: {}",
                    AuthMethod::ALL.map(AuthMethod::as_str).join(", ")
                )
            })
    }
}

/// What the client assertion's `aud` is.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum AudienceChoice {
    /// The issuer identifier (FAPI 2.0 and the seed).
    #[default]
    Issuer,
    /// The token endpoint URL (older servers).
    TokenEndpoint,
    /// Any other value.
    Custom(String),
}

impl AudienceChoice {
    /// The word a profile file uses: `issuer`, `token_endpoint`, or the value.
    pub fn as_str(&self) -> &str {
        match self {
            AudienceChoice::Issuer => "issuer",
            AudienceChoice::TokenEndpoint => "token_endpoint",
            AudienceChoice::Custom(v) => v,
        }
    }
}

impl Serialize for AudienceChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AudienceChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(AudienceChoice::from(text.as_str()))
    }
}

impl From<&str> for AudienceChoice {
    fn from(text: &str) -> Self {
        match text {
            "issuer" | "" => AudienceChoice::Issuer,
            "token_endpoint" => AudienceChoice::TokenEndpoint,
            other => AudienceChoice::Custom(other.to_owned()),
        }
    }
}

/// The authorization server's endpoints (OIDC Discovery 1.0 §3, RFC 9126, RFC 7009,
/// RFC 7662).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Endpoints {
    /// `token_endpoint`.
    pub token: Option<String>,
    /// `pushed_authorization_request_endpoint`.
    pub par: Option<String>,
    /// `authorization_endpoint`.
    pub authorization: Option<String>,
    /// `jwks_uri`.
    pub jwks: Option<String>,
    /// `revocation_endpoint`.
    pub revocation: Option<String>,
    /// `introspection_endpoint`.
    pub introspection: Option<String>,
    /// `userinfo_endpoint`.
    pub userinfo: Option<String>,
    /// Where a consent is created before the authorization (UK Open Banking's
    /// account-access-consents, Open Finance Brasil's consents): the bank's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
}

/// The longest client assertion a profile may ask for without the user saying so for
/// the run: ten minutes, the limit of the `assertion.lifetime_too_long` finding (servers
/// commonly refuse assertions that live longer than 5–10 minutes; the presets use 300 s,
/// the seed 310 s).
pub const MAX_ASSERTION_LIFETIME_SECS: u32 = 600;

/// The keychain entry kinds of a profile (`profile/<name>/<kind>`).
pub const SIGNING_KEY: &str = "signing-key";
/// The client secret's entry kind.
pub const CLIENT_SECRET: &str = "client-secret";
/// The mTLS private key's entry kind.
pub const MTLS_KEY: &str = "mtls-key";
/// The decryption key's entry kind (encrypted answers).
pub const DECRYPTION_KEY: &str = "enc-key";
/// The DPoP key's entry kind (made on first use).
pub const DPOP_KEY: &str = "dpop-key";

/// Client authentication settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientAuth {
    /// The method.
    pub method: AuthMethod,
    /// The assertion's signing algorithm.
    pub alg: SigningAlg,
    /// The `kid`; empty means the key's RFC 7638 thumbprint.
    pub kid: Option<String>,
    /// Keychain entry holding the private key (PKCS#8 PEM).
    pub key: Option<String>,
    /// Keychain entry holding the client secret.
    pub client_secret: Option<String>,
    /// The assertion's `aud`.
    pub aud: AudienceChoice,
    /// `exp` − `iat` in seconds.
    pub lifetime_secs: u32,
    /// How `iat`/`exp` are written.
    pub numeric_date: NumericDateStyle,
    /// A `typ` header for the assertion, when the server wants one.
    pub typ: Option<String>,
}

impl Default for ClientAuth {
    fn default() -> Self {
        Self {
            method: AuthMethod::PrivateKeyJwt,
            alg: SigningAlg::PS256,
            kid: None,
            key: None,
            client_secret: None,
            aud: AudienceChoice::Issuer,
            lifetime_secs: 300,
            numeric_date: NumericDateStyle::Seconds,
            typ: None,
        }
    }
}

/// An extra header sent with every request of this profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraHeader {
    /// Header name.
    pub name: String,
    /// Header value (empty: the header is removed, as curl's `-H 'Name:'`; or, with
    /// `keychain`, the value is in the keychain).
    #[serde(default)]
    pub value: String,
    /// Whether the value is a secret (shown as `<redacted>`, kept out of the history,
    /// the bundles and the file). Unset: by its name (`Authorization`, `Cookie`,
    /// `Proxy-Authorization`, and names with key, token, secret or signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<bool>,
    /// The value is kept in the profile's keychain entry `profile/<name>/header/<header>`,
    /// not in the file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keychain: bool,
}

impl ExtraHeader {
    /// A header with this name and value, secret by its name.
    pub fn new(name: &str, value: &str) -> Self {
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
            ..Self::default()
        }
    }

    /// Whether the value is a secret: as the profile says, else by the name.
    pub fn is_secret(&self) -> bool {
        self.secret
            .unwrap_or_else(|| crate::storage::profile::header_is_secret(&self.name))
    }
}

/// Whether a header with this name carries a credential by default (RFC 9110 §11.6.2
/// `Authorization`, `Proxy-Authorization`, cookies, API keys, tokens, signatures).
pub fn header_is_secret(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || ["key", "token", "secret", "signature", "password", "session"]
        .iter()
        .any(|word| name.contains(word))
}

/// TLS and transport settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// Skip certificate verification. Off by default; shown in red when on.
    pub insecure_skip_verify: bool,
    /// Extra trusted CA certificates (PEM file).
    pub ca_file: Option<PathBuf>,
    /// mTLS client certificate chain (PEM file; public, so a path is fine).
    pub client_cert: Option<PathBuf>,
    /// Keychain entry holding the mTLS private key (PEM).
    pub client_key: Option<String>,
    /// Connect timeout in seconds.
    pub connect_timeout_secs: u64,
    /// Total request timeout in seconds.
    pub timeout_secs: u64,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            insecure_skip_verify: false,
            ca_file: None,
            client_cert: None,
            client_key: None,
            connect_timeout_secs: 10,
            timeout_secs: 30,
        }
    }
}

/// A client profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Display name, unique; also the file name.
    pub name: String,
    /// The issuer identifier.
    pub issuer: String,
    /// The client_id.
    #[serde(default)]
    pub client_id: String,
    /// The registered redirect_uri.
    #[serde(default)]
    pub redirect_uri: String,
    /// The scope asked for.
    #[serde(default)]
    pub scope: String,
    /// Endpoints (filled by discovery or by hand).
    #[serde(default)]
    pub endpoints: Endpoints,
    /// Client authentication.
    #[serde(default)]
    pub auth: ClientAuth,
    /// Extra headers.
    #[serde(default, rename = "header", skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<ExtraHeader>,
    /// TLS settings.
    #[serde(default)]
    pub tls: TlsSettings,
    /// True for the profile that targets the embedded sandbox.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub local_sandbox: bool,
    /// The ecosystem preset this profile started from, `id@version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Signed request objects.
    #[serde(default)]
    pub request_object: RequestObjectSettings,
    /// How the bank answers the authorization: `response_type`, `response_mode`.
    #[serde(default, skip_serializing_if = "FrontChannelSettings::is_default")]
    pub front_channel: FrontChannelSettings,
    /// Data calls: PayNet's `x-signature` and the keys of layered answers.
    #[serde(default, skip_serializing_if = "DataCalls::is_empty")]
    pub data_calls: DataCalls,
    /// Sender-constrain tokens with DPoP (RFC 9449): proofs with the profile's DPoP key
    /// (kept in the keychain, made on first use).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop: bool,
    /// The keychain entry of the client's decryption key (RSA private key PEM, for
    /// `RSA-OAEP-256`), to read encrypted (JWE) API answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<String>,
    /// The consent asked for: `authorization_details` JSON (RFC 9396), or for ecosystems
    /// that create the consent first, the consent body; `{expires_in_days:N}` and `{uuid}`
    /// are filled in when it is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
    /// The client's JWK Set as the bank registered it (a `jwks_uri` URL, or a file):
    /// when the client is refused, the diagnosis says whether the signing key's `kid`
    /// is in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_jwks: Option<String>,
}

impl Profile {
    /// An empty profile with defaults.
    pub fn new(name: &str, issuer: &str) -> Self {
        Self {
            name: name.to_owned(),
            issuer: issuer.to_owned(),
            client_id: String::new(),
            redirect_uri: String::new(),
            scope: String::new(),
            endpoints: Endpoints::default(),
            auth: ClientAuth::default(),
            headers: Vec::new(),
            tls: TlsSettings::default(),
            local_sandbox: false,
            preset: None,
            request_object: RequestObjectSettings::default(),
            front_channel: FrontChannelSettings::default(),
            data_calls: DataCalls::default(),
            dpop: false,
            encryption_key: None,
            consent: None,
            client_jwks: None,
        }
    }

    /// The assertion audience this profile resolves to.
    pub fn assertion_audience(&self) -> String {
        match &self.auth.aud {
            AudienceChoice::Issuer => self.issuer.clone(),
            AudienceChoice::TokenEndpoint => self.endpoints.token.clone().unwrap_or_default(),
            AudienceChoice::Custom(v) => v.clone(),
        }
    }

    /// The keychain entry for the signing key (set or default).
    pub fn key_entry(&self) -> String {
        self.auth
            .key
            .clone()
            .unwrap_or_else(|| self.own_entry(SIGNING_KEY))
    }

    /// The keychain entry for the client secret (set or default).
    pub fn client_secret_entry(&self) -> String {
        self.auth
            .client_secret
            .clone()
            .unwrap_or_else(|| self.own_entry(CLIENT_SECRET))
    }

    /// The keychain entry this profile keeps a secret of kind `what` in
    /// (`profile/<name>/<what>`): the only entries it may refer to.
    pub fn own_entry(&self, what: &str) -> String {
        crate::storage::secret_store::entry_name(&self.name, what)
    }

    /// The keychain references this profile holds: the field, the entry it names, and
    /// the entry it must be (its own).
    pub fn keychain_references(&self) -> Vec<(&'static str, &str, String)> {
        [
            ("auth.key", &self.auth.key, SIGNING_KEY),
            (
                "auth.client_secret",
                &self.auth.client_secret,
                CLIENT_SECRET,
            ),
            ("tls.client_key", &self.tls.client_key, MTLS_KEY),
            ("encryption_key", &self.encryption_key, DECRYPTION_KEY),
        ]
        .into_iter()
        .filter_map(|(field, value, what)| {
            let value = value.as_deref()?;
            Some((field, value, self.own_entry(what)))
        })
        .collect()
    }

    /// The references to entries that are not this profile's own: another profile's
    /// key or secret, which a shared profile must never make this client use.
    pub fn foreign_references(&self) -> Vec<String> {
        self.keychain_references()
            .into_iter()
            .filter(|(_, value, own)| value != own)
            .map(|(field, value, own)| {
                format!(
                    "{field} = {value:?} is not this profile's own keychain entry ({own:?}): a profile uses only its own entries (profile/<its name>/…)"
                )
            })
            .collect()
    }

    /// Drops the references to other profiles' entries; one message per dropped field.
    pub fn drop_foreign_references(&mut self) -> Vec<String> {
        let messages = self.foreign_references();
        let name = self.name.clone();
        let own = |what: &str| crate::storage::secret_store::entry_name(&name, what);
        for (slot, what) in [
            (&mut self.auth.key, SIGNING_KEY),
            (&mut self.auth.client_secret, CLIENT_SECRET),
            (&mut self.tls.client_key, MTLS_KEY),
            (&mut self.encryption_key, DECRYPTION_KEY),
        ] {
            if slot.as_deref().is_some_and(|v| v != own(what)) {
                *slot = None;
            }
        }
        messages
            .into_iter()
            .map(|m| format!("dropped {m}"))
            .collect()
    }

    /// Points every keychain reference at this profile's own entry (after a rename or a
    /// copy, once the secrets were moved or copied there).
    pub fn own_references(&mut self) {
        let name = self.name.clone();
        let own = |what: &str| crate::storage::secret_store::entry_name(&name, what);
        for (slot, what) in [
            (&mut self.auth.key, SIGNING_KEY),
            (&mut self.auth.client_secret, CLIENT_SECRET),
            (&mut self.tls.client_key, MTLS_KEY),
            (&mut self.encryption_key, DECRYPTION_KEY),
        ] {
            if slot.is_some() {
                *slot = Some(own(what));
            }
        }
    }

    /// Why this profile's assertion lifetime is refused, when it is: above
    /// [`MAX_ASSERTION_LIFETIME_SECS`] (FAPI wants client assertions short-lived;
    /// RFC 7523 §3), unless the user asked for it for this run (`explicit`).
    pub fn lifetime_refused(&self, explicit: bool) -> Option<String> {
        let lifetime = self.auth.lifetime_secs;
        (lifetime > MAX_ASSERTION_LIFETIME_SECS && !explicit).then(|| {
            format!(
                "the profile asks for client assertions that live {lifetime} s; FAPI wants them short-lived (at most {MAX_ASSERTION_LIFETIME_SECS} s here; the presets use 300 s): lower auth.lifetime_secs, or give --lifetime {lifetime} to insist for one run"
            )
        })
    }

    /// The keychain entry of a secret header's value.
    pub fn header_entry(&self, header: &str) -> String {
        self.own_entry(&format!("header/{}", header.trim().to_ascii_lowercase()))
    }

    /// Takes the values of secret headers out of the profile, to keep in the keychain
    /// instead (a profile file holds no secret): each becomes `keychain = true` with an
    /// empty value; returns the entries and values to store.
    pub fn take_secret_header_values(&mut self) -> Vec<(String, crate::secret::Secret)> {
        let name = self.name.clone();
        let mut out = Vec::new();
        for h in &mut self.headers {
            if h.is_secret() && !h.keychain && !h.value.trim().is_empty() {
                let entry = crate::storage::secret_store::entry_name(
                    &name,
                    &format!("header/{}", h.name.trim().to_ascii_lowercase()),
                );
                out.push((
                    entry,
                    crate::secret::Secret::new(std::mem::take(&mut h.value)),
                ));
                h.keychain = true;
            }
        }
        out
    }

    /// Checks the fields a user types, naming each problem.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push("name: the profile needs a name".to_owned());
        }
        check_url(&mut problems, "issuer", Some(&self.issuer));
        let e = &self.endpoints;
        for (field, value) in [
            ("endpoints.token", &e.token),
            ("endpoints.par", &e.par),
            ("endpoints.authorization", &e.authorization),
            ("endpoints.jwks", &e.jwks),
            ("endpoints.revocation", &e.revocation),
            ("endpoints.introspection", &e.introspection),
            ("endpoints.userinfo", &e.userinfo),
        ] {
            if value.as_deref().is_some_and(|v| !v.is_empty()) {
                check_url(&mut problems, field, value.as_deref());
            }
        }
        if !self.redirect_uri.is_empty() {
            check_url(&mut problems, "redirect_uri", Some(&self.redirect_uri));
        }
        if self.auth.lifetime_secs == 0 {
            problems.push("auth.lifetime_secs: must be more than 0".to_owned());
        }
        for h in &self.headers {
            if h.name.is_empty()
                || !h
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
            {
                problems.push(format!("header: {:?} is not a valid header name", h.name));
            }
        }
        problems
    }

    /// Serializes to TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses TOML, naming the file, line and field of a bad value.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ProfileError> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_col(text, span.start))
                .unwrap_or((0, 0));
            let field = e.span().and_then(|span| field_at(text, span.start));
            ProfileError::Parse {
                path: path.to_owned(),
                line,
                column,
                message: match field {
                    Some(field) if !e.message().contains(&field) => {
                        format!("field `{field}`: {}", e.message())
                    }
                    _ => e.message().to_owned(),
                },
            }
        })
    }
}

fn check_url(problems: &mut Vec<String>, field: &str, value: Option<&str>) {
    match value.map(str::trim) {
        None | Some("") => problems.push(format!("{field}: required")),
        Some(v) => match url::Url::parse(v) {
            Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {}
            Ok(u) => problems.push(format!(
                "{field}: {v:?} uses {}:, expected https:",
                u.scheme()
            )),
            Err(e) => problems.push(format!("{field}: {v:?} is not a URL ({e})")),
        },
    }
}

/// The dotted key (`auth.lifetime_secs`) whose value stands at `offset`.
fn field_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next()?;
    let key = line.split_once('=')?.0.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_owned(),
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Loading and saving profiles failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Bad TOML or a bad field.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the field.
        message: String,
    },
    /// No profile by that name.
    #[error("no profile named {0:?} (see `token-inspector profile list`)")]
    NotFound(String),
    /// File system trouble.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// No config directory on this system.
    #[error("no configuration directory could be found for this user")]
    NoConfigDir,
    /// A profile file whose fields are wrong.
    #[error("{}: {}", path.display(), problems.join("; "))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Each problem, naming its field.
        problems: Vec<String>,
    },
    /// Importing would replace a profile of the same name.
    #[error(
        "a profile named {0:?} exists already: importing would replace it (give --force to replace it, or rename the profile in the file)"
    )]
    Exists(String),
}

mod authorization;
mod data_calls;
mod shared;
mod store;

pub use authorization::{FrontChannelSettings, RequestObjectSettings};
pub use data_calls::{
    DataCalls, JwsSignatureSettings, SignedBodySettings, XSignatureFormat, XSignatureSettings,
};

pub use shared::{SharedProfile, read_shared};
pub use store::{ProfileStore, file_stem};

#[cfg(test)]
mod tests;
