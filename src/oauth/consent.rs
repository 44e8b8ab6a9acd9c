//! The consent a client asks for, as a form over its JSON (RFC 9396
//! `authorization_details`, or a consent body created first), and what came back compared
//! with what was asked. The app's consent editor and the checks share it, whatever the
//! ecosystem's spelling (`permissions` / `Permissions`, `expiration_datetime` /
//! `ExpirationDateTime` / `expirationDateTime`).

use serde_json::{Map, Value, json};

use crate::checks::{Finding, Severity};

/// The fields the editor shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsentFields {
    /// The permissions asked for.
    pub permissions: Vec<String>,
    /// The purpose (`consent_purpose`).
    pub purpose: Option<String>,
    /// The expiry (RFC 3339), or a `{expires_in_days:N}` placeholder.
    pub expiry: Option<String>,
    /// Malaysia's data consumer id.
    pub dc_id: Option<String>,
    /// Malaysia's data provider id.
    pub dp_id: Option<String>,
}

const PERMISSIONS: &[&str] = &["permissions", "Permissions"];
const EXPIRY: &[&str] = &[
    "expiration_datetime",
    "ExpirationDateTime",
    "expirationDateTime",
];

/// The object that holds the consent's fields: `[0].consent` of `authorization_details`,
/// `Data`/`data` of a consent body, or the value itself.
fn holder(value: &Value) -> Option<&Map<String, Value>> {
    let first = match value {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let object = first.as_object()?;
    for key in ["consent", "Data", "data"] {
        if let Some(Value::Object(inner)) = object.get(key) {
            return Some(inner);
        }
    }
    Some(object)
}

fn holder_mut(value: &mut Value) -> Option<&mut Map<String, Value>> {
    let first = match value {
        Value::Array(items) => items.first_mut()?,
        other => other,
    };
    let object = first.as_object_mut()?;
    let key = ["consent", "Data", "data"]
        .into_iter()
        .find(|k| object.get(*k).is_some_and(Value::is_object));
    match key {
        Some(key) => object.get_mut(key).and_then(Value::as_object_mut),
        None => Some(object),
    }
}

fn first_key<'a>(map: &Map<String, Value>, names: &[&'a str]) -> Option<&'a str> {
    names.iter().copied().find(|n| map.contains_key(*n))
}

/// Reads the editor's fields from consent JSON.
pub fn read(value: &Value) -> ConsentFields {
    let Some(map) = holder(value) else {
        return ConsentFields::default();
    };
    let text = |name: &str| map.get(name).and_then(Value::as_str).map(str::to_owned);
    ConsentFields {
        permissions: first_key(map, PERMISSIONS)
            .and_then(|k| map.get(k))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        purpose: text("consent_purpose"),
        expiry: first_key(map, EXPIRY).and_then(text),
        dc_id: text("dc_id"),
        dp_id: text("dp_id"),
    }
}

/// Writes the editor's fields into consent JSON, keeping every other member and the
/// ecosystem's spelling.
pub fn apply(value: &mut Value, fields: &ConsentFields) {
    let Some(map) = holder_mut(value) else {
        return;
    };
    let permissions = first_key(map, PERMISSIONS).unwrap_or("permissions");
    map.insert(permissions.into(), json!(fields.permissions));
    if let Some(purpose) = &fields.purpose {
        map.insert("consent_purpose".into(), json!(purpose));
    }
    if let Some(expiry) = &fields.expiry {
        let key = first_key(map, EXPIRY).unwrap_or("expiration_datetime");
        map.insert(key.into(), json!(expiry));
    }
    for (key, v) in [("dc_id", &fields.dc_id), ("dp_id", &fields.dp_id)] {
        if let Some(v) = v {
            map.insert(key.into(), json!(v));
        }
    }
}

/// What was granted compared with what was asked: missing or added permissions, another
/// expiry, a status that is not the ecosystem's "authorised".
pub fn compare(requested: &Value, granted: &Value, authorized_word: Option<&str>) -> Vec<Finding> {
    let asked = read(requested);
    let got = read(granted);
    let mut out = Vec::new();
    let missing: Vec<&String> = asked
        .permissions
        .iter()
        .filter(|p| !got.permissions.contains(p))
        .collect();
    if !missing.is_empty() && !got.permissions.is_empty() {
        out.push(Finding::new(
            Severity::Warning,
            "consent.permissions_missing",
            format!(
                "the consent granted lacks permissions that were asked for: {}",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "RFC 9396 §7",
        ));
    }
    let added: Vec<&String> = got
        .permissions
        .iter()
        .filter(|p| !asked.permissions.contains(p))
        .collect();
    if !added.is_empty() && !asked.permissions.is_empty() {
        out.push(Finding::new(
            Severity::Info,
            "consent.permissions_added",
            format!(
                "the consent granted has permissions that were not asked for: {}",
                added
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "RFC 9396 §7",
        ));
    }
    if let (Some(a), Some(g)) = (&asked.expiry, &got.expiry)
        && !a.contains('{')
        && a != g
    {
        out.push(Finding::new(
            Severity::Info,
            "consent.expiry_changed",
            format!("asked for a consent until {a}; granted until {g}"),
            "RFC 9396 §7",
        ));
    }
    if let Some(word) = authorized_word
        && let Some(status) = holder(granted).and_then(|m| {
            m.get("status")
                .or_else(|| m.get("Status"))
                .and_then(Value::as_str)
        })
        && !status.eq_ignore_ascii_case(word)
    {
        out.push(Finding::new(
            Severity::Warning,
            "consent.not_authorized",
            format!("the consent's status is {status:?}, not {word:?}"),
            "the ecosystem's consent lifecycle",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn malaysia() -> Value {
        json!([{"type": "urn:openfinance-ml:account-access-consent:v1.2", "consent": {
            "dc_id": "", "consent_purpose": "pfm",
            "permissions": ["read_accounts", "read_balances"],
            "expiration_datetime": "2027-01-01T00:00:00Z"}}])
    }

    #[test]
    fn reads_and_writes_each_spelling() {
        let mut v = malaysia();
        let mut f = read(&v);
        assert_eq!(f.permissions, ["read_accounts", "read_balances"]);
        assert_eq!(f.purpose.as_deref(), Some("pfm"));
        f.permissions.push("read_transactions".into());
        f.dc_id = Some("DC1".into());
        apply(&mut v, &f);
        assert_eq!(v[0]["consent"]["permissions"][2], "read_transactions");
        assert_eq!(v[0]["consent"]["dc_id"], "DC1");
        assert_eq!(
            v[0]["type"],
            "urn:openfinance-ml:account-access-consent:v1.2"
        );

        let mut uk = json!({"Data": {"Permissions": ["ReadBalances"], "ExpirationDateTime": "x"}, "Risk": {}});
        let mut f = read(&uk);
        assert_eq!(f.permissions, ["ReadBalances"]);
        f.expiry = Some("2027-02-02T00:00:00Z".into());
        apply(&mut uk, &f);
        assert_eq!(uk["Data"]["ExpirationDateTime"], "2027-02-02T00:00:00Z");
        assert!(uk["Risk"].is_object());
    }

    #[test]
    fn granted_is_compared_with_asked() {
        let granted = json!([{"type": "t", "consent": {
            "permissions": ["read_accounts", "read_statements"],
            "expiration_datetime": "2027-03-01T00:00:00Z", "status": "revoked"}}]);
        let codes: Vec<&str> = compare(&malaysia(), &granted, Some("authorized"))
            .into_iter()
            .map(|f| f.code)
            .collect();
        assert_eq!(
            codes,
            [
                "consent.permissions_missing",
                "consent.permissions_added",
                "consent.expiry_changed",
                "consent.not_authorized"
            ]
        );
        assert!(compare(&malaysia(), &malaysia(), None).is_empty());
    }
}
