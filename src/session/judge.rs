//! Judging and keeping an exchange: a refusal is diagnosed once, with all the evidence
//! the session can gather (the settings, the server's discovery, the client's registered
//! keys, the history, what the authorization left), and every exchange is kept in the
//! history. Only a refusal gathers evidence: a success costs no extra request.

use serde_json::Value;

use crate::diagnosis::{self, Evidence, Refusal};
use crate::oauth::exchange::Exchange;
use crate::oauth::http::HttpClient;
use crate::secret::Secret;
use crate::session::{RegisteredJwks, Session};

/// What a refusal is judged against beyond the session's own evidence.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Facts<'a> {
    /// A request to the authorization server (a token request, PAR, introspection):
    /// what the authorization that produced the code left, when there was one.
    Server(&'a crate::session::AuthorizationContext),
    /// An API call with this access token: the history knows what it was issued over.
    Call(&'a Secret),
}

impl<C: HttpClient> Session<C> {
    /// Diagnoses a refusal (once, with every piece of evidence) and keeps the exchange.
    pub(crate) async fn judge(&self, exchange: &mut Exchange, facts: Facts<'_>) {
        if let Some(refusal) = Refusal::of(exchange) {
            let evidence = self.evidence_for(&refusal, facts).await;
            exchange.diagnosis = diagnosis::diagnose(exchange, &evidence);
        }
        self.record(exchange).await;
    }

    /// Everything the session knows that bears on a refusal.
    pub(crate) async fn evidence_for(&self, refusal: &Refusal, facts: Facts<'_>) -> Evidence {
        // Asking the server again makes sense only when it answered.
        let answered = matches!(
            refusal,
            Refusal::OAuth { .. } | Refusal::Http(_) | Refusal::Redirect { .. }
        );
        let mut evidence = self.evidence(answered).await;
        match facts {
            Facts::Server(authorization) => {
                authorization.add_to(&mut evidence);
                self.enrich_from_history(&mut evidence, authorization.state.clone())
                    .await;
            }
            Facts::Call(token) => self.enrich_call_from_history(&mut evidence, token).await,
        }
        evidence
    }

    /// The session's own evidence: the settings, the discovery document (fetched when
    /// `ask` and not known yet), the client's registered JWK Set.
    pub(crate) async fn evidence(&self, ask: bool) -> Evidence {
        let discovery = self.fetch_discovery_document(ask).await;
        let settings = &self.settings;
        let mut evidence = Evidence::for_profile(
            &settings.profile,
            &settings.transport,
            settings.secrets.signing_key.as_ref(),
            discovery.as_ref(),
        );
        evidence.registered_jwks = self.registered_jwks(ask).await;
        evidence
    }

    /// The server's discovery document: known, or fetched once when `ask`.
    async fn fetch_discovery_document(&self, ask: bool) -> Option<Value> {
        if let Some(known) = self.discovery.lock().ok().and_then(|d| d.clone()) {
            return Some(known);
        }
        let issuer = self.settings.profile.issuer.trim();
        if !ask || issuer.is_empty() {
            return None;
        }
        let found = crate::oauth::discovery::discover(&self.client, issuer, self.allow_http)
            .await
            .ok()
            .map(|d| Value::Object(d.document))?;
        if let Ok(mut slot) = self.discovery.lock() {
            *slot = Some(found.clone());
        }
        Some(found)
    }

    /// The client's registered JWK Set: known, or read from its source once when `ask`.
    async fn registered_jwks(&self, ask: bool) -> Option<Value> {
        let source = self.registered_jwks.lock().ok()?.clone();
        match source {
            RegisteredJwks::Unknown => None,
            RegisteredJwks::Known(jwks) => Some(jwks),
            RegisteredJwks::Source(_) if !ask => None,
            RegisteredJwks::Source(source) => {
                match crate::oauth::discovery::registered_jwks(&self.client, &source).await {
                    Ok(jwks) => {
                        if let Ok(mut slot) = self.registered_jwks.lock() {
                            *slot = RegisteredJwks::Known(jwks.clone());
                        }
                        Some(jwks)
                    }
                    Err(e) => {
                        self.warn(format!("the diagnosis goes on without it: {e}"));
                        None
                    }
                }
            }
        }
    }

    /// Adds what this profile's earlier requests tell (jtis and codes sent, the
    /// authorization's challenge and redirect_uri, the consent as last seen).
    async fn enrich_from_history(&self, evidence: &mut Evidence, state: Option<String>) {
        let Some(log) = self.history.clone() else {
            return;
        };
        let mut moved = evidence.clone();
        if let Some(enriched) = blocking(move || {
            log.store.enrich(&log.key, state.as_deref(), &mut moved);
            moved
        })
        .await
        {
            *evidence = enriched;
        }
    }

    /// Adds what the history tells about the access token of an API call.
    async fn enrich_call_from_history(&self, evidence: &mut Evidence, token: &Secret) {
        let Some(log) = self.history.clone() else {
            return;
        };
        let token = token.clone();
        let mut moved = evidence.clone();
        if let Some(enriched) = blocking(move || {
            log.store.enrich_call(&log.key, token.expose(), &mut moved);
            moved
        })
        .await
        {
            *evidence = enriched;
        }
    }

    /// Keeps an exchange in the history (without its secrets). A history that cannot be
    /// written is a warning; it never fails the step.
    pub(crate) async fn record(&self, exchange: &Exchange) {
        let Some(log) = self.history.clone() else {
            return;
        };
        let entry = crate::history::HistoryEntry::of(&log.key, exchange);
        let written = blocking(move || log.store.append(&entry)).await;
        match written {
            Some(Ok(())) => {}
            Some(Err(e)) => self.warn(format!("the exchange was not added to the history: {e}")),
            None => self.warn("the exchange was not added to the history".into()),
        }
    }
}

/// File work off the async threads; `None` when the blocking task could not finish.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    tokio::task::spawn_blocking(f).await.ok()
}
