//! `token-inspector introspect` (RFC 7662) and `revoke` (RFC 7009): the token management
//! endpoints, with the client's authentication, the client certificate, and a DPoP proof
//! when the server wants one (`--dpop`; a nonce request is answered once).

use clap::Args;

use super::client_args::ClientArgs;
use super::render::{exchange_json, print_exchange};
use super::{Exit, InputError, output};
use token_inspector::oauth::request::RequestKind;
use token_inspector::secret::Secret;

/// Arguments of `introspect` and `revoke`.
#[derive(Debug, Args)]
pub struct TokenManagementArgs {
    /// The token (prefer the environment variable).
    #[arg(
        long,
        env = "TOKEN_INSPECTOR_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub token: Option<String>,
    /// `token_type_hint`: access_token or refresh_token.
    #[arg(long, value_name = "HINT")]
    pub hint: Option<String>,
    /// Which client (--profile, --issuer, --client-id, --key, --cert, --dpop ...).
    #[command(flatten)]
    pub client: ClientArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `introspect` or `revoke`.
pub async fn run(kind: RequestKind, args: TokenManagementArgs) -> anyhow::Result<Exit> {
    let token = args
        .token
        .clone()
        .ok_or_else(|| InputError::new("give the token with --token or TOKEN_INSPECTOR_TOKEN"))?;
    let session = args.client.session(args.json).await?;
    let exchange = session
        .manage_token(kind, &Secret::new(token), args.hint.as_deref())
        .await
        .map_err(|e| InputError::new(e.to_string()))?;
    super::render::warnings(&session);
    if args.json {
        outln!("{}", output::pretty(&exchange_json(&exchange)));
    } else {
        print_exchange(&exchange);
    }
    Ok(Exit::of(&exchange))
}
