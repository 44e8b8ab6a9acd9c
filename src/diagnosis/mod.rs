//! Why did it fail? From a refused exchange (an OAuth error, a resource server's
//! `WWW-Authenticate`, a TLS failure) to the causes developers hit, each judged against
//! what this client knows: **likely**, **ruled out** or **cannot tell**, with the
//! evidence and the rule it comes from. Pure functions: the exchange as sent and
//! received, plus [`Evidence`] gathered by the caller (the authorization it ran, the
//! client's registered keys, earlier requests), so the command line and the app judge
//! alike. The codes are stable, like the findings' codes.

mod authorization;
mod cause;
mod client_auth;
mod code;
mod dpop;
mod evidence;
#[cfg(test)]
mod tests;
mod tls;

use serde_json::Value;

use crate::jose::jwt;
use crate::oauth::exchange::Exchange;
use crate::oauth::http::SendError;
use crate::oauth::response::ResponseBody;

pub use crate::checks::cause::{Cause, Status};
use authorization::{
    authorization_details_type, consent_not_authorised, request_object_window, user_denied,
};
use client_auth::{
    assertion_aud, assertion_expired, auth_method_unsupported, clock_skew, jti_reused,
    unregistered_key,
};
use code::{code_expired, code_reused, pkce_mismatch, redirect_uri_mismatch};
use dpop::{dpop_nonce_required, dpop_proof_mismatch, interaction_id_missing};
pub use evidence::{ConsentState, Evidence};
use tls::{
    certificate_binding, client_certificate_expired, client_certificate_missing,
    tls_server_untrusted,
};

/// The refusal an exchange ended in, when it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// An OAuth error code (RFC 6749 §5.2, RFC 9449, RFC 9126…) with its description.
    OAuth {
        /// The HTTP status.
        status: u16,
        /// `error`.
        error: String,
        /// `error_description`.
        description: String,
    },
    /// The bank's redirect back to the client carried an error (RFC 6749 §4.1.2.1).
    Redirect {
        /// `error`.
        error: String,
        /// `error_description`.
        description: String,
    },
    /// A non-2xx answer with no OAuth error.
    Http(u16),
    /// The TLS handshake failed.
    Tls(String),
    /// No answer at all (refused, timeout, DNS).
    Network(String),
}

impl Refusal {
    /// What the exchange ended in; `None` for a success.
    pub fn of(exchange: &Exchange) -> Option<Refusal> {
        let response = match &exchange.outcome {
            Err(SendError::Tls(m)) => return Some(Refusal::Tls(m.clone())),
            Err(e) => return Some(Refusal::Network(e.to_string())),
            Ok(r) => r,
        };
        let status = response.http.status;
        if let ResponseBody::Error(e) = &response.body {
            return Some(Refusal::OAuth {
                status,
                error: e.error.clone(),
                description: e.error_description.clone().unwrap_or_default(),
            });
        }
        if let Some(challenge) = response.http.www_authenticate()
            && let Some(error) = challenge.error()
        {
            return Some(Refusal::OAuth {
                status,
                error: error.to_owned(),
                description: challenge.error_description().unwrap_or_default().to_owned(),
            });
        }
        (!(200..300).contains(&status)).then_some(Refusal::Http(status))
    }

    pub(super) fn error(&self) -> &str {
        match self {
            Refusal::OAuth { error, .. } | Refusal::Redirect { error, .. } => error,
            _ => "",
        }
    }

    pub(super) fn description(&self) -> &str {
        match self {
            Refusal::OAuth { description, .. } | Refusal::Redirect { description, .. } => {
                description
            }
            Refusal::Tls(m) | Refusal::Network(m) => m,
            Refusal::Http(_) => "",
        }
    }
}

type Check = fn(&Exchange, &Evidence, &Refusal) -> Option<Cause>;

/// The causes worth checking for a refusal, most specific first.
fn checks_for(refusal: &Refusal, exchange: &Exchange) -> Vec<Check> {
    let at_resource = exchange.request.kind == crate::oauth::request::RequestKind::Resource;
    match refusal {
        Refusal::Tls(_) => vec![
            tls_server_untrusted,
            client_certificate_missing,
            client_certificate_expired,
        ],
        // TLS 1.3 reports a refused client certificate after the handshake: the
        // connection closes without an answer.
        Refusal::Network(_) if closed_after_handshake(refusal, exchange) => {
            vec![
                client_certificate_missing,
                client_certificate_expired,
                tls_server_untrusted,
            ]
        }
        Refusal::Network(_) => Vec::new(),
        Refusal::Redirect { error, .. } => match error.as_str() {
            "access_denied" => vec![user_denied, consent_not_authorised],
            "invalid_request_object" => vec![request_object_window, clock_skew],
            "invalid_authorization_details" | "invalid_request" => {
                vec![authorization_details_type, request_object_window]
            }
            _ => vec![user_denied, authorization_details_type],
        },
        Refusal::OAuth { error, .. } => match error.as_str() {
            "invalid_client" => vec![
                assertion_aud,
                clock_skew,
                unregistered_key,
                jti_reused,
                assertion_expired,
                client_certificate_missing,
                client_certificate_expired,
                auth_method_unsupported,
            ],
            "invalid_grant" => vec![
                pkce_mismatch,
                redirect_uri_mismatch,
                code_reused,
                code_expired,
                consent_not_authorised,
                client_certificate_missing,
            ],
            "invalid_request" => vec![
                interaction_id_missing,
                client_certificate_missing,
                client_certificate_expired,
                pkce_mismatch,
                request_object_window,
                authorization_details_type,
            ],
            "invalid_request_object" => vec![request_object_window, clock_skew, unregistered_key],
            "unauthorized_client" => vec![auth_method_unsupported, client_certificate_missing],
            "access_denied" => vec![user_denied, consent_not_authorised],
            "use_dpop_nonce" => vec![dpop_nonce_required],
            "invalid_dpop_proof" => vec![dpop_proof_mismatch, clock_skew, dpop_nonce_required],
            "invalid_authorization_details" => {
                vec![authorization_details_type, request_object_window]
            }
            "invalid_token" if at_resource => vec![
                certificate_binding,
                dpop_proof_mismatch,
                consent_not_authorised,
            ],
            "insufficient_scope" => vec![consent_not_authorised],
            // A non-standard code: the back channel's usual suspects.
            _ => vec![
                assertion_aud,
                clock_skew,
                unregistered_key,
                client_certificate_missing,
                client_certificate_expired,
                interaction_id_missing,
            ],
        },
        Refusal::Http(401 | 403) if at_resource => {
            vec![
                certificate_binding,
                consent_not_authorised,
                client_certificate_missing,
            ]
        }
        Refusal::Http(_) => vec![
            client_certificate_missing,
            client_certificate_expired,
            interaction_id_missing,
            clock_skew,
        ],
    }
}

/// The likely causes of a refusal, then those that cannot be told, then those ruled
/// out. Empty for a success.
pub fn diagnose(exchange: &Exchange, evidence: &Evidence) -> Vec<Cause> {
    match Refusal::of(exchange) {
        Some(refusal) => diagnose_refusal(exchange, evidence, &refusal),
        None => Vec::new(),
    }
}

/// The causes of a request that got no answer (a TLS failure, a closed connection)
/// outside an exchange, such as discovery: judged as if `url` had been called with the
/// profile's transport (its client certificate, its CA file).
pub fn diagnose_connection(
    profile: &crate::storage::profile::Profile,
    url: &str,
    error: &SendError,
    evidence: &Evidence,
) -> Vec<Cause> {
    let Ok(mut request) = crate::oauth::request::build_resource_request(
        profile,
        "GET",
        url,
        // A placeholder: the header it makes is removed below.
        &crate::secret::Secret::new("no-token"),
        &crate::oauth::request::RequestOptions::default(),
    ) else {
        return Vec::new();
    };
    request
        .headers
        .retain(|h| !h.name.eq_ignore_ascii_case("authorization"));
    let exchange = Exchange {
        request,
        sent_at: String::new(),
        elapsed_ms: 0.0,
        outcome: Err(error.clone()),
        findings: Vec::new(),
        diagnosis: Vec::new(),
        first_attempt: None,
    };
    diagnose(&exchange, evidence)
}

/// An HTTPS connection that closed with no answer (what a server that wants a client
/// certificate does under TLS 1.3 when it is missing, expired or untrusted).
pub(super) fn closed_after_handshake(refusal: &Refusal, exchange: &Exchange) -> bool {
    let m = refusal.description().to_ascii_lowercase();
    exchange.request.url.starts_with("https://")
        && [
            "connection closed",
            "connection reset",
            "channel closed",
            "stream closed",
            "canceled",
            "broken pipe",
        ]
        .iter()
        .any(|w| m.contains(w))
}

/// The causes of an error the bank's redirect carried (the user denied, the request
/// object or the consent refused), judged against the authorization request (the PAR
/// exchange) that started it.
pub fn diagnose_redirect(
    authorization: &Exchange,
    error: &str,
    description: &str,
    evidence: &Evidence,
) -> Vec<Cause> {
    let refusal = Refusal::Redirect {
        error: error.to_owned(),
        description: description.to_owned(),
    };
    diagnose_refusal(authorization, evidence, &refusal)
}

fn diagnose_refusal(exchange: &Exchange, evidence: &Evidence, refusal: &Refusal) -> Vec<Cause> {
    let mut out: Vec<Cause> = checks_for(refusal, exchange)
        .into_iter()
        .filter_map(|check| check(exchange, evidence, refusal))
        .collect();
    out.sort_by_key(|c| c.status);
    out
}

/// The decoded claims of a JWT given as text, when it decodes.
pub fn claims_of(token: &str) -> Option<Value> {
    match jwt::decode(token).ok()?.payload {
        jwt::Payload::Json(v) => Some(v),
        _ => None,
    }
}

/// Renders causes for a reader, likely first, one per line with its evidence.
pub fn render(causes: &[Cause]) -> String {
    if causes.is_empty() {
        return String::new();
    }
    let mut out = String::from("Why? (each cause judged against what this client knows)\n");
    for c in causes {
        out.push_str(&format!(
            "  [{}] {} ({})\n      {}\n      ({})\n",
            c.status.label(),
            c.cause,
            c.code,
            c.evidence,
            c.source
        ));
    }
    out
}
