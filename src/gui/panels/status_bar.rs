//! The status bar: active profile, sandbox state, where secrets live, the last result.

use egui::RichText;

use super::{error_color, ok_color};
use crate::gui::app::Action;
use crate::gui::state::{AppState, SandboxStatus, StoreStatus, Work};

/// Paints the status bar.
pub fn ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let profile = state
            .profile()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "none".into());
        ui.label(format!("Profile: {profile}"));
        // Turning verification off is loud wherever the user is.
        if state.profile().is_some_and(|p| p.tls.insecure_skip_verify) {
            ui.label(
                RichText::new("⚠ TLS verification OFF for this profile")
                    .strong()
                    .color(error_color(ui)),
            )
            .on_hover_text("Its requests can be read and changed by anyone on the network: turn \"Verify TLS certificates\" back on in the Client panel");
        }
        ui.separator();
        match &state.sandbox {
            SandboxStatus::Stopped => {
                ui.label("Sandbox: starts when needed").on_hover_text(
                    "The Local sandbox starts with the first request that needs it: Authorize, Send, discovery, an API call or a flow",
                );
            }
            SandboxStatus::Starting => {
                ui.label("Sandbox: starting…");
            }
            SandboxStatus::Running { issuer } => {
                ui.label(RichText::new(format!("Sandbox: {issuer}")).color(ok_color(ui)));
            }
            SandboxStatus::Failed(reason) => {
                ui.label(RichText::new("Sandbox: failed").color(error_color(ui)))
                    .on_hover_text(reason);
                if ui
                    .small_button("Retry")
                    .on_hover_text("Start the embedded sandbox again")
                    .clicked()
                {
                    actions.push(Action::StartSandbox);
                }
            }
        }
        ui.separator();
        match &state.store {
            StoreStatus::Opening => ui.label("Secrets: opening…"),
            StoreStatus::Ready { describe, .. } => ui.label(format!("Secrets: {describe}")),
            StoreStatus::Failed(_) => {
                ui.label(RichText::new("Secrets: keychain unavailable").color(error_color(ui)))
            }
        };
        ui.separator();
        for work in [&state.send, &state.authorize] {
            if let Work::Running { what, .. } = work {
                ui.label("⏳");
                ui.label(what);
            }
        }
        if let Some(b) = &state.busy {
            ui.label("⏳");
            ui.label(b);
        }
        ui.label(&state.status);
        // The theme: the system's until one is chosen (remembered with the window);
        // Ctrl +/− scale the text.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            egui::widgets::global_theme_preference_buttons(ui);
        });
    });
}
