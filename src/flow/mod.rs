//! Flows as files: a bank integration checked from one TOML file kept beside the profile
//! it names. Ordered steps (discover, authorize, exchange, refresh, call, introspect,
//! revoke, consent revoke), each with assertions (status, a JSON pointer equal to or
//! matching a value, a finding present or absent, a diagnosis cause, the time under N
//! ms) and captures (a value from one step's answer for the next: `${name}`).
//!
//! No secret is ever in the file: keys and client secrets come from the profile's
//! keychain references, environment variables (`${env:NAME}`) or files; a flow that holds
//! a literal secret is refused with the line that holds it.

mod report;
mod run;
mod save;

pub use report::{junit, report};
pub use run::{FlowOutcome, RunOptions, StepOutcome, run};
pub use save::from_exchanges;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// A flow file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// What the flow checks.
    pub name: String,
    /// The profile it runs with (its keys from the keychain).
    pub profile: Option<String>,
    /// The steps, in order.
    #[serde(rename = "step", default)]
    pub steps: Vec<Step>,
}

/// What a step does.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Fetch and lint the discovery document.
    Discover,
    /// PAR and the authorization; approved by the embedded sandbox (headless).
    Authorize,
    /// Redeem the code the authorize step got.
    Exchange,
    /// The refresh grant with the last refresh token.
    Refresh,
    /// A client-credentials token.
    ClientCredentials,
    /// Call an API with the last access token (signed as the profile says).
    Call,
    /// Introspect the last access token.
    Introspect,
    /// Revoke the last access token.
    Revoke,
    /// PayNet's consent revoke (`consent` names the id; `rs` the resource server).
    ConsentRevoke,
}

impl StepKind {
    /// The name in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Discover => "discover",
            StepKind::Authorize => "authorize",
            StepKind::Exchange => "exchange",
            StepKind::Refresh => "refresh",
            StepKind::ClientCredentials => "client_credentials",
            StepKind::Call => "call",
            StepKind::Introspect => "introspect",
            StepKind::Revoke => "revoke",
            StepKind::ConsentRevoke => "consent_revoke",
        }
    }
}

/// Who approves an authorize step.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Approve {
    /// The embedded sandbox's approval, without a browser.
    Sandbox,
    /// A browser, the redirect caught on the loopback redirect_uri.
    Browser,
}

/// One step.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Its name in the output (default: what it does).
    pub name: Option<String>,
    /// What it does.
    #[serde(rename = "do")]
    pub kind: StepKind,
    /// `call`: the URL (`${name}` filled in from captures and `${env:NAME}`).
    pub url: Option<String>,
    /// `call`: the method (default GET, POST with a body).
    pub method: Option<String>,
    /// `call`: a JSON body.
    pub body: Option<Value>,
    /// `consent_revoke`: the consent id; `${name}` allowed.
    pub consent: Option<String>,
    /// `consent_revoke`: the resource server (default: the profile's).
    pub rs: Option<String>,
    /// `authorize`: who approves: `sandbox` (the embedded sandbox's approval, headless;
    /// the default) or `browser` (the system's browser, the redirect caught on the
    /// loopback redirect_uri).
    pub approve: Option<Approve>,
    /// What must hold.
    #[serde(default)]
    pub expect: Expect,
    /// Values to keep for later steps: name → JSON pointer into the answer (the innermost
    /// data of a layered answer).
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

impl Step {
    /// The name shown.
    pub fn title(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.kind.as_str().to_owned())
    }
}

/// The assertions of a step.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The HTTP status (default: any 2xx).
    pub status: Option<u16>,
    /// JSON pointer → the value it must equal, or `{matches = "regex"}`.
    #[serde(default)]
    pub json: BTreeMap<String, Value>,
    /// Finding codes that must be there.
    #[serde(default)]
    pub findings: Vec<String>,
    /// Finding codes that must not be there.
    #[serde(default)]
    pub no_findings: Vec<String>,
    /// A diagnosis cause (code) judged likely.
    pub cause: Option<String>,
    /// The step's time must stay under this many milliseconds.
    pub max_ms: Option<f64>,
}

/// Why a flow file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// Not TOML, or not a flow.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, with the line.
        message: String,
    },
    /// It holds a secret.
    #[error(
        "{path}:{line}: {what}: a flow file holds no secret; use the profile's keychain, ${{env:NAME}} or a file"
    )]
    Secret {
        /// The file.
        path: String,
        /// The line.
        line: usize,
        /// What was found.
        what: String,
    },
}

/// Names under which a literal value would be a secret.
const SECRET_NAMES: &[&str] = &[
    "secret",
    "password",
    "token",
    "private",
    "assertion",
    "code_verifier",
    "api_key",
    "apikey",
];

/// Reads a flow from its text, refusing a literal secret with its line.
pub fn parse(path: &str, text: &str) -> Result<Flow, FlowError> {
    if let Some((line, what)) = literal_secret(text) {
        return Err(FlowError::Secret {
            path: path.to_owned(),
            line,
            what,
        });
    }
    let flow: Flow = toml::from_str(text).map_err(|e| FlowError::Invalid {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    if flow.steps.is_empty() {
        return Err(FlowError::Invalid {
            path: path.to_owned(),
            message: "the flow has no [[step]]".into(),
        });
    }
    Ok(flow)
}

/// The first line that holds a literal secret: key material, a JWT, or a value under a
/// secret's name that is not `${env:…}`, `${capture}` or `@file`.
fn literal_secret(text: &str) -> Option<(usize, String)> {
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        if trimmed.contains("-----BEGIN") {
            return Some((i + 1, "key material (a PEM block)".into()));
        }
        if trimmed
            .split(['"', '\''])
            .any(crate::jose::jwt::looks_like_jose)
        {
            return Some((i + 1, "a JWT or JWE".into()));
        }
        let Some((name, value)) = trimmed.split_once('=') else {
            continue;
        };
        let name = name.trim().trim_matches('"').to_ascii_lowercase();
        let value = value.trim().trim_matches(['"', '\'']);
        let secret_name = SECRET_NAMES.iter().any(|s| name.contains(s));
        let referenced =
            value.starts_with("${") || value.starts_with('@') || value.starts_with('/');
        if secret_name && !value.is_empty() && !referenced && !name.contains("capture") {
            return Some((i + 1, format!("{name} has a literal value")));
        }
    }
    None
}

/// A flow file found in a folder: where it is, its name, how many steps, the profile it
/// names, or why it cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowFile {
    /// The file.
    pub path: std::path::PathBuf,
    /// The flow's name, or the file's when it cannot be read.
    pub name: String,
    /// How many steps.
    pub steps: usize,
    /// The profile it names.
    pub profile: Option<String>,
    /// Why it cannot be used.
    pub error: Option<String>,
}

/// The flows in `dir` (`*.toml`), by name; an unreadable one is listed with why.
pub fn list(dir: &std::path::Path) -> Vec<FlowFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<FlowFile> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|path| {
            let shown = path.display().to_string();
            let read = std::fs::read_to_string(&path).map_err(|e| e.to_string());
            match read.and_then(|text| parse(&shown, &text).map_err(|e| e.to_string())) {
                Ok(flow) => FlowFile {
                    name: flow.name,
                    steps: flow.steps.len(),
                    profile: flow.profile,
                    error: None,
                    path,
                },
                Err(error) => FlowFile {
                    name: path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    steps: 0,
                    profile: None,
                    error: Some(error),
                    path,
                },
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `text` with `${name}` filled in from the captures and `${env:NAME}` from the
/// environment; an unknown name is an error naming it.
pub fn fill(text: &str, captures: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("an unclosed ${{ in {text:?}"))?;
        let name = &after[..end];
        let value = match name.strip_prefix("env:") {
            Some(var) => std::env::var(var)
                .map_err(|_| format!("the environment variable {var} is not set"))?,
            None => captures
                .get(name)
                .cloned()
                .ok_or_else(|| format!("${{{name}}} was not captured by an earlier step"))?,
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_secret_is_refused_with_its_line() {
        let text = "name = \"x\"\n\n[[step]]\ndo = \"call\"\nclient_secret = \"s3cr3t\"\n";
        match parse("f.toml", text) {
            Err(FlowError::Secret { line, .. }) => assert_eq!(line, 5),
            other => panic!("{other:?}"),
        }
        let pem = "name = \"x\"\nkey = '''\n-----BEGIN PRIVATE KEY-----\n'''\n";
        assert!(matches!(
            parse("f.toml", pem),
            Err(FlowError::Secret { line: 3, .. })
        ));
        let jwt = "name = \"x\"\n[[step]]\ndo = \"call\"\nurl = \"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln\"\n";
        assert!(matches!(
            parse("f.toml", jwt),
            Err(FlowError::Secret { line: 4, .. })
        ));
        let fine = "name = \"x\"\n[[step]]\ndo = \"call\"\nurl = \"${env:RS}/a\"\n[step.capture]\naccess_token = \"/access_token\"\n";
        assert!(parse("f.toml", fine).is_ok());
    }

    #[test]
    fn captures_and_the_environment_fill_in() {
        let mut captures = BTreeMap::new();
        captures.insert("account".to_owned(), "a-1".to_owned());
        assert_eq!(
            fill("/accounts/${account}/b", &captures).unwrap(),
            "/accounts/a-1/b"
        );
        let err = fill("${nope}", &captures).unwrap_err();
        assert!(err.contains("nope"), "{err}");
        assert!(fill("${env:TOKEN_INSPECTOR_SURELY_UNSET}", &captures).is_err());
    }
}
