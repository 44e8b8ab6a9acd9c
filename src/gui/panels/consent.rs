//! The consent editor: the profile's consent (RFC 9396 `authorization_details`, or the
//! consent object an ecosystem creates first) as a form and as JSON, kept in step.

use egui::RichText;

use super::error_color;
use crate::gui::app::Action;
use crate::gui::state::AppState;

/// The consent editor: a form for the preset's consent type (permissions, purpose,
/// expiry, dc_id/dp_id) beside the raw JSON; both edit the profile's consent.
pub fn ui(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    let Some(profile) = state.profile() else {
        return;
    };
    let name = profile.name.clone();
    let preset = crate::storage::presets::for_profile(profile);
    let saved = profile.consent.clone().unwrap_or_default();
    ui.heading("Consent");
    if let Some(p) = preset {
        ui.label(
            RichText::new(format!(
                "{} ({}); statuses: {}",
                p.consent.consent_type,
                match p.consent.creation {
                    crate::storage::presets::ConsentCreation::InPar =>
                        "sent as authorization_details inside PAR",
                    crate::storage::presets::ConsentCreation::BeforeAuthorization =>
                        "created with a client-credentials token before the authorization",
                    crate::storage::presets::ConsentCreation::None => "no consent object",
                },
                p.consent.statuses.join(", ")
            ))
            .weak(),
        );
    }
    if saved.trim().is_empty() && state.consent_draft.as_ref().is_none_or(|(n, _)| *n != name) {
        // What Authorize sends without one (none is invented).
        let template = preset.is_some_and(|p| {
            !p.consent.template.trim().is_empty()
                && p.consent.creation == crate::storage::presets::ConsentCreation::InPar
        });
        ui.label(if profile.local_sandbox {
            "No consent: Authorize asks the sandbox for an account access consent for 30 days."
        } else if template {
            "No consent of its own: Authorize sends the preset's template."
        } else {
            "No consent: Authorize sends no authorization_details."
        });
        if ui.button("Edit a consent for this profile").clicked() {
            let template = preset
                .map(|p| p.consent.template.trim().to_owned())
                .filter(|t| !t.is_empty())
                .map(|t| match preset.map(|p| p.consent.creation) {
                    Some(crate::storage::presets::ConsentCreation::InPar) => format!("[{t}]"),
                    _ => t,
                })
                .unwrap_or_else(crate::oauth::authorize::default_authorization_details);
            actions.push(Action::SetConsent(template));
        }
        return;
    }
    // The raw text: the draft while it does not parse, else the saved consent.
    let mut raw = match &state.consent_draft {
        Some((n, text)) if *n == name => text.clone(),
        _ => saved.clone(),
    };
    let parsed: Option<serde_json::Value> = serde_json::from_str(&raw).ok();
    let mut changed: Option<String> = None;
    ui.columns(2, |cols| {
        let ui = &mut cols[0];
        ui.label(RichText::new("Form").strong());
        match &parsed {
            None => {
                ui.label(
                    RichText::new("The JSON does not parse: fix it on the right.")
                        .color(error_color(ui)),
                );
            }
            Some(value) => changed = consent_form(ui, value, preset),
        }
        let ui = &mut cols[1];
        ui.label(RichText::new("JSON").strong());
        let r = ui.add(
            egui::TextEdit::multiline(&mut raw)
                .code_editor()
                .desired_rows(14)
                .desired_width(f32::INFINITY),
        );
        if r.changed() {
            changed = Some(raw.clone());
        }
    });
    if let Some(text) = changed {
        if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
            state.consent_draft = None;
            actions.push(Action::SetConsent(text));
        } else {
            state.consent_draft = Some((name, text));
        }
    }
}

/// The consent as a form (permissions, purpose, expiry, the Malaysia ids): the new JSON
/// when the user changed a field.
fn consent_form(
    ui: &mut egui::Ui,
    value: &serde_json::Value,
    preset: Option<&crate::storage::presets::Preset>,
) -> Option<String> {
    use crate::oauth::consent;
    let mut fields = consent::read(value);
    let before = fields.clone();
    let mut offered: Vec<String> = preset
        .map(|p| p.consent.permissions.clone())
        .unwrap_or_default();
    for p in &fields.permissions {
        if !offered.contains(p) {
            offered.push(p.clone());
        }
    }
    ui.label("Permissions");
    for permission in offered {
        let mut on = fields.permissions.contains(&permission);
        if ui.checkbox(&mut on, &permission).changed() {
            if on {
                fields.permissions.push(permission.clone());
            } else {
                fields.permissions.retain(|p| *p != permission);
            }
        }
    }
    if let Some(purposes) = preset
        .map(|p| &p.consent.purposes)
        .filter(|p| !p.is_empty())
    {
        ui.horizontal(|ui| {
            let l = ui.label("Purpose");
            let current = fields.purpose.clone().unwrap_or_default();
            egui::ComboBox::from_id_salt("consent_purpose")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for p in purposes {
                        if ui
                            .selectable_label(fields.purpose.as_deref() == Some(p), p)
                            .clicked()
                        {
                            fields.purpose = Some(p.clone());
                        }
                    }
                })
                .response
                .labelled_by(l.id);
        });
    }
    ui.horizontal(|ui| {
        let l = ui.label("Expires");
        let mut expiry = fields.expiry.clone().unwrap_or_default();
        if ui
            .text_edit_singleline(&mut expiry)
            .labelled_by(l.id)
            .changed()
        {
            fields.expiry = Some(expiry);
        }
    });
    ui.horizontal(|ui| {
        for days in [30, 90, 180] {
            if ui.small_button(format!("{days} days")).clicked() {
                fields.expiry = Some(format!("{{expires_in_days:{days}}}"));
            }
        }
    });
    if fields.dc_id.is_some() || fields.dp_id.is_some() {
        for (label, slot) in [("dc_id", &mut fields.dc_id), ("dp_id", &mut fields.dp_id)] {
            ui.horizontal(|ui| {
                let l = ui.label(label);
                let mut v = slot.clone().unwrap_or_default();
                if ui.text_edit_singleline(&mut v).labelled_by(l.id).changed() {
                    *slot = Some(v);
                }
            });
        }
    }
    if fields != before {
        let mut value = value.clone();
        consent::apply(&mut value, &fields);
        return serde_json::to_string_pretty(&value).ok();
    }
    None
}
