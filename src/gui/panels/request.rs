//! The Request panel: grant, Authorize, the code / redirect URL paste box, PKCE, scope,
//! interaction id, Send and Cancel, and the live preview (raw HTTP, the decoded client
//! assertion, curl) of the very request Send sends.

use egui::RichText;

use super::{
    code_block, copy_button, error_color, field, findings, notice, ok_color, pretty, warn_color,
};
use crate::gui::app::Action;
use crate::gui::state::{AppState, Work};
use crate::oauth::render::{self, Redaction};
use crate::oauth::request::GrantType;

/// Paints the Request panel.
pub fn ui(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    let Some(profile) = state.profile().cloned() else {
        ui.label("No profile selected: pick or create one in the sidebar.");
        return;
    };
    egui::ScrollArea::vertical()
        .id_salt("request")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let l = ui.label("Grant type");
                egui::ComboBox::from_id_salt("grant")
                    .selected_text(state.request.grant.as_str())
                    .show_ui(ui, |ui| {
                        for g in GrantType::ALL {
                            ui.selectable_value(&mut state.request.grant, g, g.as_str());
                        }
                    })
                    .response
                    .labelled_by(l.id);
                state.persisted.grant = state.request.grant;
            });
            if state.request.grant == GrantType::AuthorizationCode {
                authorization(ui, state, actions, profile.local_sandbox);
            }
            if state.request.grant == GrantType::RefreshToken {
                ui.horizontal(|ui| {
                    let l = ui.label("Refresh token");
                    let mut text = state.request.refresh_token.expose().to_owned();
                    if ui
                        .add(
                            egui::TextEdit::singleline(&mut text)
                                .password(true)
                                .desired_width(f32::INFINITY),
                        )
                        .labelled_by(l.id)
                        .changed()
                    {
                        state.request.refresh_token = crate::secret::Secret::new(text);
                    }
                });
            }
            egui::Grid::new("request_grid")
                .num_columns(2)
                .show(ui, |ui| {
                    field(ui, "Scope (empty: the profile's)", &mut state.request.scope);
                    ui.end_row();
                    let label = ui.label("x-fapi-interaction-id");
                    ui.horizontal(|ui| {
                        if ui.button("New interaction id").clicked() {
                            actions.push(Action::RegenerateInteractionId);
                        }
                        ui.add(
                            egui::TextEdit::singleline(&mut state.request.interaction_id)
                                .desired_width(f32::INFINITY),
                        )
                        .labelled_by(label.id);
                    });
                    ui.end_row();
                });
            ui.separator();
            send_row(ui, state, actions);
            notice(ui, state.request_notice.as_ref());
            ui.separator();
            preview(ui, state, actions);
        });
}

fn authorization(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>, local: bool) {
    ui.horizontal_wrapped(|ui| {
        let running = state.authorize.is_running();
        if ui
            .add_enabled(!running, egui::Button::new("Authorize"))
            .on_hover_text(if local {
                "PAR, then approve the consent in the app (embedded sandbox)"
            } else {
                "PAR, then open the consent page in your browser"
            })
            .clicked()
        {
            actions.push(Action::Authorize);
        }
        if let crate::gui::state::Work::Running { what, .. } = &state.authorize {
            ui.label("⏳");
            ui.label(what);
        } else if local {
            ui.label(RichText::new("approves in the app (sandbox)").weak());
        } else {
            ui.label(RichText::new("opens the bank's consent page in your browser").weak());
        }
    });
    if let Some(session) = &state.session {
        ui.horizontal(|ui| {
            ui.label("Authorization URL");
            copy_button(
                ui,
                actions,
                "Copy authorization URL",
                &session.authorization_url,
            );
        });
        ui.add(
            egui::Label::new(
                RichText::new(&session.authorization_url)
                    .monospace()
                    .small(),
            )
            .wrap(),
        );
    }
    let l = ui.label("Code or redirect URL");
    let r = ui
        .add(
            egui::TextEdit::multiline(&mut state.request.paste)
                .hint_text("paste the code, or the whole URL the bank redirected to")
                .desired_rows(2)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(l.id);
    if r.changed() {
        actions.push(Action::ApplyPaste);
    }
    ui.horizontal(|ui| {
        if ui
            .button("Paste redirect")
            .on_hover_text("Paste the clipboard into the box above")
            .clicked()
        {
            actions.push(Action::PasteCode);
        }
    });
    if let Some(e) = &state.request.paste_error {
        ui.label(RichText::new(e).color(error_color(ui)));
    }
    egui::Grid::new("code_grid").num_columns(2).show(ui, |ui| {
        field(ui, "code", &mut state.request.code);
        ui.end_row();
        ui.label("state");
        let received = state.request.received_state.as_deref().unwrap_or("—");
        match state.request.authorization.state.as_deref() {
            Some(expected) if Some(expected) == state.request.received_state.as_deref() => {
                ui.label(
                    RichText::new(format!("{received} (matches the state sent)"))
                        .color(ok_color(ui)),
                );
            }
            Some(expected) if state.request.received_state.is_some() => {
                ui.label(
                    RichText::new(format!("{received} (sent {expected}: MISMATCH)"))
                        .color(error_color(ui)),
                );
            }
            _ => {
                ui.label(received);
            }
        }
        ui.end_row();
        let label = ui.label("code_verifier (PKCE)");
        ui.horizontal(|ui| {
            if ui.button("New verifier").clicked() {
                actions.push(Action::GeneratePkce);
            }
            ui.add(
                egui::TextEdit::singleline(&mut state.request.code_verifier)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        });
        ui.end_row();
    });
    super::front_channel::ui(ui, &state.request.authorization.front_channel);
    if !state.request.authorization.findings.is_empty() {
        findings(ui, &state.request.authorization.findings);
    }
}

fn send_row(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let running = state.send.is_running();
        let ready = matches!(state.preview.model, Some(Ok(_)));
        if ui
            .add_enabled(
                !running && ready,
                egui::Button::new(RichText::new("Send").strong()),
            )
            .on_hover_text("Send the request shown below (Ctrl+Enter)")
            .clicked()
        {
            actions.push(Action::Send);
        }
        if ui
            .add_enabled(
                running || state.authorize.is_running(),
                egui::Button::new("Cancel send"),
            )
            .clicked()
        {
            actions.push(Action::Cancel);
        }
        if let Work::Running { what, .. } = &state.send {
            ui.label("⏳");
            ui.label(what);
        }
        ui.separator();
        if ui
            .add_enabled(ready, egui::Button::new("Copy curl"))
            .on_hover_text("Ctrl+Shift+C")
            .clicked()
        {
            actions.push(Action::CopyCurl(Redaction::None));
        }
        if ui
            .add_enabled(ready, egui::Button::new("Copy redacted curl"))
            .on_hover_text("Secrets become ${VARIABLES}")
            .clicked()
        {
            actions.push(Action::CopyCurl(Redaction::Redacted));
        }
    });
}

fn preview(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.heading("Preview");
        ui.checkbox(&mut state.persisted.curl_redacted, "Hide secrets");
        if ui
            .button("Rebuild")
            .on_hover_text("A fresh client assertion (new jti, iat, exp)")
            .clicked()
        {
            actions.push(Action::Rebuild);
        }
        if state.preview.sent {
            ui.label(RichText::new("(as sent)").weak());
        }
    });
    let model = match &state.preview.model {
        None => {
            ui.label("Nothing to preview yet.");
            return;
        }
        // Before the user has done anything, a request waiting for its code (or for the
        // key to load) is not an error: a calm hint, not red.
        Some(Err(_)) if waiting_for_code(state) => {
            ui.label("The token request is built once there is a code: press Authorize, or paste the bank's redirect URL above.");
            return;
        }
        Some(Err(e)) if e.starts_with("loading ") => {
            ui.label(format!("{e} (the request is built then)"));
            return;
        }
        Some(Err(e)) => {
            ui.label(
                RichText::new(format!("Cannot build the request: {e}")).color(error_color(ui)),
            );
            return;
        }
        Some(Ok(m)) => m,
    };
    let redaction = if state.persisted.curl_redacted {
        Redaction::Redacted
    } else {
        Redaction::None
    };
    if model.transport.insecure_skip_verify {
        ui.label(
            RichText::new("TLS certificate verification is OFF for this request")
                .color(error_color(ui)),
        );
    }
    egui::CollapsingHeader::new("Raw HTTP request")
        .id_salt("raw_http")
        .default_open(true)
        .show(ui, |ui| {
            let raw = render::readable_http(model, redaction);
            copy_button(
                ui,
                actions,
                "Copy raw request",
                &render::raw_http(model, redaction),
            );
            code_block(ui, "Raw HTTP request", &raw);
        });
    if let Some(a) = &model.client_assertion {
        egui::CollapsingHeader::new("Client assertion (decoded)")
            .id_salt("assertion")
            .default_open(true)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    copy_button(ui, actions, "Copy client assertion", a.jwt.expose());
                    let header = pretty(&serde_json::Value::Object(a.header.clone()));
                    copy_button(ui, actions, "Copy assertion header", &header);
                    copy_button(ui, actions, "Copy assertion claims", &pretty(&a.claims));
                });
                ui.columns(2, |cols| {
                    cols[0].label(RichText::new("Header").strong());
                    code_block(
                        &mut cols[0],
                        "Client assertion header",
                        &pretty(&serde_json::Value::Object(a.header.clone())),
                    );
                    cols[1].label(RichText::new("Claims").strong());
                    code_block(&mut cols[1], "Client assertion claims", &pretty(&a.claims));
                });
                if !state.preview.findings.is_empty() {
                    findings(ui, &state.preview.findings);
                }
            });
    }
    egui::CollapsingHeader::new("curl")
        .id_salt("curl")
        .default_open(true)
        .show(ui, |ui| {
            if redaction == Redaction::Redacted {
                let vars = render::redacted_variables(model);
                if !vars.is_empty() {
                    ui.label(
                        RichText::new(format!("Set before running: {}", vars.join(", ")))
                            .color(warn_color(ui)),
                    );
                }
            }
            code_block(ui, "curl command", &render::curl(model, redaction));
        });
    authorization_request(ui, state, actions, redaction);
}

/// The last authorization's pushed request (RFC 9126) as sent: raw HTTP, the signed
/// request object decoded with its findings (F18), and its curl.
fn authorization_request(
    ui: &mut egui::Ui,
    state: &AppState,
    actions: &mut Vec<Action>,
    redaction: Redaction,
) {
    let Some(par) = state.session.as_ref().and_then(|s| s.par.as_deref()) else {
        return;
    };
    let model = &par.request;
    egui::CollapsingHeader::new("Authorization request (PAR)")
        .id_salt("par")
        .default_open(false)
        .show(ui, |ui| {
            if let Some(r) = par.response() {
                ui.label(format!(
                    "{} answered HTTP {} {}",
                    model.url, r.http.status, r.http.reason
                ));
            }
            code_block(
                ui,
                "Raw HTTP request",
                &render::readable_http(model, redaction),
            );
            if let Some(object) = &model.request_object {
                ui.label(RichText::new("Signed request object (decoded)").strong());
                ui.horizontal(|ui| {
                    copy_button(ui, actions, "Copy request object", &object.jwt);
                    copy_button(
                        ui,
                        actions,
                        "Copy request object claims",
                        &pretty(&object.claims),
                    );
                });
                ui.columns(2, |cols| {
                    cols[0].label(RichText::new("Header").strong());
                    code_block(
                        &mut cols[0],
                        "Request object header",
                        &pretty(&serde_json::Value::Object(object.header.clone())),
                    );
                    cols[1].label(RichText::new("Claims").strong());
                    code_block(
                        &mut cols[1],
                        "Request object claims",
                        &pretty(&object.claims),
                    );
                });
            }
            let par_findings: Vec<_> = par
                .findings
                .iter()
                .filter(|f| {
                    f.code.starts_with("request_object") || f.message.starts_with("request:")
                })
                .cloned()
                .collect();
            if !par_findings.is_empty() {
                findings(ui, &par_findings);
            }
            copy_button(
                ui,
                actions,
                "Copy PAR curl",
                &render::curl(model, redaction),
            );
        });
}

/// True while the authorization-code grant has no code yet.
fn waiting_for_code(state: &AppState) -> bool {
    state.request.grant == crate::oauth::request::GrantType::AuthorizationCode
        && state.request.code.trim().is_empty()
}
