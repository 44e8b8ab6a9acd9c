//! `token-inspector call URL`: call an API with a token (Bearer, or DPoP with a proof
//! bound to it), with the client certificate and an `x-fapi-interaction-id`, and show the
//! answer: status, headers, the body pretty-printed (a JWS or JWE body decoded), and
//! `WWW-Authenticate` errors explained. `--call URL` on `exchange` and `authorize` does
//! the same right after getting the token.

use clap::Args;

use super::client_args::ClientArgs;
use super::render::{exchange_json, print_call};
use super::{Exit, InputError, output};
use token_inspector::oauth::resource::ResourceCall;
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
    let session = args.client.session_without_server().await?;
    // With a DPoP key (--dpop, --dpop-key, the profile's), the token is presented as
    // DPoP-bound, with a proof.
    let token_type = if session.settings().dpop.is_some() {
        "DPoP"
    } else {
        "Bearer"
    };
    let what = ResourceCall {
        method: args.method.clone(),
        url: args.url.clone(),
        // --header values reach the request through the profile's extra headers.
        headers: Vec::new(),
        decrypt_with: None,
    };
    let exchange = session
        .call(&Secret::new(token), token_type, what)
        .await
        .map_err(|e| InputError::new(e.to_string()))?;
    super::render::warnings(&session);
    if args.json {
        outln!("{}", output::pretty(&exchange_json(&exchange)));
    } else {
        print_call(&exchange);
    }
    Ok(Exit::of(&exchange))
}
