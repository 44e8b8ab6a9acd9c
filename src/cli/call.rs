//! `token-inspector call URL`: call an API with a token (Bearer, or DPoP with a proof
//! bound to it), with the client certificate and an `x-fapi-interaction-id`, and show the
//! answer: status, headers, the body pretty-printed (a JWS or JWE body decoded), and
//! `WWW-Authenticate` errors explained. `--call URL` on `exchange` and `authorize` does
//! the same right after getting the token.

use clap::Args;
use serde_json::Value;

use super::client_args::ClientArgs;
use super::exchange::{exchange_json, print_exchange};
use super::{Exit, InputError, output};
use token_inspector::oauth::dpop::NonceStore;
use token_inspector::oauth::exchange::Exchange;
use token_inspector::oauth::resource::{self, ResourceCall};
use token_inspector::oauth::settings::Settings;
use token_inspector::oauth::transport::Transport;
use token_inspector::secret::Secret;

/// Arguments of `call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The API URL.
    pub url: String,
    /// The access token (prefer the environment variable).
    #[arg(
        long,
        env = "TOKEN_INSPECTOR_ACCESS_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub token: Option<String>,
    /// The HTTP method.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// Which client (for the certificate, the CA, the DPoP key: --profile, --cert,
    /// --cacert, --dpop, --dpop-key ...).
    #[command(flatten)]
    pub client: ClientArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `call`.
pub async fn run(args: CallArgs) -> anyhow::Result<Exit> {
    let token = args.token.clone().ok_or_else(|| {
        InputError::new("give the token with --token or TOKEN_INSPECTOR_ACCESS_TOKEN")
    })?;
    let super::client_args::Resolved {
        settings,
        transport,
        ..
    } = args.client.resolve_without_server(args.json).await?;
    let what = ResourceCall {
        method: args.method.clone(),
        url: args.url.clone(),
        // --header values reach the request through the profile's extra headers.
        headers: Vec::new(),
        decrypt_with: settings.decryption_key.clone(),
    };
    let mut exchange = resource::call(
        &transport,
        &settings.profile,
        &Secret::new(token.clone()),
        settings.dpop.as_ref(),
        &NonceStore::default(),
        &what,
    )
    .await
    .map_err(|e| InputError::new(e.to_string()))?;
    diagnose(
        args.client.profile.as_deref(),
        &settings,
        &mut exchange,
        &token,
    );
    super::history::record(args.client.profile.as_deref(), &exchange);
    if args.json {
        outln!("{}", output::pretty(&call_json(&exchange)));
    } else {
        print_call(&exchange);
    }
    Ok(Exit::of(&exchange))
}

/// `--call URL` after an exchange: the token of a successful answer, with DPoP when the
/// token is DPoP-bound and there is a key.
pub async fn after_exchange(
    profile: Option<&str>,
    transport: &Transport,
    settings: &Settings,
    exchange: &Exchange,
    url: &str,
    nonces: &NonceStore,
) -> anyhow::Result<Option<Exchange>> {
    let Some(body) = exchange
        .response()
        .filter(|r| (200..300).contains(&r.http.status))
        .and_then(|r| r.body.json())
    else {
        return Ok(None);
    };
    let Some((token, kind)) = resource::token_of(&body) else {
        return Ok(None);
    };
    let dpop = settings
        .dpop
        .as_ref()
        .filter(|_| kind.eq_ignore_ascii_case("DPoP"));
    let what = ResourceCall {
        method: "GET".into(),
        url: url.to_owned(),
        headers: Vec::new(),
        decrypt_with: settings.decryption_key.clone(),
    };
    let mut call = resource::call(transport, &settings.profile, &token, dpop, nonces, &what)
        .await
        .map_err(|e| InputError::new(e.to_string()))?;
    diagnose(profile, settings, &mut call, token.expose());
    Ok(Some(call))
}

/// A refused call judged again with what the settings and the history know (the
/// certificate the token was issued over, its consent).
fn diagnose(profile: Option<&str>, settings: &Settings, call: &mut Exchange, token: &str) {
    use token_inspector::diagnosis;
    if diagnosis::Refusal::of(call).is_none() {
        return;
    }
    let mut evidence = diagnosis::Evidence::for_settings(settings, None);
    super::history::enrich_call(profile, token, &mut evidence);
    call.diagnosis = diagnosis::diagnose(call, &evidence);
}

/// The call for `--json`: the exchange's shape (request, response, findings) plus the
/// first attempt when a DPoP nonce was asked for.
pub fn call_json(exchange: &Exchange) -> Value {
    exchange_json(exchange)
}

/// The call for a reader.
pub fn print_call(exchange: &Exchange) {
    outln!("\n── API call ──\n");
    if let Some(first) = &exchange.first_attempt {
        let status = first.response().map_or(0, |r| r.http.status);
        outln!(
            "(first attempt answered {status}: the server asked for a DPoP nonce; sent again with it)\n"
        );
    }
    print_exchange(exchange);
}
