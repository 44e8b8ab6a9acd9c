//! Consents created before the authorization, so the UK and Brazil presets can be walked
//! against the sandbox, with a client-credentials token:
//! - UK Open Banking: `POST /open-banking/v3.1/aisp/account-access-consents` answers `201`
//!   with `Data.ConsentId` (`AwaitingAuthorisation`); the client carries the id in its
//!   request object as the essential claim `openbanking_intent_id` (OIDC Core §5.5);
//! - Open Finance Brasil: `POST /open-banking/consents/v3/consents` answers `201` with
//!   `data.consentId` (`AWAITING_AUTHORISATION`); the client carries it as the scope
//!   `consent:<id>`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::Peer;
use super::resource::authorize;
use crate::sandbox::state::{Shared, json_response};

/// `POST /open-banking/v3.1/aisp/account-access-consents`.
pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let record = match authorize(&shared, &peer, &headers, method.as_str(), uri.path()) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    let refuse = |why: &str| {
        json_response(
            StatusCode::BAD_REQUEST,
            json!({"Code": "400", "Message": why, "Errors": [{"ErrorCode": "UK.OBIE.Field.Invalid", "Message": why}]}),
            Some(&record.client_id),
        )
    };
    let Ok(consent) = serde_json::from_slice::<Value>(&body) else {
        return refuse("the body is not JSON");
    };
    if uri.path().starts_with("/open-banking/consents/") {
        return brazil(&shared, &record.client_id, &consent);
    }
    let Some(permissions) = consent
        .pointer("/Data/Permissions")
        .and_then(Value::as_array)
    else {
        return refuse("Data.Permissions is missing");
    };
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let id = format!("aac-{}", uuid::Uuid::new_v4());
    json_response(
        StatusCode::CREATED,
        json!({
            "Data": {
                "ConsentId": id,
                "Status": "AwaitingAuthorisation",
                "StatusUpdateDateTime": now,
                "CreationDateTime": now,
                "Permissions": permissions,
                "ExpirationDateTime": consent.pointer("/Data/ExpirationDateTime"),
            },
            "Risk": {},
            "Links": {"Self": format!("{}{}/{id}", shared.issuer, uri.path())},
            "Meta": {"TotalPages": 1},
        }),
        Some(&record.client_id),
    )
}

/// Open Finance Brasil's consent: `data.permissions` asked for, `data.consentId` answered.
fn brazil(shared: &Shared, client_id: &str, consent: &Value) -> Response {
    let Some(permissions) = consent
        .pointer("/data/permissions")
        .and_then(Value::as_array)
    else {
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"errors": [{"code": "PARAMETRO_NAO_INFORMADO", "title": "data.permissions", "detail": "data.permissions is missing"}]}),
            Some(client_id),
        );
    };
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let id = format!("urn:sandbox:{}", uuid::Uuid::new_v4());
    json_response(
        StatusCode::CREATED,
        json!({
            "data": {
                "consentId": id,
                "status": "AWAITING_AUTHORISATION",
                "creationDateTime": now,
                "statusUpdateDateTime": now,
                "permissions": permissions,
                "expirationDateTime": consent.pointer("/data/expirationDateTime"),
            },
            "links": {"self": format!("{}/open-banking/consents/v3/consents/{id}", shared.issuer)},
            "meta": {"totalRecords": 1, "totalPages": 1},
        }),
        Some(client_id),
    )
}
