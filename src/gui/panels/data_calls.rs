//! The profile's data calls: PayNet's `x-signature` format and ids (Open Finance
//! Malaysia), the resource server, the JWK Sets that verify the answers' layers and
//! signatures, UK Open Banking's `x-jws-signature` and UAE's signed bodies; and, for the
//! Local sandbox, one button that sets PayNet's up.

use egui::RichText;

use super::{field, optional_field};
use crate::gui::app::Action;
use crate::gui::state::AppState;
use crate::storage::profile::{
    DataCalls, JwsSignatureSettings, SignedBodySettings, XSignatureFormat, XSignatureSettings,
};

/// Paints the Data calls section of the Client panel.
pub fn ui(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    let Some(p) = state.profile_mut() else { return };
    ui.heading("Data calls");
    ui.label(
        RichText::new(
            "PayNet signs every data call (x-signature) and answers in three layers: the hub's signature, encryption to this client, the provider's signature.",
        )
        .weak(),
    );
    if p.local_sandbox
        && ui
            .button("Set up signed data calls with the sandbox")
            .on_hover_text(
                "Makes a decryption key (kept in the keychain, registered with use \"enc\"), signs with the compact x-signature, and points at the sandbox's /v1 APIs and JWKS",
            )
            .clicked()
    {
        actions.push(Action::SetUpDataCalls);
    }
    let calls = &mut p.data_calls;
    ui.horizontal(|ui| {
        let label = ui.label("x-signature");
        let shown = match &calls.x_signature {
            None => "none",
            Some(s) if s.format == XSignatureFormat::Compact => "compact (sandbox guide)",
            Some(_) => "detached (PayNet specification)",
        };
        egui::ComboBox::from_id_salt("x_signature")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(calls.x_signature.is_none(), "none")
                    .clicked()
                {
                    calls.x_signature = None;
                }
                for (format, text) in [
                    (XSignatureFormat::Compact, "compact (sandbox guide)"),
                    (
                        XSignatureFormat::Detached,
                        "detached (PayNet specification)",
                    ),
                ] {
                    let chosen = calls
                        .x_signature
                        .as_ref()
                        .is_some_and(|s| s.format == format);
                    if ui.selectable_label(chosen, text).clicked() {
                        calls
                            .x_signature
                            .get_or_insert_with(XSignatureSettings::default)
                            .format = format;
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    egui::Grid::new("data_calls_grid")
        .num_columns(2)
        .min_col_width(140.0)
        .show(ui, |ui| {
            if let Some(sig) = &mut calls.x_signature {
                field(ui, "dc_id", &mut sig.dc_id);
                ui.end_row();
                field(ui, "dp_id", &mut sig.dp_id);
                ui.end_row();
                optional_field(ui, "sub (empty: dc_id)", &mut sig.sub);
                ui.end_row();
            }
            optional_field(ui, "Resource server (…/v1)", &mut calls.resource_server);
            ui.end_row();
            let mut lines = calls.response_jwks.join("\n");
            let label = ui.label("Answer JWKS (URL or file, one per line)");
            if ui
                .add(egui::TextEdit::multiline(&mut lines).desired_rows(2))
                .labelled_by(label.id)
                .changed()
            {
                calls.response_jwks = lines
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            ui.end_row();
        });
    body_signing(ui, calls);
}

/// UK Open Banking's `x-jws-signature` and UAE's signed bodies: a switch each, and their
/// values when on.
fn body_signing(ui: &mut egui::Ui, calls: &mut DataCalls) {
    let mut uk = calls.jws_signature.is_some();
    if ui
        .checkbox(
            &mut uk,
            "Sign request bodies with x-jws-signature (UK Open Banking)",
        )
        .changed()
    {
        calls.jws_signature = uk.then(JwsSignatureSettings::default);
    }
    if let Some(sig) = &mut calls.jws_signature {
        egui::Grid::new("jws_signature_grid")
            .num_columns(2)
            .min_col_width(140.0)
            .show(ui, |ui| {
                field(ui, "API version (≤ 3.1.3: b64 false)", &mut sig.version);
                ui.end_row();
                field(ui, "iss ({org-id}/{ssa-id})", &mut sig.iss);
                ui.end_row();
                field(ui, "tan (empty: openbanking.org.uk)", &mut sig.tan);
                ui.end_row();
            });
    }
    let mut uae = calls.signed_body.is_some();
    if ui
        .checkbox(
            &mut uae,
            "Send request bodies as signed JWTs (UAE Open Finance)",
        )
        .changed()
    {
        calls.signed_body = uae.then(SignedBodySettings::default);
    }
    if let Some(body) = &mut calls.signed_body {
        egui::Grid::new("signed_body_grid")
            .num_columns(2)
            .min_col_width(140.0)
            .show(ui, |ui| {
                field(ui, "aud (empty: the issuer)", &mut body.audience);
                ui.end_row();
                let label = ui.label("Personal data key management");
                let shown = if body.pii_alg.trim().is_empty() {
                    "RSA-OAEP-256".to_owned()
                } else {
                    body.pii_alg.clone()
                };
                egui::ComboBox::from_id_salt("pii_alg")
                    .selected_text(shown.clone())
                    .show_ui(ui, |ui| {
                        for (alg, note) in [
                            ("RSA-OAEP-256", "RSA-OAEP-256 (community standards)"),
                            ("RSA-OAEP", "RSA-OAEP (Al Tareq developer guide)"),
                        ] {
                            if ui.selectable_label(shown == alg, note).clicked() {
                                body.pii_alg = alg.to_owned();
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                optional_field(
                    ui,
                    "Bank's encryption JWKS (empty: jwks_uri)",
                    &mut body.encryption_jwks,
                );
                ui.end_row();
            });
    }
}
