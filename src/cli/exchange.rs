//! `token-inspector exchange`: build a token request from a profile and/or flags, show
//! it (`--dry-run`, `--curl`, `--curl-redacted`) or send it, and explain the answer.

use anyhow::bail;
use clap::Args;
use serde_json::json;

use super::client_args::ClientArgs;
use super::{Exit, InputError, output};
use token_inspector::oauth::exchange;
use token_inspector::oauth::redirect;
use token_inspector::oauth::render::{self, Redaction};
use token_inspector::oauth::request::{Grant, GrantType, RequestOptions};
use token_inspector::secret::Secret;
use token_inspector::session::{
    AuthorizationContext, Consent, IssuerJwks, Redirect, Session, TokenRequest,
};

/// Arguments of `exchange`.
#[derive(Debug, Args)]
pub struct ExchangeArgs {
    /// Which client, which server.
    #[command(flatten)]
    pub client: ClientArgs,
    /// The grant type: authorization_code, refresh_token or client_credentials.
    #[arg(long, default_value = "authorization_code")]
    pub grant: GrantType,
    /// The authorization code: the value, @FILE, or - (standard input); prefer the
    /// environment variable (a value on the command line shows in ps and the history).
    #[arg(
        long,
        env = "TOKEN_INSPECTOR_CODE",
        hide_env_values = true,
        allow_hyphen_values = true,
        value_name = "CODE|@FILE|-"
    )]
    pub code: Option<String>,
    /// The whole redirect URL the bank sent the browser to (code, state and iss are
    /// taken from it and checked): the URL, @FILE, or - (standard input, to paste it).
    #[arg(
        long,
        env = "TOKEN_INSPECTOR_REDIRECT_URL",
        hide_env_values = true,
        allow_hyphen_values = true,
        value_name = "URL|@FILE|-"
    )]
    pub redirect_url: Option<String>,
    /// The state sent in the authorization request (checked against the redirect).
    #[arg(long, allow_hyphen_values = true)]
    pub state: Option<String>,
    /// The nonce sent in the authorization request (checked against the id_token).
    #[arg(long, allow_hyphen_values = true)]
    pub nonce: Option<String>,
    /// The PKCE code_verifier: the value, @FILE, or - (standard input); prefer the
    /// environment variable.
    // PKCE verifiers, codes and states are base64url: they may start with '-'.
    #[arg(
        long,
        env = "TOKEN_INSPECTOR_CODE_VERIFIER",
        hide_env_values = true,
        allow_hyphen_values = true,
        value_name = "VERIFIER|@FILE|-"
    )]
    pub code_verifier: Option<String>,
    /// Refresh token for --grant refresh_token (prefer the env variable).
    #[arg(
        long,
        env = "TOKEN_INSPECTOR_REFRESH_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub refresh_token: Option<String>,
    /// x-fapi-interaction-id to send (default: a new UUID v4).
    #[arg(long)]
    pub interaction_id: Option<String>,
    /// x-fapi-auth-date to send.
    #[arg(long)]
    pub auth_date: Option<String>,
    /// x-fapi-customer-ip-address to send.
    #[arg(long)]
    pub customer_ip: Option<String>,
    /// The issuer's JWKS (file or URL) to verify the id_token (default: discovered).
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,
    /// Embedded sandbox only: run PAR and approve the consent without a browser to get
    /// the code, then exchange it (state, nonce and code_verifier are handled).
    #[arg(long, conflicts_with_all = ["code", "redirect_url"])]
    pub auto_approve: bool,
    /// Build and show the request; do not send.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the curl command and do not send.
    #[arg(long, conflicts_with_all = ["dry_run", "curl_redacted"])]
    pub curl: bool,
    /// Print the curl command with secrets as ${VARIABLES}, and do not send.
    #[arg(long, conflicts_with = "dry_run")]
    pub curl_redacted: bool,
    /// One JSON object on stdout (request, response, decoded JWTs, findings).
    #[arg(long)]
    pub json: bool,
    /// Redeem the code even when the redirect's state or iss is wrong (to test a bank's
    /// own checks; by default such a code is never sent).
    #[arg(long)]
    pub force_redeem: bool,
    /// After a token came back, call this API with it (GET; Bearer or DPoP, the client
    /// certificate, an x-fapi-interaction-id); the JSON gains `call`.
    #[arg(long, value_name = "URL")]
    pub call: Option<String>,
}

fn input(msg: impl Into<String>) -> anyhow::Error {
    InputError::new(msg).into()
}

/// Runs `exchange`.
pub async fn run(args: ExchangeArgs) -> anyhow::Result<Exit> {
    let mut session = args
        .client
        .session(args.json)
        .await?
        .with_force_redeem(args.force_redeem);
    let only_show = args.curl || args.curl_redacted;
    if let Some(jwks) = args.jwks.as_deref().filter(|_| !only_show) {
        session = session.with_issuer_jwks(issuer_jwks(jwks)?);
    }
    let (request, authorization) = match prepare(&args, &session).await? {
        Prepared::Ready(request, authorization) => (*request, *authorization),
        Prepared::Done(exit) => return Ok(exit),
    };
    let model = session
        .preview(&request)
        .map_err(|e| input(e.to_string()))?;
    if only_show {
        let redaction = if args.curl {
            Redaction::None
        } else {
            Redaction::Redacted
        };
        if args.curl_redacted {
            for var in render::redacted_variables(&model) {
                eprintln!("# set ${var} before running this command");
            }
        }
        outln!("{}", render::curl(&model, redaction));
        return Ok(Exit::Ok);
    }
    if args.dry_run {
        let context = session.exchange_context(&authorization);
        let mut findings = exchange::request_findings(&model, &context);
        findings.extend(authorization.findings.iter().cloned());
        findings.extend(session.notes().iter().cloned());
        if args.json {
            let out = json!({
                "request": super::render::request_json(&model),
                "findings": findings,
            });
            outln!("{}", output::pretty(&out));
        } else {
            super::render::print_request(&model);
            outln!(
                "\nFindings on the request:\n{}",
                output::render_findings(&findings)
            );
        }
        return Ok(Exit::Ok);
    }
    let exchange = session
        .send_token(&request, &authorization, Some(model))
        .await
        .map_err(|e| input(e.to_string()))?;
    // The front channel (a hybrid id_token, a JARM response), judged, beside.
    let front = &authorization.front_channel;
    let extra = (front.id_token.is_some() || front.jarm.is_some())
        .then(|| ("authorization", json!({ "front_channel": front })));
    super::render::finish(&session, exchange, args.call.as_deref(), args.json, extra).await
}

/// `--jwks`: the issuer's JWKS from a URL (fetched when needed) or a file.
fn issuer_jwks(jwks: &str) -> anyhow::Result<IssuerJwks> {
    if jwks.starts_with("http://") || jwks.starts_with("https://") {
        return Ok(IssuerJwks::Url(jwks.to_owned()));
    }
    let text = std::fs::read_to_string(jwks).map_err(|e| input(format!("--jwks {jwks}: {e}")))?;
    let value =
        serde_json::from_str(&text).map_err(|e| input(format!("--jwks {jwks}: not JSON: {e}")))?;
    Ok(IssuerJwks::Known(value))
}

/// What the flags resolve to: the token request and what its authorization left; or,
/// when the authorization already failed and was reported, the exit code.
enum Prepared {
    Ready(Box<TokenRequest>, Box<AuthorizationContext>),
    Done(Exit),
}

async fn prepare(args: &ExchangeArgs, session: &Session) -> anyhow::Result<Prepared> {
    let options = RequestOptions {
        scope: args.client.scope.clone(),
        interaction_id: args.interaction_id.clone(),
        auth_date: args.auth_date.clone(),
        customer_ip: args.customer_ip.clone(),
        now_millis: None,
    };
    if args.auto_approve {
        return Ok(match auto_approve(args, session).await? {
            Prepared::Ready(mut request, authorization) => {
                request.options = options;
                Prepared::Ready(request, authorization)
            }
            done => done,
        });
    }
    let mut authorization = AuthorizationContext {
        state: args.state.clone(),
        nonce: args.nonce.clone(),
        ..AuthorizationContext::default()
    };
    let grant = match args.grant {
        GrantType::AuthorizationCode => code_grant(args, session, &mut authorization)?,
        GrantType::RefreshToken => Grant::RefreshToken {
            refresh_token: Secret::new(args.refresh_token.clone().ok_or_else(|| {
                input("--grant refresh_token needs --refresh-token (or TOKEN_INSPECTOR_REFRESH_TOKEN)")
            })?),
        },
        GrantType::ClientCredentials => Grant::ClientCredentials,
    };
    Ok(Prepared::Ready(
        Box::new(TokenRequest { grant, options }),
        Box::new(authorization),
    ))
}

/// The code grant from `--code` or `--redirect-url` (read and checked: state, iss,
/// redirect_uri), with `--code-verifier`.
fn code_grant(
    args: &ExchangeArgs,
    session: &Session,
    authorization: &mut AuthorizationContext,
) -> anyhow::Result<Grant> {
    let profile = &session.settings().profile;
    let mut redirect_uri = profile.redirect_uri.clone();
    let mut stdin_taken = false;
    let mut code = super::secret_arg::read("--code", args.code.as_deref(), &mut stdin_taken)?;
    let redirect_url = super::secret_arg::read(
        "--redirect-url",
        args.redirect_url.as_deref(),
        &mut stdin_taken,
    )?;
    let code_verifier = super::secret_arg::read(
        "--code-verifier",
        args.code_verifier.as_deref(),
        &mut stdin_taken,
    )?;
    if let Some(url) = &redirect_url {
        let parsed = redirect::parse_authorization_response(url)
            .map_err(|e| input(format!("--redirect-url: {e}")))?;
        authorization.findings = redirect::check_authorization_response(
            &parsed,
            args.state.as_deref(),
            Some(profile.issuer.as_str()).filter(|s| !s.is_empty()),
            Some(profile.redirect_uri.as_str()),
        );
        if let Some(err) = &parsed.error {
            bail!(input(format!(
                "the redirect carries error={err}{}: there is no code to exchange",
                parsed
                    .error_description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )));
        }
        let blockers = redirect::redemption_blockers(&authorization.findings);
        if !blockers.is_empty() && !args.force_redeem {
            let why: Vec<&str> = blockers.iter().map(|f| f.message.as_str()).collect();
            bail!(input(format!(
                "--redirect-url: the code is not redeemed: {} (--force-redeem sends it anyway, to test the bank's own checks)",
                why.join("; ")
            )));
        }
        if redirect_uri.is_empty()
            && let Some(base) = &parsed.redirect_base
        {
            redirect_uri = base.clone();
        }
        if authorization.state.is_none() {
            authorization.state = parsed.state.clone();
        }
        code = code.or(parsed.code);
    }
    let code =
        code.ok_or_else(|| input("--grant authorization_code needs --code or --redirect-url"))?;
    Ok(Grant::AuthorizationCode {
        code: Secret::new(code),
        redirect_uri,
        code_verifier: code_verifier.map(Secret::new),
    })
}

/// `--auto-approve` (embedded sandbox): PAR (with a DPoP proof when DPoP is on, which
/// binds the code to the key, RFC 9449 §10), the consent approved without a browser, the
/// redirect read.
async fn auto_approve(args: &ExchangeArgs, session: &Session) -> anyhow::Result<Prepared> {
    let started = match session.authorize(&Consent::FromProfile).await {
        Ok(started) => started,
        Err(failure) => {
            return Ok(Prepared::Done(super::render::authorize_failed(
                failure, args.json,
            )?));
        }
    };
    let answer = session.auto_approve(&started).await?;
    if !args.json {
        eprintln!(
            "authorized at {} (state {}, nonce {})",
            started.authorization_url, started.state, started.nonce
        );
    }
    Ok(match session.redirect(&started, &answer, None).await {
        Redirect::Code {
            request,
            authorization,
        } => Prepared::Ready(Box::new(request), Box::new(authorization)),
        Redirect::Rejected {
            findings,
            front_channel,
        } => Prepared::Done(super::render::redirect_rejected(
            &findings,
            args.json,
            Some(json!({ "front_channel": front_channel })),
        )),
        Redirect::Refused {
            error,
            description,
            findings,
            causes,
            front_channel,
        } => Prepared::Done(super::render::redirect_refused(
            &error,
            &description,
            &findings,
            &causes,
            args.json,
            Some(json!({ "front_channel": front_channel })),
        )),
    })
}
