//! A layered answer (PayNet's: the hub's JWS, the JWE to the client, the provider's JWT),
//! each layer with its verdict, and the data inside; and the buttons that make the data
//! calls of a profile with a resource server.

use egui::RichText;

use super::{error_color, findings, json_view, ok_color, warn_color};
use crate::gui::app::Action;
use crate::gui::state::ApiCall;
use crate::oauth::exchange::Exchange;
use crate::oauth::layers::{LayeredAnswer, Verdict};

/// The layers, outermost first, then the data, marked verified or not.
pub fn ui(ui: &mut egui::Ui, layered: &LayeredAnswer) {
    ui.label(RichText::new("Layers (outermost first)").strong());
    for (i, layer) in layered.layers.iter().enumerate() {
        let (word, color) = match layer.verdict {
            Verdict::Valid => ("valid", ok_color(ui)),
            Verdict::Invalid => ("INVALID", error_color(ui)),
            Verdict::NotChecked => ("not checked", warn_color(ui)),
        };
        let header = |name: &str| {
            layer
                .header
                .get(name)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("-")
                .to_owned()
        };
        let title = format!(
            "Layer {}: {} {word} ({}, kid {})",
            i + 1,
            layer.name,
            header("alg"),
            header("kid")
        );
        egui::CollapsingHeader::new(RichText::new(title).color(color))
            .id_salt(format!("layer_{i}"))
            .default_open(layer.verdict != Verdict::Valid)
            .show(ui, |ui| {
                if let Some(reason) = &layer.reason {
                    ui.label(RichText::new(reason).color(color));
                }
                findings(ui, &layer.findings);
                ui.label(RichText::new("Header").weak());
                json_view(
                    ui,
                    &format!("layer_header_{i}"),
                    &serde_json::Value::Object(layer.header.clone()),
                );
                if let Some(claims) = &layer.claims {
                    ui.label(RichText::new("Claims").weak());
                    json_view(ui, &format!("layer_claims_{i}"), claims);
                }
            });
    }
    let (title, color) = if layered.verified {
        ("Data (verified)", ok_color(ui))
    } else {
        (
            "Data (UNVERIFIED: a layer failed or was not checked)",
            error_color(ui),
        )
    };
    ui.label(RichText::new(title).strong().color(color));
    match &layered.data {
        Some(data) => json_view(ui, "layered_data", data),
        None => {
            ui.label("(not reached)");
        }
    }
}

/// Accounts, Balances and Transactions for an account of the consent the shown token
/// carries (chosen among them), each a signed call to the profile's resource server; Next
/// page when the last list answer names a cursor.
pub fn data_call_buttons(
    ui: &mut egui::Ui,
    api: &mut ApiCall,
    resource_server: &str,
    token_answer: &Exchange,
    actions: &mut Vec<Action>,
) {
    let base = resource_server.trim_end_matches('/');
    let accounts: Vec<(String, String)> = token_answer
        .response()
        .and_then(|r| r.body.json())
        .and_then(|body| {
            body.pointer("/authorization_details/0/consent/accounts")
                .cloned()
        })
        .and_then(|a| a.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| {
            let id = a.get("account_id")?.as_str()?.to_owned();
            let name = a
                .get("account_name")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(&id)
                .to_owned();
            Some((id, name))
        })
        .collect();
    if api
        .account
        .as_ref()
        .is_none_or(|chosen| !accounts.iter().any(|(id, _)| id == chosen))
    {
        api.account = accounts.first().map(|(id, _)| id.clone());
    }
    let next_page = match &api.result {
        Some(Ok(ex)) => crate::session::data::next_page(ex)
            .and_then(|cursor| crate::session::data::with_cursor(&ex.request.url, &cursor).ok()),
        _ => None,
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new("Data calls (signed)").strong());
        if accounts.len() > 1 {
            let label = ui.label("Account");
            let shown = accounts
                .iter()
                .find(|(id, _)| Some(id) == api.account.as_ref())
                .map_or_else(String::new, |(_, name)| name.clone());
            egui::ComboBox::from_id_salt("data_call_account")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for (id, name) in &accounts {
                        ui.selectable_value(&mut api.account, Some(id.clone()), name);
                    }
                })
                .response
                .labelled_by(label.id);
        }
        let account = api.account.clone();
        let running = api.work.is_running();
        let mut call = |ui: &mut egui::Ui, label: &str, url: Option<String>| {
            let enabled = !running && url.is_some();
            let hover = url
                .clone()
                .unwrap_or_else(|| "the token's consent names no account".into());
            if ui
                .add_enabled(enabled, egui::Button::new(label))
                .on_hover_text(hover)
                .clicked()
                && let Some(url) = url
            {
                api.method = "GET".into();
                api.url = url;
                actions.push(Action::CallApi);
            }
        };
        call(ui, "Accounts", Some(format!("{base}/accounts")));
        call(
            ui,
            "Balances",
            account
                .as_ref()
                .map(|a| format!("{base}/accounts/{a}/balances")),
        );
        call(
            ui,
            "Transactions",
            account
                .as_ref()
                .map(|a| format!("{base}/accounts/{a}/transactions?page_size=5")),
        );
        if next_page.is_some() {
            call(ui, "Next page", next_page);
        }
    });
}
