//! PayNet's data-consumer calls beside `call` (Open Finance Malaysia): `providers` (the
//! providers list with a client-credentials token, every page; `--save DP_ID` puts the
//! provider's dp_id and resource server into the profile) and `consent-revoke` (a
//! client-credentials token, then `POST {rs}/consents/{id}/revoke`). The session makes
//! the calls; this only translates flags and prints.

use clap::Args;
use serde_json::json;

use super::client_args::ClientArgs;
use super::data_call_args::DataCallArgs;
use super::render::{exchange_json, print_call, print_exchange};
use super::{Exit, InputError, output};
use token_inspector::oauth::resource::ResourceCall;
use token_inspector::session::Session;
use token_inspector::session::data::{Provider, WithClientToken};
use token_inspector::storage::profile::ProfileStore;

/// What both commands share.
#[derive(Debug, Args)]
pub struct DataConsumerArgs {
    /// The resource server, up to its version (https://rs…/v1). Default: the profile's.
    #[arg(long, value_name = "URL")]
    pub rs: Option<String>,
    /// Which client (--profile, --key, --cert ...).
    #[command(flatten)]
    pub client: ClientArgs,
    /// The x-signature and the answer's keys.
    #[command(flatten)]
    pub signing: DataCallArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `providers`.
#[derive(Debug, Args)]
pub struct ProvidersArgs {
    /// Shared flags.
    #[command(flatten)]
    pub common: DataConsumerArgs,
    /// Save this provider's dp_id and resource server into the profile (--profile).
    #[arg(long, value_name = "DP_ID")]
    pub save: Option<String>,
}

/// Arguments of `consent-revoke`.
#[derive(Debug, Args)]
pub struct ConsentRevokeArgs {
    /// The consent to revoke (the consent_id of the token answer's consent).
    pub consent_id: String,
    /// Shared flags.
    #[command(flatten)]
    pub common: DataConsumerArgs,
}

impl DataConsumerArgs {
    /// The session, the resource server and how each call is signed.
    async fn prepare(&self) -> anyhow::Result<(Session, String, ResourceCall)> {
        // A client-credentials token first: the token endpoint, by discovery when needed.
        let session = self.client.session(self.json).await?;
        let profile = &session.settings().profile;
        let rs = self
            .rs
            .clone()
            .or_else(|| profile.data_calls.resource_server.clone())
            .ok_or_else(|| {
                InputError::new(
                    "give the resource server with --rs https://rs…/v1 (or set the profile's data_calls.resource_server)",
                )
            })?;
        let how = ResourceCall {
            x_signature: self.signing.x_signature(profile),
            response_jwks: self.signing.response_jwks.clone(),
            ..ResourceCall::default()
        };
        Ok((session, rs, how))
    }
}

/// The exit code of a token and its calls: the worst of them.
fn exit_of(done: &WithClientToken) -> Exit {
    done.exchanges()
        .map(Exit::of)
        .max_by_key(|e| e.code())
        .unwrap_or(Exit::Ok)
}

fn print(done: &WithClientToken, json: bool, extra: serde_json::Value) {
    if json {
        let mut out = json!({
            "token": exchange_json(&done.token),
            "calls": done.calls.iter().map(exchange_json).collect::<Vec<_>>(),
        });
        if let (Some(out), Some(extra)) = (out.as_object_mut(), extra.as_object()) {
            out.extend(extra.clone());
        }
        outln!("{}", output::pretty(&out));
        return;
    }
    outln!("── Client-credentials token ──\n");
    print_exchange(&done.token);
    for call in &done.calls {
        print_call(call);
    }
}

/// Runs `providers`.
pub async fn run_providers(args: ProvidersArgs) -> anyhow::Result<Exit> {
    let common = &args.common;
    let (session, rs, how) = common.prepare().await?;
    let done = session
        .providers(&rs, None, how)
        .await
        .map_err(|e| InputError::new(e.to_string()))?;
    super::render::warnings(&session);
    let providers = done.providers();
    let saved = match &args.save {
        Some(dp_id) => Some(save(&common.client, &providers, dp_id)?),
        None => None,
    };
    print(
        &done,
        common.json,
        json!({ "providers": providers, "saved": saved }),
    );
    if !common.json {
        outln!("\n── Providers ──\n");
        for p in &providers {
            outln!(
                "{:<16} {:<32} rs {}",
                p.dp_id,
                p.name,
                p.resource_server.as_deref().unwrap_or("-")
            );
        }
        if let Some(path) = &saved {
            outln!("\nsaved into {path}");
        }
    }
    Ok(exit_of(&done))
}

/// Puts the provider's dp_id and resource server into the profile `--profile` names.
fn save(client: &ClientArgs, providers: &[Provider], dp_id: &str) -> anyhow::Result<String> {
    let name = client
        .profile
        .as_deref()
        .ok_or_else(|| InputError::new("--save needs --profile: the profile to save into"))?;
    let provider = providers.iter().find(|p| p.dp_id == dp_id).ok_or_else(|| {
        let known: Vec<&str> = providers.iter().map(|p| p.dp_id.as_str()).collect();
        InputError::new(format!(
            "--save {dp_id}: the list has no such provider (it has: {})",
            known.join(", ")
        ))
    })?;
    let store = ProfileStore::default_location().map_err(|e| InputError::new(e.to_string()))?;
    let mut profile = store
        .load(name)
        .map_err(|e| InputError::new(e.to_string()))?;
    let calls = &mut profile.data_calls;
    calls.x_signature.get_or_insert_with(Default::default).dp_id = provider.dp_id.clone();
    if provider.resource_server.is_some() {
        calls.resource_server.clone_from(&provider.resource_server);
    }
    let path = store
        .save(&profile)
        .map_err(|e| InputError::new(e.to_string()))?;
    Ok(path.display().to_string())
}

/// Runs `consent-revoke`.
pub async fn run_consent_revoke(args: ConsentRevokeArgs) -> anyhow::Result<Exit> {
    let common = &args.common;
    let (session, rs, how) = common.prepare().await?;
    let done = session
        .revoke_consent(&rs, &args.consent_id, None, how)
        .await
        .map_err(|e| InputError::new(e.to_string()))?;
    super::render::warnings(&session);
    print(&done, common.json, json!({ "consent_id": args.consent_id }));
    Ok(exit_of(&done))
}
