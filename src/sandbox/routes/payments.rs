//! Payments as UK and UAE banks take them, so message signing can be tried end to end:
//!
//! - `POST /open-banking/{version}/pisp/domestic-payments` (UK Open Banking): the
//!   request's `x-jws-signature` verified over the raw body with the client's registered
//!   keys (the three `http://openbanking.org.uk/` parameters critical; `b64` absent from
//!   v4, either way on v3.1, whose patch version the path does not say), the answer
//!   signed with the sandbox's key in the same style;
//! - `POST /open-finance/payment/v2.2/payments` (UAE): the body a JWT signed by the
//!   client (`iss` the client, `aud` the issuer, `exp` at most 5 minutes after `iat`),
//!   its `PersonalIdentifiableInformation` a JWE to the sandbox's `use: enc` key holding
//!   a JWT signed by the client; `x-idempotency-key` required and honoured; the answer a
//!   JWT signed by the sandbox (`application/jwt`).
//!
//! A refusal names what is wrong.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Peer;
use super::resource::authorize;
use crate::jose::detached::{parse_detached, sign_detached};
use crate::jose::jwe::{JweKey, decrypt};
use crate::jose::jwt::{self, Payload};
use crate::jose::keys::{KeyType, PrivateKey, SigningAlg};
use crate::jose::verify::{VerificationKey, verify};
use crate::oauth::message_signing::{uae, uk};
use crate::sandbox::state::{Shared, TokenRecord, json_response, now};

fn refuse(why: String) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"error": "invalid_request", "error_description": why}),
        None,
    )
}

/// The token's record and the registered keys of the client it was issued to, the
/// signatures' verification keys.
fn payer(
    shared: &Shared,
    peer: &Peer,
    headers: &HeaderMap,
    method: &Method,
    uri: &axum::http::Uri,
) -> Result<(TokenRecord, Value), Box<Response>> {
    let record = authorize(shared, peer, headers, method.as_str(), uri.path())?;
    let jwks = shared
        .lock()
        .clients
        .get(&record.client_id)
        .map(|c| c.jwks.clone());
    match jwks {
        Some(jwks) => Ok((record, jwks)),
        None => Err(Box::new(refuse(
            "the client has no registered keys to verify the signature with".into(),
        ))),
    }
}

/// The sandbox's `use: enc` RSA key, made on first use (off the runtime: RSA key
/// generation is slow in debug builds) and shared by the sandboxes of one process, so a
/// test run pays for it once.
pub(crate) async fn encryption_key(_shared: &Arc<Shared>) -> Option<&'static PrivateKey> {
    static KEY: std::sync::OnceLock<PrivateKey> = std::sync::OnceLock::new();
    if KEY.get().is_none() {
        let made =
            tokio::task::spawn_blocking(|| PrivateKey::generate(KeyType::Rsa { bits: 2048 }))
                .await
                .ok()
                .and_then(Result::ok)?;
        let _ = KEY.set(made);
    }
    KEY.get()
}

/// The encryption key's public JWK (`use: enc`), for `/jwks`.
pub(crate) async fn encryption_jwk(shared: &Arc<Shared>) -> Option<Value> {
    let key = encryption_key(shared).await?;
    let mut jwk = key.public_jwk(
        Some(&format!("enc-{}", key.thumbprint())),
        SigningAlg::PS256,
    );
    if let Some(map) = jwk.as_object_mut() {
        map.remove("alg");
        map.insert("use".into(), "enc".into());
    }
    Some(jwk)
}

/// `POST /open-banking/{version}/pisp/domestic-payments`.
pub(super) async fn uk_payment(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (record, jwks) = match payer(&shared, &peer, &headers, &method, &uri) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    if let Err(why) = check_jws_signature(&headers, &body, &jwks, &version) {
        return refuse(format!("x-jws-signature: {why}"));
    }
    let Ok(payment) = serde_json::from_slice::<Value>(&body) else {
        return refuse("the body is not JSON".into());
    };
    let answer = json!({
        "Data": {
            "DomesticPaymentId": uuid::Uuid::new_v4().to_string(),
            "ConsentId": payment.pointer("/Data/ConsentId"),
            "Status": "AcceptedSettlementInProcess",
            "Initiation": payment.pointer("/Data/Initiation"),
        },
        "Links": {"Self": format!("{}{}", shared.issuer, uri.path())},
    });
    let text = answer.to_string();
    let unencoded = version.starts_with("v3");
    let mut header = Map::new();
    header.insert("alg".into(), "PS256".into());
    header.insert("kid".into(), shared.key.kid.clone().into());
    header.insert("typ".into(), "JOSE".into());
    header.insert("cty".into(), "application/json".into());
    let mut crit = vec![];
    if unencoded {
        header.insert("b64".into(), false.into());
        crit.push("b64");
    }
    header.insert(uk::IAT.into(), (now() as i64).into());
    header.insert(uk::ISS.into(), shared.issuer.clone().into());
    header.insert(uk::TAN.into(), uk::DEFAULT_TAN.into());
    crit.extend([uk::IAT, uk::ISS, uk::TAN]);
    header.insert("crit".into(), json!(crit));
    let signature = sign_detached(
        &header,
        text.as_bytes(),
        &shared.key.encoding,
        jsonwebtoken::Algorithm::PS256,
    );
    let mut response = json_response(StatusCode::CREATED, answer, Some(&record.client_id));
    if let Ok(Ok(value)) = signature.map(|s| HeaderValue::from_str(&s)) {
        response.headers_mut().insert(uk::HEADER, value);
    }
    response
}

fn check_jws_signature(
    headers: &HeaderMap,
    body: &[u8],
    jwks: &Value,
    version: &str,
) -> Result<(), String> {
    let value = headers
        .get(uk::HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or("missing")?;
    let parsed = parse_detached(value).map_err(|e| e.to_string())?;
    if version.starts_with("v4") && parsed.header.contains_key("b64") {
        return Err("b64 must be absent from version 3.1.4 on (this API is v4)".into());
    }
    let status = parsed.verify(
        body,
        &VerificationKey::Jwks(jwks.clone()),
        &[uk::IAT, uk::ISS, uk::TAN],
    );
    if !status.is_valid() {
        return Err(format!(
            "the signature does not verify over the body: {status:?}"
        ));
    }
    for name in [uk::IAT, uk::ISS, uk::TAN] {
        if !parsed.header.contains_key(name) {
            return Err(format!("{name} is missing"));
        }
    }
    let iat = parsed.header[uk::IAT].as_f64().unwrap_or(0.0);
    if (now() - iat).abs() > 300.0 {
        return Err(format!("{} is more than 5 minutes from now", uk::IAT));
    }
    Ok(())
}

/// `POST /open-finance/payment/v2.2/payments`.
pub(super) async fn uae_payment(
    State(shared): State<Arc<Shared>>,
    peer: Peer,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (record, jwks) = match payer(&shared, &peer, &headers, &method, &uri) {
        Ok(p) => p,
        Err(response) => return *response,
    };
    let Some(enc) = encryption_key(&shared).await else {
        return refuse("the sandbox has no encryption key".into());
    };
    let opened = open_uae_payment(&shared, &headers, &body, &jwks, enc, &record.client_id);
    let (message, pii) = match opened {
        Ok(o) => o,
        Err(why) => return refuse(why),
    };
    let key = headers
        .get(uae::IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let payment_id = shared.lock().payment_id(&record.client_id, &key);
    let claims = json!({
        "message": {"Data": {
            "PaymentId": payment_id,
            "ConsentId": message.pointer("/Data/ConsentId"),
            "Status": "Pending",
            "Instruction": message.pointer("/Data/Instruction"),
            "CreditorName": pii.pointer("/Initiation/CreditorAccount/Name/en"),
        }},
        "iss": shared.issuer,
        "aud": record.client_id,
        "iat": now() as i64,
        "exp": now() as i64 + uae::LIFETIME_SECS,
    });
    let mut header = Map::new();
    header.insert("alg".into(), "PS256".into());
    header.insert("kid".into(), shared.key.kid.clone().into());
    header.insert("typ".into(), "JWT".into());
    match jwt::sign_compact(
        &header,
        &claims,
        &shared.key.encoding,
        jsonwebtoken::Algorithm::PS256,
    ) {
        Ok(text) => (
            StatusCode::CREATED,
            [("content-type", uae::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(e) => refuse(format!("the answer could not be signed: {e}")),
    }
}

/// The payment's message and its personal data, each checked; the refusal names what.
fn open_uae_payment(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
    jwks: &Value,
    enc: &PrivateKey,
    client_id: &str,
) -> Result<(Value, Value), String> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with(uae::CONTENT_TYPE) {
        return Err(format!(
            "the body must be {}, not {content_type:?}",
            uae::CONTENT_TYPE
        ));
    }
    let key = headers
        .get(uae::IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if key.is_empty() || key.len() > uae::IDEMPOTENCY_KEY_MAX {
        return Err(format!(
            "{} is missing or over {} characters",
            uae::IDEMPOTENCY_HEADER,
            uae::IDEMPOTENCY_KEY_MAX
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| "the body is not text".to_owned())?;
    let claims = signed_claims(text, jwks, "the body")?;
    let expect = |name: &str, want: &str| {
        if claims.get(name).and_then(Value::as_str) == Some(want) {
            Ok(())
        } else {
            Err(format!(
                "the body's {name} is {}, not {want}",
                claims.get(name).unwrap_or(&Value::Null)
            ))
        }
    };
    expect("iss", client_id)?;
    expect("aud", &shared.issuer)?;
    let (iat, exp) = (
        claims.get("iat").and_then(Value::as_f64),
        claims.get("exp").and_then(Value::as_f64),
    );
    match (iat, exp) {
        (Some(iat), Some(exp)) if exp - iat <= 300.0 && exp > now() => {}
        _ => {
            return Err(
                "the body's exp must be after now and at most 5 minutes after its iat".into(),
            );
        }
    }
    let message = claims
        .get("message")
        .cloned()
        .ok_or("the body has no message")?;
    let jwe = message
        .pointer("/Data/PersonalIdentifiableInformation")
        .and_then(Value::as_str)
        .ok_or("message.Data.PersonalIdentifiableInformation is not a JWE")?;
    let decoded = jwt::decode(jwe).map_err(|e| format!("PersonalIdentifiableInformation: {e}"))?;
    let pem = enc.to_pkcs8_pem().clone();
    let inner = match decrypt(&decoded, &JweKey::RsaPrivatePem(pem)) {
        Ok(Payload::Text(t)) => t,
        Ok(_) => return Err("PersonalIdentifiableInformation does not hold a JWT".into()),
        Err(e) => {
            return Err(format!(
                "PersonalIdentifiableInformation cannot be decrypted with the sandbox's use:enc key: {e}"
            ));
        }
    };
    let pii = signed_claims(&inner, jwks, "the personal data")?;
    if pii.get("sub").and_then(Value::as_str) != Some(client_id) {
        return Err("the personal data's sub is not the client".into());
    }
    Ok((message, Value::Object(pii)))
}

fn signed_claims(text: &str, jwks: &Value, what: &str) -> Result<Map<String, Value>, String> {
    let decoded = jwt::decode(text.trim()).map_err(|e| format!("{what} is not a JWT: {e}"))?;
    let status = verify(&decoded, &VerificationKey::Jwks(jwks.clone()));
    if !status.is_valid() {
        return Err(format!(
            "{what}'s signature does not verify with the client's keys: {status:?}"
        ));
    }
    decoded
        .unverified_claims()
        .cloned()
        .ok_or_else(|| format!("{what} has no claims"))
}
