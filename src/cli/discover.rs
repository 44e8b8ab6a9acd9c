//! `token-inspector discover ISSUER`: fetch the OIDC discovery document, show the
//! endpoints and what is wrong with it, and optionally save them into a profile.

use std::time::Duration;

use clap::Args;
use serde_json::json;

use super::{Exit, InputError, output};
use token_inspector::oauth::discovery;
use token_inspector::oauth::transport::{Transport, TransportConfig};
use token_inspector::storage::profile::{Profile, ProfileStore};

/// Arguments of `discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The issuer identifier, e.g. https://auth1.sandbox.mya.ozoneapi.io
    pub issuer: String,
    /// Save the endpoints into this profile (created when missing).
    #[arg(long)]
    pub save_to: Option<String>,
    /// Extra trusted CA certificates (PEM).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<std::path::PathBuf>,
    /// Do not verify the server's certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Total timeout in seconds.
    #[arg(long, default_value_t = 15)]
    pub timeout: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `discover`.
pub async fn run(args: DiscoverArgs) -> anyhow::Result<Exit> {
    let ca_pem = match &args.cacert {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .map_err(|e| InputError::new(format!("--cacert {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let transport = Transport::new(TransportConfig {
        insecure_skip_verify: args.insecure,
        ca_pem,
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..TransportConfig::default()
    })?;
    let found = discovery::discover(&transport, &args.issuer).await?;
    if let Some(name) = &args.save_to {
        let saved = ProfileStore::default_location().and_then(|store| {
            let mut profile = store
                .load(name)
                .unwrap_or_else(|_| Profile::new(name, &args.issuer));
            discovery::apply_to_profile(&found, &mut profile);
            store.save(&profile)
        });
        let path = saved.map_err(|e| InputError::new(e.to_string()))?;
        eprintln!("saved the endpoints into {}", path.display());
    }
    if args.json {
        outln!(
            "{}",
            output::pretty(&json!({
                "url": found.url,
                "endpoints": found.endpoints,
                "mtls_endpoint_aliases": found.mtls_endpoints,
                "findings": found.findings,
                "document": found.document,
            }))
        );
    } else {
        outln!("{}\n", found.url);
        let e = &found.endpoints;
        for (name, value) in [
            (
                "issuer",
                found
                    .document
                    .get("issuer")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            ),
            ("token", e.token.clone()),
            ("par", e.par.clone()),
            ("authorization", e.authorization.clone()),
            ("jwks", e.jwks.clone()),
            ("revocation", e.revocation.clone()),
            ("introspection", e.introspection.clone()),
            ("userinfo", e.userinfo.clone()),
        ] {
            outln!("{name:<14} {}", value.as_deref().unwrap_or("-"));
        }
        if found.mtls_endpoints.token.is_some() {
            outln!(
                "{:<14} {}",
                "mtls token",
                found.mtls_endpoints.token.as_deref().unwrap_or("-")
            );
        }
        outln!("\n{}", output::render_findings(&found.findings));
    }
    Ok(Exit::Ok)
}
