//! Client authentication at the token, PAR, revocation and introspection endpoints:
//! `private_key_jwt` (a fresh assertion, RFC 7523), the client secret (RFC 6749 §2.3.1),
//! mTLS (RFC 8705) or none.

use base64::Engine as _;

use crate::oauth::assertion::{self, AssertionSettings, JWT_BEARER};
use crate::oauth::request::model::{
    BuildError, ClientSecrets, RequestModel, header, insert_before_accept, param,
};
use crate::storage::profile::{AuthMethod, Profile};

/// Adds client authentication to a model (RFC 6749 §2.3, RFC 7523 §2.2, RFC 8705 §2).
pub(super) fn add_client_auth(
    model: &mut RequestModel,
    profile: &Profile,
    secrets: &ClientSecrets,
    now: i128,
) -> Result<(), BuildError> {
    let client_id = profile.client_id.trim();
    if client_id.is_empty() {
        return Err(BuildError::Missing(
            "the profile has no client_id".to_owned(),
        ));
    }
    match profile.auth.method {
        AuthMethod::PrivateKeyJwt => {
            let key = secrets.signing_key.as_ref().ok_or_else(|| {
                BuildError::Missing(
                    "private_key_jwt needs a signing key: import or generate one for this profile (or pass --key FILE)".to_owned(),
                )
            })?;
            let settings = AssertionSettings {
                client_id: client_id.to_owned(),
                audience: profile.assertion_audience(),
                alg: profile.auth.alg,
                kid: Some(
                    profile
                        .auth
                        .kid
                        .clone()
                        .filter(|k| !k.is_empty())
                        .unwrap_or_else(|| key.thumbprint()),
                ),
                lifetime_secs: profile.auth.lifetime_secs,
                numeric_date: profile.auth.numeric_date,
                typ: profile.auth.typ.clone(),
            };
            let assertion = assertion::build_client_assertion(&settings, key, now)?;
            model
                .form
                .push(param("client_assertion_type", JWT_BEARER, false));
            model
                .form
                .push(param("client_assertion", assertion.jwt.expose(), true));
            model.client_assertion = Some(assertion);
        }
        AuthMethod::ClientSecretBasic => {
            let secret = secrets.client_secret.as_ref().ok_or_else(|| {
                BuildError::Missing("client_secret_basic needs a client secret".to_owned())
            })?;
            // RFC 6749 §2.3.1: form-encode id and secret before Basic encoding.
            let pair = format!(
                "{}:{}",
                form_urlencode(client_id),
                form_urlencode(secret.expose())
            );
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            );
            insert_before_accept(&mut model.headers, header("Authorization", value, true));
        }
        AuthMethod::ClientSecretPost => {
            let secret = secrets.client_secret.as_ref().ok_or_else(|| {
                BuildError::Missing("client_secret_post needs a client secret".to_owned())
            })?;
            model.form.push(param("client_id", client_id, false));
            model
                .form
                .push(param("client_secret", secret.expose(), true));
        }
        AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth | AuthMethod::None => {
            model.form.push(param("client_id", client_id, false));
        }
    }
    Ok(())
}

pub(super) fn form_urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
