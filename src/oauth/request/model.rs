//! The request model: one plain value per request (method, URL, ordered headers,
//! ordered form parameters), its secret-aware values, and the pieces every builder
//! starts from (the common headers, a checked URL, what the user adds).

use serde::Serialize;

use crate::jose::keys::PrivateKey;
use crate::oauth::assertion::{self, ClientAssertion};
use crate::secret::Secret;
use crate::storage::profile::Profile;

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
    pub request_object: Option<crate::oauth::request::request_object::RequestObject>,
    /// A JSON body instead of the form (a consent created before the authorization).
    pub json_body: Option<serde_json::Value>,
    /// The DPoP proof in the `DPoP` header (RFC 9449), decoded for display.
    pub dpop: Option<crate::oauth::dpop::DpopProof>,
    /// PayNet's `x-signature` in its header, decoded for display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_signature: Option<crate::oauth::x_signature::XSignature>,
    /// A body sent as text instead of JSON or a form (a UAE signed JWT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_body: Option<String>,
    /// A body signed here (UK `x-jws-signature`, UAE signed JWT), decoded for display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_message: Option<crate::oauth::message_signing::SignedMessage>,
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
        if let Some(text) = &self.text_body {
            return text.clone();
        }
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

pub(super) fn required_url(value: Option<&str>, what: &str) -> Result<String, BuildError> {
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

pub(super) fn field(value: String, secret: bool) -> FieldValue {
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

/// Puts a header before `Accept` (the seed's order: what the request adds comes before
/// `Accept` and `User-Agent`), or last when there is no `Accept`.
pub fn insert_before_accept(headers: &mut Vec<Header>, new: Header) {
    let at = headers
        .iter()
        .position(|h| h.name == "Accept")
        .unwrap_or(headers.len());
    headers.insert(at, new);
}

/// Starts a model with the common headers, in the seed's order.
pub(super) fn base_model(
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
        let secret = extra.is_secret();
        let same = |h: &Header| h.name.eq_ignore_ascii_case(name);
        if name.eq_ignore_ascii_case("x-fapi-interaction-id") {
            interaction_id = Some(value.to_owned()).filter(|v| !v.is_empty());
        }
        if value.is_empty() {
            headers.retain(|h| !same(h));
        } else if let Some(h) = headers.iter_mut().find(|h| same(h)) {
            h.value = field(value.to_owned(), secret);
        } else {
            insert_before_accept(&mut headers, header(name, value, secret));
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
        x_signature: None,
        text_body: None,
        signed_message: None,
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
