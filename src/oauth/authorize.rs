//! Starting an authorization: fresh PKCE, `state` and `nonce`, a pushed authorization
//! request (RFC 9126) when the server has a PAR endpoint, and the URL the browser opens
//! (RFC 9126 §4). For the embedded sandbox, `auto_approve` plays the user's consent and
//! reads the redirect (RFC 9207 `iss` included) without a browser.

use serde::Serialize;
use serde_json::{Value, json};

use crate::oauth::exchange::{self, Exchange, ExchangeContext};
use crate::oauth::http::{HttpClient, SendError};
use crate::oauth::pkce::PkceVerifier;
use crate::oauth::redirect::{self, AuthorizationResponse};
use crate::oauth::request::{self, AuthorizationParams, ClientSecrets, RequestOptions};
use crate::oauth::response::ResponseBody;
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
        /// The refused PAR exchange, for the diagnosis and the history (none when a
        /// consent step before it failed).
        exchange: Option<Box<Exchange>>,
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
    /// The steps that created the consent first (client-credentials token, consent POST),
    /// for ecosystems that create it before the authorization.
    #[serde(skip)]
    pub consent_steps: Vec<Exchange>,
    /// The consent id created first, when there is one.
    pub consent_id: Option<String>,
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
    /// `authorization_details` JSON (RFC 9396), as decided by the caller (the session
    /// reads the profile's); `None` sends none.
    pub authorization_details: Option<String>,
    /// More request object claims (`openbanking_intent_id` for a consent created first).
    pub request_object_claims: serde_json::Map<String, Value>,
    /// A scope to add (Brazil's `consent:<id>`).
    pub extra_scope: Option<String>,
    /// The DPoP key: PAR carries a proof, which binds the code to the key (RFC 9449 §10).
    pub dpop: Option<crate::oauth::dpop::DpopKey>,
    /// The DPoP nonces of each server, shared with the token request and API calls
    /// that follow, so a nonce PAR was given is used at once (RFC 9449 §8.2).
    pub nonces: std::sync::Arc<crate::oauth::dpop::NonceStore>,
}

impl From<Option<String>> for AuthorizationInput {
    fn from(authorization_details: Option<String>) -> Self {
        Self {
            authorization_details,
            ..Self::default()
        }
    }
}

/// The profile's consent as `authorization_details` (placeholders filled in), else its
/// preset's template, when its ecosystem creates consents inside PAR (or it has no
/// preset). `None` when neither has one: no consent is invented.
pub fn profile_authorization_details(profile: &Profile) -> Option<String> {
    use crate::storage::presets::{self, ConsentCreation};
    let preset = presets::for_profile(profile);
    if preset.is_some_and(|p| p.consent.creation != ConsentCreation::InPar) {
        return None;
    }
    let now = time::OffsetDateTime::now_utc();
    match profile.consent.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(consent) => Some(presets::fill_placeholders(consent, now)),
        None => preset
            .filter(|p| !p.consent.template.trim().is_empty())
            .map(|p| format!("[{}]", p.consent.render_template(now))),
    }
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
    let mut input = input.into();
    let started = std::time::Instant::now();
    let (consent_steps, consent_id) =
        consent_first(transport, profile, secrets, options, &mut input).await?;
    let mut options = options.clone();
    if let Some(extra) = input.extra_scope.as_deref().filter(|s| !s.is_empty()) {
        let base = options
            .scope
            .clone()
            .unwrap_or_else(|| profile.scope.clone());
        options.scope = Some(format!("{} {extra}", base.trim()).trim().to_owned());
    }
    let authorization_endpoint = profile
        .endpoints
        .authorization
        .clone()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            AuthorizeError::Missing("no authorization endpoint: run discovery or fill it in".into())
        })?;
    let verifier = PkceVerifier::generate();
    let params = AuthorizationParams {
        state: uuid::Uuid::new_v4().to_string(),
        nonce: uuid::Uuid::new_v4().to_string(),
        code_challenge: verifier.challenge_s256(),
        authorization_details: input.authorization_details.clone(),
        request_object_claims: input.request_object_claims.clone(),
    };
    let mut url = url::Url::parse(&authorization_endpoint).map_err(|e| {
        AuthorizeError::Missing(format!(
            "the authorization endpoint {authorization_endpoint:?} is not a URL: {e}"
        ))
    })?;
    let uses_par = profile
        .endpoints
        .par
        .as_deref()
        .is_some_and(|p| !p.is_empty());
    let (request_uri, par) = if uses_par {
        let (request_uri, par) =
            push(transport, profile, secrets, &params, &options, &input).await?;
        url.query_pairs_mut()
            .append_pair("client_id", &profile.client_id)
            .append_pair("request_uri", &request_uri);
        (Some(request_uri), Some(Box::new(par)))
    } else {
        front_channel_query(&mut url, profile, &params, &options);
        (None, None)
    };
    Ok(AuthorizationSession {
        state: params.state,
        nonce: params.nonce,
        verifier,
        request_uri,
        authorization_url: url.to_string(),
        par,
        started: Some(started),
        consent_steps,
        consent_id,
        redirect_uri: profile.redirect_uri.clone(),
    })
}

/// UK and Brazil: the consent is created before the authorization, and its id carried
/// in it (Brazil: a `consent:<id>` scope; UK: `openbanking_intent_id` as an essential
/// claim, OIDC Core §5.5). Returns the steps and the id; none elsewhere.
async fn consent_first(
    transport: &impl HttpClient,
    profile: &Profile,
    secrets: &ClientSecrets,
    options: &RequestOptions,
    input: &mut AuthorizationInput,
) -> Result<(Vec<Exchange>, Option<String>), AuthorizeError> {
    use crate::storage::presets::{self, ConsentCarrier, ConsentCreation};
    let Some(preset) = presets::for_profile(profile).filter(|p| {
        p.consent.creation == ConsentCreation::BeforeAuthorization
            && input.request_object_claims.is_empty()
            && input.extra_scope.is_none()
    }) else {
        return Ok((Vec::new(), None));
    };
    let (steps, id) = create_consent(transport, profile, secrets, options).await?;
    match preset.consent.carry {
        Some(ConsentCarrier::Scope) => {
            input.extra_scope = Some(format!("consent:{id}"));
        }
        _ => {
            let claim = json!({"value": id, "essential": true});
            input.request_object_claims.insert(
                "claims".into(),
                json!({
                    "userinfo": {"openbanking_intent_id": claim},
                    "id_token": {"openbanking_intent_id": claim},
                }),
            );
        }
    }
    Ok((steps, Some(id)))
}

/// Pushes the authorization request (RFC 9126), with a DPoP proof when the input has a
/// key; the `request_uri`, or the refusal with its exchange.
async fn push(
    transport: &impl HttpClient,
    profile: &Profile,
    secrets: &ClientSecrets,
    params: &AuthorizationParams,
    options: &RequestOptions,
    input: &AuthorizationInput,
) -> Result<(String, Exchange), AuthorizeError> {
    let ctx = ExchangeContext {
        issuer: Some(profile.issuer.clone()),
        client_id: Some(profile.client_id.clone()),
        token_endpoint: profile.endpoints.token.clone(),
        ..Default::default()
    };
    let proof = input.dpop.as_ref().map(|key| exchange::Proof {
        key,
        access_token: None,
    });
    let par = exchange::send_with_dpop(transport, &ctx, &input.nonces, proof, None, || {
        request::build_par_request(profile, secrets, params, options)
    })
    .await?;
    let response = match &par.outcome {
        Ok(r) => r,
        Err(e) => return Err(AuthorizeError::Send(e.clone())),
    };
    let request_uri = match &response.body {
        ResponseBody::Json(Value::Object(map)) if (200..300).contains(&response.http.status) => map
            .get("request_uri")
            .and_then(Value::as_str)
            .map(str::to_owned),
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
            exchange: Some(Box::new(par)),
        });
    };
    Ok((request_uri, par))
}

/// Without PAR: the authorization request in the URL's query (RFC 6749 §4.1.1, RFC 7636
/// §4.3).
fn front_channel_query(
    url: &mut url::Url,
    profile: &Profile,
    params: &AuthorizationParams,
    options: &RequestOptions,
) {
    let mut q = url.query_pairs_mut();
    if let Some(mode) = &profile.front_channel.response_mode {
        q.append_pair("response_mode", mode.trim());
    }
    q.append_pair("response_type", profile.front_channel.response_type.trim())
        .append_pair("client_id", &profile.client_id)
        .append_pair("redirect_uri", &profile.redirect_uri)
        .append_pair("state", &params.state)
        .append_pair("nonce", &params.nonce)
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

/// Creates the consent before the authorization (UK Open Banking, Open Finance Brasil): a
/// client-credentials token, then a POST of the profile's consent to the consent
/// endpoint with it. Returns both exchanges (shown like any other) and the consent id.
pub async fn create_consent(
    transport: &impl HttpClient,
    profile: &Profile,
    secrets: &ClientSecrets,
    options: &RequestOptions,
) -> Result<(Vec<Exchange>, String), AuthorizeError> {
    let endpoint = profile
        .endpoints
        .consent
        .clone()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            AuthorizeError::Missing(
                "this ecosystem creates the consent first: set the profile's consent endpoint (endpoints.consent), e.g. https://<resource server>/open-banking/v3.1/aisp/account-access-consents".into(),
            )
        })?;
    let body = profile
        .consent
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| AuthorizeError::Missing("the profile has no consent to create".into()))?;
    let body: Value = serde_json::from_str(&crate::storage::presets::fill_placeholders(
        body,
        time::OffsetDateTime::now_utc(),
    ))
    .map_err(|e| AuthorizeError::Missing(format!("the profile's consent is not JSON: {e}")))?;
    let ctx = ExchangeContext {
        issuer: Some(profile.issuer.clone()),
        client_id: Some(profile.client_id.clone()),
        token_endpoint: profile.endpoints.token.clone(),
        ..Default::default()
    };
    let cc_options = RequestOptions {
        scope: Some(options.scope.clone().unwrap_or_else(|| "accounts".into())),
        ..options.clone()
    };
    let model = request::build_token_request(
        profile,
        secrets,
        &request::Grant::ClientCredentials,
        &cc_options,
    )?;
    let token_exchange = exchange::run(transport, model, &ctx).await;
    let access_token = match token_exchange.response().map(|r| &r.body) {
        Some(ResponseBody::Token(t)) => t.access_token().map(crate::secret::Secret::new),
        _ => None,
    };
    let Some(access_token) = access_token else {
        let status = token_exchange.response().map_or(0, |r| r.http.status);
        return Err(AuthorizeError::ParRefused {
            status,
            summary: "the client-credentials token for the consent was refused".into(),
            exchange: None,
        });
    };
    let model = request::build_consent_request(profile, &endpoint, &access_token, body, options)?;
    let consent_exchange = exchange::run(transport, model, &ctx).await;
    let id = consent_exchange
        .response()
        .and_then(|r| r.body.json())
        .as_ref()
        .and_then(find_consent_id);
    let steps = vec![token_exchange, consent_exchange];
    match id {
        Some(id) => Ok((steps, id)),
        None => {
            let (status, text) = steps[1]
                .response()
                .map(|r| {
                    (
                        r.http.status,
                        r.body_text.chars().take(200).collect::<String>(),
                    )
                })
                .unwrap_or_default();
            Err(AuthorizeError::ParRefused {
                status,
                summary: format!("the consent endpoint gave no consent id: {text}"),
                exchange: None,
            })
        }
    }
}

/// The consent id in a consent answer: UK `Data.ConsentId`, Brazil `data.consentId`, or
/// a `consent_id` member.
fn find_consent_id(body: &Value) -> Option<String> {
    for holder in [body.get("Data"), body.get("data"), Some(body)]
        .into_iter()
        .flatten()
    {
        for key in ["ConsentId", "consentId", "consent_id"] {
            if let Some(id) = holder.get(key).and_then(Value::as_str) {
                return Some(id.to_owned());
            }
        }
    }
    None
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

#[cfg(test)]
mod consent_first_tests {
    use super::*;
    use crate::jose::keys::{KeyType, PrivateKey};
    use crate::oauth::http::{Call, FnClient, HttpResponse};
    use crate::oauth::request::RequestKind;
    use std::sync::Mutex;

    /// A bank that answers the client-credentials token, the consent POST and PAR, and
    /// keeps what it was sent.
    fn bank(
        seen: &Mutex<Vec<(RequestKind, String)>>,
    ) -> FnClient<impl Fn(Call<'_>) -> Result<HttpResponse, SendError> + Send + Sync + '_> {
        FnClient(move |call: Call<'_>| {
            let Call::Send(model) = call else {
                return Err(SendError::Refused("no GET here".into()));
            };
            seen.lock()
                .unwrap()
                .push((model.kind.clone(), model.body()));
            let json = [("content-type", "application/json")];
            Ok(match model.kind {
                RequestKind::Token(_) => HttpResponse::with(
                    200,
                    &json,
                    r#"{"access_token":"cc-token","token_type":"Bearer","expires_in":300}"#,
                ),
                RequestKind::Consent => {
                    assert_eq!(model.header("authorization"), Some("Bearer cc-token"));
                    HttpResponse::with(
                        201,
                        &json,
                        r#"{"Data":{"ConsentId":"urn-consent-1","Status":"AwaitingAuthorisation"}}"#,
                    )
                }
                _ => HttpResponse::with(
                    201,
                    &json,
                    r#"{"request_uri":"urn:ietf:params:oauth:request_uri:r1","expires_in":60}"#,
                ),
            })
        })
    }

    fn profile(preset: &str) -> (Profile, ClientSecrets) {
        let mut p = crate::storage::presets::find(preset)
            .unwrap()
            .to_profile("bank");
        p.issuer = "https://as.bank.example".into();
        p.client_id = "c1".into();
        p.redirect_uri = "https://tpp.example/cb".into();
        p.endpoints.token = Some("https://as.bank.example/token".into());
        p.endpoints.par = Some("https://as.bank.example/par".into());
        p.endpoints.authorization = Some("https://as.bank.example/authorize".into());
        p.endpoints.consent = Some("https://rs.bank.example/consents".into());
        let secrets = ClientSecrets {
            signing_key: Some(PrivateKey::generate(KeyType::Rsa { bits: 2048 }).unwrap()),
            client_secret: None,
        };
        (p, secrets)
    }

    #[tokio::test]
    async fn uk_creates_the_consent_then_carries_the_intent_id() {
        let seen = Mutex::new(Vec::new());
        let (p, secrets) = profile("uk-openbanking");
        let session = start(&bank(&seen), &p, &secrets, None, &RequestOptions::default())
            .await
            .unwrap();
        assert_eq!(session.consent_id.as_deref(), Some("urn-consent-1"));
        assert_eq!(session.consent_steps.len(), 2);
        let kinds: Vec<RequestKind> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(
            kinds,
            [
                RequestKind::Token("client_credentials".into()),
                RequestKind::Consent,
                RequestKind::Par
            ]
        );
        let consent_body: Value = serde_json::from_str(&seen.lock().unwrap()[1].1).unwrap();
        assert!(
            consent_body["Data"]["Permissions"].is_array(),
            "{consent_body}"
        );
        let object = session.par.unwrap().request.request_object.unwrap();
        assert_eq!(
            object.claims["claims"]["id_token"]["openbanking_intent_id"]["value"],
            "urn-consent-1"
        );
    }

    #[tokio::test]
    async fn brazil_carries_the_consent_in_the_scope() {
        let seen = Mutex::new(Vec::new());
        let (p, secrets) = profile("br-openfinance");
        let session = start(&bank(&seen), &p, &secrets, None, &RequestOptions::default())
            .await
            .unwrap();
        let object = session.par.unwrap().request.request_object.unwrap();
        let scope = object.claims["scope"].as_str().unwrap();
        assert!(scope.ends_with("consent:urn-consent-1"), "{scope}");
    }

    #[tokio::test]
    async fn a_missing_consent_endpoint_is_named() {
        let seen = Mutex::new(Vec::new());
        let (mut p, secrets) = profile("uk-openbanking");
        p.endpoints.consent = None;
        let e = start(&bank(&seen), &p, &secrets, None, &RequestOptions::default())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("endpoints.consent"), "{e}");
    }
}
