//! The Response panel: status, elapsed time, the consent card, the access token
//! countdown, every JWT decoded with its signature status, findings, headers, and the body
//! as pretty JSON and as a tree.

use std::time::{Duration, Instant};

use egui::RichText;

use super::{
    code_block, copy_button, error_color, findings, json_view, ok_color, pretty, signature,
    warn_color,
};
use crate::gui::app::Action;
use crate::gui::state::{AppState, HistoryEntry};
use crate::oauth::exchange::{Exchange, FoundToken, InteractionEcho};
use crate::oauth::render::{self, Redaction};
use crate::oauth::response::{Consent, ResponseBody};

/// When the access token of an entry expires (`expires_in` after the answer came).
pub fn expires_at(entry: &HistoryEntry) -> Option<Instant> {
    let r = entry.exchange.response()?;
    let ResponseBody::Token(t) = &r.body else {
        return None;
    };
    let secs = t.expires_in().filter(|s| s.is_finite() && *s >= 0.0)?;
    Some(entry.received + Duration::from_secs_f64(secs.min(1e9)))
}

/// Paints the Response panel.
pub fn ui(ui: &mut egui::Ui, state: &mut AppState, actions: &mut Vec<Action>) {
    if state.send.is_running() {
        ui.horizontal(|ui| {
            ui.label("⏳");
            ui.label("Sending… (the previous answer stays below)");
        });
    }
    if let Some(i) = state.saved_shown
        && i < state.saved_history.len()
    {
        saved_view(
            ui,
            actions,
            i,
            &state.saved_history,
            state.saved_compare.as_ref(),
        );
        return;
    }
    let Some(entry) = state.shown.and_then(|i| state.history.get(i)) else {
        ui.label("No exchange yet: build a request in the Request panel and press Send.");
        return;
    };
    let ex = &entry.exchange;
    let resource_server = state
        .profile()
        .and_then(|p| p.data_calls.resource_server.clone())
        .filter(|rs| !rs.trim().is_empty());
    egui::ScrollArea::vertical()
        .id_salt("response")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            status_line(ui, ex);
            answer_summary(
                ui,
                state.request.authorization.requested_consent.as_ref(),
                entry,
            );
            super::diagnosis(ui, &ex.diagnosis);
            ui.separator();
            ui.label(RichText::new("Findings").strong());
            findings(ui, &ex.findings);
            raw_views(ui, actions, ex);
            dpop_view(ui, ex, "resp");
            let token = ex
                .response()
                .and_then(|r| r.body.json())
                .and_then(|body| crate::oauth::resource::token_of(&body));
            if let Some((_, token_type)) = token {
                ui.separator();
                if let Some(rs) = &resource_server {
                    super::layers::data_call_buttons(ui, &mut state.api, rs, ex, actions);
                }
                super::api_call::ui(ui, &mut state.api, &token_type, actions);
            }
        });
}

/// The status, the time taken, when and where it was sent.
fn status_line(ui: &mut egui::Ui, ex: &crate::oauth::exchange::Exchange) {
    ui.horizontal_wrapped(|ui| {
        match &ex.outcome {
            Ok(r) => {
                let color = if (200..300).contains(&r.http.status) {
                    ok_color(ui)
                } else {
                    error_color(ui)
                };
                ui.heading(
                    RichText::new(format!("HTTP {} {}", r.http.status, r.http.reason)).color(color),
                );
            }
            Err(_) => {
                ui.heading(RichText::new("No answer").color(error_color(ui)));
            }
        }
        ui.label(format!("{:.0} ms", ex.elapsed_ms));
        let sent = ex
            .sent_at
            .get(..19)
            .unwrap_or(&ex.sent_at)
            .replace('T', " ");
        ui.label(RichText::new(format!("sent {sent} UTC to {}", ex.request.url)).weak());
    });
}

/// What the answer says: the token's countdown, the OAuth error and what it means, the
/// consent granted (against the one asked for), the interaction id's echo.
fn answer_summary(
    ui: &mut egui::Ui,
    requested_consent: Option<&serde_json::Value>,
    entry: &crate::gui::state::HistoryEntry,
) {
    let ex = &entry.exchange;
    match &ex.outcome {
        Err(e) => {
            ui.label(RichText::new(e.to_string()).color(error_color(ui)));
        }
        Ok(r) => {
            countdown(ui, entry);
            if let ResponseBody::Error(err) = &r.body {
                ui.label(
                    RichText::new(format!(
                        "{}{}",
                        err.error,
                        err.error_description
                            .as_deref()
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default()
                    ))
                    .strong()
                    .color(error_color(ui)),
                );
                ui.label(format!("What it means: {}", err.explain()));
            }
            if let ResponseBody::Token(t) = &r.body {
                let asked = requested_consent.map(crate::oauth::consent::read);
                let differences: Vec<&crate::checks::Finding> = ex
                    .findings
                    .iter()
                    .filter(|f| f.code.starts_with("consent."))
                    .collect();
                for (i, detail) in t.authorization_details().iter().enumerate() {
                    if let Some(consent) = &detail.consent {
                        consent_card(
                            ui,
                            i,
                            detail.detail_type.as_deref(),
                            consent,
                            asked.as_ref(),
                            &differences,
                        );
                    }
                }
            }
            match &r.interaction_id {
                InteractionEcho::Echoed => {}
                InteractionEcho::Different(v) => {
                    ui.label(
                        RichText::new(format!("x-fapi-interaction-id came back different: {v}"))
                            .color(warn_color(ui)),
                    );
                }
                InteractionEcho::Missing => {
                    ui.label(
                        RichText::new("x-fapi-interaction-id was not echoed").color(warn_color(ui)),
                    );
                }
                InteractionEcho::NotSent(_) => {}
            }
        }
    }
}

/// The decoded tokens, the headers, the body and the request as sent.
fn raw_views(ui: &mut egui::Ui, actions: &mut Vec<Action>, ex: &crate::oauth::exchange::Exchange) {
    if let Ok(r) = &ex.outcome {
        for (i, token) in r.tokens.iter().enumerate() {
            token_view(ui, actions, i, token);
        }
        egui::CollapsingHeader::new(format!("Headers ({})", r.http.headers.len()))
            .id_salt("resp_headers")
            .show(ui, |ui| {
                egui::Grid::new("headers_grid")
                    .striped(true)
                    .show(ui, |ui| {
                        for (name, value) in &r.http.headers {
                            ui.monospace(name);
                            ui.add(egui::Label::new(RichText::new(value).monospace()).wrap());
                            ui.end_row();
                        }
                    });
            });
        egui::CollapsingHeader::new("Body")
            .id_salt("resp_body")
            .default_open(true)
            .show(ui, |ui| {
                copy_button(ui, actions, "Copy response body", &r.body_text);
                if r.http.truncated {
                    ui.label(
                        RichText::new(format!("the body was cut at {} bytes", r.http.max_body))
                            .color(warn_color(ui)),
                    );
                }
                match r.body.json() {
                    Some(v) => json_view(ui, "body", &v),
                    None => code_block(ui, "Response body", &r.body_text),
                }
            });
    }
    egui::CollapsingHeader::new("Request sent")
        .id_salt("resp_request")
        .show(ui, |ui| {
            let raw = render::readable_http(&ex.request, Redaction::Redacted);
            ui.horizontal(|ui| {
                copy_button(
                    ui,
                    actions,
                    "Copy sent request",
                    &render::raw_http(&ex.request, Redaction::None),
                );
                copy_button(
                    ui,
                    actions,
                    "Copy sent curl",
                    &render::curl(&ex.request, Redaction::None),
                );
            });
            code_block(ui, "Request sent", &raw);
        });
}

/// The DPoP proof sent, and the attempt the server refused for want of a nonce.
pub(super) fn dpop_view(ui: &mut egui::Ui, ex: &Exchange, salt: &str) {
    if let Some(first) = &ex.first_attempt {
        let said = first
            .response()
            .map(|r| format!("HTTP {} {}", r.http.status, r.http.reason))
            .unwrap_or_else(|| "no answer".into());
        ui.label(
            RichText::new(format!(
                "The first attempt got {said} asking for a DPoP nonce; it was sent again with the server's nonce (RFC 9449 §8)."
            ))
            .color(warn_color(ui)),
        );
        egui::CollapsingHeader::new("First attempt (refused for a nonce)")
            .id_salt(format!("{salt}_first_attempt"))
            .show(ui, |ui| {
                code_block(
                    ui,
                    "First attempt request",
                    &render::readable_http(&first.request, Redaction::Redacted),
                );
                if let Some(r) = first.response() {
                    code_block(ui, "First attempt response body", &r.body_text);
                }
            });
    }
    if let Some(proof) = &ex.request.dpop {
        egui::CollapsingHeader::new("DPoP proof sent")
            .id_salt(format!("{salt}_dpop_proof"))
            .show(ui, |ui| {
                ui.columns(2, |cols| {
                    cols[0].label(RichText::new("Header").strong());
                    code_block(
                        &mut cols[0],
                        "DPoP proof header",
                        &pretty(&serde_json::Value::Object(proof.header.clone())),
                    );
                    cols[1].label(RichText::new("Claims").strong());
                    code_block(&mut cols[1], "DPoP proof claims", &pretty(&proof.claims));
                });
            });
    }
}

fn countdown(ui: &mut egui::Ui, entry: &HistoryEntry) {
    let Some(at) = expires_at(entry) else { return };
    let now = Instant::now();
    if at > now {
        let left = at - now;
        ui.label(
            RichText::new(format!("Access token expires in {}", countdown_text(left))).strong(),
        );
        // One repaint per second while the countdown is on screen; none otherwise.
        ui.ctx().request_repaint_after(Duration::from_secs(1));
    } else {
        ui.label(RichText::new("Access token expired").color(error_color(ui)));
    }
}

/// `1 h 02 min`, `9 min 05 s`, `42 s`.
fn countdown_text(left: Duration) -> String {
    let s = left.as_secs();
    match s {
        3600.. => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        60.. => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{s} s"),
    }
}

/// The consent granted, beside what was asked for, with the differences flagged.
fn consent_card(
    ui: &mut egui::Ui,
    i: usize,
    detail_type: Option<&str>,
    consent: &Consent,
    asked: Option<&crate::oauth::consent::ConsentFields>,
    differences: &[&crate::checks::Finding],
) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(RichText::new("Consent").heading());
        if let Some(t) = detail_type {
            ui.label(RichText::new(t).weak().small());
        }
        egui::Grid::new(format!("consent_{i}"))
            .num_columns(2)
            .show(ui, |ui| {
                let row = |ui: &mut egui::Ui, k: &str, v: Option<&str>| {
                    ui.label(RichText::new(k).strong());
                    ui.label(v.unwrap_or("—"));
                    ui.end_row();
                };
                row(ui, "Purpose", consent.consent_purpose.as_deref());
                ui.label(RichText::new("Status").strong());
                let status = consent.status.as_deref().unwrap_or("—");
                let color = if status.eq_ignore_ascii_case("authorized") {
                    ok_color(ui)
                } else {
                    warn_color(ui)
                };
                ui.label(RichText::new(status).color(color));
                ui.end_row();
                row(ui, "Permissions", Some(&consent.permissions.join(", ")));
                if let Some(asked) = asked {
                    row(ui, "Asked for", Some(&asked.permissions.join(", ")));
                }
                row(ui, "Expires", consent.expiration_datetime.as_deref());
                if let Some(expiry) = asked.and_then(|a| a.expiry.as_deref()) {
                    row(ui, "Asked until", Some(expiry));
                }
                row(ui, "Consent id", consent.consent_id.as_deref());
            });
        for f in differences {
            ui.label(RichText::new(format!("⚠ {}", f.message)).color(warn_color(ui)));
        }
        if !consent.accounts.is_empty() {
            ui.label(RichText::new("Accounts").strong());
            egui::Grid::new(format!("accounts_{i}"))
                .striped(true)
                .show(ui, |ui| {
                    for a in &consent.accounts {
                        ui.label(a.account_name.as_deref().unwrap_or("(no name)"));
                        ui.monospace(a.account_number.as_deref().unwrap_or(""));
                        ui.label(RichText::new(a.account_id.as_deref().unwrap_or("")).weak());
                        ui.end_row();
                    }
                });
        }
    });
}

pub(super) fn token_view(
    ui: &mut egui::Ui,
    actions: &mut Vec<Action>,
    i: usize,
    token: &FoundToken,
) {
    egui::CollapsingHeader::new(format!("{} ({})", token.path, token.kind.as_str()))
        .id_salt(format!("token_{i}"))
        .default_open(true)
        .show(ui, |ui| {
            if let Some(e) = &token.error {
                ui.label(RichText::new(e.to_string()).color(error_color(ui)));
            }
            if let Some(s) = &token.signature {
                signature(ui, s);
            }
            ui.horizontal_wrapped(|ui| {
                copy_button(ui, actions, &format!("Copy {}", token.path), &token.raw);
                if let Some(h) = &token.header {
                    copy_button(
                        ui,
                        actions,
                        &format!("Copy {} header", token.path),
                        &pretty(&serde_json::Value::Object(h.clone())),
                    );
                }
                if let Some(c) = &token.claims {
                    copy_button(
                        ui,
                        actions,
                        &format!("Copy {} claims", token.path),
                        &pretty(c),
                    );
                }
            });
            ui.columns(2, |cols| {
                if let Some(h) = &token.header {
                    cols[0].label(RichText::new("Header").strong());
                    code_block(
                        &mut cols[0],
                        "Token header",
                        &pretty(&serde_json::Value::Object(h.clone())),
                    );
                }
                if let Some(c) = &token.claims {
                    cols[1].label(RichText::new("Claims").strong());
                    code_block(&mut cols[1], "Token claims", &pretty(c));
                }
            });
            findings(ui, &token.findings);
        });
}

/// A saved exchange (from the history on disk, without secrets): its outcome, "Why?",
/// the findings, the request and the answer as kept, the comparison with the last
/// success, and its support bundle.
fn saved_view(
    ui: &mut egui::Ui,
    actions: &mut Vec<Action>,
    i: usize,
    saved: &[crate::history::HistoryEntry],
    compare: Option<&(String, Vec<crate::history::Difference>)>,
) {
    let entry = &saved[i];
    egui::ScrollArea::vertical()
        .id_salt("saved-response")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                let (text, color) = match (entry.status, &entry.error) {
                    (Some(s), Some(e)) => (format!("HTTP {s} {e}"), error_color(ui)),
                    (Some(s), None) if (200..300).contains(&s) => (format!("HTTP {s}"), ok_color(ui)),
                    (Some(s), None) => (format!("HTTP {s}"), error_color(ui)),
                    (None, _) => ("No answer".to_owned(), error_color(ui)),
                };
                ui.heading(RichText::new(text).color(color));
                ui.label(format!("{:.0} ms", entry.elapsed_ms));
                ui.label(
                    RichText::new(format!(
                        "saved exchange: sent {} UTC to {}",
                        entry.sent_at,
                        entry.request["url"].as_str().unwrap_or_default()
                    ))
                    .weak(),
                );
            });
            ui.label(format!(
                "x-fapi-interaction-id sent {}, answered {}",
                entry.interaction_id.as_deref().unwrap_or("(none)"),
                entry.interaction_id_answered.as_deref().unwrap_or("(none)")
            ));
            ui.horizontal(|ui| {
                if ui
                    .button("Copy support bundle")
                    .on_hover_text("The interaction id, UTC times, the request without secrets, the answer, findings and diagnosis, as Markdown")
                    .clicked()
                {
                    actions.push(Action::CopyBundle(i));
                }
                if ui.button("Save support bundle…").clicked() {
                    actions.push(Action::SaveBundle(i));
                }
                if ui
                    .button("Compare with the last success")
                    .on_hover_text("What changed in headers, form parameters and signed claims since the newest earlier success of this kind")
                    .clicked()
                {
                    actions.push(Action::CompareSaved(i));
                }
                egui::ComboBox::from_label("Compare with")
                    .selected_text("another entry…")
                    .show_ui(ui, |ui| {
                        for (j, other) in saved.iter().enumerate() {
                            if j != i
                                && ui
                                    .selectable_label(
                                        false,
                                        format!("#{}: {}", j + 1, other.summary()),
                                    )
                                    .clicked()
                            {
                                actions.push(Action::CompareSavedWith(i, j));
                            }
                        }
                    });
            });
            if let Some((heading, diff)) = compare {
                ui.separator();
                ui.label(RichText::new(heading).strong());
                if diff.is_empty() {
                    ui.label("Nothing changed in headers, form parameters or signed claims.");
                }
                for d in diff {
                    ui.horizontal_wrapped(|ui| {
                        let what = RichText::new(&d.what).monospace();
                        ui.label(if d.expected { what.weak() } else { what.strong() });
                        ui.label(format!(
                            "{} -> {}",
                            d.before.as_deref().unwrap_or("(absent)"),
                            d.after.as_deref().unwrap_or("(absent)")
                        ));
                        if d.expected {
                            ui.label(RichText::new("(changes on every request)").weak());
                        }
                    });
                }
            }
            super::diagnosis(ui, &entry.diagnosis);
            ui.separator();
            ui.label(RichText::new("Findings").strong());
            match entry.findings.as_array() {
                Some(kept) if !kept.is_empty() => {
                    for f in kept {
                        let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
                        ui.horizontal_wrapped(|ui| {
                            let severity = text("severity");
                            let color = match severity.as_str() {
                                "error" => error_color(ui),
                                "warning" => warn_color(ui),
                                _ => ui.visuals().weak_text_color(),
                            };
                            ui.label(RichText::new(severity.to_uppercase()).strong().color(color));
                            ui.label(text("message"));
                            ui.label(
                                RichText::new(format!("({}, {})", text("code"), text("source")))
                                    .weak(),
                            );
                        });
                    }
                }
                _ => findings(ui, &[]),
            }
            egui::CollapsingHeader::new("Request as kept (secrets redacted)")
                .id_salt(("saved-request", i))
                .show(ui, |ui| json_view(ui, &format!("saved-request-{i}"), &entry.request));
            egui::CollapsingHeader::new("Answer as kept (tokens as fingerprints)")
                .id_salt(("saved-answer", i))
                .default_open(true)
                .show(ui, |ui| json_view(ui, &format!("saved-answer-{i}"), &entry.response));
        });
}
