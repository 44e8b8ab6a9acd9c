//! The Client panel: the profile's fields, discovery, the signing key (import, generate,
//! kid, thumbprint, public JWKS), mTLS files, TLS verification, and where secrets live.

use egui::RichText;

use super::{
    copy_button, error_color, field, findings, notice, ok_color, optional_field, warn_color,
};
use crate::gui::app::{Action, public_jwks_text};
use crate::gui::state::{AppState, KeyState, SandboxStatus, StoreStatus};
use crate::jose::keys::{KeyType, SigningAlg};
use crate::jose::numeric_date::NumericDateStyle;
use crate::storage::profile::{AudienceChoice, AuthMethod};

/// The key types "Generate key" offers.
pub const KEYGEN_CHOICES: [(KeyType, &str); 3] = [
    (KeyType::Rsa { bits: 2048 }, "RSA 2048 (PS256)"),
    (KeyType::EC_P256, "EC P-256 (ES256)"),
    (KeyType::ED25519, "Ed25519 (EdDSA)"),
];

/// Paints the Client panel.
pub fn ui(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    store_status(ui, state, actions);
    if state.profile().is_none() {
        ui.label(if state.profiles_loaded {
            "No profile selected: press \"New profile\" in the sidebar."
        } else {
            "Loading profiles…"
        });
        return;
    }
    egui::ScrollArea::vertical()
        .id_salt("client")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            sandbox_status(ui, state, actions);
            profile_fields(ui, state, actions);
            ui.separator();
            signing_key(ui, state, actions);
            ui.separator();
            tls(ui, state, actions);
            ui.separator();
            super::data_calls::ui(ui, state, actions);
            ui.separator();
            super::consent::ui(ui, state, actions);
        });
}

fn store_status(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    match &state.store {
        StoreStatus::Opening => {
            ui.horizontal(|ui| {
                ui.label("⏳");
                ui.label("Opening the OS keychain…");
            });
        }
        StoreStatus::Ready {
            describe,
            persistent,
        } => {
            let text = format!("Secrets are kept in: {describe}");
            if *persistent {
                ui.label(RichText::new(text).weak());
            } else {
                ui.label(
                    RichText::new(format!("{text}. They are forgotten when the app closes."))
                        .color(warn_color(ui)),
                );
            }
        }
        StoreStatus::Failed(e) => {
            ui.label(RichText::new(format!("Keychain unavailable: {e}")).color(error_color(ui)));
            ui.label("Secrets are never written to a file. Unlock or start your keychain and restart the app, or:");
            if ui.button("Keep secrets for this session only").clicked() {
                actions.push(Action::UseSessionStore);
            }
        }
    }
}

fn sandbox_status(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let Some(p) = state.profile() else { return };
    if !p.local_sandbox {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Embedded sandbox:").strong());
        match &state.sandbox {
            SandboxStatus::Stopped => {
                ui.label("not running: it starts with the first request that needs it");
            }
            SandboxStatus::Starting => {
                ui.label("⏳");
                ui.label("starting (key, server, client registration, discovery)…");
            }
            SandboxStatus::Running { issuer } => {
                ui.label(RichText::new(format!("running at {issuer}")).color(ok_color(ui)));
            }
            SandboxStatus::Failed(e) => {
                ui.label(RichText::new(format!("failed: {e}")).color(error_color(ui)));
            }
        }
        if !matches!(state.sandbox, SandboxStatus::Starting)
            && ui
                .button("Start sandbox")
                .on_hover_text("Start the sandbox (or re-register this profile's key with it)")
                .clicked()
        {
            actions.push(Action::StartSandbox);
        }
    });
    ui.separator();
}

fn profile_fields(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    let unsaved = state.unsaved();
    let Some(p) = state.profile_mut() else { return };
    ui.horizontal(|ui| {
        ui.heading(&p.name);
        if unsaved {
            ui.label(RichText::new("unsaved changes").color(warn_color(ui)));
        }
    });
    ui.horizontal(|ui| {
        if ui.button("Save profile").clicked() {
            actions.push(Action::SaveProfile);
        }
        if ui
            .add_enabled(unsaved, egui::Button::new("Revert"))
            .clicked()
        {
            actions.push(Action::RevertProfile);
        }
        if ui
            .button("Fetch discovery")
            .on_hover_text("Read /.well-known/openid-configuration and fill the endpoints")
            .clicked()
        {
            actions.push(Action::Discover);
        }
    });
    profile_grid(ui, p);
    if let Some(preset) = crate::storage::presets::for_profile(p) {
        ui.label(RichText::new(format!("Assertion aud: {}", preset.aud_note)).weak());
    }
    let uses_secret = matches!(
        p.auth.method,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
    );
    let problems = p.validate();
    for problem in problems {
        ui.label(RichText::new(problem).color(error_color(ui)));
    }
    if uses_secret {
        client_secret_row(ui, state, actions);
    }
    notice(ui, state.client_notice.as_ref());
    if let Some(d) = &state.discovery
        && !d.findings.is_empty()
    {
        ui.label(RichText::new("Discovery findings").strong());
        findings(ui, &d.findings);
    }
}

/// The profile's fields: issuer, client, endpoints, client authentication.
fn profile_grid(ui: &mut egui::Ui, p: &mut crate::storage::profile::Profile) {
    egui::Grid::new("profile_grid")
        .num_columns(2)
        .striped(true)
        .min_col_width(140.0)
        .show(ui, |ui| {
            field(ui, "Issuer", &mut p.issuer);
            ui.end_row();
            field(ui, "client_id", &mut p.client_id);
            ui.end_row();
            field(ui, "redirect_uri", &mut p.redirect_uri);
            ui.end_row();
            field(ui, "Scope", &mut p.scope);
            ui.end_row();
            optional_field(ui, "Token endpoint", &mut p.endpoints.token);
            ui.end_row();
            optional_field(ui, "PAR endpoint", &mut p.endpoints.par);
            ui.end_row();
            optional_field(ui, "Authorization endpoint", &mut p.endpoints.authorization);
            ui.end_row();
            optional_field(ui, "JWKS URI", &mut p.endpoints.jwks);
            ui.end_row();
            optional_field(ui, "Client JWKS (as registered)", &mut p.client_jwks);
            ui.end_row();
            optional_field(ui, "Revocation endpoint", &mut p.endpoints.revocation);
            ui.end_row();
            optional_field(ui, "Introspection endpoint", &mut p.endpoints.introspection);
            ui.end_row();
            let label = ui.label("Client authentication");
            egui::ComboBox::from_id_salt("auth_method")
                .selected_text(p.auth.method.as_str())
                .show_ui(ui, |ui| {
                    for m in AuthMethod::ALL {
                        ui.selectable_value(&mut p.auth.method, m, m.as_str());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Signing alg");
            egui::ComboBox::from_id_salt("alg")
                .selected_text(p.auth.alg.as_str())
                .show_ui(ui, |ui| {
                    for a in SigningAlg::ALL {
                        ui.selectable_value(&mut p.auth.alg, a, a.as_str());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            optional_field(ui, "kid (empty: thumbprint)", &mut p.auth.kid);
            ui.end_row();
            ui.label("Assertion aud");
            ui.horizontal(|ui| {
                let custom = matches!(p.auth.aud, AudienceChoice::Custom(_));
                if ui
                    .selectable_label(p.auth.aud == AudienceChoice::Issuer, "issuer")
                    .clicked()
                {
                    p.auth.aud = AudienceChoice::Issuer;
                }
                if ui
                    .selectable_label(
                        p.auth.aud == AudienceChoice::TokenEndpoint,
                        "token endpoint",
                    )
                    .clicked()
                {
                    p.auth.aud = AudienceChoice::TokenEndpoint;
                }
                if ui.selectable_label(custom, "custom").clicked() && !custom {
                    p.auth.aud = AudienceChoice::Custom(String::new());
                }
                if let AudienceChoice::Custom(v) = &mut p.auth.aud {
                    ui.text_edit_singleline(v);
                }
            });
            ui.end_row();
            ui.label("Signed request object");
            ui.horizontal(|ui| {
                ui.checkbox(&mut p.request_object.signed, "JAR inside PAR")
                    .on_hover_text("RFC 9101: the authorization parameters as a signed JWT (typ oauth-authz-req+jwt)");
                let label = ui.label("Request object lifetime (s)");
                ui.add(egui::DragValue::new(&mut p.request_object.lifetime_secs).range(1..=3600))
                    .labelled_by(label.id);
            });
            ui.end_row();
            super::front_channel::settings_row(ui, &mut p.front_channel);
            ui.label("Sender-constrained tokens");
            ui.checkbox(&mut p.dpop, "DPoP (RFC 9449)")
                .on_hover_text("Send a DPoP proof with the token request and API calls, so the token is bound to a key of this profile (kept in the keychain, made on first use); server nonces are answered automatically");
            ui.end_row();
            let label = ui.label("Assertion lifetime (s)");
            ui.add(egui::DragValue::new(&mut p.auth.lifetime_secs).range(1..=3600))
                .labelled_by(label.id);
            ui.end_row();
            ui.label("iat/exp style");
            ui.horizontal(|ui| {
                ui.selectable_value(
                    &mut p.auth.numeric_date,
                    NumericDateStyle::Seconds,
                    "seconds",
                );
                ui.selectable_value(
                    &mut p.auth.numeric_date,
                    NumericDateStyle::Milliseconds,
                    "with milliseconds (seed)",
                );
            });
            ui.end_row();
        });
}

/// The client secret box, kept in the secret store.
fn client_secret_row(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Client secret");
        let mut text = state.client_secret_input.expose().to_owned();
        if ui
            .add(egui::TextEdit::singleline(&mut text).password(true))
            .labelled_by(l.id)
            .changed()
        {
            state.client_secret_input = crate::secret::Secret::new(text);
        }
        if ui.button("Keep client secret").clicked() {
            actions.push(Action::StoreClientSecret);
        }
        let name = state.profile().map(|p| p.name.clone());
        match &state.client_secret {
            Some((p, _)) if Some(p) == name.as_ref() => {
                ui.label(RichText::new("stored").color(ok_color(ui)));
            }
            _ => {
                ui.label(RichText::new("not set").color(warn_color(ui)));
            }
        }
    });
}

fn signing_key(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    ui.heading("Signing key");
    match &state.key {
        KeyState::Unknown | KeyState::Loading => {
            ui.horizontal(|ui| {
                ui.label("⏳");
                ui.label("Loading the key from the secret store…");
            });
        }
        KeyState::Missing => {
            ui.label(
                RichText::new("No signing key yet: import a PEM or JWK file, or generate one.")
                    .color(warn_color(ui)),
            );
        }
        KeyState::Failed(e) => {
            ui.label(RichText::new(e).color(error_color(ui)));
            // The way on: keep secrets in memory for this session, then import or
            // generate the key again.
            if matches!(
                &state.store,
                StoreStatus::Ready {
                    persistent: true,
                    ..
                }
            ) && ui
                .button("Keep secrets for this session only")
                .on_hover_text(
                    "Nothing is written to disk; import or generate the key again afterwards",
                )
                .clicked()
            {
                actions.push(Action::UseSessionStore);
            }
        }
        KeyState::Loaded(_) => {}
    }
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Import key file…")
            .on_hover_text("PEM (PKCS#8, PKCS#1, SEC1) or JWK; kept in the secret store")
            .clicked()
        {
            actions.push(Action::ImportKey);
        }
        let choice = state.keygen_choice.min(KEYGEN_CHOICES.len() - 1);
        let label = ui.label("New key type");
        egui::ComboBox::from_id_salt("keygen")
            .selected_text(KEYGEN_CHOICES[choice].1)
            .show_ui(ui, |ui| {
                for (i, (_, label)) in KEYGEN_CHOICES.iter().enumerate() {
                    ui.selectable_value(&mut state.keygen_choice, i, *label);
                }
            })
            .response
            .labelled_by(label.id);
        if ui.button("Generate key").clicked() {
            actions.push(Action::GenerateKey(KEYGEN_CHOICES[choice].0));
        }
    });
    let (Some(k), Some(p)) = (state.loaded_key(), state.profile()) else {
        return;
    };
    let kid = p
        .auth
        .kid
        .clone()
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| k.thumbprint.clone());
    egui::Grid::new("key_grid").num_columns(2).show(ui, |ui| {
        ui.label("Key type");
        ui.label(k.key_type.to_string());
        ui.end_row();
        ui.label("kid");
        ui.monospace(&kid);
        ui.end_row();
        ui.label("Thumbprint (RFC 7638)");
        ui.monospace(&k.thumbprint);
        ui.end_row();
    });
    if !p.auth.alg.fits(k.key_type) {
        ui.label(
            RichText::new(format!(
                "{} does not sign with a {} key: pick {} above",
                p.auth.alg,
                k.key_type,
                SigningAlg::default_for(k.key_type)
            ))
            .color(error_color(ui)),
        );
    }
    let jwks = public_jwks_text(k, p);
    ui.horizontal(|ui| {
        copy_button(ui, actions, "Copy public JWKS", &jwks);
        if ui.button("Save public JWKS…").clicked() {
            actions.push(Action::SaveJwks);
        }
    });
    egui::CollapsingHeader::new("Public JWKS")
        .id_salt("public_jwks")
        .show(ui, |ui| super::code_block(ui, "Public JWKS", &jwks));
}

fn tls(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    let certificate = state.certificate.clone();
    let Some(p) = state.profile_mut() else { return };
    ui.heading("TLS");
    let mut verify = !p.tls.insecure_skip_verify;
    if ui
        .checkbox(&mut verify, "Verify TLS certificates")
        .changed()
    {
        p.tls.insecure_skip_verify = !verify;
    }
    if p.tls.insecure_skip_verify {
        ui.label(
            RichText::new(
                "TLS certificate verification is OFF: anyone on the path can read and change this traffic. Turn it back on unless you test a server with a broken certificate.",
            )
            .strong()
            .color(error_color(ui)),
        );
    }
    let mut ca = p
        .tls
        .ca_file
        .as_ref()
        .map(|c| c.display().to_string())
        .unwrap_or_default();
    if ui
        .horizontal(|ui| field(ui, "Extra CA file (PEM path)", &mut ca).changed())
        .inner
    {
        p.tls.ca_file =
            Some(ca.trim().into()).filter(|c: &std::path::PathBuf| !c.as_os_str().is_empty());
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("mTLS certificate:");
        ui.monospace(
            p.tls
                .client_cert
                .as_ref()
                .map(|c| c.display().to_string())
                .unwrap_or_else(|| "none".into()),
        );
        if ui.button("Pick certificate…").clicked() {
            actions.push(Action::PickMtlsCert);
        }
    });
    if let (Some(cert), Some((path, info))) = (&p.tls.client_cert, &certificate)
        && cert == path
    {
        match info {
            Ok(info) => {
                let now = crate::jose::numeric_date::now_unix() as i64;
                let valid = info.not_before <= now && now <= info.not_after;
                egui::Grid::new("certificate").num_columns(2).show(ui, |ui| {
                    ui.label("Subject");
                    ui.monospace(&info.subject);
                    ui.end_row();
                    ui.label("Valid until");
                    let until = crate::jose::numeric_date::format_utc(info.not_after as f64);
                    if valid {
                        ui.label(until);
                    } else {
                        ui.label(
                            RichText::new(format!("{until} (not valid now: servers refuse it)"))
                                .color(error_color(ui)),
                        );
                    }
                    ui.end_row();
                    ui.label("x5t#S256 (RFC 8705)");
                    ui.monospace(&info.x5t_s256)
                        .on_hover_text("A certificate-bound token carries this in cnf; the Response panel compares them");
                    ui.end_row();
                });
            }
            Err(e) => {
                ui.label(
                    RichText::new(format!("The certificate does not read: {e}"))
                        .color(error_color(ui)),
                );
            }
        }
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("mTLS key:");
        ui.monospace(
            p.tls
                .client_key
                .as_deref()
                .map(|e| format!("secret store entry {e}"))
                .unwrap_or_else(|| "none".into()),
        );
        if ui.button("Import mTLS key…").clicked() {
            actions.push(Action::ImportMtlsKey);
        }
        if (p.tls.client_cert.is_some() || p.tls.client_key.is_some())
            && ui.button("Clear mTLS").clicked()
        {
            actions.push(Action::ClearMtls);
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label("Decryption key:");
        ui.monospace(
            p.encryption_key
                .as_deref()
                .map(|e| format!("secret store entry {e}"))
                .unwrap_or_else(|| "none".into()),
        )
        .on_hover_text(
            "The client's RSA private key for encrypted (JWE, RSA-OAEP-256) API answers",
        );
        if ui.button("Import decryption key…").clicked() {
            actions.push(Action::ImportDecryptionKey);
        }
        if p.encryption_key.is_some() && ui.button("Clear decryption key").clicked() {
            actions.push(Action::ClearDecryptionKey);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Connect timeout (s)");
        ui.add(egui::DragValue::new(&mut p.tls.connect_timeout_secs).range(1..=300))
            .labelled_by(label.id);
        let label = ui.label("Total timeout (s)");
        ui.add(egui::DragValue::new(&mut p.tls.timeout_secs).range(1..=600))
            .labelled_by(label.id);
    });
}
