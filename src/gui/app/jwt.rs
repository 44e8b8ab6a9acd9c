//! The JWT panel: a pasted token inspected, verified with a key, a file or the profile's
//! JWKS.

use super::{Action, App};
use crate::checks::CheckContext;
use crate::gui::state::JwtKeySource;
use crate::gui::worker::{Command, Event};
use crate::inspector::Inspection;
use crate::jose::verify::{self, VerificationKey};

impl App {
    /// What a panel asked of this feature.
    pub(super) fn apply_jwt(&mut self, action: Action) {
        match action {
            Action::DecodeJwt => self.decode_jwt(),
            Action::PasteJwt => match self.clipboard.get_text() {
                Ok(text) => {
                    self.state.jwt.input = text.trim().to_owned();
                    self.decode_jwt();
                }
                Err(e) => self.state.jwt.message = Some(e),
            },
            Action::FetchJwks => {
                if let Some(p) = self.state.profile().cloned() {
                    self.state.jwt.key_source = JwtKeySource::ProfileJwks;
                    self.state.jwt.message = Some("fetching the JWKS…".into());
                    self.worker.send(Command::FetchJwks { profile: p });
                }
            }
            Action::PickJwtKey => self.worker.send(Command::PickJwtKey),
            _ => {}
        }
    }

    /// What the worker reported for this feature.
    pub(super) fn on_jwt_event(&mut self, event: Event) {
        let st = &mut self.state;
        match event {
            Event::Jwks(result) => match result {
                Ok(jwks) => {
                    st.jwt.jwks = Some(jwks);
                    st.jwt.message = Some("JWKS fetched".into());
                    self.decode_jwt();
                }
                Err(e) => st.jwt.message = Some(e),
            },
            Event::JwtKeyFile(result) => match result {
                Ok((path, text)) => {
                    st.jwt.key_text = text;
                    st.jwt.key_file = Some(path);
                    st.jwt.key_source = JwtKeySource::File;
                    st.jwt.message = None;
                    self.decode_jwt();
                }
                Err(e) => st.jwt.message = Some(e),
            },
            _ => {}
        }
    }

    pub(super) fn decode_jwt(&mut self) {
        let jwt = &self.state.jwt;
        let token = jwt.input.trim().to_owned();
        if token.is_empty() {
            self.state.jwt.report = None;
            return;
        }
        let key = match jwt.key_source {
            JwtKeySource::None => Ok(None),
            JwtKeySource::ProfileJwks => match &jwt.jwks {
                Some(jwks) => Ok(Some(VerificationKey::Jwks(jwks.clone()))),
                None => Err("no JWKS fetched yet: press \"Fetch profile JWKS\"".to_owned()),
            },
            JwtKeySource::File | JwtKeySource::Pasted => {
                if jwt.key_text.trim().is_empty() {
                    Err("no key given: pick a key file or paste a PEM/JWK".to_owned())
                } else {
                    verify::parse_key_text(&jwt.key_text)
                        .map(Some)
                        .map_err(|e| e.to_string())
                }
            }
            JwtKeySource::Secret => Ok(Some(VerificationKey::Secret(
                jwt.secret.expose().as_bytes().to_vec(),
            ))),
        };
        let key = match key {
            Ok(k) => k,
            Err(e) => {
                self.state.jwt.message = Some(e);
                None
            }
        };
        let p = self.state.profile();
        let ctx = CheckContext {
            issuer: p.map(|p| p.issuer.clone()),
            client_id: p.map(|p| p.client_id.clone()),
            token_endpoint: p.and_then(|p| p.endpoints.token.clone()),
            ..CheckContext::default()
        };
        let how = Inspection {
            key,
            ..Inspection::default()
        };
        self.state.jwt.report =
            Some(crate::inspector::inspect(&token, &how, &ctx).map_err(|e| {
                format!("{e}: paste a whole token (three or five dot-separated parts)")
            }));
    }
}
