//! `token-inspector authorize`: start an authorization (PKCE, state, nonce, PAR with a
//! signed request object where the ecosystem wants one) and print the URL to open; with
//! `--listen`, catch the bank's redirect on the loopback redirect_uri, exchange the code
//! and print what `exchange` prints.
//!
//! Contract (scripts rely on it): as soon as the URL is ready, exactly one line
//! `authorization_url: <URL>` goes to stderr.

use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};

use super::client_args::ClientArgs;
use super::exchange::{exchange_json, print_exchange};
use super::{Exit, InputError, output};
use token_inspector::oauth::authorize::{self, AuthorizationSession};
use token_inspector::oauth::exchange;
use token_inspector::oauth::loopback::{self, RedirectCatcher};
use token_inspector::oauth::redirect;
use token_inspector::oauth::request::{self, Grant, RequestOptions};
use token_inspector::oauth::settings;
use token_inspector::secret::Secret;

/// Arguments of `authorize`.
#[derive(Debug, Args)]
pub struct AuthorizeArgs {
    /// Which client, which server (a --profile, or --issuer, --client-id, --key, ...).
    #[command(flatten)]
    pub client: ClientArgs,
    /// authorization_details JSON, or @FILE (default: the profile's consent, else an Open
    /// Finance Malaysia account access consent for 30 days).
    #[arg(long, value_name = "JSON|@FILE")]
    pub authorization_details: Option<String>,
    /// Send a signed request object (JAR) inside PAR even when neither the profile nor
    /// discovery asks for one.
    #[arg(long)]
    pub jar: bool,
    /// Open the URL in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Listen on the loopback redirect_uri (RFC 8252 §7.3), catch the redirect, exchange
    /// the code and print what `exchange` prints (with its exit codes).
    #[arg(long)]
    pub listen: bool,
    /// How long --listen waits for the redirect, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub listen_timeout: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// With --listen: call this API with the token once it came back (the JSON gains
    /// `call`).
    #[arg(long, value_name = "URL", requires = "listen")]
    pub call: Option<String>,
}

/// Runs `authorize`.
pub async fn run(args: AuthorizeArgs) -> anyhow::Result<Exit> {
    let super::client_args::Resolved {
        mut settings,
        transport,
        notes,
        authorization_details_types,
        discovery,
    } = args.client.resolve(args.json).await?;
    let registered_jwks = args
        .client
        .registered_jwks(&settings.profile, &transport)
        .await?;
    if args.jar {
        settings.profile.request_object.signed = true;
    }
    let profile = &settings.profile;
    if settings.secrets.signing_key.is_none()
        && profile.auth.method == token_inspector::storage::profile::AuthMethod::PrivateKeyJwt
    {
        return Err(InputError::new(
            "the PAR request is signed with the client's key: pass --key FILE, or --profile NAME with a key in the keychain",
        )
        .into());
    }
    let given = match args.authorization_details.as_deref() {
        Some(text) => Some(read_details(text)?),
        None => None,
    };
    let details = authorize::consent_or_default(profile, given, &authorization_details_types);
    // Bind before the browser goes to the bank, so a busy port fails first.
    let catcher = if args.listen {
        Some(
            RedirectCatcher::bind(&profile.redirect_uri)
                .await
                .map_err(|e| InputError::new(e.to_string()))?,
        )
    } else {
        None
    };
    let input = authorize::AuthorizationInput {
        authorization_details: details,
        dpop: settings.dpop.clone(),
        ..authorize::AuthorizationInput::default()
    };
    // One nonce store for PAR, the token request and the API call.
    let nonces = input.nonces.clone();
    let mut evidence =
        token_inspector::diagnosis::Evidence::for_settings(&settings, discovery.as_ref());
    evidence.registered_jwks = registered_jwks;
    let session = match authorize::start(
        &transport,
        profile,
        &settings.secrets,
        input,
        &RequestOptions::default(),
    )
    .await
    {
        Ok(session) => session,
        Err(error) => {
            return par_refused(args.client.profile.as_deref(), error, evidence, args.json);
        }
    };
    for step in session.consent_steps.iter().chain(session.par.as_deref()) {
        super::history::record(args.client.profile.as_deref(), step);
    }
    eprintln!("authorization_url: {}", session.authorization_url);
    if args.open
        && let Err(e) = open::that_detached(&session.authorization_url)
    {
        eprintln!("could not open a browser ({e}): open the URL above yourself");
    }
    let Some(catcher) = catcher else {
        let _ = notes; // printed on stderr by resolve
        print_session(&args, &session);
        return Ok(Exit::Ok);
    };
    if !args.json {
        eprintln!(
            "waiting for the bank's redirect on {} (up to {} s; Ctrl-C to stop)…",
            profile.redirect_uri, args.listen_timeout
        );
    }
    let caught = catcher
        .wait(Duration::from_secs(args.listen_timeout))
        .await
        .map_err(|e| super::Classified {
            kind: "timeout",
            exit: Exit::Network,
            message: e.to_string(),
        })?;
    let mut redirect_findings = redirect::check_authorization_response(
        &caught.response,
        Some(&session.state),
        Some(profile.issuer.as_str()).filter(|s| !s.is_empty()),
        Some(session.redirect_uri.as_str()),
    );
    redirect_findings.extend(loopback::redirect_findings(&caught, session.started));
    redirect_findings.extend(notes);
    let authorization = authorization_json(&session, &caught.response.params);
    evidence.pkce_challenge = Some(session.verifier.challenge_s256());
    evidence.authorization_redirect_uri = Some(session.redirect_uri.clone());
    let Some(code) = caught.response.code.clone() else {
        let error = caught.response.error.clone().unwrap_or_default();
        let description = caught
            .response
            .error_description
            .clone()
            .unwrap_or_default();
        let causes = redirect_causes(
            args.client.profile.as_deref(),
            &session,
            &error,
            &description,
            &mut evidence,
        );
        if args.json {
            outln!(
                "{}",
                output::pretty(&json!({
                    "error": {"kind": "authorization", "message": format!("the bank answered error={error} {description}")},
                    "authorization": authorization,
                    "findings": redirect_findings,
                    "diagnosis": causes,
                }))
            );
        } else {
            eprintln!(
                "error: the bank answered error={error}{}",
                if description.is_empty() {
                    String::new()
                } else {
                    format!(" ({description})")
                }
            );
            outln!("{}", output::render_findings(&redirect_findings));
            if let Some(why) = output::why(&causes) {
                outln!("{why}");
            }
        }
        return Ok(Exit::ServerError);
    };
    let code_received_at = time::OffsetDateTime::now_utc().unix_timestamp();
    let grant = Grant::AuthorizationCode {
        code: Secret::new(code),
        redirect_uri: session.redirect_uri.clone(),
        code_verifier: Some(Secret::new(session.verifier.as_str())),
    };
    let mut context = settings::exchange_context(
        profile,
        Some(session.state.clone()),
        Some(session.nonce.clone()),
    );
    context.binding.certificate_x5t = settings::certificate_x5t(&settings.transport);
    context.binding.dpop_jkt = settings.dpop.as_ref().map(|k| k.jkt());
    context.requested_consent = session.requested_consent();
    let mut exchange = exchange::run_with_nonce_retry(&transport, &context, &nonces, |nonce| {
        let mut model = request::build_token_request(
            profile,
            &settings.secrets,
            &grant,
            &RequestOptions::default(),
        )?;
        model.transport.client_key_file = settings.client_key_file.clone();
        if let Some(key) = &settings.dpop {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            request::attach_dpop(&mut model, key, nonce, None, now)?;
        }
        Ok::<_, request::BuildError>(model)
    })
    .await
    .map_err(|e| InputError::new(e.to_string()))?;
    exchange.findings.extend(redirect_findings);
    exchange.findings.sort_by_key(|f| f.severity);
    evidence.code_received_at = Some(code_received_at);
    if token_inspector::diagnosis::Refusal::of(&exchange).is_some() {
        super::history::enrich(args.client.profile.as_deref(), None, &mut evidence);
        exchange.diagnosis = token_inspector::diagnosis::diagnose(&exchange, &evidence);
    }
    super::history::record(args.client.profile.as_deref(), &exchange);
    let call = match &args.call {
        Some(url) => {
            super::call::after_exchange(
                args.client.profile.as_deref(),
                &transport,
                &settings,
                &exchange,
                url,
                &nonces,
            )
            .await?
        }
        None => None,
    };
    if let Some(call) = &call {
        super::history::record(args.client.profile.as_deref(), call);
    }
    let exit = Exit::of(&exchange).and_call(call.as_ref());
    if args.json {
        let mut out = exchange_json(&exchange);
        if let Value::Object(map) = &mut out {
            map.insert("authorization".into(), authorization);
            if let Some(call) = &call {
                map.insert("call".into(), super::call::call_json(call));
            }
        }
        outln!("{}", output::pretty(&out));
    } else {
        print_exchange(&exchange);
        if let Some(call) = &call {
            super::call::print_call(call);
        }
    }
    Ok(exit)
}

/// `--authorization-details`: inline JSON or `@FILE`, checked to be JSON.
fn read_details(text: &str) -> anyhow::Result<String> {
    let json = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| InputError::new(format!("--authorization-details @{path}: {e}")))?,
        None => text.to_owned(),
    };
    serde_json::from_str::<Value>(&json)
        .map_err(|e| InputError::new(format!("--authorization-details is not JSON: {e}")))?;
    Ok(json)
}

/// The authorization part of the JSON output: the URL, the PAR exchange and the decoded
/// request object, and the redirect's parameters (without the code).
fn authorization_json(session: &AuthorizationSession, redirect: &[(String, String)]) -> Value {
    let par = session.par.as_deref();
    json!({
        "authorization_url": session.authorization_url,
        "request_uri": session.request_uri,
        "state": session.state,
        "nonce": session.nonce,
        "consent_id": session.consent_id,
        "consent_steps": session.consent_steps.iter().map(exchange_json).collect::<Vec<_>>(),
        "par": par.map(exchange_json),
        "request_object": par
            .and_then(|p| p.request.request_object.as_ref())
            .map(|o| json!({"header": o.header, "claims": o.claims})),
        "redirect": redirect
            .iter()
            .filter(|(name, _)| name != "code")
            .map(|(n, v)| json!([n, v]))
            .collect::<Vec<_>>(),
    })
}

/// Without --listen: what to do next, with what the token request will need.
fn print_session(args: &AuthorizeArgs, session: &AuthorizationSession) {
    if args.json {
        let par = session.par.as_deref();
        outln!(
            "{}",
            output::pretty(&json!({
                "authorization_url": session.authorization_url,
                "request_uri": session.request_uri,
                "state": session.state,
                "nonce": session.nonce,
                "code_verifier": session.verifier.as_str(),
                "request_object": par
                    .and_then(|p| p.request.request_object.as_ref())
                    .map(|o| json!({"header": o.header, "claims": o.claims})),
            }))
        );
        return;
    }
    outln!("Open this URL, consent, and copy the address the bank redirects to:\n");
    outln!("  {}\n", session.authorization_url);
    outln!("Then exchange the code:\n");
    let client = match &args.client.profile {
        Some(name) => format!(
            "--profile {}",
            token_inspector::oauth::render::shell_quote(name)
        ),
        None => "<the same client flags>".to_owned(),
    };
    outln!(
        "  token-inspector exchange {client} --redirect-url 'PASTE' \\\n    --state {} --nonce {} --code-verifier {}",
        session.state,
        session.nonce,
        session.verifier.as_str()
    );
}

/// A refused authorization request (PAR): diagnosed, kept in the history and printed
/// as an exchange under the error; other failures of the start go on as errors.
pub(super) fn par_refused(
    profile: Option<&str>,
    error: authorize::AuthorizeError,
    mut evidence: token_inspector::diagnosis::Evidence,
    json: bool,
) -> anyhow::Result<Exit> {
    // Its own words: "the PAR endpoint answered HTTP 400: invalid_request: …".
    let message = error.to_string();
    let authorize::AuthorizeError::ParRefused {
        exchange: Some(mut par),
        ..
    } = error
    else {
        return Err(error.into());
    };
    super::history::enrich(profile, None, &mut evidence);
    par.diagnosis = token_inspector::diagnosis::diagnose(&par, &evidence);
    super::history::record(profile, &par);
    if json {
        outln!(
            "{}",
            output::pretty(&json!({
                "error": {"kind": "server", "message": message},
                "diagnosis": par.diagnosis,
                "par": exchange_json(&par),
            }))
        );
    } else {
        print_exchange(&par);
        eprintln!("error: {message}");
    }
    Ok(Exit::ServerError)
}

/// The causes of an error in the bank's redirect, judged against the session's PAR
/// (none without one) and what the history adds.
pub(super) fn redirect_causes(
    profile: Option<&str>,
    session: &AuthorizationSession,
    error: &str,
    description: &str,
    evidence: &mut token_inspector::diagnosis::Evidence,
) -> Vec<token_inspector::diagnosis::Cause> {
    let Some(par) = session.par.as_deref() else {
        return Vec::new();
    };
    super::history::enrich(profile, None, evidence);
    token_inspector::diagnosis::diagnose_redirect(par, error, description, evidence)
}
