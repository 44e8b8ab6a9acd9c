//! `token-inspector authorize`: start an authorization (PKCE, state, nonce, PAR) and
//! print the URL to open, with what the token request will need.

use clap::Args;
use serde_json::json;

use super::{Exit, output};
use token_inspector::jose::keys::PrivateKey;
use token_inspector::oauth::request::{ClientSecrets, RequestOptions};
use token_inspector::oauth::transport::{Transport, TransportConfig};
use token_inspector::storage::profile::ProfileStore;

/// Arguments of `authorize`.
#[derive(Debug, Args)]
pub struct AuthorizeArgs {
    /// The profile (its endpoints come from discovery; see `discover --save-to`).
    #[arg(long)]
    pub profile: String,
    /// Signing key file for the PAR client assertion (default: the profile's keychain key).
    #[arg(long, value_name = "FILE")]
    pub key: Option<std::path::PathBuf>,
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
pub async fn run(args: AuthorizeArgs) -> Exit {
    match run_inner(args).await {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("error: {e:#}");
            super::exit_for(&e)
        }
    }
}

async fn run_inner(args: AuthorizeArgs) -> anyhow::Result<Exit> {
    let profile = ProfileStore::default_location()?.load(&args.profile)?;
    let key_text = match &args.key {
        Some(path) => std::fs::read_to_string(path)?,
        None => token_inspector::storage::secret_store::open_default_store()?
            .get(&profile.key_entry())?
            .ok_or_else(|| {
                anyhow::anyhow!("no signing key for {:?}: pass --key FILE", profile.name)
            })?
            .expose()
            .to_owned(),
    };
    let secrets = ClientSecrets {
        signing_key: Some(PrivateKey::load(&key_text)?),
        client_secret: None,
    };
    let transport = Transport::new(TransportConfig::default())?;
    let details = args
        .authorization_details
        .clone()
        .unwrap_or_else(token_inspector::oauth::authorize::default_authorization_details);
    let session = token_inspector::oauth::authorize::start(
        &transport,
        &profile,
        &secrets,
        Some(details),
        &RequestOptions::default(),
    )
    .await?;
    if args.json {
        println!(
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
        println!("Open this URL, consent, and copy the address the bank redirects to:\n");
        println!("  {}\n", session.authorization_url);
        println!("Then exchange the code:\n");
        println!(
            "  token-inspector exchange --profile {} --redirect-url 'PASTE' \\\n    --state {} --nonce {} --code-verifier {}",
            token_inspector::oauth::render::shell_quote(&profile.name),
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
