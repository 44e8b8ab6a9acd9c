//! The panels: one small function per panel that reads the state, edits plain fields,
//! and pushes [`Action`]s; no I/O and no protocol rules here. Shared widgets (labelled
//! fields, copy buttons, findings, JSON views) live in this module.

pub mod api_call;
pub mod client;
pub mod consent;
pub mod data_calls;
pub mod flows;
pub mod focus_ring;
pub mod front_channel;
pub mod jwt;
pub mod layers;
pub mod request;
pub mod response;
pub mod sidebar;
pub mod status_bar;

use egui::{Color32, RichText};
use serde_json::Value;

use super::app::Action;
use super::state::Notice;
use crate::checks::{Finding, Severity};
use crate::jose::verify::SignatureStatus;

/// Red for errors, in both themes.
pub fn error_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().error_fg_color
}

/// Amber for warnings.
pub fn warn_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().warn_fg_color
}

/// Green for good news.
pub fn ok_color(ui: &egui::Ui) -> Color32 {
    if ui.visuals().dark_mode {
        Color32::from_rgb(90, 200, 120)
    } else {
        Color32::from_rgb(20, 130, 50)
    }
}

/// A one-line text field with a visible label (also its accessibility label).
pub fn field(ui: &mut egui::Ui, label: &str, value: &mut String) -> egui::Response {
    let l = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).desired_width(f32::INFINITY))
        .labelled_by(l.id)
}

/// A one-line field for an optional value (empty means none).
pub fn optional_field(ui: &mut egui::Ui, label: &str, value: &mut Option<String>) {
    let mut text = value.clone().unwrap_or_default();
    if field(ui, label, &mut text).changed() {
        *value = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    }
}

/// A button that copies `text` (label "Copy …").
pub fn copy_button(ui: &mut egui::Ui, actions: &mut Vec<Action>, label: &str, text: &str) {
    if ui
        .button(label)
        .on_hover_text("Copy to the clipboard")
        .clicked()
    {
        actions.push(Action::Copy {
            what: label.trim_start_matches("Copy ").to_owned(),
            text: text.to_owned(),
        });
    }
}

/// An in-place message: red for errors.
pub fn notice(ui: &mut egui::Ui, notice: Option<&Notice>) {
    if let Some(n) = notice {
        let color = if n.error {
            error_color(ui)
        } else {
            ui.visuals().text_color()
        };
        ui.label(RichText::new(&n.text).color(color));
    }
}

/// The colour of a severity.
pub fn severity_color(ui: &egui::Ui, severity: Severity) -> Color32 {
    match severity {
        Severity::Error => error_color(ui),
        Severity::Warning => warn_color(ui),
        Severity::Info => ui.visuals().weak_text_color(),
    }
}

/// Findings, one per line, coloured by severity, with the rule cited.
pub fn findings(ui: &mut egui::Ui, findings: &[Finding]) {
    if findings.is_empty() {
        ui.label(RichText::new("No findings.").color(ok_color(ui)));
        return;
    }
    for (i, f) in findings.iter().enumerate() {
        let tag = match f.severity {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
            Severity::Info => "info",
        };
        // Each finding is a row that opens (by mouse, or Enter on its fold button) onto
        // its whole text and rule in a text block a screen reader reads and the keyboard
        // selects and copies.
        let id = ui.make_persistent_id(("finding", i, f.code));
        let state =
            egui::collapsing_header::CollapsingState::load_with_default_open(ui.ctx(), id, false);
        let open = state.is_open();
        state
            .show_header(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(tag)
                            .strong()
                            .color(severity_color(ui, f.severity)),
                    );
                    ui.label(&f.message);
                    ui.label(RichText::new(format!("({}, {})", f.code, f.source)).weak());
                });
            })
            .body(|ui| {
                code_block(
                    ui,
                    &format!("finding {}", f.code),
                    &format!("{tag} {}: {}\nRule: {}", f.code, f.message, f.source),
                );
            });
        name_fold_button(ui.ctx(), id, format!("Open finding {}", f.code), open);
    }
}

/// Gives a fold button from egui's `CollapsingState` (which has neither) the role and the
/// name a screen reader needs, with whether it is open.
fn name_fold_button(ctx: &egui::Context, id: egui::Id, name: String, open: bool) {
    ctx.accesskit_node_builder(id, |node| {
        node.set_role(egui::accesskit::Role::Button);
        node.set_label(name);
        node.set_expanded(open);
    });
}

/// "Why?": the causes of a refusal, likely first, each with its judgement, the
/// evidence and the rule.
pub fn diagnosis(ui: &mut egui::Ui, causes: &[crate::diagnosis::Cause]) {
    use crate::diagnosis::Status;
    if causes.is_empty() {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Why?").strong());
    for c in causes {
        let color = match c.status {
            Status::Likely => severity_color(ui, Severity::Error),
            Status::Unknown => severity_color(ui, Severity::Warning),
            Status::RuledOut => ui.visuals().weak_text_color(),
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(c.status.label()).strong().color(color));
            ui.label(&c.cause);
            ui.label(RichText::new(format!("({})", c.code)).weak());
        });
        ui.indent(("why", &c.code), |ui| {
            ui.label(&c.evidence);
            ui.label(RichText::new(&c.source).weak());
        });
    }
}

/// A signature status, coloured.
pub fn signature(ui: &mut egui::Ui, status: &SignatureStatus) {
    let (text, color) = match status {
        SignatureStatus::Valid { kid } => (
            format!(
                "Signature valid{}",
                kid.as_deref()
                    .map(|k| format!(" (key {k})"))
                    .unwrap_or_default()
            ),
            ok_color(ui),
        ),
        SignatureStatus::Invalid { reason } => {
            (format!("Signature INVALID: {reason}"), error_color(ui))
        }
        SignatureStatus::NotVerifiable { reason } => {
            (format!("Signature not verified: {reason}"), warn_color(ui))
        }
    };
    ui.label(RichText::new(text).strong().color(color));
}

/// Pretty JSON text.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Read-only, selectable, wrapping monospace text.
pub fn code_block(ui: &mut egui::Ui, name: &str, text: &str) {
    let mut shown = text;
    // Read-only text a screen reader announces by what it holds.
    ui.add(
        egui::TextEdit::multiline(&mut shown)
            .font(egui::TextStyle::Monospace)
            .desired_width(f32::INFINITY)
            .desired_rows(1),
    )
    .widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::TextEdit, true, name));
}

/// A JSON value as pretty text, with a collapsible tree below.
pub fn json_view(ui: &mut egui::Ui, id: &str, value: &Value) {
    let name = id.replace('_', " ");
    code_block(ui, &name, &pretty(value));
    egui::CollapsingHeader::new(format!("{name} as a tree"))
        .id_salt(format!("{id}-tree"))
        .show(ui, |ui| {
            egui_json_tree::JsonTree::new(format!("{id}-json"), value)
                .on_render(|ui, context| name_tree_toggles(ui, &name, context))
                .show(ui);
        });
}

/// Renders a tree row as the crate does, and gives each fold button (an object's or an
/// array's) the role and name a screen reader needs: the crate leaves them unnamed.
fn name_tree_toggles(
    ui: &mut egui::Ui,
    name: &str,
    context: egui_json_tree::render::RenderContext<'_, '_, Value>,
) {
    use egui_json_tree::render::{DefaultRender as _, RenderContext};
    context.render_default(ui);
    // A key over an object or array, or a bracket (the root has only its brackets): the
    // state is that object's or array's, whose fold button is named.
    let state = match &context {
        RenderContext::Property(p) => p.collapsing_state.as_deref(),
        RenderContext::ExpandableDelimiter(d) => Some(&*d.collapsing_state),
        RenderContext::BaseValue(_) => None,
    };
    let Some(state) = state else {
        return;
    };
    let pointer = context.pointer().to_json_pointer_string();
    let what = if pointer.is_empty() {
        format!("the whole {name}")
    } else {
        pointer
    };
    name_fold_button(
        ui.ctx(),
        state.id(),
        format!("Fold or unfold {what}"),
        state.is_open(),
    );
}
