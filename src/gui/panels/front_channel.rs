//! The front channel in the app: the profile's `response_type` and `response_mode` (the
//! Client panel), and what the bank's redirect carried beyond a code (the Request panel):
//! the hybrid flow's id_token and a JARM response, each with its signature's verdict,
//! its findings, its header and claims.

use egui::RichText;

use super::{findings, json_view, signature};
use crate::oauth::front_channel::{FrontChannel, FrontToken};
use crate::storage::profile::FrontChannelSettings;

/// The Client panel's row: response type and response mode.
pub fn settings_row(ui: &mut egui::Ui, front: &mut FrontChannelSettings) {
    ui.label("Authorization response");
    ui.horizontal(|ui| {
        let label = ui.label("Response type");
        egui::ComboBox::from_id_salt("response_type")
            .selected_text(front.response_type.clone())
            .show_ui(ui, |ui| {
                for (value, text) in [
                    ("code", "code (FAPI 2.0)"),
                    (
                        "code id_token",
                        "code id_token (FAPI 1 Advanced: UK, Brazil)",
                    ),
                ] {
                    if ui
                        .selectable_label(front.response_type == value, text)
                        .clicked()
                    {
                        front.response_type = value.to_owned();
                    }
                }
            })
            .response
            .labelled_by(label.id);
        let label = ui.label("Response mode");
        let shown = front
            .response_mode
            .clone()
            .unwrap_or_else(|| "default".into());
        egui::ComboBox::from_id_salt("response_mode")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(front.response_mode.is_none(), "default")
                    .clicked()
                {
                    front.response_mode = None;
                }
                for mode in [
                    "jwt",
                    "query.jwt",
                    "fragment.jwt",
                    "form_post.jwt",
                    "form_post",
                ] {
                    let chosen = front.response_mode.as_deref() == Some(mode);
                    if ui.selectable_label(chosen, mode).clicked() {
                        front.response_mode = Some(mode.to_owned());
                    }
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(
                "jwt, query.jwt, fragment.jwt, form_post.jwt: JARM, one signed response JWT",
            );
    });
    ui.end_row();
}

/// The Request panel's view of the front channel, when the redirect carried one.
pub fn ui(ui: &mut egui::Ui, front: &FrontChannel) {
    for (name, token) in [
        ("JARM response", front.jarm.as_ref()),
        ("Front-channel id_token", front.id_token.as_ref()),
    ] {
        if let Some(token) = token {
            token_view(ui, name, token);
        }
    }
}

fn token_view(ui: &mut egui::Ui, name: &str, token: &FrontToken) {
    ui.horizontal(|ui| {
        let encrypted = token
            .encryption
            .as_ref()
            .and_then(|h| h.get("alg"))
            .and_then(serde_json::Value::as_str)
            .map(|alg| format!(" (encrypted, {alg})"))
            .unwrap_or_default();
        ui.label(RichText::new(format!("{name}{encrypted}")).strong());
        signature(ui, &token.signature);
    });
    findings(ui, &token.findings);
    egui::CollapsingHeader::new(format!("{name}: header and claims"))
        .id_salt(("front_channel", name))
        .show(ui, |ui| {
            json_view(
                ui,
                &format!("{name} header"),
                &serde_json::Value::Object(token.header.clone()),
            );
            if let Some(claims) = &token.claims {
                json_view(ui, &format!("{name} claims"), claims);
            }
        });
}
