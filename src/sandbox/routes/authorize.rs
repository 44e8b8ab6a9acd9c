//! The browser-facing authorization endpoint: the consent page, approve or deny, and the
//! redirect with `code`, `state` and `iss` (RFC 6749 §4.1.2, RFC 9207).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{DP_ID, iso_millis};
use crate::sandbox::PAR_LIFETIME_SECS;
use crate::sandbox::consent;
use crate::sandbox::demo::{DEMO_USERS, DemoAccount, DemoUser, user};
use crate::sandbox::log::LogInfo;
use crate::sandbox::state::{CodeRecord, ParRecord, Params, Shared, now};
use crate::storage::presets::MALAYSIA_ACCOUNT_ACCESS_CONSENT;

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

pub(super) async fn authorize_get(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let (request_uri, record) = match find_par(&shared, &params) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let auto = params.get("auto_approve").ok().flatten() == Some("true");
    if auto && shared.failures.deny_consent {
        return deny(&shared, &request_uri, &record);
    }
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

pub(super) async fn authorize_post(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
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
        "deny" => deny(&shared, &request_uri, &record),
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
    if let Err(why) = super::front_channel::answer(shared, &par, user, &code, &mut location) {
        return error_page("server_error", why, Some(&client_id));
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
        // A used or expired code is kept ten minutes longer: its reuse is refused as
        // reuse (its tokens revoked), not as an unknown code.
        let keep_until = record.expires_at + 600.0;
        inner.codes.insert(code, keep_until, record, now());
    }
    redirect(
        location.as_str(),
        LogInfo {
            client_id: Some(client_id),
            ..LogInfo::default()
        },
    )
}

pub(super) async fn callback(RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    page(
        StatusCode::OK,
        consent::callback_page(&params.0),
        LogInfo::default(),
    )
}

/// The user refused: back to the client with `access_denied` (RFC 6749 §4.1.2.1).
fn deny(shared: &Shared, request_uri: &str, record: &ParRecord) -> Response {
    let client_id = record.client_id.clone();
    shared.lock().pars.remove(request_uri);
    let mut location = match url::Url::parse(&record.redirect_uri) {
        Ok(u) => u,
        Err(e) => {
            return error_page("server_error", e.to_string(), Some(&client_id));
        }
    };
    let denied = [
        ("error", "access_denied"),
        ("error_description", "the user denied the consent"),
    ];
    if let Err(why) = super::front_channel::answer_error(shared, record, &denied, &mut location) {
        return error_page("server_error", why, Some(&client_id));
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
