//! PayNet's data APIs, played by the sandbox under `/v1`: every call must carry an
//! `x-signature` (either published format), verified with the client's registered keys,
//! each claim checked and a refusal naming it; every answer comes back in three layers,
//! signed by the hub (a P-256 key of the sandbox, `kid` `hub-…`), encrypted to the
//! client's encryption key (an RSA key with `use: enc` in its registered JWK Set), holding
//! a JWT signed by the data provider (the sandbox's own RSA key). The data consumer id
//! (`dc_id`) the sandbox expects is the client's `client_id`; the data provider id is
//! [`DP_ID`](super::DP_ID).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::resource::{authorize, consented};
use super::{DP_ID, Peer};
use crate::jose::encrypt::{JweRecipient, encrypt};
use crate::jose::jwe::KeyManagement;
use crate::jose::jwt;
use crate::jose::verify::{VerificationKey, verify};
use crate::sandbox::state::{Shared, json_response, now};

/// PayNet's own audience in a compact `x-signature`.
const PAYNET: &str = "Paynet OFP";
/// How long an `x-signature` is good for.
const SIGNATURE_LIFETIME_SECS: f64 = 300.0;
/// Clock leeway.
const LEEWAY_SECS: f64 = 60.0;
/// The largest request body read to check a detached signature.
const MAX_BODY: usize = 1024 * 1024;
/// Transactions per account in the demo.
const TRANSACTIONS: usize = 12;

fn refuse(status: StatusCode, error: &'static str, why: String) -> Response {
    json_response(
        status,
        json!({"error": error, "error_description": why}),
        None,
    )
}

/// The middleware of the `/v1` routes: the `x-signature` checked before the handler, its
/// JSON answer wrapped in three layers after it. A request without a known token goes
/// to the handler, which refuses it as every resource does.
pub(super) async fn layers(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the body is larger than 1 MiB".into(),
        );
    };
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .map(|(_, t)| t.trim().to_owned());
    let client = token.and_then(|t| {
        let inner = shared.lock();
        let client_id = inner.tokens.get(&t)?.client_id.clone();
        inner.clients.get(&client_id).cloned()
    });
    let Some(client) = client else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    // The URL as called: inside the nested router the path has lost its /v1.
    let called = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
    let url = format!(
        "{}{}",
        shared.issuer,
        called.path_and_query().map_or("", |p| p.as_str())
    );
    // `--fail stale-x-signature`: the signature judged ten minutes after it came.
    let judged_at = now()
        + if shared.failures.stale_x_signature {
            STALE_BY_SECS
        } else {
            0.0
        };
    if let Err(why) = check_x_signature(
        &parts.headers,
        &client.client_id,
        &client.jwks,
        &url,
        &bytes,
        judged_at,
    ) {
        return refuse(StatusCode::UNAUTHORIZED, "invalid_signature", why);
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if !response.status().is_success() {
        return response;
    }
    let (mut answer_parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the answer could not be read".into(),
        );
    };
    let data: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    match wrap(&shared, &client.client_id, &client.jwks, &data) {
        Ok(layered) => {
            answer_parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jose"),
            );
            answer_parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(answer_parts, Body::from(layered))
        }
        Err(why) => refuse(StatusCode::BAD_REQUEST, "invalid_client_metadata", why),
    }
}

/// Checks an `x-signature` in either published format against the client's keys, the
/// URL and the body; the refusal names the claim.
fn check_x_signature(
    headers: &HeaderMap,
    dc_id: &str,
    jwks: &Value,
    url: &str,
    body: &[u8],
    judged_at: f64,
) -> Result<(), String> {
    let value = headers
        .get("x-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or("no x-signature: every data call must be signed (PayNet OFP)")?;
    let keys = VerificationKey::Jwks(jwks.clone());
    if value.contains("..") {
        let detached = crate::jose::detached::parse_detached(value)
            .map_err(|e| format!("x-signature: {e}"))?;
        let status = detached.verify(body, &keys, &["iss", "jti", "iat"]);
        if !status.is_valid() {
            return Err(format!(
                "x-signature: {}",
                status.reason().unwrap_or("invalid")
            ));
        }
        let claim = |n: &str| detached.header.get(n).cloned().unwrap_or(Value::Null);
        if claim("iss") != dc_id {
            return Err(format!(
                "x-signature iss {} is not this data consumer ({dc_id})",
                claim("iss")
            ));
        }
        return check_times(judged_at, claim("iat").as_f64(), None, None);
    }
    let decoded = jwt::decode(value).map_err(|e| format!("x-signature: {e}"))?;
    let status = verify(&decoded, &keys);
    if !status.is_valid() {
        return Err(format!(
            "x-signature: {}",
            status.reason().unwrap_or("invalid")
        ));
    }
    let claims = decoded.unverified_claims().cloned().unwrap_or_default();
    let claim = |n: &str| claims.get(n).cloned().unwrap_or(Value::Null);
    if claim("iss") != dc_id {
        return Err(format!(
            "x-signature iss {} is not this data consumer ({dc_id})",
            claim("iss")
        ));
    }
    let aud = claim("aud");
    let audience = aud.as_array().cloned().unwrap_or_default();
    if !audience.iter().any(|a| a == DP_ID) || !audience.iter().any(|a| a == PAYNET) {
        return Err(format!(
            "x-signature aud {aud} must name this data provider ({DP_ID}) and {PAYNET:?}"
        ));
    }
    let (path_url, qpm) = split_url(url);
    if claim("url") != path_url.as_str() {
        return Err(format!(
            "x-signature url {} is not the URL called ({path_url})",
            claim("url")
        ));
    }
    if claim("qpm").as_object().cloned().unwrap_or_default() != qpm {
        return Err(format!(
            "x-signature qpm {} is not the query sent ({})",
            claim("qpm"),
            Value::Object(qpm)
        ));
    }
    if claim("jti").as_str().is_none_or(str::is_empty) {
        return Err("x-signature has no jti".into());
    }
    check_times(
        judged_at,
        claim("iat").as_f64(),
        claim("nbf").as_f64(),
        claim("exp").as_f64(),
    )
}

fn split_url(url: &str) -> (String, Map<String, Value>) {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return (url.to_owned(), Map::new());
    };
    let qpm = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    parsed.set_query(None);
    (parsed.to_string(), qpm)
}

/// How late `--fail stale-x-signature` judges a signature: past its 300 s.
const STALE_BY_SECS: f64 = 600.0;

fn check_times(
    now: f64,
    iat: Option<f64>,
    nbf: Option<f64>,
    exp: Option<f64>,
) -> Result<(), String> {
    let iat = iat.ok_or("x-signature has no iat")?;
    if iat > now + LEEWAY_SECS {
        return Err(format!(
            "x-signature iat is {:.0} s in the future",
            iat - now
        ));
    }
    if iat + SIGNATURE_LIFETIME_SECS + LEEWAY_SECS < now {
        return Err(format!(
            "x-signature iat is {:.0} s old: a signature is good for 300 s (stale)",
            now - iat
        ));
    }
    if let Some(nbf) = nbf
        && nbf > now + LEEWAY_SECS
    {
        return Err("x-signature nbf is in the future".into());
    }
    match exp {
        Some(exp) if exp + LEEWAY_SECS < now => Err("x-signature exp has passed (stale)".into()),
        Some(exp) if exp - iat > SIGNATURE_LIFETIME_SECS + 1.0 => Err(format!(
            "x-signature exp is {:.0} s after iat; at most 300",
            exp - iat
        )),
        _ => Ok(()),
    }
}

/// The three layers around `data`, as the hub sends them (or broken on request).
fn wrap(shared: &Shared, dc_id: &str, jwks: &Value, data: &Value) -> Result<String, String> {
    let now = now().floor() as i64;
    let provider_claims = json!({"iss": DP_ID, "aud": dc_id, "iat": now, "exp": now.saturating_add(300), "data": data});
    let mut header = Map::new();
    header.insert("alg".into(), "PS256".into());
    header.insert("kid".into(), shared.key.kid.clone().into());
    let inner = jwt::sign_compact(
        &header,
        &provider_claims,
        &shared.key.encoding,
        jsonwebtoken::Algorithm::PS256,
    )
    .map_err(|e| e.to_string())?;
    let to = if shared.failures.other_encryption_key {
        JweRecipient::from_jwk(&shared.key.public_jwk)
    } else {
        JweRecipient::from_jwks(jwks, None)
    }
    .map_err(|e| format!("the answer cannot be encrypted to this client: {e}; register an RSA key with use \"enc\" in its JWK Set"))?;
    let mut cty = Map::new();
    cty.insert("cty".into(), "JWT".into());
    let jwe = encrypt(inner.as_bytes(), &cty, &to, KeyManagement::RsaOaep256)
        .map_err(|e| e.to_string())?;
    let hub = shared
        .hub_key
        .as_ref()
        .ok_or("the sandbox has no hub key")?;
    let mut header = Map::new();
    header.insert("alg".into(), "ES256".into());
    header.insert("kid".into(), hub_kid(shared).into());
    let outer_claims = json!({
        "iss": PAYNET, "aud": dc_id, "iat": now, "nbf": now, "exp": now.saturating_add(300),
        "jti": uuid::Uuid::new_v4().to_string(), "data": jwe,
    });
    let outer = jwt::sign_compact(
        &header,
        &outer_claims,
        hub.encoding_key(),
        jsonwebtoken::Algorithm::ES256,
    )
    .map_err(|e| e.to_string())?;
    if shared.failures.tamper_layer {
        // One byte of the hub's signature changed: the outer layer no longer verifies.
        let (head, signature) = outer.rsplit_once('.').ok_or("no signature")?;
        let rest = signature.get(1..).unwrap_or_default();
        let first = if signature.starts_with('A') { 'B' } else { 'A' };
        return Ok(format!("{head}.{first}{rest}"));
    }
    Ok(outer)
}

/// The hub key's `kid`.
pub(crate) fn hub_kid(shared: &Shared) -> String {
    shared
        .hub_key
        .as_ref()
        .map(|k| format!("hub-{}", k.thumbprint().get(..8).unwrap_or_default()))
        .unwrap_or_default()
}

/// The hub key's public JWK, for `/jwks`.
pub(crate) fn hub_jwk(shared: &Shared) -> Option<Value> {
    let key = shared.hub_key.as_ref()?;
    let mut jwk = key.public_jwk(Some(&hub_kid(shared)), crate::jose::keys::SigningAlg::ES256);
    jwk["use"] = "sig".into();
    Some(jwk)
}

/// `GET /v1/providers`: the data providers (one: the sandbox), with a client-credentials
/// token; `next_page_params` pagination (a single page here).
pub(super) async fn providers(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let record = match authorize(&shared, &peer, &headers, method.as_str(), uri.path()) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    let body = json!({
        "data": {
            "providers": [{
                "dp_id": DP_ID,
                "name": "Token Inspector sandbox bank",
                "authorization_server": shared.issuer,
                "resource_server": format!("{}/v1", shared.issuer),
                "use_cases": ["account_information"],
            }],
            "next_page_params": null,
        }
    });
    json_response(StatusCode::OK, body, Some(&record.client_id))
}

/// `GET /v1/accounts/{id}/transactions?page_size=&next_page_params=`: made-up
/// transactions, a page at a time, the cursor opaque.
pub(super) async fn transactions(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    axum::extract::Path(account_id): axum::extract::Path<String>,
) -> Response {
    let (record, consent) =
        match consented(&shared, &peer, &headers, &method, &uri, "read_transactions") {
            Ok(c) => c,
            Err(response) => return *response,
        };
    let in_consent = consent
        .get("accounts")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|x| x.get("account_id").and_then(Value::as_str) == Some(account_id.as_str()))
        });
    if !in_consent {
        return refuse(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("account {account_id} is not in the token's consent"),
        );
    }
    let query: Map<String, Value> = split_url(&format!("http://x{uri}")).1;
    let page_size = query
        .get("page_size")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(5)
        .clamp(1, 100);
    let start = query
        .get("next_page_params")
        .and_then(Value::as_str)
        .and_then(|c| c.strip_prefix("after-"))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0)
        .min(TRANSACTIONS);
    let end = start.saturating_add(page_size).min(TRANSACTIONS);
    let seed: usize = account_id.bytes().map(usize::from).sum();
    let items: Vec<Value> = (start..end)
        .map(|i| {
            let cents = (seed.wrapping_mul(31).wrapping_add(i.wrapping_mul(977))) % 50_000;
            json!({
                "transaction_id": format!("{account_id}-t{i:03}"),
                "booking_date": format!("2026-11-{:02}", 28_usize.saturating_sub(i)),
                "amount": {"amount": format!("{}.{:02}", cents / 100, cents % 100), "currency": "MYR"},
                "credit_debit_indicator": if i % 3 == 0 { "credit" } else { "debit" },
            })
        })
        .collect();
    let next = (end < TRANSACTIONS).then(|| format!("after-{end}"));
    let body = json!({"data": {"account_id": account_id, "transactions": items, "next_page_params": next}});
    json_response(StatusCode::OK, body, Some(&record.client_id))
}

/// `POST /v1/consents/{id}/revoke` with a client-credentials token: the consent's tokens
/// stop working.
pub(super) async fn revoke_consent(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    axum::extract::Path(consent_id): axum::extract::Path<String>,
) -> Response {
    let record = match authorize(&shared, &peer, &headers, method.as_str(), uri.path()) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    let mut revoked = 0usize;
    for token in shared.lock().tokens.values_mut() {
        let of_consent = token.client_id == record.client_id
            && token
                .authorization_details
                .as_ref()
                .and_then(|d| d.get(0))
                .and_then(|d| d.get("consent"))
                .and_then(|c| c.get("consent_id"))
                .is_some_and(|id| id == consent_id.as_str());
        if of_consent && token.active {
            token.active = false;
            revoked = revoked.saturating_add(1);
        }
    }
    if revoked == 0 {
        return refuse(
            StatusCode::NOT_FOUND,
            "invalid_request",
            format!("no active consent {consent_id} of this client"),
        );
    }
    let body = json!({"data": {"consent_id": consent_id, "status": "revoked"}});
    json_response(StatusCode::OK, body, Some(&record.client_id))
}
