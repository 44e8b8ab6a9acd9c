//! The command loop: every command runs as its own task; a job with an id keeps its
//! `AbortHandle`, so Cancel stops it.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::AbortHandle;

use super::{Command, Inner};

pub(super) async fn command_loop(inner: Arc<Inner>, mut rx: UnboundedReceiver<Command>) {
    let mut in_flight: HashMap<u64, AbortHandle> = HashMap::new();
    while let Some(command) = rx.recv().await {
        in_flight.retain(|_, h| !h.is_finished());
        if let Command::Cancel { id } = command {
            if let Some(h) = in_flight.remove(&id) {
                h.abort();
            }
            continue;
        }
        let job = job_id(&command);
        let task = inner.handle.spawn(inner.clone().run(command));
        if let Some(id) = job {
            in_flight.insert(id, task.abort_handle());
        }
    }
}

/// The id of a cancellable job.
fn job_id(command: &Command) -> Option<u64> {
    match command {
        Command::Send { id, .. }
        | Command::Authorize { id, .. }
        | Command::CallApi { id, .. }
        | Command::RunFlow { id, .. } => Some(*id),
        _ => None,
    }
}

impl Inner {
    async fn run(self: Arc<Self>, command: Command) {
        match command {
            Command::OpenStore => self.open_store().await,
            Command::UseSessionStore => self.use_session_store(),
            Command::ListProfiles => self.list_profiles(),
            Command::CreateLocalSandbox => self.create_local_sandbox().await,
            Command::SaveProfile {
                mut profile,
                previous_name,
                select,
            } => {
                if !self.keep_header_secrets(&mut profile).await {
                    return;
                }
                if let Some(old) = previous_name.as_deref().filter(|o| *o != profile.name) {
                    // A renamed profile's secrets move to its own entries.
                    self.carry_secrets(old, &profile.name, true).await;
                }
                self.save_profile(profile, previous_name, select)
            }
            Command::DuplicateProfile { from, mut profile } => {
                if !self.keep_header_secrets(&mut profile).await {
                    return;
                }
                self.carry_secrets(&from, &profile.name, false).await;
                self.save_profile(profile, None, true)
            }
            Command::DeleteProfile { profile } => self.delete_profile(profile).await,
            Command::ImportProfile => self.import_profile().await,
            Command::ImportReplacing(shared) => self.import_shared(*shared, true).await,
            Command::ExportProfile { profile } => self.export_profile(profile).await,
            Command::LoadKey { profile } => self.load_keys(profile).await,
            Command::LoadDpopKey { profile } => self.load_dpop_key(&profile).await,
            Command::StoreClientSecret { profile, secret } => {
                self.store_client_secret(profile, secret).await
            }
            Command::GenerateKey { profile, key_type } => {
                self.generate_and_store_key(profile, key_type).await
            }
            Command::ImportKey { profile } => self.import_key(profile).await,
            Command::SaveText {
                title,
                file_name,
                text,
            } => {
                self.save_text(&title, file_name, text, super::Area::Client)
                    .await
            }
            Command::PickMtlsCert => self.pick_mtls_cert().await,
            Command::ImportPemKey { profile, used_for } => {
                self.import_pem_key(profile, used_for).await
            }
            Command::Discover { profile } => self.discover(profile).await,
            Command::StartSandbox { profile } => self.start_sandbox(profile).await,
            Command::SetUpDataCalls { profile } => self.set_up_data_calls(profile).await,
            Command::Send {
                id,
                profile,
                secrets,
                request,
                authorization,
                model,
            } => {
                self.send_token(id, profile, secrets, *request, *authorization, *model)
                    .await
            }
            Command::LoadHistory { profile } => self.load_history(profile).await,
            Command::CallApi {
                id,
                profile,
                token,
                token_type,
                call,
            } => self.call_api(id, profile, token, token_type, call).await,
            Command::Cancel { .. } => {}
            Command::ListFlows => self.list_flows(),
            Command::SaveFlow { stem, text } => self.save_flow(&stem, &text),
            Command::RunFlow { id, profile, path } => self.run_flow(id, profile, path).await,
            Command::Authorize {
                id,
                profile,
                secrets,
                in_app,
            } => self.authorize(id, profile, secrets, in_app).await,
            Command::Redirect {
                profile,
                secrets,
                started,
                response,
            } => {
                self.read_redirect(profile, secrets, *started, response)
                    .await
            }
            Command::FetchJwks { profile } => self.fetch_jwks(profile).await,
            Command::PickJwtKey => self.pick_jwt_key().await,
        }
    }
}
