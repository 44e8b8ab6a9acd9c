//! `token-inspector introspect` (RFC 7662) and `revoke` (RFC 7009): the token management
//! endpoints, with the client's authentication, the client certificate, and a DPoP proof
//! when the server wants one (`--dpop`; a nonce request is answered once).

use clap::Args;

use super::client_args::{ClientArgs, Resolved};
use super::exchange::{exchange_json, print_exchange};
use super::{Exit, InputError, output};
use token_inspector::oauth::dpop::NonceStore;
use token_inspector::oauth::exchange;
use token_inspector::oauth::request::{self, BuildError, RequestKind, RequestOptions};
use token_inspector::oauth::settings;
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
    let Resolved {
        settings,
        transport,
        ..
    } = args.client.resolve(args.json).await?;
    let token = Secret::new(token);
    let profile = &settings.profile;
    let mut context = settings::exchange_context(profile, None, None);
    context.binding.certificate_x5t = settings::certificate_x5t(&settings.transport);
    context.binding.dpop_jkt = settings.dpop.as_ref().map(|k| k.jkt());
    let options = RequestOptions::default();
    let nonces = NonceStore::default();
    let exchange = exchange::run_with_nonce_retry(&transport, &context, &nonces, |nonce| {
        let mut model = request::build_token_management_request(
            profile,
            &settings.secrets,
            kind.clone(),
            &token,
            args.hint.as_deref(),
            &options,
        )?;
        model.transport.client_key_file = settings.client_key_file.clone();
        if let Some(key) = &settings.dpop {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            request::attach_dpop(&mut model, key, nonce, None, now)?;
        }
        Ok::<_, BuildError>(model)
    })
    .await
    .map_err(|e| InputError::new(e.to_string()))?;
    super::history::record(args.client.profile.as_deref(), &exchange);
    if args.json {
        outln!("{}", output::pretty(&exchange_json(&exchange)));
    } else {
        print_exchange(&exchange);
    }
    Ok(Exit::of(&exchange))
}
