//! The HTTP endpoints of the sandbox and the rules each one enforces.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::assertion::{Kind, authenticate, numeric_date, verify_client_jws};
use super::consent;
use super::demo::{DEMO_USERS, DemoAccount, DemoUser, user};
use super::log::{self, LogInfo};
use super::state::{
    CodeRecord, ConsentRequest, OAuthError, ParRecord, Params, Shared, TokenKind, TokenRecord,
    json_response, now, validate_jwks,
};
use super::tls::PeerCert;
use super::{
    ACCESS_TOKEN_LIFETIME_SECS, CLOCK_SKEW_SECS, ClientRegistration, MAX_ASSERTION_LIFETIME_SECS,
    PAR_LIFETIME_SECS,
};
use crate::jose::jwt::b64url;
use crate::storage::presets::MALAYSIA_ACCOUNT_ACCESS_CONSENT;

/// The `request_uri` prefix of RFC 9126 §2.2.
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// id_token lifetime (the seed's 900 s).
const ID_TOKEN_LIFETIME_SECS: i64 = 900;
/// The seed's `acr`.
const ACR: &str = "acr:paynet-sandbox";
/// The data provider id put in consents.
const DP_ID: &str = "DP9876543210";

type Peer = Option<Extension<PeerCert>>;

/// Builds the router with the logging middleware.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/par", post(par))
        .route("/authorize", get(authorize_get).post(authorize_post))
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .route("/introspect", post(introspect))
        .route("/userinfo", get(userinfo).post(userinfo))
        .route("/register", post(register))
        .route("/callback", get(callback))
        .layer(from_fn_with_state(shared.clone(), log::middleware))
        .with_state(shared)
}

fn peer_cert(peer: &Peer) -> Option<&[u8]> {
    peer.as_ref()
        .and_then(|Extension(p)| p.0.as_deref().map(Vec::as_slice))
}

/// RFC 8705 §3.1: base64url(SHA-256(certificate DER)).
fn x5t_s256(cert: &[u8]) -> String {
    b64url(Sha256::digest(cert))
}

fn finish(result: Result<Response, OAuthError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

fn require_form(headers: &HeaderMap) -> Result<(), OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(())
    } else if ct.is_empty() {
        Err(OAuthError::invalid_request(
            "missing Content-Type: the body must be application/x-www-form-urlencoded",
        ))
    } else {
        Err(OAuthError::invalid_request(format!(
            "Content-Type is {ct:?}; the body must be application/x-www-form-urlencoded"
        )))
    }
}

fn iso_millis(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

// ---------------------------------------------------------------- discovery, jwks

async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    let url = |p: &str| shared.url(p);
    let mut auth_methods = vec!["private_key_jwt"];
    if shared.tls {
        auth_methods.extend(["tls_client_auth", "self_signed_tls_client_auth"]);
    }
    let signing_algs = json!(["PS256", "ES256", "EdDSA"]);
    let mut doc = json!({
        "issuer": shared.issuer,
        "authorization_endpoint": url("/authorize"),
        "token_endpoint": url("/token"),
        "pushed_authorization_request_endpoint": url("/par"),
        "jwks_uri": url("/jwks"),
        "revocation_endpoint": url("/revoke"),
        "introspection_endpoint": url("/introspect"),
        "userinfo_endpoint": url("/userinfo"),
        "registration_endpoint": url("/register"),
        "scopes_supported": ["openid", "accounts", "profile"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": signing_algs,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "request_object_signing_alg_values_supported": signing_algs,
        "id_token_signing_alg_values_supported": ["PS256"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_details_types_supported": [MALAYSIA_ACCOUNT_ACCESS_CONSENT],
        "authorization_response_iss_parameter_supported": true,
        "require_pushed_authorization_requests": true,
        "request_parameter_supported": true,
        "acr_values_supported": [ACR],
        "claims_supported": [
            "sub", "acr", "amr", "name", "given_name", "family_name", "preferred_username",
            "email", "email_verified", "id_type", "hashed_id_number", "auth_time", "nonce",
            "at_hash", "c_hash"
        ],
    });
    if shared.tls
        && let Some(map) = doc.as_object_mut()
    {
        map.insert(
            "tls_client_certificate_bound_access_tokens".into(),
            json!(true),
        );
        map.insert(
            "mtls_endpoint_aliases".into(),
            json!({
                "token_endpoint": url("/token"),
                "pushed_authorization_request_endpoint": url("/par"),
                "revocation_endpoint": url("/revoke"),
                "introspection_endpoint": url("/introspect"),
                "userinfo_endpoint": url("/userinfo"),
            }),
        );
    }
    json_response(StatusCode::OK, doc, None)
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        json!({ "keys": [shared.key.public_jwk.clone()] }),
        None,
    )
}

// ---------------------------------------------------------------- PAR (RFC 9126)

/// The authorization request parameters, from the form or a request object.
struct AuthzParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    authorization_details: Option<Value>,
}

async fn par(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(par_inner(&shared, peer_cert(&peer), &headers, &body))
}

fn par_inner(
    shared: &Shared,
    peer: Option<&[u8]>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    require_form(headers)?;
    let params = Params::parse(body);
    let client = authenticate(shared, &params, "/par", peer)?;
    let client_id = client.client_id.clone();
    par_request(shared, &params, &client_id).map_err(|e| e.for_client(&client_id))
}

fn par_request(shared: &Shared, params: &Params, client_id: &str) -> Result<Response, OAuthError> {
    if params.get("request_uri")?.is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri must not be sent to the PAR endpoint (RFC 9126 §2.1)",
        ));
    }
    let authz = match params.get("request")? {
        Some(request) => request_object_params(shared, request, client_id)?,
        None => {
            let s = |name: &str| params.get(name).map(|v| v.map(str::to_owned));
            let authorization_details = match params.get("authorization_details")? {
                None => None,
                Some(text) => Some(serde_json::from_str::<Value>(text).map_err(|e| {
                    OAuthError::new(
                        "invalid_authorization_details",
                        format!("authorization_details is not JSON: {e} (RFC 9396 §2)"),
                    )
                })?),
            };
            AuthzParams {
                response_type: s("response_type")?,
                client_id: s("client_id")?,
                redirect_uri: s("redirect_uri")?,
                scope: s("scope")?,
                state: s("state")?,
                nonce: s("nonce")?,
                code_challenge: s("code_challenge")?,
                code_challenge_method: s("code_challenge_method")?,
                authorization_details,
            }
        }
    };
    let missing = |name: &str| OAuthError::invalid_request(format!("missing parameter: {name}"));
    let response_type = authz
        .response_type
        .ok_or_else(|| missing("response_type"))?;
    if response_type != "code" {
        return Err(OAuthError::new(
            "unsupported_response_type",
            format!("response_type {response_type:?} is not supported; use code (FAPI 2.0)"),
        ));
    }
    let named = authz.client_id.ok_or_else(|| missing("client_id"))?;
    if named != client_id {
        return Err(OAuthError::invalid_request(format!(
            "client_id {named:?} is not the authenticated client {client_id:?}"
        )));
    }
    let redirect_uri = authz.redirect_uri.ok_or_else(|| missing("redirect_uri"))?;
    check_redirect_uri(&redirect_uri).map_err(OAuthError::invalid_request)?;
    let registered = shared
        .lock()
        .clients
        .get(client_id)
        .map(|c| c.redirect_uris.clone())
        .unwrap_or_default();
    if !registered.is_empty() && !registered.contains(&redirect_uri) {
        return Err(OAuthError::invalid_request(format!(
            "redirect_uri {redirect_uri:?} is not registered for client {client_id} (registered: {})",
            registered.join(", ")
        )));
    }
    let scope = authz.scope.ok_or_else(|| missing("scope"))?;
    let code_challenge = authz
        .code_challenge
        .ok_or_else(|| missing("code_challenge"))?;
    match authz.code_challenge_method.as_deref() {
        None => {
            return Err(OAuthError::invalid_request(
                "missing parameter: code_challenge_method (FAPI 2.0 requires S256)",
            ));
        }
        Some("S256") => {}
        Some("plain") => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method plain is refused: FAPI 2.0 requires S256 (RFC 7636 §4.2)",
            ));
        }
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "code_challenge_method {other:?} is not supported: use S256"
            )));
        }
    }
    if code_challenge.len() != 43
        || !code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(OAuthError::invalid_request(
            "code_challenge must be BASE64URL(SHA-256(code_verifier)): 43 characters of A-Z a-z 0-9 - _ (RFC 7636 §4.2)",
        ));
    }
    let consent_request = parse_authorization_details(authz.authorization_details.as_ref())?;
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", uuid::Uuid::new_v4());
    let record = ParRecord {
        client_id: client_id.to_owned(),
        redirect_uri,
        scope,
        state: authz.state,
        nonce: authz.nonce,
        code_challenge,
        consent_request,
        created_at: time::OffsetDateTime::now_utc(),
        expires_at: now() + PAR_LIFETIME_SECS as f64,
    };
    {
        let mut inner = shared.lock();
        let t = now();
        inner.pars.retain(|_, p| p.expires_at > t);
        inner.pars.insert(request_uri.clone(), record);
    }
    Ok(json_response(
        StatusCode::CREATED,
        json!({ "request_uri": request_uri, "expires_in": PAR_LIFETIME_SECS }),
        Some(client_id),
    ))
}

/// RFC 9101 request object: signed by the client, `aud` the issuer, `exp` present and
/// `exp - nbf` at most 60 minutes (FAPI 2.0 Message Signing §5.3.1).
fn request_object_params(
    shared: &Shared,
    request: &str,
    client_id: &str,
) -> Result<AuthzParams, OAuthError> {
    let err = |msg: String| OAuthError::new("invalid_request_object", msg);
    let signed = verify_client_jws(shared, request, "request object", Kind::RequestObject)?;
    if signed.client_id != client_id {
        return Err(err(format!(
            "request object iss {:?} is not the authenticated client {client_id:?}",
            signed.client_id
        )));
    }
    let claims = signed.claims;
    let issuer = &shared.issuer;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == issuer,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(err(format!(
            "request object aud must be the issuer {issuer}"
        )));
    }
    let now = now();
    let exp = claims
        .get("exp")
        .ok_or_else(|| err("request object has no exp claim".into()))
        .and_then(|v| numeric_date(v, "exp").map_err(err))?;
    if now > exp + CLOCK_SKEW_SECS {
        return Err(err(format!(
            "request object expired {:.0} s ago",
            now - exp
        )));
    }
    if let Some(v) = claims.get("nbf") {
        let nbf = numeric_date(v, "nbf").map_err(err)?;
        if nbf > now + CLOCK_SKEW_SECS {
            return Err(err("request object nbf is in the future".into()));
        }
        if exp - nbf > MAX_ASSERTION_LIFETIME_SECS {
            return Err(err(format!(
                "request object lifetime exp - nbf is {:.0} s; at most 3600 s (60 min, FAPI 2.0)",
                exp - nbf
            )));
        }
    }
    let s = |name: &str| match claims.get(name) {
        Some(Value::String(v)) if !v.is_empty() => Ok(Some(v.clone())),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(err(format!("request object claim {name} is not a string"))),
    };
    let authorization_details = match claims.get("authorization_details") {
        Some(Value::String(text)) => Some(serde_json::from_str::<Value>(text).map_err(|e| {
            OAuthError::new(
                "invalid_authorization_details",
                format!("authorization_details is not JSON: {e}"),
            )
        })?),
        Some(other) => Some(other.clone()),
        None => None,
    };
    Ok(AuthzParams {
        response_type: s("response_type")?,
        client_id: s("client_id")?,
        redirect_uri: s("redirect_uri")?,
        scope: s("scope")?,
        state: s("state")?,
        nonce: s("nonce")?,
        code_challenge: s("code_challenge")?,
        code_challenge_method: s("code_challenge_method")?,
        authorization_details,
    })
}

fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri)
        .map_err(|e| format!("redirect_uri {uri:?} is not an absolute URI: {e}"))?;
    if parsed.fragment().is_some() {
        return Err(format!(
            "redirect_uri {uri:?} has a fragment (RFC 6749 §3.1.2 forbids it)"
        ));
    }
    Ok(())
}

fn default_expiration() -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(90);
    format!(
        "{:04}-{:02}-{:02}T23:59:59Z",
        t.year(),
        u8::from(t.month()),
        t.day()
    )
}

/// Reads the account access consent asked for (RFC 9396 `authorization_details`).
fn parse_authorization_details(details: Option<&Value>) -> Result<ConsentRequest, OAuthError> {
    let err = |msg: String| OAuthError::new("invalid_authorization_details", msg);
    let mut request = ConsentRequest {
        permissions: vec![
            json!("read_accounts"),
            json!("read_transactions"),
            json!("read_balances"),
        ],
        purpose: "pfm".into(),
        expiration_datetime: default_expiration(),
    };
    let Some(details) = details else {
        return Ok(request);
    };
    let Some(list) = details.as_array() else {
        return Err(err(
            "authorization_details must be a JSON array of objects (RFC 9396 §2)".into(),
        ));
    };
    for (i, item) in list.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            return Err(err(format!(
                "authorization_details[{i}] is not a JSON object (RFC 9396 §2)"
            )));
        };
        let Some(kind) = obj.get("type").and_then(Value::as_str) else {
            return Err(err(format!(
                "authorization_details[{i}] has no type (RFC 9396 §2 requires it)"
            )));
        };
        if kind != MALAYSIA_ACCOUNT_ACCESS_CONSENT {
            return Err(err(format!(
                "authorization_details[{i}] type {kind:?} is unknown; this sandbox supports {MALAYSIA_ACCOUNT_ACCESS_CONSENT}"
            )));
        }
        let source: &Map<String, Value> =
            obj.get("consent").and_then(Value::as_object).unwrap_or(obj);
        if let Some(perms) = source.get("permissions") {
            let ok = perms
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
            if !ok {
                return Err(err(format!(
                    "authorization_details[{i}] permissions must be a non-empty array of strings"
                )));
            }
            request.permissions = perms.as_array().cloned().unwrap_or_default();
        }
        if let Some(p) = source
            .get("consent_purpose")
            .or_else(|| source.get("purpose"))
            .and_then(Value::as_str)
        {
            request.purpose = p.to_owned();
        }
        if let Some(e) = source.get("expiration_datetime") {
            let text = e.as_str().unwrap_or_default();
            if time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .is_err()
            {
                return Err(err(format!(
                    "authorization_details[{i}] expiration_datetime {e} is not an RFC 3339 date-time"
                )));
            }
            request.expiration_datetime = text.to_owned();
        }
    }
    Ok(request)
}

// ---------------------------------------------------------------- authorize

fn page(status: StatusCode, html: String, info: LogInfo) -> Response {
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(info);
    response
}

fn error_page(error: &str, description: String, client_id: Option<&str>) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        consent::error_page(error, &description),
        LogInfo {
            client_id: client_id.map(str::to_owned),
            error: Some(error.to_owned()),
            reason: Some(description),
        },
    )
}

fn redirect(location: &str, info: LogInfo) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(info);
    response
}

/// Finds the pushed request named by `client_id` and `request_uri`.
fn find_par(shared: &Shared, params: &Params) -> Result<(String, ParRecord), Box<Response>> {
    let get = |name: &str| params.get(name).ok().flatten().map(str::to_owned);
    let client_id = get("client_id");
    let fail = |desc: String| Box::new(error_page("invalid_request", desc, client_id.as_deref()));
    let Some(client_id) = client_id.clone() else {
        return Err(fail("missing parameter: client_id".into()));
    };
    let Some(request_uri) = get("request_uri") else {
        return Err(fail(
            "missing parameter: request_uri (this server requires pushed authorization requests, RFC 9126)".into(),
        ));
    };
    let record = shared.lock().pars.get(&request_uri).cloned();
    let Some(record) = record else {
        return Err(fail(format!(
            "request_uri {request_uri:?} is unknown or was already used; push the request to /par again"
        )));
    };
    if now() > record.expires_at {
        shared.lock().pars.remove(&request_uri);
        return Err(fail(format!(
            "request_uri expired (pushed requests live {PAR_LIFETIME_SECS} s); push the request to /par again"
        )));
    }
    if record.client_id != client_id {
        return Err(fail(format!(
            "client_id {client_id:?} is not the client that pushed the request ({})",
            record.client_id
        )));
    }
    Ok((request_uri, record))
}

async fn authorize_get(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let (request_uri, record) = match find_par(&shared, &params) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let auto = params.get("auto_approve").ok().flatten() == Some("true");
    if auto {
        let user = &DEMO_USERS[0];
        let accounts: Vec<&DemoAccount> = user.accounts.iter().collect();
        return approve(&shared, &request_uri, record, user, &accounts);
    }
    let client_id = record.client_id.clone();
    page(
        StatusCode::OK,
        consent::consent_page(&record, &request_uri),
        LogInfo {
            client_id: Some(client_id),
            ..LogInfo::default()
        },
    )
}

async fn authorize_post(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let params = Params::parse(&body);
    let (request_uri, record) = match find_par(&shared, &params) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let client_id = record.client_id.clone();
    let decision = params.get("decision").ok().flatten().unwrap_or_default();
    match decision {
        "approve" => {
            let sub = params.get("user").ok().flatten().unwrap_or_default();
            let Some(user) = user(sub) else {
                return error_page(
                    "invalid_request",
                    format!("unknown demo user {sub:?}"),
                    Some(&client_id),
                );
            };
            let chosen = params.all("account");
            let accounts: Vec<&DemoAccount> = user
                .accounts
                .iter()
                .filter(|a| chosen.contains(&a.account_id))
                .collect();
            if accounts.is_empty() {
                return error_page(
                    "invalid_request",
                    format!(
                        "choose at least one account of {} to share; go back and tick one",
                        user.name
                    ),
                    Some(&client_id),
                );
            }
            approve(&shared, &request_uri, record, user, &accounts)
        }
        "deny" => {
            shared.lock().pars.remove(&request_uri);
            let mut location = match url::Url::parse(&record.redirect_uri) {
                Ok(u) => u,
                Err(e) => {
                    return error_page("server_error", e.to_string(), Some(&client_id));
                }
            };
            {
                let mut q = location.query_pairs_mut();
                q.append_pair("error", "access_denied");
                q.append_pair("error_description", "the user denied the consent");
                if let Some(state) = &record.state {
                    q.append_pair("state", state);
                }
                q.append_pair("iss", &shared.issuer);
            }
            redirect(
                location.as_str(),
                LogInfo {
                    client_id: Some(client_id),
                    error: Some("access_denied".into()),
                    reason: Some("the user denied the consent".into()),
                },
            )
        }
        other => error_page(
            "invalid_request",
            format!("decision must be approve or deny, got {other:?}"),
            Some(&client_id),
        ),
    }
}

/// Consents for `user` with `accounts`, issues the code and redirects (RFC 9207 `iss`).
fn approve(
    shared: &Shared,
    request_uri: &str,
    par: ParRecord,
    user: &'static DemoUser,
    accounts: &[&DemoAccount],
) -> Response {
    let client_id = par.client_id.clone();
    let mut location = match url::Url::parse(&par.redirect_uri) {
        Ok(u) => u,
        Err(e) => return error_page("server_error", e.to_string(), Some(&client_id)),
    };
    let consent_id = uuid::Uuid::new_v4().to_string();
    let now_dt = time::OffsetDateTime::now_utc();
    let dc_id: String = Sha256::digest(client_id.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    let accounts_json: Vec<Value> = accounts
        .iter()
        .map(|a| {
            json!({
                "account_id": a.account_id,
                "account_number": a.account_number,
                "account_name": a.account_name,
            })
        })
        .collect();
    let authorization_details = json!([{
        "type": MALAYSIA_ACCOUNT_ACCESS_CONSENT,
        "consent": {
            "consent_id": consent_id,
            "dc_id": dc_id,
            "dp_id": DP_ID,
            "consent_type": MALAYSIA_ACCOUNT_ACCESS_CONSENT,
            "consent_purpose": par.consent_request.purpose,
            "permissions": par.consent_request.permissions,
            "expiration_datetime": par.consent_request.expiration_datetime,
            "status": "authorized",
            "created_at": iso_millis(par.created_at),
            "updated_at": iso_millis(now_dt),
            "updated_by": "data_provider_user",
            "accounts": accounts_json,
        }
    }]);
    let code = uuid::Uuid::new_v4().to_string();
    {
        let mut q = location.query_pairs_mut();
        q.append_pair("code", &code);
        if let Some(state) = &par.state {
            q.append_pair("state", state);
        }
        q.append_pair("iss", &shared.issuer);
    }
    let record = CodeRecord {
        sub: user.sub.to_owned(),
        authorization_details,
        grant_id: consent_id,
        auth_time: now_dt.unix_timestamp(),
        expires_at: now() + shared.code_lifetime.as_secs_f64(),
        used: false,
        par,
    };
    {
        let mut inner = shared.lock();
        if inner.pars.remove(request_uri).is_none() {
            drop(inner);
            return error_page(
                "invalid_request",
                "request_uri was already used; push the request to /par again".into(),
                Some(&client_id),
            );
        }
        let t = now();
        inner.codes.retain(|_, c| c.expires_at + 600.0 > t);
        inner.codes.insert(code, record);
    }
    redirect(
        location.as_str(),
        LogInfo {
            client_id: Some(client_id),
            ..LogInfo::default()
        },
    )
}

async fn callback(RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    page(
        StatusCode::OK,
        consent::callback_page(&params.0),
        LogInfo::default(),
    )
}

// ---------------------------------------------------------------- token

async fn token(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(token_inner(&shared, peer_cert(&peer), &headers, &body))
}

fn token_inner(
    shared: &Shared,
    peer: Option<&[u8]>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    require_form(headers)?;
    let params = Params::parse(body);
    let client = authenticate(shared, &params, "/token", peer)?;
    let client_id = client.client_id.as_str();
    let cnf = peer.map(x5t_s256);
    let result = match params.require("grant_type")? {
        "authorization_code" => authorization_code_grant(shared, &params, client_id, cnf),
        "refresh_token" => refresh_token_grant(shared, &params, client_id, cnf),
        "client_credentials" => client_credentials_grant(shared, &params, client_id, cnf),
        other => Err(OAuthError::new(
            "unsupported_grant_type",
            format!(
                "grant_type {other:?} is not supported (supported: authorization_code, refresh_token, client_credentials)"
            ),
        )),
    };
    result.map_err(|e| e.for_client(client_id))
}

/// BASE64URL of the left half of SHA-256 (OIDC Core §3.1.3.6 `at_hash`, §3.3.2.11
/// `c_hash`) for the sandbox's PS256 id_tokens.
fn half_hash(value: &str) -> String {
    crate::checks::id_token::half_hash("PS256", value).unwrap_or_default()
}

fn granted_scope(requested: &str) -> String {
    // The seed asked for "accounts" and was granted "accounts profile": kept on purpose.
    if requested.split(' ').any(|s| s == "profile") {
        requested.to_owned()
    } else {
        format!("{requested} profile")
    }
}

fn valid_verifier(verifier: &str) -> bool {
    crate::oauth::pkce::check_verifier(verifier).is_ok()
}

fn authorization_code_grant(
    shared: &Shared,
    params: &Params,
    client_id: &str,
    cnf: Option<String>,
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
        let challenge = crate::oauth::pkce::s256_challenge(verifier);
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
            cnf_x5t: cnf,
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
    body.insert("token_type".into(), json!("Bearer"));
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
    cnf: Option<String>,
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
        && cnf.as_ref() != Some(bound)
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
        cnf_x5t: old.cnf_x5t.clone().or(cnf),
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
    body.insert("token_type".into(), json!("Bearer"));
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
    cnf: Option<String>,
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
            cnf_x5t: cnf,
            code: None,
        },
    );
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access_token));
    body.insert("expires_in".into(), json!(ACCESS_TOKEN_LIFETIME_SECS));
    body.insert("token_type".into(), json!("Bearer"));
    if !scope.is_empty() {
        body.insert("scope".into(), json!(scope));
    }
    Ok(json_response(
        StatusCode::OK,
        Value::Object(body),
        Some(client_id),
    ))
}

// ---------------------------------------------------------------- revoke, introspect

async fn revoke(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(revoke_inner(&shared, peer_cert(&peer), &headers, &body))
}

/// RFC 7009 §2: revokes a token of the calling client; revoking a refresh token also
/// revokes the access tokens of the same grant. Unknown tokens answer 200 (§2.2).
fn revoke_inner(
    shared: &Shared,
    peer: Option<&[u8]>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    require_form(headers)?;
    let params = Params::parse(body);
    let client = authenticate(shared, &params, "/revoke", peer)?;
    let client_id = client.client_id.as_str();
    let token = params
        .require("token")
        .map_err(|e| e.for_client(client_id))?;
    let mut inner = shared.lock();
    if let Some(record) = inner.tokens.get(token).cloned() {
        if record.client_id != client_id {
            return Err(OAuthError::new(
                "unauthorized_client",
                "the token was issued to another client (RFC 7009 §2.1)",
            )
            .for_client(client_id));
        }
        if let Some(t) = inner.tokens.get_mut(token) {
            t.active = false;
        }
        if record.kind == TokenKind::Refresh
            && let Some(grant) = &record.grant_id
        {
            for t in inner.tokens.values_mut() {
                if t.grant_id.as_ref() == Some(grant) && t.client_id == client_id {
                    t.active = false;
                }
            }
        }
    }
    drop(inner);
    let mut response = StatusCode::OK.into_response();
    response.extensions_mut().insert(LogInfo {
        client_id: Some(client_id.to_owned()),
        ..LogInfo::default()
    });
    Ok(response)
}

async fn introspect(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    finish(introspect_inner(&shared, peer_cert(&peer), &headers, &body))
}

/// RFC 7662 §2.2, with `cnf.x5t#S256` (RFC 8705 §3.2) for certificate-bound tokens.
fn introspect_inner(
    shared: &Shared,
    peer: Option<&[u8]>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    require_form(headers)?;
    let params = Params::parse(body);
    let client = authenticate(shared, &params, "/introspect", peer)?;
    let client_id = client.client_id.as_str();
    let token = params
        .require("token")
        .map_err(|e| e.for_client(client_id))?;
    let record = shared.lock().tokens.get(token).cloned();
    let now = unix_now();
    let body = match record {
        Some(r) if r.is_active(now) => {
            let mut m = Map::new();
            m.insert("active".into(), json!(true));
            m.insert("scope".into(), json!(r.scope));
            m.insert("client_id".into(), json!(r.client_id));
            if r.kind == TokenKind::Access {
                m.insert("token_type".into(), json!("Bearer"));
            } else {
                m.insert("token_type".into(), json!("refresh_token"));
            }
            if let Some(exp) = r.expires_at {
                m.insert("exp".into(), json!(exp));
            }
            m.insert("iat".into(), json!(r.issued_at));
            if let Some(sub) = &r.sub {
                m.insert("sub".into(), json!(sub));
                if let Some(u) = user(sub) {
                    m.insert("username".into(), json!(u.preferred_username));
                }
            }
            m.insert("aud".into(), json!(r.client_id));
            m.insert("iss".into(), json!(shared.issuer));
            if let Some(grant) = &r.grant_id {
                m.insert("grant_id".into(), json!(grant));
            }
            if let Some(details) = &r.authorization_details {
                m.insert("authorization_details".into(), details.clone());
            }
            if let Some(x5t) = &r.cnf_x5t {
                m.insert("cnf".into(), json!({ "x5t#S256": x5t }));
            }
            Value::Object(m)
        }
        _ => json!({ "active": false }),
    };
    Ok(json_response(StatusCode::OK, body, Some(client_id)))
}

// ---------------------------------------------------------------- userinfo

async fn userinfo(State(shared): State<Arc<Shared>>, peer: Peer, headers: HeaderMap) -> Response {
    let bearer_error = |status: StatusCode, error: &'static str, desc: String| {
        let challenge = format!(
            "Bearer error=\"{error}\", error_description=\"{}\"",
            desc.replace('"', "'")
        );
        let mut response = OAuthError::new(error, desc)
            .with_status(status)
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = match auth.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            token.trim()
        }
        _ => {
            return bearer_error(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "missing Authorization: Bearer <access_token> header (RFC 6750 §2.1)".into(),
            );
        }
    };
    let record = shared.lock().tokens.get(token).cloned();
    let Some(record) = record.filter(|r| r.kind == TokenKind::Access && r.is_active(unix_now()))
    else {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is unknown, expired or revoked".into(),
        );
    };
    if let Some(bound) = &record.cnf_x5t
        && peer_cert(&peer).map(x5t_s256).as_ref() != Some(bound)
    {
        return bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is bound to a client certificate (RFC 8705 §3) that this connection did not present".into(),
        );
    }
    let Some(u) = record.sub.as_deref().and_then(user) else {
        return bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the access token has no end user (client_credentials); userinfo needs an authorization_code token".into(),
        );
    };
    let body = json!({
        "sub": u.sub,
        "name": u.name,
        "given_name": u.given_name,
        "family_name": u.family_name,
        "preferred_username": u.preferred_username,
        "email": u.email,
        "email_verified": "true",
        "id_type": u.id_type,
        "hashed_id_number": u.hashed_id_number,
    });
    json_response(StatusCode::OK, body, Some(&record.client_id))
}

// ---------------------------------------------------------------- register (RFC 7591)

async fn register(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    finish(register_inner(&shared, &body))
}

fn register_inner(shared: &Shared, body: &[u8]) -> Result<Response, OAuthError> {
    let meta_err = |msg: String| OAuthError::new("invalid_client_metadata", msg);
    let metadata: Value = serde_json::from_slice(body).map_err(|e| {
        OAuthError::invalid_request(format!(
            "the registration request must be a JSON object (RFC 7591 §3.1): {e}"
        ))
    })?;
    let Some(metadata) = metadata.as_object() else {
        return Err(OAuthError::invalid_request(
            "the registration request must be a JSON object (RFC 7591 §3.1)",
        ));
    };
    let client_id = match metadata.get("client_id") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
        Some(_) => return Err(meta_err("client_id must be a non-empty string".into())),
    };
    let jwks = match (metadata.get("jwks"), metadata.get("jwks_uri")) {
        (Some(jwks), _) => jwks.clone(),
        (None, Some(_)) => {
            return Err(meta_err(
                "jwks_uri is not supported by this sandbox; send the public keys inline in jwks"
                    .into(),
            ));
        }
        (None, None) => {
            return Err(meta_err(
                "missing metadata: jwks (the public keys that verify your client assertions)"
                    .into(),
            ));
        }
    };
    validate_jwks(&jwks).map_err(meta_err)?;
    let mut allowed = vec!["private_key_jwt"];
    if shared.tls {
        allowed.extend(["tls_client_auth", "self_signed_tls_client_auth"]);
    }
    let method = match metadata.get("token_endpoint_auth_method") {
        None => "private_key_jwt".to_owned(),
        Some(Value::String(m)) if allowed.contains(&m.as_str()) => m.clone(),
        Some(other) => {
            return Err(meta_err(format!(
                "token_endpoint_auth_method {other} is not supported (supported: {})",
                allowed.join(", ")
            )));
        }
    };
    let redirect_uris: Vec<String> = match metadata.get("redirect_uris") {
        None => Vec::new(),
        Some(Value::Array(list)) => {
            let mut out = Vec::new();
            for v in list {
                let Some(uri) = v.as_str() else {
                    return Err(OAuthError::new(
                        "invalid_redirect_uri",
                        "redirect_uris must be an array of strings",
                    ));
                };
                check_redirect_uri(uri).map_err(|e| OAuthError::new("invalid_redirect_uri", e))?;
                out.push(uri.to_owned());
            }
            out
        }
        Some(_) => {
            return Err(OAuthError::new(
                "invalid_redirect_uri",
                "redirect_uris must be an array of strings",
            ));
        }
    };
    {
        let mut inner = shared.lock();
        if inner.clients.contains_key(&client_id) {
            return Err(meta_err(format!(
                "client_id {client_id:?} is already registered; choose another or leave client_id out"
            )));
        }
        inner.clients.insert(
            client_id.clone(),
            ClientRegistration {
                client_id: client_id.clone(),
                jwks: jwks.clone(),
                redirect_uris: redirect_uris.clone(),
            },
        );
    }
    let body = json!({
        "client_id": client_id,
        "client_id_issued_at": unix_now(),
        "token_endpoint_auth_method": method,
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types": ["code"],
        "redirect_uris": redirect_uris,
        "jwks": jwks,
    });
    Ok(json_response(StatusCode::CREATED, body, Some(&client_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_s256() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(valid_verifier(verifier));
        assert_eq!(
            b64url(Sha256::digest(verifier.as_bytes())),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&"a+".repeat(30)));
    }

    #[test]
    fn half_hash_is_the_left_128_bits() {
        let full = Sha256::digest(b"26e0bf38-9fab-48e5-8be6-4a906905f959");
        let h = half_hash("26e0bf38-9fab-48e5-8be6-4a906905f959");
        assert_eq!(h.len(), 22);
        assert_eq!(h, b64url(&full[..16]));
    }

    #[test]
    fn granted_scope_adds_profile_like_the_seed() {
        assert_eq!(granted_scope("accounts"), "accounts profile");
        assert_eq!(granted_scope("accounts profile"), "accounts profile");
    }

    #[test]
    fn consent_timestamps_have_milliseconds_like_the_seed() {
        let t = time::macros::datetime!(2026-01-30 10:12:42.671 UTC);
        assert_eq!(iso_millis(t), "2026-01-30T10:12:42.671Z");
    }

    #[test]
    fn authorization_details_are_read_or_refused() {
        let asked = json!([{"type": MALAYSIA_ACCOUNT_ACCESS_CONSENT,
            "consent": {"permissions": ["read_accounts"], "consent_purpose": "lending",
                "expiration_datetime": "2026-11-30T23:59:59Z"}}]);
        let r = parse_authorization_details(Some(&asked)).unwrap();
        assert_eq!(r.permissions, vec![json!("read_accounts")]);
        assert_eq!(r.purpose, "lending");
        assert_eq!(r.expiration_datetime, "2026-11-30T23:59:59Z");
        let unknown = json!([{"type": "payment_initiation"}]);
        let e = parse_authorization_details(Some(&unknown)).unwrap_err();
        assert_eq!(e.error, "invalid_authorization_details");
        assert!(e.description.contains("payment_initiation"));
        let e = parse_authorization_details(Some(&json!({"type": "x"}))).unwrap_err();
        assert!(e.description.contains("array"));
    }

    #[test]
    fn redirect_uris_must_be_absolute_without_fragment() {
        assert!(check_redirect_uri("https://tpp.example/cb").is_ok());
        assert!(check_redirect_uri("/cb").is_err());
        assert!(check_redirect_uri("https://tpp.example/cb#x").is_err());
    }
}
