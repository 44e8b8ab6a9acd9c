//! Running a flow: each step a call of the one session (the same the command line and the
//! app make), its assertions judged, its captures kept for the steps after it; and the
//! run as JUnit XML for CI systems.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use super::{Expect, Flow, Step, StepKind, fill};
use crate::checks::cause::Status;
use crate::oauth::exchange::Exchange;
use crate::oauth::http::HttpClient;
use crate::oauth::request::{Grant, RequestKind};
use crate::oauth::resource::{self, ResourceCall};
use crate::secret::Secret;
use crate::session::{AuthorizationContext, Redirect, Session, TokenRequest};

/// One step, run and judged.
#[derive(Clone, Debug, Serialize)]
pub struct StepOutcome {
    /// Its name.
    pub name: String,
    /// What it did.
    pub kind: &'static str,
    /// Milliseconds, from its first request to its last answer.
    pub elapsed_ms: f64,
    /// The HTTP status of its last answer, when one came.
    pub status: Option<u16>,
    /// The assertions that failed (empty: it passed).
    pub failures: Vec<String>,
    /// No answer came (a network or TLS failure).
    pub network_error: bool,
    /// Its exchanges, last one last (not in the JSON: the history has them).
    #[serde(skip)]
    pub exchanges: Vec<Exchange>,
}

impl StepOutcome {
    /// True when every assertion held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct FlowOutcome {
    /// The flow's name.
    pub name: String,
    /// Each step run, in order (a run stops at the first step that fails).
    pub steps: Vec<StepOutcome>,
    /// Milliseconds for the whole run.
    pub elapsed_ms: f64,
}

impl FlowOutcome {
    /// True when every step passed.
    pub fn passed(&self) -> bool {
        self.steps.iter().all(StepOutcome::passed)
    }

    /// True when a step got no answer at all.
    pub fn network_error(&self) -> bool {
        self.steps.iter().any(|s| s.network_error)
    }
}

/// Opens a URL in the system's browser.
pub type OpenBrowser<'a> = &'a (dyn Fn(&str) -> Result<(), String> + Send + Sync);

/// What the front end lends a run: how to open a browser (`approve = "browser"`), and
/// how long to wait for its redirect.
#[derive(Clone, Copy)]
pub struct RunOptions<'a> {
    /// Opens a URL in the system's browser; none: browser steps cannot run.
    pub open: Option<OpenBrowser<'a>>,
    /// How long a browser step waits for the redirect.
    pub listen_timeout: std::time::Duration,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        Self {
            open: None,
            listen_timeout: std::time::Duration::from_secs(300),
        }
    }
}

/// What the steps leave for each other.
#[derive(Default)]
struct Carry {
    captures: BTreeMap<String, String>,
    code: Option<(TokenRequest, AuthorizationContext)>,
    access_token: Option<(Secret, String)>,
    refresh_token: Option<Secret>,
    /// The last token answer (a dp_id the profile leaves empty comes from its consent).
    token_answer: Option<Value>,
}

/// Runs `flow` with `session`, step after step; `each` sees each step as it ends. A
/// step that fails ends the run (the ones after it need what it should have made).
pub async fn run<C: HttpClient>(
    session: &mut Session<C>,
    flow: &Flow,
    options: RunOptions<'_>,
    mut each: impl FnMut(&StepOutcome),
) -> FlowOutcome {
    let started = Instant::now();
    let mut carry = Carry::default();
    // Every flow may name the issuer it runs against.
    let issuer = session
        .settings()
        .profile
        .issuer
        .trim_end_matches('/')
        .to_owned();
    carry.captures.insert("issuer".into(), issuer);
    let mut steps = Vec::new();
    for step in &flow.steps {
        let began = Instant::now();
        let mut outcome = match run_step(session, step, &mut carry, options).await {
            Ok(exchanges) => judge(step, exchanges, &mut carry),
            Err(why) => StepOutcome {
                name: step.title(),
                kind: step.kind.as_str(),
                elapsed_ms: 0.0,
                status: None,
                failures: vec![why],
                network_error: false,
                exchanges: Vec::new(),
            },
        };
        outcome.elapsed_ms = began.elapsed().as_secs_f64() * 1000.0;
        if let Some(max) = step.expect.max_ms
            && outcome.elapsed_ms > max
        {
            outcome.failures.push(format!(
                "took {:.0} ms, over the {max:.0} ms expected",
                outcome.elapsed_ms
            ));
        }
        each(&outcome);
        let stop = !outcome.passed();
        steps.push(outcome);
        if stop {
            break;
        }
    }
    FlowOutcome {
        name: flow.name.clone(),
        steps,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

/// Does what the step says; its exchanges, or why it could not be done.
async fn run_step<C: HttpClient>(
    session: &mut Session<C>,
    step: &Step,
    carry: &mut Carry,
    options: RunOptions<'_>,
) -> Result<Vec<Exchange>, String> {
    let token = |carry: &Carry| {
        carry.access_token.clone().ok_or_else(|| {
            "no access token yet: put an exchange, refresh or client_credentials step before"
                .to_owned()
        })
    };
    match step.kind {
        StepKind::Discover => session
            .discover()
            .await
            .map(|_| Vec::new())
            .map_err(|e| format!("discovery failed: {e}")),
        StepKind::Authorize => authorize(session, step, carry, options).await,
        StepKind::Exchange => {
            let (request, authorization) = carry
                .code
                .take()
                .ok_or("no code: put an authorize step before")?;
            let exchange = session
                .send_token(&request, &authorization, None)
                .await
                .map_err(|e| e.to_string())?;
            Ok(vec![exchange])
        }
        StepKind::Refresh | StepKind::ClientCredentials => {
            let grant = match step.kind {
                StepKind::Refresh => Grant::RefreshToken {
                    refresh_token: carry
                        .refresh_token
                        .clone()
                        .ok_or("no refresh token: the token answers so far held none")?,
                },
                _ => Grant::ClientCredentials,
            };
            let exchange = session
                .send_token(
                    &TokenRequest::new(grant),
                    &AuthorizationContext::default(),
                    None,
                )
                .await
                .map_err(|e| e.to_string())?;
            Ok(vec![exchange])
        }
        StepKind::Call => {
            let (token, token_type) = token(carry)?;
            let url = fill(
                step.url.as_deref().ok_or("a call step needs url")?,
                &carry.captures,
            )?;
            let default_method = if step.body.is_some() { "POST" } else { "GET" };
            let x_signature = carry.token_answer.as_ref().and_then(|answer| {
                crate::session::data::x_signature_for(&session.settings().profile, answer)
            });
            let what = ResourceCall {
                method: step.method.clone().unwrap_or_else(|| default_method.into()),
                url,
                body: step.body.clone(),
                x_signature,
                ..ResourceCall::default()
            };
            let exchange = session
                .call(&token, &token_type, what)
                .await
                .map_err(|e| e.to_string())?;
            Ok(vec![exchange])
        }
        StepKind::Introspect | StepKind::Revoke => {
            let (token, _) = token(carry)?;
            let kind = if step.kind == StepKind::Revoke {
                RequestKind::Revoke
            } else {
                RequestKind::Introspect
            };
            let exchange = session
                .manage_token(kind, &token, Some("access_token"))
                .await
                .map_err(|e| e.to_string())?;
            Ok(vec![exchange])
        }
        StepKind::ConsentRevoke => {
            let consent = fill(
                step.consent
                    .as_deref()
                    .ok_or("a consent_revoke step needs consent")?,
                &carry.captures,
            )?;
            let rs = match &step.rs {
                Some(rs) => fill(rs, &carry.captures)?,
                None => session
                    .settings()
                    .profile
                    .data_calls
                    .resource_server
                    .clone()
                    .ok_or("a consent_revoke step needs rs (or the profile's resource server)")?,
            };
            let done = session
                .revoke_consent(&rs, &consent, None, ResourceCall::default())
                .await
                .map_err(|e| e.to_string())?;
            Ok(done.exchanges().cloned().collect())
        }
    }
}

/// PAR and the authorization, approved by the sandbox or in a browser (the redirect
/// caught on the loopback redirect_uri); the code kept for the exchange step.
async fn authorize<C: HttpClient>(
    session: &mut Session<C>,
    step: &Step,
    carry: &mut Carry,
    options: RunOptions<'_>,
) -> Result<Vec<Exchange>, String> {
    let browser = step.approve == Some(super::Approve::Browser);
    let catcher = if browser {
        let redirect_uri = session.settings().profile.redirect_uri.clone();
        Some(
            crate::oauth::loopback::RedirectCatcher::bind(&redirect_uri)
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let started = session
        .authorize(&crate::session::Consent::FromProfile)
        .await
        .map_err(|e| format!("the authorization failed: {e}"))?;
    let (answer, caught) = match catcher {
        None => (
            session
                .auto_approve(&started)
                .await
                .map_err(|e| format!("the sandbox's approval failed: {e}"))?,
            None,
        ),
        Some(catcher) => {
            catcher.expect_state(&started.state);
            let open = options
                .open
                .ok_or("this front end cannot open a browser: use approve = \"sandbox\"")?;
            session.may_open(&started.authorization_url)?;
            open(&started.authorization_url)?;
            let caught = catcher
                .wait(options.listen_timeout, &started.state)
                .await
                .map_err(|e| e.to_string())?;
            (caught.response.clone(), Some(caught))
        }
    };
    let mut exchanges: Vec<Exchange> = started.consent_steps.clone();
    exchanges.extend(started.par.as_deref().cloned());
    match session.redirect(&started, &answer, caught.as_ref()).await {
        Redirect::Code {
            request,
            authorization,
        } => carry.code = Some((request, authorization)),
        Redirect::Rejected { findings, .. } => {
            let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
            return Err(format!("the redirect was refused: {}", codes.join(", ")));
        }
        Redirect::Refused { error, .. } => {
            return Err(format!("the bank answered error={error}"));
        }
    }
    Ok(exchanges)
}

/// The step's assertions against its last exchange; captures and tokens kept.
fn judge(step: &Step, exchanges: Vec<Exchange>, carry: &mut Carry) -> StepOutcome {
    let mut outcome = StepOutcome {
        name: step.title(),
        kind: step.kind.as_str(),
        elapsed_ms: 0.0,
        status: None,
        failures: Vec::new(),
        network_error: false,
        exchanges,
    };
    let Some(last) = outcome.exchanges.last() else {
        return outcome;
    };
    outcome.network_error = last.outcome.is_err();
    outcome.status = last.response().map(|r| r.http.status);
    let data = crate::session::data::answer_data(last);
    outcome.failures = assertion_failures(&step.expect, last, data.as_ref());
    if let Some(body) = last.response().and_then(|r| r.body.json())
        && matches!(
            step.kind,
            StepKind::Exchange | StepKind::Refresh | StepKind::ClientCredentials
        )
        && last.is_success()
    {
        carry.access_token = resource::token_of(&body);
        carry.token_answer = Some(body.clone());
        if let Some(refresh) = body.get("refresh_token").and_then(Value::as_str) {
            carry.refresh_token = Some(Secret::new(refresh));
        }
    }
    for (name, pointer) in &step.capture {
        match data.as_ref().and_then(|d| d.pointer(pointer)) {
            Some(Value::String(s)) => {
                carry.captures.insert(name.clone(), s.clone());
            }
            Some(other) => {
                carry.captures.insert(name.clone(), other.to_string());
            }
            None => outcome.failures.push(format!(
                "capture {name}: the answer has nothing at {pointer}"
            )),
        }
    }
    outcome
}

fn assertion_failures(expect: &Expect, last: &Exchange, data: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    match (&last.outcome, expect.status) {
        (Err(e), _) => out.push(format!("no answer: {e}")),
        (Ok(r), Some(want)) if r.http.status != want => {
            out.push(format!(
                "status {} where {want} was expected",
                r.http.status
            ));
        }
        (Ok(r), None) if !(200..300).contains(&r.http.status) => {
            out.push(format!("status {} where a 2xx was expected", r.http.status));
        }
        _ => {}
    }
    for (pointer, want) in &expect.json {
        let got = data.and_then(|d| d.pointer(pointer));
        let regex = want.get("matches").and_then(Value::as_str);
        let holds = match (got, regex) {
            (None, _) => false,
            (Some(got), Some(pattern)) => {
                let text = got.as_str().map_or_else(|| got.to_string(), str::to_owned);
                regex::Regex::new(pattern).is_ok_and(|r| r.is_match(&text))
            }
            (Some(got), None) => got == want,
        };
        if !holds {
            out.push(format!(
                "{pointer} is {} where {want} was expected",
                got.map_or_else(|| "absent".to_owned(), Value::to_string)
            ));
        }
    }
    let has = |code: &str| last.findings.iter().any(|f| f.code == code);
    for code in &expect.findings {
        if !has(code) {
            out.push(format!("the finding {code} is absent"));
        }
    }
    for code in &expect.no_findings {
        if has(code) {
            out.push(format!("the finding {code} is present"));
        }
    }
    if let Some(cause) = &expect.cause {
        let likely = last
            .diagnosis
            .iter()
            .any(|c| &c.code == cause && c.status == Status::Likely);
        if !likely {
            out.push(format!("the diagnosis does not find {cause} likely"));
        }
    }
    out
}
