//! The left side panel: the profiles (new, duplicate, rename, delete, import, export) and
//! the request history.

use egui::RichText;

use super::{error_color, notice};
use crate::gui::app::Action;
use crate::gui::state::AppState;

/// Paints the sidebar.
pub fn ui(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    ui.heading("Profiles");
    profile_buttons(ui, state, actions);
    rename_and_delete(ui, state, actions);
    notice(ui, state.sidebar_notice.as_ref());
    for e in &state.profile_errors {
        ui.label(RichText::new(e).color(error_color(ui)).small());
    }
    profile_list(ui, state, actions);
    ui.separator();
    ui.heading("History");
    history_list(ui, state, actions);
}

/// New, from a preset, duplicate, rename, delete, import, export.
fn profile_buttons(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        if ui.button("New profile").clicked() {
            actions.push(Action::NewProfile);
        }
        ui.menu_button("New from preset…", |ui| {
            for preset in crate::storage::presets::all() {
                if ui
                    .button(&preset.name)
                    .on_hover_text(preset.summary())
                    .clicked()
                {
                    actions.push(Action::NewFromPreset(preset.id.clone()));
                    ui.close();
                }
            }
        });
        let has = state.profile().is_some();
        if ui
            .add_enabled(has, egui::Button::new("Duplicate"))
            .clicked()
        {
            actions.push(Action::DuplicateProfile);
        }
        if ui.add_enabled(has, egui::Button::new("Rename")).clicked() {
            actions.push(Action::StartRename);
        }
        if ui.add_enabled(has, egui::Button::new("Delete")).clicked() {
            state.confirm_delete = true;
        }
        if ui
            .button("Import…")
            .on_hover_text("Import a TOML profile")
            .clicked()
        {
            actions.push(Action::ImportProfile);
        }
        if ui
            .add_enabled(has, egui::Button::new("Export…"))
            .on_hover_text("Export the profile as TOML (no secrets)")
            .clicked()
        {
            actions.push(Action::ExportProfile);
        }
    });
}

/// The rename box, the delete confirmation and the import's question, when open.
fn rename_and_delete(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    if let Some(shared) = &state.pending_import {
        ui.label(
            RichText::new(format!(
                "A profile named \"{}\" exists. Replace it with the imported one?",
                shared.profile.name
            ))
            .color(error_color(ui)),
        );
        ui.horizontal(|ui| {
            if ui.button("Replace with the import").clicked() {
                actions.push(Action::ReplaceWithImport);
            }
            if ui.button("Keep mine").clicked() {
                actions.push(Action::KeepExisting);
            }
        });
    }
    if let Some(name) = state.rename.as_mut() {
        ui.horizontal(|ui| {
            let l = ui.label("New name");
            let r = ui.text_edit_singleline(name).labelled_by(l.id);
            if r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                actions.push(Action::ConfirmRename);
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Apply rename").clicked() {
                actions.push(Action::ConfirmRename);
            }
            if ui.button("Cancel rename").clicked() {
                actions.push(Action::CancelRename);
            }
        });
    }
    if state.confirm_delete {
        if let Some(name) = state.profile().map(|p| p.name.clone()) {
            ui.label(
                RichText::new(format!(
                    "Delete \"{name}\" and its signing key from the secret store?"
                ))
                .color(error_color(ui)),
            );
            ui.horizontal(|ui| {
                if ui.button("Confirm delete").clicked() {
                    actions.push(Action::DeleteProfile);
                    state.confirm_delete = false;
                }
                if ui.button("Keep it").clicked() {
                    state.confirm_delete = false;
                }
            });
        } else {
            state.confirm_delete = false;
        }
    }
}

/// The profiles, the selected one highlighted, unsaved edits marked.
fn profile_list(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("profiles")
        .max_height(ui.available_height() * 0.5)
        .auto_shrink([false, true])
        .show(ui, |ui| {
            if state.profiles.is_empty() {
                ui.label(if state.profiles_loaded {
                    "No profiles yet."
                } else {
                    "Loading profiles…"
                });
            }
            for (i, p) in state.profiles.iter().enumerate() {
                let text = if p.local_sandbox {
                    RichText::new(&p.name).italics()
                } else {
                    RichText::new(&p.name)
                };
                ui.horizontal(|ui| {
                    if ui
                        .selectable_label(state.selected == Some(i), text)
                        .on_hover_text(&p.issuer)
                        .clicked()
                    {
                        actions.push(Action::SelectProfile(i));
                    }
                    if state.disk.iter().all(|d| d != p) {
                        ui.label(RichText::new("unsaved").weak().small());
                    }
                    if p.tls.insecure_skip_verify {
                        ui.label(RichText::new("TLS off").small().color(error_color(ui)));
                    }
                });
            }
        });
}

/// This run's exchanges, then the profile's saved history with its search box.
fn history_list(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    egui::ScrollArea::vertical()
        .id_salt("history")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if state.history.is_empty() {
                ui.label(RichText::new("Requests you send appear here.").weak());
            }
            for (i, entry) in state.history.iter().enumerate().rev() {
                let ex = &entry.exchange;
                let grant = match &ex.request.kind {
                    crate::oauth::request::RequestKind::Token(g) => g.clone(),
                    other => format!("{other:?}").to_lowercase(),
                };
                let outcome = match &ex.outcome {
                    Ok(r) => r.http.status.to_string(),
                    Err(_) => "failed".to_owned(),
                };
                let time = ex.sent_at.get(11..19).unwrap_or(&ex.sent_at);
                let label = format!("{time} {outcome} {grant} · {}", entry.profile);
                let selected = state.shown == Some(i) && state.saved_shown.is_none();
                if ui.selectable_label(selected, label).clicked() {
                    actions.push(Action::ShowHistory(i));
                }
            }
            ui.separator();
            ui.label(RichText::new(format!("Saved ({})", state.saved_history.len())).strong())
                .on_hover_text("Every exchange of this profile, kept on disk without its secrets");
            if state.saved_history.is_empty() {
                ui.label(RichText::new("None kept for this profile yet.").weak());
            } else {
                let l = ui.label("Search saved");
                ui.add(
                    egui::TextEdit::singleline(&mut state.saved_search)
                        .hint_text("400 invalid_client par 9a3f…")
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(l.id)
                .on_hover_text("Status (400, 4xx), grant or kind, OAuth error, or the start of an interaction id; every word must match");
            }
            let query = state.saved_search.trim().to_owned();
            for (i, e) in state.saved_history.iter().enumerate() {
                if !query.is_empty() && !e.matches_text(&query) {
                    continue;
                }
                let time = e.sent_at.get(..19).unwrap_or(&e.sent_at).replace('T', " ");
                let outcome = match (e.status, &e.error) {
                    (Some(s), Some(err)) => format!("{s} {err}"),
                    (Some(s), None) => s.to_string(),
                    (None, _) => "no answer".into(),
                };
                let label = format!("{time} {outcome} {}", e.kind);
                if ui
                    .selectable_label(state.saved_shown == Some(i), label)
                    .clicked()
                {
                    actions.push(Action::ShowSaved(i));
                }
            }
        });
}
