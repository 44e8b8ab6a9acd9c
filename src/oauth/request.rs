//! The request model: one plain value per request (method, URL, ordered headers,
//! ordered form parameters). The preview, the raw HTTP text, the curl command and the
//! request actually sent are all rendered from it, so they cannot disagree. Freshly
//! generated values (assertion `jti`, `iat`/`exp`, interaction id) are created once,
//! when the model is built.

use base64::Engine as _;
use serde::Serialize;

use crate::jose::keys::PrivateKey;
use crate::oauth::assertion::{self, AssertionSettings, ClientAssertion, JWT_BEARER};
use crate::secret::Secret;
use crate::storage::profile::{AuthMethod, Profile};

/// The user agent every request names (curl is told to send the same).
pub const USER_AGENT: &str = concat!("token-inspector/", env!("CARGO_PKG_VERSION"));
/// The form content type (RFC 6749 §4.1.3).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// A header or form value: plain, or a secret that only [`FieldValue::expose`] reveals.
/// `Debug` and `Serialize` never print a secret (it serializes as `null`), so a model can
/// be logged or turned into JSON without leaking a client assertion, a code verifier, a
/// refresh token or a client secret.
#[derive(Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// Shown everywhere.
    Plain(String),
    /// Hidden when shared (redacted views, JSON, logs); sent as is.
    Secret(Secret),
}

impl FieldValue {
    /// The value as sent. Call where it is sent or rendered for sending (curl).
    pub fn expose(&self) -> &str {
        match self {
            FieldValue::Plain(v) => v,
            FieldValue::Secret(s) => s.expose(),
        }
    }

    /// The value when it may be shown; `None` for a secret.
    pub fn shown(&self) -> Option<&str> {
        match self {
            FieldValue::Plain(v) => Some(v),
            FieldValue::Secret(_) => None,
        }
    }

    /// True for a secret.
    pub fn is_secret(&self) -> bool {
        matches!(self, FieldValue::Secret(_))
    }

    /// True when the value has no characters.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl std::fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Plain(v) => v.fmt(f),
            FieldValue::Secret(s) => s.fmt(f),
        }
    }
}

impl Serialize for FieldValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Plain(v) => serializer.serialize_str(v),
            FieldValue::Secret(_) => serializer.serialize_none(),
        }
    }
}

/// One header, in the order sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Header {
    /// Name as written.
    pub name: String,
    /// Value (a secret for Authorization).
    pub value: FieldValue,
}

/// One form parameter, in the order sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FormParam {
    /// Parameter name.
    pub name: String,
    /// Parameter value, not encoded (a secret for client_assertion, code_verifier,
    /// refresh_token, client_secret, token).
    pub value: FieldValue,
}

/// What a request is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Token endpoint, with the grant type.
    Token(String),
    /// Pushed authorization request (RFC 9126).
    Par,
    /// Token revocation (RFC 7009).
    Revoke,
    /// Token introspection (RFC 7662).
    Introspect,
    /// Creating a consent before the authorization (UK, Brazil).
    Consent,
    /// A resource (API) call with the token.
    Resource,
}

/// Transport settings that travel with the request (so curl can reproduce them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TransportSettings {
    /// Certificate verification is off (`curl --insecure`).
    pub insecure_skip_verify: bool,
    /// Extra CA file (`curl --cacert`).
    pub ca_file: Option<std::path::PathBuf>,
    /// mTLS certificate file (`curl --cert`).
    pub client_cert: Option<std::path::PathBuf>,
    /// mTLS key file, when the key came from a file (`curl --key`); a key kept in the
    /// keychain has no path, and curl is shown a placeholder.
    pub client_key_file: Option<std::path::PathBuf>,
    /// True when an mTLS key is used.
    pub mtls: bool,
    /// Connect timeout in seconds.
    pub connect_timeout_secs: u64,
    /// Total timeout in seconds.
    pub timeout_secs: u64,
}

/// A request, fully built.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestModel {
    /// What it is for.
    pub kind: RequestKind,
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers in order, without the transport's `Host` and `Content-Length`.
    pub headers: Vec<Header>,
    /// Form parameters in order.
    pub form: Vec<FormParam>,
    /// The client assertion in the form, decoded for display.
    pub client_assertion: Option<ClientAssertion>,
    /// The signed request object in the form (PAR with JAR), decoded for display.
    pub request_object: Option<crate::oauth::request_object::RequestObject>,
    /// A JSON body instead of the form (a consent created before the authorization).
    pub json_body: Option<serde_json::Value>,
    /// The DPoP proof in the `DPoP` header (RFC 9449), decoded for display.
    pub dpop: Option<crate::oauth::dpop::DpopProof>,
    /// The `x-fapi-interaction-id` sent.
    pub interaction_id: Option<String>,
    /// Transport settings.
    pub transport: TransportSettings,
}

impl RequestModel {
    /// The form body exactly as sent: `name=value` pairs joined by `&`, values encoded
    /// as curl's `--data-urlencode` does (see [`percent_encode`]), so the curl export
    /// sends the same bytes.
    pub fn body(&self) -> String {
        if let Some(json) = &self.json_body {
            return json.to_string();
        }
        self.form
            .iter()
            .map(|p| format!("{}={}", p.name, percent_encode(p.value.expose())))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// A form parameter's value as sent (a secret included: for sending and checks).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.expose())
    }

    /// A header's value as sent (case-insensitive name; a secret included).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.expose())
    }

    /// The `Host` header value the transport will send.
    pub fn host(&self) -> String {
        url::Url::parse(&self.url)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_owned();
                Some(match u.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_default()
    }
}

/// The bytes curl's `--data-urlencode` escapes: all but the RFC 3986 §2.3 unreserved
/// characters (ALPHA / DIGIT / `-` `.` `_` `~`).
const FORM_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encodes a form value as curl's `--data-urlencode` does since curl 7.77 (RFC 3986
/// §2.3 unreserved characters kept, everything else `%XX`, and a space as `+` per the
/// form-urlencoded media type). `url::form_urlencoded` is not used because it keeps `*`
/// and escapes `~`, which would change the bytes against curl's.
pub fn percent_encode(value: &str) -> String {
    // A literal `%` becomes `%25`, so `%20` here can only be a space.
    percent_encoding::utf8_percent_encode(value, FORM_ESCAPED)
        .to_string()
        .replace("%20", "+")
}

/// Which grant a token request uses: the `grant_type` value (RFC 6749 §4.1.3, §6, §4.4).
/// The CLI's `--grant` and the app's grant picker are this type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum GrantType {
    /// `authorization_code`.
    #[default]
    AuthorizationCode,
    /// `refresh_token`.
    RefreshToken,
    /// `client_credentials`.
    ClientCredentials,
}

impl GrantType {
    /// Every grant, in the order pickers list them.
    pub const ALL: [GrantType; 3] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
    ];

    /// The `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }
}

impl std::fmt::Display for GrantType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for GrantType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GrantType::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown grant {s:?}: authorization_code, refresh_token or client_credentials"
                )
            })
    }
}

/// The grant of a token request with its inputs (RFC 6749 §4.1.3, §6, §4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// `authorization_code`.
    AuthorizationCode {
        /// The code from the redirect (a credential until it is used: RFC 6749 §10.5).
        code: Secret,
        /// The redirect_uri used at the authorization endpoint.
        redirect_uri: String,
        /// The PKCE verifier.
        code_verifier: Option<Secret>,
    },
    /// `refresh_token`.
    RefreshToken {
        /// The refresh token.
        refresh_token: Secret,
    },
    /// `client_credentials`.
    ClientCredentials,
}

impl Grant {
    /// Which grant this is.
    pub fn grant_type(&self) -> GrantType {
        match self {
            Grant::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Grant::RefreshToken { .. } => GrantType::RefreshToken,
            Grant::ClientCredentials => GrantType::ClientCredentials,
        }
    }
}

/// What the user adds to a profile for one request.
#[derive(Clone, Debug, Default)]
pub struct RequestOptions {
    /// Scope: `None` uses the profile's; `Some("")` omits the parameter.
    pub scope: Option<String>,
    /// `x-fapi-interaction-id`; `None` generates a UUID v4.
    pub interaction_id: Option<String>,
    /// `x-fapi-auth-date` (HTTP date of the user's last login).
    pub auth_date: Option<String>,
    /// `x-fapi-customer-ip-address`.
    pub customer_ip: Option<String>,
    /// Unix milliseconds to use as "now" (tests); `None` is the clock.
    pub now_millis: Option<i128>,
}

/// The secrets a request may need, already loaded from the keychain or files.
#[derive(Clone, Debug, Default)]
pub struct ClientSecrets {
    /// The signing key for `private_key_jwt`.
    pub signing_key: Option<PrivateKey>,
    /// The client secret for `client_secret_basic`/`client_secret_post`.
    pub client_secret: Option<Secret>,
}

/// Why a request could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A value the request needs is missing.
    #[error("{0}")]
    Missing(String),
    /// A value is present but wrong.
    #[error("{0}")]
    Invalid(String),
    /// The client assertion could not be made.
    #[error(transparent)]
    Assertion(#[from] assertion::AssertionError),
}

/// The current time in Unix milliseconds.
pub fn now_millis() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000
}

fn required_url(value: Option<&str>, what: &str) -> Result<String, BuildError> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            BuildError::Missing(format!(
                "no {what} is set: fill it in, or run discovery from the issuer"
            ))
        })?;
    let url = url::Url::parse(value)
        .map_err(|e| BuildError::Invalid(format!("the {what} {value:?} is not a URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(BuildError::Invalid(format!(
            "the {what} {value:?} must be an https URL"
        )));
    }
    Ok(value.to_owned())
}

fn field(value: String, secret: bool) -> FieldValue {
    if secret {
        FieldValue::Secret(Secret::new(value))
    } else {
        FieldValue::Plain(value)
    }
}

/// A form parameter; `secret` marks values hidden when shared.
pub fn param(name: &str, value: impl Into<String>, secret: bool) -> FormParam {
    FormParam {
        name: name.to_owned(),
        value: field(value.into(), secret),
    }
}

/// A header; `secret` marks values hidden when shared.
pub fn header(name: &str, value: impl Into<String>, secret: bool) -> Header {
    Header {
        name: name.to_owned(),
        value: field(value.into(), secret),
    }
}

/// Starts a model with the common headers, in the seed's order.
fn base_model(
    kind: RequestKind,
    url: String,
    profile: &Profile,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let interaction_id = options
        .interaction_id
        .clone()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut headers = vec![
        header("Content-Type", FORM_CONTENT_TYPE, false),
        header("x-fapi-interaction-id", interaction_id.clone(), false),
    ];
    if let Some(date) = options.auth_date.as_deref().filter(|v| !v.is_empty()) {
        headers.push(header("x-fapi-auth-date", date, false));
    }
    if let Some(ip) = options.customer_ip.as_deref().filter(|v| !v.is_empty()) {
        headers.push(header("x-fapi-customer-ip-address", ip, false));
    }
    headers.push(header("Accept", "application/json", false));
    headers.push(header("User-Agent", USER_AGENT, false));
    // An extra header replaces a built-in one of the same name, and one with an empty
    // value removes it (curl's `-H 'Name:'`), so a server's refusal of a missing
    // x-fapi-interaction-id can be reproduced. New ones go before Accept.
    let mut interaction_id = Some(interaction_id);
    for extra in &profile.headers {
        if extra.name.is_empty() || extra.name.contains([':', '\r', '\n']) {
            return Err(BuildError::Invalid(format!(
                "the extra header name {:?} is not valid",
                extra.name
            )));
        }
        if extra.value.contains(['\r', '\n']) {
            return Err(BuildError::Invalid(format!(
                "the extra header {} has a line break in its value",
                extra.name
            )));
        }
        let name = extra.name.trim();
        let value = extra.value.trim();
        let same = |h: &Header| h.name.eq_ignore_ascii_case(name);
        if name.eq_ignore_ascii_case("x-fapi-interaction-id") {
            interaction_id = Some(value.to_owned()).filter(|v| !v.is_empty());
        }
        if value.is_empty() {
            headers.retain(|h| !same(h));
        } else if let Some(h) = headers.iter_mut().find(|h| same(h)) {
            h.value = field(value.to_owned(), false);
        } else {
            let at = headers
                .iter()
                .position(|h| h.name == "Accept")
                .unwrap_or(headers.len());
            headers.insert(at, header(name, value, false));
        }
    }
    let tls = &profile.tls;
    Ok(RequestModel {
        kind,
        method: "POST".into(),
        url,
        headers,
        form: Vec::new(),
        client_assertion: None,
        request_object: None,
        json_body: None,
        dpop: None,
        interaction_id,
        transport: TransportSettings {
            insecure_skip_verify: tls.insecure_skip_verify,
            ca_file: tls.ca_file.clone(),
            client_cert: tls.client_cert.clone(),
            client_key_file: None,
            mtls: tls.client_cert.is_some(),
            connect_timeout_secs: tls.connect_timeout_secs,
            timeout_secs: tls.timeout_secs,
        },
    })
}

/// Adds client authentication to a model (RFC 6749 §2.3, RFC 7523 §2.2, RFC 8705 §2).
fn add_client_auth(
    model: &mut RequestModel,
    profile: &Profile,
    secrets: &ClientSecrets,
    now: i128,
) -> Result<(), BuildError> {
    let client_id = profile.client_id.trim();
    if client_id.is_empty() {
        return Err(BuildError::Missing(
            "the profile has no client_id".to_owned(),
        ));
    }
    match profile.auth.method {
        AuthMethod::PrivateKeyJwt => {
            let key = secrets.signing_key.as_ref().ok_or_else(|| {
                BuildError::Missing(
                    "private_key_jwt needs a signing key: import or generate one for this profile (or pass --key FILE)".to_owned(),
                )
            })?;
            let settings = AssertionSettings {
                client_id: client_id.to_owned(),
                audience: profile.assertion_audience(),
                alg: profile.auth.alg,
                kid: Some(
                    profile
                        .auth
                        .kid
                        .clone()
                        .filter(|k| !k.is_empty())
                        .unwrap_or_else(|| key.thumbprint()),
                ),
                lifetime_secs: profile.auth.lifetime_secs,
                numeric_date: profile.auth.numeric_date,
                typ: profile.auth.typ.clone(),
            };
            let assertion = assertion::build_client_assertion(&settings, key, now)?;
            model
                .form
                .push(param("client_assertion_type", JWT_BEARER, false));
            model
                .form
                .push(param("client_assertion", assertion.jwt.expose(), true));
            model.client_assertion = Some(assertion);
        }
        AuthMethod::ClientSecretBasic => {
            let secret = secrets.client_secret.as_ref().ok_or_else(|| {
                BuildError::Missing("client_secret_basic needs a client secret".to_owned())
            })?;
            // RFC 6749 §2.3.1: form-encode id and secret before Basic encoding.
            let pair = format!(
                "{}:{}",
                form_urlencode(client_id),
                form_urlencode(secret.expose())
            );
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            );
            let at = model
                .headers
                .iter()
                .position(|h| h.name == "Accept")
                .unwrap_or(model.headers.len());
            model
                .headers
                .insert(at, header("Authorization", value, true));
        }
        AuthMethod::ClientSecretPost => {
            let secret = secrets.client_secret.as_ref().ok_or_else(|| {
                BuildError::Missing("client_secret_post needs a client secret".to_owned())
            })?;
            model.form.push(param("client_id", client_id, false));
            model
                .form
                .push(param("client_secret", secret.expose(), true));
        }
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth | AuthMethod::None => {
            model.form.push(param("client_id", client_id, false));
        }
    }
    Ok(())
}

fn form_urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Builds a token request (RFC 6749 §4.1.3, §6, §4.4) in the seed's parameter order:
/// grant_type, scope, code, redirect_uri, code_verifier, client authentication.
pub fn build_token_request(
    profile: &Profile,
    secrets: &ClientSecrets,
    grant: &Grant,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let url = required_url(profile.endpoints.token.as_deref(), "token endpoint")?;
    let now = options.now_millis.unwrap_or_else(now_millis);
    let mut model = base_model(
        RequestKind::Token(grant.grant_type().as_str().to_owned()),
        url,
        profile,
        options,
    )?;
    model
        .form
        .push(param("grant_type", grant.grant_type().as_str(), false));
    let scope = options
        .scope
        .clone()
        .unwrap_or_else(|| profile.scope.clone());
    let scope = scope.trim();
    match grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            if !scope.is_empty() {
                model.form.push(param("scope", scope, false));
            }
            let code = code.expose().trim();
            if code.is_empty() {
                return Err(BuildError::Missing(
                    "no authorization code: paste the code or the whole redirect URL".to_owned(),
                ));
            }
            model.form.push(param("code", code, true));
            let redirect_uri = redirect_uri.trim();
            if redirect_uri.is_empty() {
                return Err(BuildError::Missing(
                    "no redirect_uri: it must be the one sent to the authorization endpoint"
                        .to_owned(),
                ));
            }
            model.form.push(param("redirect_uri", redirect_uri, false));
            if let Some(verifier) = code_verifier.as_ref().map(|v| v.expose().trim())
                && !verifier.is_empty()
            {
                crate::oauth::pkce::PkceVerifier::parse(verifier)
                    .map_err(|e| BuildError::Invalid(e.to_string()))?;
                model.form.push(param("code_verifier", verifier, true));
            }
        }
        Grant::RefreshToken { refresh_token } => {
            if refresh_token.expose().trim().is_empty() {
                return Err(BuildError::Missing("no refresh token given".to_owned()));
            }
            model
                .form
                .push(param("refresh_token", refresh_token.expose().trim(), true));
            if !scope.is_empty() && options.scope.is_some() {
                model.form.push(param("scope", scope, false));
            }
        }
        Grant::ClientCredentials => {
            if !scope.is_empty() {
                model.form.push(param("scope", scope, false));
            }
        }
    }
    add_client_auth(&mut model, profile, secrets, now)?;
    Ok(model)
}

/// The authorization request parameters pushed with PAR (RFC 9126 §2.1).
#[derive(Clone, Debug, Default)]
pub struct AuthorizationParams {
    /// `state`.
    pub state: String,
    /// `nonce`.
    pub nonce: String,
    /// The S256 `code_challenge`.
    pub code_challenge: String,
    /// `authorization_details` JSON (RFC 9396), if any.
    pub authorization_details: Option<String>,
    /// More request object claims (the UK's `openbanking_intent_id` inside `claims`).
    pub request_object_claims: serde_json::Map<String, serde_json::Value>,
}

/// Builds a pushed authorization request (RFC 9126).
pub fn build_par_request(
    profile: &Profile,
    secrets: &ClientSecrets,
    params: &AuthorizationParams,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let url = required_url(profile.endpoints.par.as_deref(), "PAR endpoint")?;
    let now = options.now_millis.unwrap_or_else(now_millis);
    let mut model = base_model(RequestKind::Par, url, profile, options)?;
    let scope = options
        .scope
        .clone()
        .unwrap_or_else(|| profile.scope.clone());
    if profile.request_object.signed {
        // RFC 9126 §3 with RFC 9101: client_id and the signed request object only.
        let key = secrets.signing_key.as_ref().ok_or_else(|| {
            BuildError::Missing(
                "a signed request object needs the client's signing key: import or generate one"
                    .to_owned(),
            )
        })?;
        let object = crate::oauth::request_object::build(
            profile,
            key,
            params,
            &scope,
            &params.request_object_claims,
            now,
        )?;
        model
            .form
            .push(param("client_id", profile.client_id.trim(), false));
        model.form.push(param("request", object.jwt.clone(), false));
        model.request_object = Some(object);
        add_client_auth(&mut model, profile, secrets, now)?;
        dedupe_client_id(&mut model);
        return Ok(model);
    }
    model.form.push(param("response_type", "code", false));
    model
        .form
        .push(param("client_id", profile.client_id.trim(), false));
    model
        .form
        .push(param("redirect_uri", profile.redirect_uri.trim(), false));
    if !scope.trim().is_empty() {
        model.form.push(param("scope", scope.trim(), false));
    }
    model.form.push(param("state", &params.state, false));
    model.form.push(param("nonce", &params.nonce, false));
    model
        .form
        .push(param("code_challenge", &params.code_challenge, false));
    model
        .form
        .push(param("code_challenge_method", "S256", false));
    if let Some(details) = params.authorization_details.as_deref() {
        serde_json::from_str::<serde_json::Value>(details)
            .map_err(|e| BuildError::Invalid(format!("authorization_details is not JSON: {e}")))?;
        model
            .form
            .push(param("authorization_details", details, false));
    }
    add_client_auth(&mut model, profile, secrets, now)?;
    dedupe_client_id(&mut model);
    Ok(model)
}

/// `client_id` appears once (private_key_jwt adds none; the other methods add their own).
fn dedupe_client_id(model: &mut RequestModel) {
    let mut seen = false;
    model.form.retain(|p| {
        if p.name == "client_id" {
            let keep = !seen;
            seen = true;
            keep
        } else {
            true
        }
    });
}

/// Adds a DPoP proof for this request (RFC 9449 §4): the `DPoP` header, placed before
/// `Accept`, with the server's `nonce` when it gave one and `ath` for a resource call.
pub fn attach_dpop(
    model: &mut RequestModel,
    key: &crate::oauth::dpop::DpopKey,
    nonce: Option<&str>,
    access_token: Option<&str>,
    now_secs: i64,
) -> Result<(), BuildError> {
    let proof = crate::oauth::dpop::proof(
        key,
        &model.method,
        &model.url,
        nonce,
        access_token,
        now_secs,
    )
    .map_err(|e| BuildError::Invalid(e.to_string()))?;
    model
        .headers
        .retain(|h| !h.name.eq_ignore_ascii_case("DPoP"));
    let at = model
        .headers
        .iter()
        .position(|h| h.name == "Accept")
        .unwrap_or(model.headers.len());
    model
        .headers
        .insert(at, header("DPoP", proof.jwt.clone(), false));
    model.dpop = Some(proof);
    Ok(())
}

/// Builds a resource call (an API request with the token): `Authorization: Bearer` or,
/// with a DPoP key, `Authorization: DPoP` and a proof with `ath` (RFC 9449 §7.1).
pub fn build_resource_request(
    profile: &Profile,
    method: &str,
    url: &str,
    access_token: &Secret,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let url = required_url(Some(url), "API URL")?;
    let mut model = base_model(RequestKind::Resource, url, profile, options)?;
    model.method = method.to_ascii_uppercase();
    model
        .headers
        .retain(|h| !h.name.eq_ignore_ascii_case("Content-Type"));
    insert_bearer(&mut model, access_token);
    Ok(model)
}

/// Puts `Authorization: Bearer <token>` (a secret) before the `Accept` header.
fn insert_bearer(model: &mut RequestModel, access_token: &Secret) {
    let at = model
        .headers
        .iter()
        .position(|h| h.name == "Accept")
        .unwrap_or(model.headers.len());
    model.headers.insert(
        at,
        header(
            "Authorization",
            format!("Bearer {}", access_token.expose()),
            true,
        ),
    );
}

/// Switches a resource call to the DPoP scheme with a proof bound to the token.
pub fn use_dpop_for_resource(
    model: &mut RequestModel,
    key: &crate::oauth::dpop::DpopKey,
    access_token: &Secret,
    nonce: Option<&str>,
    now_secs: i64,
) -> Result<(), BuildError> {
    for h in &mut model.headers {
        if h.name.eq_ignore_ascii_case("Authorization") {
            h.value = FieldValue::Secret(Secret::new(format!("DPoP {}", access_token.expose())));
        }
    }
    attach_dpop(model, key, nonce, Some(access_token.expose()), now_secs)
}

/// Builds the request that creates a consent before the authorization (UK Open Banking's
/// account-access-consents, Open Finance Brasil's consents): a JSON POST with the
/// client-credentials access token.
pub fn build_consent_request(
    profile: &Profile,
    url: &str,
    access_token: &Secret,
    body: serde_json::Value,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let url = required_url(Some(url), "consent endpoint")?;
    let mut model = base_model(RequestKind::Consent, url, profile, options)?;
    for h in &mut model.headers {
        if h.name.eq_ignore_ascii_case("Content-Type") {
            h.value = FieldValue::Plain("application/json".into());
        }
    }
    insert_bearer(&mut model, access_token);
    model.json_body = Some(body);
    Ok(model)
}

/// Builds a revocation (RFC 7009 §2.1) or introspection (RFC 7662 §2.1) request.
pub fn build_token_management_request(
    profile: &Profile,
    secrets: &ClientSecrets,
    kind: RequestKind,
    token: &Secret,
    token_type_hint: Option<&str>,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let (endpoint, what) = match kind {
        RequestKind::Revoke => (
            profile.endpoints.revocation.as_deref(),
            "revocation endpoint",
        ),
        RequestKind::Introspect => (
            profile.endpoints.introspection.as_deref(),
            "introspection endpoint",
        ),
        _ => {
            return Err(BuildError::Invalid(
                "only revoke and introspect take a token".into(),
            ));
        }
    };
    let url = required_url(endpoint, what)?;
    let now = options.now_millis.unwrap_or_else(now_millis);
    let mut model = base_model(kind, url, profile, options)?;
    if token.expose().trim().is_empty() {
        return Err(BuildError::Missing("no token given".to_owned()));
    }
    model.form.push(param("token", token.expose().trim(), true));
    if let Some(hint) = token_type_hint {
        model.form.push(param("token_type_hint", hint, false));
    }
    add_client_auth(&mut model, profile, secrets, now)?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::keys::tests::rsa_key;
    use crate::jose::numeric_date::NumericDateStyle;

    pub(crate) fn seed_profile() -> Profile {
        crate::storage::presets::seed_client()
    }

    fn seed_grant() -> Grant {
        Grant::AuthorizationCode {
            code: "160ed384-bb0d-439e-85e8-68d2b681e45d".into(),
            redirect_uri: "https://www.auth-app.ozoneapi.co.uk/redirect-url".into(),
            code_verifier: Some(
                "7ff8feab-c016-46f5-98e3-921e9c4556c4b25fedb6-f448-4f7a-9fde-cce1282f0626".into(),
            ),
        }
    }

    fn secrets() -> ClientSecrets {
        ClientSecrets {
            signing_key: Some(rsa_key().clone()),
            client_secret: None,
        }
    }

    #[test]
    fn builds_the_seed_request() {
        let options = RequestOptions {
            interaction_id: Some("968bed68-6694-44a8-8daa-b955bb4d1283".into()),
            now_millis: Some(1_769_766_702_739),
            ..Default::default()
        };
        let m = build_token_request(&seed_profile(), &secrets(), &seed_grant(), &options).unwrap();
        assert_eq!(m.url, "https://as1.sandbox.mya.ozoneapi.io/token");
        assert_eq!(m.host(), "as1.sandbox.mya.ozoneapi.io");
        assert_eq!(m.header("content-type"), Some(FORM_CONTENT_TYPE));
        assert_eq!(
            m.header("x-fapi-interaction-id"),
            Some("968bed68-6694-44a8-8daa-b955bb4d1283")
        );
        let names: Vec<&str> = m.form.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "grant_type",
                "scope",
                "code",
                "redirect_uri",
                "code_verifier",
                "client_assertion_type",
                "client_assertion"
            ]
        );
        assert_eq!(m.param("grant_type"), Some("authorization_code"));
        assert_eq!(m.param("scope"), Some("accounts"));
        assert_eq!(m.param("client_assertion_type"), Some(JWT_BEARER));
        let a = m.client_assertion.as_ref().unwrap();
        assert_eq!(m.param("client_assertion"), Some(a.jwt.expose()));
        assert_eq!(a.claims["aud"], "https://auth1.sandbox.mya.ozoneapi.io");
        assert_eq!(a.claims["exp"].to_string(), "1769767012.739");
        assert_eq!(
            a.header["kid"],
            "CYMIwoZ1CUbkI0WhG1Km7Td8bU7V2DYEB3cXVHdGwAI"
        );
        let body = m.body();
        assert!(body.starts_with(
            "grant_type=authorization_code&scope=accounts&code=160ed384-bb0d-439e-85e8-68d2b681e45d&redirect_uri=https%3A%2F%2Fwww.auth-app.ozoneapi.co.uk%2Fredirect-url&code_verifier=7ff8feab-"
        ), "{body}");
        assert!(body.contains(
            "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJ"
        ));
    }

    #[test]
    fn debug_and_json_of_a_model_hold_no_secret() {
        let m = build_token_request(
            &seed_profile(),
            &secrets(),
            &seed_grant(),
            &RequestOptions::default(),
        )
        .unwrap();
        let assertion = m.param("client_assertion").unwrap().to_owned();
        let verifier = m.param("code_verifier").unwrap().to_owned();
        let debug = format!("{m:?} {:?}", seed_grant());
        let json = serde_json::to_string(&m).unwrap();
        for (what, text) in [("Debug", &debug), ("JSON", &json)] {
            assert!(
                !text.contains(&assertion),
                "{what} shows the assertion: {text}"
            );
            assert!(
                !text.contains(&verifier),
                "{what} shows the verifier: {text}"
            );
            assert!(text.contains("client_assertion_type"), "{what}: {text}");
        }
        let refresh = Grant::RefreshToken {
            refresh_token: Secret::new("rt-canary-123"),
        };
        let m = build_token_request(&seed_profile(), &secrets(), &refresh, &Default::default())
            .unwrap();
        assert!(!format!("{m:?}{refresh:?}").contains("rt-canary-123"));
        assert!(!serde_json::to_string(&m).unwrap().contains("rt-canary-123"));
    }

    #[test]
    fn fresh_values_once_per_model() {
        let a = build_token_request(
            &seed_profile(),
            &secrets(),
            &seed_grant(),
            &RequestOptions::default(),
        )
        .unwrap();
        let b = build_token_request(
            &seed_profile(),
            &secrets(),
            &seed_grant(),
            &RequestOptions::default(),
        )
        .unwrap();
        assert_ne!(a.interaction_id, b.interaction_id);
        assert_ne!(
            a.client_assertion.as_ref().unwrap().jti(),
            b.client_assertion.as_ref().unwrap().jti()
        );
        let id = a.interaction_id.clone().unwrap();
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
        // The model is a value: cloning it does not mint new ones.
        assert_eq!(a.clone().body(), a.body());
    }

    #[test]
    fn refresh_and_client_credentials() {
        let m = build_token_request(
            &seed_profile(),
            &secrets(),
            &Grant::RefreshToken {
                refresh_token: Secret::new("2885e6a3-1486-4aa5-839f-ff879ba8a79a"),
            },
            &RequestOptions::default(),
        )
        .unwrap();
        assert_eq!(m.param("grant_type"), Some("refresh_token"));
        assert!(
            m.form
                .iter()
                .any(|p| p.name == "refresh_token" && p.value.is_secret())
        );
        assert_eq!(m.param("scope"), None);

        let m = build_token_request(
            &seed_profile(),
            &secrets(),
            &Grant::ClientCredentials,
            &RequestOptions {
                scope: Some("accounts payments".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(m.param("scope"), Some("accounts payments"));
        assert!(m.body().contains("scope=accounts+payments"));
    }

    #[test]
    fn client_secret_methods() {
        let mut p = seed_profile();
        p.auth.method = AuthMethod::ClientSecretBasic;
        let s = ClientSecrets {
            signing_key: None,
            client_secret: Some(Secret::new("s e/cret")),
        };
        let m =
            build_token_request(&p, &s, &Grant::ClientCredentials, &Default::default()).unwrap();
        let auth = m
            .headers
            .iter()
            .find(|h| h.name == "Authorization")
            .unwrap();
        assert!(auth.value.is_secret());
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.value.expose().trim_start_matches("Basic "))
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "55aa605c-89ef-4473-aa88-47709f0ff383:s+e%2Fcret"
        );
        p.auth.method = AuthMethod::ClientSecretPost;
        let m =
            build_token_request(&p, &s, &Grant::ClientCredentials, &Default::default()).unwrap();
        assert_eq!(m.param("client_secret"), Some("s e/cret"));
        p.auth.method = AuthMethod::None;
        let m =
            build_token_request(&p, &s, &Grant::ClientCredentials, &Default::default()).unwrap();
        assert_eq!(m.param("client_id"), Some(p.client_id.as_str()));
    }

    #[test]
    fn missing_values_are_named() {
        let mut p = seed_profile();
        let err = build_token_request(
            &p,
            &ClientSecrets::default(),
            &seed_grant(),
            &Default::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("signing key"), "{err}");
        p.endpoints.token = None;
        let err = build_token_request(&p, &secrets(), &seed_grant(), &Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("token endpoint"), "{err}");
        let bad = Grant::AuthorizationCode {
            code: "x".into(),
            redirect_uri: "https://r".into(),
            code_verifier: Some("short".into()),
        };
        let err = build_token_request(&seed_profile(), &secrets(), &bad, &Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("43 to 128"), "{err}");
    }

    #[test]
    fn milliseconds_style_and_extra_headers() {
        let mut p = seed_profile();
        p.auth.numeric_date = NumericDateStyle::Seconds;
        p.headers.push(crate::storage::profile::ExtraHeader {
            name: "x-custom".into(),
            value: "1".into(),
        });
        let m = build_token_request(
            &p,
            &secrets(),
            &seed_grant(),
            &RequestOptions {
                now_millis: Some(1_769_766_702_739),
                auth_date: Some("Tue, 11 Sep 2026 19:43:31 GMT".into()),
                customer_ip: Some("203.0.113.7".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            m.client_assertion.as_ref().unwrap().claims["iat"].to_string(),
            "1769766702"
        );
        assert_eq!(m.header("x-custom"), Some("1"));
        assert_eq!(m.header("x-fapi-customer-ip-address"), Some("203.0.113.7"));
        assert!(m.header("x-fapi-auth-date").is_some());
    }

    /// An extra header replaces a built-in one, an empty one removes it (even all of
    /// them), and a new one goes before Accept, or last without it.
    #[test]
    fn extra_headers_replace_remove_and_add() {
        let mut p = seed_profile();
        let mut extra = |name: &str, value: &str| {
            p.headers.push(crate::storage::profile::ExtraHeader {
                name: name.into(),
                value: value.into(),
            })
        };
        extra("x-fapi-interaction-id", "");
        extra("user-agent", "bank-tester/1");
        extra("x-custom", "1");
        let m =
            build_token_request(&p, &secrets(), &seed_grant(), &RequestOptions::default()).unwrap();
        assert_eq!(m.header("x-fapi-interaction-id"), None);
        assert_eq!(m.interaction_id, None);
        assert_eq!(m.header("User-Agent"), Some("bank-tester/1"));
        let names: Vec<&str> = m.headers.iter().map(|h| h.name.as_str()).collect();
        let at = |n: &str| names.iter().position(|h| *h == n).unwrap();
        assert!(at("x-custom") < at("Accept"), "{names:?}");
        for name in ["Content-Type", "Accept", "User-Agent"] {
            p.headers.push(crate::storage::profile::ExtraHeader {
                name: name.into(),
                value: String::new(),
            });
        }
        p.headers.push(crate::storage::profile::ExtraHeader {
            name: "x-last".into(),
            value: "2".into(),
        });
        let m =
            build_token_request(&p, &secrets(), &seed_grant(), &RequestOptions::default()).unwrap();
        assert_eq!(m.header("Accept"), None);
        assert_eq!(m.header("x-last"), Some("2"));
    }

    #[test]
    fn par_request_carries_pkce_and_details() {
        let mut p = seed_profile();
        p.endpoints.par = Some("https://as1.sandbox.mya.ozoneapi.io/par".into());
        // Plain PAR form parameters first.
        p.request_object.signed = false;
        let params = AuthorizationParams {
            state: "st".into(),
            nonce: "no".into(),
            code_challenge: "ch".into(),
            authorization_details: Some(r#"[{"type":"x"}]"#.into()),
            ..AuthorizationParams::default()
        };
        let m = build_par_request(&p, &secrets(), &params, &Default::default()).unwrap();
        assert_eq!(m.param("code_challenge_method"), Some("S256"));
        assert_eq!(m.param("response_type"), Some("code"));
        assert_eq!(m.form.iter().filter(|f| f.name == "client_id").count(), 1);
        assert!(m.param("client_assertion").is_some());

        // With a signed request object: client_id, request and client auth only.
        p.request_object.signed = true;
        let m = build_par_request(&p, &secrets(), &params, &Default::default()).unwrap();
        let names: Vec<&str> = m.form.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "client_id",
                "request",
                "client_assertion_type",
                "client_assertion"
            ]
        );
        let object = m.request_object.as_ref().unwrap();
        assert_eq!(m.param("request"), Some(object.jwt.as_str()));
        assert_eq!(object.claims["state"], "st");
        assert_eq!(object.claims["authorization_details"][0]["type"], "x");
    }

    #[test]
    fn percent_encoding_matches_curl() {
        assert_eq!(percent_encode("a b+c/~._-"), "a+b%2Bc%2F~._-");
        assert_eq!(percent_encode("ü"), "%C3%BC");
        assert_eq!(percent_encode("100% *"), "100%25+%2A");
    }

    proptest::proptest! {
        /// Only unreserved characters, `+` and `%XX` come out, and decoding gives the
        /// value back (the form-urlencoded reading: `+` is a space).
        #[test]
        fn percent_encoding_round_trips(value in ".*") {
            let encoded = percent_encode(&value);
            proptest::prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric()
                || b"-._~+%".contains(&b)));
            let decoded: String = url::form_urlencoded::parse(format!("v={encoded}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect();
            proptest::prop_assert_eq!(decoded, value);
        }
    }
}
