//! The JWT panel: paste any token; decode it, verify it against the profile's JWKS, a key
//! file, a pasted key or an HMAC secret, and read its findings.

use egui::RichText;

use super::{code_block, copy_button, error_color, findings, pretty, signature};
use crate::gui::app::Action;
use crate::gui::state::{AppState, JwtKeySource};
use crate::inspector::Report;

/// Paints the JWT panel.
pub fn ui(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    egui::ScrollArea::vertical()
        .id_salt("jwt")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let l = ui.label("Token");
            ui.add(
                egui::TextEdit::multiline(&mut state.jwt.input)
                    .hint_text("paste a JWS, JWE or unsecured JWT")
                    .font(egui::TextStyle::Monospace)
                    .desired_rows(4)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(l.id);
            ui.horizontal_wrapped(|ui| {
                ui.label("Verify with:");
                let src = &mut state.jwt.key_source;
                let mut changed = false;
                for (value, label) in [
                    (JwtKeySource::None, "nothing"),
                    (JwtKeySource::ProfileJwks, "profile JWKS"),
                    (JwtKeySource::File, "key file"),
                    (JwtKeySource::Pasted, "pasted key"),
                    (JwtKeySource::Secret, "HMAC secret"),
                ] {
                    changed |= ui.selectable_value(src, value, label).changed();
                }
                if changed {
                    state.jwt.message = None;
                    actions.push(Action::DecodeJwt);
                }
            });
            match state.jwt.key_source {
                JwtKeySource::None => {}
                JwtKeySource::ProfileJwks => {
                    ui.horizontal(|ui| {
                        if ui.button("Fetch profile JWKS").clicked() {
                            actions.push(Action::FetchJwks);
                        }
                        let uri = state
                            .profile()
                            .and_then(|p| p.endpoints.jwks.clone())
                            .unwrap_or_else(|| "(the profile has no JWKS URI)".into());
                        ui.label(RichText::new(uri).monospace().small());
                    });
                }
                JwtKeySource::File => {
                    ui.horizontal(|ui| {
                        if ui.button("Pick key file…").clicked() {
                            actions.push(Action::PickJwtKey);
                        }
                        if let Some(f) = &state.jwt.key_file {
                            ui.monospace(f);
                        }
                    });
                }
                JwtKeySource::Pasted => {
                    let l = ui.label("Public key (PEM, JWK or JWKS)");
                    if ui
                        .add(
                            egui::TextEdit::multiline(&mut state.jwt.key_text)
                                .font(egui::TextStyle::Monospace)
                                .desired_rows(3)
                                .desired_width(f32::INFINITY),
                        )
                        .labelled_by(l.id)
                        .changed()
                    {
                        actions.push(Action::DecodeJwt);
                    }
                }
                JwtKeySource::Secret => {
                    ui.horizontal(|ui| {
                        let l = ui.label("Shared secret (HS256/384/512)");
                        let mut text = state.jwt.secret.expose().to_owned();
                        if ui
                            .add(egui::TextEdit::singleline(&mut text).password(true))
                            .labelled_by(l.id)
                            .changed()
                        {
                            state.jwt.secret = crate::secret::Secret::new(text);
                            actions.push(Action::DecodeJwt);
                        }
                    });
                }
            }
            ui.horizontal(|ui| {
                if ui.button("Decode").clicked() {
                    actions.push(Action::DecodeJwt);
                }
                if ui
                    .button("Paste token")
                    .on_hover_text("Replace the token with the clipboard's text")
                    .clicked()
                {
                    actions.push(Action::PasteJwt);
                }
            });
            if let Some(m) = &state.jwt.message {
                ui.label(m);
            }
            ui.separator();
            match &state.jwt.report {
                None => {
                    ui.label("Paste a token above to decode it.");
                }
                Some(Err(e)) => {
                    ui.label(RichText::new(e).color(error_color(ui)));
                }
                Some(Ok(report)) => report_view(ui, actions, report, 0),
            }
        });
}

fn report_view(ui: &mut egui::Ui, actions: &mut Vec<Action>, report: &Report, depth: usize) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{:?}", report.kind).to_uppercase()).strong());
        ui.label(format!(
            "{}{}",
            report.token_kind.as_str(),
            if report.token_kind_guessed {
                " (guessed)"
            } else {
                ""
            }
        ));
    });
    match &report.signature {
        crate::jose::verify::SignatureStatus::NotVerifiable { reason }
            if reason.contains("no key given") =>
        {
            ui.label(
                RichText::new(
                    "Signature not verified: no key chosen; pick one under \"Verify with\"",
                )
                .strong()
                .color(super::warn_color(ui)),
            );
        }
        other => signature(ui, other),
    }
    if let Some(e) = &report.decryption_error {
        ui.label(RichText::new(e).color(error_color(ui)));
    }
    let header = pretty(&serde_json::Value::Object(report.header.clone()));
    ui.horizontal(|ui| {
        copy_button(ui, actions, "Copy header", &header);
        if let Some(c) = &report.claims {
            copy_button(ui, actions, "Copy claims", &pretty(c));
        }
    });
    ui.columns(2, |cols| {
        cols[0].label(RichText::new("Header").strong());
        code_block(&mut cols[0], "JWT header", &header);
        cols[1].label(RichText::new("Claims").strong());
        match (
            &report.claims,
            &report.payload_text,
            &report.payload_base64url,
        ) {
            (Some(c), _, _) => code_block(&mut cols[1], "JWT claims", &pretty(c)),
            (_, Some(t), _) => code_block(&mut cols[1], "JWT payload", t),
            (_, _, Some(b)) => code_block(
                &mut cols[1],
                "JWT payload",
                &format!("(binary, base64url) {b}"),
            ),
            _ => {
                cols[1].label("(encrypted)");
            }
        }
    });
    if !report.times.is_empty() {
        egui::Grid::new(format!("times_{depth}")).show(ui, |ui| {
            for (name, t) in &report.times {
                ui.monospace(name);
                ui.label(t.get("utc").and_then(|v| v.as_str()).unwrap_or(""));
                ui.label(t.get("description").and_then(|v| v.as_str()).unwrap_or(""));
                ui.end_row();
            }
        });
    }
    ui.label(RichText::new("Findings").strong());
    findings(ui, &report.findings);
    if let Some(nested) = &report.nested {
        ui.separator();
        ui.label(RichText::new("Nested token").strong());
        report_view(ui, actions, nested, depth + 1);
    }
}
