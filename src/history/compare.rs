//! What changed between two kept exchanges.

use serde::Serialize;
use serde_json::Value;

use crate::history::HistoryEntry;
use crate::history::redaction::shown_value;

/// One difference between two entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Where: `header x-fapi-interaction-id`, `form scope`, `client_assertion aud`…
    pub what: String,
    /// In the first entry (`None`: absent).
    pub before: Option<String>,
    /// In the second entry.
    pub after: Option<String>,
    /// True for what changes on every request (jti, iat, exp, the interaction id).
    pub expected: bool,
}

/// What changed from `a` to `b` in the request: headers, form parameters, and the
/// claims and headers of the client assertion, the request object and the DPoP proof;
/// then the status and the error.
pub fn compare(a: &HistoryEntry, b: &HistoryEntry) -> Vec<Difference> {
    let mut out = Vec::new();
    let pairs = |v: &Value, list: &str| -> Vec<(String, String)> {
        v[list]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|f| {
                        let name = f["name"].as_str().unwrap_or_default().to_ascii_lowercase();
                        (name, shown_value(f))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let volatile = |what: &str| {
        [
            "jti",
            "iat",
            "exp",
            "nbf",
            "x-fapi-interaction-id",
            "client_assertion",
            "dpop",
            "state",
            "nonce",
        ]
        .iter()
        .any(|v| what.ends_with(&format!(" {v}")))
    };
    let mut push = |what: String, before: Option<String>, after: Option<String>| {
        if before != after {
            let expected = volatile(&what);
            out.push(Difference {
                what,
                before,
                after,
                expected,
            });
        }
    };
    push(
        "url".into(),
        a.request["url"].as_str().map(str::to_owned),
        b.request["url"].as_str().map(str::to_owned),
    );
    for list in ["headers", "form"] {
        let (x, y) = (pairs(&a.request, list), pairs(&b.request, list));
        let mut names: Vec<&String> = x.iter().chain(y.iter()).map(|(n, _)| n).collect();
        names.dedup();
        let mut seen = std::collections::HashSet::new();
        for name in names {
            if !seen.insert(name.clone()) {
                continue;
            }
            let find =
                |l: &[(String, String)]| l.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            let label = if list == "headers" { "header" } else { "form" };
            push(format!("{label} {name}"), find(&x), find(&y));
        }
    }
    for jwt in ["client_assertion", "request_object", "dpop_proof"] {
        for part in ["header", "claims"] {
            let (x, y) = (&a.request[jwt][part], &b.request[jwt][part]);
            let keys: std::collections::BTreeSet<&String> = x
                .as_object()
                .into_iter()
                .chain(y.as_object())
                .flat_map(|m| m.keys())
                .collect();
            for k in keys {
                let text = |v: &Value| v.get(k).map(Value::to_string);
                push(format!("{jwt} {part} {k}"), text(x), text(y));
            }
        }
    }
    push(
        "status".into(),
        a.status.map(|s| s.to_string()),
        b.status.map(|s| s.to_string()),
    );
    push("error".into(), a.error.clone(), b.error.clone());
    out.sort_by_key(|d| d.expected);
    out
}
