//! Token requests (RFC 6749 §4.1.3, §6, §4.4), revocation (RFC 7009) and introspection
//! (RFC 7662).

use crate::oauth::request::client_auth::add_client_auth;
use crate::oauth::request::grant::Grant;
use crate::oauth::request::model::{
    BuildError, ClientSecrets, RequestKind, RequestModel, RequestOptions, base_model, now_millis,
    param, required_url,
};
use crate::secret::Secret;
use crate::storage::profile::Profile;

/// Builds a token request (RFC 6749 §4.1.3, §6, §4.4) in the seed's parameter order:
/// grant_type, scope, code, redirect_uri, code_verifier, client authentication.
pub fn build_token_request(
    profile: &Profile,
    secrets: &ClientSecrets,
    grant: &Grant,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let url = required_url(profile.endpoints.token.as_deref(), "token endpoint")?;
    let now = options.now_millis.unwrap_or_else(now_millis);
    let mut model = base_model(
        RequestKind::Token(grant.grant_type().as_str().to_owned()),
        url,
        profile,
        options,
    )?;
    model
        .form
        .push(param("grant_type", grant.grant_type().as_str(), false));
    let scope = options
        .scope
        .clone()
        .unwrap_or_else(|| profile.scope.clone());
    let scope = scope.trim();
    match grant {
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            if !scope.is_empty() {
                model.form.push(param("scope", scope, false));
            }
            let code = code.expose().trim();
            if code.is_empty() {
                return Err(BuildError::Missing(
                    "no authorization code: paste the code or the whole redirect URL".to_owned(),
                ));
            }
            model.form.push(param("code", code, true));
            let redirect_uri = redirect_uri.trim();
            if redirect_uri.is_empty() {
                return Err(BuildError::Missing(
                    "no redirect_uri: it must be the one sent to the authorization endpoint"
                        .to_owned(),
                ));
            }
            model.form.push(param("redirect_uri", redirect_uri, false));
            if let Some(verifier) = code_verifier.as_ref().map(|v| v.expose().trim())
                && !verifier.is_empty()
            {
                crate::oauth::pkce::PkceVerifier::parse(verifier)
                    .map_err(|e| BuildError::Invalid(e.to_string()))?;
                model.form.push(param("code_verifier", verifier, true));
            }
        }
        Grant::RefreshToken { refresh_token } => {
            if refresh_token.expose().trim().is_empty() {
                return Err(BuildError::Missing("no refresh token given".to_owned()));
            }
            model
                .form
                .push(param("refresh_token", refresh_token.expose().trim(), true));
            if !scope.is_empty() && options.scope.is_some() {
                model.form.push(param("scope", scope, false));
            }
        }
        Grant::ClientCredentials => {
            if !scope.is_empty() {
                model.form.push(param("scope", scope, false));
            }
        }
    }
    add_client_auth(&mut model, profile, secrets, now)?;
    Ok(model)
}

/// Builds a revocation (RFC 7009 §2.1) or introspection (RFC 7662 §2.1) request.
pub fn build_token_management_request(
    profile: &Profile,
    secrets: &ClientSecrets,
    kind: RequestKind,
    token: &Secret,
    token_type_hint: Option<&str>,
    options: &RequestOptions,
) -> Result<RequestModel, BuildError> {
    let (endpoint, what) = match kind {
        RequestKind::Revoke => (
            profile.endpoints.revocation.as_deref(),
            "revocation endpoint",
        ),
        RequestKind::Introspect => (
            profile.endpoints.introspection.as_deref(),
            "introspection endpoint",
        ),
        _ => {
            return Err(BuildError::Invalid(
                "only revoke and introspect take a token".into(),
            ));
        }
    };
    let url = required_url(endpoint, what)?;
    let now = options.now_millis.unwrap_or_else(now_millis);
    let mut model = base_model(kind, url, profile, options)?;
    if token.expose().trim().is_empty() {
        return Err(BuildError::Missing("no token given".to_owned()));
    }
    model.form.push(param("token", token.expose().trim(), true));
    if let Some(hint) = token_type_hint {
        model.form.push(param("token_type_hint", hint, false));
    }
    add_client_auth(&mut model, profile, secrets, now)?;
    Ok(model)
}
