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
use super::render::exchange_json;
use super::{Exit, InputError, output};
use token_inspector::oauth::authorize::AuthorizationSession;
use token_inspector::oauth::front_channel::FrontChannel;
use token_inspector::oauth::loopback::RedirectCatcher;
use token_inspector::session::{Consent, Redirect};

/// Arguments of `authorize`.
#[derive(Debug, Args)]
pub struct AuthorizeArgs {
    /// Which client, which server (a --profile, or --issuer, --client-id, --key, ...).
    #[command(flatten)]
    pub client: ClientArgs,
    /// authorization_details JSON, or @FILE, or `none` (default: the profile's consent,
    /// else its preset's; none is invented).
    #[arg(long, value_name = "JSON|@FILE|none")]
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
    /// Redeem the code even when the redirect's state or iss is wrong (to test a bank's
    /// own checks; by default such a code is never sent).
    #[arg(long)]
    pub force_redeem: bool,
    /// With --listen: call this API with the token once it came back (the JSON gains
    /// `call`).
    #[arg(long, value_name = "URL", requires = "listen")]
    pub call: Option<String>,
}

/// Runs `authorize`.
pub async fn run(args: AuthorizeArgs) -> anyhow::Result<Exit> {
    let mut session = args
        .client
        .session(args.json)
        .await?
        .with_force_redeem(args.force_redeem);
    if args.jar {
        session.settings_mut().profile.request_object.signed = true;
    }
    let settings = session.settings();
    if settings.secrets.signing_key.is_none()
        && settings.profile.auth.method
            == token_inspector::storage::profile::AuthMethod::PrivateKeyJwt
    {
        return Err(InputError::new(
            "the PAR request is signed with the client's key: pass --key FILE, or --profile NAME with a key in the keychain",
        )
        .into());
    }
    let consent = Consent::from_flag(match args.authorization_details.as_deref() {
        Some(text) => Some(read_details(text)?),
        None => None,
    });
    let redirect_uri = settings.profile.redirect_uri.clone();
    // Bind before the browser goes to the bank, so a busy port fails first.
    let catcher = if args.listen {
        Some(
            RedirectCatcher::bind(&redirect_uri)
                .await
                .map_err(|e| InputError::new(e.to_string()))?,
        )
    } else {
        None
    };
    let started = match session.authorize(&consent).await {
        Ok(started) => started,
        Err(failure) => return super::render::authorize_failed(failure, args.json),
    };
    if let Some(catcher) = &catcher {
        catcher.expect_state(&started.state);
    }
    eprintln!("authorization_url: {}", started.authorization_url);
    if args.open {
        let opened = session.may_open(&started.authorization_url).and_then(|()| {
            open::that_detached(&started.authorization_url).map_err(|e| e.to_string())
        });
        if let Err(e) = opened {
            eprintln!("the browser was not opened ({e}): open the URL above yourself");
        }
    }
    let Some(catcher) = catcher else {
        super::render::warnings(&session);
        print_session(&args, &started);
        return Ok(Exit::Ok);
    };
    if !args.json {
        eprintln!(
            "waiting for the bank's redirect on {redirect_uri} (up to {} s; Ctrl-C to stop)…",
            args.listen_timeout
        );
    }
    let caught = catcher
        .wait(Duration::from_secs(args.listen_timeout), &started.state)
        .await
        .map_err(|e| super::Classified {
            kind: "timeout",
            exit: Exit::Network,
            message: e.to_string(),
        })?;
    let mut authorization = authorization_json(&started, &caught.response.params);
    // The front channel (a hybrid id_token, a JARM response) beside, with its verdicts.
    let with_front = |authorization: &mut Value, front: &FrontChannel| {
        authorization["front_channel"] = json!(front);
    };
    match session
        .redirect(&started, &caught.response, Some(&caught))
        .await
    {
        Redirect::Code {
            request,
            authorization: context,
        } => {
            with_front(&mut authorization, &context.front_channel);
            let exchange = session
                .send_token(&request, &context, None)
                .await
                .map_err(|e| InputError::new(e.to_string()))?;
            let extra = Some(("authorization", authorization));
            super::render::finish(&session, exchange, args.call.as_deref(), args.json, extra).await
        }
        Redirect::Rejected {
            findings,
            front_channel,
        } => {
            with_front(&mut authorization, &front_channel);
            super::render::warnings(&session);
            Ok(super::render::redirect_rejected(
                &findings,
                args.json,
                Some(authorization),
            ))
        }
        Redirect::Refused {
            error,
            description,
            findings,
            causes,
            front_channel,
        } => {
            with_front(&mut authorization, &front_channel);
            super::render::warnings(&session);
            Ok(super::render::redirect_refused(
                &error,
                &description,
                &findings,
                &causes,
                args.json,
                Some(authorization),
            ))
        }
    }
}

/// `--authorization-details`: inline JSON, `@FILE`, or `none`; checked to be JSON.
fn read_details(text: &str) -> anyhow::Result<String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(text.to_owned());
    }
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
    // The verifier goes in by environment and the redirect on standard input: neither
    // shows in ps or the shell's history (the leading space keeps bash from saving the
    // export line with HISTCONTROL=ignorespace or ignoreboth).
    outln!(
        "   export TOKEN_INSPECTOR_CODE_VERIFIER={}",
        token_inspector::oauth::render::shell_quote(session.verifier.as_str())
    );
    outln!(
        "  token-inspector exchange {client} --state {} --nonce {} --redirect-url -",
        session.state,
        session.nonce
    );
    outln!("\n(then paste the redirect URL and press Ctrl-D)");
}
