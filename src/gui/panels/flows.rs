//! The Flows view: the flow files of the profiles folder (`flows/`), each with Run; the
//! run in flight with each step's verdict as it ends (Cancel stops it); a step's exchange
//! opens in the Response panel.

use egui::RichText;

use super::{error_color, ok_color};
use crate::gui::app::Action;
use crate::gui::state::AppState;

/// Paints the Flows view.
pub fn ui(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    let profile = state.profile().map(|p| p.name.clone()).unwrap_or_default();
    let flows = &state.flows;
    ui.horizontal(|ui| {
        ui.heading("Flows");
        if ui
            .button("Refresh flows")
            .on_hover_text("Read the flow files again (flows/ in the profiles folder)")
            .clicked()
        {
            actions.push(Action::RefreshFlows);
        }
        if ui
            .button("Save as flow")
            .on_hover_text("Write the last successful authorization and what followed it in this session as a flow file, each step expecting what it got")
            .clicked()
        {
            actions.push(Action::SaveAsFlow);
        }
    });
    ui.label(
        RichText::new(format!(
            "Flow files (TOML) in flows/ beside the profiles that name this profile ({profile}) or none; each runs with it, its key from the keychain. A flow holds no secret."
        ))
        .weak(),
    );
    if flows.files.is_empty() {
        ui.label(
            "No flow files yet: put one in flows/ (see docs/flows.md) and press Refresh flows.",
        );
    }
    let running = flows.work.is_running();
    egui::Grid::new("flow_files")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            // The selected profile's flows: those naming it, and those naming none.
            let mine = |f: &crate::flow::FlowFile| f.profile.as_ref().is_none_or(|p| *p == profile);
            for (i, file) in flows.files.iter().enumerate().filter(|(_, f)| mine(f)) {
                ui.label(RichText::new(&file.name).strong());
                match &file.error {
                    Some(error) => {
                        ui.label(RichText::new(error).color(error_color(ui)));
                    }
                    None => {
                        ui.label(format!("{} steps", file.steps));
                    }
                }
                let enabled = !running && file.error.is_none();
                if ui
                    .add_enabled(enabled, egui::Button::new(format!("Run {}", file.name)))
                    .clicked()
                {
                    actions.push(Action::RunFlow(i));
                }
                ui.end_row();
            }
        });
    if let Some(name) = &flows.running {
        ui.separator();
        ui.horizontal(|ui| {
            ui.label(RichText::new(name).strong());
            if running {
                ui.spinner();
                if ui.button("Cancel flow").clicked() {
                    actions.push(Action::CancelFlow);
                }
            }
        });
        steps(ui, state, actions);
    }
}

fn steps(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let flows = &state.flows;
    egui::Grid::new("flow_steps")
        .num_columns(5)
        .striped(true)
        .show(ui, |ui| {
            for (i, step) in flows.steps.iter().enumerate() {
                let (mark, color) = if step.passed() {
                    ("passed", ok_color(ui))
                } else {
                    ("FAILED", error_color(ui))
                };
                ui.label(RichText::new(format!("{} {mark}", step.name)).color(color));
                ui.label(
                    step.status
                        .map_or_else(|| "-".to_owned(), |s| format!("HTTP {s}")),
                );
                ui.label(format!("{:.0} ms", step.elapsed_ms));
                ui.label(step.failures.join("; "));
                if !step.exchanges.is_empty() && ui.button(format!("Open {}", step.name)).clicked()
                {
                    actions.push(Action::OpenFlowStep(i));
                }
                ui.end_row();
            }
        });
    if let Some(result) = &flows.result {
        let (text, color) = match result {
            Ok(s) => (s.as_str(), ok_color(ui)),
            Err(s) => (s.as_str(), error_color(ui)),
        };
        ui.label(RichText::new(text).strong().color(color));
    }
}
