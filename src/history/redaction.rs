//! What the history keeps of a secret: never its value; a fingerprint where it is a
//! credential worth recognising again.

use serde_json::{Map, Value, json};

use crate::jose::hash::fingerprint;
use crate::oauth::request::{FieldValue, RequestModel};

/// Members of an answer whose values are credentials.
const SECRET_MEMBERS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "client_secret",
    "registration_access_token",
    "issued_token_type_token",
];

/// A secret value as kept: never the value; a fingerprint where it is a credential
/// worth recognising again (not a client secret, which may be guessable).
fn redacted_field(name: &str, value: &FieldValue) -> Value {
    match value {
        FieldValue::Plain(v) => json!({"name": name, "value": v}),
        FieldValue::Secret(s) => {
            let low_entropy =
                name.eq_ignore_ascii_case("client_secret") || s.expose().starts_with("Basic ");
            if low_entropy {
                json!({"name": name, "value": null, "redacted": true})
            } else {
                json!({"name": name, "value": null, "redacted": true, "fingerprint": fingerprint(s.expose())})
            }
        }
    }
}

/// The request as the history keeps it (no secret value).
pub fn redacted_request(request: &RequestModel) -> Value {
    let mut out = json!({
        "method": request.method,
        "url": request.url,
        "headers": request.headers.iter().map(|h| redacted_field(&h.name, &h.value)).collect::<Vec<_>>(),
        "form": request.form.iter().map(|p| redacted_field(&p.name, &p.value)).collect::<Vec<_>>(),
    });
    let map = out.as_object_mut();
    if let Some(map) = map {
        if let Some(a) = &request.client_assertion {
            map.insert(
                "client_assertion".into(),
                json!({"header": a.header, "claims": a.claims}),
            );
        }
        if let Some(o) = &request.request_object {
            map.insert(
                "request_object".into(),
                json!({"header": o.header, "claims": o.claims}),
            );
        }
        if let Some(p) = &request.dpop {
            map.insert(
                "dpop_proof".into(),
                json!({"header": p.header, "claims": p.claims}),
            );
        }
        if let Some(body) = &request.json_body {
            map.insert("json_body".into(), redact_value(body));
        }
    }
    out
}

/// A kept header or form field's value for a reader: the value, or `<redacted>` with
/// the fingerprint when there is one.
pub fn shown_value(field: &Value) -> String {
    match (&field["value"], &field["fingerprint"]) {
        (Value::String(s), _) => s.clone(),
        (_, Value::String(fp)) => format!("<redacted {fp}>"),
        _ => "<redacted>".to_owned(),
    }
}

/// A JSON value with every credential member replaced by its fingerprint.
pub fn redact_value(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if SECRET_MEMBERS.contains(&k.as_str()) => {
                            Value::String(format!("<{}>", fingerprint(s)))
                        }
                        other => redact_value(other),
                    };
                    (k.clone(), v)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_value).collect()),
        other => other.clone(),
    }
}
