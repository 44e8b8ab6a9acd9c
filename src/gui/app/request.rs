//! The Request panel: the inputs, Authorize, the redirect (caught, approved in the app,
//! or pasted), Send, Cancel, the curl command, an API call; and the worker's answers.

use std::time::Instant;

use super::{Action, App, MAX_PREVIEW_AGE};
use crate::gui::state::{HistoryEntry, Notice, Work};
use crate::gui::worker::{Command, Event};
use crate::oauth::authorize::AuthorizationSession;
use crate::oauth::pkce::PkceVerifier;
use crate::oauth::redirect::{self, AuthorizationResponse};
use crate::oauth::render::{self, Redaction};
use crate::oauth::request::{Grant, GrantType, RequestOptions};
use crate::oauth::response::ResponseBody;
use crate::secret::Secret;
use crate::session::{AuthorizationContext, Redirect, TokenRequest};

impl App {
    /// What a panel asked of this feature.
    pub(super) fn apply_request(&mut self, action: Action) {
        match action {
            Action::CopyCurl(redaction) => {
                self.refresh_preview(false);
                match &self.state.preview.model {
                    Some(Ok(model)) => {
                        let text = render::curl(model, redaction);
                        let what = match redaction {
                            Redaction::None => "curl command",
                            Redaction::Redacted => "redacted curl command",
                        };
                        self.copy(what, &text);
                    }
                    _ => {
                        self.state.request_notice = Some(Notice::error(
                            "no request to copy yet: fix the inputs shown in red",
                        ))
                    }
                }
            }
            Action::PasteCode => match self.clipboard.get_text() {
                Ok(text) => {
                    self.state.request.paste = text.trim().to_owned();
                    self.apply(Action::ApplyPaste);
                }
                Err(e) => self.state.request_notice = Some(Notice::error(e)),
            },
            Action::ApplyPaste => {
                let text = self.state.request.paste.clone();
                if text.trim().is_empty() {
                    self.state.request.paste_error = None;
                    return;
                }
                match redirect::parse_authorization_response(&text) {
                    Ok(answer) => self.read_pasted(answer),
                    Err(e) => self.state.request.paste_error = Some(e.to_string()),
                }
            }
            Action::GeneratePkce => {
                self.state.request.code_verifier = PkceVerifier::generate().as_str().to_owned();
            }
            Action::RegenerateInteractionId => {
                self.state.request.interaction_id = uuid::Uuid::new_v4().to_string();
            }
            Action::Rebuild => self.refresh_preview(true),
            Action::Send => self.send(),
            Action::CallApi => self.call_api(),
            Action::Cancel => {
                if let Work::Running { id, .. } = self.state.send {
                    self.worker.send(Command::Cancel { id });
                    self.state.send = Work::Idle;
                    self.state.status = "Send cancelled".into();
                    self.state.request_notice = Some(Notice::info(
                        "Request cancelled: no answer will be shown (the server may still have received it).",
                    ));
                }
                if let Work::Running { id, .. } = self.state.authorize {
                    self.worker.send(Command::Cancel { id });
                    self.state.authorize = Work::Idle;
                    self.state.status = "Authorize cancelled".into();
                    self.state.request_notice = Some(Notice::info(
                        "Authorize cancelled: press Authorize to start again.",
                    ));
                }
            }
            Action::Authorize => self.authorize(),
            _ => {}
        }
    }

    /// What the worker reported for this feature.
    pub(super) fn on_request_event(&mut self, event: Event) {
        let st = &mut self.state;
        match event {
            Event::Exchanged { id, exchange } => {
                if matches!(st.send, Work::Running { id: run, .. } if run == id) {
                    st.send = Work::Idle;
                    let exchange = *exchange;
                    st.status = match &exchange.outcome {
                        Ok(r) => format!(
                            "HTTP {} {} in {:.0} ms",
                            r.http.status, r.http.reason, exchange.elapsed_ms
                        ),
                        Err(e) => format!("failed: {e}"),
                    };
                    if let Some(ResponseBody::Token(t)) = exchange.response().map(|r| &r.body)
                        && let Some(refresh) = t.refresh_token()
                    {
                        st.request.refresh_token = crate::secret::Secret::new(refresh);
                    }
                    st.request_notice = None;
                    st.show_new_exchange(exchange);
                }
            }
            Event::Called { id, result } => {
                if matches!(st.api.work, Work::Running { id: run, .. } if run == id) {
                    st.api.work = Work::Idle;
                    st.status = match &result {
                        Ok(ex) => match &ex.outcome {
                            Ok(r) => format!("API: HTTP {} {}", r.http.status, r.http.reason),
                            Err(e) => format!("API call failed: {e}"),
                        },
                        Err(e) => format!("API call not made: {e}"),
                    };
                    st.api.result = Some(result);
                }
            }
            Event::SendFailed { id, message } => {
                if matches!(st.send, Work::Running { id: run, .. } if run == id) {
                    st.send = Work::Idle;
                    st.status = "not sent".into();
                    st.request_notice = Some(Notice::error(message));
                }
            }
            Event::AuthorizeWaiting {
                id,
                url,
                redirect_uri,
                browser_opened,
            } => {
                if matches!(st.authorize, Work::Running { id: run, .. } if run == id) {
                    st.authorize = Work::Running {
                        id,
                        what: format!("Waiting for the bank's redirect on {redirect_uri}…"),
                    };
                    st.request_notice = Some(Notice::info(if browser_opened {
                        format!(
                            "The bank's page opened in your browser; log in and approve. Waiting for the redirect on {redirect_uri} (Cancel stops waiting)."
                        )
                    } else {
                        format!(
                            "Open this URL in a browser, log in and approve: {url}. Waiting for the redirect on {redirect_uri}."
                        )
                    }));
                    st.status = format!("Waiting for the bank's redirect on {redirect_uri}");
                }
            }
            Event::ParRefused { id, exchange } => {
                if matches!(st.authorize, Work::Running { id: run, .. } if run == id) {
                    let exchange = *exchange;
                    st.status = match exchange.response() {
                        Some(r) => format!("PAR refused: HTTP {} {}", r.http.status, r.http.reason),
                        None => "PAR failed".into(),
                    };
                    st.show_new_exchange(exchange);
                }
            }
            Event::Authorized { id, result } => {
                if matches!(st.authorize, Work::Running { id: run, .. } if run == id) {
                    st.authorize = Work::Idle;
                    match result {
                        Ok((session, redirect)) => self.authorized(*session, redirect.map(|r| *r)),
                        Err(e) => {
                            st.request_notice =
                                Some(Notice::error(format!("Authorize failed: {e}")));
                            st.status = "authorize failed".into();
                        }
                    }
                }
            }
            Event::Redirected(redirect) => self.redirected(*redirect, false),
            _ => {}
        }
    }

    /// An authorization started: its state, nonce and verifier are kept for the token
    /// request; the redirect, when it came back already, is read.
    pub(super) fn authorized(&mut self, session: AuthorizationSession, redirect: Option<Redirect>) {
        let st = &mut self.state;
        // A consent created first shows like any other exchange.
        let profile_name = st.profile().map(|p| p.name.clone()).unwrap_or_default();
        for step in &session.consent_steps {
            st.history.push(HistoryEntry {
                profile: profile_name.clone(),
                exchange: step.clone(),
                received: Instant::now(),
            });
        }
        st.request.authorization = AuthorizationContext {
            state: Some(session.state.clone()),
            nonce: Some(session.nonce.clone()),
            requested_consent: session.requested_consent(),
            pkce_challenge: Some(session.verifier.challenge_s256()),
            redirect_uri: Some(session.redirect_uri.clone()),
            ..AuthorizationContext::default()
        };
        st.request.code_verifier = session.verifier.as_str().to_owned();
        st.request.grant = GrantType::AuthorizationCode;
        st.session = Some(session);
        match redirect {
            Some(redirect) => {
                self.state.request.paste.clear();
                self.redirected(redirect, true);
            }
            None => {
                self.state.request_notice = Some(Notice::info(
                    "The consent page opened in your browser. Approve, then paste the redirect URL (or the code) here.",
                ));
                self.state.status = "Waiting for the redirect URL".into();
            }
        }
    }

    /// The bank's redirect, read by the session: a code fills the Request panel (caught
    /// from a real bank, it is exchanged at once: a code lives seconds); an error is
    /// shown with its diagnosis, on the authorization request (PAR) it answers.
    pub(super) fn redirected(&mut self, redirect: Redirect, just_authorized: bool) {
        let st = &mut self.state;
        match redirect {
            Redirect::Rejected {
                findings,
                front_channel,
            } => {
                st.request.code.clear();
                st.request.paste_error = Some(not_redeemed(&findings));
                st.request.authorization.findings = findings;
                st.request.authorization.front_channel = front_channel;
                st.status = "Redirect refused: not sent".into();
            }
            Redirect::Code {
                request,
                authorization,
            } => {
                if let Grant::AuthorizationCode { code, .. } = &request.grant {
                    st.request.code = code.expose().to_owned();
                }
                st.request.received_state = authorization.state.clone();
                st.request.authorization = authorization;
                st.request.paste_error = None;
                let from_the_bank = st.profile().is_some_and(|p| !p.local_sandbox);
                if just_authorized && from_the_bank && !st.request.code.is_empty() {
                    st.status = "Redirect received: exchanging the code".into();
                    self.send();
                    return;
                }
                st.status = "Authorized in the app: code received; press Send".into();
            }
            Redirect::Refused {
                error,
                description,
                findings,
                causes,
                front_channel,
            } => {
                st.request.authorization.front_channel = front_channel;
                let said = if description.is_empty() {
                    String::new()
                } else {
                    format!(" ({description})")
                };
                st.request.paste_error = Some(format!(
                    "the server answered error={error}{said}: there is no code; start again with Authorize"
                ));
                st.request.authorization.findings = findings;
                st.status = format!("the bank answered error={error}");
                // Why? on the authorization request this error answers.
                if let Some(mut par) = st.session.as_ref().and_then(|s| s.par.clone()) {
                    par.diagnosis = causes;
                    st.show_new_exchange(*par);
                }
            }
        }
    }

    /// The paste box: a code, or the whole redirect URL (code, state and iss checked
    /// against the last authorization; an error is diagnosed by the session).
    pub(super) fn read_pasted(&mut self, answer: AuthorizationResponse) {
        let profile = self.state.profile().cloned();
        let secrets = self.secrets();
        let st = &mut self.state;
        st.request.authorization.findings = redirect::check_authorization_response(
            &answer,
            st.request.authorization.state.as_deref(),
            profile.as_ref().map(|p| p.issuer.as_str()),
            profile.as_ref().map(|p| p.redirect_uri.as_str()),
        );
        st.request.received_state = answer.state.clone();
        if let Some(error) = &answer.error {
            st.request.paste_error = Some(format!(
                "the server answered error={error}{}: there is no code; start again with Authorize",
                answer
                    .error_description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ));
            if let (Some(started), Some(profile)) = (st.session.clone(), profile) {
                self.worker.send(Command::Redirect {
                    profile,
                    secrets,
                    started: Box::new(started),
                    response: answer,
                });
            }
            return;
        }
        let blockers = redirect::redemption_blockers(&st.request.authorization.findings);
        if !blockers.is_empty() && answer.code.is_some() {
            // Shown, not sent: a forged code or another request's.
            st.request.code.clear();
            st.request.paste_error = Some(not_redeemed(&st.request.authorization.findings));
            return;
        }
        st.request.paste_error = None;
        if let Some(code) = answer.code {
            st.request.code = code;
            st.request.authorization.code_received_at =
                Some(crate::jose::numeric_date::now_unix() as i64);
        }
    }

    /// The token request the Request panel's inputs describe, and what the last
    /// authorization left for it.
    pub(super) fn token_request(&self) -> (TokenRequest, AuthorizationContext) {
        let r = &self.state.request;
        let redirect_uri = self
            .state
            .profile()
            .map(|p| p.redirect_uri.clone())
            .unwrap_or_default();
        let grant = match r.grant {
            GrantType::AuthorizationCode => Grant::AuthorizationCode {
                code: Secret::new(r.code.clone()),
                redirect_uri,
                code_verifier: Some(r.code_verifier.clone())
                    .filter(|v| !v.trim().is_empty())
                    .map(Secret::new),
            },
            GrantType::RefreshToken => Grant::RefreshToken {
                refresh_token: r.refresh_token.clone(),
            },
            GrantType::ClientCredentials => Grant::ClientCredentials,
        };
        let options = RequestOptions {
            scope: Some(r.scope.trim().to_owned()).filter(|s| !s.is_empty()),
            interaction_id: Some(r.interaction_id.trim().to_owned()).filter(|s| !s.is_empty()),
            ..RequestOptions::default()
        };
        let authorization = if r.grant == GrantType::AuthorizationCode {
            r.authorization.clone()
        } else {
            // A refresh or client-credentials request redeems no code.
            AuthorizationContext::default()
        };
        (TokenRequest { grant, options }, authorization)
    }

    /// Calls the API box's URL with the shown entry's access token.
    pub(super) fn call_api(&mut self) {
        if self.state.api.work.is_running() {
            return;
        }
        let Some(profile) = self.state.profile().cloned() else {
            return;
        };
        let answer = self
            .state
            .shown_entry()
            .and_then(|e| e.exchange.response())
            .and_then(|r| r.body.json());
        let token = answer.as_ref().and_then(crate::oauth::resource::token_of);
        // A dp_id the profile leaves empty comes from the answer's consent.
        let x_signature = answer
            .as_ref()
            .and_then(|a| crate::session::data::x_signature_for(&profile, a));
        let Some((token, token_type)) = token else {
            self.state.api.result = Some(Err(
                "the shown answer has no access_token: get a token first".into(),
            ));
            return;
        };
        if self.state.api.url.trim().is_empty() && profile.local_sandbox {
            // The embedded sandbox's accounts API, as an example to start from.
            self.state.api.url = format!("{}/accounts", profile.issuer.trim_end_matches('/'));
        }
        let url = self.state.api.url.trim().to_owned();
        if url.is_empty() {
            self.state.api.result = Some(Err("type the API URL to call".into()));
            return;
        }
        let mut headers = Vec::new();
        for line in self
            .state
            .api
            .headers
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            match line.split_once(':') {
                Some((name, value)) if !name.trim().is_empty() => {
                    headers.push((name.trim().to_owned(), value.trim().to_owned()));
                }
                _ => {
                    self.state.api.result = Some(Err(format!(
                        "the header line {line:?} is not `Name: value`"
                    )));
                    return;
                }
            }
        }
        let method = match self.state.api.method.trim() {
            "" => "GET".to_owned(),
            m => m.to_ascii_uppercase(),
        };
        let mut call = crate::oauth::resource::ResourceCall {
            method,
            url,
            headers,
            x_signature,
            // The worker reads the profile's decryption key, when it names one.
            ..crate::oauth::resource::ResourceCall::default()
        };
        if let Err(e) = self.api_body(&profile, &mut call) {
            self.state.api.result = Some(Err(e));
            return;
        }
        let id = self.new_id();
        self.state.api.work = Work::Running {
            id,
            what: "Calling…".into(),
        };
        self.state.status = format!("Calling {}…", call.url);
        self.worker.send(Command::CallApi {
            id,
            profile,
            token,
            token_type,
            call,
        });
    }

    /// The "Call an API" body: parsed (an error names the line; nothing typed is lost)
    /// and signed as chosen, the profile's settings for the chosen scheme.
    fn api_body(
        &self,
        profile: &crate::storage::profile::Profile,
        call: &mut crate::oauth::resource::ResourceCall,
    ) -> Result<(), String> {
        let api = &self.state.api;
        let text = api.body.trim();
        if text.is_empty() || matches!(call.method.as_str(), "GET" | "DELETE") {
            return Ok(());
        }
        let body: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "the body is not JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            )
        })?;
        call.body = Some(body);
        let calls = &profile.data_calls;
        match api.sign_as {
            crate::gui::state::SignAs::Profile => {}
            crate::gui::state::SignAs::UkJwsSignature => {
                call.jws_signature = Some(calls.jws_signature.clone().unwrap_or_default());
            }
            crate::gui::state::SignAs::UaeSignedBody => {
                call.signed_body = Some(calls.signed_body.clone().unwrap_or_default());
            }
        }
        Ok(())
    }

    pub(super) fn send(&mut self) {
        if self.state.send.is_running() {
            return;
        }
        let stale = self.state.preview.sent
            || self
                .state
                .preview
                .built
                .is_none_or(|b| b.elapsed() > MAX_PREVIEW_AGE);
        self.refresh_preview(stale);
        let Some(profile) = self.state.profile().cloned() else {
            self.state.request_notice = Some(Notice::error(
                "no profile selected: pick or create one in the sidebar",
            ));
            return;
        };
        let model = match &self.state.preview.model {
            Some(Ok(model)) => model.clone(),
            Some(Err(e)) => {
                self.state.request_notice = Some(Notice::error(format!("cannot send: {e}")));
                return;
            }
            None => return,
        };
        let id = self.new_id();
        self.state.send = Work::Running {
            id,
            what: "Sending…".into(),
        };
        self.state.preview.sent = true;
        self.state.request_notice = None;
        self.state.status = format!("Sending to {}…", model.url);
        let (request, authorization) = self.token_request();
        self.worker.send(Command::Send {
            id,
            profile,
            secrets: self.secrets(),
            request: Box::new(request),
            authorization: Box::new(authorization),
            model: Box::new(model),
        });
    }

    pub(super) fn authorize(&mut self) {
        if self.state.authorize.is_running() {
            return;
        }
        let Some(profile) = self.state.profile().cloned() else {
            return;
        };
        if profile.auth.method == crate::storage::profile::AuthMethod::PrivateKeyJwt
            && self.state.loaded_key().is_none()
        {
            self.state.request_notice = Some(Notice::error(
                "Authorize needs the signing key (PAR is authenticated): wait for it to load, or import/generate one in the Client panel",
            ));
            return;
        }
        let id = self.new_id();
        self.state.authorize = Work::Running {
            id,
            what: "Authorizing…".into(),
        };
        self.state.request_notice = None;
        self.state.status = "Authorizing…".into();
        self.worker.send(Command::Authorize {
            id,
            in_app: profile.local_sandbox,
            secrets: self.secrets(),
            profile,
        });
    }
}

/// Why a redirect's code is not used: the findings that stop it (state, iss).
fn not_redeemed(findings: &[crate::checks::Finding]) -> String {
    let why: Vec<&str> = redirect::redemption_blockers(findings)
        .into_iter()
        .map(|f| f.message.as_str())
        .collect();
    format!(
        "this code is not sent: {} (start again with Authorize)",
        why.join("; ")
    )
}
