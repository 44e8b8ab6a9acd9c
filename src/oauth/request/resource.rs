//! Requests made with a token: an API call (Bearer, or DPoP with a proof bound to the
//! token, RFC 9449 §7.1), the consent created before an authorization (UK, Brazil), and
//! the DPoP proof any request carries.

use crate::oauth::request::model::{
    BuildError, FieldValue, RequestKind, RequestModel, RequestOptions, base_model, header,
    insert_before_accept, required_url,
};
use crate::secret::Secret;
use crate::storage::profile::Profile;

/// Adds a DPoP proof for this request (RFC 9449 §4): the `DPoP` header, placed before
/// `Accept`, with the server's `nonce` when it gave one and `ath` for a resource call.
pub fn attach_dpop(
    model: &mut RequestModel,
    key: &crate::oauth::dpop::DpopKey,
    nonce: Option<&str>,
    access_token: Option<&str>,
    now_secs: i64,
) -> Result<(), BuildError> {
    let proof = crate::oauth::dpop::proof(
        key,
        &model.method,
        &model.url,
        nonce,
        access_token,
        now_secs,
    )
    .map_err(|e| BuildError::Invalid(e.to_string()))?;
    model
        .headers
        .retain(|h| !h.name.eq_ignore_ascii_case("DPoP"));
    insert_before_accept(&mut model.headers, header("DPoP", proof.jwt.clone(), false));
    model.dpop = Some(proof);
    Ok(())
}

/// Builds a resource call (an API request with the token): `Authorization: Bearer` or,
/// with a DPoP key, `Authorization: DPoP` and a proof with `ath` (RFC 9449 §7.1).
pub fn build_resource_request(
    profile: &Profile,
    method: &str,
    url: &str,
    access_token: &Secret,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let url = required_url(Some(url), "API URL")?;
    let mut model = base_model(RequestKind::Resource, url, profile, options)?;
    model.method = method.to_ascii_uppercase();
    model
        .headers
        .retain(|h| !h.name.eq_ignore_ascii_case("Content-Type"));
    insert_bearer(&mut model, access_token);
    Ok(model)
}

/// Puts `Authorization: Bearer <token>` (a secret) before the `Accept` header.
fn insert_bearer(model: &mut RequestModel, access_token: &Secret) {
    let bearer = format!("Bearer {}", access_token.expose());
    insert_before_accept(&mut model.headers, header("Authorization", bearer, true));
}

/// Switches a resource call to the DPoP scheme with a proof bound to the token.
pub fn use_dpop_for_resource(
    model: &mut RequestModel,
    key: &crate::oauth::dpop::DpopKey,
    access_token: &Secret,
    nonce: Option<&str>,
    now_secs: i64,
) -> Result<(), BuildError> {
    for h in &mut model.headers {
        if h.name.eq_ignore_ascii_case("Authorization") {
            h.value = FieldValue::Secret(Secret::new(format!("DPoP {}", access_token.expose())));
        }
    }
    attach_dpop(model, key, nonce, Some(access_token.expose()), now_secs)
}

/// Builds the request that creates a consent before the authorization (UK Open Banking's
/// account-access-consents, Open Finance Brasil's consents): a JSON POST with the
/// client-credentials access token.
pub fn build_consent_request(
    profile: &Profile,
    url: &str,
    access_token: &Secret,
    body: serde_json::Value,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let url = required_url(Some(url), "consent endpoint")?;
    let mut model = base_model(RequestKind::Consent, url, profile, options)?;
    for h in &mut model.headers {
        if h.name.eq_ignore_ascii_case("Content-Type") {
            h.value = FieldValue::Plain("application/json".into());
        }
    }
    insert_bearer(&mut model, access_token);
    model.json_body = Some(body);
    Ok(model)
}
