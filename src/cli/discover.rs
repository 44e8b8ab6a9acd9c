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
    /// Take plain-http endpoints on a host that is not this machine (by default only
    /// https, and http on loopback, are used).
    #[arg(long)]
    pub allow_http: bool,
    /// Lint the document against this ecosystem preset (`profile presets` lists them;
    /// default: FAPI 2.0 with private_key_jwt).
    #[arg(long, value_name = "ID")]
    pub preset: Option<String>,
    /// The client will present a certificate (lint: mTLS aliases).
    #[arg(long)]
    pub mtls: bool,
    /// The client will use DPoP (lint: DPoP algorithms).
    #[arg(long)]
    pub dpop: bool,
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
    if args.insecure {
        eprintln!("WARNING: TLS certificate verification is OFF (--insecure)");
    }
    let expect_from = match &args.preset {
        Some(id) => token_inspector::storage::presets::find(id)
            .ok_or_else(|| InputError::new(format!("no preset {id:?} (see `profile presets`)")))?
            .to_profile("discover"),
        None => Profile::new("discover", &args.issuer),
    };
    let transport = Transport::new(TransportConfig {
        insecure_skip_verify: args.insecure,
        ca_pem,
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..TransportConfig::default()
    })?;
    let mut found = discovery::discover(&transport, &args.issuer, args.allow_http).await?;
    let expect = discovery::expectations(&expect_from, args.mtls, args.dpop);
    found
        .findings
        .extend(token_inspector::checks::discovery::lint(
            &found.document,
            &expect,
        ));
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
