//! Starting an authorization: fresh PKCE, `state` and `nonce`, a pushed authorization
//! request (RFC 9126) when the server has a PAR endpoint, and the URL the browser opens
//! (RFC 9126 §4). For the embedded sandbox, `auto_approve` plays the user's consent and
//! reads the redirect (RFC 9207 `iss` included) without a browser.

use serde::Serialize;
use serde_json::{Value, json};

use crate::oauth::exchange::{self, Exchange, ExchangeContext};
use crate::oauth::pkce::PkceVerifier;
use crate::oauth::redirect::{self, AuthorizationResponse};
use crate::oauth::request::{self, AuthorizationParams, ClientSecrets, RequestOptions};
use crate::oauth::response::ResponseBody;
use crate::oauth::transport::{HttpClient, SendError};
use crate::storage::profile::Profile;

/// Starting or finishing an authorization failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// The PAR request could not be built.
    #[error(transparent)]
    Build(#[from] request::BuildError),
    /// The profile lacks an endpoint.
    #[error("{0}")]
    Missing(String),
    /// Transport failure.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The PAR endpoint refused (the exchange holds the details).
    #[error("the PAR endpoint answered HTTP {status}: {summary}")]
    ParRefused {
        /// Status code.
        status: u16,
        /// Error code and description.
        summary: String,
    },
    /// The authorize step did not redirect back with a code.
    #[error("{0}")]
    NoRedirect(String),
    /// The redirect could not be read.
    #[error(transparent)]
    Redirect(#[from] redirect::RedirectError),
}

/// One authorization in progress: what the client must remember to redeem the code.
#[derive(Clone, Debug, Serialize)]
pub struct AuthorizationSession {
    /// `state` sent.
    pub state: String,
    /// `nonce` sent.
    pub nonce: String,
    /// The PKCE verifier (kept for the token request).
    #[serde(skip)]
    pub verifier: PkceVerifier,
    /// The `request_uri` from PAR, when PAR was used.
    pub request_uri: Option<String>,
    /// The URL to open in the browser.
    pub authorization_url: String,
    /// The PAR exchange, for display.
    #[serde(skip)]
    pub par: Option<Box<Exchange>>,
    /// When the authorization started (the code's age is judged from the redirect).
    #[serde(skip)]
    pub started: Option<std::time::Instant>,
    /// The redirect_uri sent (the token request must repeat it).
    pub redirect_uri: String,
}

impl AuthorizationSession {
    /// The `authorization_details` this authorization asked for (from the request object
    /// or the PAR form), to compare with what the token response grants.
    pub fn requested_consent(&self) -> Option<Value> {
        let request = &self.par.as_deref()?.request;
        if let Some(object) = &request.request_object {
            return object.claims.get("authorization_details").cloned();
        }
        serde_json::from_str(request.param("authorization_details")?).ok()
    }
}

/// What an authorization asks for beyond the profile.
#[derive(Clone, Debug, Default)]
pub struct AuthorizationInput {
    /// `authorization_details` JSON (RFC 9396); `None` uses the profile's consent when the
    /// ecosystem creates consents inside PAR.
    pub authorization_details: Option<String>,
    /// More request object claims (`openbanking_intent_id` for a consent created first).
    pub request_object_claims: serde_json::Map<String, Value>,
    /// A scope to add (Brazil's `consent:<id>`).
    pub extra_scope: Option<String>,
}

impl From<Option<String>> for AuthorizationInput {
    fn from(authorization_details: Option<String>) -> Self {
        Self {
            authorization_details,
            ..Self::default()
        }
    }
}

/// The consent to ask for: `given` (a flag, the editor), else none here (the profile's
/// own consent is read by [`start`]), else an Open Finance Malaysia account access
/// consent for 30 days.
pub fn consent_or_default(profile: &Profile, given: Option<String>) -> Option<String> {
    match given {
        Some(given) => Some(given),
        None if profile_authorization_details(profile).is_some() => None,
        None => Some(default_authorization_details()),
    }
}

/// The profile's consent as `authorization_details` (placeholders filled in), when its
/// ecosystem creates consents inside PAR (or it has no preset).
pub fn profile_authorization_details(profile: &Profile) -> Option<String> {
    let consent = profile
        .consent
        .as_deref()
        .filter(|c| !c.trim().is_empty())?;
    let in_par = crate::storage::presets::for_profile(profile)
        .is_none_or(|p| p.consent.creation == crate::storage::presets::ConsentCreation::InPar);
    in_par.then(|| {
        crate::storage::presets::fill_placeholders(consent, time::OffsetDateTime::now_utc())
    })
}

/// A default account access consent for `authorization_details` (RFC 9396), valid for
/// 30 days, with the seed's permissions and purpose.
pub fn default_authorization_details() -> String {
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    let expires = expires
        .replace_nanosecond(0)
        .unwrap_or(expires)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    json!([{
        "type": crate::storage::presets::MALAYSIA_ACCOUNT_ACCESS_CONSENT,
        "consent": {
            "permissions": ["read_accounts", "read_balances", "read_transactions"],
            "consent_purpose": "pfm",
            "expiration_datetime": expires,
        }
    }])
    .to_string()
}

/// Starts an authorization: PKCE, state, nonce, PAR (when the profile has a PAR
/// endpoint), and the authorization URL.
pub async fn start(
    transport: &impl HttpClient,
    profile: &Profile,
    secrets: &ClientSecrets,
    input: impl Into<AuthorizationInput>,
    options: &RequestOptions,
) -> Result<AuthorizationSession, AuthorizeError> {
    let input = input.into();
    let started = std::time::Instant::now();
    let authorization_details = input
        .authorization_details
        .clone()
        .or_else(|| profile_authorization_details(profile));
    let mut options = options.clone();
    if let Some(extra) = input.extra_scope.as_deref().filter(|s| !s.is_empty()) {
        let base = options
            .scope
            .clone()
            .unwrap_or_else(|| profile.scope.clone());
        options.scope = Some(format!("{} {extra}", base.trim()).trim().to_owned());
    }
    let options = &options;
    let authorization_endpoint = profile
        .endpoints
        .authorization
        .clone()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            AuthorizeError::Missing("no authorization endpoint: run discovery or fill it in".into())
        })?;
    let verifier = PkceVerifier::generate();
    let state = uuid::Uuid::new_v4().to_string();
    let nonce = uuid::Uuid::new_v4().to_string();
    let params = AuthorizationParams {
        state: state.clone(),
        nonce: nonce.clone(),
        code_challenge: verifier.challenge_s256(),
        authorization_details,
        request_object_claims: input.request_object_claims.clone(),
    };
    let mut url = url::Url::parse(&authorization_endpoint).map_err(|e| {
        AuthorizeError::Missing(format!(
            "the authorization endpoint {authorization_endpoint:?} is not a URL: {e}"
        ))
    })?;
    if profile
        .endpoints
        .par
        .as_deref()
        .is_some_and(|p| !p.is_empty())
    {
        let model = request::build_par_request(profile, secrets, &params, options)?;
        let ctx = ExchangeContext {
            issuer: Some(profile.issuer.clone()),
            client_id: Some(profile.client_id.clone()),
            token_endpoint: profile.endpoints.token.clone(),
            ..Default::default()
        };
        let par = exchange::run(transport, model, &ctx).await;
        let response = match &par.outcome {
            Ok(r) => r,
            Err(e) => return Err(AuthorizeError::Send(e.clone())),
        };
        let request_uri = match &response.body {
            ResponseBody::Json(Value::Object(map))
                if (200..300).contains(&response.http.status) =>
            {
                map.get("request_uri")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }
            _ => None,
        };
        let Some(request_uri) = request_uri else {
            let summary = match &response.body {
                ResponseBody::Error(e) => format!(
                    "{}{}",
                    e.error,
                    e.error_description
                        .as_deref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
                _ => response.body_text.chars().take(200).collect(),
            };
            return Err(AuthorizeError::ParRefused {
                status: response.http.status,
                summary,
            });
        };
        url.query_pairs_mut()
            .append_pair("client_id", &profile.client_id)
            .append_pair("request_uri", &request_uri);
        Ok(AuthorizationSession {
            state,
            nonce,
            verifier,
            request_uri: Some(request_uri),
            authorization_url: url.to_string(),
            par: Some(Box::new(par)),
            started: Some(started),
            redirect_uri: profile.redirect_uri.clone(),
        })
    } else {
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &profile.client_id)
                .append_pair("redirect_uri", &profile.redirect_uri)
                .append_pair("state", &state)
                .append_pair("nonce", &nonce)
                .append_pair("code_challenge", &params.code_challenge)
                .append_pair("code_challenge_method", "S256");
            let scope = options
                .scope
                .clone()
                .unwrap_or_else(|| profile.scope.clone());
            if !scope.is_empty() {
                q.append_pair("scope", &scope);
            }
            if let Some(details) = &params.authorization_details {
                q.append_pair("authorization_details", details);
            }
        }
        Ok(AuthorizationSession {
            state,
            nonce,
            verifier,
            request_uri: None,
            authorization_url: url.to_string(),
            par: None,
            started: Some(started),
            redirect_uri: profile.redirect_uri.clone(),
        })
    }
}

/// Plays the user's consent at the embedded sandbox (`auto_approve=true`, sandbox only)
/// and reads the redirect it answers with.
pub async fn auto_approve(
    transport: &impl HttpClient,
    session: &AuthorizationSession,
) -> Result<AuthorizationResponse, AuthorizeError> {
    let mut url = url::Url::parse(&session.authorization_url)
        .map_err(|e| AuthorizeError::NoRedirect(format!("bad authorization URL: {e}")))?;
    url.query_pairs_mut().append_pair("auto_approve", "true");
    let response = transport.get_json(url.as_str()).await?;
    let location = response
        .header("location")
        .map(str::to_owned)
        .ok_or_else(|| {
            AuthorizeError::NoRedirect(format!(
                "the authorization endpoint answered HTTP {} without a redirect: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            ))
        })?;
    Ok(redirect::parse_authorization_response(&location)?)
}
