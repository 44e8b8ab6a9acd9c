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
    authorization_details: Option<String>,
    options: &RequestOptions,
) -> Result<AuthorizationSession, AuthorizeError> {
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
            if !profile.scope.is_empty() {
                q.append_pair("scope", &profile.scope);
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
