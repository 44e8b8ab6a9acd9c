//! The token request: previewed as it will be sent, sent with its binding and the DPoP
//! nonce retry, judged once and kept.

use serde_json::Value;

use crate::checks::Finding;
use crate::diagnosis::Evidence;
use crate::oauth::exchange::{self, Exchange, ExchangeContext};
use crate::oauth::http::HttpClient;
use crate::oauth::request::{BuildError, RequestKind, RequestModel};
use crate::secret::Secret;
use crate::session::build::{self, TokenRequest};
use crate::session::judge::Facts;
use crate::session::{IssuerJwks, Session, settings};

/// What the authorization that produced a code leaves for the token request that redeems
/// it: what the answer is checked against, and what a refusal is judged with.
#[derive(Clone, Debug, Default)]
pub struct AuthorizationContext {
    /// The `state` sent (the id_token's `s_hash`, the history's PAR).
    pub state: Option<String>,
    /// The `nonce` sent (checked in the id_token).
    pub nonce: Option<String>,
    /// The consent asked for (`authorization_details`), compared with what is granted.
    pub requested_consent: Option<Value>,
    /// The PKCE `code_challenge` sent.
    pub pkce_challenge: Option<String>,
    /// The `redirect_uri` of the authorization request.
    pub redirect_uri: Option<String>,
    /// When the code reached this client (Unix seconds).
    pub code_received_at: Option<i64>,
    /// Findings on the redirect (state, iss, the code's wait), shown with the exchange.
    pub findings: Vec<Finding>,
    /// The front channel's id_token or JARM response, judged.
    pub front_channel: crate::oauth::front_channel::FrontChannel,
}

impl AuthorizationContext {
    /// Adds what this authorization knows to a diagnosis' evidence.
    pub(crate) fn add_to(&self, evidence: &mut Evidence) {
        if self.pkce_challenge.is_some() {
            evidence.pkce_challenge.clone_from(&self.pkce_challenge);
        }
        if self.redirect_uri.is_some() {
            evidence
                .authorization_redirect_uri
                .clone_from(&self.redirect_uri);
        }
        if self.code_received_at.is_some() {
            evidence.code_received_at = self.code_received_at;
        }
    }
}

impl<C: HttpClient> Session<C> {
    /// What the checks compare an answer against: the profile, the authorization, the
    /// binding this client presents (its certificate, its DPoP key), the issuer's JWKS.
    pub fn exchange_context(&self, authorization: &AuthorizationContext) -> ExchangeContext {
        let settings = &self.settings;
        let mut context = settings::exchange_context(
            &settings.profile,
            authorization.state.clone(),
            authorization.nonce.clone(),
        );
        context.binding.certificate_x5t = settings::certificate_x5t(&settings.transport);
        context.binding.dpop_jkt = settings.dpop.as_ref().map(|k| k.jkt());
        // An encrypted id_token (Open Finance Brasil) is opened with the client's key.
        context.decrypt_with.clone_from(&settings.decryption_key);
        context
            .requested_consent
            .clone_from(&authorization.requested_consent);
        match &self.issuer_jwks {
            Some(IssuerJwks::Known(jwks)) => context.jwks = Some(jwks.clone()),
            Some(IssuerJwks::Url(url)) => context.jwks_uri = Some(url.clone()),
            None => {}
        }
        context
    }

    /// The token request exactly as [`Session::send_token`] sends its first attempt.
    pub fn preview(&self, request: &TokenRequest) -> Result<RequestModel, BuildError> {
        build::token_request(&self.credentials(), request, &self.nonces)
    }

    /// Sends a token request: `first` is the model a preview showed (sent as it is), else
    /// one is built; a DPoP nonce request is answered once with a fresh proof and a fresh
    /// client assertion. The redirect's findings and the session's notes join the
    /// exchange's; a refusal is diagnosed with all the evidence; the exchange is kept.
    pub async fn send_token(
        &self,
        request: &TokenRequest,
        authorization: &AuthorizationContext,
        first: Option<RequestModel>,
    ) -> Result<Exchange, BuildError> {
        let context = self.exchange_context(authorization);
        let credentials = self.credentials();
        let mut exchange = exchange::send_with_dpop(
            &self.client,
            &context,
            &self.nonces,
            credentials.proof(),
            first,
            || build::token_model(&credentials, request),
        )
        .await?;
        exchange
            .findings
            .extend(authorization.findings.iter().cloned());
        exchange.findings.extend(self.notes.iter().cloned());
        exchange.findings.sort_by_key(|f| f.severity);
        self.judge(&mut exchange, Facts::Server(authorization))
            .await;
        Ok(exchange)
    }

    /// Introspects (RFC 7662) or revokes (RFC 7009) a token, with the client's
    /// authentication, certificate and DPoP proof; judged and kept like a token request.
    pub async fn manage_token(
        &self,
        kind: RequestKind,
        token: &Secret,
        hint: Option<&str>,
    ) -> Result<Exchange, BuildError> {
        let authorization = AuthorizationContext::default();
        let context = self.exchange_context(&authorization);
        let credentials = self.credentials();
        let mut exchange = exchange::send_with_dpop(
            &self.client,
            &context,
            &self.nonces,
            credentials.proof(),
            None,
            || build::token_management_model(&credentials, &kind, token, hint),
        )
        .await?;
        self.judge(&mut exchange, Facts::Server(&authorization))
            .await;
        Ok(exchange)
    }
}
