//! The Response panel's "Call an API" box: method, URL, headers, a JSON body and how it
//! is signed (UK `x-jws-signature`, a UAE signed JWT with personal data encrypted), and
//! the answer: its layers, its own signature, its body, the request as sent.

use egui::RichText;

use super::response::{dpop_view, token_view};
use super::{code_block, copy_button, error_color, findings, json_view, ok_color, signature};
use crate::gui::app::Action;
use crate::gui::state::{ApiCall, SignAs};
use crate::oauth::exchange::Exchange;
use crate::oauth::render::{self, Redaction};

/// "Call an API": the URL box, the body and how it is signed, the button and the last
/// answer.
pub fn ui(ui: &mut egui::Ui, api: &mut ApiCall, token_type: &str, actions: &mut Vec<Action>) {
    ui.label(RichText::new("Call an API with this token").strong());
    ui.horizontal(|ui| {
        let method_label = ui.label("Method");
        egui::ComboBox::from_id_salt("api_method")
            .selected_text(if api.method.is_empty() {
                "GET"
            } else {
                api.method.as_str()
            })
            .width(70.0)
            .show_ui(ui, |ui| {
                for m in ["GET", "POST", "PUT", "DELETE"] {
                    if ui.selectable_label(api.method == m, m).clicked() {
                        api.method = m.to_owned();
                    }
                }
            })
            .response
            .labelled_by(method_label.id);
        let label = ui.label("API URL");
        let edit = egui::TextEdit::singleline(&mut api.url)
            .hint_text("https://bank.example/open-banking/v1/accounts")
            .desired_width((ui.available_width() - 90.0).max(120.0));
        ui.add(edit).labelled_by(label.id);
        let running = api.work.is_running();
        if ui
            .add_enabled(!running, egui::Button::new("Call API"))
            .on_hover_text(format!(
                "Sends the access token as {token_type}{}",
                if token_type.eq_ignore_ascii_case("DPoP") {
                    " with a fresh DPoP proof (htm, htu, ath)"
                } else {
                    ""
                }
            ))
            .clicked()
        {
            actions.push(Action::CallApi);
        }
        if running {
            ui.spinner();
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Headers");
        ui.add(
            egui::TextEdit::multiline(&mut api.headers)
                .hint_text("x-customer-user-agent: token-inspector")
                .desired_rows(1)
                .desired_width(ui.available_width()),
        )
        .labelled_by(label.id);
    });
    if !matches!(api.method.as_str(), "" | "GET" | "DELETE") {
        body_editor(ui, api);
    }
    match &api.result {
        None => {}
        Some(Err(e)) => {
            ui.label(RichText::new(e).color(error_color(ui)));
        }
        Some(Ok(ex)) => {
            match &ex.outcome {
                Ok(r) => {
                    let color = if (200..300).contains(&r.http.status) {
                        ok_color(ui)
                    } else {
                        error_color(ui)
                    };
                    ui.label(
                        RichText::new(format!(
                            "API: HTTP {} {} in {:.0} ms",
                            r.http.status, r.http.reason, ex.elapsed_ms
                        ))
                        .strong()
                        .color(color),
                    );
                }
                Err(e) => {
                    ui.label(RichText::new(format!("API: {e}")).color(error_color(ui)));
                }
            }
            findings(ui, &ex.findings);
            dpop_view(ui, ex, "api");
            message_signatures(ui, ex);
            if let Ok(r) = &ex.outcome {
                if let Some(layered) = &r.layers {
                    super::layers::ui(ui, layered);
                }
                // A signed or encrypted answer, decoded.
                for (i, token) in r.tokens.iter().enumerate() {
                    token_view(ui, actions, 1000 + i, token);
                }
                egui::CollapsingHeader::new("API answer")
                    .id_salt("api_body")
                    .default_open(r.layers.is_none())
                    .show(ui, |ui| {
                        copy_button(ui, actions, "Copy API answer", &r.body_text);
                        match r.body.json() {
                            Some(v) => json_view(ui, "api_body_tree", &v),
                            None => code_block(ui, "API answer body", &r.body_text),
                        }
                    });
            }
            egui::CollapsingHeader::new("API request sent")
                .id_salt("api_request")
                .show(ui, |ui| {
                    copy_button(
                        ui,
                        actions,
                        "Copy API curl",
                        &render::curl(&ex.request, Redaction::None),
                    );
                    code_block(
                        ui,
                        "API request sent",
                        &render::readable_http(&ex.request, Redaction::Redacted),
                    );
                });
        }
    }
}

/// The body box and the choice of signing.
fn body_editor(ui: &mut egui::Ui, api: &mut ApiCall) {
    ui.horizontal(|ui| {
        let label = ui.label("Sign the body");
        let text = |s: SignAs| match s {
            SignAs::Profile => "as the profile says",
            SignAs::UkJwsSignature => "UK x-jws-signature",
            SignAs::UaeSignedBody => "UAE signed JWT (personal data encrypted)",
        };
        egui::ComboBox::from_id_salt("api_sign_as")
            .selected_text(text(api.sign_as))
            .show_ui(ui, |ui| {
                for choice in [
                    SignAs::Profile,
                    SignAs::UkJwsSignature,
                    SignAs::UaeSignedBody,
                ] {
                    ui.selectable_value(&mut api.sign_as, choice, text(choice));
                }
            })
            .response
            .labelled_by(label.id);
    });
    let label = ui.label("Body (JSON)");
    ui.add(
        egui::TextEdit::multiline(&mut api.body)
            .code_editor()
            .hint_text(
                "{\"Data\": {\"ConsentId\": \"…\", \"PersonalIdentifiableInformation\": {\"Initiation\": {…}}}}",
            )
            .desired_rows(4)
            .desired_width(ui.available_width()),
    )
    .labelled_by(label.id);
    ui.label(
        RichText::new(
            "Signed and encrypted here, with the profile's keys: a PersonalIdentifiableInformation object is encrypted to the bank's use:enc key before the body is signed.",
        )
        .weak(),
    );
}

/// The request's own signature and the answer's, decoded, with the verdict.
fn message_signatures(ui: &mut egui::Ui, ex: &Exchange) {
    if let Some(signed) = &ex.request.signed_message {
        egui::CollapsingHeader::new(format!("Request signed ({})", signed.scheme))
            .id_salt("api_signed_message")
            .show(ui, |ui| {
                json_view(
                    ui,
                    "api_signed_header",
                    &serde_json::Value::Object(signed.header.clone()),
                );
                if !signed.claims.is_null() {
                    json_view(ui, "api_signed_claims", &signed.claims);
                }
            });
    }
    if let Some(answer) = ex.response().and_then(|r| r.answer_signature.as_ref()) {
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("Answer signature ({})", answer.scheme)).strong());
            signature(ui, &answer.signature);
        });
        if !answer.claims.is_null() {
            egui::CollapsingHeader::new("Signed answer (claims)")
                .id_salt("api_answer_claims")
                .default_open(true)
                .show(ui, |ui| {
                    json_view(ui, "api_answer_claims_tree", &answer.claims)
                });
        }
    }
}
