//! The request preview: built by the core exactly as Send sends it, rebuilt when its
//! inputs change.

use std::time::Instant;

use super::App;
use crate::gui::state::{KeyState, PreviewInputs};
use crate::oauth::exchange::{self, ExchangeContext};
use crate::session::build::{self, Credentials};
use crate::session::settings;
use crate::session::{AuthorizationContext, TokenRequest};
use crate::storage::profile::Profile;

impl App {
    /// Rebuilds the request model when the inputs changed (or `force`): built by the
    /// core as Send sends it, the DPoP proof (with the server's last nonce) included.
    pub(super) fn refresh_preview(&mut self, force: bool) {
        let st = &self.state;
        let Some(profile) = st.profile() else {
            self.state.preview = Default::default();
            return;
        };
        let (request, authorization) = self.token_request();
        let nonces = self.worker.nonces().clone();
        let dpop = st.loaded_dpop_key();
        let nonce = profile
            .endpoints
            .token
            .as_deref()
            .and_then(|url| nonces.get(url));
        let r = &st.request;
        let inputs = PreviewInputs {
            profile: profile.clone(),
            grant: r.grant,
            code: r.code.clone(),
            code_verifier: r.code_verifier.clone(),
            scope: r.scope.clone(),
            interaction_id: r.interaction_id.clone(),
            refresh_token: r.refresh_token.clone(),
            key: match &st.key {
                KeyState::Loaded(k) => k.thumbprint.clone(),
                other => format!("{other:?}"),
            },
            client_secret: st.client_secret.clone(),
            dpop_jkt: dpop.map(|k| k.jkt()),
            dpop_nonce: nonce,
        };
        if !force && st.preview.inputs.as_ref() == Some(&inputs) {
            return;
        }
        let model = self.build_preview(profile, &request, &nonces);
        let context = self.check_context(&authorization);
        let findings = match &model {
            Ok(m) => exchange::request_findings(m, &context),
            Err(_) => Vec::new(),
        };
        let preview = &mut self.state.preview;
        preview.inputs = Some(inputs);
        preview.model = Some(model);
        preview.built = Some(Instant::now());
        preview.sent = false;
        preview.findings = findings;
    }

    /// The model the core builds for Send, or why it cannot be built yet.
    pub(super) fn build_preview(
        &self,
        profile: &Profile,
        request: &TokenRequest,
        nonces: &crate::oauth::dpop::NonceStore,
    ) -> Result<crate::oauth::request::RequestModel, String> {
        let st = &self.state;
        let needs_key = profile.auth.method == crate::storage::profile::AuthMethod::PrivateKeyJwt;
        if needs_key && st.loaded_key().is_none() {
            return Err(match &st.key {
                KeyState::Loading | KeyState::Unknown => {
                    "loading the signing key from the secret store…".to_owned()
                }
                KeyState::Failed(e) => format!("the signing key could not be loaded: {e}"),
                _ => "this profile has no signing key: import one or press \"Generate key\" in the Client panel".to_owned(),
            });
        }
        if let Some(why) = profile.lifetime_refused(false) {
            return Err(why);
        }
        let dpop = st.loaded_dpop_key();
        if profile.dpop && dpop.is_none() {
            return Err(match &st.dpop_key {
                Some((name, Err(e))) if *name == profile.name => {
                    format!("the DPoP key could not be loaded: {e}")
                }
                _ => "loading the DPoP key from the secret store…".to_owned(),
            });
        }
        // Secret header values kept in the keychain, as Send will read them.
        let mut filled = profile.clone();
        if profile.headers.iter().any(|h| h.keychain) {
            match &st.header_values {
                Some((name, headers)) if *name == profile.name => {
                    for h in &mut filled.headers {
                        if let Some(v) = headers.iter().find(|v| v.keychain && v.name == h.name) {
                            h.value.clone_from(&v.value);
                        }
                    }
                }
                _ => return Err("loading the header values from the secret store…".to_owned()),
            }
        }
        let secrets = self.secrets();
        let credentials = Credentials {
            profile: &filled,
            secrets: &secrets,
            dpop,
            client_key_file: None,
        };
        build::token_request(&credentials, request, nonces).map_err(|e| e.to_string())
    }

    /// What the request findings compare against (the profile, the authorization).
    pub(super) fn check_context(&self, authorization: &AuthorizationContext) -> ExchangeContext {
        match self.state.profile() {
            Some(p) => {
                let mut ctx = settings::exchange_context(
                    p,
                    authorization.state.clone(),
                    authorization.nonce.clone(),
                );
                ctx.requested_consent
                    .clone_from(&authorization.requested_consent);
                ctx
            }
            None => ExchangeContext::default(),
        }
    }
}
