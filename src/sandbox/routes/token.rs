//! The token endpoint (RFC 6749 §3.2): authorization_code with PKCE, refresh_token and
//! client_credentials; id_tokens with `at_hash`/`c_hash`; tokens bound to the client
//! certificate (RFC 8705).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value, json};

use super::{ACR, ClientRequest, ID_TOKEN_LIFETIME_SECS, finish, unix_now, x5t_s256};
use crate::sandbox::ACCESS_TOKEN_LIFETIME_SECS;
use crate::sandbox::demo::{DEMO_USERS, DemoUser, user};
use crate::sandbox::state::{
    OAuthError, Params, Shared, TokenKind, TokenRecord, json_response, now,
};

/// RFC 6749 §3.2: the authenticated client asks for tokens with a grant.
pub(super) async fn token(State(shared): State<Arc<Shared>>, request: ClientRequest) -> Response {
    let client_id = request.client_id();
    let params = &request.params;
    let cnf = Binding {
        x5t: request.cert().map(x5t_s256),
        jkt: request.dpop_jkt.clone(),
    };
    let result = params.require("grant_type").and_then(|grant_type| match grant_type {
        "authorization_code" => authorization_code_grant(&shared, params, client_id, cnf),
        "refresh_token" => refresh_token_grant(&shared, params, client_id, cnf),
        "client_credentials" => client_credentials_grant(&shared, params, client_id, cnf),
        other => Err(OAuthError::new(
            "unsupported_grant_type",
            format!(
                "grant_type {other:?} is not supported (supported: authorization_code, refresh_token, client_credentials)"
            ),
        )),
    });
    finish(result.map_err(|e| e.for_client(client_id)))
}

/// What binds the tokens issued now: the client certificate (RFC 8705) and the DPoP key
/// (RFC 9449).
#[derive(Clone, Debug, Default)]
pub(super) struct Binding {
    x5t: Option<String>,
    jkt: Option<String>,
}

impl Binding {
    /// `DPoP` for a DPoP-bound token (RFC 9449 §5), else `Bearer`.
    fn token_type(&self) -> &'static str {
        if self.jkt.is_some() { "DPoP" } else { "Bearer" }
    }
}

/// BASE64URL of the left half of SHA-256 (OIDC Core §3.1.3.6 `at_hash`, §3.3.2.11
/// `c_hash`) for the sandbox's PS256 id_tokens.
pub(super) fn half_hash(value: &str) -> String {
    crate::jose::hash::half_hash("PS256", value).unwrap_or_default()
}

pub(super) fn granted_scope(requested: &str) -> String {
    // The seed asked for "accounts" and was granted "accounts profile": kept on purpose.
    if requested.split(' ').any(|s| s == "profile") {
        requested.to_owned()
    } else {
        format!("{requested} profile")
    }
}

pub(super) fn valid_verifier(verifier: &str) -> bool {
    crate::oauth::pkce::check_verifier(verifier).is_ok()
}

fn authorization_code_grant(
    shared: &Shared,
    params: &Params,
    client_id: &str,
    cnf: Binding,
) -> Result<Response, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.require("code_verifier")?;
    if !valid_verifier(verifier) {
        return Err(OAuthError::invalid_request(format!(
            "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1); got {} characters",
            verifier.len()
        )));
    }
    let issued_at = unix_now();
    let access_token = uuid::Uuid::new_v4().to_string();
    let refresh_token = uuid::Uuid::new_v4().to_string();
    let record = {
        let mut inner = shared.lock();
        let Some(record) = inner.codes.get_mut(code) else {
            return Err(OAuthError::invalid_grant(
                "code is unknown: this server never issued it",
            ));
        };
        if record.par.client_id != client_id {
            return Err(OAuthError::invalid_grant(format!(
                "code was issued to another client ({}), not {client_id}",
                record.par.client_id
            )));
        }
        if record.used {
            let mut revoked = 0;
            for token in inner.tokens.values_mut() {
                if token.code.as_deref() == Some(code) && token.active {
                    token.active = false;
                    revoked += 1;
                }
            }
            return Err(OAuthError::invalid_grant(format!(
                "code was already used; the {revoked} token(s) issued with it are now revoked (RFC 6749 §4.1.2)"
            )));
        }
        let t = now();
        if t > record.expires_at {
            return Err(OAuthError::invalid_grant(format!(
                "code expired {:.0} s ago (codes live {} s)",
                t - record.expires_at,
                shared.code_lifetime.as_secs()
            )));
        }
        if record.par.redirect_uri != redirect_uri {
            return Err(OAuthError::invalid_grant(format!(
                "redirect_uri {redirect_uri:?} does not match the one in the authorization request ({:?})",
                record.par.redirect_uri
            )));
        }
        let challenge = crate::jose::hash::s256(verifier);
        if challenge != record.par.code_challenge {
            return Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge (S256, RFC 7636 §4.6)",
            ));
        }
        record.used = true;
        let record = record.clone();
        let scope = granted_scope(&record.par.scope);
        let base = TokenRecord {
            kind: TokenKind::Access,
            client_id: client_id.to_owned(),
            scope,
            sub: Some(record.sub.clone()),
            grant_id: Some(record.grant_id.clone()),
            authorization_details: Some(record.authorization_details.clone()),
            state: record.par.state.clone(),
            issued_at,
            expires_at: Some(issued_at + ACCESS_TOKEN_LIFETIME_SECS as i64),
            active: true,
            cnf_x5t: cnf.x5t.clone(),
            cnf_jkt: cnf.jkt.clone(),
            code: Some(code.to_owned()),
        };
        let refresh = TokenRecord {
            kind: TokenKind::Refresh,
            expires_at: None,
            ..base.clone()
        };
        inner.insert_token(access_token.clone(), base);
        inner.insert_token(refresh_token.clone(), refresh);
        record
    };
    let user = user(&record.sub).unwrap_or(&DEMO_USERS[0]);
    let id_token = sign_id_token(
        shared,
        user,
        client_id,
        record.par.nonce.as_deref(),
        record.auth_time,
        &access_token,
        Some(code),
    )?;
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access_token));
    body.insert("expires_in".into(), json!(ACCESS_TOKEN_LIFETIME_SECS));
    body.insert("token_type".into(), json!(cnf.token_type()));
    body.insert("scope".into(), json!(granted_scope(&record.par.scope)));
    if let Some(state) = &record.par.state {
        body.insert("state".into(), json!(state));
    }
    body.insert(
        "authorization_details".into(),
        record.authorization_details.clone(),
    );
    body.insert("grant_id".into(), json!(record.grant_id));
    body.insert("refresh_token".into(), json!(refresh_token));
    body.insert("id_token".into(), json!(id_token));
    Ok(json_response(
        StatusCode::OK,
        Value::Object(body),
        Some(client_id),
    ))
}

fn sign_id_token(
    shared: &Shared,
    user: &DemoUser,
    client_id: &str,
    nonce: Option<&str>,
    auth_time: i64,
    access_token: &str,
    code: Option<&str>,
) -> Result<String, OAuthError> {
    let iat = unix_now();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.sub));
    claims.insert("acr".into(), json!(ACR));
    // The seed's quirks, kept on purpose: amr as a string, email_verified as a string.
    claims.insert("amr".into(), json!("mock"));
    claims.insert("name".into(), json!(user.name));
    claims.insert("given_name".into(), json!(user.given_name));
    claims.insert("family_name".into(), json!(user.family_name));
    claims.insert("preferred_username".into(), json!(user.preferred_username));
    claims.insert("email".into(), json!(user.email));
    claims.insert("email_verified".into(), json!("true"));
    claims.insert("id_type".into(), json!(user.id_type));
    claims.insert("hashed_id_number".into(), json!(user.hashed_id_number));
    claims.insert("iss".into(), json!(shared.issuer));
    claims.insert("aud".into(), json!(client_id));
    claims.insert("iat".into(), json!(iat));
    claims.insert("exp".into(), json!(iat + ID_TOKEN_LIFETIME_SECS));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    claims.insert("auth_time".into(), json!(auth_time));
    claims.insert("azp".into(), json!(client_id));
    claims.insert("at_hash".into(), json!(half_hash(access_token)));
    if let Some(code) = code {
        claims.insert("c_hash".into(), json!(half_hash(code)));
    }
    let mut header = Map::new();
    header.insert("alg".into(), json!("PS256"));
    header.insert("kid".into(), json!(shared.key.kid));
    crate::jose::jwt::sign_compact(
        &header,
        &Value::Object(claims),
        &shared.key.encoding,
        Algorithm::PS256,
    )
    .map_err(|e| {
        OAuthError::new("server_error", format!("signing the id_token failed: {e}"))
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
    })
}

fn refresh_token_grant(
    shared: &Shared,
    params: &Params,
    client_id: &str,
    cnf: Binding,
) -> Result<Response, OAuthError> {
    let presented = params.require("refresh_token")?;
    let asked_scope = params.get("scope")?;
    let issued_at = unix_now();
    let access_token = uuid::Uuid::new_v4().to_string();
    let mut inner = shared.lock();
    let Some(old) = inner
        .tokens
        .get(presented)
        .filter(|t| t.kind == TokenKind::Refresh)
        .cloned()
    else {
        return Err(OAuthError::invalid_grant(
            "refresh_token is unknown: this server never issued it",
        ));
    };
    if old.client_id != client_id {
        return Err(OAuthError::invalid_grant(format!(
            "refresh_token was issued to another client ({}), not {client_id}",
            old.client_id
        )));
    }
    if !old.active {
        let why = if shared.rotate_refresh_tokens {
            "refresh_token was already used or revoked; this server rotates refresh tokens, so use the newest one"
        } else {
            "refresh_token has been revoked"
        };
        return Err(OAuthError::invalid_grant(why));
    }
    if let Some(bound) = &old.cnf_x5t
        && cnf.x5t.as_ref() != Some(bound)
    {
        return Err(OAuthError::invalid_grant(
            "refresh_token is bound to a client certificate (RFC 8705 §3) that this connection did not present",
        ));
    }
    let scope = match asked_scope {
        None => old.scope.clone(),
        Some(asked) => {
            let granted: Vec<&str> = old.scope.split(' ').collect();
            if let Some(extra) = asked.split(' ').find(|s| !granted.contains(s)) {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!(
                        "scope {extra:?} was not granted with this refresh_token (granted: {})",
                        old.scope
                    ),
                ));
            }
            asked.to_owned()
        }
    };
    let access = TokenRecord {
        kind: TokenKind::Access,
        scope: scope.clone(),
        issued_at,
        expires_at: Some(issued_at + ACCESS_TOKEN_LIFETIME_SECS as i64),
        cnf_x5t: old.cnf_x5t.clone().or(cnf.x5t.clone()),
        cnf_jkt: old.cnf_jkt.clone().or(cnf.jkt.clone()),
        ..old.clone()
    };
    inner.insert_token(access_token.clone(), access);
    let refresh_token = if shared.rotate_refresh_tokens {
        let new = uuid::Uuid::new_v4().to_string();
        if let Some(t) = inner.tokens.get_mut(presented) {
            t.active = false;
        }
        inner.insert_token(
            new.clone(),
            TokenRecord {
                issued_at,
                ..old.clone()
            },
        );
        new
    } else {
        presented.to_owned()
    };
    drop(inner);
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access_token));
    body.insert("expires_in".into(), json!(ACCESS_TOKEN_LIFETIME_SECS));
    let bound_to_dpop = old.cnf_jkt.is_some() || cnf.jkt.is_some();
    body.insert(
        "token_type".into(),
        json!(if bound_to_dpop { "DPoP" } else { "Bearer" }),
    );
    body.insert("scope".into(), json!(scope));
    if let Some(state) = &old.state {
        body.insert("state".into(), json!(state));
    }
    if let Some(details) = &old.authorization_details {
        body.insert("authorization_details".into(), details.clone());
    }
    if let Some(grant_id) = &old.grant_id {
        body.insert("grant_id".into(), json!(grant_id));
    }
    body.insert("refresh_token".into(), json!(refresh_token));
    Ok(json_response(
        StatusCode::OK,
        Value::Object(body),
        Some(client_id),
    ))
}

fn client_credentials_grant(
    shared: &Shared,
    params: &Params,
    client_id: &str,
    cnf: Binding,
) -> Result<Response, OAuthError> {
    let scope = params.get("scope")?.unwrap_or_default().to_owned();
    let issued_at = unix_now();
    let access_token = uuid::Uuid::new_v4().to_string();
    shared.lock().insert_token(
        access_token.clone(),
        TokenRecord {
            kind: TokenKind::Access,
            client_id: client_id.to_owned(),
            scope: scope.clone(),
            sub: None,
            grant_id: None,
            authorization_details: None,
            state: None,
            issued_at,
            expires_at: Some(issued_at + ACCESS_TOKEN_LIFETIME_SECS as i64),
            active: true,
            cnf_x5t: cnf.x5t.clone(),
            cnf_jkt: cnf.jkt.clone(),
            code: None,
        },
    );
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access_token));
    body.insert("expires_in".into(), json!(ACCESS_TOKEN_LIFETIME_SECS));
    body.insert("token_type".into(), json!(cnf.token_type()));
    if !scope.is_empty() {
        body.insert("scope".into(), json!(scope));
    }
    Ok(json_response(
        StatusCode::OK,
        Value::Object(body),
        Some(client_id),
    ))
}
