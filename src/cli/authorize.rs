//! `token-inspector authorize`: start an authorization (PKCE, state, nonce, PAR) and
//! print the URL to open, with what the token request will need.

use clap::Args;
use serde_json::json;

use super::client_args::ClientArgs;
use super::{Exit, InputError, output};
use token_inspector::oauth::authorize;
use token_inspector::oauth::request::RequestOptions;

/// Arguments of `authorize`.
#[derive(Debug, Args)]
pub struct AuthorizeArgs {
    /// Which client, which server (a --profile, or --issuer, --client-id, --key, ...).
    #[command(flatten)]
    pub client: ClientArgs,
    /// authorization_details JSON (default: an account access consent for 30 days).
    #[arg(long)]
    pub authorization_details: Option<String>,
    /// Open the URL in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `authorize`.
pub async fn run(args: AuthorizeArgs) -> anyhow::Result<Exit> {
    run_inner(args).await
}

async fn run_inner(args: AuthorizeArgs) -> anyhow::Result<Exit> {
    let (settings, transport) = args.client.resolve(args.json).await?;
    let profile = &settings.profile;
    if settings.secrets.signing_key.is_none()
        && profile.auth.method == token_inspector::storage::profile::AuthMethod::PrivateKeyJwt
    {
        return Err(InputError::new(
            "the PAR request is signed with the client's key: pass --key FILE, or --profile NAME with a key in the keychain",
        )
        .into());
    }
    let details = args
        .authorization_details
        .clone()
        .unwrap_or_else(authorize::default_authorization_details);
    let session = authorize::start(
        &transport,
        profile,
        &settings.secrets,
        Some(details),
        &RequestOptions::default(),
    )
    .await?;
    if args.json {
        outln!(
            "{}",
            output::pretty(&json!({
                "authorization_url": session.authorization_url,
                "request_uri": session.request_uri,
                "state": session.state,
                "nonce": session.nonce,
                "code_verifier": session.verifier.as_str(),
            }))
        );
    } else {
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
    if args.open
        && let Err(e) = open::that(&session.authorization_url)
    {
        eprintln!("could not open a browser: {e}");
    }
    Ok(Exit::Ok)
}
