//! The exchange history: every exchange, per profile, kept in the data directory
//! (newest first, capped), with no secret in it. A secret the request carried (the
//! client assertion, a code, a refresh token, a client secret, the Authorization
//! header) is kept as `null` with `"redacted": true`, the way the JSON output shows it,
//! and where it is a high-entropy credential also as a short SHA-256 fingerprint, so
//! "was this code used before?" can still be answered. Tokens in the answer are
//! replaced by their fingerprint. Decoded claims (of the assertion, the request object,
//! the id_token) are kept: they are what a comparison needs.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::diagnosis::Cause;
use crate::jose::hash::fingerprint;
use crate::oauth::exchange::Exchange;
use crate::oauth::request::{FieldValue, RequestModel};
use crate::oauth::response::ResponseBody;

/// How many exchanges a profile keeps (and lists); the oldest go first.
pub const HISTORY_CAPACITY: usize = 200;

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
                    "headers": r.http.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
                    "body": match r.body.json() {
                        Some(v) => redact_value(&v),
                        None => Value::String(r.body_text.chars().take(4096).collect()),
                    },
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

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// No data directory on this system.
    #[error("no data directory for the history (set TOKEN_INSPECTOR_DATA_DIR)")]
    NoDataDir,
    /// A file operation failed.
    #[error("history {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The history files: one JSON-lines file per profile in `<data dir>/history/`.
#[derive(Clone, Debug)]
pub struct HistoryStore {
    dir: PathBuf,
}

impl HistoryStore {
    /// A store in this directory.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default place: `TOKEN_INSPECTOR_DATA_DIR`, else the config directory's
    /// `data/` when `TOKEN_INSPECTOR_CONFIG_DIR` is set (tests), else the OS data
    /// directory (`~/.local/share/token-inspector` on Linux); then `history/`.
    pub fn default_location() -> Result<Self, HistoryError> {
        if let Some(dir) = std::env::var_os("TOKEN_INSPECTOR_DATA_DIR") {
            return Ok(Self::at(PathBuf::from(dir).join("history")));
        }
        if let Some(dir) = std::env::var_os("TOKEN_INSPECTOR_CONFIG_DIR") {
            return Ok(Self::at(PathBuf::from(dir).join("data").join("history")));
        }
        let dirs = directories::ProjectDirs::from("io", "token-inspector", "token-inspector")
            .ok_or(HistoryError::NoDataDir)?;
        Ok(Self::at(dirs.data_dir().join("history")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, profile: &str) -> PathBuf {
        let stem: String = profile
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{stem}.jsonl"))
    }

    /// Adds an entry: one line appended (mode 0600), so an exchange pays for one
    /// small write, not for the whole history. When the file holds a quarter more than
    /// [`HISTORY_CAPACITY`] entries it is rewritten with the newest ones only (written
    /// beside, then renamed, so it is never seen half written).
    pub fn append(&self, entry: &HistoryEntry) -> Result<(), HistoryError> {
        use std::io::Write as _;
        let path = self.file(&entry.profile);
        let io = |source| HistoryError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let mut line = serde_json::to_string(entry).map_err(|e| io(std::io::Error::other(e)))?;
        line.push('\n');
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        options
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(io)?;
        // Entries are a few KiB: a size well past the cap's is the cue to count.
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > (HISTORY_CAPACITY as u64) * 1024 {
            let lines = std::fs::read_to_string(&path).map_err(io)?;
            let all: Vec<&str> = lines.lines().filter(|l| !l.trim().is_empty()).collect();
            if all.len() > HISTORY_CAPACITY + HISTORY_CAPACITY / 4 {
                let keep = all[all.len() - HISTORY_CAPACITY..].join("\n") + "\n";
                let partial = path.with_extension("jsonl.partial");
                write_private(&partial, keep.as_bytes()).map_err(io)?;
                std::fs::rename(&partial, &path).map_err(io)?;
            }
        }
        Ok(())
    }

    /// A profile's entries, newest first. A line that does not read is skipped (a
    /// history is a convenience, not a record to refuse over).
    pub fn list(&self, profile: &str) -> Result<Vec<HistoryEntry>, HistoryError> {
        let path = self.file(profile);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(HistoryError::Io { path, source }),
        };
        let mut out: Vec<HistoryEntry> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        out.reverse();
        out.truncate(HISTORY_CAPACITY);
        Ok(out)
    }

    /// Adds what this profile's earlier requests tell the diagnosis: the jtis and code
    /// fingerprints already sent, and, where the caller does not know them, the PKCE
    /// challenge and redirect_uri of the authorization (the newest successful PAR with
    /// this `state`, or the newest one when the state is not known).
    pub fn enrich(
        &self,
        profile: &str,
        state: Option<&str>,
        evidence: &mut crate::diagnosis::Evidence,
    ) {
        let entries = self.list(profile).unwrap_or_default();
        evidence.earlier_jtis = Some(entries.iter().filter_map(|e| e.jti.clone()).collect());
        evidence.earlier_codes = Some(
            entries
                .iter()
                .filter_map(|e| e.code_fingerprint.clone())
                .collect(),
        );
        if evidence.consent.is_none() {
            evidence.consent = entries.iter().find_map(consent_of);
        }
        if evidence.pkce_challenge.is_some() {
            return;
        }
        let par = entries
            .iter()
            .filter(|e| e.kind == "par" && e.is_success())
            .find(|e| state.is_none_or(|s| authorization_param(e, "state").as_deref() == Some(s)));
        if let Some(par) = par {
            evidence.pkce_challenge = authorization_param(par, "code_challenge");
            if evidence.authorization_started_at.is_none() {
                evidence.authorization_started_at =
                    crate::jose::numeric_date::parse_rfc3339(&par.sent_at);
            }
            if evidence.authorization_redirect_uri.is_none() {
                evidence.authorization_redirect_uri = authorization_param(par, "redirect_uri");
            }
        }
    }

    /// What the history tells about an access token used in an API call: the
    /// certificate it was issued over (its binding), and the consent it carries.
    pub fn enrich_call(
        &self,
        profile: &str,
        access_token: &str,
        evidence: &mut crate::diagnosis::Evidence,
    ) {
        let print = format!("<{}>", fingerprint(access_token));
        let entries = self.list(profile).unwrap_or_default();
        let issued = entries.iter().find(|e| {
            e.kind.starts_with("token") && e.response["body"]["access_token"] == print.as_str()
        });
        if let Some(issued) = issued {
            evidence.token_certificate_x5t = Some(issued.certificate_x5t.clone());
            if evidence.consent.is_none() {
                evidence.consent = consent_of(issued);
            }
        }
        if evidence.consent.is_none() {
            evidence.consent = entries.iter().find_map(consent_of);
        }
    }
}

/// The consent a kept token answer granted (Ozone's `authorization_details[].consent`):
/// its status and expiry as last seen.
fn consent_of(entry: &HistoryEntry) -> Option<crate::diagnosis::ConsentState> {
    if !entry.is_success() {
        return None;
    }
    let details = entry.response["body"]["authorization_details"].as_array()?;
    details.iter().find_map(|d| {
        let consent = crate::oauth::response::AuthorizationDetail::from_value(d).consent?;
        let expires_at = consent
            .expiration_datetime
            .as_deref()
            .and_then(crate::jose::numeric_date::parse_rfc3339);
        Some(crate::diagnosis::ConsentState {
            status: consent.status,
            authorized_word: None,
            expires_at,
        })
    })
}

/// A parameter of an authorization request as kept: the PAR form's, else the signed
/// request object's claim.
fn authorization_param(entry: &HistoryEntry, name: &str) -> Option<String> {
    entry.request["form"]
        .as_array()
        .and_then(|form| form.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str().map(str::to_owned))
        .or_else(|| {
            entry.request["request_object"]["claims"][name]
                .as_str()
                .map(str::to_owned)
        })
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    // No fsync: the history is a convenience, and the rename keeps it whole; an fsync
    // per exchange would cost the command line more than the exchange itself.
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::exchange::{self, ExchangeContext};
    use crate::oauth::http::{Call, FnClient, HttpResponse};
    use crate::oauth::request::{ClientSecrets, Grant, RequestOptions, build_token_request};
    use crate::secret::Secret;
    use crate::storage::profile::{AuthMethod, Profile};

    async fn exchange_with(status: u16, body: &'static str, scope: &str) -> Exchange {
        let mut p = Profile::new("bank", "https://as.example");
        p.client_id = "c1".into();
        p.endpoints.token = Some("https://as.example/token".into());
        p.auth.method = AuthMethod::ClientSecretPost;
        let secrets = ClientSecrets {
            signing_key: None,
            client_secret: Some(Secret::new("canary-client-secret")),
        };
        let client = FnClient(move |_: Call<'_>| {
            Ok(HttpResponse::with(
                status,
                &[("content-type", "application/json")],
                body,
            ))
        });
        let grant = Grant::AuthorizationCode {
            code: Secret::new("canary-code-1"),
            redirect_uri: "https://tpp.example/cb".into(),
            code_verifier: Some(Secret::new(
                "canary-verifier-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            )),
        };
        let options = RequestOptions {
            scope: Some(scope.into()),
            ..RequestOptions::default()
        };
        let model = build_token_request(&p, &secrets, &grant, &options).unwrap();
        exchange::run(&client, model, &ExchangeContext::default()).await
    }

    /// Written, read back across a new store (a restart), newest first, capped, and no
    /// secret or token in the file.
    #[tokio::test]
    async fn the_history_keeps_entries_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let store = HistoryStore::at(dir.path());
        let ok = exchange_with(
            200,
            r#"{"access_token":"canary-at-2","refresh_token":"canary-rt-3","token_type":"Bearer"}"#,
            "accounts",
        )
        .await;
        store.append(&HistoryEntry::of("bank", &ok)).unwrap();
        let bad = exchange_with(400, r#"{"error":"invalid_grant"}"#, "accounts payments").await;
        store.append(&HistoryEntry::of("bank", &bad)).unwrap();

        let again = HistoryStore::at(dir.path()).list("bank").unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(
            again[0].error.as_deref(),
            Some("invalid_grant"),
            "newest first"
        );
        assert!(again[1].is_success());
        assert_eq!(
            again[0].code_fingerprint,
            Some(fingerprint("canary-code-1"))
        );
        let text = std::fs::read_to_string(store.file("bank")).unwrap();
        for canary in [
            "canary-client-secret",
            "canary-code-1",
            "canary-verifier",
            "canary-at-2",
            "canary-rt-3",
        ] {
            assert!(!text.contains(canary), "{canary} in the history");
        }
        assert!(
            text.contains(&fingerprint("canary-at-2")),
            "tokens as fingerprints"
        );

        // The consent a kept answer granted is evidence for a later refusal.
        let granted = exchange_with(
            200,
            r#"{"access_token":"at","token_type":"Bearer","authorization_details":[{"type":"urn:openfinance-ml:account-access-consent:v1.2","consent":{"consent_id":"c-1","status":"revoked","expiration_datetime":"2099-01-01T00:00:00Z"}}]}"#,
            "accounts",
        )
        .await;
        let other = HistoryStore::at(dir.path().join("other"));
        other.append(&HistoryEntry::of("bank", &granted)).unwrap();
        let mut evidence = crate::diagnosis::Evidence::default();
        other.enrich("bank", None, &mut evidence);
        let consent = evidence.consent.expect("the consent from the history");
        assert_eq!(consent.status.as_deref(), Some("revoked"));
        assert_eq!(consent.expires_at, Some(4_070_908_800));

        // Search.
        let search = |s: Search| again.iter().filter(|e| e.matches(&s)).count();
        assert_eq!(
            search(Search {
                status: Some("4xx".into()),
                ..Search::default()
            }),
            1
        );
        assert_eq!(
            search(Search {
                error: Some("invalid_grant".into()),
                ..Search::default()
            }),
            1
        );
        assert_eq!(
            search(Search {
                grant: Some("authorization_code".into()),
                ..Search::default()
            }),
            2
        );
        let id = again[1].interaction_id.clone().unwrap();
        assert_eq!(
            search(Search {
                interaction_id: Some(id[..8].into()),
                ..Search::default()
            }),
            1
        );

        // The app's search box: every word must name the entry.
        let text = |q: &str| again.iter().filter(|e| e.matches_text(q)).count();
        assert_eq!(text("4xx invalid_grant"), 1);
        assert_eq!(text("authorization_code"), 2);
        assert_eq!(text(&id[..8]), 1);
        assert_eq!(text("400 invalid_client"), 0, "no entry is both");
        assert_eq!(text(""), again.len());

        // The comparison names the scope that changed first, the volatile ones last.
        let diff = compare(&again[1], &again[0]);
        assert_eq!(diff[0].what, "form scope", "{diff:#?}");
        assert_eq!(diff[0].after.as_deref(), Some("accounts payments"));
        assert!(
            diff.iter()
                .any(|d| d.what == "status" && d.after.as_deref() == Some("400"))
        );
        assert!(
            diff.iter()
                .any(|d| d.what == "header x-fapi-interaction-id" && d.expected)
        );

        // Capped.
        for _ in 0..(HISTORY_CAPACITY + 3) {
            store.append(&HistoryEntry::of("bank", &ok)).unwrap();
        }
        assert_eq!(store.list("bank").unwrap().len(), HISTORY_CAPACITY);
    }
}
