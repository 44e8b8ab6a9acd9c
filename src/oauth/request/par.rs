//! The pushed authorization request (RFC 9126), with the signed request object inside it
//! when the ecosystem wants one (RFC 9101).

use crate::oauth::request::client_auth::add_client_auth;
use crate::oauth::request::model::{
    BuildError, ClientSecrets, RequestKind, RequestModel, RequestOptions, base_model, now_millis,
    param, required_url,
};
use crate::storage::profile::Profile;

/// The authorization request parameters pushed with PAR (RFC 9126 §2.1).
#[derive(Clone, Debug, Default)]
pub struct AuthorizationParams {
    /// `state`.
    pub state: String,
    /// `nonce`.
    pub nonce: String,
    /// The S256 `code_challenge`.
    pub code_challenge: String,
    /// `authorization_details` JSON (RFC 9396), if any.
    pub authorization_details: Option<String>,
    /// More request object claims (the UK's `openbanking_intent_id` inside `claims`).
    pub request_object_claims: serde_json::Map<String, serde_json::Value>,
}

/// Builds a pushed authorization request (RFC 9126).
pub fn build_par_request(
    profile: &Profile,
    secrets: &ClientSecrets,
    params: &AuthorizationParams,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let url = required_url(profile.endpoints.par.as_deref(), "PAR endpoint")?;
    let now = options.now_millis.unwrap_or_else(now_millis);
    let mut model = base_model(RequestKind::Par, url, profile, options)?;
    let scope = options
        .scope
        .clone()
        .unwrap_or_else(|| profile.scope.clone());
    if profile.request_object.signed {
        // RFC 9126 §3 with RFC 9101: client_id and the signed request object only.
        let key = secrets.signing_key.as_ref().ok_or_else(|| {
            BuildError::Missing(
                "a signed request object needs the client's signing key: import or generate one"
                    .to_owned(),
            )
        })?;
        let object = crate::oauth::request::request_object::build(
            profile,
            key,
            params,
            &scope,
            &params.request_object_claims,
            now,
        )?;
        model
            .form
            .push(param("client_id", profile.client_id.trim(), false));
        model.form.push(param("request", object.jwt.clone(), false));
        model.request_object = Some(object);
        add_client_auth(&mut model, profile, secrets, now)?;
        dedupe_client_id(&mut model);
        return Ok(model);
    }
    let front = &profile.front_channel;
    model
        .form
        .push(param("response_type", front.response_type.trim(), false));
    if let Some(mode) = &front.response_mode {
        model.form.push(param("response_mode", mode.trim(), false));
    }
    model
        .form
        .push(param("client_id", profile.client_id.trim(), false));
    model
        .form
        .push(param("redirect_uri", profile.redirect_uri.trim(), false));
    if !scope.trim().is_empty() {
        model.form.push(param("scope", scope.trim(), false));
    }
    model.form.push(param("state", &params.state, false));
    model.form.push(param("nonce", &params.nonce, false));
    model
        .form
        .push(param("code_challenge", &params.code_challenge, false));
    model
        .form
        .push(param("code_challenge_method", "S256", false));
    if let Some(details) = params.authorization_details.as_deref() {
        serde_json::from_str::<serde_json::Value>(details)
            .map_err(|e| BuildError::Invalid(format!("authorization_details is not JSON: {e}")))?;
        model
            .form
            .push(param("authorization_details", details, false));
    }
    add_client_auth(&mut model, profile, secrets, now)?;
    dedupe_client_id(&mut model);
    Ok(model)
}

/// `client_id` appears once (private_key_jwt adds none; the other methods add their own).
fn dedupe_client_id(model: &mut RequestModel) {
    let mut seen = false;
    model.form.retain(|p| {
        if p.name == "client_id" {
            let keep = !seen;
            seen = true;
            keep
        } else {
            true
        }
    });
}
