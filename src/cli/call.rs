//! `token-inspector call URL`: call an API with a token (Bearer, or DPoP with a proof
//! bound to it), with the client certificate and an `x-fapi-interaction-id`, and show the
//! answer: status, headers, the body pretty-printed (a JWS or JWE body decoded), and
//! `WWW-Authenticate` errors explained. `--call URL` on `exchange` and `authorize` does
//! the same right after getting the token.

use clap::Args;

use super::client_args::ClientArgs;
use super::data_call_args::DataCallArgs;
use super::message_args::MessageArgs;
use super::render::{exchange_json, print_call};
use super::{Exit, InputError, output};
use token_inspector::oauth::exchange::Exchange;
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
    /// The HTTP method (default: GET, or POST with --data).
    #[arg(long)]
    pub method: Option<String>,
    /// Which client (for the certificate, the CA, the DPoP key: --profile, --cert,
    /// --cacert, --dpop, --dpop-key ...).
    #[command(flatten)]
    pub client: ClientArgs,
    /// A body and its signing (--data, --x-jws-signature, --signed-body ...).
    #[command(flatten)]
    pub message: MessageArgs,
    /// PayNet's x-signature and the keys of the answer's layers (--x-signature, --dc-id,
    /// --dp-id, --response-jwks ...).
    #[command(flatten)]
    pub signing: DataCallArgs,
    /// Follow the list's cursor (next_page_params) and call every page.
    #[arg(long)]
    pub all_pages: bool,
    /// The most pages --all-pages calls.
    #[arg(long, value_name = "N", default_value_t = token_inspector::session::data::MAX_PAGES)]
    pub max_pages: usize,
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
    let profile = &session.settings().profile;
    let default_method = if args.message.data.is_some() {
        "POST"
    } else {
        "GET"
    };
    let mut what = ResourceCall {
        method: args
            .method
            .clone()
            .unwrap_or_else(|| default_method.to_owned()),
        url: args.url.clone(),
        // --header values reach the request through the profile's extra headers.
        headers: Vec::new(),
        x_signature: args.signing.x_signature(profile),
        response_jwks: args.signing.response_jwks.clone(),
        ..ResourceCall::default()
    };
    args.message.apply(profile, &mut what)?;
    let token = Secret::new(token);
    let max_pages = if args.all_pages { args.max_pages } else { 1 };
    let pages = session
        .call_pages(&token, token_type, what, max_pages)
        .await
        .map_err(|e| InputError::new(e.to_string()))?;
    super::render::warnings(&session);
    print_pages(&pages, args.all_pages, args.json);
    Ok(pages
        .iter()
        .map(Exit::of)
        .max_by_key(|e| e.code())
        .unwrap_or(Exit::Ok))
}

/// One call as always; with --all-pages, each page, and in JSON `{"pages": [...]}`.
pub fn print_pages(pages: &[Exchange], all_pages: bool, json: bool) {
    match (all_pages, json) {
        (false, true) => {
            if let Some(exchange) = pages.first() {
                outln!("{}", output::pretty(&exchange_json(exchange)));
            }
        }
        (true, true) => {
            let pages: Vec<_> = pages.iter().map(exchange_json).collect();
            outln!("{}", output::pretty(&serde_json::json!({ "pages": pages })));
        }
        (_, false) => {
            for (i, exchange) in pages.iter().enumerate() {
                if all_pages {
                    outln!("\n══ Page {} ══", i + 1);
                }
                print_call(exchange);
            }
        }
    }
}
