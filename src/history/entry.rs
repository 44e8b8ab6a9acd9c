//! One exchange as the history keeps it, its one-line summary, and the search over it.

#![deny(clippy::arithmetic_side_effects)]

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::diagnosis::Cause;
use crate::jose::hash::fingerprint;
use crate::oauth::exchange::Exchange;
use crate::oauth::request::RequestModel;
use crate::oauth::response::ResponseBody;

use crate::history::redaction::{kept_body, kept_response_header, redacted_request};

/// One exchange as the history keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// A unique id (UUID v4).
    pub id: String,
    /// The profile (or "command line" when none was saved).
    pub profile: String,
    /// When it was sent (RFC 3339, UTC).
    pub sent_at: String,
    /// Milliseconds until the answer or the failure.
    pub elapsed_ms: f64,
    /// What it was: `token:authorization_code`, `par`, `resource`…
    pub kind: String,
    /// The grant type, for a token request.
    pub grant: Option<String>,
    /// The request without secrets: method, url, headers, form, decoded JWTs.
    pub request: Value,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// The OAuth `error`, when the answer was one.
    pub error: Option<String>,
    /// The `x-fapi-interaction-id` sent.
    pub interaction_id: Option<String>,
    /// The `x-fapi-interaction-id` the server answered with.
    pub interaction_id_answered: Option<String>,
    /// The answer: headers and the body with tokens fingerprinted; or the transport error.
    pub response: Value,
    /// The findings.
    pub findings: Value,
    /// The diagnosis.
    pub diagnosis: Vec<Cause>,
    /// The client assertion's `jti` (to find a replay).
    pub jti: Option<String>,
    /// The fingerprint of the authorization code sent (to find a reused code).
    pub code_fingerprint: Option<String>,
    /// The x5t#S256 of the client certificate presented (public), so a token issued
    /// over this connection can be told apart from a call with another certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_x5t: Option<String>,
}

impl HistoryEntry {
    /// The entry for an exchange of `profile`.
    pub fn of(profile: &str, exchange: &Exchange) -> HistoryEntry {
        let request = &exchange.request;
        let (status, error, answered, response) = match &exchange.outcome {
            Ok(r) => (
                Some(r.http.status),
                match &r.body {
                    ResponseBody::Error(e) => Some(e.error.clone()),
                    _ => None,
                },
                r.http.header("x-fapi-interaction-id").map(str::to_owned),
                json!({
                    "status": r.http.status,
                    "reason": r.http.reason,
                    "headers": r.http.headers.iter().map(|(n, v)| kept_response_header(n, v)).collect::<Vec<_>>(),
                    "body": kept_body(&request.kind, r.http.status, r.body.json().as_ref(), &r.body_text),
                    "truncated": r.http.truncated,
                }),
            ),
            Err(e) => (
                None,
                None,
                None,
                json!({"transport_error": {"error": e, "message": e.to_string()}}),
            ),
        };
        HistoryEntry {
            id: uuid::Uuid::new_v4().to_string(),
            profile: profile.to_owned(),
            sent_at: exchange.sent_at.clone(),
            elapsed_ms: (exchange.elapsed_ms * 10.0).round() / 10.0,
            kind: kind_name(request),
            grant: request.param("grant_type").map(str::to_owned),
            request: redacted_request(request),
            status,
            error,
            interaction_id: request.interaction_id.clone(),
            interaction_id_answered: answered,
            response,
            findings: serde_json::to_value(&exchange.findings).unwrap_or(Value::Null),
            diagnosis: exchange.diagnosis.clone(),
            jti: request
                .client_assertion
                .as_ref()
                .and_then(|a| a.claims.get("jti"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            code_fingerprint: request
                .param("code")
                .filter(|_| request.param("grant_type") == Some("authorization_code"))
                .map(fingerprint),
            certificate_x5t: request
                .transport
                .client_cert
                .as_ref()
                .and_then(|path| std::fs::read_to_string(path).ok())
                .and_then(|pem| crate::jose::public_key::certificate_info(&pem).ok())
                .map(|c| c.x5t_s256),
        }
    }

    /// True for a 2xx answer.
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// One line for a list: time, status or failure, kind, url, interaction id.
    pub fn summary(&self) -> String {
        let outcome = match (self.status, &self.error) {
            (Some(s), Some(e)) => format!("{s} {e}"),
            (Some(s), None) => s.to_string(),
            (None, _) => "no answer".to_owned(),
        };
        format!(
            "{}  {:<22} {:<28} {}  {}",
            self.sent_at,
            outcome,
            self.kind,
            self.request["url"].as_str().unwrap_or_default(),
            self.interaction_id.as_deref().unwrap_or("-")
        )
    }

    /// True when every word of `query` names this entry: its status (`400`, `4xx`),
    /// grant or kind (`client_credentials`, `par`), OAuth error (`invalid_client`), or
    /// the start of an interaction id. The app's search box.
    pub fn matches_text(&self, query: &str) -> bool {
        query.split_whitespace().all(|word| {
            let word = word.to_ascii_lowercase();
            let by = |search: Search| self.matches(&search);
            by(Search {
                status: Some(word.clone()),
                ..Search::default()
            }) || by(Search {
                grant: Some(word.clone()),
                ..Search::default()
            }) || by(Search {
                error: Some(word.clone()),
                ..Search::default()
            }) || by(Search {
                interaction_id: Some(word.clone()),
                ..Search::default()
            }) || self.kind.contains(&word)
        })
    }

    /// Does it match a search? Every given term must: the status (`400`, or `4xx`), the
    /// grant type, the OAuth error, the interaction id (sent or answered; a prefix).
    pub fn matches(&self, search: &Search) -> bool {
        let status_ok = search.status.as_deref().is_none_or(|want| {
            let got = self.status.map(|s| s.to_string()).unwrap_or_default();
            match want.strip_suffix("xx") {
                Some(class) => got.starts_with(class),
                None => got == want,
            }
        });
        let grant_ok = search
            .grant
            .as_deref()
            .is_none_or(|g| self.grant.as_deref() == Some(g) || self.kind == g);
        let error_ok = search
            .error
            .as_deref()
            .is_none_or(|e| self.error.as_deref() == Some(e));
        let id_ok = search.interaction_id.as_deref().is_none_or(|id| {
            [&self.interaction_id, &self.interaction_id_answered]
                .iter()
                .any(|v| v.as_deref().is_some_and(|v| v.starts_with(id)))
        });
        status_ok && grant_ok && error_ok && id_ok
    }
}

/// What to look for in the history.
#[derive(Clone, Debug, Default)]
pub struct Search {
    /// `400`, or a class such as `4xx`.
    pub status: Option<String>,
    /// A grant type (`authorization_code`) or a kind (`par`, `resource`).
    pub grant: Option<String>,
    /// An OAuth error code.
    pub error: Option<String>,
    /// An interaction id or its start.
    pub interaction_id: Option<String>,
}

fn kind_name(request: &RequestModel) -> String {
    use crate::oauth::request::RequestKind;
    match &request.kind {
        RequestKind::Token(grant) => format!("token:{grant}"),
        RequestKind::Par => "par".into(),
        RequestKind::Revoke => "revoke".into(),
        RequestKind::Introspect => "introspect".into(),
        RequestKind::Consent => "consent".into(),
        RequestKind::Resource => "resource".into(),
    }
}
