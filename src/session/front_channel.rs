//! The redirect's front channel judged before its code is redeemed (the hybrid flow's
//! id_token, a JARM response), with the issuer's keys and the client's decryption key.

use serde_json::Value;

use crate::oauth::authorize::AuthorizationSession;
use crate::oauth::front_channel::{self, Expected, FrontChannel};
use crate::oauth::http::HttpClient;
use crate::oauth::redirect::AuthorizationResponse;
use crate::session::{AuthorizationContext, Session};

impl<C: HttpClient> Session<C> {
    /// Judges what the redirect carries beyond a code; for JARM also the response its
    /// JWT holds. Nothing to judge: an empty report and no other response.
    pub(crate) async fn judge_front_channel(
        &self,
        started: &AuthorizationSession,
        response: &AuthorizationResponse,
    ) -> (FrontChannel, Option<AuthorizationResponse>) {
        let carries = response.param("response").is_some() || response.param("id_token").is_some();
        if !carries {
            return (FrontChannel::default(), None);
        }
        let jwks = self.issuer_keys().await;
        let profile = &self.settings.profile;
        let expected = Expected {
            issuer: profile.issuer.trim(),
            client_id: profile.client_id.trim(),
            nonce: Some(started.nonce.as_str()),
            state: Some(started.state.as_str()),
            fapi1: profile.front_channel.hybrid(),
            jwks: jwks.as_ref(),
            decrypt: self.settings.decryption_key.as_ref(),
            now: crate::jose::numeric_date::now_unix(),
        };
        front_channel::judge(response, &expected)
    }

    /// The issuer's JWK Set: the one given, else fetched from the profile's `jwks_uri`.
    async fn issuer_keys(&self) -> Option<Value> {
        let context = self.exchange_context(&AuthorizationContext::default());
        if let Some(jwks) = context.jwks {
            return Some(jwks);
        }
        let uri = context.jwks_uri.filter(|u| !u.is_empty())?;
        crate::oauth::discovery::fetch_jwks(&self.client, &uri)
            .await
            .ok()
    }
}
