//! "Save as flow": a run of exchanges (the app's history) turned into a flow file that
//! does it again: the last successful authorization and what followed it, each step
//! expecting the status it got. URLs on the issuer become `${issuer}`; nothing secret is
//! written (the file is checked as any flow is before it is returned).

use crate::oauth::exchange::Exchange;
use crate::oauth::request::RequestKind;

/// The steps of `exchanges` (oldest first) worth replaying: from the last successful
/// PAR (or the first exchange when there is none), the successful ones.
fn sequence<'a>(exchanges: &[&'a Exchange]) -> Vec<&'a Exchange> {
    let start = exchanges
        .iter()
        .rposition(|e| e.request.kind == RequestKind::Par && e.is_success())
        .unwrap_or(0);
    exchanges[start..]
        .iter()
        .copied()
        .filter(|e| e.is_success())
        .collect()
}

/// A flow file doing `exchanges` again, named `name`; `None` when there is nothing to
/// replay.
pub fn from_exchanges(name: &str, issuer: &str, exchanges: &[&Exchange]) -> Option<String> {
    let issuer = issuer.trim_end_matches('/');
    let mut out = format!(
        "# Saved by Token Inspector from a run in its history: each step expects what it got.\nname = {}\n",
        toml_string(name)
    );
    let mut steps = 0;
    for exchange in sequence(exchanges) {
        let request = &exchange.request;
        let (kind, url) = match &request.kind {
            RequestKind::Par => ("authorize", None),
            RequestKind::Token(grant) => match grant.as_str() {
                "authorization_code" => ("exchange", None),
                "refresh_token" => ("refresh", None),
                "client_credentials" => ("client_credentials", None),
                _ => continue,
            },
            RequestKind::Resource => ("call", Some(request.url.clone())),
            RequestKind::Introspect => ("introspect", None),
            RequestKind::Revoke => ("revoke", None),
            RequestKind::Consent => continue,
        };
        // A code comes from an authorization: one is made when the history had its PAR
        // elsewhere (an app's Authorize keeps its PAR beside the history).
        if kind == "exchange" && !out.contains("do = \"authorize\"") {
            out.push_str("\n[[step]]\ndo = \"authorize\"\n");
            steps += 1;
        }
        out.push_str(&format!("\n[[step]]\ndo = \"{kind}\"\n"));
        if let Some(url) = url {
            let url = match url.strip_prefix(issuer).filter(|_| !issuer.is_empty()) {
                Some(rest) => format!("${{issuer}}{rest}"),
                None => url,
            };
            out.push_str(&format!("url = {}\n", toml_string(&url)));
            if request.method != "GET" {
                out.push_str(&format!("method = {}\n", toml_string(&request.method)));
            }
        }
        if let Some(status) = exchange.response().map(|r| r.http.status) {
            out.push_str(&format!("[step.expect]\nstatus = {status}\n"));
        }
        steps += 1;
    }
    if steps == 0 {
        return None;
    }
    super::parse("saved flow", &out).ok()?;
    Some(out)
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}
