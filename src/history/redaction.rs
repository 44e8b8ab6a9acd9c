//! What the history keeps, and what it leaves out. It keeps what a diagnosis and a
//! support request need: names, statuses, fingerprints, decoded claims without personal
//! data. It never keeps a secret's value, a whole JWT, a cookie, an API answer's
//! personal data or a body that is not JSON.

use serde_json::{Map, Value, json};

use crate::jose::hash::fingerprint;
use crate::oauth::request::{FieldValue, RequestKind, RequestModel};

/// Response headers whose values are kept: what the diagnosis reads (the clock, the
/// DPoP nonce, the challenge, the interaction id) and what says how the answer was
/// made. Every other header keeps its name only (`Set-Cookie`, a gateway's trace ids).
const KEPT_RESPONSE_HEADERS: &[&str] = &[
    "cache-control",
    "content-encoding",
    "content-length",
    "content-type",
    "date",
    "dpop-nonce",
    "pragma",
    "retry-after",
    "server",
    "vary",
    "www-authenticate",
    "x-fapi-interaction-id",
];

/// Request headers and form fields about the end user (personal data): kept as a
/// fingerprint, enough to tell two requests apart.
const PERSONAL_FIELDS: &[&str] = &[
    "login_hint",
    "x-fapi-customer-ip-address",
    "x-fapi-customer-user-agent",
];

/// JSON member names (compared lowercase, without `_` and `-`) whose values are
/// personal data: replaced by a marker, the member kept.
const PERSONAL_MEMBERS: &[&str] = &[
    "accountholder",
    "accountholdername",
    "accountid",
    "accountids",
    "accountname",
    "accountnumber",
    "address",
    "bban",
    "birthdate",
    "cardnumber",
    "creditoraccount",
    "dateofbirth",
    "debtoraccount",
    "email",
    "familyname",
    "givenname",
    "iban",
    "identification",
    "loginhint",
    "middlename",
    "mobile",
    "name",
    "nationalid",
    "nickname",
    "nric",
    "pan",
    "passport",
    "phone",
    "phonenumber",
    "secondaryidentification",
];

/// The marker that stands for personal data left out.
pub const PERSONAL: &str = "<personal data not kept>";

fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Is a member with this name a credential? By pattern, so a server's own spelling is
/// caught too: `access_token`, `accessToken`, `device_code`, `clientSecret`,
/// `code_verifier`, `x-api-key`… (A bare `code` is an API error's code in JSON answers;
/// the authorization code a request sends is typed secret where it is built.)
pub fn is_secret_member(name: &str) -> bool {
    let n = normalized(name);
    n.ends_with("token")
        || n.ends_with("assertion")
        || n.ends_with("verifier")
        || ["secret", "password", "passwd", "apikey", "privatekey"]
            .iter()
            .any(|word| n.contains(word))
        || [
            "authcode",
            "authorization",
            "authorizationcode",
            "cookie",
            "cvv",
            "devicecode",
            "otp",
            "pin",
            "usercode",
        ]
        .contains(&n.as_str())
}

/// Is a member with this name personal data?
pub fn is_personal_member(name: &str) -> bool {
    PERSONAL_MEMBERS.contains(&normalized(name).as_str())
}

/// Does a string look like a compact JWS or JWE (a token, a proof, a request object)?
pub fn looks_like_jwt(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    value.starts_with("eyJ")
        && (parts.len() == 3 || parts.len() == 5)
        && parts.iter().skip(1).all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A header or form field as kept: a secret never by value (a fingerprint where it is
/// a credential worth recognising again, not a guessable client secret); a whole JWT
/// (the DPoP proof, the request object) by fingerprint, its claims kept decoded beside;
/// personal data by fingerprint.
fn kept_field(name: &str, value: &FieldValue) -> Value {
    match value {
        FieldValue::Secret(s) => {
            let low_entropy =
                name.eq_ignore_ascii_case("client_secret") || s.expose().starts_with("Basic ");
            if low_entropy {
                json!({"name": name, "value": null, "redacted": true})
            } else {
                json!({"name": name, "value": null, "redacted": true, "fingerprint": fingerprint(s.expose())})
            }
        }
        FieldValue::Plain(v) if looks_like_jwt(v) => {
            json!({"name": name, "value": null, "jwt": true, "fingerprint": fingerprint(v)})
        }
        FieldValue::Plain(v) if PERSONAL_FIELDS.iter().any(|p| p.eq_ignore_ascii_case(name)) => {
            json!({"name": name, "value": null, "personal": true, "fingerprint": fingerprint(v)})
        }
        FieldValue::Plain(v) if is_secret_member(name) => {
            json!({"name": name, "value": null, "redacted": true, "fingerprint": fingerprint(v)})
        }
        FieldValue::Plain(v) => json!({"name": name, "value": v}),
    }
}

/// The request as the history keeps it: no secret value, no whole JWT (their header
/// and claims decoded, personal data left out), an API call's body by its shape only.
pub fn redacted_request(request: &RequestModel) -> Value {
    let mut map = Map::new();
    map.insert("method".into(), json!(request.method));
    map.insert("url".into(), json!(request.url));
    let fields = |list: &mut dyn Iterator<Item = (&str, &FieldValue)>| {
        list.map(|(n, v)| kept_field(n, v)).collect::<Vec<_>>()
    };
    map.insert(
        "headers".into(),
        json!(fields(
            &mut request.headers.iter().map(|h| (h.name.as_str(), &h.value))
        )),
    );
    map.insert(
        "form".into(),
        json!(fields(
            &mut request.form.iter().map(|p| (p.name.as_str(), &p.value))
        )),
    );
    let decoded = [
        (
            "client_assertion",
            request
                .client_assertion
                .as_ref()
                .map(|a| (&a.header, &a.claims)),
        ),
        (
            "request_object",
            request
                .request_object
                .as_ref()
                .map(|o| (&o.header, &o.claims)),
        ),
        (
            "dpop_proof",
            request.dpop.as_ref().map(|p| (&p.header, &p.claims)),
        ),
    ];
    for (key, parts) in decoded {
        if let Some((header, claims)) = parts {
            map.insert(
                key.into(),
                json!({
                    "header": redact_value(&json!(header)),
                    "claims": redact_value(&json!(claims)),
                }),
            );
        }
    }
    if let Some(body) = &request.json_body {
        let kept = if request.kind == RequestKind::Resource {
            json!({"not_kept": "an API request's values (personal data)", "shape": shape(body)})
        } else {
            redact_value(body)
        };
        map.insert("json_body".into(), kept);
    }
    if let Some(signed) = &request.signed_message {
        // A signed body holds the API request's values (personal data): its shape only.
        map.insert(
            "signed_message".into(),
            json!({
                "scheme": signed.scheme,
                "header": redact_value(&Value::Object(signed.header.clone())),
                "claims_shape": shape(&signed.claims),
                "fingerprint": fingerprint(&signed.value),
            }),
        );
    }
    Value::Object(map)
}

/// A response header as kept: `[name, value]`, the value only for the headers the
/// diagnosis reads.
pub fn kept_response_header(name: &str, value: &str) -> Value {
    if KEPT_RESPONSE_HEADERS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(name))
    {
        json!([name, value])
    } else {
        json!([name, "<not kept>"])
    }
}

/// An answer's body as kept. JSON: credentials by fingerprint, personal data left out;
/// an API's successful answer (accounts, balances, userinfo: personal data) by its
/// shape only. Not JSON: its size and fingerprint.
pub fn kept_body(kind: &RequestKind, status: u16, json: Option<&Value>, text: &str) -> Value {
    match json {
        Some(v) if *kind == RequestKind::Resource && (200..300).contains(&status) => {
            json!({"not_kept": "an API answer's values (personal data)", "shape": shape(v)})
        }
        Some(v) => redact_value(v),
        None if text.is_empty() => Value::Null,
        None => json!({
            "not_kept": "a body that is not JSON",
            "bytes": text.len(),
            "fingerprint": fingerprint(text),
        }),
    }
}

/// A JSON value's shape: its member names and the type of each value, an array by its
/// length and the shape of its first item.
pub fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => match items.first() {
            Some(first) => json!({"items": items.len(), "each": shape(first)}),
            None => json!([]),
        },
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("boolean"),
        Value::Null => Value::Null,
    }
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

/// A JSON value with every credential (by member name or by looking like a JWT)
/// replaced by its fingerprint, and personal data by a marker.
pub fn redact_value(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if is_secret_member(k) || looks_like_jwt(s) => {
                            Value::String(format!("<{}>", fingerprint(s)))
                        }
                        Value::Null => Value::Null,
                        _ if is_personal_member(k) => Value::String(PERSONAL.into()),
                        other => redact_value(other),
                    };
                    (k.clone(), v)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_value).collect()),
        Value::String(s) if looks_like_jwt(s) => Value::String(format!("<{}>", fingerprint(s))),
        other => other.clone(),
    }
}
