//! `token-inspector exchange`: build a token request from a profile and/or flags, show
//! it (`--dry-run`, `--curl`, `--curl-redacted`) or send it, and explain the answer.

use std::path::PathBuf;

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::Exit;
use super::output;
use token_inspector::checks::Severity;
use token_inspector::jose::keys::{PrivateKey, SigningAlg};
use token_inspector::oauth::discovery;
use token_inspector::oauth::exchange::{self, Exchange, ExchangeContext, InteractionEcho};
use token_inspector::oauth::redirect;
use token_inspector::oauth::render::{self, Redaction};
use token_inspector::oauth::request::{self, ClientSecrets, Grant, RequestModel, RequestOptions};
use token_inspector::oauth::response::ResponseBody;
use token_inspector::oauth::transport::{Transport, TransportConfig};
use token_inspector::secret::Secret;
use token_inspector::storage::profile::{
    AudienceChoice, AuthMethod, ExtraHeader, Profile, ProfileStore,
};

/// The grant types `exchange` can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum GrantArg {
    /// RFC 6749 §4.1.3.
    AuthorizationCode,
    /// RFC 6749 §6.
    RefreshToken,
    /// RFC 6749 §4.4.
    ClientCredentials,
}

/// NumericDate styles for the assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NumericDateArg {
    /// Whole seconds.
    Seconds,
    /// Seconds with milliseconds (the seed's style).
    Milliseconds,
}

/// Arguments of `exchange`.
#[derive(Debug, Args)]
pub struct ExchangeArgs {
    /// A saved profile to start from (flags override its fields).
    #[arg(long)]
    pub profile: Option<String>,
    /// Issuer identifier; with no --token-endpoint, the endpoints come from discovery.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Token endpoint URL.
    #[arg(long)]
    pub token_endpoint: Option<String>,
    /// The client_id.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Signing key file for private_key_jwt (PEM: PKCS#1, PKCS#8, SEC1; or JWK).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// The assertion's kid (default: the profile's, else the key's RFC 7638 thumbprint).
    #[arg(long)]
    pub kid: Option<String>,
    /// Signing algorithm: PS256 (default), ES256, EdDSA, RS256.
    #[arg(long)]
    pub alg: Option<SigningAlg>,
    /// Assertion aud: `issuer` (default), `token_endpoint`, or any other value.
    #[arg(long)]
    pub aud: Option<String>,
    /// Client authentication method (private_key_jwt, client_secret_basic,
    /// client_secret_post, tls_client_auth, self_signed_tls_client_auth, none).
    #[arg(long)]
    pub auth_method: Option<AuthMethod>,
    /// Client secret for client_secret_basic/post (prefer the env variable).
    #[arg(long, env = "TOKEN_INSPECTOR_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Assertion lifetime in seconds.
    #[arg(long, value_name = "SECS")]
    pub lifetime: Option<u32>,
    /// How the assertion writes iat/exp.
    #[arg(long, value_enum)]
    pub numeric_date: Option<NumericDateArg>,
    /// The grant type.
    #[arg(long, value_enum, default_value = "authorization_code")]
    pub grant: GrantArg,
    /// The authorization code.
    #[arg(long)]
    pub code: Option<String>,
    /// The whole redirect URL the bank sent the browser to: code, state and iss are taken
    /// from it and checked.
    #[arg(long, value_name = "URL")]
    pub redirect_url: Option<String>,
    /// The state sent in the authorization request (checked against the redirect).
    #[arg(long)]
    pub state: Option<String>,
    /// The nonce sent in the authorization request (checked against the id_token).
    #[arg(long)]
    pub nonce: Option<String>,
    /// The PKCE code_verifier.
    #[arg(long)]
    pub code_verifier: Option<String>,
    /// The redirect_uri sent to the authorization endpoint.
    #[arg(long)]
    pub redirect_uri: Option<String>,
    /// Scope to send (`""` sends none).
    #[arg(long)]
    pub scope: Option<String>,
    /// Refresh token for --grant refresh_token (prefer the env variable).
    #[arg(long, env = "TOKEN_INSPECTOR_REFRESH_TOKEN", hide_env_values = true)]
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
    /// Extra header `Name: value` (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// mTLS client certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// mTLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub cert_key: Option<PathBuf>,
    /// Extra trusted CA certificates (PEM).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Do not verify the server's certificate (dangerous; says so).
    #[arg(long)]
    pub insecure: bool,
    /// Connect timeout in seconds.
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<u64>,
    /// Total timeout in seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
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
}

/// A usage or input problem (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct InputError(String);

fn input(msg: impl Into<String>) -> anyhow::Error {
    anyhow!(InputError(msg.into()))
}

/// Runs `exchange`.
pub async fn run(args: ExchangeArgs) -> Exit {
    match run_inner(args).await {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("error: {e:#}");
            super::exit_for(&e)
        }
    }
}

/// What the flags resolve to, before anything is sent.
struct Prepared {
    profile: Profile,
    secrets: ClientSecrets,
    grant: Grant,
    options: RequestOptions,
    transport: TransportConfig,
    /// The client, once one was needed (discovery, auto-approve); reused to send.
    client: Option<Transport>,
    context: ExchangeContext,
    redirect_findings: Vec<token_inspector::checks::Finding>,
    key_file: Option<PathBuf>,
}

async fn run_inner(args: ExchangeArgs) -> anyhow::Result<Exit> {
    let mut prepared = prepare(&args).await?;
    let model = request::build_token_request(
        &prepared.profile,
        &prepared.secrets,
        &prepared.grant,
        &prepared.options,
    )
    .map_err(|e| input(e.to_string()))?;
    let mut model = model;
    model.transport.client_key_file = prepared.key_file.take();

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
        println!("{}", render::curl(&model, redaction));
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
            println!("{}", output::pretty(&out));
        } else {
            print_request(&model);
            println!(
                "\nFindings on the request:\n{}",
                output::render_findings(&request_findings)
            );
        }
        return Ok(Exit::Ok);
    }

    if prepared.transport.insecure_skip_verify {
        eprintln!("WARNING: TLS certificate verification is OFF (--insecure)");
    }
    let transport = client(&mut prepared.client, &prepared.transport)?;
    let mut exchange = exchange::run(&transport, model, &prepared.context).await;
    exchange.findings.extend(prepared.redirect_findings.clone());
    exchange.findings.sort_by_key(|f| f.severity);
    let exit = match &exchange.outcome {
        Ok(r) if (200..300).contains(&r.http.status) => Exit::Ok,
        Ok(_) => Exit::ServerError,
        Err(_) => Exit::Network,
    };
    if args.json {
        println!("{}", output::pretty(&exchange_json(&exchange)));
    } else {
        print_exchange(&exchange);
    }
    Ok(exit)
}

/// The HTTP client, built once per run (it is a cheap handle to clone afterwards).
fn client(slot: &mut Option<Transport>, config: &TransportConfig) -> anyhow::Result<Transport> {
    if let Some(transport) = slot {
        return Ok(transport.clone());
    }
    let transport = Transport::new(config.clone())?;
    *slot = Some(transport.clone());
    Ok(transport)
}

async fn prepare(args: &ExchangeArgs) -> anyhow::Result<Prepared> {
    let mut profile = match &args.profile {
        Some(name) => ProfileStore::default_location()
            .and_then(|s| s.load(name))
            .map_err(|e| input(e.to_string()))?,
        None => Profile::new("command line", args.issuer.as_deref().unwrap_or_default()),
    };
    if let Some(v) = &args.issuer {
        profile.issuer = v.clone();
    }
    if let Some(v) = &args.token_endpoint {
        profile.endpoints.token = Some(v.clone());
    }
    if let Some(v) = &args.client_id {
        profile.client_id = v.clone();
    }
    if let Some(v) = &args.kid {
        profile.auth.kid = Some(v.clone());
    }
    if let Some(v) = args.alg {
        profile.auth.alg = v;
    }
    if let Some(v) = &args.aud {
        profile.auth.aud = AudienceChoice::from(v.as_str());
    }
    if let Some(v) = args.auth_method {
        profile.auth.method = v;
    } else if args.client_secret.is_some() && args.key.is_none() && args.profile.is_none() {
        profile.auth.method = AuthMethod::ClientSecretBasic;
    }
    if let Some(v) = args.lifetime {
        profile.auth.lifetime_secs = v;
    }
    if let Some(v) = args.numeric_date {
        profile.auth.numeric_date = match v {
            NumericDateArg::Seconds => token_inspector::oauth::assertion::NumericDateStyle::Seconds,
            NumericDateArg::Milliseconds => {
                token_inspector::oauth::assertion::NumericDateStyle::Milliseconds
            }
        };
    }
    if let Some(v) = &args.redirect_uri {
        profile.redirect_uri = v.clone();
    }
    if let Some(v) = &args.scope {
        profile.scope = v.clone();
    }
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| input(format!("--header {h:?}: write it as 'Name: value'")))?;
        profile.headers.push(ExtraHeader {
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
        });
    }
    if args.insecure {
        profile.tls.insecure_skip_verify = true;
    }
    if let Some(v) = &args.cacert {
        profile.tls.ca_file = Some(v.clone());
    }
    if let Some(v) = &args.cert {
        profile.tls.client_cert = Some(v.clone());
    }
    if let Some(v) = args.connect_timeout {
        profile.tls.connect_timeout_secs = v;
    }
    if let Some(v) = args.timeout {
        profile.tls.timeout_secs = v;
    }
    if profile.issuer.trim().is_empty() && profile.endpoints.token.is_none() {
        bail!(input(
            "give --issuer (discovery fills the endpoints) or --token-endpoint, or --profile NAME"
        ));
    }

    // Transport first: discovery uses it too.
    let ca_pem = match &profile.tls.ca_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| input(format!("--cacert {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let identity_pem = match (&profile.tls.client_cert, &args.cert_key) {
        (Some(cert), Some(key)) => {
            let cert_text = std::fs::read_to_string(cert)
                .map_err(|e| input(format!("--cert {}: {e}", cert.display())))?;
            let key_text = std::fs::read_to_string(key)
                .map_err(|e| input(format!("--cert-key {}: {e}", key.display())))?;
            Some(Secret::new(format!("{cert_text}\n{key_text}")))
        }
        (Some(_), None) => match &profile.tls.client_key {
            Some(entry) => {
                let store = token_inspector::storage::secret_store::open_default_store()
                    .map_err(|e| input(format!("the mTLS key is in the keychain, but {e}")))?;
                let key = store
                    .get(entry)
                    .map_err(|e| input(e.to_string()))?
                    .ok_or_else(|| {
                        input(format!("no keychain entry {entry:?} for the mTLS key"))
                    })?;
                let cert = profile
                    .tls
                    .client_cert
                    .as_ref()
                    .map(std::fs::read_to_string);
                let cert_text = cert
                    .transpose()
                    .map_err(|e| input(format!("mTLS certificate: {e}")))?
                    .unwrap_or_default();
                Some(Secret::new(format!("{cert_text}\n{}", key.expose())))
            }
            None => bail!(input(
                "--cert needs --cert-key FILE (the certificate's private key)"
            )),
        },
        _ => None,
    };
    let transport_config = TransportConfig::for_profile(&profile.tls, ca_pem, identity_pem);

    let only_show = args.curl || args.curl_redacted;
    let mut cached_client = None;
    if profile.endpoints.token.is_none() && !profile.issuer.is_empty() {
        let transport = client(&mut cached_client, &transport_config)?;
        let found = discovery::discover(&transport, &profile.issuer)
            .await
            .context("discovery failed (give --token-endpoint to skip it)")?;
        for f in &found.findings {
            if f.severity == Severity::Error && !args.json {
                eprintln!("discovery: {}", f.message);
            }
        }
        discovery::apply_to_profile(&found, &mut profile);
    }

    // Secrets.
    let mut secrets = ClientSecrets::default();
    if let Some(path) = &args.key {
        let text = std::fs::read_to_string(path)
            .map_err(|e| input(format!("--key {}: {e}", path.display())))?;
        let key =
            PrivateKey::load(&text).map_err(|e| input(format!("--key {}: {e}", path.display())))?;
        if args.alg.is_none() && args.profile.is_none() {
            profile.auth.alg = SigningAlg::default_for(key.key_type());
        }
        secrets.signing_key = Some(key);
    } else if profile.auth.method == AuthMethod::PrivateKeyJwt && args.profile.is_some() {
        let entry = profile.key_entry();
        let store = token_inspector::storage::secret_store::open_default_store().map_err(|e| {
            input(format!(
                "the profile's key is in the keychain, but {e}; or pass --key FILE"
            ))
        })?;
        let pem = store
            .get(&entry)
            .map_err(|e| input(e.to_string()))?
            .ok_or_else(|| {
                input(format!(
                    "no signing key in the keychain entry {entry:?}: run `token-inspector keygen --profile {:?}` or pass --key FILE",
                    profile.name
                ))
            })?;
        secrets.signing_key =
            Some(PrivateKey::load(pem.expose()).map_err(|e| input(e.to_string()))?);
    }
    if let Some(s) = &args.client_secret {
        secrets.client_secret = Some(Secret::new(s.clone()));
    } else if let Some(entry) = &profile.auth.client_secret
        && matches!(
            profile.auth.method,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    {
        let store = token_inspector::storage::secret_store::open_default_store()
            .map_err(|e| input(e.to_string()))?;
        secrets.client_secret = store.get(entry).map_err(|e| input(e.to_string()))?;
    }

    // The grant.
    let mut redirect_findings = Vec::new();
    let mut expected_state = args.state.clone();
    let mut expected_nonce = args.nonce.clone();
    let mut code_verifier = args.code_verifier.clone();
    let mut auto_code = None;
    if args.auto_approve {
        let transport = client(&mut cached_client, &transport_config)?;
        let session = token_inspector::oauth::authorize::start(
            &transport,
            &profile,
            &secrets,
            Some(token_inspector::oauth::authorize::default_authorization_details()),
            &RequestOptions::default(),
        )
        .await?;
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
        code_verifier = Some(session.verifier.as_str().to_owned());
        auto_code = Some(answer.code.ok_or_else(|| {
            anyhow!(
                "the sandbox answered error={} ({})",
                answer.error.unwrap_or_default(),
                answer.error_description.unwrap_or_default()
            )
        })?);
    }
    let grant = match args.grant {
        GrantArg::AuthorizationCode => {
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
                if profile.redirect_uri.is_empty()
                    && let Some(base) = &parsed.redirect_base
                {
                    profile.redirect_uri = base.clone();
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
                code,
                redirect_uri: profile.redirect_uri.clone(),
                code_verifier,
            }
        }
        GrantArg::RefreshToken => Grant::RefreshToken {
            refresh_token: Secret::new(args.refresh_token.clone().ok_or_else(|| {
                input("--grant refresh_token needs --refresh-token (or TOKEN_INSPECTOR_REFRESH_TOKEN)")
            })?),
        },
        GrantArg::ClientCredentials => Grant::ClientCredentials,
    };

    let options = RequestOptions {
        scope: args.scope.clone(),
        interaction_id: args.interaction_id.clone(),
        auth_date: args.auth_date.clone(),
        customer_ip: args.customer_ip.clone(),
        now_millis: None,
    };

    let mut context = ExchangeContext {
        issuer: Some(profile.issuer.clone()).filter(|s| !s.is_empty()),
        client_id: Some(profile.client_id.clone()).filter(|s| !s.is_empty()),
        token_endpoint: profile.endpoints.token.clone(),
        expected_nonce,
        expected_state,
        jwks_uri: profile.endpoints.jwks.clone(),
        jwks: None,
    };
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
    Ok(Prepared {
        profile,
        secrets,
        grant,
        options,
        transport: transport_config,
        client: cached_client,
        context,
        redirect_findings,
        key_file: args.cert_key.clone(),
    })
}

/// The request for JSON output: secret values are replaced by `null` with
/// `"redacted": true` (the decoded client assertion is shown instead).
pub fn request_json(model: &RequestModel) -> Value {
    let headers: Vec<Value> = model
        .headers
        .iter()
        .map(|h| {
            if h.secret {
                json!({"name": h.name, "value": null, "redacted": true})
            } else {
                json!({"name": h.name, "value": h.value})
            }
        })
        .collect();
    let form: Vec<Value> = model
        .form
        .iter()
        .map(|p| {
            if p.secret {
                json!({"name": p.name, "value": null, "redacted": true})
            } else {
                json!({"name": p.name, "value": p.value})
            }
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
    })
}

fn print_request(model: &RequestModel) {
    println!("{}", render::readable_http(model, Redaction::None));
    if let Some(a) = &model.client_assertion {
        println!("\nClient assertion (decoded)\n");
        println!("{}", output::pretty(&Value::Object(a.header.clone())));
        println!(
            "{}",
            output::annotate_claims(&a.claims, token_inspector::jose::numeric_date::now_unix())
        );
    }
}

fn print_exchange(exchange: &Exchange) {
    let model = &exchange.request;
    println!(
        "{} {}  (x-fapi-interaction-id {})",
        model.method,
        model.url,
        model.interaction_id.as_deref().unwrap_or("-")
    );
    match &exchange.outcome {
        Err(e) => {
            println!("\nNo answer after {:.0} ms: {e}", exchange.elapsed_ms);
        }
        Ok(r) => {
            println!(
                "\n{} {} {}  ({:.0} ms, {} bytes{})",
                r.http.version,
                r.http.status,
                r.http.reason,
                exchange.elapsed_ms,
                r.http.body.len(),
                if r.http.truncated { ", TRUNCATED" } else { "" }
            );
            for (name, value) in &r.http.headers {
                println!("{name}: {value}");
            }
            match &r.interaction_id {
                InteractionEcho::Echoed => println!("(x-fapi-interaction-id echoed)"),
                InteractionEcho::Different(v) => {
                    println!("(x-fapi-interaction-id came back different: {v})")
                }
                InteractionEcho::Missing => println!("(x-fapi-interaction-id NOT echoed)"),
                InteractionEcho::NotSent(_) => {}
            }
            println!();
            match r.body.json() {
                Some(v) => println!("{}", output::pretty(&v)),
                None => println!("{}", r.body_text),
            }
            if let ResponseBody::Token(t) = &r.body {
                if let Some(secs) = t.expires_in() {
                    println!(
                        "\naccess token expires in {} (at {})",
                        token_inspector::jose::numeric_date::format_duration(secs),
                        token_inspector::jose::numeric_date::format_utc(
                            token_inspector::jose::numeric_date::now_unix() + secs
                        )
                    );
                }
                for d in t.authorization_details() {
                    if let Some(c) = d.consent {
                        println!(
                            "\nConsent {} ({}): status {}, purpose {}, expires {}",
                            c.consent_id.as_deref().unwrap_or("-"),
                            d.detail_type.as_deref().unwrap_or("-"),
                            c.status.as_deref().unwrap_or("-"),
                            c.consent_purpose.as_deref().unwrap_or("-"),
                            c.expiration_datetime.as_deref().unwrap_or("-"),
                        );
                        println!("  permissions: {}", c.permissions.join(", "));
                        for a in &c.accounts {
                            println!(
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
                println!("\n{} (decoded)", t.path);
                if let Some(h) = &t.header {
                    println!("{}", output::pretty(&Value::Object(h.clone())));
                }
                if let Some(c) = &t.claims {
                    println!(
                        "{}",
                        output::annotate_claims(c, token_inspector::jose::numeric_date::now_unix())
                    );
                }
                if let Some(e) = &t.error {
                    println!("  does not decode: {e}");
                }
                if let Some(s) = &t.signature {
                    println!(
                        "  signature: {}{}",
                        s.status(),
                        s.reason().map(|r| format!(" ({r})")).unwrap_or_default()
                    );
                }
            }
        }
    }
    println!("\n{}", output::render_findings(&exchange.findings));
}
