//! Calling an API with a token: Bearer, or DPoP with a proof bound to the token when the
//! token is DPoP-bound and the session has the key; the client certificate; the client's
//! decryption key for an encrypted answer. Judged and kept like every exchange.

use crate::oauth::exchange::Exchange;
use crate::oauth::http::HttpClient;
use crate::oauth::request::BuildError;
use crate::oauth::resource::{self, ResourceCall};
use crate::secret::Secret;
use crate::session::Session;
use crate::session::judge::Facts;

impl<C: HttpClient> Session<C> {
    /// Calls an API with `token` of type `token_type` (`Bearer`, `DPoP`). The call's
    /// decryption key is the session's when the call names none.
    pub async fn call(
        &self,
        token: &Secret,
        token_type: &str,
        mut what: ResourceCall,
    ) -> Result<Exchange, BuildError> {
        let dpop = self
            .settings
            .dpop
            .as_ref()
            .filter(|_| token_type.eq_ignore_ascii_case("DPoP"));
        if what.decrypt_with.is_none() {
            what.decrypt_with.clone_from(&self.settings.decryption_key);
        }
        let mut exchange = resource::call(
            &self.client,
            &self.settings.profile,
            token,
            dpop,
            &self.nonces,
            &what,
        )
        .await?;
        self.judge(&mut exchange, Facts::Call(token)).await;
        Ok(exchange)
    }

    /// After a successful token answer: a GET of `url` with its access token. `None`
    /// when the answer holds no token (a refusal, a revocation).
    pub async fn call_with(
        &self,
        token_answer: &Exchange,
        url: &str,
    ) -> Result<Option<Exchange>, BuildError> {
        let Some(body) = token_answer
            .response()
            .filter(|r| (200..300).contains(&r.http.status))
            .and_then(|r| r.body.json())
        else {
            return Ok(None);
        };
        let Some((token, token_type)) = resource::token_of(&body) else {
            return Ok(None);
        };
        let what = ResourceCall {
            method: "GET".into(),
            url: url.to_owned(),
            headers: Vec::new(),
            decrypt_with: None,
        };
        self.call(&token, &token_type, what).await.map(Some)
    }
}
