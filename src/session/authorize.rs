//! Authorizing: the consent to ask for, the consent steps and PAR (with its signed
//! request object and DPoP proof), the URL to open; a refused PAR judged and kept; and
//! the bank's redirect read back, an error in it diagnosed against the PAR.

use crate::checks::Finding;
use crate::diagnosis::{self, Cause, Refusal};
use crate::oauth::authorize::{self, AuthorizationInput, AuthorizationSession, AuthorizeError};
use crate::oauth::exchange::Exchange;
use crate::oauth::front_channel::FrontChannel;
use crate::oauth::http::HttpClient;
use crate::oauth::loopback::{self, CaughtRedirect};
use crate::oauth::redirect::{self, AuthorizationResponse};
use crate::oauth::request::{Grant, RequestOptions};
use crate::secret::Secret;
use crate::session::judge::Facts;
use crate::session::{AuthorizationContext, Session, TokenRequest};

/// Which consent (`authorization_details`, RFC 9396) an authorization asks for. None is
/// ever invented: a consent comes from the profile, its preset, or the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Consent {
    /// The profile's consent, else its preset's template, else (the embedded sandbox's
    /// profile) an Open Finance Malaysia account access consent; else none.
    #[default]
    FromProfile,
    /// This JSON, as given.
    Given(String),
    /// None, even when the profile has one.
    None,
}

impl Consent {
    /// The command line's `--authorization-details`: `none` drops the profile's consent;
    /// any other value is JSON (already read from `@FILE`).
    pub fn from_flag(value: Option<String>) -> Self {
        match value {
            None => Consent::FromProfile,
            Some(v) if v.trim().eq_ignore_ascii_case("none") => Consent::None,
            Some(v) => Consent::Given(v),
        }
    }
}

/// Starting an authorization failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeFailure {
    /// The PAR endpoint refused: the exchange, diagnosed and kept in the history.
    #[error("{message}")]
    ParRefused {
        /// The server's words ("the PAR endpoint answered HTTP 400: invalid_request: …").
        message: String,
        /// The refused PAR.
        par: Box<Exchange>,
    },
    /// Anything else (a missing endpoint, a request that cannot be built, no answer).
    #[error(transparent)]
    Failed(#[from] AuthorizeError),
}

/// What the bank's redirect came back with.
#[derive(Debug)]
// Made once per authorization and moved, not stored in bulk: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Redirect {
    /// A code, and the token request that redeems it with this authorization's verifier.
    Code {
        /// The token request.
        request: TokenRequest,
        /// What the authorization leaves for it (its findings among them).
        authorization: AuthorizationContext,
    },
    /// A code that must not be redeemed: its `state` is not the one sent, or its `iss`
    /// is not the issuer (forged, or another request's; RFC 6749 §10.12, RFC 9207 §2.4).
    /// Nothing is sent unless the session was told to redeem it anyway.
    Rejected {
        /// Findings on the redirect, the reasons among them.
        findings: Vec<Finding>,
        /// The front channel's id_token or JARM response, judged.
        front_channel: FrontChannel,
    },
    /// An error (RFC 6749 §4.1.2.1), diagnosed against the PAR.
    Refused {
        /// `error`.
        error: String,
        /// `error_description`.
        description: String,
        /// Findings on the redirect.
        findings: Vec<Finding>,
        /// Why, as far as this client can tell.
        causes: Vec<Cause>,
        /// The front channel's JARM response, judged (a JARM error response).
        front_channel: FrontChannel,
    },
}

impl<C: HttpClient> Session<C> {
    /// The `authorization_details` JSON the consent choice stands for.
    pub fn authorization_details(&self, consent: &Consent) -> Option<String> {
        match consent {
            Consent::Given(json) => Some(json.clone()),
            Consent::None => None,
            Consent::FromProfile => {
                let profile = &self.settings.profile;
                authorize::profile_authorization_details(profile).or_else(|| {
                    profile
                        .local_sandbox
                        .then(authorize::default_authorization_details)
                })
            }
        }
    }

    /// Starts an authorization: the consent steps where the ecosystem creates the consent
    /// first, PAR (with a DPoP proof when the session has a key, binding the code to
    /// it, RFC 9449 §10), the URL to open. Every exchange is kept; a refused PAR is
    /// diagnosed.
    pub async fn authorize(
        &self,
        consent: &Consent,
    ) -> Result<AuthorizationSession, AuthorizeFailure> {
        let authorization_details = match self.authorization_details(consent) {
            Some(details) => Some(
                self.seal_consent(details)
                    .await
                    .map_err(|e| AuthorizeFailure::Failed(AuthorizeError::Build(e)))?,
            ),
            None => None,
        };
        let input = AuthorizationInput {
            authorization_details,
            dpop: self.settings.dpop.clone(),
            nonces: self.nonces.clone(),
            ..AuthorizationInput::default()
        };
        let started = authorize::start(
            &self.client,
            &self.settings.profile,
            &self.settings.secrets,
            input,
            &RequestOptions::default(),
        )
        .await;
        match started {
            Ok(session) => {
                for step in session.consent_steps.iter().chain(session.par.as_deref()) {
                    self.record(step).await;
                }
                Ok(session)
            }
            Err(error) => {
                let message = error.to_string();
                match error {
                    AuthorizeError::ParRefused {
                        exchange: Some(mut par),
                        ..
                    } => {
                        let none = AuthorizationContext::default();
                        self.judge(&mut par, Facts::Server(&none)).await;
                        Err(AuthorizeFailure::ParRefused { message, par })
                    }
                    error => Err(AuthorizeFailure::Failed(error)),
                }
            }
        }
    }

    /// Whether the authorization URL may be handed to the system's browser: `https`, or
    /// `http` on this machine (or with `--allow-http`); never another scheme.
    pub fn may_open(&self, url: &str) -> Result<(), String> {
        crate::oauth::discovery::endpoint_allowed(url, self.allow_http)
    }

    /// The embedded sandbox's consent page, approved without a browser.
    pub async fn auto_approve(
        &self,
        session: &AuthorizationSession,
    ) -> Result<AuthorizationResponse, AuthorizeError> {
        authorize::auto_approve(&self.client, session).await
    }

    /// Reads the bank's redirect for the authorization `started`: `state` and `iss`
    /// checked (RFC 9207), the code's wait on the loopback listener measured, and a code
    /// turned into its token request; an error is diagnosed against the PAR (with what
    /// the history adds).
    pub async fn redirect(
        &self,
        started: &AuthorizationSession,
        response: &AuthorizationResponse,
        caught: Option<&CaughtRedirect>,
    ) -> Redirect {
        let (front_channel, opened) = self.judge_front_channel(started, response).await;
        // A JARM response's JWT holds the response itself.
        let response = opened.as_ref().unwrap_or(response);
        let profile = &self.settings.profile;
        let mut findings = redirect::check_authorization_response(
            response,
            Some(&started.state),
            Some(profile.issuer.as_str()).filter(|s| !s.is_empty()),
            Some(started.redirect_uri.as_str()),
        );
        if let Some(caught) = caught {
            findings.extend(loopback::redirect_findings(caught, started.started));
        }
        findings.extend(front_channel.findings());
        let authorization = AuthorizationContext {
            state: Some(started.state.clone()),
            nonce: Some(started.nonce.clone()),
            requested_consent: started.requested_consent(),
            pkce_challenge: Some(started.verifier.challenge_s256()),
            redirect_uri: Some(started.redirect_uri.clone()),
            code_received_at: Some(crate::jose::numeric_date::now_unix() as i64),
            findings,
            front_channel,
        };
        if response.code.is_some()
            && !self.force_redeem
            && !redirect::redemption_blockers(&authorization.findings).is_empty()
        {
            return Redirect::Rejected {
                findings: authorization.findings,
                front_channel: authorization.front_channel,
            };
        }
        if let Some(code) = &response.code {
            let grant = Grant::AuthorizationCode {
                code: Secret::new(code.clone()),
                redirect_uri: started.redirect_uri.clone(),
                code_verifier: Some(Secret::new(started.verifier.as_str())),
            };
            return Redirect::Code {
                request: TokenRequest::new(grant),
                authorization,
            };
        }
        let error = response.error.clone().unwrap_or_default();
        let description = response.error_description.clone().unwrap_or_default();
        let causes = match started.par.as_deref() {
            Some(par) => {
                let refusal = Refusal::Redirect {
                    error: error.clone(),
                    description: description.clone(),
                };
                let evidence = self
                    .evidence_for(&refusal, Facts::Server(&authorization))
                    .await;
                diagnosis::diagnose_redirect(par, &error, &description, &evidence)
            }
            None => Vec::new(),
        };
        Redirect::Refused {
            error,
            description,
            findings: authorization.findings,
            causes,
            front_channel: authorization.front_channel,
        }
    }
}
