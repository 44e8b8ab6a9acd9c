//! Discovery (OIDC Discovery 1.0, RFC 8414): the server's document read with the
//! session's transport, its endpoints taken into the settings, the document kept as
//! evidence; a discovery that got no answer is diagnosed.

use serde_json::Value;

use crate::diagnosis::{self, Cause};
use crate::oauth::discovery::{self, Discovery, DiscoveryError};
use crate::oauth::http::HttpClient;
use crate::session::Session;

/// Discovery failed; when no answer came (TLS, a closed connection), with its likely
/// causes.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct DiscoverFailure {
    /// What failed.
    #[source]
    pub error: DiscoveryError,
    /// Why, as far as this client can tell (empty when the server answered).
    pub causes: Vec<Cause>,
}

impl<C: HttpClient> Session<C> {
    /// Fetches the issuer's discovery document (refused when it names another issuer),
    /// fills the settings' endpoints from it (the mTLS aliases when the client presents
    /// a certificate; only https, or http on loopback), lints it against what the
    /// profile's ecosystem needs, and keeps it for the diagnosis.
    pub async fn discover(&mut self) -> Result<Discovery, DiscoverFailure> {
        let issuer = self.settings.profile.issuer.clone();
        match discovery::discover(&self.client, &issuer, self.allow_http).await {
            Ok(mut found) => {
                let settings = &self.settings;
                let expect = discovery::expectations(
                    &settings.profile,
                    settings.transport.identity_pem.is_some(),
                    settings.dpop.is_some(),
                );
                found
                    .findings
                    .extend(crate::checks::discovery::lint(&found.document, &expect));
                discovery::apply_to_profile(&found, &mut self.settings.profile);
                if let Ok(mut slot) = self.discovery.lock() {
                    *slot = Some(Value::Object(found.document.clone()));
                }
                Ok(found)
            }
            Err(DiscoveryError::Send(e)) => {
                let url = discovery::discovery_url(&issuer).unwrap_or_default();
                let evidence = self.evidence(false).await;
                let causes =
                    diagnosis::diagnose_connection(&self.settings.profile, &url, &e, &evidence);
                Err(DiscoverFailure {
                    error: DiscoveryError::Send(e),
                    causes,
                })
            }
            Err(error) => Err(DiscoverFailure {
                error,
                causes: Vec::new(),
            }),
        }
    }

    /// The server's discovery document, when discovery ran (or the caller gave it).
    pub fn discovery_document(&self) -> Option<Value> {
        self.discovery.lock().ok().and_then(|d| d.clone())
    }
}
