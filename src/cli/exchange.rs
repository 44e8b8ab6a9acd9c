//! `token-inspector exchange`: build a token request from a profile and/or flags, show
//! it (`--dry-run`, `--curl`, `--curl-redacted`) or send it, and explain the answer.

use anyhow::bail;
use clap::Args;
use serde_json::{Value, json};

use super::client_args::ClientArgs;
use super::{Exit, InputError, output};
use token_inspector::diagnosis::{self, Evidence};
use token_inspector::oauth::exchange::{self, Exchange, ExchangeContext, InteractionEcho};
use token_inspector::oauth::redirect;
use token_inspector::oauth::render::{self, Redaction};
use token_inspector::oauth::request::{self, Grant, GrantType, RequestModel, RequestOptions};
use token_inspector::oauth::response::ResponseBody;
use token_inspector::oauth::settings::{self, Settings};
use token_inspector::oauth::transport::Transport;
use token_inspector::secret::Secret;

/// Arguments of `exchange`.
#[derive(Debug, Args)]
pub struct ExchangeArgs {
    /// Which client, which server.
    #[command(flatten)]
    pub client: ClientArgs,
    /// The grant type: authorization_code, refresh_token or client_credentials.
    #[arg(long, default_value = "authorization_code")]
    pub grant: GrantType,
    /// The authorization code.
    #[arg(long, allow_hyphen_values = true)]
    pub code: Option<String>,
    /// The whole redirect URL the bank sent the browser to: code, state and iss are taken
    /// from it and checked.
    #[arg(long, value_name = "URL")]
    pub redirect_url: Option<String>,
    /// The state sent in the authorization request (checked against the redirect).
    #[arg(long, allow_hyphen_values = true)]
    pub state: Option<String>,
    /// The nonce sent in the authorization request (checked against the id_token).
    #[arg(long, allow_hyphen_values = true)]
    pub nonce: Option<String>,
    /// The PKCE code_verifier.
    // PKCE verifiers, codes and states are base64url: they may start with '-'.
    #[arg(long, allow_hyphen_values = true)]
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
    run_inner(args).await
}

/// What the flags resolve to, before anything is sent.
struct Prepared {
    settings: Settings,
    grant: Grant,
    options: RequestOptions,
    transport: Transport,
    context: ExchangeContext,
    redirect_findings: Vec<token_inspector::checks::Finding>,
    /// The DPoP nonces servers gave (PAR's, for --auto-approve), for the token request
    /// and --call (RFC 9449 §8.2).
    nonces: std::sync::Arc<token_inspector::oauth::dpop::NonceStore>,
    /// What the diagnosis of a refusal can rest on.
    evidence: Evidence,
}

async fn run_inner(args: ExchangeArgs) -> anyhow::Result<Exit> {
    let prepared = prepare(&args).await?;
    let mut model = request::build_token_request(
        &prepared.settings.profile,
        &prepared.settings.secrets,
        &prepared.grant,
        &prepared.options,
    )
    .map_err(|e| input(e.to_string()))?;
    model.transport.client_key_file = prepared.settings.client_key_file.clone();
    let now = || time::OffsetDateTime::now_utc().unix_timestamp();
    if let Some(key) = &prepared.settings.dpop {
        request::attach_dpop(&mut model, key, None, None, now())
            .map_err(|e| input(e.to_string()))?;
    }

    if args.curl || args.curl_redacted {
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

    let mut request_findings = exchange::request_findings(&model, &prepared.context);
    request_findings.extend(prepared.redirect_findings.clone());
    if args.dry_run {
        if args.json {
            let out = json!({
                "request": request_json(&model),
                "findings": request_findings,
            });
            outln!("{}", output::pretty(&out));
        } else {
            print_request(&model);
            outln!(
                "\nFindings on the request:\n{}",
                output::render_findings(&request_findings)
            );
        }
        return Ok(Exit::Ok);
    }

    if prepared.settings.transport.insecure_skip_verify {
        eprintln!("WARNING: TLS certificate verification is OFF (--insecure)");
    }
    let nonces = prepared.nonces.clone();
    let mut exchange = match &prepared.settings.dpop {
        // A DPoP nonce request is answered once, with a fresh proof and assertion.
        Some(key) => exchange::run_with_nonce_retry(
            &prepared.transport,
            &prepared.context,
            &nonces,
            |nonce| {
                let mut m = request::build_token_request(
                    &prepared.settings.profile,
                    &prepared.settings.secrets,
                    &prepared.grant,
                    &prepared.options,
                )?;
                m.transport.client_key_file = prepared.settings.client_key_file.clone();
                request::attach_dpop(&mut m, key, nonce, None, now())?;
                Ok::<_, request::BuildError>(m)
            },
        )
        .await
        .map_err(|e| input(e.to_string()))?,
        None => exchange::run(&prepared.transport, model, &prepared.context).await,
    };
    exchange.findings.extend(prepared.redirect_findings.clone());
    exchange.findings.sort_by_key(|f| f.severity);
    let profile = args.client.profile.as_deref();
    if diagnosis::Refusal::of(&exchange).is_some() {
        // Only a refusal is diagnosed, so only a refusal reads the history.
        let mut evidence = prepared.evidence.clone();
        super::history::enrich(
            profile,
            prepared.context.expected_state.as_deref(),
            &mut evidence,
        );
        exchange.diagnosis = diagnosis::diagnose(&exchange, &evidence);
    }
    super::history::record(profile, &exchange);
    let call = match &args.call {
        Some(url) => {
            super::call::after_exchange(
                profile,
                &prepared.transport,
                &prepared.settings,
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
        if let (Value::Object(map), Some(call)) = (&mut out, &call) {
            map.insert("call".into(), super::call::call_json(call));
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

async fn prepare(args: &ExchangeArgs) -> anyhow::Result<Prepared> {
    let super::client_args::Resolved {
        settings,
        transport,
        notes,
        authorization_details_types,
        discovery,
    } = args.client.resolve(args.json).await?;
    let mut evidence = Evidence::for_settings(&settings, discovery.as_ref());
    evidence.registered_jwks = args
        .client
        .registered_jwks(&settings.profile, &transport)
        .await?;
    let profile = &settings.profile;
    let mut redirect_uri = profile.redirect_uri.clone();

    // The grant.
    let mut redirect_findings = Vec::new();
    let mut expected_state = args.state.clone();
    let mut expected_nonce = args.nonce.clone();
    let mut code_verifier = args.code_verifier.clone();
    let mut auto_code = None;
    let mut requested_consent = None;
    let nonces = std::sync::Arc::<token_inspector::oauth::dpop::NonceStore>::default();
    if args.auto_approve {
        // With DPoP, PAR carries a proof too, which binds the code to the key (RFC 9449 §10).
        let input = token_inspector::oauth::authorize::AuthorizationInput {
            authorization_details: token_inspector::oauth::authorize::consent_or_default(
                profile,
                None,
                &authorization_details_types,
            ),
            dpop: settings.dpop.clone(),
            nonces: nonces.clone(),
            ..Default::default()
        };
        let session = match token_inspector::oauth::authorize::start(
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
                let exit = super::authorize::par_refused(
                    args.client.profile.as_deref(),
                    error,
                    evidence,
                    args.json,
                )?;
                return Err(super::Reported(exit).into());
            }
        };
        if let Some(par) = session.par.as_deref() {
            super::history::record(args.client.profile.as_deref(), par);
        }
        let answer = token_inspector::oauth::authorize::auto_approve(&transport, &session).await?;
        redirect_findings = redirect::check_authorization_response(
            &answer,
            Some(&session.state),
            Some(profile.issuer.as_str()),
            None,
        );
        if !args.json {
            eprintln!(
                "authorized at {} (state {}, nonce {})",
                session.authorization_url, session.state, session.nonce
            );
        }
        expected_state = Some(session.state.clone());
        expected_nonce = Some(session.nonce.clone());
        requested_consent = session.requested_consent();
        code_verifier = Some(session.verifier.as_str().to_owned());
        evidence.pkce_challenge = Some(session.verifier.challenge_s256());
        evidence.authorization_redirect_uri = Some(session.redirect_uri.clone());
        evidence.code_received_at = Some(time::OffsetDateTime::now_utc().unix_timestamp());
        let Some(code) = answer.code else {
            let error = answer.error.unwrap_or_default();
            let description = answer.error_description.unwrap_or_default();
            let causes = super::authorize::redirect_causes(
                args.client.profile.as_deref(),
                &session,
                &error,
                &description,
                &mut evidence,
            );
            let message = format!("the bank answered error={error} ({description})");
            if args.json {
                outln!(
                    "{}",
                    output::pretty(&json!({
                        "error": {"kind": "authorization", "message": message},
                        "diagnosis": causes,
                    }))
                );
            } else {
                eprintln!("error: {message}");
                if let Some(why) = output::why(&causes) {
                    outln!("{why}");
                }
            }
            return Err(super::Reported(Exit::ServerError).into());
        };
        auto_code = Some(code);
    }
    let grant = match args.grant {
        GrantType::AuthorizationCode => {
            let mut code = args.code.clone().or(auto_code);
            if let Some(url) = &args.redirect_url {
                let parsed = redirect::parse_authorization_response(url)
                    .map_err(|e| input(format!("--redirect-url: {e}")))?;
                redirect_findings = redirect::check_authorization_response(
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
                if redirect_uri.is_empty()
                    && let Some(base) = &parsed.redirect_base
                {
                    redirect_uri = base.clone();
                }
                if expected_state.is_none() {
                    expected_state = parsed.state.clone();
                }

                code = code.or(parsed.code);
            }
            let code = code.ok_or_else(|| {
                input("--grant authorization_code needs --code or --redirect-url")
            })?;
            Grant::AuthorizationCode {
                code: Secret::new(code),
                redirect_uri,
                code_verifier: code_verifier.map(Secret::new),
            }
        }
        GrantType::RefreshToken => Grant::RefreshToken {
            refresh_token: Secret::new(args.refresh_token.clone().ok_or_else(|| {
                input("--grant refresh_token needs --refresh-token (or TOKEN_INSPECTOR_REFRESH_TOKEN)")
            })?),
        },
        GrantType::ClientCredentials => Grant::ClientCredentials,
    };

    let options = RequestOptions {
        scope: args.client.scope.clone(),
        interaction_id: args.interaction_id.clone(),
        auth_date: args.auth_date.clone(),
        customer_ip: args.customer_ip.clone(),
        now_millis: None,
    };

    let mut context = settings::exchange_context(profile, expected_state, expected_nonce);
    context.binding.certificate_x5t = settings::certificate_x5t(&settings.transport);
    context.binding.dpop_jkt = settings.dpop.as_ref().map(|k| k.jkt());
    context.requested_consent = requested_consent;
    let only_show = args.curl || args.curl_redacted;
    if let Some(jwks) = &args.jwks
        && !only_show
    {
        if jwks.starts_with("http://") || jwks.starts_with("https://") {
            context.jwks_uri = Some(jwks.clone());
        } else {
            let text =
                std::fs::read_to_string(jwks).map_err(|e| input(format!("--jwks {jwks}: {e}")))?;
            context.jwks = Some(
                serde_json::from_str(&text)
                    .map_err(|e| input(format!("--jwks {jwks}: not JSON: {e}")))?,
            );
        }
    }
    redirect_findings.extend(notes);
    Ok(Prepared {
        settings,
        grant,
        options,
        transport,
        context,
        redirect_findings,
        nonces,
        evidence,
    })
}

/// The request for JSON output: secret values are replaced by `null` with
/// `"redacted": true` (the decoded client assertion is shown instead).
pub fn request_json(model: &RequestModel) -> Value {
    let headers: Vec<Value> = model
        .headers
        .iter()
        .map(|h| match h.value.shown() {
            Some(value) => json!({"name": h.name, "value": value}),
            None => json!({"name": h.name, "value": null, "redacted": true}),
        })
        .collect();
    let form: Vec<Value> = model
        .form
        .iter()
        .map(|p| match p.value.shown() {
            Some(value) => json!({"name": p.name, "value": value}),
            None => json!({"name": p.name, "value": null, "redacted": true}),
        })
        .collect();
    json!({
        "method": model.method,
        "url": model.url,
        "headers": headers,
        "form": form,
        "interaction_id": model.interaction_id,
        "client_assertion": model.client_assertion.as_ref().map(|a| json!({
            "header": a.header,
            "claims": a.claims,
        })),
    })
}

/// The whole exchange for `--json`.
pub fn exchange_json(exchange: &Exchange) -> Value {
    let mut out = exchange_json_one(exchange);
    if let (Value::Object(map), Some(first)) = (&mut out, &exchange.first_attempt) {
        // The server asked for a DPoP nonce: the attempt before this one.
        map.insert("first_attempt".into(), exchange_json_one(first));
    }
    out
}

fn exchange_json_one(exchange: &Exchange) -> Value {
    let mut out = exchange_json_fields(exchange);
    if let (Value::Object(map), Some(proof)) = (&mut out, &exchange.request.dpop) {
        map.insert(
            "dpop_proof".into(),
            json!({"header": proof.header, "claims": proof.claims}),
        );
    }
    out
}

fn exchange_json_fields(exchange: &Exchange) -> Value {
    let response = match &exchange.outcome {
        Ok(r) => json!({
            "status": r.http.status,
            "reason": r.http.reason,
            "version": r.http.version,
            "headers": r.http.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "body": r.body.json().unwrap_or_else(|| Value::String(r.body_text.clone())),
            "body_kind": match &r.body {
                ResponseBody::Token(_) => "token",
                ResponseBody::Error(_) => "oauth_error",
                ResponseBody::Json(_) => "json",
                ResponseBody::Text(_) => "text",
                ResponseBody::Empty => "empty",
            },
            "truncated": r.http.truncated,
            "interaction_id": r.interaction_id,
            "tokens": r.tokens,
        }),
        Err(_) => Value::Null,
    };
    let error = exchange
        .outcome
        .as_ref()
        .err()
        .map(|e| json!({"error": e, "message": e.to_string()}));
    json!({
        "request": request_json(&exchange.request),
        "sent_at": exchange.sent_at,
        "elapsed_ms": (exchange.elapsed_ms * 10.0).round() / 10.0,
        "response": response,
        "transport_error": error,
        "findings": exchange.findings,
        "diagnosis": exchange.diagnosis,
    })
}

/// The request for a reader: secrets stand as `<NAME>` (`--curl` prints them), the
/// client assertion is shown decoded below.
fn print_request(model: &RequestModel) {
    outln!("{}", render::readable_http(model, Redaction::Redacted));
    if let Some(a) = &model.client_assertion {
        outln!("\nClient assertion (decoded)\n");
        outln!("{}", output::pretty(&Value::Object(a.header.clone())));
        outln!(
            "{}",
            output::annotate_claims(&a.claims, token_inspector::jose::numeric_date::now_unix())
        );
    }
}

pub fn print_exchange(exchange: &Exchange) {
    if let Some(first) = &exchange.first_attempt {
        let status = first.response().map_or(0, |r| r.http.status);
        outln!(
            "(the first attempt was answered {status} use_dpop_nonce: sent again with the server's nonce, a fresh proof and a fresh client assertion)\n"
        );
    }
    let model = &exchange.request;
    outln!(
        "{} {}  (x-fapi-interaction-id {})",
        model.method,
        model.url,
        model.interaction_id.as_deref().unwrap_or("-")
    );
    match &exchange.outcome {
        Err(e) => {
            outln!("\nNo answer after {:.0} ms: {e}", exchange.elapsed_ms);
        }
        Ok(r) => {
            outln!(
                "\n{} {} {}  ({:.0} ms, {} bytes{})",
                r.http.version,
                r.http.status,
                r.http.reason,
                exchange.elapsed_ms,
                r.http.body.len(),
                if r.http.truncated { ", TRUNCATED" } else { "" }
            );
            for (name, value) in &r.http.headers {
                outln!("{name}: {value}");
            }
            match &r.interaction_id {
                InteractionEcho::Echoed => outln!("(x-fapi-interaction-id echoed)"),
                InteractionEcho::Different(v) => {
                    outln!("(x-fapi-interaction-id came back different: {v})")
                }
                InteractionEcho::Missing => outln!("(x-fapi-interaction-id NOT echoed)"),
                InteractionEcho::NotSent(_) => {}
            }
            outln!();
            match r.body.json() {
                Some(v) => outln!("{}", output::pretty(&v)),
                None => outln!("{}", r.body_text),
            }
            if let ResponseBody::Token(t) = &r.body {
                if let Some(secs) = t.expires_in() {
                    outln!(
                        "\naccess token expires in {} (at {})",
                        token_inspector::jose::numeric_date::format_duration(secs),
                        token_inspector::jose::numeric_date::format_utc(
                            token_inspector::jose::numeric_date::now_unix() + secs
                        )
                    );
                }
                for d in t.authorization_details() {
                    if let Some(c) = d.consent {
                        outln!(
                            "\nConsent {} ({}): status {}, purpose {}, expires {}",
                            c.consent_id.as_deref().unwrap_or("-"),
                            d.detail_type.as_deref().unwrap_or("-"),
                            c.status.as_deref().unwrap_or("-"),
                            c.consent_purpose.as_deref().unwrap_or("-"),
                            c.expiration_datetime.as_deref().unwrap_or("-"),
                        );
                        outln!("  permissions: {}", c.permissions.join(", "));
                        for a in &c.accounts {
                            outln!(
                                "  account {} {} ({})",
                                a.account_number.as_deref().unwrap_or("-"),
                                a.account_name.as_deref().unwrap_or("-"),
                                a.account_id.as_deref().unwrap_or("-"),
                            );
                        }
                    }
                }
            }
            for t in &r.tokens {
                outln!("\n{} (decoded)", t.path);
                if let Some(h) = &t.header {
                    outln!("{}", output::pretty(&Value::Object(h.clone())));
                }
                if let Some(c) = &t.claims {
                    outln!(
                        "{}",
                        output::annotate_claims(c, token_inspector::jose::numeric_date::now_unix())
                    );
                }
                if let Some(e) = &t.error {
                    outln!("  does not decode: {e}");
                }
                if let Some(s) = &t.signature {
                    outln!(
                        "  signature: {}{}",
                        s.status(),
                        s.reason().map(|r| format!(" ({r})")).unwrap_or_default()
                    );
                }
            }
        }
    }
    outln!("\n{}", output::render_findings(&exchange.findings));
    if let Some(why) = output::why(&exchange.diagnosis) {
        outln!("{why}");
    }
}
