//! How the command line shows an exchange: the request (secrets redacted), the answer,
//! the decoded tokens, the findings and the diagnosis, for a reader or as `--json`; and
//! the closing steps `exchange` and `authorize` share (the API call after the token,
//! the exit code).

use serde_json::{Value, json};

use super::{Exit, InputError, output};
use token_inspector::diagnosis::Cause;
use token_inspector::oauth::exchange::{Exchange, InteractionEcho};
use token_inspector::oauth::render::{self, Redaction};
use token_inspector::oauth::request::RequestModel;
use token_inspector::oauth::response::ResponseBody;
use token_inspector::session::{AuthorizeFailure, Session};

/// The closing steps of a token exchange: the API call with the token (`--call`), the
/// session's warnings, the output (human or JSON, with `extra` members such as the
/// authorization), and the exit code.
pub async fn finish(
    session: &Session,
    exchange: Exchange,
    call_url: Option<&str>,
    json: bool,
    extra: Option<(&str, Value)>,
) -> anyhow::Result<Exit> {
    let call = match call_url {
        Some(url) => session
            .call_with(&exchange, url)
            .await
            .map_err(|e| InputError::new(e.to_string()))?,
        None => None,
    };
    warnings(session);
    let exit = Exit::of(&exchange).and_call(call.as_ref());
    if json {
        let mut out = exchange_json(&exchange);
        if let Value::Object(map) = &mut out {
            if let Some((name, value)) = extra {
                map.insert(name.to_owned(), value);
            }
            if let Some(call) = &call {
                map.insert("call".into(), exchange_json(call));
            }
        }
        outln!("{}", output::pretty(&out));
    } else {
        print_exchange(&exchange);
        if let Some(call) = &call {
            print_call(call);
        }
    }
    Ok(exit)
}

/// What went wrong on the side (a history that could not be written), on stderr.
pub fn warnings(session: &Session) {
    for warning in session.take_warnings() {
        eprintln!("warning: {warning}");
    }
}

/// A refused authorization request (PAR), already diagnosed and kept by the session:
/// printed as an exchange under the error (exit 1); other failures go on as errors.
pub fn authorize_failed(failure: AuthorizeFailure, json: bool) -> anyhow::Result<Exit> {
    let (message, par) = match failure {
        AuthorizeFailure::ParRefused { message, par } => (message, par),
        AuthorizeFailure::Failed(error) => return Err(error.into()),
    };
    if json {
        outln!(
            "{}",
            output::pretty(&json!({
                "error": {"kind": "server", "message": message},
                "diagnosis": par.diagnosis,
                "par": exchange_json(&par),
            }))
        );
    } else {
        print_exchange(&par);
        eprintln!("error: {message}");
    }
    Ok(Exit::ServerError)
}

/// The bank's redirect carried an error: what it said, the findings on the redirect,
/// and why (exit 1).
pub fn redirect_refused(
    error: &str,
    description: &str,
    findings: &[token_inspector::checks::Finding],
    causes: &[Cause],
    json: bool,
    authorization: Option<Value>,
) -> Exit {
    let message = format!(
        "the bank answered error={error}{}",
        if description.is_empty() {
            String::new()
        } else {
            format!(" ({description})")
        }
    );
    if json {
        let mut out = json!({
            "error": {"kind": "authorization", "message": message},
            "findings": findings,
            "diagnosis": causes,
        });
        if let Some(authorization) = authorization {
            out["authorization"] = authorization;
        }
        outln!("{}", output::pretty(&out));
    } else {
        eprintln!("error: {message}");
        if !findings.is_empty() {
            outln!("{}", output::render_findings(findings));
        }
        if let Some(why) = output::why(causes) {
            outln!("{why}");
        }
    }
    Exit::ServerError
}

/// A redirect whose code must not be redeemed (its `state` or `iss` is wrong): the
/// findings that stop it, on stderr or as JSON, and exit 2; nothing was sent.
pub fn redirect_rejected(
    findings: &[token_inspector::checks::Finding],
    json: bool,
    authorization: Option<Value>,
) -> Exit {
    let blockers = token_inspector::oauth::redirect::redemption_blockers(findings);
    let message = format!(
        "the code was not redeemed: {} (--force-redeem sends it anyway, to test the bank's own checks)",
        blockers
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    if json {
        let mut out = json!({
            "error": {"kind": "redirect", "message": message},
            "findings": findings,
        });
        if let Some(authorization) = authorization {
            out["authorization"] = authorization;
        }
        outln!("{}", output::pretty(&out));
    } else {
        eprintln!("error: {message}");
        outln!("{}", output::render_findings(findings));
    }
    Exit::Usage
}

/// The call for a reader.
pub fn print_call(exchange: &Exchange) {
    outln!("\n── API call ──\n");
    if let Some(first) = &exchange.first_attempt {
        let status = first.response().map_or(0, |r| r.http.status);
        outln!(
            "(first attempt answered {status}: the server asked for a DPoP nonce; sent again with it)\n"
        );
    }
    print_exchange(exchange);
    print_message_signatures(exchange);
    if let Some(layered) = exchange.response().and_then(|r| r.layers.as_ref()) {
        print_layers(layered);
    }
}

/// The request's own signature (UK `x-jws-signature`, a UAE signed body) and the
/// answer's, decoded.
fn print_message_signatures(exchange: &Exchange) {
    if let Some(signed) = &exchange.request.signed_message {
        outln!("\n── Request signed ({}) ──\n", signed.scheme);
        outln!("Header {}", Value::Object(signed.header.clone()));
        if !signed.claims.is_null() {
            outln!("Claims {}", output::pretty(&signed.claims));
        }
    }
    if let Some(answer) = exchange
        .response()
        .and_then(|r| r.answer_signature.as_ref())
    {
        outln!("\n── Answer signature ({}) ──\n", answer.scheme);
        outln!("Header {}", Value::Object(answer.header.clone()));
        outln!("Signature: {}", answer.signature.status());
    }
}

/// A layered answer, outermost layer first, then the JSON inside.
pub fn print_layers(layered: &token_inspector::oauth::layers::LayeredAnswer) {
    use token_inspector::oauth::layers::Verdict;
    outln!("\n── Layers (outermost first) ──\n");
    for layer in &layered.layers {
        let verdict = match layer.verdict {
            Verdict::Valid => "valid",
            Verdict::Invalid => "INVALID",
            Verdict::NotChecked => "not checked",
        };
        let alg = layer
            .header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or("-");
        let kid = layer
            .header
            .get("kid")
            .and_then(Value::as_str)
            .unwrap_or("-");
        outln!("  {:<11} {verdict:<12} alg {alg}, kid {kid}", layer.name);
        if let Some(reason) = &layer.reason {
            outln!("              {reason}");
        }
        if !layer.findings.is_empty() {
            for line in super::output::render_findings(&layer.findings).lines() {
                outln!("              {line}");
            }
        }
    }
    let label = if layered.verified {
        "verified"
    } else {
        "UNVERIFIED"
    };
    outln!("\n── Data ({label}) ──\n");
    match &layered.data {
        Some(data) => outln!("{}", super::output::pretty(data)),
        None => outln!("(not reached)"),
    }
}

/// The request for JSON output: secret values are replaced by `null` with
/// `"redacted": true` (the decoded client assertion is shown instead).
pub fn request_json(model: &RequestModel) -> Value {
    let headers: Vec<Value> = model
        .headers
        .iter()
        .map(|h| match h.value.shown() {
            Some(value) => json!({"name": h.name, "value": value}),
            None => json!({"name": h.name, "value": null, "redacted": true}),
        })
        .collect();
    let form: Vec<Value> = model
        .form
        .iter()
        .map(|p| match p.value.shown() {
            Some(value) => json!({"name": p.name, "value": value}),
            None => json!({"name": p.name, "value": null, "redacted": true}),
        })
        .collect();
    json!({
        "method": model.method,
        "url": model.url,
        "headers": headers,
        "form": form,
        "interaction_id": model.interaction_id,
        "client_assertion": model.client_assertion.as_ref().map(|a| json!({
            "header": a.header,
            "claims": a.claims,
        })),
    })
}

/// The whole exchange for `--json`.
pub fn exchange_json(exchange: &Exchange) -> Value {
    let mut out = exchange_json_one(exchange);
    if let (Value::Object(map), Some(first)) = (&mut out, &exchange.first_attempt) {
        // The server asked for a DPoP nonce: the attempt before this one.
        map.insert("first_attempt".into(), exchange_json_one(first));
    }
    out
}

fn exchange_json_one(exchange: &Exchange) -> Value {
    let mut out = exchange_json_fields(exchange);
    if let (Value::Object(map), Some(proof)) = (&mut out, &exchange.request.dpop) {
        map.insert(
            "dpop_proof".into(),
            json!({"header": proof.header, "claims": proof.claims}),
        );
    }
    if let (Value::Object(map), Some(signed)) = (&mut out, &exchange.request.signed_message) {
        map.insert("signed_message".into(), json!(signed));
    }
    out
}

fn exchange_json_fields(exchange: &Exchange) -> Value {
    let response = match &exchange.outcome {
        Ok(r) => json!({
            "status": r.http.status,
            "reason": r.http.reason,
            "version": r.http.version,
            "headers": r.http.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "body": r.body.json().unwrap_or_else(|| Value::String(r.body_text.clone())),
            "body_kind": match &r.body {
                ResponseBody::Token(_) => "token",
                ResponseBody::Error(_) => "oauth_error",
                ResponseBody::Json(_) => "json",
                ResponseBody::Text(_) => "text",
                ResponseBody::Empty => "empty",
            },
            "truncated": r.http.truncated,
            "interaction_id": r.interaction_id,
            "tokens": r.tokens,
        }),
        Err(_) => Value::Null,
    };
    let response = match (
        response,
        exchange.response().and_then(|r| r.layers.as_ref()),
    ) {
        // A layered answer: the innermost JSON is the body, each layer beside it.
        (Value::Object(mut map), Some(layered)) => {
            map.insert("body".into(), layered.data.clone().unwrap_or(Value::Null));
            map.insert("body_kind".into(), "layered".into());
            map.insert("verified".into(), layered.verified.into());
            map.insert("layers".into(), json!(layered.layers));
            Value::Object(map)
        }
        (other, _) => other,
    };
    let response = match (
        response,
        exchange
            .response()
            .and_then(|r| r.answer_signature.as_ref()),
    ) {
        // The answer's own signature (x-jws-signature, a signed JWT), with its verdict.
        (Value::Object(mut map), Some(answer)) => {
            map.insert("answer_signature".into(), json!(answer));
            Value::Object(map)
        }
        (other, _) => other,
    };
    let error = exchange
        .outcome
        .as_ref()
        .err()
        .map(|e| json!({"error": e, "message": e.to_string()}));
    json!({
        "request": request_json(&exchange.request),
        "sent_at": exchange.sent_at,
        "elapsed_ms": (exchange.elapsed_ms * 10.0).round() / 10.0,
        "response": response,
        "transport_error": error,
        "findings": exchange.findings,
        "diagnosis": exchange.diagnosis,
    })
}

/// The request for a reader: secrets stand as `<NAME>` (`--curl` prints them), the
/// client assertion is shown decoded below.
pub fn print_request(model: &RequestModel) {
    outln!("{}", render::readable_http(model, Redaction::Redacted));
    if let Some(a) = &model.client_assertion {
        outln!("\nClient assertion (decoded)\n");
        outln!("{}", output::pretty(&Value::Object(a.header.clone())));
        outln!(
            "{}",
            output::annotate_claims(&a.claims, token_inspector::jose::numeric_date::now_unix())
        );
    }
}

pub fn print_exchange(exchange: &Exchange) {
    if let Some(first) = &exchange.first_attempt {
        let status = first.response().map_or(0, |r| r.http.status);
        outln!(
            "(the first attempt was answered {status} use_dpop_nonce: sent again with the server's nonce, a fresh proof and a fresh client assertion)\n"
        );
    }
    let model = &exchange.request;
    outln!(
        "{} {}  (x-fapi-interaction-id {})",
        model.method,
        model.url,
        model.interaction_id.as_deref().unwrap_or("-")
    );
    match &exchange.outcome {
        Err(e) => {
            outln!("\nNo answer after {:.0} ms: {e}", exchange.elapsed_ms);
        }
        Ok(r) => {
            outln!(
                "\n{} {} {}  ({:.0} ms, {} bytes{})",
                r.http.version,
                r.http.status,
                r.http.reason,
                exchange.elapsed_ms,
                r.http.body.len(),
                if r.http.truncated { ", TRUNCATED" } else { "" }
            );
            for (name, value) in &r.http.headers {
                outln!("{name}: {value}");
            }
            match &r.interaction_id {
                InteractionEcho::Echoed => outln!("(x-fapi-interaction-id echoed)"),
                InteractionEcho::Different(v) => {
                    outln!("(x-fapi-interaction-id came back different: {v})")
                }
                InteractionEcho::Missing => outln!("(x-fapi-interaction-id NOT echoed)"),
                InteractionEcho::NotSent(_) => {}
            }
            outln!();
            match (r.body.json(), &r.layers) {
                (_, Some(l)) => outln!(
                    "({} bytes in {} layers, opened below)",
                    r.body_text.len(),
                    l.layers.len()
                ),
                (Some(v), None) => outln!("{}", output::pretty(&v)),
                (None, None) => outln!("{}", r.body_text),
            }
            if let ResponseBody::Token(t) = &r.body {
                if let Some(secs) = t.expires_in() {
                    outln!(
                        "\naccess token expires in {} (at {})",
                        token_inspector::jose::numeric_date::format_duration(secs),
                        token_inspector::jose::numeric_date::format_utc(
                            token_inspector::jose::numeric_date::now_unix() + secs
                        )
                    );
                }
                for d in t.authorization_details() {
                    if let Some(c) = d.consent {
                        outln!(
                            "\nConsent {} ({}): status {}, purpose {}, expires {}",
                            c.consent_id.as_deref().unwrap_or("-"),
                            d.detail_type.as_deref().unwrap_or("-"),
                            c.status.as_deref().unwrap_or("-"),
                            c.consent_purpose.as_deref().unwrap_or("-"),
                            c.expiration_datetime.as_deref().unwrap_or("-"),
                        );
                        outln!("  permissions: {}", c.permissions.join(", "));
                        for a in &c.accounts {
                            outln!(
                                "  account {} {} ({})",
                                a.account_number.as_deref().unwrap_or("-"),
                                a.account_name.as_deref().unwrap_or("-"),
                                a.account_id.as_deref().unwrap_or("-"),
                            );
                        }
                    }
                }
            }
            for t in &r.tokens {
                outln!("\n{} (decoded)", t.path);
                if let Some(h) = &t.header {
                    outln!("{}", output::pretty(&Value::Object(h.clone())));
                }
                if let Some(c) = &t.claims {
                    outln!(
                        "{}",
                        output::annotate_claims(c, token_inspector::jose::numeric_date::now_unix())
                    );
                }
                if let Some(e) = &t.error {
                    outln!("  does not decode: {e}");
                }
                if let Some(s) = &t.signature {
                    outln!(
                        "  signature: {}{}",
                        s.status(),
                        s.reason().map(|r| format!(" ({r})")).unwrap_or_default()
                    );
                }
            }
        }
    }
    outln!("\n{}", output::render_findings(&exchange.findings));
    if let Some(why) = output::why(&exchange.diagnosis) {
        outln!("{why}");
    }
}
