//! The app's workflows, each a step of the core session resolved for the profile (the
//! same steps the command line calls): discovery, authorization (in-app approval, the
//! loopback listener, a pasted redirect), Send, an API call, the JWT panel's JWKS.

use std::time::Duration;

use anyhow::anyhow;

use super::{Event, Inner};
use crate::oauth::authorize::AuthorizationSession;
use crate::oauth::discovery;
use crate::oauth::loopback;
use crate::oauth::redirect::AuthorizationResponse;
use crate::oauth::request::{ClientSecrets, RequestModel};
use crate::oauth::resource::ResourceCall;
use crate::secret::Secret;
use crate::session::settings::{self, Settings};
use crate::session::{
    AuthorizationContext, AuthorizeFailure, Consent, RegisteredJwks, Session, TokenRequest,
};
use crate::storage::profile::Profile;

/// How long the loopback listener waits for the bank's redirect.
const REDIRECT_WAIT: Duration = Duration::from_secs(600);

impl Inner {
    /// The session for a profile: its transport and DPoP key from the keychain (off the
    /// async threads), the secrets the app loaded, the app's nonce store and history,
    /// and where the client's registered keys are (the embedded sandbox's registration,
    /// or the profile's client JWKS).
    pub(super) async fn session(
        &self,
        profile: &Profile,
        secrets: ClientSecrets,
    ) -> anyhow::Result<Session> {
        let keychain = self.keychain()?;
        let p = profile.clone();
        let settings = {
            // The DPoP key may be made on first use: once.
            let _made_once = self.dpop_key_lock.lock().await;
            self.blocking(move || settings::resolve_with_secrets(p, secrets, &keychain))
                .await??
        };
        self.session_over(settings).await
    }

    /// A session that only connects (discovery, a JWKS).
    async fn transport_session(&self, profile: &Profile) -> anyhow::Result<Session> {
        let keychain = self.keychain()?;
        let p = profile.clone();
        let settings = self
            .blocking(move || settings::resolve_transport(p, &keychain))
            .await??;
        self.session_over(settings).await
    }

    async fn session_over(&self, settings: Settings) -> anyhow::Result<Session> {
        let profile = &settings.profile;
        let registered = if profile.local_sandbox {
            self.sandbox_registration(&profile.client_id)
                .await
                .map_or(RegisteredJwks::Unknown, RegisteredJwks::Known)
        } else {
            profile
                .client_jwks
                .clone()
                .filter(|s| !s.trim().is_empty())
                .map_or(RegisteredJwks::Unknown, RegisteredJwks::Source)
        };
        let name = profile.name.clone();
        Ok(Session::new(settings)
            .map_err(|e| anyhow!("{e}"))?
            .with_nonces(self.nonces.clone())
            .with_history(self.history.clone(), name)
            .with_registered_jwks(registered))
    }

    /// A session's side warnings go to the log (the app shows the history it could
    /// read).
    fn log_warnings(session: &Session) {
        for warning in session.take_warnings() {
            tracing::warn!("{warning}");
        }
    }

    /// Send: the previewed model, as it is; a DPoP nonce request answered once.
    pub(super) async fn send_token(
        &self,
        id: u64,
        profile: Profile,
        secrets: ClientSecrets,
        request: TokenRequest,
        authorization: AuthorizationContext,
        model: RequestModel,
    ) {
        let result = async {
            let session = self.session(&profile, secrets).await?;
            let exchange = session
                .send_token(&request, &authorization, Some(model))
                .await?;
            Self::log_warnings(&session);
            anyhow::Ok(exchange)
        }
        .await;
        match result {
            Ok(exchange) => {
                self.emit(Event::Exchanged {
                    id,
                    exchange: Box::new(exchange),
                });
                self.load_history(profile.name).await;
            }
            Err(e) => self.emit(Event::SendFailed {
                id,
                message: format!("{e:#}"),
            }),
        }
    }

    /// Authorize: PAR and the URL; then the redirect, approved in the app (the embedded
    /// sandbox), caught on a loopback redirect_uri (RFC 8252 §7.3), or pasted later.
    pub(super) async fn authorize(
        &self,
        id: u64,
        profile: Profile,
        secrets: ClientSecrets,
        in_app: bool,
    ) {
        let result = self.authorize_steps(id, &profile, secrets, in_app).await;
        self.load_history(profile.name).await;
        self.emit(Event::Authorized {
            id,
            result: result.map_err(|e| format!("{e:#}")),
        });
    }

    async fn authorize_steps(
        &self,
        id: u64,
        profile: &Profile,
        secrets: ClientSecrets,
        in_app: bool,
    ) -> anyhow::Result<(
        Box<AuthorizationSession>,
        Option<Box<crate::session::Redirect>>,
    )> {
        let session = self.session(profile, secrets).await?;
        let redirect_uri = profile.redirect_uri.clone();
        // Listen before the browser goes to the bank, so a busy port fails first.
        let catcher = if in_app || loopback::loopback_target(&redirect_uri).is_none() {
            None
        } else {
            Some(loopback::RedirectCatcher::bind(&redirect_uri).await?)
        };
        let started = match session.authorize(&Consent::FromProfile).await {
            Ok(started) => started,
            // A refused PAR is shown like an exchange, with its diagnosis.
            Err(AuthorizeFailure::ParRefused { message, par }) => {
                self.emit(Event::ParRefused { id, exchange: par });
                return Err(anyhow!("{message} (see Why? in the Response panel)"));
            }
            Err(AuthorizeFailure::Failed(e)) => return Err(e.into()),
        };
        if let Some(catcher) = &catcher {
            catcher.expect_state(&started.state);
        }
        let answer = if in_app {
            Some((session.auto_approve(&started).await?, None))
        } else {
            let opened = session
                .may_open(&started.authorization_url)
                .and_then(|()| self.browser.open(&started.authorization_url));
            match catcher {
                Some(catcher) => {
                    self.emit(Event::AuthorizeWaiting {
                        id,
                        url: started.authorization_url.clone(),
                        redirect_uri: redirect_uri.clone(),
                        browser_opened: opened.is_ok(),
                    });
                    let caught = catcher.wait(REDIRECT_WAIT, &started.state).await?;
                    Some((caught.response.clone(), Some(caught)))
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
        let redirect = match answer {
            Some((response, caught)) => Some(Box::new(
                session.redirect(&started, &response, caught.as_ref()).await,
            )),
            None => None,
        };
        Self::log_warnings(&session);
        Ok((Box::new(started), redirect))
    }

    /// A redirect pasted for the last authorization: read, an error diagnosed.
    pub(super) async fn read_redirect(
        &self,
        profile: Profile,
        secrets: ClientSecrets,
        started: AuthorizationSession,
        response: AuthorizationResponse,
    ) {
        match self.session(&profile, secrets).await {
            Ok(session) => {
                let redirect = session.redirect(&started, &response, None).await;
                self.emit(Event::Redirected(Box::new(redirect)));
            }
            Err(e) => tracing::warn!("the redirect could not be judged: {e:#}"),
        }
    }

    /// Calls an API with a token the app received.
    pub(super) async fn call_api(
        &self,
        id: u64,
        profile: Profile,
        token: Secret,
        token_type: String,
        call: ResourceCall,
    ) {
        let result = async {
            // A signed call (PayNet's x-signature, a UK or UAE signed body) signs with
            // the client's key.
            let secrets = if call.signs(&profile) {
                ClientSecrets {
                    signing_key: self.load_key(&profile).await.map_err(|e| anyhow!(e))?,
                    client_secret: None,
                }
            } else {
                ClientSecrets::default()
            };
            let session = self.session(&profile, secrets).await?;
            let exchange = session.call(&token, &token_type, call).await?;
            Self::log_warnings(&session);
            anyhow::Ok(exchange)
        }
        .await;
        self.emit(Event::Called {
            id,
            result: result.map(Box::new).map_err(|e| format!("{e:#}")),
        });
        self.load_history(profile.name).await;
    }

    /// Fetch discovery: the document, or why not (the likely causes when no answer came).
    pub(super) async fn discover(&self, profile: Profile) {
        let result = async {
            let mut session = self.transport_session(&profile).await?;
            session.discover().await.map_err(|failure| {
                let likely: Vec<String> = failure
                    .causes
                    .iter()
                    .filter(|c| c.status == crate::diagnosis::Status::Likely)
                    .map(|c| format!("Why? likely {} ({}): {}", c.cause, c.code, c.evidence))
                    .collect();
                let error = &failure.error;
                if likely.is_empty() {
                    anyhow!("{error}")
                } else {
                    anyhow!("{error}\n{}", likely.join("\n"))
                }
            })
        }
        .await;
        self.emit(Event::Discovered {
            profile: profile.name,
            result: result
                .map(Box::new)
                .map_err(|e| format!("discovery failed: {e:#}")),
        });
    }

    /// The profile's JWKS for the JWT panel.
    pub(super) async fn fetch_jwks(&self, profile: Profile) {
        let result = async {
            let url = profile
                .endpoints
                .jwks
                .clone()
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    anyhow!(
                        "the profile has no JWKS URI: run \"Fetch discovery\" in the Client panel"
                    )
                })?;
            let session = self.transport_session(&profile).await?;
            discovery::fetch_jwks(session.client(), &url)
                .await
                .map_err(|e| anyhow!("{e}"))
        }
        .await;
        self.emit(Event::Jwks(result.map_err(|e| format!("{e:#}"))));
    }
}
