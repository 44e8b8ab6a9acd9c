//! `token-inspector discover ISSUER`: fetch the OIDC discovery document, show the
//! endpoints and what is wrong with it, and optionally save them into a profile.

use std::time::Duration;

use clap::Args;
use serde_json::json;

use super::{Exit, output};
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
pub async fn run(args: DiscoverArgs) -> Exit {
    let ca_pem = match &args.cacert {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("error: --cacert {}: {e}", p.display());
                return Exit::Usage;
            }
        },
        None => None,
    };
    let transport = match Transport::new(TransportConfig {
        insecure_skip_verify: args.insecure,
        ca_pem,
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..TransportConfig::default()
    }) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let found = match discovery::discover(&transport, &args.issuer).await {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: {e}");
            return match e {
                discovery::DiscoveryError::Send(_) => Exit::Network,
                discovery::DiscoveryError::BadIssuer(_) => Exit::Usage,
                _ => Exit::ServerError,
            };
        }
    };
    if let Some(name) = &args.save_to {
        let saved = ProfileStore::default_location().and_then(|store| {
            let mut profile = store
                .load(name)
                .unwrap_or_else(|_| Profile::new(name, &args.issuer));
            discovery::apply_to_profile(&found, &mut profile);
            store.save(&profile)
        });
        match saved {
            Ok(path) => eprintln!("saved the endpoints into {}", path.display()),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Usage;
            }
        }
    }
    if args.json {
        println!(
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
        println!("{}\n", found.url);
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
            println!("{name:<14} {}", value.as_deref().unwrap_or("-"));
        }
        if found.mtls_endpoints.token.is_some() {
            println!(
                "{:<14} {}",
                "mtls token",
                found.mtls_endpoints.token.as_deref().unwrap_or("-")
            );
        }
        println!("\n{}", output::render_findings(&found.findings));
    }
    Exit::Ok
}
