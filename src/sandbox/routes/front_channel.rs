//! How the sandbox answers an approved authorization, as FAPI 1 Advanced and Open Finance
//! Brasil banks do: the plain code flow in the query (with `iss`, RFC 9207); the hybrid
//! flow (`code id_token`) in the fragment with an id_token carrying `c_hash` and `s_hash`
//! (encrypted to the client in Brazil mode); JARM (`jwt`, `query.jwt`, `fragment.jwt`):
//! one signed JWT, `response`. Each can be broken on request (`--fail`).

use serde_json::{Map, Value, json};

use crate::jose::encrypt::{JweRecipient, encrypt};
use crate::jose::jwe::KeyManagement;
use crate::jose::keys::{KeyType, PrivateKey};
use crate::sandbox::demo::DemoUser;
use crate::sandbox::state::{OAuthError, ParRecord, Shared, now};

/// How long a JARM response is valid.
const JARM_LIFETIME_SECS: i64 = 600;

/// Refuses what the sandbox does not answer: response types other than `code` and
/// `code id_token`, modes it does not know, a hybrid request without a nonce.
pub(super) fn check_request(
    response_type: &str,
    response_mode: Option<&str>,
    nonce: Option<&str>,
) -> Result<(), OAuthError> {
    let hybrid = match response_type {
        "code" => false,
        "code id_token" | "id_token code" => true,
        other => {
            return Err(OAuthError::new(
                "unsupported_response_type",
                format!(
                    "response_type {other:?} is not supported; use code (FAPI 2.0) or code id_token (FAPI 1 Advanced)"
                ),
            ));
        }
    };
    match response_mode {
        None | Some("query" | "fragment" | "jwt" | "query.jwt" | "fragment.jwt") => {}
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "response_mode {other:?} is not supported here: query, fragment, jwt, query.jwt or fragment.jwt"
            )));
        }
    }
    if response_mode == Some("query") && hybrid {
        return Err(OAuthError::invalid_request(
            "response_mode query is not allowed with code id_token: tokens in a query leak (OAuth 2.0 Multiple Response Types §5)",
        ));
    }
    if hybrid && nonce.is_none_or(str::is_empty) {
        return Err(OAuthError::invalid_request(
            "nonce is required with code id_token (OIDC Core §3.3.2.11)",
        ));
    }
    Ok(())
}

/// Puts the answer for `code` on `location`: in its query or fragment, as parameters or
/// as a JARM response.
pub(super) fn answer(
    shared: &Shared,
    par: &ParRecord,
    user: &DemoUser,
    code: &str,
    location: &mut url::Url,
) -> Result<(), String> {
    let hybrid = par.response_type != "code";
    let mut params: Vec<(String, String)> = vec![("code".into(), code.to_owned())];
    if let Some(state) = &par.state {
        params.push(("state".into(), state.clone()));
    }
    if hybrid {
        // The hybrid fragment carries no iss: the id_token's iss is the check there.
        params.push(("id_token".into(), id_token(shared, par, user, code)?));
    } else {
        params.push(("iss".into(), shared.issuer.clone()));
    }
    deliver(shared, par, params, location)
}

/// Puts an error answer on `location` (RFC 6749 §4.1.2.1), where the request's response
/// mode says, as a JARM response when it asks for one.
pub(super) fn answer_error(
    shared: &Shared,
    par: &ParRecord,
    error: &[(&str, &str)],
    location: &mut url::Url,
) -> Result<(), String> {
    let mut params: Vec<(String, String)> = error
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    if let Some(state) = &par.state {
        params.push(("state".into(), state.clone()));
    }
    params.push(("iss".into(), shared.issuer.clone()));
    deliver(shared, par, params, location)
}

/// The parameters in the query or the fragment, or as one JARM response.
fn deliver(
    shared: &Shared,
    par: &ParRecord,
    mut params: Vec<(String, String)>,
    location: &mut url::Url,
) -> Result<(), String> {
    let hybrid = par.response_type != "code";
    let mode = par.response_mode.as_deref();
    let jarm = mode.is_some_and(|m| m == "jwt" || m.ends_with(".jwt"));
    let in_fragment = match mode {
        Some("fragment" | "fragment.jwt") => true,
        Some("jwt") | None => hybrid,
        _ => false,
    };
    if jarm {
        params.retain(|(k, _)| k != "iss");
        params = vec![("response".into(), jarm_response(shared, par, &params)?)];
    }
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    if in_fragment {
        location.set_fragment(Some(&encoded));
    } else {
        location.set_query(Some(&encoded));
    }
    Ok(())
}

fn sign(shared: &Shared, claims: &Value, key: Option<&PrivateKey>) -> Result<String, String> {
    let mut header = Map::new();
    header.insert("alg".into(), json!("PS256"));
    let encoding = match key {
        Some(other) => {
            header.insert("kid".into(), json!(other.thumbprint()));
            other.encoding_key()
        }
        None => {
            header.insert("kid".into(), json!(shared.key.kid));
            &shared.key.encoding
        }
    };
    crate::jose::jwt::sign_compact(&header, claims, encoding, jsonwebtoken::Algorithm::PS256)
        .map_err(|e| format!("signing failed: {e}"))
}

/// The hybrid flow's id_token: `c_hash` over the code, `s_hash` over the state (FAPI 1
/// Advanced §5.1), encrypted to the client's `use: enc` key in Brazil mode.
fn id_token(
    shared: &Shared,
    par: &ParRecord,
    user: &DemoUser,
    code: &str,
) -> Result<String, String> {
    let failures = shared.failures;
    let hash = |value: &str| crate::jose::hash::half_hash("PS256", value).unwrap_or_default();
    let iat = now() as i64;
    let mut claims = json!({
        "iss": shared.issuer,
        "sub": user.sub,
        "aud": if failures.id_token_other_audience { "someone-else" } else { par.client_id.as_str() },
        "iat": iat,
        "exp": iat + 600,
        "auth_time": iat,
        "nonce": par.nonce,
        "c_hash": hash(if failures.wrong_c_hash { "another-code" } else { code }),
    });
    if let Some(state) = &par.state {
        let state = if failures.wrong_s_hash {
            "another-state"
        } else {
            state.as_str()
        };
        claims["s_hash"] = json!(hash(state));
    }
    let signed = sign(shared, &claims, None)?;
    if !shared.encrypt_id_tokens {
        return Ok(signed);
    }
    let jwks = shared
        .lock()
        .clients
        .get(&par.client_id)
        .map(|c| c.jwks.clone())
        .unwrap_or(Value::Null);
    let to = JweRecipient::from_jwks(&jwks, None).map_err(|e| {
        format!(
            "the id_token is encrypted to the client's use:enc key, and its JWK Set has none: {e}"
        )
    })?;
    let mut extra = Map::new();
    extra.insert("cty".into(), "JWT".into());
    // Brazil's servers name the RSA-OAEP (SHA-1) key management.
    encrypt(signed.as_bytes(), &extra, &to, KeyManagement::RsaOaep).map_err(|e| e.to_string())
}

/// A JARM response: the parameters as claims with `iss`, `aud` and `exp`, signed by the
/// sandbox (or, on request, by another key).
fn jarm_response(
    shared: &Shared,
    par: &ParRecord,
    params: &[(String, String)],
) -> Result<String, String> {
    let iat = now() as i64;
    let mut claims = json!({
        "iss": shared.issuer,
        "aud": par.client_id,
        "iat": iat,
        "exp": iat + JARM_LIFETIME_SECS,
    });
    for (name, value) in params {
        claims[name] = json!(value);
    }
    let other = if shared.failures.jarm_other_key {
        Some(PrivateKey::generate(KeyType::Rsa { bits: 2048 }).map_err(|e| e.to_string())?)
    } else {
        None
    };
    sign(shared, &claims, other.as_ref())
}
