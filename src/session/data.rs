//! A data consumer's other calls (Open Finance Malaysia): following a list's cursor
//! (`next_page_params`) page by page, PayNet's providers list with a client-credentials
//! token (each provider's `dp_id` and resource server), and consent revoke. Every call is
//! a signed data call like `call`'s, judged and kept.

use serde::Serialize;
use serde_json::Value;

use crate::oauth::exchange::Exchange;
use crate::oauth::http::HttpClient;
use crate::oauth::request::{BuildError, Grant, RequestOptions};
use crate::oauth::resource::{self, ResourceCall};
use crate::session::{AuthorizationContext, Session, TokenRequest};

/// The most pages a list is followed through unless asked otherwise.
pub const MAX_PAGES: usize = 20;

/// One data provider from PayNet's providers list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Provider {
    /// Its id (the `x-signature`'s `aud`, with "Paynet OFP").
    pub dp_id: String,
    /// Its name.
    pub name: String,
    /// Its authorization server.
    pub authorization_server: Option<String>,
    /// Its resource server, up to its version (`…/v1`).
    pub resource_server: Option<String>,
}

/// A client-credentials token and the calls made with it.
#[derive(Debug)]
pub struct WithClientToken {
    /// The token request.
    pub token: Exchange,
    /// The calls (none when no token came).
    pub calls: Vec<Exchange>,
}

impl WithClientToken {
    /// Every exchange, the token first.
    pub fn exchanges(&self) -> impl Iterator<Item = &Exchange> {
        std::iter::once(&self.token).chain(&self.calls)
    }

    /// The providers the pages list, in order.
    pub fn providers(&self) -> Vec<Provider> {
        self.calls.iter().flat_map(providers_in).collect()
    }
}

/// The JSON an answer carries: the innermost layer's data, else the body.
pub fn answer_data(exchange: &Exchange) -> Option<Value> {
    let r = exchange.response()?;
    match &r.layers {
        Some(layered) => layered.data.clone(),
        None => r.body.json(),
    }
}

/// The cursor to the next page: `next_page_params` under `data` or at the top; none
/// when it is null, empty or absent.
pub fn next_page(exchange: &Exchange) -> Option<String> {
    let data = answer_data(exchange)?;
    let cursor = data
        .pointer("/data/next_page_params")
        .or_else(|| data.get("next_page_params"))?;
    let text = match cursor {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// `url` with its `next_page_params` set to `cursor` (the other parameters kept).
pub fn with_cursor(url: &str, cursor: &str) -> Result<String, BuildError> {
    let mut parsed =
        url::Url::parse(url).map_err(|_| BuildError::Invalid(format!("{url:?} is not a URL")))?;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != "next_page_params")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("next_page_params", cursor);
    Ok(parsed.to_string())
}

/// The providers a providers-list answer names.
pub fn providers_in(exchange: &Exchange) -> Vec<Provider> {
    let Some(data) = answer_data(exchange) else {
        return Vec::new();
    };
    let list = data
        .pointer("/data/providers")
        .or_else(|| data.get("providers"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let text = |p: &Value, name: &str| p.get(name).and_then(Value::as_str).map(str::to_owned);
    list.iter()
        .filter_map(|p| {
            Some(Provider {
                dp_id: text(p, "dp_id")?,
                name: text(p, "name").unwrap_or_default(),
                authorization_server: text(p, "authorization_server"),
                resource_server: text(p, "resource_server"),
            })
        })
        .collect()
}

/// The data provider a token answer's consent names (`authorization_details[].consent.dp_id`).
pub fn dp_id_of(token_answer: &Value) -> Option<String> {
    token_answer
        .get("authorization_details")?
        .as_array()?
        .iter()
        .find_map(|d| d.pointer("/consent/dp_id")?.as_str().map(str::to_owned))
        .filter(|d| !d.trim().is_empty())
}

/// The profile's `x-signature` settings for calls made with a token answer: a `dp_id`
/// the profile leaves empty is the one the answer's consent names.
pub fn x_signature_for(
    profile: &crate::storage::profile::Profile,
    token_answer: &Value,
) -> Option<crate::storage::profile::XSignatureSettings> {
    let mut settings = profile.data_calls.x_signature.clone()?;
    if settings.dp_id.trim().is_empty()
        && let Some(dp_id) = dp_id_of(token_answer)
    {
        settings.dp_id = dp_id;
    }
    Some(settings)
}

impl<C: HttpClient> Session<C> {
    /// Calls `what`, then each next page its answers name (`next_page_params`), at most
    /// `max_pages` calls; stops at the first answer that is not a success.
    pub async fn call_pages(
        &self,
        token: &crate::secret::Secret,
        token_type: &str,
        what: ResourceCall,
        max_pages: usize,
    ) -> Result<Vec<Exchange>, BuildError> {
        let mut pages: Vec<Exchange> = Vec::new();
        let mut next = what;
        while pages.len() < max_pages.max(1) {
            let exchange = self.call(token, token_type, next.clone()).await?;
            let cursor = exchange
                .is_success()
                .then(|| next_page(&exchange))
                .flatten();
            pages.push(exchange);
            let Some(cursor) = cursor else { break };
            next.url = with_cursor(&next.url, &cursor)?;
        }
        Ok(pages)
    }

    /// A client-credentials token (`scope`, else the profile's), then `calls` made with
    /// it; none when the token was refused.
    async fn with_client_token(
        &self,
        scope: Option<&str>,
        call: impl AsyncFnOnce(&crate::secret::Secret, &str) -> Result<Vec<Exchange>, BuildError>,
    ) -> Result<WithClientToken, BuildError> {
        let request = TokenRequest {
            grant: Grant::ClientCredentials,
            options: RequestOptions {
                scope: scope.map(str::to_owned),
                ..RequestOptions::default()
            },
        };
        let token = self
            .send_token(&request, &AuthorizationContext::default(), None)
            .await?;
        let found = token
            .is_success()
            .then(|| token.response().and_then(|r| r.body.json()))
            .flatten()
            .and_then(|body| resource::token_of(&body));
        let calls = match found {
            Some((secret, token_type)) => call(&secret, &token_type).await?,
            None => Vec::new(),
        };
        Ok(WithClientToken { token, calls })
    }

    /// PayNet's providers list: a client-credentials token, then `GET {rs}/providers`
    /// page by page, each call signed and read as `how` says (its method and URL are
    /// set here).
    pub async fn providers(
        &self,
        rs: &str,
        scope: Option<&str>,
        how: ResourceCall,
    ) -> Result<WithClientToken, BuildError> {
        let what = ResourceCall {
            method: "GET".into(),
            url: format!("{}/providers", rs.trim_end_matches('/')),
            ..how
        };
        self.with_client_token(scope, async |token, token_type| {
            self.call_pages(token, token_type, what, MAX_PAGES).await
        })
        .await
    }

    /// Consent revoke: a client-credentials token, then `POST {rs}/consents/{id}/revoke`,
    /// signed and read as `how` says.
    pub async fn revoke_consent(
        &self,
        rs: &str,
        consent_id: &str,
        scope: Option<&str>,
        how: ResourceCall,
    ) -> Result<WithClientToken, BuildError> {
        let id = consent_id.trim();
        if id.is_empty() || id.contains(['/', '?', '#']) {
            return Err(BuildError::Invalid(format!(
                "{consent_id:?} is not a consent id"
            )));
        }
        let what = ResourceCall {
            method: "POST".into(),
            url: format!("{}/consents/{id}/revoke", rs.trim_end_matches('/')),
            ..how
        };
        self.with_client_token(scope, async |token, token_type| {
            Ok(vec![self.call(token, token_type, what).await?])
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_cursor_replaces_the_last_one() {
        let url = with_cursor(
            "https://rs/v1/a/t?page_size=5&next_page_params=x",
            "after-5",
        )
        .unwrap();
        assert_eq!(
            url,
            "https://rs/v1/a/t?page_size=5&next_page_params=after-5"
        );
        assert!(with_cursor("not a url", "c").is_err());
    }

    #[test]
    fn the_token_answers_consent_names_the_provider() {
        let answer = json!({"authorization_details": [{"consent": {"dp_id": "DP1"}}]});
        assert_eq!(dp_id_of(&answer).as_deref(), Some("DP1"));
        assert_eq!(
            dp_id_of(&json!({"authorization_details": [{"consent": {"dp_id": " "}}]})),
            None
        );
        assert_eq!(dp_id_of(&json!({})), None);
    }
}
