//! A support bundle: what a bank's support desk asks for about one exchange, and
//! nothing more. The `x-fapi-interaction-id` sent and answered, the exact UTC times,
//! the request without secrets, the response (tokens as fingerprints), the findings
//! and the diagnosis. It is made from a [`HistoryEntry`], which never held a secret,
//! so no secret, token or key can reach it.

#![deny(clippy::arithmetic_side_effects)]

use serde_json::{Value, json};

use crate::history::HistoryEntry;

/// The bundle as one JSON object.
pub fn json(entry: &HistoryEntry) -> Value {
    json!({
        "support_bundle": 1,
        "x_fapi_interaction_id": entry.interaction_id,
        "x_fapi_interaction_id_answered": entry.interaction_id_answered,
        "sent_at_utc": entry.sent_at,
        "answered_at_utc": answered_at(entry),
        "elapsed_ms": entry.elapsed_ms,
        "kind": entry.kind,
        "request": entry.request,
        "response": entry.response,
        "findings": entry.findings,
        "diagnosis": entry.diagnosis,
        "made_by": format!("token-inspector {}", env!("CARGO_PKG_VERSION")),
    })
}

/// When the answer (or the failure) came: `sent_at` plus the elapsed time, UTC, ms.
fn answered_at(entry: &HistoryEntry) -> Option<String> {
    let sent = time::OffsetDateTime::parse(
        &entry.sent_at,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    // The history file is read as found: an elapsed time that is not a sane number of
    // milliseconds gives no answer time, never an overflow.
    let elapsed = entry.elapsed_ms;
    if !elapsed.is_finite() || !(0.0..=1e12).contains(&elapsed) {
        return None;
    }
    let at = sent.checked_add(time::Duration::microseconds((elapsed * 1000.0) as i64))?;
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// The bundle as Markdown, to paste into a ticket.
pub fn markdown(entry: &HistoryEntry) -> String {
    let mut out = String::new();
    let status = match (entry.status, &entry.error) {
        (Some(s), Some(e)) => format!("HTTP {s}, error `{e}`"),
        (Some(s), None) => format!("HTTP {s}"),
        (None, _) => "no answer (transport failure)".to_owned(),
    };
    out.push_str(&format!(
        "# Support bundle: {} {}\n\n",
        entry.request["method"].as_str().unwrap_or_default(),
        entry.request["url"].as_str().unwrap_or_default()
    ));
    out.push_str("| | |\n|---|---|\n");
    let row = |k: &str, v: &str| format!("| {k} | `{v}` |\n");
    out.push_str(&row(
        "x-fapi-interaction-id sent",
        entry.interaction_id.as_deref().unwrap_or("(none)"),
    ));
    out.push_str(&row(
        "x-fapi-interaction-id answered",
        entry.interaction_id_answered.as_deref().unwrap_or("(none)"),
    ));
    out.push_str(&row("sent (UTC)", &entry.sent_at));
    out.push_str(&row(
        "answered (UTC)",
        answered_at(entry).as_deref().unwrap_or("-"),
    ));
    out.push_str(&row("outcome", &status));
    out.push_str(&row("what", &entry.kind));
    out.push_str("\nSecrets (the client assertion, codes, tokens, client secrets) are not in this bundle; where a value was a credential, a SHA-256 fingerprint stands in its place.\n");
    out.push_str("\n## Request\n\n");
    let lines = |list: &str| -> String {
        entry.request[list]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|f| {
                        format!(
                            "{}: {}\n",
                            f["name"].as_str().unwrap_or_default(),
                            crate::history::shown_value(f)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    out.push_str(&format!("Headers\n\n```\n{}```\n\n", lines("headers")));
    out.push_str(&format!("Form\n\n```\n{}```\n", lines("form")));
    for (name, title) in [
        (
            "client_assertion",
            "Client assertion (decoded; the signed value is withheld)",
        ),
        ("request_object", "Request object (decoded)"),
        ("dpop_proof", "DPoP proof (decoded)"),
    ] {
        let v = &entry.request[name];
        if !v.is_null() {
            out.push_str(&format!(
                "\n{title}\n\n```json\n{}\n```\n",
                serde_json::to_string_pretty(v).unwrap_or_default()
            ));
        }
    }
    out.push_str("\n## Response\n\n```json\n");
    out.push_str(&serde_json::to_string_pretty(&entry.response).unwrap_or_default());
    out.push_str("\n```\n\n## Findings\n\n");
    match entry.findings.as_array() {
        Some(items) if !items.is_empty() => {
            for f in items {
                out.push_str(&format!(
                    "- **{}** `{}`: {} ({})\n",
                    f["severity"].as_str().unwrap_or_default(),
                    f["code"].as_str().unwrap_or_default(),
                    f["message"].as_str().unwrap_or_default(),
                    f["source"].as_str().unwrap_or_default()
                ));
            }
        }
        _ => out.push_str("None.\n"),
    }
    if !entry.diagnosis.is_empty() {
        out.push_str("\n## Diagnosis\n\n");
        for c in &entry.diagnosis {
            out.push_str(&format!(
                "- **{}** `{}`: {}. {} ({})\n",
                c.status.label(),
                c.code,
                c.cause,
                c.evidence,
                c.source
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::exchange::{self, ExchangeContext};
    use crate::oauth::http::{Call, FnClient, HttpResponse};
    use crate::oauth::request::{ClientSecrets, Grant, RequestOptions, build_token_request};
    use crate::secret::Secret;
    use crate::storage::profile::{AuthMethod, Profile};

    /// Canaries in every secret place (client secret, code, verifier, tokens in the
    /// answer) never reach either form of the bundle; the interaction ids and times do.
    #[tokio::test]
    async fn a_bundle_holds_the_ids_and_times_and_no_secret() {
        let mut p = Profile::new("bank", "https://as.example");
        p.client_id = "c1".into();
        p.endpoints.token = Some("https://as.example/token".into());
        p.auth.method = AuthMethod::ClientSecretBasic;
        let secrets = ClientSecrets {
            signing_key: None,
            client_secret: Some(Secret::new("canary-secret-1")),
        };
        let client = FnClient(|call: Call<'_>| {
            let id = match call {
                Call::Send(m) => m.interaction_id.clone().unwrap_or_default(),
                Call::Get(_) => String::new(),
            };
            Ok(HttpResponse::with(
                400,
                &[
                    ("content-type", "application/json"),
                    ("x-fapi-interaction-id", &id),
                ],
                r#"{"error":"invalid_grant","access_token":"canary-at-2","id_token":"canary-idt-3"}"#,
            ))
        });
        let grant = Grant::AuthorizationCode {
            code: Secret::new("canary-code-4"),
            redirect_uri: "https://tpp.example/cb".into(),
            code_verifier: Some(Secret::new(
                "canary-verifier-5-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            )),
        };
        let model = build_token_request(&p, &secrets, &grant, &RequestOptions::default()).unwrap();
        let ex = exchange::run(&client, model, &ExchangeContext::default()).await;
        let entry = HistoryEntry::of("bank", &ex);
        let md = markdown(&entry);
        let js = json(&entry).to_string();
        for text in [&md, &js] {
            for canary in [
                "canary-secret-1",
                "canary-at-2",
                "canary-idt-3",
                "canary-code-4",
                "canary-verifier-5",
            ] {
                assert!(!text.contains(canary), "{canary} leaked:\n{text}");
            }
            let id = entry.interaction_id.as_deref().unwrap();
            assert!(text.contains(id), "the interaction id is there");
            assert!(text.contains(&entry.sent_at), "the time is there");
        }
        assert!(md.contains("invalid_grant"));
        assert!(json(&entry)["answered_at_utc"].is_string());
    }
}
