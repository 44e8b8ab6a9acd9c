//! The protected resources: who may call (RFC 6750 Bearer, RFC 9449 DPoP), with the
//! binding the token carries (the client certificate, RFC 8705 §3; the DPoP key with a
//! proof whose `ath` matches, RFC 9449 §7), and `GET /accounts`, which answers with the
//! accounts of the token's consent when it grants `read_accounts`.

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Peer, peer_cert, unix_now, x5t_s256};
use crate::sandbox::state::{OAuthError, Shared, TokenKind, TokenRecord, json_response};

/// An RFC 6750 §3 / RFC 9449 §7.1 challenge answer.
pub(super) fn challenge(
    scheme: &str,
    status: StatusCode,
    error: &'static str,
    description: String,
    nonce: Option<&str>,
) -> Response {
    let value = format!(
        "{scheme} error=\"{error}\", error_description=\"{}\"",
        description.replace('"', "'")
    );
    let mut e = OAuthError::new(error, description).with_status(status);
    e.dpop_nonce = nonce.map(str::to_owned);
    let mut response = e.into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// The access token of a resource call, checked: known, active, an access token, and
/// presented with the binding it carries.
pub(super) fn authorize(
    shared: &Shared,
    peer: &Peer,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> Result<TokenRecord, Box<Response>> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (scheme, token) = match auth.split_once(' ') {
        Some((scheme, token)) if !token.trim().is_empty() => (scheme, token.trim()),
        _ => {
            return Err(Box::new(challenge(
                "Bearer",
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "missing Authorization: Bearer <token> (RFC 6750 §2.1) or DPoP <token> (RFC 9449 §7.1)".into(),
                None,
            )));
        }
    };
    let dpop = scheme.eq_ignore_ascii_case("dpop");
    if !dpop && !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Box::new(challenge(
            "Bearer",
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            format!("unknown authorization scheme {scheme:?}"),
            None,
        )));
    }
    let record = shared.lock().tokens.get(token).cloned();
    let Some(record) = record.filter(|r| r.kind == TokenKind::Access && r.is_active(unix_now()))
    else {
        return Err(Box::new(challenge(
            if dpop { "DPoP" } else { "Bearer" },
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is unknown, expired or revoked".into(),
            None,
        )));
    };
    if let Some(bound) = &record.cnf_x5t
        && peer_cert(peer).map(x5t_s256).as_ref() != Some(bound)
    {
        return Err(Box::new(challenge(
            "Bearer",
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is bound to a client certificate (RFC 8705 §3) that this connection did not present".into(),
            None,
        )));
    }
    if let Some(jkt) = &record.cnf_jkt {
        if !dpop {
            return Err(Box::new(challenge(
                "DPoP",
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is DPoP-bound: send Authorization: DPoP <token> with a DPoP proof (RFC 9449 §7.1)".into(),
                None,
            )));
        }
        match crate::sandbox::dpop::check_proof(shared, headers, method, path, Some(token)) {
            Ok(Some(proof_jkt)) if proof_jkt == *jkt => {}
            Ok(Some(_)) => {
                return Err(Box::new(challenge(
                    "DPoP",
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the DPoP proof is signed with another key than the token is bound to (cnf.jkt)".into(),
                    None,
                )));
            }
            Ok(None) => {
                return Err(Box::new(challenge(
                    "DPoP",
                    StatusCode::UNAUTHORIZED,
                    "invalid_dpop_proof",
                    "no DPoP proof sent with a DPoP-bound token".into(),
                    None,
                )));
            }
            Err(e) => {
                let status = StatusCode::UNAUTHORIZED;
                return Err(Box::new(challenge(
                    "DPoP",
                    status,
                    e.error,
                    e.description,
                    e.dpop_nonce.as_deref(),
                )));
            }
        }
    }
    Ok(record)
}

/// The token of a resource call, checked as [`authorize`] does, and its consent, which
/// must grant `permission`.
pub(super) fn consented(
    shared: &Shared,
    peer: &Peer,
    headers: &HeaderMap,
    method: &Method,
    uri: &axum::http::Uri,
    permission: &str,
) -> Result<(TokenRecord, Value), Box<Response>> {
    let record = authorize(shared, peer, headers, method.as_str(), uri.path())?;
    let consent = record
        .authorization_details
        .as_ref()
        .and_then(|d| d.get(0))
        .and_then(|d| d.get("consent"))
        .cloned()
        .unwrap_or(Value::Null);
    let consent_id = consent
        .get("consent_id")
        .and_then(Value::as_str)
        .unwrap_or("of this token");
    let refuse = |why: String| {
        Err(Box::new(challenge(
            record.token_type(),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            why,
            None,
        )))
    };
    if shared.failures.revoke_consent {
        return refuse(format!(
            "the consent {consent_id} was revoked by the user at the bank: ask for a new consent"
        ));
    }
    if let Some(until) = consent.get("expiration_datetime").and_then(Value::as_str)
        && let Some(at) = crate::jose::numeric_date::parse_rfc3339(until)
        && (at as f64) < crate::sandbox::state::now()
    {
        return refuse(format!("the consent {consent_id} expired at {until}"));
    }
    let granted = consent
        .get("permissions")
        .and_then(Value::as_array)
        .is_some_and(|p| p.iter().any(|v| v == permission));
    if !granted {
        return Err(Box::new(challenge(
            record.token_type(),
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("the token's consent does not grant {permission}"),
            None,
        )));
    }
    Ok((record, consent))
}

/// `GET /accounts/{id}/balances`: a made-up balance for an account of the token's
/// consent, when the consent grants `read_balances`.
pub(super) async fn balances(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    axum::extract::Path(account_id): axum::extract::Path<String>,
) -> Response {
    let (record, consent) =
        match consented(&shared, &peer, &headers, &method, &uri, "read_balances") {
            Ok(c) => c,
            Err(response) => return *response,
        };
    let account = consent
        .get("accounts")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|x| x.get("account_id").and_then(Value::as_str) == Some(account_id.as_str()))
        })
        .cloned();
    let Some(account) = account else {
        return challenge(
            record.token_type(),
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("account {account_id} is not in the token's consent"),
            None,
        );
    };
    // A stable made-up amount from the account number.
    let cents: u64 = account_id.bytes().map(u64::from).sum::<u64>() * 1379 % 10_000_000;
    let body = json!({
        "data": {
            "account_id": account_id,
            "account_name": account.get("account_name"),
            "balance": {"amount": format!("{}.{:02}", cents / 100, cents % 100), "currency": "MYR"},
        }
    });
    json_response(StatusCode::OK, body, Some(&record.client_id))
}

/// `GET /accounts`: the consent's accounts (RFC 9396 authorization details of the token).
pub(super) async fn accounts(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let (record, consent) =
        match consented(&shared, &peer, &headers, &method, &uri, "read_accounts") {
            Ok(c) => c,
            Err(response) => return *response,
        };
    let body = json!({
        "data": consent.get("accounts").cloned().unwrap_or(json!([])),
        "consent_id": consent.get("consent_id"),
    });
    json_response(StatusCode::OK, body, Some(&record.client_id))
}
