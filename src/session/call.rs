//! Calling an API with a token: Bearer, or DPoP with a proof bound to the token when the
//! token is DPoP-bound and the session has the key; the client certificate; the client's
//! decryption key for an encrypted answer. Judged and kept like every exchange.

use crate::jose::encrypt::JweRecipient;
use crate::oauth::exchange::Exchange;
use crate::oauth::http::HttpClient;
use crate::oauth::message_signing::{SignedBodySettings, uae};
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
        if what.x_signature.is_none() {
            what.x_signature
                .clone_from(&self.settings.profile.data_calls.x_signature);
        }
        let data_calls = &self.settings.profile.data_calls;
        if what.jws_signature.is_none() {
            what.jws_signature.clone_from(&data_calls.jws_signature);
        }
        if what.signed_body.is_none() {
            what.signed_body.clone_from(&data_calls.signed_body);
        }
        let jwks = self.response_jwks(&what.response_jwks).await?;
        let bank_key = self.bank_key(&what).await?;
        let keys = resource::CallKeys {
            dpop,
            signing_key: self.settings.secrets.signing_key.as_ref(),
            response_jwks: &jwks,
            bank_key: bank_key.as_ref(),
        };
        let mut exchange = resource::call(
            &self.client,
            &self.settings.profile,
            token,
            keys,
            &self.nonces,
            &what,
        )
        .await?;
        self.judge(&mut exchange, Facts::Call(token)).await;
        Ok(exchange)
    }

    /// The JWK Sets a layered or signed answer is verified with: the profile's and the
    /// call's (URLs or files), read for this call; when neither names one, the issuer's
    /// (`jwks_uri`).
    async fn response_jwks(&self, extra: &[String]) -> Result<Vec<serde_json::Value>, BuildError> {
        let mut out = Vec::new();
        let profile = &self.settings.profile;
        let named: Vec<&String> = profile
            .data_calls
            .response_jwks
            .iter()
            .chain(extra)
            .collect();
        let fallback = profile.endpoints.jwks.as_ref().filter(|_| named.is_empty());
        for source in named.into_iter().chain(fallback) {
            let set = crate::oauth::discovery::registered_jwks(&self.client, source)
                .await
                .map_err(|e| {
                    BuildError::Invalid(format!("the response JWK Set {source:?}: {e}"))
                })?;
            out.push(set);
        }
        Ok(out)
    }

    /// The bank's encryption key, when a UAE signed body holds personal data in clear.
    async fn bank_key(&self, what: &ResourceCall) -> Result<Option<JweRecipient>, BuildError> {
        match (&what.signed_body, &what.body) {
            (Some(settings), Some(body)) => self.bank_key_for(settings, body).await,
            _ => Ok(None),
        }
    }

    /// The bank's encryption key when `value` holds personal data in clear: from the JWK
    /// Set the settings name, else the profile's `jwks_uri`.
    pub(crate) async fn bank_key_for(
        &self,
        settings: &SignedBodySettings,
        value: &serde_json::Value,
    ) -> Result<Option<JweRecipient>, BuildError> {
        if !uae::holds_personal_data(value) {
            return Ok(None);
        }
        let endpoints = &self.settings.profile.endpoints;
        let Some(source) = settings
            .encryption_jwks
            .as_ref()
            .or(endpoints.jwks.as_ref())
        else {
            return Ok(None);
        };
        let set = crate::oauth::discovery::registered_jwks(&self.client, source)
            .await
            .map_err(|e| BuildError::Invalid(format!("the bank's JWK Set {source:?}: {e}")))?;
        JweRecipient::from_jwks(&set, None)
            .map(Some)
            .map_err(|e| BuildError::Invalid(format!("the bank's JWK Set {source:?}: {e}")))
    }

    /// A consent's personal data (UAE: `PersonalIdentifiableInformation` in
    /// `authorization_details`) signed and encrypted to the bank before PAR, when the
    /// profile signs bodies the UAE way; the JSON as it was otherwise.
    pub(crate) async fn seal_consent(&self, details: String) -> Result<String, BuildError> {
        let profile = &self.settings.profile;
        let Some(settings) = &profile.data_calls.signed_body else {
            return Ok(details);
        };
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&details) else {
            return Ok(details);
        };
        let Some(bank_key) = self.bank_key_for(settings, &value).await? else {
            return Ok(details);
        };
        let key = self.settings.secrets.signing_key.as_ref().ok_or_else(|| {
            BuildError::Missing(
                "the consent's personal data is signed with the client's key".into(),
            )
        })?;
        let kid = resource::signing_kid(profile, Some(key));
        let jti = uuid::Uuid::new_v4().to_string();
        let sealing = uae::PersonalData {
            settings,
            signer: crate::oauth::x_signature::Signer {
                key,
                alg: profile.auth.alg,
                kid: &kid,
            },
            bank_key: Some(&bank_key),
            parties: crate::oauth::message_signing::Parties {
                client_id: &profile.client_id,
                issuer: &profile.issuer,
            },
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
            jti: &jti,
        };
        sealing
            .encrypt_in(&mut value)
            .map_err(|e| BuildError::Invalid(format!("the consent's personal data: {e}")))?;
        Ok(value.to_string())
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
            // A dp_id the profile leaves empty comes from the answer's consent.
            x_signature: crate::session::data::x_signature_for(&self.settings.profile, &body),
            ..ResourceCall::default()
        };
        self.call(&token, &token_type, what).await.map(Some)
    }
}
